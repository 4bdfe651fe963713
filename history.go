package affinity

import (
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"
)

// NoCustomer is the customer of an anonymous order.
const NoCustomer = CustomerID(math.MaxUint32)

// History is an immutable, columnar purchase and event history, sorted by
// customer and then time. Build one with a [Builder]. All methods are safe
// for concurrent use; slices and bitmaps it returns are owned by the
// History and must not be modified. Methods that take a dense id panic when
// the id is out of range, like a slice index.
type History struct {
	catalog   *Catalog
	customers keyTable
	orderKeys []byte // shop order ids of all order ids, concatenated

	// The orders of customer c are the ids [custLo[c], custHi[c]), the
	// anonymous ones [anonLo, anonHi). A History built from scratch has
	// them in customer order, without gaps; one built on a base may have
	// moved the changed customers' orders to new ids after the base's
	// and left their old ids unused (holes, see layout.go).
	custLo, custHi []uint32
	anonLo, anonHi uint32
	orderCust      []uint32    // per order id: its customer (anonBucket: anonymous); a hole is outside its customer's range
	orderOff       []uint32    // len NumOrderIDs+1, into the line columns: id o's lines are [orderOff[o], orderOff[o+1])
	baseUnix       int64       // order times are stored from here: at or before the earliest order
	firstUnix      int64       // the earliest order's time (0 without orders)
	orderDelta     []uint32    // order time − baseUnix, in seconds
	orderKeyOff    []uint32    // len NumOrderIDs+1, into orderKeys
	versions       []int64     // nil, or len NumOrderIDs−verLo: the version of order id verLo+i (versions.go)
	verLo          uint32      // order ids below it have version 0
	tomb           *tombstones // versions of deleted order keys; nil: none (versions.go)
	numOrders      int         // orders, holes not counted
	numLines       int         // lines, those of holes not counted
	holeLines      int         // lines of the holes
	tail           atomic.Bool // set by the Build that wrote past the columns' lengths (layout.go)

	lineProduct []ProductID
	lineQty     []int32
	linePrice   []Money

	evLo, evHi []uint32 // per customer: its events [evLo[c], evHi[c]) (layout.go)
	numEvents  int      // events, those in no customer's range not counted
	evHoles    int      // events in no customer's range
	evProduct  []ProductID
	evUnix     []int64
	evKind     []EventKind
	evWeight   []float32
	evLatest   int64 // the latest event's Unix time, when there are events

	firstOrder, lastOrder []uint32 // per customer: first/last order with a bought line; noOrder when none

	buyers    []*roaring.Bitmap // per product
	cats      categoryBuyers    // per category: built with the History, or on first use
	catCount  []uint32          // per category: its buyers
	allBuyers *roaring.Bitmap
	empty     *roaring.Bitmap

	summary Summary
	latest  time.Time // last order or event
	gross   Money     // sum of |Quantity × Price| over all lines (see Builder.Add)
	lin     lineage   // this History's number and its changes from its base

	keys orderKeys // by shop order id: built on first use, or extended from the base's
}

const noOrder = math.MaxUint32

// Catalog returns the products and the category tree.
func (h *History) Catalog() *Catalog { return h.catalog }

// NumCustomers returns the number of customer ids: every customer that a
// purchase line or event named, in this History or in those it was built
// on. Ids are never reused, so a customer erased since, or whose orders
// were all deleted, keeps its id, with empty ranges.
func (h *History) NumCustomers() int { return h.customers.len() }

// NumOrders returns the number of orders, anonymous ones included.
func (h *History) NumOrders() int { return h.numOrders }

// NumOrderIDs returns the bound of h's order ids: every [OrderID] of h is
// below it. It equals [History.NumOrders] for a History built from
// scratch; one built on a base may leave ids unused (see [OrderID]), so
// size arrays indexed by OrderID with it, and visit the orders with
// [History.Orders] or the customer ranges.
func (h *History) NumOrderIDs() int { return len(h.orderDelta) }

// NumLines returns the number of purchase lines, anonymous ones included.
func (h *History) NumLines() int { return h.numLines }

// NumEvents returns the number of non-purchase events.
func (h *History) NumEvents() int { return h.numEvents }

// LookupCustomer returns the dense id of the shop customer id key.
func (h *History) LookupCustomer(key string) (CustomerID, bool) {
	id, ok := h.customers.lookup(key)
	return CustomerID(id), ok
}

// CustomerKey returns the shop id of customer c.
func (h *History) CustomerKey(c CustomerID) string { return h.customers.keys[c] }

// CustomerOrders returns the range [lo, hi) of c's orders, in time order
// (ties by shop order id). Empty for a customer with events only.
func (h *History) CustomerOrders(c CustomerID) (lo, hi OrderID) {
	return OrderID(h.custLo[c]), OrderID(h.custHi[c])
}

// CustomerLines returns the range [lo, hi) of c's purchase lines, in order
// time order.
func (h *History) CustomerLines(c CustomerID) (lo, hi int) {
	return int(h.orderOff[h.custLo[c]]), int(h.orderOff[h.custHi[c]])
}

// AnonymousOrders returns the range [lo, hi) of the orders without a
// customer, in time order.
func (h *History) AnonymousOrders() (lo, hi OrderID) {
	return OrderID(h.anonLo), OrderID(h.anonHi)
}

// bucket returns the order ids [lo, hi) of customer k, or of the
// anonymous orders for k == NumCustomers.
func (h *History) bucket(k int) (lo, hi uint32) {
	if k == len(h.custLo) {
		return h.anonLo, h.anonHi
	}
	return h.custLo[k], h.custHi[k]
}

// OrderLines returns the range [lo, hi) of o's lines, in the order they
// were added.
func (h *History) OrderLines(o OrderID) (lo, hi int) {
	return int(h.orderOff[o]), int(h.orderOff[o+1])
}

// OrderCustomer returns the customer of o, or [NoCustomer] for an anonymous
// order and for an id that names no order (see [History.NumOrderIDs]).
// It takes O(1) time.
func (h *History) OrderCustomer(o OrderID) CustomerID {
	if o >= OrderID(len(h.orderDelta)) {
		panic(fmt.Sprintf("affinity: order %d out of range", o))
	}
	if c := h.orderCust[o]; c != anonBucket && h.live(uint32(o)) {
		return CustomerID(c)
	}
	return NoCustomer
}

// OrderUnix returns the time of o in Unix seconds.
func (h *History) OrderUnix(o OrderID) int64 { return h.baseUnix + int64(h.orderDelta[o]) }

// OrderTime returns the time of o in UTC.
func (h *History) OrderTime(o OrderID) time.Time { return time.Unix(h.OrderUnix(o), 0).UTC() }

// OrderKey returns the shop id of o ("" when the lines carried none).
func (h *History) OrderKey(o OrderID) string {
	lo, hi := h.orderKeyOff[o], h.orderKeyOff[o+1]
	if lo == hi {
		return ""
	}
	// The bytes of an order id are written once, before the History is
	// published, and never again (layout.go).
	return unsafe.String(&h.orderKeys[lo], hi-lo)
}

// OrderValue returns the net value of o: the sum of its lines' values. It
// never overflows: [Builder.Add] keeps the gross value of all lines of a
// History within [MaxMoney], so every sum of line values fits.
func (h *History) OrderValue(o OrderID) Money {
	var v Money
	for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
		v += Money(h.lineQty[i]) * h.linePrice[i] // bounded: see Builder.Add
	}
	return v
}

// OrderBought reports whether o has a bought line (a positive quantity):
// an order of returns only is not a purchase.
func (h *History) OrderBought(o OrderID) bool {
	for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
		if h.lineQty[i] > 0 {
			return true
		}
	}
	return false
}

// Line returns purchase line i, an index from [History.CustomerLines] or
// [History.OrderLines].
func (h *History) Line(i int) Line {
	return Line{Product: h.lineProduct[i], Quantity: h.lineQty[i], Price: h.linePrice[i]}
}

// LineProduct returns the product of line i; cheaper than [History.Line]
// when only the product is needed.
func (h *History) LineProduct(i int) ProductID { return h.lineProduct[i] }

// LineQuantity returns the quantity of line i (negative for a return).
func (h *History) LineQuantity(i int) int32 { return h.lineQty[i] }

// CustomerEvents returns the range [lo, hi) of c's events, in time order;
// events in one second are ordered by product key, then kind, then weight,
// whatever order they were added in, so that the same events give the same
// History in any order (a date-only export puts a day's events in one
// second).
// The ranges of all customers hold every event; indices between them may
// name none (see [History.Event]).
func (h *History) CustomerEvents(c CustomerID) (lo, hi int) {
	return int(h.evLo[c]), int(h.evHi[c])
}

// Event returns event i, an index from [History.CustomerEvents]. Like the
// orders' (see [OrderID]), a History built on a base appends a changed
// customer's events after the base's, so visit them by customer.
func (h *History) Event(i int) EventLine {
	return EventLine{Product: h.evProduct[i], Unix: h.evUnix[i], Kind: h.evKind[i], Weight: h.evWeight[i]}
}

// FirstPurchase returns the time of c's first order with a bought (positive
// quantity) line; ok is false when c never bought anything.
func (h *History) FirstPurchase(c CustomerID) (t time.Time, ok bool) {
	return h.orderTime(h.firstOrder[c])
}

// LastPurchase returns the time of c's last order with a bought (positive
// quantity) line; ok is false when c never bought anything.
func (h *History) LastPurchase(c CustomerID) (t time.Time, ok bool) {
	return h.orderTime(h.lastOrder[c])
}

// LastPurchaseBy returns the time of c's last order with a bought line at
// or before asOf ([History.LastPurchaseOrder]); ok is false when c bought
// nothing by then.
func (h *History) LastPurchaseBy(c CustomerID, asOf time.Time) (t time.Time, ok bool) {
	o, ok := h.LastPurchaseOrder(c, asOf)
	if !ok {
		return time.Time{}, false
	}
	return h.OrderTime(o), true
}

// LastPurchaseOrder returns c's last order with a bought (positive
// quantity) line at or before asOf — the order recency counts from, a
// later return-only order passed over; ok is false when c bought nothing
// by then. It takes O(1) time when c's last purchase is at or before asOf,
// else O(log n) in c's orders plus the lines of the orders it passes over.
func (h *History) LastPurchaseOrder(c CustomerID, asOf time.Time) (o OrderID, ok bool) {
	at := asOf.Unix() // times are whole seconds: t ≤ asOf ⇔ t ≤ ⌊asOf⌋
	switch last, first := h.lastOrder[c], h.firstOrder[c]; {
	case last == noOrder || h.OrderUnix(OrderID(first)) > at:
		return 0, false
	case h.OrderUnix(OrderID(last)) <= at:
		return OrderID(last), true
	}
	lo, hi := h.CustomerOrders(c)
	// c's orders are in time order: those after asOf are a suffix
	k := lo + OrderID(sort.Search(int(hi-lo), func(i int) bool { return h.OrderUnix(lo+OrderID(i)) > at }))
	for o := k; o > lo; o-- {
		l0, l1 := h.OrderLines(o - 1)
		for i := l0; i < l1; i++ {
			if h.LineQuantity(i) > 0 {
				return o - 1, true
			}
		}
	}
	return 0, false
}

func (h *History) orderTime(o uint32) (time.Time, bool) {
	if o == noOrder {
		return time.Time{}, false
	}
	return h.OrderTime(OrderID(o)), true
}

// Buyers returns the customers who bought p (a line with positive
// quantity) at any time. The bitmap is owned by the History: read it, or
// Clone it before modifying.
func (h *History) Buyers(p ProductID) *roaring.Bitmap {
	if b := h.buyers[p]; b != nil {
		return b
	}
	return h.empty
}

// CategoryBuyers returns the customers who bought a product of cat or of
// any category below it. The bitmap is owned by the History. A History
// built from scratch builds these bitmaps with it; one built on a base
// ([NewBuilder]) leaves them to the first call, which builds every
// category's from the products' buyers (time linear in their size), so
// that a refresh does not copy them. [History.CategoryBuyerCount] takes
// O(1) time either way.
func (h *History) CategoryBuyers(cat CategoryID) *roaring.Bitmap {
	if b := h.categoryBitmaps()[cat]; b != nil {
		return b
	}
	return h.empty
}

// CategoryBuyerCount returns the number of customers who bought a product
// of cat or of any category below it: the cardinality of
// [History.CategoryBuyers], in O(1) time.
func (h *History) CategoryBuyerCount(cat CategoryID) int { return int(h.catCount[cat]) }

// AllBuyers returns the customers with at least one bought line. The bitmap
// is owned by the History.
func (h *History) AllBuyers() *roaring.Bitmap { return h.allBuyers }

// Summary returns counts and totals of the History.
func (h *History) Summary() Summary { return h.summary }

// Summary holds the counts and totals of a [History]. Its JSON and its
// structured log form ([Summary.LogValue]) use the same snake_case names.
type Summary struct {
	// Customers counts customer ids ([History.NumCustomers]: erased
	// customers and those whose orders were all deleted included);
	// Buyers those with a bought line.
	Customers int `json:"customers"`
	Buyers    int `json:"buyers"`
	// Products and Categories count the catalog (category nodes at every
	// level).
	Products   int `json:"products"`
	Categories int `json:"categories"`
	// Orders, Lines and Events count everything, anonymous orders included.
	Orders int `json:"orders"`
	Lines  int `json:"lines"`
	Events int `json:"events"`
	// Returns counts lines with a negative quantity.
	Returns int `json:"returns"`
	// AnonymousOrders and AnonymousLines count what has no customer.
	AnonymousOrders int `json:"anonymous_orders"`
	AnonymousLines  int `json:"anonymous_lines"`
	// Revenue is the net value of all lines (returns subtracted), anonymous
	// ones included; CustomerRevenue leaves the anonymous ones out. Both
	// are exact: the gross value of a History's lines fits in Money (see
	// [Builder.Add]).
	Revenue         Money `json:"revenue"`
	CustomerRevenue Money `json:"customer_revenue"`
	// First and Last are the times of the first and last order (zero when
	// there is none, and then left out of JSON).
	First time.Time `json:"first_order,omitzero"`
	Last  time.Time `json:"last_order,omitzero"`
}

// String formats the summary as an aligned, multi-line table.
func (s Summary) String() string {
	var b strings.Builder
	row := func(name string, v any) { fmt.Fprintf(&b, "%-18s %v\n", name, v) }
	row("customers", s.Customers)
	row("buyers", s.Buyers)
	row("products", s.Products)
	row("categories", s.Categories)
	row("orders", s.Orders)
	row("lines", s.Lines)
	row("returns", s.Returns)
	row("events", s.Events)
	row("anonymous orders", s.AnonymousOrders)
	row("anonymous lines", s.AnonymousLines)
	row("revenue", s.Revenue)
	row("customer revenue", s.CustomerRevenue)
	if !s.First.IsZero() {
		row("first order", s.First.Format(time.DateTime))
		row("last order", s.Last.Format(time.DateTime))
	}
	return b.String()
}

// LogValue gives a structured logger ([log/slog]) the summary as a group
// of snake_case attributes named as in [Summary.String], with the revenues
// as exact decimal strings ([Money.String]) instead of Money's integer
// units, and the first and last order times only when there is an order.
func (s Summary) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Int("customers", s.Customers),
		slog.Int("buyers", s.Buyers),
		slog.Int("products", s.Products),
		slog.Int("categories", s.Categories),
		slog.Int("orders", s.Orders),
		slog.Int("lines", s.Lines),
		slog.Int("returns", s.Returns),
		slog.Int("events", s.Events),
		slog.Int("anonymous_orders", s.AnonymousOrders),
		slog.Int("anonymous_lines", s.AnonymousLines),
		slog.String("revenue", s.Revenue.String()),
		slog.String("customer_revenue", s.CustomerRevenue.String()),
	}
	if !s.First.IsZero() {
		attrs = append(attrs, slog.Time("first_order", s.First), slog.Time("last_order", s.Last))
	}
	return slog.GroupValue(attrs...)
}

// MemoryUsage is an estimate of the bytes a [History] keeps resident.
// Arrays a History shares with its base ([NewBuilder]) count in both.
type MemoryUsage struct {
	// Columns counts the line, order, customer and event arrays (the
	// orders' versions among them, when a put gave one) and the
	// per-category buyer counts, by capacity: a History built on a base
	// keeps spare room for the next refresh to append to (see [OrderID]).
	Columns int
	// Bitmaps counts the per-product buyer bitmaps, the per-category ones
	// once [History.CategoryBuyers] has built them, and the set of all
	// buyers.
	Bitmaps int
	// IDs counts the id tables: the string headers and hash slots of the
	// shop ids of customers, products and categories; the offsets of the
	// orders' shop ids; the tombstones of deleted orders (see
	// [Builder.Apply]); the catalog's other arrays (names' string headers,
	// prices, stock flags, categories and shares, the category tree); and,
	// once [History.LookupOrder] has built it, its index of order ids. The
	// bytes of the id strings and names themselves are not counted.
	IDs int
}

// Total returns the sum of all parts.
func (m MemoryUsage) Total() int { return m.Columns + m.Bitmaps + m.IDs }

// MemoryUsage estimates the bytes h keeps resident, from the capacities
// of its arrays and roaring's own size estimate of each bitmap. It takes
// time linear in the number of products and categories (and in the
// shards of the order index, about one per 32 orders, once built).
func (h *History) MemoryUsage() MemoryUsage {
	var m MemoryUsage
	m.Columns = 4*(cap(h.custLo)+cap(h.custHi)+cap(h.orderCust)+cap(h.orderOff)+cap(h.lineProduct)+cap(h.lineQty)+cap(h.evLo)+cap(h.evHi)+cap(h.evProduct)+cap(h.evWeight)) +
		4*(cap(h.orderDelta)+cap(h.firstOrder)+cap(h.lastOrder)+cap(h.catCount)) + 8*(cap(h.linePrice)+cap(h.evUnix)+cap(h.versions)) + cap(h.evKind)
	for _, b := range h.buyers {
		if b != nil {
			m.Bitmaps += int(b.GetSizeInBytes())
		}
	}
	for _, b := range h.cats.built() {
		if b != nil {
			m.Bitmaps += int(b.GetSizeInBytes())
		}
	}
	m.Bitmaps += int(h.allBuyers.GetSizeInBytes())
	c := h.catalog
	m.IDs = h.customers.size() + c.products.size() + c.cats.size() + 4*cap(h.orderKeyOff) + h.tomb.size() +
		16*cap(c.name) + 8*cap(c.price) + cap(c.inStock) + cap(c.entry) +
		4*(cap(c.leafOff)+cap(c.leaf)+cap(c.shareOff)) + 8*cap(c.share) +
		4*(cap(c.parent)+cap(c.depth)+cap(c.childOff)+cap(c.child)+cap(c.roots)) + cap(c.sharedNm)
	if x := h.keys.x.Load(); x != nil {
		m.IDs += x.size()
	}
	return m
}
