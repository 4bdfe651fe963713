package similarity

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigCounts returns counts of 2^27 baskets over three products whose
// co-counts pass 2^24, where float32 stops telling integers apart:
// product 0 with 1 in 2^24 baskets and with 2 in 2^24 + 1 — counts a
// shop of a few years' orders reaches for its best sellers (and the
// counts Sum adds up from shards).
func bigCounts(t *testing.T) *Counts {
	t.Helper()
	p, err := NewPartial(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), CountOptions{})
	require.NoError(t, err)
	const big = 1 << 24
	p.n = 1 << 27
	p.support[0], p.support[1], p.support[2] = 1<<26, big+5, big+6
	key := func(a, b uint64) uint64 { return a<<32 | b }
	pairs := map[uint64]uint32{key(0, 1): big, key(1, 0): big, key(0, 2): big + 1, key(2, 0): big + 1}
	for _, k := range slices.Sorted(maps.Keys(pairs)) {
		p.keys, p.vals = append(p.keys, k), append(p.vals, pairs[k])
	}
	c, err := p.Counts(3)
	require.NoError(t, err)
	return c
}

// The sparse EASE fit ranks its candidates by the exact co-count: with
// room for one candidate, product 0's row holds product 2 (2^24 + 1
// baskets together), not product 1 (2^24), which a float32 count tied
// with it and the lower id then won; and that weight is the dense
// float64 fit's W[0][2].
func TestSparseEASECandidatesAbove2p24(t *testing.T) {
	ctx := context.Background()
	c := bigCounts(t)
	require.Equal(t, 1<<24+1, c.Pair(0, 2))
	o, err := EASEOptions{Solver: EASESparse, K: 1, Sparse: SparseEASEOptions{Candidates: 1}}.withDefaults()
	require.NoError(t, err)
	x, err := fitEASE(ctx, c, o, 1)
	require.NoError(t, err)
	nb := x.Neighbors(0)
	require.Len(t, nb, 1)
	assert.EqualValues(t, 2, nb[0].Product, "the candidate of the larger co-count")
	assert.EqualValues(t, 1<<24+1, nb[0].Count)

	sel := c.fitted()
	pos := positions(c.np, sel)
	w, err := denseEASE(ctx, c, sel, pos, o.Lambda)
	require.NoError(t, err)
	m := len(sel)
	want := w[int(pos[0])*m+int(pos[2])]
	assert.InEpsilon(t, want, float64(nb[0].Score), 1e-4, "W[0][2]: dense %g, sparse %g", want, nb[0].Score)
}
