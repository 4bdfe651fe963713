package campaign_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// planOne builds a plan of the one campaign c on the demo at its as-of
// time.
func planOne(t *testing.T, snap *shop.Snapshot, c campaign.Campaign) *campaign.Plan {
	t.Helper()
	p, err := campaign.Build(context.Background(), snap, snap.AsOf(), []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, p.Messages)
	return p
}

// TestRulesShapeContent checks that a campaign's Rules reach its
// recommendations: a thank-you mail of add-ons in a price band, one per
// category, and a replenishment mail of the customer's favourites that
// may offer what they bought before.
func TestRulesShapeContent(t *testing.T) {
	snap := demo(t)
	h := snap.History()
	cat := h.Catalog()
	lo, hi := affinity.MoneyFromFloat(5), affinity.MoneyFromFloat(20)

	plain := campaign.ThankYou()
	shaped := campaign.ThankYou()
	shaped.Rules = shop.Rules{MinPrice: lo, MaxPrice: hi, MaxPerCategory: 1, CategoryDepth: 2}
	before, after := planOne(t, snap, plain), planOne(t, snap, shaped)
	require.Equal(t, len(before.Messages), len(after.Messages)+after.Counts[0].NoContent-before.Counts[0].NoContent,
		"the same audience; customers without a product in the band not contacted")
	changed := 0
	for i, m := range after.Messages {
		seen := map[affinity.CategoryID]bool{}
		for _, it := range m.Items {
			p, ok := cat.LookupProduct(it.Product)
			require.True(t, ok, it.Product)
			price := cat.ProductPrice(p)
			assert.True(t, price >= lo && price <= hi, "%s: %s at %v", m.Customer, it.Product, price)
			for _, c := range cat.Categories(p) {
				a := cat.Ancestor(c, 2)
				assert.False(t, seen[a], "%s: a second product of %s", m.Customer, cat.CategoryPath(a))
				seen[a] = true
			}
		}
		if i >= len(before.Messages) || !slices.Equal(itemKeys(before.Messages[i].Items), itemKeys(m.Items)) {
			changed++
		}
	}
	assert.Positive(t, changed)

	// a replenishment mail: favourites, repeats allowed
	fav := campaign.Campaign{Name: "favourites", Audience: "frequency >= 5", Content: campaign.Favourites}
	again := fav
	again.Name, again.Rules = "buy-again", shop.Rules{AllowRepeats: true}
	bought := func(p *campaign.Plan) (n int) {
		for _, m := range p.Messages {
			c, ok := h.LookupCustomer(m.Customer)
			require.True(t, ok)
			owned := map[string]bool{}
			lo, hi := h.CustomerLines(c)
			for l := lo; l < hi; l++ {
				owned[cat.ProductKey(h.LineProduct(l))] = true
			}
			for _, it := range m.Items {
				if owned[it.Product] {
					n++
				}
			}
		}
		return n
	}
	nFav, nAgain := bought(planOne(t, snap, fav)), bought(planOne(t, snap, again))
	assert.Greater(t, nAgain, nFav, "products bought before, offered again: %d without AllowRepeats, %d with", nFav, nAgain)
}

func itemKeys(items []campaign.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Product
	}
	return out
}

// TestRulesErrors checks that rules a campaign cannot honour are an error
// of Build naming the campaign.
func TestRulesErrors(t *testing.T) {
	snap := demo(t)
	cases := []struct {
		c    campaign.Campaign
		want string
	}{
		{campaign.Campaign{Name: "oos", Content: campaign.CrossSell, Rules: shop.Rules{IncludeOutOfStock: true}}, "in stock"},
		{campaign.Campaign{Name: "coupon", Content: campaign.NoProducts, Rules: shop.Rules{MaxPrice: 1}}, "not none"},
		{campaign.Campaign{Name: "group", Content: campaign.GroupFavourites, Rules: shop.Rules{MaxPerCategory: 1}}, "not group-favourites"},
		{campaign.Campaign{Name: "band", Content: campaign.Favourites, Rules: shop.Rules{MinPrice: 2, MaxPrice: 1}}, "price band"},
		{campaign.Campaign{Name: "nan", Content: campaign.CrossSell, Rules: shop.Rules{Diversity: math.NaN()}}, "diversity"},
	}
	for _, tc := range cases {
		_, err := campaign.Build(context.Background(), snap, snap.AsOf(), []campaign.Campaign{tc.c}, campaign.Options{})
		require.ErrorContains(t, err, tc.c.Name, "%+v", tc.c)
		require.ErrorContains(t, err, tc.want, "%+v", tc.c)
		if tc.want == "price band" || tc.want == "diversity" {
			require.ErrorIs(t, err, shop.ErrInvalidRequest)
		}
	}
}

// TestProductsLimitRecommendations checks that Products limits cross-sell
// content before the K products are chosen: each message holds the
// complements of the last order that the shop gives for K among the
// listed products, where filtering the K recommendations afterwards left
// most messages short or empty.
func TestProductsLimitRecommendations(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	h := snap.History()
	cat := h.Catalog()
	// 200 products, every fifth of the catalog
	var limited []string
	for p := 0; p < cat.NumProducts(); p += 5 {
		limited = append(limited, cat.ProductKey(affinity.ProductID(p)))
	}
	c := campaign.Campaign{Name: "sale", Audience: "frequency >= 3 and recency <= 60d", Content: campaign.CrossSell, Products: limited, K: 4}
	p := planOne(t, snap, c)
	full := 0
	for _, m := range p.Messages {
		o, ok := h.LastPurchaseOrder(m.ID, snap.AsOf())
		require.True(t, ok)
		var cart []string
		l0, l1 := h.OrderLines(o)
		for l := l0; l < l1; l++ {
			if h.LineQuantity(l) > 0 {
				cart = append(cart, cat.ProductKey(h.LineProduct(l)))
			}
		}
		res, err := snap.Recommend(ctx, shop.Request{Customer: m.Customer, Cart: cart, Exclude: cart, Only: limited, K: 4})
		require.NoError(t, err)
		var want []string
		for _, r := range res.Recs {
			if !r.Source.Fallback() {
				want = append(want, r.Product)
			}
		}
		assert.Equal(t, want, itemKeys(m.Items), m.Customer)
		if len(m.Items) == 4 {
			full++
		}
	}
	assert.Greater(t, full, len(p.Messages)/3, "messages with K products: %d of %d", full, len(p.Messages))
}
