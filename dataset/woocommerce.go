package dataset

import (
	"io"
	"strings"

	"github.com/shopaffinity/affinity"
)

// The columns of WooCommerce's order export (one row per line item) that
// the "woocommerce" format reads.
const (
	wcOrder = iota
	wcDate
	wcStatus
	wcCustomer
	wcEmail
	wcItem
	wcSKU
	wcProductID
	wcQuantity
	wcTotal
	wcRefunded
	wcRefundedQty
	numWoo
)

// wooSpecs name each column by its key; header matching ignores case,
// spaces and underscores, so the display names ("Order Number", "Item
// SKU") match as well.
var wooSpecs = func() []colSpec {
	s := make([]colSpec, numWoo)
	s[wcOrder] = colSpec{names: []string{"order_number", "order_id"}, required: true}
	s[wcDate] = colSpec{names: []string{"order_date"}, required: true}
	s[wcStatus] = colSpec{names: []string{"status"}}
	s[wcCustomer] = colSpec{names: []string{"customer_id"}}
	s[wcEmail] = colSpec{names: []string{"billing_email"}}
	s[wcItem] = colSpec{names: []string{"item_name"}, required: true, text: true}
	s[wcSKU] = colSpec{names: []string{"item_sku"}}
	s[wcProductID] = colSpec{names: []string{"item_product_id"}}
	s[wcQuantity] = colSpec{names: []string{"item_quantity"}, required: true}
	s[wcTotal] = colSpec{names: []string{"item_total"}, required: true}
	s[wcRefunded] = colSpec{names: []string{"item_refunded"}}
	s[wcRefundedQty] = colSpec{names: []string{"item_refunded_qty", "item_refunded_quantity"}}
	return s
}()

var wooLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04"}

// wooDropped are the order statuses that make an order no purchase.
var wooDropped = map[string]bool{"cancelled": true, "refunded": true, "failed": true, "pending": true,
	"checkout-draft": true, "draft": true, "trash": true}

func loadWooCommerce(l *loader, r io.Reader) error {
	l.times.setDefault(wooLayouts)
	return l.loadOrders(r, orderFormat{specs: wooSpecs, orderCol: wcOrder, readOrder: (*loader).wooOrder, readLine: (*loader).wooLine})
}

// wooOrder reads the order-level fields of an order's first row; later
// rows repeat them.
func (l *loader) wooOrder(o *orderBuf, src *csvSource, rec []string, h *header) *ParseError {
	cust := h.field(rec, wcCustomer)
	if cust == "" || cust == "0" { // a guest checkout
		cust = strings.ToLower(h.field(rec, wcEmail))
	}
	o.customer = l.cust.get(cust)
	if e := l.orderTime(o, src, rec, h, wcDate); e != nil {
		return e
	}
	status := strings.TrimPrefix(strings.ToLower(h.field(rec, wcStatus)), "wc-")
	o.del = wooDropped[status]
	return nil
}

// wooLine appends the lines of one line item to o: the units bought at
// item_total / item_quantity, and the refunded units (or amount) as a
// return of the same product.
func (l *loader) wooLine(o *orderBuf, src *csvSource, rec []string, h *header) *ParseError {
	q, e := l.quantity(src, rec, h, wcQuantity)
	if e != nil {
		return e
	}
	total, bad := l.price(src, h, wcTotal, h.field(rec, wcTotal))
	if bad != nil {
		return bad
	}
	var rq int32
	if s := h.field(rec, wcRefundedQty); s != "" {
		var ok bool
		if rq, ok = parseQuantity(s, l.opts.DecimalSep); !ok {
			return h.fail(src, wcRefundedQty, reasonQuantity, &valueError{what: "quantity", text: s})
		}
	}
	var refunded affinity.Money
	if s := h.field(rec, wcRefunded); s != "" {
		m, err := affinity.ParseMoney(s, l.opts.DecimalSep)
		if err != nil {
			return h.fail(src, wcRefunded, reasonRefund, &valueError{what: "amount", text: s, err: err})
		}
		refunded = max(m, -m) // the export writes refunds negative
	}
	product, e := l.lineProduct(o, src, rec, h, total/affinity.Money(absQuantity(q)), wcItem, wcSKU, wcProductID)
	if e != nil {
		return e
	}
	p := affinity.Purchase{Customer: o.customer, Product: product, Order: o.key, Time: o.time}
	o.lines = exactLines(o.lines, p, q, total)
	// A refund returns at most the units bought, for at most the line's
	// total (the rest is shipping and taxes, not the product's).
	refunded = min(refunded, max(total, -total))
	switch {
	case rq != 0:
		if rq > 0 {
			rq = -rq // a return; the export may write it either way
		}
		rq = int32(max(int64(rq), -absQuantity(q)))
		o.lines = exactLines(o.lines, p, rq, refunded)
	case refunded > 0:
		o.lines = exactLines(o.lines, p, -1, refunded)
	}
	return nil
}
