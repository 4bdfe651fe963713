package shop_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of shop.Options: each field's documented default,
// range and meaning, and their interplay. Expectations come from the
// godoc of Options (options.go) and the package documentation.

var advOptT0 = time.Date(2025, 5, 3, 9, 0, 0, 0, time.UTC)

// advOptLines is a tiny deterministic shop: customers c0..c(nc-1),
// products p0..p(np-1) plus "post" (named POSTAGE in advOptCatalog),
// orders over 90 days after advOptT0; one customer in three buys again
// what they bought before.
func advOptLines(seed uint64, nc, np, orders int) []affinity.Purchase {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []affinity.Purchase
	for o := range orders {
		c := r.IntN(nc)
		at := advOptT0.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		n := 1 + r.IntN(3)
		for range n {
			p := r.IntN(np)
			if c%3 == 0 {
				p = (c + r.IntN(2)) % np
			}
			out = append(out, affinity.Purchase{Customer: fmt.Sprintf("c%d", c), Product: fmt.Sprintf("p%d", p),
				Order: fmt.Sprintf("o%d", o), Time: at, Quantity: 1, Price: affinity.Money(5_000 + r.IntN(50_000))})
		}
		if r.IntN(2) == 0 {
			out = append(out, affinity.Purchase{Customer: fmt.Sprintf("c%d", c), Product: "post",
				Order: fmt.Sprintf("o%d", o), Time: at, Quantity: 1, Price: 3_000})
		}
	}
	return out
}

func advOptCatalog(np int) []affinity.Product {
	ps := []affinity.Product{{Key: "post", Name: "POSTAGE", Categories: []string{"Fees"}, InStock: true}}
	for i := range np {
		ps = append(ps, affinity.Product{Key: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Thing %d", i),
			Categories: []string{fmt.Sprintf("Cat%d", i%3)}, InStock: true})
	}
	return ps
}

var advOptWorld = advOptLines(1, 24, 10, 70)

func advOptSrc(lines []affinity.Purchase) shop.Source {
	return shop.Sources(shop.Catalog(advOptCatalog(10)), shop.Purchases(slices.Values(lines)))
}

func advOptOpen(t *testing.T, o shop.Options) *shop.Shop {
	t.Helper()
	s, err := shop.Open(context.Background(), advOptSrc(advOptWorld), o)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// advOptAnswers is everything observable a shop answers that the options
// could change: recommendations (keys and scores), the model, next-basket
// mode, as-of times, segment counts and the index's look-back, the
// neighbours kept, non-merchandise and the value model.
func advOptAnswers(t *testing.T, s *shop.Shop) []string {
	t.Helper()
	ctx := context.Background()
	snap := s.Snapshot()
	var out []string
	share, nb := snap.RepeatShare()
	out = append(out, fmt.Sprintf("model %+v asof %v repeat %.6f %v value %s nbK %d",
		snap.Model(), snap.AsOf(), share, nb, snap.ValueModel(), snap.Neighbors().K()))
	for c := range 24 {
		res, err := snap.Recommend(ctx, shop.Request{Customer: fmt.Sprintf("c%d", c), K: 8})
		require.NoError(t, err)
		line := ""
		for _, r := range res.Recs {
			line += fmt.Sprintf("%s:%.9g:%v ", r.Product, r.Score, r.Source)
		}
		out = append(out, line)
	}
	res, err := snap.Together(ctx, "p1", 8)
	require.NoError(t, err)
	for _, r := range res.Recs {
		out = append(out, fmt.Sprintf("together %s %.9g", r.Product, r.Score))
	}
	x, err := snap.SegmentIndex(ctx)
	require.NoError(t, err)
	xo := x.Options()
	out = append(out, fmt.Sprintf("seg asof %v lookback %v halflife %v topN %d", x.AsOf(), xo.Lookback, xo.HalfLife, xo.TopN))
	for _, q := range []string{"frequency >= 2", "monetary >= 300", "recency <= 14d", `affinity("Cat1") >= 0.3`} {
		a, err := snap.Segment(q)
		require.NoError(t, err, q)
		out = append(out, fmt.Sprintf("%s: %d %v", q, a.Len(), a.Revenue()))
	}
	out = append(out, fmt.Sprintf("nonmerch %v post %v", snap.NonMerchandise().ToArray(), snap.IsNonMerchandise("post")))
	return out
}

// TestAdvOptZeroIsDocumentedDefaults: the zero Options and the documented
// defaults spelt out give the same answers.
func TestAdvOptZeroIsDocumentedDefaults(t *testing.T) {
	zero := advOptAnswers(t, advOptOpen(t, shop.Options{}))
	cases := map[string]shop.Options{
		"spelt out": {
			Scope: shop.DefaultScope, Measure: shop.DefaultMeasure, Neighbors: shop.DefaultNeighbors,
			Model: "auto", ModelRefit: shop.RefitBackground, ValueModel: "bgnbd",
			Lookback: shop.DefaultLookback, NextBasket: shop.Auto,
			IsNonMerchandise: shop.DefaultNonMerchandise,
		},
		"literal values":       {Scope: "basket", Measure: "cosine", Neighbors: 50, Lookback: affinity.Months(24)},
		"segment lookback 24m": {Segment: segment.Options{Lookback: affinity.Months(24)}},
		"halflife 30d":         {HalfLife: 30 * 24 * time.Hour},
		"recommend halflife":   {Recommend: recommend.Options{HalfLife: 30 * 24 * time.Hour}},
		"shrinkage 0":          {Shrinkage: 0},
		"empty nonmerch list":  {NonMerchandise: []string{}},
		"workers":              {Workers: 1, RefreshWorkers: 1},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, zero, advOptAnswers(t, advOptOpen(t, o)))
		})
	}
	s := advOptOpen(t, shop.Options{})
	snap := s.Snapshot()
	assert.Equal(t, shop.DefaultNeighbors, snap.Neighbors().K())
	assert.Equal(t, "bgnbd", snap.ValueModel())
	assert.Equal(t, snap.History().Latest(), snap.AsOf(), "zero AsOf: the time of the last order")
	x, err := snap.SegmentIndex(context.Background())
	require.NoError(t, err)
	assert.Equal(t, affinity.Months(24), x.Options().Lookback)
	l := snap.History().Latest().UTC()
	eod := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, time.UTC)
	assert.True(t, !x.AsOf().Before(l) && !x.AsOf().After(eod),
		"segment index as of the end of the last day (UTC): %v, latest %v", x.AsOf(), l)
	assert.True(t, snap.IsNonMerchandise("post"), "POSTAGE is non-merchandise by default")
}

// TestAdvOptOverrides: the fields documented to override others do, and
// what they override is ignored.
func TestAdvOptOverrides(t *testing.T) {
	day := 24 * time.Hour
	pairs := map[string][2]shop.Options{
		"Lookback over Segment.Lookback": {
			{Lookback: affinity.Months(1), Segment: segment.Options{Lookback: affinity.Months(12)}},
			{Lookback: affinity.Months(1)},
		},
		"Lookback over an invalid Segment.Lookback": {
			{Lookback: affinity.Days(40), Segment: segment.Options{Lookback: affinity.Lookback{Months: -3}}},
			{Lookback: affinity.Days(40)},
		},
		"HalfLife over Recommend.HalfLife": {
			{HalfLife: 60 * day, Recommend: recommend.Options{HalfLife: 2 * day}},
			{HalfLife: 60 * day},
		},
		"Recommend.NextBasket over NextBasket (Off)": {
			{NextBasket: shop.Off, Recommend: recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 0.5}}},
			{NextBasket: shop.On, Recommend: recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 0.5}}},
		},
		"Segment.Workers from Workers": {
			{Workers: 1, Segment: segment.Options{Workers: 7}},
			{Workers: 1},
		},
		"Segment.NonMerchandise from the shop's": {
			{Segment: segment.Options{NonMerchandise: roaring.BitmapOf(0, 1, 2, 3, 4, 5)}},
			{},
		},
	}
	for name, p := range pairs {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, advOptAnswers(t, advOptOpen(t, p[1])), advOptAnswers(t, advOptOpen(t, p[0])))
		})
	}
	t.Run("Segment.Lookback alone is used", func(t *testing.T) {
		s := advOptOpen(t, shop.Options{Segment: segment.Options{Lookback: affinity.Months(1)}})
		x, err := s.Snapshot().SegmentIndex(context.Background())
		require.NoError(t, err)
		assert.Equal(t, affinity.Months(1), x.Options().Lookback)
	})
	t.Run("NextBasket forced", func(t *testing.T) {
		_, on := advOptOpen(t, shop.Options{NextBasket: shop.On}).Snapshot().RepeatShare()
		_, off := advOptOpen(t, shop.Options{NextBasket: shop.Off}).Snapshot().RepeatShare()
		assert.True(t, on)
		assert.False(t, off)
	})
}

// TestAdvOptNextBasketIgnoredWhenRecommendSet: "[NextBasket is] Ignored
// when Recommend.NextBasket.RepeatWeight is set": a RepeatWeight decides
// the mode whatever NextBasket says, and a Recommend.NextBasket with only
// its HalfLife tunes the mode NextBasket chose (the doc said "when
// Recommend.NextBasket is set").
func TestAdvOptNextBasketIgnoredWhenRecommendSet(t *testing.T) {
	nb := recommend.NextBasket{HalfLife: 10 * 24 * time.Hour}
	_, on := advOptOpen(t, shop.Options{NextBasket: shop.On, Recommend: recommend.Options{NextBasket: nb}}).Snapshot().RepeatShare()
	_, off := advOptOpen(t, shop.Options{NextBasket: shop.Off, Recommend: recommend.Options{NextBasket: nb}}).Snapshot().RepeatShare()
	assert.True(t, on, "a HalfLife alone: On chooses the mode")
	assert.False(t, off, "a HalfLife alone: Off chooses the mode")
	nb.RepeatWeight = 0.5
	_, on = advOptOpen(t, shop.Options{NextBasket: shop.On, Recommend: recommend.Options{NextBasket: nb}}).Snapshot().RepeatShare()
	_, off = advOptOpen(t, shop.Options{NextBasket: shop.Off, Recommend: recommend.Options{NextBasket: nb}}).Snapshot().RepeatShare()
	assert.True(t, on)
	assert.True(t, off, "a RepeatWeight: NextBasket is ignored")
}

// advOptBadNested are out-of-range values of the nested Segment options
// and of Lookback beyond what the segment index supports.
func advOptBadNested() map[string]shop.Options {
	day := 24 * time.Hour
	return map[string]shop.Options{
		"segment topN 65":               {Segment: segment.Options{TopN: 65}},
		"segment topN -1":               {Segment: segment.Options{TopN: -1}},
		"segment loyal 1":               {Segment: segment.Options{LoyalOrders: 1}},
		"segment churn before lapse":    {Segment: segment.Options{LapseAfter: 100 * day, ChurnAfter: 50 * day}},
		"segment lapse beyond lookback": {Lookback: affinity.Days(30), Segment: segment.Options{LapseAfter: 60 * day}},
		"segment lookback negative":     {Segment: segment.Options{Lookback: affinity.Lookback{Duration: -day}}},
		"lookback 200 years":            {Lookback: affinity.Months(2400)},
	}
}

func advOptOpenBad(t *testing.T, lines []affinity.Purchase, o shop.Options) {
	t.Helper()
	var s *shop.Shop
	var err error
	require.NotPanics(t, func() {
		s, err = shop.Open(context.Background(), shop.Purchases(slices.Values(lines)), o)
	})
	if s != nil {
		s.Close()
	}
	assert.Error(t, err, "accepted by Open")
	assert.Nil(t, s)
}

// TestAdvOptInvalidNestedOptions: out-of-range values of the nested
// Segment, Recommend and Tune options are a clear error from Open, with
// no Shop and no panic.
func TestAdvOptInvalidNestedOptions(t *testing.T) {
	bad := advOptBadNested()
	bad["recommend blend NaN"] = shop.Options{Recommend: recommend.Options{PopularityBlend: math.NaN()}}
	bad["recommend repeat 2"] = shop.Options{Recommend: recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 2}}}
	bad["tune K -1"] = shop.Options{Tune: &recommend.Grid{K: -1}}
	bad["tune validation -1"] = shop.Options{Tune: &recommend.Grid{Validation: -1}}
	bad["tune workers huge"] = shop.Options{Tune: &recommend.Grid{Workers: math.MaxInt}}
	for name, o := range bad {
		t.Run(name, func(t *testing.T) { advOptOpenBad(t, advOptWorld, o) })
	}
	for _, name := range []string{"recommend blend NaN", "recommend repeat 2", "tune K -1", "tune validation -1"} {
		t.Run("empty shop/"+name, func(t *testing.T) { advOptOpenBad(t, nil, bad[name]) })
	}
}

// TestAdvOptInvalidSegmentOptionsEmptyShop: the same invalid options are
// an error from Open on a shop that has no orders yet (the documented way
// to open one: an empty Purchases).
func TestAdvOptInvalidSegmentOptionsEmptyShop(t *testing.T) {
	for name, o := range advOptBadNested() {
		t.Run(name, func(t *testing.T) { advOptOpenBad(t, nil, o) })
	}
}

// TestAdvOptNegativeRecommendHalfLife: the shop rejects a negative
// HalfLife; the same value through Recommend.HalfLife must not be
// silently ignored.
func TestAdvOptNegativeRecommendHalfLife(t *testing.T) {
	advOptOpenBad(t, advOptWorld, shop.Options{Recommend: recommend.Options{HalfLife: -time.Hour}})
}

// TestAdvOptInvalidSegmentSurfacesLater: if Open accepts an invalid
// Segment option on an empty shop, the first refresh with orders must
// not leave the shop with a segment index that can never be built.
func TestAdvOptInvalidSegmentSurfacesLater(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase(nil))), shop.Options{Segment: segment.Options{TopN: 1000}})
	if err != nil {
		return // rejected at Open, as documented for invalid options
	}
	defer s.Close()
	err = s.Refresh(ctx, advOptSrc(advOptWorld))
	if err != nil {
		return // rejected clearly at the refresh
	}
	_, err = s.Snapshot().Segment("frequency >= 1")
	assert.NoError(t, err, "Open and Refresh succeeded, yet every segment query fails")
}

// TestAdvOptNonMerchandise: listed keys and IsNonMerchandise decide what is
// never recommended; nil means DefaultNonMerchandise; a func returning
// false recognises none.
func TestAdvOptNonMerchandise(t *testing.T) {
	ctx := context.Background()
	recs := func(s *shop.Shop) map[string]bool {
		got := map[string]bool{}
		for c := range 24 {
			res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: fmt.Sprintf("c%d", c), K: 11})
			require.NoError(t, err)
			for _, r := range res.Recs {
				got[r.Product] = true
				for _, x := range r.Reasons() {
					assert.NotEqual(t, "p3", x.Product, "listed non-merchandise given as a reason")
				}
			}
		}
		return got
	}
	s := advOptOpen(t, shop.Options{NonMerchandise: []string{"p3", "no-such", ""}})
	assert.True(t, s.Snapshot().IsNonMerchandise("p3"))
	assert.True(t, s.Snapshot().IsNonMerchandise("post"), "listed keys are beside IsNonMerchandise's")
	assert.False(t, s.Snapshot().IsNonMerchandise("p4"))
	got := recs(s)
	assert.False(t, got["p3"])
	assert.False(t, got["post"])
	res, err := s.Snapshot().Together(ctx, "p3", 10)
	require.NoError(t, err)
	for _, r := range res.Recs {
		assert.True(t, r.Source.Fallback(), "non-merchandise is no co-purchase evidence: %s from %v", r.Product, r.Source)
	}

	none := advOptOpen(t, shop.Options{IsNonMerchandise: func(affinity.Product) bool { return false }})
	assert.False(t, none.Snapshot().IsNonMerchandise("post"))
	assert.Zero(t, none.Snapshot().NonMerchandise().GetCardinality())

	all := advOptOpen(t, shop.Options{IsNonMerchandise: func(p affinity.Product) bool { return p.Key != "p0" }})
	for p := range recs(all) {
		assert.Equal(t, "p0", p)
	}
	x, err := all.Snapshot().SegmentIndex(ctx)
	require.NoError(t, err)
	assert.True(t, x.Options().NonMerchandise.Equals(all.Snapshot().NonMerchandise()),
		"segment index's non-merchandise is the shop's")
}

// TestAdvOptNeighborsAndValueModel: Neighbors bounds each product's list;
// ValueModel is reported by the snapshot.
func TestAdvOptNeighborsAndValueModel(t *testing.T) {
	s := advOptOpen(t, shop.Options{Model: "neighbours", Neighbors: 2, ValueModel: "mbgnbd"})
	snap := s.Snapshot()
	assert.Equal(t, 2, snap.Neighbors().K())
	for p := range snap.History().Catalog().NumProducts() {
		assert.LessOrEqual(t, len(snap.Neighbors().Neighbors(affinity.ProductID(p))), 2)
	}
	assert.Equal(t, 2, snap.Model().K)
	assert.Equal(t, "mbgnbd", snap.ValueModel())
	res, err := snap.Together(context.Background(), "p1", 10)
	require.NoError(t, err)
	n := 0
	for _, r := range res.Recs {
		if !r.Source.Fallback() {
			n++
		}
	}
	assert.LessOrEqual(t, n, 2, "Together serves the kept neighbours, then fallbacks")
}

// TestAdvOptAsOf: a fixed AsOf is every snapshot's; its zone does not
// matter; AsOf equal to the last order gives the same recommendations as
// the zero value.
func TestAdvOptAsOf(t *testing.T) {
	zero := advOptOpen(t, shop.Options{})
	latest := zero.Snapshot().History().Latest()
	fixed := advOptOpen(t, shop.Options{AsOf: latest})
	assert.True(t, fixed.Snapshot().AsOf().Equal(latest))
	za, fa := advOptAnswers(t, zero), advOptAnswers(t, fixed)
	assert.Equal(t, za[1:25], fa[1:25], "recommendations as of the same instant")

	loc := time.FixedZone("X", -11*3600)
	at := latest.Add(-20 * 24 * time.Hour)
	utc := advOptAnswers(t, advOptOpen(t, shop.Options{AsOf: at}))
	other := advOptAnswers(t, advOptOpen(t, shop.Options{AsOf: at.In(loc)}))
	assert.Equal(t, utc[1:], other[1:], "the same instant in another zone")

	// a fixed AsOf stays across a refresh
	ctx := context.Background()
	require.NoError(t, fixed.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "c1", Product: "p2", Order: "late", Time: latest.Add(time.Hour), Quantity: 1, Price: 1000}}))))
	assert.True(t, fixed.Snapshot().AsOf().Equal(latest))
	require.NoError(t, zero.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "c1", Product: "p2", Order: "late", Time: latest.Add(time.Hour), Quantity: 1, Price: 1000}}))))
	assert.True(t, zero.Snapshot().AsOf().Equal(latest.Add(time.Hour)), "zero AsOf follows the data")
}

// TestAdvOptTune: Grid.Base is ignored (Recommend is every candidate's
// base), and Model is ignored when Tune chose a model.
func TestAdvOptTune(t *testing.T) {
	g := func() *recommend.Grid {
		return &recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{30 * 24 * time.Hour},
			Blends: []float64{-1}, RepeatWeights: []float64{0}, Trends: []float64{0}, Validation: 28 * 24 * time.Hour}
	}
	plain := advOptOpen(t, shop.Options{Tune: g()})
	if plain.Snapshot().Tuning() == nil {
		t.Skip("tiny shop has nothing to validate on")
	}
	withBase := g()
	withBase.Base = recommend.Options{HalfLife: time.Hour, PopularityBlend: 0.9}
	assert.Equal(t, advOptAnswers(t, plain), advOptAnswers(t, advOptOpen(t, shop.Options{Tune: withBase})), "Grid.Base is ignored")
	ease := advOptOpen(t, shop.Options{Tune: g(), Model: "ease"})
	assert.Equal(t, plain.Snapshot().Model(), ease.Snapshot().Model(), "Model is ignored when Tune chose a model")
	assert.Equal(t, advOptAnswers(t, plain), advOptAnswers(t, ease))
}

// TestAdvOptRefitAndWorkers: after a refresh, RefitInline and the
// background refit (once waited for) answer alike, for the neighbours and
// for EASE; RefreshWorkers changes no answer; Shrinkage does not touch
// EASE.
func TestAdvOptRefitAndWorkers(t *testing.T) {
	ctx := context.Background()
	more := advOptLines(2, 30, 10, 25)
	for i := range more {
		more[i].Order += "-b"
		more[i].Time = more[i].Time.Add(30 * 24 * time.Hour)
	}
	refreshed := func(o shop.Options) []string {
		s := advOptOpen(t, o)
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(more))))
		require.NoError(t, s.WaitModel(ctx))
		assert.True(t, s.Snapshot().ModelCurrent())
		return advOptAnswers(t, s)
	}
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			bg := refreshed(shop.Options{Model: model})
			assert.Equal(t, bg, refreshed(shop.Options{Model: model, ModelRefit: shop.RefitInline}))
			assert.Equal(t, bg, refreshed(shop.Options{Model: model, RefreshWorkers: 1, Workers: 1}))
			assert.Equal(t, bg, refreshed(shop.Options{Model: model, RefreshWorkers: 3, Workers: 4}))
		})
	}
	t.Run("shrinkage with ease", func(t *testing.T) {
		a := advOptAnswers(t, advOptOpen(t, shop.Options{Model: "ease"}))
		b := advOptAnswers(t, advOptOpen(t, shop.Options{Model: "ease", Shrinkage: 5}))
		assert.Equal(t, a[1:25], b[1:25], "EASE, which shrinkage does not touch")
	})
}

// TestAdvOptScopes: each documented Scope opens and is the neighbours'.
func TestAdvOptScopes(t *testing.T) {
	for _, sc := range []string{"basket", "customer", "sequential"} {
		t.Run(sc, func(t *testing.T) {
			s := advOptOpen(t, shop.Options{Model: "neighbours", Scope: sc})
			assert.Equal(t, sc, s.Snapshot().Model().Scope.String())
			_, err := s.Snapshot().Recommend(context.Background(), shop.Request{Customer: "c1", K: 5})
			assert.NoError(t, err)
		})
	}
}

// TestAdvOptAsOfFarFromData: a fixed AsOf long after the data (a shop
// whose recency counts run beyond 65,535 days) and one before it give
// answers, not a panic: every customer's recency is at least the gap.
func TestAdvOptAsOfFarFromData(t *testing.T) {
	ctx := context.Background()
	for _, at := range []time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		advOptT0.AddDate(1, 0, 0),
	} {
		t.Run(at.Format(time.DateOnly), func(t *testing.T) {
			var s *shop.Shop
			var err error
			require.NotPanics(t, func() { s, err = shop.Open(ctx, advOptSrc(advOptWorld), shop.Options{AsOf: at}) })
			if err != nil {
				t.Logf("Open: %v", err)
				return // a clear error is fine
			}
			defer s.Close()
			snap := s.Snapshot()
			assert.True(t, snap.AsOf().Equal(at))
			all, err := snap.Segment("recency >= 0d")
			require.NoError(t, err)
			gap := int(at.Sub(advOptT0.Add(90*24*time.Hour)).Hours()/24) - 1
			far, err := snap.Segment(fmt.Sprintf("recency >= %dd", gap))
			require.NoError(t, err)
			assert.Equal(t, all.Len(), far.Len(), "every customer's last order is at least %d days before AsOf", gap)
			assert.Positive(t, all.Len())
			_, err = snap.Recommend(ctx, shop.Request{Customer: "c1", K: 5})
			assert.NoError(t, err)
		})
	}
}

// TestAdvOptAcrossRefresh: what the options decide holds for every
// snapshot, not only the first: the Lookback override, a listed
// non-merchandise key that first appears in a refresh, Neighbors.
func TestAdvOptAcrossRefresh(t *testing.T) {
	ctx := context.Background()
	s := advOptOpen(t, shop.Options{Lookback: affinity.Months(1), Segment: segment.Options{Lookback: affinity.Months(12)},
		NonMerchandise: []string{"newp"}, Neighbors: 3, Model: "neighbours"})
	latest := s.Snapshot().History().Latest()
	var more []affinity.Purchase
	for c := range 24 {
		at := latest.Add(time.Duration(c+1) * time.Hour)
		for _, p := range []string{"newp", "p1"} {
			more = append(more, affinity.Purchase{Customer: fmt.Sprintf("c%d", c), Product: p,
				Order: fmt.Sprintf("late%d", c), Time: at, Quantity: 1, Price: 2_000})
		}
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(more))))
	snap := s.Snapshot()
	assert.True(t, snap.IsNonMerchandise("newp"))
	x, err := snap.SegmentIndex(ctx)
	require.NoError(t, err)
	assert.Equal(t, affinity.Months(1), x.Options().Lookback)
	assert.Equal(t, 3, snap.Neighbors().K())
	for c := range 24 {
		res, err := snap.Recommend(ctx, shop.Request{Customer: fmt.Sprintf("c%d", c), K: 12})
		require.NoError(t, err)
		for _, r := range res.Recs {
			assert.NotEqual(t, "newp", r.Product)
		}
	}
	res, err := snap.Together(ctx, "p1", 12)
	require.NoError(t, err)
	for _, r := range res.Recs {
		assert.NotEqual(t, "newp", r.Product)
	}
}
