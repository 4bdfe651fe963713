package recommend

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestPopularityMatchesNaive checks the fixed-point popularity against a
// float64 sum of 2^(−age/halfLife) over the bought lines and weighted
// events, for random shops, half-lives and event weights up to absurd
// ones (whose fixed point has fewer bits), half-lives of hours to a
// year, as of the latest time and earlier: every product within a millionth of the largest value, plus
// the fixed point's resolution.
func TestPopularityMatchesNaive(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(12) {
		r := rand.New(rand.NewPCG(seed, 21))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 50 + r.IntN(200), Products: 20 + r.IntN(60), Categories: 3, Seed: seed + 1})
		h, err := sf.History(ctx)
		require.NoError(t, err)
		np := h.Catalog().NumProducts()
		var ew [affinity.Wishlist + 1]float32
		absurd := seed%4 == 3 // a weight that leaves the fixed point fewer bits
		for k := range ew {
			ew[k] = []float32{0, 0.1, 1, 3}[r.IntN(4)]
			if absurd {
				ew[k] = 1e12
			}
		}
		phl := float64((1 + r.IntN(400)) * 24 * 3600)
		if seed%3 == 1 {
			phl = float64((1 + r.IntN(48)) * 3600) // hours: blocks of a few half-lives
		}
		asOf := h.Latest().Unix() - int64(r.IntN(3))*int64(r.IntN(90))*24*3600
		got, err := newPopularity(ctx, h, np, asOf, phl, ew, newBitset(np))
		require.NoError(t, err)
		want := naivePopularity(h, np, asOf, phl, ew)
		top := 0.0
		for _, v := range want {
			top = max(top, v)
		}
		// a line's weight is kept to 2^−shift of its full weight
		tol := 1e-6*top + 1e-9 + float64(h.NumLines()+h.NumEvents())*math.Ldexp(1, -got.shift)*math.Exp2(float64(got.ref-asOf)/phl)
		if absurd {
			require.Less(t, got.shift, 32, "seed %d: weights of 1e12 keep 32 bits", seed)
		}
		for p, v := range want {
			require.InDelta(t, v, float64(got.pop[p]), tol, "seed %d, product %d (weights %v, half-life %v)", seed, p, ew, time.Duration(phl)*time.Second)
		}
		require.InDelta(t, 1, float64(got.popNorm[got.popOrder[0]]), 1e-9, "seed %d: the first of popOrder has the greatest popularity", seed)
	}
}

// TestPopularityAsOfIgnoresLaterData: the popularity of a History as of
// T, whose fixed point is sized for its lines and events (popShift), is
// that of the History cut at T, with an event weight that puts the
// boundary of the fixed point between the two: the lines after T do not
// size it. Renewed onto the whole History from the cut one, it is what a
// full pass computes.
func TestPopularityAsOfIgnoresLaterData(t *testing.T) {
	ctx := context.Background()
	differ := 0
	for seed := range uint64(testdata.Scale(12, 4)) {
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100, Products: 40, Categories: 3, Seed: seed + 1})
		full, err := sf.History(ctx)
		require.NoError(t, err)
		latest := full.Latest().Unix()
		const phl = 400 * 24 * 3600.0
		start := popRef(latest, phl) - popBlock(phl)
		asOf := start + (latest-start)/2 // in the block of latest: a renewal can keep the sums
		cut := *sf
		cut.Purchases, cut.Events = nil, nil
		var later []affinity.Purchase
		for _, p := range sf.Purchases {
			if p.Time.Unix() <= asOf {
				cut.Purchases = append(cut.Purchases, p)
			} else {
				later = append(later, p)
			}
		}
		for _, e := range sf.Events {
			if e.Time.Unix() <= asOf {
				cut.Events = append(cut.Events, e)
			}
		}
		past, err := cut.History(ctx)
		require.NoError(t, err)
		nPast, nFull := past.NumLines()+past.NumEvents(), full.NumLines()+full.NumEvents()
		if nFull-nPast < 8 {
			continue
		}
		var ew [affinity.Wishlist + 1]float32
		ew[affinity.View] = float32(math.Ldexp(1, 40) / float64(nPast+(nFull-nPast)/2))
		np := full.Catalog().NumProducts()
		want, err := newPopularity(ctx, past, np, asOf, phl, ew, newBitset(np))
		require.NoError(t, err)
		got, err := newPopularity(ctx, full, np, asOf, phl, ew, newBitset(np))
		require.NoError(t, err)
		if popShift(nFull, ew) != want.shift {
			differ++
		}
		require.Equal(t, want.shift, got.shift, "seed %d: fixed point as of T", seed)
		require.Equal(t, want.sums, got.sums, "seed %d: sums as of T", seed)
		require.Equal(t, want.pop, got.pop, "seed %d", seed)

		// renewed onto the History with the lines after T
		b := affinity.NewBuilder(past)
		for _, p := range later {
			require.NoError(t, b.Add(p))
		}
		for _, e := range sf.Events {
			if e.Time.Unix() > asOf {
				require.NoError(t, b.AddEvent(e))
			}
		}
		next, err := b.Build(ctx)
		require.NoError(t, err)
		for _, at := range []int64{asOf, latest} {
			scratch, err := newPopularity(ctx, next, np, at, phl, ew, newBitset(np))
			require.NoError(t, err)
			renewed, err := renewPopularity(ctx, want, past, next, np, at, phl, ew, newBitset(np))
			require.NoError(t, err)
			require.Equal(t, scratch.shift, renewed.shift, "seed %d, renewed as of %d", seed, at)
			require.Equal(t, scratch.sums, renewed.sums, "seed %d, renewed as of %d", seed, at)
			require.Equal(t, scratch.pop, renewed.pop, "seed %d, renewed as of %d", seed, at)
		}
	}
	require.Positive(t, differ, "a fixed point sized for every line would differ")
}
