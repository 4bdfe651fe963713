package shop_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// TestRefreshReleasesOldSnapshots: a long-running shop refreshes all day,
// and each refresh builds its snapshot from the previous one (History on
// its base, counts recounted, engine renewed, value fits carried). None of
// the parts may keep the snapshot before it alive: once nothing else holds
// an old snapshot, it and its History, neighbours and engine are
// garbage, however many refreshes followed. Of the old segment indexes
// one may live on: the full index that later ones were updated from
// (segment.Update lays the changed customers over it).
func TestRefreshReleasesOldSnapshots(t *testing.T) {
	ctx := context.Background()
	// the demo storefront; in the quick suite a smaller one of its shape:
	// what is checked is what each refresh keeps alive, not the size
	s, err := shop.Open(ctx, shop.Storefront(demoSized()), shop.Options{})
	require.NoError(t, err)
	type held struct {
		snap  weak.Pointer[shop.Snapshot]
		h     weak.Pointer[affinity.History]
		seg   func() bool   // whether the segment index is still alive
		parts []func() bool // whether each other part is still alive
	}
	var old []held
	refreshes := testdata.Scale(4, 2) // two: the second's base is itself a refreshed snapshot
	for i := range refreshes {
		snap := s.Snapshot()
		// use what a refresh may carry over: the value fits and a request
		_, err := snap.Value(ctx)
		require.NoError(t, err)
		_, err = snap.Recommend(ctx, shop.Request{Customer: snap.History().CustomerKey(0), K: 5})
		require.NoError(t, err)
		seg, nb, eng := weak.Make(snap.Segments()), weak.Make(snap.Neighbors()), weak.Make(snap.Engine())
		old = append(old, held{
			snap: weak.Make(snap),
			h:    weak.Make(snap.History()),
			seg:  func() bool { return seg.Value() != nil },
			parts: []func() bool{
				func() bool { return nb.Value() != nil },
				func() bool { return eng.Value() != nil },
			},
		})
		at := snap.History().Latest().Add(time.Hour)
		lines := []affinity.Purchase{
			{Customer: snap.History().CustomerKey(affinity.CustomerID(i)), Order: fmt.Sprintf("live-%d", i), Product: snap.History().Catalog().ProductKey(affinity.ProductID(i)), Time: at, Quantity: 1, Price: 990_000},
			{Customer: fmt.Sprintf("new-%d", i), Order: fmt.Sprintf("live-new-%d", i), Product: snap.History().Catalog().ProductKey(affinity.ProductID(i + 1)), Time: at, Quantity: 2, Price: 450_000},
		}
		snap = nil
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(lines))))
	}
	runtime.GC()
	runtime.GC()
	segs := 0
	for i, o := range old {
		require.True(t, o.snap.Value() == nil, "snapshot %d is still alive after %d refreshes", i, len(old)-i)
		require.True(t, o.h.Value() == nil, "History of snapshot %d is still alive", i)
		for j, alive := range o.parts {
			require.False(t, alive(), "part %d (neighbours, engine) of snapshot %d is still alive", j, i)
		}
		if o.seg() {
			segs++
		}
	}
	require.LessOrEqual(t, segs, 1, "old segment indexes alive")
	// the current snapshot is another matter: the shop holds it
	cur := weak.Make(s.Snapshot())
	runtime.GC()
	require.True(t, cur.Value() != nil)
	require.Equal(t, testdata.Scale(5000, 1500)+refreshes, s.Snapshot().History().NumCustomers()) // demoSized
}
