package dataset_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// loadString loads data and builds the History; it fails the test on
// any error.
func loadString(t testing.TB, data string, opts dataset.Options) (*affinity.History, dataset.Report) {
	t.Helper()
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, opts)
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h, rep
}

// loadErr loads data and returns the Report and the error.
func loadErr(data string, opts dataset.Options) (dataset.Report, error) {
	var b affinity.Builder
	return dataset.Load(context.Background(), strings.NewReader(data), &b, opts)
}

// dump prints a History completely and deterministically, so that two
// loads can be compared.
func dump(h *affinity.History) string {
	var b strings.Builder
	cat := h.Catalog()
	for o := range h.Orders() {
		cust := "-"
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		fmt.Fprintf(&b, "order %s/%s at %s:", cust, h.OrderKey(o), h.OrderTime(o).Format(time.RFC3339))
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			fmt.Fprintf(&b, " %s×%d@%v", cat.ProductKey(l.Product), l.Quantity, l.Price)
		}
		b.WriteByte('\n')
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			fmt.Fprintf(&b, "event %s %s %v %g at %d\n", h.CustomerKey(c), cat.ProductKey(e.Product), e.Kind, e.Weight, e.Unix)
		}
	}
	for p := range affinity.ProductID(cat.NumProducts()) {
		pr := cat.Product(p)
		fmt.Fprintf(&b, "product %s %q %q %v %v\n", pr.Key, pr.Name, pr.Categories, pr.Price, pr.InStock)
	}
	return b.String()
}

func readFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(data)
}

func gzipped(t testing.TB, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	// a reset Writer writes what a new one does, without allocating the
	// compressor's state (some 800 KB) for every small file
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	_, err := zw.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// fixtures names one fixture file per format.
var fixtures = map[string]string{
	"baskets":      "baskets.csv",
	"cdnow":        "cdnow_master.txt",
	"csv":          "shop.csv",
	"members":      "members.csv",
	"movielens":    "u.data",
	"onlineretail": "retail.csv",
}

const shopColumns = "order_id,customer_id,sku,qty,unit_price,placed_at,title,category,channel"

func shopOptions() dataset.Options {
	return dataset.Options{Format: "csv", Columns: dataset.Columns{
		Customer: "customer_id", Product: "sku", Order: "order_id", Time: "placed_at",
		Quantity: "qty", Price: "unit_price", Category: "category", Name: "title",
	}}
}

func TestLoadCSVColumnMapping(t *testing.T) {
	h, rep := loadString(t, readFixture(t, "shop.csv"), shopOptions())
	assert.Equal(t, dataset.Report{Format: "csv", Rows: 5, Loaded: 5, Purchases: 5, Anonymous: 1, Returns: 1, Products: 3, Ignored: []string{"channel"}}, rep)

	s := h.Summary()
	assert.Equal(t, 2, s.Customers)
	assert.Equal(t, 4, s.Orders)
	assert.Equal(t, 5, s.Lines)
	assert.Equal(t, 1, s.Returns)
	assert.Equal(t, affinity.Money(2*45000+120000+45000-120000), s.CustomerRevenue)
	assert.Equal(t, affinity.Money(3*37500), s.Revenue-s.CustomerRevenue)

	cat := h.Catalog()
	mug, ok := cat.LookupProduct("mug-07")
	require.True(t, ok)
	assert.Equal(t, `Mug, "Large"`, cat.ProductName(mug))
	assert.Equal(t, affinity.Money(120000), cat.ProductPrice(mug))
	assert.Equal(t, []string{"Home/Kitchen", "Gifts"}, cat.Product(mug).Categories)
	tea, _ := cat.LookupProduct("tea-01")
	assert.Equal(t, []string{"Food/Tea"}, cat.Product(tea).Categories)

	alice, ok := h.LookupCustomer("alice")
	require.True(t, ok)
	lo, hi := h.CustomerOrders(alice)
	require.Equal(t, affinity.OrderID(2), hi-lo)
	assert.Equal(t, "1001", h.OrderKey(lo))
	assert.Equal(t, time.Date(2024, 3, 1, 9, 15, 0, 0, time.UTC), h.OrderTime(lo))
	assert.Equal(t, "1003", h.OrderKey(lo+1))
	first, _ := h.OrderLines(lo + 1)
	assert.Equal(t, int32(-1), h.Line(first).Quantity)
}

func TestLoadCSVDefaultColumns(t *testing.T) {
	data := "Customer,Product,Time,Note\nc1,p1,2024-01-02,a\nc1,p2,2024-01-02,b\nc2,p1,2024-01-03 10:00,\n"
	h, rep := loadString(t, data, dataset.Options{})
	assert.Equal(t, 3, rep.Loaded)
	assert.Equal(t, 0, rep.Products, "no name or category column")
	s := h.Summary()
	assert.Equal(t, 2, s.Orders, "lines of one customer and second form one order")
	assert.Equal(t, affinity.Money(0), s.Revenue, "price defaults to 0")
	for i := range h.NumLines() {
		assert.Equal(t, int32(1), h.LineQuantity(i), "quantity defaults to 1")
	}
}

func TestLoadCSVEncodingVariants(t *testing.T) {
	plain := readFixture(t, "shop.csv")
	want, _ := loadString(t, plain, shopOptions())
	crlf := strings.ReplaceAll(plain, "\n", "\r\n")
	cases := map[string]string{
		"bom":          "\xef\xbb\xbf" + plain,
		"crlf":         crlf,
		"bom crlf":     "\xef\xbb\xbf" + crlf,
		"no final eol": strings.TrimSuffix(plain, "\n"),
		"blank lines":  strings.Replace(plain, "\n", "\n\n\n", 3),
		"gzip":         string(gzipped(t, "\xef\xbb\xbf"+crlf)),
		"all quoted":   quoteAll(plain),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			got, rep := loadString(t, data, shopOptions())
			assert.Equal(t, 5, rep.Loaded)
			assert.Equal(t, dump(want), dump(got))
		})
	}
}

// quoteAll rewrites CSV text with every field quoted.
func quoteAll(data string) string {
	var b strings.Builder
	for line := range strings.Lines(data) {
		line = strings.TrimSuffix(line, "\n")
		// The fixture's only quoted fields are the mug's names.
		fields := splitSimple(line)
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// splitSimple splits one CSV line with quoted fields and no line breaks.
func splitSimple(line string) []string {
	var out []string
	var cur strings.Builder
	inQ := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQ && c == '"' && i+1 < len(line) && line[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQ = !inQ
		case c == ',' && !inQ:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

func TestLoadCSVMultiLineRecord(t *testing.T) {
	data := "customer,product,time,name,quantity\n" +
		"c1,p1,2024-01-02,\"two\nlines\",1\n" +
		"c1,p2,2024-01-02,x,1\n" +
		"c1,p3,2024-01-02,y,bad\n"
	_, err := loadErr(data, dataset.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 5, pe.Line, "line numbers count the line break inside the quoted field")
	assert.Equal(t, 5, pe.Column)
}

func TestLoadEmpty(t *testing.T) {
	empty := map[string]string{
		"no bytes":    "",
		"bom":         "\xef\xbb\xbf",
		"blank lines": "\n\r\n\n",
		"gzip empty":  string(gzipped(t, "")),
	}
	for _, format := range dataset.Formats() {
		for name, data := range empty {
			t.Run(format+"/"+name, func(t *testing.T) {
				rep, err := loadErr(data, dataset.Options{Format: format})
				require.ErrorIs(t, err, dataset.ErrEmpty)
				assert.Equal(t, 0, rep.Rows)
			})
		}
	}
	headers := map[string]string{
		"csv":          "customer,product,time\n",
		"onlineretail": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n",
		"members":      "Member_number,Date,itemDescription\n",
		"movielens":    "userId,movieId,rating,timestamp\n",
	}
	for format, data := range headers {
		t.Run(format+"/header only", func(t *testing.T) {
			h, rep := loadString(t, data, dataset.Options{Format: format})
			assert.Equal(t, 0, rep.Rows)
			assert.Equal(t, 0, h.NumLines())
		})
	}
}

func TestLoadHeaderErrors(t *testing.T) {
	cases := []struct {
		name, data string
		opts       dataset.Options
		line, col  int
		msg        string
	}{
		{"duplicate", "customer,product,time,Product\nc,p,2024-01-01,q\n", dataset.Options{}, 1, 4,
			`dataset: line 1, column 4 (Product): duplicate column "Product" (same as column 2)`},
		{"duplicate folded", "Customer ID,customer_id,product,time\n", dataset.Options{}, 1, 2,
			`dataset: line 1, column 2 (customer_id): duplicate column "customer_id" (same as column 1)`},
		{"missing required", "customer,price\nc,1\n", dataset.Options{}, 1, 0,
			`dataset: line 1: missing required column "product" or "product id" or "sku" or "item", "time" or "date" or "timestamp" or "order date" of format "csv"`},
		{"missing, other names", "order_id,customer_id,sku,qty,unit_price,placed_at,title\n", dataset.Options{}, 1, 0,
			`dataset: line 1: missing required column "time" or "date" or "timestamp" or "order date" of format "csv" (the header's other columns: placed_at, title; rename one, or name it in Options.Columns)`},
		{"missing mapped", "customer,product,time\n", dataset.Options{Columns: dataset.Columns{Quantity: "Qty Ordered"}}, 1, 0,
			`dataset: line 1: missing required column "Qty Ordered" of format "csv"`},
		{"retail", "\n\nInvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n", dataset.Options{Format: "onlineretail"}, 3, 0,
			`dataset: line 3: missing required column "Description" of format "onlineretail"`},
		{"malformed", "customer,\"product,time\n", dataset.Options{}, 1, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, lenient := range []bool{false, true} {
				tc.opts.Lenient = lenient
				_, err := loadErr(tc.data, tc.opts)
				var pe *dataset.ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tc.line, pe.Line)
				assert.Equal(t, tc.col, pe.Column)
				assert.Equal(t, "bad header", pe.Reason)
				if tc.msg != "" {
					assert.Equal(t, tc.msg, err.Error())
				}
			}
		})
	}
}

const badRows = `customer,product,order,time,Quantity,price
c1,p1,o1,2024-01-02 10:00:00,1,1.00
c1,p2,o1,2024-01-02 10:00:00,x,1.00
c2,,o2,2024-01-03 10:00:00,1,1.00
c2,p1,o2,yesterday,1,1.00
c2,p1,o2,2024-01-03 10:00:00,0,1.00
c2,p1,o2,2024-01-03 10:00:00,1,-1.00
c2,p1,o2,2024-01-03 10:00:00,1,abc
c3,p3,o3,2024-01-04 10:00:00,1
c3,p3,o3,2024-01-04 10:00:00,1 "x",1.00
c3,p3,o3,2024-01-04 10:00:00,y,1.00
c3,p3,o3,2024-01-04 10:00:00,2,1.50
`

func TestLoadStrictErrors(t *testing.T) {
	header, rows, _ := strings.Cut(badRows, "\n")
	lines := strings.Split(strings.TrimSuffix(rows, "\n"), "\n")
	want := []struct {
		col    int
		field  string
		reason string
		msg    string
	}{
		{},
		{5, "Quantity", "invalid quantity", `invalid quantity "x"`},
		{2, "product", "missing product", "missing product id"},
		{4, "time", "invalid time", `invalid time "yesterday"`},
		{5, "Quantity", "zero quantity", "quantity 0"},
		{6, "price", "negative price", "negative price -1.00"},
		{6, "price", "invalid price", `invalid price "abc"`},
		{0, "", "wrong field count", "5 fields, the header has 6"},
		{0, "", "malformed csv", ""},
	}
	for i, w := range want {
		if i == 0 {
			continue
		}
		t.Run(w.reason, func(t *testing.T) {
			// the good first row, then the bad one as line 3
			data := header + "\n" + lines[0] + "\n" + lines[i] + "\n" + lines[len(lines)-1] + "\n"
			rep, err := loadErr(data, dataset.Options{})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 3, pe.Line)
			assert.Equal(t, w.col, pe.Column)
			assert.Equal(t, w.field, pe.Field)
			assert.Equal(t, w.reason, pe.Reason)
			if w.msg != "" {
				assert.Equal(t, w.msg, pe.Err.Error())
			}
			assert.Equal(t, 1, rep.Loaded, "the row before the bad one was loaded")
		})
	}
	_, err := loadErr(badRows, dataset.Options{})
	assert.EqualError(t, err, `dataset: line 3, column 5 (Quantity): invalid quantity "x"`)
	_, err = loadErr(badRows, dataset.Options{DecimalSep: ','})
	require.ErrorIs(t, err, affinity.ErrMoney, "a price error unwraps to ParseMoney's error")
}

func TestLoadLenient(t *testing.T) {
	h, rep := loadString(t, badRows, dataset.Options{Lenient: true})
	assert.Equal(t, []dataset.Skip{
		{Reason: "invalid quantity", Count: 2, FirstLine: 3},
		{Reason: "missing product", Count: 1, FirstLine: 4},
		{Reason: "invalid time", Count: 1, FirstLine: 5},
		{Reason: "zero quantity", Count: 1, FirstLine: 6},
		{Reason: "negative price", Count: 1, FirstLine: 7},
		{Reason: "invalid price", Count: 1, FirstLine: 8},
		{Reason: "wrong field count", Count: 1, FirstLine: 9},
		{Reason: "malformed csv", Count: 1, FirstLine: 10},
	}, rep.Skipped)
	assert.Equal(t, 11, rep.Rows)
	assert.Equal(t, 2, rep.Loaded)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
	assert.Equal(t, 2, h.NumLines())
	assert.Equal(t, affinity.Money(10000+30000), h.Summary().Revenue)
	assert.Contains(t, rep.String(), "invalid quantity       2 (first at line 3)")
}

func TestLoadGzipFile(t *testing.T) {
	dir := t.TempDir()
	plain := readFixture(t, "shop.csv")
	// The name does not say gzip: the content does.
	path := filepath.Join(dir, "export.dat")
	require.NoError(t, os.WriteFile(path, gzipped(t, plain), 0o600))
	var b affinity.Builder
	rep, err := dataset.LoadFile(context.Background(), path, &b, shopOptions())
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Loaded)
	got, err := b.Build(context.Background())
	require.NoError(t, err)
	want, _ := loadString(t, plain, shopOptions())
	assert.Equal(t, dump(want), dump(got))

	h, rep2, err := dataset.ReadFile(context.Background(), path, shopOptions())
	require.NoError(t, err)
	assert.Equal(t, rep, rep2)
	assert.Equal(t, dump(want), dump(h))

	// A corrupt gzip stream is a read error with a line.
	gz := gzipped(t, plain)
	gz[len(gz)/2] ^= 0xff
	_, err = loadErr(string(gz), shopOptions())
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Positive(t, pe.Line)

	_, _, err = dataset.ReadFile(context.Background(), filepath.Join(dir, "missing.csv"), dataset.Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadSeparators(t *testing.T) {
	data := "customer;product;time;price\nc1;p1;2024-01-02;\"2,55\"\nc1;p2;2024-01-02;1,5\n"
	h, _ := loadString(t, data, dataset.Options{Comma: ';', DecimalSep: ','})
	assert.Equal(t, affinity.Money(25500+15000), h.Summary().Revenue)

	tab := "customer\tproduct\ttime\tprice\nc1\tp1\t2024-01-02\t2.55\n"
	h, _ = loadString(t, tab, dataset.Options{Comma: '\t'})
	assert.Equal(t, affinity.Money(25500), h.Summary().Revenue)

	for _, opts := range []dataset.Options{{Comma: '"'}, {Comma: '\n'}, {DecimalSep: ';'}, {Format: "xml"}} {
		_, err := loadErr(data, opts)
		assert.Error(t, err, "%+v", opts)
	}
}

func TestLoadTimeLayoutsAndLocation(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*3600)
	data := "customer,product,time\nc1,p1,02.01.2024 10:30\nc1,p2,2024-01-03T10:30:00Z\nc2,p1,1704278400\n"
	h, _ := loadString(t, data, dataset.Options{
		TimeLayouts: []string{"02.01.2006 15:04", time.RFC3339, "unix"},
		Location:    zone,
	})
	times := map[string][]int64{}
	for o := range h.Orders() {
		c := h.CustomerKey(h.OrderCustomer(o))
		times[c] = append(times[c], h.OrderUnix(o))
	}
	assert.Equal(t, map[string][]int64{
		"c1": {time.Date(2024, 1, 2, 8, 30, 0, 0, time.UTC).Unix(), time.Date(2024, 1, 3, 10, 30, 0, 0, time.UTC).Unix()},
		"c2": {1704278400},
	}, times)

	// Without the layout the first row does not parse.
	_, err := loadErr(data, dataset.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "invalid time", pe.Reason)
	assert.Equal(t, 2, pe.Line)
}

func TestLoadCategoriesOption(t *testing.T) {
	data := "customer,product,time,name,category\n" +
		"c1,p1,2024-01-02,WHITE METAL LANTERN,\n" +
		"c1,p2,2024-01-02,JUMBO BAG RED RETROSPOT,Bags > Jumbo\n" +
		"c1,p1,2024-01-03,ANOTHER NAME,\n"
	h, rep := loadString(t, data, dataset.Options{Categories: dataset.CategoryFromName})
	assert.Equal(t, 2, rep.Products)
	cat := h.Catalog()
	p1, _ := cat.LookupProduct("p1")
	assert.Equal(t, affinity.Product{Key: "p1", Name: "WHITE METAL LANTERN", Categories: []string{"Lantern/Metal Lantern"}, InStock: true}, cat.Product(p1))
	p2, _ := cat.LookupProduct("p2")
	assert.Equal(t, []string{"Bags/Jumbo"}, cat.Product(p2).Categories, "a category column wins over derivation")

	h, rep = loadString(t, data, dataset.Options{Categories: dataset.CategoryFromName, NoProducts: true})
	assert.Equal(t, 0, rep.Products)
	p1, _ = h.Catalog().LookupProduct("p1")
	assert.Empty(t, h.Catalog().ProductName(p1))
}

// cancelReader cancels a context on its first read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}

func TestLoadContext(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("customer,product,time\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "c%d,p%d,2024-01-02\n", i%100, i%7)
	}
	data := sb.String()
	for _, format := range []string{"csv", "baskets"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var b affinity.Builder
		rep, err := dataset.Load(ctx, strings.NewReader(data), &b, dataset.Options{Format: format})
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 0, rep.Rows, "a done context stops the load before it starts")

		// Canceled while loading: a check every 4096 rows sees it.
		ctx, cancel = context.WithCancel(context.Background())
		r := &cancelReader{r: strings.NewReader(data), cancel: cancel}
		rep, err = dataset.Load(ctx, r, &b, dataset.Options{Format: format})
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, rep.Rows, 10000)
		assert.Zero(t, rep.Rows%4096)
	}
	_, err := dataset.LoadCatalog(canceled(), strings.NewReader("id\np1\n"), &affinity.Builder{}, dataset.CatalogOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestLoadLineTooLong(t *testing.T) {
	data := "customer,product,time\nc1,p1,2024-01-02\nc1," + strings.Repeat("x,", 1<<20) + ",2024-01-02\n"
	for _, format := range []string{"csv", "cdnow"} {
		_, err := loadErr(data, dataset.Options{Format: format, Lenient: true})
		require.ErrorIs(t, err, dataset.ErrLineTooLong, format)
		var pe *dataset.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 3, pe.Line)
	}
}

// failReader returns data, then err.
type failReader struct {
	data []byte
	err  error
}

func (r *failReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestLoadReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	for format, file := range fixtures {
		var b affinity.Builder
		r := &failReader{data: []byte(readFixture(t, file)), err: boom}
		opts := dataset.Options{Format: format, Lenient: true}
		if format == "csv" {
			opts = shopOptions()
		}
		_, err := dataset.Load(context.Background(), r, &b, opts)
		require.ErrorIs(t, err, boom, format)
		var pe *dataset.ParseError
		require.ErrorAs(t, err, &pe, format)
		assert.Positive(t, pe.Line)
	}
}

func TestFormats(t *testing.T) {
	assert.Equal(t, []string{"baskets", "cdnow", "csv", "members", "movielens", "onlineretail", "shopify", "woocommerce"}, dataset.Formats())
	f := dataset.Formats()
	f[0] = "changed"
	assert.Equal(t, "baskets", dataset.Formats()[0], "the result is a copy")
}

func TestParseErrorFormat(t *testing.T) {
	inner := errors.New("boom")
	cases := []struct {
		err  *dataset.ParseError
		want string
	}{
		{&dataset.ParseError{Line: 17, Column: 5, Field: "Quantity", Err: inner}, "dataset: line 17, column 5 (Quantity): boom"},
		{&dataset.ParseError{Line: 2, Column: 3, Err: inner}, "dataset: line 2, column 3: boom"},
		{&dataset.ParseError{Line: 9, Reason: "wrong field count"}, "dataset: line 9: wrong field count"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.err.Error())
	}
	assert.ErrorIs(t, cases[0].err, inner)
}

// TestParseErrorField: an error with a column names it (ParseError.Field)
// as the header gives it, trimmed, or as the format names its fields
// ("item" in baskets): also the errors of the input's limits and of a
// line break where a field may not hold one, which once named none.
func TestParseErrorField(t *testing.T) {
	cases := []struct {
		name, format, in string
		lim              dataset.Limits
		column           int
		field            string
	}{
		{"MaxField", "csv", "customer, product ,time\nc,pppppppppppppppp,2024-01-01\n", dataset.Limits{MaxField: 12}, 2, "product"},
		{"MaxField quoted", "csv", "customer,product,time,name\nc,p,2024-01-01,\"nnnnnnnnnnnnnnnn\"\n", dataset.Limits{MaxField: 12}, 4, "name"},
		{"MaxLine", "members", "Member_number,Date,itemDescription\n1,01-01-2015,whole milk and more and more\n", dataset.Limits{MaxLine: 40}, 3, "itemDescription"},
		{"MaxField baskets", "baskets", "milk,bread\njam,\"eggs and butter\"\n", dataset.Limits{MaxField: 12}, 2, "item"},
		{"line break in a key", "csv", "customer, product ,time\nc,\"p\n1\",2024-01-01\n", dataset.Limits{}, 2, "product"},
		{"line break in baskets", "baskets", "milk,bread\n\"eggs,\nbutter\",jam\n", dataset.Limits{}, 1, "item"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b affinity.Builder
			_, err := dataset.Load(context.Background(), strings.NewReader(c.in), &b, dataset.Options{Format: c.format, Limits: c.lim})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 2, pe.Line)
			assert.Equal(t, c.column, pe.Column)
			assert.Equal(t, c.field, pe.Field)
			assert.Contains(t, err.Error(), fmt.Sprintf("column %d (%s)", c.column, c.field))
		})
	}
}

// shopCSV generates n purchase lines of a shop export in memory.
func shopCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString(shopColumns + "\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		order := i / 4
		fmt.Fprintf(&b, "%d,cust%d,sku-%d,%d,%d.%02d,%s,Product %d,Dept %d > Cat %d,web\n",
			order, order%5000, (i*7919)%20000, 1+i%3, 1+i%50, i%100,
			start.Add(time.Duration(order)*time.Minute).Format(time.RFC3339), (i*7919)%20000, i%10, i%50)
	}
	return b.Bytes()
}

func BenchmarkLoadCSV(b *testing.B) {
	const n = 200_000
	data := shopCSV(n)
	opts := shopOptions()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var bld affinity.Builder
		if _, err := dataset.Load(context.Background(), bytes.NewReader(data), &bld, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkLoadCSVGzip is BenchmarkLoadCSV on the gzipped file; its MB/s
// count the decompressed bytes.
func BenchmarkLoadCSVGzip(b *testing.B) {
	const n = 200_000
	data := shopCSV(n)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	opts := shopOptions()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var bld affinity.Builder
		if _, err := dataset.Load(context.Background(), bytes.NewReader(z.Bytes()), &bld, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func TestLoadDeepCategory(t *testing.T) {
	deep := strings.Repeat("x/", affinity.MaxCategoryDepth) + "x"
	data := "customer,product,time,category\nc1,p1,2024-01-02,A/B\nc1,p2,2024-01-02," + deep + "\nc1,p2,2024-01-03,C\n"
	_, err := loadErr(data, dataset.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, dataset.ParseError{Line: 3, Column: 4, Field: "category", Reason: "invalid category", Err: pe.Err}, *pe)
	require.ErrorIs(t, err, affinity.ErrInvalid)

	h, rep := loadString(t, data, dataset.Options{Lenient: true})
	assert.Equal(t, []dataset.Skip{{Reason: "invalid category", Count: 1, FirstLine: 3}}, rep.Skipped)
	assert.Equal(t, 2, h.NumLines(), "the row is skipped whole")
	p2, _ := h.Catalog().LookupProduct("p2")
	assert.Equal(t, []string{"C"}, h.Catalog().Product(p2).Categories, "a later row may give the entry")

	deepOf := func(string) string { return deep }
	_, err = loadErr("a,b\n", dataset.Options{Format: "baskets", Categories: deepOf})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "invalid category", pe.Reason)
	rep, err = loadErr("a,b\n", dataset.Options{Format: "baskets", Categories: deepOf, Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Purchases, "the basket is skipped whole")

	var b affinity.Builder
	_, err = dataset.LoadCatalog(context.Background(), strings.NewReader("id,name\np1,"+strings.Repeat("Word ", 3)+"\n"), &b,
		dataset.CatalogOptions{Categories: deepOf})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, dataset.ParseError{Line: 2, Column: 2, Field: "name", Reason: "invalid category", Err: pe.Err}, *pe)
}
