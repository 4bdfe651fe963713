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
// to: at or before the first order's.
func HistoryBaseUnix(h *History) int64 { return h.baseUnix }

// Layouts of a History built on a base: as the policy says, always
// written anew in the sort order (compacted), appended whenever the
// base has the room.
const (
	LayoutAuto    = layoutAuto
	LayoutCompact = layoutCompact
	LayoutAppend  = layoutAppend
)

// SetLayoutMode sets how Builders started from a base History lay out
// the orders and returns the previous setting.
func SetLayoutMode(m int32) int32 {
	return layoutMode.Swap(m)
}

// HistoryHoleLines returns the lines of h's unused order ids.
func HistoryHoleLines(h *History) int { return h.holeLines }

// HistoryEventHoles returns the events in no customer's range of h.
func HistoryEventHoles(h *History) int { return h.evHoles }
