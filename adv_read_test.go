package affinity_test

// Adversarial tests of the read side of a History (iterators, Summary,
// Latest, customers' orders and lines, events, category buyers, order
// keys, look-backs), each compared with a naive model written from the
// documentation only: random small worlds built from scratch and then on
// a base (returns, erasures, deletes, duplicate puts, events, categories
// with parents).

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
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

const advReadDebug = false

// advReadScale scales the random worlds (customers, orders, changes).
var advReadScale = 1

var advReadT0 = time.Date(2024, 2, 27, 22, 0, 0, 0, time.UTC)

type advReadLine struct {
	prod  string
	qty   int32
	price affinity.Money
	unix  int64
}

type advReadOrder struct {
	cust, key string // key "" : one order per customer and second
	lines     []advReadLine
	ver       int64 // the version of the put that made it; 0 for Add
}

func (o *advReadOrder) unix() int64 {
	u := o.lines[0].unix
	for _, l := range o.lines {
		u = min(u, l.unix)
	}
	return u
}

func (o *advReadOrder) value() affinity.Money {
	var v affinity.Money
	for _, l := range o.lines {
		v += affinity.Money(l.qty) * l.price
	}
	return v
}

func (o *advReadOrder) bought() bool {
	for _, l := range o.lines {
		if l.qty > 0 {
			return true
		}
	}
	return false
}

type advReadEvent struct {
	cust, prod string
	unix       int64
	kind       affinity.EventKind
	weight     float32
}

type advReadPut struct {
	version int64
	seq     int
	del     bool
	cust    string
	lines   []advReadLine
}

// advReadModel is the naive model: orders by (customer, key or second),
// events, the product catalog's categories, and every customer key ever
// named.
type advReadModel struct {
	orders map[string]*advReadOrder // "cust|key" or "cust|\x00unix"
	events []advReadEvent
	cats   map[string][]string // product -> category paths
	prods  map[string]bool
	keys   map[string]bool // customer keys ever given an id
	erased map[string]bool
	nIDs   int              // customer ids allocated
	nodes  map[string]bool  // category nodes
	tomb   map[string]int64 // versions of deleted order keys
	// staged changes of the current builder
	puts   map[string]advReadPut
	erases []string
	seq    int
	nextO  int
}

func advReadNewModel() *advReadModel {
	return &advReadModel{orders: map[string]*advReadOrder{}, cats: map[string][]string{}, prods: map[string]bool{},
		keys: map[string]bool{}, erased: map[string]bool{}, nodes: map[string]bool{}, tomb: map[string]int64{}}
}

// keyVersion returns the version of the latest change of key that the
// History holds and whether it was a delete (see verState). The orders
// Add made in the current Builder count too, at version 0: below or at
// every version the changes here have (0 to 3), so they change no
// outcome.
func (m *advReadModel) keyVersion(key string) (v int64, del, ok bool) {
	var vs []int64
	for _, o := range m.orders {
		if o.key == key {
			vs = append(vs, o.ver)
		}
	}
	t, dead := m.tomb[key]
	return verState(vs, t, dead)
}

func advReadOrderID(cust, key string, unix int64) string {
	if key == "" {
		return fmt.Sprintf("%s|\x00%d", cust, unix)
	}
	return cust + "|" + key
}

func (m *advReadModel) add(t *testing.T, b *affinity.Builder, cust, key string, l advReadLine, nanos int) {
	t.Helper()
	require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: l.prod, Order: key,
		Time: time.Unix(l.unix, int64(nanos)).UTC(), Quantity: l.qty, Price: l.price}))
	id := advReadOrderID(cust, key, l.unix)
	o := m.orders[id]
	if o == nil {
		o = &advReadOrder{cust: cust, key: key}
		m.orders[id] = o
	}
	o.lines = append(o.lines, l)
	m.prods[l.prod] = true
	m.customer(cust)
}

// customer records that key was named: a key not known, or erased, gets a
// new id.
func (m *advReadModel) customer(key string) {
	if key == "" {
		return
	}
	if !m.keys[key] || m.erased[key] {
		m.nIDs++
	}
	m.keys[key] = true
	delete(m.erased, key)
}

func (m *advReadModel) event(t *testing.T, b *affinity.Builder, e advReadEvent) {
	t.Helper()
	require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: time.Unix(e.unix, 300_000_000).In(time.FixedZone("X", 3600)),
		Kind: e.kind, Weight: e.weight}))
	m.events = append(m.events, e)
	if advReadDebug {
		t.Logf("event %+v", e)
	}
	m.prods[e.prod] = true
	m.customer(e.cust)
}

func (m *advReadModel) product(t *testing.T, b *affinity.Builder, p string, cats []string) {
	t.Helper()
	require.NoError(t, b.AddProduct(affinity.Product{Key: p, Name: "n" + p, Categories: cats, InStock: true}))
	m.cats[p] = cats
	if advReadDebug {
		t.Logf("product %s %q", p, cats)
	}
	m.prods[p] = true
	for _, c := range cats {
		m.category(c)
	}
}

// category records the node path and its ancestors.
func (m *advReadModel) category(path string) {
	parts := strings.Split(affinity.CleanCategoryPath(path), "/")
	for d := 1; d <= len(parts); d++ {
		m.nodes[strings.Join(parts[:d], "/")] = true
	}
}

func (m *advReadModel) put(t *testing.T, b *affinity.Builder, key string, version int64, cust string, lines []advReadLine) {
	t.Helper()
	ps := make([]affinity.Purchase, len(lines))
	for i, l := range lines {
		ps[i] = affinity.Purchase{Customer: cust, Product: l.prod, Time: time.Unix(l.unix, 0), Quantity: l.qty, Price: l.price}
		if i%2 == 1 {
			ps[i].Order = key
		}
	}
	require.NoError(t, b.PutOrder(key, version, ps))
	m.stage(key, advReadPut{version: version, cust: cust, lines: slices.Clone(lines)})
}

func (m *advReadModel) del(t *testing.T, b *affinity.Builder, key string, version int64) {
	t.Helper()
	require.NoError(t, b.DeleteOrder(key, version))
	m.stage(key, advReadPut{version: version, del: true})
}

func (m *advReadModel) stage(key string, p advReadPut) {
	m.seq++
	p.seq = m.seq
	if m.puts == nil {
		m.puts = map[string]advReadPut{}
	}
	old, ok := m.puts[key]
	if ok {
		// highest version wins; equal: delete beats put, later put wins.
		if p.version < old.version || (p.version == old.version && old.del) {
			return
		}
	}
	m.puts[key] = p
}

func (m *advReadModel) build(t *testing.T, b *affinity.Builder) *affinity.History {
	t.Helper()
	if advReadDebug {
		t.Logf("build: puts %+v erases %v", m.puts, m.erases)
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range m.puts {
			if !yield(k) {
				return
			}
		}
	}) {
		p := m.puts[key]
		if v, _, ok := m.keyVersion(key); ok && p.version < v {
			continue // loses to the History's higher version of the order (at equal versions the later Build wins)
		}
		switch {
		case !p.del && slices.Contains(m.erases, p.cust): // an erasure is no versioned change
		case !p.del:
			delete(m.tomb, key)
		case p.version != 0:
			m.tomb[key] = p.version
		}
		for id, o := range m.orders {
			if o.key == key {
				delete(m.orders, id)
			}
		}
		if !p.del {
			for _, l := range p.lines {
				m.prods[l.prod] = true
			}
			m.orders[advReadOrderID(p.cust, key, 0)] = &advReadOrder{cust: p.cust, key: key, lines: p.lines, ver: p.version}
			m.customer(p.cust)
		}
	}
	for _, c := range m.erases {
		for id, o := range m.orders {
			if o.cust == c {
				delete(m.orders, id)
			}
		}
		m.events = slices.DeleteFunc(m.events, func(e advReadEvent) bool { return e.cust == c })
		m.erased[c] = true
	}
	m.puts, m.erases = nil, nil
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advReadSorted returns the model's orders of cust sorted by (time, key).
func (m *advReadModel) custOrders(cust string) []*advReadOrder {
	var os []*advReadOrder
	for _, o := range m.orders {
		if o.cust == cust {
			os = append(os, o)
		}
	}
	slices.SortFunc(os, func(a, b *advReadOrder) int {
		return cmp.Or(cmp.Compare(a.unix(), b.unix()), cmp.Compare(a.key, b.key))
	})
	return os
}

var advReadCats = []string{"A", "A/B", "A/B/C", " A / F ", "D/E", "D/E/G", "H"}

func advReadRandLines(r *rand.Rand, n int, unix int64, sameSecond bool) []advReadLine {
	ls := make([]advReadLine, n)
	for i := range ls {
		q := int32(r.IntN(3) + 1)
		if r.IntN(5) == 0 {
			q = -q
		}
		u := unix
		if !sameSecond {
			u += int64(r.IntN(3)) * 60
		}
		ls[i] = advReadLine{prod: fmt.Sprintf("p%d", r.IntN(8)), qty: q, price: affinity.Money(r.IntN(4) * 12_345), unix: u}
	}
	return ls
}

func (m *advReadModel) randCust(r *rand.Rand) string {
	if r.IntN(8) == 0 {
		return ""
	}
	return fmt.Sprintf("c%d", r.IntN(7*advReadScale))
}

func (m *advReadModel) randTime(r *rand.Rand) int64 {
	// a few days around the end of February of a leap year; some ties;
	// rarely the ends of the range a History stores
	switch r.IntN(40) {
	case 0:
		return affinity.MinUnix + int64(r.IntN(2))
	case 1:
		return affinity.MaxUnix - 127 // + up to 120 s per line, 7 s per event
	}
	return advReadT0.Unix() + int64(r.IntN(40))*3600*3
}

// advReadGen adds random data to b, recording it in m; onBase enables the
// staged changes.
func (m *advReadModel) gen(t *testing.T, r *rand.Rand, b *affinity.Builder, onBase bool) {
	t.Helper()
	for p := range 8 {
		if r.IntN(2) == 0 {
			var cats []string
			for range r.IntN(3) {
				cats = append(cats, advReadCats[r.IntN(len(advReadCats))])
			}
			m.product(t, b, fmt.Sprintf("p%d", p), cats)
		}
	}
	if r.IntN(3) == 0 {
		path := []string{"Z/Y", "A/B/Q", "H", "D"}[r.IntN(4)]
		_, err := b.AddCategory(path)
		require.NoError(t, err)
		m.category(path)
	}
	type pending struct {
		cust, key string
		l         advReadLine
		nanos     int
	}
	var adds []pending
	for range (6 + r.IntN(8)) * advReadScale {
		cust := m.randCust(r)
		key := ""
		switch x := r.IntN(10); {
		case x == 0:
		case x <= 2 && len(m.orders) > 0:
			// an existing key: join that order (same customer) or make another
			// customer's order with the same key
			var os []*advReadOrder
			for _, o := range m.orders {
				if o.key != "" {
					os = append(os, o)
				}
			}
			if len(os) > 0 {
				slices.SortFunc(os, func(a, b *advReadOrder) int {
					return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.cust, b.cust))
				})
				o := os[r.IntN(len(os))]
				key = o.key
				if r.IntN(2) == 0 {
					cust = o.cust
				}
			}
		default:
			m.nextO++
			key = fmt.Sprintf("o%03d", m.nextO)
		}
		for _, l := range advReadRandLines(r, 1+r.IntN(3), m.randTime(r), key == "") {
			adds = append(adds, pending{cust, key, l, r.IntN(3) * 400_000_000})
		}
	}
	r.Shuffle(len(adds), func(i, j int) { adds[i], adds[j] = adds[j], adds[i] })
	for _, a := range adds {
		if advReadDebug {
			t.Logf("add %q %q %+v", a.cust, a.key, a.l)
		}
		m.add(t, b, a.cust, a.key, a.l, a.nanos)
	}
	for range r.IntN(6) {
		m.event(t, b, advReadEvent{cust: fmt.Sprintf("c%d", r.IntN(9*advReadScale)), prod: fmt.Sprintf("p%d", r.IntN(9)),
			unix: m.randTime(r) + int64(r.IntN(2))*7, kind: affinity.EventKind(1 + r.IntN(4)), weight: float32(r.IntN(5))})
	}
	if !onBase {
		return
	}
	var keys []string
	for _, o := range m.orders {
		if o.key != "" {
			keys = append(keys, o.key)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	pick := func() string {
		if len(keys) == 0 || r.IntN(4) == 0 {
			m.nextO++
			return fmt.Sprintf("o%03d", m.nextO)
		}
		return keys[r.IntN(len(keys))]
	}
	for range r.IntN(6 * advReadScale) {
		key := pick()
		v := int64(r.IntN(4))
		switch r.IntN(5) {
		case 0:
			m.del(t, b, key, v)
		default:
			cust := m.randCust(r)
			ls := advReadRandLines(r, 1+r.IntN(3), m.randTime(r), false)
			m.put(t, b, key, v, cust, ls)
			if r.IntN(3) == 0 { // the same put delivered again
				m.put(t, b, key, v, cust, ls)
			}
		}
	}
	if r.IntN(2) == 0 {
		c := fmt.Sprintf("c%d", r.IntN(7*advReadScale))
		if m.keys[c] && !m.erased[c] {
			b.EraseCustomer(c)
			m.erases = append(m.erases, c)
		}
	}
}

func advReadPurchaseOf(o *advReadOrder, l advReadLine) affinity.Purchase {
	return affinity.Purchase{Customer: o.cust, Product: l.prod, Order: o.key, Time: time.Unix(o.unix(), 0).UTC(),
		Quantity: l.qty, Price: l.price}
}

// advReadCheck compares every read of h with the model.
func advReadCheck(t *testing.T, r *rand.Rand, h *affinity.History, m *advReadModel) {
	t.Helper()
	cat := h.Catalog()
	// customers: ids for every key, erased ones lost
	live := map[string]affinity.CustomerID{}
	for k := range m.keys {
		c, ok := h.LookupCustomer(k)
		if m.erased[k] {
			assert.False(t, ok, "erased %s still found", k)
			continue
		}
		require.True(t, ok, "customer %s", k)
		assert.Equal(t, k, h.CustomerKey(c))
		live[k] = c
	}
	require.Equal(t, m.nIDs, h.NumCustomers())
	keyOf := func(c affinity.CustomerID) string { return h.CustomerKey(c) }

	// expected purchases in the documented order
	var want []affinity.Purchase
	for c := range h.NumCustomers() {
		k := keyOf(affinity.CustomerID(c))
		if k == "" {
			lo, hi := h.CustomerOrders(affinity.CustomerID(c))
			assert.Equal(t, lo, hi, "erased customer %d has orders", c)
			elo, ehi := h.CustomerEvents(affinity.CustomerID(c))
			assert.Equal(t, elo, ehi, "erased customer %d has events", c)
			continue
		}
		for _, o := range m.custOrders(k) {
			for _, l := range o.lines {
				want = append(want, advReadPurchaseOf(o, l))
			}
		}
	}
	anon := m.custOrders("")
	nCustLines := len(want)
	for _, o := range anon {
		for _, l := range o.lines {
			want = append(want, advReadPurchaseOf(o, l))
		}
	}
	var got []affinity.Purchase
	for p := range h.Purchases() {
		got = append(got, p)
	}
	require.Equal(t, len(want), len(got))
	assert.Equal(t, want[:nCustLines], got[:nCustLines], "customers' purchases in History order")
	sortP := func(ps []affinity.Purchase) []affinity.Purchase {
		ps = slices.Clone(ps)
		slices.SortStableFunc(ps, func(a, b affinity.Purchase) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Order, b.Order))
		})
		return ps
	}
	assert.Equal(t, sortP(want[nCustLines:]), sortP(got[nCustLines:]), "anonymous purchases")
	for i := nCustLines + 1; i < len(got); i++ {
		assert.False(t, got[i].Time.Before(got[i-1].Time), "anonymous orders in time order")
	}
	for _, p := range got {
		assert.Equal(t, time.UTC, p.Time.Location())
	}

	// Orders: every order once, customers by id, then the anonymous range
	var ids []affinity.OrderID
	for o := range h.Orders() {
		ids = append(ids, o)
	}
	require.Len(t, ids, len(m.orders))
	assert.Equal(t, len(m.orders), h.NumOrders())
	var concat []affinity.OrderID
	lineSum := 0
	for c := range h.NumCustomers() {
		lo, hi := h.CustomerOrders(affinity.CustomerID(c))
		llo, lhi := h.CustomerLines(affinity.CustomerID(c))
		n := 0
		for o := lo; o < hi; o++ {
			concat = append(concat, o)
			olo, ohi := h.OrderLines(o)
			if o == lo {
				assert.Equal(t, llo, olo)
			}
			n += ohi - olo
			assert.Equal(t, affinity.CustomerID(c), h.OrderCustomer(o))
		}
		assert.Equal(t, lhi-llo, n, "customer %d lines", c)
		lineSum += n
	}
	alo, ahi := h.AnonymousOrders()
	for o := alo; o < ahi; o++ {
		concat = append(concat, o)
		assert.Equal(t, affinity.NoCustomer, h.OrderCustomer(o))
	}
	assert.Equal(t, concat, ids, "Orders visits the customers' ranges then the anonymous one")
	seen := map[affinity.OrderID]bool{}
	defer func() {
		// ids that name no order
		for o := range affinity.OrderID(h.NumOrderIDs()) {
			if !seen[o] {
				assert.Equal(t, affinity.NoCustomer, h.OrderCustomer(o), "unused order id %d", o)
			}
		}
	}()
	i := 0
	for _, o := range ids {
		require.Less(t, int(o), h.NumOrderIDs())
		require.False(t, seen[o], "order %d twice", o)
		seen[o] = true
		lo, hi := h.OrderLines(o)
		var v affinity.Money
		bought := false
		for j := lo; j < hi; j++ {
			require.Less(t, i, len(got))
			l := h.Line(j)
			p := got[i]
			i++
			if i <= nCustLines { // anonymous lines compared as a multiset above
				assert.Equal(t, p.Product, cat.ProductKey(l.Product))
				assert.Equal(t, p.Quantity, l.Quantity)
				assert.Equal(t, p.Price, l.Price)
				assert.Equal(t, p.Order, h.OrderKey(o))
				assert.Equal(t, p.Time.Unix(), h.OrderUnix(o))
			}
			assert.Equal(t, l.Product, h.LineProduct(j))
			assert.Equal(t, l.Quantity, h.LineQuantity(j))
			v += l.Value()
			bought = bought || l.Quantity > 0
		}
		assert.Equal(t, v, h.OrderValue(o))
		assert.Equal(t, bought, h.OrderBought(o))
		assert.True(t, h.OrderTime(o).Equal(time.Unix(h.OrderUnix(o), 0)))
		assert.Equal(t, time.UTC, h.OrderTime(o).Location())
	}
	// the model's customer orders against the id ranges: time, key, value
	for k, c := range live {
		os := m.custOrders(k)
		lo, hi := h.CustomerOrders(c)
		require.Equal(t, len(os), int(hi-lo), "orders of %s", k)
		for j, o := range os {
			id := lo + affinity.OrderID(j)
			assert.Equal(t, o.key, h.OrderKey(id))
			assert.Equal(t, o.unix(), h.OrderUnix(id))
			assert.Equal(t, o.value(), h.OrderValue(id))
		}
	}

	// Events
	var wantEv []affinity.Event
	for c := range h.NumCustomers() {
		k := keyOf(affinity.CustomerID(c))
		var es []affinity.Event
		for _, e := range m.events {
			if e.cust == k && k != "" {
				es = append(es, affinity.Event{Customer: k, Product: e.prod, Time: time.Unix(e.unix, 0).UTC(), Kind: e.kind, Weight: e.weight})
			}
		}
		lo, hi := h.CustomerEvents(affinity.CustomerID(c))
		require.Equal(t, len(es), hi-lo, "events of %q", k)
		var stored []affinity.Event
		for j := lo; j < hi; j++ {
			el := h.Event(j)
			stored = append(stored, affinity.Event{Customer: k, Product: cat.ProductKey(el.Product), Time: el.Time(), Kind: el.Kind, Weight: el.Weight})
			if j > lo {
				assert.LessOrEqual(t, h.Event(j-1).Unix, el.Unix, "events in time order")
			}
		}
		evKey := func(a, b affinity.Event) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Product, b.Product), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Weight, b.Weight))
		}
		slices.SortStableFunc(es, evKey)
		assert.Equal(t, es, slices.SortedStableFunc(slices.Values(stored), evKey))
		wantEv = append(wantEv, stored...)
	}
	var gotEv []affinity.Event
	for e := range h.Events() {
		gotEv = append(gotEv, e)
	}
	assert.Equal(t, wantEv, gotEv, "Events in History order")
	assert.Equal(t, len(m.events), h.NumEvents())

	// Summary and Latest
	var s affinity.Summary
	s.Customers = m.nIDs
	buyers := map[string]bool{}
	var first, last int64 = -1, -1
	for _, o := range m.orders {
		s.Orders++
		s.Lines += len(o.lines)
		s.Revenue += o.value()
		if o.cust == "" {
			s.AnonymousOrders++
			s.AnonymousLines += len(o.lines)
		} else {
			s.CustomerRevenue += o.value()
			if o.bought() {
				buyers[o.cust] = true
			}
		}
		for _, l := range o.lines {
			if l.qty < 0 {
				s.Returns++
			}
		}
		u := o.unix()
		if first < 0 || u < first {
			first = u
		}
		last = max(last, u)
	}
	s.Buyers = len(buyers)
	s.Events = len(m.events)
	s.Products = cat.NumProducts()
	s.Categories = len(m.nodes)
	latest := last
	for _, e := range m.events {
		latest = max(latest, e.unix)
	}
	if first >= 0 {
		s.First, s.Last = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
	}
	assert.Equal(t, s, h.Summary())
	if latest < 0 {
		assert.True(t, h.Latest().IsZero())
	} else {
		assert.Equal(t, time.Unix(latest, 0).UTC(), h.Latest())
	}
	assert.Equal(t, len(m.prods), cat.NumProducts())

	// buyers per product, per category (ancestors included), all buyers
	prodBuyers := map[string]map[affinity.CustomerID]bool{}
	all := map[affinity.CustomerID]bool{}
	for _, o := range m.orders {
		if o.cust == "" {
			continue
		}
		for _, l := range o.lines {
			if l.qty > 0 {
				if prodBuyers[l.prod] == nil {
					prodBuyers[l.prod] = map[affinity.CustomerID]bool{}
				}
				prodBuyers[l.prod][live[o.cust]] = true
				all[live[o.cust]] = true
			}
		}
	}
	setOf := func(xs map[affinity.CustomerID]bool) []uint32 {
		var out []uint32
		for x := range xs {
			out = append(out, uint32(x))
		}
		slices.Sort(out)
		return out
	}
	arr := func(a []uint32) []uint32 {
		if len(a) == 0 {
			return nil
		}
		return a
	}
	assert.Equal(t, setOf(all), arr(h.AllBuyers().ToArray()))
	for p := range m.prods {
		id, ok := cat.LookupProduct(p)
		require.True(t, ok, "product %s", p)
		assert.Equal(t, setOf(prodBuyers[p]), arr(h.Buyers(id).ToArray()), "buyers of %s", p)
	}
	catBuyers := map[string]map[affinity.CustomerID]bool{}
	for p, cs := range m.cats {
		for _, path := range cs {
			parts := strings.Split(affinity.CleanCategoryPath(path), "/")
			for d := 1; d <= len(parts); d++ {
				node := strings.Join(parts[:d], "/")
				if catBuyers[node] == nil {
					catBuyers[node] = map[affinity.CustomerID]bool{}
				}
				for c := range prodBuyers[p] {
					catBuyers[node][c] = true
				}
			}
		}
	}
	for cid := range cat.NumCategories() {
		c := affinity.CategoryID(cid)
		path := cat.CategoryPath(c)
		w := setOf(catBuyers[path])
		assert.Equal(t, w, arr(h.CategoryBuyers(c).ToArray()), "category %s", path)
		assert.Equal(t, len(w), h.CategoryBuyerCount(c), "category count %s", path)
	}

	// first and last purchases, as of random times
	for k, c := range live {
		var bt []int64
		var bo []*advReadOrder
		for _, o := range m.custOrders(k) {
			if o.bought() {
				bt = append(bt, o.unix())
				bo = append(bo, o)
			}
		}
		f, ok := h.FirstPurchase(c)
		l, ok2 := h.LastPurchase(c)
		assert.Equal(t, len(bt) > 0, ok)
		assert.Equal(t, len(bt) > 0, ok2)
		if len(bt) > 0 {
			assert.Equal(t, bt[0], f.Unix())
			assert.Equal(t, bt[len(bt)-1], l.Unix())
		}
		for range 4 {
			asOf := time.Unix(m.randTime(r)+int64(r.IntN(3)-1), 0)
			j := len(bt) - 1
			for j >= 0 && bt[j] > asOf.Unix() {
				j--
			}
			lt, ok := h.LastPurchaseBy(c, asOf)
			o, ok2 := h.LastPurchaseOrder(c, asOf)
			require.Equal(t, j >= 0, ok, "%s by %v", k, asOf)
			require.Equal(t, j >= 0, ok2)
			if j >= 0 {
				assert.Equal(t, bt[j], lt.Unix())
				assert.Equal(t, bt[j], h.OrderUnix(o))
				assert.Equal(t, c, h.OrderCustomer(o))
				assert.True(t, h.OrderBought(o))
				assert.Equal(t, bo[j].key, h.OrderKey(o))
			}
		}
	}

	// LookupOrder: the first order with the key in the History's order
	firstWith := map[string]affinity.OrderID{}
	for _, o := range ids {
		if k := h.OrderKey(o); k != "" {
			if _, ok := firstWith[k]; !ok {
				firstWith[k] = o
			}
		}
	}
	for k := 0; k <= m.nextO+1; k++ {
		key := fmt.Sprintf("o%03d", k)
		want, wok := firstWith[key]
		o, ok := h.LookupOrder(key)
		assert.Equal(t, wok, ok, "LookupOrder(%s)", key)
		if wok && ok {
			assert.Equal(t, want, o, "LookupOrder(%s)", key)
		}
	}
	_, ok := h.LookupOrder("")
	assert.False(t, ok, "the empty key is never found")
	// model count of keyed orders
	nk := 0
	for _, o := range m.orders {
		if o.key != "" {
			if _, ok := firstWith[o.key]; ok {
				nk++
			}
		}
	}
	assert.Equal(t, nk, func() int {
		n := 0
		for _, o := range ids {
			if h.OrderKey(o) != "" {
				n++
			}
		}
		return n
	}())

	// early break of every iterator gives a prefix and stops cleanly
	for k := range len(got) + 1 {
		var pre []affinity.Purchase
		for p := range h.Purchases() {
			if len(pre) == k {
				break
			}
			pre = append(pre, p)
		}
		require.True(t, slices.Equal(got[:k], pre), "break after %d", k)
	}
	for k := range len(ids) + 1 {
		var pre []affinity.OrderID
		for o := range h.Orders() {
			if len(pre) == k {
				break
			}
			pre = append(pre, o)
		}
		require.True(t, slices.Equal(ids[:k], pre), "break after %d", k)
	}
	for k := range len(gotEv) + 1 {
		var pre []affinity.Event
		for e := range h.Events() {
			if len(pre) == k {
				break
			}
			pre = append(pre, e)
		}
		require.True(t, slices.Equal(gotEv[:k], pre), "break after %d", k)
	}
}

// advReadCatalogFeed rebuilds h from its catalog (category nodes in id
// order, then products), History.Purchases and History.Events.
func advReadCatalogFeed(t *testing.T, h *affinity.History) *affinity.History {
	t.Helper()
	var b affinity.Builder
	cat := h.Catalog()
	for c := range cat.NumCategories() {
		_, err := b.AddCategory(cat.CategoryPath(affinity.CategoryID(c)))
		require.NoError(t, err)
	}
	for p := range cat.NumProducts() {
		require.NoError(t, b.AddProduct(cat.Product(affinity.ProductID(p))))
	}
	for p := range h.Purchases() {
		require.NoError(t, b.Add(p))
	}
	for e := range h.Events() {
		require.NoError(t, b.AddEvent(e))
	}
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	return h2
}

func TestAdvReadGenerationsMatchModel(t *testing.T) {
	for seed := range uint64(testdata.Scale(16, 6)) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0xadd))
			m := advReadNewModel()
			var b affinity.Builder
			m.gen(t, r, &b, false)
			h := m.build(t, &b)
			advReadCheck(t, r, h, m)
			for gen := range 5 {
				if r.IntN(2) == 0 {
					h.LookupOrder("o001") // build the key index before deriving
					if h.Catalog().NumCategories() > 0 {
						h.CategoryBuyers(0)
					}
				}
				b := affinity.NewBuilder(h)
				m.gen(t, r, b, true)
				h2 := m.build(t, b)
				advReadCheck(t, r, h2, m)
				if gen == 4 || t.Failed() {
					break
				}
				h = h2
			}
		})
	}
}

// the Purchases and Events of a History fed to an empty Builder after the
// catalog rebuild the same summary, orders, lines and buyer sets.
func TestAdvReadPurchasesRebuild(t *testing.T) {
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 0xfeed))
		m := advReadNewModel()
		var b affinity.Builder
		m.gen(t, r, &b, false)
		h := m.build(t, &b)
		b2 := affinity.NewBuilder(h)
		m.gen(t, r, b2, true)
		h = m.build(t, b2)
		h2 := advReadCatalogFeed(t, h)
		assert.Equal(t, h.Summary().Orders, h2.Summary().Orders, "seed %d", seed)
		s1, s2 := h.Summary(), h2.Summary()
		// customers only known from events or erased need not come back
		s1.Customers, s2.Customers, s1.Buyers, s2.Buyers = 0, 0, 0, 0
		assert.Equal(t, s1, s2, "seed %d", seed)
		assert.Equal(t, h.AllBuyers().GetCardinality(), h2.AllBuyers().GetCardinality())
		// ids: products as added (catalog in id order), customers with
		// orders in first-seen order, which is h's id order
		require.Equal(t, h.Catalog().NumProducts(), h2.Catalog().NumProducts())
		for p := range h.Catalog().NumProducts() {
			assert.Equal(t, h.Catalog().ProductKey(affinity.ProductID(p)), h2.Catalog().ProductKey(affinity.ProductID(p)))
		}
		next := affinity.CustomerID(0)
		for c := range h.NumCustomers() {
			if lo, hi := h.CustomerOrders(affinity.CustomerID(c)); lo < hi {
				c2, ok := h2.LookupCustomer(h.CustomerKey(affinity.CustomerID(c)))
				require.True(t, ok)
				assert.Equal(t, next, c2, "seed %d: customer ids in first-seen order", seed)
				next++
			}
		}
		var p1, p2 []affinity.Purchase
		for p := range h.Purchases() {
			p1 = append(p1, p)
		}
		for p := range h2.Purchases() {
			p2 = append(p2, p)
		}
		key := func(a, b affinity.Purchase) int {
			return cmp.Or(cmp.Compare(a.Customer, b.Customer), a.Time.Compare(b.Time), cmp.Compare(a.Order, b.Order),
				cmp.Compare(a.Product, b.Product), cmp.Compare(a.Quantity, b.Quantity), cmp.Compare(a.Price, b.Price))
		}
		slices.SortFunc(p1, key)
		slices.SortFunc(p2, key)
		assert.Equal(t, p1, p2, "seed %d", seed)
		// a History over the same catalog (NewCatalogBuilder): the same
		// category buyers, by customer key
		nb := affinity.NewCatalogBuilder(h.Catalog())
		for p := range h.Purchases() {
			require.NoError(t, nb.Add(p))
		}
		h3, err := nb.Build(context.Background())
		require.NoError(t, err)
		assert.Same(t, h.Catalog(), h3.Catalog())
		keys := func(h *affinity.History, cs []uint32) []string {
			var out []string
			for _, c := range cs {
				out = append(out, h.CustomerKey(affinity.CustomerID(c)))
			}
			slices.Sort(out)
			return out
		}
		for c := range h.Catalog().NumCategories() {
			id := affinity.CategoryID(c)
			assert.Equal(t, keys(h, h.CategoryBuyers(id).ToArray()), keys(h3, h3.CategoryBuyers(id).ToArray()), "seed %d category %d", seed, c)
			assert.Equal(t, h.CategoryBuyerCount(id), h3.CategoryBuyerCount(id))
		}
		for c := range h.Catalog().NumCategories() {
			path := h.Catalog().CategoryPath(affinity.CategoryID(c))
			c2, ok := h2.Catalog().LookupCategory(path)
			require.True(t, ok)
			assert.Equal(t, affinity.CategoryID(c), c2, "seed %d %s", seed, path)
			assert.Equal(t, h.CategoryBuyerCount(affinity.CategoryID(c)), h2.CategoryBuyerCount(c2), "seed %d %s", seed, path)
		}
	}
}

// Lookback.Start against the calendar arithmetic the documentation names:
// asOf in UTC, minus Months with the day clamped to the target month's
// last (the tests' reference, testdata.MonthsBefore), minus Duration.
func TestAdvReadLookbackStartNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	zones := []*time.Location{time.UTC, time.FixedZone("JST", 9*3600), time.FixedZone("M", -(9*3600 + 30*60)), time.FixedZone("K", 14*3600)}
	// month ends, leap days, and random instants in [MinUnix, MaxUnix]
	var instants []time.Time
	for _, y := range []int{1970, 1999, 2000, 2023, 2024, 2100, 2104, 2106} {
		for mo := time.January; mo <= time.December; mo++ {
			for _, d := range []int{1, 28, 29, 30, 31} {
				at := time.Date(y, mo, d, 23, 59, 59, 0, time.UTC)
				if at.Day() == d && at.Unix() >= affinity.MinUnix && at.Unix() <= affinity.MaxUnix {
					instants = append(instants, at)
				}
			}
		}
	}
	for range 300 {
		instants = append(instants, time.Unix(r.Int64N(affinity.MaxUnix+1), 0))
	}
	for _, at := range instants {
		months := r.IntN(30)
		if r.IntN(10) == 0 {
			months = r.IntN(120_001)
		}
		l := affinity.Lookback{Months: months}
		if r.IntN(2) == 0 {
			l.Duration = time.Duration(r.IntN(400)) * time.Hour
		}
		asOf := at.In(zones[r.IntN(len(zones))])
		want := testdata.MonthsBefore(at, months).Add(-l.Duration)
		got := l.Start(asOf)
		require.True(t, want.Equal(got), "%v before %v: got %v want %v", l, asOf, got, want)
		assert.Equal(t, time.UTC, got.Location())
		require.NoError(t, l.Validate())
		// Contains agrees with (Start, asOf]
		for _, d := range []time.Duration{-time.Second, 0, time.Nanosecond, time.Second} {
			for _, x := range []time.Time{got.Add(d), asOf.Add(d)} {
				assert.Equal(t, x.After(want) && !x.After(at), l.Contains(asOf, x), "%v %v %v", l, asOf, x)
			}
		}
		// Months(n) and Days(n) are the fields they name
		assert.Equal(t, affinity.Lookback{Months: months}, affinity.Months(months))
		d := r.IntN(5000)
		assert.Equal(t, affinity.Lookback{Duration: time.Duration(d) * 24 * time.Hour}, affinity.Days(d))
		assert.True(t, affinity.Days(d).Start(asOf).Equal(at.Add(-time.Duration(d)*24*time.Hour)))
		// AllTime holds everything up to asOf
		assert.True(t, affinity.AllTime.Contains(asOf, time.Unix(affinity.MinUnix, 0)))
		assert.True(t, affinity.AllTime.Contains(asOf, at))
		assert.False(t, affinity.AllTime.Contains(asOf, at.Add(time.Nanosecond)))
	}
}

// Latest covers events after the last order, an order's time is the
// earliest of its lines (sub-second parts dropped), and an empty History
// reads as empty everywhere.
func TestAdvReadLatestAndEmpty(t *testing.T) {
	var b affinity.Builder
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.True(t, h.Latest().IsZero())
	assert.Equal(t, affinity.Summary{}, h.Summary())
	for range h.Purchases() {
		t.Fatal("purchase in an empty History")
	}
	for range h.Orders() {
		t.Fatal("order in an empty History")
	}
	for range h.Events() {
		t.Fatal("event in an empty History")
	}
	_, ok := h.LookupOrder("x")
	assert.False(t, ok)
	assert.Zero(t, h.AllBuyers().GetCardinality())
	lo, hi := h.AnonymousOrders()
	assert.Equal(t, lo, hi)

	t0 := advReadT0
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "p", Order: "k", Time: t0.Add(time.Hour + 900*time.Millisecond), Quantity: 1, Price: 5}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "q", Order: "k", Time: t0.Add(30*time.Minute + 999*time.Millisecond), Quantity: -1, Price: 7}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "e", Product: "p", Time: t0.Add(48*time.Hour + 500*time.Millisecond), Kind: affinity.View, Weight: 1}))
	h, err = b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, t0.Add(48*time.Hour), h.Latest())
	s := h.Summary()
	assert.Equal(t, t0.Add(30*time.Minute), s.First)
	assert.Equal(t, t0.Add(30*time.Minute), s.Last)
	assert.Equal(t, affinity.Money(-2), s.Revenue)
	for p := range h.Purchases() {
		assert.Equal(t, t0.Add(30*time.Minute), p.Time, "a line's Time is its order's")
	}
	// an event only customer: empty order range, no purchases
	c, ok := h.LookupCustomer("e")
	require.True(t, ok)
	lo, hi = h.CustomerOrders(c)
	assert.Equal(t, lo, hi)
	_, ok = h.FirstPurchase(c)
	assert.False(t, ok)
	// a customer who only returned is not a buyer
	a, _ := h.LookupCustomer("a")
	q, _ := h.Catalog().LookupProduct("q")
	assert.False(t, h.Buyers(q).Contains(uint32(a)))
	assert.Equal(t, 1, s.Buyers)
}

// TestAdvReadPurchasesRebuildDocCategories: the rebuild History.Purchases
// documents keeps a category node no product names any more (a product
// re-described), so the summary is the same.
func TestAdvReadPurchasesRebuildDocCategories(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"Old/Shelf"}}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: advReadT0, Quantity: 1, Price: 10}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	require.NoError(t, nb.AddProduct(affinity.Product{Key: "p", Categories: []string{"New"}}))
	h, err = nb.Build(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, h.Catalog().NumCategories(), "category nodes, once created, are kept")

	var rb affinity.Builder // as History.Purchases documents: categories, then products in id order, then purchases
	for c := range h.Catalog().NumCategories() {
		id, err := rb.AddCategory(h.Catalog().CategoryPath(affinity.CategoryID(c)))
		require.NoError(t, err)
		require.Equal(t, affinity.CategoryID(c), id)
	}
	for p := range h.Catalog().NumProducts() {
		require.NoError(t, rb.AddProduct(h.Catalog().Product(affinity.ProductID(p))))
	}
	for p := range h.Purchases() {
		require.NoError(t, rb.Add(p))
	}
	h2, err := rb.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, h.Summary(), h2.Summary(), "the same summary")
}

// advReadSnap is everything a reader sees of h, to compare a History with
// itself after others were built on it.
type advReadSnap struct {
	Summary   affinity.Summary
	Latest    time.Time
	Purchases []affinity.Purchase
	Events    []affinity.Event
	Orders    []affinity.OrderID
	Lookup    map[string]affinity.OrderID
	CatBuyers [][]uint32
	Buyers    [][]uint32
}

func advReadSnapshot(h *affinity.History, maxKey int) advReadSnap {
	s := advReadSnap{Summary: h.Summary(), Latest: h.Latest(), Lookup: map[string]affinity.OrderID{}}
	for p := range h.Purchases() {
		s.Purchases = append(s.Purchases, p)
	}
	for e := range h.Events() {
		s.Events = append(s.Events, e)
	}
	for o := range h.Orders() {
		s.Orders = append(s.Orders, o)
	}
	for k := 0; k <= maxKey; k++ {
		key := fmt.Sprintf("o%03d", k)
		if o, ok := h.LookupOrder(key); ok {
			s.Lookup[key] = o
		}
	}
	for c := range h.Catalog().NumCategories() {
		s.CatBuyers = append(s.CatBuyers, h.CategoryBuyers(affinity.CategoryID(c)).ToArray())
	}
	for p := range h.Catalog().NumProducts() {
		s.Buyers = append(s.Buyers, h.Buyers(affinity.ProductID(p)).ToArray())
	}
	return s
}

// A History reads the same after Histories were built on it, siblings
// included, and every sibling matches its model; the lazily built key
// index and category buyers of the base are derived or not.
func TestAdvReadSiblingsAndImmutability(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x51b))
			m := advReadNewModel()
			var b affinity.Builder
			m.gen(t, r, &b, false)
			h := m.build(t, &b)
			nb := affinity.NewBuilder(h)
			m.gen(t, r, nb, true)
			h = m.build(t, nb) // a History on a base: lazy category buyers
			if seed%2 == 0 {
				advReadSnapshot(h, m.nextO+2) // build the lazy indexes first
			}
			before := advReadSnapshot(h, m.nextO+20)
			saved := *m.clone()
			type kept struct {
				h    *affinity.History
				snap advReadSnap
				maxO int
			}
			var all []kept
			for i := range 3 {
				mi := saved.clone()
				ri := rand.New(rand.NewPCG(seed, uint64(i)))
				bi := affinity.NewBuilder(h)
				mi.gen(t, ri, bi, true)
				hi := mi.build(t, bi)
				advReadCheck(t, ri, hi, mi)
				// and one more on the sibling
				bj := affinity.NewBuilder(hi)
				mi.gen(t, ri, bj, true)
				hj := mi.build(t, bj)
				advReadCheck(t, ri, hj, mi)
				require.Equal(t, before, advReadSnapshot(h, m.nextO+20), "base changed after sibling %d", i)
				all = append(all, kept{hi, advReadSnapshot(hi, mi.nextO+2), mi.nextO + 2}, kept{hj, advReadSnapshot(hj, mi.nextO+2), mi.nextO + 2})
				if t.Failed() {
					return
				}
			}
			for i, k := range all {
				assert.Equal(t, k.snap, advReadSnapshot(k.h, k.maxO), "History %d changed after later builds", i)
			}
		})
	}
}

func (m *advReadModel) clone() *advReadModel {
	c := *m
	c.orders = make(map[string]*advReadOrder, len(m.orders))
	for k, o := range m.orders {
		oc := *o
		oc.lines = slices.Clone(o.lines)
		c.orders[k] = &oc
	}
	c.events = slices.Clone(m.events)
	c.cats = make(map[string][]string, len(m.cats))
	for k, v := range m.cats {
		c.cats[k] = slices.Clone(v)
	}
	c.prods = maps.Clone(m.prods)
	c.keys = maps.Clone(m.keys)
	c.erased = maps.Clone(m.erased)
	c.nodes = maps.Clone(m.nodes)
	c.tomb = maps.Clone(m.tomb)
	c.puts, c.erases = nil, nil
	return &c
}

// Concurrent first calls of the lazily built reads (the order key index,
// the category buyers of a History built on a base) give what one reader
// alone gets from an identical History.
func TestAdvReadConcurrentLazyReads(t *testing.T) {
	mk := func() (*affinity.History, *advReadModel) {
		r := rand.New(rand.NewPCG(5, 55))
		m := advReadNewModel()
		var b affinity.Builder
		m.gen(t, r, &b, false)
		h := m.build(t, &b)
		h.LookupOrder("o001")
		nb := affinity.NewBuilder(h)
		m.gen(t, r, nb, true)
		return m.build(t, nb), m
	}
	h1, m := mk()
	h2, _ := mk()
	want := advReadSnapshot(h1, m.nextO+1)
	done := make(chan advReadSnap, 4)
	for range 4 {
		go func() { done <- advReadSnapshot(h2, m.nextO+1) }()
	}
	for range 4 {
		assert.Equal(t, want, <-done)
	}
}

// Orders at the same second go by shop order id; the last purchase as of
// a time passes over later return-only orders, at every asOf.
func TestAdvReadTiesAndLastPurchase(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	t0 := advReadT0
	type o struct {
		key string
		at  time.Duration
		qty int32
	}
	orders := []o{{"k5", 0, 1}, {"k1", 0, -1}, {"k3", 0, 2}, {"k9", time.Hour, -1}, {"k0", time.Hour, 1}, {"k2", time.Hour, -2},
		{"k4", 2 * time.Hour, -1}, {"k8", 3 * time.Hour, 1}, {"k7", 3 * time.Hour, 1}, {"k6", 4 * time.Hour, -3}}
	for _, x := range orders {
		require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: x.key, Time: t0.Add(x.at), Quantity: x.qty, Price: 100}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	c, _ := h.LookupCustomer("c")
	lo, hi := h.CustomerOrders(c)
	var keys []string
	for id := lo; id < hi; id++ {
		keys = append(keys, h.OrderKey(id))
	}
	assert.Equal(t, []string{"k1", "k3", "k5", "k0", "k2", "k9", "k4", "k7", "k8", "k6"}, keys, "time order, ties by shop order id")
	want := map[time.Duration]string{-time.Second: "", 0: "k5", time.Hour - time.Second: "k5", time.Hour: "k0",
		2 * time.Hour: "k0", 3*time.Hour - 1: "k0", 3 * time.Hour: "k8", 4 * time.Hour: "k8", 1000 * time.Hour: "k8"}
	for at, k := range want {
		asOf := t0.Add(at)
		id, ok := h.LastPurchaseOrder(c, asOf)
		lt, ok2 := h.LastPurchaseBy(c, asOf)
		assert.Equal(t, k != "", ok, "as of %v", at)
		assert.Equal(t, k != "", ok2, "as of %v", at)
		if ok && k != "" {
			assert.Equal(t, k, h.OrderKey(id), "as of %v", at)
			assert.Equal(t, h.OrderTime(id), lt)
		}
	}
	f, _ := h.FirstPurchase(c)
	l, _ := h.LastPurchase(c)
	assert.Equal(t, t0, f)
	assert.Equal(t, t0.Add(3*time.Hour), l)
	k, ok := h.LookupOrder("k6")
	require.True(t, ok)
	assert.False(t, h.OrderBought(k))
	assert.Equal(t, affinity.Money(-300), h.OrderValue(k))
}

// Sums near the bound of Money are exact in every read.
func TestAdvReadMoneyNearBound(t *testing.T) {
	ctx := context.Background()
	big := affinity.MaxMoney / 7 // price; lines of ±1 and ±2 units
	var b affinity.Builder
	add := func(cust, key string, qty int32, at time.Duration) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p" + key, Order: key, Time: advReadT0.Add(at), Quantity: qty, Price: big}))
	}
	add("a", "1", 2, 0)          // 2 big
	add("a", "1", -1, time.Hour) // same order: net big
	add("b", "2", -2, 0)         // -2 big
	add("", "3", 1, 0)           // anonymous big
	h, err := b.Build(ctx)
	require.NoError(t, err)
	s := h.Summary()
	assert.Equal(t, affinity.Money(0), s.Revenue)
	assert.Equal(t, -big, s.CustomerRevenue)
	o, _ := h.LookupOrder("1")
	assert.Equal(t, big, h.OrderValue(o))
	o, _ = h.LookupOrder("2")
	assert.Equal(t, -2*big, h.OrderValue(o))
	var sum affinity.Money
	for p := range h.Purchases() {
		sum += p.Value()
	}
	assert.Equal(t, affinity.Money(0), sum)
	assert.Equal(t, 2, s.Returns)
	// gross 6 big: on a base, 2 big more would pass MaxMoney and are refused, reads unchanged
	nb := affinity.NewBuilder(h)
	err = nb.Add(affinity.Purchase{Customer: "a", Product: "p", Order: "9", Time: advReadT0, Quantity: -2, Price: big})
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	assert.Same(t, h, h2, "a refused call is no change")
}

// Iterators: a panic in the loop body reaches the caller, nested loops
// and lazily built reads inside a loop work, and each iterator can be
// ranged again.
func TestAdvReadIteratorBodies(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 99))
	m := advReadNewModel()
	var b affinity.Builder
	m.gen(t, r, &b, false)
	h := m.build(t, &b)
	nb := affinity.NewBuilder(h)
	m.gen(t, r, nb, true)
	h = m.build(t, nb)
	require.Positive(t, h.NumLines())
	require.Positive(t, h.NumEvents())

	assert.PanicsWithValue(t, "body", func() {
		for range h.Purchases() {
			panic("body")
		}
	})
	assert.PanicsWithValue(t, "body", func() {
		for range h.Events() {
			panic("body")
		}
	})
	assert.PanicsWithValue(t, "body", func() {
		for range h.Orders() {
			panic("body")
		}
	})
	// nested, with the lazy reads first called inside a loop
	n, pairs := 0, 0
	for o := range h.Orders() {
		n++
		if k := h.OrderKey(o); k != "" {
			got, ok := h.LookupOrder(k)
			assert.True(t, ok)
			assert.Equal(t, k, h.OrderKey(got))
		}
		for c := range h.Catalog().NumCategories() {
			_ = h.CategoryBuyers(affinity.CategoryID(c))
		}
		for o2 := range h.Orders() {
			pairs++
			if o2 == o {
				break
			}
		}
	}
	assert.Equal(t, h.NumOrders(), n)
	assert.Equal(t, n*(n+1)/2, pairs)
	a := advReadSnapshot(h, m.nextO)
	assert.Equal(t, a, advReadSnapshot(h, m.nextO))
}

func TestAdvReadLookbackMisc(t *testing.T) {
	def := affinity.Months(24)
	assert.Equal(t, def, affinity.Lookback{}.Or(def))
	assert.Equal(t, affinity.AllTime, affinity.AllTime.Or(def))
	assert.Equal(t, affinity.Days(3), affinity.Days(3).Or(def))
	assert.True(t, affinity.Lookback{}.IsZero())
	assert.False(t, affinity.Days(0).Or(def).IsZero())
	assert.NoError(t, affinity.Months(120_000).Validate())
	assert.ErrorIs(t, affinity.Months(120_001).Validate(), affinity.ErrInvalid)
	assert.ErrorIs(t, affinity.Days(-1).Validate(), affinity.ErrInvalid)
	assert.ErrorIs(t, affinity.Days(-1<<40).Validate(), affinity.ErrInvalid)
	assert.True(t, affinity.AllTime.Start(advReadT0).IsZero())
	// the longest valid look-backs at the ends of the stored range
	for _, at := range []time.Time{time.Unix(affinity.MinUnix, 0), time.Unix(affinity.MaxUnix, 0)} {
		for _, l := range []affinity.Lookback{{Months: 120_000, Duration: affinity.Days(106_751).Duration}, affinity.Days(1 << 40), {Months: 120_000}} {
			require.NoError(t, l.Validate())
			want := testdata.MonthsBefore(at, l.Months).Add(-l.Duration)
			got := l.Start(at)
			assert.True(t, want.Equal(got), "%v before %v: got %v want %v", l, at, got, want)
			assert.True(t, got.Before(at))
			assert.True(t, l.Contains(at, at))
			assert.True(t, l.Contains(at, time.Unix(affinity.MinUnix, 0)))
		}
	}
	// a zone with summer time: the UTC calendar decides
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	for _, at := range []time.Time{
		time.Date(2024, 3, 10, 6, 30, 0, 0, time.UTC), // 01:30 EST, before the change
		time.Date(2024, 3, 31, 3, 0, 0, 0, time.UTC),  // 30 March 23:00 EDT
		time.Date(2024, 11, 3, 5, 30, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC), // 29 Feb 20:00 EST
	} {
		for months := range 14 {
			want := testdata.MonthsBefore(at, months)
			assert.True(t, want.Equal(affinity.Months(months).Start(at.In(ny))), "%d months before %v", months, at)
		}
	}
}

// TestAdvReadErasedPutProduct: a product first met in a PutOrder of a
// customer erased in the same Builder enters the History no more than
// that customer does (a put enters only when it survives; EraseCustomer's
// doc), where an Add of the same line numbered both at the call; and such
// a put changes nothing else: on a base without the customer, Build
// returns the base itself.
func TestAdvReadErasedPutProduct(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "old", Order: "o1", Time: advReadT0, Quantity: 1, Price: 10}))
	base, err := b.Build(ctx)
	require.NoError(t, err)
	line := affinity.Purchase{Customer: "c", Product: "new", Order: "o2", Time: advReadT0.Add(time.Hour), Quantity: 1, Price: 10}

	viaAdd := affinity.NewBuilder(base)
	require.NoError(t, viaAdd.Add(line))
	viaAdd.EraseCustomer("c")
	h1, err := viaAdd.Build(ctx)
	require.NoError(t, err)
	_, ok := h1.Catalog().LookupProduct("new")
	assert.True(t, ok, "Add then erase: the product was numbered at the call and stays")

	viaPut := affinity.NewBuilder(base)
	require.NoError(t, viaPut.PutOrder("o2", 1, []affinity.Purchase{line}))
	viaPut.EraseCustomer("c")
	h2, err := viaPut.Build(ctx)
	require.NoError(t, err)
	_, ok = h2.Catalog().LookupProduct("new")
	assert.False(t, ok, "PutOrder then erase: the put did not survive")
	s1, s2 := h1.Summary(), h2.Summary()
	assert.Equal(t, s1.Products-1, s2.Products)
	s1.Products = s2.Products
	assert.Equal(t, s1, s2, "otherwise the same History")

	for _, prod := range []string{"old", "newer"} {
		nb := affinity.NewBuilder(base)
		require.NoError(t, nb.PutOrder("z1", 1, []affinity.Purchase{{Customer: "z", Product: prod, Order: "z1", Time: advReadT0, Quantity: 1, Price: 1}}))
		nb.EraseCustomer("z")
		h, err := nb.Build(ctx)
		require.NoError(t, err)
		assert.Same(t, base, h, "an erased customer's put of %s changes nothing", prod)
	}
}

// ValidTime agrees with what Add and AddEvent accept at the ends of the
// range, and an accepted time reads back as its Unix second.
func TestAdvReadValidTimeEdges(t *testing.T) {
	ctx := context.Background()
	for _, at := range []time.Time{
		time.Unix(affinity.MinUnix-1, 0), time.Unix(affinity.MinUnix, -1), time.Unix(affinity.MinUnix, 0),
		time.Unix(affinity.MinUnix, 999_999_999), time.Unix(affinity.MaxUnix, 0), time.Unix(affinity.MaxUnix, 500_000_000),
		time.Unix(affinity.MaxUnix+1, 0), {},
	} {
		valid := affinity.ValidTime(at)
		var b affinity.Builder
		p := affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: at, Quantity: 1, Price: 1}
		e := affinity.Event{Customer: "c", Product: "p", Time: at, Kind: affinity.View, Weight: 1}
		assert.Equal(t, valid, b.Check(p) == nil, "Check %v", at)
		errAdd := b.Add(p)
		errEv := b.AddEvent(e)
		assert.Equal(t, valid, errAdd == nil, "Add %v: %v", at, errAdd)
		assert.Equal(t, valid, errEv == nil, "AddEvent %v: %v", at, errEv)
		if !valid {
			assert.ErrorIs(t, errAdd, affinity.ErrInvalid)
			assert.ErrorIs(t, errEv, affinity.ErrInvalid)
			continue
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		o, ok := h.LookupOrder("o")
		require.True(t, ok)
		assert.Equal(t, at.Unix(), h.OrderUnix(o), "%v", at)
		assert.Equal(t, time.Unix(at.Unix(), 0).UTC(), h.Latest())
		lo, _ := h.CustomerEvents(0)
		assert.Equal(t, at.Unix(), h.Event(lo).Unix)
	}
}

// Lines without an order id are one order per customer and second, also
// when the second's order is in the base.
func TestAdvReadEmptyKeyJoinsBaseOrder(t *testing.T) {
	ctx := context.Background()
	for _, cust := range []string{"c", ""} {
		var b affinity.Builder
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p1", Time: advReadT0.Add(200 * time.Millisecond), Quantity: 1, Price: 3}))
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: "p9", Time: advReadT0.Add(time.Second), Quantity: 1, Price: 3}))
		base, err := b.Build(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, base.NumOrders())
		nb := affinity.NewBuilder(base)
		require.NoError(t, nb.Add(affinity.Purchase{Customer: cust, Product: "p2", Time: advReadT0.Add(900 * time.Millisecond), Quantity: -1, Price: 5}))
		h, err := nb.Build(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, h.NumOrders(), "customer %q", cust)
		var ps []affinity.Purchase
		for p := range h.Purchases() {
			ps = append(ps, p)
		}
		require.Len(t, ps, 3)
		assert.Equal(t, []string{"p1", "p2", "p9"}, []string{ps[0].Product, ps[1].Product, ps[2].Product}, "lines in the order added, orders in time order")
		assert.Equal(t, advReadT0, ps[1].Time)
		s := h.Summary()
		assert.Equal(t, affinity.Money(1), s.Revenue)
		assert.Equal(t, 1, s.Returns)
	}
}

// The empty key names no customer, erased ones (whose key is empty)
// included.
func TestAdvReadEmptyCustomerKey(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: advReadT0, Quantity: 1, Price: 1}))
	require.NoError(t, b.Add(affinity.Purchase{Product: "p", Order: "a", Time: advReadT0, Quantity: 1, Price: 1}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	_, ok := h.LookupCustomer("")
	assert.False(t, ok, "anonymous lines make no customer")
	nb := affinity.NewBuilder(h)
	nb.EraseCustomer("c")
	h, err = nb.Build(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, h.NumCustomers())
	assert.Equal(t, "", h.CustomerKey(0))
	_, ok = h.LookupCustomer("")
	assert.False(t, ok, "an erased customer is not found by its empty key")
	_, ok = h.LookupCustomer("c")
	assert.False(t, ok)
	o, ok := h.LookupOrder("a")
	require.True(t, ok)
	assert.Equal(t, affinity.NoCustomer, h.OrderCustomer(o))
	_, ok = h.LookupOrder("o")
	assert.False(t, ok, "the erased customer's order is gone")
	assert.Equal(t, 1, h.NumOrders())
	assert.Zero(t, h.AllBuyers().GetCardinality())
	p, _ := h.Catalog().LookupProduct("p")
	assert.Zero(t, h.Buyers(p).GetCardinality())
}

// Events and summaries marshal with the documented names and come back.
func TestAdvReadJSON(t *testing.T) {
	for k := affinity.View; k <= affinity.Wishlist; k++ {
		assert.True(t, k.Valid())
		b, err := k.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, k.String(), string(b))
		var back affinity.EventKind
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, k, back)
	}
	for _, k := range []affinity.EventKind{0, affinity.Wishlist + 1, 255} {
		assert.False(t, k.Valid())
		_, err := k.MarshalText()
		assert.Error(t, err, "kind %d", k)
	}
	var k affinity.EventKind
	assert.Error(t, k.UnmarshalText([]byte("View ")))
	assert.Error(t, k.UnmarshalText([]byte("")))

	e := affinity.Event{Customer: "c", Product: "p", Time: advReadT0, Kind: affinity.Rating, Weight: 4.5}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"customer":"c","product":"p","time":"2024-02-27T22:00:00Z","kind":"rating","weight":4.5}`, string(b))
	var eb affinity.Event
	require.NoError(t, json.Unmarshal(b, &eb))
	assert.Equal(t, e, eb)

	var s affinity.Summary
	b, err = json.Marshal(s)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "first_order")
	assert.NotContains(t, string(b), "last_order")
	var bb affinity.Builder
	require.NoError(t, bb.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: advReadT0, Quantity: 2, Price: 12_9000}))
	h, err := bb.Build(context.Background())
	require.NoError(t, err)
	b, err = json.Marshal(h.Summary())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "25.80", m["revenue"])
	assert.Equal(t, "2024-02-27T22:00:00Z", m["first_order"])
	assert.Equal(t, "2024-02-27T22:00:00Z", m["last_order"])
	var sb affinity.Summary
	require.NoError(t, json.Unmarshal(b, &sb))
	assert.Equal(t, h.Summary(), sb)
}
