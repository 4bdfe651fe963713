package dataset_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

func TestOrderFormatsRegistered(t *testing.T) {
	assert.Contains(t, dataset.Formats(), "shopify")
	assert.Contains(t, dataset.Formats(), "woocommerce")
	assert.True(t, slices.IsSorted(dataset.Formats()))
}

const shopifyWant = `order alice@example.com/#1001 at 2024-03-01T17:15:00Z: TR-42-BLU×1@89.90 SOCK-M×3@4.50
order alice@example.com/#1005 at 2024-03-10T14:00:00Z: LAMP-1×1@39.00 SOCK-M×2@4.50 BTL-750×1@25.00
order bob@example.com/#1002 at 2024-03-03T01:40:12Z: BTL-750×2@25.00 refund×-1@12.50
order -/#1003 at 2024-03-03T16:05:00Z: Gift wrapping×1@3.00
product TR-42-BLU "Trail Runner - Blue / 42" [] 89.90 true
product SOCK-M "Merino Socks" [] 4.50 true
product BTL-750 "Water Bottle 750ml" [] 25.00 true
product Gift wrapping "Gift wrapping" [] 3.00 true
product LAMP-1 "Headlamp" [] 39.00 true
product refund "" [] 0.00 true
`

func TestShopify(t *testing.T) {
	data := readFixture(t, "shopify_orders.csv")
	h, rep := loadString(t, data, dataset.Options{Format: "shopify"})
	// Created at and Email sit on each order's first row only, yet every
	// line has its order's time and customer; the voided and cancelled
	// order #1004 is gone; #1002's partial refund is a return line.
	assert.Equal(t, shopifyWant, dump(h))
	assert.Contains(t, rep.Ignored, "Paid at", "the columns the format does not read are listed")
	rep.Ignored = nil
	assert.Equal(t, dataset.Report{Format: "shopify", Rows: 9, Loaded: 7, Purchases: 8, Anonymous: 1, Returns: 1, Products: 5,
		Skipped: []dataset.Skip{{Reason: "cancelled order", Count: 2, FirstLine: 6}}}, rep)
	assert.Equal(t, affinity.Money(216_9000), h.Summary().Revenue)

	// Loading the export again — into the same Builder or onto the History
	// it built — replaces each order instead of adding it twice.
	var b affinity.Builder
	for range 2 {
		_, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: "shopify"})
		require.NoError(t, err)
	}
	twice, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, shopifyWant, dump(twice))
	nb := affinity.NewBuilder(h)
	_, err = dataset.Load(context.Background(), strings.NewReader(data), nb, dataset.Options{Format: "shopify"})
	require.NoError(t, err)
	again, err := nb.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, shopifyWant, dump(again))
}

// A later export in which #1001 was cancelled and #1005 edited removes
// and replaces them in the History built from the first.
func TestShopifyLaterExport(t *testing.T) {
	h, _ := loadString(t, readFixture(t, "shopify_orders.csv"), dataset.Options{Format: "shopify"})
	later := `Name,Email,Financial Status,Created at,Cancelled at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku
#1001,alice@example.com,paid,2024-03-01 10:15:00 -0700,2024-03-11 09:00:00 -0700,1,Trail Runner - Blue / 42,89.90,TR-42-BLU
#1005,alice@example.com,paid,2024-03-10 08:00:00 -0600,,1,Headlamp,39.00,LAMP-1
`
	b := affinity.NewBuilder(h)
	rep, err := dataset.Load(context.Background(), strings.NewReader(later), b, dataset.Options{Format: "shopify"})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Loaded)
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, `order alice@example.com/#1005 at 2024-03-10T14:00:00Z: LAMP-1×1@39.00
order bob@example.com/#1002 at 2024-03-03T01:40:12Z: BTL-750×2@25.00 refund×-1@12.50
order -/#1003 at 2024-03-03T16:05:00Z: Gift wrapping×1@3.00
`, strings.Split(dump(h2), "product ")[0])
}

const shopifyHead = "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount\n"

func TestShopifyErrors(t *testing.T) {
	cases := []struct {
		name, rows   string
		line, column int
		reason       string
		skipped      int // rows skipped in lenient mode
	}{
		{"bad time on the first row", "#1,a@x,paid,yesterday,1,Mug,5.00,M,\n#1,,,,2,Pen,1.00,P,\n", 2, 4, "invalid time", 2},
		// the order's good row is skipped too, as "incomplete order"
		{"bad quantity", "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n#1,,,,x,Pen,1.00,P,\n", 3, 5, "invalid quantity", 2},
		{"zero quantity", "#1,a@x,paid,2024-03-01 10:00:00 -0700,0,Mug,5.00,M,\n", 2, 5, "zero quantity", 1},
		{"bad price", "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.0.0,M,\n", 2, 7, "invalid price", 1},
		{"negative price", "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,-5.00,M,\n", 2, 7, "negative price", 1},
		{"bad refund", "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,lots\n", 2, 9, "invalid refund", 1},
		{"no product", "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,,5.00,,\n", 2, 6, "missing product", 1},
		{"no order name", ",a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n", 2, 1, "missing order", 1},
		{"field count", "#1,a@x,paid\n", 2, 0, "wrong field count", 1},
		{"split order", "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n#2,b@x,paid,2024-03-01 11:00:00 -0700,1,Mug,5.00,M,\n#1,,,,1,Pen,1.00,P,\n", 4, 0, "split order", 2}, // and #1's first row, as "incomplete order"
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadErr(shopifyHead+tc.rows, dataset.Options{Format: "shopify"})
			var pe *dataset.ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, tc.line, pe.Line, "%v", err)
			assert.Equal(t, tc.column, pe.Column, "%v", err)
			assert.Equal(t, tc.reason, pe.Reason)

			rep, err := loadErr(shopifyHead+tc.rows, dataset.Options{Format: "shopify", Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, tc.skipped, rep.SkippedRows(), "%v", rep.Skipped)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
			require.NotEmpty(t, rep.Skipped)
			i := slices.IndexFunc(rep.Skipped, func(s dataset.Skip) bool { return s.Reason == tc.reason })
			require.GreaterOrEqual(t, i, 0, "%v", rep.Skipped)
			assert.Equal(t, tc.line, rep.Skipped[i].FirstLine, "%v", rep.Skipped)
		})
	}
}

const wooWant = `order 17/2001 at 2024-05-01T14:22:05Z: MUG-1×2@12.00 ESP-500×2@3.3333 ESP-500×1@3.3334
order 17/2003 at 2024-05-03T17:45:30Z: ESP-500×2@10.00 ESP-500×-1@10.00
order ben@example.de/2002 at 2024-05-02T09:10:00Z: 303×1@19.90
product MUG-1 "Kaffeebecher" [] 12.00 true
product ESP-500 "Espresso 500g" [] 3.3333 true
product 303 "Milchkännchen" [] 19.90 true
`

func TestWooCommerce(t *testing.T) {
	data := readFixture(t, "woocommerce_orders.csv")
	h, rep := loadString(t, data, dataset.Options{Format: "woocommerce"})
	// 2001: 10.00 for 3 units stays exact as 2 × 3.3333 + 1 × 3.3334;
	// 2002 is a guest, keyed by e-mail, its item by product id; 2003 has
	// one unit refunded; 2004 (cancelled) and 2005 (refunded) are gone.
	assert.Equal(t, wooWant, dump(h))
	assert.Contains(t, rep.Ignored, "order_total")
	rep.Ignored = nil
	assert.Equal(t, dataset.Report{Format: "woocommerce", Rows: 6, Loaded: 4, Purchases: 6, Returns: 1, Products: 3,
		Skipped: []dataset.Skip{{Reason: "cancelled order", Count: 2, FirstLine: 6}}}, rep)
	assert.Equal(t, affinity.Money(63_9000), h.Summary().Revenue)

	nb := affinity.NewBuilder(h)
	_, err := dataset.Load(context.Background(), strings.NewReader(data), nb, dataset.Options{Format: "woocommerce"})
	require.NoError(t, err)
	again, err := nb.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, wooWant, dump(again), "a reloaded export replaces its orders")
}

func TestWooCommerceErrors(t *testing.T) {
	head := "Order Number,Order Date,Status,Customer ID,Billing Email,Item Name,Item SKU,Item Quantity,Item Total,Item Refunded,Item Refunded Quantity\n"
	cases := []struct {
		name, rows   string
		line, column int
		reason       string
	}{
		{"bad date", "7,2024-13-01 10:00:00,completed,1,,Mug,M,1,5.00,,\n", 2, 2, "invalid time"},
		{"bad quantity", "7,2024-05-01 10:00:00,completed,1,,Mug,M,one,5.00,,\n", 2, 8, "invalid quantity"},
		{"bad total", "7,2024-05-01 10:00:00,completed,1,,Mug,M,1,five,,\n", 2, 9, "invalid price"},
		{"bad refund", "7,2024-05-01 10:00:00,completed,1,,Mug,M,1,5.00,x,\n", 2, 10, "invalid refund"},
		{"bad refunded quantity", "7,2024-05-01 10:00:00,completed,1,,Mug,M,1,5.00,,1.5\n", 2, 11, "invalid quantity"},
		{"no order", ",2024-05-01 10:00:00,completed,1,,Mug,M,1,5.00,,\n", 2, 1, "missing order"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadErr(head+tc.rows, dataset.Options{Format: "woocommerce"})
			var pe *dataset.ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, tc.line, pe.Line, "%v", err)
			assert.Equal(t, tc.column, pe.Column, "%v", err)
			assert.Equal(t, tc.reason, pe.Reason)
			rep, err := loadErr(head+tc.rows, dataset.Options{Format: "woocommerce", Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, 1, rep.SkippedRows())
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		})
	}
}

// FuzzOrderFormats loads arbitrary bytes as Shopify and WooCommerce
// exports: no panic, located errors, every row loaded or counted, and the
// Report agrees with the built History.
func FuzzOrderFormats(f *testing.F) {
	for _, name := range []string{"shopify_orders.csv", "woocommerce_orders.csv"} {
		data := readFixture(f, name)
		f.Add([]byte(data), false, false)
		f.Add([]byte(data), true, true)
	}
	f.Add([]byte(shopifyHead+"#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,2.00\n#1,,,,2,Pen,1.00,P,\n"), false, true)
	f.Fuzz(func(t *testing.T, data []byte, woo, lenient bool) {
		opts := dataset.Options{Format: "shopify", Lenient: lenient}
		if woo {
			opts.Format = "woocommerce"
		}
		var b affinity.Builder
		rep, err := dataset.Load(context.Background(), strings.NewReader(string(data)), &b, opts)
		if err != nil {
			requireLocated(t, err)
			return
		}
		require.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		h, err := b.Build(context.Background())
		if err != nil {
			return // a time span a History cannot hold; not the loader's to refuse
		}
		s := h.Summary()
		require.Equal(t, rep.Purchases, s.Lines)
		require.Equal(t, rep.Anonymous, s.AnonymousLines)
		require.Equal(t, rep.Returns, s.Returns)
	})
}

func TestLoadSeq(t *testing.T) {
	ok := affinity.Purchase{Customer: "a", Product: "x", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1}
	bad := ok
	bad.Quantity = 0
	seq := slices.Values([]affinity.Purchase{ok, bad, ok})
	var b affinity.Builder
	_, err := dataset.LoadSeq(context.Background(), seq, &b, dataset.Options{})
	var pe *dataset.ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, 2, pe.Line)
	require.ErrorIs(t, err, affinity.ErrInvalid)

	var lb affinity.Builder
	rep, err := dataset.LoadSeq(context.Background(), seq, &lb, dataset.Options{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, dataset.Report{Format: "seq", Rows: 3, Loaded: 2, Purchases: 2,
		Skipped: []dataset.Skip{{Reason: "invalid record", Count: 1, FirstLine: 2}}}, rep)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = dataset.LoadSeq(ctx, seq, &lb, dataset.Options{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestOrderDroppedWholeSkipOrder: an order skipped whole at its end
// ("amount out of range" in lenient mode) is counted at its first line,
// and Report.Skipped stays in FirstLine order although rows after that
// line were skipped first.
func TestOrderDroppedWholeSkipOrder(t *testing.T) {
	data := shopifyHead +
		"#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Gold,900000000000000,G,\n" + // line 2
		",,,,1,Pen,1.00,P,\n" + // line 3: no order id, no row of #1
		"#1,,,,1,Gold,900000000000000,G,\n" + // line 4: the order's value overflows
		"#2,b@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n"
	h, rep := loadString(t, data, dataset.Options{Format: "shopify", Lenient: true})
	assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 2, FirstLine: 2}, {Reason: "missing order", Count: 1, FirstLine: 3}}, rep.Skipped)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
	assert.Equal(t, 1, h.NumOrders())

	_, err := loadErr(data, dataset.Options{Format: "shopify"})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line, "strict: the first bad row")
	_, err = loadErr(strings.Replace(data, ",,,,1,Pen,1.00,P,\n", "", 1), dataset.Options{Format: "shopify"})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Line, "strict: the order's first line")
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
}

// TestOrderDuplicateRowsDropped: with DropDuplicates a repeated line item
// is not loaded and does not name its product; without, it is loaded.
func TestOrderDuplicateRowsDropped(t *testing.T) {
	data := "order_number,order_date,status,customer_id,item_name,item_sku,item_quantity,item_total\n" +
		"1,2024-05-01 10:00:00,completed,7,Mug,M,1,5.00\n" +
		"1,2024-05-01 10:00:00,completed,7,Mug,M,1,5.00\n" +
		"2,2024-05-01 10:00:00,completed,7,Mug,M,1,5.00\n" // another order: no duplicate
	h, rep := loadString(t, data, dataset.Options{Format: "woocommerce"})
	assert.Equal(t, 1, rep.Duplicates)
	assert.Equal(t, 3, rep.FirstDuplicate)
	assert.Equal(t, 3, h.NumLines())
	h, rep = loadString(t, data, dataset.Options{Format: "woocommerce", DropDuplicates: true})
	assert.Equal(t, 1, rep.Duplicates)
	assert.Equal(t, 2, rep.Loaded)
	assert.Equal(t, 2, h.NumLines())
}

// TestExtremeQuantityCDNOW: −2147483648 CDs split exactly like any other
// quantity (its negation does not fit in int32).
func TestExtremeQuantityCDNOW(t *testing.T) {
	h, rep := loadString(t, "00001 19970101 -2147483648 1000000.00\n", dataset.Options{Format: "cdnow"})
	assert.Empty(t, rep.Skipped)
	require.Equal(t, 1, h.NumOrders())
	for o := range h.Orders() {
		assert.Equal(t, affinity.Money(-1000000_0000), h.OrderValue(o))
	}
}

// TestMaxLineCRLF: the line break of a CRLF line counts for no limit, in
// the line formats as in the CSV ones.
func TestMaxLineCRLF(t *testing.T) {
	const row = "00001 19970101 1 29.33"
	for _, data := range []string{row + "\r\n" + row + "\r\n", row + "\r\n" + row + "\r"} {
		_, err := loadErr(data, dataset.Options{Format: "cdnow", Limits: dataset.Limits{MaxLine: len(row)}})
		require.NoError(t, err, "%q", data)
		_, err = loadErr(data, dataset.Options{Format: "cdnow", Limits: dataset.Limits{MaxLine: len(row) - 1}})
		require.ErrorIs(t, err, dataset.ErrLineTooLong, "%q", data)
	}
	csv := "customer,product,time\r\nc1,p1,2024-01-02\r\n"
	_, err := loadErr(csv, dataset.Options{Limits: dataset.Limits{MaxLine: len("customer,product,time"), MaxField: len("2024-01-02")}})
	require.NoError(t, err)
	_, err = loadErr(csv, dataset.Options{Limits: dataset.Limits{MaxField: len("2024-01-02") - 1}})
	require.ErrorIs(t, err, dataset.ErrLimit)
}

// TestOrderGrossCountsBuilder: an order format checks each order against
// the gross value of everything the Builder holds — lines added before
// the load, a base History, the orders an earlier load staged — and a
// line format loaded after an order format counts the staged orders: an
// order or row that would take the Builder beyond MaxMoney is the error
// of its line (skipped in lenient mode), and Build succeeds (the loads
// once checked only their own orders or lines, reported every row loaded
// and left a Builder that Build refused without a line to show).
func TestOrderGrossCountsBuilder(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	big := affinity.MaxMoney - 50*affinity.MoneyScale // room for 50.00 more
	const (
		shop = "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price\n" +
			"#1,a@b.c,2024-03-01 10:15:00 -0700,1,Mug,30.00\n" +
			"#2,a@b.c,2024-03-02 10:15:00 -0700,1,Mug,30.00\n" // line 3: 60.00 with #1
		woo = "order_number,order_date,status,customer_id,item_name,item_quantity,item_total\n" +
			"1,2024-03-01 10:00:00,completed,7,Mug,1,30.00\n" +
			"2,2024-03-01 10:00:00,completed,7,Mug,1,30.00\n"
		csv = "customer,product,time,quantity,price\n" +
			"c,p,2024-01-01,1,30.00\n" +
			"c,p,2024-01-02,1,30.00\n"
	)
	// stage fills a Builder to 50.00 below MaxMoney
	stage := map[string]func(t *testing.T) *affinity.Builder{
		"added": func(t *testing.T) *affinity.Builder {
			var b affinity.Builder
			require.NoError(t, b.Add(affinity.Purchase{Customer: "x", Product: "p", Order: "o", Time: at, Quantity: 1, Price: big}))
			return &b
		},
		"base": func(t *testing.T) *affinity.Builder {
			var b affinity.Builder
			require.NoError(t, b.Add(affinity.Purchase{Customer: "x", Product: "p", Order: "o", Time: at, Quantity: 1, Price: big}))
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			return affinity.NewBuilder(h)
		},
		"shopify load": func(t *testing.T) *affinity.Builder {
			var b affinity.Builder
			in := "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price\n#0,x@b.c,2024-01-01 00:00:00 +0000,1,Gold," +
				big.String() + "\n"
			rep, err := dataset.Load(context.Background(), strings.NewReader(in), &b, dataset.Options{Format: "shopify"})
			require.NoError(t, err)
			require.Equal(t, 1, rep.Loaded)
			return &b
		},
	}
	for _, name := range []string{"added", "base", "shopify load"} {
		for _, c := range []struct{ format, in string }{{"shopify", shop}, {"woocommerce", woo}, {"csv", csv}} {
			t.Run(name+"/"+c.format, func(t *testing.T) {
				b := stage[name](t)
				rep, err := dataset.Load(context.Background(), strings.NewReader(c.in), b, dataset.Options{Format: c.format, Lenient: true})
				require.NoError(t, err)
				assert.Equal(t, 1, rep.Loaded)
				assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 1, FirstLine: 3}}, rep.Skipped)
				_, err = b.Build(context.Background())
				require.NoError(t, err, "what the load reported loaded builds")

				b = stage[name](t)
				_, err = dataset.Load(context.Background(), strings.NewReader(c.in), b, dataset.Options{Format: c.format})
				var pe *dataset.ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, 3, pe.Line)
				require.ErrorIs(t, err, affinity.ErrMoneyRange)
			})
		}
	}
}
