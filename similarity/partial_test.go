package similarity_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// transactions lists the transactions of h as a distributed job would
// see them: one per customer, one per anonymous order, with every order of
// a customer split in two pieces of lines when split is set (Add merges
// them again).
func transactions(h *affinity.History, split bool) []similarity.Transaction {
	order := func(o affinity.OrderID) []similarity.TxOrder {
		lo, hi := h.OrderLines(o)
		var ps []affinity.ProductID
		for i := lo; i < hi; i++ {
			if h.LineQuantity(i) > 0 {
				ps = append(ps, h.LineProduct(i))
			}
		}
		key, unix := h.OrderKey(o), h.OrderUnix(o)
		if !split || key == "" || len(ps) < 2 {
			return []similarity.TxOrder{{Key: key, Unix: unix, Products: ps}}
		}
		// the second piece is later, as lines of one order may be
		return []similarity.TxOrder{{Key: key, Unix: unix + 60, Products: ps[len(ps)/2:]}, {Key: key, Unix: unix, Products: ps[:len(ps)/2]}}
	}
	var out []similarity.Transaction
	for c := range affinity.CustomerID(h.NumCustomers()) {
		t := similarity.Transaction{Customer: h.CustomerKey(c)}
		lo, hi := h.CustomerOrders(c)
		for o := hi; o > lo; o-- { // newest first: Add must not rely on order
			t.Orders = append(t.Orders, order(o-1)...)
		}
		out = append(out, t)
	}
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		out = append(out, similarity.Transaction{Orders: order(o)})
	}
	return out
}

// shardedCount counts the transactions of h on shards Partials, merges
// them row block by row block through their binary encoding, and returns
// the counts.
func shardedCount(t *testing.T, rng *rand.Rand, h *affinity.History, asOf time.Time, o similarity.CountOptions, shards int) (*similarity.Partial, *similarity.Counts) {
	t.Helper()
	parts := make([]*similarity.Partial, shards)
	for i := range parts {
		var err error
		parts[i], err = similarity.NewPartial(asOf, o)
		require.NoError(t, err)
	}
	for _, tx := range transactions(h, rng.IntN(2) == 0) {
		require.NoError(t, parts[rng.IntN(shards)].Add(tx))
	}
	np := h.Catalog().NumProducts()
	// as a pipeline would: marginals and row blocks travel separately
	total, err := similarity.NewPartial(asOf, o)
	require.NoError(t, err)
	for _, p := range parts {
		b, err := p.MarshalBinary()
		require.NoError(t, err)
		var q similarity.Partial
		require.NoError(t, q.UnmarshalBinary(b))
		require.NoError(t, total.Merge(q.Marginals()))
		blocks, err := q.Blocks(1 + rng.IntN(np))
		require.NoError(t, err)
		for _, blk := range blocks {
			require.NoError(t, total.Merge(blk.Pairs))
		}
	}
	c, err := total.Counts(np)
	require.NoError(t, err)
	return total, c
}

// joinedIndex ranks the rows of p in blocks of a random size, each from
// counts holding every support and only the block's rows, and joins the
// blocks.
func joinedIndex(t *testing.T, p *similarity.Partial, np int, rng *rand.Rand, io similarity.IndexOptions) *similarity.Index {
	t.Helper()
	var parts []*similarity.Index
	blocks, err := p.Blocks(1 + rng.IntN(np))
	require.NoError(t, err)
	for _, blk := range blocks {
		m := p.Marginals()
		require.NoError(t, m.Merge(blk.Pairs))
		c, err := m.Counts(np)
		require.NoError(t, err)
		x, err := similarity.NewIndex(context.Background(), c, io)
		require.NoError(t, err)
		parts = append(parts, x)
	}
	if len(parts) == 0 {
		c, err := p.Counts(np)
		require.NoError(t, err)
		x, err := similarity.NewIndex(context.Background(), c, io)
		require.NoError(t, err)
		return x
	}
	x, err := similarity.JoinIndex(parts...)
	require.NoError(t, err)
	return x
}

func requireSameCounts(t *testing.T, want, got *similarity.Counts) {
	t.Helper()
	require.Equal(t, want.Total(), got.Total(), "N")
	require.Equal(t, want.NumPairs(), got.NumPairs(), "pairs")
	for a := range affinity.ProductID(want.NumProducts()) {
		require.Equal(t, want.Support(a), got.Support(a), "support %d", a)
		wc, wv := want.Row(a)
		gc, gv := got.Row(a)
		require.Equal(t, wc, gc, "row %d", a)
		require.Equal(t, wv, gv, "row %d", a)
	}
}

func TestPartialEqualsCount(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(6, 2)) { // odd and even seeds
		rng := rand.New(rand.NewPCG(seed, 17))
		if seed%2 == 1 { // compact every few transactions
			defer similarity.SetMaxPending(int(seed) * 5)()
		} else {
			defer similarity.SetMaxPending(1 << 20)()
		}
		d := randomData(rng, randomOptions{customers: 40, products: 60, orders: 300, maxLines: 12, anonymous: 0.2, returns: 0.1, days: 90})
		h := d.history(t, nil)
		asOf := t0.AddDate(0, 0, 75)
		for _, o := range []similarity.CountOptions{
			{Scope: similarity.Basket},
			{Scope: similarity.Basket, MaxBasket: 4, Lookback: affinity.Months(1)},
			{Scope: similarity.Customer},
			{Scope: similarity.Customer, MaxBasket: 5},
			{Scope: similarity.Sequential, Window: 7 * 24 * time.Hour},
			{Scope: similarity.Sequential, MaxBasket: 6, Lookback: affinity.Days(40)},
			{Scope: similarity.Customer, MaxBasket: -1},
		} {
			want, err := similarity.Count(ctx, h, asOf, o)
			require.NoError(t, err)
			measures := []similarity.Measure{similarity.Jaccard, similarity.Lift, similarity.Confidence, similarity.NPMI}
			indexOptions := func(m similarity.Measure) similarity.IndexOptions {
				return similarity.IndexOptions{Measure: m, K: 5, MinSupport: 1, Shrinkage: 2}
			}
			// the whole count's index files, written once for every
			// number of shards
			wantFiles := make([]bytes.Buffer, len(measures))
			for i, m := range measures {
				xw, err := similarity.NewIndex(ctx, want, indexOptions(m))
				require.NoError(t, err)
				_, err = xw.WriteTo(&wantFiles[i])
				require.NoError(t, err)
			}
			for _, shards := range []int{1, 3, 7} {
				total, got := shardedCount(t, rng, h, asOf, o, shards)
				requireSameCounts(t, want, got)
				// and the neighbour index file is the same, byte for byte
				for i, m := range measures {
					io := indexOptions(m)
					xg, err := similarity.NewIndex(ctx, got, io)
					require.NoError(t, err)
					bw := &wantFiles[i]
					var bg bytes.Buffer
					_, err = xg.WriteTo(&bg)
					require.NoError(t, err)
					require.Equal(t, bw.Bytes(), bg.Bytes(), "seed %d, %+v, %d shards, %v", seed, o, shards, m)
					// top-K computed block by block and joined
					xj := joinedIndex(t, total, h.Catalog().NumProducts(), rng, io)
					var bj bytes.Buffer
					_, err = xj.WriteTo(&bj)
					require.NoError(t, err)
					require.Equal(t, bw.Bytes(), bj.Bytes(), "joined: seed %d, %+v, %d shards, %v", seed, o, shards, m)
				}
			}
		}
	}
}

func TestPartialErrors(t *testing.T) {
	asOf := t0
	_, err := similarity.NewPartial(time.Time{}, similarity.CountOptions{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = similarity.NewPartial(asOf, similarity.CountOptions{Scope: similarity.Customer, Events: true})
	require.Error(t, err)

	a, err := similarity.NewPartial(asOf, similarity.CountOptions{})
	require.NoError(t, err)
	b, err := similarity.NewPartial(asOf, similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	require.Error(t, a.Merge(b), "different scopes")
	_, err = similarity.JoinIndex()
	require.Error(t, err)

	require.NoError(t, a.Add(similarity.Transaction{Customer: "c", Orders: []similarity.TxOrder{{Key: "o", Unix: asOf.Unix() - 10, Products: []affinity.ProductID{0, 7}}}}))
	_, err = a.Counts(5)
	require.Error(t, err, "product 7 of 5")
	c, err := a.Counts(8)
	require.NoError(t, err)
	_, err = similarity.NewIndex(context.Background(), c, similarity.IndexOptions{Measure: similarity.BM25})
	require.Error(t, err, "BM25 needs the transactions")

	enc, err := a.MarshalBinary()
	require.NoError(t, err)
	var q similarity.Partial
	for i := range enc {
		_ = q.UnmarshalBinary(enc[:i]) // must not panic; most prefixes are errors
	}
	require.ErrorIs(t, q.UnmarshalBinary(enc[:len(enc)-1]), similarity.ErrCorrupt)
	require.ErrorIs(t, q.UnmarshalBinary(append(enc, 0)), similarity.ErrCorrupt)
	require.NoError(t, q.UnmarshalBinary(enc))
	again, err := q.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, enc, again)

	// the excluded products travel with the encoding, and only partials
	// with the same ones merge
	ex, err := similarity.NewPartial(asOf, similarity.CountOptions{Exclude: roaring.BitmapOf(3, 9)})
	require.NoError(t, err)
	require.Error(t, a.Merge(ex), "different exclusions")
	enc, err = ex.MarshalBinary()
	require.NoError(t, err)
	require.NoError(t, q.UnmarshalBinary(enc))
	require.Error(t, a.Merge(&q), "different exclusions, read back")
	other, err := similarity.NewPartial(asOf, similarity.CountOptions{Exclude: roaring.BitmapOf(9, 3)})
	require.NoError(t, err)
	require.NoError(t, other.Merge(&q), "the same exclusions, read back")
}
