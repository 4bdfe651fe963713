package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuilderBaseVersion: the version of the latest change of a key that
// the base holds, its orders' and its tombstone's, without the changes
// staged in the Builder itself.
func TestBuilderBaseVersion(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	line := func(c, p string) []affinity.Purchase {
		return []affinity.Purchase{{Customer: c, Product: p, Time: t0, Quantity: 1, Price: 10_000}}
	}
	var b affinity.Builder
	_, ok := b.BaseVersion("a")
	assert.False(t, ok, "no base")
	require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "mug", Order: "added", Time: t0, Quantity: 1}))
	require.NoError(t, b.PutOrder("put", 7, line("bob", "tea")))
	require.NoError(t, b.PutOrder("gone", 3, line("cat", "pen")))
	require.NoError(t, b.DeleteOrder("gone", 9))
	require.NoError(t, b.DeleteOrder("never", 4))
	h, err := b.Build(ctx)
	require.NoError(t, err)

	next := affinity.NewBuilder(h)
	require.NoError(t, next.PutOrder("put", 20, line("bob", "cake"))) // staged: not the base's
	for key, want := range map[string]int64{"added": 0, "put": 7, "gone": 9, "never": 4} {
		v, ok := next.BaseVersion(key)
		assert.True(t, ok, key)
		assert.Equal(t, want, v, key)
	}
	for _, key := range []string{"unknown", ""} {
		_, ok := next.BaseVersion(key)
		assert.False(t, ok, "%q", key)
	}
}
