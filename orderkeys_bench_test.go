package affinity_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// BenchmarkLookupOrderSharedKey looks up an order key that every order
// shares (order numbers that restart per customer), once the index is
// built: the time should not grow with the orders.
func BenchmarkLookupOrderSharedKey(b *testing.B) {
	at := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			var bl affinity.Builder
			for c := range n {
				p := affinity.Purchase{Customer: "c" + strconv.Itoa(c), Product: "p", Order: "1", Time: at, Quantity: 1, Price: 1}
				if err := bl.Add(p); err != nil {
					b.Fatal(err)
				}
			}
			h, err := bl.Build(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			want, ok := h.LookupOrder("1") // builds the index
			if !ok {
				b.Fatal("not found")
			}
			b.ReportAllocs()
			for b.Loop() {
				if o, _ := h.LookupOrder("1"); o != want {
					b.Fatal(o, want)
				}
			}
		})
	}
}
