package clv_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/clv"
)

// TestOptionErrorsNameTheValue: an option that is NaN or infinite was
// reported as a "negative fit option" (FitOptions) or by the whole
// struct (CLVOptions), as if it had been below 0. Each error names the
// field and its value, and says what the field takes; none says
// "negative" of a value that is not.
func TestOptionErrorsNameTheValue(t *testing.T) {
	ctx := context.Background()
	rows := []clv.RFT{{Frequency: 2, Recency: 30, T: 40, MeanValue: 20}, {Frequency: 0, Recency: 0, T: 35}, {Frequency: 1, Recency: 10, T: 20, MeanValue: 15}}
	bg := &clv.BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.4}
	gg := &clv.GammaGamma{P: 6, Q: 4, Gamma: 15}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1} {
		for field, opts := range map[string]clv.FitOptions{
			"GradientTolerance": {GradientTolerance: v},
			"Penalty":           {Penalty: v},
			"Fallback":          {Fallback: v},
		} {
			for name, fit := range map[string]func() error{
				"FitBGNBD":      func() error { _, err := clv.FitBGNBD(ctx, rows, opts); return err },
				"FitMBGNBD":     func() error { _, err := clv.FitMBGNBD(ctx, rows, opts); return err },
				"FitGammaGamma": func() error { _, err := clv.FitGammaGamma(ctx, rows, opts); return err },
			} {
				err := fit()
				require.ErrorIs(t, err, clv.ErrInvalid, "%s %s %v", name, field, v)
				assert.Contains(t, err.Error(), fmt.Sprintf("FitOptions.%s = %v: want a finite number ≥ 0", field, v), name)
				assert.NotContains(t, err.Error(), "negative", name)
			}
		}
		for field, opts := range map[string]clv.CLVOptions{
			"DiscountRate": {DiscountRate: v - 1}, // -2 below -1, and NaN, ±Inf
			"Margin":       {Margin: v},
		} {
			err := func() error { _, err := clv.CLV(bg, gg, clv.RFT{T: 10}, opts); return err }()
			require.ErrorIs(t, err, clv.ErrInvalid, "%s %v", field, v)
			assert.Contains(t, err.Error(), fmt.Sprintf("CLVOptions.%s = %v: want a finite", field, opts.DiscountRate+opts.Margin), field)
			_, err = clv.Score(ctx, rows, bg, gg, clv.ScoreOptions{CLV: opts})
			require.ErrorIs(t, err, clv.ErrInvalid, "%s %v", field, v)
			assert.Contains(t, err.Error(), "CLVOptions."+field, field)
		}
	}
	for want, opts := range map[string]clv.FitOptions{
		"FitOptions.MaxIterations = -1": {MaxIterations: -1},
		"FitOptions.Workers = -2":       {Workers: -2},
	} {
		_, err := clv.FitBGNBD(ctx, rows, opts)
		require.ErrorIs(t, err, clv.ErrInvalid)
		assert.Contains(t, err.Error(), want)
	}
	for want, opts := range map[string]clv.ScoreOptions{
		"ScoreOptions.Horizon = -1h0m0s": {Horizon: -time.Hour},
		"ScoreOptions.Workers = -1":      {Workers: -1},
		"CLVOptions.Periods = -1":        {CLV: clv.CLVOptions{Periods: -1}},
		"CLVOptions.Unit = Unit(9)":      {CLV: clv.CLVOptions{Unit: 9}},
	} {
		_, err := clv.Score(ctx, rows, bg, gg, opts)
		require.ErrorIs(t, err, clv.ErrInvalid)
		assert.Contains(t, err.Error(), want)
	}
}
