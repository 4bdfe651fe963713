package affinity

// SetMergeIndex switches the incremental buyer index of Builders started
// from a base History on or off and returns the previous setting.
func SetMergeIndex(on bool) bool {
	return !noMergeIndex.Swap(!on)
}

// SetCopyBase makes Builders started from a base History copy it into
// their columns and sort everything at Build (on), instead of building on
// top of it, and returns the previous setting.
func SetCopyBase(on bool) bool {
	return copyBase.Swap(on)
}

// HistoryGross returns the gross value of h's lines that Builders started
// from h carry on.
func HistoryGross(h *History) Money { return h.gross }
