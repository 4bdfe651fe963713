package campaign_test

import (
	"context"
	"fmt"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/shop"
)

// A thank-you mail whose add-ons are small ones: complements of the last
// order priced up to 15.00, no two from one category two levels down.
// Customers with no such complement are not mailed.
func ExampleCampaign_rules() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		panic(err)
	}
	snap := s.Snapshot()
	thanks := campaign.ThankYou()
	thanks.Rules = shop.Rules{MaxPrice: affinity.MoneyFromFloat(15), MaxPerCategory: 1, CategoryDepth: 2}
	plan, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{thanks}, campaign.Options{})
	if err != nil {
		panic(err)
	}
	c := plan.Counts[0]
	fmt.Printf("audience %d, no content %d, sent %d\n", c.Audience, c.NoContent, c.Treated)
	m := plan.Sent()[0]
	cat := snap.History().Catalog()
	for _, it := range m.Items {
		p, _ := cat.LookupProduct(it.Product)
		fmt.Printf("%s %s %-26s %5s\n", m.Customer, it.Product, cat.CategoryPath(cat.Categories(p)[0]), cat.ProductPrice(p).Format(2))
	}
	// Output:
	// audience 117, no content 0, sent 108
	// c000004 p00631 Home/Outdoor/Socks          7.46
	// c000004 p00868 Apparel/Classic/Jackets     5.87
	// c000004 p00413 Apparel/Essentials/Cables   2.34
	// c000004 p00231 Apparel/Kids/Running       14.77
}
