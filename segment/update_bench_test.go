package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// updated is the benchmark shop after a refresh of 10,000 lines (orders
// of 4 lines of random existing customers) at the as-of time: the new
// History, its full index and the update of the fixture's index.
type updated struct {
	h2        *affinity.History
	full, upd *segment.Index
	layered   *segment.Index // the same History reached by four updates of 2,500 lines each
	touched   int
}

var updatedFixtures = map[int]*updated{}

func updatedFixture(b *testing.B, n int) (*benchFixture, *updated) {
	b.Helper()
	f := fixture(b, n)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if u := updatedFixtures[n]; u != nil {
		return f, u
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(n), 9))
	cat := f.h.Catalog()
	at := f.asOf.Add(-time.Minute)
	lines := make([]affinity.Purchase, 10_000)
	for i := range lines {
		c := affinity.CustomerID(rng.IntN(f.h.NumCustomers()))
		p := affinity.ProductID(rng.IntN(cat.NumProducts()))
		lines[i] = affinity.Purchase{Customer: f.h.CustomerKey(c), Product: cat.ProductKey(p),
			Order: fmt.Sprintf("bench-%d", i/4), Time: at, Quantity: 1, Price: 1000}
	}
	refresh := func(h *affinity.History, lines []affinity.Purchase) *affinity.History {
		nb := affinity.NewBuilder(h)
		for _, l := range lines {
			if err := nb.Add(l); err != nil {
				b.Fatal(err)
			}
		}
		h2, err := nb.Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return h2
	}
	h2 := refresh(f.h, lines)
	ch, _ := h2.ChangedSince(f.h)
	u := &updated{h2: h2, touched: len(ch.Customers)}
	var err error
	if u.upd, err = segment.Update(ctx, f.x, f.h, h2, f.x.AsOf(), segment.UpdateOptions{}); err != nil {
		b.Fatal(err)
	}
	if u.full, err = segment.Build(ctx, h2, f.asOf, segment.Options{}); err != nil {
		b.Fatal(err)
	}
	x, h := f.x, f.h
	for q := range 4 {
		hq := refresh(h, lines[q*2500:(q+1)*2500])
		if x, err = segment.Update(ctx, x, h, hq, f.x.AsOf(), segment.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		h = hq
	}
	u.layered = x
	updatedFixtures[n] = u
	return f, u
}

// BenchmarkUpdate measures Update of the benchmark shop's index after a
// refresh of 10,000 lines (see updatedFixture), which touches about
// 10,000 customers; a full Build of the same History is BenchmarkBuild.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			ctx := context.Background()
			f, u := updatedFixture(b, n)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				x, err := segment.Update(ctx, f.x, f.h, u.h2, f.x.AsOf(), segment.UpdateOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if !segment.Layered(x) {
					b.Fatal("Update built the index in full")
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(u.touched), "touched")
		})
	}
}

// BenchmarkUpdatedQuery3 runs BenchmarkQuery3's query on the updated
// index, on the index of four updates of a quarter of the lines each
// (four deltas over the base), and on the full index of the same History
// (equal answers), and Stats of every customer on each.
func BenchmarkUpdatedQuery3(b *testing.B) {
	for _, n := range benchSizes {
		f, u := updatedFixture(b, n)
		src, _, _ := query3(f)
		want, err := u.full.Query(src)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			x    *segment.Index
		}{{"full", u.full}, {"updated", u.upd}, {"layered", u.layered}} {
			got, err := c.x.Query(src)
			if err != nil {
				b.Fatal(err)
			}
			if !got.Equals(want) {
				b.Fatalf("%s index: %d customers, full index %d", c.name, got.GetCardinality(), want.GetCardinality())
			}
			b.Run(sizeName(n)+"/"+c.name+"/query", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.x.Query(src); err != nil {
						b.Fatal(err)
					}
				}
			})
			all := c.x.All()
			b.Run(sizeName(n)+"/"+c.name+"/stats", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c.x.Stats("all", all)
				}
			})
		}
	}
}
