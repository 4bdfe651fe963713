package recommend_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// seasonalShop: customer "me" bought tape three times and decorations
// twice over 300 days; 60 customers bought tape spread over the year, and
// 60 bought decorations in the last ten days, the season.
func seasonalShop(t *testing.T) *affinity.History {
	t.Helper()
	var b affinity.Builder
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	add := func(cust, order string, d int, prods ...string) {
		for _, p := range prods {
			require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: p, Order: order, Time: day(d), Quantity: 1, Price: 10 * affinity.MoneyScale}))
		}
	}
	add("me", "me1", 10, "decor", "tape")
	add("me", "me2", 100, "decor", "tape")
	add("me", "me3", 200, "tape")
	for i := range 60 {
		add(fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d", i), 10+i*280/60, "tape", "glue")
		add(fmt.Sprintf("s%02d", i), fmt.Sprintf("s%02d", i), 290+i%10, "decor", "lights")
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestNextBasketTrend: in next-basket mode the products the shop sells
// now more than over the year come back first, and without the trend the
// customer's own frequency alone decides.
func TestNextBasketTrend(t *testing.T) {
	h := seasonalShop(t)
	ctx := context.Background()
	idx, err := index(ctx, h, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	asOf := h.Latest()
	first := func(nb recommend.NextBasket) string {
		t.Helper()
		nb.RepeatWeight, nb.Propensity = 1, -1
		e, err := recommend.New(ctx, h, idx, asOf, recommend.Options{NextBasket: nb})
		require.NoError(t, err)
		recs, err := e.Recommend(nil, recommend.Request{Customer: "me", K: 2})
		require.NoError(t, err)
		require.Len(t, recs, 2)
		for _, r := range recs {
			assert.Equal(t, recommend.Repeat, r.Source, r.Key)
		}
		return recs[0].Key
	}
	assert.Equal(t, "decor", first(recommend.NextBasket{}), "the defaults: the season's product first")
	assert.Equal(t, "decor", first(recommend.NextBasket{Demand: -1}), "the trend alone")
	assert.Equal(t, "tape", first(recommend.NextBasket{Trend: -1, Demand: -1}), "frequency alone: the customer's everyday product")

	// the reasons carry the trend, and the explanation states the season's
	e, err := recommend.New(ctx, h, idx, asOf, recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 1}})
	require.NoError(t, err)
	recs, err := e.Recommend(nil, recommend.Request{Customer: "me", K: 2})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, r := range recs {
		require.Len(t, r.Reasons(), 1)
		tr := r.Reasons()[0].Trend
		switch r.Key {
		case "decor": // 60 buyers in ten days against 61 in 290: (60+5)/(2.9+5)
			assert.InDelta(t, 65/(61*14.0/290+5), tr, 0.05)
			assert.Contains(t, r.Explain(e), "; 8.2× its usual buyers in the last 14 days")
		default:
			assert.Less(t, tr, float32(recommend.TrendStated))
			assert.NotContains(t, r.Explain(e), "usual buyers")
		}
	}
	// outside the season (the window before the decorations sold) the
	// everyday product leads again
	e, err = recommend.New(ctx, h, idx, asOf.AddDate(0, 0, -12), recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 1, Propensity: -1}})
	require.NoError(t, err)
	recs, err = e.Recommend(nil, recommend.Request{Customer: "me", K: 1})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "tape", recs[0].Key)

	_, err = recommend.New(ctx, h, idx, asOf, recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 1, TrendWindow: -time.Hour}})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
}
