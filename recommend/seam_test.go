package recommend_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

func demoEngine(t testing.TB, o recommend.Options) (*affinity.History, *similarity.Index, *recommend.Engine) {
	t.Helper()
	h, nb := demoIndex(t)
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), o)
	require.NoError(t, err)
	return h, nb, e
}

// TestNewSeam: the as-of time is required, nil inputs are errors, and
// options without meaning are rejected by name.
func TestNewSeam(t *testing.T) {
	h := tinyShop(t)
	nb := mustIndex(t, h)
	ctx := context.Background()
	_, err := recommend.New(ctx, h, nb, time.Time{}, recommend.Options{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	//lint:ignore SA1012 a nil context is the input under test
	_, err = recommend.New(nil, h, nb, h.Latest(), recommend.Options{}) //nolint:staticcheck
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorContains(t, err, "nil context")
	_, err = recommend.New(ctx, nil, nb, h.Latest(), recommend.Options{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorContains(t, err, "nil History")
	_, err = recommend.New(ctx, h, nil, h.Latest(), recommend.Options{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorContains(t, err, "nil index")

	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	fields := map[string]func(*recommend.Options, float64){
		"SequentialWeight":         func(o *recommend.Options, v float64) { o.SequentialWeight = v },
		"SubstitutePenalty":        func(o *recommend.Options, v float64) { o.SubstitutePenalty = v },
		"LiftExponent":             func(o *recommend.Options, v float64) { o.LiftExponent = v },
		"PopularityExponent":       func(o *recommend.Options, v float64) { o.PopularityExponent = v },
		"PopularityBlend":          func(o *recommend.Options, v float64) { o.PopularityBlend = v },
		"Personalization":          func(o *recommend.Options, v float64) { o.Personalization = v },
		"ViewWeight":               func(o *recommend.Options, v float64) { o.ViewWeight = v },
		"CartWeight":               func(o *recommend.Options, v float64) { o.CartWeight = v },
		"WishlistWeight":           func(o *recommend.Options, v float64) { o.WishlistWeight = v },
		"RatingWeight":             func(o *recommend.Options, v float64) { o.RatingWeight = v },
		"BasketPopularityExponent": func(o *recommend.Options, v float64) { o.BasketPopularityExponent = v },
		"BasketPopularityBlend":    func(o *recommend.Options, v float64) { o.BasketPopularityBlend = v },
		"RepeatWeight":             func(o *recommend.Options, v float64) { o.NextBasket.RepeatWeight = v },
		"IntervalWeight":           func(o *recommend.Options, v float64) { o.NextBasket.IntervalWeight = v },
	}
	for name, set := range fields {
		for _, v := range bad {
			var o recommend.Options
			set(&o, v)
			_, err := recommend.New(ctx, h, nb, h.Latest(), o)
			require.ErrorIs(t, err, recommend.ErrInvalidOptions, "%s = %v", name, v)
			assert.ErrorContains(t, err, name)
		}
	}
	_, err = recommend.New(ctx, h, nb, h.Latest(), recommend.Options{Workers: 1 << 30})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
	assert.ErrorContains(t, err, "Workers")
}

// TestEmptyCatalog: an engine over a History without products serves
// empty lists instead of panicking.
func TestEmptyCatalog(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	h, err := b.Build(ctx)
	if err != nil {
		t.Skipf("an empty History cannot be built: %v", err)
	}
	c, err := similarity.Count(ctx, h, time.Unix(1, 0), similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
	require.NoError(t, err)
	e, err := recommend.New(ctx, h, nb, time.Unix(1, 0), recommend.Options{})
	require.NoError(t, err)
	recs, err := e.Recommend(nil, recommend.Request{K: 5})
	require.NoError(t, err)
	assert.Empty(t, recs)
	recs, err = e.Recommend(nil, recommend.Request{Customer: "nobody", K: 5, Rules: recommend.Rules{AllowRepeats: true}})
	require.NoError(t, err)
	assert.Empty(t, recs)
	all, err := e.RecommendAll(ctx, recommend.Request{K: 3})
	require.NoError(t, err)
	assert.Empty(t, all)
}

// TestRequestLimits: huge K and a nil context are errors, not gigabytes
// or panics in worker goroutines.
func TestRequestLimits(t *testing.T) {
	_, _, e := demoEngine(t, recommend.Options{})
	_, err := e.Recommend(nil, recommend.Request{K: math.MaxInt})
	require.ErrorIs(t, err, recommend.ErrInvalidRequest)
	_, err = e.RecommendAll(context.Background(), recommend.Request{K: math.MaxInt32})
	require.ErrorIs(t, err, recommend.ErrInvalidRequest)
	//lint:ignore SA1012 a nil context is the input under test
	_, err = e.RecommendAll(nil, recommend.Request{K: 3}) //nolint:staticcheck
	require.ErrorContains(t, err, "nil context")
}

// TestByID: a customer by dense id gets the same answer as by key.
func TestByID(t *testing.T) {
	h, _, e := demoEngine(t, recommend.Options{})
	for c := range min(h.NumCustomers(), 200) {
		byKey, err := e.Recommend(nil, recommend.Request{Customer: h.CustomerKey(affinity.CustomerID(c)), K: 5})
		require.NoError(t, err)
		byID, err := e.Recommend(nil, recommend.Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 5})
		require.NoError(t, err)
		require.Equal(t, byKey, byID)
	}
	anon, err := e.Recommend(nil, recommend.Request{K: 5})
	require.NoError(t, err)
	unknown, err := e.Recommend(nil, recommend.Request{CustomerID: affinity.CustomerID(h.NumCustomers() + 10), ByID: true, K: 5})
	require.NoError(t, err)
	assert.Equal(t, anon, unknown, "an unknown id is served like an anonymous visitor")
}

// TestReasonsAboveChance: no co-purchase reason ever has a lift below 1,
// and a result without reasons is never labelled Neighbors.
func TestReasonsAboveChance(t *testing.T) {
	h, _, e := demoEngine(t, recommend.Options{})
	var recs []recommend.Rec
	var err error
	reasons, popular := 0, 0
	for c := range min(h.NumCustomers(), 500) {
		recs, err = e.Recommend(recs[:0], recommend.Request{CustomerID: affinity.CustomerID(c), ByID: true, K: 10})
		require.NoError(t, err)
		for _, r := range recs {
			if r.Source == recommend.Neighbors {
				require.NotEmpty(t, r.Reasons(), "a neighbour result has evidence")
			}
			if r.Source == recommend.Popular {
				popular++
			}
			for _, rs := range r.Reasons() {
				if rs.Kind.Pair() {
					require.GreaterOrEqual(t, rs.Lift, float32(1), "reason %v for %s", rs, r.Key)
					reasons++
				}
			}
		}
	}
	assert.Positive(t, reasons)
	assert.Positive(t, popular, "some results placed by popularity are labelled so")
}

// TestExcludeNonMerchandise: excluded products are never recommended,
// never reasons, however popular.
func TestExcludeNonMerchandise(t *testing.T) {
	h, nb, _ := demoEngine(t, recommend.Options{})
	// exclude the ten most co-purchased products
	ex := roaring.New()
	for p := range h.Catalog().NumProducts() {
		if nb.Support(affinity.ProductID(p)) > 300 {
			ex.Add(uint32(p))
		}
	}
	require.Positive(t, ex.GetCardinality())
	e, err := recommend.New(context.Background(), h, nb, h.Latest(), recommend.Options{Exclude: ex})
	require.NoError(t, err)
	var recs []recommend.Rec
	for c := range min(h.NumCustomers(), 300) {
		for _, req := range []recommend.Request{
			{CustomerID: affinity.CustomerID(c), ByID: true, K: 20},
			{CustomerID: affinity.CustomerID(c), ByID: true, K: 20, Rules: recommend.Rules{AllowRepeats: true}},
			{Items: []affinity.ProductID{affinity.ProductID(c % h.Catalog().NumProducts())}, K: 20},
		} {
			recs, err = e.Recommend(recs[:0], req)
			require.NoError(t, err)
			for _, r := range recs {
				require.False(t, ex.Contains(uint32(r.Product)), "excluded %s recommended", r.Key)
				for _, rs := range r.Reasons() {
					require.False(t, ex.Contains(uint32(rs.Product)), "excluded %s given as reason", rs.Product)
				}
			}
		}
	}
}

func TestEnumsText(t *testing.T) {
	for _, s := range []recommend.Source{recommend.Neighbors, recommend.Rebuy, recommend.SegmentPopular, recommend.Popular, recommend.Repeat} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, `"`+s.String()+`"`, string(b))
		var back recommend.Source
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
	}
	for _, k := range []recommend.ReasonKind{recommend.Together, recommend.After, recommend.Again} {
		b, err := json.Marshal(k)
		require.NoError(t, err)
		assert.Equal(t, `"`+k.String()+`"`, string(b))
		var back recommend.ReasonKind
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, k, back)
	}
	var s recommend.Source
	assert.Error(t, json.Unmarshal([]byte(`"nope"`), &s))
	_, err := json.Marshal(recommend.Source(99))
	assert.Error(t, err)
	_, err = json.Marshal(recommend.ReasonKind(0))
	assert.Error(t, err)
}
