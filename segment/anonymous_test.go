package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// anonymousQueries touch every kind of feature: each selects nobody in an
// index of no customers.
var anonymousQueries = []string{
	`recency <= 30d`,
	`frequency >= 1`,
	`monetary > 0`,
	`bought("Food")`,
	`bought("Food/Fruit")`,
	`affinity("Food") >= 0.1`,
	`lift("Drink") >= 1`,
	`top("Food", 1)`,
	`rfm("Champions")`,
	`lifecycle("new")`,
	`not rfm("Champions")`,
	`not lifecycle("churned")`,
}

// anonymousHistory is a History of baskets without customers over two
// top-level categories, from day 0 to day days−1 after start.
func anonymousHistory(t *testing.T, start time.Time, days int) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "apple", Name: "Apple", Categories: []string{"Food/Fruit"}},
		{Key: "bread", Name: "Bread", Categories: []string{"Food/Bakery"}},
		{Key: "tea", Name: "Tea", Categories: []string{"Drink"}},
	} {
		require.NoError(t, b.AddProduct(p))
	}
	for d := range days {
		at := start.Add(time.Duration(d) * segment.Day)
		for i, p := range []string{"apple", "bread", "tea"}[:1+d%3] {
			require.NoError(t, b.Add(affinity.Purchase{Order: fmt.Sprintf("r%d", d), Product: p, Time: at, Quantity: int32(1 + i), Price: 150}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	require.Zero(t, h.Summary().Buyers)
	require.Equal(t, days, h.Summary().AnonymousOrders)
	return h
}

// requireNobody checks that x, an index of no customers, selects nobody,
// counts nothing and writes and reads back as it is.
func requireNobody(t *testing.T, x *segment.Index) {
	t.Helper()
	for _, q := range anonymousQueries {
		set, err := x.Query(q)
		require.NoError(t, err, q)
		assert.Zero(t, set.GetCardinality(), q)
	}
	assert.Zero(t, x.All().GetCardinality())
	for _, s := range x.RFMTable() {
		assert.Zero(t, s.Customers, s.Name)
		assert.Zero(t, s.Revenue, s.Name)
	}
	for _, s := range x.LifecycleTable() {
		assert.Zero(t, s.Customers, s.Name)
	}
	var csv bytes.Buffer
	require.NoError(t, x.WriteCSV(&csv, x.All()))
	assert.Equal(t, 1, bytes.Count(csv.Bytes(), []byte("\n")), "a header only: %q", csv.String())
	y, err := segment.ReadIndex(bytes.NewReader(encode(t, x)))
	require.NoError(t, err)
	assert.Equal(t, encode(t, x), encode(t, y))
}

// TestAnonymousOrdersOnly checks that a History whose orders are all
// anonymous (baskets, guest checkouts) gives an index of no customers,
// and that an as-of time before its first order is still no data.
func TestAnonymousOrdersOnly(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2024, 2, 1, 9, 30, 0, 0, time.UTC)
	h := anonymousHistory(t, start, 40)
	asOf := start.Add(45 * segment.Day)

	x, err := segment.Build(ctx, h, asOf, segment.Options{})
	require.NoError(t, err)
	requireNobody(t, x)
	assert.ElementsMatch(t, []string{"Drink", "Food", "Food/Bakery", "Food/Fruit"}, x.Categories())

	// the first basket at asOf, and one second later
	_, err = segment.Build(ctx, h, start, segment.Options{})
	require.NoError(t, err)
	_, err = segment.Build(ctx, h, start.Add(-time.Second), segment.Options{})
	require.ErrorIs(t, err, segment.ErrNoData)
	assert.Contains(t, err.Error(), "before the first order")

	// customers whose orders all come after asOf are no data either
	b := affinity.NewBuilder(h)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "tea", Time: asOf.Add(time.Hour), Quantity: 1, Price: 300}))
	later, err := b.Build(ctx)
	require.NoError(t, err)
	y, err := segment.Build(ctx, later, asOf, segment.Options{})
	require.NoError(t, err)
	requireNobody(t, y)
	assert.Equal(t, 1, y.NumCustomers())
	_, ok := y.Features(0)
	assert.False(t, ok, "ann has not bought by asOf")
}

// TestUpdateFromNoCustomers checks the updates of an index of no
// customers against Build: the first customers arrive, then every
// customer is erased again.
func TestUpdateFromNoCustomers(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2024, 2, 1, 9, 30, 0, 0, time.UTC)
	h := anonymousHistory(t, start, 40)
	asOf := start.Add(45 * segment.Day)
	x, err := segment.Build(ctx, h, asOf, segment.Options{})
	require.NoError(t, err)

	b := affinity.NewBuilder(h)
	for i, c := range []string{"ann", "bob", "cy"} {
		at := start.Add(time.Duration(10*i+3) * segment.Day)
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: c + "1", Product: "apple", Time: at, Quantity: 2, Price: 120}))
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Order: c + "2", Product: "tea", Time: at.Add(5 * segment.Day), Quantity: 1, Price: 400}))
	}
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	got, err := segment.Update(ctx, x, h, h2, asOf, segment.UpdateOptions{})
	require.NoError(t, err)
	want, err := segment.Build(ctx, h2, asOf, segment.Options{})
	require.NoError(t, err)
	require.Equal(t, encode(t, want), encode(t, got))
	bought, err := got.Query(`bought("Drink") and frequency = 2`)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), bought.GetCardinality())

	b = affinity.NewBuilder(h2)
	for _, c := range []string{"ann", "bob", "cy"} {
		b.EraseCustomer(c)
	}
	h3, err := b.Build(ctx)
	require.NoError(t, err)
	gone, err := segment.Update(ctx, got, h2, h3, asOf.Add(segment.Day), segment.UpdateOptions{})
	require.NoError(t, err)
	want, err = segment.Build(ctx, h3, asOf.Add(segment.Day), segment.Options{})
	require.NoError(t, err)
	require.Equal(t, encode(t, want), encode(t, gone))
	requireNobody(t, gone)
}
