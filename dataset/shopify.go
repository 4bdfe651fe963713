package dataset

import (
	"fmt"
	"io"
	"strings"

	"github.com/shopaffinity/affinity"
)

// The columns of Shopify's orders export that the "shopify" format reads.
const (
	shName = iota
	shEmail
	shFinancial
	shCreated
	shCancelled
	shRefunded
	shQuantity
	shItem
	shPrice
	shSKU
	shDiscount
	numShopify
)

var shopifySpecs = func() []colSpec {
	s := make([]colSpec, numShopify)
	s[shName] = colSpec{names: []string{"Name"}, required: true}
	s[shEmail] = colSpec{names: []string{"Email"}}
	s[shFinancial] = colSpec{names: []string{"Financial Status"}}
	s[shCreated] = colSpec{names: []string{"Created at"}, required: true}
	s[shCancelled] = colSpec{names: []string{"Cancelled at"}}
	s[shRefunded] = colSpec{names: []string{"Refunded Amount"}}
	s[shQuantity] = colSpec{names: []string{"Lineitem quantity"}, required: true}
	s[shItem] = colSpec{names: []string{"Lineitem name"}, required: true, text: true}
	s[shPrice] = colSpec{names: []string{"Lineitem price"}, required: true}
	s[shSKU] = colSpec{names: []string{"Lineitem sku"}}
	s[shDiscount] = colSpec{names: []string{"Lineitem discount"}}
	return s
}()

// shopifyLayouts are the time layouts of the "shopify" format: the export
// writes "2024-03-01 10:15:00 -0700".
var shopifyLayouts = []string{"2006-01-02 15:04:05 -0700", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05"}

func loadShopify(l *loader, r io.Reader) error {
	l.times.setDefault(shopifyLayouts)
	return l.loadOrders(r, orderFormat{specs: shopifySpecs, orderCol: shName, firstOnly: true, readOrder: (*loader).shopifyOrder, readLine: (*loader).shopifyLine})
}

// shopifyOrder reads the order-level fields of an order's first row.
func (l *loader) shopifyOrder(o *orderBuf, src *csvSource, rec []string, h *header) *ParseError {
	o.customer = l.cust.get(strings.ToLower(h.field(rec, shEmail)))
	if e := l.orderTime(o, src, rec, h, shCreated); e != nil {
		return e
	}
	switch strings.ToLower(h.field(rec, shFinancial)) {
	case "refunded", "voided":
		o.del = true
	}
	if h.field(rec, shCancelled) != "" {
		o.del = true
	}
	if s := h.field(rec, shRefunded); s != "" && !o.del {
		m, err := affinity.ParseMoney(s, l.opts.DecimalSep)
		switch {
		case err != nil:
			return h.fail(src, shRefunded, reasonRefund, &valueError{what: "amount", text: s, err: err})
		case m < 0:
			return h.fail(src, shRefunded, reasonRefund, fmt.Errorf("negative refund %s", s))
		}
		o.refund = m
	}
	return nil
}

// shopifyLine reads the line item of a row into o: quantity units at
// Lineitem price, less the line's Lineitem discount spread exactly over
// the units.
func (l *loader) shopifyLine(o *orderBuf, src *csvSource, rec []string, h *header) *ParseError {
	q, e := l.quantity(src, rec, h, shQuantity)
	if e != nil {
		return e
	}
	price, bad := l.price(src, h, shPrice, h.field(rec, shPrice))
	if bad != nil {
		return bad
	}
	var discount affinity.Money
	if s := h.field(rec, shDiscount); s != "" {
		m, err := affinity.ParseMoney(s, l.opts.DecimalSep)
		switch {
		case err != nil:
			return h.fail(src, shDiscount, reasonPrice, &valueError{what: "amount", text: s, err: err})
		case m < 0:
			return h.fail(src, shDiscount, reasonNegPrice, fmt.Errorf("negative discount %s", s))
		}
		discount = m
	}
	product, e := l.lineProduct(o, src, rec, h, price, shItem, shSKU)
	if e != nil {
		return e
	}
	// The line's value is checked whatever its discount, so that a value
	// beyond Money's range is this row's error, as in the other formats,
	// not one of the order's at its first row.
	gross, ok := price.Mul(absQuantity(q))
	if !ok {
		return h.fail(src, shPrice, reasonMoneyRange, fmt.Errorf("%d × %v: %w", q, price, affinity.ErrMoneyRange))
	}
	p := affinity.Purchase{Customer: o.customer, Product: product, Order: o.key, Time: o.time, Quantity: q, Price: price}
	if discount == 0 {
		o.lines = append(o.lines, p)
		return nil
	}
	// A discount beyond the line's value makes the line free.
	o.lines = exactLines(o.lines, p, q, gross-min(discount, gross))
	return nil
}
