package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// TestSortedKeys checks SortedKeys against sorting the keys of Keys, for
// random subsets of every density, the empty set and ids past the index.
func TestSortedKeys(t *testing.T) {
	t.Parallel()
	for _, fixed := range []bool{false, true} {
		t.Run(fmt.Sprintf("fixed width %v", fixed), func(t *testing.T) { testSortedKeys(t, fixed) })
	}
}

// testSortedKeys checks SortedKeys, AppendSortedKeys and SortedIDs on
// keys of varying width (short keys prefixes of others), or of one width,
// the index's offset-free case.
func testSortedKeys(t *testing.T, fixed bool) {
	// keys in an order of their own, not that of the ids
	rng := rand.New(rand.NewPCG(1, 9))
	var b affinity.Builder
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5000 { // more customers than sortedRanks walks at a time
		key := strconv.FormatUint(rng.Uint64(), 36)
		switch {
		case fixed:
			key = fmt.Sprintf("c%07d", rng.IntN(1e7))
		case i%10 == 0:
			key = "c" + key[:2] // short keys, prefixes of others
		}
		noErr(t, b.Add(affinity.Purchase{Customer: key, Product: "p", Time: at.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: 1}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, h.Latest(), segment.Options{})
	require.NoError(t, err)
	require.False(t, slices.IsSorted(slices.Collect(x.Keys(x.All()))), "the keys are not in id order")
	n := x.NumCustomers()
	reused := []string{"kept"}
	for _, density := range []float64{0, 0.001, 0.003, 0.01, 0.05, 0.1, 0.3, 1} {
		set := roaring.New()
		for c := range n {
			if rng.Float64() < density {
				set.Add(uint32(c))
			}
		}
		set.Add(uint32(n + 5)) // not a customer of the index
		want := append([]string{}, slices.Sorted(x.Keys(set))...)
		for path := -1; path <= 2; path++ { // the chosen way, then each forced
			restore := segment.SortedPath(path)
			got := x.SortedKeys(set)
			reused = x.AppendSortedKeys(reused[:1], set)
			ids := x.SortedIDs(set)
			restore()
			require.Equal(t, want, got, "density %v, path %d", density, path)
			require.Equal(t, append([]string{"kept"}, want...), reused, "density %v, path %d: appended", density, path)
			require.Len(t, ids, len(want))
			idKeys := make([]string, len(ids))
			for i, c := range ids {
				idKeys[i] = x.CustomerKey(c)
			}
			require.Equal(t, want, idKeys, "density %v, path %d: the keys of SortedIDs", density, path)
		}
	}
	for c := range affinity.CustomerID(n) {
		got, ok := x.LookupCustomer(x.CustomerKey(c))
		require.True(t, ok)
		require.Equal(t, c, got)
	}
	// Spend is the Monetary of Features, for every customer: of
	// FeaturesOf for all of them at once (Features of one customer costs
	// about as much as FeaturesOf of all), and of Features for every 97th
	// and the last, which must be what FeaturesOf holds for them
	all := x.All()
	feats := x.FeaturesOf(all)
	require.Len(t, feats, int(all.GetCardinality()))
	i := 0
	for c := range affinity.CustomerID(n + 2) {
		if !all.Contains(uint32(c)) {
			require.Zero(t, x.Spend(c), "customer %d", c)
			continue
		}
		require.Equal(t, feats[i].Monetary, x.Spend(c), "customer %d", c)
		if i%97 == 0 || i == len(feats)-1 {
			f, ok := x.Features(c)
			require.True(t, ok, "customer %d", c)
			require.Equal(t, feats[i], f, "customer %d: Features is FeaturesOf for one", c)
		}
		i++
	}
	for _, c := range []affinity.CustomerID{affinity.CustomerID(n), affinity.CustomerID(n + 1)} {
		_, ok := x.Features(c)
		require.False(t, ok, "customer %d past the index", c)
	}
}

// BenchmarkSortedKeys lists sets of several sizes from an index of a
// million customers whose keys are in an order of their own, not that of
// the ids (as in a shop whose ids follow the first purchase).
func BenchmarkSortedKeys(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(4, 4))
	x := permutedIndex(b, rng, n)
	x.SortedKeys(roaring.New()) // the key ranking, once
	for _, share := range []float64{0.001, 0.003, 0.01, 0.03, 0.06, 0.12, 0.3, 0.6} {
		set := roaring.New()
		for c := range n {
			if rng.Float64() < share {
				set.Add(uint32(c))
			}
		}
		for path, name := range []string{"chosen", "radix", "marks", "walk"} {
			b.Run("share="+strconv.FormatFloat(share, 'f', -1, 64)+"/"+name, func(b *testing.B) {
				defer segment.SortedPath(path - 1)()
				b.ReportAllocs()
				for b.Loop() {
					x.SortedKeys(set)
				}
			})
		}
		// the chosen way into the last answer's slice (AppendSortedKeys)
		b.Run("share="+strconv.FormatFloat(share, 'f', -1, 64)+"/appended", func(b *testing.B) {
			b.ReportAllocs()
			var keys []string
			for b.Loop() {
				keys = x.AppendSortedKeys(keys[:0], set)
			}
		})
	}
}

// permutedIndex returns the index of n customers whose keys are in an
// order of their own, unrelated to the ids, all of one width.
func permutedIndex(tb testing.TB, rng *rand.Rand, n int) *segment.Index {
	tb.Helper()
	var ab affinity.Builder
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, k := range rng.Perm(n) {
		if err := ab.Add(affinity.Purchase{Customer: "c" + strconv.Itoa(10_000_000+k), Product: "p", Time: at.Add(time.Duration(i) * time.Second), Quantity: 1, Price: 1}); err != nil {
			tb.Fatal(err)
		}
	}
	h, err := ab.Build(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	x, err := segment.Build(context.Background(), h, h.Latest(), segment.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// TestSortedRanksPaths checks each way of ordering a set's keys (radix
// sort of the ranks, marks of the ranks, walk of all keys) against a sort
// of the set's keys, for random sets from empty to all customers, with
// ids beyond the index, on keys in random order.
func TestSortedRanksPaths(t *testing.T) {
	const n = 3000
	rng := rand.New(rand.NewPCG(8, 8))
	x := permutedIndex(t, rng, n)
	for round := range 60 {
		share := []float64{0, 0.001, 0.01, 0.1, 0.4, 0.7, 1}[round%7]
		set := roaring.New()
		for c := range n + 100 { // a hundred ids beyond the index
			if rng.Float64() < share {
				set.Add(uint32(c))
			}
		}
		var want []string
		for _, c := range set.ToArray() {
			if c < n {
				want = append(want, x.CustomerKey(affinity.CustomerID(c)))
			}
		}
		slices.Sort(want)
		var wantIDs []affinity.CustomerID
		for _, k := range want {
			c, _ := x.LookupCustomer(k)
			wantIDs = append(wantIDs, c)
		}
		for path := -1; path <= 2; path++ {
			restore := segment.SortedPath(path)
			keys, ids := x.SortedKeys(set), x.SortedIDs(set)
			restore()
			if len(keys)+len(want) > 0 && !slices.Equal(keys, want) {
				t.Fatalf("round %d, path %d: %d keys, want %d", round, path, len(keys), len(want))
			}
			if len(ids)+len(wantIDs) > 0 && !slices.Equal(ids, wantIDs) {
				t.Fatalf("round %d, path %d: %d ids, want %d", round, path, len(ids), len(wantIDs))
			}
		}
	}
}
