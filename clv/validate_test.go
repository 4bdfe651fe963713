package clv_test

import (
	"context"
	"math"
	"testing"

	"github.com/shopaffinity/affinity/clv"
	"github.com/stretchr/testify/assert"
)

// rowEntryPoints calls every function that takes summary rows (with the
// paper's models) and returns their errors by name.
func rowEntryPoints(rows []clv.RFT) map[string]error {
	ctx := context.Background()
	errs := map[string]error{}
	_, errs["FitBGNBD"] = clv.FitBGNBD(ctx, rows, clv.FitOptions{})
	_, errs["FitMBGNBD"] = clv.FitMBGNBD(ctx, rows, clv.FitOptions{})
	_, errs["FitGammaGamma"] = clv.FitGammaGamma(ctx, rows, clv.FitOptions{})
	_, errs["Score"] = clv.Score(ctx, rows, paperModel, nil, clv.ScoreOptions{})
	_, errs["Score with spend"] = clv.Score(ctx, rows, paperModel, paperSpend, clv.ScoreOptions{})
	_, errs["Holdout"] = paperModel.Holdout(ctx, &clv.Summary{Rows: rows, Holdout: make([]int, len(rows)), HoldoutLength: 10}, 3)
	var err error
	for _, c := range rows {
		if _, e := clv.CLV(paperModel, paperSpend, c, clv.CLVOptions{}); e != nil {
			err = e
		}
	}
	errs["CLV"] = err
	return errs
}

// TestFrequencyMustBeACount: a Frequency is a count of repeat purchases.
// A fraction below 1 made the BG/NBD dropout odds a/(b+x−1) negative:
// NaN predictions with no error, and a fit failing with an unexplained
// line-search error. Every entry point refuses any fraction.
func TestFrequencyMustBeACount(t *testing.T) {
	good := []clv.RFT{{0, 0, 39, 0}, {2, 20, 39, 12}, {0, 0, 10, 0}, {1, 30, 39, 8}, {3, 35, 39, 15}}
	for _, x := range []float64{0.5, 1e-9, 2.5, 1 + 1e-12} {
		rows := append([]clv.RFT{{Frequency: x, Recency: 1, T: 39, MeanValue: 10}}, good...)
		for name, err := range rowEntryPoints(rows) {
			assert.ErrorIs(t, err, clv.ErrInvalid, "%s with frequency %v", name, x)
		}
		m := &clv.BGNBD{R: 1, Alpha: 1, A: 0.5, B: 0.3}
		assert.True(t, math.IsNaN(m.LogLikelihood(rows)), "BG/NBD log-likelihood with frequency %v", x)
		assert.True(t, math.IsNaN(paperSpend.LogLikelihood(rows)), "Gamma-Gamma log-likelihood with frequency %v", x)
	}
	// the whole numbers are accepted (huge ones too)
	rows := append([]clv.RFT{{Frequency: 1e6, Recency: 38, T: 39, MeanValue: 10}}, good...)
	for name, err := range rowEntryPoints(rows) {
		if name != "FitGammaGamma" && name != "FitBGNBD" && name != "FitMBGNBD" {
			assert.NoError(t, err, name)
		}
	}
}

// TestSpendRowsNeedFiniteMeanValue: FitGammaGamma skipped a row with a
// NaN or infinite MeanValue silently, where Score and CLV refuse it.
func TestSpendRowsNeedFiniteMeanValue(t *testing.T) {
	for _, m := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		rows := []clv.RFT{{2, 20, 39, m}, {2, 20, 39, 12}, {1, 30, 39, 8}, {3, 35, 39, 15}}
		_, err := clv.FitGammaGamma(context.Background(), rows, clv.FitOptions{})
		assert.ErrorIs(t, err, clv.ErrInvalid, "mean value %v", m)
		assert.True(t, math.IsNaN(paperSpend.LogLikelihood(rows)), "mean value %v", m)
	}
}

// TestModelParametersMustBePositiveAndFinite: Score, CLV and Holdout gave
// NaN without an error for a hand-built model with a zero, negative or
// non-finite parameter.
func TestModelParametersMustBePositiveAndFinite(t *testing.T) {
	ctx := context.Background()
	rows := []clv.RFT{{0, 0, 10, 0}, {2, 5, 10, 7}}
	s := &clv.Summary{Rows: rows, Holdout: []int{0, 1}, HoldoutLength: 5}
	nan, inf := math.NaN(), math.Inf(1)
	bad := map[string]*clv.BGNBD{
		"zero value": {},
		"r < 0":      {R: -1, Alpha: 1, A: 1, B: 1},
		"α = 0":      {R: 1, Alpha: 0, A: 1, B: 1},
		"a NaN":      {R: 1, Alpha: 1, A: nan, B: 1},
		"b = +Inf":   {R: 1, Alpha: 1, A: 1, B: inf, Modified: true},
	}
	for name, m := range bad {
		_, err := clv.Score(ctx, rows, m, nil, clv.ScoreOptions{})
		assert.ErrorIs(t, err, clv.ErrInvalid, "Score, %s", name)
		_, err = clv.Score(ctx, rows, m, paperSpend, clv.ScoreOptions{})
		assert.ErrorIs(t, err, clv.ErrInvalid, "Score with spend, %s", name)
		_, err = clv.CLV(m, paperSpend, rows[1], clv.CLVOptions{})
		assert.ErrorIs(t, err, clv.ErrInvalid, "CLV, %s", name)
		_, err = m.Holdout(ctx, s, 2)
		assert.ErrorIs(t, err, clv.ErrInvalid, "Holdout, %s", name)
		assert.True(t, math.IsNaN(m.LogLikelihood(rows)), "LogLikelihood, %s", name)
	}
	badSpend := map[string]*clv.GammaGamma{
		"zero value": {},
		"p < 0":      {P: -1, Q: 3, Gamma: 15},
		"q NaN":      {P: 6, Q: nan, Gamma: 15},
		"γ = +Inf":   {P: 6, Q: 3, Gamma: inf},
	}
	for name, g := range badSpend {
		_, err := clv.Score(ctx, rows, paperModel, g, clv.ScoreOptions{})
		assert.ErrorIs(t, err, clv.ErrInvalid, "Score, %s", name)
		_, err = clv.CLV(paperModel, g, rows[1], clv.CLVOptions{})
		assert.ErrorIs(t, err, clv.ErrInvalid, "CLV, %s", name)
		assert.True(t, math.IsNaN(g.LogLikelihood(rows)), "LogLikelihood, %s", name)
	}
	// nil models stay errors, not panics
	_, err := clv.CLV(nil, paperSpend, rows[1], clv.CLVOptions{})
	assert.ErrorIs(t, err, clv.ErrInvalid)
	_, err = clv.CLV(paperModel, nil, rows[1], clv.CLVOptions{})
	assert.ErrorIs(t, err, clv.ErrInvalid)
}

// TestPeriodsBounded: CLV sums one expectation per period without a
// context, so the horizon has a documented bound.
func TestPeriodsBounded(t *testing.T) {
	c := clv.RFT{Frequency: 2, Recency: 5, T: 10, MeanValue: 7}
	_, err := clv.CLV(paperModel, paperSpend, c, clv.CLVOptions{Periods: clv.MaxPeriods + 1})
	assert.ErrorIs(t, err, clv.ErrInvalid)
	_, err = clv.Score(context.Background(), []clv.RFT{c}, paperModel, nil, clv.ScoreOptions{CLV: clv.CLVOptions{Periods: clv.MaxPeriods + 1}})
	assert.ErrorIs(t, err, clv.ErrInvalid)
}
