package affinity_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestLastPurchaseBy checks History.LastPurchaseBy against a scan of every
// order of the customer, on random Histories built from scratch and on a
// base, at as-of times on, between and around the orders' times.
func TestLastPurchaseBy(t *testing.T) {
	for seed := range uint64(testdata.Scale(100, 25)) {
		r := rand.New(rand.NewPCG(seed, 31))
		h := build(t, nil, genRecords(r, 1+r.IntN(120)))
		if r.IntN(2) == 0 {
			h = build(t, h, genRecords(r, 1+r.IntN(60))) // orders moved to new ids
		}
		for c := range affinity.CustomerID(h.NumCustomers()) {
			lo, hi := h.CustomerOrders(c)
			var times []time.Time
			for o := lo; o < hi; o++ {
				times = append(times, h.OrderTime(o), h.OrderTime(o).Add(-time.Second), h.OrderTime(o).Add(time.Second/2))
			}
			times = append(times, time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
			for _, asOf := range times {
				var want time.Time
				found := false
				for o := lo; o < hi; o++ {
					l0, l1 := h.OrderLines(o)
					for i := l0; i < l1; i++ {
						if h.LineQuantity(i) > 0 && !h.OrderTime(o).After(asOf) && (!found || h.OrderTime(o).After(want)) {
							want, found = h.OrderTime(o), true
						}
					}
				}
				got, ok := h.LastPurchaseBy(c, asOf)
				msg := fmt.Sprintf("seed %d customer %d as of %v", seed, c, asOf)
				require.Equal(t, found, ok, msg)
				require.True(t, want.Equal(got), "%s: got %v, want %v", msg, got, want)
				if o, ok := h.LastPurchaseOrder(c, asOf); ok {
					require.True(t, want.Equal(h.OrderTime(o)), msg)
					require.True(t, o >= lo && o < hi, "%s: order %d of the customer's [%d, %d)", msg, o, lo, hi)
				}
			}
		}
	}
}
