package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// Each part's History bounds its own gross value; Join bounds the sum
// over the parts: up to MaxMoney the index reads back from its file, one
// unit more is refused rather than wrapping the revenue.
func TestJoinBoundsMonetarySum(t *testing.T) {
	ctx := context.Background()
	at := testAsOf.AddDate(0, 0, -1)
	var b0 affinity.Builder
	require.NoError(t, b0.Add(affinity.Purchase{Customer: "seed", Product: "p", Time: at, Quantity: 1, Price: 1}))
	h0, err := b0.Build(ctx)
	require.NoError(t, err)
	cat := h0.Catalog()
	part := func(first int, prices ...affinity.Money) *segment.Part {
		b := affinity.NewCatalogBuilder(cat)
		for i, price := range prices {
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%07d", first+i), Product: "p", Order: fmt.Sprint(first + i), Time: at, Quantity: 1, Price: price}))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		p, err := segment.BuildPart(ctx, h, testAsOf, segment.Options{})
		require.NoError(t, err)
		return p
	}
	prices := make([]affinity.Money, segment.PartSize)
	prices[0] = affinity.MaxMoney / 10 * 6
	sum := prices[0]
	for i := 1; i < len(prices); i++ {
		prices[i] = 10000
		sum += prices[i]
	}
	full := part(0, prices...)
	rest := affinity.MaxMoney - sum

	x, err := segment.Join(ctx, cat, testAsOf, segment.Options{}, []*segment.Part{full, part(segment.PartSize, rest)})
	require.NoError(t, err, "a sum of MaxMoney")
	all, err := x.Query("all")
	require.NoError(t, err)
	require.Equal(t, affinity.MaxMoney, x.Stats("all", all).Revenue)
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	_, err = segment.ReadIndex(&buf)
	require.NoError(t, err, "the joined index reads back")

	_, err = segment.Join(ctx, cat, testAsOf, segment.Options{}, []*segment.Part{full, part(segment.PartSize, rest+1)})
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	require.ErrorIs(t, err, segment.ErrInvalid)
}
