package affinity

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"sync/atomic"
)

// baseMode overrides how Build treats a base History (tests and
// benchmarks compare the ways): baseAuto decides by the size of the
// change (preferCopy), baseCopy always copies the base into the Builder's
// columns and sorts everything, baseOver always builds on top of it.
var baseMode atomic.Int32

const (
	baseAuto int32 = iota
	baseCopy
	baseOver
)

// copyMinStaged is the number of staged lines and events below which
// Build always builds on top of a base: small changes, where building on
// top wins by far and keeps the lineage (ChangedSince).
const copyMinStaged = 1 << 16

// preferCopy reports whether copying the base into the columns and
// sorting everything is the faster way to Build: when what was staged
// (lines added, events, and the lines of staged puts) is large and at
// least half the size of the base (measured by
// BenchmarkBuildOnBase: on 1 M lines building on top takes 0.5× the time of
// copying with a tenth of the lines added, 1.3× with half of them, 1.6×
// with all of them). A History built by copying does not know what
// changed since its base, so what is derived from it is rebuilt in full,
// which a change of that size costs anyway.
func (b *Builder) preferCopy() bool {
	switch baseMode.Load() {
	case baseCopy:
		return true
	case baseOver:
		return false
	}
	staged := len(b.lGroup) + len(b.eCust)
	if ch := b.changes; ch != nil {
		for _, o := range ch.byKey {
			staged += len(o.lines) // the lines of the puts that survived resolve
		}
	}
	return staged >= copyMinStaged && 2*staged >= b.over.NumLines()+b.over.NumEvents()
}

// A Builder started from a base History (NewBuilder) keeps the base
// as it is: what is added goes into the Builder's columns alone, and
// Build (buildOver) sorts and merges only the touched customers' orders
// and appends them to the base's columns (layout.go), or, when it cannot,
// writes the new History in one pass over the customers, copying the
// orders, lines and events of the untouched ones in bulk (write). The
// result holds what copying the base into the columns and sorting
// everything (materialize, then Build's general path) gives, order for
// order in the History's order.

// materialize copies the base History into the Builder's columns, ahead
// of what was staged on top of it: the columns then hold what a Builder
// that had been given the base's records first would hold.
func (b *Builder) materialize() {
	base := b.over
	b.over = nil
	no, nl, ne := base.NumOrders(), base.NumLines(), base.NumEvents()
	gCust := make([]uint32, 0, no+len(b.gCust))
	gKey := make([]string, 0, no+len(b.gKey))
	gUnix := make([]int64, 0, no+len(b.gUnix))
	lGroup := make([]uint32, 0, nl+len(b.lGroup))
	lProduct := make([]ProductID, 0, nl+len(b.lProduct))
	lQty := make([]int32, 0, nl+len(b.lQty))
	lPrice := make([]Money, 0, nl+len(b.lPrice))
	var gVersion []int64
	if base.versions != nil || b.gVersion != nil {
		gVersion = make([]int64, 0, no+len(b.gCust))
	}
	nc := base.NumCustomers()
	for k := 0; k <= nc; k++ {
		c := uint32(k)
		if k == nc {
			c = anonBucket
		}
		lo, hi := base.bucket(k)
		for o := lo; o < hi; o++ {
			g := uint32(len(gCust))
			gCust = append(gCust, c)
			gKey = append(gKey, base.OrderKey(OrderID(o)))
			gUnix = append(gUnix, base.OrderUnix(OrderID(o)))
			if gVersion != nil {
				gVersion = append(gVersion, base.OrderVersion(OrderID(o)))
			}
			for range base.orderOff[o+1] - base.orderOff[o] {
				lGroup = append(lGroup, g)
			}
		}
		llo, lhi := base.orderOff[lo], base.orderOff[hi]
		lProduct = append(lProduct, base.lineProduct[llo:lhi]...)
		lQty = append(lQty, base.lineQty[llo:lhi]...)
		lPrice = append(lPrice, base.linePrice[llo:lhi]...)
	}
	for _, g := range b.lGroup {
		lGroup = append(lGroup, g+uint32(no))
	}
	b.gCust, b.gKey, b.gUnix = append(gCust, b.gCust...), append(gKey, b.gKey...), append(gUnix, b.gUnix...)
	if gVersion != nil {
		if b.gVersion != nil {
			gVersion = append(gVersion, b.gVersion...)
		} else {
			gVersion = append(gVersion, make([]int64, len(b.gCust)-no)...)
		}
	}
	b.gVersion = gVersion
	b.lGroup = lGroup
	b.lProduct, b.lQty, b.lPrice = append(lProduct, b.lProduct...), append(lQty, b.lQty...), append(lPrice, b.lPrice...)
	eCust := make([]uint32, 0, ne+len(b.eCust))
	eProduct := make([]ProductID, 0, ne+len(b.eProduct))
	eUnix := make([]int64, 0, ne+len(b.eUnix))
	eKind := make([]EventKind, 0, ne+len(b.eKind))
	eWeight := make([]float32, 0, ne+len(b.eWeight))
	for c := range base.NumCustomers() {
		lo, hi := base.evLo[c], base.evHi[c]
		for range hi - lo {
			eCust = append(eCust, uint32(c))
		}
		eProduct = append(eProduct, base.evProduct[lo:hi]...)
		eUnix = append(eUnix, base.evUnix[lo:hi]...)
		eKind = append(eKind, base.evKind[lo:hi]...)
		eWeight = append(eWeight, base.evWeight[lo:hi]...)
	}
	b.eCust = append(eCust, b.eCust...)
	b.eProduct, b.eUnix = append(eProduct, b.eProduct...), append(eUnix, b.eUnix...)
	b.eKind, b.eWeight = append(eKind, b.eKind...), append(eWeight, b.eWeight...)
	b.merge = &mergeState{base: base, groups: no}
	b.haveGroup = false // group ids moved
}

// overOrder is one order of a touched customer in buildOver: base order
// base (−1: none) merged with the staged groups that share its id.
type overOrder struct {
	key   string
	unix  int64
	base  int    // base order, or −1
	first uint32 // its first staged line in overBuild.lines
	n     uint32 // its number of staged lines
}

// groupRef is a base order (id < the number of base orders) or a staged
// group (id − the number of base orders) in a touched customer's sort.
type groupRef struct {
	id   uint32
	key  string
	unix int64
}

// buildOver is Build for a Builder whose records go on top of b.over.
func (b *Builder) buildOver(ctx context.Context) (_ *History, err error) {
	base := b.over
	b.over = nil
	b.merge = &mergeState{base: base}
	ch := b.changes
	nb := uint32(base.NumOrderIDs())
	nc0 := base.NumCustomers()
	// Base orders that a put, a delete or an erasure drops. They are found,
	// and their lines leave the gross value, before applyChanges adds the
	// surviving puts, whose lines Add checks against MaxMoney: a put that
	// replaces an order is checked against what remains.
	var drop []bool
	var dropped []uint32 // in the order found
	dropOrder := func(o uint32) {
		if drop == nil {
			drop = make([]bool, nb)
		}
		if drop[o] {
			return
		}
		drop[o] = true
		dropped = append(dropped, o)
		b.gross -= Money(orderGross(base, o))
	}
	if ch != nil && len(ch.byKey) > 0 {
		// the base's orders with a changed key, found by the base's index
		// of keys (built on first use, then extended by each History
		// built on it)
		x := base.keyIndex()
		keys := slices.Sorted(maps.Keys(ch.byKey))
		var os []uint32
		for _, key := range keys {
			os = os[:0]
			x.each(base, key, func(o uint32) bool { os = append(os, o); return true })
			slices.Sort(os)
			for _, o := range os {
				dropOrder(o)
			}
		}
	}
	if ch != nil && len(ch.erased) > 0 {
		for _, key := range slices.Sorted(maps.Keys(ch.erased)) {
			if c, ok := b.customers.lookup(key); ok && int(c) < nc0 {
				for o := base.custLo[c]; o < base.custHi[c]; o++ {
					dropOrder(o)
				}
			}
		}
	}
	erased, err := b.applyChanges()
	if err != nil {
		return nil, err
	}
	for _, o := range dropped {
		b.merge.dropped = append(b.merge.dropped, base.orderCust[o])
	}

	h, nc := b.newHistory()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ob, err := b.overOrders(ctx, base, drop, nc)
	if err != nil {
		return nil, err
	}
	// h may write into the room past the lengths of base's columns
	// once it has claimed it (layout.go); if h is not built, the room
	// goes back to the next build on base (h is dropped, nothing reads
	// it)
	owns := false
	claim := func() bool {
		owns = owns || base.tail.CompareAndSwap(false, true)
		return owns
	}
	defer func() {
		if err != nil && owns {
			base.tail.Store(false)
		}
	}()
	if ob.appendTo(h, base, b, claim) {
		if x := base.keys.x.Load(); x != nil {
			h.keys.x.Store(x.derive(h, nb, dropped))
		}
	} else if err = ob.write(h, base, b); err != nil {
		return nil, err
	}
	b.overEvents(h, base, erased, nc, claim)
	h.gross = b.gross
	h.setLineage(b.merge, b.eCust, erased)
	if err = h.index(ctx, b.workers(), b.merge); err != nil {
		return nil, err
	}
	return h, nil
}

// overBuild is the plan of the orders of the new History: per customer
// bucket (anonymous last), the base's orders as they are, or, for a
// touched bucket, its merged orders.
type overBuild struct {
	nc      int
	touched []bool              // per bucket (anonymous last): merged, not copied
	keys    []int               // the touched buckets, ascending
	orders  map[int][]overOrder // per touched bucket, its orders in order
	lines   []uint32            // staged lines by merged order, in line order
	// a merged order has a version other than 0 (see version)
	versioned bool
}

// version returns the version of merged order x: its base order's, or
// else its first staged group's (a put is its order's only group; lines
// that Add joins to an order leave its version). That group holds x's
// first staged line: groups are numbered in the order of their first
// lines, and ob.lines keeps line order.
func (ob *overBuild) version(base *History, b *Builder, x *overOrder) int64 {
	if x.base >= 0 {
		return base.OrderVersion(OrderID(x.base))
	}
	if b.gVersion == nil {
		return 0
	}
	return b.gVersion[b.lGroup[ob.lines[x.first]]]
}

// bucketSize is the size of a touched bucket's merged orders.
type bucketSize struct {
	orders, keys, lines int   // orders, bytes of their ids, lines (the base's and the staged ones)
	lo, hi              int64 // their time span (empty: lo > hi)
	moved               bool  // a base order among them moved earlier
}

// size returns the size of touched bucket k's merged orders.
func (ob *overBuild) size(base *History, k int) bucketSize {
	s := bucketSize{lo: math.MaxInt64, hi: math.MinInt64}
	for _, x := range ob.orders[k] {
		s.orders++
		s.keys += len(x.key)
		s.lines += int(x.n)
		if x.base >= 0 {
			s.lines += int(base.orderOff[x.base+1] - base.orderOff[x.base])
			s.moved = s.moved || x.unix != base.OrderUnix(OrderID(x.base))
		}
		s.lo, s.hi = min(s.lo, x.unix), max(s.hi, x.unix)
	}
	return s
}

// baseRange returns the base's order ids [lo, hi) of bucket k (none for
// a customer new since the base).
func (ob *overBuild) baseRange(base *History, k int) (lo, hi uint32) {
	switch {
	case k < base.NumCustomers():
		return base.custLo[k], base.custHi[k]
	case k == ob.nc:
		return base.anonLo, base.anonHi
	}
	return 0, 0
}

// overOrders merges the orders of every touched bucket.
func (b *Builder) overOrders(ctx context.Context, base *History, drop []bool, nc int) (*overBuild, error) {
	nb := uint32(base.NumOrderIDs())
	ob := &overBuild{nc: nc, touched: b.merge.touched, orders: map[int][]overOrder{}}
	bucket := func(c uint32) int {
		if c == anonBucket {
			return nc
		}
		return int(c)
	}
	// staged groups by bucket, ascending within one
	byBucket := map[int][]uint32{}
	for g, c := range b.gCust {
		k := bucket(c)
		byBucket[k] = append(byBucket[k], uint32(g))
	}
	var refs []groupRef
	var n uint32 // staged lines placed so far, counted per order below
	keys := make([]int, 0, len(b.merge.list)+1)
	for _, c := range b.merge.list {
		keys = append(keys, int(c))
	}
	if b.merge.touched[nc] {
		keys = append(keys, nc)
	}
	ob.keys = keys
	type slot struct {
		k, i int
	}
	groupOrder := make([]slot, len(b.gCust))
	for j, k := range keys {
		if j%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		refs = refs[:0]
		lo, hi := ob.baseRange(base, k)
		for o := lo; o < hi; o++ {
			if drop == nil || !drop[o] {
				refs = append(refs, groupRef{id: o, key: base.OrderKey(OrderID(o)), unix: base.OrderUnix(OrderID(o))})
			}
		}
		for _, g := range byBucket[k] {
			refs = append(refs, groupRef{id: nb + g, key: b.gKey[g], unix: b.gUnix[g]})
		}
		// As sortOrders: an order is its shop id, or its time when it has
		// none; the groups of one order merge into the first.
		at := func(r groupRef) int64 {
			if r.key == "" {
				return r.unix
			}
			return 0
		}
		slices.SortFunc(refs, func(x, y groupRef) int {
			return cmp.Or(cmp.Compare(x.key, y.key), cmp.Compare(at(x), at(y)), cmp.Compare(x.id, y.id))
		})
		var orders []overOrder
		members := make([][]uint32, 0, len(refs)) // per order: its staged groups
		for i, r := range refs {
			if i > 0 && r.key == refs[i-1].key && at(r) == at(refs[i-1]) {
				o := &orders[len(orders)-1]
				o.unix = min(o.unix, r.unix)
				// A base order is first among those it merges with (ids
				// sort the base's first), and never merges with another
				// base order: a History has one order per id and customer.
				members[len(members)-1] = append(members[len(members)-1], r.id-nb)
				continue
			}
			o := overOrder{key: r.key, unix: r.unix, base: -1}
			var m []uint32
			if r.id < nb {
				o.base = int(r.id)
			} else {
				m = append(m, r.id-nb)
			}
			orders = append(orders, o)
			members = append(members, m)
		}
		idx := make([]int, len(orders))
		for i := range idx {
			idx[i] = i
		}
		firstID := func(i int) uint32 {
			if orders[i].base >= 0 {
				return uint32(orders[i].base)
			}
			return nb + members[i][0]
		}
		slices.SortFunc(idx, func(x, y int) int {
			return cmp.Or(cmp.Compare(orders[x].unix, orders[y].unix), cmp.Compare(orders[x].key, orders[y].key), cmp.Compare(firstID(x), firstID(y)))
		})
		sorted := make([]overOrder, len(orders))
		for pos, i := range idx {
			sorted[pos] = orders[i]
			for _, g := range members[i] {
				groupOrder[g] = slot{k, pos}
			}
		}
		ob.orders[k] = sorted
	}
	// Staged lines by order, in line order (a stable counting sort).
	for _, g := range b.lGroup {
		s := groupOrder[g]
		ob.orders[s.k][s.i].n++
	}
	for _, k := range keys {
		os := ob.orders[k]
		for i := range os {
			os[i].first = n
			n += os[i].n
			os[i].n = 0
		}
	}
	ob.lines = make([]uint32, n)
	for i, g := range b.lGroup {
		s := groupOrder[g]
		o := &ob.orders[s.k][s.i]
		ob.lines[o.first+o.n] = uint32(i)
		o.n++
	}
	if base.versions != nil || b.gVersion != nil {
		for _, k := range keys {
			for i := range ob.orders[k] {
				ob.versioned = ob.versioned || ob.version(base, b, &ob.orders[k][i]) != 0
			}
		}
	}
	return ob, nil
}

// write fills h's order and line columns from the plan in the History's
// sort order, without holes (a compaction, see layout.go): runs of
// untouched buckets that lie next to each other in the base are copied
// in bulk. The columns get room to grow by an eighth, so that the next
// builds can append to them in place.
func (ob *overBuild) write(h *History, base *History, b *Builder) error {
	nc, nc0 := ob.nc, base.NumCustomers()
	// run returns the untouched buckets k … k1 from k, whose base orders
	// are the ids [lo, hi); ok is false when k is touched.
	run := func(k int) (k1 int, lo, hi uint32, ok bool) {
		if ob.touched[k] {
			return k, 0, 0, false
		}
		if k == nc {
			return k, base.anonLo, base.anonHi, true
		}
		k1, lo, hi = k, base.custLo[k], base.custHi[k]
		for k1+1 < nc0 && !ob.touched[k1+1] && base.custLo[k1+1] == hi {
			k1++
			hi = base.custHi[k1]
		}
		return k1, lo, hi, true
	}
	// Sizes, and the time span. When no base order is dropped, the span
	// of the base's orders is the base's own (its summary's first and
	// last order), and only the new orders need looking at.
	keepAll := len(b.merge.dropped) == 0 && base.NumOrders() > 0
	exact := true // hi is the latest order's time: no kept order moved earlier
	versioned := base.versions != nil || ob.versioned
	var no, nl, nk int
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if keepAll {
		lo, hi = base.summary.First.Unix(), base.summary.Last.Unix()
	}
	for k := 0; k <= nc; k++ {
		k1, blo, bhi, ok := run(k)
		if !ok {
			s := ob.size(base, k)
			no, nk, nl = no+s.orders, nk+s.keys, nl+s.lines
			lo, hi = min(lo, s.lo), max(hi, s.hi)
			// a base order that new lines of the same order moved
			// earlier: its old time may have been the base's last
			exact = exact && !s.moved
			continue
		}
		if bhi > blo {
			no += int(bhi - blo)
			nl += int(base.orderOff[bhi] - base.orderOff[blo])
			nk += int(base.orderKeyOff[bhi] - base.orderKeyOff[blo])
			if !keepAll {
				dlo, dhi := slices.Min(base.orderDelta[blo:bhi]), slices.Max(base.orderDelta[blo:bhi])
				lo, hi = min(lo, base.baseUnix+int64(dlo)), max(hi, base.baseUnix+int64(dhi))
			}
		}
		k = k1
	}
	if no == 0 {
		lo, hi = 0, 0
	}
	b.merge.lastUnix, b.merge.haveLast = hi, no > 0 && (exact || !keepAll)
	if hi-lo > math.MaxUint32 {
		return errors.New("affinity: orders span more than 136 years")
	}
	if nk > math.MaxUint32 {
		return errors.New("affinity: order ids exceed 4 GiB")
	}
	// Times are stored from an origin in the middle of the room that
	// 32 bits leave around the orders' span, so that later builds can
	// append orders before and after it (the base's origin when it
	// leaves at least half as much before the first order).
	h.firstUnix, h.baseUnix = lo, lo
	if slack := (math.MaxUint32 - (hi - lo)) / 2; no > 0 {
		h.baseUnix = lo - slack
		if base.baseUnix <= lo-slack/2 && hi-base.baseUnix <= math.MaxUint32 {
			h.baseUnix = base.baseUnix
		}
	}
	h.custLo, h.custHi = make([]uint32, nc), make([]uint32, nc)
	h.orderCust = grown[uint32](no, 0)
	h.orderDelta = grown[uint32](no, 0)
	h.orderKeyOff = grown[uint32](no+1, 0)
	h.orderOff = grown[uint32](no+1, 0)
	if versioned {
		h.versions = grown[int64](no, 0)
	}
	h.orderKeys = grown[byte](0, nk)
	h.lineProduct = grown[ProductID](nl, 0)
	h.lineQty = grown[int32](nl, 0)
	h.linePrice = grown[Money](nl, 0)
	h.numOrders, h.numLines = no, nl
	shift := base.baseUnix - h.baseUnix
	o, l := uint32(0), uint32(0) // orders and lines written
	for k := 0; k <= nc; k++ {
		from := o
		k1, blo, bhi, ok := run(k)
		if !ok {
			o, l = ob.writeBucket(h, base, b, k, o, l)
			continue
		}
		for c := k; c <= k1 && c < nc0; c++ {
			h.custLo[c], h.custHi[c] = o+base.custLo[c]-blo, o+base.custHi[c]-blo
			for x := h.custLo[c]; x < h.custHi[c]; x++ {
				h.orderCust[x] = uint32(c)
			}
		}
		if n := bhi - blo; n > 0 {
			if shift == 0 {
				copy(h.orderDelta[o:], base.orderDelta[blo:bhi])
			} else {
				for i, d := range base.orderDelta[blo:bhi] {
					h.orderDelta[o+uint32(i)] = uint32(int64(d) + shift)
				}
			}
			klo := base.orderKeyOff[blo]
			kat := uint32(len(h.orderKeys))
			h.orderKeys = append(h.orderKeys, base.orderKeys[klo:base.orderKeyOff[bhi]]...)
			llo, lhi := base.orderOff[blo], base.orderOff[bhi]
			for i := uint32(1); i <= n; i++ {
				h.orderKeyOff[o+i] = base.orderKeyOff[blo+i] - klo + kat
				h.orderOff[o+i] = base.orderOff[blo+i] - llo + l
			}
			copy(h.lineProduct[l:], base.lineProduct[llo:lhi])
			copy(h.lineQty[l:], base.lineQty[llo:lhi])
			copy(h.linePrice[l:], base.linePrice[llo:lhi])
			if h.versions != nil {
				for i := range n {
					h.versions[o+i] = base.OrderVersion(OrderID(blo + i))
				}
			}
			o += n
			l += lhi - llo
		}
		if k == nc {
			h.setBucket(k, from, o)
		}
		k = k1
	}
	if trimVersions(h.versions) == nil {
		h.versions = nil
	}
	return nil
}

// overEvents fills h's event columns: the base's, shared, when no event
// changed; else the changed customers' events (the base's merged with the
// new ones in the order of cmpEvents, as a sort of both gives) appended
// to the base's columns where they have room (layout.go), or every
// customer's written anew, the runs of customers without new events
// copied from the base in bulk.
func (b *Builder) overEvents(h *History, base *History, gone []bool, nc int, claim func() bool) {
	nc0 := base.NumCustomers()
	erased := func(c int) bool { return c < len(gone) && gone[c] }
	if len(b.eCust) == 0 && !erasesEvents(base, gone) {
		// no event changes: the base's columns, shared (a History is
		// never written after its build), the new customers without any.
		// The room past their lengths goes with them only when h holds
		// the base's room (claim): else another History built on base
		// may append its events there, and a History built on h would
		// write over them.
		h.evProduct, h.evUnix, h.evKind, h.evWeight = base.evProduct, base.evUnix, base.evKind, base.evWeight
		if !claim() {
			h.evProduct, h.evUnix, h.evKind, h.evWeight = slices.Clip(h.evProduct), slices.Clip(h.evUnix), slices.Clip(h.evKind), slices.Clip(h.evWeight)
		}
		h.evLatest, h.numEvents, h.evHoles = base.evLatest, base.numEvents, base.evHoles
		h.evLo, h.evHi = base.evLo, base.evHi
		if nc > nc0 {
			h.evLo, h.evHi = copyRanges(base.evLo, base.evHi, nc)
		}
		b.merge.evLatestSet = true
		return
	}
	keys := h.catalog.products.keys
	off, staged := b.groupEvents(keys, nc)
	baseRange := func(c int) (lo, hi uint32) {
		if c < nc0 && !erased(c) {
			return base.evLo[c], base.evHi[c]
		}
		return 0, 0
	}
	// writeCustomer writes c's events from w on: its base events merged
	// with its staged ones.
	writeCustomer := func(c int, w uint32) uint32 {
		blo, bhi := baseRange(c)
		i := blo
		put := func(j uint32) {
			h.evProduct[w], h.evUnix[w], h.evKind[w], h.evWeight[w] = b.eProduct[j], b.eUnix[j], b.eKind[j], b.eWeight[j]
			w++
		}
		fromBase := func(hi uint32) {
			n := hi - i
			copy(h.evProduct[w:], base.evProduct[i:hi])
			copy(h.evUnix[w:], base.evUnix[i:hi])
			copy(h.evKind[w:], base.evKind[i:hi])
			copy(h.evWeight[w:], base.evWeight[i:hi])
			w, i = w+n, hi
		}
		for _, j := range staged[off[c]:off[c+1]] {
			k, e := i, b.stagedEvent(j)
			for k < bhi && cmpEvents(keys, nil, base.Event(int(k)), e) <= 0 {
				k++
			}
			fromBase(k)
			put(j)
		}
		fromBase(bhi)
		return w
	}
	if b.appendEvents(h, base, off, erased, nc, claim, writeCustomer) {
		return
	}
	n := len(b.eCust)
	for c := range min(nc, nc0) {
		lo, hi := baseRange(c)
		n += int(hi - lo)
	}
	h.evLo, h.evHi = make([]uint32, nc), make([]uint32, nc)
	h.evProduct = grown[ProductID](n, 0)
	h.evUnix = grown[int64](n, 0)
	h.evKind = grown[EventKind](n, 0)
	h.evWeight = grown[float32](n, 0)
	h.numEvents = n
	w := uint32(0)
	for c := 0; c < nc; c++ {
		if off[c+1] > off[c] || c >= nc0 || erased(c) {
			h.evLo[c] = w
			w = writeCustomer(c, w)
			h.evHi[c] = w
			continue
		}
		// a run of base customers without new events, none erased,
		// whose events lie next to each other in the base
		blo, bhi := base.evLo[c], base.evHi[c]
		c1 := c
		for c1+1 < nc0 && off[c1+1] == off[c1+2] && !erased(c1+1) && base.evLo[c1+1] == bhi {
			c1++
			bhi = base.evHi[c1]
		}
		for x := c; x <= c1; x++ {
			h.evLo[x], h.evHi[x] = w+base.evLo[x]-blo, w+base.evHi[x]-blo
		}
		copy(h.evProduct[w:], base.evProduct[blo:bhi])
		copy(h.evUnix[w:], base.evUnix[blo:bhi])
		copy(h.evKind[w:], base.evKind[blo:bhi])
		copy(h.evWeight[w:], base.evWeight[blo:bhi])
		w += bhi - blo
		c = c1
	}
}

// appendEvents writes the events of the customers with new or erased ones
// after the base's, in the base's columns, as appendTo does the orders
// (layout.go). It reports false, having changed nothing, when the layout
// policy calls for writing them anew.
func (b *Builder) appendEvents(h *History, base *History, off []uint32, erased func(int) bool, nc int, claim func() bool, write func(c int, w uint32) uint32) bool {
	mode := layoutMode.Load()
	if mode == layoutCompact {
		return false
	}
	nc0 := base.NumCustomers()
	changed := func(c int) bool {
		return off[c+1] > off[c] || c < nc0 && erased(c) && base.evHi[c] > base.evLo[c]
	}
	var add, gone int
	latest, exact := base.evLatest, true // exact: no base event at the latest time is erased
	for c := range nc {
		if !changed(c) {
			continue
		}
		add += int(off[c+1] - off[c])
		if c < nc0 {
			n := int(base.evHi[c] - base.evLo[c])
			gone += n
			if erased(c) {
				exact = exact && (n == 0 || slices.Max(base.evUnix[base.evLo[c]:base.evHi[c]]) < latest)
			} else {
				add += n
			}
		}
	}
	holes := base.evHoles + gone
	switch {
	case mode == layoutAuto && 4*holes > len(base.evProduct)+add:
		return false
	case len(base.evProduct)+add > math.MaxUint32:
		return false
	case !room(base.evProduct, add) || !room(base.evUnix, add) || !room(base.evKind, add) || !room(base.evWeight, add):
		return false
	case !claim():
		return false
	}
	ne := len(base.evProduct)
	h.evProduct = base.evProduct[:ne+add]
	h.evUnix = base.evUnix[:ne+add]
	h.evKind = base.evKind[:ne+add]
	h.evWeight = base.evWeight[:ne+add]
	h.evLo, h.evHi = copyRanges(base.evLo, base.evHi, nc)
	w := uint32(ne)
	for c := range nc {
		if changed(c) {
			h.evLo[c] = w
			w = write(c, w)
			h.evHi[c] = w
		}
	}
	h.numEvents = base.numEvents - gone + add
	h.evHoles = holes
	switch {
	case h.numEvents == 0:
		h.evLatest = 0
	case !exact || base.numEvents == 0:
		h.evLatest = math.MinInt64
		for c := range nc {
			for _, t := range h.evUnix[h.evLo[c]:h.evHi[c]] {
				h.evLatest = max(h.evLatest, t)
			}
		}
	default:
		h.evLatest = latest
		for c := range nc {
			if off[c+1] > off[c] {
				for _, t := range h.evUnix[h.evLo[c]:h.evHi[c]] {
					h.evLatest = max(h.evLatest, t)
				}
			}
		}
	}
	b.merge.evLatestSet = true
	return true
}

// erasesEvents reports whether a customer of base with events is erased
// (erased[c]).
func erasesEvents(base *History, erased []bool) bool {
	for c, gone := range erased[:min(len(erased), base.NumCustomers())] {
		if gone && base.evHi[c] > base.evLo[c] {
			return true
		}
	}
	return false
}
