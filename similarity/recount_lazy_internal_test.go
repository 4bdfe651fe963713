package similarity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// TestRecountKeepsTransactionsOnlyWhenAsked checks when Recount carries
// the transactions: not from counts nobody asked them of (a cosine shop:
// only the changed customers are read), but from counts a consumer (BM25)
// asked them of; either way the transactions, collected or carried, are
// Count's.
func TestRecountKeepsTransactionsOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	for i := range 200 {
		if err := b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%d", i%40), Order: fmt.Sprintf("o%d", i/3),
			Product: fmt.Sprintf("p%d", i*7%23), Time: t0.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: 100}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := b.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := Count(ctx, h, h.Latest(), CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	next := func(step int) *affinity.History {
		nb := affinity.NewBuilder(h)
		for i := range 6 {
			if err := nb.Add(affinity.Purchase{Customer: fmt.Sprintf("c%d", i*5), Order: fmt.Sprintf("n%d-%d", step, i/2),
				Product: fmt.Sprintf("p%d", (i+step)%23), Time: h.Latest().Add(time.Hour), Quantity: 1, Price: 100}); err != nil {
				t.Fatal(err)
			}
		}
		h2, err := nb.Build(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h2
	}
	asks := []bool{false, false, true, true, false, false}
	for step, ask := range asks {
		h2 := next(step)
		got, err := Recount(ctx, counts, h, h2, h2.Latest(), CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		carried := step > 0 && asks[step-1]
		if (got.tx != nil) != carried {
			t.Fatalf("step %d: transactions kept %v, want %v", step, got.tx != nil, carried)
		}
		want, err := Count(ctx, h2, h2.Latest(), CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ask || step == len(asks)-1 {
			gt, wt := got.transactions(), want.tx
			if gt.len() != wt.len() || fmt.Sprint(gt.items) != fmt.Sprint(wt.items) || fmt.Sprint(gt.off) != fmt.Sprint(wt.off) || fmt.Sprint(gt.id) != fmt.Sprint(wt.id) {
				t.Fatalf("step %d: the transactions differ from Count's", step)
			}
		}
		if got.Total() != want.Total() || got.NumPairs() != want.NumPairs() {
			t.Fatalf("step %d: totals %d/%d, pairs %d/%d", step, got.Total(), want.Total(), got.NumPairs(), want.NumPairs())
		}
		h, counts = h2, got
	}
}
