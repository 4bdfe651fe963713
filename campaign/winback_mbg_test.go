package campaign_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/shop"
)

// TestWinBackFollowsTheValueModel checks that win-back fits the shop's
// value model: with ValueModel "mbgnbd" its audience is clv.WinBack on the
// MBG/NBD fit, and it then holds valuable one-time buyers, whom BG/NBD
// keeps alive with probability 1.
func TestWinBackFollowsTheValueModel(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{ValueModel: "mbgnbd", Model: "neighbours"})
	require.NoError(t, err)
	snap := s.Snapshot()
	require.Equal(t, "mbgnbd", snap.ValueModel())
	sum, err := clv.Summarize(ctx, snap.History(), snap.AsOf(), clv.SummaryOptions{})
	require.NoError(t, err)
	m, err := clv.FitMBGNBD(ctx, sum.Rows, clv.FitOptions{})
	require.NoError(t, err)
	sc, err := clv.Score(ctx, sum.Rows, m, nil, clv.ScoreOptions{})
	require.NoError(t, err)
	want := clv.WinBack(sum.Customers, sum.Spend, sc.PAlive, clv.WinBackOptions{})
	wb := campaign.WinBack()
	got, err := wb.Members(ctx, snap, nil)
	require.NoError(t, err)
	require.True(t, want.Equals(got), "win-back audience differs from clv.WinBack on MBG/NBD: %d vs %d", got.GetCardinality(), want.GetCardinality())
	oneTime := 0
	for i, c := range sum.Customers {
		if sum.Rows[i].Frequency == 0 && got.Contains(uint32(c)) {
			oneTime++
		}
	}
	require.Positive(t, oneTime, "one-time buyers in the MBG/NBD win-back")

	bg := demo(t)
	require.Equal(t, "bgnbd", bg.ValueModel())
	gotBG, err := wb.Members(ctx, bg, nil)
	require.NoError(t, err)
	for i, c := range sum.Customers {
		if sum.Rows[i].Frequency == 0 {
			require.False(t, gotBG.Contains(uint32(c)), "BG/NBD win-back holds one-time buyer %d", c)
		}
	}
	_, err = shop.Open(ctx, shop.Demo(), shop.Options{ValueModel: "pareto"})
	require.ErrorContains(t, err, "ValueModel")
}
