package affinity

import "sync/atomic"

// historyIDs numbers the Histories a process builds, for ChangedSince.
var historyIDs atomic.Uint64

// lineage is what a History built on a base History (see [NewBuilder])
// remembers of it: the base's number and which customers changed, not
// the base itself, which stays collectable.
type lineage struct {
	id        uint64   // this History's number
	parent    uint64   // the base's number; 0 when built from nothing
	changed   []uint32 // customers whose orders or events differ from the base's, ascending
	anonymous bool     // whether the anonymous orders differ
}

// Changes says what differs between a History and the base it was built
// on; see [History.ChangedSince].
type Changes struct {
	// Customers are at least the customers whose orders, lines or events
	// differ, ascending: those with an added, replaced or deleted order
	// or line, an added event, the erased ones and the new ones (ids at
	// or past the base's NumCustomers). It may list customers who end up
	// as they were (an order added and deleted again in the same
	// Builder). Every customer not listed has the same orders, lines and
	// events, in the same order, as in the base (their OrderIDs and line
	// indices may be shifted).
	Customers []CustomerID
	// Anonymous reports whether the anonymous orders differ.
	Anonymous bool
}

// ChangedSince returns what differs in h from prev, when h was built by
// a [Builder] started from prev ([NewBuilder](prev) with at least one
// change; without any, Build returns prev itself and nothing differs).
// ok is false otherwise, for any other pair of Histories, and when the
// change was large (at least 65,536 lines and events, added or in staged
// puts, and half the size of prev), which Build applies by sorting
// everything anew: the caller
// must then compare them in full. The catalog is not covered: products
// may have been added or described anew, and categories added. It lets
// the indexes built on prev be updated for h in time proportional to the
// change.
func (h *History) ChangedSince(prev *History) (c Changes, ok bool) {
	switch {
	case h == nil || prev == nil:
		return c, false
	case h == prev:
		return c, true
	case h.lin.parent == 0 || h.lin.parent != prev.lin.id:
		return c, false
	}
	c.Customers = make([]CustomerID, len(h.lin.changed))
	for i, x := range h.lin.changed {
		c.Customers[i] = CustomerID(x)
	}
	c.Anonymous = h.lin.anonymous
	return c, true
}

// setLineage numbers h and records its changes from the base m.base:
// the customers m marked (orders changed, new customers), those with new
// events and the erased ones.
func (h *History) setLineage(m *mergeState, evCust []uint32, erased []bool) {
	h.lin.id = historyIDs.Add(1)
	if m == nil || m.base == nil {
		return
	}
	h.lin.parent = m.base.lin.id
	nc := len(m.touched) - 1
	changed := make([]bool, nc)
	copy(changed, m.touched[:nc])
	for _, c := range evCust {
		changed[c] = true
	}
	for c, gone := range erased {
		if gone && c < nc {
			changed[c] = true
		}
	}
	for c, t := range changed {
		if t {
			h.lin.changed = append(h.lin.changed, uint32(c))
		}
	}
	h.lin.anonymous = m.touched[nc]
}
