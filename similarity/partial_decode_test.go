package similarity_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// partialBytes writes a Partial of scope s, counted in (0, 100], in the
// format documented by Partial.MarshalBinary: N, the supports as
// (product, support) and the pairs as (a<<32 | b, count), both ascending.
func partialBytes(s similarity.Scope, n uint64, supports, pairs [][2]uint64) []byte {
	b := []byte("AFSIMPR2")
	b = binary.AppendUvarint(b, uint64(s))
	b = binary.AppendUvarint(b, 0) // window
	b = binary.AppendUvarint(b, 0) // MaxBasket
	b = binary.AppendVarint(b, 0)
	b = binary.AppendVarint(b, 100)
	b = binary.AppendUvarint(b, 0) // excluded products
	b = binary.AppendUvarint(b, n)
	b = binary.AppendUvarint(b, uint64(len(supports)))
	prev := uint64(0)
	for _, x := range supports {
		b = binary.AppendUvarint(b, x[0]-prev)
		b = binary.AppendUvarint(b, x[1])
		prev = x[0]
	}
	b = binary.AppendUvarint(b, uint64(len(pairs)))
	prev = 0
	for _, x := range pairs {
		b = binary.AppendUvarint(b, x[0]-prev)
		b = binary.AppendUvarint(b, x[1])
		prev = x[0]
	}
	return b
}

func pairKey(a, b uint64) uint64 { return a<<32 | b }

// partialCase is a Partial written with partialBytes.
type partialCase struct {
	name     string
	scope    similarity.Scope
	n        uint64
	supports [][2]uint64
	pairs    [][2]uint64
}

func TestPartialDecodeRefusesImpossibleCounts(t *testing.T) {
	basket, customer, sequential := similarity.Basket, similarity.Customer, similarity.Sequential
	sup := [][2]uint64{{0, 2}, {1, 2}, {2, 1}}
	for _, tc := range []partialCase{
		{"product paired with itself", basket, 2, sup, [][2]uint64{{pairKey(0, 1), 1}, {pairKey(1, 0), 1}, {pairKey(1, 1), 2}}},
		{"sequential product paired with itself", sequential, 2, sup, [][2]uint64{{pairKey(2, 2), 1}}},
		{"pair above both supports", basket, 5, sup, [][2]uint64{{pairKey(0, 1), 5}, {pairKey(1, 0), 5}}},
		{"pair above one support", customer, 2, sup, [][2]uint64{{pairKey(0, 2), 2}, {pairKey(2, 0), 2}}},
		{"pair of a product never bought", sequential, 2, sup, [][2]uint64{{pairKey(0, 7), 1}}},
		{"support above N", basket, 1, sup, nil},
		{"support of 0", basket, 2, [][2]uint64{{0, 0}}, nil},
		{"pair counted 0 times", sequential, 2, sup, [][2]uint64{{pairKey(0, 1), 0}}},
		{"basket pair one way", basket, 2, sup, [][2]uint64{{pairKey(0, 1), 1}, {pairKey(1, 2), 1}, {pairKey(2, 1), 1}}},
		{"customer pair one way", customer, 2, sup, [][2]uint64{{pairKey(0, 2), 1}, {pairKey(1, 0), 1}, {pairKey(2, 0), 1}}},
		{"mirror of another count", basket, 2, sup, [][2]uint64{{pairKey(0, 1), 1}, {pairKey(1, 0), 2}}},
		{"block: product paired with itself", basket, 0, nil, [][2]uint64{{pairKey(3, 3), 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p similarity.Partial
			require.ErrorIs(t, p.UnmarshalBinary(partialBytes(tc.scope, tc.n, tc.supports, tc.pairs)), similarity.ErrCorrupt)
		})
	}
	// excluded products are never counted
	ex, err := similarity.NewPartial(t0, similarity.CountOptions{Exclude: roaring.BitmapOf(4)})
	require.NoError(t, err)
	enc, err := ex.MarshalBinary()
	require.NoError(t, err)
	n := len(enc) - 3 // N, no supports, no pairs
	withSupport := append(append(enc[:n:n], 1, 1), 4, 1, 0)
	var p similarity.Partial
	require.NoError(t, p.UnmarshalBinary(append(append(enc[:n:n], 1, 1), 3, 1, 0)), "product 3 is not excluded")
	require.ErrorIs(t, p.UnmarshalBinary(withSupport), similarity.ErrCorrupt, "support of excluded product 4")
}

// The parts a distributed count sends are Partials too: a row block
// holds pairs without N or supports, and a Basket block misses the mirror
// of a pair whose other row is in another block; a Sequential count is
// not symmetric.
func TestPartialDecodeAcceptsParts(t *testing.T) {
	for _, tc := range []partialCase{
		{"block of rows 0 and 1", similarity.Basket, 0, nil, [][2]uint64{{pairKey(0, 1), 3}, {pairKey(0, 5), 1}, {pairKey(1, 0), 3}}},
		{"marginals and a block", similarity.Customer, 3, [][2]uint64{{0, 3}, {1, 3}, {5, 1}}, [][2]uint64{{pairKey(0, 1), 3}, {pairKey(0, 5), 1}, {pairKey(1, 0), 3}}},
		{"sequential one way", similarity.Sequential, 2, [][2]uint64{{0, 2}, {1, 1}}, [][2]uint64{{pairKey(0, 1), 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := partialBytes(tc.scope, tc.n, tc.supports, tc.pairs)
			var p similarity.Partial
			require.NoError(t, p.UnmarshalBinary(enc))
			again, err := p.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, enc, again)
		})
	}
	// but a block alone does not make counts: its pairs have no supports
	var p similarity.Partial
	require.NoError(t, p.UnmarshalBinary(partialBytes(similarity.Basket, 0, nil, [][2]uint64{{pairKey(0, 1), 1}, {pairKey(1, 0), 1}})))
	_, err := p.Counts(2)
	require.Error(t, err)
}

func TestPartialMergeOverflow(t *testing.T) {
	// N at its bound, 2^32 − 1, the one of Sum and an Index (see
	// Partial.Add): Counts takes it, a merge past it fails
	enc := partialBytes(similarity.Basket, math.MaxUint32, [][2]uint64{{0, 1}}, nil)
	var p, q similarity.Partial
	require.NoError(t, p.UnmarshalBinary(enc))
	require.NoError(t, q.UnmarshalBinary(enc))
	require.Error(t, p.Merge(&q), "N above 2^32 - 1")
	assert.Equal(t, math.MaxUint32, p.Total(), "a failed Merge leaves p as it was")
	c, err := p.Counts(1)
	require.NoError(t, err, "N of 2^32 - 1")
	assert.Equal(t, math.MaxUint32, c.Total())
	// no Partial counts more: an encoding that says so is corrupt
	err = p.UnmarshalBinary(partialBytes(similarity.Basket, math.MaxInt64, [][2]uint64{{0, 1}}, nil))
	require.ErrorIs(t, err, similarity.ErrCorrupt)

	// a support overflow leaves p as it was too
	enc = partialBytes(similarity.Basket, math.MaxUint32, [][2]uint64{{0, 1}, {1, math.MaxUint32}}, nil)
	require.NoError(t, p.UnmarshalBinary(enc))
	require.NoError(t, q.UnmarshalBinary(enc))
	require.Error(t, p.Merge(&q))
	got, err := p.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, enc, got)
}

// realPartials counts random histories into Partials of every scope.
func realPartials(t testing.TB, rng *rand.Rand) (ps []*similarity.Partial, np int) {
	t.Helper()
	d := randomData(rng, randomOptions{customers: 20, products: 15, orders: 80, maxLines: 6, anonymous: 0.2, days: 60})
	h := d.history(t, nil)
	asOf := t0.AddDate(0, 0, 61)
	for _, o := range []similarity.CountOptions{
		{Scope: similarity.Basket},
		{Scope: similarity.Customer, MaxBasket: 4},
		{Scope: similarity.Sequential, Window: 10 * 24 * time.Hour},
	} {
		p, err := similarity.NewPartial(asOf, o)
		require.NoError(t, err)
		for _, tx := range transactions(h, false) {
			require.NoError(t, p.Add(tx))
		}
		ps = append(ps, p)
	}
	return ps, h.Catalog().NumProducts()
}

// requireIndexReadsBack ranks the Partial encoded in data, if it decodes
// and makes counts of np products, and requires that every index NewIndex
// returns reads back.
func requireIndexReadsBack(t *testing.T, data []byte, np int) (decoded bool) {
	t.Helper()
	var p similarity.Partial
	if p.UnmarshalBinary(data) != nil {
		return false
	}
	c, err := p.Counts(np)
	if err != nil {
		return true
	}
	for _, m := range []similarity.Measure{similarity.Jaccard, similarity.Lift, similarity.Confidence, similarity.NPMI} {
		x, err := similarity.NewIndex(context.Background(), c, similarity.IndexOptions{Measure: m, K: 4, MinSupport: 1})
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = x.WriteTo(&buf)
		require.NoError(t, err)
		_, err = similarity.ReadIndex(&buf)
		require.NoError(t, err, "%v index of an accepted Partial", m)
	}
	return true
}

// Every Partial a count makes, and every row block of it, round-trips and
// is accepted; an encoding with a few bytes changed is refused or ranks
// into an index that reads back.
func TestPartialMutatedEncodings(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 52))
	for range testdata.Scale(8, 2) {
		ps, np := realPartials(t, rng)
		for _, p := range ps {
			enc, err := p.MarshalBinary()
			require.NoError(t, err)
			require.True(t, requireIndexReadsBack(t, enc, np))
			var q similarity.Partial
			require.NoError(t, q.UnmarshalBinary(enc))
			again, err := q.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, enc, again)
			// so do the row blocks a distributed count sends, which miss
			// the mirrors in rows of other blocks
			blocks, err := p.Blocks(1 + rng.IntN(np))
			require.NoError(t, err)
			for _, blk := range blocks {
				b, err := blk.Pairs.MarshalBinary()
				require.NoError(t, err)
				require.NoError(t, q.UnmarshalBinary(b))
			}
			decoded := 0
			for range testdata.Scale(400, 100) {
				m := bytes.Clone(enc)
				for range 1 + rng.IntN(2) {
					i := len("AFSIMPR2") + rng.IntN(len(m)-len("AFSIMPR2"))
					if rng.IntN(2) == 0 {
						m[i] = byte(rng.IntN(256))
					} else {
						m[i] ^= 1 << rng.IntN(7) // keeps the varint's length
					}
				}
				if requireIndexReadsBack(t, m, np) {
					decoded++
				}
			}
			require.Positive(t, decoded, "some mutations decode")
		}
	}
}

// With several products at fault, Merge's and UnmarshalBinary's errors
// name the one with the smallest id, the same in every run (they used to
// name whichever the support map gave first).
func TestPartialErrorsNameFirstProduct(t *testing.T) {
	over := make([][2]uint64, 40)
	for i := range over {
		over[i] = [2]uint64{uint64(i), math.MaxUint32}
	}
	enc := partialBytes(similarity.Basket, math.MaxUint32, over, nil)
	var p, q similarity.Partial
	require.NoError(t, q.UnmarshalBinary(enc))
	for range 10 {
		require.NoError(t, p.UnmarshalBinary(enc))
		err := p.Merge(&q)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "support of product 0 ")
	}
	// supports above N (1)
	for range 10 {
		err := p.UnmarshalBinary(partialBytes(similarity.Basket, 1, over, nil))
		require.ErrorIs(t, err, similarity.ErrCorrupt)
		assert.Contains(t, err.Error(), "product 0 ")
	}
}
