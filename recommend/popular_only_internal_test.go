package recommend

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// The popular fallback under a short Rules.Only list walks the list
// (popularOnly) and gives what walking the whole popularity order gives:
// the same products, scores, sources and order, on generated shops, for
// known and anonymous customers, with other rules and duplicates in the
// list, and lists as long as the catalog.
func TestPopularOnlyMatchesScan(t *testing.T) {
	seeds := testdata.Scale(12, 3)
	popular := 0 // results of the popular fallback under a short list
	for seed := range seeds {
		e := generatedEngine(t, uint64(seed+1), Options{PopularityBlend: -1, BasketPopularityBlend: -1})
		r := rand.New(rand.NewPCG(uint64(seed), 79))
		np := e.cat.NumProducts()
		for range testdata.Scale(60, 20) {
			n := 1 + r.IntN(8)
			if r.IntN(10) == 0 {
				n = np + 2 // duplicates: at least the catalog's length
			}
			var only []string
			for range n {
				only = append(only, e.cat.ProductKey(affinity.ProductID(r.IntN(np))))
			}
			req := Request{K: 1 + r.IntN(12), Rules: Rules{Only: only, IncludeOutOfStock: r.IntN(2) == 0}}
			switch r.IntN(3) {
			case 0:
				req.ByID, req.CustomerID = true, affinity.CustomerID(r.IntN(e.h.NumCustomers()))
			case 1:
				req.Items = []affinity.ProductID{affinity.ProductID(r.IntN(np))}
			}
			if r.IntN(4) == 0 {
				req.Rules.MaxPrice = affinity.Money(1 + r.IntN(5000))
			}
			if r.IntN(5) == 0 {
				req.AsOf = e.asOfTime.Add(-time.Duration(r.IntN(1000)) * time.Hour)
			}
			e.scanPopular = true // the reference: the whole popularity order
			want, err := e.Recommend(nil, req)
			require.NoError(t, err)
			e.scanPopular = false
			got, err := e.Recommend(nil, req)
			require.NoError(t, err)
			require.Equal(t, want, got, "seed %d, request %+v", seed, req)
			for _, x := range got {
				if x.Source == Popular && n < np {
					popular++
				}
			}
		}
	}
	require.NotZero(t, popular, "no request reached the popular fallback")
}
