package similarity_test

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
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/require"
)

// requireSameLists checks that got holds want's neighbours, list for list.
func requireSameLists(t *testing.T, want, got *similarity.Index, msg string) {
	t.Helper()
	require.Equal(t, want.NumProducts(), got.NumProducts(), msg)
	require.Equal(t, want.NumNeighbors(), got.NumNeighbors(), msg)
	require.Equal(t, want.Total(), got.Total(), msg)
	for a := range affinity.ProductID(want.NumProducts()) {
		if !sameSlice(want.Neighbors(a), got.Neighbors(a)) || want.Support(a) != got.Support(a) {
			require.Equal(t, want.Neighbors(a), got.Neighbors(a), "%s: neighbours of %d", msg, a)
			require.Equal(t, want.Support(a), got.Support(a), "%s: support of %d", msg, a)
		}
	}
}

// TestReindexMatchesNewIndex renews the neighbour index over random
// Histories and random feeds of new lines, order replacements, deletions
// and erasures, with random measures, K, minimum support and shrinkage,
// refresh after refresh (each renewing the last renewal), and checks every
// list against NewIndex of the same counts. It also checks that the
// partial paths ran: rows merged from their previous list, and merges
// that fell back to a full selection.
func TestReindexMatchesNewIndex(t *testing.T) {
	ctx := context.Background()
	measures := []similarity.Measure{similarity.Jaccard, similarity.Cosine, similarity.Confidence, similarity.Dice,
		similarity.Overlap, similarity.Lift, similarity.PMI, similarity.Conviction}
	var renewed, selected, merged, fallback int
	for seed := range uint64(testdata.Scale(300, 60)) {
		r := rand.New(rand.NewPCG(seed, 41))
		g := &recountGen{r: r, nCust: 2 + r.IntN(40), nProd: 2 + r.IntN(60), nKey: 1 + r.IntN(80), t0: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
		io := similarity.IndexOptions{Measure: measures[r.IntN(len(measures))], K: 1 + r.IntN(5), MinSupport: 1 + r.IntN(2), Workers: 1 + r.IntN(2)}
		if r.IntN(3) == 0 {
			io.Shrinkage = 2
		}
		var b affinity.Builder
		for range 20 + r.IntN(400) {
			require.NoError(t, b.Add(g.line(g.cust(), g.key())))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		asOf := g.t0.Add(48 * time.Hour)
		counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
		require.NoError(t, err)
		idx, err := similarity.NewIndex(ctx, counts, io)
		require.NoError(t, err)
		version := int64(0)
		for step := range 4 {
			nb := affinity.NewBuilder(h)
			for range 1 + r.IntN(3) {
				version++
				g.change(t, nb, version)
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			counts2, err := similarity.Recount(ctx, counts, h, h2, asOf, similarity.CountOptions{})
			require.NoError(t, err)
			msg := fmt.Sprintf("seed %d step %d %+v", seed, step, io)
			got, full, sel, mer, fb, err := similarity.ReindexStats(ctx, idx, counts, counts2, io)
			require.NoError(t, err, msg)
			want, err := similarity.NewIndex(ctx, counts2, io)
			require.NoError(t, err)
			requireSameLists(t, want, got, msg)
			if !full {
				renewed++
				require.Equal(t, want.NumProducts(), sel+mer+countCopied(want, sel, mer), msg)
			}
			selected, merged, fallback = selected+sel, merged+mer, fallback+fb
			h, counts, idx = h2, counts2, got
		}
	}
	t.Logf("renewed %d indexes: %d rows selected in full (%d of them fallbacks), %d merged", renewed, selected, fallback, merged)
	require.Positive(t, renewed, "no index was renewed")
	require.Positive(t, merged, "no row was merged")
	require.Positive(t, fallback, "no merge fell back")
}

// countCopied returns the rows of x that were neither selected nor merged.
func countCopied(x *similarity.Index, selected, merged int) int {
	return x.NumProducts() - selected - merged
}

// TestReindexFallsBack checks that Reindex is NewIndex, and says so, when
// it cannot renew: other options, counts that are not a recount of the
// previous ones, an index built from other counts, a measure that depends
// on a number of transactions that changed.
func TestReindexFallsBack(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 400, Products: 60, Seed: 7, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	io := similarity.IndexOptions{Measure: similarity.Cosine, K: 5}
	idx, err := similarity.NewIndex(ctx, counts, io)
	require.NoError(t, err)
	b := affinity.NewBuilder(h)
	cat := h.Catalog()
	require.NoError(t, b.Add(affinity.Purchase{Customer: h.CustomerKey(3), Product: cat.ProductKey(1), Order: "new",
		Time: asOf, Quantity: 1, Price: 100}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: h.CustomerKey(3), Product: cat.ProductKey(2), Order: "new",
		Time: asOf, Quantity: 1, Price: 100}))
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	counts2, err := similarity.Recount(ctx, counts, h, h2, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	again, err := similarity.Count(ctx, h2, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	other, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	otherIdx, err := similarity.NewIndex(ctx, other, io)
	require.NoError(t, err)

	for _, c := range []struct {
		name       string
		prev       *similarity.Index
		prevCounts *similarity.Counts
		counts     *similarity.Counts
		opts       similarity.IndexOptions
		full       bool
	}{
		{"renewed", idx, counts, counts2, io, false},
		{"other K", idx, counts, counts2, similarity.IndexOptions{Measure: similarity.Cosine, K: 6}, true},
		{"other measure", idx, counts, counts2, similarity.IndexOptions{Measure: similarity.Jaccard, K: 5}, true},
		{"other shrinkage", idx, counts, counts2, similarity.IndexOptions{Measure: similarity.Cosine, K: 5, Shrinkage: 1}, true},
		{"counted anew", idx, counts, again, io, true},
		{"index of other counts", otherIdx, counts, counts2, io, true},
		{"lift with a new transaction", idx, counts, counts2, similarity.IndexOptions{Measure: similarity.Lift, K: 5}, true},
		{"no previous index", nil, counts, counts2, io, true},
		{"no previous counts", idx, nil, counts2, io, true},
		{"BM25", idx, counts, counts2, similarity.IndexOptions{Measure: similarity.BM25, K: 5}, true},
	} {
		got, full, _, merged, _, err := similarity.ReindexStats(ctx, c.prev, c.prevCounts, c.counts, c.opts)
		require.NoError(t, err, c.name)
		require.Equal(t, c.full, full, c.name)
		want, err := similarity.NewIndex(ctx, c.counts, c.opts)
		require.NoError(t, err, c.name)
		requireSameLists(t, want, got, c.name)
		if !c.full {
			require.Positive(t, merged, c.name)
		}
	}
	_, err = similarity.Reindex(ctx, idx, counts, counts2, similarity.IndexOptions{Measure: similarity.EASE})
	require.Error(t, err, "EASE is not a co-occurrence measure")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = similarity.Reindex(cancelled, idx, counts, counts2, io)
	require.ErrorIs(t, err, context.Canceled)
}

// TestReindexIsProportional adds one order of the four best sellers to a
// synthetic shop of a thousand products and checks that Reindex selected
// only a small share of the rows again in full: the rows of the order's
// products and the merges that fell back; the rows that hold one of them
// are merged.
func TestReindexIsProportional(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(20_000, 5_000), Products: 1_000, Seed: 11, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	io := similarity.IndexOptions{Measure: similarity.Cosine}
	idx, err := similarity.NewIndex(ctx, counts, io)
	require.NoError(t, err)
	b := affinity.NewBuilder(h)
	cat := h.Catalog()
	// the four best sellers: the longest rows, in most other rows
	ps := make([]affinity.ProductID, cat.NumProducts())
	for p := range ps {
		ps[p] = affinity.ProductID(p)
	}
	slices.SortStableFunc(ps, func(a, b affinity.ProductID) int { return counts.Support(b) - counts.Support(a) })
	for _, p := range ps[:4] {
		require.NoError(t, b.Add(affinity.Purchase{Customer: h.CustomerKey(42), Product: cat.ProductKey(p),
			Order: "live-1", Time: asOf, Quantity: 1, Price: 100}))
	}
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	counts2, err := similarity.Recount(ctx, counts, h, h2, asOf, similarity.CountOptions{})
	require.NoError(t, err)
	got, full, selected, merged, fallback, err := similarity.ReindexStats(ctx, idx, counts, counts2, io)
	require.NoError(t, err)
	want, err := similarity.NewIndex(ctx, counts2, io)
	require.NoError(t, err)
	requireSameLists(t, want, got, "one order")
	t.Logf("%d products: %d rows selected in full (%d fallbacks), %d merged", cat.NumProducts(), selected, fallback, merged)
	require.False(t, full)
	require.GreaterOrEqual(t, selected, 4, "the order's products are selected again")
	require.Less(t, selected, cat.NumProducts()/20, "at most one row in 20 selected in full")
	require.Positive(t, merged)
}
