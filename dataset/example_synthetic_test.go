package dataset_test

import (
	"context"
	"fmt"

	"github.com/shopaffinity/affinity/dataset"
)

// Generate a small storefront, build its History and look at what was
// planted: a customer's preferred categories and a complementary pair.
func ExampleGenerate() {
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 100, Categories: 10, Seed: 42})
	h, err := s.History(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := h.Summary()
	fmt.Println("customers:", sum.Customers, "products:", sum.Products)
	fmt.Println("lines per customer > 5:", float64(sum.Lines)/float64(sum.Customers) > 5)
	fmt.Println("c000000 prefers:", s.Truth.TopCategories["c000000"][0])
	fmt.Println("planted pairs:", len(s.Truth.Complements))
	// Output:
	// customers: 200 products: 100
	// lines per customer > 5: true
	// c000000 prefers: Home/Essentials/Running
	// planted pairs: 5
}
