package evaluate_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

var day0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func day(d int) time.Time { return day0.AddDate(0, 0, d) }

// buy is one purchase line of a fixture: customer, order, day, products.
type buy struct {
	cust, order string
	day         int
	prods       []string
}

// rating is one rating event of a fixture.
type rating struct {
	cust, prod string
	day        int
	stars      float32
}

// build makes a History from fixture lines and ratings; extra products
// are added to the catalog without interactions.
func build(t testing.TB, buys []buy, ratings []rating, extra ...affinity.Product) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range extra {
		require.NoError(t, b.AddProduct(p))
	}
	for _, l := range buys {
		for _, p := range l.prods {
			require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: p, Order: l.order, Time: day(l.day), Quantity: 1, Price: 10 * affinity.MoneyScale}))
		}
	}
	for _, r := range ratings {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: r.cust, Product: r.prod, Time: day(r.day), Kind: affinity.Rating, Weight: r.stars}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// static is a Recommender that returns fixed lists by customer key.
type static struct {
	name  string
	lists map[string][]string
	train *affinity.History
}

func (s *static) Name() string { return s.name }

func (s *static) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	s.train = train
	return nil
}

func (s *static) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, _ func(affinity.ProductID) bool) []affinity.ProductID {
	for _, key := range s.lists[s.train.CustomerKey(c)] {
		if len(dst) == k {
			break
		}
		p, ok := s.train.Catalog().LookupProduct(key)
		if !ok {
			panic("static: unknown product " + key)
		}
		dst = append(dst, p)
	}
	return dst
}

// keys returns the shop keys of products.
func keys(h *affinity.History, ps []affinity.ProductID) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = h.Catalog().ProductKey(p)
	}
	return out
}

// storefront returns a small synthetic shop's History.
func storefront(t testing.TB, customers int, seed uint64) *affinity.History {
	t.Helper()
	s := dataset.Generate(dataset.SyntheticOptions{Customers: customers, Products: 120, Categories: 12, Seed: seed})
	h, err := s.History(context.Background())
	require.NoError(t, err)
	return h
}
