// Command campaigns plans a week of retention campaigns on a shop — every
// built-in tactic (abandoned cart, back in stock, thank-you cross-sell,
// win-back, coupon 2–4 weeks after a purchase, favourites of new
// customers), one message per customer per week, a control group per
// campaign — prints what each campaign reaches and what the cap removed,
// writes the lists for a mail tool, and measures each campaign on the
// orders of the following weeks, treated against control.
//
//	go run ./examples/campaigns                        # the demo storefront, planted responders
//	go run ./examples/campaigns -data ../shared/data/online-retail/online_retail_2010-2011.csv.gz -format onlineretail
//	go run ./examples/campaigns -out /tmp/affinity-lists -png /tmp/affinity-charts
//
// The plan is made as of -days before the last order or event
// (History.Latest), so that the orders after it can measure it. On the demo, responders are planted
// (dataset.Storefront.Respond, -uplift): treated customers buy more, and
// the measurement should find that uplift within its interval. On real
// data nothing was sent: treated and control should not differ beyond
// chance, which makes the measurement an A/A test.
//
// With -png DIR it writes charts: RFM segment sizes and revenue share, the
// cohort retention heatmap, the CLV distribution by P(alive) and each
// campaign's revenue per customer, treated against control.
//
// Each list and chart is replaced atomically (written to a temporary file
// beside it, then renamed): a reader never sees half a file. The set is
// not: a run that fails part of the way leaves the files it had not yet
// written as an earlier run left them. A chart this run does not draw
// (clv.png on a shop without prices, campaigns.png without a control
// group) is removed, so that -png DIR never mixes one run's charts with
// an earlier run's.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/atomicfile"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/shop"
)

func main() {
	err := run(context.Background(), os.Stdout, os.Stderr, os.Args[1:])
	cli.Exit("campaigns", err) // status 2 for a usage error, 1 for others
}

// maxDays bounds -days: a century, far beyond any measurement period, and
// far within what time.AddDate can count back without wrapping.
const maxDays = 36500

type config struct {
	data, format string
	days         int
	capN         int
	control      float64
	uplift       float64
	restocked    int
	out, png     string
}

func run(ctx context.Context, w, errw io.Writer, args []string) error {
	fs := flag.NewFlagSet("campaigns", flag.ContinueOnError)
	fs.SetOutput(errw) // usage and flag errors: not the output
	var cfg config
	fs.StringVar(&cfg.data, "data", "", "purchase file (default: the built-in demo storefront)")
	fs.StringVar(&cfg.format, "format", "onlineretail", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	fs.IntVar(&cfg.days, "days", 14, "measurement period after the plan, in days; the plan is made this long before the last order or event")
	fs.IntVar(&cfg.capN, "cap", 1, "most messages per customer per 7 days (0 means 1, negative: no cap)")
	fs.Float64Var(&cfg.control, "control", campaign.DefaultControl, "share of each campaign's audience held out as control, in [0, 1)")
	fs.Float64Var(&cfg.uplift, "uplift", 0.05, "demo only: planted increase in the treated customers' probability to buy")
	fs.IntVar(&cfg.restocked, "restocked", 20, "back in stock: the N products most often added to a cart in the 30 days before the plan (bought since or not) count as restocked")
	fs.StringVar(&cfg.out, "out", "", "directory for the lists (plan.csv, plan.json, results.json); empty: none")
	fs.StringVar(&cfg.png, "png", "", "directory for the charts; empty: none")
	if err := cli.Parse(fs, args, dataset.Formats(), "data"); err != nil {
		return err
	}
	if cfg.days < 1 || cfg.days > maxDays || !(cfg.control >= 0 && cfg.control < 1) || !(cfg.uplift >= 0 && cfg.uplift <= 0.5) || cfg.restocked < 0 { // NaN fails too
		return cli.Usagef("-days must be in [1, %d], -control in [0, 1), -uplift in [0, 0.5], -restocked ≥ 0", maxDays)
	}

	// The History first, to put the plan -days before its last order or
	// event.
	src := shop.FileOrDemo(cfg.data, cfg.format)
	h, rep, err := shop.LoadHistory(ctx, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n%s\n", rep, h.Summary())
	if h.NumOrders() == 0 {
		return errors.New("the shop has no orders")
	}
	asOf := h.Latest().AddDate(0, 0, -cfg.days)
	if first := h.Summary().First; !first.Before(asOf) {
		return fmt.Errorf("the orders run from %s to %s: a plan %d days before the last order or event (%s) comes before them all; lower -days",
			first.Format(time.DateOnly), h.Summary().Last.Format(time.DateOnly), cfg.days, h.Latest().Format(time.DateOnly))
	}
	s, err := shop.OpenHistory(ctx, h, shop.Options{AsOf: asOf})
	if err != nil {
		return err
	}
	snap := s.Snapshot()
	name := cmp.Or(cfg.data, "demo storefront")
	fmt.Fprintf(w, "%s: week's plan as of %s, measured over the %d days after\n\n", name, asOf.Format(time.DateTime), cfg.days)

	cs := campaign.Builtins(false)
	cs = append(cs, campaign.BackInStockAlert(mostCarted(h, asOf, cfg.restocked)...))
	for i := range cs {
		cs[i].Control = cfg.control
		if cfg.control == 0 {
			cs[i].Control = -1
		}
	}
	plan, err := campaign.Build(ctx, snap, asOf, cs, campaign.Options{Cap: cfg.capN})
	if err != nil {
		return err
	}
	if err := printPlan(w, plan); err != nil {
		return err
	}

	// What followed: the shop's own later orders, and on the demo the
	// planted responders.
	after := h
	var truth map[string]dataset.ResponseTruth
	if cfg.data == "" {
		after, truth, err = plant(ctx, h, plan, cfg)
		if err != nil {
			return err
		}
	}
	res, err := campaign.Measure(ctx, after, plan.Messages, asOf, asOf.AddDate(0, 0, cfg.days), campaign.MeasureOptions{})
	if err != nil {
		return err
	}
	if err := printResults(w, res, truth); err != nil {
		return err
	}
	if truth == nil {
		fmt.Fprintln(w, "Nothing was sent on this data (an A/A test): about 1 interval in 20 excludes 0 by chance,\n"+
			"and a few very large orders in a small group shift revenue per customer far more than conversion.")
	}
	if err := retention(ctx, w, h, asOf); err != nil {
		return err
	}
	if cfg.out != "" {
		if err := writeLists(cfg.out, plan, res); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nlists written to %s: plan.csv (send rows have control=false), plan.json, results.json\n", cfg.out)
	}
	if cfg.png != "" {
		files, err := charts(ctx, cfg.png, snap, res)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "charts written to %s: %s\n", cfg.png, strings.Join(files, ", "))
	}
	return nil
}

// mostCarted returns the n products most often added to a cart in the 30
// days before asOf (ties by id): the stand-in for a restock list.
func mostCarted(h *affinity.History, asOf time.Time, n int) []string {
	from, to := asOf.AddDate(0, 0, -30).Unix(), asOf.Unix()
	count := map[affinity.ProductID]int{}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if e := h.Event(i); e.Kind == affinity.Cart && e.Unix > from && e.Unix <= to {
				count[e.Product]++
			}
		}
	}
	ps := make([]affinity.ProductID, 0, len(count))
	for p := range count {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b)) })
	keys := make([]string, 0, n)
	for _, p := range ps[:min(n, len(ps))] {
		keys = append(keys, h.Catalog().ProductKey(p))
	}
	if len(keys) == 0 {
		keys = append(keys, "none") // no cart data: the campaign finds nobody
	}
	return keys
}

func printPlan(w io.Writer, plan *campaign.Plan) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "campaign\taudience\topted out\tcapped\tof which by this plan\tno content\tcontrol\tsent\t")
	var tot campaign.Count
	for _, c := range plan.Counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.Campaign, c.Audience, c.OptedOut, c.Capped, c.CappedByPlan, c.NoContent, c.Control, c.Treated)
		tot.Audience += c.Audience
		tot.CappedByPlan += c.CappedByPlan
		tot.Control += c.Control
		tot.Treated += c.Treated
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d messages to send, %d customers held out; the cap removed %d overlapping messages\n",
		tot.Treated, tot.Control, tot.CappedByPlan)
	for _, c := range plan.Counts {
		if c.Skipped != "" {
			fmt.Fprintf(w, "skipped %s: %s\n", c.Campaign, c.Skipped)
		}
	}
	for _, m := range plan.Messages {
		if m.Control || len(m.Items) == 0 {
			continue
		}
		fmt.Fprintf(w, "first message: %s to %s:", m.Campaign, m.Customer)
		for _, it := range m.Items[:min(2, len(m.Items))] {
			fmt.Fprintf(w, " %s (%s);", cmp.Or(it.Name, it.Product), it.Reason) // a catalog without names (CDNOW)
		}
		fmt.Fprintln(w)
		break
	}
	return nil
}

// plant adds planted responders to the demo: per campaign, treated
// customers buy with an extra probability cfg.uplift in the period.
func plant(ctx context.Context, h *affinity.History, plan *campaign.Plan, cfg config) (*affinity.History, map[string]dataset.ResponseTruth, error) {
	treated, control := map[string][]string{}, map[string][]string{}
	var names []string
	for _, m := range plan.Messages {
		if _, ok := treated[m.Campaign]; !ok {
			names = append(names, m.Campaign)
			treated[m.Campaign] = nil
		}
		if m.Control {
			control[m.Campaign] = append(control[m.Campaign], m.Customer)
		} else {
			treated[m.Campaign] = append(treated[m.Campaign], m.Customer)
		}
	}
	b := affinity.NewBuilder(h)
	truth := map[string]dataset.ResponseTruth{}
	for i, n := range names {
		ps, tr := dataset.Demo().Respond(treated[n], control[n], dataset.ResponseOptions{
			Start: plan.AsOf, Days: cfg.days, Uplift: cfg.uplift, Seed: uint64(i + 1)})
		for j := range ps {
			ps[j].Order = n + "-" + ps[j].Order
			if err := b.Add(ps[j]); err != nil {
				return nil, nil, err
			}
		}
		truth[n] = tr
	}
	after, err := b.Build(ctx)
	return after, truth, err
}

func printResults(w io.Writer, res []campaign.Result, truth map[string]dataset.ResponseTruth) error {
	fmt.Fprintf(w, "\nMeasurement (treated vs control, 95%% intervals)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "campaign\ttreated\tcontrol\tconversion t/c\trevenue/customer t/c\tAOV t/c\tincremental revenue\t95% interval\t"
	if truth != nil {
		head += "planted\t"
	}
	head += "note\t"
	fmt.Fprintln(tw, head)
	for _, r := range res {
		// averages rounded once, from the exact totals
		perCustomer := func(g campaign.Group) string { return g.Revenue.FormatQuo(int64(g.Customers), 2) }
		aov := func(g campaign.Group) string { return g.Revenue.FormatQuo(int64(g.Orders), 2) }
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%% / %.1f%%\t%s / %s\t%s / %s\t",
			r.Campaign, r.Treated.Customers, r.Control.Customers, 100*r.Treated.Conversion, 100*r.Control.Conversion,
			perCustomer(r.Treated), perCustomer(r.Control), aov(r.Treated), aov(r.Control))
		if r.Treated.Customers < 2 || r.Control.Customers < 2 {
			fmt.Fprint(tw, "-\t-\t") // not measured: a group of one has no variance
		} else {
			fmt.Fprintf(tw, "%.0f\t%.0f .. %.0f\t", r.Incremental, r.IncrementalCI[0], r.IncrementalCI[1])
		}
		if truth != nil {
			fmt.Fprintf(tw, "%.0f\t", truth[r.Campaign].Incremental)
		}
		note := ""
		if r.Control.Customers < 30 {
			note = "control too small to trust the interval"
		}
		fmt.Fprintf(tw, "%s\t\n", note)
	}
	return tw.Flush()
}

// retention prints the standard figures: the retention rate of the last
// 6 months (a customer at a time is one who bought in the 6 months
// before it, so that a year of data is enough) and the cohorts'
// second-month retention.
func retention(ctx context.Context, w io.Writer, h *affinity.History, asOf time.Time) error {
	p, err := clv.Retention(ctx, h, affinity.Months(6).Start(asOf), asOf, clv.RetentionOptions{ActiveMonths: 6})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRetention over the 6 months to %s: %.1f%% (customers active in the 6 months before: at start %d, at end %d, of them new %d)\n",
		asOf.Format(time.DateOnly), 100*p.Rate(), p.AtStart.GetCardinality(), p.AtEnd.GetCardinality(), p.New.GetCardinality())
	co, err := clv.CohortRetention(ctx, h, asOf)
	if err != nil {
		return err
	}
	printCohorts(w, co)
	return nil
}

// printCohorts prints the month-1 retention of the last six cohorts whose
// month 1 is over, or of those there are.
func printCohorts(w io.Writer, co *clv.Cohorts) {
	// the last cohort's month 1 has not begun, the one before's has not
	// ended (it is asOf's month): the last six before them
	n := len(co.Months)
	from, to := max(0, n-8), max(0, n-2)
	switch shown := to - from; shown {
	case 0:
		fmt.Fprintln(w, "Cohorts: no cohort has a complete month 1 yet")
		return
	case 1:
		fmt.Fprintf(w, "Cohorts: month-1 retention of the last complete cohort:")
	default:
		fmt.Fprintf(w, "Cohorts: month-1 retention of the last %d complete cohorts:", shown)
	}
	for i := from; i < to; i++ {
		if co.Size[i] == 0 {
			fmt.Fprintf(w, " %s –", co.Months[i].Format("2006-01")) // nobody acquired that month
			continue
		}
		fmt.Fprintf(w, " %s %.1f%%", co.Months[i].Format("2006-01"), 100*co.Rate(i, 1))
	}
	fmt.Fprintln(w)
}

// writeLists writes plan.csv, plan.json and results.json into dir, each
// replaced atomically (see the package doc).
func writeLists(dir string, plan *campaign.Plan, res []campaign.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, f func(io.Writer) error) error {
		return atomicfile.Write(filepath.Join(dir, name), f)
	}
	if err := write("plan.csv", func(w io.Writer) error { return campaign.WriteCSV(w, plan.Messages) }); err != nil {
		return err
	}
	if err := write("plan.json", func(w io.Writer) error { return campaign.WriteJSON(w, plan.Messages) }); err != nil {
		return err
	}
	return write("results.json", func(w io.Writer) error { return writeJSON(w, res) })
}
