package affinity_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shopaffinity/affinity"
)

// An order feed: an order arrives, is delivered again, gets a partial
// refund as a new version, and another order is cancelled.
func ExampleBuilder_PutOrder() {
	mug := affinity.Purchase{Customer: "alice", Product: "mug", Time: day(1), Quantity: 2, Price: 8_0000}
	var b affinity.Builder
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(b.PutOrder("#1001", 1, []affinity.Purchase{mug}))
	must(b.PutOrder("#1001", 1, []affinity.Purchase{mug})) // delivered twice: no change
	must(b.PutOrder("#1002", 2, []affinity.Purchase{{Customer: "bob", Product: "tea", Time: day(2), Quantity: 1, Price: 5_0000}}))
	h, err := b.Build(context.Background())
	must(err)
	fmt.Println("orders:", h.NumOrders(), "revenue:", h.Summary().Revenue)

	// The next refresh starts from h: one mug is refunded, #1002 cancelled.
	nb := affinity.NewBuilder(h)
	refund := mug
	refund.Quantity = -1
	must(nb.PutOrder("#1001", 3, []affinity.Purchase{mug, refund}))
	must(nb.DeleteOrder("#1002", 4))
	h, err = nb.Build(context.Background())
	must(err)
	fmt.Println("orders:", h.NumOrders(), "revenue:", h.Summary().Revenue)
	// Output:
	// orders: 2 revenue: 21.00
	// orders: 1 revenue: 8.00
}

func ExampleBuilder_EraseCustomer() {
	h := exampleHistory()
	nb := affinity.NewBuilder(h)
	nb.EraseCustomer("alice")
	h, err := nb.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	_, found := h.LookupCustomer("alice")
	fmt.Println("alice found:", found)
	fmt.Println("orders:", h.NumOrders(), "revenue:", h.Summary().Revenue)
	// Output:
	// alice found: false
	// orders: 2 revenue: 21.00
}

func ExampleHistory_Purchases() {
	h := exampleHistory()
	for p := range h.Purchases() {
		fmt.Printf("%-6q %-5s %-8s %s %2d × %v\n", p.Customer, p.Order, p.Product, p.Time.Format("01-02"), p.Quantity, p.Price)
	}
	// Output:
	// "alice" 1001  shoe-42  03-01  1 × 89.90
	// "alice" 1001  socks    03-01  3 × 4.50
	// "alice" 1004  bottle   03-05  1 × 12.00
	// "alice" 1003  shoe-42  03-09 -1 × 89.90
	// "bob"  1002  socks    03-02  2 × 4.50
	// ""           bottle   03-06  1 × 12.00
}

// exampleHistory builds the History of examplePurchases.
func exampleHistory() *affinity.History {
	var b affinity.Builder
	for _, p := range examplePurchases {
		if err := b.Add(p); err != nil {
			log.Fatal(err)
		}
	}
	h, err := b.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	return h
}

func ExampleHistory_LookupOrder() {
	h := exampleHistory()
	o, ok := h.LookupOrder("1003")
	fmt.Println(ok, h.CustomerKey(h.OrderCustomer(o)), h.OrderTime(o).Format("2006-01-02"), h.OrderValue(o))
	_, ok = h.LookupOrder("9999")
	fmt.Println(ok)
	// Output:
	// true alice 2024-03-09 -89.90
	// false
}

// A History built on another appends the changed customers' orders with
// new ids; History.Orders visits every order, in the History's order,
// whatever the ids.
func ExampleHistory_Orders() {
	b := affinity.NewBuilder(nil)
	for _, p := range []affinity.Purchase{
		{Customer: "ann", Order: "1001", Product: "tea", Time: day(1), Quantity: 1, Price: 4_5000},
		{Customer: "bob", Order: "1002", Product: "mug", Time: day(2), Quantity: 2, Price: 8_0000},
	} {
		if err := b.Add(p); err != nil {
			panic(err)
		}
	}
	h, err := b.Build(context.Background())
	if err != nil {
		panic(err)
	}
	// ann orders again
	b = affinity.NewBuilder(h)
	if err := b.Add(affinity.Purchase{Customer: "ann", Order: "1003", Product: "mug", Time: day(3), Quantity: 1, Price: 8_0000}); err != nil {
		panic(err)
	}
	h, err = b.Build(context.Background())
	if err != nil {
		panic(err)
	}
	for o := range h.Orders() {
		c := h.OrderCustomer(o)
		fmt.Println(h.CustomerKey(c), h.OrderKey(o), h.OrderValue(o))
	}
	fmt.Println(h.NumOrders(), "orders")
	// Output:
	// ann 1001 4.50
	// ann 1003 8.00
	// bob 1002 16.00
	// 3 orders
}
