package clv_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/reliability"
)

// TestNilArguments calls every entry point with a nil context or a nil
// required argument: each returns ErrInvalid, none panics (in the caller
// or in a worker goroutine).
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: at, Quantity: 1, Price: 10000}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	rows := []clv.RFT{{Frequency: 2, Recency: 3, T: 5, MeanValue: 10}, {T: 4}}
	bg := &clv.BGNBD{R: 0.24, Alpha: 4.41, A: 0.79, B: 2.43}
	calls := map[string]func() error{
		"FitBGNBD nil ctx":       func() error { _, err := clv.FitBGNBD(nilCtx, rows, clv.FitOptions{Workers: 4}); return err },
		"FitGammaGamma nil ctx":  func() error { _, err := clv.FitGammaGamma(nilCtx, rows, clv.FitOptions{Workers: 4}); return err },
		"Historical nil ctx":     func() error { _, err := clv.Historical(nilCtx, h, at, clv.HistoricalOptions{}); return err },
		"Historical nil history": func() error { _, err := clv.Historical(ctx, nil, at, clv.HistoricalOptions{}); return err },
		"Retention nil ctx": func() error {
			_, err := clv.Retention(nilCtx, h, at, at.AddDate(0, 1, 0), clv.RetentionOptions{})
			return err
		},
		"Retention nil history": func() error {
			_, err := clv.Retention(ctx, nil, at, at.AddDate(0, 1, 0), clv.RetentionOptions{})
			return err
		},
		"CohortRetention nil ctx": func() error { _, err := clv.CohortRetention(nilCtx, h, at); return err },
		"CohortRetention nil":     func() error { _, err := clv.CohortRetention(ctx, nil, at); return err },
		"Summarize nil ctx":       func() error { _, err := clv.Summarize(nilCtx, h, at, clv.SummaryOptions{}); return err },
		"Summarize nil history":   func() error { _, err := clv.Summarize(ctx, nil, at, clv.SummaryOptions{}); return err },
		"Holdout nil ctx":         func() error { _, err := bg.Holdout(nilCtx, &clv.Summary{}, 3); return err },
		"Holdout nil model":       func() error { _, err := (*clv.BGNBD)(nil).Holdout(ctx, &clv.Summary{}, 3); return err },
		"Score nil ctx":           func() error { _, err := clv.Score(nilCtx, rows, bg, nil, clv.ScoreOptions{Workers: 4}); return err },
		"Score nil model":         func() error { _, err := clv.Score(ctx, rows, nil, nil, clv.ScoreOptions{Workers: 4}); return err },
		"CLV nil models":          func() error { _, err := clv.CLV(nil, nil, rows[0], clv.CLVOptions{}); return err },
		"Score huge worker count": func() error {
			_, err := clv.Score(ctx, rows, bg, nil, clv.ScoreOptions{Workers: 1 << 40})
			return nilIfOK(err)
		},
		"FitBGNBD huge worker count": func() error { _, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{Workers: 1 << 40}); return nilIfOK(err) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == errOK {
				return
			}
			require.ErrorIs(t, err, clv.ErrInvalid)
		})
	}
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "clv entry points: nil context, nil history or model, huge worker counts", Cases: len(calls),
		Outcome: "ErrInvalid or a result; no panic"})
}

var errOK = &struct{ error }{}

// nilIfOK maps any outcome but a panic to errOK: a huge worker count may
// work or fail, it must not crash.
func nilIfOK(error) error { return errOK }
