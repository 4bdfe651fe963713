package recommend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// adversarialIndex builds the main index of h as of asOf of the given
// kind: measures and scopes other than the Cosine/Basket one of
// TestRenewMatchesNew, EASE included.
func adversarialIndex(t *testing.T, h *affinity.History, asOf time.Time, kind int) *similarity.Index {
	t.Helper()
	ctx := context.Background()
	if kind == 6 {
		nb, err := similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, Lambda: 20, K: 30})
		require.NoError(t, err)
		return nb
	}
	scope, m := []similarity.Scope{similarity.Basket, similarity.Customer}[kind%2], []similarity.Measure{
		similarity.Cosine, similarity.Lift, similarity.Jaccard, similarity.BM25, similarity.Confidence, similarity.NPMI}[kind]
	counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: scope})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: m, K: 15, MinSupport: 1 + kind%2})
	require.NoError(t, err)
	return nb
}

// adversarialOptions returns random engine options, the exclusions and
// the sequential index (built from h as of asOf) included.
func adversarialOptions(t *testing.T, r *rand.Rand, h *affinity.History, asOf time.Time) Options {
	t.Helper()
	var o Options
	pick := func(v ...float64) float64 { return v[r.IntN(len(v))] }
	o.LiftExponent = pick(0, 0, 0, 0.5, -0.25)
	o.BasketPopularityExponent = pick(0, 0, 0.3, -1)
	o.PopularityExponent = pick(0, 0.5, -1)
	o.SubstitutePenalty = pick(0, 0.25, -1)
	o.SubstituteDepth = r.IntN(3)
	o.Personalization = pick(0, 0.6, -1)
	o.ProfileDepth = r.IntN(4)
	o.PopularityBlend = pick(0, 0.3)
	o.HalfLife = time.Duration(r.IntN(3)) * 240 * time.Hour
	o.PopularHalfLife = time.Duration(r.IntN(3)) * 100 * time.Hour
	o.ViewWeight, o.RatingWeight = pick(0, 0.5), pick(0, 2, -1)
	o.MaxEdges = []int{0, 20, -1}[r.IntN(3)]
	if r.IntN(3) == 0 {
		o.NextBasket.RepeatWeight = pick(0.5, 1)
	}
	cat := h.Catalog()
	if r.IntN(4) == 0 && cat.NumCategories() > 0 {
		path := cat.CategoryPath(affinity.CategoryID(r.IntN(cat.NumCategories())))
		o.Consumables = []Consumable{{Category: path, Interval: 200 * time.Hour}}
		o.Boosts = []Boost{{Category: path, Factor: 2}, {Customers: roaring.BitmapOf(0, 1, 2, 3), Products: roaring.BitmapOf(0, 1), Factor: 0.5}}
		seg := roaring.New()
		seg.AddRange(0, uint64(h.NumCustomers()/2))
		o.Segments = []*roaring.Bitmap{seg}
	}
	if r.IntN(3) == 0 {
		ex := roaring.New()
		for range 1 + r.IntN(4) {
			ex.Add(uint32(r.IntN(h.Catalog().NumProducts() + 3)))
		}
		o.Exclude = ex
	}
	if r.IntN(6) == 0 {
		ctx := context.Background()
		counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Sequential, Window: 60 * 24 * time.Hour})
		require.NoError(t, err)
		o.Sequential, err = similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine, K: 10})
		require.NoError(t, err)
	}
	return o
}

// requireSameEngine requires the renewed engine got to equal the fresh
// one want: its parts bit for bit, and the results (reasons and their
// lifts included) of every customer's request, of carts and of an
// anonymous visitor.
func requireSameEngine(t *testing.T, r *rand.Rand, want, got *Engine, msg string) {
	t.Helper()
	requireSameEdges(t, want.edgeTable, got.edgeTable, msg)
	require.Equal(t, want.seqSup, got.seqSup, msg)
	require.Equal(t, want.prior, got.prior, msg)
	require.Equal(t, want.dims, got.dims, msg)
	require.Equal(t, want.nodes, got.nodes, msg)
	require.Equal(t, want.sum, got.sum, msg)
	require.Equal(t, want.prof, got.prof, msg)
	require.Equal(t, want.pdimOff, got.pdimOff, msg)
	require.Equal(t, want.pop, got.pop, msg)
	require.Equal(t, want.popNorm, got.popNorm, msg)
	require.Equal(t, want.popOrder, got.popOrder, msg)
	require.Equal(t, want.popTotal, got.popTotal, msg)
	require.Equal(t, want.hot, got.hot, msg)
	var a, b []Rec
	var err error
	h := want.h
	for c := range h.NumCustomers() {
		req := Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 10}
		var errB error
		a, err = want.Recommend(a[:0], req)
		b, errB = got.Recommend(b[:0], req)
		if err != nil || errB != nil || !reflect.DeepEqual(a, b) { // require only on a difference: its bookkeeping costs more than the comparison
			require.NoError(t, err)
			require.NoError(t, errB)
			require.Equal(t, a, b, "%s: customer %d", msg, c)
		}
		for i := range a {
			for j, x := range a[i].Reasons() {
				if y := b[i].Reasons()[j].Lift; x.Lift != y {
					require.Equal(t, x.Lift, y, "%s: customer %d", msg, c)
				}
			}
		}
	}
	np := h.Catalog().NumProducts()
	for i := range 12 {
		req := Request{K: 10, Items: []affinity.ProductID{affinity.ProductID(r.IntN(np))}}
		if i%3 == 0 {
			req.Items = append(req.Items, affinity.ProductID(r.IntN(np)))
		}
		if i%4 == 1 && h.NumCustomers() > 0 {
			req.CustomerID, req.ByID = affinity.CustomerID(r.IntN(h.NumCustomers())), true
		}
		if i%5 == 2 {
			req.Rules.AllowSubstitutes = true
		}
		a, err = want.Recommend(a[:0], req)
		require.NoError(t, err)
		b, err = got.Recommend(b[:0], req)
		require.NoError(t, err)
		require.Equal(t, a, b, "%s: cart %v", msg, req.Items)
	}
	a, err = want.Recommend(a[:0], Request{K: 10})
	require.NoError(t, err)
	b, err = got.Recommend(b[:0], Request{K: 10})
	require.NoError(t, err)
	require.Equal(t, a, b, "%s: anonymous", msg)
}

// TestRenewAdversarial renews engines along chains of random changes with
// random options (changing between steps, or the same as the earlier
// engine's), indexes of other measures and scopes (EASE included),
// sequential indexes, exclusions that change, earlier and later as-of
// times, stock set on the earlier engine, and requires a fresh engine's
// parts and results.
func TestRenewAdversarial(t *testing.T) {
	ctx := context.Background()
	seeds := testdata.Scale(300, 10)
	var rows int64
	updated, shared, pops := 0, 0, 0
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 77))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 60 + r.IntN(90), Products: 25 + r.IntN(80), Categories: 3 + r.IntN(60), Seed: seed + 11, ViewsPerLine: -float64(r.IntN(2))})
		h, err := sf.History(ctx)
		require.NoError(t, err)
		kind := r.IntN(7)
		asOf := h.Latest()
		o := adversarialOptions(t, r, h, asOf)
		e, err := New(ctx, h, adversarialIndex(t, h, asOf, kind), asOf, o)
		require.NoError(t, err)
		for step := range 3 {
			msg := fmt.Sprintf("seed %d step %d kind %d", seed, step, kind)
			var h2 *affinity.History
			switch r.IntN(8) {
			case 0: // nothing changed: the same History
				h2 = h
			case 1, 2, 3:
				h2 = smallChange(t, r, h)
			default:
				h2 = changeShop(t, r, h, r.IntN(5) == 0)
			}
			asOf = h2.Latest()
			switch r.IntN(8) {
			case 0:
				asOf = h.Latest().Add(-72 * time.Hour)
			case 1:
				asOf = h2.Latest().Add(500 * time.Hour)
			case 2:
				asOf = e.asOfTime.Add(-time.Duration(r.IntN(100)) * time.Hour)
			case 3:
				asOf = e.asOfTime.Add(time.Duration(r.IntN(1000)) * time.Hour)
			}
			if r.IntN(4) == 0 {
				stock := roaring.New()
				for p := range h.Catalog().NumProducts() {
					if r.IntN(3) > 0 {
						stock.Add(uint32(p))
					}
				}
				e.SetStock(stock)
			}
			if r.IntN(5) == 0 { // other options, or the same again
				o = adversarialOptions(t, r, h2, asOf)
			} else if o.Sequential != nil {
				ctx := context.Background()
				counts, err := similarity.Count(ctx, h2, asOf, similarity.CountOptions{Scope: similarity.Sequential, Window: 60 * 24 * time.Hour})
				require.NoError(t, err)
				o.Sequential, err = similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine, K: 10})
				require.NoError(t, err)
			}
			if r.IntN(4) == 0 {
				kind = r.IntN(7)
			}
			nb := adversarialIndex(t, h2, asOf, kind)
			if up, err := updateProfiles(ctx, e.profiles, h, h2, h2.Catalog().NumProducts(), asOf.Unix(), withDefaults(o).ProfileDepth, withDefaults(o).Personalization > 0, newBitset(h2.Catalog().NumProducts())); err == nil && up != nil {
				updated++
			}
			if r.IntN(4) == 0 {
				e.SetStock(nil)
			}
			prevRecs := allRecs(t, e)
			before := reusedRows.Load()
			// the earlier engine serves requests while it is renewed
			done := make(chan struct{})
			go func() {
				defer close(done)
				for c := range min(e.h.NumCustomers(), 40) {
					_, _ = e.Recommend(nil, Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 5})
				}
			}()
			got, err := Renew(ctx, e, h2, nb, asOf, o)
			<-done
			require.NoError(t, err, msg)
			rows += reusedRows.Load() - before
			if got.own == nil && e.profiles != nil && got.profiles != nil && len(got.sum) > 0 && len(e.sum) > 0 && &got.sum[0][0] == &e.sum[0][0] {
				shared++
			}
			if got.popularity.renewed {
				pops++
			}
			want, err := New(ctx, h2, nb, asOf, o)
			require.NoError(t, err, msg)
			requireSameEngine(t, r, want, got, fmt.Sprintf("%s options %+v", msg, o))
			// renewing left e as it was
			require.Equal(t, prevRecs, allRecs(t, e), "%s: earlier engine changed", msg)
			if r.IntN(3) == 0 { // a sibling renewed from the same engine
				h3 := smallChange(t, r, h)
				nb3 := adversarialIndex(t, h3, h3.Latest(), kind)
				o3 := o
				o3.Sequential = nil
				got3, err := Renew(ctx, e, h3, nb3, h3.Latest(), o3)
				require.NoError(t, err, msg)
				want3, err := New(ctx, h3, nb3, h3.Latest(), o3)
				require.NoError(t, err, msg)
				requireSameEngine(t, r, want3, got3, msg+" sibling")
				require.Equal(t, prevRecs, allRecs(t, e), "%s: earlier engine changed", msg)
				requireSameEngine(t, r, want, got, msg+" after sibling")
			}
			h, e = h2, got
		}
	}
	t.Logf("%d rows copied, profiles updated in %d (first page shared in %d), popularity renewed in %d of %d", rows, updated, shared, pops, 3*seeds)
	// the renewals took the cheap paths, not only the full builds
	require.Positive(t, rows, "rows copied")
	require.Positive(t, updated, "profiles updated customer by customer")
	require.Positive(t, pops, "popularity renewed")
}

// smallChange returns a History built on h with one small change: an
// order of one or two lines of a known customer, a rating, an anonymous
// order or a deleted order, so that most rows and profiles are reused.
func smallChange(t *testing.T, r *rand.Rand, h *affinity.History) *affinity.History {
	t.Helper()
	cat := h.Catalog()
	b := affinity.NewBuilder(h)
	c := h.CustomerKey(affinity.CustomerID(r.IntN(h.NumCustomers())))
	if c == "" {
		c = "newcomer-0"
	}
	at := h.Latest().Add(time.Duration(1+r.IntN(48)) * time.Hour)
	if r.IntN(4) == 0 {
		at = h.Latest().Add(-time.Duration(r.IntN(500)) * time.Hour)
	}
	product := func() string { return cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts()))) }
	orders := slices.Collect(h.Orders())
	someOrder := func() affinity.OrderID { return orders[r.IntN(len(orders))] }
	switch r.IntN(9) {
	case 5: // an order passed to another customer, or to a guest
		o := someOrder()
		who := c
		if r.IntN(2) == 0 {
			who = ""
		}
		require.NoError(t, b.PutOrder(h.OrderKey(o), 1, []affinity.Purchase{{Customer: who, Product: product(), Time: h.OrderTime(o), Quantity: 1, Price: 100}}))
	case 6: // a guest order given to a customer
		if lo, hi := h.AnonymousOrders(); hi > lo {
			o := lo + affinity.OrderID(r.IntN(int(hi-lo)))
			require.NoError(t, b.PutOrder(h.OrderKey(o), 1, []affinity.Purchase{{Customer: c, Product: product(), Time: h.OrderTime(o), Quantity: 2, Price: 100}}))
		} else {
			b.EraseCustomer(c)
		}
	case 7: // a line added to an existing order, or a returned line
		o := someOrder()
		q := int32(1)
		if r.IntN(2) == 0 {
			q = -1
		}
		owner := ""
		if oc := h.OrderCustomer(o); int(oc) < h.NumCustomers() {
			owner = h.CustomerKey(oc)
		}
		_ = b.Add(affinity.Purchase{Customer: owner, Order: h.OrderKey(o), Product: product(), Time: h.OrderTime(o), Quantity: q, Price: 100})
		require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: product(), Time: at, Kind: affinity.Cart}))
	case 8: // an event of a guest
		_ = b.AddEvent(affinity.Event{Product: product(), Time: at, Kind: affinity.Rating, Weight: 5})
		require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: product(), Time: at, Kind: affinity.Wishlist}))
	case 0:
		require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: product(), Time: at, Kind: affinity.Rating, Weight: 3}))
	case 1:
		require.NoError(t, b.Add(affinity.Purchase{Order: "anon", Product: product(), Time: at, Quantity: 1, Price: 100}))
	case 2:
		for o := range h.Orders() {
			if r.IntN(10) == 0 {
				require.NoError(t, b.DeleteOrder(h.OrderKey(o), 1))
				break
			}
		}
		require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: product(), Time: at, Kind: affinity.View}))
	default:
		for range 1 + r.IntN(2) {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: "small", Product: product(), Time: at, Quantity: 1, Price: 100}))
		}
	}
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	return h2
}

// TestRenewAcrossProfilePages renews engines of catalogs of about one
// page of profiles (profPage products), so that new products start a
// page, with chains of small changes.
func TestRenewAcrossProfilePages(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(40, 2)) {
		r := rand.New(rand.NewPCG(seed, 78))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 150 + r.IntN(100), Products: profPage - 3 + r.IntN(6), Categories: 3 + r.IntN(10), Seed: seed + 21, ViewsPerLine: -1})
		h, err := sf.History(ctx)
		require.NoError(t, err)
		kind := []int{0, 4}[r.IntN(2)]
		o := Options{Personalization: 0.5, BasketPopularityExponent: []float64{0, 0.3, -1}[r.IntN(3)]}
		e, err := New(ctx, h, adversarialIndex(t, h, h.Latest(), kind), h.Latest(), o)
		require.NoError(t, err)
		for step := range 4 {
			msg := fmt.Sprintf("seed %d step %d np %d", seed, step, h.Catalog().NumProducts())
			var h2 *affinity.History
			if step%2 == 0 {
				h2 = smallChange(t, r, h)
			} else {
				h2 = changeShop(t, r, h, false)
			}
			asOf := h2.Latest()
			nb := adversarialIndex(t, h2, asOf, kind)
			got, err := Renew(ctx, e, h2, nb, asOf, o)
			require.NoError(t, err, msg)
			want, err := New(ctx, h2, nb, asOf, o)
			require.NoError(t, err, msg)
			requireSameEngine(t, r, want, got, msg)
			h, e = h2, got
		}
	}
}

// allRecs returns every customer's results of e, and a cart's.
func allRecs(t *testing.T, e *Engine) [][]Rec {
	t.Helper()
	var all [][]Rec
	for c := range e.h.NumCustomers() {
		recs, err := e.Recommend(nil, Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 10})
		require.NoError(t, err)
		all = append(all, recs)
	}
	recs, err := e.Recommend(nil, Request{Items: []affinity.ProductID{0, 1}, K: 10})
	require.NoError(t, err)
	return append(all, recs)
}

// ratingShop returns a rating-only History (MovieLens-shaped: rating
// events and no orders) of nc customers over np products in nested
// categories.
func ratingShop(t *testing.T, r *rand.Rand, nc, np int) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(nil)
	for p := range np {
		cats := []string{fmt.Sprintf("g%d/s%d", p%3, p%7)}
		if p%5 == 0 {
			cats = append(cats, fmt.Sprintf("g%d/s%d", (p+1)%3, p%4))
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("m%d", p), Categories: cats}))
	}
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for c := range nc {
		for range 3 + r.IntN(10) {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprintf("u%d", c), Product: fmt.Sprintf("m%d", (c%3)*np/3+r.IntN(np/2)), Time: start.Add(time.Duration(r.IntN(3000)) * time.Hour),
				Kind: affinity.Rating, Weight: float32(1 + r.IntN(5))}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestRenewRatingData renews engines of rating-only data (no decay by
// default, events counted in the indexes) along chains of new ratings of
// known and new customers.
func TestRenewRatingData(t *testing.T) {
	ctx := context.Background()
	index := func(h *affinity.History, ease bool) *similarity.Index {
		if ease {
			nb, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer, Events: true}, Lambda: 10, K: 20})
			require.NoError(t, err)
			return nb
		}
		counts, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer, Events: true})
		require.NoError(t, err)
		nb, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine, K: 15})
		require.NoError(t, err)
		return nb
	}
	for seed := range uint64(testdata.Scale(30, 4)) {
		r := rand.New(rand.NewPCG(seed, 79))
		h := ratingShop(t, r, 60+r.IntN(60), 30+r.IntN(30))
		ease := seed%2 == 1
		o := Options{ProfileDepth: 1 + r.IntN(2), HalfLife: time.Duration(r.IntN(2)) * 1000 * time.Hour}
		e, err := New(ctx, h, index(h, ease), h.Latest(), o)
		require.NoError(t, err)
		for step := range 3 {
			msg := fmt.Sprintf("seed %d step %d", seed, step)
			b := affinity.NewBuilder(h)
			for range 1 + r.IntN(6) {
				c := fmt.Sprintf("u%d", r.IntN(h.NumCustomers()+3))
				require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: fmt.Sprintf("m%d", r.IntN(h.Catalog().NumProducts())),
					Time: h.Latest().Add(time.Duration(r.IntN(100)-20) * time.Hour), Kind: affinity.Rating, Weight: float32(1 + r.IntN(5))}))
			}
			h2, err := b.Build(ctx)
			require.NoError(t, err)
			nb := index(h2, ease)
			got, err := Renew(ctx, e, h2, nb, h2.Latest(), o)
			require.NoError(t, err, msg)
			want, err := New(ctx, h2, nb, h2.Latest(), o)
			require.NoError(t, err, msg)
			requireSameEngine(t, r, want, got, msg)
			h, e = h2, got
		}
	}
}

// TestRenewOfTheSameHistoryShares renews an engine of the same History as
// of the same time, as Choose does from one candidate to the next, with
// another index and other options: the result equals New's, and the
// popularity and profiles, which depend on neither, are the earlier
// engine's own. A later as-of time or another popularity half-life
// computes them again.
func TestRenewOfTheSameHistoryShares(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(12, 3)) {
		r := rand.New(rand.NewPCG(seed, 80))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 80 + r.IntN(80), Products: 30 + r.IntN(60), Categories: 4 + r.IntN(20), Seed: seed + 31, ViewsPerLine: -float64(r.IntN(2))})
		h, err := sf.History(ctx)
		require.NoError(t, err)
		asOf := h.Latest().Add(-time.Duration(r.IntN(30*24)) * time.Hour)
		o := Options{Personalization: 0.5, HalfLife: 30 * 24 * time.Hour}
		prev, err := New(ctx, h, adversarialIndex(t, h, asOf, r.IntN(7)), asOf, o)
		require.NoError(t, err)
		require.NotZero(t, prev.profiles.dims, "seed %d: profiles on", seed)

		msg := fmt.Sprintf("seed %d", seed)
		o.HalfLife, o.PopularityBlend = 90*24*time.Hour, 0.2
		nb := adversarialIndex(t, h, asOf, r.IntN(7))
		got, err := Renew(ctx, prev, h, nb, asOf, o)
		require.NoError(t, err, msg)
		want, err := New(ctx, h, nb, asOf, o)
		require.NoError(t, err, msg)
		requireSameEngine(t, r, want, got, msg)
		require.Same(t, prev.popularity, got.popularity, msg)
		require.Same(t, prev.profiles, got.profiles, msg)

		later, err := Renew(ctx, prev, h, nb, asOf.Add(time.Hour), o)
		require.NoError(t, err, msg)
		require.NotSame(t, prev.popularity, later.popularity, msg)
		require.NotSame(t, prev.profiles, later.profiles, msg)
		o.PopularHalfLife = 7 * 24 * time.Hour
		other, err := Renew(ctx, prev, h, nb, asOf, o)
		require.NoError(t, err, msg)
		require.NotSame(t, prev.popularity, other.popularity, msg)
		want, err = New(ctx, h, nb, asOf, o)
		require.NoError(t, err, msg)
		requireSameEngine(t, r, want, other, msg)
	}
}
