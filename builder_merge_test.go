package affinity_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/require"
)

// TestMergedIndexMatchesFullIndex applies random feeds of puts, deletes
// and erasures, and random additions, to a base History and checks that
// the History a Builder from the base builds — first and last purchases
// and buyer bitmaps patched from the base's — is exactly the one the full
// index builds from the same Builder.
func TestMergedIndexMatchesFullIndex(t *testing.T) {
	build2 := func(t *testing.T, fn func() *affinity.History) (merged, full historyView) {
		merged = viewHistory(fn())
		was := affinity.SetMergeIndex(false)
		defer affinity.SetMergeIndex(was)
		return merged, viewHistory(fn())
	}
	for seed := range uint64(testdata.Scale(200, 40)) {
		r := rand.New(rand.NewPCG(seed, 21))
		f := genOrderFixture(r, r.IntN(60), r.IntN(30))
		base := buildFixture(t, nil, orderFixture{products: f.products, base: f.base, events: f.events})
		merged, full := build2(t, func() *affinity.History { return buildFixture(t, base, f, f.feed) })
		require.Equal(t, full, merged, "seed %d: feed on a base", seed)

		recs := genRecords(r, 1+r.IntN(200))
		k := r.IntN(len(recs) + 1)
		h1 := build(t, nil, recs[:k])
		merged, full = build2(t, func() *affinity.History { return build(t, h1, recs[k:]) })
		require.Equal(t, full, merged, "seed %d: records added at %d", seed, k)
	}
}

// TestMergedIndexFewCustomers adds orders of a few customers to a History
// of many, the case the merged index is for.
func TestMergedIndexFewCustomers(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	recs := genRecords(r, 5000)
	h1 := build(t, nil, recs)
	var more []record
	for i := range 40 {
		rec := recs[r.IntN(len(recs))]
		if rec.purchase == nil {
			continue
		}
		p := *rec.purchase
		p.Order = fmt.Sprintf("new-%d", i%7)
		p.Product = fmt.Sprintf("brand-new-%d", i%3)
		more = append(more, record{purchase: &p})
	}
	merged := viewHistory(build(t, h1, more))
	was := affinity.SetMergeIndex(false)
	defer affinity.SetMergeIndex(was)
	require.Equal(t, viewHistory(build(t, h1, more)), merged)
}
