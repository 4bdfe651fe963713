package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestUnstageRestoresBuilder: Staged returns the winning change of a key
// (a copy), and Unstage then Apply of that change puts a Builder back as
// it was before a later put: Gross, HoldsOrder and the History built.
func TestUnstageRestoresBuilder(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	line := func(prod string, price affinity.Money) affinity.Purchase {
		return affinity.Purchase{Customer: "amy", Order: "o1", Product: prod, Time: t0, Quantity: 1, Price: price}
	}
	var b0 affinity.Builder
	require.NoError(t, b0.PutOrder("o1", 1, []affinity.Purchase{line("a", 10), line("b", 5)}))
	base, err := b0.Build(ctx)
	require.NoError(t, err)

	for _, earlier := range []bool{false, true} {
		b := affinity.NewBuilder(base)
		if earlier {
			require.NoError(t, b.PutOrder("o1", 2, []affinity.Purchase{line("c", 7)}))
		}
		before, had := b.Staged("o1")
		require.Equal(t, earlier, had)
		gross, holds := b.Gross(), b.HoldsOrder("o1", []affinity.Purchase{line("a", 10), line("b", 5)})

		require.NoError(t, b.PutOrder("o1", 3, []affinity.Purchase{line("d", 100)}))
		got, ok := b.Staged("o1")
		require.True(t, ok)
		assert.Equal(t, int64(3), got.Version)
		require.Len(t, got.Lines, 1)
		got.Lines[0].Product = "changed" // a copy: the Builder keeps its own
		b.Unstage("o1")
		b.Unstage("o1") // nothing staged: no change
		if had {
			require.NoError(t, b.Apply(before))
		}
		assert.Equal(t, gross, b.Gross())
		assert.Equal(t, holds, b.HoldsOrder("o1", []affinity.Purchase{line("a", 10), line("b", 5)}))
		h, err := b.Build(ctx)
		require.NoError(t, err)
		var prods []string
		for p := range h.Purchases() {
			prods = append(prods, p.Product)
		}
		if earlier {
			assert.Equal(t, []string{"c"}, prods)
		} else {
			assert.Same(t, base, h, "nothing staged: the base is the History")
		}
	}
}
