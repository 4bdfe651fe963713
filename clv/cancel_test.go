package clv_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paperModel and paperSpend point to the models the papers fit on CDNOW.
var paperModel, paperSpend = &paperBG, &paperGG

// lookLimitContext is a context that answers its first looks (calls of
// Err) with nil and every later one with context.Canceled: a function
// that looks at it rarely runs to the end and returns no error.
type lookLimitContext struct {
	context.Context
	left  atomic.Int64
	done  chan struct{}
	close sync.Once
}

func newLookLimit(looks int64) *lookLimitContext {
	c := &lookLimitContext{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(looks)
	return c
}

func (c *lookLimitContext) Err() error {
	if c.left.Add(-1) < 0 {
		c.close.Do(func() { close(c.done) })
		return context.Canceled
	}
	return nil
}

func (c *lookLimitContext) Done() <-chan struct{} { return c.done }

// dailyTenYears is a CLV horizon of 3650 daily periods: a customer
// evaluated directly sums 3650 series.
var dailyTenYears = clv.ScoreOptions{CLV: clv.CLVOptions{Period: 24 * time.Hour, Periods: 3650, DiscountRate: 0.0003}}

// TestScoreLooksAtContext: Score must look at ctx while it works through
// one block of rows evaluated directly (no frequency shared by 256 rows),
// and while it fits the interpolants of the frequencies shared by many
// rows (thousands of direct evaluations), not only before each block.
func TestScoreLooksAtContext(t *testing.T) {
	cases := map[string]func(i int) clv.RFT{
		"rows evaluated directly": func(i int) clv.RFT {
			return clv.RFT{Frequency: float64(i % 40), Recency: 20, T: 39, MeanValue: 10}
		},
		"interpolant fits": func(i int) clv.RFT {
			return clv.RFT{Frequency: float64(1 + i%15), Recency: 5, T: 10 + float64(i%300), MeanValue: 10}
		},
	}
	for name, row := range cases {
		rows := make([]clv.RFT, 4000)
		for i := range rows {
			rows[i] = row(i)
		}
		for _, workers := range []int{1, 2} {
			opts := dailyTenYears
			opts.Workers = workers
			_, err := clv.Score(newLookLimit(20), rows, paperModel, paperSpend, opts)
			assert.ErrorIs(t, err, context.Canceled, "%s, workers %d", name, workers)
		}
	}
}

// TestScoreMeetsDeadline: the whole computation takes seconds; a deadline
// of 20 ms must end it long before (the bound is generous: the work after
// the deadline is a few periods of one row per worker).
func TestScoreMeetsDeadline(t *testing.T) {
	var rows []clv.RFT
	for i := range 2000 {
		rows = append(rows, clv.RFT{Frequency: float64(i % 40), Recency: 20, T: 39, MeanValue: 10})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := clv.Score(ctx, rows, paperModel, paperSpend, dailyTenYears)
	took := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 2*time.Second)
}

// TestHistoryLoopsLookAtContextByOrders: the loops over a History look at
// ctx by the orders they walk, not only every 4096 customers: two
// customers with 10,000 orders each are work enough for a second look.
func TestHistoryLoopsLookAtContextByOrders(t *testing.T) {
	var b affinity.Builder
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range 2 {
		for o := range 10_000 {
			require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", c), Product: "p", Order: fmt.Sprint(c, "-", o),
				Time: start.Add(time.Duration(o) * time.Hour), Quantity: 1, Price: 100}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	asOf := start.AddDate(2, 0, 0)
	calls := map[string]func(ctx context.Context) error{
		"Historical": func(ctx context.Context) error {
			_, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{})
			return err
		},
		"Retention": func(ctx context.Context) error {
			_, err := clv.Retention(ctx, h, start.AddDate(0, 6, 0), asOf, clv.RetentionOptions{})
			return err
		},
		"CohortRetention": func(ctx context.Context) error {
			_, err := clv.CohortRetention(ctx, h, asOf)
			return err
		},
		"Summarize": func(ctx context.Context) error {
			_, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, call(context.Background()))
			assert.ErrorIs(t, call(newLookLimit(1)), context.Canceled)
		})
	}
}

// TestHoldoutLooksAtContextEveryFewRows: a row of Holdout takes a series
// or a quadrature, so it looks at ctx more often than every 4096 rows.
func TestHoldoutLooksAtContextEveryFewRows(t *testing.T) {
	s := &clv.Summary{HoldoutLength: 39}
	for i := range 1000 {
		s.Rows = append(s.Rows, clv.RFT{Frequency: float64(i % 7), Recency: 10, T: 39})
		s.Holdout = append(s.Holdout, i%3)
	}
	_, err := paperModel.Holdout(context.Background(), s, 5)
	require.NoError(t, err)
	_, err = paperModel.Holdout(newLookLimit(3), s, 5)
	assert.ErrorIs(t, err, context.Canceled)
}
