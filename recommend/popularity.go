package recommend

import (
	"context"
	"math"
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/topk"
)

// popularity is the shop's recency-weighted popularity, built once by
// [newPopularity] or [renewPopularity]: the popular fallback, the
// popularity blend and the baseline of segment favourites.
type popularity struct {
	pop      []float32
	popNorm  []float32 // pop / max pop
	popTotal float64
	popOrder []affinity.ProductID // by pop descending, then id

	// sums are the products' weights in fixed point (2^shift for a
	// line's full weight), each decayed to ref (see popRef): integers, so
	// that a renewal
	// that subtracts and adds the changed customers' lines gets the sums
	// a full pass gets, whatever the order
	sums     []int64
	shift    int
	n        int // the lines and events at or before asOf, which shift is sized for
	ref      int64
	asOf     int64
	phl      float64
	ew       [affinity.Wishlist + 1]float32
	complete bool // every line and event of the History at or before asOf
	renewed  bool // by renewPopularity from the sums of an earlier one
	// excl are the products given no popularity (Options.Exclude): sums
	// count them, so that a renewal does not depend on the set, and
	// finish leaves them out
	excl bitset
}

// popShift returns the fixed point of popularity.sums for n lines and
// events (those at or before asOf, so that later ones change nothing)
// with anchor weights ew: 2^32 for a line's full weight at the
// reference time (weights below 2^−32 there, 32 half-lives before it,
// count 0), fewer bits when n lines and events of the greatest weight
// could otherwise pass 2^62.
func popShift(n int, ew [affinity.Wishlist + 1]float32) int {
	top := 1.0
	for _, w := range ew {
		top = max(top, float64(w))
	}
	_, e := math.Frexp(float64(n+1) * top) // n·top < 2^e
	return max(min(32, 62-e), -1074)
}

// popRef returns the reference time of the popularity as of asOf at the
// half-life phl (seconds): the end of its block (see popBlock) since
// 1970, so that the refreshes of a block share it.
func popRef(asOf int64, phl float64) int64 {
	block := popBlock(phl)
	n := asOf / block
	if asOf < 0 && asOf%block != 0 {
		n--
	}
	return (n + 1) * block
}

// popBlock returns the span in seconds of the blocks of popRef at the
// half-life phl: popRefDays days, or popRefHalfLives half-lives when that
// is shorter (at least a second). A line's weight at the reference time
// is then at most popRefHalfLives half-lives of decay below its weight as
// of asOf (2^(−32/90) ≈ 0.78 at the default half-life of 90 days), so
// that the fixed point keeps all but popRefHalfLives of its bits of a
// line bought at asOf whatever the half-life, where a 32-day block at a
// half-life of 12 hours decayed every line to 2^−62 and rounded every
// product's popularity to 0.
func popBlock(phl float64) int64 {
	block := int64(popRefDays * 24 * 60 * 60)
	if phl > 0 && popRefHalfLives*phl < float64(block) {
		block = max(1, int64(popRefHalfLives*phl))
	}
	return block
}

// popRefDays and popRefHalfLives bound the span of the blocks of popRef
// (see popBlock).
const (
	popRefDays      = 32
	popRefHalfLives = 4
)

// newPopularity computes the recency-weighted popularity of the np
// products as of asOf (Unix seconds): bought lines weigh
// 2^(−age/halfLife), halfLife in seconds, and events the same times their
// anchor weight ew. The products in excl (non-merchandise) get none and
// count in neither the maximum nor the total. Time linear in the lines
// and events of h.
func newPopularity(ctx context.Context, h *affinity.History, np int, asOf int64, phl float64, ew [affinity.Wishlist + 1]float32, excl bitset) (*popularity, error) {
	t := &popularity{sums: make([]int64, np), ref: popRef(asOf, phl), asOf: asOf, phl: phl, ew: ew, excl: excl}
	for o := range h.Orders() {
		t.n += orderLinesAsOf(h, o, asOf)
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		t.n += eventsAsOf(h, c, asOf)
	}
	t.shift = popShift(t.n, ew)
	n := 0
	for o := range h.Orders() {
		if n++; n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t.addOrder(h, o, 1)
	}
	// events count with their anchor weights: ratings fully (rating data
	// has no purchases), views and carts a little
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			t.addEvent(h, i, 1)
		}
	}
	t.complete = asOf >= h.Latest().Unix()
	t.finish(np)
	return t, nil
}

// renewPopularity returns what newPopularity(ctx, h, np, asOf, phl, ew,
// excl) returns: prev itself when it was computed from h with the same
// asOf, weights and excl (as the candidates of a tuning are); otherwise from prev's sums
// where that is cheaper: when prev counted
// every line of prevH, h was built from prevH (see
// [affinity.History.ChangedSince]), both share a reference time (popRef)
// and weights, and asOf is at least prev's, only the changed customers'
// lines and events (and the anonymous orders when they changed) are
// subtracted and added again. Otherwise, and with a nil prev, it is
// newPopularity.
func renewPopularity(ctx context.Context, prev *popularity, prevH, h *affinity.History, np int, asOf int64, phl float64, ew [affinity.Wishlist + 1]float32, excl bitset) (*popularity, error) {
	if prev != nil && prevH == h && prev.asOf == asOf && prev.phl == phl && prev.ew == ew && len(prev.sums) == np && slices.Equal(prev.excl, excl) {
		return prev, nil // the same lines and events, weighed the same: prev, which no engine modifies
	}
	if prev == nil || prevH == nil || !prev.complete || prev.ref != popRef(asOf, phl) || prev.phl != phl || prev.ew != ew ||
		asOf < prev.asOf || len(prev.sums) > np {
		return newPopularity(ctx, h, np, asOf, phl, ew, excl)
	}
	ch, ok := h.ChangedSince(prevH)
	if !ok {
		return newPopularity(ctx, h, np, asOf, phl, ew, excl)
	}
	// the lines and events as of asOf: prev's, those of the changed
	// customers and of the anonymous orders counted again
	n := prev.n
	pnc := affinity.CustomerID(prevH.NumCustomers())
	for _, c := range ch.Customers {
		if c < pnc {
			n -= customerAsOf(prevH, c, prev.asOf)
		}
		if int(c) < h.NumCustomers() {
			n += customerAsOf(h, c, asOf)
		}
	}
	if ch.Anonymous {
		lo, hi := prevH.AnonymousOrders()
		for o := lo; o < hi; o++ {
			n -= orderLinesAsOf(prevH, o, prev.asOf)
		}
		lo, hi = h.AnonymousOrders()
		for o := lo; o < hi; o++ {
			n += orderLinesAsOf(h, o, asOf)
		}
	}
	if popShift(n, ew) != prev.shift {
		return newPopularity(ctx, h, np, asOf, phl, ew, excl)
	}
	t := &popularity{sums: make([]int64, np), shift: prev.shift, n: n, ref: prev.ref, asOf: asOf, phl: phl, ew: ew, excl: excl, renewed: true}
	copy(t.sums, prev.sums)
	// the unchanged customers' lines are all at or before prev.asOf
	old := *prev
	old.sums = t.sums
	for i, c := range ch.Customers {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if c < pnc {
			old.addCustomer(prevH, c, -1)
		}
		if int(c) < h.NumCustomers() {
			t.addCustomer(h, c, 1)
		}
	}
	if ch.Anonymous {
		lo, hi := prevH.AnonymousOrders()
		for o := lo; o < hi; o++ {
			old.addOrder(prevH, o, -1)
		}
		lo, hi = h.AnonymousOrders()
		for o := lo; o < hi; o++ {
			t.addOrder(h, o, 1)
		}
	}
	t.complete = asOf >= h.Latest().Unix()
	t.finish(np)
	return t, nil
}

// orderLinesAsOf returns the number of lines of order o in h when it is
// at or before asOf, else 0.
func orderLinesAsOf(h *affinity.History, o affinity.OrderID, asOf int64) int {
	if h.OrderUnix(o) > asOf {
		return 0
	}
	lo, hi := h.OrderLines(o)
	return hi - lo
}

// eventsAsOf returns the number of customer c's events in h at or before
// asOf.
func eventsAsOf(h *affinity.History, c affinity.CustomerID, asOf int64) int {
	n := 0
	lo, hi := h.CustomerEvents(c)
	for i := lo; i < hi; i++ {
		if h.Event(i).Unix <= asOf {
			n++
		}
	}
	return n
}

// customerAsOf returns the number of customer c's lines and events in h
// at or before asOf.
func customerAsOf(h *affinity.History, c affinity.CustomerID, asOf int64) int {
	n := eventsAsOf(h, c, asOf)
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		n += orderLinesAsOf(h, o, asOf)
	}
	return n
}

// addCustomer adds sign times the weights of customer c's orders and
// events in h to t.sums.
func (t *popularity) addCustomer(h *affinity.History, c affinity.CustomerID, sign int64) {
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		t.addOrder(h, o, sign)
	}
	elo, ehi := h.CustomerEvents(c)
	for i := elo; i < ehi; i++ {
		t.addEvent(h, i, sign)
	}
}

// addOrder adds sign times the weight of order o's bought lines, when at
// or before t.asOf.
func (t *popularity) addOrder(h *affinity.History, o affinity.OrderID, sign int64) {
	ot := h.OrderUnix(o)
	if ot > t.asOf {
		return
	}
	d := sign * t.fixed(float64(decay(t.ref-ot, t.phl)))
	lo, hi := h.OrderLines(o)
	for i := lo; i < hi; i++ {
		if h.LineQuantity(i) > 0 {
			t.sums[h.LineProduct(i)] += d
		}
	}
}

// addEvent adds sign times the weight of event i, when at or before
// t.asOf.
func (t *popularity) addEvent(h *affinity.History, i int, sign int64) {
	if ev := h.Event(i); ev.Unix <= t.asOf && ev.Kind.Valid() && t.ew[ev.Kind] > 0 {
		t.sums[ev.Product] += sign * t.fixed(float64(t.ew[ev.Kind])*float64(decay(t.ref-ev.Unix, t.phl)))
	}
}

// fixed returns w in t's fixed point.
func (t *popularity) fixed(w float64) int64 { return int64(math.Round(math.Ldexp(w, t.shift))) }

// finish derives the popularity of every product from t.sums, each scaled
// from the reference time back to asOf, its normalised values and order;
// the products of t.excl get 0, so that non-merchandise sets neither the
// maximum the others are normalised by nor the total.
func (t *popularity) finish(np int) {
	scale := math.Ldexp(math.Exp2(float64(t.ref-t.asOf)/t.phl), -t.shift)
	if t.phl <= 0 || math.IsInf(scale, 0) || math.IsNaN(scale) {
		scale = math.Ldexp(1, -t.shift)
	}
	t.pop = make([]float32, np)
	for p, v := range t.sums {
		if !t.excl.has(affinity.ProductID(p)) {
			t.pop[p] = float32(float64(v) * scale)
		}
	}
	var top float32
	for _, v := range t.pop {
		t.popTotal += float64(v)
		top = max(top, v)
	}
	t.popNorm = make([]float32, np)
	if top > 0 {
		for p, v := range t.pop {
			t.popNorm[p] = v / top
		}
	}
	// most popular first, ties by product, as packed keys
	keys := make([]uint64, np)
	for p, v := range t.pop {
		keys[p] = topk.Pack(v, uint32(p))
	}
	slices.Sort(keys)
	t.popOrder = make([]affinity.ProductID, np)
	for i, k := range keys {
		t.popOrder[i] = affinity.ProductID(uint32(k))
	}
}
