package dataset_test

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Adversarial tests of the front doors (Open, Defaults), the Report and
// the synthetic generator, written against the package documentation.

// opnFixtures is one fixture file per format (testdata/).
var opnFixtures = []struct{ file, format string }{
	{"shop.csv", ""}, // Open with "" is "csv"; shop.csv's time column has no default name
	{"retail.csv", "onlineretail"},
	{"retail2.csv", "onlineretail"},
	{"members.csv", "members"},
	{"baskets.csv", "baskets"},
	{"u.data", "movielens"},
	{"ratings.dat", "movielens"},
	{"ratings.csv", "movielens"},
	{"cdnow_master.txt", "cdnow"},
	{"cdnow_sample.txt", "cdnow"},
	{"shopify_orders.csv", "shopify"},
	{"woocommerce_orders.csv", "woocommerce"},
}

// opnDump prints a History deterministically, for comparing two loads.
func opnDump(h *affinity.History) string {
	if h == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n", h.Summary())
	for p := range h.Purchases() {
		fmt.Fprintf(&b, "%s|%s|%s|%d|%d|%v\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
	}
	for e := range h.Events() {
		fmt.Fprintf(&b, "ev %s|%s|%d|%v|%g\n", e.Customer, e.Product, e.Time.Unix(), e.Kind, e.Weight)
	}
	cat := h.Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		pr := cat.Product(p)
		fmt.Fprintf(&b, "pr %s %q %q %v\n", pr.Key, pr.Name, pr.Categories, pr.Price)
	}
	return b.String()
}

func opnWrite(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// opnZW is reused: a new gzip.Writer allocates about 1 MB of state.
var opnZW, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed)

func opnGzip(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := opnZW
	zw.Reset(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// An unknown format is an error listing every known one; Open returns no
// History and a Report naming what was asked for.
func TestOpnUnknownFormat(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join("testdata", "members.csv")
	for _, f := range []string{"parquet", "CSV", " csv", "csv ", "gz", "members.csv"} {
		t.Run(f, func(t *testing.T) {
			h, rep, err := dataset.Open(ctx, path, f)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.Contains(t, err.Error(), strconv.Quote(f))
			for _, known := range dataset.Formats() {
				assert.Contains(t, err.Error(), known, "the error lists the known formats")
			}
			assert.Zero(t, rep.Rows)
			assert.Zero(t, rep.Loaded)
			_, derr := dataset.Defaults(f)
			assert.Equal(t, err.Error(), derr.Error(), "Open's error is that of Defaults")
		})
	}
}

// A missing file, a directory and a path under a regular file are errors
// that keep their cause (errors.Is), never ErrEmpty or a half-built History.
func TestOpnBadPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := opnWrite(t, "f.csv", []byte("product,time\na,2024-01-01\n"))
	for _, f := range []string{"csv", "baskets", "cdnow", "movielens", "shopify"} {
		t.Run(f, func(t *testing.T) {
			h, rep, err := dataset.Open(ctx, filepath.Join(dir, "missing.csv"), f)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			assert.Contains(t, err.Error(), "missing.csv", "the error names the file")
			assert.Equal(t, f, rep.Format)

			h, _, err = dataset.Open(ctx, dir, f)
			require.Error(t, err, "a directory is not a file")
			assert.Nil(t, h)
			assert.NotErrorIs(t, err, dataset.ErrEmpty, "a directory is not an empty file")

			h, _, err = dataset.Open(ctx, filepath.Join(file, "x"), f)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.NotErrorIs(t, err, dataset.ErrEmpty)
		})
	}
}

// Input without any data — no bytes, only a BOM and blank lines, or the
// gzip of either — is ErrEmpty in every format; a header and no rows is
// not empty but a zero Report.
func TestOpnEmptyAndHeaderOnly(t *testing.T) {
	ctx := context.Background()
	empties := map[string][]byte{
		"nothing":     nil,
		"bom":         []byte("\ufeff"),
		"blank lines": []byte("\n\r\n\n"),
		"bom blanks":  []byte("\ufeff\n\n"),
		"gzip empty":  opnGzip(t, nil),
		"gzip blanks": opnGzip(t, []byte("\ufeff\r\n\n")),
	}
	for _, f := range dataset.Formats() {
		for name, data := range empties {
			path := opnWrite(t, "in", data)
			h, rep, err := dataset.Open(ctx, path, f)
			require.ErrorIs(t, err, dataset.ErrEmpty, "%s: %s", f, name)
			assert.Nil(t, h, "%s: %s", f, name)
			assert.Equal(t, f, rep.Format, "%s: %s", f, name)
			assert.Zero(t, rep.Rows, "%s: %s", f, name)
		}
	}
	for _, fx := range opnFixtures {
		if fx.format == "movielens" && fx.file != "ratings.csv" || fx.format == "baskets" || fx.format == "cdnow" {
			continue // no header
		}
		data, err := os.ReadFile(filepath.Join("testdata", fx.file))
		require.NoError(t, err)
		header, _, _ := bytes.Cut(data, []byte("\n"))
		for _, in := range [][]byte{header, append(header, '\n'), append(append([]byte("\ufeff"), header...), "\r\n\n"...)} {
			path := opnWrite(t, "h", in)
			h, rep, err := dataset.Open(ctx, path, fx.format)
			if fx.file == "shop.csv" {
				require.Error(t, err, "shop.csv's header lacks a default time column")
				continue
			}
			require.NoError(t, err, "%s: %q", fx.file, in)
			require.NotNil(t, h)
			assert.Zero(t, h.NumLines()+h.NumEvents())
			assert.Zero(t, rep.Rows, fx.file)
			assert.Zero(t, rep.Loaded, fx.file)
			assert.Zero(t, rep.SkippedRows(), fx.file)
		}
	}
}

// Gzip is detected by content whatever the file name, and a gzip file
// loads exactly as its plain content: the same History and Report, also
// when the gzip holds several members (as `cat a.gz b.gz` and pigz make).
// A truncated or corrupt gzip file is an error even in the lenient mode
// of Open, never a silently shorter load.
func TestOpnGzipDetection(t *testing.T) {
	ctx := context.Background()
	for _, fx := range opnFixtures {
		if fx.file == "shop.csv" {
			continue
		}
		t.Run(fx.file, func(t *testing.T) {
			plain, err := os.ReadFile(filepath.Join("testdata", fx.file))
			require.NoError(t, err)
			wantH, wantRep, err := dataset.Open(ctx, filepath.Join("testdata", fx.file), fx.format)
			require.NoError(t, err)
			want := opnDump(wantH)

			gz := opnGzip(t, plain)
			// split at a line boundary into two gzip members
			cut := bytes.IndexByte(plain[len(plain)/2:], '\n') + len(plain)/2 + 1
			multi := append(opnGzip(t, plain[:cut]), opnGzip(t, plain[cut:])...)
			for name, data := range map[string][]byte{"data.csv": gz, "multi.gz": multi} {
				h, rep, err := dataset.Open(ctx, opnWrite(t, name, data), fx.format)
				require.NoError(t, err, name)
				assert.Equal(t, wantRep, rep, name)
				assert.Equal(t, want, opnDump(h), name)
			}
			// the same plain bytes named .gz are read as plain text
			h, rep, err := dataset.Open(ctx, opnWrite(t, "plain.gz", plain), fx.format)
			require.NoError(t, err)
			assert.Equal(t, wantRep, rep)
			assert.Equal(t, want, opnDump(h))

			for name, data := range map[string][]byte{
				"no trailer":    gz[:len(gz)-8],
				"bad crc":       opnFlip(gz, len(gz)-6),
				"half":          gz[:len(gz)/2],
				"second broken": multi[:len(multi)-5],
			} {
				h, _, err := dataset.Open(ctx, opnWrite(t, "bad.gz", data), fx.format)
				assert.Error(t, err, "%s: a broken gzip file must not load silently", name)
				assert.Nil(t, h, name)
			}
		})
	}
}

func opnFlip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x55
	return c
}

// Defaults: the front door reads leniently, with categories derived from
// names exactly where the format carries none; Open is ReadFile with
// those options, for every fixture.
func TestOpnIsReadFileWithDefaults(t *testing.T) {
	ctx := context.Background()
	for _, fx := range opnFixtures {
		if fx.file == "shop.csv" {
			continue
		}
		path := filepath.Join("testdata", fx.file)
		h1, r1, err1 := dataset.Open(ctx, path, fx.format)
		opts, err := dataset.Defaults(fx.format)
		require.NoError(t, err)
		h2, r2, err2 := dataset.ReadFile(ctx, path, opts)
		require.Equal(t, err1, err2, fx.file)
		assert.Equal(t, r1, r2, fx.file)
		assert.Equal(t, opnDump(h1), opnDump(h2), fx.file)
		require.NotNil(t, h1)
		assert.Equal(t, r1.Rows, r1.Loaded+r1.SkippedRows(), fx.file)
		n := h1.Catalog().NumCategories()
		switch fx.format {
		case "cdnow", "movielens":
			assert.Zero(t, n, "%s has no names to derive categories from", fx.file)
		default:
			assert.Positive(t, n, "%s: categories derived from names", fx.file)
		}
	}
}

// For "csv", Open derives categories from the name column for rows
// without a category of their own, and keeps the file's categories where
// a row has one; without a name column there is nothing to derive.
func TestOpnCSVDerivedCategories(t *testing.T) {
	ctx := context.Background()
	data := "customer,product,time,name,category\n" +
		"c1,p1,2024-01-01,WHITE HANGING HEART T-LIGHT HOLDER,\n" +
		"c1,p2,2024-01-01,JUMBO BAG RED RETROSPOT,Bags/Jumbo\n" +
		"c2,p3,2024-01-02,SET OF 3 CAKE TINS PANTRY DESIGN,\n" +
		"c2,p4,2024-01-02,,\n"
	h, rep, err := dataset.Open(ctx, opnWrite(t, "c.csv", []byte(data)), "csv")
	require.NoError(t, err)
	assert.Equal(t, 4, rep.Loaded)
	want := map[string][]string{
		"p1": {dataset.CategoryFromName("WHITE HANGING HEART T-LIGHT HOLDER")},
		"p2": {"Bags/Jumbo"},
		"p3": {dataset.CategoryFromName("SET OF 3 CAKE TINS PANTRY DESIGN")},
		"p4": nil,
	}
	cat := h.Catalog()
	for key, paths := range want {
		p, ok := cat.LookupProduct(key)
		require.True(t, ok, key)
		var got []string
		for _, c := range cat.Categories(p) {
			got = append(got, cat.CategoryPath(c))
		}
		assert.Equal(t, paths, got, key)
	}

	// no name column: no categories
	h, _, err = dataset.Open(ctx, opnWrite(t, "d.csv", []byte("customer,product,time\nc1,HOLDER,2024-01-01\n")), "csv")
	require.NoError(t, err)
	assert.Zero(t, h.Catalog().NumCategories())
}

// opnRow is one generated row of the lenient accounting test.
type opnRow struct {
	fields []string
	reason string // "" for a good row
}

// TestOpnLenientAccounting: a CSV file with a random mix of good rows,
// bad rows of many reasons, exact duplicates, blank lines and CRLF,
// opened with Open. Every row is accounted for: Rows = Loaded + skipped,
// each reason's count and first (physical) line, the duplicates and the
// first duplicate's line are those of a model; String and LogValue show
// the same numbers.
func TestOpnLenientAccounting(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			var sb strings.Builder
			nl := "\n"
			if seed%2 == 1 {
				nl = "\r\n"
				sb.WriteString("\ufeff")
			}
			sb.WriteString("order,customer,product,time,quantity,price,extra" + nl)
			line := 1
			type skip struct{ count, first int }
			skips := map[string]*skip{}
			var reasons []string
			rows, loaded, purchases, returns, anon, dups, firstDup := 0, 0, 0, 0, 0, 0, 0
			var prev []string // rows of the current order run
			bad := []opnRow{
				{[]string{"", "cx", "p", "2024-01-01", "x", "1"}, "invalid quantity"},
				{[]string{"", "cx", "p", "2024-01-01", "0", "1"}, "zero quantity"},
				{[]string{"", "cx", "p", "not a time", "1", "1"}, "invalid time"},
				{[]string{"", "cx", "", "2024-01-01", "1", "1"}, "missing product"},
				{[]string{"", "cx", "p", "2024-01-01", "1", "abc"}, "invalid price"},
				{[]string{"", "cx", "p", "2024-01-01", "1", "-2"}, "negative price"},
				{[]string{"", "cx", "p"}, "wrong field count"},
			}
			for o := range 40 + rng.IntN(30) {
				if rng.IntN(4) == 0 {
					// a bad row, alone in an order of its own
					b := bad[rng.IntN(len(bad))]
					f := slices.Clone(b.fields)
					f[0] = fmt.Sprintf("bad%d", o)
					if len(f) == 6 {
						f = append(f, "z")
					}
					for rng.IntN(3) == 0 {
						sb.WriteString(nl)
						line++
					}
					sb.WriteString(strings.Join(f, ",") + nl)
					line++
					rows++
					if skips[b.reason] == nil {
						skips[b.reason] = &skip{first: line}
						reasons = append(reasons, b.reason)
					}
					skips[b.reason].count++
					prev = nil
					continue
				}
				cust := fmt.Sprintf("c%d", rng.IntN(5))
				if rng.IntN(6) == 0 {
					cust = ""
				}
				ts := time.Date(2024, 1, 1+rng.IntN(300), rng.IntN(24), 0, 0, 0, time.UTC).Format(time.RFC3339)
				prev = prev[:0]
				for range 1 + rng.IntN(4) {
					var rec string
					if len(prev) > 0 && rng.IntN(4) == 0 {
						rec = prev[rng.IntN(len(prev))]
						dups++
						if firstDup == 0 {
							firstDup = line + 1
						}
					} else {
						q := 1 + rng.IntN(3)
						if rng.IntN(8) == 0 {
							q = -q
						}
						rec = strings.Join([]string{fmt.Sprintf("o%d", o), cust, fmt.Sprintf("p%d", rng.IntN(9)), ts, strconv.Itoa(q), fmt.Sprintf("%d.%02d", rng.IntN(20), rng.IntN(100)), "e"}, ",")
						if slices.Contains(prev, rec) {
							dups++
							if firstDup == 0 {
								firstDup = line + 1
							}
						}
						prev = append(prev, rec)
					}
					sb.WriteString(rec + nl)
					line++
					rows++
					loaded++
					purchases++
					if strings.Split(rec, ",")[4][0] == '-' {
						returns++
					}
					if cust == "" {
						anon++
					}
				}
			}
			path := opnWrite(t, "x.csv", []byte(sb.String()))
			h, rep, err := dataset.Open(ctx, path, "csv")
			require.NoError(t, err)
			require.NotNil(t, h)
			assert.Equal(t, "csv", rep.Format)
			assert.Equal(t, rows, rep.Rows)
			assert.Equal(t, loaded, rep.Loaded)
			assert.Equal(t, purchases, rep.Purchases)
			assert.Equal(t, returns, rep.Returns)
			assert.Equal(t, anon, rep.Anonymous)
			assert.Equal(t, dups, rep.Duplicates)
			assert.Equal(t, firstDup, rep.FirstDuplicate)
			assert.Equal(t, []string{"extra"}, rep.Ignored)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
			assert.Equal(t, purchases, h.NumLines(), "duplicates are loaded")
			var want []dataset.Skip
			for _, r := range reasons {
				want = append(want, dataset.Skip{Reason: r, Count: skips[r].count, FirstLine: skips[r].first})
			}
			assert.Equal(t, want, rep.Skipped)
			opnCheckString(t, rep)
			opnCheckLog(t, rep)
		})
	}
}

// opnCheckString parses Report.String's table and compares it with the
// fields.
func opnCheckString(t *testing.T, rep dataset.Report) {
	t.Helper()
	s := rep.String()
	top := map[string]string{}
	var skipLines []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.HasPrefix(l, "  ") {
			skipLines = append(skipLines, strings.TrimSpace(l))
			continue
		}
		k, v, _ := strings.Cut(l, " ")
		top[k] = strings.TrimSpace(v)
	}
	assert.Equal(t, rep.Format, top["format"])
	for k, v := range map[string]int{"rows": rep.Rows, "loaded": rep.Loaded, "purchases": rep.Purchases, "anonymous": rep.Anonymous,
		"returns": rep.Returns, "events": rep.Events, "catalog": rep.Products, "skipped": rep.SkippedRows()} {
		assert.Equal(t, strconv.Itoa(v), top[k], "String's %s: %q", k, s)
	}
	if rep.Duplicates > 0 {
		assert.Equal(t, fmt.Sprintf("%d (first at line %d)", rep.Duplicates, rep.FirstDuplicate), top["duplicates"], s)
	} else {
		assert.NotContains(t, top, "duplicates")
	}
	if len(rep.Ignored) > 0 {
		assert.Equal(t, strings.Join(rep.Ignored, ", "), top["ignored"])
	}
	require.Len(t, skipLines, len(rep.Skipped), s)
	re := regexp.MustCompile(`^(.*\S)\s+(\d+) \(first at line (\d+)\)$`)
	for i, sk := range rep.Skipped {
		m := re.FindStringSubmatch(skipLines[i])
		require.NotNil(t, m, skipLines[i])
		assert.Equal(t, []string{sk.Reason, strconv.Itoa(sk.Count), strconv.Itoa(sk.FirstLine)}, m[1:])
	}
}

// opnCheckLog compares the JSON of the report's LogValue with the fields.
func opnCheckLog(t *testing.T, rep dataset.Report) {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "r", rep)
	var rec struct{ R map[string]any }
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	g := rec.R
	for k, v := range map[string]int{"rows": rep.Rows, "loaded": rep.Loaded, "purchases": rep.Purchases, "anonymous": rep.Anonymous,
		"returns": rep.Returns, "events": rep.Events, "products": rep.Products, "skipped": rep.SkippedRows()} {
		assert.Equal(t, float64(v), g[k], k)
	}
	if rep.Duplicates > 0 {
		assert.Equal(t, float64(rep.Duplicates), g["duplicates"])
		assert.Equal(t, float64(rep.FirstDuplicate), g["first_duplicate"])
	}
	by, _ := g["skipped_by"].(map[string]any)
	assert.Len(t, by, len(rep.Skipped))
	for _, sk := range rep.Skipped {
		m, _ := by[strings.ReplaceAll(sk.Reason, " ", "_")].(map[string]any)
		assert.Equal(t, map[string]any{"count": float64(sk.Count), "first_line": float64(sk.FirstLine)}, m, sk.Reason)
	}
}

// ---- the synthetic storefront ----

// Every field of SyntheticOptions left zero comes back in
// Storefront.Options as its documented default.
func TestOpnGenerateDocumentedDefaults(t *testing.T) {
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 2})
	o := s.Options
	assert.Equal(t, dataset.SyntheticOptions{
		Customers: 2, Products: 1000, Categories: 50, Seed: 1,
		Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Days: 730,
		MeanOrders: 4, MeanLines: 2.5, Zipf: 1.07, Preference: 0.75,
		Complements: 1000 / 20, ComplementRate: 0.6, RepeatRate: 0.15, ReturnRate: 0.03,
		ViewsPerLine: 2, AbandonRate: 0.3, Seasonality: 0.3,
	}, o)
	assert.Len(t, s.Products, 1000)
	assert.Len(t, s.Truth.Complements, 50)

	// explicit values are kept, and give the same storefront as the
	// Options reported back
	in := dataset.SyntheticOptions{Customers: 30, Products: 60, Categories: 7, Seed: 9, Days: 90,
		Start: time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC), MeanOrders: 2, MeanLines: 1.5, Zipf: 0.8,
		Preference: 0.5, Complements: 4, ComplementRate: 0.9, RepeatRate: 0.3, ReturnRate: 0.1,
		ViewsPerLine: 1, AbandonRate: 0.5, Seasonality: 0.5}
	a := dataset.Generate(in)
	assert.Equal(t, in, a.Options)
	b := dataset.Generate(a.Options)
	assert.Equal(t, a, b)
}

// opnStorefrontInvariants checks the documented properties of a
// generated shop.
func opnStorefrontInvariants(t *testing.T, s *dataset.Storefront) {
	t.Helper()
	o := s.Options
	require.Len(t, s.Products, o.Products)
	end := o.Start.AddDate(0, 0, o.Days)
	prods := map[string]affinity.Product{}
	leaves := map[string]bool{}
	for _, p := range s.Products {
		_, dup := prods[p.Key]
		require.False(t, dup, "product keys are unique: %s", p.Key)
		prods[p.Key] = p
		require.NotEmpty(t, p.Categories, p.Key)
		leaves[p.Categories[0]] = true
	}
	// Categories leaf categories in a three-level tree
	tops, groups := map[string]bool{}, map[string]bool{}
	for l := range leaves {
		parts := strings.Split(l, affinity.CategorySep)
		require.Len(t, parts, 3, l)
		tops[parts[0]] = true
		groups[parts[0]+affinity.CategorySep+parts[1]] = true
	}
	assert.LessOrEqual(t, len(leaves), o.Categories)
	if o.Products >= o.Categories {
		assert.Len(t, leaves, o.Categories, "every leaf category has products")
	}
	if o.Categories >= 2 && o.Products >= 2 {
		assert.GreaterOrEqual(t, len(tops), 2, "at least two departments")
	}
	assert.GreaterOrEqual(t, len(groups), len(tops))

	// the truth: every customer, up to three distinct preferred leaves
	assert.Len(t, s.Truth.TopCategories, o.Customers)
	for c, ls := range s.Truth.TopCategories {
		require.NotEmpty(t, ls, c)
		assert.LessOrEqual(t, len(ls), 3, c)
		assert.Len(t, ls, min(3, len(leaves)), "three distinct preferred leaves: %s %v", c, ls)
		for _, l := range ls {
			assert.True(t, leaves[l], "%s prefers %q, no leaf", c, l)
		}
		assert.Equal(t, len(ls), len(slices.Compact(slices.Sorted(slices.Values(ls)))), c)
	}
	// planted pairs: sorted by A then B, distinct, across departments
	assert.True(t, slices.IsSortedFunc(s.Truth.Complements, func(a, b dataset.Pair) int {
		return cmp.Or(strings.Compare(a.A, b.A), strings.Compare(a.B, b.B))
	}))
	for i, pr := range s.Truth.Complements {
		if i > 0 {
			assert.NotEqual(t, s.Truth.Complements[i-1], pr, "pairs are distinct")
		}
		a, okA := prods[pr.A]
		b, okB := prods[pr.B]
		require.True(t, okA && okB, "%v names products of the catalog", pr)
		ta, _, _ := strings.Cut(a.Categories[0], affinity.CategorySep)
		tb, _, _ := strings.Cut(b.Categories[0], affinity.CategorySep)
		assert.NotEqual(t, ta, tb, "%v: A's and B's categories differ at the top level", pr)
	}

	// purchases: catalog products, customers of the truth, in the
	// trading period; an order has one customer and one time; a return
	// is a negative line in an order of its own, of a product the
	// customer bought before
	type ord struct {
		cust     string
		at       time.Time
		pos, neg int
	}
	orders := map[string]*ord{}
	firstBuy := map[[2]string]time.Time{}
	for _, p := range s.Purchases {
		_, okP := prods[p.Product]
		_, okC := s.Truth.TopCategories[p.Customer]
		require.True(t, okP && okC, "%+v: unknown product or customer", p)
		require.False(t, p.Time.Before(o.Start) || !p.Time.Before(end), "purchase at %v outside [%v, %v)", p.Time, o.Start, end)
		require.True(t, p.Quantity != 0)
		od := orders[p.Order]
		if od == nil {
			od = &ord{cust: p.Customer, at: p.Time}
			orders[p.Order] = od
		}
		require.True(t, od.cust == p.Customer && od.at.Equal(p.Time), "order %s has one customer and one time", p.Order)
		if p.Quantity > 0 {
			od.pos++
			k := [2]string{p.Customer, p.Product}
			if f, ok := firstBuy[k]; !ok || p.Time.Before(f) {
				firstBuy[k] = p.Time
			}
		} else {
			od.neg++
		}
	}
	for _, p := range s.Purchases {
		if p.Quantity < 0 {
			f, ok := firstBuy[[2]string{p.Customer, p.Product}]
			assert.True(t, ok && f.Before(p.Time), "return of %s by %s at %v without an earlier purchase", p.Product, p.Customer, p.Time)
		}
	}
	for k, od := range orders {
		assert.False(t, od.pos > 0 && od.neg > 0, "order %s mixes a return with purchases", k)
	}
	for _, e := range s.Events {
		_, okP := prods[e.Product]
		_, okC := s.Truth.TopCategories[e.Customer]
		require.True(t, okP && okC, "%+v: unknown product or customer", e)
	}
	if o.ViewsPerLine < 0 {
		assert.Empty(t, s.Events, "negative ViewsPerLine disables events")
	}
	if len(s.Purchases) > 0 {
		h, err := s.History(context.Background())
		require.NoError(t, err)
		assert.Equal(t, len(s.Purchases), h.NumLines())
		assert.Equal(t, len(s.Events), h.NumEvents())
		assert.Equal(t, o.Products, h.Catalog().NumProducts())
	}
}

func TestOpnGenerateInvariants(t *testing.T) {
	for i, o := range []dataset.SyntheticOptions{
		{Customers: 100, Products: 120, Categories: 12, Seed: 1},
		{Customers: 80, Products: 300, Categories: 60, Seed: 2, Days: 30, ViewsPerLine: -1},
		{Customers: 60, Products: 40, Categories: 100, Seed: 3, MeanOrders: 1, MeanLines: 1},
		{Customers: 60, Products: 50, Categories: 2, Seed: 4, ReturnRate: 0.5, RepeatRate: 0.5},
		{Customers: 40, Products: 30, Categories: 5, Seed: 5, Days: 1, Start: time.Date(2030, 2, 28, 0, 0, 0, 0, time.UTC)},
		{Customers: 40, Products: 30, Categories: 5, Seed: 6, Start: time.Date(2024, 3, 10, 13, 37, 42, 123, time.FixedZone("x", -7*3600-1800))},
		{Customers: 50, Products: 210, Categories: 210, Seed: 7, Zipf: 2},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			opnStorefrontInvariants(t, dataset.Generate(o))
		})
	}
}

// The same options give the same storefront also when several are
// generated at once: Generate shares no state between calls.
func TestOpnGenerateConcurrentDeterminism(t *testing.T) {
	o := dataset.SyntheticOptions{Customers: 60, Products: 80, Categories: 9, Seed: 11}
	want := dataset.Generate(o)
	got := make([]*dataset.Storefront, 4)
	done := make(chan int)
	for i := range got {
		go func() { got[i] = dataset.Generate(o); done <- i }()
	}
	for range got {
		<-done
	}
	for _, g := range got {
		assert.Equal(t, want, g)
	}
}

// The documented "three-level category tree": every category path of
// every product is department/group/leaf, but for the documented
// "Collections/Seasonal" that about 5 % of the products are also in.
func TestOpnGenerateThreeLevelTree(t *testing.T) {
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 1, Products: 200, Categories: 20})
	var bad []string
	seasonal := 0
	for _, p := range s.Products {
		for i, c := range p.Categories {
			if c == "Collections/Seasonal" && i > 0 {
				seasonal++
				continue
			}
			if len(strings.Split(c, affinity.CategorySep)) != 3 {
				bad = append(bad, p.Key+": "+c)
			}
		}
	}
	assert.Empty(t, bad, "paths that are not department/group/leaf")
	assert.InDelta(t, 0.05*float64(len(s.Products)), float64(seasonal), 10, "about 5 %% in Collections/Seasonal")
}

// Complements is the number of planted pairs: when the catalog allows
// them, exactly that many are planted; when it cannot (one leaf category,
// so one department), the Options reported back must not claim more
// pairs than the Truth holds.
func TestOpnGenerateComplementsCount(t *testing.T) {
	for _, n := range []int{1, 3, 12} {
		s := dataset.Generate(dataset.SyntheticOptions{Customers: 1, Products: 100, Categories: 10, Complements: n})
		assert.Len(t, s.Truth.Complements, n)
	}
}

// opnHangCases may loop forever; each runs in a child process.
var opnHangCases = map[string]dataset.SyntheticOptions{
	"products=1": {Products: 1, Customers: 5},
	"zipf=40":    {Customers: 5, Products: 50, Categories: 10, Zipf: 40},
}

// Generate has no error result and documents no panic or limit on the
// sizes: a tiny catalog (fewer products than the three preferred leaves a
// customer draws) or a steep popularity law must still give a tiny
// storefront. Each case runs on a goroutine given ten seconds (it takes
// milliseconds; a hang, as these cases once did, fails the test instead
// of stalling the suite).
func TestOpnGenerateTerminates(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(opnHangCases)) {
		t.Run(name, func(t *testing.T) {
			done := make(chan *dataset.Storefront, 1)
			go func() { done <- dataset.Generate(opnHangCases[name]) }()
			select {
			case s := <-done:
				assert.NotEmpty(t, s.Products)
			case <-time.After(10 * time.Second):
				t.Fatalf("Generate(%+v) did not return within 10 s", opnHangCases[name])
			}
		})
	}
}

// Options that do not hang but are outside what the documentation
// describes — NaN or infinite means, negative sizes, probabilities
// outside [0, 1] — must not make Generate panic (it documents no panic
// and has no error result): they are clamped or replaced by defaults, and
// the storefront reported back is consistent with its Options.
func TestOpnGenerateNoPanic(t *testing.T) {
	for name, o := range map[string]dataset.SyntheticOptions{
		"products=3,cats=3": {Products: 3, Categories: 3, Customers: 5},
		"meanorders=NaN":    {Customers: 5, Products: 20, Categories: 4, MeanOrders: math.NaN()},
		"meanorders=+Inf":   {Customers: 5, Products: 20, Categories: 4, MeanOrders: math.Inf(1)},
		"meanlines=+Inf":    {Customers: 5, Products: 20, Categories: 4, MeanLines: math.Inf(1)},
		"meanlines=NaN":     {Customers: 5, Products: 20, Categories: 4, MeanLines: math.NaN()},
		"negative sizes":    {Customers: 5, Products: -1, Categories: -3, Days: -2, Complements: -1},
		"probabilities>1":   {Customers: 5, Products: 20, Categories: 4, Preference: 2, RepeatRate: 3, ReturnRate: 2, ComplementRate: 5, AbandonRate: 2, Seasonality: 7},
		"probabilities<0":   {Customers: 5, Products: 20, Categories: 4, Preference: -1, RepeatRate: -1, ReturnRate: -1, ComplementRate: -1, AbandonRate: -1, Seasonality: -1},
		"seasonality=NaN":   {Customers: 5, Products: 20, Categories: 4, Seasonality: math.NaN()},
		"viewsperline=NaN":  {Customers: 5, Products: 20, Categories: 4, ViewsPerLine: math.NaN()},
		"complements=1000":  {Customers: 5, Products: 20, Categories: 4, Complements: 1000},
	} {
		var s *dataset.Storefront
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: Generate(%+v) panicked: %v", name, o, r)
				}
			}()
			s = dataset.Generate(o)
		}()
		if s == nil {
			continue
		}
		so := s.Options
		assert.Len(t, s.Products, so.Products, name)
		assert.Positive(t, so.Products, name)
		assert.Positive(t, so.Categories, name)
		assert.Positive(t, so.Days, name)
		assert.Len(t, s.Truth.TopCategories, so.Customers, name)
		assert.LessOrEqual(t, len(s.Truth.Complements), so.Complements, name)
		end := so.Start.AddDate(0, 0, so.Days)
		for _, p := range s.Purchases {
			if !assert.False(t, p.Time.Before(so.Start) || !p.Time.Before(end), "%s: purchase at %v", name, p.Time) {
				break
			}
		}
	}
}

// Respond panics, as documented, for a zero Start, rates outside [0, 1]
// and a storefront without products; otherwise its purchases are the
// given customers', at most one each, in (Start, Start+Days], at list
// price, with order keys starting with "r", and deterministic.
func TestOpnRespond(t *testing.T) {
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 40, Products: 30, Categories: 5})
	var treated, control []string
	for c := range s.Truth.TopCategories {
		if len(treated) < 20 {
			treated = append(treated, c)
		} else {
			control = append(control, c)
		}
	}
	slices.Sort(treated)
	slices.Sort(control)
	start := s.Options.Start.AddDate(0, 0, s.Options.Days)
	opts := dataset.ResponseOptions{Start: start, BaseRate: 0.4, Uplift: 0.5, Seed: 3}
	ps, tr := s.Respond(treated, control, opts)
	ps2, tr2 := s.Respond(treated, control, opts)
	assert.Equal(t, ps, ps2)
	assert.Equal(t, tr, tr2)
	assert.InDelta(t, 0.5, tr.Uplift, 1e-12)
	price := map[string]affinity.Money{}
	var sum float64
	for _, p := range s.Products {
		price[p.Key] = p.Price
		sum += p.Price.Float()
	}
	assert.InDelta(t, sum/float64(len(s.Products)), tr.MeanOrderValue, 1e-6)
	assert.InDelta(t, 0.5*20*tr.MeanOrderValue, tr.Incremental, 1e-6)
	seen := map[string]bool{}
	for _, p := range ps {
		assert.True(t, slices.Contains(treated, p.Customer) || slices.Contains(control, p.Customer), p.Customer)
		assert.False(t, seen[p.Customer], "one order per customer")
		seen[p.Customer] = true
		assert.True(t, strings.HasPrefix(p.Order, "r"), p.Order)
		assert.True(t, p.Time.After(start) && !p.Time.After(start.AddDate(0, 0, 14)), "%v outside (Start, Start+14d]", p.Time)
		assert.Equal(t, int32(1), p.Quantity)
		assert.Equal(t, price[p.Product], p.Price)
	}
	for name, o := range map[string]dataset.ResponseOptions{
		"zero start":    {},
		"base < 0":      {Start: start, BaseRate: -0.1},
		"uplift > 1":    {Start: start, Uplift: 1.5},
		"base+uplift>1": {Start: start, BaseRate: 0.9, Uplift: 0.5},
	} {
		assert.Panics(t, func() { s.Respond(treated, control, o) }, name)
	}
	empty := &dataset.Storefront{Options: s.Options}
	assert.Panics(t, func() { empty.Respond(treated, control, dataset.ResponseOptions{Start: start}) })
}

// Respond panics for "rates outside [0, 1]": NaN is not a rate in
// [0, 1] either, and silently plants no response at all.
func TestOpnRespondNaNRate(t *testing.T) {
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 5, Products: 10, Categories: 3})
	start := s.Options.Start.AddDate(0, 0, s.Options.Days)
	for name, o := range map[string]dataset.ResponseOptions{
		"base NaN":   {Start: start, BaseRate: math.NaN()},
		"uplift NaN": {Start: start, Uplift: math.NaN()},
	} {
		assert.Panics(t, func() { s.Respond([]string{"c000001"}, []string{"c000002"}, o) }, name)
	}
}

// Options that the documentation rules out are errors, for every format
// they apply to, never a panic or a silently different load: a Comma
// that is a quote, a line break or not a valid rune; a DecimalSep other
// than '.' and ','; more Workers than MaxWorkers.
func TestOpnInvalidOptions(t *testing.T) {
	ctx := context.Background()
	csvFile := opnWrite(t, "x.csv", []byte("customer,product,time,price\nc1,p1,2024-01-01,1.50\n"))
	files := map[string]string{
		"csv": csvFile, "onlineretail": filepath.Join("testdata", "retail.csv"),
		"members": filepath.Join("testdata", "members.csv"), "baskets": filepath.Join("testdata", "baskets.csv"),
	}
	for format, path := range files {
		base, err := dataset.Defaults(format)
		require.NoError(t, err)
		_, _, err = dataset.ReadFile(ctx, path, base)
		require.NoError(t, err, format)
		for name, mutate := range map[string]func(o *dataset.Options){
			"comma quote":      func(o *dataset.Options) { o.Comma = '"' },
			"comma LF":         func(o *dataset.Options) { o.Comma = '\n' },
			"comma CR":         func(o *dataset.Options) { o.Comma = '\r' },
			"comma -1":         func(o *dataset.Options) { o.Comma = -1 },
			"comma RuneError":  func(o *dataset.Options) { o.Comma = '\uFFFD' },
			"comma surrogate":  func(o *dataset.Options) { o.Comma = 0xD800 },
			"comma > MaxRune":  func(o *dataset.Options) { o.Comma = 0x110000 },
			"decimal x":        func(o *dataset.Options) { o.DecimalSep = 'x' },
			"decimal space":    func(o *dataset.Options) { o.DecimalSep = ' ' },
			"workers too many": func(o *dataset.Options) { o.Workers = dataset.MaxWorkers + 1 },
		} {
			o := base
			mutate(&o)
			var h *affinity.History
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s, %s: ReadFile panicked: %v", format, name, r)
					}
				}()
				h, _, err = dataset.ReadFile(ctx, path, o)
			}()
			assert.Error(t, err, "%s, %s", format, name)
			assert.Nil(t, h, "%s, %s", format, name)
		}
	}
}

// Line formats: Rows counts the non-blank lines; a skipped row's
// FirstLine is its physical line, blank lines counted; Rows = Loaded +
// skipped.
func TestOpnLineFormatsAccounting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		format, data string
		rows, loaded int
		skipped      []dataset.Skip
	}{
		{"movielens", "1\t10\t4\t881250949\n\n2\t20\tx\t881250950\n   \n3\t30\t5\t881250951\n2\t21\t\t881250952\n", 4, 2,
			[]dataset.Skip{{Reason: "invalid rating", Count: 1, FirstLine: 3}, {Reason: "wrong field count", Count: 1, FirstLine: 6}}},
		{"cdnow", "\n 00001 19970101  1   11.77\n 00002 1997011x  1   12.00\n\n 00003 19970102  1   1.00\n", 3, 2,
			[]dataset.Skip{{Reason: "invalid time", Count: 1, FirstLine: 3}}},
		{"baskets", "milk,bread\n\n,,\nbutter\n ,  ,\n", 4, 2,
			[]dataset.Skip{{Reason: "empty basket", Count: 2, FirstLine: 3}}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			for name, data := range map[string]string{"LF": tc.data, "CRLF": strings.ReplaceAll(tc.data, "\n", "\r\n")} {
				h, rep, err := dataset.Open(ctx, opnWrite(t, "in", []byte(data)), tc.format)
				require.NoError(t, err, name)
				require.NotNil(t, h)
				assert.Equal(t, tc.rows, rep.Rows, name)
				assert.Equal(t, tc.loaded, rep.Loaded, name)
				assert.Equal(t, tc.skipped, rep.Skipped, name)
				assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), name)
				opnCheckString(t, rep)
			}
		})
	}
}

// Ignored holds at most 32 header texts, each cut to 64 bytes — and a
// cut text is still valid UTF-8 (String, LogValue and JSON print it).
func TestOpnIgnoredColumnsCut(t *testing.T) {
	var hdr []string
	for i := range 40 {
		if i%2 == 0 {
			hdr = append(hdr, fmt.Sprintf("x%02d", i)+strings.Repeat("é", 40))
		} else {
			hdr = append(hdr, fmt.Sprintf("y%02d", i)+strings.Repeat("a", 100))
		}
	}
	data := "customer,product,time," + strings.Join(hdr, ",") + "\n" +
		"c1,p1,2024-01-01" + strings.Repeat(",v", 40) + "\n"
	_, rep, err := dataset.Open(context.Background(), opnWrite(t, "w.csv", []byte(data)), "csv")
	require.NoError(t, err)
	require.Len(t, rep.Ignored, 32)
	var long []string
	for i, s := range rep.Ignored {
		if len(s) > 64 {
			long = append(long, fmt.Sprintf("%d bytes: %q", len(s), s))
		}
		assert.True(t, strings.HasPrefix(hdr[i], strings.TrimSuffix(s, "…")), "%q is a prefix of the header text", s)
		assert.True(t, utf8.ValidString(s), "ignored column %d cut inside a character: %q", i, s)
	}
	assert.Empty(t, long[:min(len(long), 2)], "ignored column texts longer than 64 bytes (%d of them)", len(long))
}

// Duplicates are counted as documented: exact repeats within a run of
// adjacent rows of the same order (customer, order id and time), a blank
// line not ending the run; not a repeat after another order's rows; not
// rows skipped for another reason; FirstDuplicate is the physical line.
func TestOpnDuplicatesRuns(t *testing.T) {
	data := "order,customer,product,time,quantity\n" + // 1
		"o1,c1,a,2024-01-01,1\n" + // 2
		"o1,c1,b,2024-01-01,x\n" + // 3 invalid quantity
		"o1,c1,b,2024-01-01,x\n" + // 4 invalid quantity again: not a duplicate
		"\n" + // 5
		"o1,c1,a,2024-01-01,1\n" + // 6 duplicate of 2
		"o2,c2,a,2024-01-01,1\n" + // 7
		"o1,c1,a,2024-01-01,1\n" + // 8 another run of o1: not a duplicate
		"o1,c1,a,2024-01-01,1\n" + // 9 duplicate of 8
		"o3,c1,a,2024-01-01,1\n" + // 10 another order id: not a duplicate
		"o3,c1,a,2024-01-02,1\n" // 11 another time: not a duplicate
	h, rep, err := dataset.Open(context.Background(), opnWrite(t, "d.csv", []byte(data)), "csv")
	require.NoError(t, err)
	assert.Equal(t, 9, rep.Rows)
	assert.Equal(t, 7, rep.Loaded)
	assert.Equal(t, 2, rep.Duplicates)
	assert.Equal(t, 6, rep.FirstDuplicate)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid quantity", Count: 2, FirstLine: 3}}, rep.Skipped)
	assert.Equal(t, 7, h.NumLines(), "duplicates are loaded by default")
	opnCheckString(t, rep)

	o, err := dataset.Defaults("csv")
	require.NoError(t, err)
	o.DropDuplicates = true
	h, rep, err = dataset.ReadFile(context.Background(), opnWrite(t, "d.csv", []byte(data)), o)
	require.NoError(t, err)
	assert.Equal(t, 9, rep.Rows)
	assert.Equal(t, 5, rep.Loaded)
	assert.Equal(t, 2, rep.Duplicates)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid quantity", Count: 2, FirstLine: 3}, {Reason: "duplicate row", Count: 2, FirstLine: 6}}, rep.Skipped)
	assert.Equal(t, 5, h.NumLines())
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
	opnCheckString(t, rep)
}
