package recommend

import (
	"context"
	"math"
	"slices"
	"sync/atomic"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/topk"
	"github.com/shopaffinity/affinity/similarity"
)

// edgeTable is the engine's item graph, built once by [newEdgeTable]: for
// every anchor product its candidates and edge weights in CSR form,
// strongest first, with the evidence behind each edge for the reasons,
// and the marginals the weights came from.
type edgeTable struct {
	off     []uint32 // len NumProducts+1
	nbr     []affinity.ProductID
	w       []float32
	info    []edgeInfo // cold: read only to explain results
	measure similarity.Measure
	unit    string // "customers", "orders" or "" (unknown)
	support []uint32
	total   int
	seqSup  []uint32
	seqTot  int
	prior   []float32 // (1+support)^PopularityExponent; nil when off
	priorB  []float32 // (1+support)^BasketPopularityExponent; nil when off
	learned bool      // the main index is a learned model (EASE)
	signed  bool      // some edge weights are negative

	// what the rows were built from, for a renewed table to reuse them
	src    *similarity.Index
	sub    *substitutes
	excl   bitset
	weighs [3]float64 // LiftExponent, BasketPopularityExponent, SubstitutePenalty
}

// edgeInfo is the evidence behind an edge, for its Reason. Its lift is
// not kept: it moves with the total count at every refresh, and is
// computed when a reason is read ([edgeTable.edgeLift]), so that a
// renewed table copies unchanged rows as they are.
type edgeInfo struct {
	meas float32 // the index's measure value
	cnt  uint32  // co-count
	kind uint8
}

// edge kinds
const (
	edgeTogether uint8 = 1 << iota
	edgeAfter
	edgeSame
)

type edge struct {
	p    affinity.ProductID
	w    float32
	m    float32
	c    uint32
	kind uint8
}

// newEdgeTable merges the neighbour lists of nb and seq into one CSR
// with the engine's edge weights (see the package documentation), rows
// strongest first, leaving out the excluded products. It takes time
// linear in the index's edges plus a sort of each row. With prev, the
// table of an earlier engine, it copies the rows that would come out as
// prev's (reusable), their lifts computed anew.
func newEdgeTable(ctx context.Context, np int, nb, seq *similarity.Index, o *Options, sub *substitutes, excl bitset, prev *edgeTable) (*edgeTable, error) {
	t := &edgeTable{src: nb, sub: sub, excl: excl,
		weighs: [3]float64{o.LiftExponent, o.BasketPopularityExponent, o.SubstitutePenalty}}
	t.measure = nb.Measure()
	scope := nb.Scope()
	if o.Evidence != nil {
		scope = o.Evidence.Scope() // the counts reasons state
	}
	switch scope {
	case similarity.Basket:
		t.unit = "orders"
	case similarity.Customer, similarity.Sequential:
		t.unit = "customers"
	}
	t.total = nb.Total()
	t.support = make([]uint32, np)
	for p := range nb.NumProducts() {
		t.support[p] = uint32(nb.Support(affinity.ProductID(p)))
	}
	if seq != nil {
		t.seqTot = seq.Total()
		t.seqSup = make([]uint32, np)
		for p := range seq.NumProducts() {
			t.seqSup[p] = uint32(seq.Support(affinity.ProductID(p)))
		}
	}
	// a learned model (EASE) has accounted for popularity and
	// co-occurrence chance itself: its weights are used as they are,
	// negative ones included
	t.learned = nb.Measure() == similarity.EASE
	priors := func(rho float64) []float32 {
		if rho <= 0 || t.learned {
			return nil
		}
		pr := make([]float32, np)
		for p, sup := range t.support {
			pr[p] = float32(math.Pow(1+float64(sup), rho))
		}
		return pr
	}
	t.prior, t.priorB = priors(o.PopularityExponent), priors(o.BasketPopularityExponent)
	t.off = make([]uint32, np+1)
	// at most every neighbour of every product: allocated once, not grown
	most := 0
	for _, x := range []*similarity.Index{nb, seq} {
		if x != nil {
			for a := range min(x.NumProducts(), np) {
				most += len(x.Neighbors(affinity.ProductID(a)))
			}
		}
	}
	t.nbr, t.w, t.info = make([]affinity.ProductID, 0, most), make([]float32, 0, most), make([]edgeInfo, 0, most)
	var buf []edge
	var keys []uint64
	pos := make([]uint32, np) // a product's place in buf
	pen := float32(o.SubstitutePenalty)
	reuse, reused := t.reusable(prev, seq), int64(0)
	defer func() { reusedRows.Add(reused) }()
	for a := range np {
		if a%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		pa := affinity.ProductID(a)
		buf = buf[:0]
		if excl.has(pa) {
			t.off[a+1] = uint32(len(t.nbr))
			continue
		}
		if reuse && t.sameRow(prev, pa) {
			t.copyRow(prev, pa)
			reused++
			continue
		}
		if a < nb.NumProducts() {
			for _, n := range nb.Neighbors(pa) {
				if n.Product == pa || int(n.Product) >= np || n.Score != n.Score || excl.has(n.Product) {
					continue
				}
				if !(n.Score > 0) && !(t.learned && n.Score < 0) {
					continue
				}
				w := n.Score
				if !t.learned {
					w *= tilt(o.LiftExponent, n.Count, t.support[a], t.support[n.Product], t.total)
				}
				buf = append(buf, edge{p: n.Product, w: boundWeight(w), m: n.Score, c: n.Count, kind: edgeTogether})
			}
		}
		if seq != nil && a < seq.NumProducts() {
			sw := float32(o.SequentialWeight)
			for _, n := range seq.Neighbors(pa) {
				if n.Product == pa || int(n.Product) >= np || !(n.Score > 0) || sw == 0 || excl.has(n.Product) {
					continue
				}
				w := boundWeight(sw * n.Score * tilt(o.LiftExponent, n.Count, t.seqSup[a], t.seqSup[n.Product], t.seqTot))
				if i := slices.IndexFunc(buf, func(x edge) bool { return x.p == n.Product }); i >= 0 {
					buf[i].w = boundWeight(buf[i].w + w)
					buf[i].kind |= edgeAfter
				} else {
					buf = append(buf, edge{p: n.Product, w: w, m: n.Score, c: n.Count, kind: edgeAfter})
				}
			}
		}
		// the weights as served: floored, substitutes penalised (or
		// dropped), before the sort, so that the rows are strongest first
		// as served
		buf = slices.DeleteFunc(buf, func(x edge) bool {
			return !t.learned && pen <= 0 && sub.same(pa, x.p)
		})
		for i := range buf {
			x := &buf[i]
			if x.w >= 0 {
				x.w = max(x.w, 1e-6)
			}
			if !t.learned && sub.same(pa, x.p) {
				// (a learned model has weighed substitutes itself)
				x.w *= pen
				x.kind |= edgeSame
			}
			if x.w >= 0 {
				x.w = max(x.w, minWeight)
			}
		}
		// strongest first, the basket prior included (the candidate's
		// popularity decides which edges matter when evidence is thin): a
		// request may use only a prefix of the list
		// (sorted as packed keys: rank descending, then product)
		keys = keys[:0]
		for i, x := range buf {
			r := abs32(x.w)
			if t.priorB != nil {
				r *= t.priorB[x.p]
			}
			pos[x.p] = uint32(i)
			keys = append(keys, topk.Pack(r, uint32(x.p)))
		}
		slices.Sort(keys)
		for _, key := range keys {
			x := buf[pos[uint32(key)]]
			if x.w < 0 {
				t.signed = true
			}
			t.nbr = append(t.nbr, x.p)
			t.w = append(t.w, x.w)
			t.info = append(t.info, edgeInfo{meas: x.m, cnt: x.c, kind: x.kind})
		}
		t.off[a+1] = uint32(len(t.nbr))
	}
	return t, nil
}

// reusable reports whether rows of prev may be copied into t (see
// sameRow): prev was built with the same options, exclusions and
// substitutes (for its products), from a co-purchase index alone, and
// the weights do not depend on the total count (LiftExponent 0).
func (t *edgeTable) reusable(prev *edgeTable, seq *similarity.Index) bool {
	if prev == nil || prev.src == nil || seq != nil || prev.seqSup != nil ||
		prev.learned != t.learned || prev.measure != t.measure || prev.weighs != t.weighs || t.weighs[0] != 0 {
		return false
	}
	return isPrefix(prev.excl, t.excl) && isPrefix(prev.sub.off, t.sub.off) && isPrefix(prev.sub.cat, t.sub.cat)
}

// isPrefix reports whether p is a prefix of s.
func isPrefix[T comparable](p, s []T) bool { return len(p) <= len(s) && slices.Equal(p, s[:len(p)]) }

// sameRow reports whether anchor a's row comes out as prev's: a is one
// of prev's products, its neighbour list in t's index equals the one in
// prev's, and none of those neighbours' supports moved (they set the
// basket prior that orders the row).
func (t *edgeTable) sameRow(prev *edgeTable, a affinity.ProductID) bool {
	if int(a) >= len(prev.off)-1 || int(a) >= prev.src.NumProducts() || int(a) >= t.src.NumProducts() {
		return false
	}
	row := t.src.Neighbors(a)
	if !slices.Equal(row, prev.src.Neighbors(a)) {
		return false
	}
	for _, n := range row {
		if int(n.Product) >= len(prev.support) || prev.support[n.Product] != t.support[n.Product] {
			return false
		}
	}
	return true
}

// reusedRows counts the rows newEdgeTable copied (tests read it).
var reusedRows atomic.Int64

// copyRow appends prev's row of a to t.
func (t *edgeTable) copyRow(prev *edgeTable, a affinity.ProductID) {
	lo, hi := prev.off[a], prev.off[a+1]
	t.nbr = append(t.nbr, prev.nbr[lo:hi]...)
	t.w = append(t.w, prev.w[lo:hi]...)
	t.info = append(t.info, prev.info[lo:hi]...)
	if prev.signed && !t.signed {
		t.signed = slices.ContainsFunc(prev.w[lo:hi], func(w float32) bool { return w < 0 })
	}
	t.off[a+1] = uint32(len(t.nbr))
}

// edgeLift returns the lift of edge i, of anchor a's row: its co-count
// against the count chance gives the pair, from the supports and total
// of the index the edge's evidence comes from (the co-purchase one, else
// the sequential one).
func (t *edgeTable) edgeLift(a affinity.ProductID, i uint32) float32 {
	inf, b := &t.info[i], t.nbr[i]
	if inf.kind&edgeTogether != 0 {
		return lift(inf.cnt, t.support[a], t.support[b], t.total)
	}
	return lift(inf.cnt, t.seqSup[a], t.seqSup[b], t.seqTot)
}

func abs32(v float32) float32 { return max(v, -v) }

// tilt returns lift^exp, lift clamped to [1/16, 16].
func tilt(exp float64, c, sa, sb uint32, n int) float32 {
	if exp == 0 || sa == 0 || sb == 0 {
		return 1
	}
	lift := float64(c) * float64(n) / (float64(sa) * float64(sb))
	lift = min(max(lift, 1.0/16), 16)
	return float32(math.Pow(lift, exp))
}

// maxWeight and minWeight bound an edge's weight: infinite measures
// (conviction of a pair always bought together, stored as
// math.MaxFloat32 by package similarity) stay the strongest edges (a
// finite conviction or lift is at most the number of transactions),
// while a request's sums of edge weights times anchor weights (in
// [leastWeight, maxAnchorWeight], at most 2³¹ anchors) stay positive and
// below 10²⁶: the scaling of scores never divides 0 by 0 or +Inf by +Inf
// into NaN. minWeight keeps positive edges positive (see
// scratch.touch), substitutes' penalised ones included.
const (
	maxWeight = 1e10
	minWeight = 1e-12
)

// boundWeight returns w within ±maxWeight.
func boundWeight(w float32) float32 { return min(max(w, -maxWeight), maxWeight) }

func lift(c, sa, sb uint32, n int) float32 {
	if sa == 0 || sb == 0 {
		return 0
	}
	return float32(float64(c) * float64(n) / (float64(sa) * float64(sb)))
}
