package shop_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// combosHistory is a small shop: eight customers with two orders each
// over five products, the second a day after the first.
func combosHistory(t *testing.T) *affinity.History {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	b := affinity.NewBuilder(nil)
	for c := range 8 {
		for o := range 2 {
			order := string(rune('a'+c)) + string(rune('0'+o))
			for _, p := range []int{c % 5, (c + 1 + o) % 5} {
				require.NoError(t, b.Add(affinity.Purchase{Customer: string(rune('a' + c)), Product: "p" + string(rune('0'+p)), Order: order,
					Time: t0.Add(time.Duration(24*o+c) * time.Hour), Quantity: 1, Price: 10000}))
			}
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestOptionsScopeModelMeasure: every Scope × Model × Measure that Open
// cannot build a shop with is refused by the option checking, with an
// error naming the options, before anything is loaded: an empty shop
// refuses it as a shop with orders does, and EASE within the sequential
// scope says why.
func TestOptionsScopeModelMeasure(t *testing.T) {
	ctx := context.Background()
	h := combosHistory(t)
	measures := []string{"", "jaccard", "cosine", "lift", "confidence", "npmi", "pmi", "leverage", "conviction",
		"support", "dice", "overlap", "bm25", "ease", "svd"}
	refused := 0
	for _, scope := range []string{"", "basket", "customer", "sequential"} {
		for _, model := range []string{"", "auto", "neighbours", "ease"} {
			for _, measure := range measures {
				name := scope + "/" + model + "/" + measure
				opts := shop.Options{Scope: scope, Model: model, Measure: measure, Workers: 1}
				empty, errEmpty := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase(nil))), opts)
				if errEmpty == nil {
					empty.Close()
				}
				full, errFull := shop.OpenHistory(ctx, h, opts)
				if errFull == nil {
					full.Close()
				}
				assert.Equal(t, errFull == nil, errEmpty == nil, "%s: an empty shop and one with orders agree (%v, %v)", name, errEmpty, errFull)
				if errFull != nil {
					refused++
					assert.Contains(t, errFull.Error(), "Options.", "%s: the options are named: %v", name, errFull)
					assert.NotContains(t, errFull.Error(), "similarity:", "%s: refused before any build: %v", name, errFull)
				}
				if model == "ease" && scope == "sequential" {
					if assert.Error(t, errFull, name) {
						assert.True(t, strings.Contains(errFull.Error(), "Options.Scope") && strings.Contains(errFull.Error(), "basket or customer"), "%s: %v", name, errFull)
					}
				}
			}
		}
	}
	assert.Positive(t, refused)
}
