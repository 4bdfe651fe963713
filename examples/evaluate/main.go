// Command evaluate measures the library's recommenders against the
// baselines on a purchase or rating file, and prints markdown tables: one
// for all relevant items and one for the items new to each customer
// (explore), one row per recommender.
//
//	go run ./examples/evaluate -data ../shared/data/online-retail/online_retail_2010-2011.csv.gz -format onlineretail
//	go run ./examples/evaluate -train u1.base -test u1.test      # a ready split, MovieLens u.data layout
//	go run ./examples/evaluate -data u.data -format movielens -split stratified -by product -seed 42
//	go run ./examples/evaluate -synthetic movielens    # MovieLens-100k-shaped synthetic store
//	go run ./examples/evaluate                         # the demo store
//
// Above the tables it prints what they measure (evaluate.Report.Summary:
// the split, the cut-off, the customers evaluated and skipped, whether
// each customer's training items may be recommended again, and what
// map@K divides by). Below each table it prints the best row by -compare
// (NDCG@K by default) and the runner-up, the best row that scores the
// customers differently (rows that score every customer alike, such as
// two engines that chose the same model, are named on a line of their
// own), then the engine's default row against the best baseline (every
// row that is not an engine): each mean with its standard error and
// 95 % confidence interval over the customers, and each pair's paired
// difference (evaluate.Report.Compare) with its own: a difference whose
// interval holds 0 is within noise.
//
// Defaults per format: dated data (onlineretail, cdnow, members, movielens,
// csv) is split in time at evaluate.DefaultCutoff (about the last fifth of
// the orders are test data); baskets files, which have no customer or time,
// use the leave-one-item-out protocol. Rating data (movielens, and a ready
// split) is evaluated with each customer's training items removed from
// their recommendations, as in the published MovieLens benchmarks; purchase
// data keeps them, since shops want repeat purchases (the explore table is
// the cross-sell view).
//
// Flags:
//
//	-data FILE -format NAME   input file and its dataset format
//	-synthetic NAME           demo (the default without -data) or movielens: a synthetic
//	                          store of MovieLens-100k shape (943 customers, 1,682 products,
//	                          about 75,000 lines), split at random per customer
//	                          (-split stratified) with training items excluded, as
//	                          rating benchmarks are; movielens-ratings: the same
//	                          store as rating data (one rating per customer and
//	                          product, no orders), as a MovieLens file loads
//	-train FILE -test FILE    a ready split instead (format default movielens)
//	-split NAME               temporal, last-order, ratio (per-customer chronological),
//	                          stratified (random, -by customer|product) or leave-one-out
//	-cutoff DATE              temporal cutoff, YYYY-MM-DD (default evaluate.DefaultCutoff)
//	-ratio R -seed N          training share of the ratio splits, and their seed
//	-k K                      cutoff of the metrics (default 10)
//	-recommenders LIST        comma-separated names (default all, see -list)
//	-exclude-seen             remove training items from recommendations
//	-min-rating R             only ratings ≥ R are relevant (default: any)
//	-map relevant|min         what map@K divides each customer's summed precision at the
//	                          hits by: their number of relevant test items (default), or
//	                          that number or K, whichever is smaller
//	-metrics LIST             table columns (default precision,recall,ndcg,map,hit,coverage)
//	-compare METRIC           metric of the comparisons below each table (default ndcg;
//	                          precision, recall, ndcg, map, hit or mrr)
//	-png FILE                 also draw metric@K for K = 1…20 (-chart-metric, explore items)
//	-ease-lambda, -ease-max-products, -neighbors   model knobs (ease's fit is O(n³) in products)
//	-tifu-alpha, -tifu-groups, -tifu-neighbors, -tifu-within-decay, -tifu-group-decay
//	                          tifu-knn's settings (defaults: the reference implementation's)
//	-half-life DAYS, -sequential   the engine rows' history half-life, and a sequential index
//	                          ("bought within 30 days after") beside the co-purchase one
//	-trend X, -demand X       engine-next-basket's exponents of the products' trend and
//	                          current demand (recommend.NextBasket; negative: none)
//
// The PNG chart is drawn with gonum.org/v1/plot (evaluate.Report.WriteChart).
// Standard output begins, as every example's, with the load report and
// the History's summary (for a ready split, both files' reports and the
// training History's; for -synthetic movielens-ratings, the purchase
// store's load report and the summary of the rating data made from it,
// each labelled), then the protocol summary and the tables. Timings and
// the validation logs of the engine rows go to standard error, so that
// standard output is deterministic.
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
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/atomicfile"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	cli.Exit("evaluate", err) // status 2 for a usage error, 1 for others
}

// config holds the parsed flags.
type config struct {
	data, format, train, test string
	synthetic                 string
	split, cutoff, by         string
	cutoffAt                  time.Time        // -cutoff parsed; zero: evaluate.DefaultCutoff
	stratum                   evaluate.Stratum // -by parsed
	ratio                     float64
	seed                      uint64
	randomSplit               bool // set by splitHistory
	k                         int
	recommenders              string
	excludeSeen               bool
	excludeSet                bool
	set                       map[string]bool // the flags given
	minRating                 float64
	mapNorm                   string
	metrics                   string
	compare                   string
	png, chartMetric          string
	lenient, categories       bool
	lambda                    float64
	easeMax                   int
	neighbors                 int
	list                      bool
	halfLife                  float64
	halfLifeD                 time.Duration // -half-life checked and converted
	trend, demand             float64
	sequential                bool
	tifu                      evaluate.TIFUKNN
}

func parse(args []string, stderr io.Writer) (*config, error) {
	var c config
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.data, "data", "", "input `file` (gzip detected)")
	fs.StringVar(&c.format, "format", "", "dataset format: "+strings.Join(dataset.Formats(), ", "))
	fs.StringVar(&c.synthetic, "synthetic", "", "synthetic store instead of -data: demo, movielens or movielens-ratings")
	fs.StringVar(&c.train, "train", "", "training `file` of a ready split (MovieLens u.data layout unless -format)")
	fs.StringVar(&c.test, "test", "", "test `file` of a ready split")
	fs.StringVar(&c.split, "split", "", "temporal, last-order, ratio, stratified or leave-one-out (default: temporal; leave-one-out for baskets)")
	fs.StringVar(&c.cutoff, "cutoff", "", "temporal cutoff `date` YYYY-MM-DD (default: 00:00 UTC of the day of the order at the 80 % quantile of the customers' orders by time, so that about the last fifth are test data)")
	fs.StringVar(&c.by, "by", "customer", "stratum of the stratified split: customer or product")
	fs.Float64Var(&c.ratio, "ratio", 0.75, "training share of the ratio, stratified and leave-one-out splits")
	fs.Uint64Var(&c.seed, "seed", 42, "seed of the random splits and of the random baseline")
	fs.IntVar(&c.k, "k", 10, "cutoff K of the metrics")
	fs.StringVar(&c.recommenders, "recommenders", "", "comma-separated recommenders (default all; -list shows them)")
	fs.BoolVar(&c.excludeSeen, "exclude-seen", false, "remove each customer's training items from their recommendations (default: on for rating data)")
	fs.Float64Var(&c.minRating, "min-rating", 0, "only test ratings ≥ this are relevant (0: any rating)")
	fs.StringVar(&c.mapNorm, "map", "relevant", "what map@K divides each customer's summed precision at the hits (the ranks holding a relevant item) by: relevant (their number of relevant test items, as microsoft/recommenders' tables) or min (that number or K, whichever is smaller)")
	fs.StringVar(&c.metrics, "metrics", "precision,recall,ndcg,map,hit,coverage", "table columns: precision, recall, ndcg, map, hit, mrr, coverage, novelty")
	fs.StringVar(&c.compare, "compare", "ndcg", "metric of the comparisons below each table (the best row against the runner-up, the engine against the best baseline): precision, recall, ndcg, map, hit or mrr")
	fs.StringVar(&c.png, "png", "", "write a PNG chart of metric@K, K = 1…20, to `file`")
	fs.StringVar(&c.chartMetric, "chart-metric", "ndcg", "metric of the PNG chart (explore items)")
	fs.BoolVar(&c.lenient, "lenient", true, "skip bad input rows instead of failing")
	fs.BoolVar(&c.categories, "categories", true, "derive categories from product names (onlineretail, baskets, members)")
	fs.Float64Var(&c.lambda, "ease-lambda", 0, fmt.Sprintf("L2 regularisation of ease (default: %v)", similarity.DefaultEASELambda))
	fs.IntVar(&c.easeMax, "ease-max-products", 0, fmt.Sprintf("fit ease on at most this many products, the most purchased (default: %d); the fit takes O(n³) time", similarity.DefaultEASEMaxProducts))
	fs.IntVar(&c.neighbors, "neighbors", 0, "neighbours per product of the knn and ease recommenders (default: 200 for knn, 500 for ease)")
	fs.BoolVar(&c.list, "list", false, "list the recommenders and exit")
	fs.Float64Var(&c.tifu.Alpha, "tifu-alpha", 0, fmt.Sprintf("tifu-knn: weight of the customer's own vector (default: %v)", evaluate.DefaultTIFUAlpha))
	fs.IntVar(&c.tifu.Groups, "tifu-groups", 0, fmt.Sprintf("tifu-knn: basket groups (default: %d)", evaluate.DefaultTIFUGroups))
	fs.IntVar(&c.tifu.Neighbors, "tifu-neighbors", 0, fmt.Sprintf("tifu-knn: nearest customers (default: %d)", evaluate.DefaultTIFUNeighbors))
	fs.Float64Var(&c.tifu.WithinDecay, "tifu-within-decay", 0, fmt.Sprintf("tifu-knn: decay within a group (default: %v)", evaluate.DefaultTIFUWithinDecay))
	fs.Float64Var(&c.tifu.GroupDecay, "tifu-group-decay", 0, fmt.Sprintf("tifu-knn: decay across groups (default: %v)", evaluate.DefaultTIFUGroupDecay))
	fs.Float64Var(&c.halfLife, "half-life", 0, fmt.Sprintf("half-life in `days` of the customer's history in the engine rows (default: %v days; on rating data, no decay)", recommend.DefaultHalfLife.Hours()/24))
	fs.BoolVar(&c.sequential, "sequential", false, "give the engine rows a sequential index beside the co-purchase one")
	fs.Float64Var(&c.trend, "trend", 0, fmt.Sprintf("engine-next-basket: exponent of the products' trend, negative for none (default: %v)", recommend.DefaultTrend))
	fs.Float64Var(&c.demand, "demand", 0, fmt.Sprintf("engine-next-basket: exponent of the products' current demand, negative for none (default: %v)", recommend.DefaultDemand))
	// a bad flag, a stray argument, -format without a file to read
	if err := cli.Parse(fs, args, dataset.Formats(), "data", "train", "test"); err != nil {
		return nil, err
	}
	c.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	c.excludeSet = c.set["exclude-seen"]
	var err error
	if c.halfLifeD, err = cli.Duration("half-life", c.halfLife, 24*time.Hour, "day"); err != nil {
		return nil, err
	}
	return &c, nil
}

// measures are the neighbour measures evaluated by default.
var measures = []similarity.Measure{similarity.Jaccard, similarity.Cosine, similarity.Lift, similarity.Confidence, similarity.NPMI, similarity.BM25}

// nextBasketMix is the repeat weight of the engine-next-basket row.
const nextBasketMix = 0.9

// recommenders returns every recommender in report order: baselines
// first. engine-tuned chooses its model and options with recommend.Tune
// on the last four weeks of the training data, scored on all items (on
// explore items when training items are excluded).
func recommenders(c *config) []evaluate.Recommender {
	recs := evaluate.Baselines(c.seed)
	hl := c.halfLifeD
	recs = append(recs, &evaluate.Engine{Options: recommend.Options{HalfLife: hl}, Sequential: c.sequential},
		&evaluate.Engine{Label: "engine-next-basket", Sequential: c.sequential,
			Options: recommend.Options{HalfLife: hl, NextBasket: recommend.NextBasket{RepeatWeight: nextBasketMix, Trend: c.trend, Demand: c.demand}}},
		&evaluate.Engine{Label: "engine-tuned", Tune: &recommend.Grid{}})
	for _, m := range measures {
		nb := &evaluate.ItemNeighbors{Measure: m, K: c.neighbors}
		if m == similarity.Lift || m == similarity.NPMI {
			nb.MinSupport = 2 // raw lift and NPMI of single co-occurrences are noise
		}
		recs = append(recs, nb)
	}
	tifu := c.tifu // the settings the flags gave
	return append(recs, &evaluate.EASE{Lambda: c.lambda, K: c.neighbors, MaxProducts: c.easeMax}, &tifu)
}

func selectRecommenders(c *config) ([]evaluate.Recommender, error) {
	all := recommenders(c)
	if c.recommenders == "" || c.recommenders == "all" {
		return all, nil
	}
	var out []evaluate.Recommender
	for name := range strings.SplitSeq(c.recommenders, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(r evaluate.Recommender) bool { return r.Name() == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown recommender %q (-list shows them)", name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if c.list {
		for _, r := range recommenders(c) {
			fmt.Fprintln(stdout, r.Name())
		}
		return nil
	}
	recs, err := selectRecommenders(c)
	if err != nil {
		return cli.Usage(err)
	}
	// every flag checked before the data is read
	if c.k < 1 || c.k > evaluate.MaxK {
		return cli.Usagef("-k %d: want 1 to %d", c.k, evaluate.MaxK)
	}
	switch c.split {
	case "", "temporal", "last-order", "ratio", "stratified", "leave-one-out":
	default:
		return cli.Usagef("-split %q: want temporal, last-order, ratio, stratified or leave-one-out", c.split)
	}
	if err := checkSplitFlags(c, splitOf(c)); err != nil {
		return cli.Usage(err)
	}
	if c.cutoff != "" {
		if c.cutoffAt, err = time.Parse(time.DateOnly, c.cutoff); err != nil {
			return cli.Usagef("-cutoff: %w", err)
		}
	}
	switch c.by {
	case "customer":
	case "product", "item":
		c.stratum = evaluate.ByProduct
	default:
		return cli.Usagef("-by %q: want customer or product", c.by)
	}
	if !(c.ratio > 0 && c.ratio < 1) {
		return cli.Usagef("-ratio %v: want a share between 0 and 1", c.ratio)
	}
	for name := range c.set {
		if strings.HasPrefix(name, "tifu-") && !slices.ContainsFunc(recs, func(r evaluate.Recommender) bool { return r.Name() == "tifu-knn" }) {
			return cli.Usagef("-%s: tifu-knn is not among the recommenders", name)
		}
	}
	var mapNorm evaluate.MAPNorm
	switch c.mapNorm {
	case "relevant":
	case "min":
		mapNorm = evaluate.MAPByMinKRelevant
	default:
		return cli.Usagef("-map %q: want relevant or min", c.mapNorm)
	}
	var cols []evaluate.Metric
	for name := range strings.SplitSeq(c.metrics, ",") {
		m, err := evaluate.ParseMetric(strings.TrimSpace(name))
		if err != nil {
			return cli.Usagef("-metrics: %w", err)
		}
		cols = append(cols, m)
	}
	compare, err := evaluate.ParseMetric(c.compare)
	if err == nil && (compare == evaluate.Coverage || compare == evaluate.Novelty) {
		err = fmt.Errorf("%v is not a mean over customers: no interval to compare", compare)
	}
	if err != nil {
		return cli.Usagef("-compare: %w", err)
	}
	chartMetric, err := evaluate.ParseMetric(c.chartMetric)
	if err != nil {
		return cli.Usagef("-chart-metric: %w", err)
	}
	if c.png != "" {
		// the chart is written last: a folder that is not there is found
		// before the evaluation, not after it
		if fi, err := os.Stat(filepath.Dir(c.png)); err != nil {
			return fmt.Errorf("-png: %w", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("-png %s: %s is not a directory", c.png, filepath.Dir(c.png))
		}
	}
	split, rating, err := load(ctx, c, stdout)
	if err != nil {
		return err
	}
	opts := evaluate.Options{K: c.k, ExcludeSeen: rating, MinRating: float32(c.minRating), MAP: mapNorm}
	if c.excludeSet {
		opts.ExcludeSeen = c.excludeSeen
	}
	if c.png != "" {
		opts.CurveK = 20
	}
	for _, r := range recs {
		e, ok := r.(*evaluate.Engine)
		switch {
		case !ok:
		case e.Tune != nil:
			e.Tune.Explore = opts.ExcludeSeen
			if c.randomSplit {
				e.Tune.Holdout, e.Tune.Seed = recommend.HoldoutRandom, c.seed
			}
		case c.randomSplit:
			e.Holdout, e.Seed = recommend.HoldoutRandom, c.seed // the default model choice
		}
	}
	opts.Progress = progressLine(stderr)
	t0 := time.Now()
	rep, err := evaluate.Evaluate(ctx, split, recs, opts)
	if err != nil {
		return err
	}
	// what the tables measure, on standard output above them: a copy of
	// the tables (> file) keeps it
	fmt.Fprintf(stdout, "%s\n\n", rep.Summary())
	for _, row := range rep.Rows {
		fmt.Fprintf(stderr, "%-16s fit %8.3fs  recommend %8.3fs\n", row.Name, row.FitTime.Seconds(), row.RecommendTime.Seconds())
	}
	fmt.Fprintf(stderr, "evaluated in %.2fs\n", time.Since(t0).Seconds())
	for _, r := range recs {
		if e, ok := r.(*evaluate.Engine); ok && e.Tuning != nil {
			fmt.Fprintf(stderr, "%s: validation: %s, %d customers\n", e.Name(), e.Tuning.Validation(), e.Tuning.Customers)
			for _, t := range e.Tuning.Trials {
				fmt.Fprintln(stderr, "  ", t)
			}
			fmt.Fprintln(stderr, "   best:", e.Tuning.Best)
		}
	}

	engines := map[string]bool{} // the engine rows; the others are baselines
	for _, r := range recs {
		if _, ok := r.(*evaluate.Engine); ok {
			engines[r.Name()] = true
		}
	}
	fmt.Fprintf(stdout, "all items (%d customers)\n\n", rep.Rows[0].Metrics[evaluate.AllItems].Users)
	if err := rep.WriteMarkdown(stdout, evaluate.AllItems, cols...); err != nil {
		return err
	}
	if err := writeComparisons(stdout, rep, evaluate.AllItems, compare, engines); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nexplore: items new to the customer (%d customers)\n\n", rep.Rows[0].Metrics[evaluate.ExploreItems].Users)
	if err := rep.WriteMarkdown(stdout, evaluate.ExploreItems, cols...); err != nil {
		return err
	}
	if err := writeComparisons(stdout, rep, evaluate.ExploreItems, compare, engines); err != nil {
		return err
	}
	if c.png != "" {
		// replaced atomically: an earlier chart stays whole until this one is
		return atomicfile.Write(c.png, func(w io.Writer) error {
			return rep.WriteChart(w, chartMetric, evaluate.ExploreItems)
		})
	}
	return nil
}

// writeComparisons writes, after a blank line, the best row by metric
// and the runner-up, the best row whose per-customer values differ from
// it (rows that score every customer as the best does, such as two
// engines that chose the same model, are named on a line of their own:
// their difference would be 0 ± 0), with their means, standard errors
// and 95 % intervals and their paired difference; only the best when no
// other row differs; nothing when no row has customers. Then, when the
// report has the engine's default row (named "engine") and a baseline
// (any row whose name is not in engines), the engine against the best
// baseline, the comparison a reader of the tables looks for. Equal means
// keep report order.
func writeComparisons(w io.Writer, rep *evaluate.Report, items evaluate.Items, metric evaluate.Metric, engines map[string]bool) error {
	var rows []*evaluate.Row
	for i := range rep.Rows {
		if rep.Rows[i].Metrics[items].Users > 0 {
			rows = append(rows, &rep.Rows[i])
		}
	}
	if len(rows) == 0 {
		return nil
	}
	slices.SortStableFunc(rows, func(a, b *evaluate.Row) int {
		return cmp.Compare(b.Metrics[items].Value(metric), a.Metrics[items].Value(metric))
	})
	best := rows[0]
	var same []string
	var runnerUp *evaluate.Row
	var diff evaluate.Difference
	for _, r := range rows[1:] {
		d, err := rep.Compare(best.Name, r.Name, items, metric)
		if err != nil {
			return err
		}
		if d.Mean == 0 && d.StdErr == 0 { // every customer's value the same
			same = append(same, r.Name)
			continue
		}
		runnerUp, diff = r, d
		break
	}
	fmt.Fprintf(w, "\n%s@%d, mean ± standard error [95 %% interval] over the customers:\n", metric, rep.K)
	pair := []*evaluate.Row{best}
	if runnerUp != nil {
		pair = append(pair, runnerUp)
	}
	writeRows(w, items, metric, []string{"best", "runner-up"}, pair)
	if runnerUp != nil {
		writeDifference(w, diff)
	}
	if len(same) > 0 {
		fmt.Fprintf(w, "  (%s: the same %s@%d as %s for every customer)\n", strings.Join(same, ", "), metric, rep.K, best.Name)
	}

	engine := rep.Row("engine")
	if !engines["engine"] || engine == nil || engine.Metrics[items].Users == 0 {
		return nil
	}
	i := slices.IndexFunc(rows, func(r *evaluate.Row) bool { return !engines[r.Name] })
	if i < 0 {
		return nil
	}
	d, err := rep.Compare(engine.Name, rows[i].Name, items, metric)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nthe engine's defaults against the best baseline, %s@%d:\n", metric, rep.K)
	writeRows(w, items, metric, []string{"engine", "baseline"}, []*evaluate.Row{engine, rows[i]})
	writeDifference(w, d)
	if items == evaluate.AllItems {
		// the reader of "all items" must know the engine row offers
		// nothing already bought, which the baselines may
		fmt.Fprint(w, "  (the engine's default mode offers nothing a customer bought before; engine-next-basket adds\n",
			"  their repeats, as shop.Open does itself for a shop whose next orders are mostly repeats)\n")
	}
	return nil
}

// writeRows writes one line per row: its label, name, mean, standard
// error and 95 % interval on metric.
func writeRows(w io.Writer, items evaluate.Items, metric evaluate.Metric, labels []string, rows []*evaluate.Row) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	for i, r := range rows {
		m := r.Metrics[items]
		lo, hi, ok := m.Interval(metric)
		fmt.Fprintf(w, "  %-10s %-*s %.4f ± %.4f %s\n", labels[i], width, r.Name, m.Value(metric), m.StdErr.Value(metric), interval(lo, hi, ok, ""))
	}
}

// writeDifference writes the paired difference d with its 95 % interval
// and whether it is beyond noise.
func writeDifference(w io.Writer, d evaluate.Difference) {
	lo, hi, ok := d.Interval()
	verdict := "within noise"
	switch {
	case !ok:
		verdict = "not measurable"
	case lo > 0 || hi < 0:
		verdict = "beyond noise"
	}
	fmt.Fprintf(w, "  %-10s %+.4f ± %.4f %s, paired over %d customers: %s\n", "difference", d.Mean, d.StdErr, interval(lo, hi, ok, "+"), d.Users, verdict)
}

// interval formats a 95 % interval, sign "+" for a signed one.
func interval(lo, hi float64, ok bool, sign string) string {
	if !ok {
		return "(no interval: one customer)"
	}
	return fmt.Sprintf("[%"+sign+".4f, %"+sign+".4f]", lo, hi)
}

// splitFlags are the flags of some splits only, and those splits.
var splitFlags = []struct {
	flag   string
	splits []string
}{
	{"cutoff", []string{"temporal"}},
	{"by", []string{"stratified"}},
	{"ratio", []string{"ratio", "stratified", "leave-one-out"}},
}

// splitOf returns the split the flags ask for: -split, or by default
// temporal, leave-one-out for baskets and stratified for the synthetic
// MovieLens-shaped store; "ready" for -train and -test.
func splitOf(c *config) string {
	switch {
	case c.train != "" || c.test != "":
		return "ready"
	case c.split != "":
		return c.split
	case c.data == "" && (c.synthetic == "movielens" || c.synthetic == "movielens-ratings"):
		return "stratified"
	case c.format == "baskets":
		return "leave-one-out"
	}
	return "temporal"
}

// checkSplitFlags refuses a flag given for a split other than split
// ("ready": the -train and -test files, which take none).
func checkSplitFlags(c *config, split string) error {
	for _, f := range splitFlags {
		if !c.set[f.flag] || slices.Contains(f.splits, split) {
			continue
		}
		if split == "ready" {
			return fmt.Errorf("-%s: a ready split (-train, -test) takes no split flags", f.flag)
		}
		return fmt.Errorf("-%s applies to the %s split, not %s", f.flag, strings.Join(f.splits, ", "), split)
	}
	if split == "ready" && c.set["split"] {
		return errors.New("-split: a ready split (-train, -test) takes no split flags")
	}
	return nil
}

// load reads the data and splits it, writing the load report and the
// History's summary to w; rating reports whether it is rating data (the
// default for -exclude-seen).
func load(ctx context.Context, c *config, w io.Writer) (*evaluate.Split, bool, error) {
	if c.train != "" || c.test != "" {
		if c.train == "" || c.test == "" || c.data != "" {
			return nil, false, cli.Usagef("give -train and -test together, without -data")
		}
		opts := dataset.Options{Format: cmpOr(c.format, "movielens"), Lenient: c.lenient}
		s, trainRep, testRep, err := evaluate.LoadSplit(ctx, c.train, c.test, opts)
		if err != nil {
			return nil, false, err
		}
		// both files' reports, and the training History, first
		fmt.Fprintf(w, "training file:\n%s\ntest file:\n%s\n%s\n", trainRep, testRep, s.Train.Summary())
		return s, true, nil
	}
	var h *affinity.History
	var rep dataset.Report
	rating := c.format == "movielens"
	split := splitOf(c)
	switch {
	case c.data != "" && c.synthetic != "":
		return nil, false, cli.Usagef("give -data or -synthetic, not both")
	case c.data == "":
		var st *dataset.Storefront
		switch c.synthetic {
		case "", "demo":
			st = dataset.Demo()
		case "movielens", "movielens-ratings":
			st = dataset.Generate(dataset.SyntheticOptions{Customers: 943, Products: 1682, Categories: 19, MeanOrders: 44, MeanLines: 2.5, RepeatRate: 0.01, ViewsPerLine: -1, Seed: 5})
			rating = true
		default:
			return nil, false, cli.Usagef("-synthetic %q: want demo, movielens or movielens-ratings", c.synthetic)
		}
		var err error
		if h, rep, err = shop.LoadHistory(ctx, shop.Storefront(st)); err != nil {
			return nil, false, err
		}
		if c.synthetic == "movielens-ratings" {
			if h, err = asRatings(ctx, h); err != nil {
				return nil, false, err
			}
		}
	default:
		var err error
		if h, rep, err = readData(ctx, c); err != nil {
			return nil, false, err
		}
	}
	// what was read, and the History evaluated, first, as every example;
	// rating data converted from a purchase store says which is which, or
	// the store's returns and the ratings' none would read as a contradiction
	if c.synthetic == "movielens-ratings" {
		fmt.Fprintf(w, "generated (the purchase store):\n%s\nevaluated (the same store as rating data: one rating per customer and product, no orders):\n%s\n", rep, h.Summary())
	} else {
		fmt.Fprintf(w, "%s\n%s\n", rep, h.Summary())
	}
	return splitHistory(ctx, c, h, split, rating)
}

// asRatings returns h's purchases as rating data, as a MovieLens file
// holds them: one rating event (weight 1) per customer and product, at
// the customer's first purchase of it, and no orders.
func asRatings(ctx context.Context, h *affinity.History) (*affinity.History, error) {
	var b affinity.Builder
	for c := range affinity.CustomerID(h.NumCustomers()) {
		seen := map[affinity.ProductID]bool{}
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			llo, lhi := h.OrderLines(o)
			for i := llo; i < lhi; i++ {
				p := h.LineProduct(i)
				if h.LineQuantity(i) <= 0 || seen[p] {
					continue
				}
				seen[p] = true
				ev := affinity.Event{Customer: h.CustomerKey(c), Product: h.Catalog().ProductKey(p), Time: h.OrderTime(o), Kind: affinity.Rating, Weight: 1}
				if err := b.AddEvent(ev); err != nil {
					return nil, err
				}
			}
		}
	}
	return b.Build(ctx)
}

// readData reads -data in -format.
func readData(ctx context.Context, c *config) (*affinity.History, dataset.Report, error) {
	if c.format == "" {
		return nil, dataset.Report{}, cli.Usagef("-format is required with -data: one of %s", strings.Join(dataset.Formats(), ", "))
	}
	// The format's defaults (dataset.Defaults), with -lenient and
	// -categories able to turn theirs off.
	opts, err := dataset.Defaults(c.format)
	if err != nil {
		return nil, dataset.Report{}, err
	}
	opts.Lenient = c.lenient
	if !c.categories {
		opts.Categories = nil
	}
	// a file of which no row loads is an error naming why (shop.ErrNothingLoaded)
	return shop.LoadHistory(ctx, shop.FileWith(c.data, opts))
}

// splitHistory splits h by -split (default: temporal, leave-one-out for
// baskets); rating reports whether training items are excluded by
// default.
func splitHistory(ctx context.Context, c *config, h *affinity.History, split string, rating bool) (*evaluate.Split, bool, error) {
	var err error
	sopts := evaluate.SplitOptions{Ratio: c.ratio, Seed: c.seed}
	// engine-tuned validates as the split tests: on random splits, on a
	// random holdout of the training side
	c.randomSplit = split == "stratified" || split == "leave-one-out"
	var s *evaluate.Split
	switch split {
	case "temporal":
		cutoff := c.cutoffAt
		if cutoff.IsZero() {
			cutoff = evaluate.DefaultCutoff(h)
		}
		s, err = evaluate.TemporalSplit(ctx, h, cutoff)
	case "last-order":
		s, err = evaluate.LastOrderSplit(ctx, h)
	case "ratio":
		s, err = evaluate.ChronoSplit(ctx, h, sopts)
	case "stratified":
		sopts.By = c.stratum
		s, err = evaluate.StratifiedSplit(ctx, h, sopts)
	case "leave-one-out":
		s, err = evaluate.LeaveOneOutSplit(ctx, h, sopts)
		rating = true // the held-out item is never in the basket's rest
	default:
		return nil, false, fmt.Errorf("-split %q: want temporal, last-order, ratio, stratified or leave-one-out", split)
	}
	return s, rating, err
}

// progressLine returns a progress reporter that redraws one line on w
// when w is a terminal (as shop.TerminalProgress decides), and nil
// (silence) otherwise.
func progressLine(w io.Writer) affinity.ProgressFunc {
	if f, ok := w.(*os.File); !ok || shop.TerminalProgress(f) == nil {
		return nil
	}
	return statusLine(w)
}

// statusLine is progressLine on any writer: each report clears the line
// before it draws (a shorter report leaves nothing of a longer one), and
// the end of a step clears it, so that what is printed next starts on a
// clean line.
func statusLine(w io.Writer) affinity.ProgressFunc {
	return func(p affinity.Progress) {
		switch {
		case p.Total > 0 && p.Done >= p.Total:
			fmt.Fprint(w, "\r\033[K")
		case p.Total > 0:
			fmt.Fprintf(w, "\r\033[K%s: %d of %d %s (%.0f%%)", p.Step, p.Done, p.Total, p.Unit, 100*float64(p.Done)/float64(p.Total))
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
