package segment_test

// Adversarial tests of Transition, Transitions, Index.CrossTab and Overlap
// against naive set arithmetic over small random indexes built at two as-of
// times of Histories where one extends the other: customers appearing,
// lapsing, erased, and ids unknown to one of the indexes.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var trnAsOf = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// trnWorld holds two Histories (h2 extends h1: newcomers, later orders,
// erasures) and indexes of them at two as-of times.
type trnWorld struct {
	h1, h2       *affinity.History
	x1, x2, x21  *segment.Index // x1: h1 at asOf; x2: h2 at asOf+60d; x21: h2 at asOf
	erased       []affinity.CustomerID
	negativeShop bool
}

// trnBuild makes a random world. With negative set, most lines are returns,
// so that the shop's revenue in the look-back is negative; with erase set,
// h2 erases some of h1's customers.
func trnBuild(t *testing.T, seed uint64, negative, erase bool) *trnWorld {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0x7e4))
	line := func(b *affinity.Builder, cust string, at time.Time, o int) {
		q := int32(1 + rng.IntN(3))
		if rng.IntN(5) == 0 || negative && rng.IntN(4) != 0 {
			q = -q
		}
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: fmt.Sprint("p", rng.IntN(5)),
			Order: fmt.Sprint(cust, "-", o), Time: at, Quantity: q, Price: affinity.Money(rng.IntN(4) * 2_5000)}))
	}
	var b affinity.Builder
	nc := 6 + rng.IntN(20)
	for c := range nc {
		cust := fmt.Sprint("c", c)
		switch rng.IntN(6) {
		case 0: // events only
			require.NoError(t, b.AddEvent(affinity.Event{Customer: cust, Product: "p0", Time: trnAsOf.Add(-time.Duration(rng.IntN(900)) * time.Hour), Kind: affinity.View, Weight: 1}))
			continue
		case 1: // first activity after asOf: known to h1's id space, not to x1
			line(&b, cust, trnAsOf.Add(time.Duration(1+rng.IntN(50*24))*time.Hour), 0)
			continue
		}
		for o := range 1 + rng.IntN(5) {
			// lapsing customers buy long ago only; the others any time
			back := time.Duration(rng.IntN(800*24)) * time.Hour
			if rng.IntN(3) == 0 {
				back = time.Duration(rng.IntN(60*24)) * time.Hour
			}
			line(&b, cust, trnAsOf.Add(-back), o)
		}
	}
	h1, err := b.Build(ctx)
	require.NoError(t, err)
	b2 := affinity.NewBuilder(h1)
	w := &trnWorld{h1: h1, negativeShop: negative}
	for c := range nc {
		if erase && rng.IntN(5) == 0 {
			key := fmt.Sprint("c", c)
			id, ok := h1.LookupCustomer(key)
			require.True(t, ok)
			b2.EraseCustomer(key)
			w.erased = append(w.erased, id)
		} else if rng.IntN(3) == 0 {
			line(b2, fmt.Sprint("c", c), trnAsOf.Add(time.Duration(1+rng.IntN(59*24))*time.Hour), 100+c)
		}
	}
	for c := range 1 + rng.IntN(6) { // newcomers
		cust := fmt.Sprint("new", c)
		line(b2, cust, trnAsOf.Add(time.Duration(1+rng.IntN(59*24))*time.Hour), 0)
		if rng.IntN(2) == 0 {
			line(b2, cust, trnAsOf.Add(-time.Duration(rng.IntN(59*24))*time.Hour), 1) // back-dated: known to x21 too
		}
	}
	w.h2, err = b2.Build(ctx)
	require.NoError(t, err)
	w.x1, err = segment.Build(ctx, h1, trnAsOf, segment.Options{})
	require.NoError(t, err)
	w.x2, err = segment.Build(ctx, w.h2, trnAsOf.Add(60*24*time.Hour), segment.Options{})
	require.NoError(t, err)
	w.x21, err = segment.Build(ctx, w.h2, trnAsOf, segment.Options{})
	require.NoError(t, err)
	return w
}

// trnExprs are segments whose membership changes between the two times,
// complements (Not is taken within the index's customers) included.
func trnExprs() []segment.Expr {
	return []segment.Expr{
		segment.All(),
		segment.Lifecycle("new"),
		segment.Lifecycle("churned"),
		segment.Not(segment.Lifecycle("churned")),
		segment.Not(segment.All()),
		segment.RFM("Champions"),
		segment.Not(segment.RFM("Champions")),
	}
}

// TestTrnTransitionNaive: Transition(from, to, a, b) is a as of from ∩ b as
// of to, for every pair of indexes of the world in both directions (to
// earlier than from, to built on the shorter History).
func TestTrnTransitionNaive(t *testing.T) {
	for seed := range uint64(12) {
		trnTransitionNaive(t, trnBuild(t, seed, false, false), seed)
	}
}

// TestTrnTransitionAcrossErasure: an erasure between the two snapshots
// keeps the erased customer's id allocated ("so that the ids of everyone
// else do not move"), so the later History still extends the earlier one
// with stable ids and Transition must work, the erased customer in
// neither the later index nor its complements.
func TestTrnTransitionAcrossErasure(t *testing.T) {
	for seed := range uint64(12) {
		w := trnBuild(t, seed, false, true)
		if len(w.erased) == 0 {
			continue
		}
		trnTransitionNaive(t, w, seed)
		m, err := segment.Transitions(w.x1, w.x2, []segment.Expr{segment.All()}, []segment.Expr{segment.All()})
		require.NoError(t, err, "seed %d: Transitions across an erasure", seed)
		leavers := 0
		for _, e := range w.erased {
			if w.x1.All().Contains(uint32(e)) {
				leavers++
			}
		}
		assert.GreaterOrEqual(t, m[0][1], leavers, "seed %d: erased customers count as leavers", seed)
	}
}

func trnTransitionNaive(t *testing.T, w *trnWorld, seed uint64) {
	t.Helper()
	{
		pairs := map[string][2]*segment.Index{
			"x1→x2": {w.x1, w.x2}, "x2→x1": {w.x2, w.x1}, "x1→x21": {w.x1, w.x21},
			"x21→x2": {w.x21, w.x2}, "x1→x1": {w.x1, w.x1},
		}
		for _, x := range []*segment.Index{w.x2, w.x21} {
			for _, e := range w.erased {
				assert.False(t, x.All().Contains(uint32(e)), "seed %d: erased customer %d known", seed, e)
			}
		}
		exprs := trnExprs()
		for name, p := range pairs {
			from, to := p[0], p[1]
			ev := func(x *segment.Index) []*roaring.Bitmap {
				out := make([]*roaring.Bitmap, len(exprs))
				for i, e := range exprs {
					s, err := x.Eval(e)
					require.NoError(t, err)
					assert.True(t, roaring.AndNot(s, x.All()).IsEmpty(), "seed %d: %v as of one index holds customers it does not know", seed, e)
					out[i] = s
				}
				return out
			}
			fs, ts := ev(from), ev(to)
			for i, a := range exprs {
				for j, bb := range exprs {
					got, err := segment.Transition(from, to, a, bb)
					require.NoError(t, err, "seed %d %s", seed, name)
					// naive: per id, membership on each side
					want := roaring.New()
					for c := range uint32(max(from.NumCustomers(), to.NumCustomers()) + 2) {
						if fs[i].Contains(c) && ts[j].Contains(c) {
							want.Add(c)
						}
					}
					assert.Equal(t, want.ToArray(), got.ToArray(), "seed %d %s %v → %v", seed, name, a, bb)
				}
			}
			// the result is the caller's: changing it changes nothing else
			got, err := segment.Transition(from, to, segment.All(), segment.All())
			require.NoError(t, err)
			got.Add(math.MaxUint32)
			again, err := segment.Transition(from, to, segment.All(), segment.All())
			require.NoError(t, err)
			assert.False(t, again.Contains(math.MaxUint32))
			assert.False(t, from.All().Contains(math.MaxUint32))
		}
	}
}

// TestTrnTransitionsNaive: the Transitions matrix against per-customer
// membership over the customers known to either index, in both directions
// and with an index of the extended History, so that newcomers, lapsed and
// erased customers land in the "none" row or column.
func TestTrnTransitionsNaive(t *testing.T) {
	for seed := range uint64(12) {
		w := trnBuild(t, 100+seed, false, false)
		rows := trnExprs()[2:]
		cols := []segment.Expr{segment.Lifecycle("new"), segment.Lifecycle("repeat"), segment.Not(segment.Lifecycle("new")), segment.RFM("Champions")}
		for name, p := range map[string][2]*segment.Index{"x1→x2": {w.x1, w.x2}, "x2→x1": {w.x2, w.x1}, "x21→x1": {w.x21, w.x1}} {
			from, to := p[0], p[1]
			m, err := segment.Transitions(from, to, rows, cols)
			require.NoError(t, err)
			rs, cs := trnEval(t, from, rows), trnEval(t, to, cols)
			want := make([][]int, len(rows)+1)
			for i := range want {
				want[i] = make([]int, len(cols)+1)
			}
			known := roaring.Or(from.All(), to.All())
			for c := range uint32(max(from.NumCustomers(), to.NumCustomers())) {
				if !known.Contains(c) {
					continue
				}
				var ri, ci []int
				for i := range rs {
					if rs[i].Contains(c) {
						ri = append(ri, i)
					}
				}
				for j := range cs {
					if cs[j].Contains(c) {
						ci = append(ci, j)
					}
				}
				if ri == nil {
					ri = []int{len(rows)}
				}
				if ci == nil {
					ci = []int{len(cols)}
				}
				for _, i := range ri {
					for _, j := range ci {
						want[i][j]++
					}
				}
			}
			assert.Equal(t, want, m, "seed %d %s", seed, name)
		}
	}
}

func trnEval(t *testing.T, x *segment.Index, es []segment.Expr) []*roaring.Bitmap {
	t.Helper()
	out := make([]*roaring.Bitmap, len(es))
	for i, e := range es {
		s, err := x.Eval(e)
		require.NoError(t, err)
		out[i] = s
	}
	return out
}

// trnSets returns k random sets over ids of both indexes and beyond (the
// last id of the uint32 range too), some nil or empty.
func trnSets(rng *rand.Rand, k, ids int) []*roaring.Bitmap {
	out := make([]*roaring.Bitmap, k)
	for i := range out {
		switch rng.IntN(8) {
		case 0:
			continue // nil
		case 1:
			out[i] = roaring.New()
			continue
		}
		s := roaring.New()
		for c := range uint32(ids + 5) {
			if rng.IntN(3) == 0 {
				s.Add(c)
			}
		}
		if rng.IntN(4) == 0 {
			s.Add(math.MaxUint32)
			s.Add(1 << 20)
		}
		out[i] = s
	}
	return out
}

// TestTrnCrossTabNaive: every cell of CrossTab against sums over the
// features of the customers in both sets that the index knows: ids of the
// other index's newcomers, erased ids, ids beyond the id space; a shop
// whose revenue is negative (RevenueShare 0); Share over Index.Len.
func TestTrnCrossTabNaive(t *testing.T) {
	negativeShops := 0
	defer func() { assert.Positive(t, negativeShops, "the fixtures hold a shop with negative revenue") }()
	for seed := range uint64(16) {
		w := trnBuild(t, 200+seed, seed%4 == 3, true)
		rng := rand.New(rand.NewPCG(seed, 0xc7))
		for name, x := range map[string]*segment.Index{"x1": w.x1, "x2": w.x2, "x21": w.x21} {
			ids := max(w.x1.NumCustomers(), w.x2.NumCustomers())
			rows, cols := trnSets(rng, 1+rng.IntN(4), ids), trnSets(rng, 1+rng.IntN(4), ids)
			all := x.FeaturesOf(x.All())
			require.Len(t, all, x.Len())
			var total affinity.Money
			feat := map[uint32]segment.Features{}
			for i, c := range x.All().ToArray() {
				total += all[i].Monetary
				feat[c] = all[i]
			}
			if total <= 0 && x.Len() > 0 {
				negativeShops++
			}
			cells := x.CrossTab(rows, cols)
			require.Len(t, cells, len(rows))
			for i, r := range rows {
				require.Len(t, cells[i], len(cols))
				for j, c := range cols {
					var want segment.Stats
					for id, f := range feat {
						if r != nil && c != nil && r.Contains(id) && c.Contains(id) {
							want.Customers++
							want.Revenue += f.Monetary
							want.Orders += int64(f.Frequency)
						}
					}
					got := cells[i][j]
					msg := fmt.Sprintf("seed %d %s cell %d,%d", seed, name, i, j)
					assert.Empty(t, got.Name, msg)
					assert.Equal(t, want.Customers, got.Customers, msg)
					assert.Equal(t, want.Revenue, got.Revenue, msg)
					assert.Equal(t, want.Orders, got.Orders, msg)
					if x.Len() > 0 {
						assert.InDelta(t, float64(want.Customers)/float64(x.Len()), got.Share, 1e-12, msg)
					}
					if total > 0 {
						assert.InDelta(t, want.Revenue.Float()/total.Float(), got.RevenueShare, 1e-12, msg)
					} else {
						assert.Zero(t, got.RevenueShare, "%s: shop revenue %v ≤ 0", msg, total)
					}
					if want.Orders == 0 {
						assert.Zero(t, got.AOV, msg)
					} else {
						exact := float64(want.Revenue) / float64(want.Orders)
						assert.LessOrEqual(t, math.Abs(float64(got.AOV)-exact), 0.5, "%s: AOV %v of %v/%d", msg, got.AOV, want.Revenue, want.Orders)
					}
				}
			}
		}
	}
}

// TestTrnOverlapNaive: Overlap against counted intersections of random
// sets with nil and empty members and ids up to the end of the uint32
// range; the matrix is symmetric with the sizes on the diagonal.
func TestTrnOverlapNaive(t *testing.T) {
	assert.Empty(t, segment.Overlap(nil))
	assert.Equal(t, [][]uint64{{0}}, segment.Overlap([]*roaring.Bitmap{nil}))
	rng := rand.New(rand.NewPCG(5, 0x0f))
	for range 40 {
		sets := trnSets(rng, rng.IntN(6), 40)
		if len(sets) > 1 && rng.IntN(2) == 0 {
			sets[len(sets)-1] = sets[0] // the same bitmap twice
		}
		m := segment.Overlap(sets)
		require.Len(t, m, len(sets))
		for i := range sets {
			require.Len(t, m[i], len(sets))
			for j := range sets {
				var n uint64
				if sets[i] != nil && sets[j] != nil {
					for _, c := range sets[i].ToArray() {
						if sets[j].Contains(c) {
							n++
						}
					}
				}
				assert.Equal(t, n, m[i][j], "%d,%d", i, j)
			}
		}
	}
}

// TestTrnErrors: Transition and Transitions report a segment one index
// does not define, and indexes of different customers, as errors.
func TestTrnErrors(t *testing.T) {
	w := trnBuild(t, 7, false, false)
	d, err := w.x1.Define("vip", segment.Lifecycle("loyal"))
	require.NoError(t, err)
	_, err = segment.Transition(d, w.x2, segment.Segment("vip"), segment.Segment("vip"))
	require.ErrorIs(t, err, segment.ErrUnknown, "to does not define vip")
	got, err := segment.Transition(d, w.x2, segment.Segment("vip"), segment.All())
	require.NoError(t, err, "each side evaluates its own expression")
	want, err := d.Eval(segment.Segment("vip"))
	require.NoError(t, err)
	assert.Equal(t, roaring.And(want, w.x2.All()).ToArray(), got.ToArray())
	_, err = segment.Transitions(w.x2, d, nil, []segment.Expr{segment.Segment("vip")})
	require.NoError(t, err)
	_, err = segment.Transitions(w.x2, d, []segment.Expr{segment.Segment("vip")}, nil)
	require.ErrorIs(t, err, segment.ErrUnknown)
	assert.NotPanics(t, func() { _, _ = segment.Transition(w.x1, w.x2, nil, segment.All()) })
}
