package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/require"
)

// randomChanges returns a feed of random order changes on h: new orders
// of known and new customers (within 48 steps after its latest order),
// replacements of existing orders with other lines, deletions, and,
// through erase, customers to erase; at most max changes.
func randomChanges(r *rand.Rand, h *affinity.History, round, max int, step time.Duration) (feed []affinity.OrderChange, erase []string) {
	cat := h.Catalog()
	at := h.Latest()
	product := func() string { return cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts()))) }
	lines := func(cust string, t time.Time) []affinity.Purchase {
		ls := make([]affinity.Purchase, 1+r.IntN(4))
		for i := range ls {
			ls[i] = affinity.Purchase{Customer: cust, Product: product(), Time: t, Quantity: int32(1 + r.IntN(2)), Price: 500}
		}
		return ls
	}
	orders := slices.Collect(h.Orders())
	customer := func() string {
		if r.IntN(5) == 0 {
			return fmt.Sprintf("new-%d-%d", round, r.IntN(10))
		}
		return h.CustomerKey(affinity.CustomerID(r.IntN(h.NumCustomers())))
	}
	for i := range 1 + r.IntN(max) {
		v := int64(round*1000 + i)
		switch k := r.IntN(10); {
		case k < 2 && h.NumOrders() > 0: // delete an existing order
			feed = append(feed, affinity.OrderChange{Key: h.OrderKey(orders[r.IntN(len(orders))]), Version: v, Delete: true})
		case k < 5 && h.NumOrders() > 0: // replace an existing order
			o := orders[r.IntN(len(orders))]
			cust := ""
			if c := h.OrderCustomer(o); c != affinity.NoCustomer {
				cust = h.CustomerKey(c)
			}
			feed = append(feed, affinity.OrderChange{Key: h.OrderKey(o), Version: v, Lines: lines(cust, h.OrderTime(o))})
		default: // a new order
			feed = append(feed, affinity.OrderChange{Key: fmt.Sprintf("live-%d-%d", round, i), Version: v,
				Lines: lines(customer(), at.Add(time.Duration(r.IntN(48))*step))})
		}
	}
	if r.IntN(3) == 0 {
		erase = append(erase, h.CustomerKey(affinity.CustomerID(r.IntN(h.NumCustomers()))))
	}
	return feed, erase
}

// TestRefreshMatchesRebuild refreshes a shop with random feeds of new
// orders, replacements, deletions and erasures and checks after each
// refresh that every answer — lines, segment features, neighbours,
// recommendations — equals a full rebuild of the same History. Half the
// seeds send small feeds minutes apart, so that after the first refresh
// (the data ends at 23:59) the segment index is updated within the day
// rather than built; the others large feeds hours apart.
func TestRefreshMatchesRebuild(t *testing.T) {
	ctx := context.Background()
	// the quick suite's four seeds still give every seed%4 feed, both
	// measures and every number of refresh workers
	for seed := range uint64(testdata.Scale(8, 4)) {
		max, step := 30, time.Hour
		if seed%4 >= 2 {
			max, step = 4, time.Minute
		}
		r := rand.New(rand.NewPCG(seed, 41))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 150 + r.IntN(150), Products: 60, Categories: 10, Seed: seed + 1, ViewsPerLine: -1})
		// refreshes and rebuilds on different numbers of workers
		opts := shop.Options{Workers: 1 + int(seed%2), RefreshWorkers: 1 + int(seed%3)}
		if seed%2 == 1 {
			opts.Neighbors, opts.Measure = 5, "bm25"
		}
		s, err := shop.Open(ctx, shop.Storefront(sf), opts)
		require.NoError(t, err)
		for round := range 5 {
			feed, erase := randomChanges(r, s.Snapshot().History(), round, max, step)
			require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Changes(func(yield func(affinity.OrderChange) bool) {
				for _, c := range feed {
					if !yield(c) {
						return
					}
				}
			}), shop.Erase(erase...))))
			got := s.Snapshot()
			full, err := shop.OpenHistory(ctx, got.History(), opts)
			require.NoError(t, err)
			want := full.Snapshot()
			msg := fmt.Sprintf("seed %d round %d", seed, round)
			require.Equal(t, snapshotView(t, want), snapshotView(t, got), msg)
			ws, wn := want.RepeatShare()
			gs, gn := got.RepeatShare()
			require.Equal(t, ws, gs, "%s: repeat share", msg)
			require.Equal(t, wn, gn, "%s: next-basket mode", msg)
			h := got.History()
			for i := range 20 {
				sameAnswer(t, want, got, shop.Request{CustomerID: affinity.CustomerID(i * h.NumCustomers() / 20), ByID: true, K: 5}, msg)
			}
		}
	}
}
