package similarity

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// partialOf returns a Partial of one basket {1, 2} whose N is then set
// to n, as if n−1 empty-handed transactions had been counted besides
// (no test can add 2^32 of them).
func partialOf(t *testing.T, n int64) *Partial {
	t.Helper()
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p, err := NewPartial(asOf, CountOptions{})
	require.NoError(t, err)
	require.NoError(t, p.Add(Transaction{Customer: "c", Orders: []TxOrder{{Key: "o", Unix: asOf.Unix() - 60, Products: []affinity.ProductID{1, 2}}}}))
	p.n = n
	return p
}

// Every N has one bound, 2^32 − 1: Partial.Counts, Sum, Partial.Add,
// Partial.Merge and the decoder take N up to it, and each refuses one
// more with an error, changing nothing, instead of counting on.
func TestTotalBoundIsOne(t *testing.T) {
	ctx := context.Background()
	const most = int64(1<<32 - 1)
	for _, n := range []int64{1<<31 - 1, 1 << 31, most} {
		c, err := partialOf(t, n).Counts(3)
		require.NoError(t, err, "Counts with N = %d", n)
		assert.Equal(t, int(n), c.Total())
		s, err := Sum(ctx, c)
		require.NoError(t, err, "Sum with N = %d", n)
		assert.Equal(t, int(n), s.Total())
		assert.Equal(t, 1, s.Pair(1, 2))
	}

	c, err := partialOf(t, most).Counts(3)
	require.NoError(t, err)
	one, err := partialOf(t, 1).Counts(3)
	require.NoError(t, err)
	_, err = Sum(ctx, c, one)
	require.Error(t, err, "Sum past the bound")
	_, err = partialOf(t, most+1).Counts(3)
	require.Error(t, err, "Counts past the bound")

	// Add at the bound counts nothing
	p := partialOf(t, most)
	err = p.Add(Transaction{Customer: "d", Orders: []TxOrder{{Key: "o2", Unix: p.to - 1, Products: []affinity.ProductID{1}}}})
	require.Error(t, err, "Add past the bound")
	assert.Equal(t, most, p.n)
	assert.Equal(t, uint32(1), p.support[1], "support counted although N was not")

	// Merge up to the bound, not past it
	p = partialOf(t, most-1)
	require.NoError(t, p.Merge(partialOf(t, 1)))
	assert.Equal(t, most, p.n)
	require.Error(t, p.Merge(partialOf(t, 1)), "Merge past the bound")
	assert.Equal(t, most, p.n, "a failed Merge changes nothing")
	assert.Equal(t, uint32(2), p.support[1])

	// the decoder: N at the bound round-trips, one more is corrupt
	for _, n := range []int64{most, most + 1} {
		enc, err := partialOf(t, n).MarshalBinary()
		require.NoError(t, err)
		var q Partial
		err = q.UnmarshalBinary(enc)
		if n == most {
			require.NoError(t, err)
			assert.Equal(t, n, q.n)
		} else {
			require.ErrorIs(t, err, ErrCorrupt)
		}
	}
}
