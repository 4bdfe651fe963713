package recommend_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// TestRepeatCountsPurchasesNotLines: a product entered on two lines of
// one order is one purchase in next-basket mode. A and B were bought in
// the same two orders 30 days apart, A on two lines of the first: they
// have the same frequency, recency and interval, so the same repeat score
// and the same explanation.
func TestRepeatCountsPurchasesNotLines(t *testing.T) {
	ctx := context.Background()
	prods := []affinity.Product{
		{Key: "A", Categories: []string{"X/a"}, InStock: true, Price: 100},
		{Key: "B", Categories: []string{"X/b"}, InStock: true, Price: 100},
		{Key: "C", Categories: []string{"X/c"}, InStock: true, Price: 100},
	}
	h := lineHistory(t, prods, []line{
		{"u", "A", "1", day(0)}, {"u", "A", "1", day(0)}, {"u", "B", "1", day(0)},
		{"u", "A", "2", day(30)}, {"u", "B", "2", day(30)},
		{"v", "C", "1", day(0)},
	})
	lo, hi := h.OrderLines(0)
	require.Equal(t, 3, hi-lo, "A's two lines are kept apart")
	for _, gamma := range []float64{0, 1} {
		nb := recommend.NextBasket{RepeatWeight: 1, IntervalWeight: gamma, Propensity: -1, Trend: -1, Demand: -1}
		e, err := recommend.New(ctx, h, mustIndex(t, h), day(60), recommend.Options{NextBasket: nb})
		require.NoError(t, err)
		recs, err := e.Recommend(nil, recommend.Request{Customer: "u", K: 3})
		require.NoError(t, err)
		byKey := map[string]recommend.Rec{}
		for _, r := range recs {
			byKey[r.Key] = r
		}
		require.Contains(t, byKey, "A")
		require.Contains(t, byKey, "B")
		a, b := byKey["A"], byKey["B"]
		assert.Equal(t, recommend.Repeat, a.Source)
		assert.InDelta(t, b.Score, a.Score, 1e-6, "interval weight %v: A (two lines in one order) against B", gamma)
		require.Len(t, a.Reasons(), 1)
		assert.Equal(t, b.Reasons()[0].Count, a.Reasons()[0].Count, "purchases of A and B")
		assert.EqualValues(t, 2, a.Reasons()[0].Count, "A was bought in two orders")
	}
}
