package shop_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// endsAfter is a context that ends after its first n looks at Err: a
// fit stopped at each point where it looks (its Done channel is
// Background's, never closed, so only for calls that look at Err).
type endsAfter struct {
	context.Context
	n atomic.Int64
}

func (c *endsAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestValueStoppedByContext: a value-model fit that ctx stops, wherever
// it stops (the summary, the BG/NBD fit), returns ctx's error wrapped
// once by the shop — not clv's error bare, nor one that matches
// ErrNoValueModel, which Profile dropped, returning a profile without a
// value and no error — and is not kept: the next call fits.
func TestValueStoppedByContext(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 20, Categories: 3, Seed: 4})), shop.Options{Model: "neighbours", Workers: 1})
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	key := snap.History().CustomerKey(0)
	for _, looks := range []int64{0, 1, 2, 5, 20} {
		stop := &endsAfter{Context: ctx}
		stop.n.Store(looks)
		_, err := snap.Value(stop)
		require.Error(t, err, "after %d looks", looks)
		assert.ErrorIs(t, err, context.Canceled, "after %d looks", looks)
		assert.NotErrorIs(t, err, shop.ErrNoValueModel, "after %d looks", looks)
		assert.EqualError(t, err, "shop: value models: context canceled", "after %d looks", looks)

		stop.n.Store(looks)
		p, err := snap.Profile(stop, key)
		assert.ErrorIs(t, err, context.Canceled, "Profile after %d looks", looks)
		assert.Nil(t, p.Value, "Profile after %d looks", looks)
	}
	v, err := snap.Value(ctx)
	require.NoError(t, err, "a stopped fit was kept")
	require.NotNil(t, v)
}
