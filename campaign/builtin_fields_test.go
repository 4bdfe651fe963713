package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuiltinsChangedBeforeUse: "each returns a fresh Campaign that can
// be changed before use". The back-in-stock alert once selected its
// audience from the products and window it was built with, and the
// abandoned-cart reminder from a fixed 7-day query, whatever the fields
// said when the plan was built.
func TestBuiltinsChangedBeforeUse(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("a", "A", "X/Y", true)
	w.product("b", "B", "X/Y", true)
	for _, c := range []string{"ann", "bob", "cat", "dan"} {
		w.buy(c, asOf.AddDate(0, 0, -100), "a")
	}
	w.ev("ann", "a", asOf.AddDate(0, 0, -2), affinity.Wishlist)
	w.ev("bob", "b", asOf.AddDate(0, 0, -2), affinity.Wishlist)
	w.ev("cat", "a", asOf.AddDate(0, 0, -45), affinity.Wishlist)
	w.ev("dan", "b", asOf.AddDate(0, 0, -10), affinity.Cart)
	h := w.history(t)
	snap := advBIOpen(t, h, asOf).Snapshot()
	sent := func(c campaign.Campaign) []string {
		t.Helper()
		c.Control = -1
		p, err := campaign.Build(context.Background(), snap, asOf, []campaign.Campaign{c}, campaign.Options{})
		require.NoError(t, err)
		var got []string
		for _, m := range p.Messages {
			got = append(got, m.Customer+":"+advBIItemKeys(m)[0])
		}
		assert.Zero(t, p.Counts[0].NoContent, "%s: the audience is the customers with products to send", c.Name)
		return got
	}
	assert.Equal(t, []string{"bob:b", "dan:b"}, sent(campaign.BackInStockAlert("b")))
	c := campaign.BackInStockAlert("a")
	c.Products = []string{"b"}
	assert.Equal(t, []string{"bob:b", "dan:b"}, sent(c), "Products changed")
	c = campaign.BackInStockAlert()
	c.Products = []string{"a"}
	assert.Equal(t, []string{"ann:a"}, sent(c), "Products set later")
	c = campaign.BackInStockAlert("a")
	c.Window = 60 * 24 * time.Hour
	assert.Equal(t, []string{"ann:a", "cat:a"}, sent(c), "Window changed")

	ac := campaign.AbandonedCartReminder()
	assert.Empty(t, sent(ac), "a cart 10 days ago is outside 7 days")
	ac.Window = 14 * 24 * time.Hour
	assert.Equal(t, []string{"dan:b"}, sent(ac), "Window changed")
}

// TestAudienceWithComment: an audience may end in a # comment, as a
// query may: the schedule is still applied. The comment once swallowed
// the closing parenthesis and the schedule, failing Build.
func TestAudienceWithComment(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("p0", "P0", "A/B", true)
	w.product("p1", "P1", "A/B", true)
	w.buy("due", t0.AddDate(0, 0, -20), "p0")
	w.buy("early", t0.AddDate(0, 0, -3), "p0", "p1")
	w.buy("bg", t0.AddDate(0, 0, -40), "p0", "p1")
	h := w.history(t)
	c := campaign.Coupon()
	c.Control = -1
	c.Audience = "frequency >= 1 # repeat buyers"
	p, err := campaign.Build(context.Background(), advBIOpen(t, h, t0).Snapshot(), t0, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	var got []string
	for _, m := range p.Messages {
		got = append(got, m.Customer)
	}
	assert.Equal(t, []string{"due"}, got, "the schedule (14 to 28 days) applies after the comment")
}
