package dataset_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// bombChunks holds, by body, the gzip member of bomb's chunk (body
// repeated to a MiB), compressed once for every bomb with that body.
var bombChunks sync.Map // string → []byte

// bomb returns a gzip stream of about gzipSize bytes: head, then body
// repeated. It is built as concatenated gzip members (which gzip readers
// decompress as one stream), so that a bomb of a megabyte that expands to
// hundreds is cheap to make.
func bomb(t testing.TB, head, body string, gzipSize int) (data []byte, expanded int64) {
	t.Helper()
	member := func(s string) []byte {
		var z bytes.Buffer
		zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
		require.NoError(t, err)
		_, err = io.WriteString(zw, s)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		return z.Bytes()
	}
	out := member(head)
	expanded = int64(len(head))
	chunk := strings.Repeat(body, max(1, (1<<20)/len(body)))
	var m []byte
	if v, ok := bombChunks.Load(body); ok {
		m = v.([]byte)
	} else {
		m = member(chunk)
		bombChunks.Store(body, m)
	}
	out = slices.Grow(out, gzipSize+len(m)) // room for every member up front
	for len(out) < gzipSize {
		out = append(out, m...)
		expanded += int64(len(chunk))
	}
	return out, expanded
}

// allocated returns the bytes allocated by fn and its error. TotalAlloc
// counts every allocation, collected or not: no collection is needed
// before (one costs milliseconds).
func allocated(fn func() error) (uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// loadAs loads data in opts.Format into a new Builder: with Load, or for
// "catalog" with LoadCatalog (and opts' Lenient and Limits).
func loadAs(data []byte, opts dataset.Options) (dataset.Report, error) {
	var b affinity.Builder
	if opts.Format == "catalog" {
		return dataset.LoadCatalog(context.Background(), bytes.NewReader(data), &b, dataset.CatalogOptions{Lenient: opts.Lenient, Limits: opts.Limits})
	}
	return dataset.Load(context.Background(), bytes.NewReader(data), &b, opts)
}

// requireLimit checks that err is the located error of the named limit.
func requireLimit(t *testing.T, err error, name string) *dataset.ParseError {
	t.Helper()
	require.ErrorIs(t, err, dataset.ErrLimit)
	require.ErrorContains(t, err, "Limits."+name)
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	require.Positive(t, pe.Line)
	return pe
}

// TestUnclosedQuoteGzipBomb is the hostile file that used to take the
// process down: a small gzip whose body opens a quote and never closes
// it. Every CSV format must stop at Limits.MaxLine with the line and
// field where the record reached it, in bounded memory.
func TestUnclosedQuoteGzipBomb(t *testing.T) {
	body := strings.Repeat("x", 99) + "\n" // short lines: only the record grows
	heads := map[string]string{
		"csv":          "customer,product,time,name\nc1,p1,2024-01-02,\"", // in free text: a line break may be the name's
		"onlineretail": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,p,\"",
		"members":      "Member_number,Date,itemDescription\n1,01-01-2015,\"",
		"baskets":      "a,b\n\"",
		"catalog":      "product,name\np1,\"",
	}
	var worst uint64
	var size int64
	for format, head := range heads {
		t.Run(format, func(t *testing.T) {
			data, n := bomb(t, head, body, 1<<20)
			size = n
			alloc, err := allocated(func() error {
				_, err := loadAs(data, dataset.Options{Format: format, Lenient: true})
				return err
			})
			t.Logf("%d bytes of gzip, %d MiB decompressed: %.1f MiB allocated, %v", len(data), n>>20, float64(alloc)/(1<<20), err)
			// The quoted field reaches MaxField (64 KiB) first: on the
			// ~650th line of 100 bytes, in the field the quote opened.
			pe := requireLimit(t, err, "MaxField")
			assert.Contains(t, err.Error(), "not closed")
			assert.InDelta(t, 2+(64<<10)/100, pe.Line, 2)
			assert.Positive(t, pe.Column)
			assert.Less(t, alloc, uint64(16<<20), "memory stays bounded by the limits")

			// Without a field limit, the record stops at MaxLine (1 MiB).
			alloc, err = allocated(func() error {
				_, err := loadAs(data, dataset.Options{Format: format, Limits: dataset.Limits{MaxField: -1}})
				return err
			})
			t.Logf("without MaxField: %.1f MiB allocated, %v", float64(alloc)/(1<<20), err)
			pe = requireLimit(t, err, "MaxLine")
			require.ErrorIs(t, err, dataset.ErrLineTooLong)
			assert.InDelta(t, 2+(1<<20)/100, pe.Line, 2)
			assert.Positive(t, pe.Column)
			assert.Less(t, alloc, uint64(24<<20), "memory stays bounded by the limits")
			worst = max(worst, alloc)
		})
	}
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "gzip bomb with an unclosed quote (csv, onlineretail, members, baskets, catalog)",
		Cases: 2 * len(heads), Outcome: fmt.Sprintf("ErrLimit (MaxField, or MaxLine) with line and field; ≤ %.1f MiB allocated for a 1 MB gzip expanding to %d MiB", float64(worst)/(1<<20), size>>20)})
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("MaxBytes", func(t *testing.T) {
		// 5 MiB after decompression (300,000 rows) in the long suite, 2 MiB
		// in the quick one: either is beyond the limit of 1 MiB, and the
		// limit lifted reads every gzip member
		data, _ := bomb(t, "customer,product,time\n", "c1,p1,2024-01-02\n", testdata.Scale(12<<10, 4<<10))
		var b affinity.Builder
		_, err := dataset.Load(ctx, bytes.NewReader(data), &b, dataset.Options{Limits: dataset.Limits{MaxBytes: 1 << 20, MaxRows: -1}})
		requireLimit(t, err, "MaxBytes")
		reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "gzip bomb beyond Limits.MaxBytes", Cases: 1, Outcome: "ErrLimit naming MaxBytes"})
		b = affinity.Builder{}
		_, err = dataset.Load(ctx, bytes.NewReader(data), &b, dataset.Options{Limits: dataset.Limits{MaxBytes: -1}})
		require.NoError(t, err, "-1 lifts the limit")
	})
	t.Run("MaxRows", func(t *testing.T) {
		data := "customer,product,time\n" + strings.Repeat("c1,p1,2024-01-02\n", 10)
		_, err := loadErr(data, dataset.Options{Lenient: true, Limits: dataset.Limits{MaxRows: 9}})
		pe := requireLimit(t, err, "MaxRows")
		assert.Equal(t, 11, pe.Line)
		rep, err := loadErr(data, dataset.Options{Limits: dataset.Limits{MaxRows: 10}})
		require.NoError(t, err)
		assert.Equal(t, 10, rep.Rows)
		_, err = loadErr(strings.Repeat(" 1 19970101 1 1.00\n", 10), dataset.Options{Format: "cdnow", Limits: dataset.Limits{MaxRows: 3}})
		requireLimit(t, err, "MaxRows")
	})
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "dataset.Limits (MaxBytes, MaxRows, MaxField, MaxLine, MaxCategories, MaxBasket)", Cases: 6,
		Outcome: "each limit stops or skips with an error naming it and how to raise it"})
	t.Run("MaxField", func(t *testing.T) {
		data := "customer,product,time,name\nc1,p1,2024-01-02,\"" + strings.Repeat("y", 300) + "\"\n"
		_, err := loadErr(data, dataset.Options{Lenient: true, Limits: dataset.Limits{MaxField: 200}})
		pe := requireLimit(t, err, "MaxField")
		assert.Equal(t, 2, pe.Line)
		assert.Equal(t, 4, pe.Column)
		_, err = loadErr(data, dataset.Options{Limits: dataset.Limits{MaxField: 302}})
		require.NoError(t, err, "quotes count")
	})
	t.Run("MaxLine multibyte separator", func(t *testing.T) {
		// the quote opens a column the loader does not read, which may
		// hold line breaks (a note)
		data := "customer;note;product;time\nc1;x;p1;2024-01-02\nc1;\"" + strings.Repeat("z\n", 200)
		_, err := loadErr(strings.ReplaceAll(data, ";", "¦"), dataset.Options{Comma: '¦', Limits: dataset.Limits{MaxLine: 100}})
		pe := requireLimit(t, err, "MaxLine")
		assert.Equal(t, 2, pe.Column)
	})
	t.Run("MaxCategories", func(t *testing.T) {
		cats := strings.Repeat("a|", 70) + "a"
		data := "customer,product,time,category\nc1,p1,2024-01-02," + cats + "\nc1,p2,2024-01-02,b\n"
		_, err := loadErr(data, dataset.Options{})
		require.ErrorIs(t, err, dataset.ErrLimit)
		require.ErrorContains(t, err, "Limits.MaxCategories")
		rep, err := loadErr(data, dataset.Options{Lenient: true})
		require.NoError(t, err)
		assert.Equal(t, []dataset.Skip{{Reason: "invalid category", Count: 1, FirstLine: 2}}, rep.Skipped)
		var b affinity.Builder
		_, err = dataset.LoadCatalog(ctx, strings.NewReader("product,category\np1,"+cats+"\n"), &b, dataset.CatalogOptions{})
		require.ErrorContains(t, err, "Limits.MaxCategories")
	})
	t.Run("MaxBasket", func(t *testing.T) {
		data := "a,b\n" + strings.Repeat("i,", 20) + "j\n"
		_, err := loadErr(data, dataset.Options{Format: "baskets", Limits: dataset.Limits{MaxBasket: 20}})
		require.ErrorContains(t, err, "Limits.MaxBasket")
		rep, err := loadErr(data, dataset.Options{Format: "baskets", Lenient: true, Limits: dataset.Limits{MaxBasket: 20}})
		require.NoError(t, err)
		assert.Equal(t, []dataset.Skip{{Reason: "basket too large", Count: 1, FirstLine: 2}}, rep.Skipped)
	})
}

// TestDatesOutOfRange checks every format with a text or numeric time:
// a date the History cannot store is a located row error in strict mode
// and a counted skip in lenient mode, and the rest builds.
func TestDatesOutOfRange(t *testing.T) {
	cases := []struct {
		format, data string
		line, col    int
	}{
		{"csv", "customer,product,time\nc1,p1,2024-01-02\nc2,p1,0170-01-02\n", 3, 3},
		{"csv", "customer,product,time\nc1,p1,2024-01-02\nc2,p1,9999-12-31\n", 3, 3},
		{"cdnow", " 1 19970101 1 1.00\n 2 00000101 1 1.00\n", 2, 2},
		{"cdnow", " 1 19970101 1 1.00\n 2 99991231 1 1.00\n", 2, 2},
		{"members", "Member_number,Date,itemDescription\n1,01-01-2015,milk\n2,01-01-0170,milk\n", 3, 2},
		{"onlineretail", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
			"1,p,d,1,2010-12-01 08:26:00,1.00,7,UK\n2,p,d,1,9999-12-01 08:26:00,1.00,7,UK\n", 3, 5},
		{"movielens", "1\t2\t3\t881250949\n1\t3\t3\t-881250949\n", 2, 4},
		{"movielens", "1\t2\t3\t881250949\n1\t3\t3\t99999999999\n", 2, 4},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			_, err := loadErr(tc.data, dataset.Options{Format: tc.format})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.line, pe.Line)
			assert.Equal(t, tc.col, pe.Column)
			assert.Equal(t, "time out of range", pe.Reason)
			h, rep := loadString(t, tc.data, dataset.Options{Format: tc.format, Lenient: true})
			assert.Equal(t, []dataset.Skip{{Reason: "time out of range", Count: 1, FirstLine: tc.line}}, rep.Skipped)
			assert.Equal(t, 1, rep.Loaded)
			assert.Equal(t, 1, h.Summary().Lines+h.Summary().Events)
		})
	}
	_, err := loadErr("a,b\n", dataset.Options{Format: "baskets", BasketTime: affinity.Summary{}.First.AddDate(1, 0, 0)})
	require.ErrorContains(t, err, "BasketTime")
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "dates outside 1970..2106 (csv, cdnow, members, onlineretail, movielens, baskets)", Cases: 2*len(cases) + 1,
		Outcome: "strict: error with line and column; lenient: skipped as \"time out of range\", the rest builds"})
}

// TestMoneyOutOfRange checks that no row can wrap money: price × quantity
// beyond the range of Money is a located error, and so is the row that
// would take the file's gross value beyond it.
func TestMoneyOutOfRange(t *testing.T) {
	head := "customer,product,time,quantity,price\n"
	data := head + "c1,p1,2024-01-02,2,1.00\nc1,p2,2024-01-02,1000000,922337203685.4775\n"
	_, err := loadErr(data, dataset.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, 5, pe.Column)
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	h, rep := loadString(t, data, dataset.Options{Lenient: true})
	assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 1, FirstLine: 3}}, rep.Skipped)
	assert.Equal(t, affinity.Money(20000), h.Summary().Revenue)

	big := "c%d,p1,2024-01-02,1,500000000000000\n"
	data = head + fmt.Sprintf(big, 1) + fmt.Sprintf(big, 2)
	_, err = loadErr(data, dataset.Options{})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	h, rep = loadString(t, data, dataset.Options{Lenient: true})
	assert.Equal(t, 1, rep.SkippedRows())
	assert.Equal(t, affinity.Money(500000000000000*affinity.MoneyScale), h.Summary().Revenue)

	// CDNOW amounts are totals; the sum of a file stays exact or fails.
	cd := " 1 19970101 1 900000000000000\n 2 19970101 1 900000000000000\n"
	_, err = loadErr(cd, dataset.Options{Format: "cdnow"})
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "price × quantity and file totals beyond Money's range", Cases: 5,
		Outcome: "strict: ErrMoneyRange with line (and column); lenient: skipped as \"amount out of range\"; revenue exact"})
}

func TestHeaderStrayBytes(t *testing.T) {
	rows := "c1,p1,2024-01-02\nc2,p1,2024-01-03\n"
	t.Run("BOM and zero-width characters are tolerated", func(t *testing.T) {
		for _, head := range []string{"\ufeffcustomer,product,time\n", "\"\ufeffcustomer\",product,time\n", "cus\u200btomer,product,time\n"} {
			_, rep := loadString(t, head+rows, dataset.Options{})
			assert.Zero(t, rep.Anonymous, "%q", head)
		}
	})
	t.Run("junk is an error in strict mode", func(t *testing.T) {
		for _, head := range []string{"\xffcustomer,product,time\n", "customer\x00,product,time\n", "custmer,product,time\n", "customer#,product,time\n"} {
			_, err := loadErr(head+rows, dataset.Options{})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, "%q", head)
			assert.Equal(t, 1, pe.Line)
			assert.Equal(t, 1, pe.Column)
			assert.Contains(t, err.Error(), `did you mean "customer"`)
		}
		var b affinity.Builder
		_, err := dataset.LoadCatalog(context.Background(), strings.NewReader("product,product nme\np1,x\n"), &b, dataset.CatalogOptions{})
		require.ErrorContains(t, err, `did you mean "product name"`)
		_, err = loadErr("Member_number,Dates,itemDescription\n1,01-01-2015,milk\n", dataset.Options{Format: "members"})
		require.Error(t, err, "a required column is missing anyway")
	})
	t.Run("lenient maps stray bytes and reports what it ignores", func(t *testing.T) {
		_, rep := loadString(t, "\xffcustomer,product,time,custmer\n"+"c1,p1,2024-01-02,x\n", dataset.Options{Lenient: true})
		assert.Zero(t, rep.Anonymous)
		assert.Equal(t, []string{"custmer"}, rep.Ignored)
	})
	t.Run("unrelated columns stay ignored", func(t *testing.T) {
		_, rep := loadString(t, "customer,product,time,country,notes\n"+"c1,p1,2024-01-02,UK,x\n", dataset.Options{})
		assert.Equal(t, []string{"country", "notes"}, rep.Ignored)
	})
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "CSV headers with a BOM, zero-width or stray bytes, misspellings", Cases: 11,
		Outcome: "invisible characters tolerated; near misses a strict error naming the column; lenient maps or lists them"})
}

func TestDuplicateRows(t *testing.T) {
	data := "order,customer,product,time,quantity,price\n" +
		"o1,c1,p1,2024-01-02,1,2.00\n" +
		"o1,c1,p2,2024-01-02,1,3.00\n" +
		"o1,c1,p1,2024-01-02,1,2.00\n" + // duplicate of line 2
		"o2,c1,p1,2024-01-03,1,2.00\n" + // same product, other order: not a duplicate
		"o2,c1,p1,2024-01-03,1,2.00\n"
	h, rep := loadString(t, data, dataset.Options{})
	assert.Equal(t, 2, rep.Duplicates)
	assert.Equal(t, 4, rep.FirstDuplicate)
	assert.Equal(t, 5, rep.Loaded, "kept by default")
	assert.Equal(t, affinity.Money(110000), h.Summary().Revenue)
	assert.Contains(t, rep.String(), "duplicates 2 (first at line 4)")

	h, rep = loadString(t, data, dataset.Options{DropDuplicates: true})
	assert.Equal(t, 2, rep.Duplicates)
	assert.Equal(t, []dataset.Skip{{Reason: "duplicate row", Count: 2, FirstLine: 4}}, rep.Skipped)
	assert.Equal(t, affinity.Money(70000), h.Summary().Revenue)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())

	_, rep = loadString(t, " 1 19970101 1 1.00\n 1 19970101 1 1.00\n", dataset.Options{Format: "cdnow"})
	assert.Equal(t, 1, rep.Duplicates)
	_, rep = loadString(t, "1\t2\t3\t881250949\n1\t2\t3\t881250949\n", dataset.Options{Format: "movielens"})
	assert.Equal(t, 1, rep.Duplicates)
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "exact duplicate rows (csv, cdnow, movielens)", Cases: 4,
		Outcome: "counted in Report.Duplicates; kept, or skipped and counted with DropDuplicates"})
}

// TestManyNamesPerProduct gives one product a new name on every row: the
// distinct names counted per product are bounded, so a name first seen
// after the bound cannot win however often it repeats.
func TestManyNamesPerProduct(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer,product,time,name\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "c1,p1,2024-01-02,name %d\nc1,p1,2024-01-02,name 0\n", i)
	}
	for range 3000 {
		b.WriteString("c1,p1,2024-01-02,late\n")
	}
	h, rep := loadString(t, b.String(), dataset.Options{})
	assert.Equal(t, 7000, rep.Loaded)
	assert.Equal(t, "name 0", h.Catalog().Product(0).Name)
}

// TestOrderFormatsRanges checks the order formats (one put per order) for
// the date and money ranges: located errors in strict mode, the order's
// rows skipped and counted in lenient mode, never a Build that fails.
func TestOrderFormatsRanges(t *testing.T) {
	shop := readFixture(t, "shopify_orders.csv")
	woo := readFixture(t, "woocommerce_orders.csv")
	cases := []struct {
		name, format, data, reason string
		line                       int
	}{
		{"shopify date", "shopify", strings.Replace(shop, "2024-03-01 10:15:00 -0700,1,Trail", "9999-03-01 10:15:00 -0700,1,Trail", 1), "time out of range", 2},
		{"woocommerce date", "woocommerce", strings.Replace(woo, "2001,2001,2001,2024-05-01", "2001,2001,2001,0170-05-01", 1), "time out of range", 2},
		// a line's value: its own row's error; the order's first row is
		// then skipped as "incomplete order"
		{"shopify money", "shopify", strings.Replace(shop, ",3,Merino Socks,4.50,", ",2000000000,Merino Socks,900000000000,", 1), "amount out of range", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, shop, tc.data)
			_, err := loadErr(tc.data, dataset.Options{Format: tc.format})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.reason, pe.Reason, "%v", err)
			assert.Equal(t, tc.line, pe.Line)
			_, rep := loadString(t, tc.data, dataset.Options{Format: tc.format, Lenient: true})
			require.NotEmpty(t, rep.Skipped)
			i := slices.IndexFunc(rep.Skipped, func(s dataset.Skip) bool { return s.Reason == tc.reason })
			require.GreaterOrEqual(t, i, 0, "%v", rep.Skipped)
			assert.Equal(t, tc.line, rep.Skipped[i].FirstLine)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		})
	}
}

// TestSeparatorsBeforeBlankLines: a row of k separators followed by k
// blank lines costs memory linear in its size in every CSV format, gzip
// or not: the CSV reader once reserved a field for every separator of a
// block's first line on each of its lines, k² strings (a 16 KiB input
// allocated a GiB, a 64 KiB one took the process down). The parsing
// goroutines parse blocks as the loader's goroutine does (see
// TestParseCSVBlockReservation).
func TestSeparatorsBeforeBlankLines(t *testing.T) {
	heads := map[string]string{
		"csv":          "customer,product,time\n",
		"onlineretail": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n",
		"members":      "Member_number,Date,itemDescription\n",
		"baskets":      "",
		"shopify":      "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price\n",
		"woocommerce":  "order_number,order_date,status,customer_id,item_name,item_quantity,item_total\n",
		"catalog":      "product,name\n",
	}
	input := func(head string, k int, gz bool) (data []byte, size int) {
		s := head + strings.Repeat(",", k) + "\n" + strings.Repeat("\n", k)
		if gz {
			return gzipped(t, s), len(s)
		}
		return []byte(s), len(s)
	}
	for _, format := range slices.Sorted(maps.Keys(heads)) {
		for _, gz := range []bool{false, true} {
			if gz && format != "csv" && format != "catalog" {
				continue // Load and LoadCatalog gunzip as they read any format
			}
			// the allocation of a load of k and of 4k: the difference is
			// what the input's size costs, less the fixed buffers
			var alloc [2]uint64
			var size [2]int
			for i, k := range []int{500, 2000} {
				data, n := input(heads[format], k, gz)
				var err error
				alloc[i], err = allocated(func() error {
					_, err := loadAs(data, dataset.Options{Format: format, Lenient: true})
					return err
				})
				require.NoError(t, err)
				size[i] = n
			}
			perByte := float64(alloc[1]-min(alloc[0], alloc[1])) / float64(size[1]-size[0])
			require.Less(t, perByte, 64.0, "%s, gzip %v: bytes allocated per input byte (%d and %d bytes for inputs of %d and %d)",
				format, gz, alloc[0], alloc[1], size[0], size[1])
		}
	}
}
