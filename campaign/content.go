package campaign

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// Item is one product of a message with its shop key, name and the reason
// it was chosen, in words a customer can be shown.
type Item struct {
	Product string `json:"product"`
	Name    string `json:"name"`
	Reason  string `json:"reason"`
}

// content computes the items of the members of one campaign. It holds
// what is shared between customers: the segment look-back and, for
// GroupFavourites, the ranking of the audience's purchases.
type content struct {
	c     *Campaign
	snap  *shop.Snapshot
	asOf  time.Time            // the plan's, in its location: the dates of reasons
	start int64                // Unix start of the segment look-back (start, asOf]; see lookbackStart
	group []affinity.ProductID // GroupFavourites: every product with a group buyer, best first
	count []int32              // group buyers per group entry
	size  int
	mark  []uint32                      // GroupFavourites: per product, 1 + the customer last marked as its buyer (owner)
	only  map[affinity.ProductID]bool   // Products, resolved
	flat  bool                          // Favourites: no category below the top level
	keep  func(affinity.EventLine) bool // AbandonedCart, BackInStock: the events whose products it sends (eventKeep)
}

// sendable reports whether product p may be in a message: merchandise, in
// Products when the campaign limits its products, and in stock as the
// shop serves it now (its live settings over the catalog's flags) — or,
// for BackInStock, listed as restocked.
func (ct *content) sendable(p affinity.ProductID) bool {
	if ct.only != nil && !ct.only[p] {
		return false
	}
	if ct.snap.NonMerchandise().Contains(uint32(p)) {
		return false
	}
	if ct.c.Content == BackInStock {
		return true // the campaign says the product is back
	}
	if e := ct.snap.Engine(); e != nil {
		return e.InStock(p)
	}
	return ct.snap.History().Catalog().InStock(p)
}

// lookbackStart returns the start of the segment index's look-back
// window, in Unix seconds: the orders in (start, asOf] are the ones its
// features count. The index is as of the end of the as-of day for a shop
// without a fixed [shop.Options.AsOf], so the window starts from there,
// as the index's does. A nil index (a shop without data) gives asOf.
func lookbackStart(snap *shop.Snapshot, asOf time.Time) int64 {
	x := snap.Segments()
	if x == nil {
		return asOf.Unix()
	}
	lb := x.Options().Lookback
	if lb.All {
		return math.MinInt64
	}
	return lb.Start(x.AsOf()).Unix()
}

// newContent prepares the content of campaign c for its audience members
// as of the plan's time asOf (the snapshot's, in the plan's location).
// For GroupFavourites it ranks, once, every merchandise product by its
// buyers among the members in the segment look-back: time linear in the
// members' order lines plus the ranked products' sort.
func newContent(ctx context.Context, c *Campaign, snap *shop.Snapshot, asOf time.Time, members *roaring.Bitmap) (*content, error) {
	ct := &content{c: c, snap: snap, asOf: asOf}
	h := snap.History()
	cat := h.Catalog()
	ct.keep = eventKeep(c, cat)
	if len(c.Products) > 0 {
		ct.only = make(map[affinity.ProductID]bool, len(c.Products))
		for _, k := range c.Products {
			if p, ok := cat.LookupProduct(k); ok {
				ct.only[p] = true
			}
		}
	}
	if members.IsEmpty() || (c.Content != Favourites && c.Content != GroupFavourites) {
		return ct, nil
	}
	ct.start = lookbackStart(snap, ct.asOf)
	if c.Content == Favourites {
		ct.flat = true
		for cid := range cat.NumCategories() {
			if cat.Depth(affinity.CategoryID(cid)) > 1 {
				ct.flat = false
				break
			}
		}
		return ct, nil
	}
	ct.size = int(members.GetCardinality())
	non := snap.NonMerchandise()
	to := ct.asOf.Unix()
	n := make([]int32, cat.NumProducts())
	ct.mark = make([]uint32, cat.NumProducts())
	k := 0
	for it := members.Iterator(); it.HasNext(); k++ {
		v := it.Next()
		if k%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("campaign %q: %w", c.Name, err)
			}
		}
		lo, hi := h.CustomerOrders(customerOf(v))
		for o := lo; o < hi; o++ {
			if u := h.OrderUnix(o); u > to || u <= ct.start {
				continue
			}
			l0, l1 := h.OrderLines(o)
			for i := l0; i < l1; i++ {
				p := h.LineProduct(i)
				if h.LineQuantity(i) > 0 && ct.mark[p] != v+1 && !non.Contains(uint32(p)) {
					ct.mark[p] = v + 1 // one buyer, however many lines
					n[p]++
				}
			}
		}
	}
	clear(ct.mark)
	for p, x := range n {
		if x > 0 && ct.sendable(affinity.ProductID(p)) {
			ct.group = append(ct.group, affinity.ProductID(p))
		}
	}
	slices.SortFunc(ct.group, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(n[b], n[a]), cmp.Compare(a, b)) })
	ct.count = make([]int32, len(ct.group))
	for i, p := range ct.group {
		ct.count[i] = n[p]
	}
	return ct, nil
}

// items returns the items of customer c; nil when the rule finds none.
func (ct *content) items(ctx context.Context, c affinity.CustomerID) ([]Item, error) {
	h := ct.snap.History()
	key := h.CustomerKey(c)
	k := ct.c.k()
	switch ct.c.Content {
	case NoProducts:
		return []Item{}, nil
	case CrossSell:
		// the last purchase, as recency counts it (a later return-only
		// order is not a purchase)
		o, ok := h.LastPurchaseOrder(c, ct.asOf)
		if !ok {
			return nil, nil
		}
		var cart []string
		l0, l1 := h.OrderLines(o)
		for i := l0; i < l1; i++ {
			if h.LineQuantity(i) > 0 {
				cart = append(cart, h.Catalog().ProductKey(h.LineProduct(i)))
			}
		}
		return ct.recommend(ctx, shop.Request{Customer: key, Cart: cart, Exclude: cart, Only: ct.c.Products, K: k, Rules: ct.c.Rules}, true)
	case Favourites:
		req := shop.Request{Customer: key, Only: ct.c.Products, K: k, Rules: ct.c.Rules}
		if fav := ct.favourite(c); fav != "" {
			req.Category = fav
		}
		return ct.recommend(ctx, req, false)
	case GroupFavourites:
		// what c owns: a bought line at any time up to asOf
		mark := uint32(c) + 1
		lo, hi := h.CustomerOrders(c)
		to := ct.asOf.Unix()
		for o := lo; o < hi && h.OrderUnix(o) <= to; o++ {
			l0, l1 := h.OrderLines(o)
			for i := l0; i < l1; i++ {
				if h.LineQuantity(i) > 0 {
					ct.mark[h.LineProduct(i)] = mark
				}
			}
		}
		var out []Item
		cat := h.Catalog()
		for i, p := range ct.group {
			if len(out) == k {
				break
			}
			if ct.mark[p] == mark {
				continue
			}
			if out == nil {
				out = make([]Item, 0, k)
			}
			out = append(out, Item{Product: cat.ProductKey(p), Name: cat.ProductName(p),
				Reason: fmt.Sprintf("bought by %d of the %d customers in %s", ct.count[i], ct.size, ct.c.Name)})
		}
		return out, nil
	case AbandonedCart:
		return ct.events(c, ct.keep, "left in the cart on %s"), nil
	case BackInStock:
		return ct.events(c, ct.keep, "looked at on %s, back in stock"), nil
	}
	return nil, fmt.Errorf("campaign %q: unknown content rule %d", ct.c.Name, int(ct.c.Content))
}

func nonEmpty(items []Item) []Item {
	if len(items) == 0 {
		return nil
	}
	return items
}

// recommend asks the snapshot and turns the answer into items (the
// request limited to Products already). With complements, popularity
// fallbacks are left out.
func (ct *content) recommend(ctx context.Context, req shop.Request, complements bool) ([]Item, error) {
	res, err := ct.snap.Recommend(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("campaign %q: %w", ct.c.Name, err)
	}
	out := make([]Item, 0, len(res.Recs))
	for i := range res.Recs {
		r := &res.Recs[i]
		if complements && r.Source.Fallback() {
			continue
		}
		out = append(out, Item{Product: r.Product, Name: r.Name, Reason: r.Explanation()})
	}
	return nonEmpty(out), nil
}

// favourite returns the path of the customer's favourite category: the
// one of depth 2 (or 1 in a flat tree) with the most spend in the segment
// look-back; "" when none.
func (ct *content) favourite(c affinity.CustomerID) string {
	h := ct.snap.History()
	cat := h.Catalog()
	spend := map[affinity.CategoryID]int64{}
	var tops []affinity.CategoryID
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		if u := h.OrderUnix(o); u > ct.asOf.Unix() || u <= ct.start {
			continue
		}
		l0, l1 := h.OrderLines(o)
		for i := l0; i < l1; i++ {
			ln := h.Line(i)
			if ln.Quantity <= 0 || ct.snap.NonMerchandise().Contains(uint32(ln.Product)) {
				continue
			}
			// the line's value once to each of its categories of level
			// two, or level one in a flat tree (a product filed in two
			// leaves under one counts once there; one filed only at the
			// top of a deeper tree counts for none)
			tops = tops[:0]
			for _, cid := range cat.Categories(ln.Product) {
				switch {
				case ct.flat:
				case cat.Depth(cid) >= 2:
					cid = cat.Ancestor(cid, 2)
				default:
					continue
				}
				if !slices.Contains(tops, cid) {
					tops = append(tops, cid)
				}
			}
			for _, cid := range tops {
				// saturated: a sum of Money values beyond the range
				// stays the largest
				spend[cid] = satAdd(spend[cid], int64(ln.Value()))
			}
		}
	}
	// a favourite is a category with spend: not one of free lines only
	best, bestV := affinity.NoCategory, int64(0)
	for cid, v := range spend {
		if v > bestV || (v == bestV && v > 0 && cid < best) {
			best, bestV = cid, v
		}
	}
	if best == affinity.NoCategory {
		return ""
	}
	return cat.CategoryPath(best)
}

// satAdd returns a + b, saturated at the int64 range.
func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

// events returns the products of the customer's events in the window that
// keep says yes to and that were not bought after the event, most recent
// first, ties by product id; why gets the event's date in the plan's
// location, the day the customer saw.
func (ct *content) events(c affinity.CustomerID, keep func(affinity.EventLine) bool, why string) []Item {
	h := ct.snap.History()
	cat := h.Catalog()
	last := pending(h, c, ct.asOf.Add(-ct.c.window()).Unix(), ct.asOf.Unix(), keep)
	type pe struct {
		p affinity.ProductID
		t int64
	}
	var ps []pe
	for p, t := range last {
		if ct.sendable(p) {
			ps = append(ps, pe{p, t})
		}
	}
	slices.SortFunc(ps, func(a, b pe) int { return cmp.Or(cmp.Compare(b.t, a.t), cmp.Compare(a.p, b.p)) })
	out := make([]Item, 0, min(len(ps), ct.c.k()))
	for _, x := range ps[:min(len(ps), ct.c.k())] {
		out = append(out, Item{Product: cat.ProductKey(x.p), Name: cat.ProductName(x.p),
			Reason: fmt.Sprintf(why, time.Unix(x.t, 0).In(ct.asOf.Location()).Format(time.DateOnly))})
	}
	return nonEmpty(out)
}

// pending returns, by product, the time of c's last event in (from, to]
// that keep says yes to, for the products not bought (a positive line in
// an order at or before to) at or after that event; nil when none.
func pending(h *affinity.History, c affinity.CustomerID, from, to int64, keep func(affinity.EventLine) bool) map[affinity.ProductID]int64 {
	var last map[affinity.ProductID]int64
	lo, hi := h.CustomerEvents(c)
	for i := lo; i < hi; i++ {
		e := h.Event(i)
		if e.Unix <= from || e.Unix > to || !keep(e) {
			continue
		}
		if last == nil {
			last = map[affinity.ProductID]int64{}
		}
		last[e.Product] = max(last[e.Product], e.Unix)
	}
	if len(last) == 0 {
		return nil
	}
	ol, oh := h.CustomerOrders(c)
	for o := ol; o < oh; o++ {
		u := h.OrderUnix(o)
		if u > to {
			continue
		}
		l0, l1 := h.OrderLines(o)
		for i := l0; i < l1; i++ {
			if t, ok := last[h.LineProduct(i)]; ok && h.LineQuantity(i) > 0 && u >= t {
				delete(last, h.LineProduct(i))
			}
		}
	}
	return last
}

// eventKeep returns the events whose products the content rule c sends,
// AbandonedCart's and BackInStock's, or nil for the other rules.
func eventKeep(c *Campaign, cat *affinity.Catalog) func(affinity.EventLine) bool {
	switch c.Content {
	case AbandonedCart:
		return func(e affinity.EventLine) bool { return e.Kind == affinity.Cart }
	case BackInStock:
		back := map[affinity.ProductID]bool{}
		for _, k := range c.Products {
			if p, ok := cat.LookupProduct(k); ok {
				back[p] = true
			}
		}
		return func(e affinity.EventLine) bool { return e.Kind != affinity.Rating && back[e.Product] }
	}
	return nil
}

// eventAudience returns the customers with an event keep says yes to in
// the campaign's window before asOf, of a product not bought since.
func eventAudience(ctx context.Context, c *Campaign, snap *shop.Snapshot, asOf time.Time, keep func(affinity.EventLine) bool) (*roaring.Bitmap, error) {
	h := snap.History()
	from, to := asOf.Add(-c.window()).Unix(), asOf.Unix()
	out := roaring.New()
	for id := range h.NumCustomers() {
		if id%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(pending(h, affinity.CustomerID(id), from, to, keep)) > 0 {
			out.Add(uint32(id))
		}
	}
	return out, nil
}
