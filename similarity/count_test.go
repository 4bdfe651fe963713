package similarity_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCountMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		asOf time.Time // zero: the History's Latest
		opt  similarity.CountOptions
	}{
		{"basket", time.Time{}, similarity.CountOptions{Scope: similarity.Basket}},
		{"customer", time.Time{}, similarity.CountOptions{Scope: similarity.Customer}},
		{"customer events", time.Time{}, similarity.CountOptions{Scope: similarity.Customer, Events: true}},
		{"sequential", time.Time{}, similarity.CountOptions{Scope: similarity.Sequential}},
		{"sequential 5 days", time.Time{}, similarity.CountOptions{Scope: similarity.Sequential, Window: 5 * 24 * time.Hour}},
		{"sequential events", time.Time{}, similarity.CountOptions{Scope: similarity.Sequential, Events: true, Window: 10 * 24 * time.Hour}},
		{"basket as of", t0.AddDate(0, 0, 60), similarity.CountOptions{Scope: similarity.Basket}},
		{"customer lookback", t0.AddDate(0, 0, 90), similarity.CountOptions{Scope: similarity.Customer, Lookback: affinity.Days(45)}},
		{"customer lookback from last order", time.Time{}, similarity.CountOptions{Scope: similarity.Customer, Lookback: affinity.Days(30)}},
		{"sequential lookback", t0.AddDate(0, 0, 100), similarity.CountOptions{Scope: similarity.Sequential, Lookback: affinity.Days(60), Events: true}},
		{"customer months lookback", t0.AddDate(0, 0, 100), similarity.CountOptions{Scope: similarity.Customer, Lookback: affinity.Months(2)}},
	}
	for seed := range uint64(testdata.Scale(4, 2)) {
		rng := rand.New(rand.NewPCG(seed, 99))
		d := randomData(rng, randomOptions{customers: 25, products: 18, orders: 220, maxLines: 6, anonymous: 0.15, returns: 0.08, events: 150})
		h := d.history(t, nil)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				opt := tc.opt
				opt.MaxBasket = -1
				for _, workers := range []int{1, 3} {
					opt.Workers = workers
					asOf := tc.asOf
					if asOf.IsZero() {
						asOf = h.Latest()
					}
					c, err := similarity.Count(ctx, h, asOf, opt)
					require.NoError(t, err)
					want := bruteCount(d, bruteOptions{scope: opt.Scope, asOf: asOf, from: opt.Lookback.Or(affinity.AllTime).Start(asOf), window: opt.Window, events: opt.Events})
					requireCountsEqual(t, want, c, h.Catalog())
					assert.Equal(t, opt.Scope, c.Scope())
					assert.Equal(t, opt.Scope == similarity.Sequential, c.Directed())
				}
			})
		}
	}
}

func TestCountSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	d := randomData(rng, randomOptions{customers: 40, products: 30, orders: 300, maxLines: 7, returns: 0.05})
	h := d.history(t, nil)
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer} {
		c, err := similarity.Count(context.Background(), h, h.Latest(), similarity.CountOptions{Scope: scope})
		require.NoError(t, err)
		for a := range c.NumProducts() {
			cols, vals := c.Row(affinity.ProductID(a))
			for i, b := range cols {
				assert.Equal(t, int(vals[i]), c.Pair(b, affinity.ProductID(a)))
				assert.LessOrEqual(t, int(vals[i]), min(c.Support(b), c.Support(affinity.ProductID(a))))
			}
		}
	}
}

func TestCountMaxBasketSamples(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 3))
	d := randomData(rng, randomOptions{customers: 30, products: 40, orders: 200, maxLines: 20, anonymous: 0.1})
	h := d.history(t, nil)
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		t.Run(scope.String(), func(t *testing.T) {
			const m = 4
			full, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope, MaxBasket: -1})
			require.NoError(t, err)
			capped, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope, MaxBasket: m, Workers: 1})
			require.NoError(t, err)
			again, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: scope, MaxBasket: m, Workers: 4})
			require.NoError(t, err)
			assert.Equal(t, full.Total(), capped.Total(), "sampling drops products, not transactions")

			// each transaction keeps exactly min(size, m) products
			want := bruteCount(d, bruteOptions{scope: scope})
			sizes := transactionSizes(d, scope)
			wantSupport := 0
			for _, s := range sizes {
				wantSupport += min(s, m)
			}
			gotSupport := 0
			for a := range capped.NumProducts() {
				p := affinity.ProductID(a)
				gotSupport += capped.Support(p)
				assert.LessOrEqual(t, capped.Support(p), full.Support(p))
				assert.Equal(t, capped.Support(p), again.Support(p))
				for b := range capped.NumProducts() {
					q := affinity.ProductID(b)
					assert.LessOrEqual(t, capped.Pair(p, q), full.Pair(p, q))
					assert.Equal(t, capped.Pair(p, q), again.Pair(p, q), "deterministic")
				}
			}
			assert.Equal(t, wantSupport, gotSupport)
			if scope != similarity.Sequential {
				wantPairs := 0
				for _, s := range sizes {
					k := min(s, m)
					wantPairs += k * (k - 1)
				}
				gotPairs := 0
				for a := range capped.NumProducts() {
					_, vals := capped.Row(affinity.ProductID(a))
					for _, v := range vals {
						gotPairs += int(v)
					}
				}
				assert.Equal(t, wantPairs, gotPairs)
			}
			assert.Equal(t, want.n, full.Total())
		})
	}
}

// transactionSizes returns the number of distinct bought products of each
// transaction (order or customer).
func transactionSizes(d rawData, scope similarity.Scope) []int {
	sets := map[string]map[string]bool{}
	for _, p := range d.purchases {
		if p.Quantity <= 0 || (scope != similarity.Basket && p.Customer == "") {
			continue
		}
		k := p.Customer
		if scope == similarity.Basket {
			k += "/" + p.Order
		}
		if sets[k] == nil {
			sets[k] = map[string]bool{}
		}
		sets[k][p.Product] = true
	}
	var out []int
	for _, s := range sets {
		out = append(out, len(s))
	}
	return out
}

func TestSumOfShardsEqualsWhole(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(21, 4))
	d := randomData(rng, randomOptions{customers: 60, products: 25, orders: 400, maxLines: 12, anonymous: 0.1, returns: 0.05, events: 200})
	shard := func(cust string) int {
		f := fnv.New32a()
		f.Write([]byte(cust))
		return int(f.Sum32() % 3)
	}
	whole := d.history(t, nil)
	var shards []*affinity.History
	for s := range 3 {
		shards = append(shards, d.history(t, func(c string) bool { return shard(c) == s }))
	}
	opts := []similarity.CountOptions{
		{Scope: similarity.Basket, MaxBasket: 5},
		{Scope: similarity.Customer, MaxBasket: 6, Events: true, Lookback: affinity.Days(80)},
		{Scope: similarity.Sequential, MaxBasket: 7, Window: 20 * 24 * time.Hour},
	}
	for _, o := range opts {
		t.Run(o.Scope.String(), func(t *testing.T) {
			asOf := t0.AddDate(0, 0, 100)
			want, err := similarity.Count(ctx, whole, asOf, o)
			require.NoError(t, err)
			var parts []*similarity.Counts
			for _, h := range shards {
				c, err := similarity.Count(ctx, h, asOf, o)
				require.NoError(t, err)
				parts = append(parts, c)
			}
			got, err := similarity.Sum(ctx, parts...)
			require.NoError(t, err)
			require.Equal(t, want.Total(), got.Total())
			require.Equal(t, want.NumProducts(), got.NumProducts())
			require.Equal(t, want.NumPairs(), got.NumPairs())
			for a := range want.NumProducts() {
				p := affinity.ProductID(a)
				require.Equal(t, want.Support(p), got.Support(p))
				wc, wv := want.Row(p)
				gc, gv := got.Row(p)
				require.Equal(t, wc, gc)
				require.Equal(t, wv, gv)
			}
			// the BM25 measure recounts the transactions: the sum keeps them
			wx, err := similarity.NewIndex(ctx, want, similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1})
			require.NoError(t, err)
			gx, err := similarity.NewIndex(ctx, got, similarity.IndexOptions{Measure: similarity.BM25, MinSupport: 1})
			require.NoError(t, err)
			for a := range want.NumProducts() {
				w, g := wx.Neighbors(affinity.ProductID(a)), gx.Neighbors(affinity.ProductID(a))
				require.Len(t, g, len(w))
				for i := range w {
					assert.Equal(t, w[i].Count, g[i].Count)
					assert.InEpsilon(t, w[i].Score, g[i].Score, 1e-5)
				}
			}
		})
	}
}

func TestSumRejectsMixedScopes(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 10, maxLines: 3}).history(t, nil)
	a, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Basket})
	require.NoError(t, err)
	b, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Customer})
	require.NoError(t, err)
	_, err = similarity.Sum(ctx, a, b)
	require.Error(t, err)
	_, err = similarity.Sum(ctx)
	require.Error(t, err)
}

func TestCountOptionErrors(t *testing.T) {
	ctx := context.Background()
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 10, maxLines: 3}).history(t, nil)
	for name, o := range map[string]similarity.CountOptions{
		"basket events":   {Scope: similarity.Basket, Events: true},
		"unknown scope":   {Scope: similarity.Scope(7)},
		"negative window": {Scope: similarity.Sequential, Window: -time.Hour},
		"negative lookbk": {Lookback: affinity.Lookback{Duration: -time.Hour}},
		"unknown kind":    {Scope: similarity.Customer, Events: true, EventKinds: []affinity.EventKind{affinity.Rating, 0}},
	} {
		_, err := similarity.Count(ctx, h, h.Latest(), o)
		assert.Error(t, err, name)
	}
	_, err := similarity.Count(ctx, h, time.Time{}, similarity.CountOptions{})
	assert.ErrorIs(t, err, affinity.ErrNoAsOf)
}

func TestCountCancelled(t *testing.T) {
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 50, products: 20, orders: 100, maxLines: 3}).history(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestCountUnknownProducts(t *testing.T) {
	h := randomData(rand.New(rand.NewPCG(1, 1)), randomOptions{customers: 5, products: 5, orders: 10, maxLines: 3}).history(t, nil)
	c, err := similarity.Count(context.Background(), h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	const far = affinity.ProductID(1 << 30)
	assert.Zero(t, c.Support(far))
	assert.Zero(t, c.Pair(far, 0))
	assert.Zero(t, c.Pair(0, far))
	cols, vals := c.Row(far)
	assert.Empty(t, cols)
	assert.Empty(t, vals)
	assert.Zero(t, c.Pair(1, 1))
}

func TestScopeNames(t *testing.T) {
	for _, s := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		got, err := similarity.ParseScope(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	_, err := similarity.ParseScope("weekly")
	assert.Error(t, err)
	assert.Equal(t, "Scope(9)", similarity.Scope(9).String())
}

// TestCountBoundaries pins the inclusive and exclusive ends: orders at AsOf
// count, orders at AsOf − Lookback do not; for Sequential, b at exactly
// Window after a counts, at the same second as a it does not.
func TestCountBoundaries(t *testing.T) {
	ctx := context.Background()
	asOf := t0.AddDate(0, 1, 0)
	const lookback = 10 * 24 * time.Hour
	var b affinity.Builder
	add := func(cust, order, prod string, at time.Time) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Order: order, Product: prod, Time: at, Quantity: 1}))
	}
	add("c1", "o1", "A", asOf) // at AsOf: in
	add("c1", "o1", "B", asOf)
	add("c2", "o2", "A", asOf.Add(time.Second)) // after AsOf: out
	add("c2", "o2", "B", asOf.Add(time.Second))
	add("c3", "o3", "A", asOf.Add(-lookback)) // at the lookback edge: out
	add("c3", "o3", "B", asOf.Add(-lookback))
	add("c4", "o4", "A", asOf.Add(-lookback+time.Second)) // just inside: in
	add("c4", "o4", "B", asOf.Add(-lookback+time.Second))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	a, _ := h.Catalog().LookupProduct("A")
	bb, _ := h.Catalog().LookupProduct("B")
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Lookback: affinity.Lookback{Duration: lookback}})
	require.NoError(t, err)
	assert.Equal(t, 2, c.Total())
	assert.Equal(t, 2, c.Pair(a, bb))

	const window = 7 * 24 * time.Hour
	b = affinity.Builder{}
	add("c1", "o1", "A", t0)
	add("c1", "o2", "B", t0.Add(window)) // exactly Window later: counts
	add("c2", "o3", "A", t0)
	add("c2", "o4", "B", t0.Add(window+time.Second)) // too late
	add("c3", "o5", "A", t0)
	add("c3", "o6", "B", t0) // same second, another order: not after
	add("c4", "o7", "B", t0)
	add("c4", "o8", "A", t0.Add(time.Hour)) // B before A: only B → A
	h, err = b.Build(ctx)
	require.NoError(t, err)
	a, _ = h.Catalog().LookupProduct("A")
	bb, _ = h.Catalog().LookupProduct("B")
	c, err = similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{Scope: similarity.Sequential, Window: window})
	require.NoError(t, err)
	assert.Equal(t, 1, c.Pair(a, bb))
	assert.Equal(t, 1, c.Pair(bb, a))
	assert.Equal(t, 4, c.Support(a))
	assert.Equal(t, 4, c.Total())
}

// EventKinds counts only the events of those kinds: the counts equal
// those of the same History without the other kinds' events, in both
// scopes that count events.
func TestCountEventKinds(t *testing.T) {
	ctx := context.Background()
	kinds := []affinity.EventKind{affinity.View, affinity.Cart, affinity.Rating, affinity.Wishlist}
	build := func(keep func(affinity.EventKind) bool) *affinity.History {
		var b affinity.Builder
		for p := range 9 { // the same product ids in both
			require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprint("p", p)}))
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range 120 {
			c, p := fmt.Sprint("c", rng.IntN(12)), fmt.Sprint("p", rng.IntN(9))
			at := t0.Add(time.Duration(i) * time.Hour)
			if i%3 == 0 {
				require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: fmt.Sprint("o", i), Product: p, Time: at, Quantity: 1}))
				continue
			}
			if k := kinds[rng.IntN(len(kinds))]; keep(k) {
				require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: p, Time: at, Kind: k, Weight: 1}))
			}
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	all := build(func(affinity.EventKind) bool { return true })
	for _, only := range [][]affinity.EventKind{{affinity.Rating}, {affinity.View, affinity.Cart}} {
		h := build(func(k affinity.EventKind) bool { return slices.Contains(only, k) })
		for _, sc := range []similarity.Scope{similarity.Customer, similarity.Sequential} {
			got, err := similarity.Count(ctx, all, all.Latest(), similarity.CountOptions{Scope: sc, Events: true, EventKinds: only})
			require.NoError(t, err)
			want, err := similarity.Count(ctx, h, all.Latest(), similarity.CountOptions{Scope: sc, Events: true})
			require.NoError(t, err)
			require.Equal(t, want.Total(), got.Total(), "%v %v", only, sc)
			for a := range affinity.ProductID(all.Catalog().NumProducts()) {
				assert.Equal(t, want.Support(a), got.Support(a), "%v %v support of %d", only, sc, a)
				for b := range affinity.ProductID(all.Catalog().NumProducts()) {
					assert.Equal(t, want.Pair(a, b), got.Pair(a, b), "%v %v pair %d %d", only, sc, a, b)
				}
			}
		}
	}
}

func TestEmptyHistory(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	h, err := b.Build(ctx)
	require.NoError(t, err)
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		c, err := similarity.Count(ctx, h, t0, similarity.CountOptions{Scope: scope})
		require.NoError(t, err)
		assert.Zero(t, c.Total())
		assert.Zero(t, c.NumProducts())
		for _, m := range []similarity.Measure{similarity.Lift, similarity.BM25} {
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: m})
			require.NoError(t, err)
			assert.Zero(t, x.NumProducts())
			assert.Empty(t, x.Neighbors(0))
		}
	}
	x, err := similarity.FitEASE(ctx, h, t0, similarity.EASEOptions{})
	require.NoError(t, err)
	assert.Zero(t, x.NumNeighbors())
	m, err := similarity.NewItemMatrix(ctx, h, t0, similarity.CountOptions{})
	require.NoError(t, err)
	e, err := similarity.Embed(ctx, m, similarity.EmbedOptions{})
	require.NoError(t, err)
	assert.Zero(t, e.Dim())
}

// Sum refuses a sum beyond what its uint32 counts and an Index hold,
// rather than wrap the supports and co-counts around.
func TestSumOverflow(t *testing.T) {
	ctx := context.Background()
	const big = math.MaxInt32 // the most transactions Partial.Counts takes
	var p similarity.Partial
	require.NoError(t, p.UnmarshalBinary(partialBytes(similarity.Basket, big, [][2]uint64{{0, big}, {1, big}},
		[][2]uint64{{pairKey(0, 1), big}, {pairKey(1, 0), big}})))
	c, err := p.Counts(2)
	require.NoError(t, err)
	two, err := similarity.Sum(ctx, c, c)
	require.NoError(t, err, "2·(2^31 − 1) is in range")
	assert.Equal(t, 2*big, two.Total())
	assert.Equal(t, 2*big, two.Support(1))
	assert.Equal(t, 2*big, two.Pair(0, 1))
	_, err = similarity.Sum(ctx, c, c, c)
	require.Error(t, err, "3·(2^31 − 1) is beyond 2^32 − 1")
	_, err = similarity.Sum(ctx, two, c)
	require.Error(t, err)
}
