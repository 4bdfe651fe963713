package recommend_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// scrLine is one purchase line of a generated world, kept for the naive
// scorer.
type scrLine struct {
	cust string
	prod affinity.ProductID
	t    time.Time
	qty  int
}

// scrEvent is one event of a generated world (weight 1).
type scrEvent struct {
	cust string
	prod affinity.ProductID
	t    time.Time
	kind affinity.EventKind
}

type scrWorld struct {
	h      *affinity.History
	nb     *similarity.Index
	lines  []scrLine
	events []scrEvent
	np     int
	cust   []string
}

var scrCats = []string{"A/a1", "A/a2", "B/b1", "B/b2", "C/c1"}

// scrGen generates a small world: np products with one category each (a
// few without), one in six out of stock, nc customers with one to four
// orders over 120 days (quantities 1–3, occasional returns), a few
// anonymous orders; with events, views and carts of some customers. The
// index is cosine within orders, every pair seen together kept.
func scrGen(t testing.TB, seed uint64, np, nc int, events bool) *scrWorld {
	t.Helper()
	return scrGenQ(t, seed, np, nc, events, false)
}

// scrGenQ is scrGen with every bought quantity 1 when unit is set (the
// same world otherwise).
func scrGenQ(t testing.TB, seed uint64, np, nc int, events, unit bool) *scrWorld {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x5c0e))
	var b affinity.Builder
	for p := range np {
		var cats []string
		if r.IntN(8) != 0 {
			cats = []string{scrCats[r.IntN(len(scrCats))]}
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%02d", p), Categories: cats,
			Price: affinity.Money(1+r.IntN(30)) * 10000, InStock: r.IntN(6) != 0}))
	}
	w := &scrWorld{np: np}
	add := func(c, o string, tm time.Time, p, q int) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: fmt.Sprintf("p%02d", p), Order: o, Time: tm, Quantity: int32(q), Price: 10000}))
		if c != "" {
			w.lines = append(w.lines, scrLine{c, affinity.ProductID(p), tm, q})
		}
	}
	// skewed popularity, so that lifts below and above 1 both occur
	pick := func() int { return r.IntN(r.IntN(np) + 1) }
	for c := range nc {
		ck := fmt.Sprintf("c%02d", c)
		w.cust = append(w.cust, ck)
		var bought []int
		for o := range 1 + r.IntN(4) {
			tm := day(r.IntN(120)).Add(time.Duration(r.IntN(24*60)) * time.Minute)
			seen := map[int]bool{}
			for range 1 + r.IntN(4) {
				p := pick()
				if seen[p] {
					continue
				}
				seen[p] = true
				bought = append(bought, p)
				q := 1 + r.IntN(3)
				if unit {
					q = 1
				}
				add(ck, fmt.Sprintf("%s-%d", ck, o), tm, p, q)
			}
		}
		if r.IntN(5) == 0 {
			add(ck, ck+"-ret", day(121), bought[r.IntN(len(bought))], -1)
		}
		for range r.IntN(3) {
			if !events {
				break
			}
			ev := scrEvent{ck, affinity.ProductID(r.IntN(np)), day(r.IntN(120)).Add(time.Hour), []affinity.EventKind{affinity.View, affinity.Cart}[r.IntN(2)]}
			require.NoError(t, b.AddEvent(affinity.Event{Customer: ck, Product: fmt.Sprintf("p%02d", ev.prod), Time: ev.t, Kind: ev.kind, Weight: 1}))
			w.events = append(w.events, ev)
		}
	}
	for o := range 6 {
		tm := day(r.IntN(120))
		add("", fmt.Sprintf("anon%d", o), tm, pick(), 1)
		add("", fmt.Sprintf("anon%d", o), tm, pick(), 1)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	nb, err := index(context.Background(), h, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1, K: 100})
	require.NoError(t, err)
	w.h, w.nb = h, nb
	return w
}

func (w *scrWorld) engine(t testing.TB, o recommend.Options) *recommend.Engine {
	t.Helper()
	e, err := recommend.New(context.Background(), w.h, w.nb, w.h.Latest(), o)
	require.NoError(t, err)
	return e
}

// scrOpts are the options the naive scorer reads, spelled out with their
// documented defaults applied.
type scrOpts struct {
	halfLife   time.Duration
	rho        float64 // ≤ 0: no prior
	liftExp    float64
	penalty    float64 // < 0: substitute edges dropped
	subDepth   int
	maxHistory int
	exclude    map[affinity.ProductID]bool
}

// scrScore is the naive model of one customer request, from doc.go's
// Scoring section: anchor weights, the raw co-purchase score s(c), and for
// each candidate the anchors' contributions weight(a)·edge(a, c).
type scrScore struct {
	weight  map[affinity.ProductID]float64
	bought  map[affinity.ProductID]bool
	s       map[affinity.ProductID]float64
	contrib map[affinity.ProductID]map[affinity.ProductID]float64
}

// scrLift is the lift of (a, c) from the index's counts: AB·N/(A·C).
func scrLift(nb *similarity.Index, a affinity.ProductID, n similarity.Neighbor) float64 {
	return float64(n.Count) * float64(nb.Total()) / (float64(nb.Support(a)) * float64(nb.Support(n.Product)))
}

func scrSubstitutes(cat *affinity.Catalog, a, c affinity.ProductID, depth int) bool {
	for _, x := range cat.Categories(a) {
		for _, y := range cat.Categories(c) {
			if depth > 0 {
				x, y = cat.Ancestor(x, depth), cat.Ancestor(y, depth)
			}
			if x == y {
				return true
			}
		}
	}
	return false
}

// scrNaive scores the request of cust as of asOf, with a basket of
// distinct products the customer has not bought (weight max(1, H/n)).
func scrNaive(w *scrWorld, cust string, asOf time.Time, basket []affinity.ProductID, o scrOpts) scrScore {
	cat := w.h.Catalog()
	sc := scrScore{weight: map[affinity.ProductID]float64{}, bought: map[affinity.ProductID]bool{},
		s: map[affinity.ProductID]float64{}, contrib: map[affinity.ProductID]map[affinity.ProductID]float64{}}
	last := map[affinity.ProductID]time.Time{}
	decay := func(tm time.Time) float64 { return math.Exp2(-asOf.Sub(tm).Hours() / o.halfLife.Hours()) }
	for _, l := range w.lines {
		if l.cust != cust || l.qty <= 0 || l.t.After(asOf) {
			continue
		}
		sc.bought[l.prod] = true
		if o.exclude[l.prod] {
			continue
		}
		sc.weight[l.prod] += decay(l.t)
		if l.t.After(last[l.prod]) {
			last[l.prod] = l.t
		}
	}
	for _, ev := range w.events {
		if ev.cust != cust || ev.t.After(asOf) || o.exclude[ev.prod] {
			continue
		}
		kw := recommend.DefaultViewWeight
		if ev.kind == affinity.Cart {
			kw = recommend.DefaultCartWeight
		}
		sc.weight[ev.prod] += kw * decay(ev.t)
		if ev.t.After(last[ev.prod]) {
			last[ev.prod] = ev.t
		}
	}
	if o.maxHistory > 0 && len(sc.weight) > o.maxHistory {
		ps := slices.Collect(func(yield func(affinity.ProductID) bool) {
			for p := range sc.weight {
				if !yield(p) {
					return
				}
			}
		})
		slices.SortFunc(ps, func(a, b affinity.ProductID) int { return last[b].Compare(last[a]) })
		for _, p := range ps[o.maxHistory:] {
			delete(sc.weight, p)
		}
	}
	// Options.Exclude: never anchors, so no part of the basket either
	basket = slices.DeleteFunc(slices.Clone(basket), func(p affinity.ProductID) bool { return o.exclude[p] })
	if len(basket) > 0 {
		hw := 0.0
		for _, x := range sc.weight {
			hw += x
		}
		for _, p := range basket {
			sc.weight[p] += max(1, hw/float64(len(basket)))
		}
	}
	for a, wa := range sc.weight {
		for _, n := range w.nb.Neighbors(a) {
			edge := float64(n.Score)
			if o.liftExp != 0 {
				edge *= math.Pow(min(max(scrLift(w.nb, a, n), 1.0/16), 16), o.liftExp)
			}
			if scrSubstitutes(cat, a, n.Product, o.subDepth) {
				if o.penalty < 0 {
					continue
				}
				edge *= o.penalty
			}
			if sc.contrib[n.Product] == nil {
				sc.contrib[n.Product] = map[affinity.ProductID]float64{}
			}
			sc.contrib[n.Product][a] += wa * edge
			sc.s[n.Product] += wa * edge
		}
	}
	for c := range sc.s {
		if o.rho > 0 {
			sc.s[c] *= math.Pow(1+float64(w.nb.Support(c)), o.rho)
		}
	}
	return sc
}

// scrEligible: in stock, not excluded, not bought, not in the basket, no
// substitute of a basket product (Rules zero value).
func scrEligible(w *scrWorld, e *recommend.Engine, sc scrScore, basket []affinity.ProductID, o scrOpts, p affinity.ProductID) bool {
	if !e.InStock(p) || o.exclude[p] || sc.bought[p] || slices.Contains(basket, p) {
		return false
	}
	for _, b := range basket {
		if !o.exclude[b] && scrSubstitutes(w.h.Catalog(), b, p, o.subDepth) {
			return false
		}
	}
	return true
}

// scrAbove reports whether the pair (a, c) is bought together at least as
// often as chance: lift = AB·N/(A·C) ≥ 1, in integers.
func scrAbove(nb *similarity.Index, a affinity.ProductID, c affinity.ProductID) bool {
	for _, n := range nb.Neighbors(a) {
		if n.Product == c {
			return uint64(n.Count)*uint64(nb.Total()) >= uint64(nb.Support(a))*uint64(nb.Support(c))
		}
	}
	return false
}

func scrNeighbor(nb *similarity.Index, a, c affinity.ProductID) similarity.Neighbor {
	for _, n := range nb.Neighbors(a) {
		if n.Product == c {
			return n
		}
	}
	return similarity.Neighbor{}
}

// scrPopular is the shop's popularity score of every product, as the
// fallback states it: an anonymous request for everything.
func scrPopular(t testing.TB, e *recommend.Engine) map[affinity.ProductID]float64 {
	recs, err := e.Recommend(nil, recommend.Request{K: recommend.MaxK, Rules: recommend.Rules{IncludeOutOfStock: true}})
	require.NoError(t, err)
	pop := map[affinity.ProductID]float64{}
	for _, r := range recs {
		pop[r.Product] = r.Score
	}
	return pop
}

// scrCheck compares one customer request (every product wanted) with the
// naive model: the co-purchase candidates first, in the order of s(c);
// Neighbors scored s(c)/max s over the eligible candidates with the
// anchors of most contribution above chance as reasons; candidates
// without such evidence labelled Popular with their popularity score; then
// the fallbacks, without reasons.
func scrCheck(t *testing.T, w *scrWorld, e *recommend.Engine, pop map[affinity.ProductID]float64, req recommend.Request, o scrOpts) {
	t.Helper()
	recs, err := e.Recommend(nil, req)
	require.NoError(t, err)
	scrCheckRecs(t, w, e, pop, req, o, recs)
}

func scrCheckRecs(t *testing.T, w *scrWorld, e *recommend.Engine, pop map[affinity.ProductID]float64, req recommend.Request, o scrOpts, recs []recommend.Rec) {
	t.Helper()
	asOf := req.AsOf
	if asOf.IsZero() {
		asOf = e.AsOf()
	}
	var basket []affinity.ProductID
	for _, k := range req.Basket {
		p, _ := w.h.Catalog().LookupProduct(k)
		basket = append(basket, p)
	}
	sc := scrNaive(w, req.Customer, asOf, basket, o)
	var want []affinity.ProductID
	maxS := 0.0
	for p, s := range sc.s {
		if s > 0 && scrEligible(w, e, sc, basket, o, p) {
			want = append(want, p)
			maxS = max(maxS, s)
		}
	}
	slices.SortFunc(want, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(sc.s[b], sc.s[a]), cmp.Compare(a, b)) })
	require.GreaterOrEqual(t, len(recs), len(want), "every co-purchase candidate comes back")
	got := make([]affinity.ProductID, len(want))
	for i := range want {
		got[i] = recs[i].Product
	}
	require.ElementsMatch(t, want, got, "the co-purchase candidates lead (naive order %v)", want)
	const tol = 1e-5
	for i, r := range recs[:len(want)] {
		s := sc.s[r.Product]
		if i > 0 {
			if prev := sc.s[recs[i-1].Product]; !(prev*(1+tol) >= s) { // assert only on a failure: it costs more than the check
				assert.GreaterOrEqual(t, prev*(1+tol), s, "order at %d: %v (s=%v) before %v (s=%v)", i, recs[i-1].Product, prev, r.Product, s)
			}
		}
		// the evidence above chance, strongest first
		var ev []affinity.ProductID
		for a, c := range sc.contrib[r.Product] {
			if c > 0 && scrAbove(w.nb, a, r.Product) {
				ev = append(ev, a)
			}
		}
		con := sc.contrib[r.Product]
		slices.SortFunc(ev, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(con[b], con[a]), cmp.Compare(a, b)) })
		if len(ev) == 0 {
			assert.Equal(t, recommend.Popular, r.Source, "%v: no evidence above chance", r.Product)
			assert.Empty(t, r.Reasons())
			assert.InDelta(t, pop[r.Product], r.Score, 1e-9, "%v: a Popular result has its popularity score", r.Product)
			continue
		}
		assert.Equal(t, recommend.Neighbors, r.Source, "%v has evidence %v", r.Product, ev)
		assert.InDelta(t, s/maxS, r.Score, 1e-4, "%v: score s/max s", r.Product)
		rs := r.Reasons()
		require.Len(t, rs, min(len(ev), recommend.MaxReasons), "%v: reasons %+v, evidence %v", r.Product, rs, ev)
		for j, x := range rs {
			// plain comparisons first, the assertions only when one
			// fails: their bookkeeping costs more than the checks
			n := scrNeighbor(w.nb, x.Product, r.Product)
			lift := scrLift(w.nb, x.Product, n)
			if x.Kind == recommend.Together && slices.Contains(ev, x.Product) &&
				(j == 0 || con[rs[j-1].Product]*(1+tol) >= con[x.Product]) &&
				(j != len(rs)-1 || len(ev) <= len(rs) || con[x.Product]*(1+tol) >= con[ev[len(rs)]]) &&
				n.Count == x.Count && n.Score == x.Measure && math.Abs(lift-float64(x.Lift)) <= 1e-4 && x.Lift >= 1 {
				continue
			}
			assert.Equal(t, recommend.Together, x.Kind)
			assert.Contains(t, ev, x.Product, "%v: reason %v is evidence", r.Product, x.Product)
			if j > 0 {
				assert.GreaterOrEqual(t, con[rs[j-1].Product]*(1+tol), con[x.Product], "%v: reasons strongest first", r.Product)
			}
			// no stronger evidence left out
			if j == len(rs)-1 && len(ev) > len(rs) {
				assert.GreaterOrEqual(t, con[x.Product]*(1+tol), con[ev[len(rs)]], "%v: evidence %v stronger than reason %v", r.Product, ev[len(rs)], x.Product)
			}
			assert.Equal(t, n.Count, x.Count)
			assert.Equal(t, n.Score, x.Measure)
			assert.InDelta(t, lift, float64(x.Lift), 1e-4)
			assert.GreaterOrEqual(t, x.Lift, float32(1))
		}
	}
	for _, r := range recs[len(want):] {
		eligible := scrEligible(w, e, sc, basket, o, r.Product)
		if r.Source.Fallback() && len(r.Reasons()) == 0 && eligible && sc.s[r.Product] == 0 {
			continue // what the assertions below would pass, without their cost
		}
		assert.True(t, r.Source.Fallback(), "%v (%v) after the co-purchase candidates", r.Product, r.Source)
		assert.Empty(t, r.Reasons())
		assert.True(t, eligible, "fallback %v not eligible", r.Product)
		assert.Zero(t, sc.s[r.Product], "fallback %v has co-purchase score", r.Product)
	}
}

// TestScrCustomerMatchesNaive compares customer requests (purchases,
// views and carts, at several as-of times, with and without a cart) with
// a naive scorer written from doc.go's formulas, under option variants:
// half-life, popularity prior, lift tilt, substitute penalty, exclusions.
// Personalisation is off (it needs the buyer profiles) and the edge budget
// unbounded.
func TestScrCustomerMatchesNaive(t *testing.T) {
	day30 := 30 * 24 * time.Hour
	variants := []struct {
		name string
		o    recommend.Options
		n    scrOpts
	}{
		{"defaults", recommend.Options{}, scrOpts{halfLife: day30, rho: 0.25, penalty: 1}},
		{"no prior, 7 days", recommend.Options{PopularityExponent: -1, HalfLife: 7 * 24 * time.Hour}, scrOpts{halfLife: 7 * 24 * time.Hour, penalty: 1}},
		{"lift tilt, penalty", recommend.Options{LiftExponent: 0.5, SubstitutePenalty: 0.5, SubstituteDepth: 1, PopularityExponent: 1},
			scrOpts{halfLife: day30, rho: 1, liftExp: 0.5, penalty: 0.5, subDepth: 1}},
		{"drop substitutes, a year, exclusions", recommend.Options{SubstitutePenalty: -1, HalfLife: 365 * 24 * time.Hour, Exclude: roaring.BitmapOf(0, 3)},
			scrOpts{halfLife: 365 * 24 * time.Hour, rho: 0.25, penalty: -1, exclude: map[affinity.ProductID]bool{0: true, 3: true}}},
	}
	for seed := range uint64(3) {
		w := scrGen(t, seed, 14, 30, true)
		for _, v := range variants {
			o := v.o
			o.Personalization, o.MaxEdges = -1, -1
			e := w.engine(t, o)
			pop := scrPopular(t, e)
			r := rand.New(rand.NewPCG(seed, 3))
			for _, c := range w.cust {
				for i, at := range []time.Time{{}, day(45), {}} {
					req := recommend.Request{Customer: c, AsOf: at, K: recommend.MaxK}
					if i == 2 {
						// a cart of products the customer never touched, as of
						// the snapshot, when every customer has a history
						req.Basket = scrUntouched(r, w, c, 1+r.IntN(2))
					}
					t.Run(fmt.Sprintf("seed%d/%s/%s/%d%v", seed, v.name, c, i, req.Basket), func(t *testing.T) {
						scrCheck(t, w, e, pop, req, v.n)
					})
				}
			}
		}
	}
}

// scrUntouched draws up to n distinct products that customer c never
// bought, returned or had an event with.
func scrUntouched(r *rand.Rand, w *scrWorld, c string, n int) []string {
	touched := map[affinity.ProductID]bool{}
	for _, l := range w.lines {
		if l.cust == c {
			touched[l.prod] = true
		}
	}
	for _, ev := range w.events {
		if ev.cust == c {
			touched[ev.prod] = true
		}
	}
	var out []string
	for _, p := range r.Perm(w.np) {
		if len(out) < n && !touched[affinity.ProductID(p)] {
			out = append(out, fmt.Sprintf("p%02d", p))
		}
	}
	return out
}

// TestScrNextBasketMatchesNaive compares next-basket mode (propensity,
// trend and demand off) with NextBasket's formulas: rep(i) = Σ
// 2^(−age/HalfLife)·((1−γ) + γ·due(i)), due(i) = min(ρ, 1/ρ) (1 for a
// product bought once), final(i) = α·rep(i)/max rep + (1−α)·explore(i),
// explore(i) the engine's usual score s(i)/max s. Repeat results carry one
// Again reason (purchases, days since the last).
func TestScrNextBasketMatchesNaive(t *testing.T) {
	const hl = 60 * 24 * time.Hour
	for seed := range uint64(2) {
		w := scrGen(t, seed+10, 14, 30, false)
		for _, nbo := range []recommend.NextBasket{
			{RepeatWeight: 0.5},
			{RepeatWeight: 0.8, IntervalWeight: 0.5},
			{RepeatWeight: 0.3, IntervalWeight: 1},
		} {
			nbo.Propensity, nbo.Trend, nbo.Demand, nbo.HalfLife = -1, -1, -1, hl
			e := w.engine(t, recommend.Options{Personalization: -1, MaxEdges: -1, NextBasket: nbo})
			o := scrOpts{halfLife: recommend.DefaultHalfLife, rho: recommend.DefaultPopularityExponent, penalty: 1}
			for _, c := range w.cust {
				t.Run(fmt.Sprintf("seed%d/%v/%s", seed, nbo.RepeatWeight, c), func(t *testing.T) {
					scrCheckNextBasket(t, w, e, c, nbo, o)
				})
			}
		}
	}
}

func scrCheckNextBasket(t *testing.T, w *scrWorld, e *recommend.Engine, c string, nbo recommend.NextBasket, o scrOpts) {
	asOf := e.AsOf()
	sc := scrNaive(w, c, asOf, nil, o)
	// purchases per product
	times := map[affinity.ProductID][]time.Time{}
	for _, l := range w.lines {
		if l.cust == c && l.qty > 0 && !l.t.After(asOf) {
			times[l.prod] = append(times[l.prod], l.t)
		}
	}
	rep := map[affinity.ProductID]float64{}
	maxRep := 0.0
	for p, ts := range times {
		if !e.InStock(p) {
			continue
		}
		slices.SortFunc(ts, time.Time.Compare)
		due := 1.0
		if n := len(ts); n > 1 {
			mean := ts[n-1].Sub(ts[0]).Hours() / float64(n-1)
			if mean == 0 {
				t.Skip("two purchases at one time: no interval")
			}
			r := asOf.Sub(ts[n-1]).Hours() / mean
			due = min(r, 1/r)
		}
		g := nbo.IntervalWeight
		for _, tm := range ts {
			rep[p] += math.Exp2(-asOf.Sub(tm).Hours()/nbo.HalfLife.Hours()) * ((1 - g) + g*due)
		}
		maxRep = max(maxRep, rep[p])
	}
	maxS := 0.0 // the explore candidates' scale, as outside next-basket mode
	for p, s := range sc.s {
		if s > 0 && scrEligible(w, e, sc, nil, o, p) {
			maxS = max(maxS, s)
		}
	}
	a := nbo.RepeatWeight
	recs, err := e.Recommend(nil, recommend.Request{Customer: c, K: recommend.MaxK})
	require.NoError(t, err)
	// explore(i) is one function: the usual score, on the scale of the
	// best eligible explore candidate, for the customer's own products as
	// for the explore candidates ("each scaled to [0, 1]": an own product
	// with more co-purchase than every candidate scores 1)
	const tol = 1e-4
	nrep := 0
	for _, r := range recs {
		assert.True(t, r.Score >= 0 && r.Score <= 1+1e-6, "%v: score %v outside [0, 1]", r.Product, r.Score)
		switch r.Source {
		case recommend.Repeat:
			nrep++
			require.Contains(t, rep, r.Product)
			want := a * rep[r.Product] / maxRep
			if sc.s[r.Product] > 0 && maxS > 0 {
				want += (1 - a) * min(sc.s[r.Product]/maxS, 1)
			}
			assert.InDelta(t, want, r.Score, tol, "%v: α·rep/max rep + (1−α)·explore (rep %.4f/%.4f)", r.Product, rep[r.Product], maxRep)
			require.Len(t, r.Reasons(), 1)
			x := r.Reasons()[0]
			ts := times[r.Product]
			assert.Equal(t, recommend.Again, x.Kind)
			assert.Equal(t, uint32(len(ts)), x.Count)
			assert.InDelta(t, asOf.Sub(slices.MaxFunc(ts, time.Time.Compare)).Hours()/24, float64(x.Measure), 1e-3)
		case recommend.Neighbors:
			assert.InDelta(t, (1-a)*sc.s[r.Product]/maxS, r.Score, tol, "%v: (1−α)·s/max s", r.Product)
		}
	}
	assert.Equal(t, len(rep), nrep, "every bought product in stock comes back")
}

// TestScrNextBasketFillOrder: with RepeatWeight 1 the customer's own items
// come first and the list "fills with explore items" (NextBasket): the
// best explore items, in the explore ranking, not in product-id order.
func TestScrNextBasketFillOrder(t *testing.T) {
	w := scrGen(t, 10, 14, 30, false)
	e := w.engine(t, recommend.Options{Personalization: -1, MaxEdges: -1,
		NextBasket: recommend.NextBasket{RepeatWeight: 1, Propensity: -1, Trend: -1, Demand: -1}})
	o := scrOpts{halfLife: recommend.DefaultHalfLife, rho: recommend.DefaultPopularityExponent, penalty: 1}
	for _, c := range w.cust {
		sc := scrNaive(w, c, e.AsOf(), nil, o)
		recs, err := e.Recommend(nil, recommend.Request{Customer: c, K: recommend.MaxK})
		require.NoError(t, err)
		prev := math.Inf(1)
		var prevP affinity.ProductID
		for _, r := range recs {
			if r.Source == recommend.Repeat || sc.s[r.Product] == 0 {
				continue
			}
			s := sc.s[r.Product]
			assert.GreaterOrEqual(t, prev*(1+1e-5), s, "%s: explore fill %v (s=%.4f) after %v (s=%.4f)", c, r.Product, s, prevP, prev)
			prev, prevP = s, r.Product
		}
	}
}

// scrCutTied reports whether the MaxHistory most recent distinct products
// of c as of asOf are not well defined: the cut falls between products
// last bought at the same time.
func scrCutTied(w *scrWorld, c string, asOf time.Time, mh int) bool {
	last := map[affinity.ProductID]time.Time{}
	for _, l := range w.lines {
		if l.cust == c && l.qty > 0 && !l.t.After(asOf) && l.t.After(last[l.prod]) {
			last[l.prod] = l.t
		}
	}
	var ts []time.Time
	for _, tm := range last {
		ts = append(ts, tm)
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return b.Compare(a) })
	return len(ts) > mh && ts[mh-1].Equal(ts[mh])
}

// TestScrMaxHistory: only the MaxHistory most recent distinct products are
// anchors; older ones are still excluded as bought.
func TestScrMaxHistory(t *testing.T) {
	for seed := range uint64(3) {
		w := scrGen(t, seed+20, 14, 30, false)
		for _, mh := range []int{1, 2, 3} {
			e := w.engine(t, recommend.Options{Personalization: -1, MaxEdges: -1, MaxHistory: mh})
			pop := scrPopular(t, e)
			o := scrOpts{halfLife: recommend.DefaultHalfLife, rho: recommend.DefaultPopularityExponent, penalty: 1, maxHistory: mh}
			checked := 0
			for _, c := range w.cust {
				for _, at := range []time.Time{e.AsOf(), day(60)} {
					if scrCutTied(w, c, at, mh) {
						continue
					}
					checked++
					t.Run(fmt.Sprintf("seed%d/%d/%s/%v", seed, mh, c, at), func(t *testing.T) {
						scrCheck(t, w, e, pop, recommend.Request{Customer: c, AsOf: at, K: recommend.MaxK}, o)
					})
				}
			}
			assert.Greater(t, checked, 10)
		}
	}
}

// TestScrTiesByProductID: equal scores are ordered by product id (not by
// key or insertion of the evidence) — between two symmetric complements,
// a due consumable's Rebuy score 1 and the best complement's 1, and two
// equally popular fallbacks — with and without personalisation, and the
// tied complements get equal scores.
func TestScrTiesByProductID(t *testing.T) {
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "zeta", Categories: []string{"Gx/x"}, InStock: true},  // 0: a complement of anchor
		{Key: "cof", Categories: []string{"Gc/c"}, InStock: true},   // 1: the consumable
		{Key: "alpha", Categories: []string{"Gy/y"}, InStock: true}, // 2: zeta's twin
		{Key: "anchor", Categories: []string{"Ga/a"}, InStock: true},
		{Key: "pz", Categories: []string{"Gp/z"}, InStock: true},
		{Key: "pa", Categories: []string{"Gp/a"}, InStock: true},
	} {
		require.NoError(t, b.AddProduct(p))
	}
	add := func(c, o string, d int, ps ...string) {
		for _, p := range ps {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: o, Time: day(d), Quantity: 1, Price: 10000}))
		}
	}
	add("k", "k1", 0, "cof")
	add("k", "k2", 90, "anchor")
	add("u1", "u1", 10, "anchor", "zeta")
	add("v1", "v1", 10, "anchor", "alpha")
	add("u2", "u2", 20, "anchor", "zeta")
	add("v2", "v2", 20, "anchor", "alpha")
	add("w1", "w1", 30, "pz")
	add("w2", "w2", 30, "pa")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	for _, beta := range []float64{-1, 0} {
		e := tinyEngine(t, h, recommend.Options{Personalization: beta, Consumables: []recommend.Consumable{{Category: "Gc", Interval: 10 * 24 * time.Hour}}})
		recs, err := e.Recommend(nil, recommend.Request{Customer: "k", AsOf: day(100), K: 10})
		require.NoError(t, err)
		want := []string{"zeta", "cof", "alpha", "pz", "pa"}
		if beta == 0 {
			// the taste term leaves the complements below the Rebuy's 1
			want = []string{"cof", "zeta", "alpha", "pz", "pa"}
		}
		require.Equal(t, want, keys(recs), "personalization %v", beta)
		byKey := map[string]recommend.Rec{}
		for _, r := range recs {
			byKey[r.Key] = r
		}
		assert.Equal(t, byKey["zeta"].Score, byKey["alpha"].Score, "symmetric complements score the same")
		assert.LessOrEqual(t, byKey["zeta"].Score, 1.0)
		assert.Equal(t, recommend.Rebuy, byKey["cof"].Source)
		assert.InDelta(t, 1, byKey["cof"].Score, 1e-6)
		assert.Equal(t, recs[3].Score, recs[4].Score, "equally popular fallbacks")
		assert.Equal(t, recommend.Popular, recs[3].Source)
	}
}

// TestScrConsumables: a bought product of a consumable category (any
// level) whose interval has passed since its last purchase comes back as
// a Rebuy, score 1, one Again reason (purchases, days since the last),
// ahead of every complement scored below 1; the rest of the list is the
// customer request without it.
func TestScrConsumables(t *testing.T) {
	cons := []recommend.Consumable{{Category: "A", Interval: 20 * 24 * time.Hour}, {Category: "B/b1", Interval: 50 * 24 * time.Hour}}
	for seed := range uint64(3) {
		w := scrGen(t, seed+30, 14, 30, false)
		e := w.engine(t, recommend.Options{Personalization: -1, MaxEdges: -1, Consumables: cons})
		pop := scrPopular(t, e)
		cat := w.h.Catalog()
		for _, c := range w.cust {
			for _, at := range []time.Time{{}, day(70)} {
				t.Run(fmt.Sprintf("seed%d/%s/%v", seed, c, at.IsZero()), func(t *testing.T) {
					asOf := at
					if asOf.IsZero() {
						asOf = e.AsOf()
					}
					var ts = map[affinity.ProductID][]time.Time{}
					for _, l := range w.lines {
						if l.cust == c && l.qty > 0 && !l.t.After(asOf) {
							ts[l.prod] = append(ts[l.prod], l.t)
						}
					}
					due := map[affinity.ProductID]bool{}
					for p, tt := range ts {
						last := slices.MaxFunc(tt, time.Time.Compare)
						for _, cs := range cat.Categories(p) {
							path := cat.CategoryPath(cs)
							for _, x := range cons {
								if (path == x.Category || strings.HasPrefix(path, x.Category+"/")) && asOf.Sub(last) >= x.Interval && e.InStock(p) {
									due[p] = true
								}
							}
						}
					}
					req := recommend.Request{Customer: c, AsOf: at, K: recommend.MaxK}
					o := scrOpts{halfLife: recommend.DefaultHalfLife, rho: recommend.DefaultPopularityExponent, penalty: 1}
					sc := scrNaive(w, c, asOf, nil, o)
					recs, err := e.Recommend(nil, req)
					require.NoError(t, err)
					var rest []recommend.Rec
					below := false
					for _, r := range recs {
						if r.Source != recommend.Rebuy {
							// below the Rebuys' 1: a complement scored less, or a
							// fallback (a Popular result placed by its s is not one)
							below = below || (r.Source == recommend.Neighbors && r.Score < 1-1e-6) || (r.Source.Fallback() && sc.s[r.Product] == 0)
							rest = append(rest, r)
							continue
						}
						assert.True(t, due[r.Product], "%v is a Rebuy but not due", r.Product)
						assert.False(t, below, "Rebuy %v after a lower score", r.Product)
						delete(due, r.Product)
						assert.InDelta(t, 1, r.Score, 1e-9)
						require.Len(t, r.Reasons(), 1)
						x := r.Reasons()[0]
						assert.Equal(t, recommend.Again, x.Kind)
						assert.Equal(t, uint32(len(ts[r.Product])), x.Count)
						assert.InDelta(t, asOf.Sub(slices.MaxFunc(ts[r.Product], time.Time.Compare)).Hours()/24, float64(x.Measure), 1e-3)
					}
					assert.Empty(t, due, "due consumables missing")
					scrCheckRecs(t, w, e, pop, req, o, rest)
				})
			}
		}
	}
}

// TestScrRecommendAllEqualsRecommend: RecommendAll's out[c] is exactly
// (scores and reasons included) what Recommend returns for customer c with
// the same AsOf, K, Rules and Segment, whatever the number of workers.
func TestScrRecommendAllEqualsRecommend(t *testing.T) {
	w := scrGen(t, 40, 14, 30, true)
	ctx := context.Background()
	seg := roaring.BitmapOf(1, 4, 9, 16)
	reqs := []recommend.Request{
		{K: 5},
		{K: 9, AsOf: day(60), Segment: seg},
		{K: 7, Rules: recommend.Rules{AllowRepeats: true, MaxPerCategory: 2, Diversity: 0.3, Exclude: []string{"p01"}}},
		{K: 4, AsOf: day(200), Rules: recommend.Rules{IncludeOutOfStock: true, MinPrice: 50000}},
	}
	for i, o := range []recommend.Options{
		{},
		{Consumables: []recommend.Consumable{{Category: "A", Interval: 10 * 24 * time.Hour}}, Segments: []*roaring.Bitmap{seg}},
		{NextBasket: recommend.NextBasket{RepeatWeight: 0.6, IntervalWeight: 0.5}, PopularityBlend: 0.2},
	} {
		want := make([][][]recommend.Rec, len(reqs))
		for _, workers := range []int{1, 3, 0} {
			o.Workers = workers
			e := w.engine(t, o)
			for j, req := range reqs {
				all, err := e.RecommendAll(ctx, req)
				require.NoError(t, err)
				require.Len(t, all, w.h.NumCustomers())
				if workers == 1 {
					for c := range w.h.NumCustomers() {
						r := req
						r.ByID, r.CustomerID = true, affinity.CustomerID(c)
						recs, err := e.Recommend(nil, r)
						require.NoError(t, err)
						want[j] = append(want[j], recs)
					}
				}
				for c := range all {
					if !assert.Equal(t, want[j][c], all[c], "options %d, request %d, workers %d, customer %d", i, j, workers, c) {
						return
					}
				}
			}
		}
	}
}

// TestScrQuantityDoesNotWeigh: "a purchase ... weighs 2^(−age/HalfLife)":
// an order line weighs the same whatever its quantity, so a world whose
// quantities are all 1 gets the same co-purchase results (products,
// scores, reasons), personalisation on.
func TestScrQuantityDoesNotWeigh(t *testing.T) {
	for seed := range uint64(2) {
		a, b := scrGenQ(t, seed+50, 14, 30, false, false), scrGenQ(t, seed+50, 14, 30, false, true)
		ea, eb := a.engine(t, recommend.Options{}), b.engine(t, recommend.Options{})
		for _, c := range a.cust {
			ra, err := ea.Recommend(nil, recommend.Request{Customer: c, K: 10})
			require.NoError(t, err)
			rb, err := eb.Recommend(nil, recommend.Request{Customer: c, K: 10})
			require.NoError(t, err)
			co := func(recs []recommend.Rec) (out []recommend.Rec) {
				for _, r := range recs {
					if !r.Source.Fallback() {
						out = append(out, r)
					}
				}
				return out
			}
			assert.Equal(t, co(rb), co(ra), "seed %d customer %s", seed, c)
		}
	}
}

// TestScrExplain: a Neighbors result's explanation names its first
// reason's product ("bought together with <name>"), with the co-count in
// orders, and states a lift factor exactly when StatesLift says so.
func TestScrExplain(t *testing.T) {
	w := scrGen(t, 60, 14, 30, false)
	e := w.engine(t, recommend.Options{})
	cat := w.h.Catalog()
	stated, unstated := 0, 0
	for _, c := range w.cust {
		recs, err := e.Recommend(nil, recommend.Request{Customer: c, K: 10})
		require.NoError(t, err)
		for i := range recs {
			r := &recs[i]
			if r.Source != recommend.Neighbors {
				continue
			}
			var x recommend.Reason
			for _, y := range r.Reasons() {
				if y.Kind == recommend.Together {
					x = y
					break
				}
			}
			if x.Kind == 0 {
				continue
			}
			text := r.Explain(e)
			name := cat.ProductName(x.Product)
			if name == "" {
				name = cat.ProductKey(x.Product)
			}
			assert.Contains(t, text, "bought together with "+name, "%s: %q", c, text)
			if x.Count >= 2 {
				assert.Contains(t, text, fmt.Sprintf("in %d orders", x.Count), "%q", text)
			}
			factor := string(recommend.AppendTimes(nil, float64(x.Lift))) + " more often than chance"
			if recommend.StatesLift(int(x.Count), float64(x.Lift)) {
				stated++
				assert.Contains(t, text, factor, "%q: lift %v on %d", text, x.Lift, x.Count)
			} else {
				unstated++
				assert.NotContains(t, text, "more often than chance", "%q: lift %v on %d not credible", text, x.Lift, x.Count)
			}
		}
	}
	assert.Positive(t, unstated)

	// a credible lift: 40 orders of {A, B} among 120
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "A", Name: "Alpha Kettle", Categories: []string{"K/a"}, InStock: true},
		{Key: "B", Name: "Beta Filter", Categories: []string{"K/b"}, InStock: true},
		{Key: "C", Categories: []string{"K/c"}, InStock: true},
	} {
		require.NoError(t, b.AddProduct(p))
	}
	for i := range 40 {
		for j, ps := range [][]string{{"A", "B"}, {"C"}, {"C"}} {
			o := fmt.Sprint("o", i, "-", j)
			for _, p := range ps {
				require.NoError(t, b.Add(affinity.Purchase{Customer: o, Product: p, Order: o, Time: day(i), Quantity: 1, Price: 1}))
			}
		}
	}
	require.NoError(t, b.Add(affinity.Purchase{Customer: "k", Product: "A", Order: "k", Time: day(41), Quantity: 1, Price: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	e = tinyEngine(t, h, recommend.Options{})
	recs, err := e.Recommend(nil, recommend.Request{Customer: "k", K: 1})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, "B", recs[0].Key)
	require.NotEmpty(t, recs[0].Reasons())
	x := recs[0].Reasons()[len(recs[0].Reasons())-1]
	assert.Equal(t, uint32(40), x.Count)
	// lift = 40·121/(41·40) = 121/41 ≈ 2.95
	assert.InDelta(t, 121.0/41, float64(x.Lift), 1e-4)
	assert.Contains(t, recs[0].Explain(e), "bought together with Alpha Kettle in 40 orders — 3.0× more often than chance")
}

// TestScrReturnOnly: a product the customer only returned was never bought:
// it is no anchor (its own complements get no credit from it) and not
// excluded as bought.
func TestScrReturnOnly(t *testing.T) {
	var b affinity.Builder
	for _, p := range []string{"anchor", "zeta", "omega", "filler"} {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p, Categories: []string{"G" + p + "/x"}, InStock: true}))
	}
	add := func(c, o string, d, q int, ps ...string) {
		for _, p := range ps {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: o, Time: day(d), Quantity: int32(q), Price: 10000}))
		}
	}
	for i := range 4 {
		add(fmt.Sprint("u", i), fmt.Sprint("u", i), i, 1, "anchor", "zeta")
		add(fmt.Sprint("v", i), fmt.Sprint("v", i), i, 1, "zeta", "omega")
		add(fmt.Sprint("f", i), fmt.Sprint("f", i), i, 1, "filler")
	}
	add("r", "r1", 50, 1, "anchor")
	add("r", "r2", 55, -1, "zeta")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	e := tinyEngine(t, h, recommend.Options{Personalization: -1})
	recs, err := e.Recommend(nil, recommend.Request{Customer: "r", K: 3})
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, "zeta", recs[0].Key, "only returned, so not bought: %v", keys(recs))
	assert.Equal(t, recommend.Neighbors, recs[0].Source)
	for _, r := range recs {
		if r.Key == "omega" {
			assert.True(t, r.Source.Fallback(), "omega placed by the returned zeta: %v", r.Source)
		}
	}
}

// TestScrBlendMatchesNaive: with PopularityBlend λ the co-purchase score
// is interpolated with the shop's popularity, s'(c) = (1−λ)·s(c)/max s +
// λ·pop(c)/max pop, and (personalisation off) a Neighbors result scores
// s'(c)/max s'. pop/max pop is the Popular fallback's score. The docs do
// not say over which products max s is taken; the engine takes it over
// every product the anchors scored, bought and out-of-stock ones included
// (where the unblended Score divides by the best eligible candidate), and
// this test pins that reading.
func TestScrBlendMatchesNaive(t *testing.T) {
	const lambda = 0.3
	for seed := range uint64(2) {
		w := scrGen(t, seed+70, 14, 30, false)
		e := w.engine(t, recommend.Options{Personalization: -1, MaxEdges: -1, PopularityBlend: lambda})
		pop := scrPopular(t, e)
		o := scrOpts{halfLife: recommend.DefaultHalfLife, rho: recommend.DefaultPopularityExponent, penalty: 1}
		for _, c := range w.cust {
			sc := scrNaive(w, c, e.AsOf(), nil, o)
			maxS, eligible := 0.0, false
			for p, s := range sc.s {
				maxS = max(maxS, s)
				eligible = eligible || (s > 0 && scrEligible(w, e, sc, nil, o, p))
			}
			if !eligible {
				continue
			}
			blend := map[affinity.ProductID]float64{}
			maxB := 0.0
			for p := range w.np {
				p := affinity.ProductID(p)
				if scrEligible(w, e, sc, nil, o, p) {
					blend[p] = (1-lambda)*sc.s[p]/maxS + lambda*pop[p]
					maxB = max(maxB, blend[p])
				}
			}
			recs, err := e.Recommend(nil, recommend.Request{Customer: c, K: recommend.MaxK})
			require.NoError(t, err)
			prev := math.Inf(1)
			for i, r := range recs {
				if r.Source == recommend.Neighbors {
					assert.InDelta(t, blend[r.Product]/maxB, r.Score, 1e-4, "seed %d %s: %v", seed, c, r.Product)
				}
				if sc.s[r.Product] > 0 {
					assert.GreaterOrEqual(t, prev+1e-6, blend[r.Product], "seed %d %s: order at %d", seed, c, i)
					prev = blend[r.Product]
				}
			}
		}
	}
}

// TestScrLaterAsOfScalesAllWeights: moving a request's AsOf past the
// customer's last purchase multiplies every anchor weight 2^(−age/HalfLife)
// by the same factor, so the results (with personalisation: shares of the
// same weights) do not change, however long ago the customer last bought:
// a lapsed customer keeps the ranking of their history, where an older
// purchase weighs less than a newer one.
func TestScrLaterAsOfScalesAllWeights(t *testing.T) {
	w := scrGen(t, 80, 14, 30, true)
	day := 24 * time.Hour
	for _, c := range []struct {
		hl     time.Duration
		deltas []time.Duration
	}{
		{recommend.DefaultHalfLife, []time.Duration{365 * day, 12 * 365 * day}},
		{day, []time.Duration{30 * day, 150 * day, 400 * day}},
	} {
		e := w.engine(t, recommend.Options{HalfLife: c.hl})
		for _, cust := range w.cust {
			base, err := e.Recommend(nil, recommend.Request{Customer: cust, K: 8})
			require.NoError(t, err)
			for _, d := range c.deltas {
				recs, err := e.Recommend(nil, recommend.Request{Customer: cust, K: 8, AsOf: e.AsOf().Add(d)})
				require.NoError(t, err)
				msg := fmt.Sprintf("%s, half-life %v, %v later (%.0f half-lives)", cust, c.hl, d, d.Hours()/c.hl.Hours())
				if !assert.Equal(t, keys(base), keys(recs), msg) {
					continue
				}
				for i := range recs {
					assert.Equal(t, base[i].Source, recs[i].Source, "%s: %s", msg, recs[i].Key)
					assert.InDelta(t, base[i].Score, recs[i].Score, 1e-5, "%s: %s", msg, recs[i].Key)
				}
			}
		}
	}
}

// TestScrExcludedOnlyHistoryIsColdStart: a customer whose every purchase
// is of Options.Exclude products (never anchors, never recommended) has
// no anchors: they get the anonymous visitor's list, the popularity
// fallback.
func TestScrExcludedOnlyHistoryIsColdStart(t *testing.T) {
	w := scrGen(t, 90, 14, 30, false)
	for _, c := range w.cust[:8] {
		excl := roaring.New()
		for _, l := range w.lines {
			if l.cust == c {
				excl.Add(uint32(l.prod))
			}
		}
		e := w.engine(t, recommend.Options{Exclude: excl})
		anon, err := e.Recommend(nil, recommend.Request{K: 6})
		require.NoError(t, err)
		got, err := e.Recommend(nil, recommend.Request{Customer: c, K: 6})
		require.NoError(t, err)
		assert.Equal(t, anon, got, "customer %s, history %v all excluded", c, excl)
	}
}
