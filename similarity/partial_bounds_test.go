package similarity_test

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// A small Partial that names a product id near 2^32 — as a corrupt or
// hostile intermediate file may, and still decode — splits into blocks
// in memory bounded by its pairs, not by the largest id.
func TestPartialBlocksOfLargeIDAllocateLittle(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p, err := similarity.NewPartial(asOf, similarity.CountOptions{})
	require.NoError(t, err)
	big := affinity.ProductID(math.MaxUint32 - 1)
	require.NoError(t, p.Add(similarity.Transaction{Customer: "c", Orders: []similarity.TxOrder{
		{Key: "o", Unix: asOf.Unix() - 60, Products: []affinity.ProductID{3, big}},
	}}))
	enc, err := p.MarshalBinary()
	require.NoError(t, err)
	var q similarity.Partial
	require.NoError(t, q.UnmarshalBinary(enc))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	blocks, err := q.Blocks(1)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated by Blocks(1)")

	require.Len(t, blocks, 2)
	require.Equal(t, 3, blocks[0].Index)
	require.Equal(t, int(big), blocks[1].Index)
	// the blocks and the marginals give the Partial back
	m := q.Marginals()
	for _, b := range blocks {
		require.NoError(t, m.Merge(b.Pairs))
	}
	got, err := m.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, enc, got)

	// wider blocks: both rows in block 0 of 2^32 rows, none empty listed
	blocks, err = q.Blocks(math.MaxUint32)
	require.NoError(t, err)
	require.Len(t, blocks, 1)
	require.Zero(t, blocks[0].Index)
}

// A Partial without pairs has no blocks.
func TestPartialBlocksOfNoPairs(t *testing.T) {
	p, err := similarity.NewPartial(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), similarity.CountOptions{})
	require.NoError(t, err)
	blocks, err := p.Blocks(7)
	require.NoError(t, err)
	require.Empty(t, blocks)
}

// The window counts in the Sequential scope only: Basket and Customer
// Partials that differ in it merge (as Sum adds their Counts) and encode
// alike; Sequential ones do not merge.
func TestPartialMergeIgnoresWindowOutsideSequential(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tx := similarity.Transaction{Customer: "c", Orders: []similarity.TxOrder{
		{Key: "o1", Unix: asOf.Unix() - 7200, Products: []affinity.ProductID{1, 2}},
		{Key: "o2", Unix: asOf.Unix() - 60, Products: []affinity.ProductID{3}},
	}}
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		p, err := similarity.NewPartial(asOf, similarity.CountOptions{Scope: scope, Window: time.Hour})
		require.NoError(t, err)
		q, err := similarity.NewPartial(asOf, similarity.CountOptions{Scope: scope, Window: 48 * time.Hour})
		require.NoError(t, err)
		require.NoError(t, p.Add(tx))
		require.NoError(t, q.Add(tx))
		if scope == similarity.Sequential {
			require.Error(t, p.Merge(q), "%v", scope)
			continue
		}
		pe, err := p.MarshalBinary()
		require.NoError(t, err)
		qe, err := q.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, pe, qe, "%v", scope)
		n := p.Total()
		require.NoError(t, p.Merge(q), "%v", scope)
		require.Equal(t, 2*n, p.Total(), "%v", scope)
	}
}
