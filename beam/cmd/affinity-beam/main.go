// Command affinity-beam runs affinity's heavy builds as Apache Beam
// pipelines, on the local prism runner or on any runner Beam's Go SDK
// submits to (Flink, Spark, Dataflow), chosen with Beam's own flags:
//
//	affinity-beam -job copurchase -input 'orders/*.csv.gz' -format onlineretail \
//	    -asof 2011-12-10 -scope basket -measure lift -k 50 -output neighbours.idx
//	affinity-beam -job features -input 'orders/*.csv' -asof 2011-12-10 -output features/
//	affinity-beam -job features -index -namecats -input 'orders/*.csv.gz' -format onlineretail \
//	    -asof 2011-12-10 -output features/
//
// When the runner returns the job's metrics (prism, and the others when
// the command waits for the job), the command then prints what the read
// step counted over all files: the rows read, the rows skipped by reason
// (-lenient skips bad rows; some formats skip rows by definition) and the
// duplicate rows.
//
// See beam/README.md for the runner flags.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs" // gs:// paths
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/similarity"
)

var (
	job       = flag.String("job", "copurchase", "pipeline: copurchase or features")
	input     = flag.String("input", "", "input file or glob (files are read in sorted order)")
	format    = flag.String("format", "csv", "input format: a dataset format name")
	lenient   = flag.Bool("lenient", false, "skip bad rows instead of failing")
	asOf      = flag.String("asof", "", "as-of time, RFC 3339, or YYYY-MM-DD for the start of that day, 00:00 UTC (2011-12-10 is as of the end of 2011-12-09) (required)")
	output    = flag.String("output", "", "index file (copurchase) or directory (features)")
	scope     = flag.String("scope", "basket", "copurchase: co-purchase scope: basket, customer or sequential")
	measure   = flag.String("measure", "jaccard", "copurchase: co-purchase measure")
	k         = flag.Int("k", similarity.DefaultK, "copurchase: neighbours per product")
	minSup    = flag.Int("minsupport", similarity.DefaultMinSupport, "copurchase: minimum co-count of a neighbour")
	shrink    = flag.Float64("shrinkage", 0, "copurchase: shrinkage λ")
	months    = flag.Int("months", 0, "look-back in calendar months before the as-of time (0: the job's default: everything up to the as-of time for copurchase, as similarity.Count; 24 months for features, as segment.Build)")
	maxBasket = flag.Int("maxbasket", 0, "copurchase: products per transaction before sampling (0: default, <0: no cap)")
	shards    = flag.Int("shards", 0, "copurchase: partial counts (0: default 16)")
	exclude   = flag.String("exclude", "", "comma-separated product keys of non-merchandise (postage, fees), spaces around each dropped: never counted as co-purchases, in no category of a features -index (features without -index refuses it)")
	nameCats  = flag.Bool("namecats", false, "derive a category from the product name where a row has none")
	index     = flag.Bool("index", false, "features: also write the saved segment index, segments.idx")
	mlBuys    = flag.Bool("ratings-as-purchases", false, "movielens: read ratings as purchases (the features job reads no events)")
)

func main() {
	flag.Parse()
	var set []string
	flag.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	if err := checkFlags(*job, *index, set); err != nil {
		log.Fatal(err)
	}
	if *months < 0 {
		log.Fatalf("-months %d: a look-back is 0 or more months", *months)
	}
	beam.Init()
	ctx := context.Background()
	at, err := time.Parse(time.RFC3339, *asOf)
	if err != nil {
		if at, err = time.Parse(time.DateOnly, *asOf); err != nil {
			log.Fatalf("-asof: %v", err)
		}
	}
	files, err := pipeline.Glob(ctx, *input)
	if err != nil {
		log.Fatal(err)
	}
	in := pipeline.Input{Files: files, Format: *format, Lenient: *lenient, NameCategories: *nameCats, MovieLensAsPurchases: *mlBuys}
	var p *beam.Pipeline
	switch *job {
	case "copurchase":
		sc, err := similarity.ParseScope(*scope)
		if err != nil {
			log.Fatal(err)
		}
		m, err := similarity.ParseMeasure(*measure)
		if err != nil {
			log.Fatal(err)
		}
		o := pipeline.CoPurchase{AsOf: at, Output: *output, Shards: *shards,
			Count: similarity.CountOptions{Scope: sc, MaxBasket: *maxBasket},
			Index: similarity.IndexOptions{Measure: m, K: *k, MinSupport: *minSup, Shrinkage: *shrink}}
		if *months > 0 {
			o.Count.Lookback = affinity.Months(*months)
		}
		if *exclude != "" {
			o.ExcludeKeys = keyList(*exclude)
		}
		p, err = pipeline.NewCoPurchase(in, o)
		if err != nil {
			log.Fatal(err)
		}
	case "features":
		f := pipeline.Features{AsOf: at, Output: *output, Index: *index}
		if *months > 0 {
			f.Segment.Lookback = affinity.Months(*months)
		}
		if *exclude != "" {
			f.NonMerchandiseKeys = keyList(*exclude)
		}
		p, err = pipeline.NewFeatures(in, f)
		if err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown -job %q", *job)
	}
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		log.Fatal(err)
	}
	if res != nil {
		writeReadCounts(os.Stdout, res.Metrics().AllMetrics().Counters())
	}
}

// writeReadCounts writes the read step's counters (pipeline.Metrics) as
// dataset.Report.String lays out a load's: the rows read, the rows
// skipped and each reason's share, the duplicates when there are any.
func writeReadCounts(w io.Writer, counters []metrics.CounterResult) {
	n := map[string]int64{}
	for _, c := range counters {
		if c.Namespace() == pipeline.Metrics {
			n[c.Name()] += c.Result()
		}
	}
	const skipped = "skipped: "
	var total int64
	var reasons []string
	for name, v := range n {
		if r, ok := strings.CutPrefix(name, skipped); ok {
			total += v
			reasons = append(reasons, r)
		}
	}
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(cmp.Compare(n[skipped+b], n[skipped+a]), cmp.Compare(a, b)) })
	fmt.Fprintf(w, "%-10s %d\n", "rows", n["rows"])
	fmt.Fprintf(w, "%-10s %d\n", "skipped", total)
	for _, r := range reasons {
		fmt.Fprintf(w, "  %-22s %d\n", r, n[skipped+r])
	}
	if d := n["duplicates"]; d > 0 {
		fmt.Fprintf(w, "%-10s %d\n", "duplicates", d)
	}
}

// checkFlags returns an error for a flag, of the names set on the command
// line, that the job does not read: the command refuses it rather than
// ignore it.
func checkFlags(job string, index bool, set []string) error {
	if job != "copurchase" && job != "features" {
		return fmt.Errorf("unknown -job %q: copurchase or features", job)
	}
	for _, name := range set {
		var only string
		switch name {
		case "scope", "measure", "k", "minsupport", "shrinkage", "maxbasket", "shards":
			if job != "copurchase" {
				only = "-job copurchase only"
			}
		case "index":
			if job != "features" {
				only = "-job features only"
			}
		case "exclude":
			if job == "features" && !index {
				only = "-job copurchase and -job features -index only: the features without the index have no categories"
			}
		}
		if only != "" {
			return fmt.Errorf("-%s applies to %s", name, only)
		}
	}
	return nil
}

// keyList splits a comma-separated list of keys, dropping the spaces
// around each ("POST, DOT" is POST and DOT) and empty entries.
func keyList(s string) []string {
	var keys []string
	for k := range strings.SplitSeq(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
