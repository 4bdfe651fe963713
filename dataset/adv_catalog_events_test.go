package dataset_test

// Adversarial tests of the catalog loader, the MovieLens events and the
// line and basket formats (cdnow, baskets, members, movielens,
// onlineretail), against naive models written from the documentation
// (dataset/doc.go, Formats, Options, Report, LoadCatalog).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// ceLoad loads data into a new Builder.
func ceLoad(data string, opts dataset.Options) (*affinity.Builder, dataset.Report, error) {
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, opts)
	return &b, rep, err
}

// ceBuild builds b, which must succeed.
func ceBuild(t *testing.T, b *affinity.Builder) *affinity.History {
	t.Helper()
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// ceAccounting checks the Report's promise: every row read is loaded or
// skipped, reasons in FirstLine order.
func ceAccounting(t *testing.T, rep dataset.Report, what string) {
	t.Helper()
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "%s: Rows = Loaded + skipped\n%v", what, rep)
	assert.True(t, slices.IsSortedFunc(rep.Skipped, func(a, b dataset.Skip) int { return a.FirstLine - b.FirstLine }),
		"%s: Skipped in FirstLine order: %v", what, rep.Skipped)
}

// ceStrictMatchesLenient: the strict load stops at the first row the
// lenient load skips, with the same reason (formats without skips by
// definition).
func ceStrictMatchesLenient(t *testing.T, data string, opts dataset.Options, lenient dataset.Report, what string) {
	t.Helper()
	opts.Lenient = false
	_, _, err := ceLoad(data, opts)
	if len(lenient.Skipped) == 0 {
		assert.NoError(t, err, what)
		return
	}
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe, what)
	assert.Equal(t, lenient.Skipped[0].FirstLine, pe.Line, "%s: %v", what, err)
	assert.Equal(t, lenient.Skipped[0].Reason, pe.Reason, "%s: %v", what, err)
}

func ceSeeds() int { return testdata.Scale(200, 12) }

// ---------------------------------------------------------------------
// Findings

// TestAdvCECDNOWSplitRowAllOrNothing: a CDNOW row whose amount does not
// divide is split into two lines; when the second line does not fit in
// the gross value of the file, the row is skipped (lenient) or the load
// stops at it (strict) — and then none of its lines may stay in the
// Builder.
func TestAdvCECDNOWSplitRowAllOrNothing(t *testing.T) {
	// Line 1 takes 900,000,000,000,000.0000 of the 922,337,203,685,477.5807
	// gross range. Line 2 is 3 cds for 30,000,000,000,000.0001 (does not
	// divide): 2 × 10,000,000,000,000 fits, the whole does not.
	const data = "1 19970101 1 900000000000000\n2 19970102 3 30000000000000.0001\n"

	b, rep, err := ceLoad(data, dataset.Options{Format: "cdnow", Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 1, FirstLine: 2}}, rep.Skipped)
	ceAccounting(t, rep, "lenient")
	assert.Equal(t, 1, rep.Purchases, "a skipped row adds no purchase line")
	assert.Equal(t, 1, b.Len(), "a skipped row adds no purchase line")
	h := ceBuild(t, b)
	_, ok := h.LookupCustomer("2")
	assert.False(t, ok, "the customer of the skipped row has no purchase")

	b, rep, err = ceLoad(data, dataset.Options{Format: "cdnow"})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Line)
	assert.Equal(t, 1, b.Len(), "on error b keeps the records added before the failing row, and only those")
	assert.Equal(t, 1, rep.Purchases)
}

// TestAdvCECSVNameAfterUnnamedFirstRow: the product's name is the most
// frequent of its names (Options.OnProduct: "again when its most frequent
// name replaces the first one at the end of the load"); an empty name is
// no name. A product whose first row has a category but no name, and whose
// only other row names it, must end up with that name.
func TestAdvCECSVNameAfterUnnamedFirstRow(t *testing.T) {
	const data = "product,time,category,name\n" +
		"P,2024-01-01,Home,\n" +
		"P,2024-01-02,,Mug\n"
	b, rep, err := ceLoad(data, dataset.Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Products)
	h := ceBuild(t, b)
	p, ok := h.Catalog().LookupProduct("P")
	require.True(t, ok)
	assert.Equal(t, "Mug", h.Catalog().ProductName(p), "the only name the product is given")
	assert.Equal(t, []string{"Home"}, h.Catalog().Product(p).Categories)
}

// TestAdvCEMaxCategoriesCountsPaths: Limits.MaxCategories is "the most
// category paths one product may have"; empty paths are dropped
// (CatalogColumns.Category, affinity.Product.Categories), so a trailing
// "|" adds no path.
func TestAdvCEMaxCategoriesCountsPaths(t *testing.T) {
	var b affinity.Builder
	rep, err := dataset.LoadCatalog(context.Background(), strings.NewReader("product,category\nP,Home|Gifts|\n"), &b,
		dataset.CatalogOptions{Limits: dataset.Limits{MaxCategories: 2}})
	require.NoError(t, err, "two paths within MaxCategories = 2")
	assert.Equal(t, 1, rep.Products)
}

// TestAdvCEOnlineRetailAdjustmentSkippedInBothModes: "Invoices starting
// with "A" (bad-debt adjustments) are skipped as "adjustment" in both
// modes". An adjustment row need not name a stock code.
func TestAdvCEOnlineRetailAdjustmentSkippedInBothModes(t *testing.T) {
	const data = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
		"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" +
		"A563185,,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,,United Kingdom\n"
	for _, lenient := range []bool{false, true} {
		_, rep, err := ceLoad(data, dataset.Options{Format: "onlineretail", Lenient: lenient})
		require.NoError(t, err, "lenient=%v", lenient)
		assert.Equal(t, []dataset.Skip{{Reason: "adjustment", Count: 1, FirstLine: 3}}, rep.Skipped, "lenient=%v", lenient)
	}
}

// TestAdvCESkippedRowAddsNoProduct: a skipped row is skipped whole. A
// basket with an item whose derived category the Builder refuses is
// rejected (an "invalid category" row); its other items must not get
// catalog entries, and Report.Products must not count them. The same
// holds for an Online Retail row skipped as "amount out of range".
func TestAdvCESkippedRowAddsNoProduct(t *testing.T) {
	deep := func(name string) string {
		if name == "deep" {
			return strings.Repeat("x/", affinity.MaxCategoryDepth+1)
		}
		return "Cat/" + name
	}
	b, rep, err := ceLoad("ok1,deep\nok2\n", dataset.Options{Format: "baskets", Lenient: true, Categories: deep})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid category", Count: 1, FirstLine: 1}}, rep.Skipped)
	assert.Equal(t, 1, rep.Products, "only ok2's entry: basket 1 was skipped")
	assert.False(t, b.HasProduct("ok1"), "the skipped basket names no product")

	const retail = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
		"1,P1,FIRST,1,2010-12-01 08:26:00,900000000000000,1,UK\n" +
		"2,P2,SECOND,1,2010-12-01 08:27:00,30000000000000,2,UK\n"
	b, rep, err = ceLoad(retail, dataset.Options{Format: "onlineretail", Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 1, FirstLine: 3}}, rep.Skipped)
	assert.Equal(t, 1, rep.Products)
	assert.False(t, b.HasProduct("P2"), "the skipped row names no product")
}

// TestAdvCEUnixTimeOutOfRangeReason: a MovieLens timestamp is an integer
// of Unix seconds; one outside affinity.ValidTime is "time out of range"
// (Skip.Reason), whatever its size.
func TestAdvCEUnixTimeOutOfRangeReason(t *testing.T) {
	for _, ts := range []string{"4294967296", "99999999999", "100000000000", "1000000000000", "-1"} {
		_, _, err := ceLoad("1\t2\t3\t"+ts+"\n", dataset.Options{Format: "movielens"})
		var pe *dataset.ParseError
		require.ErrorAs(t, err, &pe, ts)
		assert.Equal(t, "time out of range", pe.Reason, "%s: %v", ts, err)
		assert.Equal(t, 4, pe.Column)
	}
}

// TestAdvCEDuplicatesOfTheSameOrder: Report.Duplicates counts "rows that
// repeat an earlier row of the same order exactly ... of the same user
// ("movielens")", within a run of adjacent rows of the order: a repeat
// after another order's rows is not one (memory stays bounded by the
// longest order). Members orders are "one order per member and day".
func TestAdvCEDuplicatesOfTheSameOrder(t *testing.T) {
	cases := []struct {
		format, data string
		dups, first  int // adjacent repeats: counted
	}{
		{"members", "Member_number,Date,itemDescription\n1,01-01-2015,milk\n1,01-01-2015,milk\n2,01-01-2015,bread\n1,01-01-2015,milk\n", 1, 3},
		{"movielens", "1\t2\t3\t881250949\n1\t2\t3\t881250949\n2\t2\t3\t881250949\n1\t2\t3\t881250949\n", 1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			_, rep, err := ceLoad(tc.data, dataset.Options{Format: tc.format})
			require.NoError(t, err)
			assert.Equal(t, tc.dups, rep.Duplicates, "the adjacent repeat only")
			assert.Equal(t, tc.first, rep.FirstDuplicate)
			_, rep, err = ceLoad(tc.data, dataset.Options{Format: tc.format, DropDuplicates: true})
			require.NoError(t, err)
			assert.Equal(t, 3, rep.Loaded, "the repeat after another order's row is kept")
		})
	}
}

// ---------------------------------------------------------------------
// Guards: catalog

func TestAdvCECatalogEdges(t *testing.T) {
	ctx := context.Background()
	load := func(data string, opts dataset.CatalogOptions) (*affinity.Builder, dataset.Report, error) {
		var b affinity.Builder
		rep, err := dataset.LoadCatalog(ctx, strings.NewReader(data), &b, opts)
		return &b, rep, err
	}
	t.Run("empty", func(t *testing.T) {
		for _, data := range []string{"", "\xef\xbb\xbf", "\n\n", "\xef\xbb\xbf\r\n\r\n"} {
			_, rep, err := load(data, dataset.CatalogOptions{})
			require.ErrorIs(t, err, dataset.ErrEmpty, "%q", data)
			assert.Equal(t, "catalog", rep.Format)
		}
	})
	t.Run("header only", func(t *testing.T) {
		_, rep, err := load("\xef\xbb\xbfproduct,name\r\n", dataset.CatalogOptions{})
		require.NoError(t, err)
		assert.Equal(t, dataset.Report{Format: "catalog"}, rep)
	})
	t.Run("stock flags", func(t *testing.T) {
		flags := map[string]bool{
			"": true, "true": true, "TRUE": true, "yes": true, "Y": true, "1": true, "in stock": true, "In Stock": true, "7": true, "+3": true,
			"false": false, "No": false, "n": false, "0": false, "out of stock": false, "OUT OF STOCK": false, "-2": false,
		}
		var sb strings.Builder
		sb.WriteString("sku,stock\n")
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range flags {
				if !yield(k) {
					return
				}
			}
		})
		for i, k := range keys {
			fmt.Fprintf(&sb, "p%d,%s\n", i, k)
		}
		b, rep, err := load(sb.String(), dataset.CatalogOptions{})
		require.NoError(t, err)
		assert.Equal(t, len(flags), rep.Products)
		h := ceBuild(t, b)
		for i, k := range keys {
			p, ok := h.Catalog().LookupProduct("p" + strconv.Itoa(i))
			require.True(t, ok)
			assert.Equal(t, flags[k], h.Catalog().InStock(p), "stock %q", k)
		}
		for _, bad := range []string{"maybe", "1.5", "x"} {
			_, _, err := load("sku,stock\np,"+bad+"\n", dataset.CatalogOptions{})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, bad)
			assert.Equal(t, "invalid stock flag", pe.Reason)
			assert.Equal(t, 2, pe.Column)
		}
	})
	t.Run("no stock column", func(t *testing.T) {
		b, _, err := load("id,price\np,1.5\n", dataset.CatalogOptions{})
		require.NoError(t, err)
		h := ceBuild(t, b)
		assert.True(t, h.Catalog().InStock(0))
		assert.Equal(t, affinity.Money(15000), h.Catalog().ProductPrice(0))
	})
	t.Run("duplicate product", func(t *testing.T) {
		const data = "product,name\np,first\nq,other\n p ,second\n"
		_, _, err := load(data, dataset.CatalogOptions{})
		var pe *dataset.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "duplicate product", pe.Reason)
		assert.Equal(t, 4, pe.Line)
		b, rep, err := load(data, dataset.CatalogOptions{Lenient: true})
		require.NoError(t, err)
		assert.Equal(t, []dataset.Skip{{Reason: "duplicate product", Count: 1, FirstLine: 4}}, rep.Skipped)
		h := ceBuild(t, b)
		p, _ := h.Catalog().LookupProduct("p")
		assert.Equal(t, "first", h.Catalog().ProductName(p), "the first row wins")
	})
	t.Run("max rows", func(t *testing.T) {
		const data = "product\na\nb\nc\n"
		_, rep, err := load(data, dataset.CatalogOptions{Limits: dataset.Limits{MaxRows: 3}})
		require.NoError(t, err)
		assert.Equal(t, 3, rep.Products)
		_, _, err = load(data, dataset.CatalogOptions{Limits: dataset.Limits{MaxRows: 2}, Lenient: true})
		require.ErrorIs(t, err, dataset.ErrLimit, "a limit stops lenient loads too")
	})
	t.Run("derived categories only where empty", func(t *testing.T) {
		const data = "product,name,category\na,JUMBO BAG RED RETROSPOT,\nb,JUMBO BAG RED RETROSPOT,Bags > Jumbo|Gifts\nc,,\n"
		b, _, err := load(data, dataset.CatalogOptions{Categories: dataset.CategoryFromName})
		require.NoError(t, err)
		cat := ceBuild(t, b).Catalog()
		want := map[string][]string{"a": {"Bag/Jumbo Bag"}, "b": {"Bags/Jumbo", "Gifts"}, "c": nil}
		for k, w := range want {
			p, ok := cat.LookupProduct(k)
			require.True(t, ok, k)
			assert.Equal(t, w, productPaths(cat, p), k)
		}
	})
	t.Run("load keeps the catalog", func(t *testing.T) {
		var b affinity.Builder
		_, err := dataset.LoadCatalog(ctx, strings.NewReader("product,name,category,price\nm,Movie,Films/Drama,9.99\n"), &b, dataset.CatalogOptions{})
		require.NoError(t, err)
		rep, err := dataset.Load(ctx, strings.NewReader("Member_number,Date,itemDescription\n1,01-01-2015,m\n"), &b,
			dataset.Options{Format: "members", Categories: dataset.CategoryFromName})
		require.NoError(t, err)
		assert.Equal(t, 0, rep.Products)
		cat := ceBuild(t, &b).Catalog()
		p, _ := cat.LookupProduct("m")
		assert.Equal(t, affinity.Product{Key: "m", Name: "Movie", Categories: []string{"Films/Drama"}, Price: 99900, InStock: true}, cat.Product(p))
	})
}

// ceCatalogRow is a generated catalog row and what the model expects.
type ceCatalogRow struct {
	fields []string
	reason string // "" when loaded
	want   affinity.Product
}

// TestAdvCECatalogModel loads random catalogs, some rows bad in one field,
// and compares each product and the Report with a model of the docs.
func TestAdvCECatalogModel(t *testing.T) {
	for seed := range uint64(ceSeeds()) {
		rng := rand.New(rand.NewPCG(seed, 7))
		comma := []string{",", ";", "\t"}[rng.IntN(3)]
		var rows []ceCatalogRow
		var loaded []string
		n := rng.IntN(40)
		for i := range n {
			key := fmt.Sprintf("k%d", i)
			name := []string{"", "Mug", "Tea Towel", "Bag"}[rng.IntN(4)]
			catText, cats := "", []string(nil)
			switch rng.IntN(4) {
			case 1:
				catText, cats = "Home > Kitchen", []string{"Home/Kitchen"}
			case 2:
				catText, cats = " Home/Kitchen | Gifts |", []string{"Home/Kitchen", "Gifts"}
			case 3:
				catText, cats = "a/b/c|d", []string{"a/b/c", "d"}
			}
			units := rng.IntN(100000)
			price, priceText := affinity.Money(units), fmt.Sprintf("%d.%04d", units/10000, units%10000)
			if rng.IntN(5) == 0 {
				price, priceText = 0, ""
			}
			stock, stockText := true, []string{"", "yes", "5", "in stock"}[rng.IntN(4)]
			if rng.IntN(3) == 0 {
				stock, stockText = false, []string{"no", "0", "out of stock", "false"}[rng.IntN(4)]
			}
			r := ceCatalogRow{want: affinity.Product{Key: key, Name: name, Categories: cats, Price: price, InStock: stock}}
			switch rng.IntN(8) {
			case 0:
				priceText, r.reason = "1.2.3", "invalid price"
			case 1:
				priceText, r.reason = "-1", "negative price"
			case 2:
				stockText, r.reason = "perhaps", "invalid stock flag"
			case 3:
				key, r.reason = "", "missing product"
			case 4:
				if len(loaded) > 0 {
					key, r.reason = loaded[rng.IntN(len(loaded))], "duplicate product"
				}
			}
			r.fields = []string{key, name, catText, priceText, stockText}
			if rng.IntN(10) == 0 {
				r.fields, r.reason = r.fields[:4], "wrong field count"
			}
			if r.reason == "" {
				loaded = append(loaded, key)
			}
			rows = append(rows, r)
		}
		var sb strings.Builder
		sb.WriteString(strings.Join([]string{"SKU", "Title", "Category Path", "List Price", "In Stock"}, comma) + "\r\n")
		for _, r := range rows {
			sb.WriteString(strings.Join(r.fields, comma) + "\n")
		}
		data := sb.String()
		what := fmt.Sprintf("seed %d", seed)

		var b affinity.Builder
		rep, err := dataset.LoadCatalog(context.Background(), strings.NewReader(data), &b,
			dataset.CatalogOptions{Lenient: true, Comma: rune(comma[0])})
		require.NoError(t, err, what)
		ceAccounting(t, rep, what)
		assert.Equal(t, len(rows), rep.Rows, what)
		assert.Equal(t, len(loaded), rep.Products, what)
		var firstBad dataset.Skip
		for i, r := range rows {
			if r.reason != "" {
				firstBad = dataset.Skip{Reason: r.reason, FirstLine: i + 2}
				break
			}
		}
		if firstBad.Reason != "" {
			require.NotEmpty(t, rep.Skipped, what)
			assert.Equal(t, firstBad.Reason, rep.Skipped[0].Reason, what)
			assert.Equal(t, firstBad.FirstLine, rep.Skipped[0].FirstLine, what)
		}
		cat := ceBuild(t, &b).Catalog()
		assert.Equal(t, len(loaded), cat.NumProducts(), what)
		id := 0
		for _, r := range rows {
			if r.reason != "" {
				continue
			}
			require.Less(t, id, cat.NumProducts(), what)
			got := cat.Product(affinity.ProductID(id))
			if len(got.Categories) == 0 {
				got.Categories = nil
			}
			assert.Equal(t, r.want, got, "%s: ids in file order", what)
			id++
		}

		b2 := affinity.Builder{}
		_, err = dataset.LoadCatalog(context.Background(), strings.NewReader(data), &b2, dataset.CatalogOptions{Comma: rune(comma[0])})
		if firstBad.Reason == "" {
			assert.NoError(t, err, what)
		} else {
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, what)
			assert.Equal(t, firstBad.FirstLine, pe.Line, what)
			assert.Equal(t, firstBad.Reason, pe.Reason, what)
		}
	}
}

// ---------------------------------------------------------------------
// Guards: cdnow

// TestAdvCECDNOWModel: random CDNOW files, master and sample layout; every
// customer-day is one order whose CD count and value are exactly those of
// its rows, each row at most two lines.
func TestAdvCECDNOWModel(t *testing.T) {
	day0 := time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)
	type key struct {
		cust string
		day  int64
	}
	type agg struct {
		qty   int64
		value affinity.Money
	}
	for seed := range uint64(ceSeeds()) {
		rng := rand.New(rand.NewPCG(seed, 11))
		sample := rng.IntN(2) == 0
		want := map[key]agg{}
		var sb strings.Builder
		var firstBad dataset.Skip
		rows, loaded, lines, returns := 0, 0, 0, 0
		for i := range rng.IntN(60) + 1 {
			if i > 0 && rng.IntN(10) == 0 {
				sb.WriteString("  \r\n") // blank: not a row
				continue
			}
			rows++
			cust := strconv.Itoa(rng.IntN(6) + 1)
			d := day0.AddDate(0, 0, rng.IntN(30))
			q := rng.IntN(7) - 2
			if q == 0 {
				q = 1
			}
			amount := affinity.Money(rng.Int64N(2_000_000))
			dateT, qT, amT := d.Format("20060102"), strconv.Itoa(q), fmt.Sprintf("%d.%04d", amount/10000, amount%10000)
			reason := ""
			switch rng.IntN(10) {
			case 0:
				dateT, reason = "19971340", "invalid time"
			case 1:
				qT, reason = "x", "invalid quantity"
			case 2:
				qT, reason = "0", "zero quantity"
			case 3:
				amT, reason = "12.345678", "invalid price"
			case 4:
				amT, reason = "-"+amT, "negative price"
				if amount == 0 {
					reason = ""
				}
			case 5:
				if i > 0 {
					dateT, reason = "", "wrong field count"
				}
			}
			fields := []string{cust, dateT, qT, amT}
			if sample {
				fields = []string{cust, strconv.Itoa(1000 + rng.IntN(99)), dateT, qT, amT}
			}
			sb.WriteString(strings.Join(slices.DeleteFunc(fields, func(s string) bool { return s == "" }), []string{" ", "\t", "   "}[rng.IntN(3)]))
			sb.WriteString([]string{"\n", "\r\n"}[rng.IntN(2)])
			if reason != "" {
				if firstBad.Reason == "" {
					firstBad = dataset.Skip{Reason: reason, FirstLine: i + 1}
				}
				continue
			}
			loaded++
			k := key{cust, d.Unix()}
			a := want[k]
			a.qty += int64(q)
			if q < 0 {
				a.value -= amount
			} else {
				a.value += amount
			}
			want[k] = a
			n := 1
			if amount%affinity.Money(max(q, -q)) != 0 {
				n = 2
			}
			lines += n
			if q < 0 {
				returns += n
			}
		}
		data := sb.String()
		what := fmt.Sprintf("seed %d sample %v\n%s", seed, sample, data)
		opts := dataset.Options{Format: "cdnow", Lenient: true}
		b, rep, err := ceLoad(data, opts)
		require.NoError(t, err, what)
		ceAccounting(t, rep, what)
		assert.Equal(t, rows, rep.Rows, what)
		assert.Equal(t, loaded, rep.Loaded, what)
		assert.Equal(t, lines, rep.Purchases, what)
		assert.Equal(t, returns, rep.Returns, what)
		assert.Zero(t, rep.Anonymous, what)
		assert.Zero(t, rep.Products, "cdnow names no product")
		if firstBad.Reason != "" {
			require.NotEmpty(t, rep.Skipped, what)
			assert.Equal(t, firstBad, dataset.Skip{Reason: rep.Skipped[0].Reason, FirstLine: rep.Skipped[0].FirstLine}, what)
		}
		ceStrictMatchesLenient(t, data, opts, rep, what)

		h := ceBuild(t, b)
		got := map[key]agg{}
		for o := range h.Orders() {
			c := h.OrderCustomer(o)
			require.NotEqual(t, affinity.NoCustomer, c, what)
			k := key{h.CustomerKey(c), h.OrderUnix(o)}
			_, dup := got[k]
			require.False(t, dup, "%s: one order per customer and day %v", what, k)
			lo, hi := h.OrderLines(o)
			var a agg
			for i := lo; i < hi; i++ {
				l := h.Line(i)
				assert.Equal(t, dataset.CDNOWProduct, h.Catalog().ProductKey(l.Product))
				a.qty += int64(l.Quantity)
			}
			a.value = h.OrderValue(o)
			got[k] = a
		}
		assert.Equal(t, want, got, what)
	}
}

// TestAdvCECDNOWSplitExtremes: the split keeps count and spend exact at the
// edges: one cent over many CDs, a prime count, a return.
func TestAdvCECDNOWSplitExtremes(t *testing.T) {
	cases := []struct {
		line   string
		qty    int32
		value  affinity.Money
		lines  int
		prices []affinity.Money
	}{
		{"1 19970101 7 0.0001", 7, 1, 2, []affinity.Money{0, 1}},
		{"1 19970101 3 1.00", 3, 10000, 2, []affinity.Money{3333, 3334}},
		{"1 19970101 -3 1.00", -3, -10000, 2, []affinity.Money{3333, 3334}},
		{"1 19970101 4 1.00", 4, 10000, 1, []affinity.Money{2500}},
		{"1 19970101 2147483647 0.0003", 2147483647, 3, 2, []affinity.Money{0, 3}},
		{"1 19970101 1 0", 1, 0, 1, []affinity.Money{0}},
	}
	for _, tc := range cases {
		b, rep, err := ceLoad(tc.line+"\n", dataset.Options{Format: "cdnow"})
		require.NoError(t, err, tc.line)
		assert.Equal(t, tc.lines, rep.Purchases, tc.line)
		h := ceBuild(t, b)
		require.Equal(t, 1, h.NumOrders(), tc.line)
		lo, hi := h.OrderLines(0)
		var q int32
		var prices []affinity.Money
		for i := lo; i < hi; i++ {
			q += h.Line(i).Quantity
			prices = append(prices, h.Line(i).Price)
		}
		slices.Sort(prices)
		assert.Equal(t, tc.qty, q, tc.line)
		assert.Equal(t, tc.value, h.OrderValue(0), tc.line)
		assert.Equal(t, tc.prices, prices, tc.line)
	}
}

// ---------------------------------------------------------------------
// Guards: movielens (events)

// ceRating is one expected event.
type ceRating struct {
	user, item string
	unix       int64
	weight     float32
}

func (r ceRating) String() string {
	return fmt.Sprintf("%s %s %d %g", r.user, r.item, r.unix, r.weight)
}

// ceMovieLens returns a random ratings file in one of the three layouts
// with the expected events and the first bad row.
func ceMovieLens(rng *rand.Rand, n int) (data string, want []ceRating, rows int, first dataset.Skip) {
	sep := []string{"\t", "::", ","}[rng.IntN(3)]
	var sb strings.Builder
	line := 0
	if sep == "," && rng.IntN(2) == 0 {
		sb.WriteString("userId,movieId,rating,timestamp\n")
		line++
	}
	for range n {
		line++
		u, it := strconv.Itoa(rng.IntN(8)+1), strconv.Itoa(rng.IntN(20)+1)
		w := float32(rng.IntN(10)+1) / 2
		ts := int64(affinity.MinUnix) + rng.Int64N(affinity.MaxUnix+1)
		if rng.IntN(4) == 0 {
			ts = []int64{affinity.MinUnix, affinity.MaxUnix, 881250949}[rng.IntN(3)]
		}
		f := []string{u, it, strconv.FormatFloat(float64(w), 'g', -1, 32), strconv.FormatInt(ts, 10)}
		reason := ""
		switch rng.IntN(12) {
		case 0:
			f[2], reason = "NaN", "invalid rating"
		case 1:
			f[3], reason = "12:00", "invalid time"
		case 2:
			f[3], reason = "4294967296", "time out of range"
		case 3:
			f, reason = f[:3], "wrong field count"
		case 4:
			if sep != "\t" {
				f[0], reason = "", "missing customer"
			}
		case 5:
			if sep != "\t" {
				f[1], reason = "", "missing product"
			}
		}
		if rng.IntN(8) == 0 {
			sb.WriteString("\n") // blank: not a row
			line++
		}
		rows++
		sb.WriteString(strings.Join(f, sep) + []string{"\n", "\r\n"}[rng.IntN(2)])
		if reason != "" {
			if first.Reason == "" {
				first = dataset.Skip{Reason: reason, FirstLine: line}
			}
			continue
		}
		want = append(want, ceRating{u, it, ts, w})
	}
	return sb.String(), want, rows, first
}

func ceEvents(h *affinity.History) []string {
	var out []string
	for e := range h.Events() {
		if e.Kind != affinity.Rating {
			out = append(out, "kind "+e.Kind.String())
		}
		out = append(out, ceRating{e.Customer, e.Product, e.Time.Unix(), e.Weight}.String())
	}
	slices.Sort(out)
	return out
}

func TestAdvCEMovieLensModel(t *testing.T) {
	for seed := range uint64(ceSeeds()) {
		rng := rand.New(rand.NewPCG(seed, 13))
		data, want, rows, first := ceMovieLens(rng, rng.IntN(50)+1)
		what := fmt.Sprintf("seed %d\n%s", seed, data)
		opts := dataset.Options{Format: "movielens", Lenient: true}
		b, rep, err := ceLoad(data, opts)
		require.NoError(t, err, what)
		ceAccounting(t, rep, what)
		assert.Equal(t, rows, rep.Rows, what)
		assert.Equal(t, len(want), rep.Events, what)
		assert.Equal(t, len(want), rep.Loaded, what)
		assert.Zero(t, rep.Purchases, what)
		assert.Zero(t, rep.Products, "movielens names no product")
		if first.Reason != "" {
			require.NotEmpty(t, rep.Skipped, what)
			assert.Equal(t, first, dataset.Skip{Reason: rep.Skipped[0].Reason, FirstLine: rep.Skipped[0].FirstLine}, what)
		}
		ceStrictMatchesLenient(t, data, opts, rep, what)
		h := ceBuild(t, b)
		var ws []string
		for _, r := range want {
			ws = append(ws, r.String())
		}
		slices.Sort(ws)
		assert.Equal(t, ws, ceEvents(h), what)
		assert.Zero(t, h.NumLines(), what)

		// As purchases: one line per rating, one order per user and second.
		opts.MovieLensAsPurchases = true
		b, rep, err = ceLoad(data, opts)
		require.NoError(t, err, what)
		assert.Equal(t, len(want), rep.Purchases, what)
		assert.Zero(t, rep.Events, what)
		h = ceBuild(t, b)
		orders := map[string]bool{}
		for _, r := range want {
			orders[r.user+"@"+strconv.FormatInt(r.unix, 10)] = true
		}
		assert.Equal(t, len(orders), h.NumOrders(), what)
		assert.Equal(t, len(want), h.NumLines(), what)
	}
}

// TestAdvCEMovieLensParts: loading a ratings file in two parts — into the
// same Builder, or the second onto the History built from the first — gives
// the History of the whole file (events are independent rows).
func TestAdvCEMovieLensParts(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(ceSeeds()) {
		rng := rand.New(rand.NewPCG(seed, 17))
		var sb strings.Builder
		for range rng.IntN(40) + 2 {
			fmt.Fprintf(&sb, "%d\t%d\t%d\t%d\n", rng.IntN(5)+1, rng.IntN(9)+1, rng.IntN(5)+1, 881250000+rng.IntN(100))
		}
		data := sb.String()
		ls := strings.SplitAfter(data, "\n")
		cut := rng.IntN(len(ls)-2) + 1
		a, z := strings.Join(ls[:cut], ""), strings.Join(ls[cut:], "")
		what := fmt.Sprintf("seed %d cut %d", seed, cut)

		whole, _, err := ceLoad(data, dataset.Options{Format: "movielens"})
		require.NoError(t, err)
		hw := ceBuild(t, whole)

		b, _, err := ceLoad(a, dataset.Options{Format: "movielens"})
		require.NoError(t, err)
		_, err = dataset.Load(ctx, strings.NewReader(z), b, dataset.Options{Format: "movielens"})
		require.NoError(t, err)
		assert.Equal(t, dump(hw), dump(ceBuild(t, b)), "%s: same Builder", what)

		b, _, err = ceLoad(a, dataset.Options{Format: "movielens"})
		require.NoError(t, err)
		h1 := ceBuild(t, b)
		nb := affinity.NewBuilder(h1)
		_, err = dataset.Load(ctx, strings.NewReader(z), nb, dataset.Options{Format: "movielens"})
		require.NoError(t, err)
		assert.Equal(t, ceEvents(hw), ceEvents(ceBuild(t, nb)), "%s: on the History of the first part", what)
	}
}

// TestAdvCEMovieLensTimeEdges: the first and last second of ValidTime load;
// the seconds just outside are "time out of range".
func TestAdvCEMovieLensTimeEdges(t *testing.T) {
	data := fmt.Sprintf("1::1::5::%d\n1::2::4.5::%d\n1::3::1::%d\n", affinity.MinUnix, affinity.MaxUnix, affinity.MaxUnix+1)
	b, rep, err := ceLoad(data, dataset.Options{Format: "movielens", Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "time out of range", Count: 1, FirstLine: 3}}, rep.Skipped)
	h := ceBuild(t, b)
	assert.Equal(t, []string{"1 1 0 5", "1 2 4294967295 4.5"}, ceEvents(h))
	assert.Equal(t, time.Unix(affinity.MaxUnix, 0).UTC(), h.Latest().UTC())
}

// ---------------------------------------------------------------------
// Guards: baskets and members

func TestAdvCEBasketsModel(t *testing.T) {
	pool := []string{"milk", "bread", "eggs", "tea", "jam", "whole milk", "rolls/buns"}
	for seed := range uint64(ceSeeds()) {
		rng := rand.New(rand.NewPCG(seed, 19))
		var sb strings.Builder
		want := map[string][]string{}
		rows, items := 0, 0
		var first dataset.Skip
		n := rng.IntN(40) + 1
		for line := 1; line <= n; line++ {
			if line > 1 && rng.IntN(10) == 0 {
				sb.WriteString("\n") // empty line: no record
				continue
			}
			rows++
			var fs, got []string
			for range rng.IntN(5) {
				it := pool[rng.IntN(len(pool))]
				switch rng.IntN(5) {
				case 0:
					fs = append(fs, "  ") // an empty item
					continue
				case 1:
					fs = append(fs, " "+it+"\t")
				default:
					fs = append(fs, it)
				}
				got = append(got, it)
			}
			if len(fs) == 0 {
				fs = []string{"", ""} // ","
				if rng.IntN(2) == 0 {
					fs = []string{"  ", "\t"}
				}
			}
			sb.WriteString(strings.Join(fs, ",") + "\n")
			if len(got) == 0 {
				if first.Reason == "" {
					first = dataset.Skip{Reason: "empty basket", FirstLine: line}
				}
				continue
			}
			slices.Sort(got)
			want["basket:0:"+strconv.Itoa(line)] = got // a load into an empty Builder
			items += len(got)
		}
		data := sb.String()
		what := fmt.Sprintf("seed %d\n%q", seed, data)
		opts := dataset.Options{Format: "baskets", Lenient: true}
		b, rep, err := ceLoad(data, opts)
		if len(want) == 0 && rows == 0 {
			require.ErrorIs(t, err, dataset.ErrEmpty, what)
			continue
		}
		require.NoError(t, err, what)
		ceAccounting(t, rep, what)
		assert.Equal(t, rows, rep.Rows, what)
		assert.Equal(t, len(want), rep.Loaded, what)
		assert.Equal(t, items, rep.Purchases, what)
		assert.Equal(t, items, rep.Anonymous, what)
		if first.Reason != "" {
			require.NotEmpty(t, rep.Skipped, what)
			assert.Equal(t, first, dataset.Skip{Reason: rep.Skipped[0].Reason, FirstLine: rep.Skipped[0].FirstLine}, what)
		}
		ceStrictMatchesLenient(t, data, opts, rep, what)
		h := ceBuild(t, b)
		got := map[string][]string{}
		lo, hi := h.AnonymousOrders()
		assert.Equal(t, h.NumOrders(), int(hi-lo), "%s: every basket is anonymous", what)
		for o := lo; o < hi; o++ {
			assert.Equal(t, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), h.OrderTime(o).UTC())
			l0, l1 := h.OrderLines(o)
			var ps []string
			for i := l0; i < l1; i++ {
				l := h.Line(i)
				assert.Equal(t, int32(1), l.Quantity)
				assert.Zero(t, l.Price)
				ps = append(ps, h.Catalog().ProductKey(l.Product))
			}
			slices.Sort(ps)
			got[h.OrderKey(o)] = ps
		}
		assert.Equal(t, want, got, what)
	}
}

func TestAdvCEMembersModel(t *testing.T) {
	pool := []string{"whole milk", "other vegetables", "rolls/buns", "soda", "yogurt"}
	for seed := range uint64(ceSeeds()) {
		rng := rand.New(rand.NewPCG(seed, 23))
		var sb strings.Builder
		sb.WriteString("Member_number,Date,itemDescription\n")
		want := map[string][]string{}
		var first dataset.Skip
		rows := rng.IntN(40) + 1
		for i := range rows {
			m := strconv.Itoa(1000 + rng.IntN(5))
			d := time.Date(2015, time.Month(rng.IntN(2)+1), rng.IntN(28)+1, 0, 0, 0, 0, time.UTC)
			ds := d.Format("02-01-2006")
			if rng.IntN(2) == 0 {
				ds = d.Format("2-1-2006")
			}
			it := pool[rng.IntN(len(pool))]
			f := []string{m, ds, it}
			reason := ""
			switch rng.IntN(10) {
			case 0:
				f[1], reason = "30-02-2015", "invalid time"
			case 1:
				f[2], reason = "", "missing product"
			case 2:
				f, reason = f[:2], "wrong field count"
			}
			sb.WriteString(strings.Join(f, ",") + "\n")
			if reason != "" {
				if first.Reason == "" {
					first = dataset.Skip{Reason: reason, FirstLine: i + 2}
				}
				continue
			}
			k := m + "@" + d.Format(time.DateOnly)
			want[k] = append(want[k], it)
		}
		data := sb.String()
		what := fmt.Sprintf("seed %d\n%s", seed, data)
		opts, err := dataset.Defaults("members")
		require.NoError(t, err)
		b, rep, err := ceLoad(data, opts)
		require.NoError(t, err, what)
		ceAccounting(t, rep, what)
		assert.Equal(t, rows, rep.Rows, what)
		if first.Reason != "" {
			require.NotEmpty(t, rep.Skipped, what)
			assert.Equal(t, first, dataset.Skip{Reason: rep.Skipped[0].Reason, FirstLine: rep.Skipped[0].FirstLine}, what)
		}
		ceStrictMatchesLenient(t, data, opts, rep, what)
		h := ceBuild(t, b)
		got := map[string][]string{}
		for o := range h.Orders() {
			c := h.OrderCustomer(o)
			require.NotEqual(t, affinity.NoCustomer, c)
			k := h.CustomerKey(c) + "@" + h.OrderTime(o).UTC().Format(time.DateOnly)
			_, dup := got[k]
			require.False(t, dup, "%s: one order per member and day: %s", what, k)
			l0, l1 := h.OrderLines(o)
			for i := l0; i < l1; i++ {
				got[k] = append(got[k], h.Catalog().ProductKey(h.Line(i).Product))
			}
			slices.Sort(got[k])
		}
		for k := range want {
			slices.Sort(want[k])
		}
		assert.Equal(t, want, got, what)
		cat := h.Catalog()
		for p := range affinity.ProductID(cat.NumProducts()) {
			pr := cat.Product(p)
			assert.Equal(t, pr.Key, pr.Name, "the item text names the product")
			if c := dataset.CategoryFromName(pr.Key); c != "" {
				assert.Equal(t, []string{c}, pr.Categories, "Defaults derive the categories")
			}
		}
	}
}

// ---------------------------------------------------------------------
// Guards: onlineretail names

// TestAdvCEOnlineRetailNames: the product's name is its most frequent
// description that is not empty or "Missing_Description", the first seen
// among equals; derived categories follow the name; a product first seen
// without a description gets the first real one.
func TestAdvCEOnlineRetailNames(t *testing.T) {
	head := "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
	row := func(inv, code, desc string) string {
		return inv + "," + code + "," + desc + ",1,2010-12-01 08:26:00,1.00,12345.0,UK\n"
	}
	data := head +
		row("1", "A", "") + row("2", "A", "Missing_Description") + row("3", "A", "JUMBO BAG RED RETROSPOT") +
		row("4", "B", "damaged") + row("5", "B", "?") + row("6", "B", "LUNCH BAG PINK") + row("7", "B", "LUNCH BAG PINK") + row("7b", "B", "LUNCH BAG PINK") +
		row("8", "B", "?") + row("C9", "B", "") +
		row("10", "D", "x") + row("11", "D", "y") + row("12", "D", "y") + row("13", "D", "x") +
		row("A14", "E", "adjustment name")
	opts, err := dataset.Defaults("onlineretail")
	require.NoError(t, err)
	b, rep, err := ceLoad(data, opts)
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "adjustment", Count: 1, FirstLine: 16}}, rep.Skipped)
	assert.Equal(t, 1, rep.Returns)
	assert.Equal(t, 3, rep.Products)
	cat := ceBuild(t, b).Catalog()
	want := map[string]string{"A": "JUMBO BAG RED RETROSPOT", "B": "LUNCH BAG PINK", "D": "x"}
	for k, name := range want {
		p, ok := cat.LookupProduct(k)
		require.True(t, ok, k)
		assert.Equal(t, name, cat.ProductName(p), k)
		var paths []string
		if c := dataset.CategoryFromName(name); c != "" {
			paths = []string{c}
		}
		assert.Equal(t, paths, productPaths(cat, p), k)
	}
	_, ok := cat.LookupProduct("E")
	assert.False(t, ok, "adjustments add nothing")
}

// ---------------------------------------------------------------------
// Guards: Defaults, Open, cancellation

func TestAdvCEDefaults(t *testing.T) {
	derive := map[string]bool{"onlineretail": true, "baskets": true, "members": true, "csv": true, "shopify": true, "woocommerce": true}
	for _, f := range dataset.Formats() {
		o, err := dataset.Defaults(f)
		require.NoError(t, err, f)
		assert.True(t, o.Lenient, f)
		assert.Equal(t, f, o.Format)
		assert.Equal(t, derive[f], o.Categories != nil, f)
		if o.Categories != nil {
			assert.Equal(t, "Bag/Jumbo Bag", o.Categories("JUMBO BAG RED RETROSPOT"), "CategoryFromName")
		}
	}
	o, err := dataset.Defaults("")
	require.NoError(t, err)
	assert.NotNil(t, o.Categories, `"" is csv`)
	for _, bad := range []string{"CSV", "cdnow ", "movielens\x00", "catalog"} {
		_, err := dataset.Defaults(bad)
		require.Error(t, err, bad)
		for _, f := range dataset.Formats() {
			assert.Contains(t, err.Error(), f, "the error lists the known formats")
		}
		h, rep, err := dataset.Open(context.Background(), "testdata/u.data", bad)
		require.Error(t, err)
		assert.Nil(t, h)
		assert.Equal(t, bad, rep.Format)
	}
	h, rep, err := dataset.Open(context.Background(), "testdata/u.data", "movielens")
	require.NoError(t, err)
	assert.Equal(t, rep.Events, h.NumEvents())
	assert.Zero(t, h.Catalog().NumCategories(), "movielens gets no categories")
}

// ceCancelReader cancels ctx on its first read, after the loader's check
// before it starts.
type ceCancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *ceCancelReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}

func TestAdvCECancelMidLoad(t *testing.T) {
	const n = 10_000
	var cd, ml, bk, mb, ct strings.Builder
	mb.WriteString("Member_number,Date,itemDescription\n")
	ct.WriteString("product,name\n")
	for i := range n {
		fmt.Fprintf(&cd, "%d 19970101 1 1.00\n", i)
		fmt.Fprintf(&ml, "%d\t1\t3\t881250949\n", i)
		fmt.Fprintf(&bk, "a%d,b\n", i%7)
		fmt.Fprintf(&mb, "%d,01-01-2015,milk\n", i)
		fmt.Fprintf(&ct, "p%d,n\n", i)
	}
	cases := []struct{ format, data string }{
		{"cdnow", cd.String()}, {"movielens", ml.String()}, {"baskets", bk.String()}, {"members", mb.String()}, {"catalog", ct.String()},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &ceCancelReader{r: strings.NewReader(tc.data), cancel: cancel}
			var b affinity.Builder
			var rep dataset.Report
			var err error
			if tc.format == "catalog" {
				rep, err = dataset.LoadCatalog(ctx, r, &b, dataset.CatalogOptions{})
			} else {
				rep, err = dataset.Load(ctx, r, &b, dataset.Options{Format: tc.format})
			}
			require.ErrorIs(t, err, context.Canceled)
			assert.LessOrEqual(t, rep.Rows, 4096, "ctx is checked every 4096 rows")
			assert.Equal(t, tc.format, rep.Format)

			rep, err = dataset.Load(canceledCE(), strings.NewReader(tc.data), &b, dataset.Options{Format: "cdnow"})
			require.ErrorIs(t, err, context.Canceled, "checked before it starts")
			assert.Zero(t, rep.Rows)
		})
	}
}

func canceledCE() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// ---------------------------------------------------------------------
// Guards: CategoryFromName

// TestAdvCECategoryFromNameShape: on random names made of the word lists'
// kinds, the result is deterministic, "" or one or two title-cased levels
// without "/" inside a level, the second ending with the first (the head
// noun with its modifier), and "" exactly when no content word is left.
func TestAdvCECategoryFromNameShape(t *testing.T) {
	words := []string{"JUMBO", "BAG", "BAGS", "RED", "RETROSPOT", "SET", "OF", "3", "CAKE", "TINS", "T-LIGHT", "HOLDER", "HLDR",
		"WITH", "AND", ",", "(", ")", "HEART", "Äpfel", "café", "'n'", "-", "12PC", "DOILIES", "BOXES", "x", "/", "Ünïcode", "LIGHT", "BLUE"}
	for seed := range uint64(testdata.Scale(4000, 400)) {
		rng := rand.New(rand.NewPCG(seed, 29))
		var ws []string
		for range rng.IntN(7) {
			ws = append(ws, words[rng.IntN(len(words))])
		}
		name := strings.Join(ws, []string{" ", "  ", "\t"}[rng.IntN(3)])
		got := dataset.CategoryFromName(name)
		require.Equal(t, got, dataset.CategoryFromName(name), "deterministic")
		if got == "" {
			continue
		}
		assert.True(t, utf8.ValidString(got), "%q → %q", name, got)
		levels := strings.Split(got, "/")
		require.LessOrEqual(t, len(levels), 2, "%q → %q", name, got)
		for _, l := range levels {
			require.NotEmpty(t, strings.TrimSpace(l), "%q → %q", name, got)
			r, _ := utf8.DecodeRuneInString(l)
			assert.True(t, unicode.IsUpper(r) || !unicode.IsLetter(r), "title case: %q → %q", name, got)
		}
		assert.Equal(t, got, affinity.CleanCategoryPath(got), "%q → %q", name, got)
	}
	for name, want := range map[string]string{
		"WHITE HANGING HEART T-LIGHT HOLDER": "Holder/T-Light Holder",
		"SET OF 3 CAKE TINS PANTRY DESIGN":   "Tin/Cake Tin",
		"JUMBO BAG RED RETROSPOT":            "Bag/Jumbo Bag",
		"DOORMAT, RED SPOT":                  "Doormat",
		"CLOCK WITH SUCKER":                  "Clock",
		"TEACUP AND SAUCER":                  "Saucer",
		"SET OF 12 T-LIGHTS":                 "Light/T-Light",
		"bags":                               "Bag",
		"boxes":                              "Box",
		"doilies":                            "Doily",
		"":                                   "",
		"RED 12 OF THE":                      "",
	} {
		assert.Equal(t, want, dataset.CategoryFromName(name), name)
	}
}

// TestAdvCEErrorsLocated: every error of a strict load of these formats is
// a *ParseError with a line ≥ 1, or one of the documented sentinels.
func TestAdvCEErrorsLocated(t *testing.T) {
	for _, tc := range []struct{ format, data string }{
		{"cdnow", "1 2 3\n"}, {"cdnow", "1 19970101 1 1.00\n1 1 1\n"}, {"movielens", "a b c\n"}, {"baskets", ",,\n"},
		{"members", "Member_number,Date\n"}, {"members", "Member_number,Date,itemDescription\n1,2,3\n"},
	} {
		_, _, err := ceLoad(tc.data, dataset.Options{Format: tc.format})
		var pe *dataset.ParseError
		require.True(t, errors.As(err, &pe), "%s %q: %v", tc.format, tc.data, err)
		assert.GreaterOrEqual(t, pe.Line, 1)
	}
}
