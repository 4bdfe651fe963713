package affinity_test

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestCustomerEventsNaive checks that each customer's events come out of
// Build, and of a refresh on a base that holds events, in the order of a
// stable sort of the events by time, product key, kind and weight, on
// random events: few seconds, so that most of them tie in their second
// (and the products' places in key order break the ties), or many, so
// that few do (and their keys do), of few or many products whose ids do
// not follow their keys' order.
func TestCustomerEventsNaive(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(testdata.Scale(200, 40)) {
		r := rand.New(rand.NewPCG(seed, 89))
		seconds, products, customers := 1+r.IntN(3), 1+r.IntN(4), 1+r.IntN(5)
		if r.IntN(2) == 0 {
			seconds, products = 1000, 200
		}
		var base *affinity.History
		var all []affinity.Event
		for build := range 1 + r.IntN(2) { // a Build, then perhaps a refresh on it
			b := affinity.NewBuilder(base)
			for range r.IntN(300) {
				e := affinity.Event{
					Customer: "c" + strconv.Itoa(r.IntN(customers)),
					Product:  "p" + strconv.Itoa(products-1-r.IntN(products)), // ids against key order
					Time:     at.Add(time.Duration(r.IntN(seconds)) * time.Second),
					Kind:     affinity.EventKind(1 + r.IntN(4)),
					Weight:   float32(r.IntN(3)),
				}
				require.NoError(t, b.AddEvent(e), "seed %d", seed)
				all = append(all, e)
			}
			var err error
			base, err = b.Build(ctx)
			require.NoError(t, err, "seed %d build %d", seed, build)
		}
		h := base
		want := map[string][]affinity.Event{}
		for _, e := range all {
			want[e.Customer] = append(want[e.Customer], e)
		}
		for cust, evs := range want {
			slices.SortStableFunc(evs, func(a, b affinity.Event) int {
				return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Product, b.Product), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Weight, b.Weight))
			})
			c, ok := h.LookupCustomer(cust)
			require.True(t, ok, "seed %d: customer %q", seed, cust)
			lo, hi := h.CustomerEvents(c)
			got := make([]affinity.Event, 0, hi-lo)
			for i := lo; i < hi; i++ {
				e := h.Event(i)
				got = append(got, affinity.Event{Customer: cust, Product: h.Catalog().ProductKey(e.Product), Time: e.Time(), Kind: e.Kind, Weight: e.Weight})
			}
			assert.Equal(t, evs, got, "seed %d: customer %q", seed, cust)
		}
	}
}
