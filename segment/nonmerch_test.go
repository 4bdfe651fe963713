package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// nonMerchQueries are the category questions an index answers, for every
// category node of cat, and a few about totals and products.
func nonMerchQueries(cat *affinity.Catalog) []string {
	qs := []string{"monetary >= $1", "frequency >= 2", "aov >= $20", `bought(product("p000"))`, `viewed(product("p001"))`}
	for c := range affinity.CategoryID(cat.NumCategories()) {
		q := strconv.Quote(cat.CategoryPath(c))
		qs = append(qs,
			"affinity("+q+") > 0", "affinity("+q+") >= 0.3", "itemshare("+q+") >= 0.5", "ordershare("+q+") >= 0.5",
			"lift("+q+") >= 1", "recency("+q+") <= 100", "rank("+q+") <= 1", "top("+q+", 2)",
			"bought(category("+q+"))", "viewed(category("+q+"))", "carted(category("+q+"), 30d)")
	}
	return qs
}

// Options.NonMerchandise: an index built with products marked
// non-merchandise answers every question as one built on the same
// History with those products in no category — their spend in the totals,
// in no category's share, rank, recency or bought set — and its saved file,
// its updates keep the set (TestJoinEqualsBuild joins parts with one).
func TestNonMerchandiseAsUncategorised(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		h := randomHistory(t, rand.New(rand.NewPCG(seed, 41)), 160)
		cat := h.Catalog()
		non := roaring.New()
		plain := affinity.NewBuilder(h) // the same History, the products uncategorised
		for p := range affinity.ProductID(cat.NumProducts()) {
			if p%5 == 0 {
				non.Add(uint32(p))
				pr := cat.Product(p)
				pr.Categories = nil
				require.NoError(t, plain.AddProduct(pr))
			}
		}
		h2, err := plain.Build(ctx)
		require.NoError(t, err)
		require.Equal(t, cat.NumCategories(), h2.Catalog().NumCategories(), "the nodes are kept")

		x, err := segment.Build(ctx, h, testAsOf, segment.Options{NonMerchandise: non})
		require.NoError(t, err)
		want, err := segment.Build(ctx, h2, testAsOf, segment.Options{})
		require.NoError(t, err)
		without, err := segment.Build(ctx, h, testAsOf, segment.Options{})
		require.NoError(t, err)

		var buf bytes.Buffer
		_, err = x.WriteTo(&buf)
		require.NoError(t, err)
		read, err := segment.ReadIndex(&buf)
		require.NoError(t, err)
		require.True(t, non.Equals(read.Options().NonMerchandise), "the file keeps the set")

		differs := 0
		for _, q := range nonMerchQueries(cat) {
			w, err := want.Query(q)
			require.NoError(t, err, q)
			for name, y := range map[string]*segment.Index{"built": x, "read back": read} {
				got, err := y.Query(q)
				require.NoError(t, err, q)
				assert.True(t, w.Equals(got), "seed %d %s: %s: %v, want %v", seed, name, q, got.ToArray(), w.ToArray())
			}
			if o, err := without.Query(q); err == nil && !o.Equals(w) {
				differs++
			}
		}
		assert.Positive(t, differs, "seed %d: the set changes some answer", seed)
		non.Add(1) // the index keeps its own copy
		assert.False(t, x.Options().NonMerchandise.Contains(1) && !x.Options().NonMerchandise.Equals(non), "a copy")
	}
}

// A segment file written before NonMerchandise (header flags 0) reads as
// an index without the set, and an unknown flag is refused.
func TestNonMerchandiseFileFlags(t *testing.T) {
	ctx := context.Background()
	h := randomHistory(t, rand.New(rand.NewPCG(9, 9)), 40)
	x, err := segment.Build(ctx, h, testAsOf, segment.Options{NonMerchandise: roaring.New()})
	require.NoError(t, err)
	assert.Nil(t, x.Options().NonMerchandise, "an empty set is none")
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	data := buf.Bytes()
	assert.Zero(t, data[12]&1, "no set: bit 0 clear, as in every earlier file")
	_, err = segment.ReadIndex(bytes.NewReader(data))
	require.NoError(t, err)
	for _, f := range []byte{1, 8, 0x80} {
		bad := bytes.Clone(data)
		bad[12] |= f
		_, err = segment.ReadIndex(bytes.NewReader(bad))
		assert.ErrorIs(t, err, segment.ErrCorrupt, fmt.Sprintf("flags %#x", f))
	}
}
