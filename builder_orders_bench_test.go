package affinity_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// BenchmarkRefreshOrders measures a refresh through NewBuilder and Build on
// a History of 10^6 lines: with no change (which returns the base itself),
// with 10,000 new lines in new orders, and with 1,000 orders replaced by an
// edited version, 1,000 deleted, or 100 customers erased.
// BenchmarkApplyChanges measures the staging of the changes alone.
func BenchmarkRefreshOrders(b *testing.B) {
	ctx := context.Background()
	d := newBenchData(1_000_000)
	var bl affinity.Builder
	d.fill(b, &bl)
	base, err := bl.Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The changes touch orders spread over the whole History.
	byOrder := map[string][]affinity.Purchase{}
	for _, p := range d.purchases {
		byOrder[p.Order] = append(byOrder[p.Order], p)
	}
	edited := func(key string) []affinity.Purchase {
		lines := append([]affinity.Purchase(nil), byOrder[key]...)
		lines[0].Quantity *= 2
		return lines
	}
	const n = 1000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "ord-" + strconv.Itoa(i*len(byOrder)/n)
	}
	cases := []struct {
		name  string
		apply func(*affinity.Builder) error
	}{
		{"none", func(*affinity.Builder) error { return nil }},
		{"add=10000", func(nb *affinity.Builder) error {
			// 2,500 new orders of 4 lines of customers spread over the
			// History, after its latest order: a live feed's refresh.
			at := base.Latest().Add(time.Hour)
			for i := range 10_000 {
				c := base.CustomerKey(affinity.CustomerID(i / 4 * 37 % base.NumCustomers()))
				p := d.products[i*13%len(d.products)]
				if err := nb.Add(affinity.Purchase{Customer: c, Product: p.Key, Order: "live-" + strconv.Itoa(i/4), Time: at, Quantity: 1, Price: p.Price}); err != nil {
					return err
				}
			}
			return nil
		}},
		{"put=1000", func(nb *affinity.Builder) error {
			for i, k := range keys {
				if err := nb.PutOrder(k, int64(i), edited(k)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"delete=1000", func(nb *affinity.Builder) error {
			for i, k := range keys {
				if err := nb.DeleteOrder(k, int64(i)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"erase=100", func(nb *affinity.Builder) error {
			for i := range 100 {
				nb.EraseCustomer(base.CustomerKey(affinity.CustomerID(i * base.NumCustomers() / 100)))
			}
			return nil
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				nb := affinity.NewBuilder(base)
				if err := c.apply(nb); err != nil {
					b.Fatal(err)
				}
				if _, err := nb.Build(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutOrder measures staging one order of three lines with
// Builder.PutOrder (validation and copy; the replacement itself happens at
// Build).
func BenchmarkPutOrder(b *testing.B) {
	lines := newBenchData(3).purchases
	for i := range lines {
		lines[i].Order = ""
	}
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "ord-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	nb := affinity.NewBuilder(nil)
	i := 0
	for b.Loop() {
		if err := nb.PutOrder(keys[i&(1<<16-1)], int64(i), lines); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
