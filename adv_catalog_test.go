package affinity_test

// Adversarial tests of the read API of Catalog and History (lookups,
// category tree, shares, summary, order accessors, latest), of Lookback
// and of Money text, against naive models written from the documentation.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var acT0 = time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)

func acBuild(t *testing.T, b *affinity.Builder) *affinity.History {
	t.Helper()
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}
func TestAdvCatalogParseMoneyBelowMinMoney(t *testing.T) {
	for _, s := range []string{"-922337203685477.5808", "-922337203685477,5808"} {
		m, err := affinity.ParseMoney(s, s[len(s)-5])
		if assert.Error(t, err, "%q: Money holds [MinMoney, MaxMoney] only", s) {
			assert.ErrorIs(t, err, affinity.ErrMoney)
		} else {
			assert.GreaterOrEqual(t, m, affinity.MinMoney)
		}
	}
	var m affinity.Money
	assert.Error(t, json.Unmarshal([]byte(`"-922337203685477.5808"`), &m))
	assert.Error(t, json.Unmarshal([]byte(`-922337203685477.5808`), &m))
}

func TestAdvCatalogParseMoneyBounds(t *testing.T) {
	m, err := affinity.ParseMoney("922337203685477.5807", 0)
	require.NoError(t, err)
	assert.Equal(t, affinity.MaxMoney, m)
	m, err = affinity.ParseMoney("-922337203685477.5807", 0)
	require.NoError(t, err)
	assert.Equal(t, affinity.MinMoney, m)
	for _, s := range []string{"922337203685477.5808", "99999999999999999999999", "1e3", "1.23456", "1,000.5", "", "-", "+", ".", "--1", "1.2.3", " 1", "1 ", "0x10", "١"} {
		_, err := affinity.ParseMoney(s, '.')
		assert.ErrorIs(t, err, affinity.ErrMoney, "%q", s)
	}
	// decimal comma: '.' is then not a separator
	_, err = affinity.ParseMoney("1.5", ',')
	assert.ErrorIs(t, err, affinity.ErrMoney)
	for _, c := range []struct {
		s   string
		sep byte
		m   affinity.Money
	}{
		{"2.55", 0, 25500}, {"-3", '.', -30000}, {"1,5", ',', 15000}, {"0.001", 0, 10},
		{"+7", 0, 70000}, {"-0", 0, 0}, {".5", 0, 5000}, {"-,0001", ',', -1}, {"0012.9", 0, 129000},
	} {
		m, err := affinity.ParseMoney(c.s, c.sep)
		require.NoError(t, err, c.s)
		assert.Equal(t, c.m, m, c.s)
	}
}

// acMoneyString is the naive String model: exact decimal, 2 to 4 decimals.
func acMoneyString(m affinity.Money) string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u
	}
	frac := fmt.Sprintf("%04d", u%10000)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	s := fmt.Sprintf("%d.%s", u/10000, frac)
	if neg {
		s = "-" + s
	}
	return s
}

// acMoneyFormat is the naive Format model via big-ish arithmetic on uint64.
func acMoneyFormat(m affinity.Money, d int) string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u
	}
	unit := uint64(math.Pow10(4 - d))
	q, r := u/unit, u%unit
	if 2*r >= unit {
		q++
	}
	pow := uint64(math.Pow10(d))
	s := fmt.Sprint(q / pow)
	if d > 0 {
		s += fmt.Sprintf(".%0*d", d, q%pow)
	}
	if neg && q != 0 {
		s = "-" + s
	}
	return s
}

func TestAdvCatalogMoneyTextRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []affinity.Money{0, 1, -1, 99, 100, -100, 5000, -5000, 4999, 25500, affinity.MaxMoney, affinity.MinMoney, affinity.MaxMoney - 1, affinity.MinMoney + 1}
	for range testdata.Scale(20000, 400) {
		switch r.IntN(3) {
		case 0:
			vals = append(vals, affinity.Money(r.Int64()))
		case 1:
			vals = append(vals, -affinity.Money(r.Int64N(math.MaxInt64)))
		default:
			vals = append(vals, affinity.Money(r.Int64N(2_000_000)-1_000_000))
		}
	}
	for _, m := range vals {
		s := m.String()
		require.Equal(t, acMoneyString(m), s, "%d", int64(m))
		back, err := affinity.ParseMoney(s, 0)
		require.NoError(t, err, s)
		require.Equal(t, m, back, s)
		back, err = affinity.ParseMoney(strings.Replace(s, ".", ",", 1), ',')
		require.NoError(t, err, s)
		require.Equal(t, m, back, s)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, `"`+s+`"`, string(b))
		var j affinity.Money
		require.NoError(t, json.Unmarshal(b, &j))
		require.Equal(t, m, j)
		j = 0
		require.NoError(t, json.Unmarshal([]byte(s), &j), "JSON number %s", s)
		require.Equal(t, m, j)
		for d := range 5 {
			require.Equal(t, acMoneyFormat(m, d), m.Format(d), "%d Format(%d)", int64(m), d)
		}
	}
}

func TestAdvCatalogMoneyJSONEdges(t *testing.T) {
	m := affinity.Money(42)
	require.NoError(t, json.Unmarshal([]byte(`null`), &m))
	assert.Equal(t, affinity.Money(42), m, "null leaves m as it is")
	for _, in := range []string{`"1\u002e5"`, `"1e2"`, `1e2`, `1E2`, `"1.00001"`, `""`, `true`, `"1,5"`, `[1]`, `{}`} {
		m = 7
		err := json.Unmarshal([]byte(in), &m)
		assert.Error(t, err, in)
	}
	var p struct {
		P affinity.Money `json:"p"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"p": 12.9}`), &p))
	assert.Equal(t, affinity.Money(129000), p.P)
	assert.Panics(t, func() { _ = affinity.Money(1).Format(5) })
	assert.Panics(t, func() { _ = affinity.Money(1).Format(-1) })
	assert.Equal(t, "44.88", affinity.Money(448778).Format(2))
	assert.Equal(t, "0", affinity.Money(-4999).Format(0))
	assert.Equal(t, "-1", affinity.Money(-5000).Format(0))
}

func TestAdvCatalogLookback(t *testing.T) {
	utc := time.UTC
	tokyo := time.FixedZone("JST", 9*3600)
	cases := []struct {
		name string
		l    affinity.Lookback
		asOf time.Time
		want time.Time
	}{
		{"doc leap", affinity.Months(24), time.Date(2012, 3, 1, 0, 0, 0, 0, utc), time.Date(2010, 3, 1, 0, 0, 0, 0, utc)},
		{"leap day 12m", affinity.Months(12), time.Date(2024, 2, 29, 10, 0, 0, 0, utc), time.Date(2023, 2, 28, 10, 0, 0, 0, utc)},
		{"month end 1m", affinity.Months(1), time.Date(2023, 3, 31, 0, 0, 0, 0, utc), time.Date(2023, 2, 28, 0, 0, 0, 0, utc)},
		{"zone", affinity.Months(1), time.Date(2024, 3, 1, 3, 0, 0, 0, tokyo), time.Date(2024, 1, 29, 18, 0, 0, 0, utc)},
		{"months and days", affinity.Lookback{Months: 1, Duration: 48 * time.Hour}, time.Date(2024, 3, 15, 0, 0, 0, 0, utc), time.Date(2024, 2, 13, 0, 0, 0, 0, utc)},
		{"zero", affinity.Lookback{}, time.Date(2024, 3, 15, 0, 0, 0, 0, tokyo), time.Date(2024, 3, 14, 15, 0, 0, 0, utc)},
		{"all", affinity.AllTime, time.Date(2024, 3, 15, 0, 0, 0, 0, utc), time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.l.Start(c.asOf)
			assert.True(t, c.want.Equal(s), "got %v want %v", s, c.want)
			if !c.l.All {
				assert.Equal(t, time.UTC, s.Location())
			}
			// (Start, asOf]
			assert.False(t, c.l.Contains(c.asOf, s) && !c.l.All)
			assert.False(t, c.l.Contains(c.asOf, c.asOf.Add(time.Second)))
			if !c.l.IsZero() {
				assert.True(t, c.l.Contains(c.asOf, c.asOf))
				assert.True(t, c.l.Contains(c.asOf, s.Add(time.Nanosecond)) || c.l.All)
			} else {
				assert.False(t, c.l.Contains(c.asOf, c.asOf), "the zero Lookback is an empty window")
			}
		})
	}
	// same instant, any zone: same window
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		at := time.Unix(r.Int64N(4e9), 0)
		l := affinity.Lookback{Months: r.IntN(40), Duration: time.Duration(r.IntN(100)) * time.Hour}
		a := l.Start(at.In(tokyo))
		b := l.Start(at.In(time.FixedZone("X", -11*3600)))
		require.True(t, a.Equal(b), "%v %v", at, l)
		// monotone in Months
		require.False(t, affinity.Months(l.Months+1).Start(at).After(affinity.Months(l.Months).Start(at)))
	}
	for _, c := range []struct {
		l affinity.Lookback
		s string
	}{
		{affinity.Months(24), "24 months"}, {affinity.Months(1), "1 month"}, {affinity.Days(30), "30 days"},
		{affinity.Days(1), "1 day"}, {affinity.Lookback{Months: 1, Duration: 12 * time.Hour}, "1 month 12h0m0s"},
		{affinity.AllTime, "all"}, {affinity.Lookback{Months: 2, Duration: 72 * time.Hour}, "2 months 3 days"},
	} {
		assert.Equal(t, c.s, c.l.String())
	}
	for _, l := range []affinity.Lookback{{Months: -1}, {Duration: -1}, {All: true, Months: 1}, {All: true, Duration: time.Hour}} {
		assert.ErrorIs(t, l.Validate(), affinity.ErrInvalid, "%+v", l)
	}
	for _, l := range []affinity.Lookback{{}, affinity.AllTime, affinity.Months(1200), affinity.Days(36500)} {
		assert.NoError(t, l.Validate(), "%+v", l)
	}
	assert.Equal(t, affinity.Months(3), affinity.Lookback{}.Or(affinity.Months(3)))
	assert.Equal(t, affinity.AllTime, affinity.AllTime.Or(affinity.Months(3)))
}

// acCatModel is the naive model of one product's categories from its paths.
func acShares(paths []string) (leaves []string, shares map[string]float64) {
	shares = map[string]float64{}
	for _, p := range paths {
		if p = affinity.CleanCategoryPath(p); p != "" && !slices.Contains(leaves, p) {
			leaves = append(leaves, p)
		}
	}
	for _, l := range leaves {
		seen := map[string]bool{}
		parts := strings.Split(l, "/")
		for i := range parts {
			node := strings.Join(parts[:i+1], "/")
			if !seen[node] {
				seen[node] = true
				shares[node] = math.Min(shares[node]+1/float64(len(leaves)), 1)
			}
		}
	}
	return leaves, shares
}

func TestAdvCatalogTreeModel(t *testing.T) {
	levels := []string{"A", "B", "Outdoor", " x ", "a"}
	for seed := range uint64(testdata.Scale(200, 12)) {
		r := rand.New(rand.NewPCG(seed, 7))
		b := affinity.NewBuilder(nil)
		products := map[string][]string{}
		var order []string
		allNodes := map[string]bool{}
		for i := range 1 + r.IntN(20) {
			key := fmt.Sprintf("p%d", r.IntN(12))
			var paths []string
			for range r.IntN(5) {
				var lv []string
				for range 1 + r.IntN(4) {
					lv = append(lv, levels[r.IntN(len(levels))])
				}
				sep := "/"
				if r.IntN(4) == 0 {
					sep = " / "
				}
				paths = append(paths, strings.Join(lv, sep))
			}
			if r.IntN(6) == 0 {
				paths = append(paths, "", " / ")
			}
			require.NoError(t, b.AddProduct(affinity.Product{Key: key, Name: fmt.Sprint("n", i), Price: affinity.Money(i), InStock: i%2 == 0, Categories: paths}))
			if _, ok := products[key]; !ok {
				order = append(order, key)
			}
			products[key] = paths
			_, sh := acShares(paths)
			for n := range sh {
				allNodes[n] = true // nodes stay when a product is described anew
			}
		}
		h := acBuild(t, b)
		c := h.Catalog()
		require.Equal(t, len(order), c.NumProducts())
		for i, key := range order {
			p, ok := c.LookupProduct(key)
			require.True(t, ok)
			require.Equal(t, affinity.ProductID(i), p, "first-seen order")
			leaves, shares := acShares(products[key])
			var got []string
			for _, cat := range c.Categories(p) {
				got = append(got, c.CategoryPath(cat))
			}
			require.Equal(t, leaves, got, "seed %d %q %q", seed, key, products[key])
			sh := c.Shares(p)
			require.Len(t, sh, len(shares))
			require.True(t, slices.IsSortedFunc(sh, func(a, b affinity.CategoryShare) int { return int(a.Category) - int(b.Category) }))
			for _, s := range sh {
				path := c.CategoryPath(s.Category)
				assert.InDelta(t, shares[path], float64(s.Weight), 1e-6, "seed %d %q %q", seed, key, path)
				assert.LessOrEqual(t, s.Weight, float32(1))
			}
		}
		require.Equal(t, len(allNodes), c.NumCategories(), "seed %d", seed)
		leafCount := map[string]int{}
		for n := range allNodes {
			leafCount[n[strings.LastIndex(n, "/")+1:]]++
		}
		var roots []affinity.CategoryID
		for id := range c.NumCategories() {
			cat := affinity.CategoryID(id)
			path := c.CategoryPath(cat)
			require.True(t, allNodes[path])
			got, ok := c.LookupCategory(path)
			require.True(t, ok)
			require.Equal(t, cat, got)
			got, ok = c.LookupCategory(" / " + strings.ReplaceAll(path, "/", " // ") + "/ ")
			require.True(t, ok, path)
			require.Equal(t, cat, got)
			parts := strings.Split(path, "/")
			require.Equal(t, len(parts), c.Depth(cat))
			name := parts[len(parts)-1]
			require.Equal(t, name, c.CategoryName(cat))
			if leafCount[name] > 1 {
				assert.Equal(t, path, c.ShortName(cat))
			} else {
				assert.Equal(t, name, c.ShortName(cat))
			}
			for d := -1; d <= len(parts)+2; d++ {
				want := strings.Join(parts[:min(max(d, 1), len(parts))], "/")
				assert.Equal(t, want, c.CategoryPath(c.Ancestor(cat, d)), "%q depth %d", path, d)
			}
			if len(parts) == 1 {
				assert.Equal(t, affinity.NoCategory, c.Parent(cat))
				roots = append(roots, cat)
			} else {
				par := c.Parent(cat)
				assert.Equal(t, strings.Join(parts[:len(parts)-1], "/"), c.CategoryPath(par))
				assert.Contains(t, c.Children(par), cat)
			}
			assert.True(t, slices.IsSorted(c.Children(cat)))
		}
		assert.Equal(t, roots, c.Roots())
		_, ok := c.LookupCategory("")
		assert.False(t, ok, "the empty path is no category")
		_, ok = c.LookupProduct("nope")
		assert.False(t, ok)
	}
}

func TestAdvCatalogProductFields(t *testing.T) {
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.AddProduct(affinity.Product{Key: "a", Name: "Alpha", Price: 12345, InStock: false, Categories: []string{"X/Y", "X/Y", "X"}}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "z", Time: acT0, Quantity: 1, Price: 10}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "c", Product: "e", Time: acT0, Kind: affinity.View, Weight: 1}))
	h := acBuild(t, b)
	c := h.Catalog()
	a, _ := c.LookupProduct("a")
	z, _ := c.LookupProduct("z")
	e, ok := c.LookupProduct("e")
	require.True(t, ok, "products named only by events are in the catalog")
	assert.Equal(t, "Alpha", c.ProductName(a))
	assert.Equal(t, affinity.Money(12345), c.ProductPrice(a))
	assert.False(t, c.InStock(a))
	for _, p := range []affinity.ProductID{z, e} {
		assert.Equal(t, "", c.ProductName(p))
		assert.Equal(t, affinity.Money(0), c.ProductPrice(p))
		assert.True(t, c.InStock(p), "known only from purchases or events: in stock")
		assert.Empty(t, c.Categories(p))
		assert.Empty(t, c.Shares(p))
	}
	// paths X/Y (twice) and X: two distinct paths, 1/2 each, X carries both
	sh := c.Shares(a)
	require.Len(t, sh, 2)
	for _, s := range sh {
		if c.CategoryPath(s.Category) == "X" {
			assert.InDelta(t, 1, s.Weight, 1e-6)
		} else {
			assert.InDelta(t, 0.5, s.Weight, 1e-6)
		}
	}
	p := c.Product(a)
	assert.Equal(t, []string{"X/Y", "X"}, p.Categories)
	p.Categories[0] = "mutated"
	assert.Equal(t, "X/Y", c.Product(a).Categories[0], "Product returns freshly allocated Categories")
}

// acOrder is one order of the model.
type acOrder struct {
	cust, key string
	unix      int64
	lines     []affinity.Purchase
}

func TestAdvCatalogHistoryAccessorsModel(t *testing.T) {
	for seed := range uint64(testdata.Scale(150, 10)) {
		r := rand.New(rand.NewPCG(seed, 11))
		b := affinity.NewBuilder(nil)
		var ps []affinity.Purchase
		var evs []affinity.Event
		for range r.IntN(60) {
			cust := ""
			if r.IntN(5) > 0 {
				cust = fmt.Sprintf("c%d", r.IntN(6))
			}
			q := int32(1 + r.IntN(3))
			if r.IntN(4) == 0 {
				q = -q
			}
			p := affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%d", r.IntN(5)), Order: fmt.Sprintf("o%d", r.IntN(20)),
				Time: acT0.Add(time.Duration(r.IntN(5)) * time.Hour), Quantity: q, Price: affinity.Money(r.IntN(100000))}
			if r.IntN(5) == 0 {
				p.Order = ""
			}
			ps = append(ps, p)
			require.NoError(t, b.Add(p))
		}
		for range r.IntN(10) {
			e := affinity.Event{Customer: fmt.Sprintf("c%d", r.IntN(8)), Product: "p1", Time: acT0.Add(time.Duration(r.IntN(8)) * time.Hour), Kind: affinity.View, Weight: 1}
			evs = append(evs, e)
			require.NoError(t, b.AddEvent(e))
		}
		h := acBuild(t, b)
		// model: orders keyed by (customer, order key or time)
		type okey struct {
			cust, key string
			unix      int64
		}
		orders := map[okey]*acOrder{}
		var custOrder []string
		seenCust := map[string]bool{}
		for _, p := range ps {
			k := okey{cust: p.Customer, key: p.Order}
			if p.Order == "" {
				k.unix = p.Time.Unix()
			}
			o := orders[k]
			if o == nil {
				o = &acOrder{cust: p.Customer, key: p.Order, unix: p.Time.Unix()}
				orders[k] = o
			}
			o.unix = min(o.unix, p.Time.Unix())
			o.lines = append(o.lines, p)
			if p.Customer != "" && !seenCust[p.Customer] {
				seenCust[p.Customer] = true
				custOrder = append(custOrder, p.Customer)
			}
		}
		for _, e := range evs {
			if !seenCust[e.Customer] {
				seenCust[e.Customer] = true
				custOrder = append(custOrder, e.Customer)
			}
		}
		var want affinity.Summary
		want.Customers = len(custOrder)
		want.Products = h.Catalog().NumProducts()
		want.Categories = h.Catalog().NumCategories()
		buyers := map[string]bool{}
		var latest int64 = math.MinInt64
		first := int64(math.MaxInt64)
		for _, o := range orders {
			want.Orders++
			want.Lines += len(o.lines)
			latest = max(latest, o.unix)
			first = min(first, o.unix)
			for _, l := range o.lines {
				want.Revenue += l.Value()
				if o.cust != "" {
					want.CustomerRevenue += l.Value()
				}
				if l.Quantity < 0 {
					want.Returns++
				} else if o.cust != "" {
					buyers[o.cust] = true
				}
			}
			if o.cust == "" {
				want.AnonymousOrders++
				want.AnonymousLines += len(o.lines)
			}
		}
		want.Buyers = len(buyers)
		want.Events = len(evs)
		if want.Orders > 0 {
			want.First, want.Last = time.Unix(first, 0).UTC(), time.Unix(latest, 0).UTC()
		}
		for _, e := range evs {
			latest = max(latest, e.Time.Unix())
		}
		got := h.Summary()
		require.Equal(t, want, got, "seed %d", seed)
		if latest == math.MinInt64 {
			assert.True(t, h.Latest().IsZero())
		} else {
			assert.Equal(t, time.Unix(latest, 0).UTC(), h.Latest())
		}
		// customers in first-seen order; their orders in time order, ties by key
		for i, ck := range custOrder {
			c, ok := h.LookupCustomer(ck)
			require.True(t, ok)
			require.Equal(t, affinity.CustomerID(i), c)
			require.Equal(t, ck, h.CustomerKey(c))
			lo, hi := h.CustomerOrders(c)
			var wantOs []*acOrder
			for _, o := range orders {
				if o.cust == ck {
					wantOs = append(wantOs, o)
				}
			}
			require.Equal(t, len(wantOs), int(hi-lo))
			for o := lo; o < hi; o++ {
				require.Equal(t, c, h.OrderCustomer(o))
				if o > lo {
					prev := o - 1
					require.True(t, h.OrderUnix(prev) < h.OrderUnix(o) || h.OrderUnix(prev) == h.OrderUnix(o) && h.OrderKey(prev) <= h.OrderKey(o), "seed %d ties by shop order id", seed)
				}
			}
			elo, ehi := h.CustomerEvents(c)
			n := 0
			for _, e := range evs {
				if e.Customer == ck {
					n++
				}
			}
			require.Equal(t, n, ehi-elo)
			for i := elo + 1; i < ehi; i++ {
				require.LessOrEqual(t, h.Event(i-1).Unix, h.Event(i).Unix)
			}
		}
		_, ok := h.LookupCustomer("")
		assert.False(t, ok, "the anonymous customer has no id")
		alo, ahi := h.AnonymousOrders()
		require.Equal(t, want.AnonymousOrders, int(ahi-alo))
		for o := alo + 1; o < ahi; o++ {
			require.LessOrEqual(t, h.OrderUnix(o-1), h.OrderUnix(o))
		}
		// per-order values from the model
		for o := range h.Orders() {
			var m *acOrder
			for _, x := range orders {
				cid := affinity.NoCustomer
				if x.cust != "" {
					cid, _ = h.LookupCustomer(x.cust)
				}
				if cid == h.OrderCustomer(o) && x.key == h.OrderKey(o) && (x.key != "" || x.unix == h.OrderUnix(o)) {
					m = x
				}
			}
			require.NotNil(t, m, "seed %d order %d", seed, o)
			var v affinity.Money
			bought := false
			for _, l := range m.lines {
				v += l.Value()
				bought = bought || l.Quantity > 0
			}
			assert.Equal(t, v, h.OrderValue(o))
			assert.Equal(t, bought, h.OrderBought(o))
			assert.Equal(t, m.unix, h.OrderUnix(o))
		}
	}
}

func TestAdvCatalogSummaryLogValue(t *testing.T) {
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: time.Unix(0, 0), Quantity: 2, Price: 12900}))
	require.NoError(t, b.Add(affinity.Purchase{Product: "p", Time: time.Unix(10, 0), Quantity: -1, Price: 5}))
	h := acBuild(t, b)
	s := h.Summary()
	assert.False(t, s.First.IsZero(), "an order at Unix 0 is an order")
	attrs := map[string]slog.Value{}
	for _, a := range s.LogValue().Group() {
		attrs[a.Key] = a.Value
	}
	assert.Equal(t, "2.58", attrs["customer_revenue"].String())
	assert.Equal(t, "2.5795", attrs["revenue"].String())
	assert.Equal(t, int64(1), attrs["returns"].Int64())
	require.Contains(t, attrs, "first_order", "an order at Unix 0 is an order")
	assert.True(t, time.Unix(0, 0).Equal(attrs["first_order"].Time()))
	assert.True(t, time.Unix(10, 0).Equal(attrs["last_order"].Time()))
	jb, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(jb), `"first_order":"1970-01-01T00:00:00Z"`)
	h0 := acBuild(t, affinity.NewBuilder(nil))
	assert.True(t, h0.Latest().IsZero())
	g := h0.Summary().LogValue().Group()
	for _, a := range g {
		assert.NotEqual(t, "first_order", a.Key)
	}
}

func TestAdvCatalogLatestAfterIncremental(t *testing.T) {
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.PutOrder("o1", 1, []affinity.Purchase{{Customer: "a", Product: "p", Time: acT0, Quantity: 1, Price: 1}}))
	require.NoError(t, b.PutOrder("o2", 1, []affinity.Purchase{{Customer: "b", Product: "p", Time: acT0.Add(time.Hour), Quantity: 1, Price: 1}}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "c", Product: "p", Time: acT0.Add(2 * time.Hour), Kind: affinity.View, Weight: 1}))
	h1 := acBuild(t, b)
	assert.Equal(t, acT0.Add(2*time.Hour), h1.Latest())
	b = affinity.NewBuilder(h1)
	b.EraseCustomer("c")
	h2 := acBuild(t, b)
	assert.Equal(t, acT0.Add(time.Hour), h2.Latest(), "latest event erased")
	b = affinity.NewBuilder(h2)
	require.NoError(t, b.DeleteOrder("o2", 2))
	h3 := acBuild(t, b)
	assert.Equal(t, acT0, h3.Latest(), "latest order deleted")
	assert.Equal(t, acT0, h3.Summary().Last)
	ch, ok := h3.ChangedSince(h2)
	require.True(t, ok)
	bid, _ := h3.LookupCustomer("b")
	assert.Equal(t, []affinity.CustomerID{bid}, ch.Customers)
	assert.False(t, ch.Anonymous)
	_, ok = h3.ChangedSince(h1)
	assert.False(t, ok, "not built from h1 directly")
	_, ok = h1.ChangedSince(h3)
	assert.False(t, ok)
	_, ok = h3.ChangedSince(nil)
	assert.False(t, ok)
	b = affinity.NewBuilder(h3)
	require.NoError(t, b.DeleteOrder("o1", 2))
	h4 := acBuild(t, b)
	assert.True(t, h4.Latest().IsZero(), "no order or event left: %v", h4.Latest())
	assert.True(t, h4.Summary().First.IsZero())
	assert.True(t, h4.Summary().Last.IsZero())
}
