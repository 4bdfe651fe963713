package affinity

// SetMergeIndex switches the incremental buyer index of Builders started
// from a base History on or off and returns the previous setting.
func SetMergeIndex(on bool) bool {
	return !noMergeIndex.Swap(!on)
}

// Ways Build treats a base History: decided by the size of the change,
// always copying the base into the Builder's columns and sorting
// everything, always building on top of the base.
const (
	BaseAuto = baseAuto
	BaseCopy = baseCopy
	BaseOver = baseOver
)

// SetBaseMode sets the way Builders started from a base History build
// and returns the previous setting.
func SetBaseMode(m int32) int32 {
	return baseMode.Swap(m)
}

// HistoryGross returns the gross value of h's lines that Builders started
// from h carry on.
func HistoryGross(h *History) Money { return h.gross }

// HistoryBaseUnix returns the time h's order times are stored relative
// to: the first order's, in a History built either way.
func HistoryBaseUnix(h *History) int64 { return h.baseUnix }
