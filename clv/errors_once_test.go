package clv_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestErrorsNameThePackageOnce: a zero as-of time is "clv: as-of time
// required …", matching both ErrInvalid and affinity.ErrNoAsOf; a window
// beyond the look-back's range puts its context before the look-back's
// message and matches ErrInvalid and affinity.ErrInvalid; no message
// names the package or says "invalid" twice.
func TestErrorsNameThePackageOnce(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 20, Products: 5, Seed: 1, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	var nilCtx context.Context
	historical := func(asOf time.Time, months ...int) func() error {
		return func() error {
			_, err := clv.Historical(ctx, h, asOf, clv.HistoricalOptions{Months: months})
			return err
		}
	}
	testdata.CheckErrors(t, "clv: ", []testdata.ErrorCase{
		{Name: "Historical with zero as-of", Call: historical(time.Time{}), Is: []error{clv.ErrInvalid, affinity.ErrNoAsOf}},
		{Name: "Historical window beyond 10,000 years", Call: historical(asOf, 200_000), Is: []error{clv.ErrInvalid, affinity.ErrInvalid},
			Text: "clv: window of 200000 months: affinity: invalid look-back"},
		{Name: "Historical window of no month", Call: historical(asOf, 0), Is: []error{clv.ErrInvalid}},
		{Name: "Retention ActiveMonths beyond 10,000 years", Call: func() error {
			_, err := clv.Retention(ctx, h, asOf.AddDate(0, -1, 0), asOf, clv.RetentionOptions{ActiveMonths: 200_000})
			return err
		}, Is: []error{clv.ErrInvalid, affinity.ErrInvalid}, Text: "clv: ActiveMonths: affinity: invalid look-back"},
		{Name: "Retention of an empty period", Call: func() error { _, err := clv.Retention(ctx, h, asOf, asOf, clv.RetentionOptions{}); return err }, Is: []error{clv.ErrInvalid}},
		{Name: "CohortRetention with zero as-of", Call: func() error { _, err := clv.CohortRetention(ctx, h, time.Time{}); return err }, Is: []error{clv.ErrInvalid, affinity.ErrNoAsOf}},
		{Name: "Summarize with zero as-of", Call: func() error { _, err := clv.Summarize(ctx, h, time.Time{}, clv.SummaryOptions{}); return err }, Is: []error{clv.ErrInvalid, affinity.ErrNoAsOf}},
		{Name: "Summarize of nil History", Call: func() error { _, err := clv.Summarize(ctx, nil, asOf, clv.SummaryOptions{}); return err }, Is: []error{clv.ErrInvalid, affinity.ErrNilArgument}},
		{Name: "Summarize with nil context", Call: func() error { _, err := clv.Summarize(nilCtx, h, asOf, clv.SummaryOptions{}); return err }, Is: []error{clv.ErrInvalid, affinity.ErrNilArgument}},
		{Name: "ParseUnit of an unknown unit", Call: func() error { _, err := clv.ParseUnit("fortnight"); return err }, Is: []error{clv.ErrInvalid}},
		{Name: "FitBGNBD of no rows", Call: func() error { _, err := clv.FitBGNBD(ctx, nil, clv.FitOptions{}); return err }, Is: []error{clv.ErrNoData}},
		{Name: "FitBGNBD of recency beyond T", Call: func() error {
			_, err := clv.FitBGNBD(ctx, []clv.RFT{{Frequency: 1, Recency: 5, T: 2}}, clv.FitOptions{})
			return err
		}, Is: []error{clv.ErrInvalid}},
		{Name: "FitBGNBD of NaN frequency", Call: func() error {
			_, err := clv.FitBGNBD(ctx, []clv.RFT{{Frequency: math.NaN(), Recency: 1, T: 2}}, clv.FitOptions{})
			return err
		}, Is: []error{clv.ErrInvalid}},
		{Name: "CLV of nil models", Call: func() error { _, err := clv.CLV(nil, nil, clv.RFT{}, clv.CLVOptions{}); return err }, Is: []error{clv.ErrInvalid}},
	})
}
