package shop_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/require"
)

// This file checks a long chain of refreshes against shops opened from
// scratch on everything fed so far. The oracle is scratchModel: the final
// set of orders, lines, events and products by shop key, kept with the
// documented semantics of Builder.Add (lines of one customer and order id
// join one order, at the earliest line time), Builder.Apply (per key the
// highest version wins and a put replaces every order with its key,
// within a feed and across feeds, as the History keeps the versions of
// its orders and of deletes; at equal versions, within a feed a delete
// beats a put, across feeds the later feed wins, put or delete) and
// Builder.EraseCustomer (everything of the customer in the batch is
// dropped), applied in Go without any Builder. Every comparison is by shop keys, since a refreshed History's
// ids are not dense.

// scratchLine is a stored purchase line by keys.
type scratchLine struct {
	Product  string
	Quantity int32
	Price    affinity.Money
}

// scratchOrder is a stored order by keys.
type scratchOrder struct {
	Key   string
	Unix  int64
	Lines []scratchLine
}

// scratchEvent is a stored event by keys.
type scratchEvent struct {
	Product string
	Unix    int64
	Kind    affinity.EventKind
	Weight  float32
}

// scratchView is a History seen through its shop keys alone: per
// customer key its orders and events in stored order, and the anonymous
// orders. Customers with neither are left out.
type scratchView struct {
	Orders    map[string][]scratchOrder
	Events    map[string][]scratchEvent
	Anonymous []scratchOrder
}

func scratchOrdersOf(h *affinity.History, lo, hi affinity.OrderID) []scratchOrder {
	var out []scratchOrder
	cat := h.Catalog()
	for o := lo; o < hi; o++ {
		so := scratchOrder{Key: h.OrderKey(o), Unix: h.OrderUnix(o)}
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			l := h.Line(i)
			so.Lines = append(so.Lines, scratchLine{cat.ProductKey(l.Product), l.Quantity, l.Price})
		}
		out = append(out, so)
	}
	return out
}

// scratchViewOf returns h's view, and the keys of the customer ids that
// hold neither an order nor an event: "" for an erased customer's,
// the key of a customer whose every order was deleted.
func scratchViewOf(t *testing.T, h *affinity.History) (v scratchView, idle []string) {
	t.Helper()
	v = scratchView{Orders: map[string][]scratchOrder{}, Events: map[string][]scratchEvent{}}
	cat := h.Catalog()
	for c := range affinity.CustomerID(h.NumCustomers()) {
		key := h.CustomerKey(c)
		lo, hi := h.CustomerOrders(c)
		elo, ehi := h.CustomerEvents(c)
		if lo == hi && elo == ehi {
			idle = append(idle, key)
			continue
		}
		require.NotEmpty(t, key, "customer id %d has orders or events but no key (an erased customer's)", c)
		_, dup := v.Orders[key]
		_, dupEv := v.Events[key]
		require.False(t, dup || dupEv, "customer key %q on two ids", key)
		if lo < hi {
			v.Orders[key] = scratchOrdersOf(h, lo, hi)
		}
		for i := elo; i < ehi; i++ {
			e := h.Event(i)
			v.Events[key] = append(v.Events[key], scratchEvent{cat.ProductKey(e.Product), e.Unix, e.Kind, e.Weight})
		}
	}
	alo, ahi := h.AnonymousOrders()
	v.Anonymous = scratchOrdersOf(h, alo, ahi)
	return v, idle
}

// scratchDerived is what a History derives from its orders and events,
// by keys: the buyers of every product and category (sorted customer
// keys) and the category buyer counts, all buyers, every customer's
// first and last purchase, every order as the iterators and per-order
// accessors give it, and every event as History.Events yields it.
type scratchDerived struct {
	Buyers, CategoryBuyers map[string][]string
	CategoryCounts         map[string]int
	AllBuyers              []string
	First, Last            map[string]int64
	Orders                 []string // customer, key, time, value, bought, lines
	Events                 []affinity.Event
}

func scratchKeysOf(h *affinity.History, ids []uint32) []string {
	keys := make([]string, len(ids))
	for i, c := range ids {
		keys[i] = h.CustomerKey(affinity.CustomerID(c))
	}
	slices.Sort(keys)
	return keys
}

func scratchDerivedOf(h *affinity.History) scratchDerived {
	cat := h.Catalog()
	d := scratchDerived{Buyers: map[string][]string{}, CategoryBuyers: map[string][]string{}, CategoryCounts: map[string]int{},
		First: map[string]int64{}, Last: map[string]int64{}}
	for p := range affinity.ProductID(cat.NumProducts()) {
		d.Buyers[cat.ProductKey(p)] = scratchKeysOf(h, h.Buyers(p).ToArray())
	}
	for c := range affinity.CategoryID(cat.NumCategories()) {
		d.CategoryBuyers[cat.CategoryPath(c)] = scratchKeysOf(h, h.CategoryBuyers(c).ToArray())
		d.CategoryCounts[cat.CategoryPath(c)] = h.CategoryBuyerCount(c)
	}
	d.AllBuyers = scratchKeysOf(h, h.AllBuyers().ToArray())
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if t, ok := h.FirstPurchase(c); ok {
			d.First[h.CustomerKey(c)] = t.Unix()
		}
		if t, ok := h.LastPurchase(c); ok {
			d.Last[h.CustomerKey(c)] = t.Unix()
		}
	}
	for o := range h.Orders() {
		cust := "(anonymous)"
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		lo, hi := h.OrderLines(o)
		d.Orders = append(d.Orders, fmt.Sprintf("%s %s %d %v %v %d", cust, h.OrderKey(o), h.OrderUnix(o), h.OrderValue(o), h.OrderBought(o), hi-lo))
	}
	slices.Sort(d.Orders)
	d.Events = slices.Collect(h.Events())
	// each customer's in time order, ties in the order fed
	slices.SortStableFunc(d.Events, func(a, b affinity.Event) int { return cmp.Compare(a.Customer, b.Customer) })
	return d
}

// scratchID names an order of the model as a Builder does: customer and
// order key, or customer and time for lines without an order key.
type scratchID struct {
	cust, key string
	unix      int64 // for key == "" only
}

type scratchModelOrder struct {
	cust, key string
	unix      int64
	lines     []scratchLine
	ver       int64 // of the put that made it; 0 for plain lines
}

// scratchBatch is one refresh's feed.
type scratchBatch struct {
	products  []affinity.Product     // AddProduct, new keys and new descriptions
	purchases []affinity.Purchase    // shop.Purchases
	events    []affinity.Event       // AddEvent through a SourceFunc
	changes   []affinity.OrderChange // shop.Changes
	erase     []string               // shop.Erase
}

// source is the batch as a refresh source, in the order a shop's feed
// might deliver it.
func (b *scratchBatch) source() shop.Source {
	return shop.Sources(
		shop.Catalog(b.products),
		shop.Purchases(slices.Values(b.purchases)),
		scratchEvents(b.events),
		shop.Changes(slices.Values(b.changes)),
		shop.Erase(b.erase...),
	)
}

func scratchEvents(events []affinity.Event) shop.Source {
	return shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		rep := dataset.Report{Format: "events"}
		for _, e := range events {
			if err := b.AddEvent(e); err != nil {
				return rep, err
			}
			rep.Rows++
			rep.Loaded++
			rep.Events++
		}
		return rep, nil
	})
}

// scratchModel is everything fed so far, by keys.
type scratchModel struct {
	products []affinity.Product
	pos      map[string]int
	cats     []string // category paths in the order first fed: node ids follow it
	catSeen  map[string]bool
	orders   map[scratchID]*scratchModelOrder
	events   map[string][]affinity.Event // per customer, in the order fed
	erased   []string                    // every customer erased so far
	stock    map[string]bool             // the shop's stock settings (Shop.SetInStock)
	dropped  map[string]bool             // keys of orders deleted, replaced or erased so far
	tomb     map[string]int64            // versions of deleted order keys
}

func newScratchModel(sf *dataset.Storefront) *scratchModel {
	m := &scratchModel{pos: map[string]int{}, catSeen: map[string]bool{}, stock: map[string]bool{}, dropped: map[string]bool{}, orders: map[scratchID]*scratchModelOrder{}, events: map[string][]affinity.Event{},
		tomb: map[string]int64{}}
	m.apply(&scratchBatch{products: sf.Products, purchases: sf.Purchases, events: sf.Events})
	return m
}

func (m *scratchModel) add(p affinity.Purchase) {
	id := scratchID{cust: p.Customer, key: p.Order}
	if p.Order == "" {
		id.unix = p.Time.Unix()
	}
	o := m.orders[id]
	if o == nil {
		o = &scratchModelOrder{cust: p.Customer, key: p.Order, unix: p.Time.Unix()}
		m.orders[id] = o
	}
	o.unix = min(o.unix, p.Time.Unix())
	o.lines = append(o.lines, scratchLine{p.Product, p.Quantity, p.Price})
}

// apply applies a batch as one Builder on the current state would.
func (m *scratchModel) apply(b *scratchBatch) {
	for _, p := range b.products {
		for _, c := range p.Categories {
			if !m.catSeen[c] {
				m.catSeen[c] = true
				m.cats = append(m.cats, c)
			}
		}
		if i, ok := m.pos[p.Key]; ok {
			m.products[i] = p
			continue
		}
		m.pos[p.Key] = len(m.products)
		m.products = append(m.products, p)
	}
	for _, p := range b.purchases {
		m.add(p)
	}
	for _, e := range b.events {
		m.events[e.Customer] = append(m.events[e.Customer], e)
	}
	isDel := func(c affinity.OrderChange) bool { return c.Delete || len(c.Lines) == 0 }
	win := map[string]affinity.OrderChange{}
	for _, c := range b.changes {
		if old, ok := win[c.Key]; ok && (c.Version < old.Version || c.Version == old.Version && isDel(old) && !isDel(c)) {
			continue
		}
		win[c.Key] = c
	}
	erased := map[string]bool{}
	for _, k := range b.erase {
		erased[k] = true
	}
	// A change that loses to the version the History holds of its key (a
	// higher one) changes nothing. The orders of plain lines of this batch
	// count, at version 0: not above any version fed here, so they change
	// no outcome.
	for key, c := range win {
		var v int64
		var ok bool
		for _, o := range m.orders {
			if o.key == key && (!ok || o.ver > v) {
				v, ok = o.ver, true
			}
		}
		if t, dead := m.tomb[key]; dead && (!ok || t >= v) {
			v, ok = t, true
		}
		if ok && c.Version < v { // at equal versions the later feed wins
			delete(win, key)
			continue
		}
		switch {
		case !isDel(c) && erased[c.Lines[0].Customer]: // an erasure is no versioned change
		case !isDel(c):
			delete(m.tomb, key)
		case c.Version != 0:
			m.tomb[key] = c.Version
		}
	}
	for id := range m.orders {
		if _, changed := win[id.key]; changed && id.key != "" {
			delete(m.orders, id)
			m.dropped[id.key] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(win)) {
		c := win[key]
		if isDel(c) || erased[c.Lines[0].Customer] {
			continue
		}
		for _, p := range c.Lines {
			p.Order = key
			m.add(p)
		}
		m.orders[scratchID{cust: c.Lines[0].Customer, key: key}].ver = c.Version
	}
	for k := range erased {
		for id := range m.orders {
			if id.cust == k {
				delete(m.orders, id)
				m.dropped[id.key] = true
			}
		}
		delete(m.events, k)
		m.erased = append(m.erased, k)
	}
}

// sortedOrders returns the orders by customer, time and key.
func (m *scratchModel) sortedOrders() []*scratchModelOrder {
	os := slices.Collect(maps.Values(m.orders))
	slices.SortFunc(os, func(a, b *scratchModelOrder) int {
		return cmp.Or(cmp.Compare(a.cust, b.cust), cmp.Compare(a.unix, b.unix), cmp.Compare(a.key, b.key))
	})
	return os
}

// view returns what a History of the model holds, as scratchViewOf sees
// a History: orders in time order (ties by key), events in time order
// (ties in the order fed).
func (m *scratchModel) view() scratchView {
	v := scratchView{Orders: map[string][]scratchOrder{}, Events: map[string][]scratchEvent{}}
	for _, o := range m.sortedOrders() {
		so := scratchOrder{Key: o.key, Unix: o.unix, Lines: slices.Clone(o.lines)}
		if o.cust == "" {
			v.Anonymous = append(v.Anonymous, so)
		} else {
			v.Orders[o.cust] = append(v.Orders[o.cust], so)
		}
	}
	for c, es := range m.events {
		if len(es) == 0 {
			continue
		}
		s := make([]scratchEvent, len(es))
		for i, e := range es {
			s[i] = scratchEvent{e.Product, e.Time.Unix(), e.Kind, e.Weight}
		}
		// a customer's events in time order, ties by product key, kind, weight
		slices.SortFunc(s, func(a, b scratchEvent) int {
			return cmp.Or(cmp.Compare(a.Unix, b.Unix), strings.Compare(a.Product, b.Product), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Weight, b.Weight))
		})
		v.Events[c] = s
	}
	return v
}

// source returns everything fed so far as one source for shop.Open: the
// catalog, every order's lines with its key and time, every event.
func (m *scratchModel) source() shop.Source {
	var lines []affinity.Purchase
	for _, o := range m.sortedOrders() {
		for _, l := range o.lines {
			lines = append(lines, affinity.Purchase{Customer: o.cust, Product: l.Product, Order: o.key,
				Time: time.Unix(o.unix, 0).UTC(), Quantity: l.Quantity, Price: l.Price})
		}
	}
	var events []affinity.Event
	for _, c := range slices.Sorted(maps.Keys(m.events)) {
		events = append(events, m.events[c]...)
	}
	cats := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, c := range m.cats {
			if _, err := b.AddCategory(c); err != nil {
				return dataset.Report{}, err
			}
		}
		return dataset.Report{}, nil
	})
	return shop.Sources(cats, shop.Catalog(slices.Clone(m.products)), shop.Purchases(slices.Values(lines)), scratchEvents(events))
}

// customers returns the keys of the customers with an order, sorted.
func (m *scratchModel) customers() []string {
	set := map[string]bool{}
	for id := range m.orders {
		if id.cust != "" {
			set[id.cust] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// keyed returns the orders with a key, by key.
func (m *scratchModel) keyed() []*scratchModelOrder {
	var os []*scratchModelOrder
	for _, o := range m.orders {
		if o.key != "" {
			os = append(os, o)
		}
	}
	slices.SortFunc(os, func(a, b *scratchModelOrder) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.cust, b.cust))
	})
	return os
}

// span returns the times of the first and last order.
func (m *scratchModel) span() (first, last int64) {
	first, last = int64(1)<<62, 0
	for _, o := range m.orders {
		first, last = min(first, o.unix), max(last, o.unix)
	}
	return first, last
}

// feed returns a random batch on the model's state: new orders of known,
// new and erased customers (by put and by plain lines), anonymous orders
// (keyed puts and unkeyed lines), replacements (to other lines, times and
// customers), deletions (of unknown keys too), lines joining an existing
// order (earlier or later than it), returns, orders dated before the
// first order, views, carts, ratings and wishlist adds (of customers
// without orders too), stale and equal-version changes, new products and
// new prices, and erasures (with activity of the erased customer in the
// same batch). step spaces the new orders after the last one.
func (m *scratchModel) feed(r *rand.Rand, round, n int, step time.Duration) *scratchBatch {
	b := &scratchBatch{}
	first, last := m.span()
	custs := m.customers()
	keyed := m.keyed()
	byCust := map[string][]*scratchModelOrder{}
	for _, o := range m.sortedOrders() {
		byCust[o.cust] = append(byCust[o.cust], o)
	}
	// most lines come from the first products, so that baskets share them
	product := func() affinity.Product {
		if r.IntN(3) > 0 {
			return m.products[r.IntN(min(15, len(m.products)))]
		}
		return m.products[r.IntN(len(m.products))]
	}
	lines := func(cust string, at time.Time) []affinity.Purchase {
		ls := make([]affinity.Purchase, 1+r.IntN(4))
		for i := range ls {
			p := product()
			q := int32(1 + r.IntN(3))
			if r.IntN(8) == 0 {
				q = -1 // a return
			}
			ls[i] = affinity.Purchase{Customer: cust, Product: p.Key, Time: at.Add(time.Duration(r.IntN(3)) * time.Minute), Quantity: q, Price: p.Price}
		}
		return ls
	}
	customer := func() string {
		switch k := r.IntN(10); {
		case k == 0:
			return fmt.Sprintf("new-%d-%d", round, r.IntN(8))
		case k == 1 && len(m.erased) > 0:
			return m.erased[r.IntN(len(m.erased))] // an erased customer comes back
		}
		return custs[r.IntN(len(custs))]
	}
	after := func() time.Time {
		return time.Unix(last, 0).UTC().Add(time.Duration(1+r.IntN(48)) * step)
	}
	version := func(i int) int64 { return int64(round*1000 + i) }
	for i := range n {
		key := fmt.Sprintf("f%d-%d", round, i)
		switch k := r.IntN(20); {
		case k < 5: // a new order, by put
			b.changes = append(b.changes, affinity.OrderChange{Key: key, Version: version(i), Lines: lines(customer(), after())})
		case k < 7: // a new order by plain lines: with a key, or without (one order per customer and second)
			cust, at := customer(), after()
			if os := byCust[cust]; len(os) > 0 && r.IntN(4) == 0 {
				at = time.Unix(os[r.IntN(len(os))].unix, 0).UTC() // at the time of another: ties go by key, or join it
			}
			ls := lines(cust, at)
			keep := r.IntN(3) > 0
			for j := range ls {
				if keep {
					ls[j].Order = key
				} else {
					ls[j].Time = at
				}
			}
			b.purchases = append(b.purchases, ls...)
		case k == 7: // an anonymous order: keyed put, or unkeyed lines
			if r.IntN(2) == 0 {
				b.changes = append(b.changes, affinity.OrderChange{Key: key, Version: version(i), Lines: lines("", after())})
			} else {
				at := after()
				for _, p := range lines("", at) {
					p.Time = at // one unkeyed order: one time
					b.purchases = append(b.purchases, p)
				}
			}
		case k < 10 && len(keyed) > 0: // a replacement
			o := keyed[r.IntN(len(keyed))]
			cust, at := o.cust, time.Unix(o.unix, 0).UTC()
			switch r.IntN(6) {
			case 0:
				cust = customer() // moves to another customer
			case 1:
				cust = "" // becomes anonymous
			case 2:
				at = at.Add(time.Duration(r.IntN(96)-48) * time.Hour)
			}
			// a version of 0 is below the key's earlier ones, unless plain
			// lines made the order: the History keeps the versions, so it
			// is refused then
			v := version(i)
			if r.IntN(4) == 0 {
				v = 0
			}
			b.changes = append(b.changes, affinity.OrderChange{Key: o.key, Version: v, Lines: lines(cust, at)})
		case k < 12: // a deletion, of an unknown key too
			del := "nothing-" + key
			if len(keyed) > 0 && r.IntN(5) > 0 {
				del = keyed[r.IntN(len(keyed))].key
			}
			b.changes = append(b.changes, affinity.OrderChange{Key: del, Version: version(i), Delete: true})
		case k == 12 && len(keyed) > 0: // lines joining an existing order, earlier or later
			o := keyed[r.IntN(len(keyed))]
			at := time.Unix(o.unix, 0).UTC().Add(time.Duration(r.IntN(48)-24) * time.Hour)
			for _, p := range lines(o.cust, at) {
				p.Order = o.key
				b.purchases = append(b.purchases, p)
			}
		case k == 13: // an order before the shop's first, or at the edge of the look-back
			at := time.Unix(first, 0).UTC().Add(-time.Duration(1+r.IntN(400)) * 24 * time.Hour)
			if r.IntN(2) == 0 {
				// later refreshes move the as-of time a day or two: the
				// order leaves the segment look-back (24 months)
				at = testdata.MonthsBefore(time.Unix(last, 0), 24).Add(time.Duration(r.IntN(96)-12) * time.Hour)
			}
			b.changes = append(b.changes, affinity.OrderChange{Key: key, Version: version(i), Lines: lines(customer(), at)})
		case k < 18: // events, of customers without orders too
			cust := customer()
			if r.IntN(5) == 0 {
				cust = fmt.Sprintf("viewer-%d-%d", round, r.IntN(4))
			}
			for range 1 + r.IntN(4) {
				e := affinity.Event{Customer: cust, Product: product().Key, Kind: affinity.EventKind(1 + r.IntN(4)), Weight: 1,
					Time: time.Unix(last, 0).UTC().Add(time.Duration(r.IntN(60*24*30+120)-60*24*30) * time.Minute)}
				if es := m.events[cust]; len(es) > 0 && r.IntN(4) == 0 {
					e.Time = es[r.IntN(len(es))].Time // a tie: events fed earlier come first
				}
				if e.Kind == affinity.Rating {
					e.Weight = float32(1 + r.IntN(5))
				}
				b.events = append(b.events, e)
			}
		case k == 18 && len(b.changes) > 0: // a stale or equal-version change of a key of this batch
			c := b.changes[r.IntN(len(b.changes))]
			switch r.IntN(3) {
			case 0: // an older version arriving late: ignored
				b.changes = append(b.changes, affinity.OrderChange{Key: c.Key, Version: max(c.Version-1, 0), Lines: lines(customer(), after())}) // equal when c.Version is 0
			case 1: // the same version again, a put: the later call wins (unless c deletes)
				b.changes = append(b.changes, affinity.OrderChange{Key: c.Key, Version: c.Version, Lines: lines(customer(), after())})
			default: // the same version, a delete: it wins
				b.changes = append(b.changes, affinity.OrderChange{Key: c.Key, Version: c.Version, Delete: true})
			}
		default: // a new product bought at once, a new price, or a move to another category
			switch r.IntN(4) {
			case 0:
				p := product()
				p.Price += affinity.Money(100 * (1 + r.IntN(50)))
				b.products = append(b.products, p)
				continue
			case 1:
				p := product()
				p.Categories = m.products[r.IntN(len(m.products))].Categories
				b.products = append(b.products, p)
				continue
			}
			src := m.products[r.IntN(len(m.products))]
			p := affinity.Product{Key: fmt.Sprintf("np-%d-%d", round, i), Name: "New " + src.Name, Categories: src.Categories, Price: src.Price, InStock: r.IntN(4) > 0}
			if r.IntN(4) == 0 {
				p.Name = "Gift card" // non-merchandise
			}
			b.products = append(b.products, p)
			ls := lines(customer(), after())
			ls = append(ls, affinity.Purchase{Customer: ls[0].Customer, Product: p.Key, Time: ls[0].Time, Quantity: 1, Price: p.Price})
			b.changes = append(b.changes, affinity.OrderChange{Key: key, Version: version(i), Lines: ls})
		}
	}
	// the edges: the first and last order gone or moved, the customer of
	// the latest event erased, a customer left without orders
	switch r.IntN(6) {
	case 0, 1:
		var o *scratchModelOrder
		for _, x := range keyed {
			if o == nil || x.unix > o.unix {
				o = x
			}
		}
		b.changes = append(b.changes, affinity.OrderChange{Key: o.key, Version: version(n + 1), Delete: r.IntN(2) == 0,
			Lines: lines(o.cust, time.Unix(o.unix, 0).UTC().Add(-time.Duration(1+r.IntN(20))*24*time.Hour))})
	case 2:
		var o *scratchModelOrder
		for _, x := range keyed {
			if o == nil || x.unix < o.unix {
				o = x
			}
		}
		b.changes = append(b.changes, affinity.OrderChange{Key: o.key, Version: version(n + 1), Delete: true})
	case 3:
		var latest affinity.Event
		for _, es := range m.events {
			for _, e := range es {
				if e.Time.After(latest.Time) || e.Time.Equal(latest.Time) && e.Customer < latest.Customer {
					latest = e
				}
			}
		}
		if latest.Customer != "" {
			b.erase = append(b.erase, latest.Customer)
		}
	case 4: // every order of a customer without events deleted: the key stays known
		for _, c := range custs[r.IntN(len(custs)):] {
			if len(m.events[c]) > 0 {
				continue
			}
			for _, o := range keyed {
				if o.cust == c {
					b.changes = append(b.changes, affinity.OrderChange{Key: o.key, Version: version(n + 2), Delete: true})
				}
			}
			break
		}
	}
	if r.IntN(4) == 0 {
		// a customer new in this batch (or unknown), or one erased before
		gone := fmt.Sprintf("viewer-%d-%d", round, r.IntN(4))
		if len(m.erased) > 0 && r.IntN(2) == 0 {
			gone = m.erased[r.IntN(len(m.erased))]
		}
		b.erase = append(b.erase, gone)
	}
	if r.IntN(3) == 0 || n > 10 {
		gone := custs[r.IntN(len(custs))]
		b.erase = append(b.erase, gone)
		if r.IntN(2) == 0 { // activity of the erased customer in the same batch: dropped too
			b.changes = append(b.changes, affinity.OrderChange{Key: "erased-" + fmt.Sprint(round), Version: version(n), Lines: lines(gone, after())})
			b.events = append(b.events, affinity.Event{Customer: gone, Product: product().Key, Kind: affinity.View, Weight: 1, Time: after()})
		}
	}
	return b
}

// scratchFlood returns n product views of customers of m in the 30 days
// before its last order.
func scratchFlood(r *rand.Rand, m *scratchModel, n int) []affinity.Event {
	custs := m.customers()
	_, last := m.span()
	out := make([]affinity.Event, n)
	for i := range out {
		out[i] = affinity.Event{Customer: custs[r.IntN(len(custs))], Product: m.products[r.IntN(len(m.products))].Key, Kind: affinity.View, Weight: 1,
			Time: time.Unix(last, 0).UTC().Add(-time.Duration(r.IntN(30*24*60)) * time.Minute)}
	}
	return out
}

// scratchMembers returns the members of a in order, without their dense
// ids.
func scratchMembers(t *testing.T, a *shop.Audience, order shop.Order) []shop.Member {
	t.Helper()
	ms, err := a.All(order)
	require.NoError(t, err)
	for i := range ms {
		ms[i].ID = 0
	}
	return ms
}

// scratchFeatures returns the segment features of every customer the
// index knows, by key.
func scratchFeatures(x *segment.Index) map[string]segment.Features {
	out := map[string]segment.Features{}
	if x == nil {
		return out
	}
	for _, f := range x.FeaturesOf(x.All()) {
		out[f.Customer] = f
	}
	return out
}

// scratchNeighbours returns every product's neighbours by key.
func scratchNeighbours(snap *shop.Snapshot) map[string][]string {
	cat := snap.History().Catalog()
	out := map[string][]string{}
	for p := range affinity.ProductID(cat.NumProducts()) {
		var nb []string
		for _, n := range snap.Neighbors().Neighbors(p) {
			nb = append(nb, fmt.Sprintf("%s:%v", cat.ProductKey(n.Product), n.Score))
		}
		out[cat.ProductKey(p)] = nb
	}
	return out
}

// compareScratch checks got, a refreshed snapshot, against want, one
// opened from scratch on the model's data, by keys.
// It returns the model's view and the keys of the idle customer ids of
// got's History (see scratchViewOf).
func compareScratch(t *testing.T, ctx context.Context, m *scratchModel, got, want *shop.Snapshot, msg string) (scratchView, []string) {
	t.Helper()
	gh, wh := got.History(), want.History()
	mv := m.view()

	// the Histories: orders, lines and events by key
	gv, gIdle := scratchViewOf(t, gh)
	wv, wIdle := scratchViewOf(t, wh)
	require.Equal(t, mv, wv, "%s: the scratch History holds the model", msg)
	require.Equal(t, mv, gv, "%s: the refreshed History holds what was fed", msg)
	require.Empty(t, wIdle, "%s: a scratch History has no idle customer", msg)
	require.Equal(t, scratchDerivedOf(wh), scratchDerivedOf(gh), "%s: what the History derives", msg)
	for _, o := range m.keyed() {
		id, ok := gh.LookupOrder(o.key)
		require.True(t, ok, "%s: order %q", msg, o.key)
		cust := ""
		if c := gh.OrderCustomer(id); c != affinity.NoCustomer {
			cust = gh.CustomerKey(c)
		}
		require.Equal(t, [3]any{o.key, o.cust, o.unix}, [3]any{gh.OrderKey(id), cust, gh.OrderUnix(id)}, "%s: order %q", msg, o.key)
	}
	live := map[string]bool{}
	for _, o := range m.keyed() {
		live[o.key] = true
	}
	for _, k := range slices.Sorted(maps.Keys(m.dropped)) {
		if !live[k] {
			_, ok := gh.LookupOrder(k)
			require.False(t, ok, "%s: order %q is gone", msg, k)
		}
	}

	// the catalog: the same products, ids and categories
	gc, wc := gh.Catalog(), wh.Catalog()
	require.Equal(t, wc.NumProducts(), gc.NumProducts(), msg)
	require.Equal(t, wc.NumCategories(), gc.NumCategories(), msg)
	for p := range affinity.ProductID(wc.NumProducts()) {
		require.Equal(t, wc.Product(p), gc.Product(p), "%s: product %d", msg, p)
	}
	for c := range affinity.CategoryID(wc.NumCategories()) {
		require.Equal(t, wc.CategoryPath(c), gc.CategoryPath(c), "%s: category %d", msg, c)
	}

	// the summary; Customers counts the refreshed History's idle ids too
	gs, ws := gh.Summary(), wh.Summary()
	require.Equal(t, ws.Customers+len(gIdle), gs.Customers, "%s: customers, %d idle ids", msg, len(gIdle))
	gs.Customers = ws.Customers
	require.Equal(t, ws, gs, "%s: summary", msg)
	require.Equal(t, wh.Latest(), gh.Latest(), "%s: latest", msg)
	require.Equal(t, want.AsOf(), got.AsOf(), "%s: as-of", msg)

	// the co-purchase neighbours, the repeat share, the model
	require.Equal(t, scratchNeighbours(want), scratchNeighbours(got), "%s: neighbours", msg)
	wShare, wNext := want.RepeatShare()
	gShare, gNext := got.RepeatShare()
	require.Equal(t, wShare, gShare, "%s: repeat share", msg)
	require.Equal(t, wNext, gNext, "%s: next-basket mode", msg)
	require.Equal(t, want.Model().String(), got.Model().String(), "%s: model", msg)
	require.Nil(t, got.Tuning(), "%s: Model auto chose at open: a scratch open would choose on other data (keep the shop below recommend.AutoMinCustomers validation customers)", msg)
	require.Nil(t, want.Tuning(), msg)

	// recommendations for a sample of customers, by key
	custs := m.customers()
	var sample []string
	for i := range 10 {
		sample = append(sample, custs[i*len(custs)/10])
	}
	for _, k := range slices.Sorted(maps.Keys(mv.Events)) {
		if _, buyer := mv.Orders[k]; !buyer {
			sample = append(sample, k) // events only
			break
		}
	}
	if n := len(m.erased); n > 0 {
		sample = append(sample, m.erased[n-1])
	}
	for _, k := range gIdle {
		if k != "" {
			sample = append(sample, k) // every order deleted
			break
		}
	}
	sample = append(sample, "nobody")
	known := func(k string) bool { _, o := mv.Orders[k]; _, e := mv.Events[k]; return o || e }
	cart := []string{m.products[0].Key, m.products[3].Key}
	top := wc.CategoryPath(wc.Roots()[0])
	for _, k := range sample {
		for _, req := range []shop.Request{
			{Customer: k, K: 8},
			{Customer: k, Cart: cart, K: 5, Exclude: []string{m.products[1].Key}},
			{Customer: k, K: 4, Category: top},
		} {
			w, err := want.Recommend(ctx, req)
			require.NoError(t, err)
			g, err := got.Recommend(ctx, req)
			require.NoError(t, err)
			if !known(k) {
				// a refreshed History keeps the key of a customer whose
				// orders were all deleted: it may know them, a scratch
				// one does not; both serve the fallbacks
				require.False(t, w.Known, "%s: %q", msg, k)
				g.Known = false
			}
			require.Equal(t, w, g, "%s: recommendations for %q (cart %v)", msg, k, req.Cart)
		}
	}
	for _, p := range []int{0, 1, 2, 5, 9, len(m.products) - 1} {
		key := m.products[p].Key
		w, err := want.Together(ctx, key, 6)
		require.NoError(t, err)
		g, err := got.Together(ctx, key, 6)
		require.NoError(t, err)
		require.Equal(t, w, g, "%s: together with %q", msg, key)
	}

	// segments: every customer's features, and a handful of audiences
	gx, err := got.SegmentIndex(ctx)
	require.NoError(t, err)
	wx, err := want.SegmentIndex(ctx)
	require.NoError(t, err)
	require.Equal(t, wx.Len(), gx.Len(), "%s: segment universe", msg)
	require.Equal(t, scratchFeatures(wx), scratchFeatures(gx), "%s: segment features", msg)
	leaf := wc.CategoryPath(wc.Categories(0)[0])
	for _, c := range []string{top, leaf} {
		ws, wok := wx.PopulationShare(c)
		gs, gok := gx.PopulationShare(c)
		require.Equal(t, wok, gok, "%s: population share of %q", msg, c)
		require.Equal(t, ws, gs, "%s: population share of %q", msg, c)
	}
	queries := []string{
		"recency <= 30d",
		"frequency >= 2",
		"monetary >= $60",
		fmt.Sprintf("affinity(%q) >= 0.3", top),
		fmt.Sprintf("affinity(%q) >= 0.2 and recency <= 120d", leaf),
		`rfm("Champions") or lifecycle("loyal")`,
		fmt.Sprintf("viewed(category(%q) within 30d) and not bought(category(%q) within 30d)", top, top),
		"not recency <= 60d",
	}
	for i, q := range queries {
		wa, err := want.Segment(q)
		require.NoError(t, err, q)
		ga, err := got.Segment(q)
		require.NoError(t, err, q)
		require.Equal(t, wa.Len(), ga.Len(), "%s: %s: members", msg, q)
		require.Equal(t, wa.Stats(), ga.Stats(), "%s: %s: stats", msg, q)
		require.Equal(t, scratchKeys(wh, wa), scratchKeys(gh, ga), "%s: %s: members", msg, q)
		if i < 2 {
			// the members' features are the ones compared above: their
			// pages, with the last purchase and the orders, for two
			require.Equal(t, scratchMembers(t, wa, shop.ByKey), scratchMembers(t, ga, shop.ByKey), "%s: %s: members by key", msg, q)
			require.Equal(t, scratchMembers(t, wa, shop.BySpend), scratchMembers(t, ga, shop.BySpend), "%s: %s: members by spend", msg, q)
		}
	}
	return mv, gIdle
}

// scratchSeen records what the fed data held at some point of a chain,
// so that a chain shows it went through every kind of change.
type scratchSeen struct {
	idle, anonKeyed, anonUnkeyed, returns   bool
	newProduct, eventsOnly, comeBack, early bool
}

func (s *scratchSeen) see(m *scratchModel, v scratchView, idle []string, first0 int64) {
	for _, k := range idle {
		s.idle = s.idle || k != "" // a key whose every order was deleted
	}
	for _, o := range v.Anonymous {
		fed := strings.HasPrefix(o.Key, "f")
		s.anonKeyed = s.anonKeyed || fed
		s.anonUnkeyed = s.anonUnkeyed || o.Key == ""
	}
	for c, os := range v.Orders {
		s.comeBack = s.comeBack || slices.Contains(m.erased, c)
		for _, o := range os {
			s.early = s.early || o.Unix < first0
			if !strings.HasPrefix(o.Key, "f") && !strings.HasPrefix(o.Key, "p") {
				continue
			}
			for _, l := range o.Lines {
				s.returns = s.returns || l.Quantity < 0
				s.newProduct = s.newProduct || strings.HasPrefix(l.Product, "np-")
			}
		}
	}
	for c := range v.Events {
		_, buyer := v.Orders[c]
		s.eventsOnly = s.eventsOnly || !buyer
	}
}

// scratchKeys returns the keys of an audience's customers, sorted.
func scratchKeys(h *affinity.History, a *shop.Audience) []string {
	var keys []string
	for _, c := range a.Bitmap().ToArray() {
		keys = append(keys, h.CustomerKey(affinity.CustomerID(c)))
	}
	slices.Sort(keys)
	return keys
}

// TestRefreshMatchesScratch refreshes a shop with a long chain of random
// feeds (scratchModel.feed: puts, plain lines, deletions, erasures,
// anonymous orders, returns, events, early orders, new products) — large
// ones hours apart and small ones minutes apart, enough to pass through
// several compactions of the History — and checks after each refresh
// that every answer equals that of a shop opened from scratch on
// everything fed so far (scratchModel.source, with the same stock
// settings): the orders, lines and events by customer key, what the
// History derives from them (buyers, first and last purchases, order
// lookups), the catalog, the summary, the neighbours, the repeat share,
// recommendations and "bought together" by key, every customer's segment
// features and a handful of audiences. Unlike TestRefreshMatchesRebuild,
// which rebuilds from the refreshed History itself, it catches a
// refreshed History that holds the wrong data. Some refreshes are
// cancelled once their History is built and then run again, some follow
// the last one before its segment index is asked for, and the long suite
// adds a change large enough to be built by copying. It runs with the
// default options (Model "auto", which finds too few customers to
// validate a choice on), with BM25 and 5 neighbours, and with Model
// "neighbours". Every comparison is exact: floating-point answers come
// out bit for bit the same.
func TestRefreshMatchesScratch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		opts shop.Options
	}{
		{"default", shop.Options{}},
		{"bm25", shop.Options{Measure: "bm25", Neighbors: 5, Workers: 1, RefreshWorkers: 2}},
		{"neighbours", shop.Options{Model: "neighbours"}},
	}
	rounds := testdata.Scale(40, 14) // quick: still two compactions and every kind of change seen (the checks at the end)
	for ci, tc := range cases {
		for seed := range uint64(testdata.Scale(2, 1)) {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, uint64(ci)+77))
				// few customers: Model auto finds too few to validate
				// on, and keeps the neighbours in both shops
				sf := dataset.Generate(dataset.SyntheticOptions{Customers: 150, Products: 40, Categories: 8, Days: 240, Seed: 100*seed + uint64(ci) + 1})
				m := newScratchModel(sf)
				// a refresh cancelled once its History is built leaves the
				// base's room claimed: the next one builds on the same
				// base without it
				var cancel atomic.Pointer[context.CancelFunc]
				opts := tc.opts
				opts.Progress = func(p affinity.Progress) {
					if c := cancel.Load(); c != nil && p.Step == "history" && p.Done == p.Total {
						(*c)()
					}
				}
				s, err := shop.Open(ctx, shop.Storefront(sf), opts)
				require.NoError(t, err)
				defer s.Close()
				compactions, holey := 0, 0
				holes := 0
				var seen scratchSeen
				first0, _ := m.span()
				for round := range rounds {
					n, step := 1+r.IntN(3), time.Minute
					if round%6 == 1 {
						n, step = 25+r.IntN(25), time.Hour
					}
					b := m.feed(r, round, n, step)
					flood := round == rounds-2 && ci == 2 && testdata.Long()
					if flood {
						// a change of 65,536 lines and events and half the
						// History: built by copying, without lineage, so
						// that every index is built or compared in full
						b.events = append(b.events, scratchFlood(r, m, 1<<16)...)
					}
					if r.IntN(4) == 0 {
						// a stock setting: it overrides the catalog's
						// flag in every later snapshot
						key, in := m.products[r.IntN(len(m.products))].Key, r.IntN(3) == 0
						s.SetInStock(key, in)
						m.stock[key] = in
					}
					if round%7 == 3 {
						before := s.Snapshot()
						cctx, stop := context.WithCancel(ctx)
						cancel.Store(&stop)
						err := s.Refresh(cctx, b.source())
						cancel.Store(nil)
						stop()
						require.ErrorIs(t, err, context.Canceled, "round %d", round)
						require.Same(t, before, s.Snapshot(), "round %d: a failed refresh keeps the snapshot", round)
					}
					prev := s.Snapshot()
					require.NoError(t, s.Refresh(ctx, b.source()), "round %d", round)
					m.apply(b)
					got := s.Snapshot()
					_, lineage := got.History().ChangedSince(prev.History())
					require.Equal(t, !flood, lineage, "round %d: only the large change is built by copying", round)
					h := got.History()
					now := h.NumOrderIDs() - h.NumOrders()
					if now > 0 {
						holey++
					} else if holes > 0 && !flood {
						compactions++
					}
					holes = now
					if round%5 == 4 && round < rounds-1 {
						// the next refresh comes before this snapshot's
						// segment index is asked for (built in the
						// background, or stopped)
						continue
					}
					ws, err := shop.Open(ctx, m.source(), tc.opts)
					require.NoError(t, err)
					var in, out []string
					for _, k := range slices.Sorted(maps.Keys(m.stock)) {
						if m.stock[k] {
							in = append(in, k)
						} else {
							out = append(out, k)
						}
					}
					ws.SetStock(in, out)
					v, idle := compareScratch(t, ctx, m, got, ws.Snapshot(), fmt.Sprintf("round %d (%d changes)", round, n))
					ws.Close()
					seen.see(m, v, idle, first0)
				}
				t.Logf("%d refreshes, %d with unused order ids, %d compactions", rounds, holey, compactions)
				require.Equal(t, scratchSeen{true, true, true, true, true, true, true, true}, seen,
					"the chain went through idle customer ids, keyed and unkeyed anonymous orders, returns, new products, customers with events only, erased customers back, orders before the first")
				require.GreaterOrEqual(t, compactions, 2, "the chain passes through compactions of the History")
				require.Greater(t, holey, rounds/2, "refreshed Histories append, leaving unused ids")
			})
		}
	}
}
