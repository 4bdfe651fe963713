package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestBuilderBaseVersionUnversioned: a base History without any version
// (its orders added, or put at version 0, and no tombstone) holds its
// keyed orders at version 0: BaseVersion answers (0, true) for them, not
// "not held", as a loader needs to know that a version-0 row it reads
// again is the base's. Keys the base's own Builder erased or deleted are
// not held; the Builder's staged changes do not count, before and after
// it starts building on the base.
func TestBuilderBaseVersionUnversioned(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	line := func(c, key string) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: "mug", Order: key, Time: t0, Quantity: 1, Price: 10_000}
	}
	var b affinity.Builder
	for _, l := range []affinity.Purchase{line("ann", "a1"), line("bob", "b1"), line("cat", "c1")} {
		require.NoError(t, b.Add(l))
	}
	require.NoError(t, b.PutOrder("p0", 0, []affinity.Purchase{line("dan", "")}))
	h, err := b.Build(ctx)
	require.NoError(t, err)

	held := func(b *affinity.Builder, keys ...string) map[string]bool {
		got := map[string]bool{}
		for _, k := range keys {
			v, ok := b.BaseVersion(k)
			assert.Zero(t, v, k)
			got[k] = ok
		}
		return got
	}
	next := affinity.NewBuilder(h)
	want := map[string]bool{"a1": true, "b1": true, "c1": true, "p0": true, "d1": false}
	assert.Equal(t, want, held(next, "a1", "b1", "c1", "p0", "d1"), "a fresh Builder on the base")
	require.NoError(t, next.Add(line("dan", "d1")))
	next.EraseCustomer("ann")
	require.NoError(t, next.DeleteOrder("b1", 0))
	assert.Equal(t, want, held(next, "a1", "b1", "c1", "p0", "d1"), "with changes staged")

	h2, err := next.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a1": false, "b1": false, "c1": true, "p0": true, "d1": true},
		held(affinity.NewBuilder(h2), "a1", "b1", "c1", "p0", "d1"), "on the next History")
}
