// Command clv fits the BG/NBD (or MBG/NBD) purchase model and the Gamma-Gamma spend
// model to a purchase history, compares the parameters with the published
// CDNOW fit, checks the predictions against a holdout period, and prints
// per-customer predictions, CLV segments and historical metrics.
//
//	go run ./examples/clv                                  # the demo storefront
//	go run ./examples/clv -data ../shared/data/cdnow/CDNOW_sample.txt -format cdnow -calibration-end 1997-09-30 -unit week
//	go run ./examples/clv -data ../shared/data/cdnow/CDNOW_sample.txt -format cdnow -calibration-end 1997-09-30 -unit week -model mbgnbd
//
// -model mbgnbd fits MBG/NBD instead of BG/NBD (compared with BTYDplus's
// CDNOW estimates): a one-time buyer may then have dropped out.
//
// Transactions at or before the calibration end (a date means its
// midnight, UTC, which for date-only files such as CDNOW includes that
// day's purchases) are the calibration data; the ones after it, up to
// -holdout-end (default: the last order), are the holdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/shop"
)

func main() {
	err := run(context.Background(), os.Stdout, os.Stderr, os.Args[1:])
	cli.Exit("clv", err) // status 2 for a usage error, 1 for others
}

// published holds the CDNOW estimates of Fader, Hardie & Lee (2005): BG/NBD
// in Marketing Science, Gamma-Gamma in JMR.
var published = map[string]float64{
	"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259, "loglik": -9582.43,
	"p": 6.25, "q": 3.74, "gamma": 15.44,
}

// publishedMBG holds BTYDplus's MBG/NBD estimates on the same data (three
// decimals) and the Gamma-Gamma ones, which do not depend on the purchase
// model.
var publishedMBG = map[string]float64{
	"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614,
	"p": 6.25, "q": 3.74, "gamma": 15.44,
}

type config struct {
	data, format            string
	calEnd, holdEnd         time.Time
	unit                    clv.Unit
	horizon                 float64
	customers, months       int
	discount, margin        float64
	workers                 int
	penalty                 float64
	mbg                     bool // -model mbgnbd
	publishedCalibrationEnd bool
}

func run(ctx context.Context, w, errw io.Writer, args []string) error {
	fs := flag.NewFlagSet("clv", flag.ContinueOnError)
	fs.SetOutput(errw) // usage and flag errors: not the output
	data := fs.String("data", "", "purchase file (default: the built-in demo storefront)")
	format := fs.String("format", "cdnow", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	calEnd := fs.String("calibration-end", "", "end of calibration, YYYY-MM-DD: its midnight UTC, which includes that day's purchases only in date-only files (default: halfway through the data)")
	holdEnd := fs.String("holdout-end", "", "end of the holdout, YYYY-MM-DD: its midnight UTC (default: the last order)")
	unit := fs.String("unit", "week", "time unit of the model: week or day")
	horizon := fs.Float64("horizon", 0, "horizon of the expected purchases, in units (default: the holdout length, or 52 weeks)")
	customers := fs.Int("customers", 10, "customers in the preview")
	months := fs.Int("months", 12, "CLV horizon in months")
	discount := fs.Float64("discount", 0.01, "monthly discount rate of the CLV")
	margin := fs.Float64("margin", 1, "profit margin applied to spend, above 0 (1 = revenue)")
	workers := fs.Int("workers", 2, "goroutines for fitting and scoring")
	model := fs.String("model", "bgnbd", "purchase model: bgnbd (BG/NBD) or mbgnbd (MBG/NBD, where a one-time buyer may have dropped out)")
	penalty := fs.Float64("penalty", 0, "penalty on the models' shape parameters (0: exact maximum likelihood; on failure the fit is retried with 1)")
	if err := cli.Parse(fs, args, dataset.Formats(), "data"); err != nil {
		return err
	}
	cfg := config{data: *data, format: *format, horizon: *horizon, customers: *customers,
		months: *months, discount: *discount, margin: *margin, workers: *workers, penalty: *penalty}
	var err error
	if cfg.unit, err = clv.ParseUnit(*unit); err != nil {
		return cli.Usage(err)
	}
	switch *model {
	case "bgnbd":
	case "mbgnbd":
		cfg.mbg = true
	default:
		return cli.Usagef("-model %q: want bgnbd or mbgnbd", *model)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case *months < 1 || *months > clv.MaxPeriods:
		return cli.Usagef("-months %d outside [1, %d]", *months, clv.MaxPeriods)
	case *customers < 0 || *workers < 1:
		return cli.Usagef("-workers must be ≥ 1, -customers ≥ 0")
	case !finite(*penalty) || *penalty < 0:
		return cli.Usagef("-penalty %v: want a finite number ≥ 0", *penalty)
	case !finite(*discount) || *discount <= -1:
		return cli.Usagef("-discount %v: want a finite rate above -1", *discount)
	case !finite(*margin) || *margin <= 0:
		// clv.CLVOptions reads a Margin of 0 as 1 (revenue): a zero
		// margin passed on would print revenue as profit
		return cli.Usagef("-margin %v: want a finite number above 0", *margin)
	}
	if _, err := cli.Duration("horizon", *horizon, cfg.unit.Duration(), cfg.unit.String()); err != nil {
		return err
	}
	// the dates are checked before the data is read; their defaults
	// depend on it
	calDate, err := day(*calEnd)
	if err != nil {
		return cli.Usagef("-calibration-end: %w", err)
	}
	holdDate, err := day(*holdEnd)
	if err != nil {
		return cli.Usagef("-holdout-end: %w", err)
	}
	if !calDate.IsZero() && !holdDate.IsZero() && holdDate.Before(calDate) {
		return cli.Usagef("-holdout-end %s is before -calibration-end %s", *holdEnd, *calEnd)
	}
	h, rep, err := shop.LoadHistory(ctx, shop.FileOrDemo(*data, *format))
	if err != nil {
		return err
	}
	name := "demo storefront"
	if *data != "" {
		name = fmt.Sprintf("%s (%s)", filepath.Base(*data), *format)
	}
	fmt.Fprintf(w, "%s\n%s\n", rep, h.Summary())
	sum := h.Summary()
	if sum.Orders == 0 {
		return errors.New("no orders in the data")
	}
	cfg.calEnd, cfg.holdEnd = calDate, holdDate
	if cfg.calEnd.IsZero() {
		cfg.calEnd = midpoint(sum.First, sum.Last)
	}
	if cfg.holdEnd.IsZero() {
		cfg.holdEnd = sum.Last
	}
	switch last := sum.Last.Format(time.DateOnly); {
	case cfg.calEnd.Before(sum.First.Truncate(24 * time.Hour)):
		return fmt.Errorf("-calibration-end %s is before the first order (%s)", cfg.calEnd.Format(time.DateOnly), sum.First.Format(time.DateOnly))
	case cfg.calEnd.After(sum.Last):
		return fmt.Errorf("-calibration-end %s is after the last order (%s): nothing is left to hold out", cfg.calEnd.Format(time.DateOnly), last)
	case cfg.holdEnd.Before(cfg.calEnd):
		return fmt.Errorf("-holdout-end %s is before -calibration-end %s", cfg.holdEnd.Format(time.DateOnly), cfg.calEnd.Format(time.DateOnly))
	}
	cfg.publishedCalibrationEnd = cfg.calEnd.Equal(time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC))
	fmt.Fprintf(w, "%s: %d customers, %d orders, %s .. %s\n", name, sum.Customers, sum.Orders,
		sum.First.Format(time.DateOnly), sum.Last.Format(time.DateOnly))
	return report(ctx, w, h, cfg)
}

// report fits, checks and prints everything for one History.
func report(ctx context.Context, w io.Writer, h *affinity.History, cfg config) error {
	s, err := clv.Summarize(ctx, h, cfg.calEnd, clv.SummaryOptions{HoldoutEnd: cfg.holdEnd, Unit: cfg.unit})
	if err != nil {
		return err
	}
	repeat := 0
	for _, c := range s.Rows {
		if c.Frequency > 0 {
			repeat++
		}
	}
	fmt.Fprintf(w, "calibration to %s (%s): %d customers, %d with repeat purchases; holdout %.1f %ss to %s\n\n",
		cfg.calEnd.Format(time.DateOnly), cfg.unit, len(s.Rows), repeat, s.HoldoutLength, cfg.unit, cfg.holdEnd.Format(time.DateOnly))

	fit := clv.FitOptions{Workers: cfg.workers, Penalty: cfg.penalty}
	if fit.Penalty == 0 {
		fit.Fallback = 1 // a finite, slightly shrunk estimate where the exact one fails
	}
	start := time.Now()
	fitBG, pub, name := clv.FitBGNBD, published, "BG/NBD"
	if cfg.mbg {
		fitBG, pub, name = clv.FitMBGNBD, publishedMBG, "MBG/NBD"
	}
	bg, err := fitBG(ctx, s.Rows, fit)
	if err != nil {
		return err
	}
	penalised(w, &fit, bg.Fit)
	bgTime := time.Since(start)
	start = time.Now()
	gg, err := clv.FitGammaGamma(ctx, s.Rows, fit)
	if err != nil {
		return err
	}
	penalised(w, &fit, gg.Fit)
	ggTime := time.Since(start)
	// The published values apply to the CDNOW sample with the papers'
	// calibration period in weeks.
	paper := cfg.format == "cdnow" && cfg.publishedCalibrationEnd && cfg.unit == clv.Week && len(s.Rows) == 2357 && fit.Penalty == 0

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	param := func(name string, v float64, digits int) {
		if want, ok := pub[name]; paper && ok {
			pd := digits
			if cfg.mbg {
				pd = min(digits, 3) // BTYDplus prints three decimals
			}
			fmt.Fprintf(tw, "%s\t%.*f\tpublished %.*f\n", name, digits, v, pd, want)
		} else {
			fmt.Fprintf(tw, "%s\t%.*f\n", name, digits, v)
		}
	}
	param("r", bg.R, 4)
	param("alpha", bg.Alpha, 4)
	param("a", bg.A, 4)
	param("b", bg.B, 4)
	param("loglik", bg.Fit.LogLikelihood, 2)
	param("p", gg.P, 2)
	param("q", gg.Q, 2)
	param("gamma", gg.Gamma, 2)
	tw.Flush()
	fmt.Fprintf(w, "%s on %d customers: %d iterations, %v; Gamma-Gamma on %d repeat customers: %d iterations, %v\n\n",
		name, bg.Fit.N, bg.Fit.Iterations, bgTime.Round(time.Microsecond), gg.Fit.N, gg.Fit.Iterations, ggTime.Round(time.Microsecond))

	if s.Holdout != nil && s.HoldoutLength > 0 {
		if err := holdout(ctx, w, bg, s); err != nil {
			return err
		}
	}

	horizon := cfg.horizon
	if horizon == 0 {
		horizon = s.HoldoutLength
	}
	if horizon <= 0 {
		horizon = cfg.unit.Of(52 * 7 * 24 * time.Hour)
	}
	copts := clv.CLVOptions{Unit: cfg.unit, Periods: cfg.months, DiscountRate: cfg.discount, Margin: cfg.margin}
	sc, err := clv.Score(ctx, s.Rows, bg, gg, clv.ScoreOptions{
		Horizon: time.Duration(horizon * float64(cfg.unit.Duration())),
		CLV:     copts, Workers: cfg.workers,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "first %d customers (expected purchases in %.4g %ss; CLV over %d months, %.3g discount a month):\n",
		min(cfg.customers, len(s.Rows)), horizon, cfg.unit, cfg.months, cfg.discount)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "customer\tfrequency\trecency\tT\tmean value\texpected\tP(alive)\tCLV\t")
	for i := range min(cfg.customers, len(s.Rows)) {
		c := s.Rows[i]
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.3f\t%.3f\t%.2f\t\n", h.CustomerKey(s.Customers[i]),
			c.Frequency, c.Recency, c.T, c.MeanValue, sc.ExpectedPurchases[i], sc.PAlive[i], sc.CLV[i])
	}
	tw.Flush()
	fmt.Fprintln(w)

	segments(w, s, sc)
	return historical(ctx, w, h, cfg)
}

// penalised says why a fit fell back to a penalty (FitOptions.Fallback),
// and keeps that penalty in fit for the fits that follow.
func penalised(w io.Writer, fit *clv.FitOptions, info clv.FitInfo) {
	if info.ExactError != "" {
		fmt.Fprintf(w, "%s\nrefitted with penalty %g\n\n", info.ExactError, info.Penalty)
		fit.Penalty = info.Penalty
	}
}

// holdout compares the mean holdout purchases with the model's
// conditional expectations, by calibration frequency.
func holdout(ctx context.Context, w io.Writer, bg *clv.BGNBD, s *clv.Summary) error {
	const groups = 8
	table, err := bg.Holdout(ctx, s, groups)
	if err != nil {
		return err
	}
	var totAct, totPred float64
	for _, g := range table {
		totAct += g.Actual
		totPred += g.Predicted
	}
	fmt.Fprintf(w, "holdout (%.1f %ss): mean purchases per customer by calibration frequency\n", s.HoldoutLength, s.Unit)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "x\tcustomers\tactual\tpredicted\t")
	for _, g := range table {
		if g.Customers == 0 {
			continue
		}
		label := fmt.Sprint(g.Frequency)
		if g.Frequency == groups-1 {
			label += "+"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t\n", label, g.Customers, g.MeanActual(), g.MeanPredicted())
	}
	fmt.Fprintf(tw, "all\t%d\t%.3f\t%.3f\t\n", len(s.Rows), totAct/float64(len(s.Rows)), totPred/float64(len(s.Rows)))
	tw.Flush()
	fmt.Fprintf(w, "total holdout purchases: actual %.0f, predicted %.1f\n\n", totAct, totPred)
	return nil
}

// segments prints the CLV deciles and the win-back segment.
func segments(w io.Writer, s *clv.Summary, sc *clv.Scores) {
	deciles := clv.Quantiles(s.Customers, sc.CLV, 10)
	var total, top float64
	for i, v := range sc.CLV {
		total += v
		if deciles[9].Contains(uint32(s.Customers[i])) {
			top += v
		}
	}
	if total > 0 {
		fmt.Fprintf(w, "top CLV decile: %d customers holding %.0f%% of the predicted value\n",
			deciles[9].GetCardinality(), 100*top/total)
	}
	wb := clv.WinBack(s.Customers, s.Spend, sc.PAlive, clv.WinBackOptions{})
	fmt.Fprintf(w, "to win back (top 20%% by calibration spend, P(alive) < 0.5): %d customers\n\n", wb.GetCardinality())
}

// historical prints the 12-month metrics as of the calibration end and
// the retention of the holdout period.
func historical(ctx context.Context, w io.Writer, h *affinity.History, cfg config) error {
	ws, err := clv.Historical(ctx, h, cfg.calEnd, clv.HistoricalOptions{Months: []int{12}})
	if err != nil {
		return err
	}
	x := ws[0]
	fmt.Fprintf(w, "12 months to %s: %d buyers, %d orders, spend %s, AOV %s, %.2f orders per buyer, repeat rate %.2f\n",
		cfg.calEnd.Format(time.DateOnly), x.Buyers.GetCardinality(), x.Orders, x.Spend.Format(2), x.Spend.FormatQuo(int64(x.Orders), 2), x.PurchaseFrequency(), x.RepeatRate())
	if cfg.holdEnd.After(cfg.calEnd) {
		p, err := clv.Retention(ctx, h, cfg.calEnd, cfg.holdEnd, clv.RetentionOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "retention %s .. %s: %d customers at start, %d at end, %d new: rate %.2f\n",
			cfg.calEnd.Format(time.DateOnly), cfg.holdEnd.Format(time.DateOnly),
			p.AtStart.GetCardinality(), p.AtEnd.GetCardinality(), p.New.GetCardinality(), p.Rate())
	}
	return nil
}

// day parses a YYYY-MM-DD date as its midnight UTC; the zero time when
// s is empty (the flag's default, which depends on the data).
func day(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// midpoint returns the midnight (UTC) halfway between a and b.
func midpoint(a, b time.Time) time.Time {
	return a.Add(b.Sub(a) / 2).Truncate(24 * time.Hour)
}
