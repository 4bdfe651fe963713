package segment_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// TestOnlineRetail builds the index of the UCI Online Retail file as of
// 2011-12-10, with categories derived from the product descriptions,
// prints the RFM and lifecycle tables and category-affinity segments, and
// checks random queries against the naive scan.
func TestOnlineRetail(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("real data: skipped in -short mode")
	}
	path := testdata.Shared(t, "online-retail/online_retail_2010-2011.csv.gz")
	ctx := context.Background()
	h, _, err := dataset.ReadFile(ctx, path, dataset.Options{Format: "onlineretail", Categories: dataset.CategoryFromName})
	require.NoError(t, err)
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	x, err := segment.Build(ctx, h, asOf, segment.Options{})
	require.NoError(t, err)

	require.Equal(t, 4339, x.Len())
	var rfm bytes.Buffer
	require.NoError(t, segment.WriteTable(&rfm, x.RFMTable()))
	t.Logf("RFM segments as of %s:\n%s", asOf.Format(time.DateOnly), rfm.String())
	var life bytes.Buffer
	require.NoError(t, segment.WriteTable(&life, x.LifecycleTable()))
	t.Logf("lifecycle:\n%s", life.String())

	total := 0
	var revenue affinity.Money
	for _, r := range x.RFMTable() {
		total += r.Customers
		revenue += r.Revenue
	}
	assert.Equal(t, 4339, total, "every customer has an order in the 24-month look-back")
	assert.Equal(t, affinity.Money(8_911_407_9040), revenue, "£8,911,407.904, the customers' net spend")

	// category affinity on derived categories: the five top-level
	// categories with the largest share of spend
	var tops []string
	for _, c := range x.Categories() {
		if d, _ := x.CategoryDepth(c); d == 1 {
			tops = append(tops, c)
		}
	}
	slices.SortFunc(tops, func(a, b string) int {
		pa, _ := x.PopulationShare(a)
		pb, _ := x.PopulationShare(b)
		return cmp.Or(cmp.Compare(pb, pa), cmp.Compare(a, b))
	})
	var rows []segment.Stats
	for _, c := range tops[:5] {
		fans, err := x.Eval(segment.And(segment.Affinity(c).GE(0.2), segment.Lift(c).GE(2)))
		require.NoError(t, err)
		share, _ := x.PopulationShare(c)
		rows = append(rows, x.Stats(fmt.Sprintf("%s (%.1f%% of spend)", c, 100*share), fans))
		assert.Positive(t, rows[len(rows)-1].Customers, c)
	}
	var aff bytes.Buffer
	require.NoError(t, segment.WriteTable(&aff, rows))
	t.Logf("affinity(X) >= 0.2 and lift(X) >= 2:\n%s", aff.String())

	// The naive scan costs more than the rest of the test: the long suite
	// checks the queries on the whole file, the quick one on the index of
	// every eighth customer's orders.
	qh, qx := h, x
	if !testdata.Long() {
		qh = everyNthCustomer(t, h, 8)
		qx, err = segment.Build(ctx, qh, asOf, segment.Options{})
		require.NoError(t, err)
		require.Greater(t, qx.Len(), 500)
	}
	n := newNaive(qh, asOf, segment.Options{})
	checkQueries(t, qx, n, rand.New(rand.NewPCG(2011, 12)), testdata.Scale(150, 50))
}

// everyNthCustomer returns the History of the orders and events of h's
// customers whose ids are multiples of n, with h's whole catalog.
func everyNthCustomer(t *testing.T, h *affinity.History, n int) *affinity.History {
	t.Helper()
	cat := h.Catalog()
	b := affinity.NewCatalogBuilder(cat)
	for c := affinity.CustomerID(0); int(c) < h.NumCustomers(); c += affinity.CustomerID(n) {
		copyCustomer(t, b, h, c)
	}
	sub, err := b.Build(context.Background())
	require.NoError(t, err)
	return sub
}
