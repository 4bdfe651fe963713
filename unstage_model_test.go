package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

func unstageLines(rng *rand.Rand, cust string) []affinity.Purchase {
	var ls []affinity.Purchase
	t0 := time.Unix(1700000000+int64(rng.IntN(5))*3600, 0)
	for range 1 + rng.IntN(3) {
		ls = append(ls, affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%d", rng.IntN(4)), Time: t0,
			Quantity: int32(1 + rng.IntN(3)), Price: affinity.Money(100 * (1 + rng.IntN(9)))})
	}
	return ls
}

func unstageDump(h *affinity.History) string {
	s := ""
	for p := range h.Purchases() {
		s += fmt.Sprintf("%s|%s|%s|%d|%d|%v\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
	}
	return s
}

func TestUnstageModel(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(3000, 300)) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var b0 affinity.Builder
		for k := range 4 {
			if err := b0.PutOrder(fmt.Sprintf("k%d", k), int64(1+rng.IntN(3)), unstageLines(rng, fmt.Sprintf("c%d", rng.IntN(3)))); err != nil {
				t.Fatal(err)
			}
		}
		base, err := b0.Build(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := affinity.NewBuilder(base)
		var erased []string
		var log []string
		for range 2 + rng.IntN(8) {
			key := fmt.Sprintf("k%d", rng.IntN(6))
			switch rng.IntN(6) {
			case 0, 1:
				v := int64(rng.IntN(5))
				b.PutOrder(key, v, unstageLines(rng, fmt.Sprintf("c%d", rng.IntN(3))))
				log = append(log, fmt.Sprintf("put %s v%d", key, v))
			case 2:
				v := int64(rng.IntN(5))
				b.DeleteOrder(key, v)
				log = append(log, fmt.Sprintf("del %s v%d", key, v))
			case 3:
				c := fmt.Sprintf("c%d", rng.IntN(3))
				b.EraseCustomer(c)
				erased = append(erased, c)
				log = append(log, "erase "+c)
			case 4, 5:
				// a loader's put taken back
				prev, staged := b.Staged(key)
				v := int64(rng.IntN(5))
				b.PutOrder(key, v, unstageLines(rng, fmt.Sprintf("c%d", rng.IntN(3))))
				b.Unstage(key)
				if staged {
					if err := b.Apply(prev); err != nil {
						t.Fatal(err)
					}
				}
				log = append(log, fmt.Sprintf("put+takeback %s v%d (prev %v)", key, v, staged))
			}
		}
		// reconstruction: the staged changes and erasures alone
		r := affinity.NewBuilder(base)
		for k := range 6 {
			if c, ok := b.Staged(fmt.Sprintf("k%d", k)); ok {
				if err := r.Apply(c); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, c := range erased {
			r.EraseCustomer(c)
		}
		gb := b.Gross()
		if g1, g2 := b.Gross(), r.Gross(); g1 != g2 {
			t.Fatalf("seed %d: Gross %v, reconstruction %v\n%v", seed, g1, g2, log)
		}
		h1, err1 := b.Build(ctx)
		h2, err2 := r.Build(ctx)
		if (err1 == nil) != (err2 == nil) {
			t.Fatal(err1, err2)
		}
		if unstageDump(h1) != unstageDump(h2) {
			t.Fatalf("seed %d: build differs\n%s\n%s\n%v", seed, unstageDump(h1), unstageDump(h2), log)
		}
		var g affinity.Money
		for p := range h1.Purchases() {
			v := p.Value()
			g += max(v, -v)
		}
		if g != gb {
			t.Fatalf("seed %d: Gross %v before Build, built %v\n%v", seed, gb, g, log)
		}
	}
}
