package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// thankYou runs the quickstart on a file and returns its thank-you
// section.
func thankYou(t *testing.T, name, format, data string) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, shop.File(testdata.WriteFile(t, name, []byte(data)), format), nil))
	s := out.String()
	i := strings.Index(s, "\n# Thank-you mail")
	require.GreaterOrEqual(t, i, 0, s)
	return s[i:]
}

// TestThankYouDistinctProducts: an order of two lines of one product (a
// CDNOW row of three CDs at two prices) was taken as an order of two
// products, and listed as "cd, cd". The mail is for the last order of two
// different products, each listed once.
func TestThankYouDistinctProducts(t *testing.T) {
	const head = "customer,product,time,price\n"
	orders := head +
		"c1,p1,2024-01-05,5\nc1,p2,2024-02-05,5\nc1,p1,2024-03-05,5\nc1,p2,2024-03-05,5\nc1,p1,2024-03-05,5\n" +
		"c2,p1,2024-01-06,5\nc2,p2,2024-02-06,5\nc2,p1,2024-04-06,5\nc2,p1,2024-04-06,7\n" +
		"c3,p3,2024-01-07,5\n"
	s := thankYou(t, "orders.csv", "csv", orders)
	assert.True(t, strings.HasPrefix(s, "\n# Thank-you mail for c1 (last order: p1, p2)\n"), "c2's later order bought p1 only:\n%s", s)
	assert.Contains(t, s, "\n1. p3 ")

	// every product of the shop in the order: the section says so
	s = thankYou(t, "orders.csv", "csv", strings.ReplaceAll(orders, "c3,p3", "c3,p2"))
	assert.Contains(t, s, "\nnothing to recommend", s)

	// CDNOW has one product: no order of two, and the section says so
	s = thankYou(t, "cdnow.txt", "cdnow", " 00001 0001 19970101  1   11.77\n 00001 0001 19970201  1   11.77\n 00001 0001 19970301  3   39.97\n 00002 0002 19970101  2   20.00\n")
	assert.NotContains(t, s, "cd, cd")
	assert.Contains(t, s, "none: no order holds two different products")
}
