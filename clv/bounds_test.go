package clv_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
)

// boundsHistory builds a History of the purchases, each of product p.
func boundsHistory(t *testing.T, lines ...affinity.Purchase) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range lines {
		p.Product, p.Quantity, p.Price = "p", 1, 100
		require.NoError(t, b.Add(p))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestCohortRetentionAsOfBounded: the matrix runs to asOf's month, so a
// far-future asOf (a "forever" sentinel) asked for months² of memory: 142
// MB for one customer as of 2500, 37 GB as of 9999. An asOf after the
// last time a History holds is an ErrInvalid; one up to it works.
func TestCohortRetentionAsOfBounded(t *testing.T) {
	h := boundsHistory(t, affinity.Purchase{Customer: "a", Time: time.Date(2024, 1, 3, 10, 0, 0, 0, time.UTC)})
	for _, asOf := range []time.Time{time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(affinity.MaxUnix+1, 0)} {
		_, err := clv.CohortRetention(context.Background(), h, asOf)
		require.ErrorIs(t, err, clv.ErrInvalid, "%v", asOf)
	}
	last := time.Unix(affinity.MaxUnix, 0).UTC()
	co, err := clv.CohortRetention(context.Background(), h, last)
	require.NoError(t, err)
	require.Len(t, co.Months, (last.Year()-2024)*12+int(last.Month()))
	assert.Equal(t, 1, co.Size[0])
}

// TestRetentionActiveMonthsBounded: ActiveMonths beyond what a window can
// span overflowed the window's start, and customers active at the start
// vanished from the sets with no error.
func TestRetentionActiveMonthsBounded(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }
	h := boundsHistory(t,
		affinity.Purchase{Customer: "a", Time: day(2024, 1, 3)},
		affinity.Purchase{Customer: "a", Time: day(2024, 5, 3)},
		affinity.Purchase{Customer: "b", Time: day(2023, 5, 3)},
	)
	start, end := day(2024, 3, 1), day(2024, 6, 1)
	for _, m := range []int{-1, 24, 120000} {
		p, err := clv.Retention(context.Background(), h, start, end, clv.RetentionOptions{ActiveMonths: m})
		require.NoError(t, err, m)
		assert.Equal(t, []uint32{0, 1}, p.AtStart.ToArray(), "ActiveMonths %d: both bought within the window", m)
	}
	for _, m := range []int{120001, 1<<42 - 1, math.MaxInt} {
		_, err := clv.Retention(context.Background(), h, start, end, clv.RetentionOptions{ActiveMonths: m})
		require.ErrorIs(t, err, clv.ErrInvalid, "ActiveMonths %d", m)
	}
}

// TestHoldoutGroupsBounded: the groups were allocated before any check, so
// a huge count panicked (makeslice) or allocated gigabytes.
func TestHoldoutGroupsBounded(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2024, m, d, 10, 0, 0, 0, time.UTC) }
	h := boundsHistory(t,
		affinity.Purchase{Customer: "a", Time: day(1, 3)},
		affinity.Purchase{Customer: "a", Time: day(8, 3)},
	)
	s, err := clv.Summarize(context.Background(), h, day(6, 1), clv.SummaryOptions{HoldoutEnd: day(12, 1)})
	require.NoError(t, err)
	m := &clv.BGNBD{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.4}
	for _, g := range []int{1 << 16, 1} {
		groups, err := m.Holdout(context.Background(), s, g)
		require.NoError(t, err)
		require.Len(t, groups, g)
	}
	for _, g := range []int{1<<16 + 1, math.MaxInt} {
		_, err := m.Holdout(context.Background(), s, g)
		require.ErrorIs(t, err, clv.ErrInvalid, "%d groups", g)
	}
}

// TestExpectedPurchasesInfiniteHorizon: for a ≤ 1 the expectation grows
// without bound, and an infinite horizon gave NaN; for a > 1 it tends to
// a finite limit, which an infinite horizon gives.
func TestExpectedPurchasesInfiniteHorizon(t *testing.T) {
	c := clv.RFT{Frequency: 2, Recency: 30, T: 38}
	cdnow := &clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	assert.True(t, math.IsInf(cdnow.ExpectedPurchases(c, math.Inf(1)), 1))
	assert.Greater(t, cdnow.ExpectedPurchases(c, 1e12), cdnow.ExpectedPurchases(c, 1e9), "still growing")
	bigA := &clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 2.7929, B: 2.4259}
	limit := bigA.ExpectedPurchases(c, math.Inf(1))
	require.False(t, math.IsInf(limit, 0) || math.IsNaN(limit))
	assert.InDelta(t, limit, bigA.ExpectedPurchases(c, 1e15), 1e-6*limit)
}

// TestCLVChecksTheRow: CLV checked its options but not the row, and gave
// NaN, or a number, for rows Score refuses.
func TestCLVChecksTheRow(t *testing.T) {
	bg := &clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	gg := &clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	for _, c := range []clv.RFT{
		{Frequency: -1, T: 5, MeanValue: 20},
		{Frequency: math.NaN(), T: 5, MeanValue: 20},
		{Frequency: 1, Recency: 10, T: 5, MeanValue: 20},
		{Frequency: 1, Recency: 2, T: 5, MeanValue: math.Inf(1)},
	} {
		_, err := clv.Score(context.Background(), []clv.RFT{c}, bg, gg, clv.ScoreOptions{})
		require.ErrorIs(t, err, clv.ErrInvalid, "%+v", c)
		_, err = clv.CLV(bg, gg, c, clv.CLVOptions{})
		require.ErrorIs(t, err, clv.ErrInvalid, "%+v", c)
	}
	v, err := clv.CLV(bg, gg, clv.RFT{Frequency: 1, Recency: 2, T: 5, MeanValue: 20}, clv.CLVOptions{})
	require.NoError(t, err)
	assert.Positive(t, v)
}
