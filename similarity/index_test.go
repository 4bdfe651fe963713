package similarity_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewIndexMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(17, 2))
	d := randomData(rng, randomOptions{customers: 60, products: 35, orders: 600, maxLines: 6, anonymous: 0.1, returns: 0.05, events: 300})
	h := d.history(t, nil)
	for _, co := range []similarity.CountOptions{
		{Scope: similarity.Basket},
		{Scope: similarity.Customer, Events: true},
		{Scope: similarity.Sequential, Window: 40 * 24 * 3600e9},
	} {
		c, err := similarity.Count(ctx, h, h.Latest(), co)
		require.NoError(t, err)
		for _, m := range countMeasures {
			for _, o := range []similarity.IndexOptions{
				{Measure: m},
				{Measure: m, K: 3, MinSupport: 1},
				{Measure: m, K: 5, MinSupport: 4, Shrinkage: 10},
			} {
				t.Run(fmt.Sprintf("%v/%v/K=%d/min=%d/λ=%g", co.Scope, m, o.K, o.MinSupport, o.Shrinkage), func(t *testing.T) {
					want := naiveIndex(c, o)
					for _, workers := range []int{1, 4} {
						o.Workers = workers
						x, err := similarity.NewIndex(ctx, c, o)
						require.NoError(t, err)
						require.Equal(t, c.NumProducts(), x.NumProducts())
						for a := range c.NumProducts() {
							got := x.Neighbors(affinity.ProductID(a))
							if len(want[a]) == 0 {
								require.Empty(t, got)
								continue
							}
							require.Equal(t, want[a], got, "row %d", a)
						}
						assert.Equal(t, m, x.Measure())
						assert.Equal(t, co.Scope, x.Scope())
						assert.Equal(t, co.Scope == similarity.Sequential, x.Directed())
						assert.Equal(t, c.Total(), x.Total())
						assert.Equal(t, cmp.Or(o.K, similarity.DefaultK), x.K())
						assert.Equal(t, cmp.Or(o.MinSupport, similarity.DefaultMinSupport), x.MinSupport())
						assert.Equal(t, o.Shrinkage, x.Shrinkage())
						for a := range c.NumProducts() {
							assert.Equal(t, c.Support(affinity.ProductID(a)), x.Support(affinity.ProductID(a)))
						}
					}
				})
			}
		}
	}
}

// Ties are broken by product id, whatever the order of the counts.
func TestIndexTieBreak(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	// z is bought with each of e, c, a, d, b exactly twice: equal scores
	for i, p := range []string{"e", "c", "a", "d", "b"} {
		for j := range 2 {
			o := fmt.Sprintf("o%d%d", i, j)
			require.NoError(t, b.Add(affinity.Purchase{Customer: o, Order: o, Product: "z", Time: t0, Quantity: 1}))
			require.NoError(t, b.Add(affinity.Purchase{Customer: o, Order: o, Product: p, Time: t0, Quantity: 1}))
		}
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Lift, K: 3})
	require.NoError(t, err)
	z, _ := h.Catalog().LookupProduct("z")
	nb := x.Neighbors(z)
	require.Len(t, nb, 3)
	for i := 1; i < len(nb); i++ {
		assert.Equal(t, nb[0].Score, nb[i].Score)
		assert.Less(t, nb[i-1].Product, nb[i].Product)
	}
	assert.Equal(t, affinity.ProductID(1), nb[0].Product, "lowest ids among the tied: e=1, c=2, a=3")
}

func TestIndexOptionsErrors(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 20, maxLines: 3}).history(t, nil)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	for name, o := range map[string]similarity.IndexOptions{
		"unknown measure":    {Measure: similarity.Measure(42)},
		"negative shrinkage": {Shrinkage: -1},
		"NaN shrinkage":      {Shrinkage: math.NaN()},
		"EASE":               {Measure: similarity.EASE},
		"SVD":                {Measure: similarity.SVD},
		"BM25 B > 1":         {Measure: similarity.BM25, BM25: similarity.BM25Params{K1: 1, B: 2}},
	} {
		_, err := similarity.NewIndex(ctx, c, o)
		assert.Error(t, err, name)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = similarity.NewIndex(cancelled, c, similarity.IndexOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestIndexUnknownProduct(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 20, maxLines: 3}).history(t, nil)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
	require.NoError(t, err)
	assert.Empty(t, x.Neighbors(affinity.ProductID(999)))
	assert.Zero(t, x.Support(affinity.ProductID(999)))
}

func TestNeighborsDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 20, products: 10, orders: 80, maxLines: 4}).history(t, nil)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { x.Neighbors(3) }))
}

// TestBM25MatchesWeightedMatrix checks the BM25 measure against the
// definition: the dot product of two rows of the BM25-weighted binary
// product × transaction matrix.
func TestBM25MatchesWeightedMatrix(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(23, 9))
	d := randomData(rng, randomOptions{customers: 50, products: 30, orders: 400, maxLines: 8, anonymous: 0.1, returns: 0.05, events: 100})
	h := d.history(t, nil)
	for _, co := range []similarity.CountOptions{{Scope: similarity.Basket}, {Scope: similarity.Customer, Events: true}} {
		for _, params := range []similarity.BM25Params{{}, {K1: 100, B: 0.8}, {K1: 0.5, B: 0}} {
			t.Run(fmt.Sprintf("%v/%+v", co.Scope, params), func(t *testing.T) {
				c, err := similarity.Count(ctx, h, h.Latest(), co)
				require.NoError(t, err)
				m, err := similarity.NewItemMatrix(ctx, h, h.Latest(), co)
				require.NoError(t, err)
				w, err := m.Binary().BM25(params)
				require.NoError(t, err)
				dot := func(a, b affinity.ProductID) float64 {
					ca, va := w.Row(a)
					s := 0.0
					for i, t := range ca {
						s += va[i] * w.At(b, int(t))
					}
					return s
				}
				o := similarity.IndexOptions{Measure: similarity.BM25, K: 6, MinSupport: 2, Shrinkage: 3, BM25: params}
				x, err := similarity.NewIndex(ctx, c, o)
				require.NoError(t, err)
				for a := range c.NumProducts() {
					pa := affinity.ProductID(a)
					var want []similarity.Neighbor
					for b := range c.NumProducts() {
						pb := affinity.ProductID(b)
						ab := c.Pair(pa, pb)
						if a == b || ab < o.MinSupport {
							continue
						}
						want = append(want, similarity.Neighbor{Product: pb, Score: float32(similarity.Shrink(dot(pa, pb), ab, o.Shrinkage)), Count: uint32(ab)})
					}
					slices.SortFunc(want, func(x, y similarity.Neighbor) int {
						return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
					})
					got := x.Neighbors(pa)
					require.Len(t, got, min(len(want), o.K))
					for i, g := range got {
						assert.InEpsilon(t, want[i].Score, g.Score, 1e-5, "row %d rank %d", a, i)
						// near-ties may swap under different summation orders
						if i+1 < len(want) && want[i].Score-want[i+1].Score > 1e-4*want[i].Score {
							assert.Equal(t, want[i].Product, g.Product, "row %d rank %d", a, i)
							assert.Equal(t, want[i].Count, g.Count)
						}
					}
				}
			})
		}
	}
}

func TestBM25Sequential(t *testing.T) {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(4, 2)), randomOptions{customers: 30, products: 20, orders: 300, maxLines: 4})
	h := d.history(t, nil)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Sequential})
	require.NoError(t, err)
	x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1})
	require.NoError(t, err)
	n := 0
	for a := range c.NumProducts() {
		for _, nb := range x.Neighbors(affinity.ProductID(a)) {
			n++
			assert.Equal(t, c.Pair(affinity.ProductID(a), nb.Product), int(nb.Count), "directed co-count")
			assert.Greater(t, nb.Score, float32(0))
		}
	}
	assert.Positive(t, n)
}

// TestNewIndexLongRows covers rows far longer than K, where the selection
// compacts its buffer many times, and dense rows.
func TestNewIndexLongRows(t *testing.T) {
	ctx := context.Background()
	// quick: 300 products, rows still longer than 2·120 (compacted at K=120)
	d := randomData(rand.New(rand.NewPCG(8, 80)), randomOptions{customers: 150, products: testdata.Scale(400, 300), orders: 1500, maxLines: 12})
	h := d.history(t, nil)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	for _, m := range []similarity.Measure{similarity.Jaccard, similarity.Lift, similarity.NPMI, similarity.Leverage} {
		// every row in full, sorted once; its first k are the naive index
		// with K = k
		full := naiveIndex(c, similarity.IndexOptions{Measure: m, K: c.NumProducts(), MinSupport: 1})
		for _, k := range []int{1, 9, 30, 120} {
			o := similarity.IndexOptions{Measure: m, K: k, MinSupport: 1}
			x, err := similarity.NewIndex(ctx, c, o)
			require.NoError(t, err)
			for a := range c.NumProducts() {
				got := x.Neighbors(affinity.ProductID(a))
				want := full[a][:min(k, len(full[a]))]
				if len(want) == 0 {
					require.Empty(t, got)
					continue
				}
				if !sameSlice(want, got) { // require only on a difference: it costs more than the comparison
					require.Equal(t, want, got, "%v K=%d row %d", m, k, a)
				}
			}
		}
	}
}
