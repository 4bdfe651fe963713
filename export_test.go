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

// HistoryTombstone returns the version of the tombstone h keeps for the
// deleted order key, and whether it keeps one.
func HistoryTombstone(h *History, key string) (int64, bool) { return h.tomb.lookup(key) }

// HistoryTombstones returns the number of tombstones h keeps.
func HistoryTombstones(h *History) int { return h.tomb.len() }

// CopyVersions gives dst, a History just built from scratch with the
// orders of src (as the tests' copies rebuild them from src.Purchases),
// the versions of src's orders with the same customer and order keys and
// src's tombstones, as if its orders had been put with those versions.
func CopyVersions(dst, src *History) {
	vs := make([]int64, dst.NumOrderIDs())
	cust := func(h *History, o OrderID) string {
		if c := h.OrderCustomer(o); c != NoCustomer {
			return h.CustomerKey(c)
		}
		return "\x00anonymous"
	}
	for o := range dst.Orders() {
		key := dst.OrderKey(o)
		if key == "" {
			continue
		}
		src.keyIndex().each(src, key, func(so uint32) bool {
			if cust(src, OrderID(so)) == cust(dst, o) {
				vs[o] = src.OrderVersion(OrderID(so))
			}
			return true
		})
	}
	dst.versions, dst.verLo, dst.tomb = trimVersions(vs), 0, src.tomb
}
