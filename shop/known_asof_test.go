package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// TestKnownByTheAsOfTime: a snapshot opened with Options.AsOf in the past
// holds later data; a customer whose first order comes after the as-of
// time is not known — to Recommend and Profile as to the segment index,
// which leaves them out — where the lookup of the key in the whole
// History made them Known with an empty profile. A customer with only an
// event by then is known.
func TestKnownByTheAsOfTime(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	asOf := t0.Add(12 * time.Hour)
	var lines []affinity.Purchase
	for i := range 40 { // an order an hour, c0 … c39; c12 on is after asOf
		for _, p := range [][]string{{"X", "P"}, {"Q"}}[i%2] {
			lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("c%d", i), Product: p, Order: fmt.Sprintf("o%d", i),
				Time: t0.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: 10_000})
		}
	}
	events := []affinity.Event{
		{Customer: "viewer", Product: "P", Time: t0.Add(time.Hour), Kind: affinity.View},
		{Customer: "c39", Product: "P", Time: t0.Add(100 * time.Hour), Kind: affinity.View},
	}
	evs := shop.SourceFunc(func(_ context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, e := range events {
			if err := b.AddEvent(e); err != nil {
				return dataset.Report{}, err
			}
		}
		return dataset.Report{Rows: len(events), Loaded: len(events), Events: len(events)}, nil
	})
	s, err := shop.Open(ctx, shop.Sources(shop.Purchases(slices.Values(lines)), evs),
		shop.Options{Model: "neighbours", NextBasket: shop.Off, Workers: 1, AsOf: asOf})
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	aud, err := snap.Segment("all")
	require.NoError(t, err)
	all, err := aud.All(shop.ByKey)
	require.NoError(t, err)
	inIndex := map[string]bool{}
	for _, m := range all {
		inIndex[m.Customer] = true
	}
	for _, c := range []string{"c0", "c12", "c13", "c39", "viewer"} {
		res, err := snap.Recommend(ctx, shop.Request{Customer: c})
		require.NoError(t, err)
		p, err := snap.Profile(ctx, c)
		require.NoError(t, err)
		want := c == "c0" || c == "c12" || c == "viewer" // c12 at exactly asOf
		assert.Equal(t, want, res.Known, "%s: Recommend's Known", c)
		assert.Equal(t, want, p.Known, "%s: Profile's Known", c)
		if c != "viewer" { // the index holds customers with orders
			assert.Equal(t, want, inIndex[c], "%s: in the segment index", c)
		}
		if !want {
			assert.Equal(t, shop.Profile{Customer: c}, p, "%s: nothing else in the profile", c)
		}
	}
}

// TestResultJSONOffsetOfADay: encoding/json refuses a time whose zone is
// 24 hours or more from UTC; Result's appender wrote it, and nothing read
// it back. The as-of time is now written in UTC, so every such time is
// its instant, read back equal.
func TestResultJSONOffsetOfADay(t *testing.T) {
	for _, off := range []int{24 * 3600, 25 * 3600, -24 * 3600, 23*3600 + 59*60, -(23*3600 + 59*60)} {
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("z", off))
		b, err := json.Marshal(shop.Result{AsOf: at, Recs: []shop.Rec{}})
		require.NoError(t, err, "offset %ds", off)
		assert.Contains(t, string(b), `"as_of":"`+at.UTC().Format(time.RFC3339)+`"`, "offset %ds", off)
		var back shop.Result
		require.NoError(t, json.Unmarshal(b, &back), "offset %ds: %s", off, b)
		assert.True(t, at.Equal(back.AsOf))
	}
}
