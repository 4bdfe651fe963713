package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// modelRankScore is the documented RFMRank score of a value when worse of
// the n scored customers have a strictly worse value and better a
// strictly better one: 1 + ⌊5·worse/n⌋, except 5 for the best value when
// some value is worse and 3 when every scored customer has the same.
func modelRankScore(worse, better, n int) int {
	switch {
	case better == 0 && worse == 0:
		return 3
	case better == 0:
		return 5
	}
	return 1 + 5*worse/n
}

// rfmEndsAsOf is the as-of time of rfmEndsIndex.
var rfmEndsAsOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// rfmEndsIndex builds the index of customers, customer i with orders[i]
// orders of spend[i] each, the last days[i] days before asOf (0: at asOf
// itself), under scoring.
func rfmEndsIndex(t *testing.T, scoring segment.RFMScoring, days, orders []int, spend []affinity.Money) *segment.Index {
	t.Helper()
	x, err := segment.Build(context.Background(), rfmEndsHistory(t, nil, days, orders, spend), rfmEndsAsOf, segment.Options{RFMScoring: scoring})
	require.NoError(t, err)
	return x
}

// rfmEndsHistory returns base (nil: none) with the orders rfmEndsIndex
// describes.
func rfmEndsHistory(t *testing.T, base *affinity.History, days, orders []int, spend []affinity.Money) *affinity.History {
	t.Helper()
	asOf := rfmEndsAsOf
	b := affinity.NewBuilder(base)
	for i := range days {
		for o := range orders[i] {
			at := asOf.Add(-time.Duration(days[i]+o) * segment.Day)
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%02d", i), Product: "p",
				Order: fmt.Sprintf("c%02d-%d-%d", i, days[i], o), Time: at, Quantity: 1, Price: spend[i]}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// An update on the index's own day gives the touched customers' scores
// anew and those of the others whose score the new distribution moves,
// the ends of the scale included: when one customer leaves a tie of
// everyone (all scored 3) or joins the best value, the result equals a
// build.
func TestRFMRankEndsUpdate(t *testing.T) {
	ctx := context.Background()
	same := func(n int, v int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	money := func(n int, v affinity.Money) []affinity.Money {
		s := make([]affinity.Money, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	for _, c := range []struct {
		name               string
		days, orders       []int
		spend              []affinity.Money
		addDays, addOrders []int // more orders of the first customers
		addSpend           []affinity.Money
	}{
		{"one leaves a tie of all", same(8, 3), same(8, 1), money(8, 100), []int{0}, []int{1}, []affinity.Money{500}},
		{"one joins the best", []int{9, 8, 7, 0, 0}, []int{1, 1, 1, 2, 2}, []affinity.Money{1, 2, 3, 9, 9}, []int{0}, []int{1}, []affinity.Money{8}},
		{"the best alone falls back", []int{9, 8, 7, 6, 0}, []int{1, 1, 1, 1, 1}, []affinity.Money{1, 1, 1, 1, 10}, []int{0, 0, 0}, []int{1, 1, 1}, []affinity.Money{20, 20, 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := rfmEndsHistory(t, nil, c.days, c.orders, c.spend)
			x, err := segment.Build(ctx, h, rfmEndsAsOf, segment.Options{})
			require.NoError(t, err)
			h2 := rfmEndsHistory(t, h, c.addDays, c.addOrders, c.addSpend)
			u, err := segment.Update(ctx, x, h, h2, rfmEndsAsOf, segment.UpdateOptions{Workers: 1})
			require.NoError(t, err)
			want, err := segment.Build(ctx, h2, rfmEndsAsOf, segment.Options{})
			require.NoError(t, err)
			assert.Equal(t, want.FeaturesOf(want.All()), u.FeaturesOf(u.All()))
		})
	}
}

// The ends of the RFMRank scale: the best value scores 5 however many
// share it, a distribution without spread scores everyone 3, and the
// worst value 1. A single customer who bought at the as-of time is not
// Lost; nor is everyone in a shop where all bought on the same day for
// the same amount; a shop with zero revenue gives every spend M=3.
func TestRFMRankEnds(t *testing.T) {
	for _, c := range []struct {
		name          string
		days, orders  []int
		spend         []affinity.Money
		r, f, m       []int
		seg0, segLast string // RFM segments of the first and last customer
	}{
		{"one customer at asOf", []int{0}, []int{1}, []affinity.Money{10_000},
			[]int{3}, []int{3}, []int{3}, "Need attention", "Need attention"},
		{"all alike", []int{2, 2, 2}, []int{2, 2, 2}, []affinity.Money{0, 0, 0},
			[]int{3, 3, 3}, []int{3, 3, 3}, []int{3, 3, 3}, "Need attention", "Need attention"},
		// 9 of 10 bought at asOf, with 2 orders and the top spend; one a
		// week before with 1 order and less
		{"most share the best", []int{7, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []int{1, 2, 2, 2, 2, 2, 2, 2, 2, 2},
			[]affinity.Money{5_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000},
			[]int{1, 5, 5, 5, 5, 5, 5, 5, 5, 5}, []int{1, 5, 5, 5, 5, 5, 5, 5, 5, 5}, []int{1, 5, 5, 5, 5, 5, 5, 5, 5, 5},
			"Lost", "Champions"},
		// zero revenue: spend is no distinction
		{"zero revenue", []int{30, 20, 10, 0}, []int{1, 1, 2, 3}, []affinity.Money{0, 0, 0, 0},
			[]int{1, 2, 3, 5}, []int{1, 1, 3, 5}, []int{3, 3, 3, 3}, "Lost", "Champions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := rfmEndsIndex(t, segment.RFMRank, c.days, c.orders, c.spend)
			fs := x.FeaturesOf(x.All())
			require.Len(t, fs, len(c.days))
			for i, f := range fs {
				assert.Equal(t, [3]int{c.r[i], c.f[i], c.m[i]}, [3]int{f.R, f.F, f.M}, f.Customer)
			}
			assert.Equal(t, c.seg0, fs[0].RFM)
			assert.Equal(t, c.segLast, fs[len(fs)-1].RFM)
			// ScoreRFM scores features alike
			again := make([]segment.Features, len(fs))
			for i, f := range fs {
				again[i] = segment.Features{Customer: f.Customer, Recency: f.Recency, Tenure: f.Tenure, Frequency: f.Frequency,
					Monetary: f.Monetary, AOV: f.AOV, Stage: f.Stage, AbandonedCartDays: f.AbandonedCartDays}
			}
			require.NoError(t, segment.ScoreRFM(again, x.AsOf(), segment.Options{}))
			assert.Equal(t, fs, again)
		})
	}
}

// NTILE keeps SQL's tiles: a single customer is in the first.
func TestRFMNTileOneCustomer(t *testing.T) {
	x := rfmEndsIndex(t, segment.RFMNTile, []int{0}, []int{1}, []affinity.Money{10_000})
	fs := x.FeaturesOf(x.All())
	require.Len(t, fs, 1)
	assert.Equal(t, [3]int{1, 1, 1}, [3]int{fs[0].R, fs[0].F, fs[0].M})
}

// An index file written before the RFMRank scores anchored the ends of the
// scale reads with the scores it holds, and an update of it, on its own
// day too, gives everyone's anew (an index read from a file keeps no
// per-customer columns to patch: the update builds): the result equals a
// build. In tinyHistory ann has the most orders (2 against 1 and 1): F=4
// in the older file, 5 now.
func TestRFMRankEndsOlderFile(t *testing.T) {
	ctx := context.Background()
	old, err := os.ReadFile("testdata/tiny-before-rank-ends.idx")
	require.NoError(t, err)
	x, err := segment.ReadIndex(bytes.NewReader(old))
	require.NoError(t, err)
	h := tinyHistory(t)
	fresh, err := segment.Build(ctx, h, testAsOf, segment.Options{})
	require.NoError(t, err)
	ann, ok := x.LookupCustomer("ann")
	require.True(t, ok)
	f, _ := x.Features(ann)
	assert.Equal(t, 4, f.F, "the older file's score")
	f, _ = fresh.Features(ann)
	assert.Equal(t, 5, f.F, "the best frequency")
	// one more order of cy's on the index's day
	b := affinity.NewBuilder(h)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "cy", Product: "mug", Order: "9", Time: testAsOf.Add(-time.Hour), Quantity: 1, Price: 10_000}))
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	u, err := segment.Update(ctx, x, h, h2, testAsOf, segment.UpdateOptions{Workers: 1})
	require.NoError(t, err)
	want, err := segment.Build(ctx, h2, testAsOf, segment.Options{})
	require.NoError(t, err)
	assert.Equal(t, want.FeaturesOf(want.All()), u.FeaturesOf(u.All()))
	// written again, the updated index reads back with the same scores
	var buf bytes.Buffer
	_, err = u.WriteTo(&buf)
	require.NoError(t, err)
	back, err := segment.ReadIndex(&buf)
	require.NoError(t, err)
	assert.Equal(t, want.FeaturesOf(want.All()), back.FeaturesOf(back.All()))
}
