package recommend_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

type fixture struct {
	store *dataset.Storefront
	h     *affinity.History
	nb    *similarity.Index
	seq   *similarity.Index
	cust  *similarity.Index // customer scope
}

var (
	plantedOnce sync.Once
	planted     fixture
	plantedErr  error
)

// plantedFixture is a 20,000-customer synthetic storefront with its
// basket-scope cosine index and sequential index, built once: together
// they see the planted pairs bought in one order and in later orders.
func plantedFixture(t testing.TB) fixture {
	t.Helper()
	plantedOnce.Do(func() {
		ctx := context.Background()
		st := dataset.Generate(dataset.SyntheticOptions{Customers: 20000, Seed: 7})
		h, err := st.History(ctx)
		if err != nil {
			plantedErr = err
			return
		}
		nb, err := index(ctx, h, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine, K: 50})
		if err != nil {
			plantedErr = err
			return
		}
		seq, err := index(ctx, h, similarity.CountOptions{Scope: similarity.Sequential, Window: 28 * 24 * time.Hour}, similarity.IndexOptions{Measure: similarity.Cosine, K: 50})
		if err != nil {
			plantedErr = err
			return
		}
		cust, err := index(ctx, h, similarity.CountOptions{Scope: similarity.Customer}, similarity.IndexOptions{Measure: similarity.Cosine, K: 50})
		planted, plantedErr = fixture{store: st, h: h, nb: nb, seq: seq, cust: cust}, err
	})
	require.NoError(t, plantedErr)
	return planted
}

// demoHistory is the demo storefront's History, built once for every test
// of the package (recommend.DemoHistory): read it, never change it.
func demoHistory(t testing.TB) *affinity.History {
	t.Helper()
	h, err := recommend.DemoHistory()
	require.NoError(t, err)
	return h
}

// demoIndexOnce is mustIndex of the demo History, built once.
var demoIndexOnce = sync.OnceValues(func() (*similarity.Index, error) {
	h, err := recommend.DemoHistory()
	if err != nil {
		return nil, err
	}
	return index(context.Background(), h, similarity.CountOptions{}, mustIndexOptions)
})

// demoIndex is the demo History and its neighbour index (mustIndex's),
// each built once and shared: read them, never change them.
func demoIndex(t testing.TB) (*affinity.History, *similarity.Index) {
	t.Helper()
	h := demoHistory(t)
	nb, err := demoIndexOnce()
	require.NoError(t, err)
	return h, nb
}

func index(ctx context.Context, h *affinity.History, co similarity.CountOptions, io similarity.IndexOptions) (*similarity.Index, error) {
	c, err := similarity.Count(ctx, h, h.Latest(), co)
	if err != nil {
		return nil, err
	}
	return similarity.NewIndex(ctx, c, io)
}

func newEngine(t testing.TB, f fixture, o recommend.Options) *recommend.Engine {
	t.Helper()
	e, err := recommend.New(context.Background(), f.h, f.nb, f.h.Latest(), o)
	require.NoError(t, err)
	return e
}

// line is one bought line (quantity 1) of lineHistory.
type line struct {
	cust, prod, order string
	at                time.Time
}

// lineHistory builds a History of the catalog prods and the lines.
func lineHistory(t testing.TB, prods []affinity.Product, lines []line) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range prods {
		require.NoError(t, b.AddProduct(p))
	}
	for _, l := range lines {
		require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: l.at, Quantity: 1, Price: 100}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}
