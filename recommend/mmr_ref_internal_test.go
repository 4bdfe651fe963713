package recommend

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// mmrNaive is MMR as Rules.Diversity documents it: each next of the
// first k places goes to the candidate maximising
// (1−λ)·relevance − λ·(max similarity to those chosen), ties to the more
// relevant, then the lower id; the places after k keep score order.
func mmrNaive(e *Engine, c []cand, k int, lambda float32) []cand {
	rest := slices.Clone(c)
	var out []cand
	smax := c[0].s
	for len(out) < k && len(rest) > 0 {
		best, bv := -1, float32(math.Inf(-1))
		for j, x := range rest {
			sim := float32(0)
			for _, y := range out {
				sim = max(sim, e.similar(y.p, x.p))
			}
			v := (1-lambda)*x.s/smax - lambda*sim
			if best < 0 || v > bv || (v == bv && better(x, rest[best]) < 0) {
				best, bv = j, v
			}
		}
		out = append(out, rest[best])
		rest = slices.Delete(rest, best, best+1)
	}
	slices.SortFunc(rest, better)
	return append(out, rest...)
}

// TestMMRReference compares mmr with the naive greedy on random
// candidate lists of a small shop with profiles and substitutes.
func TestMMRReference(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 1))
	var b affinity.Builder
	cats := []string{"A/x", "A/y", "B/z", "B/w", "C/v"}
	const np = 24
	for p := range np {
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("m%02d", p), Categories: []string{cats[r.IntN(len(cats))]}, InStock: true}))
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range 40 {
		for o := range 3 {
			for range 1 + r.IntN(3) {
				require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", c), Order: fmt.Sprint("o", c, "-", o),
					Product: fmt.Sprintf("m%02d", r.IntN(np)), Time: t0.Add(time.Duration(r.IntN(90)) * 24 * time.Hour), Quantity: 1}))
			}
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	counts, err := similarity.Count(context.Background(), h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(context.Background(), counts, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	e, err := New(context.Background(), h, nb, h.Latest(), Options{ProfileDepth: 1})
	require.NoError(t, err)
	s := e.newScratch()
	for i := range testdata.Scale(2000, 300) {
		n := 1 + r.IntN(np)
		ps := r.Perm(np)[:n]
		c := make([]cand, n)
		for j, p := range ps {
			c[j] = cand{p: affinity.ProductID(p), s: float32(1+r.IntN(4)) / 4} // ties on purpose
		}
		slices.SortFunc(c, better)
		k := 1 + r.IntN(n+1)
		lambda := []float32{0.2, 0.5, 1}[r.IntN(3)]
		want := mmrNaive(e, c, k, lambda)
		s.cand = append(s.cand[:0], c...)
		e.mmr(s, k, lambda)
		assert.Equal(t, want, s.cand, "case %d: k %d, λ %v", i, k, lambda)
	}
}
