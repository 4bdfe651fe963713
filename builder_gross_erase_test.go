package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// A put that loses to the base's newer version of its key changes
// nothing at Build, so CheckApply takes it however large it is.
func TestCheckApplyTakesPutLosingToBase(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	big := affinity.MaxMoney / 10 * 6
	lines := []affinity.Purchase{{Customer: "c", Product: "p", Time: at, Quantity: 1, Price: big}}
	var bb affinity.Builder
	require.NoError(t, bb.PutOrder("k", 10, lines))
	base, err := bb.Build(context.Background())
	require.NoError(t, err)

	b := affinity.NewBuilder(base)
	stale := affinity.OrderChange{Key: "k", Version: 5, Lines: lines} // an older export read again
	require.NoError(t, b.Apply(stale))
	h, err := b.Build(context.Background())
	require.NoError(t, err, "Build takes the stale put (it loses and changes nothing)")
	require.Same(t, base, h)

	b = affinity.NewBuilder(base)
	require.NoError(t, b.CheckApply(stale), "CheckApply takes what Build takes")
}

// An erasure takes the customer's orders of the base out of Gross at
// once, so CheckApply takes a put that fits once they are gone.
func TestCheckApplyCountsErasure(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	big := affinity.MaxMoney / 10 * 6
	var bb affinity.Builder
	require.NoError(t, bb.PutOrder("k1", 1, []affinity.Purchase{{Customer: "gone", Product: "p", Time: at, Quantity: 1, Price: big}}))
	base, err := bb.Build(context.Background())
	require.NoError(t, err)

	put := affinity.OrderChange{Key: "k2", Version: 1, Lines: []affinity.Purchase{{Customer: "new", Product: "p", Time: at, Quantity: 1, Price: big}}}
	b := affinity.NewBuilder(base)
	b.EraseCustomer("gone")
	require.NoError(t, b.Apply(put))
	h, err := b.Build(context.Background())
	require.NoError(t, err, "Build takes the put once the erased customer's order is gone")
	require.Equal(t, big, h.Summary().Revenue)

	b = affinity.NewBuilder(base)
	b.EraseCustomer("gone")
	require.NoError(t, b.CheckApply(put), "CheckApply takes what Build takes")
}

// A put of a customer erased in the same Builder is a delete at Build,
// whether staged before or after the erasure: it counts nothing in Gross.
func TestGrossLeavesOutErasedCustomersPuts(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	big := affinity.MaxMoney / 10 * 6
	put := func(key, cust string) affinity.OrderChange {
		return affinity.OrderChange{Key: key, Version: 1, Lines: []affinity.Purchase{{Customer: cust, Product: "p", Time: at, Quantity: 1, Price: big}}}
	}
	for _, eraseFirst := range []bool{false, true} {
		var b affinity.Builder
		if eraseFirst {
			b.EraseCustomer("gone")
		}
		require.NoError(t, b.Apply(put("k1", "gone")))
		if !eraseFirst {
			b.EraseCustomer("gone")
		}
		assert.Equal(t, affinity.Money(0), b.Gross(), "erase first: %v", eraseFirst)
		require.NoError(t, b.CheckApply(put("k2", "new")), "erase first: %v", eraseFirst)
		require.NoError(t, b.Apply(put("k2", "new")))
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		assert.Equal(t, big, h.Summary().Revenue)
	}
}
