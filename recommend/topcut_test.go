package recommend_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manyNeighbours returns a shop where product A has n strong neighbours
// X000… in category X (each bought with A in three orders) and one weaker
// neighbour Y in category Z (one order), P is popular alone, and the
// neighbour index keeps every pair.
func manyNeighbours(t *testing.T, n int) (*affinity.History, *similarity.Index) {
	t.Helper()
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "A", Categories: []string{"Anchor"}, InStock: true}))
	for i := range n {
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("X%03d", i), Categories: []string{"X"}, InStock: true}))
	}
	require.NoError(t, b.AddProduct(affinity.Product{Key: "Y", Categories: []string{"Z"}, InStock: true}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "P", Categories: []string{"W"}, InStock: true}))
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o := 0
	add := func(ps ...string) {
		o++
		for _, p := range ps {
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", o), Order: fmt.Sprint("o", o), Product: p, Quantity: 1, Time: t0.Add(time.Duration(o) * time.Minute)}))
		}
	}
	for i := range n {
		for range 3 {
			add("A", fmt.Sprintf("X%03d", i))
		}
	}
	add("A", "Y")
	for range 1000 {
		add("P")
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine, K: n + 10, MinSupport: 1})
	require.NoError(t, err)
	return h, nb
}

func recKeys(recs []recommend.Rec) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Key + "/" + r.Source.String()
	}
	return out
}

// TestCapsAndBoostsSeeEveryCandidate: a category cap and a boost act on
// every co-purchase candidate, not on the top few hundred kept for
// re-ranking. With 300 neighbours in one category ahead of Y, a cap of
// one per category gave a popular product in Y's place, and a ×1000
// boost of Y did nothing.
func TestCapsAndBoostsSeeEveryCandidate(t *testing.T) {
	ctx := context.Background()
	h, nb := manyNeighbours(t, 300)
	for _, blend := range []float64{0, -1} {
		e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{BasketPopularityBlend: blend})
		require.NoError(t, err)
		recs, err := e.Recommend(nil, recommend.Request{Basket: []string{"A"}, K: 2, Rules: recommend.Rules{MaxPerCategory: 1}})
		require.NoError(t, err)
		got := recKeys(recs)
		require.Len(t, got, 2)
		assert.Contains(t, got[0], "/neighbors", "blend %v", blend)
		assert.Equal(t, "Y/neighbors", got[1], "blend %v: the next category's complement, not a fallback", blend)
	}
	y, _ := h.Catalog().LookupProduct("Y")
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{BasketPopularityBlend: -1,
		Boosts: []recommend.Boost{{Products: roaring.BitmapOf(uint32(y)), Factor: 1000}}})
	require.NoError(t, err)
	recs, err := e.Recommend(nil, recommend.Request{Basket: []string{"A"}, K: 2})
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, "Y/neighbors", recKeys(recs)[0], "a ×1000 boost lifts the 301st candidate first")
}

// TestWideRows: a product with more than 65,535 neighbours (a row summed
// whole: MaxEdges −1) reaches every one of them; the edge count was kept
// in 16 bits, so the rest were ignored. In the long suite: about a second
// and 90 MB.
func TestWideRows(t *testing.T) {
	if !testdata.Long() {
		t.Skip("long suite (AFFINITY_LONG_TESTS=1): 66,000 neighbours of one product")
	}
	ctx := context.Background()
	var b affinity.Builder
	const others = 66000
	require.NoError(t, b.AddProduct(affinity.Product{Key: "A", InStock: true}))
	for i := range others {
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("x%06d", i), InStock: true}))
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o := 0
	for lo := 0; lo < others; lo += 9 { // A with nine others per order
		o++
		at := t0.Add(time.Duration(o) * time.Second)
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", o), Order: fmt.Sprint("o", o), Product: "A", Quantity: 1, Time: at}))
		for i := lo; i < min(lo+9, others); i++ {
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", o), Order: fmt.Sprint("o", o), Product: fmt.Sprintf("x%06d", i), Quantity: 1, Time: at}))
		}
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine, K: others + 10, MinSupport: 1})
	require.NoError(t, err)
	a, _ := h.Catalog().LookupProduct("A")
	require.Len(t, nb.Neighbors(a), others)
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{MaxEdges: -1, BasketPopularityBlend: -1})
	require.NoError(t, err)
	for _, k := range []string{"x000000", "x065000", "x065999"} {
		recs, err := e.Recommend(nil, recommend.Request{Basket: []string{"A"}, K: 1, Rules: recommend.Rules{Only: []string{k}}})
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, k+"/neighbors", recKeys(recs)[0], "a complement of A, with its reason")
		assert.Len(t, recs[0].Reasons(), 1, k)
	}
}

// TestRecommendAllChecksNames: RecommendAll reports an unknown product or
// category in the rules also when the History has no customer to run the
// request for, as Recommend does.
func TestRecommendAllChecksNames(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "a", Categories: []string{"C"}, InStock: true}))
	require.NoError(t, b.Add(affinity.Purchase{Product: "a", Order: "o1", Quantity: 1, Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})) // a guest
	h, err := b.Build(ctx)
	require.NoError(t, err)
	require.Zero(t, h.NumCustomers())
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
	require.NoError(t, err)
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{})
	require.NoError(t, err)
	for _, tc := range []struct {
		rules recommend.Rules
		want  error
	}{
		{recommend.Rules{Exclude: []string{"nope"}}, recommend.ErrUnknownProduct},
		{recommend.Rules{Only: []string{"nope"}}, recommend.ErrUnknownProduct},
		{recommend.Rules{Category: "Nope"}, recommend.ErrUnknownCategory},
	} {
		_, err := e.RecommendAll(ctx, recommend.Request{K: 1, Rules: tc.rules})
		require.ErrorIs(t, err, tc.want, "%+v", tc.rules)
		_, err = e.Recommend(nil, recommend.Request{K: 1, Rules: tc.rules})
		require.ErrorIs(t, err, tc.want, "%+v", tc.rules)
	}
	out, err := e.RecommendAll(ctx, recommend.Request{K: 1, Rules: recommend.Rules{Category: "C", Only: []string{"a"}}})
	require.NoError(t, err)
	assert.Empty(t, out)

	_, err = recommend.New(ctx, h, nb, h.Latest(), recommend.Options{Segments: []*roaring.Bitmap{nil}})
	require.ErrorIs(t, err, recommend.ErrInvalidOptions)
}
