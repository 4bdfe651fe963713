package recommend

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// naiveTrend is the trend and demand factor of every product as of asOf,
// t(i)^tau · d(i)^delta, with sets of customers; ok is false when the
// history is too short for a trend.
func naiveTrend(h *affinity.History, np int, asOf int64, window time.Duration, tau, delta float64) (f []float64, ok bool) {
	recent := make([]map[affinity.CustomerID]bool, np)
	year := make([]map[affinity.CustomerID]bool, np)
	for p := range np {
		recent[p], year[p] = map[affinity.CustomerID]bool{}, map[affinity.CustomerID]bool{}
	}
	first := asOf
	for c := range h.NumCustomers() {
		cid := affinity.CustomerID(c)
		olo, ohi := h.CustomerOrders(cid)
		for o := olo; o < ohi; o++ {
			at := h.OrderUnix(o)
			if at > asOf {
				continue
			}
			first = min(first, at)
			age := time.Duration(asOf-at) * time.Second
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				if h.LineQuantity(i) <= 0 {
					continue
				}
				p := h.LineProduct(i)
				if age < 365*24*time.Hour {
					year[p][cid] = true
				}
				if age < window {
					recent[p][cid] = true
				}
			}
		}
	}
	span := min(365*24*time.Hour, time.Duration(asOf-first+1)*time.Second)
	if span < 2*window {
		return nil, false
	}
	f = make([]float64, np)
	for p := range np {
		r := float64(len(recent[p])) + 5
		usual := float64(len(year[p])) * window.Seconds() / span.Seconds()
		f[p] = math.Pow(r/(usual+5), tau) * math.Pow(r/5, delta)
	}
	return f, true
}

func TestPartRepeatTrend(t *testing.T) {
	h := demoHistory(t)
	np := h.Catalog().NumProducts()
	ctx := context.Background()
	latest := h.Latest().Unix()
	var first int64 = math.MaxInt64
	for c := range h.NumCustomers() {
		if olo, ohi := h.CustomerOrders(affinity.CustomerID(c)); olo < ohi {
			first = min(first, h.OrderUnix(olo))
		}
	}
	for _, tc := range []struct {
		name        string
		asOf        int64
		window      time.Duration
		tau, delta  float64
		wantTrended bool
	}{
		{"latest, defaults", latest, DefaultTrendWindow, DefaultTrend, DefaultDemand, true},
		{"200 days before, a 30-day window, trend alone", latest - 200*86400, 30 * 24 * time.Hour, 1, -1, true},
		{"demand alone", latest, DefaultTrendWindow, -1, 0.5, true},
		{"too short a history", first + 20*86400, DefaultTrendWindow, DefaultTrend, DefaultDemand, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := naiveTrend(h, np, tc.asOf, tc.window, max(tc.tau, 0), max(tc.delta, 0))
			require.Equal(t, tc.wantTrended, ok)
			m, err := newRepeatModel(ctx, h, np, tc.asOf, NextBasket{Propensity: -1, Trend: tc.tau, Demand: tc.delta, TrendWindow: tc.window}, newBitset(np))
			require.NoError(t, err)
			if !ok {
				assert.Nil(t, m.prop, "no trend and no propensity: no factor")
				return
			}
			require.Len(t, m.prop, np)
			varied := false
			for p := range np {
				assert.InDelta(t, want[p], float64(m.prop[p]), 1e-5*want[p], "product %d", p)
				varied = varied || math.Abs(want[p]-want[0]) > 1e-3
			}
			assert.True(t, varied, "the demo's products trend differently")
			// with the propensity, the factors multiply
			both, err := newRepeatModel(ctx, h, np, tc.asOf, NextBasket{Propensity: 1, Trend: tc.tau, Demand: tc.delta, TrendWindow: tc.window}, newBitset(np))
			require.NoError(t, err)
			prop, err := newRepeatModel(ctx, h, np, tc.asOf, NextBasket{Propensity: 1, Trend: -1, Demand: -1}, newBitset(np))
			require.NoError(t, err)
			for p := 0; p < np; p += 13 {
				assert.InDelta(t, float64(prop.prop[p])*want[p], float64(both.prop[p]), 1e-5*want[p], "product %d", p)
			}
		})
	}
}
