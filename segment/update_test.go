package segment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// updateAsOf is the as-of time of the Update tests, just after a leap
// day so that calendar-month look-backs differ from fixed durations.
var updateAsOf = time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)

// updateGen makes a random shop and random refreshes of it for the
// Update tests. The catalog of the first History holds most products;
// a refresh sometimes adds one, in a category path of the catalog or a
// new one, which Update lays over as long as the weights' common
// denominator stays.
type updateGen struct {
	r       *rand.Rand
	asOf    time.Time
	start   time.Time // the look-back is (start, asOf]; zero for AllTime
	prods   []string
	paths   []string // category paths of the catalog
	nCust   int
	newCust int      // customers made up by refreshes so far
	orders  []string // order keys used so far
	version int64
	keys    []string // every customer key ever used, erased ones included
}

// window sets g.start to the start of opts's look-back as of g.asOf
// (left zero for AllTime).
func (g *updateGen) window(opts segment.Options) {
	if l := opts.Lookback.Or(affinity.Months(segment.DefaultLookbackMonths)); !l.All {
		g.start = l.Start(g.asOf)
	}
}

// when returns a random time: mostly in the last weeks before asOf, some
// far back (lapsing, churned, outside short look-backs), some on the
// boundaries of the look-back and of asOf, some after asOf.
func (g *updateGen) when() time.Time {
	r := g.r
	switch r.IntN(24) {
	case 0:
		return g.asOf
	case 1, 2:
		return g.asOf.Add(time.Duration(1+r.IntN(10*day)) * time.Second) // after asOf: ignored
	case 3:
		if !g.start.IsZero() {
			return g.start // just outside the look-back
		}
	case 4:
		if !g.start.IsZero() {
			return g.start.Add(time.Second) // just inside
		}
	case 5, 6, 7:
		return g.asOf.Add(-time.Duration(r.IntN(800*day)) * time.Second)
	case 8, 9:
		return g.asOf.Add(-time.Duration(r.IntN(40)) * segment.Day) // whole days back
	}
	return g.asOf.Add(-time.Duration(r.IntN(60*day)) * time.Second)
}

// line returns a random line of customer cust in order (both may be
// empty), at t.
func (g *updateGen) line(cust, order string, t time.Time) affinity.Purchase {
	r := g.r
	q := int32(1 + r.IntN(3))
	if r.IntN(8) == 0 {
		q = -q // a return
	}
	price := affinity.Money(1+r.IntN(40)) * affinity.MoneyScale / 4
	if r.IntN(20) == 0 {
		price = 0
	}
	return affinity.Purchase{Customer: cust, Product: g.prods[r.IntN(len(g.prods))], Order: order,
		Time: t.Add(time.Duration(r.IntN(2)) * time.Hour), Quantity: q, Price: price}
}

// order returns 1 to 3 lines of one order of cust at a random time.
func (g *updateGen) order(cust, key string) []affinity.Purchase {
	t := g.when()
	lines := make([]affinity.Purchase, 1+g.r.IntN(3))
	for i := range lines {
		lines[i] = g.line(cust, key, t)
	}
	return lines
}

// orderKey returns a fresh order key, or none (one order per customer
// and second).
func (g *updateGen) orderKey() string {
	if g.r.IntN(6) == 0 {
		return ""
	}
	k := "o" + strconv.Itoa(len(g.orders))
	g.orders = append(g.orders, k)
	return k
}

// oldOrderKey returns a key used before (of any customer), or a fresh one.
func (g *updateGen) oldOrderKey() string {
	if len(g.orders) == 0 || g.r.IntN(5) == 0 {
		k := "o" + strconv.Itoa(len(g.orders))
		g.orders = append(g.orders, k)
		return k
	}
	return g.orders[g.r.IntN(len(g.orders))]
}

func (g *updateGen) event(cust string) affinity.Event {
	kinds := []affinity.EventKind{affinity.View, affinity.View, affinity.Cart, affinity.Cart, affinity.Rating, affinity.Wishlist}
	return affinity.Event{Customer: cust, Product: g.prods[g.r.IntN(len(g.prods))], Time: g.when(),
		Kind: kinds[g.r.IntN(len(kinds))], Weight: 1}
}

// history builds the first History: a catalog of nProd products over a
// two-level tree (some products uncategorized, some in two paths, one
// category without products), and nCust customers, added in random
// order, with orders (some with returns, some anonymous) and events.
func (g *updateGen) history(t *testing.T, nProd int) *affinity.History {
	r := g.r
	var b affinity.Builder
	var paths []string
	for d := range 1 + r.IntN(3) {
		root := []string{"Sports", "Home", "Books"}[d]
		paths = append(paths, root)
		for c := range 1 + r.IntN(3) {
			paths = append(paths, root+"/"+[]string{"Shoes", "Bags", "Misc"}[c])
		}
	}
	if r.IntN(3) == 0 {
		_, err := b.AddCategory("Empty/Nothing") // a category no one can buy in
		require.NoError(t, err)
	}
	g.paths = paths
	for p := range nProd {
		key := "p" + strconv.Itoa(p)
		g.prods = append(g.prods, key)
		var cats []string
		switch r.IntN(8) {
		case 0: // uncategorized
		case 1, 2:
			cats = []string{paths[r.IntN(len(paths))], paths[r.IntN(len(paths))]}
		default:
			cats = []string{paths[r.IntN(len(paths))]}
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: key, Categories: cats, InStock: true}))
	}
	for _, c := range r.Perm(g.nCust) {
		cust := "c" + strconv.Itoa(c)
		g.keys = append(g.keys, cust)
		for range r.IntN(5) {
			for _, l := range g.order(cust, g.orderKey()) {
				noErr(t, b.Add(l))
			}
		}
		for range r.IntN(3) {
			noErr(t, b.AddEvent(g.event(cust)))
		}
		if r.IntN(10) == 0 {
			noErr(t, b.Add(g.line("", "", g.when()))) // anonymous
		}
	}
	// at least one line before asOf, so that Build has something to index
	require.NoError(t, b.Add(g.line("c0", "", g.asOf.Add(-segment.Day))))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// customer returns the key of a random customer of h, or of a new one.
func (g *updateGen) customer(h *affinity.History) string {
	if g.r.IntN(10) == 0 || h.NumCustomers() == 0 {
		g.newCust++
		k := "n" + strconv.Itoa(g.newCust)
		g.keys = append(g.keys, k)
		return k
	}
	k := h.CustomerKey(affinity.CustomerID(g.r.IntN(h.NumCustomers())))
	if k == "" { // erased: the key may come back with a new id
		k = g.keys[g.r.IntN(len(g.keys))]
	}
	return k
}

// next returns the History after one refresh of touch customers of h
// (see refresh); msgAndArgs say where, as for require.
func (g *updateGen) next(t *testing.T, h *affinity.History, touch int, msgAndArgs ...any) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(h)
	g.refresh(t, b, h, touch)
	h2, err := b.Build(context.Background())
	require.NoError(t, err, msgAndArgs...)
	return h2
}

// refresh stages random changes of about touch customers of h on b: new
// lines with and without order keys, returns, replaced and deleted
// orders (whose keys may belong to other customers, which they touch
// too), events, erasures, and anonymous orders.
func (g *updateGen) refresh(t *testing.T, b *affinity.Builder, h *affinity.History, touch int) {
	r := g.r
	if len(g.paths) > 0 && r.IntN(6) == 0 { // a new product, bought below
		key := "n" + strconv.Itoa(len(g.prods))
		cats := []string{g.paths[r.IntN(len(g.paths))]}
		switch r.IntN(4) {
		case 0:
			cats = []string{"New/Shelf" + strconv.Itoa(r.IntN(2))}
		case 1:
			cats = append(cats, g.paths[r.IntN(len(g.paths))]) // may change the weights' denominator
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: key, Categories: cats, InStock: true}))
		g.prods = append(g.prods, key)
	}
	for range touch {
		cust := g.customer(h)
		for range 1 + r.IntN(3) {
			g.version++
			switch k := r.IntN(20); {
			case k < 5:
				for _, l := range g.order(cust, g.orderKey()) {
					noErr(t, b.Add(l))
				}
			case k < 7: // a return of a line bought before
				l := g.line(cust, g.oldOrderKey(), g.when())
				l.Quantity = -max(l.Quantity, -l.Quantity)
				noErr(t, b.Add(l))
			case k < 10:
				key := g.oldOrderKey()
				lines := g.order(cust, "")
				if r.IntN(2) == 0 {
					for i := range lines {
						lines[i].Order = key
					}
				}
				require.NoError(t, b.PutOrder(key, g.version, lines))
			case k < 12:
				require.NoError(t, b.DeleteOrder(g.oldOrderKey(), g.version))
			case k < 17:
				noErr(t, b.AddEvent(g.event(cust)))
			case k < 18:
				b.EraseCustomer(cust)
			case k < 19:
				require.NoError(t, b.PutOrder(g.oldOrderKey(), g.version, g.order("", ""))) // anonymous
			default:
				noErr(t, b.Add(g.line("", g.orderKey(), g.when())))
			}
		}
	}
}

// randomUpdateOptions returns random options whose look-back is at least
// 20 days, so that the windows of updateQueries fit.
func randomUpdateOptions(r *rand.Rand) segment.Options {
	var o segment.Options
	switch r.IntN(6) {
	case 1:
		o.Lookback = affinity.Months(1)
	case 2:
		o.Lookback = affinity.Days(20 + r.IntN(30))
	case 3:
		o.Lookback = affinity.Lookback{Months: 2, Duration: 12 * time.Hour}
	case 4:
		o.Lookback = affinity.AllTime
	}
	if r.IntN(2) == 0 {
		o.RFMScoring = segment.RFMNTile
	}
	if r.IntN(3) == 0 {
		o.TopN = 1 + r.IntN(3)
	}
	if r.IntN(3) == 0 {
		o.LoyalOrders = 2 + r.IntN(3)
	}
	if r.IntN(3) == 0 {
		o.LapseAfter = time.Duration(3+r.IntN(15)) * segment.Day
		o.ChurnAfter = o.LapseAfter + time.Duration(1+r.IntN(30))*segment.Day
	}
	if r.IntN(4) == 0 {
		o.RFMRules = []segment.RFMRule{
			{Name: "Whales", M: segment.ScoreRange{Min: 5, Max: 5}},
			{Name: "Fresh", R: segment.ScoreRange{Min: 4, Max: 5}, F: segment.ScoreRange{Min: 1, Max: 2}},
			{Name: "Steady", F: segment.ScoreRange{Min: 3, Max: 5}, M: segment.ScoreRange{Min: 2, Max: 4}},
			{Name: "Others"},
		}
	}
	if r.IntN(25) == 0 {
		o.HalfLife = time.Duration(10+r.IntN(50)) * segment.Day // never layered
	}
	o.Workers = r.IntN(3)
	if r.IntN(3) == 0 {
		o.NonMerchandise = roaring.BitmapOf(0, 2, 5, 9) // spend in no category, kept by every update
	}
	return o
}

// updateQueries returns queries that cover every attribute, reference
// and operator of the syntax over the catalog of x (the categories and
// products named at random, cats and prods of each), and a few that
// must fail.
func updateQueries(r *rand.Rand, x *segment.Index, cat *affinity.Catalog, cats, prods int) (ok, bad []string) {
	ok = []string{
		`all`, `none`, `not all`,
		`recency <= 5d`, `recency between 2d and 10d`, `recency > 30d`, `recency != 0`, `not recency <= 14d`,
		`tenure >= 3d`, `tenure < 2w`, `tenure between 1 and 40d`,
		`frequency >= 2`, `frequency = 0`, `frequency between 1 and 3`, `frequency != 1`,
		`monetary > 10`, `monetary <= $0`, `monetary < -1`, `monetary between 5 and $20.5`,
		`aov >= 3`, `aov < 1.25`, `aov = 0`,
		`rscore >= 4`, `fscore = 1`, `mscore between 2 and 4`, `rscore != 3`, `fscore < 3 and mscore > 2`,
		`abandoned()`, `abandoned(within 7d)`, `abandoned(3d)`,
		`active between "2024-02-20" and "2024-03-02"`, `active between "2023-01-01" and "2024-02-01"`,
		`active between "2024-03-03" and "2024-04-01"`,
		`frequency >= 2 and not recency <= 7d`, `rscore >= 4 or fscore >= 4`,
		`(monetary > 5 or frequency >= 3) and not (aov < 2 or tenure < 3d)`,
	}
	for _, s := range x.RFMSegments() {
		ok = append(ok, fmt.Sprintf("rfm(%q)", s), fmt.Sprintf("rfm(%q) and frequency >= 2", s))
	}
	for _, s := range segment.Stages() {
		ok = append(ok, fmt.Sprintf("lifecycle(%q)", s), fmt.Sprintf("lifecycle(%q) or rscore = 5", s))
	}
	topN := x.Options().TopN
	all := x.Categories()
	for _, i := range r.Perm(len(all))[:min(cats, len(all))] {
		c := strconv.Quote(all[i])
		ok = append(ok,
			`affinity(`+c+`) >= 0.3`, `affinity(`+c+`) = 1`, `affinity(`+c+`) > 0`, `affinity(`+c+`) < 50%`,
			`itemshare(`+c+`) >= 0.5`, `itemshare(`+c+`) between 0.2 and 0.8`,
			`ordershare(`+c+`) < 0.5`, `ordershare(`+c+`) = 1`,
			`lift(`+c+`) >= 1.2`, `lift(`+c+`) < 1`, `lift(`+c+`) > 0`,
			`recency(`+c+`) <= 7d`, `recency(`+c+`) > 2d`,
			`rank(`+c+`) = 1`, fmt.Sprintf(`rank(%s) <= %d`, c, topN), fmt.Sprintf(`top(%s, %d)`, c, 1+r.IntN(topN)), `top(`+c+`)`,
			`bought(`+c+`)`, `bought(category(`+c+`) within 7d)`, `viewed(`+c+`)`, `carted(`+c+`, 3d)`,
			`bought(`+c+`) and not affinity(`+c+`) >= 0.5`, `viewed(`+c+` within 2w) and not bought(`+c+` within 2w)`,
		)
	}
	for range prods {
		p := strconv.Quote(cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts()))))
		q := strconv.Quote(cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts()))))
		ok = append(ok,
			`bought(`+p+`)`, `bought(product(`+p+`) within 7d)`, `bought(`+p+`, `+q+`)`,
			`viewed(product(`+p+`))`, `viewed(`+p+` within 10d)`, `carted(`+p+` within 2d)`, `carted(`+p+`, `+q+`)`,
			`carted(`+p+` within 7d) and not bought(`+p+` within 7d)`,
		)
	}
	bad = []string{
		`affinity("No/Such") > 0`, `bought("nosuch")`, `segment("nope")`, `rfm("Nobody")`, `lifecycle("asleep")`,
		`recency between 10d and 2d`, `bought("p0" within 100000d)`, `top("Sports", 65)`,
		`active between "2024-02-01" and "2024-01-01"`, `flag("optin") = 1`, `frequency >=`,
	}
	return ok, bad
}

// randomAttributes sets an opt-in flag, a country and two dates of random
// customers below n (each field of one customer at least, so that every
// field exists).
func randomAttributes(t *testing.T, r *rand.Rand, n int, asOf time.Time) *segment.Attributes {
	var a segment.Attributes
	first := affinity.CustomerID(r.IntN(n))
	require.NoError(t, a.SetText("country", first, "DE"))
	for c := range affinity.CustomerID(n) {
		if r.IntN(3) == 0 || c == first {
			noErr(t, a.SetFlag("optin", c, true))
		}
		if r.IntN(3) == 0 || c == first {
			noErr(t, a.SetDate("birthday", c, asOf.AddDate(-30, 0, r.IntN(60)-10)))
		}
		if r.IntN(3) == 0 || c == first {
			noErr(t, a.SetDate("signup", c, asOf.Add(-time.Duration(r.IntN(90))*segment.Day)))
		}
		if r.IntN(3) == 0 {
			noErr(t, a.SetText("country", c, []string{"DE", "FR"}[r.IntN(2)]))
		}
	}
	return &a
}

var attributeQueries = []string{
	`flag("optin") = 1`, `flag("optin") = 0`, `flag("country=DE") = 1 and frequency >= 1`,
	`days_to("birthday") between 0 and 30`, `days_since("signup") >= 10d`, `not days_since("signup") < 20`,
	`flag("optin") = 1 or days_to("birthday") <= 7`,
}

// randomSet returns a random set of customer ids below n plus a few
// beyond: a few ids, or about two thirds of them.
func randomSet(r *rand.Rand, n int, dense bool) *roaring.Bitmap {
	b := roaring.New()
	if dense {
		for c := range n + 3 {
			if r.IntN(3) > 0 {
				b.Add(uint32(c))
			}
		}
		return b
	}
	for range 1 + r.IntN(4) {
		b.Add(uint32(r.IntN(n + 5)))
	}
	return b
}

// sameQuery requires got and want to give the same answer, or the same
// error, for src.
func sameQuery(t *testing.T, msg, src string, got, want *segment.Index) {
	t.Helper()
	wb, werr := want.Query(src)
	sameAnswer(t, msg, src, got, wb, werr)
}

// sameAnswer requires got to give wb, or the error werr, for src: what
// sameQuery checks, with want's answer computed by the caller.
func sameAnswer(t *testing.T, msg, src string, got *segment.Index, wb *roaring.Bitmap, werr error) {
	t.Helper()
	gb, gerr := got.Query(src)
	if werr != nil || gerr != nil { // require only on an error: sameAnswer runs for every query
		requireSameError(t, werr, gerr, "%s: query %s", msg, src)
		if werr != nil {
			return
		}
	}
	if !gb.Equals(wb) {
		t.Fatalf("%s: query %s:\n got  %v\n want %v\n extra %v, missing %v", msg, src,
			gb.ToArray(), wb.ToArray(), roaring.AndNot(gb, wb).ToArray(), roaring.AndNot(wb, gb).ToArray())
	}
}

// requireSameError requires got to be an error with want's message when
// want is one, and nil otherwise.
func requireSameError(t *testing.T, want, got error, msgAndArgs ...any) {
	t.Helper()
	if want == nil {
		require.NoError(t, got, msgAndArgs...)
		return
	}
	require.Error(t, got, msgAndArgs...)
	require.Equal(t, want.Error(), got.Error(), msgAndArgs...)
}

// updateCheck says what requireSameIndex checks besides every read
// method: queries that must be valid and ones that must fail, random
// queries from the oracle's generator, customer keys to look up besides
// those of the History (erased ones), and whether to compare WriteTo.
type updateCheck struct {
	queries, bad []string
	random       int
	keys         []string
	writeTo      bool
}

// requireSameIndex requires got to answer every read method as want
// does. from is an earlier index of the same customers (for
// Transitions), h the History of both. It returns how many of
// chk.queries are selective: neither empty nor every customer of want.
func requireSameIndex(t *testing.T, msg string, r *rand.Rand, got, want, from *segment.Index, h *affinity.History, chk updateCheck) (selective int) {
	t.Helper()
	require.Equal(t, want.AsOf(), got.AsOf(), msg)
	require.Equal(t, want.Options(), got.Options(), msg)
	require.Equal(t, want.Len(), got.Len(), "%s: Len", msg)
	nc := want.NumCustomers()
	require.Equal(t, nc, got.NumCustomers(), "%s: NumCustomers", msg)
	all := want.All()
	require.Equal(t, all.ToArray(), got.All().ToArray(), "%s: All", msg)
	require.Positive(t, got.MemoryUsage().Total(), msg)

	// customers one by one: every key and spend, and the Features of a
	// sample (featureProbes); FeaturesOf below compares the features of
	// every customer, and of ids past the index, at once. The loops over
	// every customer compare with != and call require only on a
	// difference, which it then reports: require.Equal on every customer
	// of every index costs more than the reads it checks.
	for c := range affinity.CustomerID(nc + 2) {
		if w, g := want.CustomerKey(c), got.CustomerKey(c); w != g {
			require.Equal(t, w, g, "%s: CustomerKey(%d)", msg, c)
		}
		if w, g := want.Spend(c), got.Spend(c); w != g {
			require.Equal(t, w, g, "%s: Spend(%d)", msg, c)
		}
	}
	for _, c := range featureProbes(got, nc) {
		wf, wok := want.Features(c)
		gf, gok := got.Features(c)
		require.Equal(t, wok, gok, "%s: Features(%d) known", msg, c)
		require.Equal(t, wf, gf, "%s: Features(%d)", msg, c)
	}
	for _, k := range slices.Concat([]string{"", "zz"}, historyKeys(h), chk.keys) {
		wc, wok := want.LookupCustomer(k)
		gc, gok := got.LookupCustomer(k)
		if wok != gok {
			require.Equal(t, wok, gok, "%s: LookupCustomer(%q) found", msg, k)
		}
		if wc != gc {
			require.Equal(t, wc, gc, "%s: LookupCustomer(%q)", msg, k)
		}
	}

	// sets of customers
	sets := []*roaring.Bitmap{all, randomSet(r, nc, false), randomSet(r, nc, true), roaring.New()}
	for i, set := range sets {
		sm := fmt.Sprintf("%s: set %d %v", msg, i, set.ToArray())
		for path := -1; path <= 2; path++ {
			restore := segment.SortedPath(path)
			wk, gk := want.SortedKeys(set), got.SortedKeys(set)
			wi, gi := want.SortedIDs(set), got.SortedIDs(set)
			restore()
			require.Equal(t, wk, gk, "%s: SortedKeys (path %d)", sm, path)
			require.Equal(t, wi, gi, "%s: SortedIDs (path %d)", sm, path)
		}
		require.Equal(t, slices.Collect(want.Keys(set)), slices.Collect(got.Keys(set)), "%s: Keys", sm)
		require.Equal(t, want.FeaturesOf(set), got.FeaturesOf(set), "%s: FeaturesOf", sm)
		require.Equal(t, want.Stats("x", set), got.Stats("x", set), "%s: Stats", sm)
		wg, werr := want.ScoreGrid(segment.RScore(), segment.MScore(), set)
		gg, gerr := got.ScoreGrid(segment.RScore(), segment.MScore(), set)
		require.NoError(t, werr, sm)
		require.NoError(t, gerr, sm)
		require.Equal(t, wg, gg, "%s: ScoreGrid(R, M)", sm)
	}
	require.Equal(t, want.RFMTable(), got.RFMTable(), "%s: RFMTable", msg)
	require.Equal(t, want.LifecycleTable(), got.LifecycleTable(), "%s: LifecycleTable", msg)
	for _, rc := range [][2]segment.Attr{{segment.RScore(), segment.FScore()}, {segment.FScore(), segment.FScore()}, {segment.MScore(), segment.Recency()}} {
		wg, werr := want.ScoreGrid(rc[0], rc[1], nil)
		gg, gerr := got.ScoreGrid(rc[0], rc[1], nil)
		requireSameError(t, werr, gerr, "%s: ScoreGrid error", msg)
		require.Equal(t, wg, gg, "%s: ScoreGrid(%v, %v)", msg, rc[0], rc[1])
	}
	rows := append([]*roaring.Bitmap{nil}, sets...)
	var cols []*roaring.Bitmap
	for _, s := range []string{`rscore >= 4`, `frequency >= 2`, `lifecycle("new")`, `not recency <= 7d`} {
		b, err := want.Query(s)
		require.NoError(t, err, "%s: %s", msg, s)
		cols = append(cols, b)
	}
	require.Equal(t, want.CrossTab(rows, cols), got.CrossTab(rows, cols), "%s: CrossTab", msg)
	for _, set := range sets {
		var wcsv, gcsv bytes.Buffer
		require.NoError(t, want.WriteCSV(&wcsv, set), msg)
		require.NoError(t, got.WriteCSV(&gcsv, set), msg)
		require.Equal(t, wcsv.String(), gcsv.String(), "%s: WriteCSV(%v)", msg, set.ToArray())
	}

	// the catalog and population-wide parts
	require.Equal(t, want.Categories(), got.Categories(), "%s: Categories", msg)
	for _, c := range append(want.Categories(), "No/Such") {
		ws, wok := want.PopulationShare(c)
		gs, gok := got.PopulationShare(c)
		require.Equal(t, wok, gok, "%s: PopulationShare(%q) known", msg, c)
		require.Equal(t, ws, gs, "%s: PopulationShare(%q)", msg, c)
		wd, wok := want.CategoryDepth(c)
		gd, gok := got.CategoryDepth(c)
		require.Equal(t, wok, gok, "%s: CategoryDepth(%q) known", msg, c)
		require.Equal(t, wd, gd, "%s: CategoryDepth(%q)", msg, c)
	}
	require.Equal(t, want.RFMSegments(), got.RFMSegments(), "%s: RFMSegments", msg)

	// queries
	for _, src := range chk.queries {
		wb, err := want.Query(src)
		if err != nil {
			require.NoError(t, err, "%s: query %s must be valid", msg, src)
		}
		sameAnswer(t, msg, src, got, wb, err)
		if !wb.IsEmpty() && wb.GetCardinality() < uint64(want.Len()) {
			selective++
		}
	}
	for _, src := range chk.bad {
		wb, err := want.Query(src)
		require.Error(t, err, "%s: query %s must fail", msg, src)
		sameAnswer(t, msg, src, got, wb, err)
	}
	if chk.random > 0 && h.Catalog().NumCategories() > 0 { // the generator needs a category
		g := newExprGen(r, newNaive(h, want.AsOf(), want.Options()))
		for range chk.random {
			e := g.expr(3)
			sameQuery(t, msg, e.text(), got, want)
		}
	}
	pick := func() string { return chk.queries[r.IntN(len(chk.queries))] }
	// Eval of a parsed expression, and Transitions from an earlier index
	e, err := segment.Parse(pick())
	require.NoError(t, err)
	wb, werr := want.Eval(e)
	gb, gerr := got.Eval(e)
	requireSameError(t, werr, gerr, "%s: Eval(%v)", msg, e)
	require.Equal(t, wb.ToArray(), gb.ToArray(), "%s: Eval(%v)", msg, e)
	if from != nil {
		rowsE := []segment.Expr{segment.Frequency().GE(2), segment.RFM(want.RFMSegments()[0])}
		colsE := []segment.Expr{e, segment.Lifecycle(segment.StageNew)}
		wt, werr := segment.Transitions(from, want, rowsE, colsE)
		gt, gerr := segment.Transitions(from, got, rowsE, colsE)
		requireSameError(t, werr, gerr, "%s: Transitions", msg)
		require.Equal(t, wt, gt, "%s: Transitions", msg)
	}

	// a named segment
	src := pick()
	e, err = segment.Parse(src)
	require.NoError(t, err)
	wd, err := want.Define("mine", e)
	require.NoError(t, err, "%s: Define(%s)", msg, src)
	gd, err := got.Define("mine", e)
	require.NoError(t, err, "%s: Define(%s)", msg, src)
	require.Equal(t, wd.Segments(), gd.Segments(), msg)
	for _, q := range []string{`segment("mine")`, `not segment("mine")`, `segment("mine") and ` + pick(), `segment("mine") or (` + pick() + `)`} {
		sameQuery(t, msg+" (defined mine = "+src+")", q, gd, wd)
	}
	_, werr = wd.Define("mine", e)
	_, gerr = gd.Define("mine", e)
	requireSameError(t, werr, gerr, "%s: Define twice", msg)

	// customer attributes
	a := randomAttributes(t, r, nc+2, want.AsOf())
	wa, err := want.WithAttributes(a)
	require.NoError(t, err, msg)
	ga, err := got.WithAttributes(a)
	require.NoError(t, err, msg)
	for _, q := range attributeQueries {
		sameQuery(t, msg+" (attributes)", q, ga, wa)
	}

	if chk.writeTo {
		var wbuf, gbuf bytes.Buffer
		_, err := want.WriteTo(&wbuf)
		require.NoError(t, err, msg)
		_, err = got.WriteTo(&gbuf)
		require.NoError(t, err, msg)
		require.True(t, bytes.Equal(wbuf.Bytes(), gbuf.Bytes()), "%s: WriteTo differs", msg)
	}
	return selective
}

// featureProbes returns the customer ids whose Features requireSameIndex
// compares one by one, in ascending order. Features of one customer
// decodes as much as FeaturesOf of all (which requireSameIndex compares
// for every customer), so a sample takes each of its paths: when x is
// an updated index, the first, middle and last customer its delta holds
// (the delta's path) and customers of the base beside; the first, the
// last and about every nc/4th customer; and the two ids past the index.
// It draws no random numbers, so that the tests' random streams stay as
// they were.
func featureProbes(x *segment.Index, nc int) []affinity.CustomerID {
	probes := roaring.New()
	if d := segment.Touched(x); d != nil && !d.IsEmpty() {
		ids := d.ToArray()
		for _, c := range []uint32{ids[0], ids[len(ids)/2], ids[len(ids)-1]} {
			probes.Add(c)
			if c > 0 {
				probes.Add(c - 1) // in the base unless touched too
			}
		}
	}
	for c := 0; c < nc; c += max(1, nc/4) {
		probes.Add(uint32(c))
	}
	probes.AddRange(uint64(max(nc-1, 0)), uint64(nc+2))
	var out []affinity.CustomerID
	for _, c := range probes.ToArray() {
		out = append(out, affinity.CustomerID(c))
	}
	return out
}

// historyKeys returns the customer keys of h in id order.
func historyKeys(h *affinity.History) []string {
	keys := make([]string, 0, h.NumCustomers())
	for c := range affinity.CustomerID(h.NumCustomers()) {
		keys = append(keys, h.CustomerKey(c))
	}
	return keys
}

// TestUpdateMatchesBuild checks over random shops and chains of random
// refreshes (new lines and customers, returns, replaced and deleted
// orders, events, erasures) that Update answers every read method as the
// full Build of the refreshed History does, with named segments and
// customer attributes carried along, and that it takes the layered path
// for most refreshes, layers over layers included.
func TestUpdateMatchesBuild(t *testing.T) {
	ctx := context.Background()
	// the quick suite's 12 seeds still make about 40 steps, two tiny
	// shops and enough layered, relayered and fallen-back updates for the
	// shares asserted below; it checks 10 random queries a step (the
	// race detector's run 8)
	seeds, random := uint64(testdata.Scale(160, 12)), testdata.Scale(25, 10)
	if raceEnabled {
		seeds, random = uint64(testdata.Scale(50, 20)), 8
	}
	var steps, layered, relayered, fallbacks, errs, changed, selective, checked, moved int
	patched0, rescored0 := segment.Patched(), segment.Rescored()
	for seed := range seeds {
		r := rand.New(rand.NewPCG(seed, 77))
		// odd seeds patch the RFM parts of the previous index whenever the
		// score columns keep their range, even ones at the default share
		restore := func() {}
		if seed%2 == 1 {
			restore = segment.SetPatchShare(1)
		}
		opts := randomUpdateOptions(r)
		nCust := 24 + r.IntN(72)
		if seed%10 == 0 {
			nCust = 2 + r.IntN(10) // tiny shops: mostly rebuilt, edge cases of scores
		}
		g := &updateGen{r: r, asOf: updateAsOf, nCust: nCust}
		g.window(opts)
		h := g.history(t, 2+r.IntN(14))
		x, err := segment.Build(ctx, h, g.asOf, opts)
		require.NoError(t, err, "seed %d", seed)
		var carry carried
		var kept []keptIndex // every index made, checked again at the end
		for step := range 3 + r.IntN(2) {
			msg := fmt.Sprintf("seed %d step %d (%d customers, options %+v)", seed, step, h.NumCustomers(), opts)
			if r.IntN(4) == 0 {
				src := []string{`frequency >= 2`, `bought("Sports")`, `rscore >= 4 and not lifecycle("new")`, `recency <= 10d`}[r.IntN(4)]
				e, err := segment.Parse(src)
				require.NoError(t, err)
				if x.Check(e) == nil {
					name := fmt.Sprintf("seg%d", len(carry.names))
					x, err = x.Define(name, e)
					require.NoError(t, err, msg)
					carry.names, carry.srcs = append(carry.names, name), append(carry.srcs, src)
				}
			}
			if r.IntN(5) == 0 {
				carry.attrs = randomAttributes(t, r, x.NumCustomers(), g.asOf)
				x, err = x.WithAttributes(carry.attrs)
				require.NoError(t, err, msg)
			}
			touch := 1 + r.IntN(2)
			switch r.IntN(10) {
			case 0:
				touch = 0 // only anonymous changes, or none
			case 1:
				touch = 1 + h.NumCustomers()/4 // beyond an eighth: rebuilt
			}
			nb := affinity.NewBuilder(h)
			if touch == 0 {
				if r.IntN(2) == 0 {
					require.NoError(t, nb.Add(g.line("", "", g.when())))
				}
			} else {
				g.refresh(t, nb, h, touch)
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err, msg)

			// an eighth of the refreshes come a day or more later: the
			// index moves on (Update to a later asOf), and attached attributes, which
			// are as of the old time, are dropped. This generator puts
			// many orders on the edges of the look-back and after asOf,
			// so most of those moves are built in full; see
			// TestUpdateAcrossDays for moves laid over the index.
			later := r.IntN(8) == 0
			if later {
				g.asOf = g.asOf.Add(time.Duration(1+r.IntN(3)) * segment.Day)
				g.window(opts)
				carry.attrs = nil
			}
			got, gerr := segment.Update(ctx, x, h, h2, g.asOf, segment.UpdateOptions{})
			want, werr := segment.Build(ctx, h2, g.asOf, opts)
			steps++
			if werr != nil {
				require.Error(t, gerr, "%s: Build fails with %v", msg, werr)
				require.Equal(t, werr.Error(), gerr.Error(), msg)
				errs++
				break
			}
			require.NoError(t, gerr, msg)
			if segment.Layered(got) {
				layered++
				if segment.Layered(x) {
					relayered++
				}
				if later {
					moved++
				}
			} else {
				fallbacks++
			}
			// what the chain carried: named segments and attributes
			want = carry.apply(t, want)
			require.Equal(t, carry.names, append([]string(nil), got.Segments()...), "%s: Segments", msg)
			queries, bad := updateQueries(r, want, h2.Catalog(), 3, 3)
			for _, n := range carry.names {
				queries = append(queries, fmt.Sprintf("segment(%q)", n), fmt.Sprintf("not segment(%q) and frequency >= 1", n))
			}
			if carry.attrs != nil {
				queries = append(queries, attributeQueries...)
				bad = slices.DeleteFunc(bad, func(s string) bool { return s == `flag("optin") = 1` })
			}
			if r.IntN(3) == 0 && !later {
				// a sibling: another refresh of h, updated from the same x,
				// after got (which it must leave alone)
				hb := g.next(t, h, 1+r.IntN(2), msg)
				sib, serr := segment.Update(ctx, x, h, hb, x.AsOf(), segment.UpdateOptions{})
				wsib, werr := segment.Build(ctx, hb, g.asOf, opts)
				if werr == nil {
					require.NoError(t, serr, "%s: sibling", msg)
					kept = append(kept, keptIndex{msg + " sibling", sib, carry.apply(t, wsib), queries})
				}
			}
			kept = append(kept, keptIndex{msg, got, want, queries})
			if segment.Layered(got) && !slices.Equal(x.FeaturesOf(x.All()), got.FeaturesOf(got.All())) {
				changed++ // the update changed what the index answers
			}
			// every listed query is valid (requireSameIndex requires it):
			// it counts the selective ones on want's answers
			checked += len(queries)
			selective += requireSameIndex(t, msg, r, got, want, x, h2, updateCheck{
				queries: queries, bad: bad, random: random, keys: g.keys,
				writeTo: r.IntN(6) == 0 && (!raceEnabled || r.IntN(3) == 0),
			})
			x, h = got, h2
		}
		for _, k := range kept {
			k.recheck(t)
		}
		restore()
	}
	patchedN, rescoredN := segment.Patched()-patched0, segment.Rescored()-rescored0
	t.Logf("%d steps: %d layered (%d over layers, %d with changed features, %d to a later day, %d with patched RFM parts, %d rescored), %d rebuilt, %d errors; %d of %d listed queries selective",
		steps, layered, relayered, changed, moved, patchedN, rescoredN, fallbacks, errs, selective, checked)
	require.Greater(t, patchedN*5, int64(layered), "too few updates patched the RFM parts")
	require.Greater(t, rescoredN*2, int64(layered-moved), "too few updates on the index's day rescored only the customers whose scores moved")
	require.Greater(t, changed*2, layered, "too few layered updates change the features")
	require.Greater(t, selective*3, checked, "too few selective queries")
	require.GreaterOrEqual(t, layered*100, 60*steps, "too few layered updates: %d of %d", layered, steps)
	require.Greater(t, relayered, steps/10, "too few updates of updated indexes")
	require.Less(t, layered, steps, "no step fell back to a full build")
}

// carried is what a chain of updates carries from index to index: named
// segments (names and texts) and customer attributes.
type carried struct {
	names, srcs []string
	attrs       *segment.Attributes
}

// apply returns x with c's segments and attributes, as the full build
// that an updated index must equal gets them.
func (c *carried) apply(t *testing.T, x *segment.Index) *segment.Index {
	t.Helper()
	for i, name := range c.names {
		e, err := segment.Parse(c.srcs[i])
		require.NoError(t, err)
		x, err = x.Define(name, e)
		require.NoError(t, err)
	}
	if c.attrs != nil {
		var err error
		x, err = x.WithAttributes(c.attrs)
		require.NoError(t, err)
	}
	return x
}

// keptIndex is an index made by Update and the full build it must equal.
type keptIndex struct {
	msg       string
	got, want *segment.Index
	queries   []string
}

// recheck compares the features, totals and a third of the queries of
// k.got and k.want again, after later updates and builds: an index is
// immutable, whatever Update does next with its parts.
func (k keptIndex) recheck(t *testing.T) {
	t.Helper()
	msg := k.msg + " (checked again)"
	all := k.want.All()
	require.Equal(t, all.ToArray(), k.got.All().ToArray(), msg)
	require.Equal(t, k.want.FeaturesOf(all), k.got.FeaturesOf(all), "%s: FeaturesOf", msg)
	require.Equal(t, k.want.Stats("all", all), k.got.Stats("all", all), "%s: Stats", msg)
	require.Equal(t, k.want.RFMTable(), k.got.RFMTable(), "%s: RFMTable", msg)
	for i := 0; i < len(k.queries); i += 3 {
		sameQuery(t, msg, k.queries[i], k.got, k.want)
	}
}

// TestUpdateFallsBack checks that Update builds the index in full, with
// the same answers as Build, when it cannot lay the change over: a new
// product, a new category, a product described anew, a half-life, an
// index read from a file or joined from parts, Histories that are not a
// base and its successor, and too many touched customers; and that it
// lays over a small change, an unchanged History and a change of
// anonymous orders alone.
func TestUpdateFallsBack(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 80}
	g.start = affinity.Months(segment.DefaultLookbackMonths).Start(g.asOf)
	h := g.history(t, 10)
	opts := segment.Options{}
	x, err := segment.Build(ctx, h, g.asOf, opts)
	require.NoError(t, err)
	c0 := h.CustomerKey(0)
	at := g.asOf.Add(-segment.Day)
	buy := func(prod string) affinity.Purchase {
		return affinity.Purchase{Customer: c0, Product: prod, Order: "fb-" + prod, Time: at, Quantity: 1, Price: affinity.MoneyScale}
	}
	refresh := func(h *affinity.History, f func(b *affinity.Builder)) *affinity.History {
		b := affinity.NewBuilder(h)
		f(b)
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		return h2
	}
	small := refresh(h, func(b *affinity.Builder) { require.NoError(t, b.Add(buy("p1"))) })

	file := func(x *segment.Index) *segment.Index {
		var buf bytes.Buffer
		_, err := x.WriteTo(&buf)
		require.NoError(t, err)
		y, err := segment.ReadIndex(&buf)
		require.NoError(t, err)
		return y
	}
	joined := func(x *segment.Index, h *affinity.History) *segment.Index {
		p, err := segment.BuildPart(ctx, h, g.asOf, x.Options())
		require.NoError(t, err)
		y, err := segment.Join(ctx, h.Catalog(), g.asOf, x.Options(), []*segment.Part{p})
		require.NoError(t, err)
		return y
	}
	// a spend that times the weights' common denominator leaves int64:
	// shares are not kept exactly
	cat := h.Catalog()
	twoPaths := ""
	for p := range affinity.ProductID(cat.NumProducts()) {
		if len(cat.Categories(p)) > 1 {
			twoPaths = cat.ProductKey(p)
			break
		}
	}
	require.NotEmpty(t, twoPaths, "the shop needs a product in two category paths")
	huge := refresh(h, func(b *affinity.Builder) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c0, Product: twoPaths, Order: "huge", Time: at, Quantity: 1, Price: affinity.MaxMoney / 2}))
	})
	xHuge, err := segment.Build(ctx, huge, g.asOf, opts)
	require.NoError(t, err)
	notHuge := refresh(huge, func(b *affinity.Builder) { require.NoError(t, b.DeleteOrder("huge", 1)) })
	eighth := func(k int) *affinity.History {
		return refresh(h, func(b *affinity.Builder) {
			for c := range affinity.CustomerID(k) {
				require.NoError(t, b.AddEvent(affinity.Event{Customer: h.CustomerKey(c), Product: "p1", Kind: affinity.Cart, Time: at, Weight: 1}))
			}
		})
	}
	halfLife := segment.Options{HalfLife: 30 * segment.Day}
	xh, err := segment.Build(ctx, h, g.asOf, halfLife)
	require.NoError(t, err)
	hs := refresh(small, func(b *affinity.Builder) { require.NoError(t, b.Add(buy("p2"))) })

	cases := []struct {
		name    string
		x       *segment.Index
		prev, h *affinity.History
		layered bool
	}{
		{"small change", x, h, small, true},
		{"no change", x, h, h, true},
		{"no change from a builder", x, h, refresh(h, func(*affinity.Builder) {}), true},
		{"anonymous order", x, h, refresh(h, func(b *affinity.Builder) {
			require.NoError(t, b.Add(affinity.Purchase{Product: "p1", Time: at, Quantity: 1, Price: 100}))
		}), true},
		{"new product", x, h, refresh(h, func(b *affinity.Builder) { require.NoError(t, b.Add(buy("new-product"))) }), true},
		{"new product in an event", x, h, refresh(h, func(b *affinity.Builder) {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: c0, Product: "new-product", Kind: affinity.View, Time: at, Weight: 1}))
		}), true},
		{"new category", x, h, refresh(h, func(b *affinity.Builder) {
			_, err := b.AddCategory("Garden/Tools")
			require.NoError(t, err)
			require.NoError(t, b.Add(buy("p1")))
		}), true},
		{"new product in a new category", x, h, refresh(h, func(b *affinity.Builder) {
			require.NoError(t, b.AddProduct(affinity.Product{Key: "rake", Categories: []string{"Garden/Tools"}, InStock: true}))
			require.NoError(t, b.Add(buy("rake")))
			require.NoError(t, b.Add(buy("p1")))
		}), true},
		{"new product in three paths: another common denominator", x, h, refresh(h, func(b *affinity.Builder) {
			require.NoError(t, b.AddProduct(affinity.Product{Key: "trio", Categories: []string{"Sports", "Home", "Garden/Tools"}, InStock: true}))
			require.NoError(t, b.Add(buy("trio")))
		}), false},
		{"product described anew", x, h, refresh(h, func(b *affinity.Builder) {
			require.NoError(t, b.AddProduct(affinity.Product{Key: "p1", Categories: []string{"Sports/Shoes", "Home"}}))
			require.NoError(t, b.Add(buy("p1")))
		}), false},
		{"half-life", xh, h, small, false},
		{"read from a file", file(x), h, small, false},
		{"joined from parts", joined(x, h), h, small, false},
		{"not the base", x, h, hs, false},
		{"not the successor", x, small, h, false},
		{"an eighth of the customers", x, h, eighth(h.NumCustomers() / 8), true},
		{"more than an eighth", x, h, eighth(h.NumCustomers()/8 + 1), false},
		{"huge spend", x, h, huge, false},
		{"huge spend before", xHuge, huge, notHuge, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := segment.Update(ctx, tc.x, tc.prev, tc.h, tc.x.AsOf(), segment.UpdateOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.layered, segment.Layered(got), "layered")
			want, err := segment.Build(ctx, tc.h, g.asOf, tc.x.GivenOptions())
			require.NoError(t, err)
			queries, bad := updateQueries(r, want, tc.h.Catalog(), 100, 3)
			requireSameIndex(t, tc.name, r, got, want, nil, tc.h, updateCheck{queries: queries, bad: bad, random: 50, writeTo: true})
		})
	}

	t.Run("file of an updated index", func(t *testing.T) {
		// a layered index writes the full index; read back, it is updated
		// in full
		y, err := segment.Update(ctx, x, h, small, x.AsOf(), segment.UpdateOptions{})
		require.NoError(t, err)
		require.True(t, segment.Layered(y))
		yf := file(y)
		require.False(t, segment.Layered(yf))
		// Save of a layered index writes what WriteTo of the full build does
		path := filepath.Join(t.TempDir(), "updated.idx")
		require.NoError(t, y.Save(path))
		saved, err := os.ReadFile(path)
		require.NoError(t, err)
		full, err := segment.Build(ctx, small, g.asOf, opts)
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = full.WriteTo(&buf)
		require.NoError(t, err)
		require.True(t, bytes.Equal(buf.Bytes(), saved), "Save of a layered index")
		loaded, err := segment.Load(path)
		require.NoError(t, err)
		require.False(t, segment.Layered(loaded))
		got, err := segment.Update(ctx, yf, small, hs, yf.AsOf(), segment.UpdateOptions{})
		require.NoError(t, err)
		require.False(t, segment.Layered(got))
		want, err := segment.Build(ctx, hs, g.asOf, yf.GivenOptions())
		require.NoError(t, err)
		queries, bad := updateQueries(r, want, hs.Catalog(), 100, 3)
		requireSameIndex(t, "file", r, got, want, nil, hs, updateCheck{queries: queries, bad: bad, random: 50, writeTo: true})
	})

	t.Run("nil", func(t *testing.T) {
		for _, args := range []struct {
			x       *segment.Index
			prev, h *affinity.History
		}{{nil, h, small}, {x, nil, small}, {x, h, nil}} {
			_, err := segment.Update(ctx, args.x, args.prev, args.h, g.asOf, segment.UpdateOptions{})
			require.ErrorIs(t, err, segment.ErrInvalid)
		}
		_, err := segment.Update(ctx, x, h, small, time.Time{}, segment.UpdateOptions{})
		require.ErrorIs(t, err, affinity.ErrNoAsOf, "asOf is required")
	})

	t.Run("no customers", func(t *testing.T) {
		// erasing every customer leaves the anonymous orders: an index of
		// no customers, the same from Update as from Build
		empty := refresh(h, func(b *affinity.Builder) {
			for c := range affinity.CustomerID(h.NumCustomers()) {
				b.EraseCustomer(h.CustomerKey(c))
			}
		})
		require.Positive(t, empty.Summary().AnonymousOrders)
		want, err := segment.Build(ctx, empty, g.asOf, opts)
		require.NoError(t, err)
		got, err := segment.Update(ctx, x, h, empty, x.AsOf(), segment.UpdateOptions{})
		require.NoError(t, err)
		require.Equal(t, encode(t, want), encode(t, got))
		all, err := got.Eval(segment.Not(segment.RFM("Champions")))
		require.NoError(t, err)
		assert.Zero(t, all.GetCardinality())
	})
}

// TestUpdateKeepsDefinitions checks that the named segments and customer
// attributes of an index carry over to its updates, layered or not, and
// that defining on a layered index and updating it again keeps them.
func TestUpdateKeepsDefinitions(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(6, 6))
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 100}
	g.start = affinity.Months(segment.DefaultLookbackMonths).Start(g.asOf)
	h := g.history(t, 8)
	x, err := segment.Build(ctx, h, g.asOf, segment.Options{})
	require.NoError(t, err)
	a := randomAttributes(t, r, h.NumCustomers(), g.asOf)
	x, err = x.WithAttributes(a)
	require.NoError(t, err)
	e1, err := segment.Parse(`frequency >= 2`)
	require.NoError(t, err)
	x, err = x.Define("repeaters", e1)
	require.NoError(t, err)

	e2, err := segment.Parse(`segment("repeaters") and recency <= 14d`)
	require.NoError(t, err)
	var defs []segment.Expr
	defs = append(defs, e1)
	for step := range 4 {
		msg := fmt.Sprintf("step %d", step)
		nb := affinity.NewBuilder(h)
		touch := 1
		if step == 2 {
			touch = h.NumCustomers()/4 + 1
		}
		g.refresh(t, nb, h, touch)
		h2, err := nb.Build(ctx)
		require.NoError(t, err)
		got, err := segment.Update(ctx, x, h, h2, x.AsOf(), segment.UpdateOptions{})
		require.NoError(t, err, msg)
		require.Equal(t, step != 2, segment.Layered(got), "%s: layered", msg)
		want, err := segment.Build(ctx, h2, g.asOf, segment.Options{})
		require.NoError(t, err)
		names := []string{"repeaters", "recent repeaters"}[:len(defs)]
		require.Equal(t, names, got.Segments(), msg)
		for i, n := range names {
			want, err = want.Define(n, defs[i])
			require.NoError(t, err, msg)
		}
		want, err = want.WithAttributes(a)
		require.NoError(t, err)
		queries := append([]string{`segment("repeaters")`, `not segment("repeaters") and bought("Sports")`}, attributeQueries...)
		if len(defs) > 1 {
			queries = append(queries, `segment("recent repeaters") or flag("optin") = 1`)
		}
		for _, q := range queries {
			sameQuery(t, msg, q, got, want)
		}
		if step == 0 {
			// define on the layered index: its updates keep it
			got, err = got.Define("recent repeaters", e2)
			require.NoError(t, err)
			defs = append(defs, e2)
		}
		_, err = got.Define("repeaters", e1)
		require.True(t, errors.Is(err, segment.ErrInvalid), "%s: defining a name twice: %v", msg, err)
		x, h = got, h2
	}
}

// TestUpdateConcurrentReads reads a layered index from several goroutines
// at once, each read method on first use (run with -race), and compares
// with a full build.
func TestUpdateConcurrentReads(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 120}
	g.start = affinity.Months(segment.DefaultLookbackMonths).Start(g.asOf)
	h := g.history(t, 12)
	opts := segment.Options{RFMScoring: segment.RFMNTile}
	x, err := segment.Build(ctx, h, g.asOf, opts)
	require.NoError(t, err)
	for range 2 { // a layer over a layer
		h2 := g.next(t, h, 3)
		x, err = segment.Update(ctx, x, h, h2, x.AsOf(), segment.UpdateOptions{})
		require.NoError(t, err)
		h = h2
	}
	require.True(t, segment.Layered(x))
	want, err := segment.Build(ctx, h, g.asOf, opts)
	require.NoError(t, err)
	queries, _ := updateQueries(r, want, h.Catalog(), 100, 5)
	small := randomSet(r, want.NumCustomers(), false)
	var file bytes.Buffer
	_, err = want.WriteTo(&file)
	require.NoError(t, err)
	wantGrid, err := want.ScoreGrid(segment.RScore(), segment.FScore(), nil)
	require.NoError(t, err)
	keys := historyKeys(h)

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range queries {
				q := queries[(i+w*len(queries)/4)%len(queries)]
				a, err := x.Query(q)
				b, _ := want.Query(q)
				if assert.NoError(t, err, q) {
					assert.Equal(t, b.ToArray(), a.ToArray(), q)
				}
			}
			assert.Equal(t, want.Stats("small", small), x.Stats("small", small))
			assert.Equal(t, want.SortedKeys(small), x.SortedKeys(small))
			for _, k := range keys {
				wc, wok := want.LookupCustomer(k)
				gc, gok := x.LookupCustomer(k)
				assert.Equal(t, wok, gok, k)
				assert.Equal(t, wc, gc, k)
			}
			grid, err := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
			assert.NoError(t, err)
			assert.Equal(t, wantGrid, grid)
			assert.Equal(t, want.FeaturesOf(want.All()), x.FeaturesOf(x.All()))
			var buf bytes.Buffer
			_, err = x.WriteTo(&buf)
			assert.NoError(t, err)
			assert.True(t, bytes.Equal(file.Bytes(), buf.Bytes()), "WriteTo")
		})
	}
	wg.Wait()
}

// TestUpdateErasesTwoCustomers: a refresh that erases two customers and
// adds none must leave both keys empty, as Build does.
func TestUpdateErasesTwoCustomers(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A"}}))
	for c := range 16 {
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", c), Product: "p", Order: fmt.Sprint("o", c),
			Time: updateAsOf.Add(-segment.Day), Quantity: 1, Price: affinity.MoneyScale}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	x, err := segment.Build(ctx, h, updateAsOf, segment.Options{})
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	nb.EraseCustomer("c3")
	nb.EraseCustomer("c7")
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	got, err := segment.Update(ctx, x, h, h2, x.AsOf(), segment.UpdateOptions{})
	require.NoError(t, err)
	require.True(t, segment.Layered(got))
	want, err := segment.Build(ctx, h2, updateAsOf, segment.Options{})
	require.NoError(t, err)
	for c := range affinity.CustomerID(16) {
		require.Equal(t, want.CustomerKey(c), got.CustomerKey(c), "CustomerKey(%d)", c)
	}
	for _, k := range []string{"c3", "c7"} {
		_, ok := got.LookupCustomer(k)
		require.False(t, ok, "LookupCustomer(%q) of an erased customer", k)
	}
}

// TestUpdateConcurrentUpdates updates one index for several refreshes at
// once from several goroutines (run with -race): each result answers as
// the full build of its History, during and after the others.
func TestUpdateConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(8, 8))
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 150}
	g.start = affinity.Months(segment.DefaultLookbackMonths).Start(g.asOf)
	h := g.history(t, 12)
	opts := segment.Options{}
	x, err := segment.Build(ctx, h, g.asOf, opts)
	require.NoError(t, err)
	h1 := g.next(t, h, 2)
	x, err = segment.Update(ctx, x, h, h1, x.AsOf(), segment.UpdateOptions{}) // updates of a layered index
	require.NoError(t, err)
	require.True(t, segment.Layered(x))
	var hs []*affinity.History
	var wants []*segment.Index
	for range 6 {
		h2 := g.next(t, h1, 1+r.IntN(3))
		w, err := segment.Build(ctx, h2, g.asOf, opts)
		require.NoError(t, err)
		hs, wants = append(hs, h2), append(wants, w)
	}
	queries, _ := updateQueries(r, wants[0], h1.Catalog(), 100, 5)
	gots := make([]*segment.Index, len(hs))
	var wg sync.WaitGroup
	for i := range hs {
		wg.Go(func() {
			for range 3 {
				got, err := segment.Update(ctx, x, h1, hs[i], x.AsOf(), segment.UpdateOptions{})
				if !assert.NoError(t, err) {
					return
				}
				assert.True(t, segment.Layered(got))
				assert.Equal(t, wants[i].FeaturesOf(wants[i].All()), got.FeaturesOf(got.All()), "refresh %d", i)
				gots[i] = got
			}
		})
	}
	wg.Wait()
	for i, got := range gots {
		require.NotNil(t, got)
		keptIndex{fmt.Sprintf("refresh %d", i), got, wants[i], queries}.recheck(t)
	}
}
