package shop_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// TestProfileShopReportsSegmentInline pins what Options.Progress says of
// a shop that serves profiles: a refresh builds the segment index before
// the swap, its "segment" step starts and ends before "count" starts,
// and all of it is reported before Refresh returns.
func TestProfileShopReportsSegmentInline(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var steps []string
	record := func(p affinity.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Done == 0 {
			steps = append(steps, p.Step+" start")
		} else if p.Done == p.Total {
			steps = append(steps, p.Step+" end")
		}
	}
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 20, Categories: 4, Seed: 6, ViewsPerLine: -1})
	s, err := shop.Open(ctx, shop.Storefront(sf), shop.Options{Model: "neighbours", Workers: 1, Progress: record})
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	h := snap.History()
	_, err = snap.Profile(ctx, h.CustomerKey(0)) // the shop serves profiles
	require.NoError(t, err)
	mu.Lock()
	steps = nil
	mu.Unlock()
	var more []affinity.Purchase
	for c := range 5 {
		more = append(more, affinity.Purchase{Customer: h.CustomerKey(affinity.CustomerID(c)), Product: h.Catalog().ProductKey(0),
			Order: fmt.Sprint("p-", c), Time: snap.AsOf().Add(-time.Hour), Quantity: 1, Price: 1000})
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(more))))
	mu.Lock()
	got := slices.Clone(steps)
	mu.Unlock()
	segEnd, count := slices.Index(got, "segment end"), slices.Index(got, "count start")
	require.NotEqual(t, -1, segEnd, "no end of the segment step before Refresh returned: %v", got)
	require.NotEqual(t, -1, count, "no count step: %v", got)
	assert.Less(t, slices.Index(got, "segment start"), segEnd, "%v", got)
	assert.Less(t, segEnd, count, "the segment step ran beside or after the others: %v", got)
}
