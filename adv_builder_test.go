package affinity_test

// Adversarial tests of the Builder's order semantics (Add, AddEvent,
// PutOrder, DeleteOrder, EraseCustomer, versions within and across
// Builds) and of the History it builds, against a naive model of the
// lines written from the documentation: maps and sorts, no columns.

import (
	"cmp"
	"context"
	"fmt"
	"maps"
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

// advT0 is the origin of the generated times.
var advT0 = time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)

// advOp is one Builder call.
type advOp struct {
	purchase *affinity.Purchase
	event    *affinity.Event
	product  *affinity.Product
	change   *affinity.OrderChange
	erase    string
}

func (op advOp) String() string {
	switch {
	case op.purchase != nil:
		return fmt.Sprintf("Add(%s,%s,%s,%d,%d,%d)", op.purchase.Customer, op.purchase.Product, op.purchase.Order,
			op.purchase.Time.Unix()-advT0.Unix(), op.purchase.Quantity, op.purchase.Price)
	case op.event != nil:
		return fmt.Sprintf("AddEvent(%s,%s,%d,%v)", op.event.Customer, op.event.Product, op.event.Time.Unix()-advT0.Unix(), op.event.Kind)
	case op.product != nil:
		return fmt.Sprintf("AddProduct(%+v)", *op.product)
	case op.change != nil:
		c := op.change
		if c.Delete || len(c.Lines) == 0 {
			return fmt.Sprintf("Delete(%s,v%d)", c.Key, c.Version)
		}
		var ls []string
		for _, p := range c.Lines {
			ls = append(ls, fmt.Sprintf("%s:%s:%d:%d", p.Customer, p.Product, p.Time.Unix()-advT0.Unix(), p.Quantity))
		}
		return fmt.Sprintf("Put(%s,v%d,%v)", c.Key, c.Version, ls)
	default:
		return fmt.Sprintf("Erase(%s)", op.erase)
	}
}

func (op advOp) apply(b *affinity.Builder) error {
	switch {
	case op.purchase != nil:
		return b.Add(*op.purchase)
	case op.event != nil:
		return b.AddEvent(*op.event)
	case op.product != nil:
		return b.AddProduct(*op.product)
	case op.change != nil:
		return b.Apply(*op.change)
	default:
		b.EraseCustomer(op.erase)
		return nil
	}
}

// advGen draws calls over small pools, so that keys, customers, times and
// versions collide.
type advGen struct {
	r                   *rand.Rand
	nCust, nProd, nKey  int
	nTime, nVer, pAnon  int
	allowEmptyOrderKeys bool
}

func newAdvGen(r *rand.Rand) *advGen {
	return &advGen{r: r, nCust: 1 + r.IntN(6), nProd: 1 + r.IntN(7), nKey: 1 + r.IntN(6),
		nTime: 1 + r.IntN(12), nVer: 1 + r.IntN(4), pAnon: 4 + r.IntN(8), allowEmptyOrderKeys: r.IntN(2) == 0}
}

func (g *advGen) when() time.Time {
	return advT0.Add(time.Duration(g.r.IntN(g.nTime)) * time.Hour)
}

func (g *advGen) cust() string {
	if g.r.IntN(g.pAnon) == 0 {
		return ""
	}
	return fmt.Sprintf("c%d", g.r.IntN(g.nCust))
}

func (g *advGen) prod() string { return fmt.Sprintf("p%d", g.r.IntN(g.nProd)) }
func (g *advGen) key() string  { return fmt.Sprintf("k%d", g.r.IntN(g.nKey)) }

func (g *advGen) line(c, order string) affinity.Purchase {
	q := int32(1 + g.r.IntN(3))
	if g.r.IntN(5) == 0 {
		q = -q
	}
	return affinity.Purchase{Customer: c, Product: g.prod(), Order: order, Time: g.when(), Quantity: q,
		Price: affinity.Money(g.r.IntN(4) * 12500)}
}

var advPaths = []string{"A", "A/B", "A/B/C", "A/D", "E", "E/F"}

func (g *advGen) op() advOp {
	r := g.r
	switch k := r.IntN(20); {
	case k < 7:
		order := g.key()
		if g.allowEmptyOrderKeys && r.IntN(3) == 0 {
			order = ""
		}
		p := g.line(g.cust(), order)
		return advOp{purchase: &p}
	case k < 9:
		e := affinity.Event{Customer: fmt.Sprintf("c%d", r.IntN(g.nCust)), Product: g.prod(), Time: g.when(),
			Kind: affinity.EventKind(1 + r.IntN(4)), Weight: float32(r.IntN(3))}
		return advOp{event: &e}
	case k < 10:
		p := affinity.Product{Key: g.prod(), Name: fmt.Sprintf("n%d", r.IntN(3)), Price: affinity.Money(r.IntN(3) * 100),
			InStock: r.IntN(2) == 0}
		for range r.IntN(3) {
			p.Categories = append(p.Categories, advPaths[r.IntN(len(advPaths))])
		}
		return advOp{product: &p}
	case k < 17:
		c := g.cust()
		lines := make([]affinity.Purchase, 1+r.IntN(3))
		for i := range lines {
			lines[i] = g.line(c, "")
		}
		return advOp{change: &affinity.OrderChange{Key: g.key(), Version: int64(r.IntN(g.nVer)), Lines: lines}}
	case k < 19:
		return advOp{change: &affinity.OrderChange{Key: g.key(), Version: int64(r.IntN(g.nVer)), Delete: true}}
	default:
		return advOp{erase: fmt.Sprintf("c%d", r.IntN(g.nCust+1))} // sometimes unknown
	}
}

// advLine is one line of the model, with the customer id (−1: anonymous),
// the order key it was stored with and the version of the put that
// stored it (0 for Add).
type advLine struct {
	cust  int
	key   string
	unix  int64
	prod  string
	qty   int32
	price affinity.Money
	ver   int64
}

type advEvent struct {
	cust   int
	prod   string
	unix   int64
	kind   affinity.EventKind
	weight float32
}

// advModel is the naive History: its id tables, its live lines and events
// in the order they were added, the catalog, and the tombstones of
// deleted order keys.
type advModel struct {
	custKeys []string // by id; "" once erased
	custID   map[string]int
	prodKeys []string
	prodID   map[string]int
	desc     map[string]affinity.Product
	nodes    map[string]bool
	lines    []advLine
	events   []advEvent
	tomb     map[string]int64
}

func newAdvModel() *advModel {
	return &advModel{custID: map[string]int{}, prodID: map[string]int{}, desc: map[string]affinity.Product{}, nodes: map[string]bool{},
		tomb: map[string]int64{}}
}

// keyVersion returns the version of the latest change of key the model
// holds, and whether it was a delete (see verState).
func (m *advModel) keyVersion(key string) (v int64, del, ok bool) {
	t, dead := m.tomb[key]
	return verState(verFirstVersions(m.lines, key, func(l advLine) (string, int, int64) { return l.key, l.cust, l.ver }), t, dead)
}

func (m *advModel) customer(k string) int {
	if k == "" {
		return -1
	}
	if id, ok := m.custID[k]; ok {
		return id
	}
	m.custID[k] = len(m.custKeys)
	m.custKeys = append(m.custKeys, k)
	return len(m.custKeys) - 1
}

func (m *advModel) product(k string) {
	if _, ok := m.prodID[k]; !ok {
		m.prodID[k] = len(m.prodKeys)
		m.prodKeys = append(m.prodKeys, k)
	}
}

// build applies one Builder's calls to the model as the documentation
// states them (Builder.Apply, Builder.EraseCustomer, AddProduct).
func (m *advModel) build(ops []advOp) {
	type staged struct {
		version int64
		del     bool
		lines   []affinity.Purchase
	}
	changes := map[string]staged{}
	erased := map[string]bool{}
	lines := slices.Clone(m.lines)
	events := slices.Clone(m.events)
	for _, op := range ops {
		switch {
		case op.purchase != nil:
			p := op.purchase
			c := m.customer(p.Customer)
			m.product(p.Product)
			lines = append(lines, advLine{c, p.Order, p.Time.Unix(), p.Product, p.Quantity, p.Price, 0})
		case op.event != nil:
			e := op.event
			c := m.customer(e.Customer)
			m.product(e.Product)
			events = append(events, advEvent{c, e.Product, e.Time.Unix(), e.Kind, e.Weight})
		case op.product != nil:
			p := *op.product
			m.product(p.Key)
			var cats []string
			for _, path := range p.Categories {
				clean := affinity.CleanCategoryPath(path)
				if clean == "" {
					continue
				}
				levels := strings.Split(clean, "/")
				for i := range levels {
					m.nodes[strings.Join(levels[:i+1], "/")] = true
				}
				if !slices.Contains(cats, clean) {
					cats = append(cats, clean)
				}
			}
			p.Categories = cats
			m.desc[p.Key] = p
		case op.change != nil:
			c := op.change
			del := c.Delete || len(c.Lines) == 0
			if old, ok := changes[c.Key]; ok && (c.Version < old.version || c.Version == old.version && old.del && !del) {
				continue
			}
			changes[c.Key] = staged{c.Version, del, c.Lines}
		default:
			erased[op.erase] = true
		}
	}
	// A change that loses to what the History holds of its key (a higher
	// version: at equal versions the later Build wins, put or delete) is
	// no change; the others set or clear the key's tombstone.
	for k, s := range changes {
		if v, _, ok := m.keyVersion(k); ok && s.version < v {
			delete(changes, k)
			continue
		}
		switch {
		case !s.del && erased[s.lines[0].Customer]: // an erasure is no versioned change
		case !s.del:
			delete(m.tomb, k)
		case s.version != 0:
			m.tomb[k] = s.version
		}
	}
	gone := map[int]bool{}
	for k := range erased {
		if id, ok := m.custID[k]; ok {
			gone[id] = true
			m.custKeys[id] = ""
			delete(m.custID, k)
		}
	}
	lines = slices.DeleteFunc(lines, func(l advLine) bool {
		_, changed := changes[l.key]
		return changed && l.key != "" || gone[l.cust]
	})
	events = slices.DeleteFunc(events, func(e advEvent) bool { return gone[e.cust] })
	keys := make([]string, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(changes[x].version, changes[y].version), strings.Compare(x, y))
	})
	for _, k := range keys {
		s := changes[k]
		if s.del || erased[s.lines[0].Customer] {
			continue
		}
		for _, p := range s.lines {
			c := m.customer(p.Customer)
			m.product(p.Product)
			lines = append(lines, advLine{c, k, p.Time.Unix(), p.Product, p.Quantity, p.Price, s.version})
		}
	}
	m.lines, m.events = lines, events
}

// advOrder is an order of the model.
type advOrder struct {
	cust   int
	key    string
	unix   int64
	lines  []string // product:qty:price, in the order added
	value  affinity.Money
	bought bool
	ver    int64
}

func (o advOrder) String() string {
	if o.ver != 0 {
		return fmt.Sprintf("c%d|%s|%d|%v|v%d", o.cust, o.key, o.unix-advT0.Unix(), o.lines, o.ver)
	}
	return fmt.Sprintf("c%d|%s|%d|%v", o.cust, o.key, o.unix-advT0.Unix(), o.lines)
}

// orders groups the lines: by (customer, order key), or (customer,
// second) without a key; an order's time is its earliest line's; a
// customer's orders in time order, ties by key. orders[len(custKeys)] are
// the anonymous ones.
func (m *advModel) orders() [][]advOrder {
	type id struct {
		cust int
		key  string
		unix int64
	}
	at := map[id]int{}
	var all []advOrder
	for _, l := range m.lines {
		k := id{cust: l.cust, key: l.key}
		if l.key == "" {
			k.unix = l.unix
		}
		i, ok := at[k]
		if !ok {
			i = len(all)
			at[k] = i
			all = append(all, advOrder{cust: l.cust, key: l.key, unix: l.unix, ver: l.ver})
		}
		o := &all[i]
		o.unix = min(o.unix, l.unix)
		o.lines = append(o.lines, fmt.Sprintf("%s:%d:%d", l.prod, l.qty, l.price))
		o.value += affinity.Money(l.qty) * l.price
		o.bought = o.bought || l.qty > 0
	}
	out := make([][]advOrder, len(m.custKeys)+1)
	for _, o := range all {
		k := o.cust
		if k < 0 {
			k = len(m.custKeys)
		}
		out[k] = append(out[k], o)
	}
	for _, os := range out {
		slices.SortFunc(os, func(a, b advOrder) int { return cmp.Or(cmp.Compare(a.unix, b.unix), strings.Compare(a.key, b.key)) })
	}
	return out
}

func advOrderOf(h *affinity.History, o affinity.OrderID, cust int) advOrder {
	x := advOrder{cust: cust, key: h.OrderKey(o), unix: h.OrderUnix(o), ver: h.OrderVersion(o)}
	lo, hi := h.OrderLines(o)
	for i := lo; i < hi; i++ {
		l := h.Line(i)
		x.lines = append(x.lines, fmt.Sprintf("%s:%d:%d", h.Catalog().ProductKey(l.Product), l.Quantity, l.Price))
		x.value += l.Value()
		x.bought = x.bought || l.Quantity > 0
	}
	return x
}

// check compares h with the model through the History's accessors.
func (m *advModel) check(t testing.TB, h *affinity.History, what string) {
	t.Helper()
	cat := h.Catalog()
	// ids
	requireEq(t, len(m.custKeys), h.NumCustomers(), "%s: NumCustomers", what)
	for c, k := range m.custKeys {
		requireEq(t, k, h.CustomerKey(affinity.CustomerID(c)), "%s: CustomerKey(%d)", what, c)
		if k != "" {
			id, ok := h.LookupCustomer(k)
			if !ok || int(id) != c {
				require.True(t, ok && int(id) == c, "%s: LookupCustomer(%q) = %d, %v; want %d", what, k, id, ok, c)
			}
		}
	}
	for c := range 8 {
		k := fmt.Sprintf("c%d", c)
		if _, live := m.custID[k]; !live {
			_, ok := h.LookupCustomer(k)
			require.False(t, ok, "%s: LookupCustomer(%q) of an erased or unknown customer", what, k)
		}
	}
	requireEq(t, m.prodKeys, advProductKeys(cat), "%s: product ids", what)
	nodes := make([]string, 0, len(m.nodes))
	for n := range m.nodes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	var gotNodes []string
	for k := range cat.NumCategories() {
		gotNodes = append(gotNodes, cat.CategoryPath(affinity.CategoryID(k)))
	}
	slices.Sort(gotNodes)
	requireEq(t, nilIfEmpty(nodes), nilIfEmpty(gotNodes), "%s: category nodes", what)
	for _, k := range m.prodKeys {
		p, ok := cat.LookupProduct(k)
		require.True(t, ok)
		want, described := m.desc[k]
		if !described {
			want = affinity.Product{Key: k, InStock: true}
		}
		got := cat.Product(p)
		assertEq(t, want.Key, got.Key, what)
		assertEq(t, want.Name, got.Name, "%s: name of %s", what, k)
		assertEq(t, want.Price, got.Price, "%s: price of %s", what, k)
		assertEq(t, want.InStock, got.InStock, "%s: stock of %s", what, k)
		assertEq(t, nilIfEmpty(want.Categories), nilIfEmpty(got.Categories), "%s: categories of %s", what, k)
		assertEq(t, want.Name, cat.ProductName(p))
		assertEq(t, want.Price, cat.ProductPrice(p))
	}

	// orders and lines
	orders := m.orders()
	nc := len(m.custKeys)
	var sum affinity.Summary
	sum.Customers, sum.Products, sum.Categories = nc, len(m.prodKeys), len(m.nodes)
	buyers := map[string][]uint32{} // product key -> customers
	catBuyers := map[string][]uint32{}
	var allBuyers []uint32
	var modelSeq []string // Purchases() as the model orders them
	var first, last int64 = 1 << 62, -1 << 62
	firstByKey := map[string]string{}
	for k := 0; k <= nc; k++ {
		os := orders[k]
		cust := k
		var lo, hi affinity.OrderID
		if k < nc {
			lo, hi = h.CustomerOrders(affinity.CustomerID(k))
		} else {
			cust = -1
			lo, hi = h.AnonymousOrders()
		}
		var got []string
		for o := lo; o < hi; o++ {
			got = append(got, advOrderOf(h, o, cust).String())
			if k < nc {
				requireEq(t, affinity.CustomerID(k), h.OrderCustomer(o), "%s: OrderCustomer", what)
			} else {
				requireEq(t, affinity.NoCustomer, h.OrderCustomer(o), "%s: OrderCustomer (anonymous)", what)
			}
		}
		var want []string
		for _, o := range os {
			want = append(want, o.String())
		}
		requireEq(t, want, got, "%s: orders of bucket %d", what, k)
		if k < nc && len(os) > 0 {
			// lines of the customer: one range, in order time order
			llo, lhi := h.CustomerLines(affinity.CustomerID(k))
			var wantLines, gotLines []string
			for _, o := range os {
				wantLines = append(wantLines, o.lines...)
			}
			for i := llo; i < lhi; i++ {
				l := h.Line(i)
				gotLines = append(gotLines, fmt.Sprintf("%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price))
			}
			requireEq(t, wantLines, gotLines, "%s: CustomerLines(%d)", what, k)
		} else if k < nc {
			llo, lhi := h.CustomerLines(affinity.CustomerID(k))
			requireEq(t, llo, lhi, "%s: CustomerLines(%d) of a customer without orders", what, k)
		}
		var fb, lb = -1, -1
		for i, o := range os {
			sum.Orders++
			sum.Lines += len(o.lines)
			first, last = min(first, o.unix), max(last, o.unix)
			if _, ok := firstByKey[o.key]; !ok && o.key != "" {
				firstByKey[o.key] = o.String()
			}
			for _, l := range o.lines {
				f := strings.Split(l, ":")
				if strings.HasPrefix(f[1], "-") {
					sum.Returns++
				}
			}
			sum.Revenue += o.value
			if k < nc {
				sum.CustomerRevenue += o.value
			} else {
				sum.AnonymousOrders++
				sum.AnonymousLines += len(o.lines)
			}
			ck := "-"
			if k < nc {
				ck = m.custKeys[k]
			}
			for _, l := range o.lines {
				f := strings.Split(l, ":")
				modelSeq = append(modelSeq, fmt.Sprintf("%s|%s|%s|%d|%s:%s:%s", ck, f[0], o.key, o.unix-advT0.Unix(), f[0], f[1], f[2]))
			}
			if !o.bought {
				continue
			}
			if fb < 0 {
				fb = i
			}
			lb = i
		}
		for o := lo; o < hi; o++ {
			assertEq(t, os[o-lo].bought, h.OrderBought(o), "%s: OrderBought", what)
			assertEq(t, os[o-lo].value, h.OrderValue(o), "%s: OrderValue", what)
		}
		if k == nc {
			continue
		}
		c := affinity.CustomerID(k)
		// buyers
		seen := map[string]bool{}
		for _, o := range os {
			for _, l := range o.lines {
				f := strings.Split(l, ":")
				if strings.HasPrefix(f[1], "-") || seen[f[0]] {
					continue
				}
				seen[f[0]] = true
				buyers[f[0]] = append(buyers[f[0]], uint32(k))
			}
		}
		seenCat := map[string]bool{}
		for p := range seen {
			for _, path := range m.desc[p].Categories {
				levels := strings.Split(path, "/")
				for i := range levels {
					n := strings.Join(levels[:i+1], "/")
					if !seenCat[n] {
						seenCat[n] = true
						catBuyers[n] = append(catBuyers[n], uint32(k))
					}
				}
			}
		}
		ft, fok := h.FirstPurchase(c)
		lt, lok := h.LastPurchase(c)
		requireEq(t, fb >= 0, fok, "%s: FirstPurchase(%d) ok", what, k)
		requireEq(t, lb >= 0, lok, "%s: LastPurchase(%d) ok", what, k)
		if fb >= 0 {
			allBuyers = append(allBuyers, uint32(k))
			assertEq(t, os[fb].unix, ft.Unix(), "%s: FirstPurchase(%d)", what, k)
			assertEq(t, os[lb].unix, lt.Unix(), "%s: LastPurchase(%d)", what, k)
		}
		// LastPurchaseBy at every order time, a second either side, and far out
		asOfs := []int64{advT0.Unix() - 1<<30, advT0.Unix() + 1<<30}
		for _, o := range os {
			asOfs = append(asOfs, o.unix-1, o.unix, o.unix+1)
		}
		for _, at := range asOfs {
			want := -1
			for i, o := range os {
				if o.bought && o.unix <= at {
					want = i
				}
			}
			asOf := time.Unix(at, 0).Add(999 * time.Millisecond) // sub-second parts are dropped
			o, ok := h.LastPurchaseOrder(c, asOf)
			bt, bok := h.LastPurchaseBy(c, asOf)
			requireEq(t, want >= 0, ok, "%s: LastPurchaseOrder(%d, %d) ok", what, k, at-advT0.Unix())
			requireEq(t, want >= 0, bok, "%s: LastPurchaseBy(%d, %d) ok", what, k, at-advT0.Unix())
			if want >= 0 {
				requireEq(t, os[want].String(), advOrderOf(h, o, k).String(), "%s: LastPurchaseOrder(%d, %d)", what, k, at-advT0.Unix())
				requireEq(t, os[want].unix, bt.Unix(), "%s: LastPurchaseBy(%d, %d)", what, k, at-advT0.Unix())
			}
		}
	}
	// events
	evs := make([][]string, nc)
	latestEv := int64(-1 << 62)
	for _, e := range m.events {
		evs[e.cust] = append(evs[e.cust], fmt.Sprintf("%d|%s|%v|%v", e.unix-advT0.Unix(), e.prod, e.kind, e.weight))
		latestEv = max(latestEv, e.unix)
		sum.Events++
	}
	for c := range nc {
		lo, hi := h.CustomerEvents(affinity.CustomerID(c))
		var got []string
		prev := int64(-1 << 62)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			if e.Unix < prev {
				require.GreaterOrEqual(t, e.Unix, prev, "%s: events of %d in time order", what, c)
			}
			prev = e.Unix
			got = append(got, fmt.Sprintf("%d|%s|%v|%v", e.Unix-advT0.Unix(), cat.ProductKey(e.Product), e.Kind, e.Weight))
		}
		want := slices.Clone(evs[c])
		slices.Sort(want)
		slices.Sort(got)
		requireEq(t, nilIfEmpty(want), nilIfEmpty(got), "%s: events of %d", what, c)
	}
	// buyer sets
	for _, k := range m.prodKeys {
		p, _ := cat.LookupProduct(k)
		assertEq(t, nilIfEmpty(buyers[k]), nilIfEmpty(h.Buyers(p).ToArray()), "%s: Buyers(%s)", what, k)
	}
	for k := range cat.NumCategories() {
		n := cat.CategoryPath(affinity.CategoryID(k))
		assertEq(t, nilIfEmpty(catBuyers[n]), nilIfEmpty(h.CategoryBuyers(affinity.CategoryID(k)).ToArray()), "%s: CategoryBuyers(%s)", what, n)
		assertEq(t, len(catBuyers[n]), h.CategoryBuyerCount(affinity.CategoryID(k)), "%s: CategoryBuyerCount(%s)", what, n)
	}
	assertEq(t, nilIfEmpty(allBuyers), nilIfEmpty(h.AllBuyers().ToArray()), "%s: AllBuyers", what)
	sum.Buyers = len(allBuyers)
	if sum.Orders > 0 {
		sum.First, sum.Last = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
	}
	assertEq(t, sum, h.Summary(), "%s: Summary", what)
	assertEq(t, sum.Orders, h.NumOrders(), what)
	assertEq(t, sum.Lines, h.NumLines(), what)
	assertEq(t, sum.Events, h.NumEvents(), what)
	var latest time.Time
	if sum.Orders > 0 {
		latest = sum.Last
	}
	if sum.Events > 0 && (latest.IsZero() || latestEv > latest.Unix()) {
		latest = time.Unix(latestEv, 0).UTC()
	}
	assertEq(t, latest, h.Latest(), "%s: Latest", what)
	// Orders() visits every order once, in the History's order
	n := 0
	for range h.Orders() {
		n++
	}
	assertEq(t, sum.Orders, n, "%s: Orders()", what)
	// Purchases() in the History's order
	var seq []string
	for p := range h.Purchases() {
		ck := p.Customer
		if ck == "" {
			ck = "-"
		}
		seq = append(seq, fmt.Sprintf("%s|%s|%s|%d|%s:%d:%d", ck, p.Product, p.Order, p.Time.Unix()-advT0.Unix(), p.Product, p.Quantity, p.Price))
	}
	assertEq(t, nilIfEmpty(modelSeq), nilIfEmpty(seq), "%s: Purchases()", what)
	// LookupOrder: the first order with the key in the History's order
	for i := range 8 {
		key := fmt.Sprintf("k%d", i)
		o, ok := h.LookupOrder(key)
		want, has := firstByKey[key]
		requireEq(t, has, ok, "%s: LookupOrder(%s) ok", what, key)
		if has {
			c := h.OrderCustomer(o)
			ci := int(c)
			if c == affinity.NoCustomer {
				ci = -1
			}
			assertEq(t, want, advOrderOf(h, o, ci).String(), "%s: LookupOrder(%s)", what, key)
		}
	}
	_, ok := h.LookupOrder("")
	assert.False(t, ok, "%s: LookupOrder(\"\")", what)
	// the tombstones of deleted keys
	for i := range 8 {
		key := fmt.Sprintf("k%d", i)
		v, ok := affinity.HistoryTombstone(h, key)
		want, has := m.tomb[key]
		assertEq(t, has, ok, "%s: tombstone of %s", what, key)
		assertEq(t, want, v, "%s: tombstone of %s", what, key)
	}
}

// requireEq is require.Equal at the cost of a comparison when want and
// got are equal: [advModel.check] compares item by item, and t.Helper,
// which require.Equal calls every time, cost more than the History's
// accessors there.
func requireEq(t testing.TB, want, got any, msgAndArgs ...any) {
	if !assert.ObjectsAreEqual(want, got) {
		t.Helper()
		require.Equal(t, want, got, msgAndArgs...)
	}
}

// assertEq is assert.Equal at the cost of a comparison when want and got
// are equal, as [requireEq].
func assertEq(t testing.TB, want, got any, msgAndArgs ...any) {
	if !assert.ObjectsAreEqual(want, got) {
		t.Helper()
		assert.Equal(t, want, got, msgAndArgs...)
	}
}

func advProductKeys(cat *affinity.Catalog) []string {
	var out []string
	for p := range cat.NumProducts() {
		out = append(out, cat.ProductKey(affinity.ProductID(p)))
	}
	return out
}

func advBuild(t testing.TB, base *affinity.History, ops []advOp) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(base)
	for i, op := range ops {
		if err := op.apply(b); err != nil {
			require.NoError(t, err, "op %d: %v", i, op)
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advModes are the ways a Builder on a base History builds: each must give
// what the model says.
var advModes = []struct {
	name         string
	base, layout int32
}{
	{"auto", affinity.BaseAuto, affinity.LayoutAuto},
	{"over-append", affinity.BaseOver, affinity.LayoutAppend},
	{"over-compact", affinity.BaseOver, affinity.LayoutCompact},
	{"copy", affinity.BaseCopy, affinity.LayoutAuto},
}

func advWithMode(base, layout int32, f func()) {
	wb, wl := affinity.SetBaseMode(base), affinity.SetLayoutMode(layout)
	defer func() { affinity.SetBaseMode(wb); affinity.SetLayoutMode(wl) }()
	f()
}

// TestAdvBuilderGenerationsMatchModel runs random chains of Builders, each
// on the History the one before built, with every kind of call, and
// checks every History against the naive model, in every way a Builder
// builds on a base.
func TestAdvBuilderGenerationsMatchModel(t *testing.T) {
	for seed := range uint64(testdata.Scale(400, 50)) {
		r := rand.New(rand.NewPCG(seed, 0xad7))
		g := newAdvGen(r)
		gens := make([][]advOp, 1+r.IntN(4))
		for i := range gens {
			gens[i] = make([]advOp, r.IntN(25))
			for j := range gens[i] {
				gens[i][j] = g.op()
			}
		}
		if !advCheckGenerations(t, seed, gens) {
			return
		}
	}
}

// advCheckGenerations builds gens, one Builder per generation on the
// History before, in every build mode, and checks each History against
// the model; it reports whether all matched.
func advCheckGenerations(t *testing.T, seed uint64, gens [][]advOp) bool {
	t.Helper()
	for _, mode := range advModes {
		advWithMode(mode.base, mode.layout, func() {
			m := newAdvModel()
			var h *affinity.History
			for i, ops := range gens {
				m.build(ops)
				h = advBuild(t, h, ops)
				m.check(t, h, fmt.Sprintf("seed %d mode %s generation %d ops %v", seed, mode.name, i, ops))
			}
		})
		if t.Failed() {
			return false
		}
	}
	return true
}

// TestAdvPutReplacingBaseOrderGross: building on a base History checks
// the surviving puts against the gross value of what remains, once the
// base orders they replace, delete or erase are taken off, in every
// build mode (it once checked them against the base's whole gross value
// on top of a base, and refused changes whose lines fit).
func TestAdvPutReplacingBaseOrderGross(t *testing.T) {
	big := affinity.MaxMoney / 10 * 6 // 0.6 of the range: two of them do not fit
	line := func(c string) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: "p", Time: advT0, Quantity: 1, Price: big}
	}
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.PutOrder("k", 1, []affinity.Purchase{line("a")}))
	base, err := b.Build(context.Background())
	require.NoError(t, err)
	// Builder.Apply: "Build returns an error wrapping ErrMoneyRange if the
	// surviving puts take the gross value of all lines beyond MaxMoney":
	// here the base's only order goes, so the gross value of the result is
	// big, which fits.
	cases := []struct {
		name  string
		stage func(b *affinity.Builder) error
	}{
		{"put replaces the order", func(b *affinity.Builder) error {
			return b.PutOrder("k", 2, []affinity.Purchase{line("b")})
		}},
		{"customer erased", func(b *affinity.Builder) error {
			b.EraseCustomer("a")
			return b.PutOrder("k2", 1, []affinity.Purchase{line("c")})
		}},
		{"order deleted", func(b *affinity.Builder) error {
			if err := b.DeleteOrder("k", 1); err != nil {
				return err
			}
			return b.PutOrder("k2", 1, []affinity.Purchase{line("c")})
		}},
	}
	for _, mode := range advModes {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				advWithMode(mode.base, mode.layout, func() {
					b := affinity.NewBuilder(base)
					require.NoError(t, tc.stage(b))
					h, err := b.Build(context.Background())
					require.NoError(t, err)
					assert.Equal(t, big, h.Summary().Revenue)
					assert.Equal(t, big, affinity.HistoryGross(h))
				})
			})
		}
	}
}

// advKeys describes h by shop keys: every order as customer|key|time|lines
// in the History's order, and the id tables.
func advKeys(h *affinity.History) string {
	var sb strings.Builder
	for c := range h.NumCustomers() {
		fmt.Fprintf(&sb, "cust %d %q\n", c, h.CustomerKey(affinity.CustomerID(c)))
	}
	fmt.Fprintf(&sb, "products %v\n", advProductKeys(h.Catalog()))
	for p := range h.Purchases() {
		fmt.Fprintf(&sb, "%s|%s|%d|%s:%d:%d\n", p.Customer, p.Order, p.Time.Unix(), p.Product, p.Quantity, p.Price)
	}
	for e := range h.Events() {
		fmt.Fprintf(&sb, "ev %s|%s|%d|%v|%v\n", e.Customer, e.Product, e.Time.Unix(), e.Kind, e.Weight)
	}
	fmt.Fprintf(&sb, "%+v\n", h.Summary())
	return sb.String()
}

// TestAdvVersionRules states Builder.Apply's rules case by case: the
// highest version wins, a delete beats a put at equal versions, the later
// of two puts at equal versions wins, and a put without lines is a
// delete; versions are 0 or above (TestNegativeVersionsRefused).
func TestAdvVersionRules(t *testing.T) {
	put := func(v int64, c string) advOp {
		return advOp{change: &affinity.OrderChange{Key: "k", Version: v, Lines: []affinity.Purchase{
			{Customer: c, Product: "p", Time: advT0, Quantity: 1, Price: 100}}}}
	}
	del := func(v int64) advOp { return advOp{change: &affinity.OrderChange{Key: "k", Version: v, Delete: true}} }
	empty := func(v int64) advOp { return advOp{change: &affinity.OrderChange{Key: "k", Version: v}} }
	cases := []struct {
		name   string
		ops    []advOp
		want   string // customer of order k, "" for none
		onBase string // on the base, when not want
	}{
		{"newer put after older", []advOp{put(1, "a"), put(2, "b")}, "b", ""},
		{"older put after newer", []advOp{put(2, "b"), put(1, "a")}, "b", ""},
		{"equal puts: later call", []advOp{put(1, "a"), put(1, "b")}, "b", ""},
		{"equal puts: later call, reversed", []advOp{put(1, "b"), put(1, "a")}, "a", ""},
		{"delete then put at equal version", []advOp{del(1), put(1, "a")}, "", ""},
		{"put then delete at equal version", []advOp{put(1, "a"), del(1)}, "", ""},
		{"delete then newer put", []advOp{del(1), put(2, "a")}, "a", ""},
		{"newer put then older delete", []advOp{put(2, "a"), del(1)}, "a", ""},
		{"newer delete then older put", []advOp{del(2), put(1, "a")}, "", ""},
		{"empty put is a delete", []advOp{put(1, "a"), empty(1)}, "", ""},
		{"empty put beats an equal put after", []advOp{empty(1), put(1, "a")}, "", ""},
		{"extreme versions", []advOp{put(math.MaxInt64, "a"), put(0, "b"), del(0)}, "a", ""},
		{"extreme delete", []advOp{del(math.MaxInt64), put(math.MaxInt64-1, "a")}, "", ""},
		{"replayed feed", []advOp{put(1, "a"), del(2), put(3, "b"), put(1, "a"), del(2), put(3, "b")}, "b", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// the base has order k for customer z, which every change replaces
			base := advBuild(t, nil, []advOp{{purchase: &affinity.Purchase{Customer: "z", Product: "q", Order: "k", Time: advT0, Quantity: 2, Price: 10}}})
			for _, on := range []*affinity.History{nil, base} {
				h := advBuild(t, on, tc.ops)
				want := tc.want
				if on != nil && tc.onBase != "" {
					want = tc.onBase
				}
				o, ok := h.LookupOrder("k")
				require.Equal(t, want != "", ok, "base %v", on != nil)
				if ok {
					assert.Equal(t, want, h.CustomerKey(h.OrderCustomer(o)))
					assert.Equal(t, 1, h.NumOrders())
				} else {
					assert.Equal(t, 0, h.NumOrders())
				}
				m := newAdvModel()
				if on != nil {
					m.build([]advOp{{purchase: &affinity.Purchase{Customer: "z", Product: "q", Order: "k", Time: advT0, Quantity: 2, Price: 10}}})
				}
				m.build(tc.ops)
				m.check(t, h, tc.name)
			}
		})
	}
}

// TestAdvVersionZeroDeleteWins: at equal versions a delete beats a put,
// whatever the order of the calls (OrderChange.Version, Builder.Apply),
// also when every version is 0; a put at a higher version re-creates the
// order.
func TestAdvVersionZeroDeleteWins(t *testing.T) {
	line := []affinity.Purchase{{Customer: "a", Product: "p", Time: advT0, Quantity: 1, Price: 100}}
	for _, deleteFirst := range []bool{true, false} {
		b := affinity.NewBuilder(nil)
		if deleteFirst {
			require.NoError(t, b.DeleteOrder("k", 0))
			require.NoError(t, b.PutOrder("k", 0, line))
		} else {
			require.NoError(t, b.PutOrder("k", 0, line))
			require.NoError(t, b.DeleteOrder("k", 0))
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		_, ok := h.LookupOrder("k")
		assert.False(t, ok, "delete first %v: the delete wins at equal versions", deleteFirst)
	}
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.DeleteOrder("k", 0))
	require.NoError(t, b.PutOrder("k", 1, line))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	_, ok := h.LookupOrder("k")
	assert.True(t, ok, "a put at a higher version re-creates the order")
}

// TestAdvVersionsAcrossBuilds: a base History keeps the versions of its
// orders and of its deletes, so that the rule of Builder.Apply holds
// across Builds, except at equal versions: a put older than the base's
// order, or than a delete the base keeps, changes nothing (this test once
// pinned the opposite, "a base History keeps no versions", under which a
// retried webhook arriving late undid a newer version of its order, and a
// cancelled order came back); a change at the version the base holds
// wins, put or delete (a later Build holds a later state of the source);
// lines added with Add join an order and keep its version; a newer put
// replaces them too.
func TestAdvVersionsAcrossBuilds(t *testing.T) {
	line := func(c string, q int32) []affinity.Purchase {
		return []affinity.Purchase{{Customer: c, Product: "p", Time: advT0, Quantity: q, Price: 100}}
	}
	ctx := context.Background()
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.PutOrder("k", 100, line("a", 1)))
	require.NoError(t, b.DeleteOrder("d", 100))
	h1, err := b.Build(ctx)
	require.NoError(t, err)

	b = affinity.NewBuilder(h1)
	require.NoError(t, b.PutOrder("k", 1, line("a", 5)))  // older than the base's version: refused
	require.NoError(t, b.PutOrder("d", 99, line("b", 2))) // older than the delete: refused
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	assert.Same(t, h1, h2, "changes that lose to the base are no change")
	o, ok := h2.LookupOrder("k")
	require.True(t, ok)
	lo, _ := h2.OrderLines(o)
	assert.Equal(t, int32(1), h2.LineQuantity(lo))
	assert.Equal(t, int64(100), h2.OrderVersion(o))
	_, ok = h2.LookupOrder("d")
	assert.False(t, ok, "the delete of d is kept")

	b = affinity.NewBuilder(h2)
	require.NoError(t, b.PutOrder("k", 100, line("a", 5))) // an equal put: the later Build wins
	require.NoError(t, b.PutOrder("d", 100, line("b", 2))) // at the delete's version: the later Build wins
	h2, err = b.Build(ctx)
	require.NoError(t, err)
	o, ok = h2.LookupOrder("k")
	require.True(t, ok)
	lo, _ = h2.OrderLines(o)
	assert.Equal(t, int32(5), h2.LineQuantity(lo))
	o, ok = h2.LookupOrder("d")
	require.True(t, ok)
	assert.Equal(t, "b", h2.CustomerKey(h2.OrderCustomer(o)))
	assert.Equal(t, int64(100), h2.OrderVersion(o))
	assert.Equal(t, 2, h2.NumOrders())

	// a delete at the version of the base's order wins too, and a put at
	// its version in a later Build puts the order back
	b = affinity.NewBuilder(h2)
	require.NoError(t, b.DeleteOrder("d", 100))
	h2b, err := b.Build(ctx)
	require.NoError(t, err)
	_, ok = h2b.LookupOrder("d")
	assert.False(t, ok, "an equal delete in a later Build wins")
	b = affinity.NewBuilder(h2b)
	require.NoError(t, b.PutOrder("d", 99, line("b", 2)))
	h2c, err := b.Build(ctx)
	require.NoError(t, err)
	assert.Same(t, h2b, h2c, "an older put loses to the tombstone")
	b = affinity.NewBuilder(h2b)
	require.NoError(t, b.PutOrder("d", 100, line("b", 2)))
	h2c, err = b.Build(ctx)
	require.NoError(t, err)
	o, ok = h2c.LookupOrder("d")
	require.True(t, ok, "an equal put in a later Build wins over the tombstone")
	assert.Equal(t, int64(100), h2c.OrderVersion(o))

	// an Add of lines of k on top of the base joins the order, until a put replaces it
	b = affinity.NewBuilder(h2)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "q", Order: "k", Time: advT0.Add(-time.Hour), Quantity: 1, Price: 1}))
	h3, err := b.Build(ctx)
	require.NoError(t, err)
	o, _ = h3.LookupOrder("k")
	lo, hi := h3.OrderLines(o)
	assert.Equal(t, 2, hi-lo, "lines added with the order's id join it")
	assert.Equal(t, advT0.Add(-time.Hour), h3.OrderTime(o), "an order's time is its earliest line's")
	assert.Equal(t, int64(100), h3.OrderVersion(o), "and keep its version")

	b = affinity.NewBuilder(h3)
	require.NoError(t, b.PutOrder("k", 99, line("a", 4))) // older: refused, and the Add joins
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "q", Order: "k", Time: advT0, Quantity: 8, Price: 1}))
	h4, err := b.Build(ctx)
	require.NoError(t, err)
	o, _ = h4.LookupOrder("k")
	lo, hi = h4.OrderLines(o)
	assert.Equal(t, 3, hi-lo, "the refused put replaced nothing")

	b = affinity.NewBuilder(h4)
	require.NoError(t, b.PutOrder("k", 102, line("a", 3)))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "q", Order: "k", Time: advT0, Quantity: 9, Price: 1})) // after the put: replaced too
	h4, err = b.Build(ctx)
	require.NoError(t, err)
	o, _ = h4.LookupOrder("k")
	lo, hi = h4.OrderLines(o)
	require.Equal(t, 1, hi-lo)
	assert.Equal(t, int32(3), h4.LineQuantity(lo))
	assert.Equal(t, advT0, h4.OrderTime(o))
	assert.Equal(t, int64(102), h4.OrderVersion(o))
}

// TestAdvApplyStagesNothingOnError: a refused change leaves what was
// staged before it, and Apply copies the lines.
func TestAdvApplyStagesNothingOnError(t *testing.T) {
	good := []affinity.Purchase{{Customer: "a", Product: "p", Time: advT0, Quantity: 1, Price: 100}}
	bad := [][]affinity.Purchase{
		{{Customer: "a", Product: "p", Time: advT0, Quantity: 1, Price: 1}, {Customer: "a", Product: "", Time: advT0, Quantity: 1}},
		{{Customer: "a", Product: "p", Time: advT0, Quantity: 1}, {Customer: "b", Product: "p", Time: advT0, Quantity: 1}},
		{{Customer: "a", Product: "p", Order: "other", Time: advT0, Quantity: 1}},
		{{Customer: "a", Product: "p", Time: advT0, Quantity: 0}},
		{{Customer: "a", Product: "p", Time: advT0, Quantity: 1, Price: -1}},
		{{Customer: "a", Product: "p", Quantity: 1}},
		{{Customer: "a", Product: "p", Time: advT0, Quantity: 2, Price: affinity.MaxMoney}},
	}
	for i, lines := range bad {
		b := affinity.NewBuilder(nil)
		in := slices.Clone(good)
		require.NoError(t, b.PutOrder("k", 1, in))
		in[0].Quantity, in[0].Product = 7, "mutated" // Apply copied the lines
		err := b.PutOrder("k", 2, lines)
		require.ErrorIs(t, err, affinity.ErrInvalid, "case %d", i)
		require.Error(t, b.PutOrder("", 3, good))
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, h.NumLines(), "case %d", i)
		assert.Equal(t, int32(1), h.LineQuantity(0), "case %d", i)
		assert.Equal(t, "p", h.Catalog().ProductKey(h.LineProduct(0)), "case %d", i)
		assert.Equal(t, 1, h.NumCustomers(), "case %d: a refused put interns nothing", i)
		assert.Equal(t, 1, h.Catalog().NumProducts(), "case %d: a refused put interns nothing", i)
	}
}

// TestAdvShuffledFeed: a feed of puts, deletes and erasures with distinct
// versions per order builds the same History — ids included, since
// customers and products first met in a put get theirs in (Version, Key)
// order of the surviving puts — whatever the order of the calls, applied
// once or twice, on an empty Builder or on a base.
func TestAdvShuffledFeed(t *testing.T) {
	for seed := range uint64(testdata.Scale(300, 40)) {
		r := rand.New(rand.NewPCG(seed, 0x5f))
		g := newAdvGen(r)
		var base *affinity.History
		if r.IntN(2) == 0 {
			var ops []advOp
			for range r.IntN(20) {
				if op := g.op(); op.change == nil && op.erase == "" {
					ops = append(ops, op)
				}
			}
			base = advBuild(t, nil, ops)
		}
		var feed []advOp
		v := int64(0)
		for range r.IntN(30) {
			op := g.op()
			if op.change == nil && op.erase == "" {
				continue
			}
			if op.change != nil {
				v++
				op.change.Version = v + int64(r.IntN(3))*1000 // distinct (some of the later ones below earlier ones)
			}
			feed = append(feed, op)
		}
		want := advKeys(advBuild(t, base, feed))
		for range 3 {
			shuffled := slices.Clone(feed)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if r.IntN(2) == 0 {
				shuffled = append(shuffled, feed...)
			}
			require.Equal(t, want, advKeys(advBuild(t, base, shuffled)), "seed %d: feed %v shuffled %v", seed, feed, shuffled)
		}
	}
}

// TestAdvSiblingBuilds: several Histories built on one base (the second
// and later ones write every order anew) each match the model, and
// building them does not change the base or each other.
func TestAdvSiblingBuilds(t *testing.T) {
	for seed := range uint64(testdata.Scale(200, 25)) {
		r := rand.New(rand.NewPCG(seed, 0x51b))
		g := newAdvGen(r)
		ops := func(n int) []advOp {
			out := make([]advOp, n)
			for i := range out {
				out[i] = g.op()
			}
			return out
		}
		baseOps := ops(5 + r.IntN(25))
		m := newAdvModel()
		m.build(baseOps)
		base := advBuild(t, nil, baseOps)
		// a chain first, so that the base has room to append to
		next := ops(r.IntN(10))
		m.build(next)
		base = advBuild(t, base, next)
		baseView := advKeys(base)
		type sib struct {
			h    *affinity.History
			m    *advModel
			view string
		}
		var sibs []sib
		for i := range 3 {
			sm := advCloneModel(m)
			o := ops(r.IntN(15))
			sm.build(o)
			h := advBuild(t, base, o)
			sm.check(t, h, fmt.Sprintf("seed %d sibling %d ops %v", seed, i, o))
			// and one more generation on the sibling
			o2 := ops(r.IntN(10))
			sm2 := advCloneModel(sm)
			sm2.build(o2)
			h2 := advBuild(t, h, o2)
			sm2.check(t, h2, fmt.Sprintf("seed %d sibling %d child ops %v", seed, i, o2))
			sibs = append(sibs, sib{h, sm, advKeys(h)})
		}
		require.Equal(t, baseView, advKeys(base), "seed %d: base changed by the builds on it", seed)
		m.check(t, base, fmt.Sprintf("seed %d base after siblings", seed))
		for i, s := range sibs {
			require.Equal(t, s.view, advKeys(s.h), "seed %d: sibling %d changed by later builds", seed, i)
			s.m.check(t, s.h, fmt.Sprintf("seed %d sibling %d after the others", seed, i))
		}
		if t.Failed() {
			return
		}
	}
}

func advCloneModel(m *advModel) *advModel {
	c := &advModel{custKeys: slices.Clone(m.custKeys), custID: map[string]int{}, prodKeys: slices.Clone(m.prodKeys),
		prodID: map[string]int{}, desc: map[string]affinity.Product{}, nodes: map[string]bool{},
		lines: slices.Clone(m.lines), events: slices.Clone(m.events), tomb: maps.Clone(m.tomb)}
	for k, v := range m.custID {
		c.custID[k] = v
	}
	for k, v := range m.prodID {
		c.prodID[k] = v
	}
	for k, v := range m.desc {
		c.desc[k] = v
	}
	for k, v := range m.nodes {
		c.nodes[k] = v
	}
	return c
}

// TestAdvTimeEdges builds chains whose orders and events lie at the ends
// of the range a History stores (MinUnix, MaxUnix: a span of exactly
// 2^32−1 seconds) and move its first and last order by puts, deletes and
// erasures, in every way a Builder builds on a base.
func TestAdvTimeEdges(t *testing.T) {
	times := []int64{affinity.MinUnix, 1, advT0.Unix(), affinity.MaxUnix - 1, affinity.MaxUnix}
	for seed := range uint64(testdata.Scale(200, 30)) {
		r := rand.New(rand.NewPCG(seed, 0x7e))
		g := newAdvGen(r)
		at := func() time.Time { return time.Unix(times[r.IntN(len(times))], int64(r.IntN(1e9))) }
		gens := make([][]advOp, 2+r.IntN(3))
		for i := range gens {
			for range r.IntN(12) {
				op := g.op()
				switch {
				case op.purchase != nil:
					op.purchase.Time = at()
				case op.event != nil:
					op.event.Time = at()
				case op.change != nil:
					for j := range op.change.Lines {
						op.change.Lines[j].Time = at()
					}
				}
				gens[i] = append(gens[i], op)
			}
		}
		if !advCheckGenerations(t, seed, gens) {
			return
		}
	}
}

// TestAdvManyCustomers crosses the sizes where Build shards the buyer
// index (4,096 customers a shard) and, on a base, patches it: the result
// matches the model and does not depend on Workers.
func TestAdvManyCustomers(t *testing.T) {
	n := testdata.Scale(12_000, 4_500)
	r := rand.New(rand.NewPCG(uint64(n), 0x3a))
	var ops []advOp
	for c := range n {
		for range 1 + r.IntN(2) {
			q := int32(1 + r.IntN(2))
			if r.IntN(7) == 0 {
				q = -q
			}
			p := affinity.Purchase{Customer: fmt.Sprintf("c%d", c), Product: fmt.Sprintf("p%d", r.IntN(40)),
				Order: fmt.Sprintf("k%d", r.IntN(n)), Time: advT0.Add(time.Duration(r.IntN(1000)) * time.Minute), Quantity: q, Price: 100}
			ops = append(ops, advOp{purchase: &p})
		}
	}
	for p := range 40 {
		ops = append(ops, advOp{product: &affinity.Product{Key: fmt.Sprintf("p%d", p), Categories: []string{advPaths[p%len(advPaths)]}}})
	}
	var change []advOp
	for range 300 {
		k := fmt.Sprintf("k%d", r.IntN(n))
		switch r.IntN(3) {
		case 0:
			change = append(change, advOp{change: &affinity.OrderChange{Key: k, Version: 1, Delete: true}})
		case 1:
			change = append(change, advOp{erase: fmt.Sprintf("c%d", r.IntN(n))})
		default:
			p := affinity.Purchase{Customer: fmt.Sprintf("c%d", r.IntN(n+50)), Product: fmt.Sprintf("p%d", r.IntN(45)),
				Time: advT0.Add(time.Duration(r.IntN(2000)) * time.Minute), Quantity: 1, Price: 7}
			change = append(change, advOp{change: &affinity.OrderChange{Key: k, Version: 1, Lines: []affinity.Purchase{p}}})
		}
	}
	m := newAdvModel()
	m.build(ops)
	m2 := advCloneModel(m)
	m2.build(change)
	var views []string
	for _, workers := range []int{1, 3} {
		b := affinity.NewBuilder(nil)
		b.Workers = workers
		for _, op := range ops {
			require.NoError(t, op.apply(b))
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		m.check(t, h, fmt.Sprintf("workers %d", workers))
		b = affinity.NewBuilder(h)
		b.Workers = workers
		for _, op := range change {
			require.NoError(t, op.apply(b))
		}
		h2, err := b.Build(context.Background())
		require.NoError(t, err)
		m2.check(t, h2, fmt.Sprintf("workers %d, on a base", workers))
		views = append(views, advKeys(h2))
	}
	assert.Equal(t, views[0], views[1])
}

// TestAdvCancelledBuildOnBase: a Build whose context is done returns its
// error, empties the Builder and leaves the base as it was, so that the
// next Builder on the base builds what the model says.
func TestAdvCancelledBuildOnBase(t *testing.T) {
	for seed := range uint64(testdata.Scale(100, 15)) {
		r := rand.New(rand.NewPCG(seed, 0xca))
		g := newAdvGen(r)
		ops := func(n int) []advOp {
			out := make([]advOp, n)
			for i := range out {
				out[i] = g.op()
			}
			return out
		}
		m := newAdvModel()
		baseOps := ops(1 + r.IntN(20))
		m.build(baseOps)
		base := advBuild(t, nil, baseOps)
		view := advKeys(base)
		for _, mode := range advModes {
			advWithMode(mode.base, mode.layout, func() {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				b := affinity.NewBuilder(base)
				for _, op := range ops(1 + r.IntN(10)) {
					require.NoError(t, op.apply(b))
				}
				h, err := b.Build(ctx)
				require.ErrorIs(t, err, context.Canceled, "seed %d mode %s", seed, mode.name)
				require.Nil(t, h)
				assert.Equal(t, 0, b.Len(), "the Builder is empty after a failed Build")
				require.Equal(t, view, advKeys(base))
				next := ops(r.IntN(10))
				mm := advCloneModel(m)
				mm.build(next)
				mm.check(t, advBuild(t, base, next), fmt.Sprintf("seed %d mode %s after a cancelled build, ops %v", seed, mode.name, next))
			})
		}
		if t.Failed() {
			return
		}
	}
}
