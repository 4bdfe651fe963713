package affinity_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file checks what a History built incrementally (NewBuilder on a
// base, NewCatalogBuilder on a catalog) derives and reports against the
// History built from scratch from the same final orders, events and
// catalog, using only what the package documentation promises: catalog
// and shares, buyer sets and category counts (asked for before the
// bitmaps, which a refreshed History builds lazily), Summary, Latest,
// ChangedSince, MemoryUsage, rebuilding from Purchases and Events, and
// Lookback arithmetic.

var linT0 = time.Date(2024, 2, 27, 9, 0, 0, 0, time.UTC)

var linPaths = []string{"A", "A/B", "A/B/C", "A/D", "E", "E/F", "G/H"}

// linOrder is one surviving order of the model.
type linOrder struct {
	cust  string
	lines []affinity.Purchase
}

// linWorld is the naive final state: surviving orders by key, events,
// product descriptions and every category node ever created.
type linWorld struct {
	orders    map[string]linOrder
	events    []affinity.Event
	desc      map[string]affinity.Product
	nodes     map[string]bool
	mentioned map[string]bool // products named by a record that got ids: ever in the catalog
	maybe     map[string]bool // products named only by a surviving put of a customer erased with it
}

func linCloneWorld(w *linWorld) *linWorld {
	return &linWorld{orders: maps.Clone(w.orders), events: slices.Clone(w.events), desc: maps.Clone(w.desc),
		nodes: maps.Clone(w.nodes), mentioned: maps.Clone(w.mentioned), maybe: maps.Clone(w.maybe)}
}

func newLinWorld() *linWorld {
	return &linWorld{orders: map[string]linOrder{}, desc: map[string]affinity.Product{},
		nodes: map[string]bool{}, mentioned: map[string]bool{}, maybe: map[string]bool{}}
}

func (w *linWorld) addNode(path string) {
	levels := strings.Split(affinity.CleanCategoryPath(path), "/")
	for i := range levels {
		w.nodes[strings.Join(levels[:i+1], "/")] = true
	}
}

// linGen is one generation of calls on one Builder and what it touches.
type linGen struct {
	calls []func(b *affinity.Builder) error
	desc  []string
	// catIDs are the ids AddCategory returned, by path
	catIDs map[string]affinity.CategoryID
}

// linStep draws one generation of calls, applies them to the model and
// returns them with the customer keys and order keys they name.
type linTouch struct {
	custs     map[string]bool // customers of puts and events, erased ones
	keys      map[string]bool // order keys put or deleted
	anonymous bool            // an anonymous put
}

type linRand struct {
	r   *rand.Rand
	ver int64
	nC  int
	nP  int
	nK  int
	// catalogOnly draws only product descriptions and categories
	catalogOnly bool
}

func (g *linRand) cust() string {
	if g.r.IntN(8) == 0 {
		return ""
	}
	return fmt.Sprintf("c%d", g.r.IntN(g.nC))
}

func (g *linRand) when() time.Time {
	return linT0.Add(time.Duration(g.r.IntN(96)) * time.Hour)
}

func (g *linRand) step(w *linWorld, n int) (linGen, linTouch) {
	r := g.r
	gen := linGen{catIDs: map[string]affinity.CategoryID{}}
	touch := linTouch{custs: map[string]bool{}, keys: map[string]bool{}}
	erased := map[string]bool{}
	var evs []affinity.Event
	for range n {
		k := r.IntN(20)
		if g.catalogOnly {
			k = 15 + r.IntN(4)
		}
		switch {
		case k < 9: // put
			key := fmt.Sprintf("k%d", r.IntN(g.nK))
			c := g.cust()
			at := g.when()
			lines := make([]affinity.Purchase, 1+r.IntN(3))
			for i := range lines {
				q := int32(1 + r.IntN(3))
				if r.IntN(5) == 0 {
					q = -q
				}
				lines[i] = affinity.Purchase{Customer: c, Product: fmt.Sprintf("p%d", r.IntN(g.nP)), Order: key,
					Time: at.Add(time.Duration(r.IntN(3)) * time.Minute), Quantity: q, Price: affinity.Money(r.IntN(5) * 2500)}
			}
			g.ver++
			v := g.ver
			w.orders[key] = linOrder{cust: c, lines: lines}
			touch.keys[key] = true
			if c == "" {
				touch.anonymous = true
			} else {
				touch.custs[c] = true
			}
			gen.calls = append(gen.calls, func(b *affinity.Builder) error { return b.PutOrder(key, v, lines) })
			gen.desc = append(gen.desc, fmt.Sprintf("Put(%s,v%d,%s,%d lines)", key, v, c, len(lines)))
		case k < 11: // delete
			key := fmt.Sprintf("k%d", r.IntN(g.nK))
			g.ver++
			v := g.ver
			delete(w.orders, key)
			touch.keys[key] = true
			gen.calls = append(gen.calls, func(b *affinity.Builder) error { return b.DeleteOrder(key, v) })
			gen.desc = append(gen.desc, fmt.Sprintf("Delete(%s,v%d)", key, v))
		case k < 15: // event
			e := affinity.Event{Customer: fmt.Sprintf("c%d", r.IntN(g.nC)), Product: fmt.Sprintf("p%d", r.IntN(g.nP)),
				Time: g.when(), Kind: affinity.EventKind(1 + r.IntN(4)), Weight: float32(1 + r.IntN(3))}
			w.mentioned[e.Product] = true
			evs = append(evs, e)
			touch.custs[e.Customer] = true
			gen.calls = append(gen.calls, func(b *affinity.Builder) error { return b.AddEvent(e) })
			gen.desc = append(gen.desc, fmt.Sprintf("Event(%s,%s)", e.Customer, e.Product))
		case k < 18: // describe a product
			p := affinity.Product{Key: fmt.Sprintf("p%d", r.IntN(g.nP)), Name: fmt.Sprintf("n%d", r.IntN(4)),
				Price: affinity.Money(r.IntN(4) * 100), InStock: r.IntN(2) == 0}
			for range r.IntN(3) {
				p.Categories = append(p.Categories, linPaths[r.IntN(len(linPaths))])
			}
			for _, c := range p.Categories {
				w.addNode(c)
			}
			w.desc[p.Key] = p
			w.mentioned[p.Key] = true
			gen.calls = append(gen.calls, func(b *affinity.Builder) error { return b.AddProduct(p) })
			gen.desc = append(gen.desc, fmt.Sprintf("AddProduct(%s,%v)", p.Key, p.Categories))
		case k < 19: // a category node without a product
			path := fmt.Sprintf("X%d/%s", r.IntN(2), []string{"B", "D", "Y", "C"}[r.IntN(4)])
			w.addNode(path)
			ids := gen.catIDs
			gen.calls = append(gen.calls, func(b *affinity.Builder) error {
				id, err := b.AddCategory(path)
				if prior, ok := ids[path]; ok && prior != id {
					return fmt.Errorf("AddCategory(%s) = %d, earlier %d", path, id, prior)
				}
				ids[path] = id
				return err
			})
			gen.desc = append(gen.desc, fmt.Sprintf("AddCategory(%s)", path))
		default: // erase
			c := fmt.Sprintf("c%d", r.IntN(g.nC+1))
			erased[c] = true
			touch.custs[c] = true
			gen.calls = append(gen.calls, func(b *affinity.Builder) error { b.EraseCustomer(c); return nil })
			gen.desc = append(gen.desc, fmt.Sprintf("Erase(%s)", c))
		}
	}
	w.events = append(w.events, evs...)
	// products first met in a put get ids only if the put survives
	for key := range touch.keys {
		if o, ok := w.orders[key]; ok {
			for _, l := range o.lines {
				if erased[o.cust] {
					w.maybe[l.Product] = true
				} else {
					w.mentioned[l.Product] = true
				}
			}
		}
	}
	// an erasure drops everything of the customer, whenever staged
	for key, o := range w.orders {
		if erased[o.cust] {
			delete(w.orders, key)
		}
	}
	w.events = slices.DeleteFunc(w.events, func(e affinity.Event) bool { return erased[e.Customer] })
	return gen, touch
}

// linScratch builds the History of w from nothing: category nodes, the
// final descriptions, every surviving order and event.
func linScratch(t testing.TB, w *linWorld) *affinity.History {
	t.Helper()
	var b affinity.Builder
	nodes := make([]string, 0, len(w.nodes))
	for n := range w.nodes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		_, err := b.AddCategory(n)
		require.NoError(t, err)
	}
	keys := make([]string, 0, len(w.desc))
	for k := range w.desc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		require.NoError(t, b.AddProduct(w.desc[k]))
	}
	keys = keys[:0]
	for k := range w.mentioned {
		if _, ok := w.desc[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		// a product known only from purchases or events counts as in stock
		require.NoError(t, b.AddProduct(affinity.Product{Key: k, InStock: true}))
	}
	keys = keys[:0]
	for k := range w.orders {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		require.NoError(t, b.PutOrder(k, 1, w.orders[k].lines))
	}
	for _, e := range w.events {
		require.NoError(t, b.AddEvent(e))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// linView is a History by shop keys, so that Histories with other ids
// compare.
type linView struct {
	Orders      map[string][]string // customer key ("-": anonymous) -> orders in time order
	Events      map[string][]string // customer key -> events, sorted
	Buyers      map[string][]string // product key -> customer keys
	CatBuyers   map[string][]string // category path -> customer keys
	CatCounts   map[string]int      // category path -> CategoryBuyerCount
	Shares      map[string][]string // product key -> "path=weight"
	Products    map[string]affinity.Product
	Nodes       []string
	Tree        map[string]string // category path -> short name, depth, parent, children, top level
	AllBuyers   []string
	FirstLast   map[string]string // customer key -> first and last purchase
	Summary     affinity.Summary  // Customers and Products zeroed
	Latest      time.Time
	OrderValues map[string]affinity.Money // order key -> value
}

func linSortedKeys(h *affinity.History, ids []uint32) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, h.CustomerKey(affinity.CustomerID(id)))
	}
	slices.Sort(out)
	return out
}

// linViewOf takes the view of h; it asks for every category's buyer count
// before any category's buyer bitmap.
func linViewOf(h *affinity.History, products map[string]bool) linView {
	cat := h.Catalog()
	v := linView{Orders: map[string][]string{}, Events: map[string][]string{}, Buyers: map[string][]string{},
		CatBuyers: map[string][]string{}, CatCounts: map[string]int{}, Shares: map[string][]string{},
		Products: map[string]affinity.Product{}, Tree: map[string]string{}, FirstLast: map[string]string{}, OrderValues: map[string]affinity.Money{}}
	for k := range cat.NumCategories() {
		c := affinity.CategoryID(k)
		v.CatCounts[cat.CategoryPath(c)] = h.CategoryBuyerCount(c)
	}
	for k := range cat.NumCategories() {
		c := affinity.CategoryID(k)
		v.Nodes = append(v.Nodes, cat.CategoryPath(c))
		parent := "-"
		if pc := cat.Parent(c); pc != affinity.NoCategory {
			parent = cat.CategoryPath(pc)
		}
		var kids []string
		for _, k := range cat.Children(c) {
			kids = append(kids, cat.CategoryPath(k))
		}
		slices.Sort(kids)
		v.Tree[cat.CategoryPath(c)] = fmt.Sprintf("%s %s %d %s %v %s", cat.ShortName(c), cat.CategoryName(c), cat.Depth(c), parent, kids,
			cat.CategoryPath(cat.Ancestor(c, 1)))
		v.CatBuyers[cat.CategoryPath(c)] = linSortedKeys(h, h.CategoryBuyers(c).ToArray())
	}
	slices.Sort(v.Nodes)
	var roots []string
	for _, c := range cat.Roots() {
		roots = append(roots, cat.CategoryPath(c))
	}
	slices.Sort(roots)
	v.Tree["<roots>"] = fmt.Sprint(roots)
	for k := range cat.NumProducts() {
		p := affinity.ProductID(k)
		key := cat.ProductKey(p)
		if products != nil && !products[key] {
			continue
		}
		d := cat.Product(p)
		if len(d.Categories) == 0 {
			d.Categories = nil
		}
		v.Products[key] = d
		v.Buyers[key] = linSortedKeys(h, h.Buyers(p).ToArray())
		var sh []string
		for _, s := range cat.Shares(p) {
			sh = append(sh, fmt.Sprintf("%s=%.4f", cat.CategoryPath(s.Category), s.Weight))
		}
		slices.Sort(sh)
		v.Shares[key] = sh
	}
	orderString := func(o affinity.OrderID) string {
		lo, hi := h.OrderLines(o)
		var ls []string
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			ls = append(ls, fmt.Sprintf("%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price))
		}
		v.OrderValues[h.OrderKey(o)] = h.OrderValue(o)
		return fmt.Sprintf("%s@%d%v", h.OrderKey(o), h.OrderUnix(o)-linT0.Unix(), ls)
	}
	for k := range h.NumCustomers() {
		c := affinity.CustomerID(k)
		key := h.CustomerKey(c)
		lo, hi := h.CustomerOrders(c)
		var os []string
		llo, lhi := h.CustomerLines(c)
		next := llo
		for o := lo; o < hi; o++ {
			os = append(os, orderString(o))
			olo, ohi := h.OrderLines(o)
			if olo != next {
				os = append(os, "!lines of the orders are not one range with CustomerLines")
			}
			next = ohi
			if h.OrderCustomer(o) != c {
				os = append(os, "!OrderCustomer")
			}
			if o > lo && (h.OrderUnix(o) < h.OrderUnix(o-1) || h.OrderUnix(o) == h.OrderUnix(o-1) && h.OrderKey(o) < h.OrderKey(o-1)) {
				os = append(os, "!orders not in time order, ties by shop order id")
			}
		}
		if next != lhi {
			os = append(os, "!CustomerLines ends elsewhere")
		}
		elo, ehi := h.CustomerEvents(c)
		var es []string
		for i := elo; i < ehi; i++ {
			e := h.Event(i)
			es = append(es, fmt.Sprintf("%s@%d:%v:%v", cat.ProductKey(e.Product), e.Unix-linT0.Unix(), e.Kind, e.Weight))
			if i > elo && e.Unix < h.Event(i-1).Unix {
				es = append(es, "!events out of time order")
			}
		}
		if len(os) == 0 && len(es) == 0 {
			continue
		}
		slices.Sort(es)
		v.Orders[key], v.Events[key] = os, es
		ft, fok := h.FirstPurchase(c)
		lt, lok := h.LastPurchase(c)
		v.FirstLast[key] = fmt.Sprint(ft.Unix(), fok, lt.Unix(), lok)
	}
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		v.Orders["-"] = append(v.Orders["-"], orderString(o))
		if h.OrderCustomer(o) != affinity.NoCustomer {
			v.Orders["-"] = append(v.Orders["-"], "!OrderCustomer of an anonymous order")
		}
		if o > lo && h.OrderUnix(o) < h.OrderUnix(o-1) {
			v.Orders["-"] = append(v.Orders["-"], "!anonymous orders not in time order")
		}
	}
	v.AllBuyers = linSortedKeys(h, h.AllBuyers().ToArray())
	v.Summary = h.Summary()
	v.Summary.Customers, v.Summary.Products = 0, 0
	v.Latest = h.Latest()
	return v
}

// linCustomerView is one customer's orders and events, by id-free
// strings, for the Changes contract.
func linCustomerView(h *affinity.History, c affinity.CustomerID) string {
	cat := h.Catalog()
	var sb strings.Builder
	sb.WriteString(h.CustomerKey(c))
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		fmt.Fprintf(&sb, "|%s@%d", h.OrderKey(o), h.OrderUnix(o))
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			l := h.Line(i)
			fmt.Fprintf(&sb, ",%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price)
		}
	}
	elo, ehi := h.CustomerEvents(c)
	for i := elo; i < ehi; i++ {
		e := h.Event(i)
		fmt.Fprintf(&sb, "|e%s@%d:%v:%v", cat.ProductKey(e.Product), e.Unix, e.Kind, e.Weight)
	}
	return sb.String()
}

func linAnonView(h *affinity.History) []string {
	cat := h.Catalog()
	var out []string
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		s := fmt.Sprintf("%s@%d", h.OrderKey(o), h.OrderUnix(o))
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			l := h.Line(i)
			s += fmt.Sprintf(",%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price)
		}
		out = append(out, s)
	}
	return out
}

// linOwners maps every order key of h to its customer key ("" for an
// anonymous one).
func linOwners(h *affinity.History) map[string]string {
	out := map[string]string{}
	for o := range h.Orders() {
		c := h.OrderCustomer(o)
		if c == affinity.NoCustomer {
			out[h.OrderKey(o)] = ""
		} else {
			out[h.OrderKey(o)] = h.CustomerKey(c)
		}
	}
	return out
}

// linModes are the ways a Builder on a base builds (knobs of
// export_test.go); each must give the same History.
var linModes = []struct {
	name         string
	base, layout int32
	lineage      bool // whether ChangedSince is checked
}{
	{"auto", affinity.BaseAuto, affinity.LayoutAuto, true},
	{"over-append", affinity.BaseOver, affinity.LayoutAppend, true},
	{"over-compact", affinity.BaseOver, affinity.LayoutCompact, true},
	{"copy", affinity.BaseCopy, affinity.LayoutAuto, false},
}

// linApply runs gen on a Builder from prev and builds.
func linApply(t *testing.T, prev *affinity.History, gen linGen, what string) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(prev)
	b.Workers = len(gen.calls) % 4 // the result never depends on it
	for i, call := range gen.calls {
		require.NoError(t, call(b), "%s call %d %s", what, i, gen.desc[i])
	}
	h := linBuild(t, b)
	for path, id := range gen.catIDs {
		got, ok := h.Catalog().LookupCategory(path)
		require.True(t, ok && got == id, "%s: AddCategory(%s) returned %d, the History has %d, %v", what, path, id, got, ok)
	}
	return h
}

// linCheckOrders checks LookupOrder of every key against the model.
func linCheckOrders(t *testing.T, h *affinity.History, w *linWorld, nK int, what string) {
	t.Helper()
	for k := range nK + 1 {
		key := fmt.Sprintf("k%d", k)
		o, ok := h.LookupOrder(key)
		want, has := w.orders[key]
		require.Equal(t, has, ok, "%s: LookupOrder(%s) found", what, key)
		if !ok {
			continue
		}
		require.Equal(t, key, h.OrderKey(o), "%s: LookupOrder(%s)", what, key)
		got := ""
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			got = h.CustomerKey(c)
		}
		require.Equal(t, want.cust, got, "%s: LookupOrder(%s) customer", what, key)
	}
}

// TestLinGenerationsMatchScratch runs chains of Builders over random calls
// (puts, deletes, events, product descriptions, bare categories,
// erasures) and checks each History against the one built from scratch
// from the same final state, the Changes each reports against its base
// (sound and precise: a customer no call named is not listed), the
// orders LookupOrder finds, and the rebuild from Purchases and Events the
// docs describe. Some chains read only their last History, so that the
// lazily built category bitmaps and order index of the Histories between
// are never built; some build a sibling on each base first.
func TestLinGenerationsMatchScratch(t *testing.T) {
	for _, mode := range linModes {
		wb, wl := affinity.SetBaseMode(mode.base), affinity.SetLayoutMode(mode.layout)
		ok := t.Run(mode.name, func(t *testing.T) {
			for seed := range uint64(linSeeds) {
				linGenerations(t, seed, mode.lineage)
				if t.Failed() {
					return
				}
			}
		})
		affinity.SetBaseMode(wb)
		affinity.SetLayoutMode(wl)
		if !ok {
			return
		}
	}
}

// linSeeds: 30 random chains in each mode, 10 in the quick suite (each
// chain takes several generations through every kind of call).
var linSeeds, linScale = testdata.Scale(30, 10), 1

func linGenerations(t *testing.T, seed uint64, lineage bool) {
	r := rand.New(rand.NewPCG(seed, 0x11a))
	g := &linRand{r: r, nC: 2 + r.IntN(6*linScale), nP: 2 + r.IntN(6*linScale), nK: 2 + r.IntN(10*linScale)}
	lazy := seed%3 == 1
	siblings := seed%4 == 2
	w := newLinWorld()
	var h *affinity.History
	var fromCatalog *affinity.Catalog // the chain starts with NewCatalogBuilder(fromCatalog)
	var catSnap string
	var catHistory *affinity.History
	if seed%5 == 3 {
		g.catalogOnly = true
		cgen, _ := g.step(w, 1+r.IntN(8))
		g.catalogOnly = false
		catHistory = linApply(t, nil, cgen, "catalog")
		fromCatalog = catHistory.Catalog()
		catSnap = linCatalogSnapshot(fromCatalog)
	}
	nGen := 1 + r.IntN(6)
	for gi := range nGen {
		prev := h
		what := fmt.Sprintf("seed %d gen %d", seed, gi)
		if prev == nil && fromCatalog != nil {
			gen, _ := g.step(w, r.IntN(14))
			b := affinity.NewCatalogBuilder(fromCatalog)
			for i, call := range gen.calls {
				require.NoError(t, call(b), "%s call %d %s", what, i, gen.desc[i])
			}
			h = linBuild(t, b)
			what = fmt.Sprintf("%s from catalog %v", what, gen.desc)
			require.Equal(t, linViewOf(linScratch(t, w), w.mentioned), linViewOf(h, w.mentioned), what)
			linCheckOrders(t, h, w, g.nK, what)
			require.Equal(t, catSnap, linCatalogSnapshot(fromCatalog), "%s: catalog modified", what)
			for k := range fromCatalog.NumProducts() {
				require.Equal(t, fromCatalog.ProductKey(affinity.ProductID(k)), h.Catalog().ProductKey(affinity.ProductID(k)), what)
			}
			for k := range fromCatalog.NumCategories() {
				require.Equal(t, fromCatalog.CategoryPath(affinity.CategoryID(k)), h.Catalog().CategoryPath(affinity.CategoryID(k)), what)
			}
			_, ok := h.ChangedSince(catHistory)
			require.False(t, ok, "%s: a History from a catalog is no successor of the catalog's History", what)
			continue
		}
		var sib *affinity.History
		if siblings && prev != nil {
			sw := linCloneWorld(w)
			sgen, _ := g.step(sw, r.IntN(10))
			sh := linApply(t, prev, sgen, what+" sibling")
			linCheckOrders(t, sh, sw, g.nK, fmt.Sprintf("%s sibling %v", what, sgen.desc))
			require.Equal(t, linViewOf(linScratch(t, sw), sw.mentioned), linViewOf(sh, sw.mentioned), "%s sibling %v", what, sgen.desc)
			sib = sh
		}
		gen, touch := g.step(w, r.IntN(14*linScale))
		var prevOwners map[string]string
		if prev != nil {
			prevOwners = linOwners(prev)
		}
		h = linApply(t, prev, gen, what)
		what = fmt.Sprintf("%s %v", what, gen.desc)
		if sib != nil && sib != prev && h != prev {
			_, ok := sib.ChangedSince(h)
			assert.False(t, ok, "%s: a sibling is no successor of the other", what)
			_, ok = h.ChangedSince(sib)
			assert.False(t, ok, "%s: nor the other way round", what)
		}
		for p := range w.mentioned {
			_, ok := h.Catalog().LookupProduct(p)
			require.True(t, ok, "%s: product %s lost", what, p)
		}
		for k := range h.Catalog().NumProducts() {
			p := h.Catalog().ProductKey(affinity.ProductID(k))
			assert.True(t, w.mentioned[p] || w.maybe[p], "%s: product %s only in superseded puts got an id", what, p)
		}
		if !lazy || gi == nGen-1 {
			// against the History built from scratch
			require.Equal(t, linViewOf(linScratch(t, w), w.mentioned), linViewOf(h, w.mentioned), what)
			linCheckOrders(t, h, w, g.nK, what)
		}
		if prev == nil || !lineage {
			continue
		}
		// Changes against the base
		ch, ok := h.ChangedSince(prev)
		require.True(t, ok, "%s: ChangedSince(base)", what)
		require.True(t, slices.IsSorted(ch.Customers), "%s: ascending", what)
		require.Equal(t, len(ch.Customers), len(slices.Compact(slices.Clone(ch.Customers))), "%s: duplicates", what)
		named := map[string]bool{}
		anon := touch.anonymous
		for c := range touch.custs {
			named[c] = true
		}
		for k := range touch.keys {
			if owner, had := prevOwners[k]; had {
				if owner == "" {
					anon = true
				} else {
					named[owner] = true
				}
			}
		}
		listed := map[affinity.CustomerID]bool{}
		for _, c := range ch.Customers {
			listed[c] = true
			require.Less(t, int(c), h.NumCustomers(), what)
			if int(c) >= prev.NumCustomers() {
				continue
			}
			key := prev.CustomerKey(c)
			assert.True(t, named[key], "%s: customer %d (%q) listed, though no call named it", what, c, key)
		}
		for k := range h.NumCustomers() {
			c := affinity.CustomerID(k)
			if k >= prev.NumCustomers() {
				assert.True(t, listed[c], "%s: new customer %d not listed", what, c)
			} else if !listed[c] {
				assert.Equal(t, linCustomerView(prev, c), linCustomerView(h, c), "%s: unlisted customer %d changed", what, c)
			}
		}
		if ch.Anonymous {
			assert.True(t, anon, "%s: Anonymous set, though no call touched an anonymous order", what)
		} else {
			assert.Equal(t, linAnonView(prev), linAnonView(h), "%s: anonymous orders changed unreported", what)
		}
	}
	if fromCatalog != nil {
		require.Equal(t, catSnap, linCatalogSnapshot(fromCatalog), "seed %d: catalog modified by the chain", seed)
	}
	if h != nil && !t.Failed() {
		linCheckRebuild(t, h, fmt.Sprintf("seed %d", seed))
	}
}

// linCheckRebuild feeds the catalog (nodes, then products, in id order),
// Purchases and Events of h to an empty Builder: the docs promise the
// same orders, lines, summary and buyer sets, the same catalog ids, and
// the same customer ids when every customer has an order.
func linCheckRebuild(t *testing.T, h *affinity.History, what string) {
	t.Helper()
	cat := h.Catalog()
	var b affinity.Builder
	for k := range cat.NumCategories() {
		id, err := b.AddCategory(cat.CategoryPath(affinity.CategoryID(k)))
		require.NoError(t, err)
		require.Equal(t, affinity.CategoryID(k), id, "%s: category id", what)
	}
	for k := range cat.NumProducts() {
		require.NoError(t, b.AddProduct(cat.Product(affinity.ProductID(k))))
	}
	for p := range h.Purchases() {
		require.NoError(t, b.Add(p), "%s: %+v", what, p)
	}
	for e := range h.Events() {
		require.NoError(t, b.AddEvent(e), "%s: %+v", what, e)
	}
	re, err := b.Build(context.Background())
	require.NoError(t, err)
	_, ok := re.ChangedSince(h)
	assert.False(t, ok, "%s: a rebuilt History is no successor", what)
	_, ok = h.ChangedSince(re)
	assert.False(t, ok, "%s: nor a base", what)
	// the iterators visit everything once, in the documented order
	n, prevC, prevT := 0, -1, int64(0)
	for e := range h.Events() {
		n++
		c, ok := h.LookupCustomer(e.Customer)
		require.True(t, ok, what)
		require.GreaterOrEqual(t, int(c), prevC, "%s: Events by customer id", what)
		if int(c) == prevC {
			require.GreaterOrEqual(t, e.Time.Unix(), prevT, "%s: Events in time order", what)
		}
		prevC, prevT = int(c), e.Time.Unix()
	}
	require.Equal(t, h.NumEvents(), n, "%s: Events()", what)
	n = 0
	for range h.Purchases() {
		n++
	}
	require.Equal(t, h.NumLines(), n, "%s: Purchases()", what)
	n = 0
	seen := map[affinity.OrderID]bool{}
	for o := range h.Orders() {
		n++
		require.Less(t, int(o), h.NumOrderIDs(), what)
		require.False(t, seen[o], "%s: order %d visited twice", what, o)
		seen[o] = true
	}
	require.Equal(t, h.NumOrders(), n, "%s: Orders()", what)
	require.Equal(t, linViewOf(h, nil), linViewOf(re, nil), "%s: rebuilt from Purchases", what)
	rc := re.Catalog()
	require.Equal(t, cat.NumProducts(), rc.NumProducts(), what)
	for k := range cat.NumProducts() {
		p := affinity.ProductID(k)
		require.Equal(t, cat.ProductKey(p), rc.ProductKey(p), "%s: product id %d", what, k)
		require.Equal(t, cat.Shares(p), rc.Shares(p), "%s: shares of %d", what, k)
	}
	everyHasOrder := true
	_ = ok
	for k := range h.NumCustomers() {
		lo, hi := h.CustomerOrders(affinity.CustomerID(k))
		everyHasOrder = everyHasOrder && lo < hi
	}
	if !everyHasOrder {
		return
	}
	require.Equal(t, h.NumCustomers(), re.NumCustomers(), what)
	for k := range cat.NumProducts() {
		p := affinity.ProductID(k)
		require.Equal(t, h.Buyers(p).ToArray(), re.Buyers(p).ToArray(), "%s: Buyers(%d) by id", what, k)
	}
	for k := range cat.NumCategories() {
		c := affinity.CategoryID(k)
		require.Equal(t, h.CategoryBuyers(c).ToArray(), re.CategoryBuyers(c).ToArray(), "%s: CategoryBuyers(%d) by id", what, k)
	}
}

// linBase builds a small History: two customers and an anonymous till,
// products with categories.
func linBase(t *testing.T) *affinity.History {
	t.Helper()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "shoe", Name: "Shoe", Categories: []string{"Apparel/Shoes", "Sport/Running"}, InStock: true}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "cap", Categories: []string{"Apparel/Hats"}, InStock: true}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "ball", Categories: []string{"Sport"}}))
	line := func(c, p, o string, h int, q int32) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: p, Order: o, Time: linT0.Add(time.Duration(h) * time.Hour), Quantity: q, Price: 10_000}
	}
	require.NoError(t, b.PutOrder("o1", 1, []affinity.Purchase{line("ann", "shoe", "o1", 1, 1), line("ann", "cap", "o1", 1, 2)}))
	require.NoError(t, b.PutOrder("o2", 1, []affinity.Purchase{line("bob", "ball", "o2", 2, 1)}))
	require.NoError(t, b.PutOrder("o3", 1, []affinity.Purchase{line("", "cap", "o3", 3, 1)}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "cyd", Product: "shoe", Time: linT0.Add(4 * time.Hour), Kind: affinity.View, Weight: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

func linBuild(t *testing.T, b *affinity.Builder) *affinity.History {
	t.Helper()
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// linCatalogSnapshot is everything a Catalog tells, for immutability
// checks.
func linCatalogSnapshot(c *affinity.Catalog) string {
	var sb strings.Builder
	for k := range c.NumProducts() {
		p := affinity.ProductID(k)
		fmt.Fprintf(&sb, "%+v %v|", c.Product(p), c.Shares(p))
	}
	for k := range c.NumCategories() {
		cat := affinity.CategoryID(k)
		fmt.Fprintf(&sb, "%s %v %d|", c.CategoryPath(cat), c.Children(cat), c.Parent(cat))
	}
	fmt.Fprint(&sb, c.Roots())
	return sb.String()
}

// TestLinCatalogOnlyChanges: a Builder on a base whose only calls change
// the catalog (a bare category, a new product, a product described anew)
// builds a History that has the change, leaves the base's catalog as it
// was, lists no customer in its Changes, and whose category buyer counts,
// asked for first, follow a product moved to other categories.
func TestLinCatalogOnlyChanges(t *testing.T) {
	base := linBase(t)
	snap := linCatalogSnapshot(base.Catalog())
	cases := []struct {
		name  string
		call  func(b *affinity.Builder) error
		check func(t *testing.T, h *affinity.History)
	}{
		{"AddCategory", func(b *affinity.Builder) error { _, err := b.AddCategory("Garden/Tools"); return err },
			func(t *testing.T, h *affinity.History) {
				id, ok := h.Catalog().LookupCategory("Garden/Tools")
				require.True(t, ok, "new category lost")
				assert.Equal(t, 0, h.CategoryBuyerCount(id))
				assert.Equal(t, base.Catalog().NumCategories()+2, h.Catalog().NumCategories())
			}},
		{"new product", func(b *affinity.Builder) error {
			return b.AddProduct(affinity.Product{Key: "tent", Categories: []string{"Garden/Camping"}, InStock: true})
		}, func(t *testing.T, h *affinity.History) {
			p, ok := h.Catalog().LookupProduct("tent")
			require.True(t, ok, "new product lost")
			assert.True(t, h.Buyers(p).IsEmpty())
			assert.Equal(t, base.Catalog().NumProducts()+1, h.Summary().Products)
		}},
		{"recategorised", func(b *affinity.Builder) error {
			return b.AddProduct(affinity.Product{Key: "ball", Categories: []string{"Apparel/Hats"}})
		}, func(t *testing.T, h *affinity.History) {
			cat := h.Catalog()
			hats, _ := cat.LookupCategory("Apparel/Hats")
			sport, _ := cat.LookupCategory("Sport")
			apparel, _ := cat.LookupCategory("Apparel")
			// counts first: a refreshed History builds the bitmaps lazily
			assert.Equal(t, 2, h.CategoryBuyerCount(hats), "Hats: ann (cap) and bob (ball)")
			assert.Equal(t, 1, h.CategoryBuyerCount(sport), "Sport: ann (shoe) only")
			assert.Equal(t, 2, h.CategoryBuyerCount(apparel))
			assert.Equal(t, 2, int(h.CategoryBuyers(hats).GetCardinality()))
			assert.Equal(t, 1, int(h.CategoryBuyers(sport).GetCardinality()))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := affinity.NewBuilder(base)
			require.NoError(t, tc.call(b))
			h := linBuild(t, b)
			tc.check(t, h)
			assert.Equal(t, snap, linCatalogSnapshot(base.Catalog()), "base catalog modified")
			ch, ok := h.ChangedSince(base)
			require.True(t, ok)
			assert.Empty(t, ch.Customers)
			assert.False(t, ch.Anonymous)
			assert.Equal(t, linCustomerView(base, 0), linCustomerView(h, 0))
			s0, s1 := base.Summary(), h.Summary()
			s0.Products, s0.Categories, s1.Products, s1.Categories = 0, 0, 0, 0
			assert.Equal(t, s0, s1)
			assert.Equal(t, base.Latest(), h.Latest())
		})
	}
}

// TestLinCatalogBuilder: NewCatalogBuilder shares the catalog until a
// product is added or described anew (or, by the same token, a category
// node is added) and never modifies it; a History built from it keeps the
// catalog's ids, is no successor of the History the catalog came from,
// and runs of customers built apart on one catalog add up to one build.
func TestLinCatalogBuilder(t *testing.T) {
	base := linBase(t)
	c := base.Catalog()
	snap := linCatalogSnapshot(c)
	line := func(cust, p, o string, h int, q int32) affinity.Purchase {
		return affinity.Purchase{Customer: cust, Product: p, Order: o, Time: linT0.Add(time.Duration(h) * time.Hour), Quantity: q, Price: 5_000}
	}

	t.Run("empty", func(t *testing.T) {
		h := linBuild(t, affinity.NewCatalogBuilder(c))
		assert.Same(t, c, h.Catalog())
		s := h.Summary()
		assert.Equal(t, affinity.Summary{Products: c.NumProducts(), Categories: c.NumCategories()}, s)
		assert.True(t, h.Latest().IsZero())
		for k := range c.NumCategories() {
			assert.Equal(t, 0, h.CategoryBuyerCount(affinity.CategoryID(k)))
		}
	})
	t.Run("known products", func(t *testing.T) {
		b := affinity.NewCatalogBuilder(c)
		require.NoError(t, b.Add(line("zed", "ball", "z1", 5, 1)))
		require.NoError(t, b.AddEvent(affinity.Event{Customer: "zed", Product: "cap", Time: linT0, Kind: affinity.Cart, Weight: 1}))
		h := linBuild(t, b)
		assert.Same(t, c, h.Catalog(), "no product added or described: the catalog is c")
		_, ok := h.ChangedSince(base)
		assert.False(t, ok, "built from a catalog, not from base")
		assert.Equal(t, 1, h.NumCustomers())
		sport, _ := c.LookupCategory("Sport")
		assert.Equal(t, 1, h.CategoryBuyerCount(sport))
		// a successor of it keeps lineage
		b2 := affinity.NewBuilder(h)
		require.NoError(t, b2.Add(line("yan", "shoe", "y1", 6, 1)))
		h2 := linBuild(t, b2)
		ch, ok := h2.ChangedSince(h)
		require.True(t, ok)
		assert.Equal(t, []affinity.CustomerID{1}, ch.Customers)
	})
	for _, tc := range []struct {
		name string
		call func(b *affinity.Builder) error
		find func(c *affinity.Catalog) bool
	}{
		{"AddCategory", func(b *affinity.Builder) error { _, err := b.AddCategory("Apparel/Socks"); return err },
			func(c *affinity.Catalog) bool { _, ok := c.LookupCategory("Apparel/Socks"); return ok }},
		{"AddProduct new", func(b *affinity.Builder) error {
			return b.AddProduct(affinity.Product{Key: "sock", Categories: []string{"Apparel/Socks"}})
		}, func(c *affinity.Catalog) bool { _, ok := c.LookupProduct("sock"); return ok }},
		{"AddProduct anew", func(b *affinity.Builder) error {
			return b.AddProduct(affinity.Product{Key: "cap", Name: "Cap", Categories: []string{"Apparel/Socks"}})
		}, func(c *affinity.Catalog) bool { p, _ := c.LookupProduct("cap"); return c.ProductName(p) == "Cap" }},
		{"purchase of a new product", func(b *affinity.Builder) error { return b.Add(line("zed", "sock", "z1", 5, 1)) },
			func(c *affinity.Catalog) bool { _, ok := c.LookupProduct("sock"); return ok }},
		{"event of a new product", func(b *affinity.Builder) error {
			return b.AddEvent(affinity.Event{Customer: "zed", Product: "sock", Time: linT0, Kind: affinity.View, Weight: 1})
		}, func(c *affinity.Catalog) bool { _, ok := c.LookupProduct("sock"); return ok }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := affinity.NewCatalogBuilder(c)
			require.NoError(t, tc.call(b))
			h := linBuild(t, b)
			assert.True(t, tc.find(h.Catalog()), "change lost")
			assert.Equal(t, snap, linCatalogSnapshot(c), "NewCatalogBuilder modified its catalog")
			assert.False(t, tc.find(c))
			// ids of c kept
			for k := range c.NumProducts() {
				assert.Equal(t, c.ProductKey(affinity.ProductID(k)), h.Catalog().ProductKey(affinity.ProductID(k)))
			}
			for k := range c.NumCategories() {
				assert.Equal(t, c.CategoryPath(affinity.CategoryID(k)), h.Catalog().CategoryPath(affinity.CategoryID(k)))
			}
		})
	}

	t.Run("parts", func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 7))
		prods := []string{"shoe", "cap", "ball"}
		var all []affinity.Purchase
		for i := range 60 {
			cust := fmt.Sprintf("u%d", r.IntN(12))
			q := int32(1 + r.IntN(2))
			if r.IntN(5) == 0 {
				q = -q
			}
			all = append(all, line(cust, prods[r.IntN(3)], fmt.Sprintf("x%d", i/2), r.IntN(50), q))
		}
		part := func(keep func(cust string) bool) *affinity.History {
			b := affinity.NewCatalogBuilder(c)
			for _, p := range all {
				if keep(p.Customer) {
					require.NoError(t, b.Add(p))
				}
			}
			h := linBuild(t, b)
			assert.Same(t, c, h.Catalog())
			return h
		}
		even := func(s string) bool { return (s[len(s)-1]-'0')%2 == 0 }
		full := part(func(string) bool { return true })
		a := part(even)
		bb := part(func(s string) bool { return !even(s) })
		sa, sb, sf := a.Summary(), bb.Summary(), full.Summary()
		assert.Equal(t, sf.Orders, sa.Orders+sb.Orders)
		assert.Equal(t, sf.Lines, sa.Lines+sb.Lines)
		assert.Equal(t, sf.Buyers, sa.Buyers+sb.Buyers)
		assert.Equal(t, sf.Revenue, sa.Revenue+sb.Revenue)
		assert.Equal(t, sf.Returns, sa.Returns+sb.Returns)
		for k := range c.NumProducts() {
			p := affinity.ProductID(k)
			u := append(linSortedKeys(a, a.Buyers(p).ToArray()), linSortedKeys(bb, bb.Buyers(p).ToArray())...)
			slices.Sort(u)
			assert.Equal(t, linSortedKeys(full, full.Buyers(p).ToArray()), u, "Buyers(%s)", c.ProductKey(p))
		}
		for k := range c.NumCategories() {
			cat := affinity.CategoryID(k)
			assert.Equal(t, full.CategoryBuyerCount(cat), a.CategoryBuyerCount(cat)+bb.CategoryBuyerCount(cat), "%s", c.CategoryPath(cat))
		}
	})
}

// TestLinChangesPrecise: the Changes of hand-made refreshes name exactly
// the customers whose orders or events differ.
func TestLinChangesPrecise(t *testing.T) {
	base := linBase(t)
	id := func(h *affinity.History, k string) affinity.CustomerID {
		c, ok := h.LookupCustomer(k)
		require.True(t, ok, k)
		return c
	}
	ann, bob, cyd := id(base, "ann"), id(base, "bob"), id(base, "cyd")
	line := func(c, p, o string, h int) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: p, Order: o, Time: linT0.Add(time.Duration(h) * time.Hour), Quantity: 1, Price: 100}
	}
	cases := []struct {
		name string
		do   func(b *affinity.Builder)
		want []affinity.CustomerID
		anon bool
	}{
		{"event", func(b *affinity.Builder) {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: "bob", Product: "cap", Time: linT0, Kind: affinity.View, Weight: 1}))
		}, []affinity.CustomerID{bob}, false},
		{"delete unknown key", func(b *affinity.Builder) { require.NoError(t, b.DeleteOrder("nope", 9)) }, nil, false},
		{"erase unknown", func(b *affinity.Builder) { b.EraseCustomer("nobody") }, nil, false},
		{"erase events-only customer", func(b *affinity.Builder) { b.EraseCustomer("cyd") }, []affinity.CustomerID{cyd}, false},
		{"move order to another customer", func(b *affinity.Builder) {
			require.NoError(t, b.PutOrder("o2", 2, []affinity.Purchase{line("ann", "ball", "o2", 2)}))
		}, []affinity.CustomerID{ann, bob}, false},
		{"anonymous order to a customer", func(b *affinity.Builder) {
			require.NoError(t, b.PutOrder("o3", 2, []affinity.Purchase{line("cyd", "cap", "o3", 3)}))
		}, []affinity.CustomerID{cyd}, true},
		{"new anonymous order", func(b *affinity.Builder) {
			require.NoError(t, b.PutOrder("o9", 2, []affinity.Purchase{line("", "cap", "o9", 9)}))
		}, nil, true},
		{"new customer", func(b *affinity.Builder) { require.NoError(t, b.Add(line("dee", "cap", "o8", 8))) }, []affinity.CustomerID{3}, false},
		{"put then delete in one builder", func(b *affinity.Builder) {
			require.NoError(t, b.PutOrder("o7", 1, []affinity.Purchase{line("bob", "cap", "o7", 7)}))
			require.NoError(t, b.DeleteOrder("o7", 2))
		}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := affinity.NewBuilder(base)
			tc.do(b)
			h := linBuild(t, b)
			ch, ok := h.ChangedSince(base)
			require.True(t, ok)
			for _, c := range ch.Customers {
				assert.Contains(t, tc.want, c, "customer %d listed but unchanged: %q", c, linCustomerView(h, c))
			}
			for _, c := range tc.want {
				if int(c) < base.NumCustomers() && linCustomerView(base, c) == linCustomerView(h, c) {
					continue
				}
				assert.Contains(t, ch.Customers, c, "changed customer %d not listed", c)
			}
			assert.Equal(t, tc.anon, ch.Anonymous, "Anonymous")
		})
	}
}

// TestLinLargeChangeThreshold: a change of at least 65,536 lines and
// events, and half the size of the base, is built by sorting everything
// and keeps no lineage; the threshold counts events as well as lines.
// Puts, deletes, erasures and a product described anew in the same
// change are applied as on the incremental path, and the next small
// change keeps its lineage again.
func TestLinLargeChangeThreshold(t *testing.T) {
	base := linBase(t) // 4 lines, 1 event
	ev := func(i int) affinity.Event {
		return affinity.Event{Customer: "v" + fmt.Sprint(i%97), Product: "shoe", Time: linT0.Add(time.Duration(i) * time.Second),
			Kind: affinity.View, Weight: 1}
	}
	pu := func(i int) affinity.Purchase {
		return affinity.Purchase{Customer: "w" + fmt.Sprint(i%89), Product: "cap", Order: "big" + fmt.Sprint(i/4),
			Time: linT0.Add(time.Duration(i) * time.Second), Quantity: 1, Price: 100}
	}
	for _, tc := range []struct {
		name          string
		events, lines int
	}{
		{"events", 65_536, 0},
		{"lines and events", 32_768, 32_768},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := affinity.NewBuilder(base)
			for i := range tc.events {
				if err := b.AddEvent(ev(i)); err != nil {
					require.NoError(t, err)
				}
			}
			for i := range tc.lines {
				if err := b.Add(pu(i)); err != nil {
					require.NoError(t, err)
				}
			}
			// and every other kind of change, applied by the same full sort
			require.NoError(t, b.PutOrder("o1", 2, []affinity.Purchase{{Customer: "ann", Product: "ball", Time: linT0.Add(time.Hour), Quantity: 1, Price: 100}}))
			require.NoError(t, b.DeleteOrder("o2", 2))
			b.EraseCustomer("cyd")
			require.NoError(t, b.AddProduct(affinity.Product{Key: "ball", Categories: []string{"Apparel/Hats"}}))
			h := linBuild(t, b)
			_, ok := h.ChangedSince(base)
			assert.False(t, ok, "a change of 65,536 lines and events on a base of 5 keeps no lineage")
			s := h.Summary()
			assert.Equal(t, tc.events, s.Events, "cyd's event erased")
			assert.Equal(t, 2+tc.lines, s.Lines)
			assert.Equal(t, 3+min(tc.events, 97)+min(tc.lines, 89), s.Customers, "ids are never reused")
			assert.Equal(t, 1+min(tc.lines, 89), s.Buyers)
			assert.Equal(t, linT0.Add(time.Duration(max(tc.events, tc.lines)-1)*time.Second).UTC(), h.Latest())
			_, ok = h.LookupCustomer("cyd")
			assert.False(t, ok, "erased")
			ann, _ := h.LookupCustomer("ann")
			bob, _ := h.LookupCustomer("bob")
			lo, hi := h.CustomerOrders(bob)
			assert.Equal(t, lo, hi, "bob's only order deleted")
			lo, hi = h.CustomerOrders(ann)
			require.Equal(t, 1, int(hi-lo))
			assert.Equal(t, affinity.Money(100), h.OrderValue(lo))
			cat := h.Catalog()
			capID, _ := cat.LookupProduct("cap")
			assert.Equal(t, min(tc.lines, 89), int(h.Buyers(capID).GetCardinality()), "ann's cap replaced")
			apparel, _ := cat.LookupCategory("Apparel")
			sport, _ := cat.LookupCategory("Sport")
			assert.Equal(t, 1+min(tc.lines, 89), h.CategoryBuyerCount(apparel), "ann's ball is a hat now")
			assert.Equal(t, 0, h.CategoryBuyerCount(sport))
			// and the next small change keeps its lineage again
			b2 := affinity.NewBuilder(h)
			require.NoError(t, b2.AddEvent(affinity.Event{Customer: "ann", Product: "cap", Time: linT0, Kind: affinity.Cart, Weight: 1}))
			h2 := linBuild(t, b2)
			ch2, ok := h2.ChangedSince(h)
			require.True(t, ok)
			assert.Equal(t, []affinity.CustomerID{ann}, ch2.Customers)
		})
	}
}

// TestLinConcurrentLazyReaders: a refreshed History builds its category
// bitmaps and its order index on first use; readers of it, of its base
// and of a sibling, racing on those first uses, all see the values the
// History built from scratch has.
func TestLinConcurrentLazyReaders(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	g := &linRand{r: r, nC: 6, nP: 5, nK: 12}
	w := newLinWorld()
	gen, _ := g.step(w, 30)
	b := affinity.NewBuilder(nil)
	for _, call := range gen.calls {
		require.NoError(t, call(b))
	}
	base := linBuild(t, b)
	w1, w2 := linCloneWorld(w), linCloneWorld(w) // siblings on base
	gen1, _ := g.step(w1, 12)
	gen2, _ := g.step(w2, 12)
	build := func(gen linGen) *affinity.History {
		b := affinity.NewBuilder(base)
		for _, call := range gen.calls {
			require.NoError(t, call(b))
		}
		return linBuild(t, b)
	}
	h1, h2 := build(gen1), build(gen2)
	type want struct {
		h      *affinity.History
		counts []int
		orders map[string]string
	}
	expect := func(h *affinity.History, w *linWorld) want {
		ref := linScratch(t, w)
		out := want{h: h, orders: map[string]string{}}
		for k := range h.Catalog().NumCategories() {
			path := h.Catalog().CategoryPath(affinity.CategoryID(k))
			id, ok := ref.Catalog().LookupCategory(path)
			require.True(t, ok)
			out.counts = append(out.counts, ref.CategoryBuyerCount(id))
		}
		for key, o := range w.orders {
			out.orders[key] = o.cust
		}
		return out
	}
	wants := []want{expect(base, w), expect(h1, w1), expect(h2, w2)}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 6 {
		wg.Go(func() {
			x := wants[i%3]
			h := x.h
			for k := range x.counts {
				c := affinity.CategoryID((k + i) % len(x.counts))
				if i%2 == 0 {
					if n := int(h.CategoryBuyers(c).GetCardinality()); n != x.counts[c] {
						errs <- fmt.Sprintf("history %d CategoryBuyers(%d) = %d, want %d", i%3, c, n, x.counts[c])
					}
				}
				if n := h.CategoryBuyerCount(c); n != x.counts[c] {
					errs <- fmt.Sprintf("history %d CategoryBuyerCount(%d) = %d, want %d", i%3, c, n, x.counts[c])
				}
			}
			_ = h.MemoryUsage()
			for k := range g.nK + 2 {
				key := fmt.Sprintf("k%d", k)
				o, ok := h.LookupOrder(key)
				cust, has := x.orders[key]
				if ok != has {
					errs <- fmt.Sprintf("history %d LookupOrder(%s) ok %v, want %v", i%3, key, ok, has)
					continue
				}
				if !ok {
					continue
				}
				got := ""
				if c := h.OrderCustomer(o); c != affinity.NoCustomer {
					got = h.CustomerKey(c)
				}
				if got != cust || h.OrderKey(o) != key {
					errs <- fmt.Sprintf("history %d LookupOrder(%s) = order %q of %q, want one of %q", i%3, key, h.OrderKey(o), got, cust)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestLinMemoryUsage: the estimate is a sum of non-negative parts, grows
// with the data, and a refreshed History's estimate is of the order of
// the one of the same History built from scratch.
func TestLinMemoryUsage(t *testing.T) {
	var empty affinity.Builder
	e := linBuild(t, &empty).MemoryUsage()
	assert.GreaterOrEqual(t, e.Columns, 0)
	assert.GreaterOrEqual(t, e.Bitmaps, 0)
	assert.GreaterOrEqual(t, e.IDs, 0)
	assert.Equal(t, e.Columns+e.Bitmaps+e.IDs, e.Total())

	r := rand.New(rand.NewPCG(5, 5))
	g := &linRand{r: r, nC: 40, nP: 30, nK: 400}
	w := newLinWorld()
	var h *affinity.History
	for range 4 {
		gen, _ := g.step(w, 120)
		b := affinity.NewBuilder(h)
		for _, call := range gen.calls {
			require.NoError(t, call(b))
		}
		h = linBuild(t, b)
	}
	ref := linScratch(t, w)
	for _, x := range []*affinity.History{h, ref} {
		m := x.MemoryUsage()
		assert.Equal(t, m.Columns+m.Bitmaps+m.IDs, m.Total())
		assert.Greater(t, m.Columns, e.Columns)
		assert.Greater(t, m.Bitmaps, e.Bitmaps)
		assert.Greater(t, m.IDs, e.IDs)
		// at least 12 bytes a line (product, quantity, price)
		assert.GreaterOrEqual(t, m.Columns, 12*x.NumLines())
	}
	mh, mr := h.MemoryUsage().Total(), ref.MemoryUsage().Total()
	assert.Less(t, mh, 4*mr, "refreshed %d vs scratch %d", mh, mr)
	assert.Less(t, mr, 4*mh, "refreshed %d vs scratch %d", mh, mr)
}

// TestLinLookbackCalendar: Start subtracts the calendar months first (the
// UTC calendar, AddDate normalising past month ends) and then the
// duration; Contains is the half-open window (Start, asOf].
func TestLinLookbackCalendar(t *testing.T) {
	d := func(y int, m time.Month, day, h int) time.Time { return time.Date(y, m, day, h, 0, 0, 0, time.UTC) }
	day := 24 * time.Hour
	cases := []struct {
		l    affinity.Lookback
		asOf time.Time
		want time.Time
	}{
		{affinity.Lookback{Months: 1, Duration: day}, d(2023, 3, 1, 0), d(2023, 1, 31, 0)},  // months first
		{affinity.Lookback{Months: 1, Duration: day}, d(2024, 3, 31, 0), d(2024, 2, 28, 0)}, // Feb 31 is Feb 29
		{affinity.Months(1), d(2024, 3, 29, 5), d(2024, 2, 29, 5)},
		{affinity.Months(1), d(2023, 3, 29, 5), d(2023, 2, 28, 5)},
		{affinity.Months(1), d(2024, 3, 30, 0), d(2024, 2, 29, 0)},
		{affinity.Months(48), d(2024, 2, 29, 0), d(2020, 2, 29, 0)},
		{affinity.Months(12), d(2025, 2, 28, 0), d(2024, 2, 28, 0)},
		{affinity.Months(13), d(2024, 1, 31, 0), d(2022, 12, 31, 0)},
		{affinity.Days(1), d(2024, 3, 1, 0), d(2024, 2, 29, 0)},
		{affinity.Months(24), d(2012, 3, 1, 0), d(2010, 3, 1, 0)}, // the doc's example
		{affinity.Days(730), d(2012, 3, 1, 0), d(2010, 3, 2, 0)},  // "where 730 days would not"
		{affinity.Days(365), d(2024, 3, 1, 0), d(2023, 3, 2, 0)},
		{affinity.Days(366), d(2024, 3, 1, 0), d(2023, 3, 1, 0)},
		{affinity.Months(12), d(2024, 3, 1, 0), d(2023, 3, 1, 0)},
		{affinity.Months(1), d(2024, 1, 1, 0), d(2023, 12, 1, 0)},
		{affinity.Lookback{Months: 2, Duration: 36 * time.Hour}, d(2024, 4, 30, 12), d(2024, 2, 28, 0)},
	}
	for _, c := range cases {
		s := c.l.Start(c.asOf)
		assert.True(t, c.want.Equal(s), "%v before %v: got %v want %v", c.l, c.asOf, s, c.want)
		assert.Equal(t, time.UTC, s.Location())
		assert.False(t, c.l.Contains(c.asOf, s), "start excluded")
		assert.True(t, c.l.Contains(c.asOf, s.Add(time.Second)))
		assert.True(t, c.l.Contains(c.asOf, c.asOf))
		assert.False(t, c.l.Contains(c.asOf, c.asOf.Add(time.Nanosecond)))
		// an instant in another zone is the same instant
		jst := time.FixedZone("JST", 9*3600)
		assert.True(t, c.l.Contains(c.asOf.In(jst), s.Add(time.Second).In(time.FixedZone("W", -5*3600))))
	}
	asOf := d(2024, 2, 29, 0)
	assert.True(t, affinity.AllTime.Contains(asOf, time.Unix(affinity.MinUnix, 0)))
	assert.False(t, affinity.AllTime.Contains(asOf, asOf.Add(time.Second)))
	// monotone: a longer look-back never starts later, month by month over leap years
	for m := range 60 {
		at := d(2023, 1, 31, 0).AddDate(0, 0, m*7)
		prev := at
		for k := range 30 {
			s := affinity.Months(k).Start(at)
			if k > 0 {
				require.True(t, s.Before(prev) || s.Equal(prev), "Months(%d) before %v: %v after Months(%d)'s %v", k, at, s, k-1, prev)
			}
			prev = s
		}
	}
}

// TestLinBuilderResetAfterBuild: Build resets the Builder to empty, base
// included, so a second Build from the same Builder holds only what was
// added since and is no successor of the base or of the first History.
func TestLinBuilderResetAfterBuild(t *testing.T) {
	base := linBase(t)
	line := func(c, o string, h int) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: "cap", Order: o, Time: linT0.Add(time.Duration(h) * time.Hour), Quantity: 1, Price: 100}
	}
	b := affinity.NewBuilder(base)
	assert.Equal(t, base.NumLines(), b.Len(), "Len counts the base's lines")
	require.NoError(t, b.PutOrder("p1", 1, []affinity.Purchase{line("ann", "p1", 9)}))
	assert.Equal(t, base.NumLines(), b.Len(), "a put counts from Build")
	require.NoError(t, b.Add(line("eve", "e1", 8)))
	assert.Equal(t, base.NumLines()+1, b.Len())
	h1 := linBuild(t, b)
	assert.Equal(t, base.NumLines()+2, h1.NumLines())
	assert.Equal(t, 0, b.Len(), "Builder empty after Build")

	require.NoError(t, b.Add(line("fay", "f1", 7)))
	h2 := linBuild(t, b)
	s := h2.Summary()
	assert.Equal(t, 1, s.Lines, "only what was added after the first Build")
	assert.Equal(t, 1, s.Customers)
	_, ok := h2.ChangedSince(base)
	assert.False(t, ok, "not built from base")
	_, ok = h2.ChangedSince(h1)
	assert.False(t, ok, "not built from h1")
	_, found := h2.LookupOrder("o1")
	assert.False(t, found, "base order o1 in a History built after the reset")

	// the same for a Builder started from a catalog
	cb := affinity.NewCatalogBuilder(base.Catalog())
	require.NoError(t, cb.Add(line("gus", "g1", 1)))
	linBuild(t, cb)
	require.NoError(t, cb.Add(line("hal", "h1", 1)))
	h3 := linBuild(t, cb)
	assert.Equal(t, 1, h3.Summary().Lines)
	assert.Equal(t, 1, h3.NumCustomers())
}

// TestLinHasProduct: HasProduct from a base or a catalog is true for a
// product added with AddProduct, whatever its entry holds (a bare one
// too), false for one known only from purchases or events.
func TestLinHasProduct(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "named", Name: "N"}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "priced", Price: 1}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "filed", Categories: []string{"A"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "bare", InStock: true}))
	assert.True(t, b.HasProduct("bare"), "added with AddProduct")
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "bought", Time: linT0, Quantity: 1, Price: 5}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "a", Product: "viewed", Time: linT0, Kind: affinity.View, Weight: 1}))
	base := linBuild(t, &b)
	for _, nb := range []*affinity.Builder{affinity.NewBuilder(base), affinity.NewCatalogBuilder(base.Catalog())} {
		for _, k := range []string{"named", "priced", "filed", "bare"} {
			assert.True(t, nb.HasProduct(k), k)
		}
		for _, k := range []string{"bought", "viewed", "unknown"} {
			assert.False(t, nb.HasProduct(k), k)
		}
	}
	// a History from the catalog keeps the entries as they were
	h := linBuild(t, affinity.NewCatalogBuilder(base.Catalog()))
	for _, k := range []string{"bought", "viewed"} {
		p, ok := h.Catalog().LookupProduct(k)
		require.True(t, ok)
		assert.Equal(t, affinity.Product{Key: k, InStock: true}, linNoCats(h.Catalog().Product(p)), "known only from records: in stock")
	}
}

func linNoCats(p affinity.Product) affinity.Product {
	if len(p.Categories) == 0 {
		p.Categories = nil
	}
	return p
}

// TestLinHalfSizeRule: a change of 65,536 events on a base of more than
// twice that size is less than half the base: it keeps its lineage.
func TestLinHalfSizeRule(t *testing.T) {
	const n = 65_536
	ev := func(i int) affinity.Event {
		return affinity.Event{Customer: "v" + fmt.Sprint(i%61), Product: "p" + fmt.Sprint(i%7), Time: linT0.Add(time.Duration(i) * time.Second),
			Kind: affinity.View, Weight: 1}
	}
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "p0", Time: linT0, Quantity: 1, Price: 5}))
	for i := range 2*n + 1 {
		if err := b.AddEvent(ev(i)); err != nil {
			require.NoError(t, err)
		}
	}
	base := linBuild(t, &b)
	nb := affinity.NewBuilder(base)
	for i := range n {
		if err := nb.AddEvent(ev(3*n + i)); err != nil {
			require.NoError(t, err)
		}
	}
	h := linBuild(t, nb)
	ch, ok := h.ChangedSince(base)
	require.True(t, ok, "65,536 events on a base of 131,074 lines and events: less than half")
	assert.Len(t, ch.Customers, 61)
	assert.Equal(t, 3*n+1, h.NumEvents())
	assert.Equal(t, linT0.Add(time.Duration(4*n-1)*time.Second), h.Latest())
}

// TestLinLookbackHugeDays: Days(n) beyond the longest time.Duration
// (106,751 days) saturates instead of wrapping round.
func TestLinLookbackHugeDays(t *testing.T) {
	asOf := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	longest := affinity.Days(106_751).Start(asOf) // the longest Duration holds 106,751 days
	for _, n := range []int{106_752, 1_000_000, 2_000_000, 1 << 40} {
		l := affinity.Days(n)
		assert.GreaterOrEqual(t, l.Duration, time.Duration(0), "Days(%d) is negative: %v", n, l.Duration)
		if l.Validate() == nil {
			// a longer look-back never starts later than a shorter one
			assert.False(t, l.Start(asOf).After(longest), "Days(%d) starts at %v, after Days(106751)'s %v", n, l.Start(asOf), longest)
		}
	}
}

// TestLinNoChangeReturnsBase: calls that change nothing (reads, Grow,
// refused calls, erasures and deletes of what the base lacks, a category
// it has) leave Build returning the base itself. (A delete of what the
// base lacks at a version other than 0 is kept as a tombstone, a change:
// see TestVersionsReplayCostsNothing.)
func TestLinNoChangeReturnsBase(t *testing.T) {
	base := linBase(t)
	bad := affinity.Purchase{Customer: "ann", Product: "cap", Time: linT0, Quantity: 0, Price: 1}
	for _, tc := range []struct {
		name string
		call func(b *affinity.Builder)
	}{
		{"nothing", func(b *affinity.Builder) {}},
		{"Len", func(b *affinity.Builder) { _ = b.Len() }},
		{"Check", func(b *affinity.Builder) { _ = b.Check(bad) }},
		{"CheckProduct", func(b *affinity.Builder) { _ = b.CheckProduct(affinity.Product{Key: "cap"}) }},
		{"HasProduct", func(b *affinity.Builder) { _ = b.HasProduct("cap") }},
		{"Grow", func(b *affinity.Builder) { b.Grow(10) }},
		{"EraseCustomer empty key", func(b *affinity.Builder) { b.EraseCustomer("") }},
		{"refused Add", func(b *affinity.Builder) { require.Error(t, b.Add(bad)) }},
		{"refused AddEvent", func(b *affinity.Builder) {
			require.Error(t, b.AddEvent(affinity.Event{Customer: "ann", Product: "cap", Time: linT0}))
		}},
		{"refused AddProduct", func(b *affinity.Builder) { require.Error(t, b.AddProduct(affinity.Product{})) }},
		{"refused PutOrder", func(b *affinity.Builder) { require.Error(t, b.PutOrder("o1", 5, []affinity.Purchase{bad})) }},
		{"EraseCustomer unknown key", func(b *affinity.Builder) { b.EraseCustomer("nobody") }},
		{"DeleteOrder unknown key", func(b *affinity.Builder) { require.NoError(t, b.DeleteOrder("no-such-order", 0)) }},
		{"AddCategory known path", func(b *affinity.Builder) {
			id, err := b.AddCategory(base.Catalog().CategoryPath(0))
			require.NoError(t, err)
			assert.Equal(t, affinity.CategoryID(0), id)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := affinity.NewBuilder(base)
			tc.call(b)
			h := linBuild(t, b)
			assert.Same(t, base, h, "nothing changed: Build returns base itself")
			ch, ok := h.ChangedSince(base)
			assert.True(t, ok)
			assert.Empty(t, ch.Customers)
			assert.False(t, ch.Anonymous)
			assert.Equal(t, base.Summary(), h.Summary())
		})
	}
}
