package dataset_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

const onlineRetailFile = "online-retail/online_retail_2010-2011.csv.gz"

func TestRealOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("real data: skipped in -short mode")
	}
	path := testdata.Shared(t, onlineRetailFile)
	// the whole file's published figures
	want := struct {
		rows, anonymous, known, customers, invoices int
		revenue                                     affinity.Money
	}{531_282, 133_358, 397_924, 4_339, 18_536, 8_911_407_9040}
	if !testdata.Long() {
		// The quick suite loads the file's first 50,000 rows (some 17
		// of the loader's 256 KiB blocks), copied gzipped as the file is.
		// Their figures were counted with Python's csv and decimal
		// modules (customer "0" anonymous, as the loader reads it), by a
		// script that gives the whole file's figures above.
		path = testdata.GzipPart(t, path, 1+50_000, 0)
		want.rows, want.anonymous, want.known, want.customers, want.invoices = 50_000, 18_269, 31_731, 985, 1_638
		want.revenue = 693_070_3200
	}
	h, rep, err := dataset.ReadFile(context.Background(), path, dataset.Options{Format: "onlineretail", Categories: dataset.CategoryFromName})
	require.NoError(t, err)
	t.Logf("report:\n%s", rep)

	assert.Equal(t, want.rows, rep.Rows)
	assert.Equal(t, want.rows, rep.Loaded)
	assert.Equal(t, want.anonymous, rep.Anonymous)
	assert.Equal(t, 0, rep.Returns, "this copy has no cancellations")
	assert.Empty(t, rep.Skipped)

	s := h.Summary()
	assert.Equal(t, want.rows, s.Lines)
	assert.Equal(t, want.anonymous, s.AnonymousLines)
	assert.Equal(t, want.known, s.Lines-s.AnonymousLines, "lines with a known customer")
	assert.Equal(t, want.customers, s.Customers)
	assert.Equal(t, uint64(want.customers), h.AllBuyers().GetCardinality())
	assert.Equal(t, want.invoices, s.Orders-s.AnonymousOrders, "invoices with a known customer")
	assert.Equal(t, want.revenue, s.CustomerRevenue)
	if testdata.Long() {
		// £8,911,407.90 is published in pennies; the exact sum is
		// £8,911,407.904 because four unit prices have three decimals.
		assert.Equal(t, affinity.Money(8_911_407_90), (s.CustomerRevenue+50)/100, "£8,911,407.90 in pennies")
	}

	// Lines with a known customer, counted independently of Summary.
	known := 0
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerLines(c)
		known += hi - lo
	}
	assert.Equal(t, want.known, known)

	cat := h.Catalog()
	named, categorised := 0, 0
	for p := range affinity.ProductID(cat.NumProducts()) {
		if cat.ProductName(p) != "" {
			named++
		}
		if len(cat.Categories(p)) > 0 {
			categorised++
		}
	}
	roots := len(cat.Roots())
	t.Logf("CategoryFromName: %d products, %d named, %d categorised; %d top-level categories, %d category nodes",
		cat.NumProducts(), named, categorised, roots, cat.NumCategories())
	assert.Equal(t, named, categorised, "every named product gets a category")
	assert.GreaterOrEqual(t, roots, 100, "a few hundred top-level categories")
	assert.LessOrEqual(t, roots, 600, "a few hundred top-level categories")
	if testdata.Long() {
		// the figures CategoryFromName's documentation gives for the
		// whole file's named products, a path from each one's name
		top, second := map[string]bool{}, map[string]bool{}
		for p := range affinity.ProductID(cat.NumProducts()) {
			if name := cat.ProductName(p); name != "" {
				path := dataset.CategoryFromName(name)
				top[strings.Split(path, affinity.CategorySep)[0]] = true
				if strings.Contains(path, affinity.CategorySep) {
					second[path] = true
				}
			}
		}
		assert.Equal(t, 3_924, named, "named products")
		assert.Len(t, top, 383, "top-level categories")
		assert.Len(t, second, 1_484, "second-level categories")
	}
	holder, ok := cat.LookupCategory("Holder/T-Light Holder")
	require.True(t, ok)
	assert.Positive(t, h.CategoryBuyers(holder).GetCardinality())
}

func TestRealCDNOW(t *testing.T) {
	master := testdata.Shared(t, "cdnow/CDNOW_master.txt")
	sample := testdata.Shared(t, "cdnow/CDNOW_sample.txt")

	hm, rep, err := dataset.ReadFile(context.Background(), master, dataset.Options{Format: "cdnow"})
	require.NoError(t, err)
	t.Logf("master report:\n%s", rep)
	assert.Equal(t, 69_659, rep.Rows)
	assert.Equal(t, 69_659, rep.Loaded)
	assert.Empty(t, rep.Skipped)
	s := hm.Summary()
	assert.Equal(t, 23_570, s.Customers)
	assert.Equal(t, affinity.Money(2_500_315_6300), s.Revenue, "$2,500,315.63")
	assert.Equal(t, rep.Purchases, s.Lines)

	data, err := os.ReadFile(master)
	require.NoError(t, err)
	_, cds, _, days, _ := cdnowTotals(t, string(data))
	assert.Equal(t, days, s.Orders, "one order per customer and day")
	assert.Equal(t, map[string]int{dataset.CDNOWProduct: int(cds)}, lineQuantities(hm))

	hs, rep, err := dataset.ReadFile(context.Background(), sample, dataset.Options{Format: "cdnow"})
	require.NoError(t, err)
	assert.Equal(t, 6_919, rep.Rows)
	assert.Equal(t, 2_357, hs.NumCustomers())
	// The sample's customers are keyed by master id: each has the same
	// orders in the master.
	for c := range affinity.CustomerID(hs.NumCustomers()) {
		key := hs.CustomerKey(c)
		mc, ok := hm.LookupCustomer(key)
		require.True(t, ok, key)
		slo, shi := hs.CustomerOrders(c)
		mlo, mhi := hm.CustomerOrders(mc)
		require.Equal(t, shi-slo, mhi-mlo, key)
		for i := range shi - slo {
			// assert only on a difference: its t.Helper costs more than the lookups
			if hs.OrderUnix(slo+i) != hm.OrderUnix(mlo+i) || hs.OrderValue(slo+i) != hm.OrderValue(mlo+i) {
				assert.Equal(t, hs.OrderUnix(slo+i), hm.OrderUnix(mlo+i))
				assert.Equal(t, hs.OrderValue(slo+i), hm.OrderValue(mlo+i))
			}
		}
	}
}

func TestRealGroceries(t *testing.T) {
	path := testdata.Shared(t, "groceries/groceries.csv")
	h, rep, err := dataset.ReadFile(context.Background(), path, dataset.Options{Format: "baskets"})
	require.NoError(t, err)
	assert.Equal(t, 9_835, rep.Rows)
	assert.Empty(t, rep.Skipped)
	s := h.Summary()
	assert.Equal(t, 9_835, s.AnonymousOrders)
	assert.Equal(t, 169, s.Products)
	assert.Equal(t, 43_367, s.Lines)

	cat := h.Catalog()
	baskets := map[string]int{}
	largest := 0
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		l0, l1 := h.OrderLines(o)
		largest = max(largest, l1-l0)
		seen := map[affinity.ProductID]bool{}
		for i := l0; i < l1; i++ {
			if p := h.LineProduct(i); !seen[p] {
				seen[p] = true
				baskets[cat.ProductKey(p)]++
			}
		}
	}
	assert.Equal(t, 32, largest)
	assert.Equal(t, 2_513, baskets["whole milk"])
	assert.Equal(t, 1_903, baskets["other vegetables"])
	assert.Equal(t, 1_809, baskets["rolls/buns"])
}

// BenchmarkLoadOnlineRetail loads the whole Online Retail file (531,282
// lines) from memory, gzipped and plain; MB/s is of the uncompressed CSV.
func BenchmarkLoadOnlineRetail(b *testing.B) {
	gz, err := os.ReadFile(testdata.Shared(b, onlineRetailFile))
	require.NoError(b, err)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(b, err)
	plain, err := io.ReadAll(zr)
	require.NoError(b, err)
	lines := bytes.Count(plain, []byte{'\n'}) - 1
	for _, tc := range []struct {
		name string
		data []byte
	}{{"gzip", gz}, {"plain", plain}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				var bld affinity.Builder
				rep, err := dataset.Load(context.Background(), bytes.NewReader(tc.data), &bld, dataset.Options{Format: "onlineretail"})
				if err != nil || rep.Loaded != lines {
					b.Fatal(err, rep.Loaded)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
