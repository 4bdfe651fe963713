package campaign_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
)

// TestWinBackReadsTheSnapshotValues checks that a win-back at the
// snapshot's time is decided on the P(alive) the customers' profiles
// show (Snapshot.Value), and that one at another time fits the model as
// of that time.
func TestWinBackReadsTheSnapshotValues(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	v, err := snap.Value(ctx)
	require.NoError(t, err)
	sum, err := clv.Summarize(ctx, snap.History(), snap.AsOf(), clv.SummaryOptions{})
	require.NoError(t, err)
	alive := make([]float64, len(sum.Customers))
	for i, c := range sum.Customers {
		x, ok := v.Of(c)
		alive[i] = x.PAlive
		p, err := snap.Profile(ctx, snap.History().CustomerKey(c))
		// require only on a failure: t.Helper costs more than the checks
		if !ok || err != nil || p.Value == nil || !reflect.DeepEqual(x, *p.Value) {
			require.True(t, ok, "customer %d has a purchase and a value", c)
			require.NoError(t, err)
			require.NotNil(t, p.Value)
			require.Equal(t, x, *p.Value, "Values.Of is the profile's value")
		}
	}
	wb := campaign.WinBack()
	got, err := wb.Members(ctx, snap, nil)
	require.NoError(t, err)
	want := clv.WinBack(sum.Customers, sum.Spend, alive, clv.WinBackOptions{})
	require.False(t, want.IsEmpty())
	require.True(t, want.Equals(got), "win-back differs from the profiles' P(alive): %d vs %d", got.GetCardinality(), want.GetCardinality())
	_, ok := v.Of(1 << 30)
	require.False(t, ok, "no value beyond the customers")

	// a plan 60 days earlier: the model fitted as of then
	earlier := snap.AsOf().AddDate(0, 0, -60)
	sum, err = clv.Summarize(ctx, snap.History(), earlier, clv.SummaryOptions{})
	require.NoError(t, err)
	bg, err := clv.FitBGNBD(ctx, sum.Rows, clv.FitOptions{Fallback: 1})
	require.NoError(t, err)
	sc, err := clv.Score(ctx, sum.Rows, bg, nil, clv.ScoreOptions{})
	require.NoError(t, err)
	want = clv.WinBack(sum.Customers, sum.Spend, sc.PAlive, clv.WinBackOptions{})
	got, err = wb.Select(ctx, snap, earlier)
	require.NoError(t, err)
	require.True(t, want.Equals(got), "win-back 60 days earlier: %d vs %d", got.GetCardinality(), want.GetCardinality())
	now, err := wb.Members(ctx, snap, nil)
	require.NoError(t, err)
	require.False(t, want.Equals(now), "the earlier plan differs from the snapshot's")
}
