package similarity_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// srShop is a hand-drawn shop (advShop's records) with its as-of time.
type srShop struct {
	advShop
	asOf time.Time
}

var srZones = []*time.Location{time.UTC, time.FixedZone("east", 9*3600+1800), time.FixedZone("west", -7*3600)}

// srDraw draws a small shop full of edge cases: empty order ids (one
// order per customer and second), anonymous orders, repeated products in
// an order, returns, orders of returns only, lines of an order at
// different times, orders exactly at the as-of time, at the look-back
// start and one second around them, customers with one order or events
// only, and times in several zones.
func srDraw(rng *rand.Rand) srShop {
	s := srShop{asOf: time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)}
	np := 3 + rng.IntN(6)
	for p := range np {
		s.products = append(s.products, fmt.Sprintf("p%d", p))
	}
	start := testdata.MonthsBefore(s.asOf, 1) // 2024-02-29 12:00
	special := []time.Time{s.asOf, s.asOf.Add(-time.Second), s.asOf.Add(time.Second), start, start.Add(time.Second), start.Add(-time.Second),
		s.asOf.Add(-24 * time.Hour), s.asOf.Add(-10 * 24 * time.Hour)}
	when := func() time.Time {
		var t time.Time
		if rng.IntN(3) == 0 {
			t = special[rng.IntN(len(special))]
		} else {
			t = s.asOf.Add(-time.Duration(rng.IntN(50*24)) * time.Hour / 2)
		}
		return t.In(srZones[rng.IntN(len(srZones))])
	}
	nc := 1 + rng.IntN(5)
	for o := range rng.IntN(14) {
		cust := fmt.Sprintf("c%d", rng.IntN(nc))
		if rng.IntN(4) == 0 {
			cust = ""
		}
		key := fmt.Sprintf("o%d", o)
		if rng.IntN(3) == 0 {
			key = "" // one order per customer and second
		}
		at := when()
		for range 1 + rng.IntN(5) {
			lt := at
			if key != "" && rng.IntN(3) == 0 {
				lt = at.Add(time.Duration(rng.IntN(3)) * time.Second) // the order's time is its earliest line's
			}
			q := int32(1 + rng.IntN(2))
			if rng.IntN(5) == 0 {
				q = -q
			}
			s.lines = append(s.lines, advLine{cust, key, s.products[rng.IntN(np)], lt, q})
		}
	}
	kinds := []affinity.EventKind{affinity.View, affinity.Cart, affinity.Rating, affinity.Wishlist}
	for range rng.IntN(8) {
		s.events = append(s.events, advEvent{fmt.Sprintf("c%d", rng.IntN(nc+1)), s.products[rng.IntN(np)], when(), kinds[rng.IntN(len(kinds))]})
	}
	rng.Shuffle(len(s.lines), func(i, j int) { s.lines[i], s.lines[j] = s.lines[j], s.lines[i] })
	return s
}

// naive counts s as the documentation describes (advNaiveCount), with
// the events of opts.EventKinds only.
func (s srShop) naive(asOf time.Time, opts similarity.CountOptions) advCounts {
	shop := s.advShop
	if len(opts.EventKinds) > 0 {
		shop.events = slices.DeleteFunc(slices.Clone(shop.events), func(e advEvent) bool { return !slices.Contains(opts.EventKinds, e.kind) })
	}
	return advNaiveCount(shop, asOf, opts)
}

// refTransactions lists the shop as Partial.Add takes it: one
// Transaction per customer, one per anonymous order, every line its own
// TxOrder (Add merges the lines of one order).
func (s srShop) refTransactions(cat *affinity.Catalog) []similarity.Transaction {
	byCust := map[string]*similarity.Transaction{}
	var out []*similarity.Transaction
	anon := map[string]*similarity.Transaction{}
	for _, l := range s.lines {
		var ps []affinity.ProductID
		if l.qty > 0 {
			p, _ := cat.LookupProduct(l.prod)
			ps = append(ps, p)
		}
		o := similarity.TxOrder{Key: l.order, Unix: l.at.Unix(), Products: ps}
		var tx *similarity.Transaction
		if l.cust == "" {
			k := l.order
			if k == "" {
				k = fmt.Sprint(l.at.Unix())
			}
			tx = anon[k]
			if tx == nil {
				tx = &similarity.Transaction{}
				anon[k] = tx
				out = append(out, tx)
			}
		} else {
			tx = byCust[l.cust]
			if tx == nil {
				tx = &similarity.Transaction{Customer: l.cust}
				byCust[l.cust] = tx
				out = append(out, tx)
			}
		}
		tx.Orders = append(tx.Orders, o)
	}
	r := make([]similarity.Transaction, len(out))
	for i, tx := range out {
		r[i] = *tx
	}
	return r
}

// TestScopeCountsMatchReference checks Count in every scope, with and
// without events, look-backs and windows, on hand-drawn shops full of
// edge cases, against counts by the documented definitions; the result
// must not depend on the workers, and Partials (whole and sharded) and
// NewIndex on every count measure must agree.
func TestScopeCountsMatchReference(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(70, 1))
	lookbacks := []affinity.Lookback{{}, affinity.AllTime, affinity.Months(1), affinity.Days(10), {Months: 1, Duration: time.Hour}}
	windows := []time.Duration{0, time.Second, 2 * time.Second, 24 * time.Hour}
	for round := range testdata.Scale(600, 150) {
		s := srDraw(rng)
		h := s.history(t, nil)
		cat := h.Catalog()
		asOf := s.asOf.In(srZones[round%len(srZones)])
		if round%5 == 0 {
			asOf = asOf.Add(500 * time.Millisecond)
		}
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			lb := lookbacks[rng.IntN(len(lookbacks))]
			w := windows[rng.IntN(len(windows))]
			opts := similarity.CountOptions{Scope: scope, Lookback: lb, Window: w, MaxBasket: -1, Workers: 1 + rng.IntN(3)}
			if scope != similarity.Basket && rng.IntN(2) == 0 {
				opts.Events = true
				if rng.IntN(2) == 0 {
					opts.EventKinds = []affinity.EventKind{affinity.View, affinity.Rating}
				}
			}
			want := s.naive(asOf, opts)
			msg := fmt.Sprintf("round %d %v %+v", round, scope, opts)
			c, err := similarity.Count(ctx, h, asOf, opts)
			require.NoError(t, err, msg)
			advRequireCounts(t, want, c, cat, msg)

			if !opts.Events {
				p, err := similarity.NewPartial(asOf, opts)
				require.NoError(t, err)
				for _, tx := range s.refTransactions(cat) {
					require.NoError(t, p.Add(tx))
				}
				pc, err := p.Counts(cat.NumProducts())
				require.NoError(t, err)
				advRequireCounts(t, want, pc, cat, msg+" partial")

				// a capped sample: Partial and Count agree, and every
				// transaction keeps at most MaxBasket products
				capped := opts
				capped.MaxBasket = 1 + rng.IntN(3)
				cc, err := similarity.Count(ctx, h, asOf, capped)
				require.NoError(t, err)
				cp, err := similarity.NewPartial(asOf, capped)
				require.NoError(t, err)
				for _, tx := range s.refTransactions(cat) {
					require.NoError(t, cp.Add(tx))
				}
				cpc, err := cp.Counts(cat.NumProducts())
				require.NoError(t, err)
				require.Equal(t, want.n, cc.Total(), msg)
				require.Equal(t, cc.Total(), cpc.Total(), msg)
				for a := range cat.NumProducts() {
					require.Equal(t, cc.Support(affinity.ProductID(a)), cpc.Support(affinity.ProductID(a)), "%s capped support %d", msg, a)
					require.LessOrEqual(t, cc.Support(affinity.ProductID(a)), want.support[cat.ProductKey(affinity.ProductID(a))])
					cols, vals := cc.Row(affinity.ProductID(a))
					pcols, pvals := cpc.Row(affinity.ProductID(a))
					require.Equal(t, cols, pcols, "%s capped row %d", msg, a)
					require.Equal(t, vals, pvals, "%s capped row %d", msg, a)
				}
				sum := 0
				for a := range cat.NumProducts() {
					sum += cc.Support(affinity.ProductID(a))
				}
				require.LessOrEqual(t, sum, capped.MaxBasket*cc.Total(), msg)
			}

			io := similarity.IndexOptions{Measure: similarity.Measure(rng.IntN(int(similarity.Overlap) + 1)), K: 1 + rng.IntN(4), MinSupport: 1 + rng.IntN(2), Workers: 1 + rng.IntN(3)}
			if rng.IntN(3) == 0 {
				io.Shrinkage = 1
			}
			x, err := similarity.NewIndex(ctx, c, io)
			require.NoError(t, err)
			for a := range cat.NumProducts() {
				var row []similarity.Neighbor
				ka := cat.ProductKey(affinity.ProductID(a))
				for b := range cat.NumProducts() {
					kb := cat.ProductKey(affinity.ProductID(b))
					ab := want.pair[[2]string{ka, kb}]
					if a == b || ab < io.MinSupport {
						continue
					}
					pc := similarity.PairCount{N: want.n, A: want.support[ka], B: want.support[kb], AB: ab}
					v := similarity.Shrink(io.Measure.Score(pc), ab, io.Shrinkage)
					row = append(row, similarity.Neighbor{Product: affinity.ProductID(b), Score: toF32(v), Count: uint32(ab)})
				}
				slices.SortFunc(row, func(x, y similarity.Neighbor) int {
					return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
				})
				row = row[:min(len(row), io.K)]
				got := x.Neighbors(affinity.ProductID(a))
				if len(row) == 0 {
					require.Empty(t, got, "%s %+v row %d", msg, io, a)
					continue
				}
				require.Equal(t, row, got, "%s %+v row %d", msg, io, a)
			}
		}
	}
}

// TestScopeRecountMatchesReference refreshes hand-drawn shops with more
// such lines (empty order ids, anonymous orders, lines joining an
// existing order, returns, new products, times in several zones) on
// a base History, and checks Recount and Reindex against the reference
// counts of the whole shop and NewIndex.
func TestScopeRecountMatchesReference(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(70, 2))
	for round := range testdata.Scale(300, 80) {
		s := srDraw(rng)
		h := s.history(t, nil)
		asOf := s.asOf.In(srZones[round%len(srZones)])
		opts := similarity.CountOptions{MaxBasket: -1, Workers: 1 + rng.IntN(2)}
		if rng.IntN(2) == 0 {
			opts.Lookback = affinity.Months(1)
		}
		io := similarity.IndexOptions{Measure: similarity.Measure(rng.IntN(int(similarity.Overlap) + 1)), K: 1 + rng.IntN(3), MinSupport: 1}
		c, err := similarity.Count(ctx, h, asOf, opts)
		require.NoError(t, err)
		x, err := similarity.NewIndex(ctx, c, io)
		require.NoError(t, err)
		bm := similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1}
		for step := range 3 {
			if rng.IntN(2) == 0 {
				_, err := similarity.NewIndex(ctx, c, bm) // asks for the transactions
				require.NoError(t, err)
			}
			more := srDraw(rng)
			more.products = append(more.products, "new")
			nb := affinity.NewBuilder(h)
			require.NoError(t, nb.AddProduct(affinity.Product{Key: "new", Name: "new", InStock: true}))
			for _, l := range more.lines[:len(more.lines)/2] {
				if rng.IntN(4) == 0 {
					l.prod = "new"
				}
				if rng.IntN(3) == 0 && len(s.lines) > 0 {
					// a line of an order already there
					o := s.lines[rng.IntN(len(s.lines))]
					l.cust, l.order, l.at = o.cust, o.order, o.at.Add(time.Duration(rng.IntN(3)-1)*time.Second)
				}
				s.lines = append(s.lines, l)
				require.NoError(t, nb.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: l.at, Quantity: l.qty, Price: 100}))
			}
			if !slices.Contains(s.products, "new") {
				s.products = append(s.products, "new")
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			asOf2 := asOf
			if rng.IntN(2) == 0 {
				asOf2 = asOf.Add(time.Duration(rng.IntN(3)) * 24 * time.Hour)
			}
			c2, err := similarity.Recount(ctx, c, h, h2, asOf2, opts)
			require.NoError(t, err)
			msg := fmt.Sprintf("round %d step %d", round, step)
			advRequireCounts(t, s.naive(asOf2, opts), c2, h2.Catalog(), msg)
			x2, err := similarity.Reindex(ctx, x, c, c2, io)
			require.NoError(t, err)
			want, err := similarity.NewIndex(ctx, c2, io)
			require.NoError(t, err)
			for a := range h2.Catalog().NumProducts() {
				require.Equal(t, want.Neighbors(affinity.ProductID(a)), x2.Neighbors(affinity.ProductID(a)), "%s row %d", msg, a)
			}
			// the transactions the recount keeps or collects are Count's
			fresh, err := similarity.Count(ctx, h2, asOf2, opts)
			require.NoError(t, err)
			wantBM, err := similarity.NewIndex(ctx, fresh, bm)
			require.NoError(t, err)
			gotBM, err := similarity.NewIndex(ctx, c2, bm)
			require.NoError(t, err)
			for a := range h2.Catalog().NumProducts() {
				require.Equal(t, wantBM.Neighbors(affinity.ProductID(a)), gotBM.Neighbors(affinity.ProductID(a)), "%s BM25 row %d", msg, a)
			}
			h, c, x, asOf = h2, c2, x2, asOf2
		}
	}
}

// TestScopeEASEMatchesReference fits EASE, dense and sparse without
// dropping, on hand-drawn shops and checks every weight against the
// closed form on the reference counts, inverted by gonum.
func TestScopeEASEMatchesReference(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(70, 3))
	for round := range testdata.Scale(300, 60) {
		s := srDraw(rng)
		h := s.history(t, nil)
		cat := h.Catalog()
		scope := similarity.Scope(rng.IntN(2))
		co := similarity.CountOptions{Scope: scope, MaxBasket: -1, Workers: 1 + rng.IntN(3)}
		if rng.IntN(2) == 0 {
			co.Lookback = affinity.Days(10)
		}
		lambda := []float64{0.5, 1, 10}[rng.IntN(3)]
		ref := s.naive(s.asOf, co)
		var fitted []string // products with a purchase, by id
		for p := range cat.NumProducts() {
			if ref.support[cat.ProductKey(affinity.ProductID(p))] > 0 {
				fitted = append(fitted, cat.ProductKey(affinity.ProductID(p)))
			}
		}
		m := len(fitted)
		want := map[[2]string]float64{}
		if m > 0 {
			w := naiveEASE(t, bruteCounts(ref), fitted, lambda)
			for i, a := range fitted {
				for j, b := range fitted {
					if i != j {
						want[[2]string{a, b}] = w.At(i, j)
					}
				}
			}
		}
		msg := fmt.Sprintf("round %d %v λ %v", round, scope, lambda)
		for _, solver := range []similarity.EASESolver{similarity.EASEDense, similarity.EASESparse} {
			x, err := similarity.FitEASE(ctx, h, s.asOf, similarity.EASEOptions{Count: co, Lambda: lambda, K: -1, Solver: solver,
				Sparse: similarity.SparseEASEOptions{Fill: -1, Tolerance: -1, Candidates: -1}})
			require.NoError(t, err, msg)
			for a := range cat.NumProducts() {
				ka := cat.ProductKey(affinity.ProductID(a))
				row := x.Neighbors(affinity.ProductID(a))
				require.True(t, slices.IsSortedFunc(row, func(x, y similarity.Neighbor) int {
					return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
				}), "%s %v row %s sorted", msg, solver, ka)
				got := map[string]similarity.Neighbor{}
				for _, nb := range row {
					got[cat.ProductKey(nb.Product)] = nb
				}
				for _, kb := range fitted {
					w, ok := want[[2]string{ka, kb}]
					if !ok {
						continue
					}
					nb, have := got[kb]
					ab := ref.pair[[2]string{ka, kb}]
					if solver == similarity.EASESparse && ab == 0 {
						require.False(t, have, "%s sparse: %s %s never together", msg, ka, kb)
						continue
					}
					if math.Abs(w) < 1e-9 { // zero but for rounding
						continue
					}
					require.True(t, have, "%s %v: %s → %s (%v) missing", msg, solver, ka, kb, w)
					require.InDelta(t, w, float64(nb.Score), 1e-5*max(1, math.Abs(w)), "%s %v: %s → %s", msg, solver, ka, kb)
					require.Equal(t, uint32(ab), nb.Count, "%s %v: %s → %s co-count", msg, solver, ka, kb)
				}
			}
		}
	}
}
