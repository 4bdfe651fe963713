package shop_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of Shop.Refresh with sources that change nothing of
// the History: order changes already applied (deletes delivered again,
// deletes of keys the shop never had, a put and its delete in one feed)
// and erasures of keys already erased. Refresh: "A source that changes
// nothing ... leaves the snapshot as it is" — the same *Snapshot — and
// affinity.NewBuilder: "Build without any change returns base itself".

var stgT0 = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)

func stgChanges(cs ...affinity.OrderChange) shop.Source { return shop.Changes(slices.Values(cs)) }

func stgDel(key string, v int64) affinity.OrderChange {
	return affinity.OrderChange{Key: key, Version: v, Delete: true}
}

// stgOpen opens a shop of 6 customers, 5 products and 16 orders o0..o15
// (o15 anonymous), with events of a browser, and closes it at the end.
func stgOpen(t *testing.T, opts shop.Options) *shop.Shop {
	t.Helper()
	var lines []affinity.Purchase
	for o := range 16 {
		c := fmt.Sprintf("c%d", o%6)
		if o == 15 {
			c = ""
		}
		for j := range 1 + o%3 {
			lines = append(lines, affinity.Purchase{Customer: c, Product: fmt.Sprintf("p%d", (o+j)%5), Order: fmt.Sprintf("o%d", o),
				Time: stgT0.Add(time.Duration(o) * 24 * time.Hour), Quantity: 1, Price: affinity.Money(10_000 * (1 + j))})
		}
	}
	events := []affinity.Event{
		{Customer: "browser", Product: "p1", Time: stgT0.Add(20 * 24 * time.Hour), Kind: affinity.Cart, Weight: 1},
		{Customer: "c1", Product: "p2", Time: stgT0.Add(21 * 24 * time.Hour), Kind: affinity.View, Weight: 1},
	}
	src := shop.Sources(shop.Purchases(slices.Values(lines)), shop.SourceFunc(func(_ context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, e := range events {
			if err := b.AddEvent(e); err != nil {
				return dataset.Report{}, err
			}
		}
		return dataset.Report{Rows: len(events)}, nil
	}))
	s, err := shop.Open(context.Background(), src, opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// TestStgRefreshNothingKeepsSnapshot: after deletes and erasures are
// applied, delivering them again — alone, with deletes of keys the shop
// never had, with a put and a later delete of a new key, with erasures of
// unknown keys, in one source or several — keeps the same snapshot, the
// same History and the fit; a real change afterwards is still applied.
// A delete at a version other than 0 that the History does not keep yet
// (of a key never seen, or newer than the one kept) is kept as a
// tombstone, so that the put it beat is refused in later refreshes: its
// first delivery gives a snapshot of the same orders, and the next one
// keeps that snapshot.
func TestStgRefreshNothingKeepsSnapshot(t *testing.T) {
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			stgRefreshNothing(t, shop.Options{Model: model, Neighbors: 5, HalfLife: 30 * 24 * time.Hour, Workers: 1, RefreshWorkers: 1})
		})
	}
}

func stgRefreshNothing(t *testing.T, opts shop.Options) {
	ctx := context.Background()
	s := stgOpen(t, opts)
	// the changes, applied once
	require.NoError(t, s.Refresh(ctx, stgChanges(stgDel("o3", 5), stgDel("o15", 1))))
	require.NoError(t, s.Refresh(ctx, shop.Erase("c2", "browser")))
	require.NoError(t, s.WaitModel(ctx))
	h := s.Snapshot().History()
	_, ok := h.LookupOrder("o3")
	require.False(t, ok)
	_, ok = h.LookupCustomer("c2")
	require.False(t, ok)

	put := affinity.OrderChange{Key: "n1", Version: 1, Lines: []affinity.Purchase{
		{Customer: "newcomer", Product: "p9", Time: stgT0.Add(40 * 24 * time.Hour), Quantity: 1, Price: 10_000}}}
	sources := []struct {
		name string
		tomb bool // keeps a delete the History does not keep yet
		src  shop.Source
	}{
		{"deletes again, same versions", false, stgChanges(stgDel("o3", 5), stgDel("o15", 1))},
		{"deletes again, other versions", true, stgChanges(stgDel("o3", 4), stgDel("o15", math.MaxInt64))},
		{"deletes of the erased customer's orders", false, stgChanges(stgDel("o2", 0), stgDel("o8", 0), stgDel("o14", 0))},
		{"deletes of keys never seen", true, stgChanges(stgDel("zz", 0), stgDel("o99", 3))},
		{"a put and its delete", true, stgChanges(put, stgDel("n1", 1))},
		{"a delete and an older put", true, stgChanges(stgDel("n1", 2), put)},
		{"a put without lines", true, stgChanges(affinity.OrderChange{Key: "n2", Version: 7})},
		{"erasures again", false, shop.Erase("c2", "browser", "c2")},
		{"erasures of unknown keys", false, shop.Erase("nobody", "")},
		{"all of it in one source", true, shop.Sources(stgChanges(stgDel("o3", 5), put, stgDel("n1", 9)), shop.Erase("c2", "nobody"),
			stgChanges(stgDel("o15", 0)))},
		{"nothing", false, stgChanges()},
	}
	for _, tc := range sources {
		if tc.tomb {
			before := s.Snapshot()
			require.NoError(t, s.Refresh(ctx, tc.src), tc.name)
			after := s.Snapshot()
			assert.False(t, before == after, "%s: a tombstone: a new snapshot", tc.name)
			assert.Equal(t, before.History().Summary(), after.History().Summary(), "%s: of the same orders", tc.name)
			ch, ok := after.History().ChangedSince(before.History())
			assert.True(t, ok, tc.name)
			assert.Empty(t, ch.Customers, tc.name)
			require.NoError(t, s.WaitModel(ctx))
		}
		before := s.Snapshot()
		require.NoError(t, s.Refresh(ctx, tc.src), tc.name)
		after := s.Snapshot()
		assert.True(t, before == after, "%s: the source changes nothing: the snapshot stays", tc.name)
		assert.True(t, before.History() == after.History(), "%s: and so does the History", tc.name)
		assert.True(t, after.ModelCurrent(), tc.name)
		_, ok := after.History().LookupCustomer("newcomer")
		assert.False(t, ok, "%s: a put deleted in the same feed interns nobody", tc.name)
		_, ok = after.History().Catalog().LookupProduct("p9")
		assert.False(t, ok, "%s: nor a product", tc.name)
	}

	// a real change is still applied after all that: a put newer than
	// the delete of n1 kept at version 9
	put.Version = 10
	before := s.Snapshot()
	require.NoError(t, s.Refresh(ctx, stgChanges(put)))
	got := s.Snapshot()
	require.False(t, before == got, "a put of a new order is a change")
	c, ok := got.History().LookupCustomer("newcomer")
	require.True(t, ok)
	lo, hi := got.History().CustomerOrders(c)
	assert.Equal(t, 1, int(hi-lo))
	ch, ok := got.History().ChangedSince(before.History())
	require.True(t, ok)
	assert.Equal(t, []affinity.CustomerID{c}, ch.Customers)
	res, err := got.Recommend(ctx, shop.Request{Customer: "newcomer", K: 3})
	require.NoError(t, err)
	assert.True(t, res.Known)
}
