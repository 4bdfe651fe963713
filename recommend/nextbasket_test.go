package recommend_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// naiveRepeatShare counts repeat items of non-first orders with maps.
func naiveRepeatShare(h *affinity.History, asOf time.Time) float64 {
	var rep, tot int
	for c := range h.NumCustomers() {
		bought := map[affinity.ProductID]bool{}
		olo, ohi := h.CustomerOrders(affinity.CustomerID(c))
		for o := olo; o < ohi; o++ {
			if h.OrderTime(o).After(asOf) {
				break
			}
			in := map[affinity.ProductID]bool{}
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				if h.LineQuantity(i) > 0 {
					in[h.LineProduct(i)] = true
				}
			}
			if o != olo {
				for p := range in {
					tot++
					if bought[p] {
						rep++
					}
				}
			}
			for p := range in {
				bought[p] = true
			}
		}
	}
	if tot == 0 {
		return 0
	}
	return float64(rep) / float64(tot)
}

func TestRepeatShareMatchesNaive(t *testing.T) {
	h, _, _ := demoEngine(t, recommend.Options{})
	for _, asOf := range []time.Time{h.Latest(), h.Latest().AddDate(0, -6, 0), h.Latest().AddDate(-5, 0, 0)} {
		got, err := recommend.RepeatShare(context.Background(), h, asOf, nil)
		require.NoError(t, err)
		assert.InDelta(t, naiveRepeatShare(h, asOf), got, 1e-12, "as of %v", asOf)
	}
	got, _ := recommend.RepeatShare(context.Background(), h, h.Latest(), nil)
	assert.Greater(t, got, 0.05, "the demo store re-buys")
	_, err := recommend.RepeatShare(context.Background(), h, time.Time{}, nil)
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	//lint:ignore SA1012 a nil context is the input under test
	_, err = recommend.RepeatShare(nil, h, h.Latest(), nil) //nolint:staticcheck
	require.Error(t, err)
}

// TestNextBasket: in next-basket mode a customer's own items come back,
// labelled Repeat with an Again reason, ranked by the documented repeat
// score; with RepeatWeight 1 they lead the list.
func TestNextBasket(t *testing.T) {
	h, nb, plain := demoEngine(t, recommend.Options{})
	ctx := context.Background()
	e, err := recommend.New(ctx, h, nb, h.Latest(), recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 1, Propensity: -1, Trend: -1, Demand: -1, HalfLife: 60 * 24 * time.Hour}})
	require.NoError(t, err)
	asOf := h.Latest()
	checked := 0
	for c := range h.NumCustomers() {
		cid := affinity.CustomerID(c)
		// the naive repeat score: Σ 2^(−age/half-life) over purchases,
		// the orders that hold the product
		rep := map[affinity.ProductID]float64{}
		olo, ohi := h.CustomerOrders(cid)
		for o := olo; o < ohi; o++ {
			in := map[affinity.ProductID]bool{}
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				if p := h.LineProduct(i); h.LineQuantity(i) > 0 && !in[p] {
					in[p] = true
					rep[p] += math.Exp2(-asOf.Sub(h.OrderTime(o)).Hours() / (60 * 24))
				}
			}
		}
		if len(rep) < 3 || !allInStock(h, rep) {
			continue
		}
		recs, err := e.Recommend(nil, recommend.Request{CustomerID: cid, ByID: true, K: 10})
		require.NoError(t, err)
		nrep := 0
		for i, r := range recs {
			if r.Source != recommend.Repeat {
				continue
			}
			nrep++
			require.Equal(t, i+1, nrep, "repeat items lead with RepeatWeight 1")
			require.Contains(t, rep, r.Product)
			require.Len(t, r.Reasons(), 1)
			assert.Equal(t, recommend.Again, r.Reasons()[0].Kind)
			assert.Contains(t, r.Explain(e), "before, last")
			if i > 0 && recs[i-1].Source == recommend.Repeat {
				a, b := rep[recs[i-1].Product], rep[r.Product]
				assert.GreaterOrEqual(t, a*(1+1e-5), b, "repeat order")
			}
		}
		require.Equal(t, min(len(rep), 10), nrep, "customer %d", c)
		// the default mode never repeats
		recs, err = plain.Recommend(nil, recommend.Request{CustomerID: cid, ByID: true, K: 10})
		require.NoError(t, err)
		for _, r := range recs {
			assert.NotContains(t, rep, r.Product)
		}
		if checked++; checked == 100 {
			break
		}
	}
	require.Equal(t, 100, checked)
}

func allInStock(h *affinity.History, ps map[affinity.ProductID]float64) bool {
	for p := range ps {
		if !h.Catalog().InStock(p) {
			return false
		}
	}
	return true
}
