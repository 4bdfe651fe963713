package similarity_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyHistory: order 0 has A (two lines) and B, order 1 has A and C,
// order 2 has B; one customer each, so OrderID = CustomerID = index.
func tinyHistory(t *testing.T) (*affinity.History, [3]affinity.ProductID) {
	var b affinity.Builder
	add := func(cust, order, prod string, q int32) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Order: order, Product: prod, Time: t0, Quantity: q}))
	}
	add("c0", "o0", "A", 1)
	add("c0", "o0", "A", 2)
	add("c0", "o0", "B", 1)
	add("c1", "o1", "A", 1)
	add("c1", "o1", "C", 1)
	add("c1", "o1", "C", -1) // a return never counts
	add("c2", "o2", "B", 1)
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "c2", Product: "C", Time: t0.Add(time.Hour), Kind: affinity.View, Weight: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	var ids [3]affinity.ProductID
	for i, k := range []string{"A", "B", "C"} {
		ids[i], _ = h.Catalog().LookupProduct(k)
	}
	return h, ids
}

func TestItemMatrixWeightings(t *testing.T) {
	ctx := context.Background()
	h, p := tinyHistory(t)
	A, B, C := p[0], p[1], p[2]
	m, err := similarity.NewItemMatrix(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	require.NoError(t, err)
	r, c := m.Dims()
	assert.Equal(t, 3, r)
	assert.Equal(t, 3, c)
	assert.Equal(t, 5, m.NNZ())
	raw := map[[2]int]float64{{int(A), 0}: 2, {int(A), 1}: 1, {int(B), 0}: 1, {int(B), 2}: 1, {int(C), 1}: 1}
	for k, v := range raw {
		assert.Equal(t, v, m.At(affinity.ProductID(k[0]), k[1]), "tf %v", k)
	}
	assert.Zero(t, m.At(C, 0))
	assert.Zero(t, m.At(99, 0))

	// TF-IDF: 3 products; columns 0 and 1 hold 2 products, column 2 one
	tfidf := m.TFIDF()
	l15, l3 := math.Log(1.5), math.Log(3)
	for k, v := range map[[2]int]float64{{int(A), 0}: 2 * l15, {int(A), 1}: l15, {int(B), 0}: l15, {int(B), 2}: l3, {int(C), 1}: l15} {
		assert.InDelta(t, v, tfidf.At(affinity.ProductID(k[0]), k[1]), 1e-12, "tfidf %v", k)
	}

	// BM25, K1 = 1.2, B = 0.75: row lengths A 3, B 2, C 1, mean 2;
	// idf(df=2) = ln(1 + 1.5/2.5) = ln 1.6, idf(df=1) = ln(1 + 2.5/1.5)
	bm, err := m.BM25(similarity.BM25Params{})
	require.NoError(t, err)
	f := func(tf, length float64) float64 { return tf * 2.2 / (tf + 1.2*(0.25+0.75*length/2)) }
	i2, i1 := math.Log(1.6), math.Log(1+2.5/1.5)
	for k, v := range map[[2]int]float64{
		{int(A), 0}: i2 * f(2, 3), {int(A), 1}: i2 * f(1, 3), {int(B), 0}: i2 * f(1, 2), {int(B), 2}: i1 * f(1, 2), {int(C), 1}: i2 * f(1, 1),
	} {
		assert.InDelta(t, v, bm.At(affinity.ProductID(k[0]), k[1]), 1e-12, "bm25 %v", k)
	}
	_, err = m.BM25(similarity.BM25Params{K1: -1, B: 0.5})
	assert.Error(t, err)

	bin := m.Binary()
	assert.Equal(t, 1.0, bin.At(A, 0))

	// customer columns: the event of c2 on C counts with Events
	cm, err := similarity.NewItemMatrix(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer, Events: true})
	require.NoError(t, err)
	assert.Equal(t, 1.0, cm.At(C, 2))
	assert.Equal(t, 2.0, cm.At(A, 0), "two lines of A in one order")
	_, err = similarity.NewItemMatrix(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Sequential})
	assert.Error(t, err)
}

// ItemMatrix.At is 0 out of range: a column beyond 2³² or below 0 is not
// the real column with the same 32 low bits.
func TestItemMatrixAtOutOfRange(t *testing.T) {
	h, p := tinyHistory(t)
	m, err := similarity.NewItemMatrix(context.Background(), h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	require.NoError(t, err)
	_, cols := m.Dims()
	for r, id := range p {
		cs, vs := m.Row(id)
		require.NotEmpty(t, cs, "product %d", r)
		for i, c := range cs {
			require.Equal(t, vs[i], m.At(id, int(c)))
			for _, out := range []int{int(c) + 1<<32, int(c) - 1<<32, int(c) + 1<<40} {
				assert.Zero(t, m.At(id, out), "column %d of %d", out, cols)
			}
		}
		assert.Zero(t, m.At(id, cols))
		assert.Zero(t, m.At(id, -1))
	}
}
