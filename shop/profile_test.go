package shop_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProfile(t *testing.T) {
	ctx := context.Background()
	snap := demo(t).Snapshot()
	h := snap.History()
	key := buyer(t, h)
	p, err := snap.Profile(ctx, key)
	require.NoError(t, err)
	assert.True(t, p.Known)
	c, _ := h.LookupCustomer(key)
	first, _ := h.FirstPurchase(c)
	assert.Equal(t, first, p.FirstPurchase)
	f, ok := snap.Segments().Features(c)
	require.True(t, ok)
	assert.Equal(t, f.Monetary, p.Spend)
	assert.Equal(t, f.RFM, p.RFM)
	require.NotEmpty(t, p.Top)
	var sum float64
	for i, x := range p.Top {
		sum += x.Share
		assert.NotContains(t, x.Category, affinity.CategorySep, "top-level categories")
		if i > 0 {
			assert.GreaterOrEqual(t, p.Top[i-1].Share, x.Share)
		}
	}
	assert.LessOrEqual(t, sum, 1+1e-9)
	require.NotNil(t, p.Value, "the value models fit the demo shop")
	assert.InDelta(t, 0.5, p.Value.PAlive, 0.5)
	assert.GreaterOrEqual(t, p.Value.ExpectedPurchases, 0.0)

	b, err := json.Marshal(p)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	assert.Equal(t, p.Spend.String(), raw["spend"])
	assert.Equal(t, p.AOV.String(), raw["aov"])
	for k, v := range map[string]int{"r": p.R, "f": p.F, "m": p.M} {
		assert.Equal(t, float64(v), raw[k], k)
	}
	assert.Contains(t, raw, "value")
	var back shop.Profile
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p.Spend, back.Spend)
	assert.Equal(t, p.R, back.R)

	unknown, err := snap.Profile(ctx, "nobody")
	require.NoError(t, err)
	assert.False(t, unknown.Known)
	assert.Nil(t, unknown.Value)

	v, err := snap.Value(ctx)
	require.NoError(t, err)
	assert.NotNil(t, v.BGNBD)
}

// TestProfileValueModel checks Options.ValueModel: with "mbgnbd" the
// profiles' P(alive) comes from clv.FitMBGNBD, and a one-time buyer whose
// purchase lies long back is no longer surely alive, as under BG/NBD.
func TestProfileValueModel(t *testing.T) {
	ctx := context.Background()
	// the demo storefront; in the quick suite a smaller one of its shape,
	// opened for BG/NBD too: the one-time buyer's P(alive) is what is checked
	var bgSnap *shop.Snapshot
	if testdata.Long() {
		bgSnap = demo(t).Snapshot()
	} else {
		bg, err := shop.Open(ctx, shop.Storefront(demoSized()), shop.Options{Model: "neighbours"})
		require.NoError(t, err)
		bgSnap = bg.Snapshot()
	}
	s, err := shop.Open(ctx, shop.Storefront(demoSized()), shop.Options{ValueModel: "mbgnbd", Model: "neighbours"}) // the value model is what is checked
	require.NoError(t, err)
	snap := s.Snapshot()
	v, err := snap.Value(ctx)
	require.NoError(t, err)
	require.True(t, v.BGNBD.Modified)
	bv, err := bgSnap.Value(ctx)
	require.NoError(t, err)
	require.False(t, bv.BGNBD.Modified)

	// the one-time buyer with the oldest purchase
	h := snap.History()
	var key string
	var oldest time.Time
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if lo, hi := h.CustomerOrders(c); hi-lo != 1 {
			continue
		}
		if first, ok := h.FirstPurchase(c); ok && (key == "" || first.Before(oldest)) {
			key, oldest = h.CustomerKey(c), first
		}
	}
	require.NotEmpty(t, key, "the demo has one-time buyers")
	mp, err := snap.Profile(ctx, key)
	require.NoError(t, err)
	bp, err := bgSnap.Profile(ctx, key)
	require.NoError(t, err)
	require.NotNil(t, mp.Value)
	require.NotNil(t, bp.Value)
	assert.Equal(t, 1.0, bp.Value.PAlive, "BG/NBD: a one-time buyer is alive")
	assert.Less(t, mp.Value.PAlive, 0.5, "MBG/NBD: a one-time buyer of %s", oldest.Format(time.DateOnly))
}
