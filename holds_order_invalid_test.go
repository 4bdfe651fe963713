package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// HoldsOrder says the base holds a put that Apply refuses (two customers).
func TestHoldsOrderInvalidPut(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1700000000, 0)
	lines := []affinity.Purchase{
		{Customer: "a", Product: "p", Time: t0, Quantity: 1, Price: 100},
		{Customer: "a", Product: "q", Time: t0, Quantity: 1, Price: 200},
	}
	var b0 affinity.Builder
	if err := b0.PutOrder("k", 1, lines); err != nil {
		t.Fatal(err)
	}
	base, err := b0.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := affinity.NewBuilder(base)
	bad := []affinity.Purchase{lines[0], lines[1]}
	bad[1].Customer = "b"
	err = b.PutOrder("k", 2, bad)
	t.Logf("PutOrder: %v", err)
	if b.HoldsOrder("k", bad) {
		t.Errorf("HoldsOrder true for lines PutOrder refuses (%v)", err)
	}
}
