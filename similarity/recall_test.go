package similarity_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	demoOnce sync.Once
	demoHist *affinity.History
	demoErr  error
)

func demoHistory(t testing.TB) *affinity.History {
	demoOnce.Do(func() { demoHist, demoErr = dataset.Demo().History(context.Background()) })
	require.NoError(t, demoErr)
	return demoHist
}

// plantedRecall returns the share of planted pairs (A, B) with B among
// A's top k neighbours and, unless directed, A among B's; and the same
// share among the pairs seen together at least minSupport times, the
// ones the counts have evidence for.
func plantedRecall(x *similarity.Index, c *similarity.Counts, cat *affinity.Catalog, pairs []dataset.Pair, k, minSupport int) (all, evident float64) {
	in := func(a, b affinity.ProductID) bool {
		nb := x.Neighbors(a)
		return slices.ContainsFunc(nb[:min(k, len(nb))], func(n similarity.Neighbor) bool { return n.Product == b })
	}
	var hit, total, ehit, etotal int
	check := func(a, b affinity.ProductID) {
		ok := in(a, b)
		total++
		if ok {
			hit++
		}
		if c.Pair(a, b) >= minSupport {
			etotal++
			if ok {
				ehit++
			}
		}
	}
	for _, pr := range pairs {
		a, okA := cat.LookupProduct(pr.A)
		b, okB := cat.LookupProduct(pr.B)
		if !okA || !okB {
			total += 2
			continue
		}
		check(a, b)
		if !x.Directed() {
			check(b, a)
		}
	}
	return float64(hit) / float64(total), float64(ehit) / float64(max(etotal, 1))
}

var recallMeasures = []similarity.Measure{similarity.Jaccard, similarity.Cosine, similarity.Lift, similarity.NPMI, similarity.Confidence, similarity.BM25}

// TestPlantedComplementsRecall checks that the generator's planted
// complementary pairs appear in each other's top 10 (for Sequential: the
// partner in the anchor's top 10) and reports the recall per scope and
// measure. Planted pairs whose anchor has a handful of buyers are seen
// together once or twice at most: no measure can find them, so the
// recall among the pairs seen together at least MinSupport times is
// reported too.
func TestPlantedComplementsRecall(t *testing.T) {
	h := demoHistory(t)
	// measured on the demo storefront (5,000 customers, 50 planted pairs);
	// the floors sit a little below the measured values
	recallTable(t, h, dataset.Demo().Truth.Complements, map[similarity.Scope]float64{
		similarity.Basket: 0.78, similarity.Customer: 0.88, similarity.Sequential: 0.8,
	})
}

// TestPlantedComplementsRecallLarge runs recallTable on a storefront four
// times the demo's. It is long-only: TestPlantedComplementsRecall takes
// the quick suite through the same code (every scope and measure, and
// EASE) on the demo shop.
func TestPlantedComplementsRecallLarge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("generates a 20,000-customer storefront")
	}
	testdata.SkipUnlessLong(t)
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 20_000, Products: 2_000, Categories: 80, ViewsPerLine: -1})
	h, err := s.History(context.Background())
	require.NoError(t, err)
	recallTable(t, h, s.Truth.Complements, map[similarity.Scope]float64{
		similarity.Basket: 0.85, similarity.Customer: 0.85, similarity.Sequential: 0.85,
	})
}

func recallTable(t *testing.T, h *affinity.History, pairs []dataset.Pair, floors map[similarity.Scope]float64) {
	ctx := context.Background()
	cat := h.Catalog()
	const k, minSupport = 10, 3
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope})
		require.NoError(t, err)
		for _, m := range recallMeasures {
			o := similarity.IndexOptions{Measure: m, K: k, MinSupport: minSupport}
			if m == similarity.Lift {
				o.Shrinkage = 5
			}
			x, err := similarity.NewIndex(ctx, c, o)
			require.NoError(t, err)
			all, evident := plantedRecall(x, c, cat, pairs, k, minSupport)
			t.Logf("recall@10 %-10v %-10v %.3f (%.3f of the pairs seen together ≥ %d times)", scope, m, all, evident, minSupport)
			assert.GreaterOrEqual(t, all, floors[scope], "%v %v", scope, m)
			assert.GreaterOrEqual(t, evident, 0.9, "%v %v", scope, m)
		}
	}
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	x, err := similarity.FitEASE(ctx, h, h.Latest(), similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}, K: k})
	require.NoError(t, err)
	all, evident := plantedRecall(x, c, cat, pairs, k, minSupport)
	t.Logf("recall@10 %-10v %-10v %.3f (%.3f of the pairs seen together ≥ %d times)", similarity.Customer, similarity.EASE, all, evident, minSupport)
	assert.GreaterOrEqual(t, all, floors[similarity.Customer])
}
