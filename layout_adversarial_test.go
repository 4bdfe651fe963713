package affinity_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file tries to break the append layout of a History built on a base
// (layout.go): Histories that share columns with their base and claim its
// spare room, chains and branches of them, cancelled builds, and
// concurrent builds and readers. The reference for every History is the
// one Build gives by copying its base into the Builder's columns and
// sorting everything (BaseCopy): a History built from scratch on the
// same records, dense, sharing nothing.

// layoutOp is one call on a Builder: a record (Add, AddEvent,
// AddProduct) or an order-feed op (a put, a delete, an erasure).
type layoutOp struct {
	rec  record
	feed *feedOp
}

func (op layoutOp) String() string {
	if op.feed != nil {
		if op.feed.erase != "" {
			return fmt.Sprintf("EraseCustomer(%q)", op.feed.erase)
		}
		return fmt.Sprintf("Apply(%+v)", op.feed.change)
	}
	return op.rec.String()
}

func (op layoutOp) applyTo(b *affinity.Builder) error {
	if op.feed != nil {
		return op.feed.applyTo(b)
	}
	return op.rec.addTo(b)
}

// buildOps builds ops on base; byCopy, by copying base and sorting
// everything (the reference).
func buildOps(t testing.TB, ctx context.Context, base *affinity.History, ops []layoutOp, byCopy bool) (*affinity.History, error) {
	t.Helper()
	if byCopy {
		defer affinity.SetBaseMode(affinity.SetBaseMode(affinity.BaseCopy))
	}
	b := affinity.NewBuilder(base)
	for i, op := range ops {
		require.NoError(t, op.applyTo(b), "op %d: %v", i, op)
	}
	return b.Build(ctx)
}

func mustBuildOps(t testing.TB, base *affinity.History, ops []layoutOp, byCopy bool) *affinity.History {
	t.Helper()
	h, err := buildOps(t, context.Background(), base, ops, byCopy)
	require.NoError(t, err)
	require.NotNil(t, h)
	return h
}

var layoutT0 = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

var layoutCategories = []string{"A/x", "A/y", "B/z", "B", "C/w/v", "C/w"}

// layoutGen generates valid Builder calls over small, growing pools of
// customers, products and order keys, so that changes join, replace and
// delete existing orders, move orders between customers and the
// anonymous ones, erase customers with orders and events (whose keys may
// come back as new customers), and recategorise products. Most times lie
// around the base's; a few lie years before its first order, decades
// after it, or at the ends of the range a History stores.
type layoutGen struct {
	r                         *rand.Rand
	customers, products, keys int
	version                   int64
	plain                     bool        // times only in the days around the base's
	times                     []time.Time // times given before, for lines at the same second
}

func newLayoutGen(r *rand.Rand) *layoutGen {
	return &layoutGen{r: r, customers: 12, products: 6, keys: 20}
}

func (g *layoutGen) when() time.Time {
	r := g.r
	k := r.IntN(300)
	switch {
	case g.plain:
		k += 8
	case k >= 8 && k < 60 && len(g.times) > 0:
		// the second of another line: orders without id merge
		return g.times[r.IntN(len(g.times))]
	}
	t := g.at(k)
	if len(g.times) < 64 {
		g.times = append(g.times, t)
	} else {
		g.times[r.IntN(64)] = t
	}
	return t
}

func (g *layoutGen) at(k int) time.Time {
	r := g.r
	switch {
	case k == 0:
		return time.Unix(affinity.MinUnix+int64(r.IntN(3)), 0).UTC()
	case k == 1:
		return time.Unix(affinity.MaxUnix-int64(r.IntN(3)), 0).UTC()
	case k <= 4:
		return layoutT0.AddDate(-1-r.IntN(50), 0, 0) // years before the base
	case k <= 7:
		return layoutT0.AddDate(20+r.IntN(60), 0, 0) // decades after it
	}
	// days around the base's orders (which lie in the first 30)
	return layoutT0.Add(time.Duration(r.IntN(150*24)-60*24) * time.Hour)
}

func (g *layoutGen) customer(anonymous bool) string {
	r := g.r
	switch k := r.IntN(20); {
	case anonymous && k < 2:
		return ""
	case k < 4:
		g.customers++
		return fmt.Sprint("c", g.customers-1)
	}
	return fmt.Sprint("c", r.IntN(g.customers))
}

func (g *layoutGen) product() string {
	if g.r.IntN(12) == 0 {
		g.products++
		return fmt.Sprint("p", g.products-1)
	}
	return fmt.Sprint("p", g.r.IntN(g.products))
}

func (g *layoutGen) key() string {
	if g.r.IntN(6) == 0 {
		g.keys++
		return fmt.Sprint("o", g.keys-1)
	}
	return fmt.Sprint("o", g.r.IntN(g.keys))
}

func (g *layoutGen) line(cust, order string) affinity.Purchase {
	r := g.r
	q := int32(1 + r.IntN(3))
	if r.IntN(6) == 0 {
		q = -q // a return
	}
	return affinity.Purchase{Customer: cust, Product: g.product(), Order: order, Time: g.when(), Quantity: q, Price: affinity.Money(r.IntN(5) * 250)}
}

func (g *layoutGen) productOp() layoutOp {
	r := g.r
	p := affinity.Product{Key: g.product(), Price: affinity.Money(r.IntN(4) * 500), InStock: r.IntN(3) > 0}
	for range r.IntN(3) {
		p.Categories = append(p.Categories, layoutCategories[r.IntN(len(layoutCategories))])
	}
	return layoutOp{rec: record{product: &p}}
}

func (g *layoutGen) eventOp() layoutOp {
	r := g.r
	e := affinity.Event{Customer: g.customer(false), Product: g.product(), Time: g.when(),
		Kind: affinity.EventKind(1 + r.IntN(4)), Weight: float32(1 + r.IntN(5))}
	return layoutOp{rec: record{event: &e}}
}

func (g *layoutGen) purchaseOp() layoutOp {
	order := ""
	if g.r.IntN(10) < 7 {
		order = g.key()
	}
	p := g.line(g.customer(true), order)
	return layoutOp{rec: record{purchase: &p}}
}

// ops returns n calls of every kind.
func (g *layoutGen) ops(n int) []layoutOp {
	r := g.r
	var ops []layoutOp
	for range n {
		switch k := r.IntN(100); {
		case k < 40:
			ops = append(ops, g.purchaseOp())
		case k < 62:
			ops = append(ops, g.eventOp())
		case k < 66:
			ops = append(ops, g.productOp())
		case k < 82:
			g.version++
			c := g.customer(true)
			lines := make([]affinity.Purchase, 1+r.IntN(3))
			for i := range lines {
				lines[i] = g.line(c, "")
			}
			ops = append(ops, layoutOp{feed: &feedOp{change: affinity.OrderChange{Key: g.key(), Version: g.version, Lines: lines}}})
		case k < 93:
			g.version++
			ops = append(ops, layoutOp{feed: &feedOp{change: affinity.OrderChange{Key: g.key(), Version: g.version, Delete: true}}})
		default:
			ops = append(ops, layoutOp{feed: &feedOp{erase: fmt.Sprint("c", r.IntN(g.customers))}})
		}
	}
	return ops
}

// baseOps returns the calls of a base: products with categories, then
// orders and events of the first customers in the base's 30 days.
func (g *layoutGen) baseOps(n int) []layoutOp {
	r := g.r
	var ops []layoutOp
	for p := range g.products {
		cats := []string{layoutCategories[p%len(layoutCategories)]}
		ops = append(ops, layoutOp{rec: record{product: &affinity.Product{Key: fmt.Sprint("p", p), Categories: cats}}})
	}
	for i := range n {
		c := fmt.Sprint("c", r.IntN(g.customers))
		at := layoutT0.Add(time.Duration(r.IntN(30*24)) * time.Hour)
		if i%3 == 2 {
			e := affinity.Event{Customer: c, Product: fmt.Sprint("p", r.IntN(g.products)), Time: at, Kind: affinity.View, Weight: 1}
			ops = append(ops, layoutOp{rec: record{event: &e}})
			continue
		}
		order := fmt.Sprint("o", r.IntN(g.keys))
		if i%7 == 0 {
			c = "" // anonymous
		}
		p := affinity.Purchase{Customer: c, Product: fmt.Sprint("p", r.IntN(g.products)), Order: order, Time: at, Quantity: 1, Price: 1000}
		ops = append(ops, layoutOp{rec: record{purchase: &p}})
	}
	return ops
}

// roomyPair builds ops from scratch, then more on the result twice over:
// on top (Auto layout, which writes the columns anew with room to append
// to, a History from scratch having none) and by copying (the
// reference). Both steps add orders and events.
func roomyPair(t testing.TB, g *layoutGen, n int) (over, ref *affinity.History) {
	t.Helper()
	ops := g.baseOps(n)
	h0 := mustBuildOps(t, nil, ops[:len(ops)/2], false)
	rest := ops[len(ops)/2:]
	rest = append(rest, g.eventOp(), g.purchaseOp())
	over = mustBuildOps(t, h0, rest, false)
	ref = mustBuildOps(t, h0, rest, true)
	require.Equal(t, viewHistory(ref), viewHistory(over))
	return over, ref
}

// naiveCategoryBuyers is the customers who bought (a line of positive
// quantity in a live order) a product of each category or below it,
// found from the orders and the category tree's parents.
func naiveCategoryBuyers(h *affinity.History) [][]uint32 {
	cat := h.Catalog()
	sets := make([]map[uint32]bool, cat.NumCategories())
	for o := range h.Orders() {
		c := h.OrderCustomer(o)
		if c == affinity.NoCustomer {
			continue
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			if h.LineQuantity(i) <= 0 {
				continue
			}
			for _, k := range cat.Categories(h.LineProduct(i)) {
				for ; k != affinity.NoCategory; k = cat.Parent(k) {
					if sets[k] == nil {
						sets[k] = map[uint32]bool{}
					}
					sets[k][uint32(c)] = true
				}
			}
		}
	}
	out := make([][]uint32, len(sets))
	for k, s := range sets {
		out[k] = []uint32{}
		for c := range s {
			out[k] = append(out[k], c)
		}
		slices.Sort(out[k])
	}
	return out
}

// checkCategoryBuyers requires h's category buyer counts, then (built on
// first use for a History built on a base) its bitmaps, to match the
// naive computation. Call it before anything else asks for h's bitmaps.
func checkCategoryBuyers(t testing.TB, h *affinity.History, what string) {
	t.Helper()
	want := naiveCategoryBuyers(h)
	for k := range want {
		require.Equal(t, len(want[k]), h.CategoryBuyerCount(affinity.CategoryID(k)), "%s: count of category %d before its bitmap", what, k)
	}
	for k := range want {
		got := h.CategoryBuyers(affinity.CategoryID(k)).ToArray()
		if got == nil {
			got = []uint32{}
		}
		require.Equal(t, want[k], got, "%s: buyers of category %d", what, k)
		require.Equal(t, len(want[k]), h.CategoryBuyerCount(affinity.CategoryID(k)), "%s: count of category %d", what, k)
	}
}

// appended reports whether h shows holes: order ids or events that a
// build on a base appended after moving a customer's orders or events.
func appended(h *affinity.History) bool {
	return h.NumOrderIDs() > h.NumOrders() || affinity.HistoryHoleLines(h) > 0 || affinity.HistoryEventHoles(h) > 0
}

// TestAppendEventRoomSharedWithoutClaim (BUG, fails): a History built on
// a base without event changes shares the base's event columns, spare
// room included, without claiming the room (overEvents' share path,
// builder_over.go:540-551), while its orders are written anew
// (compacted: by the policy, or because another History took the
// room). Two Histories then own the same room — the base through its
// tail and the sharing History through its own — so a History built on
// each can append events into it: the later overwrites the events of
// the earlier, which changes after it was built, in the Auto layout,
// without any test knob; in the second case to an event of a product
// its catalog does not have.
func TestAppendEventRoomSharedWithoutClaim(t *testing.T) {
	at := func(h int) time.Time { return layoutT0.Add(time.Duration(h) * time.Hour) }
	order := func(c, key string, h int) layoutOp {
		return layoutOp{rec: record{purchase: &affinity.Purchase{Customer: c, Product: "p", Order: key, Time: at(h), Quantity: 1, Price: 100}}}
	}
	event := func(c, p string, h int) layoutOp {
		return layoutOp{rec: record{event: &affinity.Event{Customer: c, Product: p, Time: at(h), Kind: affinity.Cart, Weight: 1}}}
	}
	// the base: a holds most lines, b one; built in two steps, so that
	// its order and event columns have room to append to
	var ops []layoutOp
	for i := range 8 {
		ops = append(ops, order("a", fmt.Sprint("a", i), i))
	}
	ops = append(ops, order("b", "b0", 0), event("a", "p", 0), event("b", "p", 0))
	type step struct {
		on  int // the History built on: 0 the base, i the i-th step's
		ops []layoutOp
	}
	// a's new order without events: the History shares base's event
	// columns, its orders written anew (a's old orders would leave more
	// than a quarter of the lines in holes, or base's room is taken)
	shares := []layoutOp{order("a", "a9", 9)}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"orders compacted by the policy", []step{
			{0, shares},
			{1, []layoutOp{event("b", "q", 30)}}, // appended to base's event room, claiming step 1's
			{0, []layoutOp{event("b", "p", 40), event("b", "r", 41)}}, // appended there again, claiming base's
		}},
		{"second History on the base", []step{
			{0, []layoutOp{event("b", "p", 20)}}, // claims base's room, appends b's events
			{0, shares},
			{2, []layoutOp{event("b", "q", 30)}}, // appended to base's event room, claiming step 2's
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h0 := mustBuildOps(t, nil, ops, false)
			more := []layoutOp{order("a", "a8", 8), event("a", "p", 8)}
			over := []*affinity.History{mustBuildOps(t, h0, more, false)}
			ref := []*affinity.History{mustBuildOps(t, h0, more, true)}
			require.False(t, appended(over[0]), "the base is written anew, with room")
			raw := []rawView{viewRaw(over[0])}
			for i, s := range tc.steps {
				h := mustBuildOps(t, over[s.on], s.ops, false)
				over, ref = append(over, h), append(ref, mustBuildOps(t, ref[s.on], s.ops, true))
				t.Logf("step %d on %d: appended %v", i+1, s.on, appended(h))
				require.Equal(t, viewHistory(ref[i+1]), viewHistory(h), "step %d", i+1)
				raw = append(raw, viewRaw(h))
			}
			for i, h := range over {
				assert.Equal(t, raw[i], viewRaw(h), "History %d changed after its build", i)
				for c := range affinity.CustomerID(h.NumCustomers()) {
					lo, hi := h.CustomerEvents(c)
					for e := lo; e < hi; e++ {
						assert.Less(t, int(h.Event(e).Product), h.Catalog().NumProducts(), "History %d: event %d of customer %d", i, e, c)
					}
				}
			}
		})
	}
}

// layoutNode is a History of a chain: built on top (over) and by copying
// (ref), with over's layout as it was right after its build.
type layoutNode struct {
	over, ref *affinity.History
	raw       rawView
	name      string
}

// TestLayoutChains builds chains of 25 (long: 60) Histories, each on one
// built before: mostly the last, often one of the last few or any
// earlier one, so that a base gets several children — the first to
// claim its room appends, the others are written anew — and the chain
// goes on from both kinds. A quarter of the builds are first tried with
// a context that cancels them at one of its checks (after the claim of
// the room, or before), and must leave their base as it was. The
// changes mix new orders of known and new customers, lines joining
// existing orders, anonymous orders, returns, events of every kind,
// catalog entries that recategorise products, puts, deletes and
// erasures, lines at the same second as others, and times years before
// the base's first order, decades after it and at the ends of the stored
// range. After every build the History must equal the one built by
// copying its base and sorting everything, hold checkInvariants, give
// the naive category buyers (counts first, then the bitmaps built on
// first use), store its times from at or before its first order and find
// every order key; every History of the chain must still read as right
// after its build. Chains run in the Auto layout (the policy) and in the
// Append layout (appending wherever the room allows); with "events",
// every change adds an event, so that no History shares its base's
// event columns (which TestAppendEventRoomSharedWithoutClaim shows
// broken): those chains pass where the others find that bug.
func TestLayoutChains(t *testing.T) {
	for _, mode := range []struct {
		name   string
		layout int32
	}{{"auto", affinity.LayoutAuto}, {"append", affinity.LayoutAppend}} {
		for _, events := range []bool{false, true} {
			name := mode.name
			if events {
				name += ",events"
			}
			t.Run(name, func(t *testing.T) {
				defer affinity.SetLayoutMode(affinity.SetLayoutMode(mode.layout))
				for seed := range uint64(testdata.Scale(12, 1)) {
					layoutChain(t, seed, testdata.Scale(60, 25), events)
				}
			})
		}
	}
}

func layoutChain(t *testing.T, seed uint64, steps int, events bool) {
	r := rand.New(rand.NewPCG(seed, 71))
	g := newLayoutGen(r)
	over, ref := roomyPair(t, g, 40+r.IntN(80))
	nodes := []layoutNode{{over: over, ref: ref, raw: viewRaw(over), name: "base"}}
	var nAppended, nCancelled int
	unchanged := func(what string) {
		t.Helper()
		for _, n := range nodes {
			require.Equal(t, n.raw, viewRaw(n.over), "%s: %s changed since its build", what, n.name)
		}
	}
	for step := range steps {
		var parent int
		switch k := r.IntN(10); {
		case k < 5:
			parent = len(nodes) - 1
		case k < 8:
			parent = max(0, len(nodes)-1-r.IntN(4))
		default:
			parent = r.IntN(len(nodes))
		}
		p := nodes[parent]
		ops := g.ops(1 + r.IntN(10))
		if events {
			ops = append(ops, g.eventOp())
		}
		what := fmt.Sprintf("seed %d, step %d on %s", seed, step, p.name)
		var h *affinity.History
		if r.IntN(4) == 0 {
			// cancelled at its k-th check of ctx, or built
			x, err := buildOps(t, newCountdownCtx(r.IntN(8)), p.over, ops, false)
			if err != nil {
				require.ErrorIs(t, err, context.Canceled, what)
				require.Nil(t, x, what)
				require.Equal(t, p.raw, viewRaw(p.over), "%s: base changed by a cancelled build", what)
				nCancelled++
			} else {
				h = x
			}
		}
		if h == nil {
			h = mustBuildOps(t, p.over, ops, false)
		}
		want := mustBuildOps(t, p.ref, ops, true)
		if appended(h) && h.NumOrderIDs() >= p.over.NumOrderIDs() {
			nAppended++
		}
		checkInvariants(t, h)
		checkCategoryBuyers(t, h, what)
		if !reflect.DeepEqual(viewHistory(want), viewHistory(h)) {
			for i, op := range ops {
				t.Logf("op %d: %v", i, op)
			}
			require.Equal(t, viewHistory(want), viewHistory(h), what)
		}
		require.Equal(t, affinity.HistoryGross(want), affinity.HistoryGross(h), what)
		if h.NumOrders() > 0 {
			require.LessOrEqual(t, affinity.HistoryBaseUnix(h), h.Summary().First.Unix(), "%s: times stored from", what)
		}
		require.Equal(t, slices.Collect(want.Purchases()), slices.Collect(h.Purchases()), what)
		require.Equal(t, slices.Collect(want.Events()), slices.Collect(h.Events()), what)
		// what ChangedSince does not list is as in the parent
		if ch, ok := h.ChangedSince(p.over); ok {
			listed := map[affinity.CustomerID]bool{}
			for _, c := range ch.Customers {
				listed[c] = true
			}
			for c := range affinity.CustomerID(min(h.NumCustomers(), p.over.NumCustomers())) {
				if !listed[c] {
					require.Equal(t, customerView(p.over, c), customerView(h, c), "%s: customer %d not listed as changed", what, c)
				}
			}
			if !ch.Anonymous {
				require.Equal(t, anonymousView(p.over), anonymousView(h), "%s: anonymous orders not listed as changed", what)
			}
		} else {
			require.Same(t, p.over, h, "%s: no lineage", what)
		}
		if r.IntN(3) == 0 {
			checkLookup(t, h, what) // else at the end, after Histories built on h derived their key index from h's, or not
		}
		nodes = append(nodes, layoutNode{over: h, ref: want, raw: viewRaw(h), name: fmt.Sprintf("step %d", step)})
		if step%8 == 7 {
			unchanged(what)
		}
	}
	unchanged(fmt.Sprintf("seed %d, at the end", seed))
	for _, n := range nodes {
		checkLookup(t, n.over, fmt.Sprintf("seed %d: %s at the end", seed, n.name))
	}
	t.Logf("seed %d: %d builds, %d appended, %d cancelled", seed, steps, nAppended, nCancelled)
}

// buildOpsErr is buildOps for a spawned goroutine: it reports errors
// instead of failing the test.
func buildOpsErr(ctx context.Context, base *affinity.History, ops []layoutOp) (*affinity.History, error) {
	b := affinity.NewBuilder(base)
	for i, op := range ops {
		if err := op.applyTo(b); err != nil {
			return nil, fmt.Errorf("op %d: %v: %w", i, op, err)
		}
	}
	return b.Build(ctx)
}

// readView is what a History's readers see, in terms that do not depend
// on its layout (no order ids or line and event indices): for two
// Histories with the same content it is the same.
type readView struct {
	Orders         []string // customer and orderString, in the History's order
	CustomerOrders []int    // per customer: its number of orders
	Events         [][]affinity.EventLine
	Lookups        []string // per key: the order LookupOrder finds
	Buyers         [][]uint32
	CategoryBuyers [][]uint32
	CategoryCounts []int
	AllBuyers      []uint32
	Summary        affinity.Summary
	Latest         time.Time
}

// readOf reads h as concurrent readers do, looking up the order keys
// o0 … o<keys-1> and one no order has.
func readOf(h *affinity.History, keys int) readView {
	var v readView
	for o := range h.Orders() {
		v.Orders = append(v.Orders, fmt.Sprint(h.OrderCustomer(o), " ", orderString(h, o)))
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerOrders(c)
		v.CustomerOrders = append(v.CustomerOrders, int(hi-lo))
		var evs []affinity.EventLine
		elo, ehi := h.CustomerEvents(c)
		for i := elo; i < ehi; i++ {
			evs = append(evs, h.Event(i))
		}
		v.Events = append(v.Events, evs)
	}
	for k := range keys + 1 {
		o, ok := h.LookupOrder(fmt.Sprint("o", k))
		s := "none"
		if ok {
			s = fmt.Sprint(h.OrderCustomer(o), " ", orderString(h, o))
		}
		v.Lookups = append(v.Lookups, s)
	}
	cat := h.Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		v.Buyers = append(v.Buyers, h.Buyers(p).ToArray())
	}
	for k := range affinity.CategoryID(cat.NumCategories()) {
		v.CategoryCounts = append(v.CategoryCounts, h.CategoryBuyerCount(k))
		v.CategoryBuyers = append(v.CategoryBuyers, h.CategoryBuyers(k).ToArray())
	}
	v.AllBuyers = h.AllBuyers().ToArray()
	v.Summary, v.Latest = h.Summary(), h.Latest()
	_ = h.MemoryUsage() // reads the category bitmaps when built
	return v
}

// TestConcurrentBuildsOnOneBase builds five changes on one base at once
// (run it with -race), while two readers read the base — orders, lines,
// events, key lookups, buyer and category bitmaps, the summary — from
// before the first build to after the last, their first lookups and
// category bitmaps racing the builds' own use of the base's key index.
// Exactly one of the five may append to the base's room: each change
// touches orders and events of the base's customers, so that the one
// that appends shows holes, and every change passes the layout policy.
// Then, at once, a History is built on each of the five, two goroutines
// read each of them (the first calls of CategoryBuyers, built lazily on
// a History built on a base, and of LookupOrder, whose index is derived
// from the base's or built), and one more History is built on the base,
// whose room is taken. Every History must equal the one built by copying
// its base, and none may change: the base, and the five after the
// Histories built on them (by their layout, read without the lazily
// built parts). In odd seeds three more builds on the base run in
// phase one with contexts that cancel them at one of their checks; a
// cancelled build releases the room it claimed, so at most one appends
// then.
func TestConcurrentBuildsOnOneBase(t *testing.T) {
	const builders = 5
	for seed := range uint64(testdata.Scale(12, 2)) {
		r := rand.New(rand.NewPCG(seed, 72))
		g := newLayoutGen(r)
		base, baseRef := roomyPair(t, g, 200)
		require.False(t, appended(base))
		g.plain = true // within the base's span: the policy lets every change append
		// each change joins an order of a base customer and adds an event of
		// one with events
		var joins []affinity.Purchase
		for o := range base.Orders() {
			if c := base.OrderCustomer(o); c != affinity.NoCustomer && base.OrderKey(o) != "" {
				joins = append(joins, affinity.Purchase{Customer: base.CustomerKey(c), Order: base.OrderKey(o)})
			}
		}
		var watchers []string
		for c := range affinity.CustomerID(base.NumCustomers()) {
			if lo, hi := base.CustomerEvents(c); hi > lo {
				watchers = append(watchers, base.CustomerKey(c))
			}
		}
		require.NotEmpty(t, joins)
		require.NotEmpty(t, watchers)
		change := func() []layoutOp {
			j := joins[r.IntN(len(joins))]
			p := g.line(j.Customer, j.Order)
			e := affinity.Event{Customer: watchers[r.IntN(len(watchers))], Product: g.product(), Time: g.when(), Kind: affinity.Rating, Weight: 4}
			ops := []layoutOp{{rec: record{purchase: &p}}, {rec: record{event: &e}}}
			for _, op := range g.ops(4) {
				if op.feed == nil || op.feed.erase == "" { // an erasure may leave a quarter of the lines in holes
					ops = append(ops, op)
				}
			}
			return ops
		}
		var first, second [builders][]layoutOp
		var want1, want2 [builders]*affinity.History
		for i := range builders {
			first[i], second[i] = change(), g.ops(6)
			want1[i] = mustBuildOps(t, baseRef, first[i], true)
			want2[i] = mustBuildOps(t, want1[i], second[i], true)
		}
		third := g.ops(6)
		want3 := mustBuildOps(t, baseRef, third, true)
		cancelled := make([][]layoutOp, 0, 3)
		if seed%2 == 1 {
			for range 3 {
				cancelled = append(cancelled, change())
			}
		}
		keys := g.keys
		wantBase := readOf(baseRef, keys)
		baseLayout := layoutOf(base)

		stop := make(chan struct{})
		var readers sync.WaitGroup
		baseReads := make([]int, 2)
		baseBad := make([]bool, 2)
		for i := range baseReads {
			readers.Go(func() {
				for {
					baseBad[i] = baseBad[i] || !reflect.DeepEqual(wantBase, readOf(base, keys))
					baseReads[i]++
					select {
					case <-stop:
						return
					default:
					}
				}
			})
		}

		// phase 1: five builds on the base (and the cancelled ones)
		var h1 [builders]*affinity.History
		var err1 [builders]error
		cancelErr := make([]error, len(cancelled))
		cancelH := make([]*affinity.History, len(cancelled))
		var wg sync.WaitGroup
		for i := range builders {
			wg.Go(func() { h1[i], err1[i] = buildOpsErr(context.Background(), base, first[i]) })
		}
		for i := range cancelled {
			k := r.IntN(8)
			wg.Go(func() { cancelH[i], cancelErr[i] = buildOpsErr(newCountdownCtx(k), base, cancelled[i]) })
		}
		wg.Wait()
		nAppended := 0
		var layouts [builders]rawLayout
		for i := range builders {
			require.NoError(t, err1[i], "seed %d: builder %d", seed, i)
			if appended(h1[i]) {
				nAppended++
			}
			layouts[i] = layoutOf(h1[i])
		}
		for i, err := range cancelErr {
			if err != nil {
				require.ErrorIs(t, err, context.Canceled, "seed %d: cancelled builder %d", seed, i)
				require.Nil(t, cancelH[i])
				continue
			}
			if appended(cancelH[i]) {
				nAppended++
			}
			require.Equal(t, viewHistory(mustBuildOps(t, baseRef, cancelled[i], true)), viewHistory(cancelH[i]), "seed %d: cancelled builder %d got through", seed, i)
		}
		if len(cancelled) == 0 {
			require.Equal(t, 1, nAppended, "seed %d: Histories appended to the base's room", seed)
		} else {
			require.LessOrEqual(t, nAppended, 1, "seed %d: Histories appended to the base's room", seed)
		}

		// phase 2: a History on each, first reads of each, one more on the base
		var h2 [builders]*affinity.History
		var err2 [builders]error
		var reads [builders][2]readView
		var h3 *affinity.History
		var err3 error
		for i := range builders {
			wg.Go(func() { h2[i], err2[i] = buildOpsErr(context.Background(), h1[i], second[i]) })
			for j := range 2 {
				wg.Go(func() { reads[i][j] = readOf(h1[i], keys) })
			}
		}
		wg.Go(func() { h3, err3 = buildOpsErr(context.Background(), base, third) })
		wg.Wait()
		close(stop)
		readers.Wait()

		for i := range builders {
			what := fmt.Sprintf("seed %d: builder %d", seed, i)
			require.NoError(t, err2[i], what)
			checkInvariants(t, h1[i])
			checkInvariants(t, h2[i])
			want := readOf(want1[i], keys)
			assert.Equal(t, want, reads[i][0], "%s: first reads", what)
			assert.Equal(t, want, reads[i][1], "%s: first reads", what)
			assert.Equal(t, viewHistory(want1[i]), viewHistory(h1[i]), what)
			assert.Equal(t, viewHistory(want2[i]), viewHistory(h2[i]), "%s: on it", what)
			assert.Equal(t, layouts[i], layoutOf(h1[i]), "%s: changed since its build", what)
		}
		require.NoError(t, err3)
		// the room is taken when a build of phase 1 appended to it; with
		// none (a cancelled build held it while the five tried, then let
		// it go) the one more build on the base takes it
		assert.Equal(t, nAppended == 0, appended(h3), "seed %d: the one more build on the base appended (phase 1 appended %d)", seed, nAppended)
		assert.Equal(t, viewHistory(want3), viewHistory(h3), "seed %d: one more on the base", seed)
		for i, bad := range baseBad {
			assert.False(t, bad, "seed %d: reader %d of the base saw another History", seed, i)
			assert.Positive(t, baseReads[i])
		}
		assert.Equal(t, baseLayout, layoutOf(base), "seed %d: the base changed", seed)
		assert.Equal(t, wantBase, readOf(base, keys), "seed %d: the base changed", seed)
	}
}

// TestCancelledBuildReleasesRoom cancels a build on a base with room at
// each of its checks of ctx in turn, the later ones after it claimed the
// room: the base must read as before, the next build on the base must
// append (the room released), equal the History built by copying, and
// stay as it is when a third build on the base writes everything anew.
// Changes with orders, with events only (whose build checks ctx once,
// before the claim) and with the catalog moving a product to another
// category (whose build indexes every buyer anew) each have their own
// checks.
func TestCancelledBuildReleasesRoom(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks int // at least
		change func(g *layoutGen, base *affinity.History) []layoutOp
	}{
		{"orders and events", 3, func(g *layoutGen, base *affinity.History) []layoutOp {
			c := base.CustomerKey(base.OrderCustomer(0))
			p := g.line(c, base.OrderKey(0))
			return append([]layoutOp{{rec: record{purchase: &p}}, g.eventOp()}, g.ops(5)...)
		}},
		{"events", 1, func(g *layoutGen, base *affinity.History) []layoutOp {
			var ops []layoutOp
			for c := range affinity.CustomerID(base.NumCustomers()) {
				if lo, hi := base.CustomerEvents(c); hi > lo {
					e := affinity.Event{Customer: base.CustomerKey(c), Product: "p1", Time: layoutT0, Kind: affinity.Wishlist, Weight: 1}
					ops = append(ops, layoutOp{rec: record{event: &e}})
					break
				}
			}
			return ops
		}},
		{"recategorised", 3, func(g *layoutGen, base *affinity.History) []layoutOp {
			c := base.CustomerKey(base.OrderCustomer(0))
			p := g.line(c, base.OrderKey(0))
			return []layoutOp{{rec: record{product: &affinity.Product{Key: "p0", Categories: []string{"D/moved"}}}}, {rec: record{purchase: &p}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup := func() (base, ref *affinity.History, ops, more []layoutOp) {
				g := newLayoutGen(rand.New(rand.NewPCG(5, 73)))
				base, ref = roomyPair(t, g, 120)
				g.plain = true
				ops = tc.change(g, base)
				return base, ref, ops, g.ops(5)
			}
			cancelled := 0
			for k := 0; ; k++ {
				require.Less(t, k, 1000, "Build never completed")
				base, ref, ops, more := setup()
				before := viewRaw(base)
				h, err := buildOps(t, newCountdownCtx(k), base, ops, false)
				if err == nil {
					require.True(t, appended(h), "appended")
					require.Equal(t, viewHistory(mustBuildOps(t, ref, ops, true)), viewHistory(h))
					require.GreaterOrEqual(t, k, tc.checks, "Build checks ctx only %d times", k)
					break
				}
				cancelled++
				require.ErrorIs(t, err, context.Canceled, "after %d checks", k)
				require.Nil(t, h)
				require.Equal(t, before, viewRaw(base), "after %d checks: the base changed", k)
				next := mustBuildOps(t, base, ops, false)
				require.True(t, appended(next), "after %d checks: the next build on the base appended", k)
				require.Equal(t, viewHistory(mustBuildOps(t, ref, ops, true)), viewHistory(next), "after %d checks", k)
				raw := viewRaw(next)
				third := mustBuildOps(t, base, more, false)
				requireDense(t, third, false)
				require.Equal(t, viewHistory(mustBuildOps(t, ref, more, true)), viewHistory(third), "after %d checks", k)
				require.Equal(t, raw, viewRaw(next), "after %d checks: the next build changed", k)
				require.Equal(t, before, viewRaw(base), "after %d checks: the base changed", k)
			}
			t.Logf("cancelled at %d checks", cancelled)
		})
	}
}

// TestAppendUntilRoomRunsOut appends to one chain until the room of a
// column runs out — the order ids' bytes (long ids), the lines (orders
// without ids, many lines each) or the events — and the policy writes
// that column anew, twice, each History equal to the one built by
// copying, every History of the chain unchanged at the end. Each change
// also joins an order of a customer of the base and adds one of its
// events, so that a History that appended orders or events shows holes
// there. Then the line room's edge: a base written anew with n lines
// has room for n/8 + 1,024 more (layout.go); a change of exactly that
// many lines appends, one more is written anew.
func TestAppendUntilRoomRunsOut(t *testing.T) {
	at := func(h int) time.Time { return layoutT0.Add(time.Duration(h) * time.Minute) }
	for _, tc := range []struct {
		name   string
		n      int  // calls a step
		events bool // the column that runs out: events, else orders or lines
		add    func(b *affinity.Builder, step, i int) error
	}{
		{"long order ids", 7, false, func(b *affinity.Builder, step, i int) error {
			key := fmt.Sprintf("%0100d", step*1000+i)
			return b.Add(affinity.Purchase{Customer: fmt.Sprint("n", step, "-", i%3), Product: "p1", Order: key, Time: at(step*1000 + i), Quantity: 1, Price: 10})
		}},
		{"no order ids", 350, false, func(b *affinity.Builder, step, i int) error {
			return b.Add(affinity.Purchase{Customer: fmt.Sprint("n", step, "-", i%3), Product: fmt.Sprint("p", i%5), Time: at(step*1000 + i/50), Quantity: 1, Price: 10})
		}},
		{"events", 350, true, func(b *affinity.Builder, step, i int) error {
			return b.AddEvent(affinity.Event{Customer: fmt.Sprint("n", step, "-", i%3), Product: "p2", Time: at(step*1000 + i), Kind: affinity.View, Weight: 1})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newLayoutGen(rand.New(rand.NewPCG(9, 74)))
			over, ref := roomyPair(t, g, 100)
			join := affinity.Purchase{Customer: over.CustomerKey(over.OrderCustomer(0)), Order: over.OrderKey(0), Product: "p3", Time: layoutT0, Quantity: 1, Price: 5}
			nodes := []layoutNode{{over: over, ref: ref, raw: viewRaw(over), name: "base"}}
			compactions, appends := 0, 0
			for step := 1; compactions < 2; step++ {
				require.Less(t, step, 30, "no compaction after %d appends", appends)
				build := func(base *affinity.History, mode int32) *affinity.History {
					defer affinity.SetBaseMode(affinity.SetBaseMode(mode))
					b := affinity.NewBuilder(base)
					for i := range tc.n {
						require.NoError(t, tc.add(b, step, i))
					}
					join.Time = layoutT0.Add(time.Duration(step) * time.Hour)
					require.NoError(t, b.Add(join))
					require.NoError(t, b.AddEvent(affinity.Event{Customer: join.Customer, Product: "p3", Time: join.Time, Kind: affinity.Cart, Weight: 1}))
					h, err := b.Build(context.Background())
					require.NoError(t, err)
					return h
				}
				p := nodes[len(nodes)-1]
				h, want := build(p.over, affinity.BaseOver), build(p.ref, affinity.BaseCopy)
				what := fmt.Sprintf("step %d", step)
				holes := affinity.HistoryHoleLines(h)
				if tc.events {
					holes = affinity.HistoryEventHoles(h)
				}
				if holes > 0 {
					appends++
				} else {
					compactions++
				}
				checkInvariants(t, h)
				require.Equal(t, viewHistory(want), viewHistory(h), what)
				nodes = append(nodes, layoutNode{over: h, ref: want, raw: viewRaw(h), name: what})
			}
			t.Logf("%d appends, %d compactions", appends, compactions)
			require.GreaterOrEqual(t, appends, 2)
			for _, n := range nodes {
				require.Equal(t, n.raw, viewRaw(n.over), "%s changed since its build", n.name)
			}
		})
	}
	t.Run("edge", func(t *testing.T) {
		for _, extra := range []int{0, 1} {
			g := newLayoutGen(rand.New(rand.NewPCG(10, 74)))
			g.plain = true
			base, ref := roomyPair(t, g, 100)
			requireDense(t, base, true)
			room := base.NumLines()/8 + 1024
			c := base.OrderCustomer(0)
			// the moved lines: those of c's orders, and the joining line
			lo, hi := base.CustomerLines(c)
			moved := hi - lo + 1
			ops := []layoutOp{{rec: record{purchase: &affinity.Purchase{Customer: base.CustomerKey(c), Order: base.OrderKey(0), Product: "p0", Time: layoutT0, Quantity: 1, Price: 1}}}}
			for i := range room - moved + extra {
				ops = append(ops, layoutOp{rec: record{purchase: &affinity.Purchase{Customer: "big", Order: "big", Product: fmt.Sprint("p", i%3), Time: layoutT0, Quantity: 1, Price: 1}}})
			}
			h := mustBuildOps(t, base, ops, false)
			assert.Equal(t, extra == 0, appended(h), "%d lines more than the room", extra)
			checkInvariants(t, h)
			require.Equal(t, viewHistory(mustBuildOps(t, ref, ops, true)), viewHistory(h), "%d lines more than the room", extra)
		}
	})
}

// TestAppendAtOriginEdges adds an order at the edges of the 32-bit span
// of times a base written anew stores its orders in (HistoryBaseUnix(base)
// … + 2^32 − 1 seconds, around its orders): on the edges it appends,
// one second beyond it writes everything anew with another origin. The
// bases lie in 1975 (whose span's upper edge is a valid time) and in
// 2090 (whose lower edge is). Each History must equal the one built by
// copying, store its times from at or before its first order, leave its
// base as it was, and take one more order at the far end of the valid
// times on top of it.
func TestAppendAtOriginEdges(t *testing.T) {
	cases := 0
	for _, year := range []int{1975, 2090} {
		base := func() (over, ref *affinity.History) {
			g := newLayoutGen(rand.New(rand.NewPCG(11, 75)))
			g.plain = true
			ops := g.baseOps(60)
			for _, op := range ops {
				if p := op.rec.purchase; p != nil {
					p.Time = p.Time.AddDate(year-2024, 0, 0)
				}
				if e := op.rec.event; e != nil {
					e.Time = e.Time.AddDate(year-2024, 0, 0)
				}
			}
			h0 := mustBuildOps(t, nil, ops[:30], false)
			over = mustBuildOps(t, h0, ops[30:], false)
			ref = mustBuildOps(t, h0, ops[30:], true)
			requireDense(t, over, true)
			return over, ref
		}
		probe, _ := base()
		origin := affinity.HistoryBaseUnix(probe)
		for _, tc := range []struct {
			unix   int64
			append bool
		}{
			{origin - 1, false}, {origin, true}, {origin + 1, true},
			{origin + math.MaxUint32 - 1, true}, {origin + math.MaxUint32, true}, {origin + math.MaxUint32 + 1, false},
		} {
			if tc.unix < affinity.MinUnix || tc.unix > affinity.MaxUnix {
				continue
			}
			what := fmt.Sprintf("base in %d, order at origin%+d", year, tc.unix-origin)
			cases++
			over, ref := base()
			before := viewRaw(over)
			c := over.OrderCustomer(0)
			ops := []layoutOp{{rec: record{purchase: &affinity.Purchase{Customer: over.CustomerKey(c), Order: "edge", Product: "p1",
				Time: time.Unix(tc.unix, 0), Quantity: 2, Price: 30}}}}
			h := mustBuildOps(t, over, ops, false)
			want := mustBuildOps(t, ref, ops, true)
			assert.Equal(t, tc.append, appended(h), what)
			checkInvariants(t, h)
			require.Equal(t, viewHistory(want), viewHistory(h), what)
			require.LessOrEqual(t, affinity.HistoryBaseUnix(h), h.Summary().First.Unix(), what)
			o, ok := h.LookupOrder("edge")
			require.True(t, ok, what)
			require.Equal(t, tc.unix, h.OrderUnix(o), what)
			require.Equal(t, before, viewRaw(over), "%s: the base changed", what)
			// the far end on top
			far := int64(affinity.MinUnix)
			if tc.unix < 2_000_000_000 {
				far = affinity.MaxUnix
			}
			more := []layoutOp{{rec: record{purchase: &affinity.Purchase{Customer: "far", Product: "p2", Time: time.Unix(far, 0), Quantity: 1, Price: 1}}}}
			raw := viewRaw(h)
			h2 := mustBuildOps(t, h, more, false)
			checkInvariants(t, h2)
			require.Equal(t, viewHistory(mustBuildOps(t, want, more, true)), viewHistory(h2), "%s, then at %d", what, far)
			require.Equal(t, raw, viewRaw(h), "%s: changed", what)
		}
	}
	require.Equal(t, 6, cases, "edges within the valid times")
}
