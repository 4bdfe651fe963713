package similarity_test

import (
	"fmt"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// Two workers count the customers they own; their partial counts merge
// into the counts of the whole shop.
func ExamplePartial() {
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	day := int64(24 * 3600)
	// product ids of one shared dictionary: 0 tent, 1 stove, 2 mug
	alice := similarity.Transaction{Customer: "alice", Orders: []similarity.TxOrder{
		{Key: "o1", Unix: asOf.Unix() - 9*day, Products: []affinity.ProductID{0, 1}},
		{Key: "o2", Unix: asOf.Unix() - 2*day, Products: []affinity.ProductID{2}},
	}}
	bob := similarity.Transaction{Customer: "bob", Orders: []similarity.TxOrder{
		{Key: "o3", Unix: asOf.Unix() - day, Products: []affinity.ProductID{0, 1, 2}},
	}}
	opts := similarity.CountOptions{Scope: similarity.Basket}
	w1, _ := similarity.NewPartial(asOf, opts)
	w2, _ := similarity.NewPartial(asOf, opts)
	_ = w1.Add(alice)
	_ = w2.Add(bob)
	_ = w1.Merge(w2)
	c, _ := w1.Counts(3)
	fmt.Println("baskets:", c.Total())
	fmt.Println("tent+stove:", c.Pair(0, 1), "tent+mug:", c.Pair(0, 2))
	// Output:
	// baskets: 3
	// tent+stove: 2 tent+mug: 1
}
