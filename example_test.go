package affinity_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"time"

	"github.com/shopaffinity/affinity"
)

func day(d int) time.Time { return time.Date(2024, 3, d, 10, 30, 0, 0, time.UTC) }

// examplePurchases are three orders of two customers and one till receipt.
var examplePurchases = []affinity.Purchase{
	{Customer: "alice", Order: "1001", Product: "shoe-42", Time: day(1), Quantity: 1, Price: 89_9000},
	{Customer: "alice", Order: "1001", Product: "socks", Time: day(1), Quantity: 3, Price: 4_5000},
	{Customer: "bob", Order: "1002", Product: "socks", Time: day(2), Quantity: 2, Price: 4_5000},
	{Customer: "alice", Order: "1003", Product: "shoe-42", Time: day(9), Quantity: -1, Price: 89_9000}, // a return
	{Customer: "alice", Order: "1004", Product: "bottle", Time: day(5), Quantity: 1, Price: 12_0000},
	{Product: "bottle", Time: day(6), Quantity: 1, Price: 12_0000}, // anonymous
}

func ExampleBuilder() {
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
	s := h.Summary()
	fmt.Println("customers:", s.Customers)
	fmt.Println("orders:", s.Orders, "of which anonymous:", s.AnonymousOrders)
	fmt.Println("lines:", s.Lines, "of which returns:", s.Returns)
	fmt.Println("revenue:", s.Revenue)
	fmt.Println("customer revenue:", s.CustomerRevenue)
	// Output:
	// customers: 2
	// orders: 5 of which anonymous: 1
	// lines: 6 of which returns: 1
	// revenue: 46.50
	// customer revenue: 34.50
}

func ExampleHistory_CustomerOrders() {
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
	cat := h.Catalog()
	alice, _ := h.LookupCustomer("alice")
	lo, hi := h.CustomerOrders(alice)
	for o := lo; o < hi; o++ {
		fmt.Printf("order %s on %s, value %v\n", h.OrderKey(o), h.OrderTime(o).Format(time.DateOnly), h.OrderValue(o))
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			l := h.Line(i)
			fmt.Printf("  %-8s %2d × %v\n", cat.ProductKey(l.Product), l.Quantity, l.Price)
		}
	}
	last, _ := h.LastPurchase(alice)
	fmt.Println("last purchase:", last.Format(time.DateOnly))
	// Output:
	// order 1001 on 2024-03-01, value 103.40
	//   shoe-42   1 × 89.90
	//   socks     3 × 4.50
	// order 1004 on 2024-03-05, value 12.00
	//   bottle    1 × 12.00
	// order 1003 on 2024-03-09, value -89.90
	//   shoe-42  -1 × 89.90
	// last purchase: 2024-03-05
}

func ExampleCatalog_Shares() {
	var b affinity.Builder
	err := b.AddProduct(affinity.Product{
		Key:        "trail-shoe",
		Name:       "Trail running shoe",
		Categories: []string{"Apparel/Shoes/Trail", "Outdoor/Running"},
		InStock:    true,
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := b.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	cat := h.Catalog()
	p, _ := cat.LookupProduct("trail-shoe")
	for _, s := range cat.Shares(p) {
		fmt.Printf("%-20s %.2f\n", cat.CategoryPath(s.Category), s.Weight)
	}
	// Output:
	// Apparel              0.50
	// Apparel/Shoes        0.50
	// Apparel/Shoes/Trail  0.50
	// Outdoor              0.50
	// Outdoor/Running      0.50
}

func ExampleParseMoney() {
	for _, s := range []string{"2.55", "-11.2", "0.001", "1.23456"} {
		m, err := affinity.ParseMoney(s, '.')
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(int64(m), m)
	}
	eur, _ := affinity.ParseMoney("4,99", ',')
	fmt.Println(eur)
	// Output:
	// 25500 2.55
	// -112000 -11.20
	// 10 0.001
	// affinity: invalid money amount: "1.23456" has more than 4 decimals
	// 4.99
}

func ExampleNewBuilder() {
	// Yesterday's History.
	var b affinity.Builder
	for _, p := range examplePurchases[:3] {
		if err := b.Add(p); err != nil {
			log.Fatal(err)
		}
	}
	old, err := b.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	// Today's lines on top of it; old stays valid and unchanged.
	nb := affinity.NewBuilder(old)
	for _, p := range []affinity.Purchase{
		{Customer: "bob", Order: "1002", Product: "bottle", Time: day(2), Quantity: 1, Price: 12_0000}, // joins order 1002
		{Customer: "carol", Order: "1005", Product: "socks", Time: day(10), Quantity: 1, Price: 4_5000},
	} {
		if err := nb.Add(p); err != nil {
			log.Fatal(err)
		}
	}
	h, err := nb.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("old:", old.NumCustomers(), "customers,", old.NumOrders(), "orders,", old.NumLines(), "lines")
	fmt.Println("new:", h.NumCustomers(), "customers,", h.NumOrders(), "orders,", h.NumLines(), "lines")
	bob, _ := h.LookupCustomer("bob")
	oldBob, _ := old.LookupCustomer("bob")
	fmt.Println("bob keeps his id:", bob == oldBob)
	lo, _ := h.CustomerOrders(bob)
	fmt.Println("bob's order 1002:", h.OrderValue(lo))
	// Output:
	// old: 2 customers, 2 orders, 3 lines
	// new: 3 customers, 3 orders, 5 lines
	// bob keeps his id: true
	// bob's order 1002: 21.00
}

// A History built on another one knows which customers changed, so that
// indexes built on the earlier one can be updated for those alone.
func ExampleHistory_ChangedSince() {
	var b affinity.Builder
	for _, p := range examplePurchases[:3] {
		if err := b.Add(p); err != nil {
			log.Fatal(err)
		}
	}
	old, err := b.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	nb := affinity.NewBuilder(old)
	if err := nb.Add(affinity.Purchase{Customer: "carol", Order: "1005", Product: "socks", Time: day(10), Quantity: 1, Price: 4_5000}); err != nil {
		log.Fatal(err)
	}
	h, err := nb.Build(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	changes, ok := h.ChangedSince(old)
	fmt.Println("built on old:", ok)
	for _, c := range changes.Customers {
		fmt.Println("changed:", h.CustomerKey(c))
	}
	_, ok = old.ChangedSince(h)
	fmt.Println("the other way round:", ok)
	// Output:
	// built on old: true
	// changed: carol
	// the other way round: false
}

// Money arithmetic that might leave the range reports it instead of
// wrapping around.
func ExampleMoney_Mul() {
	price, _ := affinity.ParseMoney("19.99", 0)
	v, ok := price.Mul(3)
	fmt.Println(v, ok)
	_, ok = affinity.MaxMoney.Mul(2)
	fmt.Println(ok)
	_, err := affinity.MoneyFromFloatChecked(math.Inf(1))
	fmt.Println(err)
	// Output:
	// 59.97 true
	// false
	// affinity: money out of range: +Inf
}
