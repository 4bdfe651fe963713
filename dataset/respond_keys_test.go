package dataset_test

import (
	"context"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRespondKeysAcrossCalls: responses planted by two calls — a month
// apart, or at one time with two seeds — are distinct orders of the
// History. Keys restarted at "r1" on every call, so the same customer's
// responses to two campaigns merged into one order.
func TestRespondKeysAcrossCalls(t *testing.T) {
	ctx := context.Background()
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 40, Products: 30, Categories: 5})
	customers := []string{"fresh-1", "fresh-2", "fresh-3"} // new to the shop: only their responses count
	start := s.Options.Start.AddDate(0, 0, s.Options.Days)
	var all []affinity.Purchase
	for _, o := range []dataset.ResponseOptions{
		{Start: start, BaseRate: 1, Seed: 1},
		{Start: start.AddDate(0, 1, 0), BaseRate: 1, Seed: 1},
		{Start: start, BaseRate: 1, Seed: 2},
	} {
		ps, _ := s.Respond(customers, nil, o)
		require.Len(t, ps, 3)
		all = append(all, ps...)
	}
	keys := map[string]bool{}
	for _, p := range all {
		assert.False(t, keys[p.Order], "order key %s used twice", p.Order)
		keys[p.Order] = true
	}
	b := affinity.NewBuilder(nil)
	for _, p := range all {
		require.NoError(t, b.Add(p))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, 9, h.NumOrders(), "nine responses, nine orders")
}
