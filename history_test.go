package affinity_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func buildPurchases(t *testing.T, ps ...affinity.Purchase) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range ps {
		require.NoError(t, b.Add(p))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

func customer(t *testing.T, h *affinity.History, key string) affinity.CustomerID {
	t.Helper()
	c, ok := h.LookupCustomer(key)
	require.True(t, ok, key)
	return c
}

func productID(t *testing.T, h *affinity.History, key string) affinity.ProductID {
	t.Helper()
	p, ok := h.Catalog().LookupProduct(key)
	require.True(t, ok, key)
	return p
}

// Without any order id, orders are only told apart by customer and second.
func TestBuildWithoutOrderIDs(t *testing.T) {
	h := buildPurchases(t,
		affinity.Purchase{Customer: "a", Product: "x", Time: at(60), Quantity: 1, Price: 100},
		affinity.Purchase{Customer: "a", Product: "y", Time: at(0), Quantity: 2, Price: 50},
		affinity.Purchase{Customer: "a", Product: "z", Time: at(60), Quantity: 1, Price: 10},
		affinity.Purchase{Product: "x", Time: at(30), Quantity: 1, Price: 100},
		affinity.Purchase{Product: "x", Time: at(10), Quantity: 1, Price: 100},
	)
	require.Equal(t, 4, h.NumOrders())
	a := customer(t, h, "a")
	lo, hi := h.CustomerOrders(a)
	require.Equal(t, affinity.OrderID(2), hi-lo)
	assert.Equal(t, at(0), h.OrderTime(lo))
	assert.Equal(t, affinity.Money(100), h.OrderValue(lo))
	assert.Equal(t, at(60), h.OrderTime(lo+1))
	assert.Equal(t, affinity.Money(110), h.OrderValue(lo+1))
	assert.Equal(t, "", h.OrderKey(lo))
	alo, ahi := h.AnonymousOrders()
	require.Equal(t, affinity.OrderID(2), ahi-alo)
	assert.Equal(t, at(10), h.OrderTime(alo))
	assert.Equal(t, at(30), h.OrderTime(alo+1))
}

func TestOrderGrouping(t *testing.T) {
	h := buildPurchases(t,
		// Order o1 of a spans three seconds; its time is the earliest.
		affinity.Purchase{Customer: "a", Order: "o1", Product: "x", Time: at(12), Quantity: 1, Price: 1000},
		affinity.Purchase{Customer: "b", Order: "o1", Product: "x", Time: at(5), Quantity: 1, Price: 1000},
		affinity.Purchase{Customer: "a", Order: "o1", Product: "y", Time: at(10), Quantity: 3, Price: 200},
		affinity.Purchase{Customer: "a", Order: "o1", Product: "x", Time: at(11), Quantity: -1, Price: 1000},
		// Two orders of a at the same second: ordered by order id.
		affinity.Purchase{Customer: "a", Order: "o9", Product: "z", Time: at(100), Quantity: 1, Price: 1},
		affinity.Purchase{Customer: "a", Order: "o2", Product: "z", Time: at(100), Quantity: 1, Price: 2},
		// Lines without order id at the same second (sub-second parts and
		// time zones differ) merge; an order id keeps its line apart.
		affinity.Purchase{Customer: "a", Product: "y", Time: at(50).Add(900 * time.Millisecond), Quantity: 1, Price: 5},
		affinity.Purchase{Customer: "a", Product: "z", Time: at(50).In(time.FixedZone("X", 7200)), Quantity: 1, Price: 7},
		affinity.Purchase{Customer: "a", Order: "o3", Product: "z", Time: at(50), Quantity: 1, Price: 9},
	)
	a, b := customer(t, h, "a"), customer(t, h, "b")
	assert.Equal(t, affinity.CustomerID(0), a, "first seen")
	assert.Equal(t, affinity.CustomerID(1), b)
	x, y, z := productID(t, h, "x"), productID(t, h, "y"), productID(t, h, "z")

	type order struct {
		key   string
		time  time.Time
		value affinity.Money
		lines []affinity.Line
	}
	var got []order
	lo, hi := h.CustomerOrders(a)
	for o := lo; o < hi; o++ {
		assert.Equal(t, a, h.OrderCustomer(o))
		od := order{key: h.OrderKey(o), time: h.OrderTime(o), value: h.OrderValue(o)}
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			od.lines = append(od.lines, h.Line(i))
		}
		got = append(got, od)
	}
	want := []order{
		{"o1", at(10), 1000 + 600 - 1000, []affinity.Line{{x, 1, 1000}, {y, 3, 200}, {x, -1, 1000}}},
		{"", at(50), 12, []affinity.Line{{y, 1, 5}, {z, 1, 7}}},
		{"o3", at(50), 9, []affinity.Line{{z, 1, 9}}},
		{"o2", at(100), 2, []affinity.Line{{z, 1, 2}}},
		{"o9", at(100), 1, []affinity.Line{{z, 1, 1}}},
	}
	assert.Equal(t, want, got)

	blo, bhi := h.CustomerOrders(b)
	require.Equal(t, affinity.OrderID(1), bhi-blo)
	assert.Equal(t, "o1", h.OrderKey(blo))
	assert.Equal(t, at(5), h.OrderTime(blo))
	assert.Equal(t, hi, blo, "b's orders follow a's")

	llo, lhi := h.CustomerLines(a)
	assert.Equal(t, 0, llo)
	assert.Equal(t, 8, lhi)
	ft, ok := h.FirstPurchase(a)
	require.True(t, ok)
	assert.Equal(t, at(10), ft)
	lt, ok := h.LastPurchase(a)
	require.True(t, ok)
	assert.Equal(t, at(100), lt)
}

// A customer who only returned a product is not one of its buyers, and an
// order with returns only is not a purchase.
func TestReturns(t *testing.T) {
	h := buildPurchases(t,
		affinity.Purchase{Customer: "a", Order: "1", Product: "x", Time: at(0), Quantity: 2, Price: 500},
		affinity.Purchase{Customer: "a", Order: "2", Product: "x", Time: at(100), Quantity: -1, Price: 500},
		affinity.Purchase{Customer: "b", Order: "3", Product: "y", Time: at(50), Quantity: -2, Price: 300},
		affinity.Purchase{Order: "4", Product: "y", Time: at(200), Quantity: -1, Price: 300},
	)
	a, b := customer(t, h, "a"), customer(t, h, "b")
	x, y := productID(t, h, "x"), productID(t, h, "y")
	assert.Equal(t, []uint32{uint32(a)}, h.Buyers(x).ToArray())
	assert.True(t, h.Buyers(y).IsEmpty())
	assert.Equal(t, []uint32{uint32(a)}, h.AllBuyers().ToArray())

	lt, ok := h.LastPurchase(a)
	require.True(t, ok)
	assert.Equal(t, at(0), lt, "the return at 100 is not a purchase")
	_, ok = h.FirstPurchase(b)
	assert.False(t, ok)
	_, ok = h.LastPurchase(b)
	assert.False(t, ok)

	s := h.Summary()
	assert.Equal(t, 3, s.Returns)
	assert.Equal(t, 1, s.Buyers)
	assert.Equal(t, 2, s.Customers)
	assert.Equal(t, affinity.Money(1000-500-600), s.CustomerRevenue)
	assert.Equal(t, affinity.Money(1000-500-600-300), s.Revenue)
	assert.Equal(t, 1, s.AnonymousOrders)
	assert.Equal(t, 1, s.AnonymousLines)
	assert.Equal(t, at(0), s.First)
	assert.Equal(t, at(200), s.Last, "First and Last span every order")
}

func TestEvents(t *testing.T) {
	var b affinity.Builder
	evs := []affinity.Event{
		{Customer: "a", Product: "x", Time: at(20), Kind: affinity.View, Weight: 1},
		{Customer: "b", Product: "x", Time: at(5), Kind: affinity.Cart, Weight: 1},
		{Customer: "a", Product: "y", Time: at(10).Add(500 * time.Millisecond), Kind: affinity.Rating, Weight: 4.5},
		{Customer: "a", Product: "z", Time: at(20), Kind: affinity.Wishlist, Weight: 1},
		{Customer: "a", Product: "y", Time: at(10), Kind: affinity.Cart, Weight: 2},
	}
	for _, e := range evs {
		require.NoError(t, b.AddEvent(e))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	require.Equal(t, 5, h.NumEvents())
	require.Equal(t, 2, h.NumCustomers())
	assert.Equal(t, 0, h.NumOrders())
	a := customer(t, h, "a")
	x, y, z := productID(t, h, "x"), productID(t, h, "y"), productID(t, h, "z")
	lo, hi := h.CustomerEvents(a)
	var got []affinity.EventLine
	for i := lo; i < hi; i++ {
		got = append(got, h.Event(i))
	}
	u := func(sec int) int64 { return at(sec).Unix() }
	// Sorted by second; ties by product key, then kind, then weight.
	assert.Equal(t, []affinity.EventLine{
		{Product: y, Unix: u(10), Kind: affinity.Cart, Weight: 2},
		{Product: y, Unix: u(10), Kind: affinity.Rating, Weight: 4.5},
		{Product: x, Unix: u(20), Kind: affinity.View, Weight: 1},
		{Product: z, Unix: u(20), Kind: affinity.Wishlist, Weight: 1},
	}, got)
	assert.Equal(t, at(10), got[0].Time())

	// Events make customers and products known but are not purchases.
	olo, ohi := h.CustomerOrders(a)
	assert.Equal(t, olo, ohi)
	llo, lhi := h.CustomerLines(a)
	assert.Equal(t, llo, lhi)
	_, ok := h.FirstPurchase(a)
	assert.False(t, ok)
	assert.True(t, h.Buyers(x).IsEmpty())
	assert.True(t, h.AllBuyers().IsEmpty())
	assert.True(t, h.Catalog().InStock(x))
}

// A customer's events in one second (a date-only export puts a day's in
// one) come out in one order whatever order they were added in, whatever
// ids their products got, and whether added in one Builder or over a
// base: by product key, then kind, then weight. Few ties compare the keys,
// many the products' places in key order.
func TestEventsSameSecondAnyOrder(t *testing.T) {
	for _, n := range []int{20, 100} {
		t.Run(fmt.Sprint("events=", n), func(t *testing.T) { testEventsSameSecond(t, n) })
	}
}

func testEventsSameSecond(t *testing.T, n int) {
	r := rand.New(rand.NewPCG(43, uint64(n)))
	var evs []affinity.Event
	for i := range n {
		e := affinity.Event{Customer: "c", Product: fmt.Sprint("p", r.IntN(12)), Time: at(i % 2), Kind: affinity.EventKind(1 + r.IntN(4)), Weight: 1}
		if e.Kind == affinity.Rating {
			e.Weight = float32(1 + r.IntN(5))
		}
		evs = append(evs, e)
	}
	type view struct {
		Product string
		Unix    int64
		Kind    affinity.EventKind
		Weight  float32
	}
	events := func(h *affinity.History) []view {
		lo, hi := h.CustomerEvents(customer(t, h, "c"))
		var out []view
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			out = append(out, view{h.Catalog().ProductKey(e.Product), e.Unix, e.Kind, e.Weight})
		}
		return out
	}
	build := func(products []string, evs []affinity.Event, split int) *affinity.History {
		var b affinity.Builder
		for _, p := range products {
			require.NoError(t, b.AddProduct(affinity.Product{Key: p}))
		}
		for _, e := range evs[:split] {
			require.NoError(t, b.AddEvent(e))
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		if split == len(evs) {
			return h
		}
		nb := affinity.NewBuilder(h)
		for _, e := range evs[split:] {
			require.NoError(t, nb.AddEvent(e))
		}
		h, err = nb.Build(context.Background())
		require.NoError(t, err)
		return h
	}
	var products []string
	for p := range 12 {
		products = append(products, fmt.Sprint("p", p))
	}
	want := events(build(products, evs, len(evs)))
	require.Len(t, want, len(evs))
	require.True(t, slices.IsSortedFunc(want, func(a, b view) int {
		return cmp.Or(cmp.Compare(a.Unix, b.Unix), strings.Compare(a.Product, b.Product), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Weight, b.Weight))
	}), "events in (time, product key, kind, weight) order: %v", want)
	for round := range 8 {
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		r.Shuffle(len(products), func(i, j int) { products[i], products[j] = products[j], products[i] })
		split := []int{len(evs), r.IntN(len(evs))}[round%2]
		assert.Equal(t, want, events(build(products, evs, split)), "round %d, %d events over a base", round, len(evs)-split)
	}
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[affinity.EventKind]string{
		affinity.View: "view", affinity.Cart: "cart", affinity.Rating: "rating", affinity.Wishlist: "wishlist",
		0: "EventKind(0)", 9: "EventKind(9)",
	} {
		assert.Equal(t, want, k.String())
		assert.Equal(t, k >= 1 && k <= 4, k.Valid(), k.String())
	}
}

func TestEmptyHistory(t *testing.T) {
	var b affinity.Builder
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Zero(t, h.NumCustomers())
	assert.Zero(t, h.NumOrders())
	assert.Zero(t, h.NumLines())
	assert.Zero(t, h.NumEvents())
	assert.Zero(t, h.Catalog().NumProducts())
	assert.Zero(t, h.Catalog().NumCategories())
	assert.Empty(t, h.Catalog().Roots())
	lo, hi := h.AnonymousOrders()
	assert.Zero(t, lo)
	assert.Zero(t, hi)
	require.NotNil(t, h.AllBuyers())
	assert.True(t, h.AllBuyers().IsEmpty())
	assert.Equal(t, affinity.Summary{}, h.Summary())
	assert.NotContains(t, h.Summary().String(), "first order")
	checkInvariants(t, h)
}

func TestBuyersOfUnboughtProduct(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Categories: []string{"A/B"}}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "y", Time: at(0), Quantity: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x := productID(t, h, "x")
	require.NotNil(t, h.Buyers(x))
	assert.True(t, h.Buyers(x).IsEmpty())
	cat, ok := h.Catalog().LookupCategory("A")
	require.True(t, ok)
	require.NotNil(t, h.CategoryBuyers(cat))
	assert.True(t, h.CategoryBuyers(cat).IsEmpty())
}

func TestSummaryString(t *testing.T) {
	h := buildPurchases(t,
		affinity.Purchase{Customer: "a", Product: "x", Time: at(0), Quantity: 2, Price: 25500},
		affinity.Purchase{Product: "x", Time: at(3600), Quantity: -1, Price: 25500},
	)
	s := h.Summary().String()
	for _, want := range []string{
		"customers          1\n", "orders             2\n", "lines              2\n", "returns            1\n",
		"revenue            2.55\n", "customer revenue   5.10\n",
		"first order        2024-05-01 10:00:00\n", "last order         2024-05-01 11:00:00\n",
	} {
		assert.Contains(t, s, want)
	}
	assert.Len(t, strings.Split(strings.TrimSpace(s), "\n"), 14)
}

func TestInvalidRecords(t *testing.T) {
	ok := affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: at(0), Quantity: 1, Price: 100}
	okEvent := affinity.Event{Customer: "c", Product: "p", Time: at(0), Kind: affinity.View, Weight: 1}
	purchase := func(mutate func(p *affinity.Purchase)) func(b *affinity.Builder) error {
		p := ok
		mutate(&p)
		return func(b *affinity.Builder) error { return b.Add(p) }
	}
	event := func(mutate func(e *affinity.Event)) func(b *affinity.Builder) error {
		e := okEvent
		mutate(&e)
		return func(b *affinity.Builder) error { return b.AddEvent(e) }
	}
	product := func(p affinity.Product) func(b *affinity.Builder) error {
		return func(b *affinity.Builder) error { return b.AddProduct(p) }
	}
	calls := map[string]func(b *affinity.Builder) error{
		"Add/no product":     purchase(func(p *affinity.Purchase) { p.Product = "" }),
		"Add/zero time":      purchase(func(p *affinity.Purchase) { p.Time = time.Time{} }),
		"Add/zero quantity":  purchase(func(p *affinity.Purchase) { p.Quantity = 0 }),
		"Add/negative price": purchase(func(p *affinity.Purchase) { p.Price = -1 }),

		"AddEvent/no customer": event(func(e *affinity.Event) { e.Customer = "" }),
		"AddEvent/no product":  event(func(e *affinity.Event) { e.Product = "" }),
		"AddEvent/zero time":   event(func(e *affinity.Event) { e.Time = time.Time{} }),
		"AddEvent/kind 0":      event(func(e *affinity.Event) { e.Kind = 0 }),
		"AddEvent/kind 5":      event(func(e *affinity.Event) { e.Kind = affinity.Wishlist + 1 }),
		"AddEvent/NaN weight":  event(func(e *affinity.Event) { e.Weight = float32(math.NaN()) }),
		"AddEvent/+Inf weight": event(func(e *affinity.Event) { e.Weight = float32(math.Inf(1)) }),
		"AddEvent/-Inf weight": event(func(e *affinity.Event) { e.Weight = float32(math.Inf(-1)) }),

		"AddProduct/no key":         product(affinity.Product{Name: "n", Categories: []string{"A/B"}, Price: 1}),
		"AddProduct/negative price": product(affinity.Product{Key: "p", Categories: []string{"A/B"}, Price: -1}),
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var b affinity.Builder
			require.ErrorIs(t, call(&b), affinity.ErrInvalid)
			// Nothing may be left behind.
			assert.Zero(t, b.Len())
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			assert.Equal(t, affinity.Summary{}, h.Summary())
		})
	}
	// A refused line in the middle of a run must not disturb the run.
	t.Run("between valid lines", func(t *testing.T) {
		var b affinity.Builder
		require.NoError(t, b.Add(ok))
		bad := ok
		bad.Customer, bad.Order, bad.Quantity = "d", "o2", 0
		require.ErrorIs(t, b.Add(bad), affinity.ErrInvalid)
		require.NoError(t, b.Add(ok))
		assert.Equal(t, 2, b.Len())
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1, h.NumCustomers())
		assert.Equal(t, 1, h.NumOrders())
		assert.Equal(t, 2, h.NumLines())
	})
}

func TestBuildCancelled(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	recs := genRecords(r, 500)
	var b affinity.Builder
	addAll(t, &b, recs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h, err := b.Build(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, h)
	// Documented: the Builder is empty afterwards either way.
	assert.Zero(t, b.Len())
	h, err = b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, affinity.Summary{}, h.Summary())
}

// countdownCtx reports context.Canceled from the (n+1)-th call of Err on.
// Like every Context it is safe for concurrent use.
type countdownCtx struct {
	context.Context
	n atomic.Int64
}

func newCountdownCtx(n int) *countdownCtx {
	c := &countdownCtx{Context: context.Background()}
	c.n.Store(int64(n))
	return c
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// Cancellation at any check inside Build gives an error and no History;
// a Build that gets through is complete.
func TestBuildCancelledMidway(t *testing.T) {
	var recs []record
	for i := range 10_000 { // more than one batch of customers between checks
		p := affinity.Purchase{Customer: fmt.Sprint("c", i), Product: fmt.Sprint("p", i%50), Time: at(i), Quantity: 1, Price: 1}
		recs = append(recs, record{purchase: &p})
	}
	completed := false
	for k := 0; !completed; k++ {
		require.Less(t, k, 1000, "Build never completed")
		var b affinity.Builder
		addAll(t, &b, recs)
		h, err := b.Build(newCountdownCtx(k))
		if err != nil {
			require.ErrorIs(t, err, context.Canceled, "after %d checks", k)
			require.Nil(t, h, "after %d checks", k)
			continue
		}
		completed = true
		assert.Greater(t, k, 3, "Build checks ctx only %d times", k)
		checkModel(t, recs, h)
	}
}

func TestOrderCustomerOutOfRange(t *testing.T) {
	h := buildPurchases(t, affinity.Purchase{Customer: "a", Product: "x", Time: at(0), Quantity: 1})
	assert.Equal(t, affinity.CustomerID(0), h.OrderCustomer(0))
	assert.Panics(t, func() { h.OrderCustomer(1) })
}

func TestBuildResetsBuilder(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	recs := genRecords(r, 300)
	var b affinity.Builder
	addAll(t, &b, recs)
	h1, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Zero(t, b.Len())
	// The reused Builder starts from scratch and does not touch h1.
	before := viewHistory(h1)
	addAll(t, &b, recs[:len(recs)/2])
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	checkModel(t, recs[:len(recs)/2], h2)
	assert.Equal(t, before, viewHistory(h1))
}

func TestConcurrentReaders(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	recs := genRecords(r, 3000)
	h := build(t, nil, recs)
	want := viewHistory(h)
	const readers = 8
	mismatch := make([]bool, readers)
	var wg sync.WaitGroup
	for g := range readers {
		wg.Go(func() {
			// Mix whole walks with the hot lookups other packages use.
			if g%2 == 0 {
				mismatch[g] = !reflect.DeepEqual(want, viewHistory(h))
				return
			}
			rg := rand.New(rand.NewPCG(uint64(g), 0))
			cat := h.Catalog()
			for range 2000 {
				p := affinity.ProductID(rg.IntN(cat.NumProducts()))
				c := affinity.CustomerID(rg.IntN(h.NumCustomers()))
				bm := h.Buyers(p)
				if bm.Contains(uint32(c)) != slices.Contains(want.Buyers[p], uint32(c)) ||
					int(bm.GetCardinality()) != len(want.Buyers[p]) ||
					bm.Clone().GetCardinality() != bm.GetCardinality() {
					mismatch[g] = true
				}
				for _, s := range cat.Shares(p) {
					if h.CategoryBuyers(s.Category).AndCardinality(h.AllBuyers()) != h.CategoryBuyers(s.Category).GetCardinality() {
						mismatch[g] = true
					}
				}
				if id, ok := h.LookupCustomer(h.CustomerKey(c)); !ok || id != c {
					mismatch[g] = true
				}
			}
		})
	}
	wg.Wait()
	for g, bad := range mismatch {
		assert.False(t, bad, "reader %d saw a different History", g)
	}
}

// historyView is everything a History exposes, for comparing two
// Histories: orders and lines numbered by their place in the History's
// order, as a History built from scratch has them, whatever the layout
// (rawView adds the layout).
type historyView struct {
	Customers           []string
	Products            []affinity.Product
	Shares              [][]affinity.CategoryShare
	Categories          []categoryView
	Roots               []affinity.CategoryID
	Orders              []orderIDView
	CustomerOrders      [][2]affinity.OrderID
	CustomerLines       [][2]int
	CustomerEvents      [][2]int
	Anonymous           [2]affinity.OrderID
	Lines               []affinity.Line
	Events              []affinity.EventLine
	First, Last         []string
	Buyers              [][]uint32
	CategoryBuyers      [][]uint32
	CategoryBuyerCounts []int
	AllBuyers           []uint32
	Summary             affinity.Summary
	Latest              time.Time // the last order or event
}

type categoryView struct {
	Path, Name string
	Parent     affinity.CategoryID
	Depth      int
	Children   []affinity.CategoryID
}

type orderIDView struct {
	Customer affinity.CustomerID
	Key      string
	Unix     int64
	Value    affinity.Money
	Lo, Hi   int
}

func viewHistory(h *affinity.History) historyView {
	var v historyView
	cat := h.Catalog()
	// the long columns get their room up front: growing them by append
	// cost the large tests more than reading the History (a column that
	// stays empty stays nil either way, so views compare as before)
	nc := h.NumCustomers()
	v.Customers, v.First, v.Last = grown(v.Customers, nc), grown(v.First, nc), grown(v.Last, nc)
	v.CustomerOrders, v.CustomerLines, v.CustomerEvents = grown(v.CustomerOrders, nc), grown(v.CustomerLines, nc), grown(v.CustomerEvents, nc)
	v.Orders, v.Lines = grown(v.Orders, h.NumOrders()), grown(v.Lines, h.NumLines())
	for p := range cat.NumProducts() {
		v.Products = append(v.Products, cat.Product(affinity.ProductID(p)))
		v.Shares = append(v.Shares, cat.Shares(affinity.ProductID(p)))
		v.Buyers = append(v.Buyers, h.Buyers(affinity.ProductID(p)).ToArray())
	}
	for i := range cat.NumCategories() {
		id := affinity.CategoryID(i)
		v.Categories = append(v.Categories, categoryView{cat.CategoryPath(id), cat.CategoryName(id), cat.Parent(id), cat.Depth(id), cat.Children(id)})
		v.CategoryBuyers = append(v.CategoryBuyers, h.CategoryBuyers(id).ToArray())
		v.CategoryBuyerCounts = append(v.CategoryBuyerCounts, h.CategoryBuyerCount(id))
	}
	v.Roots = cat.Roots()
	timeOf := func(t time.Time, ok bool) string {
		if !ok {
			return "none"
		}
		return t.Format(time.RFC3339)
	}
	// Ranges and ids as a History built from scratch numbers them: the
	// position in the History's order (Orders), so that two Histories
	// with the same content compare equal whatever their layout.
	orders := slices.Collect(h.Orders())
	// indexed by order id, which is below NumOrderIDs
	pos := make([]int, h.NumOrderIDs())
	linePos := make([]int, h.NumOrderIDs())
	nl := 0
	for i, o := range orders {
		pos[o] = i
		linePos[o] = nl
		lo, hi := h.OrderLines(o)
		nl += hi - lo
	}
	next, nextLine := 0, 0
	for i := range h.NumCustomers() {
		c := affinity.CustomerID(i)
		v.Customers = append(v.Customers, h.CustomerKey(c))
		lo, hi := h.CustomerOrders(c)
		llo, lhi := h.CustomerLines(c)
		if lo < hi {
			next, nextLine = pos[lo], linePos[lo]
		}
		v.CustomerOrders = append(v.CustomerOrders, [2]affinity.OrderID{affinity.OrderID(next), affinity.OrderID(next + int(hi-lo))})
		v.CustomerLines = append(v.CustomerLines, [2]int{nextLine, nextLine + lhi - llo})
		next, nextLine = next+int(hi-lo), nextLine+lhi-llo
		elo, ehi := h.CustomerEvents(c)
		v.CustomerEvents = append(v.CustomerEvents, [2]int{len(v.Events), len(v.Events) + ehi - elo})
		for i := elo; i < ehi; i++ {
			v.Events = append(v.Events, h.Event(i))
		}
		v.First = append(v.First, timeOf(h.FirstPurchase(c)))
		v.Last = append(v.Last, timeOf(h.LastPurchase(c)))
	}
	v.Latest = h.Latest()
	lo, hi := h.AnonymousOrders()
	v.Anonymous = [2]affinity.OrderID{affinity.OrderID(next), affinity.OrderID(next + int(hi-lo))}
	for _, o := range orders {
		llo, lhi := h.OrderLines(o)
		at := linePos[o]
		v.Orders = append(v.Orders, orderIDView{h.OrderCustomer(o), h.OrderKey(o), h.OrderUnix(o), h.OrderValue(o), at, at + lhi - llo})
		for i := llo; i < lhi; i++ {
			v.Lines = append(v.Lines, h.Line(i))
		}
	}
	v.AllBuyers = h.AllBuyers().ToArray()
	v.Summary = h.Summary()
	return v
}

// grown is s with room for n more elements, s itself (nil) for n = 0.
func grown[T any](s []T, n int) []T {
	if n <= 0 {
		return s
	}
	return slices.Grow(s, n)
}

// rawView is a History's view with its layout: what every order id and
// every customer's ranges hold as they are. A History must never change,
// whatever is built on it later.
type rawView struct {
	historyView
	rawLayout
}

// rawLayout is h's layout — what every order id and every index of the
// ranges holds — read without the lazily built parts (category bitmaps,
// key index), so that reading it leaves their first use to others.
type rawLayout struct {
	IDs            []rawOrder
	CustomerOrders [][2]affinity.OrderID
	CustomerEvents [][2]int
	Events         []affinity.EventLine
	Anonymous      [2]affinity.OrderID
}

type rawOrder struct {
	Customer affinity.CustomerID
	Key      string
	Unix     int64
	Lines    []affinity.Line
}

func viewRaw(h *affinity.History) rawView {
	return rawView{historyView: viewHistory(h), rawLayout: layoutOf(h)}
}

func layoutOf(h *affinity.History) rawLayout {
	var v rawLayout
	for i := range h.NumOrderIDs() {
		o := affinity.OrderID(i)
		lo, hi := h.OrderLines(o)
		r := rawOrder{h.OrderCustomer(o), h.OrderKey(o), h.OrderUnix(o), nil}
		for j := lo; j < hi; j++ {
			r.Lines = append(r.Lines, h.Line(j))
		}
		v.IDs = append(v.IDs, r)
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerOrders(c)
		v.CustomerOrders = append(v.CustomerOrders, [2]affinity.OrderID{lo, hi})
		elo, ehi := h.CustomerEvents(c)
		v.CustomerEvents = append(v.CustomerEvents, [2]int{elo, ehi})
		for i := elo; i < ehi; i++ {
			v.Events = append(v.Events, h.Event(i))
		}
	}
	v.Anonymous[0], v.Anonymous[1] = h.AnonymousOrders()
	return v
}

func TestTimesAreUTCSeconds(t *testing.T) {
	loc := time.FixedZone("Kathmandu", 5*3600+45*60)
	local := time.Date(2023, 12, 31, 23, 59, 59, 999_999_999, loc)
	h := buildPurchases(t, affinity.Purchase{Customer: "a", Product: "x", Time: local, Quantity: 1, Price: 1})
	got := h.OrderTime(0)
	assert.Equal(t, time.UTC, got.Location())
	assert.Equal(t, local.Unix(), got.Unix())
	assert.Zero(t, got.Nanosecond())
	assert.True(t, got.Equal(local.Truncate(time.Second)), fmt.Sprint(got))
	first, ok := h.FirstPurchase(0)
	require.True(t, ok)
	assert.Equal(t, got, first)
}
