package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, shop.Demo(), nil))
	s := out.String()
	for _, section := range []string{"# The shop", "rows", "# RFM segments as of 2025-12-30 23:59:59", "# Coupon campaign", "# Thank-you mail for "} {
		assert.Contains(t, s, section)
	}
	for _, seg := range []string{"Champions", "Loyal", "At risk", "Can't lose them", "Hibernating", "Lost"} {
		assert.Regexp(t, "(?m)^"+regexp.QuoteMeta(seg)+` +\d+`, s)
	}
	m := regexp.MustCompile(`coupon: (\d+) customers`).FindStringSubmatch(s)
	require.Len(t, m, 2, s)
	n, _ := strconv.Atoi(m[1])
	assert.Positive(t, n, "the coupon segment is not empty")
	recs := regexp.MustCompile(`(?m)^\d\. p\d{5} .*bought together with .* in \d+ orders — \d+\.\d× more often than chance`).FindAllString(s, -1)
	assert.GreaterOrEqual(t, len(recs), 3, "cross-sell products with their reasons")
	assert.Len(t, regexp.MustCompile(`(?m)^\d\. p\d{5} `).FindAllString(s, -1), 5, "five cross-sell products")
	assert.NotRegexp(t, `lift 0\.|\b0\.\d+×`, s, "no pair bought together less than chance is a reason")
	assert.Regexp(t, `(?m)^  c\d{6} spent \d+\.\d\d in \d+ orders`, s, "the coupon's top spenders")

	// same data, same output: the demo run again in the long suite; in
	// the quick suite a generated shop of 500 customers run twice, the
	// same sections at a tenth of the demo's cost
	if testdata.Long() {
		var again bytes.Buffer
		require.NoError(t, run(context.Background(), &again, shop.Demo(), nil))
		assert.Equal(t, s, again.String(), "same data, same output")
		return
	}
	small := dataset.Generate(dataset.SyntheticOptions{Customers: 500, Products: 200})
	var first, again bytes.Buffer
	require.NoError(t, run(context.Background(), &first, shop.Storefront(small), nil))
	require.NoError(t, run(context.Background(), &again, shop.Storefront(small), nil))
	for _, section := range []string{"# RFM segments as of", "# Coupon campaign", "# Thank-you mail for "} {
		assert.Contains(t, first.String(), section)
	}
	assert.Equal(t, first.String(), again.String(), "same data, same output")
}

// TestQuickstartBaskets runs the quickstart on a file of baskets without
// customer ids: no segments, and the last basket's cross-sell.
func TestQuickstartBaskets(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, shop.File(filepath.Join("..", "..", "dataset", "testdata", "baskets.csv"), "baskets"), nil))
	s := out.String()
	assert.Contains(t, s, "# Segments\nnone: no order names its customer\n")
	assert.NotContains(t, s, "# RFM segments")
	assert.Contains(t, s, "# Bought together with the last order: citrus fruit, semi-finished bread, margarine, ready soups\n")
	assert.Len(t, regexp.MustCompile(`(?m)^\d\. `).FindAllString(s, -1), 5, s)
	// a basket's product is named by its key: said once
	assert.NotRegexp(t, `(?m)^\d\. (.+) "(.+)" `, s)
	assert.Regexp(t, `(?m)^\d\. [a-z/ -]+ +0\.00  `, s)

	path := filepath.Join(testdata.Shared(t, ""), "groceries", "groceries.csv")
	out.Reset()
	require.NoError(t, run(context.Background(), &out, shop.File(path, "baskets"), nil))
	s = out.String()
	assert.Contains(t, s, "anonymous orders   9835")
	assert.Contains(t, s, "# Bought together with the last order: citrus fruit, semi-finished bread, margarine, ready soups\n")
	recs := regexp.MustCompile(`(?m)^\d\. .*bought together with .* in \d+ orders — \d+\.\d× more often than chance`).FindAllString(s, -1)
	assert.GreaterOrEqual(t, len(recs), 3, s)
}
