package dataset_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

func small(seed uint64) dataset.SyntheticOptions {
	return dataset.SyntheticOptions{Customers: 3000, Products: 400, Categories: 30, Seed: seed}
}

func TestGenerateDeterministic(t *testing.T) {
	// the quick suite draws a third of the customers: the generator's
	// paths are the same (TestGenerateShape takes the whole small shop)
	o7, o8 := small(7), small(8)
	o7.Customers = testdata.Scale(o7.Customers, 1000)
	o8.Customers = o7.Customers
	a := dataset.Generate(o7)
	b := dataset.Generate(o7)
	c := dataset.Generate(o8)
	require.Equal(t, len(a.Purchases), len(b.Purchases))
	assert.Equal(t, a.Purchases, b.Purchases)
	assert.Equal(t, a.Events, b.Events)
	assert.Equal(t, a.Products, b.Products)
	assert.Equal(t, a.Truth, b.Truth)
	assert.NotEqual(t, a.Purchases, c.Purchases, "another seed gives another storefront")
}

func TestGenerateShape(t *testing.T) {
	ctx := context.Background()
	s := dataset.Generate(small(1))
	o := s.Options
	h, err := s.History(ctx)
	require.NoError(t, err)
	sum := h.Summary()
	assert.Equal(t, o.Customers, sum.Customers)
	assert.Equal(t, o.Products, sum.Products)
	// about MeanOrders × MeanLines lines per customer
	perCustomer := float64(sum.Lines) / float64(sum.Customers)
	assert.InDelta(t, o.MeanOrders*o.MeanLines, perCustomer, 3.5)
	assert.Positive(t, sum.Returns)
	assert.Positive(t, sum.Events)
	end := o.Start.AddDate(0, 0, o.Days)
	for _, p := range s.Purchases {
		require.False(t, p.Time.Before(o.Start) || !p.Time.Before(end), "purchase at %v outside the trading period", p.Time)
	}
	// every leaf is a three-level path, every product has a category
	cat := h.Catalog()
	for p := range cat.NumProducts() {
		leaves := cat.Categories(affinity.ProductID(p))
		require.NotEmpty(t, leaves)
		assert.Equal(t, 3, cat.Depth(leaves[0]))
	}
	// Zipf popularity: the top 10% of products take a large share of lines
	counts := make([]int, cat.NumProducts())
	for i := range h.NumLines() {
		counts[h.LineProduct(i)]++
	}
	top := topShare(counts, len(counts)/10)
	assert.Greater(t, top, 0.35, "top decile share of lines")
}

func topShare(counts []int, n int) float64 {
	c := append([]int(nil), counts...)
	total := 0
	for _, v := range c {
		total += v
	}
	// partial selection sort is fine for a test
	sum := 0
	for i := range n {
		best := i
		for j := i + 1; j < len(c); j++ {
			if c[j] > c[best] {
				best = j
			}
		}
		c[i], c[best] = c[best], c[i]
		sum += c[i]
	}
	return float64(sum) / float64(total)
}

// The planted truth must be visible in the data: customers buy mostly in
// their preferred categories, and planted partners are bought by their
// anchors' buyers far more often than by the customers who did not buy
// the anchor. The quick suite checks seed 3, the long one (testdata.Long)
// seeds 3 and 10 with twice the customers.
//
// "Far more often" is P(B | A) > 3·P(B | not A), for more than 80 % of
// the 25 pairs. It used to be P(B | A) > 3·P(B), the lift, which no pair
// can pass when its anchor or partner is bought by a third of the
// customers or more (the lift is at most 1/P(A) and 1/P(B)), and the
// popular half of the catalog, where anchors are drawn, holds such
// products: on seeds 1–80 (4,000 customers) 2 to 6 pairs per seed had a
// lift of 1.9–2.9 with P(B | A) ≈ 0.7, so 19–24 of 25 passed and seeds
// 27, 61 and 70 failed. Against the anchor's non-buyers 23–25 of 25
// pass on every one of those seeds (a miss is a pair whose anchor is
// mostly bought as another anchor's partner, which plants nothing),
// and 8,000 customers give the same counts: five misses of 25, where
// the test fails, did not occur. With every partner swapped for the
// next pair's, 3–8 of 25 pass on seeds 1–20 (heavy buyers buy more
// of everything).
func TestGenerateTruthIsPlanted(t *testing.T) {
	for _, seed := range []uint64{3, 10}[:testdata.Scale(2, 1)] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { truthIsPlanted(t, seed) })
	}
}

func truthIsPlanted(t *testing.T, seed uint64) {
	ctx := context.Background()
	// the quick suite's shop is the long one's first 4,000 customers (the
	// generator draws customer by customer): the same shares, within 0.002
	s := dataset.Generate(dataset.SyntheticOptions{Customers: testdata.Scale(8000, 4000), Products: 500, Categories: 40, Seed: seed})
	h, err := s.History(ctx)
	require.NoError(t, err)
	cat := h.Catalog()

	inPref, total := 0, 0
	for c := range h.NumCustomers() {
		cid := affinity.CustomerID(c)
		prefs := s.Truth.TopCategories[h.CustomerKey(cid)]
		require.NotEmpty(t, prefs)
		lo, hi := h.CustomerLines(cid)
		if lo == hi {
			continue
		}
		// the customer's first three preferred leaves, looked up once
		var pref []affinity.CategoryID
		for _, path := range prefs[:min(3, len(prefs))] {
			pref = append(pref, mustCat(t, cat, path))
		}
		for i := lo; i < hi; i++ {
			for _, leaf := range cat.Categories(h.LineProduct(i)) {
				if slices.Contains(pref, leaf) {
					inPref++
					break
				}
			}
			total++
		}
	}
	// Preference 0.75 of the draws, less the planted partners (other
	// departments) and products whose leaf is not a preferred one: 0.569
	// to 0.617 on seeds 1 to 8 (4,000 customers); three leaves of 40
	// drawn at random get a small fraction of that. More than half is
	// "mostly", on any of them.
	assert.Greater(t, float64(inPref)/float64(total), 0.5, "share of lines in the preferred categories")

	require.NotEmpty(t, s.Truth.Complements)
	lifted := 0
	all := h.AllBuyers().GetCardinality()
	for _, pr := range s.Truth.Complements {
		a, ok := cat.LookupProduct(pr.A)
		require.True(t, ok)
		b, ok := cat.LookupProduct(pr.B)
		require.True(t, ok)
		// different departments
		assert.NotEqual(t, top(cat, a), top(cat, b), "pair %v crosses departments", pr)
		ba, bb := h.Buyers(a), h.Buyers(b)
		if ba.IsEmpty() || bb.IsEmpty() {
			continue
		}
		both := roaring.And(ba, bb).GetCardinality()
		pBgivenA := float64(both) / float64(ba.GetCardinality())
		pBgivenNotA := float64(bb.GetCardinality()-both) / float64(all-ba.GetCardinality())
		if pBgivenA > 3*pBgivenNotA {
			lifted++
		}
	}
	t.Logf("%d of %d planted pairs with P(B | A) > 3·P(B | not A)", lifted, len(s.Truth.Complements))
	assert.Greater(t, float64(lifted)/float64(len(s.Truth.Complements)), 0.8, "planted pairs with P(B | A) > 3·P(B | not A)")
}

func top(cat *affinity.Catalog, p affinity.ProductID) string {
	path := cat.CategoryPath(cat.Categories(p)[0])
	return path[:strings.Index(path, affinity.CategorySep)]
}

func mustCat(t *testing.T, cat *affinity.Catalog, path string) affinity.CategoryID {
	id, ok := cat.LookupCategory(path)
	require.True(t, ok, path)
	return id
}

func TestDemoIsShared(t *testing.T) {
	assert.Same(t, dataset.Demo(), dataset.Demo())
	assert.Equal(t, 5000, dataset.Demo().Options.Customers)
}

// A probability is taken in [0, 1]: a negative ReturnRate gives no
// returns, a negative RepeatRate no deliberate re-buys without moving the
// other draws (it used to lower the share of lines from a customer's
// preferred categories: RepeatRate + (1 − RepeatRate)·Preference), and
// one above 1 is 1.
func TestGenerateRatesInUnitInterval(t *testing.T) {
	s := dataset.Generate(dataset.SyntheticOptions{
		Customers: 300, Products: 200, Categories: 20, Seed: 4, ViewsPerLine: -1,
		ReturnRate: -1, RepeatRate: -1, ComplementRate: -0.5, Preference: 0.5, AbandonRate: 7,
	})
	o := s.Options
	assert.Zero(t, o.ReturnRate)
	assert.Zero(t, o.RepeatRate)
	assert.Zero(t, o.ComplementRate)
	assert.Equal(t, 0.5, o.Preference)
	assert.Equal(t, 1.0, o.AbandonRate)

	leaves := make(map[string][]string, len(s.Products))
	for _, p := range s.Products {
		leaves[p.Key] = p.Categories
	}
	var lines, preferred int
	for _, p := range s.Purchases {
		require.Positive(t, p.Quantity, "no returns: %+v", p)
		lines++
		if slices.ContainsFunc(leaves[p.Product], func(c string) bool { return slices.Contains(s.Truth.TopCategories[p.Customer], c) }) {
			preferred++
		}
	}
	require.Positive(t, lines)
	// half the lines drawn from the preferred leaves, the rest from the
	// whole catalogue (some of them preferred too)
	assert.Greater(t, float64(preferred)/float64(lines), 0.45, "%d of %d lines in a preferred category", preferred, lines)
}
