package segment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// TestTopRanksBySpendNotRoundedShare: $10,000.01 on B ranks before
// $10,000.00 on A, with or without a half-life, though both shares round
// to 0.5. The rank compared the rounded shares, and A's two items won.
func TestTopRanksBySpendNotRoundedShare(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "a", Categories: []string{"A"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "b", Categories: []string{"B"}}))
	at := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "a", Order: "1", Time: at, Quantity: 2, Price: 5000 * affinity.MoneyScale}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "b", Order: "1", Time: at, Quantity: 1, Price: 10000*affinity.MoneyScale + affinity.MoneyScale/100}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	for _, o := range []segment.Options{{}, {HalfLife: 30 * segment.Day}} {
		x, err := segment.Build(ctx, h, at.Add(time.Hour), o)
		require.NoError(t, err)
		for q, want := range map[string]uint64{
			`top("B", 1)`: 1, `rank("B") = 1`: 1, `rank("A") = 2`: 1, `top("A", 1)`: 0,
		} {
			r, err := x.Query(q)
			require.NoError(t, err, q)
			assert.Equal(t, want, r.GetCardinality(), "%s, half-life %v", q, o.HalfLife)
		}
	}
}
