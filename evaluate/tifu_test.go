package evaluate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
)

// TestTIFUKNNHandComputed checks TIFU-KNN's vectors, neighbour and blend
// on customers computed by hand (groups 2, both decays 0.5, alpha 0.5,
// one neighbour):
//
//	a: {1,2}, {2}, {3} → groups [{1,2}] and [{2}, {3}]
//	   = ½·½·{1,2} + 1·½·(½·{2} + 1·{3})/2 = {1: .25, 2: .375, 3: .25}
//	b: {2}, {4}        = {2: .25, 4: .5}
//	c: {5}             = {5: 1}
//
//	d: rated 6, then 7 = {6: .25, 7: .5} (each rating a basket)
//
// a's squared distance is 0.390625 to b, 0.578125 to d and 1.265625 to c,
// so b is its neighbour: ½a + ½b = {1: .125, 2: .3125, 3: .125, 4: .25},
// ranked 2, 4, then 1 and 3 by id.
func TestTIFUKNNHandComputed(t *testing.T) {
	h := build(t, []buy{
		{"a", "a1", 1, []string{"1", "2"}}, {"a", "a2", 2, []string{"2"}}, {"a", "a3", 3, []string{"3"}},
		{"b", "b1", 1, []string{"2"}}, {"b", "b2", 4, []string{"4"}},
		{"c", "c1", 2, []string{"5"}},
		{"a", "late", 30, []string{"5"}}, // after asOf: not seen
	}, []rating{{"d", "6", 1, 5}, {"d", "7", 2, 3}}) // each rating a basket of its own
	r := &evaluate.TIFUKNN{Groups: 2, WithinDecay: 0.5, GroupDecay: 0.5, Alpha: 0.5, Neighbors: 1}
	require.NoError(t, r.Fit(context.Background(), h, day(10)))
	id := func(key string) affinity.ProductID {
		p, ok := h.Catalog().LookupProduct(key)
		require.True(t, ok, key)
		return p
	}
	keys := func(ps []affinity.ProductID) []string {
		var out []string
		for _, p := range ps {
			out = append(out, h.Catalog().ProductKey(p))
		}
		return out
	}
	a, ok := h.LookupCustomer("a")
	require.True(t, ok)
	require.Equal(t, []string{"2", "4", "1", "3"}, keys(r.Recommend(nil, a, 10, nil)))
	require.Equal(t, []string{"2", "4"}, keys(r.Recommend(nil, a, 2, nil)))
	require.Equal(t, []string{"2", "1", "3"}, keys(r.Recommend(nil, a, 10, func(p affinity.ProductID) bool { return p == id("4") })))
	// alpha 1: a's own vector only
	own := &evaluate.TIFUKNN{Groups: 2, WithinDecay: 0.5, GroupDecay: 0.5, Alpha: 1, Neighbors: 1}
	require.NoError(t, own.Fit(context.Background(), h, day(10)))
	require.Equal(t, []string{"2", "1", "3"}, keys(own.Recommend(nil, a, 10, nil)))
	// ratings: d's two one-product baskets, the later one weighing more
	d, ok := h.LookupCustomer("d")
	require.True(t, ok)
	require.Equal(t, []string{"7", "6"}, keys(own.Recommend(nil, d, 10, nil)))
	// a customer without a basket gets nothing; settings are checked
	require.Empty(t, r.Recommend(nil, affinity.CustomerID(h.NumCustomers()), 10, nil))
	require.Error(t, (&evaluate.TIFUKNN{Alpha: 2}).Fit(context.Background(), h, day(10)))
	require.Error(t, (&evaluate.TIFUKNN{WithinDecay: 1.5}).Fit(context.Background(), h, day(10)))
}
