package campaign_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFavouriteCountsALineOnce: the favourite category is the one with
// the most spend, a line counted once in a level-two category however
// many of its leaves the product is filed in (it once counted once per
// leaf), and a category of free lines only is no favourite.
func TestFavouriteCountsALineOnce(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.products = append(w.products,
		affinity.Product{Key: "cheap2", Name: "Cheap in two leaves", Categories: []string{"A/B/x", "A/B/y"}, Price: 10_0000, InStock: true},
		affinity.Product{Key: "dear", Name: "Dear", Categories: []string{"A/C/z"}, Price: 15_0000, InStock: true},
		affinity.Product{Key: "free", Name: "Free sample", Categories: []string{"A/D/s"}, InStock: true},
	)
	for i := range 4 {
		w.products = append(w.products,
			affinity.Product{Key: fmt.Sprintf("b%d", i), Name: fmt.Sprintf("B%d", i), Categories: []string{"A/B/x"}, Price: 10_0000, InStock: true},
			affinity.Product{Key: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("C%d", i), Categories: []string{"A/C/z"}, Price: 10_0000, InStock: true},
			affinity.Product{Key: fmt.Sprintf("d%d", i), Name: fmt.Sprintf("D%d", i), Categories: []string{"A/D/s"}, Price: 10_0000, InStock: true})
	}
	for i := range 20 {
		w.buy(fmt.Sprintf("bg%d", i), asOf.AddDate(0, 0, -30+i), fmt.Sprintf("b%d", i%4), fmt.Sprintf("c%d", i%4), fmt.Sprintf("d%d", i%4), "dear", "cheap2")
	}
	line := func(c, o, p string, price affinity.Money) {
		w.lines = append(w.lines, affinity.Purchase{Customer: c, Product: p, Order: o, Time: asOf.AddDate(0, 0, -3), Quantity: 1, Price: price})
	}
	line("alice", "oa", "cheap2", 10_0000) // 10.00 in A/B (filed twice there)
	line("alice", "oa", "dear", 15_0000)   // 15.00 in A/C: the favourite
	line("zoe", "oz", "free", 0)           // a free line only: no favourite
	h := w.history(t)
	c := campaign.Campaign{Name: "fav", Content: campaign.Favourites, Control: -1, Audience: "frequency >= 1"}
	p, err := campaign.Build(context.Background(), advBIOpen(t, h, asOf).Snapshot(), asOf, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	got := map[string][]string{}
	for _, m := range p.Messages {
		for _, it := range m.Items {
			got[m.Customer] = append(got[m.Customer], it.Product)
		}
	}
	require.NotEmpty(t, got["alice"])
	for _, k := range got["alice"] {
		assert.True(t, strings.HasPrefix(k, "c"), "alice's favourite is A/C: got %v", got["alice"])
	}
	// zoe gets her plain recommendations (the most popular products lead
	// them), not the free sample's category
	require.NotEmpty(t, got["zoe"])
	assert.False(t, allPrefix(got["zoe"], "d"), "zoe's items all from A/D: %v", got["zoe"])
}

func allPrefix(keys []string, p string) bool {
	for _, k := range keys {
		if !strings.HasPrefix(k, p) {
			return false
		}
	}
	return true
}
