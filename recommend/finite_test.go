package recommend_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// finiteShop builds a History from orders "customer:day:product,product"
// (days after 2020-01-01) over the named products, one category each.
func finiteShop(t *testing.T, products []string, orders ...string) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range products {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p, Categories: []string{"C" + p}, InStock: true, Price: 10}))
	}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range orders {
		f := strings.Split(o, ":")
		var d int
		_, err := fmt.Sscan(f[1], &d)
		require.NoError(t, err)
		for _, p := range strings.Split(f[2], ",") {
			require.NoError(t, b.Add(affinity.Purchase{Customer: f[0], Order: fmt.Sprint("o", i), Product: p,
				Time: t0.AddDate(0, 0, d), Quantity: 1, Price: 10}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// requireFinite asserts every score is a number in [0, hi].
func requireFinite(t *testing.T, recs []recommend.Rec, hi float64, msg string) {
	t.Helper()
	for _, r := range recs {
		require.False(t, math.IsNaN(r.Score) || math.IsInf(r.Score, 0) || r.Score < 0 || r.Score > hi,
			"%s: %s (%v) scores %v", msg, r.Key, r.Source, r.Score)
	}
}

// TestLapsedCartOnInfiniteConviction: a customer whose last purchase is
// three years old (the cart then weighs up to 10¹² times the history)
// puts in the cart a product with an edge of infinite conviction (a pair
// always bought together). The cart's weight times the edge's once
// overflowed float32 and the scores came out NaN.
func TestLapsedCartOnInfiniteConviction(t *testing.T) {
	h := finiteShop(t, []string{"camera", "card", "lamp", "cup"},
		"lapsed:0:lamp,cup", "x:1095:camera,card", "y:1095:card,cup", "z:1095:lamp")
	ctx := context.Background()
	nb, err := index(ctx, h, similarity.CountOptions{}, similarity.IndexOptions{Measure: similarity.Conviction, MinSupport: 1})
	require.NoError(t, err)
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
	require.NoError(t, err)
	for _, req := range []recommend.Request{
		{Customer: "lapsed", Basket: []string{"camera"}, K: 2},
		{Customer: "lapsed", Basket: []string{"camera"}, K: 2, AsOf: h.Latest().AddDate(30, 0, 0)},
		{Basket: []string{"camera"}, K: 2},
	} {
		recs, err := e.Recommend(nil, req)
		require.NoError(t, err)
		require.NotEmpty(t, recs)
		requireFinite(t, recs, 1, fmt.Sprintf("%+v", req))
		assert.Equal(t, "card", recs[0].Key, "%+v: the cart's complement first", req)
		assert.Positive(t, recs[0].Score, "%+v", req)
	}
}

// TestBoostFactorRange: factors outside [1/MaxBoost, MaxBoost] are
// refused (1e39 was +Inf in the scores' float32, 1e-46 was 0), and boosts
// that compound on one product keep its score finite.
func TestBoostFactorRange(t *testing.T) {
	ctx := context.Background()
	h, nb := finiteDemo(t)
	for _, f := range []float64{1e39, 1e-46, recommend.MaxBoost * 1.01, 0.99 / recommend.MaxBoost, 0, -1, math.NaN(), math.Inf(1)} {
		_, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{Boosts: []recommend.Boost{{Category: h.Catalog().CategoryPath(h.Catalog().Roots()[0]), Factor: f}}})
		require.ErrorIs(t, err, recommend.ErrInvalidOptions, "factor %v", f)
		assert.ErrorContains(t, err, "Boosts[0].Factor", "factor %v", f)
	}
	var boosts []recommend.Boost
	for range 10 {
		boosts = append(boosts, recommend.Boost{Products: roaring.BitmapOf(0, 1, 2), Factor: recommend.MaxBoost})
	}
	boosts = append(boosts, recommend.Boost{Products: roaring.BitmapOf(3), Factor: 1 / recommend.MaxBoost})
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{Boosts: boosts})
	require.NoError(t, err)
	for c := range 200 {
		recs, err := e.Recommend(nil, recommend.Request{Customer: h.CustomerKey(affinity.CustomerID(c)), K: 10})
		require.NoError(t, err)
		requireFinite(t, recs, 1.01e30, h.CustomerKey(affinity.CustomerID(c)))
	}
}

// TestEventWeightRange: event weights beyond MaxEventWeight are refused.
func TestEventWeightRange(t *testing.T) {
	h, nb := finiteDemo(t)
	for _, o := range []recommend.Options{{ViewWeight: 2e6}, {CartWeight: 1e39}, {WishlistWeight: math.MaxFloat64}, {RatingWeight: 1e7}} {
		_, err := recommend.New(context.Background(), h, nb, h.Latest(), o)
		require.ErrorIs(t, err, recommend.ErrInvalidOptions, "%+v", o)
		assert.ErrorContains(t, err, "MaxEventWeight")
	}
	_, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{ViewWeight: recommend.MaxEventWeight})
	require.NoError(t, err)
}

// TestNextBasketLargeExponents: the repeat factor q^η·t^τ·d^δ with large
// exponents once overflowed (+Inf, then Inf/Inf) into NaN scores.
func TestNextBasketLargeExponents(t *testing.T) {
	ctx := context.Background()
	h, nb := finiteDemo(t)
	for _, o := range []recommend.NextBasket{
		{RepeatWeight: 0.5, Demand: 1000}, {RepeatWeight: 0.5, Trend: 1000},
		{RepeatWeight: 0.5, Propensity: 200}, {RepeatWeight: 1, Propensity: 1e6, Trend: 1e6, Demand: 1e6},
	} {
		e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{NextBasket: o})
		require.NoError(t, err)
		repeats := 0
		for c := range 300 {
			recs, err := e.Recommend(nil, recommend.Request{Customer: h.CustomerKey(affinity.CustomerID(c)), K: 10})
			require.NoError(t, err)
			requireFinite(t, recs, 1, fmt.Sprintf("%+v, customer %d", o, c))
			for _, r := range recs {
				if r.Source == recommend.Repeat {
					repeats++
				}
			}
		}
		assert.Positive(t, repeats, "%+v", o)
	}
}

// TestMaxHistoryKeepsTheNewest: the MaxHistory anchors are the most recent
// products, events included. A cart event of yesterday once lost its slot
// to purchases years old, which were added first.
func TestMaxHistoryKeepsTheNewest(t *testing.T) {
	var b affinity.Builder
	for _, k := range []string{"old", "mid", "new", "xold", "xmid", "xnew", "f1", "f2"} {
		require.NoError(t, b.AddProduct(affinity.Product{Key: k, Categories: []string{"C" + k}, InStock: true, Price: 10}))
	}
	t0 := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	add := func(c string, at time.Time, ps ...string) {
		n++
		for _, p := range ps {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: fmt.Sprint("o", n), Product: p, Time: at, Quantity: 1, Price: 10}))
		}
	}
	for i := range 5 {
		add(fmt.Sprint("a", i), t0, "old", "xold")
		add(fmt.Sprint("b", i), t0, "mid", "xmid")
		add(fmt.Sprint("c", i), t0, "new", "xnew")
		add(fmt.Sprint("d", i), t0, "f1", "f2")
	}
	now := t0.AddDate(3, 0, 0)
	add("me", t0, "old")
	add("me", t0.AddDate(1, 0, 0), "mid")
	add("z", now, "f1")
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "me", Product: "new", Time: now.Add(-24 * time.Hour), Kind: affinity.Cart}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	ctx := context.Background()
	nb, err := index(ctx, h, similarity.CountOptions{}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	for _, mh := range []int{0, 1, 2} {
		e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{MaxHistory: mh, Personalization: -1})
		require.NoError(t, err)
		recs, err := e.Recommend(nil, recommend.Request{Customer: "me", K: 3})
		require.NoError(t, err)
		require.NotEmpty(t, recs)
		assert.Equal(t, "xnew", recs[0].Key, "MaxHistory %d: the cart's complement first", mh)
		assert.Equal(t, recommend.Neighbors, recs[0].Source, "MaxHistory %d", mh)
		if mh == 1 {
			// the one anchor is the newest product: the older ones'
			// complements come, if at all, as something else
			for _, r := range recs[1:] {
				assert.False(t, r.Source == recommend.Neighbors && (r.Key == "xold" || r.Key == "xmid"),
					"MaxHistory 1: %s from an older anchor", r.Key)
			}
		}
	}
}

// TestEvidenceScopeWordsReasons: reasons state their count in the unit of
// the counts they come from. A model fitted on baskets with Evidence
// counted per customer once said "in 3 orders" of 3 customers.
func TestEvidenceScopeWordsReasons(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 800, Products: 120, Categories: 12, Seed: 3})
	h, err := sf.History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	nb, err := similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Basket}})
	require.NoError(t, err)
	for _, scope := range []similarity.Scope{similarity.Customer, similarity.Basket} {
		ev, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: scope})
		require.NoError(t, err)
		e, err := recommend.New(ctx, h, nb, asOf, recommend.Options{Evidence: ev})
		require.NoError(t, err)
		unit := map[similarity.Scope]string{similarity.Customer: "customer", similarity.Basket: "order"}[scope]
		reasons := 0
		for p := range 30 {
			recs, err := e.Recommend(nil, recommend.Request{Basket: []string{h.Catalog().ProductKey(affinity.ProductID(p))}, K: 3})
			require.NoError(t, err)
			for _, r := range recs {
				for _, rs := range r.Reasons() {
					if rs.Kind != recommend.Together {
						continue
					}
					reasons++
					want := fmt.Sprintf("%d %s", rs.Count, unit)
					assert.Contains(t, r.Explain(e), want, "scope %v", scope)
					assert.Equal(t, ev.Pair(rs.Product, r.Product), int(rs.Count))
				}
			}
		}
		assert.Positive(t, reasons, "scope %v", scope)
	}
}

// finiteDemo is a small generated shop and its cosine index.
func finiteDemo(t *testing.T) (*affinity.History, *similarity.Index) {
	t.Helper()
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 600, Products: 120, Categories: 12, Seed: 7})
	h, err := sf.History(ctx)
	require.NoError(t, err)
	nb, err := index(ctx, h, similarity.CountOptions{}, similarity.IndexOptions{Measure: similarity.Cosine})
	require.NoError(t, err)
	return h, nb
}

// TestTuneTimeHoldoutOnRatings: the default holdout (the last weeks)
// validates on ratings as on purchases: the same interactions as
// ratings and as orders give the same validation customers. It once
// looked at orders only and failed on rating data.
func TestTuneTimeHoldoutOnRatings(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 600, Products: 100, Categories: 10, Seed: 4, ViewsPerLine: -1})
	var rb, pb affinity.Builder
	for _, p := range sf.Products {
		require.NoError(t, rb.AddProduct(p))
		require.NoError(t, pb.AddProduct(p))
	}
	for _, p := range sf.Purchases {
		if p.Quantity <= 0 || p.Customer == "" {
			continue
		}
		require.NoError(t, rb.AddEvent(affinity.Event{Customer: p.Customer, Product: p.Product, Time: p.Time, Kind: affinity.Rating, Weight: 4}))
		require.NoError(t, pb.Add(affinity.Purchase{Customer: p.Customer, Order: p.Customer + p.Time.String(), Product: p.Product, Time: p.Time, Quantity: 1, Price: p.Price}))
	}
	rh, err := rb.Build(ctx)
	require.NoError(t, err)
	ph, err := pb.Build(ctx)
	require.NoError(t, err)
	require.Zero(t, rh.NumOrders())
	g := recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{recommend.DefaultHalfLife}, RepeatWeights: []float64{0}}
	rt, err := recommend.Tune(ctx, rh, rh.Latest(), g)
	require.NoError(t, err)
	pt, err := recommend.Tune(ctx, ph, ph.Latest(), g)
	require.NoError(t, err)
	assert.Positive(t, rt.Customers)
	assert.Equal(t, pt.Customers, rt.Customers)
	assert.Equal(t, pt.From, rt.From)
}
