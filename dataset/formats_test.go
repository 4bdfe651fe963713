package dataset_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// orderOf returns the order of customer key (or the anonymous order with
// shop id key when customer is "") that has the given shop order id.
func ordersOf(h *affinity.History, customer string) (lo, hi affinity.OrderID) {
	if customer == "" {
		return h.AnonymousOrders()
	}
	c, ok := h.LookupCustomer(customer)
	if !ok {
		return 0, 0
	}
	return h.CustomerOrders(c)
}

// lineQuantities returns the sum of line quantities per product key.
func lineQuantities(h *affinity.History) map[string]int {
	out := map[string]int{}
	for o := range h.Orders() {
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			out[h.Catalog().ProductKey(l.Product)] += int(l.Quantity)
		}
	}
	return out
}

func TestOnlineRetail(t *testing.T) {
	h, rep := loadString(t, readFixture(t, "retail.csv"), dataset.Options{Format: "onlineretail"})
	assert.Equal(t, dataset.Report{
		Format: "onlineretail", Rows: 11, Loaded: 10, Purchases: 10, Anonymous: 3, Returns: 2, Products: 9, Ignored: []string{"Country"},
		Skipped: []dataset.Skip{{Reason: "adjustment", Count: 1, FirstLine: 11}},
	}, rep)

	s := h.Summary()
	assert.Equal(t, 4, s.Customers)
	assert.Equal(t, 7, s.Orders)
	assert.Equal(t, 2, s.AnonymousOrders)
	assert.Equal(t, 3, s.AnonymousLines)
	assert.Equal(t, 2, s.Returns)
	assert.Equal(t, affinity.Money(737700), s.CustomerRevenue, "35.64 + 11.10 + 59.18 - 27.50 - 4.65")
	assert.Equal(t, affinity.Money(898000), s.Revenue, "plus 2.51 + 5.02 + 8.50 anonymous")

	lo, hi := ordersOf(h, "17850")
	require.Equal(t, affinity.OrderID(2), hi-lo, `"17850.0" is customer 17850`)
	assert.Equal(t, "536365", h.OrderKey(lo))
	assert.Equal(t, time.Date(2010, 12, 1, 8, 26, 0, 0, time.UTC), h.OrderTime(lo))

	lo, hi = ordersOf(h, "15311")
	require.Equal(t, affinity.OrderID(1), hi-lo)
	first, _ := h.OrderLines(lo)
	assert.Equal(t, int32(-1), h.Line(first).Quantity, "a C invoice with a positive quantity becomes a return")
	_, ok := h.LookupCustomer("0")
	assert.False(t, ok, `customer "0" is anonymous`)

	cat := h.Catalog()
	p, ok := cat.LookupProduct("85123A")
	require.True(t, ok)
	assert.Equal(t, "WHITE HANGING HEART T-LIGHT HOLDER", cat.ProductName(p), "Missing_Description does not replace a name")
	assert.Equal(t, affinity.Money(25500), cat.ProductPrice(p))
	assert.Empty(t, cat.Categories(p))
	_, ok = cat.LookupProduct("B")
	assert.False(t, ok, "adjustments are not loaded")
	assert.Equal(t, map[string]int{"85123A": 8, "71053": 6, "22633": 6, "84879": 32, "D": -1, "35004C": -1, "21773": 1, "21774": 2, "22000": 1},
		lineQuantities(h))

	h, _ = loadString(t, readFixture(t, "retail.csv"), dataset.Options{Format: "onlineretail", Categories: dataset.CategoryFromName})
	cat = h.Catalog()
	for key, want := range map[string]string{
		"85123A": "Holder/T-Light Holder",
		"71053":  "Lantern/Metal Lantern",
		"22000":  "Doormat",
		"35004C": "Duck/Flying Duck",
	} {
		p, _ := cat.LookupProduct(key)
		assert.Equal(t, affinity.Product{Key: key, Name: cat.ProductName(p), Categories: []string{want}, Price: cat.ProductPrice(p), InStock: true}, cat.Product(p))
	}
	holder, ok := cat.LookupCategory("Holder")
	require.True(t, ok)
	c17850, _ := h.LookupCustomer("17850")
	assert.True(t, h.CategoryBuyers(holder).Contains(uint32(c17850)))
}

func TestOnlineRetailII(t *testing.T) {
	h, rep := loadString(t, readFixture(t, "retail2.csv"), dataset.Options{Format: "onlineretail"})
	assert.Equal(t, dataset.Report{Format: "onlineretail", Rows: 4, Loaded: 4, Purchases: 4, Anonymous: 1, Returns: 1, Products: 4, Ignored: []string{"Country"}}, rep)
	lo, hi := ordersOf(h, "13085")
	require.Equal(t, affinity.OrderID(1), hi-lo)
	assert.Equal(t, time.Date(2009, 12, 1, 7, 45, 0, 0, time.UTC), h.OrderTime(lo), "UCI's 12/1/2009 7:45 layout")
	assert.Equal(t, affinity.Money(12*69500+12*67500-12*29500), h.Summary().CustomerRevenue)
}

func TestOnlineRetailErrors(t *testing.T) {
	head := "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
	_, err := loadErr(head+"536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850,UK\n536365,71053,Y,six,2010-12-01 08:26:00,3.39,17850,UK\n",
		dataset.Options{Format: "onlineretail"})
	assert.EqualError(t, err, `dataset: line 3, column 4 (Quantity): invalid quantity "six"`)
	_, err = loadErr(head+"536365,85123A,X,6,01.12.2010 08:26,2.55,17850,UK\n", dataset.Options{Format: "onlineretail"})
	assert.EqualError(t, err, `dataset: line 2, column 5 (InvoiceDate): invalid time "01.12.2010 08:26"`)
	rep, err := loadErr(head+"536365,85123A,X,6,2010-12-01 08:26:00,-2.55,17850,UK\n", dataset.Options{Format: "onlineretail", Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []dataset.Skip{{Reason: "negative price", Count: 1, FirstLine: 2}}, rep.Skipped)
}

// cdnowTotals parses a CDNOW fixture naively: total cents, total CDs,
// distinct customers (first field), distinct customer-days, and rows
// whose amount does not split evenly into ten-thousandths per CD.
func cdnowTotals(t *testing.T, data string) (cents, cds int64, customers, days, uneven int) {
	t.Helper()
	custs, cdays := map[string]bool{}, map[string]bool{}
	for line := range strings.Lines(data) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		n := len(f)
		whole, frac, _ := strings.Cut(f[n-1], ".")
		c, err := strconv.ParseInt(whole+frac, 10, 64)
		require.NoError(t, err)
		q, err := strconv.ParseInt(f[n-2], 10, 64)
		require.NoError(t, err)
		cents += c
		cds += q
		if (c*100)%q != 0 {
			uneven++
		}
		custs[f[0]] = true
		cdays[f[0]+" "+f[n-3]] = true
	}
	return cents, cds, len(custs), len(cdays), uneven
}

func TestCDNOW(t *testing.T) {
	for _, name := range []string{"cdnow_master.txt", "cdnow_sample.txt"} {
		t.Run(name, func(t *testing.T) {
			data := readFixture(t, name)
			cents, cds, customers, days, uneven := cdnowTotals(t, data)
			require.Positive(t, uneven, "the fixture has a row that must be split")
			h, rep := loadString(t, data, dataset.Options{Format: "cdnow"})
			rows := strings.Count(data, "\n")
			assert.Equal(t, dataset.Report{Format: "cdnow", Rows: rows, Loaded: rows, Purchases: rows + uneven}, rep)
			s := h.Summary()
			assert.Equal(t, affinity.Money(cents*100), s.Revenue, "spend is exact")
			assert.Equal(t, s.Revenue, s.CustomerRevenue)
			assert.Equal(t, customers, s.Customers)
			assert.Equal(t, days, s.Orders, "purchases of one customer and day form one order")
			assert.Equal(t, map[string]int{dataset.CDNOWProduct: int(cds)}, lineQuantities(h), "CD count is exact")
			for o := range h.Orders() {
				assert.Zero(t, h.OrderTime(o).Sub(h.OrderTime(o).Truncate(24*time.Hour)), "dates are midnight UTC")
				assert.Empty(t, h.OrderKey(o))
			}
		})
	}
	// The sample is keyed by the master id.
	h, _ := loadString(t, readFixture(t, "cdnow_sample.txt"), dataset.Options{Format: "cdnow"})
	c, ok := h.LookupCustomer("00018")
	require.True(t, ok)
	lo, hi := h.CustomerOrders(c)
	require.Equal(t, affinity.OrderID(1), hi-lo)
	assert.Equal(t, affinity.Money(249600), h.OrderValue(lo), "14.96 + 10.00")
	l0, l1 := h.OrderLines(lo)
	var lines []affinity.Line
	for i := l0; i < l1; i++ {
		lines = append(lines, h.Line(i))
	}
	assert.Equal(t, []affinity.Line{{Quantity: 1, Price: 149600}, {Quantity: 2, Price: 33333}, {Quantity: 1, Price: 33334}}, lines,
		"3 CDs for 10.00 are 2 × 3.3333 + 1 × 3.3334")
}

func TestCDNOWErrors(t *testing.T) {
	cases := []struct {
		data string
		msg  string
	}{
		{" 00001 19970101  1   11.77\n 00002 0002 19970112  1   12.00\n", "dataset: line 2: 5 fields, want 4"},
		{" 00001 19970101\n", "dataset: line 1: 2 fields, want 4 (customer date cds dollars) or 5 (master_id sample_id date cds dollars)"},
		{" 00001 19971301  1   11.77\n", `dataset: line 1, column 2 (date): invalid date "19971301"`},
		{" 00001 0001 19970101  x   11.77\n", `dataset: line 1, column 4 (cds): invalid quantity "x"`},
		{" 00001 19970101  0   11.77\n", "dataset: line 1, column 3 (cds): quantity 0"},
		{" 00001 19970101  1   $11.77\n", `dataset: line 1, column 4 (dollars): invalid amount "$11.77"`},
		{" 00001 19970101  1   -11.77\n", "dataset: line 1, column 4 (dollars): negative amount -11.77"},
	}
	for _, tc := range cases {
		_, err := loadErr(tc.data, dataset.Options{Format: "cdnow"})
		assert.EqualError(t, err, tc.msg)
		rep, err := loadErr(tc.data, dataset.Options{Format: "cdnow", Lenient: true})
		require.NoError(t, err)
		assert.Equal(t, 1, rep.SkippedRows())
		assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
	}
	// A return: the quantity's sign carries it.
	h, rep := loadString(t, " 00001 19970101  -3   10.00\n", dataset.Options{Format: "cdnow"})
	assert.Equal(t, 2, rep.Returns)
	assert.Equal(t, affinity.Money(-100000), h.Summary().Revenue)
}

func TestBaskets(t *testing.T) {
	h, rep := loadString(t, readFixture(t, "baskets.csv"), dataset.Options{Format: "baskets"})
	assert.Equal(t, dataset.Report{Format: "baskets", Rows: 6, Loaded: 6, Purchases: 18, Anonymous: 18, Products: 15}, rep)
	s := h.Summary()
	assert.Equal(t, 0, s.Customers)
	assert.Equal(t, 6, s.AnonymousOrders)
	assert.Equal(t, 18, s.AnonymousLines)
	assert.Equal(t, 15, s.Products)
	lo, hi := h.AnonymousOrders()
	var keys []string
	milk := 0
	cat := h.Catalog()
	for o := lo; o < hi; o++ {
		keys = append(keys, h.OrderKey(o))
		assert.Equal(t, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), h.OrderTime(o))
		l0, l1 := h.OrderLines(o)
		for i := l0; i < l1; i++ {
			l := h.Line(i)
			assert.Equal(t, affinity.Line{Product: l.Product, Quantity: 1}, l)
			if cat.ProductKey(l.Product) == "whole milk" {
				milk++
			}
		}
	}
	assert.ElementsMatch(t, []string{"basket:0:1", "basket:0:2", "basket:0:3", "basket:0:5", "basket:0:6", "basket:0:7"}, keys, `order key = "basket:" + lines before the load + ":" + line number`)
	assert.Equal(t, 3, milk)
	p, ok := cat.LookupProduct("cream cheese")
	require.True(t, ok, "items are trimmed")
	assert.Equal(t, "cream cheese", cat.ProductName(p))

	at := time.Date(2015, 3, 1, 12, 0, 0, 0, time.UTC)
	h, _ = loadString(t, "a;b\nc\n", dataset.Options{Format: "baskets", Comma: ';', BasketTime: at, Categories: strings.ToUpper})
	assert.Equal(t, at, h.OrderTime(0))
	p, _ = h.Catalog().LookupProduct("b")
	assert.Equal(t, []string{"B"}, h.Catalog().Product(p).Categories)

	_, err := loadErr("a,b\n,,\n", dataset.Options{Format: "baskets"})
	assert.EqualError(t, err, "dataset: line 2: basket without items")
}

func TestMembers(t *testing.T) {
	h, rep := loadString(t, readFixture(t, "members.csv"), dataset.Options{Format: "members"})
	assert.Equal(t, dataset.Report{Format: "members", Rows: 6, Loaded: 6, Purchases: 6, Products: 4}, rep)
	s := h.Summary()
	assert.Equal(t, 5, s.Customers)
	assert.Equal(t, 5, s.Orders, "one order per member and day")
	assert.Equal(t, 6, s.Lines)
	lo, hi := ordersOf(h, "1808")
	require.Equal(t, affinity.OrderID(1), hi-lo)
	assert.Equal(t, time.Date(2015, 7, 21, 0, 0, 0, 0, time.UTC), h.OrderTime(lo))
	l0, l1 := h.OrderLines(lo)
	assert.Equal(t, 2, l1-l0)
	lo, _ = ordersOf(h, "3037")
	assert.Equal(t, time.Date(2015, 2, 1, 0, 0, 0, 0, time.UTC), h.OrderTime(lo), "d-m-yyyy without leading zeros")
	milk, _ := h.Catalog().LookupProduct("whole milk")
	assert.Equal(t, uint64(3), h.Buyers(milk).GetCardinality())

	_, err := loadErr("Member_number,Date,itemDescription\n1808,2015-07-21,tropical fruit\n", dataset.Options{Format: "members"})
	assert.EqualError(t, err, `dataset: line 2, column 2 (Date): invalid time "2015-07-21"`)
}

func TestMovieLens(t *testing.T) {
	cases := []struct {
		file             string
		events, users    int
		firstW           float32
		firstU, firstI   string
		firstUnix        int64
		skippedHeaderRow bool
	}{
		{"u.data", 8, 7, 3, "196", "242", 881250949, false},
		{"ratings.dat", 3, 2, 5, "1", "1193", 978300760, false},
		{"ratings.csv", 3, 2, 4, "1", "1", 964982703, true},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			h, rep := loadString(t, readFixture(t, tc.file), dataset.Options{Format: "movielens"})
			assert.Equal(t, dataset.Report{Format: "movielens", Rows: tc.events, Loaded: tc.events, Events: tc.events}, rep)
			assert.Equal(t, tc.events, h.NumEvents())
			assert.Equal(t, 0, h.NumLines())
			assert.Equal(t, tc.users, h.NumCustomers())
			c, ok := h.LookupCustomer(tc.firstU)
			require.True(t, ok)
			lo, hi := h.CustomerEvents(c)
			require.Less(t, lo, hi)
			var found bool
			for i := lo; i < hi; i++ {
				e := h.Event(i)
				if h.Catalog().ProductKey(e.Product) == tc.firstI {
					found = true
					assert.Equal(t, affinity.EventLine{Product: e.Product, Unix: tc.firstUnix, Kind: affinity.Rating, Weight: tc.firstW}, e)
				}
			}
			assert.True(t, found)

			h, rep = loadString(t, readFixture(t, tc.file), dataset.Options{Format: "movielens", MovieLensAsPurchases: true})
			assert.Equal(t, dataset.Report{Format: "movielens", Rows: tc.events, Loaded: tc.events, Purchases: tc.events}, rep)
			assert.Equal(t, 0, h.NumEvents())
			assert.Equal(t, tc.events, h.NumLines())
			assert.Equal(t, tc.events, h.NumOrders(), "one order per user and second")
			assert.Equal(t, affinity.Money(0), h.Summary().Revenue)
		})
	}
	h, _ := loadString(t, readFixture(t, "ratings.csv"), dataset.Options{Format: "movielens"})
	c, _ := h.LookupCustomer("7")
	lo, _ := h.CustomerEvents(c)
	assert.InDelta(t, 0.5, h.Event(lo).Weight, 1e-9)

	bad := []struct{ data, msg string }{
		{"1\t2\tx\t3\n", `dataset: line 1, column 3 (rating): invalid rating "x"`},
		{"1\t2\tNaN\t3\n", `dataset: line 1, column 3 (rating): invalid rating "NaN"`},
		{"1\t2\t1e99\t3\n", `dataset: line 1, column 3 (rating): invalid rating "1e99"`},
		{"1\t2\t3\n", "dataset: line 1: 3 fields, want 4 (user item rating timestamp)"},
		{"1\t2\t3\t4\n\n1\t2\t3\tnoon\n", `dataset: line 3, column 4 (timestamp): invalid timestamp "noon"`},
		{",2,3,4\n", "dataset: line 1, column 1 (user): missing user id"},
		{"1,,3,4\n", "dataset: line 1, column 2 (item): missing item id"},
	}
	for _, tc := range bad {
		_, err := loadErr(tc.data, dataset.Options{Format: "movielens"})
		assert.EqualError(t, err, tc.msg)
	}
}
