package affinity_test

import (
	"context"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFeedSplitKeepsOrdersNotIDs pins what Builder.Apply promises of a
// feed split into consecutive Builds: the same orders, lines, versions
// and tombstones as the feed in one Builder, but not the same dense ids.
// Each Build numbers the customers of its own surviving puts, and the
// customer of a put that a later Build replaces keeps its id, without
// orders, where one Builder never numbers it.
func TestFeedSplitKeepsOrdersNotIDs(t *testing.T) {
	ctx := context.Background()
	put := func(key string, v int64, cust string) affinity.OrderChange {
		return affinity.OrderChange{Key: key, Version: v, Lines: []affinity.Purchase{
			{Customer: cust, Product: "p", Time: verT0, Quantity: 1, Price: 100}}}
	}
	build := func(base *affinity.History, feed ...affinity.OrderChange) *affinity.History {
		b := affinity.NewBuilder(base)
		for _, c := range feed {
			require.NoError(t, b.Apply(c))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	keys := []string{"k", "k1", "k2"}

	// a put replaced in a later Build leaves its customer
	feed := []affinity.OrderChange{put("k", 1, "a"), put("k", 2, "b")}
	one := build(nil, feed...)
	split := build(build(nil, feed[0]), feed[1])
	assert.Equal(t, verKeyed(one, keys), verKeyed(split, keys))
	assert.Equal(t, 1, one.NumCustomers())
	assert.Equal(t, 2, split.NumCustomers(), "a keeps its id, without orders")

	// the Builds number their puts' customers in turn
	feed = []affinity.OrderChange{put("k1", 2, "b"), put("k2", 1, "a")}
	one = build(nil, feed...)
	split = build(build(nil, feed[0]), feed[1])
	assert.Equal(t, verKeyed(one, keys), verKeyed(split, keys))
	assert.Equal(t, "a", one.CustomerKey(0), "(Version, Key) order in one Builder")
	assert.Equal(t, "b", split.CustomerKey(0), "the first Build's first")
}
