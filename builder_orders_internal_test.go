package affinity

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkApplyChanges measures Build of a Builder started from a
// History of 10^6 lines in 250,000 orders with staged changes: dropping
// replaced, deleted and erased orders, adding the puts, and writing the
// new History. ns/change is per changed order (per erased customer).
func BenchmarkApplyChanges(b *testing.B) {
	const nLines, perOrder = 1_000_000, 4
	var bl Builder
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range nLines {
		o := i / perOrder
		p := Purchase{Customer: "c" + strconv.Itoa(o%100_000), Product: "p" + strconv.Itoa(i%5000),
			Order: "o" + strconv.Itoa(o), Time: t0.Add(time.Duration(o) * time.Minute), Quantity: 1, Price: 10_000}
		if err := bl.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	base, err := bl.Build(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	order := func(k int) (string, []Purchase) {
		o := k * (nLines / perOrder) / n
		lines := make([]Purchase, perOrder)
		for j := range lines {
			lines[j] = Purchase{Customer: "c" + strconv.Itoa(o%100_000), Product: "p" + strconv.Itoa(j), Time: t0, Quantity: 2, Price: 10_000}
		}
		return "o" + strconv.Itoa(o), lines
	}
	cases := []struct {
		name    string
		changes int
		stage   func(*Builder)
	}{
		{"put=1000", n, func(nb *Builder) {
			for k := range n {
				key, lines := order(k)
				_ = nb.PutOrder(key, 1, lines)
			}
		}},
		{"delete=1000", n, func(nb *Builder) {
			for k := range n {
				key, _ := order(k)
				_ = nb.DeleteOrder(key, 1)
			}
		}},
		{"erase=100", 100, func(nb *Builder) {
			for k := range 100 {
				nb.EraseCustomer("c" + strconv.Itoa(k*1000))
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				nb := NewBuilder(base)
				c.stage(nb)
				b.StartTimer()
				if _, err := nb.Build(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.changes), "ns/change")
		})
	}
}
