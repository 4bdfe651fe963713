package affinity

import (
	"iter"
	"time"
)

// Purchases returns the purchase lines of h with their shop keys, in the
// History's order: customers by id, each customer's orders in time order,
// lines as stored, then the anonymous orders. A line's Time is its order's
// time (a History keeps only the earliest time of an order's lines), and
// Order is its order's shop id.
//
// Fed to an empty [Builder] after the catalog (AddCategory of every
// [Catalog.CategoryPath] in id order, which keeps the nodes no product
// names any more, then AddProduct of every [Catalog.Product] in id
// order), and followed by [History.Events], the purchases rebuild the
// same orders and lines (with dense order ids), category and product
// ids, and every [Summary] field but Customers: it counts only the
// customers with an order or an event, since erased customers
// ([Builder.EraseCustomer]) and customers whose orders were all deleted,
// without events, have nothing to yield. Customers are numbered in
// first-seen order, so customer ids, and with them the buyer sets (bitmaps
// of customer ids), match when every customer has an order; else they
// may not, and the buyer sets hold the same customers under other ids. Order versions
// and tombstones ([History.OrderVersion]) are not carried, and every
// product of the rebuilt catalog has an entry ([Builder.HasProduct]).
//
// A whole loop takes O(customers + lines) time (customers without orders
// are passed over); the strings yielded are owned by h.
func (h *History) Purchases() iter.Seq[Purchase] {
	return func(yield func(Purchase) bool) {
		nc := h.NumCustomers()
		for c := 0; c <= nc; c++ {
			key := ""
			if c < nc {
				key = h.CustomerKey(CustomerID(c))
			}
			lo, hi := h.bucket(c)
			for o := OrderID(lo); o < OrderID(hi); o++ {
				p := Purchase{Customer: key, Order: h.OrderKey(o), Time: h.OrderTime(o)}
				for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
					p.Product = h.catalog.ProductKey(h.lineProduct[i])
					p.Quantity, p.Price = h.lineQty[i], h.linePrice[i]
					if !yield(p) {
						return
					}
				}
			}
		}
	}
}

// Orders returns every order of h in the History's order: customers by
// id, each customer's orders in time order, then the anonymous orders.
// It is the way to visit all orders: a History built on a base may leave
// order ids unused (see [OrderID]). A whole loop takes O(customers +
// orders) time (customers without orders are passed over).
func (h *History) Orders() iter.Seq[OrderID] {
	return func(yield func(OrderID) bool) {
		for k := 0; k <= len(h.custLo); k++ {
			lo, hi := h.bucket(k)
			for o := lo; o < hi; o++ {
				if !yield(OrderID(o)) {
					return
				}
			}
		}
	}
}

// Events returns the events of h with their shop keys, customers by id and
// each customer's events in time order. A whole loop takes O(customers +
// events) time (customers without events are passed over).
func (h *History) Events() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		for c := range CustomerID(h.NumCustomers()) {
			key := h.CustomerKey(c)
			for i := h.evLo[c]; i < h.evHi[c]; i++ {
				e := Event{Customer: key, Product: h.catalog.ProductKey(h.evProduct[i]),
					Time: time.Unix(h.evUnix[i], 0).UTC(), Kind: h.evKind[i], Weight: h.evWeight[i]}
				if !yield(e) {
					return
				}
			}
		}
	}
}
