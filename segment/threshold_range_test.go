package segment_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// A nonzero threshold too close to 0 for a float64 to keep its digits
// (it underflowed to 0) would compare as 0 — frequency < 1e-401 as
// frequency < 0, which selects no one where 0 < 1e-401 holds for every
// customer without an order. It is a syntax error at the number; 1e-307,
// which a float64 keeps, compares exactly.
func TestThresholdTooCloseToZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 1))
	h := randomHistory(t, rng, 300)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	tiny := "0." + strings.Repeat("0", 400) + "1"
	cat := `affinity("` + h.Catalog().CategoryPath(1) + `")`
	for _, q := range []string{
		"frequency < " + tiny, "monetary > -" + tiny, "monetary < $" + tiny, "monetary < €-" + tiny,
		cat + " < " + tiny, cat + " = " + tiny + "%", "recency < " + tiny + "w", "recency between 0 and " + tiny + "y",
		`lift("` + h.Catalog().CategoryPath(1) + `") > ` + tiny,
		"aov <= 0." + strings.Repeat("0", 320) + "12345", // subnormal: digits lost
	} {
		_, err := x.Query(q)
		var se *segment.SyntaxError
		if assert.ErrorAs(t, err, &se, q[:min(len(q), 30)]) {
			assert.Equal(t, strings.Index(q, "0.0"), se.Offset, q[:30])
			assert.Contains(t, se.Msg, "too close to 0")
		}
	}
	small := "0." + strings.Repeat("0", 306) + "1" // 1e-307
	for q, same := range map[string]string{
		"frequency < " + small:           "frequency <= 0",
		"monetary > -" + small:           "monetary >= 0",
		cat + " > " + small:              cat + " > 0",
		"recency < " + small + "w":       "recency <= 0",
		"frequency != 0." + "0000000001": "all",
	} {
		got, err := x.Query(q)
		require.NoError(t, err, q[:20])
		want, err := x.Query(same)
		require.NoError(t, err)
		assert.True(t, got.Equals(want), "%s…: %d customers, want %d as %s", q[:20], got.GetCardinality(), want.GetCardinality(), same)
	}
}

// A lift can exceed 10^15 by far — a customer whose whole spend is in a
// category the rest of the shop hardly buys — so that a threshold there
// is not "beyond every value": one a float64 rounds (9e18+2 to 9e18) is
// refused like any with more digits than a comparison keeps, instead of
// selecting a customer of lift 9e18+1. Money thresholds of 10^15 and more
// do lie beyond every spend and stay accepted.
func TestHugeLiftThreshold(t *testing.T) {
	var hb affinity.Builder
	require.NoError(t, hb.AddProduct(affinity.Product{Key: "x", Categories: []string{"X"}}))
	require.NoError(t, hb.AddProduct(affinity.Product{Key: "y", Categories: []string{"Y"}}))
	at := testAsOf.Add(-time.Hour)
	require.NoError(t, hb.Add(affinity.Purchase{Customer: "a", Product: "x", Order: "1", Time: at, Quantity: 1, Price: 1}))
	require.NoError(t, hb.Add(affinity.Purchase{Customer: "b", Product: "y", Order: "2", Time: at, Quantity: 1, Price: 9_000_000_000_000_000_000}))
	h, err := hb.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	for _, q := range []string{`lift("X") >= 9000000000000000002`, `lift("X") = 9000000000000000001`, `lift("X") < 12345678901234567890123`} {
		_, err := x.Query(q)
		var se *segment.SyntaxError
		require.ErrorAs(t, err, &se, q)
		assert.Equal(t, strings.LastIndexByte(q, ' ')+1, se.Offset, q)
		assert.Contains(t, se.Msg, "more digits than a comparison keeps")
	}
	a, ok := h.LookupCustomer("a")
	require.True(t, ok)
	b, ok := h.LookupCustomer("b")
	require.True(t, ok)
	for q, want := range map[string][]uint32{
		`lift("X") >= 9000000000000000000`:  {uint32(a)}, // a's lift is 9e18+1
		`lift("X") > 9000000000000000000`:   {uint32(a)},
		`lift("X") = 9000000000000000000`:   {},
		`lift("X") > 10000000000000000000`:  {},
		`monetary >= 999999999999999999999`: {},
		`monetary = 900000000000000`:        {uint32(b)}, // 9e14 currency units
	} {
		got, err := x.Query(q)
		require.NoError(t, err, q)
		assert.ElementsMatch(t, want, got.ToArray(), q)
	}
}

// A money threshold names the Money unit exactly below 10^11 currency
// units (15 significant digits) and up to 2^53 Money units, where a
// float64 holds every amount; beyond, an amount needing more digits
// than a float64 keeps is a syntax error, as the package documentation
// says.
func TestLargeMoneyThresholds(t *testing.T) {
	var b affinity.Builder
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	spend := map[string]affinity.Money{
		"below": 999_999_999_999_999, "at": 1_000_000_000_000_000,
		"top": 1 << 53, // 900719925474.0992 currency units
	}
	for _, key := range []string{"below", "at", "top"} {
		noErr(t, b.Add(affinity.Purchase{Customer: key, Product: "p", Order: key, Time: asOf.Add(-time.Hour), Quantity: 1, Price: spend[key]}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	require.NoError(t, err)
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"monetary >= 99999999999.9999", []string{"at", "below", "top"}},
		{"monetary > 99999999999.9999", []string{"at", "top"}},
		{"monetary < 100000000000.0001", []string{"at", "below"}},
		{"monetary >= 900719925474.0992", []string{"top"}},
		{"monetary > 900719925474.0991", []string{"top"}},
	} {
		got, err := x.Query(c.q)
		require.NoError(t, err, c.q)
		assert.Equal(t, c.want, x.SortedKeys(got), c.q)
	}
	for _, q := range []string{"monetary >= 900719925474.0993", "monetary < 1234567890123.4567"} {
		_, err := x.Query(q)
		var se *segment.SyntaxError
		if assert.ErrorAs(t, err, &se, q) {
			assert.Contains(t, se.Msg, "more digits than a comparison keeps", q)
		}
	}
}
