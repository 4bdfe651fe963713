package affinity_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file checks a built History against a naive model computed directly
// from the raw records: maps and sorts, no columns, no offsets, no caches.

// record is one Builder call: exactly one of its pointers is set.
type record struct {
	purchase *affinity.Purchase
	event    *affinity.Event
	product  *affinity.Product
}

func (r record) String() string {
	switch {
	case r.purchase != nil:
		return fmt.Sprintf("Add(%+v)", *r.purchase)
	case r.event != nil:
		return fmt.Sprintf("AddEvent(%+v)", *r.event)
	default:
		return fmt.Sprintf("AddProduct(%+v)", *r.product)
	}
}

// valid is the naive statement of what the Builder must accept.
func (r record) valid() bool {
	switch {
	case r.purchase != nil:
		p := r.purchase
		_, fits := p.Price.Mul(int64(p.Quantity))
		return p.Product != "" && !p.Time.IsZero() && affinity.ValidTime(p.Time) && p.Quantity != 0 && p.Price >= 0 && fits
	case r.event != nil:
		e := r.event
		w := float64(e.Weight)
		return e.Customer != "" && e.Product != "" && !e.Time.IsZero() && affinity.ValidTime(e.Time) &&
			e.Kind >= affinity.View && e.Kind <= affinity.Wishlist && !math.IsNaN(w) && !math.IsInf(w, 0)
	default:
		return r.product.Key != "" && r.product.Price >= 0
	}
}

func (r record) addTo(b *affinity.Builder) error {
	switch {
	case r.purchase != nil:
		return b.Add(*r.purchase)
	case r.event != nil:
		return b.AddEvent(*r.event)
	default:
		return b.AddProduct(*r.product)
	}
}

// addAll feeds recs to b and checks that exactly the invalid ones are
// refused with ErrInvalid.
func addAll(t testing.TB, b *affinity.Builder, recs []record) {
	t.Helper()
	for i, r := range recs {
		// the assertions only on a failure: t.Helper per record costs
		// more than the Builder
		err := r.addTo(b)
		if r.valid() && err != nil {
			require.NoError(t, err, "record %d: %v", i, r)
		} else if !r.valid() && !errors.Is(err, affinity.ErrInvalid) {
			require.ErrorIs(t, err, affinity.ErrInvalid, "record %d: %v", i, r)
		}
	}
}

func build(t testing.TB, base *affinity.History, recs []record) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(base)
	addAll(t, b, recs)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	require.NotNil(t, h)
	if base == nil {
		requireDense(t, h, true)
	}
	return h
}

// requireDense requires the layout of a History built from scratch: its
// orders numbered 0, 1, … in the History's order, without unused ids,
// and, with events, its events too.
func requireDense(t testing.TB, h *affinity.History, events bool) {
	t.Helper()
	require.Equal(t, h.NumOrders(), h.NumOrderIDs(), "order ids")
	i := 0
	for o := range h.Orders() {
		if o != affinity.OrderID(i) { // require only on a failure, as in checkInvariants
			require.Equal(t, affinity.OrderID(i), o, "order ids")
		}
		i++
	}
	if !events {
		return
	}
	e := 0
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		if lo != e {
			require.Equal(t, e, lo, "events of customer %d", c)
		}
		e = hi
	}
	require.Equal(t, h.NumEvents(), e, "events")
}

// categoryPool mixes clean and unclean paths with shared prefixes.
var categoryPool = []string{
	"Apparel", "Apparel/Sportswear", "Apparel/Sportswear/Running",
	" Apparel / Shoes ", "Apparel//Shoes/Trail", "Home/Kitchen", "Home",
	"Books/Fiction/Crime", "Books/Fiction", "Toys", "", " / ", "Garden/Tools/",
}

var zones = []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("NST", -(3*3600 + 1800))}

// genRecords returns about n random Builder calls. Small pools of keys and a
// short time span make same-second lines, shared order ids, duplicates and
// products seen in several roles common.
func genRecords(r *rand.Rand, n int) []record {
	nCust := 1 + r.IntN(n/4+1)
	nProd := 1 + r.IntN(n/5+3)
	nOrder := 1 + r.IntN(n/6+2)
	span := 1 + r.IntN(4*n+10) // seconds
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	when := func() time.Time {
		d := time.Duration(r.IntN(span))*time.Second + time.Duration(r.IntN(1e9))
		return base.Add(d).In(zones[r.IntN(len(zones))])
	}
	customer := func() string {
		if r.IntN(6) == 0 {
			return ""
		}
		return fmt.Sprintf("c%d", r.IntN(nCust))
	}
	product := func() string { return fmt.Sprintf("p%d", r.IntN(nProd)) }
	purchase := func() affinity.Purchase {
		p := affinity.Purchase{
			Customer: customer(),
			Product:  product(),
			Time:     when(),
			Quantity: int32(1 + r.IntN(4)),
			Price:    affinity.Money(r.IntN(5)*2500 + r.IntN(2)*r.IntN(10000)),
		}
		if r.IntN(2) == 0 {
			p.Order = fmt.Sprintf("o%d", r.IntN(nOrder))
		}
		if r.IntN(7) == 0 {
			p.Quantity = -p.Quantity
		}
		return p
	}

	var recs []record
	for len(recs) < n {
		switch x := r.IntN(100); {
		case x < 55:
			// An order as a shop exports it: a run of lines with the same
			// customer and order, a few seconds apart at most.
			p := purchase()
			for k := 1 + r.IntN(4); k > 0; k-- {
				q := p
				switch r.IntN(4) {
				case 0: // exact duplicate
				case 1:
					q.Product = product()
				default:
					q.Product = product()
					q.Time = q.Time.Add(time.Duration(r.IntN(3)-1) * time.Second)
					q.Quantity = int32(r.IntN(9) - 4)
					if q.Quantity == 0 {
						q.Quantity = 1
					}
				}
				recs = append(recs, record{purchase: &q})
			}
		case x < 70:
			e := affinity.Event{
				Customer: fmt.Sprintf("c%d", r.IntN(nCust+2)), // some customers have events only
				Product:  product(),
				Time:     base.Add(time.Duration(r.IntN(span/8+1)) * time.Second),
				Kind:     affinity.EventKind(1 + r.IntN(4)),
				Weight:   1,
			}
			if e.Kind == affinity.Rating {
				e.Weight = float32(1+r.IntN(10)) / 2
			}
			recs = append(recs, record{event: &e})
		case x < 85:
			p := affinity.Product{
				Key:     product(),
				Name:    fmt.Sprintf("Product %d", r.IntN(1000)),
				Price:   affinity.Money(r.IntN(100000)),
				InStock: r.IntN(3) > 0,
			}
			for range r.IntN(4) {
				p.Categories = append(p.Categories, categoryPool[r.IntN(len(categoryPool))])
			}
			recs = append(recs, record{product: &p})
		default:
			recs = append(recs, invalidRecord(r, purchase))
		}
	}
	if r.IntN(2) == 0 {
		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	}
	return recs
}

// invalidRecord returns a record the Builder must refuse. Keys are fresh so
// that storing any part of it would show up as an extra customer or product.
func invalidRecord(r *rand.Rand, purchase func() affinity.Purchase) record {
	switch r.IntN(3) {
	case 0:
		p := purchase()
		p.Customer = "ghost-customer"
		switch r.IntN(4) {
		case 0:
			p.Product = ""
		case 1:
			p.Product, p.Time = "ghost-product", time.Time{}
		case 2:
			p.Product, p.Quantity = "ghost-product", 0
		default:
			p.Product, p.Price = "ghost-product", -1
		}
		return record{purchase: &p}
	case 1:
		e := affinity.Event{Customer: "ghost-customer", Product: "ghost-product", Time: time.Unix(1e9, 0), Kind: affinity.View, Weight: 1}
		switch r.IntN(6) {
		case 0:
			e.Customer = ""
		case 1:
			e.Product = ""
		case 2:
			e.Time = time.Time{}
		case 3:
			e.Kind = affinity.EventKind([]uint8{0, 5, 255}[r.IntN(3)])
		case 4:
			e.Weight = float32(math.NaN())
		default:
			e.Weight = float32(math.Inf(1 - 2*r.IntN(2)))
		}
		return record{event: &e}
	default:
		p := affinity.Product{Key: "ghost-product", Categories: []string{"Ghost/Category"}, Price: -5}
		if r.IntN(2) == 0 {
			p.Key, p.Price = "", 5
		}
		return record{product: &p}
	}
}

// model is the naive expectation for a sequence of records.
type model struct {
	customers []string
	custID    map[string]int
	products  []affinity.Product // final catalog entry per product id
	prodID    map[string]int
	catPaths  map[string]bool // every category node ever created

	custOrders [][]*modelOrder // per customer, sorted by (time, key)
	anonOrders []*modelOrder
	events     [][]eventView // per customer, sorted by (time, product key, kind, weight)
	lines      int
}

type modelOrder struct {
	cust  int // -1 when anonymous
	key   string
	unix  int64
	lines []lineView
}

type lineView struct {
	Product  string
	Quantity int32
	Price    affinity.Money
}

type eventView struct {
	Product string
	Unix    int64
	Kind    affinity.EventKind
	Weight  float32
}

type orderView struct {
	Customer string
	Key      string
	Unix     int64
	Value    affinity.Money
	Lines    []lineView
}

func newModel(recs []record) *model {
	m := &model{custID: map[string]int{}, prodID: map[string]int{}, catPaths: map[string]bool{}}
	customer := func(k string) int {
		if id, ok := m.custID[k]; ok {
			return id
		}
		m.custID[k] = len(m.customers)
		m.customers = append(m.customers, k)
		return len(m.customers) - 1
	}
	product := func(k string) int {
		if id, ok := m.prodID[k]; ok {
			return id
		}
		m.prodID[k] = len(m.products)
		m.products = append(m.products, affinity.Product{Key: k, Categories: []string{}, InStock: true})
		return len(m.products) - 1
	}
	type orderKey struct {
		cust int
		key  string
		unix int64
	}
	orders := map[orderKey]*modelOrder{}
	var allOrders []*modelOrder
	var events []struct {
		cust int
		ev   eventView
	}
	for _, r := range recs {
		if !r.valid() {
			continue
		}
		switch {
		case r.purchase != nil:
			p := r.purchase
			c := -1
			if p.Customer != "" {
				c = customer(p.Customer)
			}
			product(p.Product)
			k := orderKey{cust: c, key: p.Order}
			if p.Order == "" {
				k.unix = p.Time.Unix()
			}
			o := orders[k]
			if o == nil {
				o = &modelOrder{cust: c, key: p.Order, unix: p.Time.Unix()}
				orders[k] = o
				allOrders = append(allOrders, o)
			}
			o.unix = min(o.unix, p.Time.Unix())
			o.lines = append(o.lines, lineView{p.Product, p.Quantity, p.Price})
			m.lines++
		case r.event != nil:
			e := r.event
			c := customer(e.Customer)
			product(e.Product)
			events = append(events, struct {
				cust int
				ev   eventView
			}{c, eventView{e.Product, e.Time.Unix(), e.Kind, e.Weight}})
		default:
			p := r.product
			id := product(p.Key)
			entry := affinity.Product{Key: p.Key, Name: p.Name, Price: p.Price, InStock: p.InStock, Categories: []string{}}
			for _, path := range p.Categories {
				var levels []string
				for _, l := range strings.Split(path, "/") {
					if l = strings.TrimSpace(l); l != "" {
						levels = append(levels, l)
						m.catPaths[strings.Join(levels, "/")] = true
					}
				}
				if clean := strings.Join(levels, "/"); clean != "" && !slices.Contains(entry.Categories, clean) {
					entry.Categories = append(entry.Categories, clean)
				}
			}
			m.products[id] = entry
		}
	}
	m.custOrders = make([][]*modelOrder, len(m.customers))
	for _, o := range allOrders {
		if o.cust < 0 {
			m.anonOrders = append(m.anonOrders, o)
		} else {
			m.custOrders[o.cust] = append(m.custOrders[o.cust], o)
		}
	}
	byTime := func(a, b *modelOrder) int { return cmp.Or(cmp.Compare(a.unix, b.unix), strings.Compare(a.key, b.key)) }
	for _, os := range m.custOrders {
		slices.SortFunc(os, byTime)
	}
	slices.SortFunc(m.anonOrders, byTime)
	m.events = make([][]eventView, len(m.customers))
	for _, e := range events {
		m.events[e.cust] = append(m.events[e.cust], e.ev)
	}
	for _, evs := range m.events {
		slices.SortFunc(evs, func(a, b eventView) int {
			return cmp.Or(cmp.Compare(a.Unix, b.Unix), strings.Compare(a.Product, b.Product), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Weight, b.Weight))
		})
	}
	return m
}

func (m *model) numOrders() int {
	n := len(m.anonOrders)
	for _, os := range m.custOrders {
		n += len(os)
	}
	return n
}

func (m *model) numEvents() int {
	n := 0
	for _, evs := range m.events {
		n += len(evs)
	}
	return n
}

func (o *modelOrder) view(customers []string) orderView {
	v := orderView{Key: o.key, Unix: o.unix, Lines: o.lines}
	if o.cust >= 0 {
		v.Customer = customers[o.cust]
	}
	for _, l := range o.lines {
		v.Value += affinity.Money(l.Quantity) * l.Price
	}
	return v
}

// bought reports whether o has a line with positive quantity.
func (o *modelOrder) bought() bool {
	return slices.ContainsFunc(o.lines, func(l lineView) bool { return l.Quantity > 0 })
}

// shares is the documented category weighting: 1/n per path, every prefix
// of a path gets the path's weight, sums capped at 1.
func (m *model) shares(p int) map[string]float64 {
	paths := m.products[p].Categories
	w := map[string]float64{}
	for _, path := range paths {
		levels := strings.Split(path, "/")
		for i := range levels {
			prefix := strings.Join(levels[:i+1], "/")
			w[prefix] = min(w[prefix]+1/float64(len(paths)), 1)
		}
	}
	return w
}

func viewOrder(h *affinity.History, o affinity.OrderID) orderView {
	v := orderView{Key: h.OrderKey(o), Unix: h.OrderUnix(o), Value: h.OrderValue(o)}
	if c := h.OrderCustomer(o); c != affinity.NoCustomer {
		v.Customer = h.CustomerKey(c)
	}
	lo, hi := h.OrderLines(o)
	for i := lo; i < hi; i++ {
		l := h.Line(i)
		v.Lines = append(v.Lines, lineView{h.Catalog().ProductKey(l.Product), l.Quantity, l.Price})
	}
	return v
}

func viewOrders(h *affinity.History, lo, hi affinity.OrderID) []orderView {
	var vs []orderView
	for o := lo; o < hi; o++ {
		vs = append(vs, viewOrder(h, o))
	}
	return vs
}

func bitmapOf(ids []int) []uint32 {
	out := make([]uint32, len(ids))
	for i, id := range ids {
		out[i] = uint32(id)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkModel compares everything h exposes with the model of recs.
func checkModel(t testing.TB, recs []record, h *affinity.History) {
	t.Helper()
	m := newModel(recs)
	checkInvariants(t, h)
	cat := h.Catalog()

	require.Equal(t, len(m.customers), h.NumCustomers(), "customers")
	require.Equal(t, len(m.products), cat.NumProducts(), "products")
	require.Equal(t, m.numOrders(), h.NumOrders(), "orders")
	require.Equal(t, m.lines, h.NumLines(), "lines")
	require.Equal(t, m.numEvents(), h.NumEvents(), "events")
	require.Equal(t, len(m.catPaths), cat.NumCategories(), "categories")

	// Dense ids in first-seen order, both ways. (The checks per
	// customer, product and event call testify only on a failure: its
	// t.Helper costs more than the History's accessors.)
	for i, k := range m.customers {
		c := affinity.CustomerID(i)
		if got, ok := h.LookupCustomer(k); h.CustomerKey(c) != k || !ok || got != c {
			require.Equal(t, k, h.CustomerKey(c))
			require.True(t, ok, k)
			require.Equal(t, c, got, k)
		}
	}
	for _, k := range []string{"", "ghost-customer", "no such customer"} {
		_, ok := h.LookupCustomer(k)
		assert.False(t, ok, "LookupCustomer(%q)", k)
	}
	for i, want := range m.products {
		p := affinity.ProductID(i)
		got, ok := cat.LookupProduct(want.Key)
		if !ok || got != p {
			require.True(t, ok, want.Key)
			require.Equal(t, p, got, want.Key)
		}
		if !reflect.DeepEqual(want, cat.Product(p)) || want.Key != cat.ProductKey(p) || want.Name != cat.ProductName(p) ||
			want.Price != cat.ProductPrice(p) || want.InStock != cat.InStock(p) {
			assert.Equal(t, want, cat.Product(p))
			assert.Equal(t, want.Key, cat.ProductKey(p))
			assert.Equal(t, want.Name, cat.ProductName(p))
			assert.Equal(t, want.Price, cat.ProductPrice(p))
			assert.Equal(t, want.InStock, cat.InStock(p))
		}
	}
	for _, k := range []string{"", "ghost-product"} {
		_, ok := cat.LookupProduct(k)
		assert.False(t, ok, "LookupProduct(%q)", k)
	}
	checkCategoryTree(t, cat, m.catPaths)
	for i := range m.products {
		checkShares(t, cat, affinity.ProductID(i), m.shares(i))
	}

	// Orders and lines per customer, then anonymous ones.
	var buyers = make([][]int, len(m.products))
	catBuyers := map[string][]int{}
	var allBuyers []int
	var sum affinity.Summary
	for i, k := range m.customers {
		c := affinity.CustomerID(i)
		var want []orderView
		var first, last int64
		bought := false
		for _, o := range m.custOrders[i] {
			want = append(want, o.view(m.customers))
			if o.bought() {
				if !bought {
					first = o.unix
				}
				bought = true
				first, last = min(first, o.unix), max(last, o.unix)
			}
			for _, l := range o.lines {
				sum.CustomerRevenue += affinity.Money(l.Quantity) * l.Price
				if l.Quantity > 0 {
					p := m.prodID[l.Product]
					buyers[p] = append(buyers[p], i)
					for path := range m.shares(p) {
						catBuyers[path] = append(catBuyers[path], i)
					}
				}
			}
		}
		lo, hi := h.CustomerOrders(c)
		if got := viewOrders(h, lo, hi); !reflect.DeepEqual(want, got) {
			require.Equal(t, want, got, "orders of customer %q", k)
		}

		ft, fok := h.FirstPurchase(c)
		lt, lok := h.LastPurchase(c)
		if fok != bought || lok != bought {
			require.Equal(t, bought, fok, "FirstPurchase ok of %q", k)
			require.Equal(t, bought, lok, "LastPurchase ok of %q", k)
		}
		if bought {
			allBuyers = append(allBuyers, i)
			if !reflect.DeepEqual(time.Unix(first, 0).UTC(), ft) || !reflect.DeepEqual(time.Unix(last, 0).UTC(), lt) {
				assert.Equal(t, time.Unix(first, 0).UTC(), ft, "FirstPurchase of %q", k)
				assert.Equal(t, time.Unix(last, 0).UTC(), lt, "LastPurchase of %q", k)
			}
		} else if !ft.IsZero() || !lt.IsZero() {
			assert.True(t, ft.IsZero())
			assert.True(t, lt.IsZero())
		}

		elo, ehi := h.CustomerEvents(c)
		var gotEvents []eventView
		for e := elo; e < ehi; e++ {
			ev := h.Event(e)
			gotEvents = append(gotEvents, eventView{cat.ProductKey(ev.Product), ev.Unix, ev.Kind, ev.Weight})
			if !reflect.DeepEqual(time.Unix(ev.Unix, 0).UTC(), ev.Time()) {
				assert.Equal(t, time.Unix(ev.Unix, 0).UTC(), ev.Time())
			}
		}
		if !reflect.DeepEqual(m.events[i], gotEvents) {
			require.Equal(t, m.events[i], gotEvents, "events of customer %q", k)
		}
	}
	var wantAnon []orderView
	for _, o := range m.anonOrders {
		wantAnon = append(wantAnon, o.view(m.customers))
		sum.AnonymousLines += len(o.lines)
	}
	alo, ahi := h.AnonymousOrders()
	require.Equal(t, wantAnon, viewOrders(h, alo, ahi), "anonymous orders")

	// Buyer bitmaps.
	for i := range m.products {
		if want, got := bitmapOf(buyers[i]), h.Buyers(affinity.ProductID(i)).ToArray(); !reflect.DeepEqual(want, got) {
			assert.Equal(t, want, got, "buyers of %q", m.products[i].Key)
		}
	}
	for path := range m.catPaths {
		id, ok := cat.LookupCategory(path)
		require.True(t, ok, path)
		assert.Equal(t, bitmapOf(catBuyers[path]), h.CategoryBuyers(id).ToArray(), "buyers of category %q", path)
	}
	assert.Equal(t, bitmapOf(allBuyers), h.AllBuyers().ToArray(), "all buyers")

	// Summary.
	sum.Customers, sum.Buyers = len(m.customers), len(allBuyers)
	sum.Products, sum.Categories = len(m.products), len(m.catPaths)
	sum.Orders, sum.Lines, sum.Events = m.numOrders(), m.lines, m.numEvents()
	sum.AnonymousOrders = len(m.anonOrders)
	sum.Revenue = sum.CustomerRevenue
	var times []int64
	for _, os := range append(slices.Clone(m.custOrders), m.anonOrders) {
		for _, o := range os {
			times = append(times, o.unix)
			for _, l := range o.lines {
				if l.Quantity < 0 {
					sum.Returns++
				}
				if o.cust < 0 {
					sum.Revenue += affinity.Money(l.Quantity) * l.Price
				}
			}
		}
	}
	if len(times) > 0 {
		sum.First, sum.Last = time.Unix(slices.Min(times), 0).UTC(), time.Unix(slices.Max(times), 0).UTC()
	}
	assert.Equal(t, sum, h.Summary())
}

// checkCategoryTree checks every node of cat against the set of paths.
func checkCategoryTree(t testing.TB, cat *affinity.Catalog, paths map[string]bool) {
	t.Helper()
	require.Equal(t, len(paths), cat.NumCategories())
	children := map[affinity.CategoryID][]affinity.CategoryID{}
	var roots []affinity.CategoryID
	for i := range cat.NumCategories() {
		id := affinity.CategoryID(i)
		path := cat.CategoryPath(id)
		require.True(t, paths[path], "unexpected category %q", path)
		got, ok := cat.LookupCategory(path)
		require.True(t, ok, path)
		require.Equal(t, id, got, path)
		levels := strings.Split(path, "/")
		assert.Equal(t, levels[len(levels)-1], cat.CategoryName(id))
		assert.Equal(t, len(levels), cat.Depth(id), path)
		parent := affinity.NoCategory
		if len(levels) > 1 {
			var ok bool
			parent, ok = cat.LookupCategory(strings.Join(levels[:len(levels)-1], "/"))
			require.True(t, ok, "parent of %q", path)
			children[parent] = append(children[parent], id)
		} else {
			roots = append(roots, id)
		}
		assert.Equal(t, parent, cat.Parent(id), path)
		for d := -1; d <= len(levels)+1; d++ {
			want := strings.Join(levels[:min(max(d, 1), len(levels))], "/")
			assert.Equal(t, want, cat.CategoryPath(cat.Ancestor(id, d)), "Ancestor(%q, %d)", path, d)
		}
	}
	for i := range cat.NumCategories() {
		id := affinity.CategoryID(i)
		assert.Equal(t, children[id], nilIfEmpty(cat.Children(id)), "children of %q", cat.CategoryPath(id))
	}
	assert.Equal(t, roots, nilIfEmpty(cat.Roots()), "roots")
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// checkShares compares Shares(p) with the expected weight per path.
func checkShares(t testing.TB, cat *affinity.Catalog, p affinity.ProductID, want map[string]float64) {
	t.Helper()
	got := cat.Shares(p)
	require.Len(t, got, len(want), "shares of %q: %v", cat.ProductKey(p), got)
	assert.True(t, slices.IsSortedFunc(got, func(a, b affinity.CategoryShare) int { return cmp.Compare(a.Category, b.Category) }),
		"shares of %q not sorted by id", cat.ProductKey(p))
	for _, s := range got {
		path := cat.CategoryPath(s.Category)
		w, ok := want[path]
		require.True(t, ok, "product %q has no share in %q", cat.ProductKey(p), path)
		assert.InDelta(t, w, s.Weight, 1e-6, "share of %q in %q", cat.ProductKey(p), path)
		assert.LessOrEqual(t, s.Weight, float32(1))
	}
}

// checkInvariants checks the layout: each customer's orders, and the
// anonymous ones, are a range of ids in time order whose lines follow
// each other; the ranges are disjoint and so are their lines; Orders
// yields them in order; an id in no range is a hole, without a
// customer; the counts are those of the ranges (requireDense checks the
// layout of a History built from scratch). Each customer's events are a
// range in time order; the ranges are disjoint.
func checkInvariants(t testing.TB, h *affinity.History) {
	t.Helper()
	seen := make([]bool, h.NumOrderIDs())
	var visited []affinity.OrderID
	var lineRuns [][2]int
	var eventRuns [][2]int
	orders, lines, events := 0, 0, 0
	// The checks per order, line and event call require only on a
	// failure: t.Helper, which every assertion calls, costs more than
	// the History's accessors.
	visit := func(lo, hi affinity.OrderID, c affinity.CustomerID) {
		if lo > hi || int(hi) > h.NumOrderIDs() {
			require.LessOrEqual(t, lo, hi, "orders of customer %d", c)
			require.LessOrEqual(t, int(hi), h.NumOrderIDs(), "orders of customer %d", c)
		}
		if lo == hi {
			return
		}
		first, _ := h.OrderLines(lo)
		next := first
		for o := lo; o < hi; o++ {
			if seen[o] {
				require.False(t, seen[o], "order %d in two ranges", o)
			}
			seen[o] = true
			visited = append(visited, o)
			if got := h.OrderCustomer(o); got != c {
				require.Equal(t, c, got, "customer of order %d", o)
			}
			olo, ohi := h.OrderLines(o)
			if next != olo || olo >= ohi {
				require.Equal(t, next, olo, "lines of order %d", o)
				require.Less(t, olo, ohi, "order %d has no lines", o)
			}
			next = ohi
			if want, got := time.Unix(h.OrderUnix(o), 0).UTC(), h.OrderTime(o); !reflect.DeepEqual(want, got) || got.Location() != time.UTC {
				require.Equal(t, want, got)
				require.Equal(t, time.UTC, got.Location())
			}
			if o > lo && h.OrderUnix(o-1) > h.OrderUnix(o) {
				require.LessOrEqual(t, h.OrderUnix(o-1), h.OrderUnix(o), "orders %d, %d out of time order", o-1, o)
			}
			for i := olo; i < ohi; i++ {
				l := h.Line(i)
				if l.Product != h.LineProduct(i) || l.Quantity != h.LineQuantity(i) || l.Quantity == 0 || int(l.Product) >= h.Catalog().NumProducts() {
					require.Equal(t, l.Product, h.LineProduct(i))
					require.Equal(t, l.Quantity, h.LineQuantity(i))
					require.NotZero(t, l.Quantity)
					require.Less(t, int(l.Product), h.Catalog().NumProducts())
				}
			}
		}
		if c != affinity.NoCustomer {
			if llo, lhi := h.CustomerLines(c); llo != first || lhi != next {
				require.Equal(t, [2]int{first, next}, [2]int{llo, lhi}, "lines of customer %d", c)
			}
		}
		orders += int(hi - lo)
		lines += next - first
		lineRuns = append(lineRuns, [2]int{first, next})
	}
	for i := range h.NumCustomers() {
		c := affinity.CustomerID(i)
		lo, hi := h.CustomerOrders(c)
		visit(lo, hi, c)
		if lo == hi {
			if llo, lhi := h.CustomerLines(c); llo != lhi {
				require.Equal(t, llo, lhi, "lines of customer %d without orders", c)
			}
		}
		elo, ehi := h.CustomerEvents(c)
		if elo > ehi {
			require.LessOrEqual(t, elo, ehi)
		}
		for e := elo + 1; e < ehi; e++ {
			if h.Event(e-1).Unix > h.Event(e).Unix {
				require.LessOrEqual(t, h.Event(e-1).Unix, h.Event(e).Unix, "events %d, %d out of time order", e-1, e)
			}
		}
		if ehi > elo {
			eventRuns = append(eventRuns, [2]int{elo, ehi})
		}
		events += ehi - elo
	}
	lo, hi := h.AnonymousOrders()
	visit(lo, hi, affinity.NoCustomer)
	for o, in := range seen {
		if !in && h.OrderCustomer(affinity.OrderID(o)) != affinity.NoCustomer {
			require.Equal(t, affinity.NoCustomer, h.OrderCustomer(affinity.OrderID(o)), "hole %d", o)
		}
	}
	for what, runs := range map[string][][2]int{"line": lineRuns, "event": eventRuns} {
		slices.SortFunc(runs, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
		for i := 1; i < len(runs); i++ {
			if runs[i-1][1] > runs[i][0] {
				require.LessOrEqual(t, runs[i-1][1], runs[i][0], "%s ranges overlap", what)
			}
		}
	}
	require.Equal(t, visited, slices.Collect(h.Orders()), "Orders")
	for k := range affinity.CategoryID(h.Catalog().NumCategories()) {
		require.Equal(t, int(h.CategoryBuyers(k).GetCardinality()), h.CategoryBuyerCount(k), "buyers of category %d", k)
	}
	require.Equal(t, h.NumOrders(), orders, "orders")
	require.Equal(t, h.NumLines(), lines, "lines")
	require.Equal(t, h.NumEvents(), events, "events")
}

func TestHistoryMatchesModel(t *testing.T) {
	for seed := range uint64(testdata.Scale(200, 40)) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			recs := genRecords(r, 1+r.IntN(120))
			checkModel(t, recs, build(t, nil, recs))
		})
	}
}

func TestHistoryMatchesModelLarge(t *testing.T) {
	sizes := []int{2000, 5000, 20000}
	if testing.Short() {
		sizes = sizes[:1]
	} else if !testdata.Long() {
		sizes = sizes[:2]
	}
	for i, n := range sizes {
		t.Run(fmt.Sprintf("records=%d", n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 2))
			recs := genRecords(r, n)
			checkModel(t, recs, build(t, nil, recs))
		})
	}
}

// TestModelCoverage guards the generator: the random histories must contain
// every case the model distinguishes, or the comparison proves little.
func TestModelCoverage(t *testing.T) {
	var seen struct {
		anonymous, withOrder, withoutOrder, returns, returnOnly, mergedSecond, multiTimeOrder int
		sharedOrderKey, eventsOnly, eventTies, invalid, replaced, multiPath, noCategory       int
	}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		recs := genRecords(r, 1+r.IntN(120))
		m := newModel(recs)
		keyCust := map[string]map[int]bool{}
		for _, os := range append(slices.Clone(m.custOrders), m.anonOrders) {
			for _, o := range os {
				if o.cust < 0 {
					seen.anonymous++
				}
				if o.key == "" {
					seen.withoutOrder++
					if len(o.lines) > 1 {
						seen.mergedSecond++
					}
				} else {
					seen.withOrder++
					if keyCust[o.key] == nil {
						keyCust[o.key] = map[int]bool{}
					}
					keyCust[o.key][o.cust] = true
				}
				if !o.bought() {
					seen.returnOnly++
				}
				for _, l := range o.lines {
					if l.Quantity < 0 {
						seen.returns++
					}
				}
			}
		}
		for _, cs := range keyCust {
			if len(cs) > 1 {
				seen.sharedOrderKey++
			}
		}
		for c, evs := range m.events {
			if len(m.custOrders[c]) == 0 && len(evs) > 0 {
				seen.eventsOnly++
			}
			for i := 1; i < len(evs); i++ {
				if evs[i-1].Unix == evs[i].Unix {
					seen.eventTies++
				}
			}
		}
		products := map[string]int{}
		for _, rec := range recs {
			if !rec.valid() {
				seen.invalid++
			} else if rec.product != nil {
				products[rec.product.Key]++
			}
		}
		for _, n := range products {
			if n > 1 {
				seen.replaced++
			}
		}
		for _, p := range m.products {
			switch len(p.Categories) {
			case 0:
				seen.noCategory++
			case 1:
			default:
				seen.multiPath++
			}
		}
		for _, rec := range recs {
			if p := rec.purchase; p != nil && rec.valid() && p.Order != "" {
				c := -1
				if p.Customer != "" {
					c = m.custID[p.Customer]
				}
				for _, o := range m.custOrdersOf(c) {
					if o.key == p.Order && o.unix < p.Time.Unix() {
						seen.multiTimeOrder++
					}
				}
			}
		}
	}
	t.Logf("%+v", seen)
	for name, n := range map[string]int{
		"anonymous": seen.anonymous, "with order id": seen.withOrder, "without order id": seen.withoutOrder,
		"returns": seen.returns, "return-only orders": seen.returnOnly, "merged same-second lines": seen.mergedSecond,
		"orders over several seconds": seen.multiTimeOrder, "order id shared by customers": seen.sharedOrderKey,
		"customers with events only": seen.eventsOnly, "same-second events": seen.eventTies, "invalid records": seen.invalid,
		"replaced products": seen.replaced, "products in several paths": seen.multiPath, "products without category": seen.noCategory,
	} {
		assert.Greater(t, n, 10, name)
	}
}

func (m *model) custOrdersOf(c int) []*modelOrder {
	if c < 0 {
		return m.anonOrders
	}
	return m.custOrders[c]
}
