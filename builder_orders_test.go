package affinity_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedOp is one call of an order feed: a put, a delete or an erasure.
type feedOp struct {
	change affinity.OrderChange
	erase  string // customer key; the op is an erasure when set
}

func (op feedOp) applyTo(b *affinity.Builder) error {
	if op.erase != "" {
		b.EraseCustomer(op.erase)
		return nil
	}
	return b.Apply(op.change)
}

// orderFixture is a base of Add calls and a feed over the same small pools
// of customers, products and order keys, so that puts replace base orders,
// orders move between customers and erasures hit orders and events.
type orderFixture struct {
	products []affinity.Product // in two levels of categories, so that changes move category buyers
	base     []affinity.Purchase
	events   []affinity.Event
	feed     []feedOp
}

func genOrderFixture(r *rand.Rand, nBase, nFeed int) orderFixture {
	nCust, nProd, nKey := 1+r.IntN(8), 1+r.IntN(10), 1+r.IntN(12)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	when := func() time.Time { return t0.Add(time.Duration(r.IntN(50)) * time.Hour) }
	cust := func() string {
		if r.IntN(8) == 0 {
			return ""
		}
		return fmt.Sprintf("c%d", r.IntN(nCust))
	}
	line := func(c, order string) affinity.Purchase {
		q := int32(1 + r.IntN(3))
		if r.IntN(6) == 0 {
			q = -q
		}
		return affinity.Purchase{Customer: c, Product: fmt.Sprintf("p%d", r.IntN(nProd)), Order: order,
			Time: when(), Quantity: q, Price: affinity.Money(r.IntN(5) * 2500)}
	}
	var f orderFixture
	for p := range nProd {
		f.products = append(f.products, affinity.Product{Key: fmt.Sprintf("p%d", p),
			Categories: []string{fmt.Sprintf("g%d/s%d", p%2, p%3)}})
	}
	for range nBase {
		order := ""
		if r.IntN(4) != 0 {
			order = fmt.Sprintf("o%d", r.IntN(nKey))
		}
		f.base = append(f.base, line(cust(), order))
	}
	for range nBase / 3 {
		f.events = append(f.events, affinity.Event{Customer: fmt.Sprintf("c%d", r.IntN(nCust)),
			Product: fmt.Sprintf("p%d", r.IntN(nProd)), Time: when(), Kind: affinity.View, Weight: 1})
	}
	for i := range nFeed {
		key := fmt.Sprintf("o%d", r.IntN(nKey))
		v := int64(i + 1) // distinct versions, increasing with feed position
		switch k := r.IntN(10); {
		case k == 0:
			f.feed = append(f.feed, feedOp{erase: fmt.Sprintf("c%d", r.IntN(nCust))})
		case k <= 2:
			f.feed = append(f.feed, feedOp{change: affinity.OrderChange{Key: key, Version: v, Delete: true}})
		default:
			c := cust()
			lines := make([]affinity.Purchase, 1+r.IntN(4))
			for j := range lines {
				lines[j] = line(c, "")
			}
			f.feed = append(f.feed, feedOp{change: affinity.OrderChange{Key: key, Version: v, Lines: lines}})
		}
	}
	return f
}

func buildFixture(t testing.TB, base *affinity.History, f orderFixture, feeds ...[]feedOp) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(base)
	// require only on a failure: its t.Helper costs more than the Builder
	if base == nil {
		for _, p := range f.products {
			if err := b.AddProduct(p); err != nil {
				require.NoError(t, err)
			}
		}
		for _, p := range f.base {
			if err := b.Add(p); err != nil {
				require.NoError(t, err)
			}
		}
		for _, e := range f.events {
			if err := b.AddEvent(e); err != nil {
				require.NoError(t, err)
			}
		}
	}
	for _, feed := range feeds {
		for _, op := range feed {
			if err := op.applyTo(b); err != nil {
				require.NoError(t, err)
			}
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// feedOrder is an order of the naive model: its lines as
// "product:quantity:price".
type feedOrder struct {
	cust, key string
	unix      int64
	lines     []string
}

func (o feedOrder) String() string { return fmt.Sprintf("%s|%s|%d|%v", o.cust, o.key, o.unix, o.lines) }

// groupOrders groups purchases as a Builder does: by (customer, order id),
// or (customer, second) without an order id; an order's time is its
// earliest line's.
func groupOrders(dst []feedOrder, ps []affinity.Purchase) []feedOrder {
	at := map[string]int{}
	for _, p := range ps {
		id := p.Customer + "|" + p.Order
		if p.Order == "" {
			id += fmt.Sprint("|", p.Time.Unix())
		}
		i, ok := at[id]
		if !ok {
			i = len(dst)
			at[id] = i
			dst = append(dst, feedOrder{cust: p.Customer, key: p.Order, unix: p.Time.Unix()})
		}
		dst[i].unix = min(dst[i].unix, p.Time.Unix())
		dst[i].lines = append(dst[i].lines, fmt.Sprintf("%s:%d:%d", p.Product, p.Quantity, p.Price))
	}
	return dst
}

// modelFeed is the naive statement of one Builder's order semantics: the
// orders it starts with, minus every order whose key the feed touched and
// everything of customers erased in the feed, plus the winning put of each
// key unless its customer is erased.
func modelFeed(orders []feedOrder, events []affinity.Event, feed []feedOp) ([]feedOrder, []affinity.Event, map[string]bool) {
	type win struct {
		version int64
		del     bool
		lines   []affinity.Purchase
	}
	wins := map[string]win{}
	erased := map[string]bool{}
	for _, op := range feed {
		if op.erase != "" {
			erased[op.erase] = true
			continue
		}
		c := op.change
		del := c.Delete || len(c.Lines) == 0
		if w, ok := wins[c.Key]; ok && (c.Version < w.version || c.Version == w.version && w.del && !del) {
			continue
		}
		wins[c.Key] = win{c.Version, del, c.Lines}
	}
	var out []feedOrder
	for _, o := range orders {
		if _, touched := wins[o.key]; (touched && o.key != "") || erased[o.cust] {
			continue
		}
		out = append(out, o)
	}
	for key, w := range wins {
		if w.del || erased[w.lines[0].Customer] {
			continue
		}
		lines := slices.Clone(w.lines)
		for i := range lines {
			lines[i].Order = key
		}
		out = groupOrders(out, lines)
	}
	events = slices.DeleteFunc(slices.Clone(events), func(e affinity.Event) bool { return erased[e.Customer] })
	return out, events, erased
}

func orderStrings(orders []feedOrder) []string {
	var s []string
	for _, o := range orders {
		s = append(s, o.String())
	}
	slices.Sort(s)
	return s
}

// historyOrders describes h's orders the way modelOrders does.
func historyOrders(h *affinity.History) []string {
	var out []string
	cat := h.Catalog()
	for o := range h.Orders() {
		c, cust := h.OrderCustomer(o), ""
		if c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		var lines []string
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			lines = append(lines, fmt.Sprintf("%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price))
		}
		out = append(out, fmt.Sprintf("%s|%s|%d|%v", cust, h.OrderKey(o), h.OrderUnix(o), lines))
	}
	slices.Sort(out)
	return out
}

func TestOrderFeedMatchesModel(t *testing.T) {
	for seed := range uint64(testdata.Scale(300, 60)) {
		r := rand.New(rand.NewPCG(seed, 14))
		f := genOrderFixture(r, r.IntN(40), r.IntN(40))
		h := buildFixture(t, nil, f, f.feed)
		orders, evs, erased := modelFeed(groupOrders(nil, f.base), f.events, f.feed)
		want, events := orderStrings(orders), len(evs)
		require.Equal(t, want, historyOrders(h), "seed %d", seed)
		assert.Equal(t, events, h.NumEvents(), "seed %d", seed)
		for key := range erased {
			_, ok := h.LookupCustomer(key)
			assert.False(t, ok, "seed %d: erased customer %s still found", seed, key)
		}
		var revenue affinity.Money
		for p := range h.Purchases() {
			revenue += p.Value()
			assert.False(t, erased[p.Customer], "seed %d: line of erased customer %s", seed, p.Customer)
		}
		assert.Equal(t, revenue, h.Summary().Revenue, "seed %d", seed)
		checkInvariants(t, h)

		// The same feed through a base History built from the base calls.
		b0 := buildFixture(t, nil, orderFixture{products: f.products, base: f.base, events: f.events})
		assert.Equal(t, want, historyOrders(buildFixture(t, b0, f, f.feed)), "seed %d: feed on a base", seed)

		// The feed split over two refreshes, as polls deliver it: an
		// erasure is final within its Builder, and a later put may bring
		// the key back as a new customer.
		k := r.IntN(len(f.feed) + 1)
		h1 := buildFixture(t, nil, f, f.feed[:k])
		o1, e1, _ := modelFeed(groupOrders(nil, f.base), f.events, f.feed[:k])
		o2, e2, _ := modelFeed(o1, e1, f.feed[k:])
		h2 := buildFixture(t, h1, f, f.feed[k:])
		assert.Equal(t, orderStrings(o2), historyOrders(h2), "seed %d: feed split at %d", seed, k)
		assert.Equal(t, len(e2), h2.NumEvents(), "seed %d: feed split at %d", seed, k)
	}
}

func TestOrderFeedIdempotent(t *testing.T) {
	for seed := range uint64(testdata.Scale(200, 40)) {
		r := rand.New(rand.NewPCG(seed, 15))
		f := genOrderFixture(r, r.IntN(40), 1+r.IntN(40))
		once := buildFixture(t, nil, f, f.feed)
		want := viewHistory(once)

		assert.Equal(t, want, viewHistory(buildFixture(t, nil, f, f.feed, f.feed)), "seed %d: feed twice in one Builder", seed)
		assert.Equal(t, want, viewHistory(buildFixture(t, once, f, f.feed)), "seed %d: feed replayed on its own result", seed)

		shuffled := slices.Clone(f.feed)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		assert.Equal(t, want, viewHistory(buildFixture(t, nil, f, shuffled)), "seed %d: shuffled feed", seed)
		assert.Equal(t, want, viewHistory(buildFixture(t, nil, f, shuffled, f.feed)), "seed %d: shuffled then in order", seed)
	}
}

func TestPutOrderSameLineTwice(t *testing.T) {
	line := affinity.Purchase{Customer: "ann", Product: "mug", Time: at(0), Quantity: 2, Price: 5_0000}
	var b affinity.Builder
	require.NoError(t, b.PutOrder("#1001", 0, []affinity.Purchase{line}))
	require.NoError(t, b.PutOrder("#1001", 0, []affinity.Purchase{line}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, affinity.Money(10_0000), h.Summary().Revenue, "a re-delivered order counts once")
	assert.Equal(t, 1, h.NumOrders())

	// A partial refund arrives as a new version of the order.
	b2 := affinity.NewBuilder(h)
	refund := line
	refund.Quantity = -1
	require.NoError(t, b2.PutOrder("#1001", 1, []affinity.Purchase{line, refund}))
	require.NoError(t, b2.PutOrder("#1001", 0, []affinity.Purchase{line, line})) // stale: ignored
	h2, err := b2.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, affinity.Money(5_0000), h2.Summary().Revenue)
	assert.Equal(t, 2, h2.NumLines())
}

func TestOrderChangeErrors(t *testing.T) {
	ok := affinity.Purchase{Customer: "ann", Product: "mug", Time: at(0), Quantity: 1}
	bad := []struct {
		name string
		c    affinity.OrderChange
	}{
		{"no key", affinity.OrderChange{Lines: []affinity.Purchase{ok}}},
		{"no product", affinity.OrderChange{Key: "1", Lines: []affinity.Purchase{ok, {Customer: "ann", Time: at(0), Quantity: 1}}}},
		{"zero quantity", affinity.OrderChange{Key: "1", Lines: []affinity.Purchase{{Customer: "ann", Product: "x", Time: at(0)}}}},
		{"other order", affinity.OrderChange{Key: "1", Lines: []affinity.Purchase{{Customer: "ann", Product: "x", Order: "2", Time: at(0), Quantity: 1}}}},
		{"two customers", affinity.OrderChange{Key: "1", Lines: []affinity.Purchase{ok, {Customer: "bob", Product: "x", Time: at(0), Quantity: 1}}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var b affinity.Builder
			require.ErrorIs(t, b.Apply(tc.c), affinity.ErrInvalid)
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			assert.Zero(t, h.NumOrders(), "a refused change stages nothing")
		})
	}
}

func TestEraseCustomer(t *testing.T) {
	var b affinity.Builder
	for _, p := range []affinity.Purchase{
		{Customer: "ann", Product: "mug", Order: "1", Time: at(0), Quantity: 1, Price: 1_0000},
		{Customer: "bob", Product: "mug", Order: "2", Time: at(5), Quantity: 1, Price: 1_0000},
		{Customer: "cat", Product: "pen", Order: "3", Time: at(9), Quantity: 1, Price: 2_0000},
	} {
		require.NoError(t, b.Add(p))
	}
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "bob", Product: "pen", Time: at(7), Kind: affinity.View, Weight: 1}))
	base, err := b.Build(context.Background())
	require.NoError(t, err)
	bob := customer(t, base, "bob")
	catID := customer(t, base, "cat")

	nb := affinity.NewBuilder(base)
	nb.EraseCustomer("bob")
	// A line of bob arriving after the request in the same feed is dropped too.
	require.NoError(t, nb.PutOrder("4", 0, []affinity.Purchase{{Customer: "bob", Product: "pen", Time: at(20), Quantity: 1}}))
	h, err := nb.Build(context.Background())
	require.NoError(t, err)

	_, found := h.LookupCustomer("bob")
	assert.False(t, found)
	assert.Equal(t, "", h.CustomerKey(bob))
	lo, hi := h.CustomerOrders(bob)
	assert.Equal(t, lo, hi)
	elo, ehi := h.CustomerEvents(bob)
	assert.Equal(t, elo, ehi)
	assert.Zero(t, h.NumEvents())
	assert.Equal(t, catID, customer(t, h, "cat"), "other customers keep their ids")
	assert.Equal(t, affinity.Money(3_0000), h.Summary().Revenue)
	assert.False(t, h.Buyers(productID(t, h, "mug")).Contains(uint32(bob)))
	for p := range h.Purchases() {
		assert.NotEqual(t, "bob", p.Customer)
	}

	// The erasure survives the next generations; the key can come back as a
	// new customer.
	nb = affinity.NewBuilder(h)
	require.NoError(t, nb.Add(affinity.Purchase{Customer: "bob", Product: "mug", Order: "9", Time: at(30), Quantity: 1}))
	h2, err := nb.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, affinity.CustomerID(h.NumCustomers()), customer(t, h2, "bob"))
	assert.Equal(t, "", h2.CustomerKey(bob))
}

func TestPurchasesRebuild(t *testing.T) {
	for seed := range uint64(testdata.Scale(60, 20)) {
		r := rand.New(rand.NewPCG(seed, 16))
		recs := genRecords(r, 1+r.IntN(200))
		h := build(t, nil, recs)
		var b affinity.Builder
		cat := h.Catalog()
		for p := range cat.NumProducts() {
			require.NoError(t, b.AddProduct(cat.Product(affinity.ProductID(p))))
		}
		// Customer by customer, so that customers with events only keep
		// their ids too.
		pur, stop := iter.Pull(h.Purchases())
		defer stop()
		for c := range affinity.CustomerID(h.NumCustomers()) {
			lo, hi := h.CustomerLines(c)
			for range hi - lo {
				p, ok := pur()
				require.True(t, ok)
				require.NoError(t, b.Add(p))
			}
			elo, ehi := h.CustomerEvents(c)
			for i := elo; i < ehi; i++ {
				e := h.Event(i)
				require.NoError(t, b.AddEvent(affinity.Event{Customer: h.CustomerKey(c), Product: cat.ProductKey(e.Product), Time: e.Time(), Kind: e.Kind, Weight: e.Weight}))
			}
		}
		for p, ok := pur(); ok; p, ok = pur() {
			require.NoError(t, b.Add(p))
		}
		got, err := b.Build(context.Background())
		require.NoError(t, err)
		want := viewHistory(h)
		gotView := viewHistory(got)
		// Category ids follow AddProduct order, which a rebuild cannot
		// replay; everything keyed by customers, products and orders must
		// match.
		want.Categories, want.Roots, want.Shares, want.CategoryBuyers, want.CategoryBuyerCounts, want.Summary.Categories = nil, nil, nil, nil, nil, 0
		gotView.Categories, gotView.Roots, gotView.Shares, gotView.CategoryBuyers, gotView.CategoryBuyerCounts, gotView.Summary.Categories = nil, nil, nil, nil, nil, 0
		require.Equal(t, want, gotView, "seed %d", seed)

		var events []affinity.Event
		for e := range h.Events() {
			events = append(events, e)
		}
		require.Len(t, events, h.NumEvents())
	}
}

// checkLookup requires LookupOrder to find, for every key of h, the
// first order with it in the History's order, from four goroutines at
// once (concurrent first calls build the index once).
func checkLookup(t *testing.T, h *affinity.History, what string) {
	t.Helper()
	first := map[string]affinity.OrderID{}
	for o := range h.Orders() {
		if _, ok := first[h.OrderKey(o)]; !ok {
			first[h.OrderKey(o)] = o
		}
	}
	var wg sync.WaitGroup
	bad := make([]bool, 4)
	for g := range bad {
		wg.Go(func() {
			for key, want := range first {
				got, ok := h.LookupOrder(key)
				if key == "" {
					bad[g] = bad[g] || ok
				} else if !ok || got != want {
					bad[g] = true
				}
			}
			if _, ok := h.LookupOrder("no such order"); ok {
				bad[g] = true
			}
		})
	}
	wg.Wait()
	assert.Equal(t, make([]bool, 4), bad, what)
}

// TestLookupOrder looks orders up in random Histories and in chains of
// Histories built on each other from feeds of puts, deletes and erasures,
// appended to their bases' columns or written anew, each looked up
// before the next is built on it or after (so that the index is built on
// first use, extended from the base's, or built for a compacted one).
func TestLookupOrder(t *testing.T) {
	for seed := range uint64(testdata.Scale(40, 15)) {
		r := rand.New(rand.NewPCG(seed, 17))
		h := build(t, nil, genRecords(r, 1+r.IntN(200)))
		checkLookup(t, h, fmt.Sprintf("seed %d", seed))
	}
	for _, mode := range []int32{affinity.LayoutAuto, affinity.LayoutAppend, affinity.LayoutCompact} {
		was := affinity.SetLayoutMode(mode)
		for seed := range uint64(testdata.Scale(20, 8)) {
			r := rand.New(rand.NewPCG(seed, 18))
			f := genOrderFixture(r, 20+r.IntN(80), 40)
			h := buildFixture(t, nil, orderFixture{products: f.products, base: f.base, events: f.events})
			for round := range 6 {
				early := r.IntN(2) == 0
				if early {
					checkLookup(t, h, fmt.Sprintf("mode %d, seed %d, round %d, before", mode, seed, round))
				}
				lo := r.IntN(len(f.feed) + 1)
				next := buildFixture(t, h, f, f.feed[lo:min(len(f.feed), lo+1+r.IntN(10))])
				if !early {
					checkLookup(t, h, fmt.Sprintf("mode %d, seed %d, round %d, after", mode, seed, round))
				}
				checkInvariants(t, next)
				h = next
			}
			checkLookup(t, h, fmt.Sprintf("mode %d, seed %d, last", mode, seed))
		}
		affinity.SetLayoutMode(was)
	}
}
