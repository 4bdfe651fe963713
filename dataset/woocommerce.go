package dataset

import (
	"errors"
	"fmt"
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
	s[wcItem] = colSpec{names: []string{"item_name"}, required: true}
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
	var o orderBuf
	err := l.eachRecord(r, wooSpecs, func(src *csvSource, rec []string, h *header) error {
		if len(rec) != h.n {
			return l.reject(&ParseError{Line: src.line, Reason: reasonFieldCount,
				Err: fmt.Errorf("%d fields, the header has %d", len(rec), h.n)})
		}
		key := h.field(rec, wcOrder)
		if key == "" {
			return l.reject(h.fail(src, wcOrder, reasonOrder, errors.New("missing order number")))
		}
		if !o.open || key != o.key {
			if err := l.flushOrder(&o); err != nil {
				return err
			}
			if e := o.start(l.order.get(key), src.line); e != nil {
				return l.reject(e)
			}
			if e := l.wooOrder(&o, src, rec, h); e != nil {
				return l.badOrder(&o, e)
			}
		} else if o.bad != "" {
			l.skip(o.bad, src.line)
			return nil
		}
		if o.del {
			o.rows++
			return nil
		}
		n := len(o.lines)
		lines, e := l.wooLine(o.lines, &o, src, rec, h)
		if e != nil {
			o.lines = o.lines[:n]
			return l.reject(e)
		}
		o.lines = lines
		o.rows++
		return nil
	})
	if err != nil {
		return err
	}
	return l.flushOrder(&o)
}

// wooOrder reads the order-level fields of an order's first row; later
// rows repeat them.
func (l *loader) wooOrder(o *orderBuf, src *csvSource, rec []string, h *header) *ParseError {
	cust := h.field(rec, wcCustomer)
	if cust == "" || cust == "0" { // a guest checkout
		cust = strings.ToLower(h.field(rec, wcEmail))
	}
	o.customer = l.cust.get(cust)
	ts := h.field(rec, wcDate)
	t, ok := l.times.parse(ts)
	if !ok {
		return h.fail(src, wcDate, reasonTime, &valueError{what: "time", text: ts})
	}
	o.time = t
	status := strings.TrimPrefix(strings.ToLower(h.field(rec, wcStatus)), "wc-")
	o.del = wooDropped[status]
	return nil
}

// wooLine appends the lines of one line item to dst: the units bought at
// item_total / item_quantity, and the refunded units (or amount) as a
// return of the same product.
func (l *loader) wooLine(dst []affinity.Purchase, o *orderBuf, src *csvSource, rec []string, h *header) ([]affinity.Purchase, *ParseError) {
	s := h.field(rec, wcQuantity)
	q, ok := parseQuantity(s)
	switch {
	case !ok:
		return dst, h.fail(src, wcQuantity, reasonQuantity, &valueError{what: "quantity", text: s})
	case q == 0:
		return dst, h.fail(src, wcQuantity, reasonZeroQty, errors.New("quantity 0"))
	}
	total, bad := l.price(src, h, wcTotal, h.field(rec, wcTotal))
	if bad != nil {
		return dst, bad
	}
	var rq int32
	if s := h.field(rec, wcRefundedQty); s != "" {
		if rq, ok = parseQuantity(s); !ok {
			return dst, h.fail(src, wcRefundedQty, reasonQuantity, &valueError{what: "quantity", text: s})
		}
	}
	var refunded affinity.Money
	if s := h.field(rec, wcRefunded); s != "" {
		m, err := affinity.ParseMoney(s, l.opts.DecimalSep)
		if err != nil {
			return dst, h.fail(src, wcRefunded, reasonRefund, &valueError{what: "amount", text: s, err: err})
		}
		refunded = max(m, -m) // the export writes refunds negative
	}
	name := h.field(rec, wcItem)
	product := h.field(rec, wcSKU)
	if product == "" {
		product = h.field(rec, wcProductID)
	}
	if product == "" {
		product = name
	}
	if product == "" {
		return dst, h.fail(src, wcItem, reasonProduct, errors.New("line item without sku, product id or name"))
	}
	product = l.prod.get(product)
	if err := l.nameProduct(product, name, "", total/affinity.Money(max(q, -q))); err != nil {
		return dst, h.fail(src, wcItem, reasonCategory, err)
	}
	p := affinity.Purchase{Customer: o.customer, Product: product, Order: o.key, Time: o.time}
	dst = exactLines(dst, p, q, total)
	switch {
	case rq != 0:
		dst = exactLines(dst, p, -max(rq, -rq), refunded)
	case refunded > 0:
		dst = exactLines(dst, p, -1, refunded)
	}
	return dst, nil
}
