package shop_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/clv"
)

// TestValuesWinBack checks Values.WinBack against clv.WinBack on a
// summary of the snapshot's history and the P(alive) its profiles show,
// for several shares and thresholds.
func TestValuesWinBack(t *testing.T) {
	ctx := context.Background()
	snap := demo(t).Snapshot()
	v, err := snap.Value(ctx)
	require.NoError(t, err)
	sum, err := clv.Summarize(ctx, snap.History(), snap.AsOf(), clv.SummaryOptions{})
	require.NoError(t, err)
	alive := make([]float64, len(sum.Customers))
	for i, c := range sum.Customers {
		x, ok := v.Of(c)
		require.True(t, ok, "customer %d", c)
		alive[i] = x.PAlive
	}
	for _, o := range []clv.WinBackOptions{{}, {Top: 0.5}, {Top: 1, MaxPAlive: 0.9}, {Top: 0.05, MaxPAlive: 0.2}} {
		want := clv.WinBack(sum.Customers, sum.Spend, alive, o)
		got := v.WinBack(o)
		require.True(t, want.Equals(got), "%+v: %d customers, want %d", o, got.GetCardinality(), want.GetCardinality())
		if o.Top == 1 {
			require.False(t, got.IsEmpty(), "%+v", o)
		}
	}
}
