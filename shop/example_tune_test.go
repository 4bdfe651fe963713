package shop_test

import (
	"context"
	"fmt"

	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
)

// A shop that tunes its engine on its own history when it opens: the last
// four weeks are held out, a dozen candidates are scored on them, and
// every snapshot serves the best.
func ExampleOptions_tune() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{Tune: &recommend.Grid{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := s.Snapshot().Tuning()
	fmt.Printf("%d candidates on %d customers; best: %v\n", len(t.Trials), t.Customers, t.Best)
	_, nextBasket := s.Snapshot().RepeatShare()
	fmt.Println("next-basket mode:", nextBasket)
	// Output:
	// 10 candidates on 362 customers; best: cosine/customer      half-life     30d  blend -1.00  repeat 0.50  trend default  ndcg 0.4063 ± 0.0157
	// next-basket mode: true
}
