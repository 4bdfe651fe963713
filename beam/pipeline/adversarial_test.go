package pipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

// longAdversarial reports whether the larger adversarial variants run
// (AFFINITY_LONG_TESTS=1).
func longAdversarial() bool { return os.Getenv("AFFINITY_LONG_TESTS") == "1" }

// advWrite writes data to dir/name, gzipped when gz, and returns the path.
func advWrite(t *testing.T, dir, name string, data []byte, gz bool) string {
	t.Helper()
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, err := zw.Write(data)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		data = b.Bytes()
	}
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

// advCSV formats rows as CSV.
func advCSV(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.WriteAll(rows))
	return b.Bytes()
}

// advDiff describes the first difference of two byte slices.
func advDiff(want, got []byte) string {
	at := 0
	for at < min(len(want), len(got)) && want[at] == got[at] {
		at++
	}
	ctx := func(b []byte) string {
		lo, hi := max(0, at-40), min(len(b), at+80)
		return fmt.Sprintf("%q", b[lo:hi])
	}
	return fmt.Sprintf("first difference at byte %d (single machine %d bytes, job %d bytes)\n  single machine: …%s\n  job:            …%s",
		at, len(want), len(got), ctx(want), ctx(got))
}

// advSameDirs compares two output directories file by file and reports
// every differing file (assert: the files are independent checks).
func advSameDirs(t *testing.T, want, got string) {
	t.Helper()
	read := func(dir string) map[string][]byte {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		m := map[string][]byte{}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			m[e.Name()] = b
		}
		return m
	}
	w, g := read(want), read(got)
	var missing, extra []string
	for _, name := range slices.Sorted(maps.Keys(w)) {
		gb, ok := g[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		assert.True(t, bytes.Equal(w[name], gb), "%s differs from the single machine's: %s", name, advDiff(w[name], gb))
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			extra = append(extra, name)
		}
	}
	assert.Empty(t, missing, "files the single machine writes and the job does not")
	assert.Empty(t, extra, "files the job writes and the single machine does not")
}

// advFeatures runs the features job on in and compares its output
// directory with the single machine's, byte for byte. When the single
// machine cannot build (no data by asOf, a load error), the job must fail
// too.
func advFeatures(t *testing.T, in pipeline.Input, o pipeline.Features) {
	t.Helper()
	ctx := context.Background()
	o.Output = t.TempDir()
	p, err := pipeline.NewFeatures(in, o)
	require.NoError(t, err)
	_, jobErr := prism.Execute(ctx, p)
	h, err := pipeline.LoadHistory(ctx, in)
	if err == nil {
		_, err = segment.Build(ctx, h, o.AsOf, o.Segment)
	}
	if err != nil {
		require.Error(t, jobErr, "the single machine fails (%v), the job does not", err)
		t.Logf("both fail: single machine %v", err)
		return
	}
	require.NoError(t, jobErr)
	want := t.TempDir()
	singleFeatures(t, h, o, want)
	advSameDirs(t, want, o.Output)
}

// advNoCustomerData runs the features job on in, where no customer has an
// order or event by asOf, and requires it to fail with the error that says
// so. The single machine fails with segment.ErrNoData, or gives an index
// of no customers when the orders by asOf are all anonymous.
func advNoCustomerData(t *testing.T, in pipeline.Input, o pipeline.Features) {
	t.Helper()
	ctx := context.Background()
	o.Output = t.TempDir()
	p, err := pipeline.NewFeatures(in, o)
	require.NoError(t, err)
	_, err = prism.Execute(ctx, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pipeline: no customer has an order or event by asOf "+o.AsOf.Format(time.RFC3339))
	assert.Contains(t, err.Error(), segment.ErrNoData.Error())
	h, err := pipeline.LoadHistory(ctx, in)
	require.NoError(t, err)
	x, err := segment.Build(ctx, h, o.AsOf, o.Segment)
	if err != nil {
		require.ErrorIs(t, err, segment.ErrNoData)
		return
	}
	assert.Zero(t, x.All().GetCardinality(), "the single machine knows customers by asOf")
}

// advCoPurchase runs the copurchase job on in and compares the index file
// and the product dictionary with the single machine's, byte for byte.
func advCoPurchase(t *testing.T, in pipeline.Input, o pipeline.CoPurchase) {
	t.Helper()
	ctx := context.Background()
	o.Output = filepath.Join(t.TempDir(), "neighbours.idx")
	p, err := pipeline.NewCoPurchase(in, o)
	require.NoError(t, err)
	_, jobErr := prism.Execute(ctx, p)
	h, err := pipeline.LoadHistory(ctx, in)
	if err == nil {
		var c *similarity.Counts
		if c, err = similarity.Count(ctx, h, o.AsOf, o.Count); err == nil {
			_, err = similarity.NewIndex(ctx, c, o.Index)
		}
	}
	if err != nil {
		require.Error(t, jobErr, "the single machine fails (%v), the job does not", err)
		t.Logf("both fail: single machine %v", err)
		return
	}
	require.NoError(t, jobErr)
	want := singleIndex(t, h, o.AsOf, o)
	got, err := os.ReadFile(o.Output)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "the index file differs: %s", advDiff(want, got))
	var keys []string
	for id := range affinity.ProductID(h.Catalog().NumProducts()) {
		keys = append(keys, h.Catalog().ProductKey(id))
	}
	dict, err := os.ReadFile(o.Output + ".products.csv")
	require.NoError(t, err)
	assert.Equal(t, dictText("product", keys), string(dict), "products.csv differs")
}

// shopifyHeader is the subset of Shopify's orders export the "shopify"
// format reads.
var shopifyHeader = []string{"Name", "Email", "Financial Status", "Created at", "Cancelled at", "Refunded Amount",
	"Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"}

// shopifyFiles writes Shopify exports (one per element of files, each a
// list of rows after the header) and returns the Input reading them in
// order.
func shopifyFiles(t *testing.T, files ...[][]string) pipeline.Input {
	t.Helper()
	dir := t.TempDir()
	in := pipeline.Input{Format: "shopify"}
	for i, rows := range files {
		in.Files = append(in.Files, advWrite(t, dir, fmt.Sprintf("export-%d.csv", i), advCSV(t, append([][]string{shopifyHeader}, rows...)), false))
	}
	return in
}

// advOrderFilesRefused requires both jobs to refuse in, several files of
// a format whose rows replace whole orders, before any work, with an
// error that says why and what to do.
func advOrderFilesRefused(t *testing.T, in pipeline.Input, asOf time.Time) {
	t.Helper()
	check := func(err error) {
		t.Helper()
		require.Error(t, err)
		for _, want := range []string{fmt.Sprintf("%d files in the %q format", len(in.Files), in.Format),
			"replace whole orders", "load one export file", `convert the exports to the "csv" format`} {
			assert.Contains(t, err.Error(), want)
		}
	}
	_, err := pipeline.NewFeatures(in, pipeline.Features{AsOf: asOf, Output: t.TempDir()})
	check(err)
	_, err = pipeline.NewFeatures(in, pipeline.Features{AsOf: asOf, Output: t.TempDir(), Index: true})
	check(err)
	_, err = pipeline.NewCoPurchase(in, pipeline.CoPurchase{AsOf: asOf, Output: filepath.Join(t.TempDir(), "neighbours.idx"),
		Index: similarity.IndexOptions{K: 3}})
	check(err)
}

// The order exports are loaded as puts: a single machine that loads
// several exports into one Builder gives customers first met in a put
// their ids in order-key order over all the files, replaces an order
// re-exported in a later file, and deletes an order a later file
// cancels. The jobs read each file into a History of its own, so they
// refuse several files of these formats.
func TestAdversarialShopifyExports(t *testing.T) {
	row := func(name, email, created, cancelled string, qty int, item, price, sku string) []string {
		return []string{name, email, "paid", created, cancelled, "", fmt.Sprint(qty), item, price, sku}
	}
	refund := func(r []string, amount string) []string {
		r[5] = amount
		return r
	}
	cases := []struct {
		name  string
		files [][][]string
	}{
		{"order keys of a later file sort first", [][][]string{
			{
				row("#2001", "carol@example.com", "2024-03-01 10:00:00 +0000", "", 1, "Tent", "100.00", "TENT"),
				row("#2001", "", "", "", 1, "Stove", "40.00", "STOVE"),
			},
			{
				row("#1001", "dave@example.com", "2024-03-02 10:00:00 +0000", "", 1, "Tent", "100.00", "TENT"),
				row("#1001", "", "", "", 2, "Stove", "40.00", "STOVE"),
				row("#1002", "erin@example.com", "2024-03-03 10:00:00 +0000", "", 1, "Stove", "40.00", "STOVE"),
			},
		}},
		{"an order re-exported in a later file", [][][]string{
			{
				row("#1001", "alice@example.com", "2024-03-01 10:00:00 +0000", "", 1, "Tent", "100.00", "TENT"),
				row("#1002", "bob@example.com", "2024-03-02 10:00:00 +0000", "", 1, "Stove", "40.00", "STOVE"),
				row("#1002", "", "", "", 1, "Tent", "100.00", "TENT"),
			},
			{
				row("#1001", "alice@example.com", "2024-03-01 10:00:00 +0000", "", 3, "Tent", "100.00", "TENT"),
				row("#1002", "bob@example.com", "2024-03-02 10:00:00 +0000", "", 1, "Stove", "40.00", "STOVE"),
				row("#1002", "", "", "", 1, "Mug", "8.00", "MUG"),
				row("#1003", "bob@example.com", "2024-03-05 10:00:00 +0000", "", 1, "Mug", "8.00", "MUG"),
				row("#1003", "", "", "", 1, "Tent", "100.00", "TENT"),
			},
		}},
		{"a refund line in an earlier file than a new product", [][][]string{
			{
				refund(row("#1001", "alice@example.com", "2024-03-01 10:00:00 +0000", "", 1, "Tent", "100.00", "TENT"), "10.00"),
				row("#1001", "", "", "", 1, "Mug", "8.00", "MUG"),
			},
			{
				row("#1002", "bob@example.com", "2024-03-02 10:00:00 +0000", "", 1, "Stove", "40.00", "STOVE"),
				row("#1002", "", "", "", 1, "Tent", "100.00", "TENT"),
			},
		}},
		{"an order cancelled in a later file", [][][]string{
			{
				row("#1001", "alice@example.com", "2024-03-01 10:00:00 +0000", "", 1, "Tent", "100.00", "TENT"),
				row("#1001", "", "", "", 1, "Stove", "40.00", "STOVE"),
				row("#1002", "bob@example.com", "2024-03-02 10:00:00 +0000", "", 1, "Stove", "40.00", "STOVE"),
				row("#1002", "", "", "", 1, "Tent", "100.00", "TENT"),
			},
			{
				row("#1002", "bob@example.com", "2024-03-02 10:00:00 +0000", "2024-03-04 10:00:00 +0000", 1, "Stove", "40.00", "STOVE"),
				row("#1003", "alice@example.com", "2024-03-05 10:00:00 +0000", "", 1, "Mug", "8.00", "MUG"),
				row("#1003", "", "", "", 1, "Tent", "100.00", "TENT"),
			},
		}},
	}
	asOf := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			advOrderFilesRefused(t, shopifyFiles(t, tc.files...), asOf)
		})
	}
}

// wooHeader is the subset of WooCommerce's order export the
// "woocommerce" format reads.
var wooHeader = []string{"order_number", "order_date", "status", "customer_id", "billing_email", "item_name", "item_sku",
	"item_quantity", "item_total"}

// The same for WooCommerce exports: a later export cancels an order of
// an earlier one and brings a customer whose order key sorts first.
func TestAdversarialWooCommerceExports(t *testing.T) {
	header := []string{"order_number", "order_date", "status", "customer_id", "billing_email", "item_name", "item_sku",
		"item_quantity", "item_total"}
	dir := t.TempDir()
	a := advWrite(t, dir, "wc-1.csv", advCSV(t, [][]string{header,
		{"3001", "2024-05-01 10:00:00", "completed", "17", "anna@example.de", "Kaffeebecher", "MUG-1", "2", "24.00"},
		{"3001", "2024-05-01 10:00:00", "completed", "17", "anna@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
		{"3002", "2024-05-02 10:00:00", "completed", "18", "ben@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
		{"3002", "2024-05-02 10:00:00", "completed", "18", "ben@example.de", "Kaffeebecher", "MUG-1", "1", "12.00"},
	}), false)
	b := advWrite(t, dir, "wc-2.csv", advCSV(t, [][]string{header,
		{"2999", "2024-05-03 10:00:00", "completed", "19", "cleo@example.de", "Kaffeebecher", "MUG-1", "1", "12.00"},
		{"3002", "2024-05-02 10:00:00", "cancelled", "18", "ben@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
	}), true)
	in := pipeline.Input{Files: []string{a, b}, Format: "woocommerce"}
	advOrderFilesRefused(t, in, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
}

// One export file of an order format is read as the single machine reads
// it: its orders are puts, whose customers and products get their ids in
// order-key order at Build, not in row order; cancelled orders, refunds,
// returns, guests and several lines of a product are in the files.
func TestAdversarialOneOrderExport(t *testing.T) {
	row := func(name, email, created, status, cancelled, refunded string, qty int, item, price, sku string) []string {
		return []string{name, email, status, created, cancelled, refunded, fmt.Sprint(qty), item, price, sku}
	}
	shopify := shopifyFiles(t, [][]string{
		row("#2001", "Carol@example.com", "2024-03-01 10:00:00 +0000", "paid", "", "", 1, "Tent", "100.00", "TENT"),
		row("#2001", "", "", "", "", "", 1, "Stove", "40.00", "STOVE"),
		row("#1001", "dave@example.com", "2024-03-02 10:00:00 -0700", "paid", "", "10.00", 1, "Tent", "100.00", "TENT"),
		row("#1001", "", "", "", "", "", 2, "Mug", "8.00", "MUG"),
		row("#1500", "", "2024-03-02 11:00:00 +0000", "paid", "", "", 1, "Lamp", "25.00", "LAMP"), // a guest
		row("#1500", "", "", "", "", "", 1, "Stove", "40.00", "STOVE"),
		row("#1002", "erin@example.com", "2024-03-03 10:00:00 +0000", "paid", "2024-03-04 10:00:00 +0000", "", 1, "Kettle", "30.00", "KETTLE"),
		row("#0999", "erin@example.com", "2024-03-05 10:00:00 +0000", "refunded", "", "", 1, "Stove", "40.00", "STOVE"),
		row("#3001", "carol@example.com", "2024-03-20 10:00:00 +0000", "paid", "", "", 1, "Mug", "8.00", "MUG"),
		row("#3001", "", "", "", "", "", 1, "Lamp", "25.00", ""), // no sku: the name is the product
		row("#0500", "zoe@example.com", "2024-03-06 10:00:00 +0000", "paid", "", "", 3, "Mug", "8.00", "MUG"),
		row("#0500", "", "", "", "", "", 1, "Tent", "100.00", "TENT"),
		row("#4000", "dave@example.com", "2024-05-01 10:00:00 +0000", "paid", "", "", 1, "Stove", "40.00", "STOVE"), // after asOf
	})
	dir := t.TempDir()
	woo := pipeline.Input{Format: "woocommerce", Files: []string{advWrite(t, dir, "wc.csv.gz", advCSV(t, [][]string{wooHeader,
		{"3001", "2024-03-01 10:00:00", "completed", "17", "anna@example.de", "Kaffeebecher", "MUG-1", "2", "24.00"},
		{"3001", "2024-03-01 10:00:00", "completed", "17", "anna@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
		{"2999", "2024-03-02 10:00:00", "completed", "0", "Gast@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
		{"2999", "2024-03-02 10:00:00", "completed", "0", "gast@example.de", "Milchkanne", "", "1", "7.00"},
		{"3002", "2024-03-03 10:00:00", "cancelled", "18", "ben@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
		{"1500", "2024-03-04 10:00:00", "wc-processing", "18", "ben@example.de", "Kaffeebecher", "MUG-1", "3", "36.00"},
		{"1500", "2024-03-04 10:00:00", "wc-processing", "18", "ben@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
		{"0042", "2024-03-05 10:00:00", "completed", "19", "cleo@example.de", "Milchkanne", "MILK-1", "1", "7.00"},
		{"0042", "2024-03-05 10:00:00", "completed", "19", "cleo@example.de", "Kaffeebecher", "MUG-1", "1", "12.00"},
		{"3100", "2024-03-20 10:00:00", "completed", "17", "anna@example.de", "Milchkanne", "MILK-1", "2", "14.00"},
		{"3100", "2024-03-20 10:00:00", "completed", "17", "anna@example.de", "Espresso 500g", "ESP-500", "1", "10.00"},
	}), true)}}
	asOf := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, in := range []pipeline.Input{shopify, woo} {
		t.Run(in.Format, func(t *testing.T) {
			h, err := pipeline.LoadHistory(context.Background(), in)
			require.NoError(t, err)
			require.Greater(t, h.NumCustomers(), 2)
			t.Run("features", func(t *testing.T) { advFeatures(t, in, pipeline.Features{AsOf: asOf}) })
			t.Run("features/index", func(t *testing.T) { advFeatures(t, in, pipeline.Features{AsOf: asOf, Index: true}) })
			t.Run("copurchase", func(t *testing.T) {
				advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Shards: 3, BlockRows: 2,
					Index: similarity.IndexOptions{Measure: similarity.Confidence, K: 5, MinSupport: 1}})
			})
		})
	}
}

// advShop is a random shop written as many small generic CSV files.
type advShop struct {
	in    pipeline.Input
	asOf  time.Time
	early time.Time // a time before most orders
}

// randomShop writes a random shop: customers, products and orders that
// recur across files, keys that differ only in case, white space or
// Unicode normalisation, anonymous orders (with and without ids), returns,
// zero prices, repeated lines, products first seen in a later file,
// catalogs that disagree between files, categories the Builder refuses on
// rows of products an earlier file described (which a single machine
// loads without checking), header-only files, gzip files and file names
// whose sort order is not the order of the parts.
func randomShop(t *testing.T, seed uint64, nfiles, rowsPerFile int) advShop {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	dir := t.TempDir()
	customers := []string{"alice", "Alice", "ALICE", "bob", "café", "cafe\u0301", "dave", "dave ", "erin", "frank",
		"7", "07", "x,y", "q\"uote", "grace", "heidi", "ivan", "judy", "", "", ""}
	products := []string{"P1", "p1", "P2", "P3", "Ångström", "A\u030angstro\u0308m", "sku-9", "sku-10", "sku-010",
		"P4", "P5", "P6", "P7", "P8"}
	cats := []string{"", "", "Home/Kitchen", "Home/Garden", "Outdoor", "Outdoor/Camping|Home", "Toys>Puzzles", "home/kitchen"}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var files []string
	late := map[string]bool{"P7": true, "P8": true} // only from the second half of the files on
	lenient := seed%2 == 1
	deep := strings.TrimSuffix(strings.Repeat("d/", affinity.MaxCategoryDepth+1), "/")
	// the files are read in part order or in the order of their names
	// (part-10 before part-2); a product a file earlier in both orders
	// describes (with a row with a name or category that loads) takes
	// the refused category
	byName := make([]string, nfiles)
	for f := range nfiles {
		byName[f] = fmt.Sprintf("part-%d.", f)
	}
	slices.Sort(byName)
	describedBy := map[string][]int{}
	earlier := func(g, f int) bool {
		return g < f && slices.Index(byName, fmt.Sprintf("part-%d.", g)) < slices.Index(byName, fmt.Sprintf("part-%d.", f))
	}
	for f := range nfiles {
		rows := [][]string{{"customer", "product", "order", "time", "quantity", "price", "category", "name"}}
		n := rng.IntN(rowsPerFile + 1)
		if f%5 == 3 {
			n = 0 // header only
		}
		for range n {
			cust := customers[rng.IntN(len(customers))]
			ordersOf := 1 + rng.IntN(4)
			order := ""
			if rng.IntN(5) > 0 {
				order = fmt.Sprintf("o%d", rng.IntN(ordersOf*8)) // shared across files
			}
			day := rng.IntN(200)
			tm := t0.Add(time.Duration(day)*24*time.Hour + time.Duration(rng.IntN(3))*time.Hour)
			lines := 1 + rng.IntN(4)
			for range lines {
				prod := products[rng.IntN(len(products))]
				if late[prod] && f < nfiles/2 {
					prod = "P1"
				}
				qty := []int{1, 1, 1, 2, 3, -1, -2}[rng.IntN(7)]
				price := []string{"0", "1.50", "10", "99.99", "0.01"}[rng.IntN(5)]
				cat := cats[rng.IntN(len(cats))]
				name := ""
				if rng.IntN(3) == 0 {
					name = fmt.Sprintf("%s name %d", prod, rng.IntN(3))
				}
				if slices.ContainsFunc(describedBy[prod], func(g int) bool { return earlier(g, f) }) && rng.IntN(4) == 0 {
					cat = deep
				}
				row := []string{cust, prod, order, tm.Format(time.RFC3339), fmt.Sprint(qty), price, cat, name}
				bad := lenient && rng.IntN(12) == 0
				if !bad && (cat != "" || name != "") && !slices.Contains(describedBy[prod], f) {
					describedBy[prod] = append(describedBy[prod], f)
				}
				if bad {
					// a row the Builder or the parser refuses, after its
					// product may have been named
					switch rng.IntN(3) {
					case 0:
						row[4] = "0"
					case 1:
						row[5] = "-3"
					default:
						row[3] = "not a time"
					}
				}
				rows = append(rows, row)
				if rng.IntN(8) == 0 {
					rows = append(rows, row) // repeated line
				}
			}
		}
		// names that sort differently from the part order: part-9 after part-10
		name := fmt.Sprintf("part-%d.csv", f)
		gz := rng.IntN(3) == 0
		if gz {
			name += ".gz"
		}
		files = append(files, advWrite(t, dir, name, advCSV(t, rows), gz))
	}
	glob, err := pipeline.Glob(context.Background(), filepath.Join(dir, "part-*"))
	require.NoError(t, err)
	require.Len(t, glob, len(files))
	in := pipeline.Input{Files: glob, Format: "csv", Lenient: lenient}
	if rng.IntN(2) == 0 {
		in.Files = files // the part order itself
	}
	return advShop{in: in, asOf: t0.Add(time.Duration(120+rng.IntN(100)) * 24 * time.Hour), early: t0.Add(60 * 24 * time.Hour)}
}

// Random seeded shops over many small files, every job compared byte for
// byte with the single machine.
func TestAdversarialRandomShops(t *testing.T) {
	seeds := []uint64{1, 2}
	nfiles, rows := 12, 12
	if longAdversarial() {
		seeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}
		nfiles, rows = 23, 40
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			s := randomShop(t, seed, nfiles, rows)
			h, err := pipeline.LoadHistory(context.Background(), s.in)
			require.NoError(t, err)
			t.Logf("%d files, %d customers, %d products, %d categories, %d orders", len(s.in.Files), h.NumCustomers(),
				h.Catalog().NumProducts(), h.Catalog().NumCategories(), h.NumOrders())
			t.Run("copurchase/basket", func(t *testing.T) {
				advCoPurchase(t, s.in, pipeline.CoPurchase{AsOf: s.asOf, Shards: 1000, BlockRows: 1,
					Count: similarity.CountOptions{MaxBasket: 2},
					Index: similarity.IndexOptions{Measure: similarity.Lift, K: 3, MinSupport: 1}})
			})
			t.Run("copurchase/customer", func(t *testing.T) {
				advCoPurchase(t, s.in, pipeline.CoPurchase{AsOf: s.asOf, Shards: 1, BlockRows: 3,
					Count: similarity.CountOptions{Scope: similarity.Customer, MaxBasket: 3, Lookback: affinity.Months(3)},
					Index: similarity.IndexOptions{Measure: similarity.NPMI, K: 4}})
			})
			t.Run("features", func(t *testing.T) {
				advFeatures(t, s.in, pipeline.Features{AsOf: s.asOf, Segment: segment.Options{LoyalOrders: 2}})
			})
			t.Run("features/index", func(t *testing.T) {
				advFeatures(t, s.in, pipeline.Features{AsOf: s.asOf, Index: true,
					Segment: segment.Options{RFMScoring: segment.RFMNTile, HalfLife: 30 * segment.Day}})
			})
			if longAdversarial() {
				t.Run("features/early", func(t *testing.T) {
					advFeatures(t, s.in, pipeline.Features{AsOf: s.early, Index: true})
				})
				t.Run("copurchase/sequential", func(t *testing.T) {
					advCoPurchase(t, s.in, pipeline.CoPurchase{AsOf: s.asOf, Shards: 7,
						Count: similarity.CountOptions{Scope: similarity.Sequential, Window: 30 * 24 * time.Hour},
						Index: similarity.IndexOptions{Measure: similarity.Confidence, K: 2, MinSupport: 2, Shrinkage: 3}})
				})
			}
		})
	}
}

// randomRetail writes a random Online Retail shop over several files:
// cancellations ("C" invoices), adjustments ("A"), anonymous lines
// (customer empty or "0"), customer ids with a spreadsheet ".0", stock
// codes that differ in case, descriptions that change between files (and
// with NameCategories give different derived categories), invoices that
// straddle files and zero prices.
func randomRetail(t *testing.T, seed uint64, nfiles, rowsPerFile int) advShop {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed*31+7))
	dir := t.TempDir()
	customers := []string{"12345", "12345.0", "12346", "12347", "", "0", "12348", "12349", "17850", "17850.0"}
	codes := []string{"85123A", "85123a", "71053", "84406B", "22752", "21730", "POST", "M", "22633", "84029G"}
	names := []string{"WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN", "CREAM CUPID HEARTS COAT HANGER",
		"KNITTED UNION FLAG HOT WATER BOTTLE", "SET 7 BABUSHKA NESTING BOXES", "GLASS STAR FROSTED T-LIGHT HOLDER", "", "Missing_Description"}
	t0 := time.Date(2010, 12, 1, 8, 0, 0, 0, time.UTC)
	var files []string
	for f := range nfiles {
		rows := [][]string{{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}}
		for range rng.IntN(rowsPerFile + 1) {
			inv := fmt.Sprint(536365 + rng.IntN(30))
			qsign := 1
			switch rng.IntN(10) {
			case 0:
				inv, qsign = "C"+inv, -1
			case 1:
				inv = "A" + inv
			}
			cust := customers[rng.IntN(len(customers))]
			tm := t0.Add(time.Duration(rng.IntN(120*24)) * time.Hour)
			for range 1 + rng.IntN(3) {
				qty := qsign * (1 + rng.IntN(6))
				price := []string{"0", "2.55", "3.39", "7.65", "0.85"}[rng.IntN(5)]
				rows = append(rows, []string{inv, codes[rng.IntN(len(codes))], names[rng.IntN(len(names))], fmt.Sprint(qty),
					tm.Format("2006-01-02 15:04:05"), price, cust, "United Kingdom"})
			}
		}
		gz := f%2 == 1
		name := fmt.Sprintf("retail-%c.csv", 'a'+f)
		if gz {
			name += ".gz"
		}
		files = append(files, advWrite(t, dir, name, advCSV(t, rows), gz))
	}
	in := pipeline.Input{Files: files, Format: "onlineretail", NameCategories: rng.IntN(2) == 0, Lenient: true}
	return advShop{in: in, asOf: t0.Add(time.Duration(60+rng.IntN(60)) * 24 * time.Hour), early: t0.Add(10 * 24 * time.Hour)}
}

// Random Online Retail shops over plain and gzip files.
func TestAdversarialRandomRetail(t *testing.T) {
	seeds := []uint64{11}
	nfiles, rows := 5, 25
	if longAdversarial() {
		seeds = []uint64{11, 12, 13, 14, 15, 16}
		nfiles, rows = 9, 80
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			s := randomRetail(t, seed, nfiles, rows)
			t.Run("copurchase", func(t *testing.T) {
				advCoPurchase(t, s.in, pipeline.CoPurchase{AsOf: s.asOf, Shards: 3, BlockRows: 2,
					Count: similarity.CountOptions{Scope: similarity.Customer},
					Index: similarity.IndexOptions{Measure: similarity.Lift, K: 4, MinSupport: 1}})
			})
			t.Run("features/index", func(t *testing.T) {
				advFeatures(t, s.in, pipeline.Features{AsOf: s.asOf, Index: true})
			})
			if longAdversarial() {
				t.Run("features", func(t *testing.T) { advFeatures(t, s.in, pipeline.Features{AsOf: s.asOf}) })
				t.Run("copurchase/basket", func(t *testing.T) {
					advCoPurchase(t, s.in, pipeline.CoPurchase{AsOf: s.asOf, Shards: 50,
						Index: similarity.IndexOptions{Measure: similarity.NPMI, K: 3}})
				})
			}
		})
	}
}

// More customers than one chunk of 2^16 ids, spread over files in an
// order that is not the customers' key order; the first chunk's
// customers buy only after asOf (AFFINITY_LONG_TESTS=1 only).
func TestAdversarialManyChunks(t *testing.T) {
	if !longAdversarial() {
		t.Skip("AFFINITY_LONG_TESTS=1 runs it")
	}
	const n = 1<<16 + 5000
	dir := t.TempDir()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	asOf := t0.Add(30 * 24 * time.Hour)
	var files []string
	for f := range 3 {
		var b bytes.Buffer
		b.WriteString("customer,product,order,time,quantity,price\n")
		for i := f; i < n; i += 3 {
			day := 40 + i%20 // after asOf
			if i >= 1<<16 {
				day = i % 25
			}
			fmt.Fprintf(&b, "c%06d,P%d,o%d,%s,1,%d.50\n", n-i, i%97, i, t0.Add(time.Duration(day)*24*time.Hour).Format(time.RFC3339), 1+i%9)
			if i%5 == 0 {
				fmt.Fprintf(&b, "c%06d,P%d,o%d,%s,2,3\n", n-i, (i+1)%97, i, t0.Add(time.Duration(day)*24*time.Hour).Format(time.RFC3339))
			}
		}
		files = append(files, advWrite(t, dir, fmt.Sprintf("big-%d.csv", 2-f), b.Bytes(), f == 1))
	}
	in := pipeline.Input{Files: files, Format: "csv"}
	t.Run("features", func(t *testing.T) { advFeatures(t, in, pipeline.Features{AsOf: asOf}) })
	t.Run("features/index", func(t *testing.T) { advFeatures(t, in, pipeline.Features{AsOf: asOf, Index: true}) })
	t.Run("copurchase", func(t *testing.T) {
		advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Shards: 5, BlockRows: 10,
			Count: similarity.CountOptions{Scope: similarity.Customer, MaxBasket: 2},
			Index: similarity.IndexOptions{Measure: similarity.Lift, K: 5, MinSupport: 2}})
	})
}

// A baskets file is read as on a single machine. A single machine keys
// each file's baskets by the lines loaded before it, so that the baskets
// on the same line of two files are two orders; the jobs, which read
// every file on its own, refuse several files.
func TestAdversarialBasketsFiles(t *testing.T) {
	dir := t.TempDir()
	a := advWrite(t, dir, "a.txt", []byte("milk,bread\nbeer,chips,milk\n\nbread,butter\n"), false)
	b := advWrite(t, dir, "b.txt", []byte("chips,salsa\nmilk,bread,butter\n"), true)
	asOf := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	o := pipeline.CoPurchase{AsOf: asOf, Shards: 4, Index: similarity.IndexOptions{Measure: similarity.Confidence, K: 5, MinSupport: 1}}
	for _, f := range []string{a, b} {
		advCoPurchase(t, pipeline.Input{Files: []string{f}, Format: "baskets"}, o)
	}
	in := pipeline.Input{Files: []string{a, b}, Format: "baskets"}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, 5, h.Summary().AnonymousOrders, "no basket of b joins one of a")
	o.Output = filepath.Join(t.TempDir(), "neighbours.idx")
	_, err = pipeline.NewCoPurchase(in, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `2 files in the "baskets" format`)
	_, err = pipeline.NewFeatures(in, pipeline.Features{AsOf: asOf, Output: t.TempDir()})
	require.Error(t, err)
}

// Options at the edges and inputs the single machine refuses: the job
// fails when the single machine does, and matches it otherwise.
func TestAdversarialEdges(t *testing.T) {
	dir := t.TempDir()
	header := "customer,product,order,time,quantity,price\n"
	one := advWrite(t, dir, "one.csv", []byte(header+"c1,A,o1,2024-01-01T00:00:00Z,1,1\nc1,B,o1,2024-01-01T00:00:00Z,1,1\n"), false)
	empty := advWrite(t, dir, "empty.csv", []byte(header), false)
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	t.Run("header-only file between", func(t *testing.T) {
		in := pipeline.Input{Files: []string{one, empty, one}, Format: "csv"}
		advFeatures(t, in, pipeline.Features{AsOf: asOf, Index: true})
	})
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("asOf before every order, index %v", index), func(t *testing.T) {
			in := pipeline.Input{Files: []string{one}, Format: "csv"}
			advNoCustomerData(t, in, pipeline.Features{AsOf: asOf.AddDate(-1, 0, 0), Index: index})
		})
		t.Run(fmt.Sprintf("header-only files, index %v", index), func(t *testing.T) {
			in := pipeline.Input{Files: []string{empty, empty}, Format: "csv"}
			advNoCustomerData(t, in, pipeline.Features{AsOf: asOf, Index: index})
		})
	}
	t.Run("copurchase asOf before every order", func(t *testing.T) {
		in := pipeline.Input{Files: []string{one}, Format: "csv"}
		advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf.AddDate(-1, 0, 0), Index: similarity.IndexOptions{K: 3}})
	})
	// by asOf only anonymous orders: the single machine builds an index
	// of no customers, the job fails
	anon := advWrite(t, dir, "anon.csv", []byte(header+",A,a1,2024-01-01T00:00:00Z,1,1\n,B,a1,2024-01-01T00:00:00Z,1,2\n"), false)
	later := advWrite(t, dir, "later.csv", []byte(header+"c1,A,o1,2024-03-01T00:00:00Z,1,1\nc2,B,o2,2024-03-02T00:00:00Z,1,1\n"), true)
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("only anonymous orders, index %v", index), func(t *testing.T) {
			in := pipeline.Input{Files: []string{anon}, Format: "csv"}
			advNoCustomerData(t, in, pipeline.Features{AsOf: asOf, Index: index})
		})
		t.Run(fmt.Sprintf("customers only after asOf, index %v", index), func(t *testing.T) {
			in := pipeline.Input{Files: []string{anon, later}, Format: "csv"}
			advNoCustomerData(t, in, pipeline.Features{AsOf: asOf, Index: index})
		})
	}
	t.Run("gzip file of no bytes between", func(t *testing.T) {
		zero := advWrite(t, dir, "zero.csv.gz", nil, true)
		in := pipeline.Input{Files: []string{one, zero}, Format: "csv"}
		advFeatures(t, in, pipeline.Features{AsOf: asOf})
	})
	t.Run("copurchase of events only", func(t *testing.T) {
		ml := advWrite(t, dir, "ratings.dat", []byte("1::10::5::881250949\n1::11::3::881250960\n2::10::4::881300000\n2::11::4::881300000\n"), false)
		in := pipeline.Input{Files: []string{ml, ml}, Format: "movielens"}
		advCoPurchase(t, in, pipeline.CoPurchase{AsOf: time.Unix(881400000, 0), Index: similarity.IndexOptions{K: 3, MinSupport: 1}})
	})
	t.Run("events rejected by features", func(t *testing.T) {
		ml := advWrite(t, dir, "u.data", []byte("1\t10\t5\t881250949\n2\t11\t3\t881250960\n"), false)
		in := pipeline.Input{Files: []string{ml}, Format: "movielens"}
		p, err := pipeline.NewFeatures(in, pipeline.Features{AsOf: time.Unix(881400000, 0), Output: t.TempDir()})
		require.NoError(t, err)
		_, err = prism.Execute(context.Background(), p)
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "events"), "error: %v", err)
	})
}
