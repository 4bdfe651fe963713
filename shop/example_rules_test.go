package shop_test

import (
	"context"
	"fmt"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// A cart page's add-ons: complements of the cart priced from 5.00 to
// 25.00, at most one from each category two levels down, so that one
// category does not fill the row. Without the rules, jackets at 32.46
// would come third and Home/Premium would have two of the six.
func ExampleRules() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := s.Snapshot().Recommend(ctx, shop.Request{
		Customer: "c000740", Cart: []string{"p00746"}, K: 6,
		Rules: shop.Rules{
			MinPrice: affinity.MoneyFromFloat(5), MaxPrice: affinity.MoneyFromFloat(25),
			MaxPerCategory: 1, CategoryDepth: 2,
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Recs {
		fmt.Printf("%s %-24s %6s\n", r.Product, r.Category, r.Price.Format(2))
	}
	// Output:
	// p00966 Home/Premium/Socks        22.92
	// p00696 Home/Outdoor/Lamps        13.44
	// p00818 Apparel/Outdoor/Jackets   18.79
	// p00482 Home/Classic/Running      11.65
	// p00379 Apparel/Essentials/Lamps  18.66
	// p00144 Apparel/Classic/Lamps     17.91
}
