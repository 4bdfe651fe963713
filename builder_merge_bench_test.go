package affinity_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// BenchmarkRefreshAdd measures a refresh through NewBuilder, Add and
// Build that adds 10,000 lines (2,500 new orders of existing customers)
// to a History of 10^6 lines.
func BenchmarkRefreshAdd(b *testing.B) {
	ctx := context.Background()
	d := newBenchData(1_000_000)
	var bl affinity.Builder
	d.fill(b, &bl)
	base, err := bl.Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	at := base.Latest().Add(time.Hour)
	add := make([]affinity.Purchase, 0, 10_000)
	for i := range 10_000 {
		c := base.CustomerKey(affinity.CustomerID(i / 4 * 37 % base.NumCustomers()))
		p := d.products[i*13%len(d.products)]
		add = append(add, affinity.Purchase{Customer: c, Product: p.Key, Order: "live-" + strconv.Itoa(i/4), Time: at, Quantity: 1, Price: p.Price})
	}
	b.ReportAllocs()
	for b.Loop() {
		nb := affinity.NewBuilder(base)
		for _, p := range add {
			if err := nb.Add(p); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := nb.Build(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
