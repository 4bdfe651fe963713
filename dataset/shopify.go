package dataset

import (
	"errors"
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
	s[shItem] = colSpec{names: []string{"Lineitem name"}, required: true}
	s[shPrice] = colSpec{names: []string{"Lineitem price"}, required: true}
	s[shSKU] = colSpec{names: []string{"Lineitem sku"}}
	return s
}()

// shopifyLayouts are the time layouts of the "shopify" format: the export
// writes "2024-03-01 10:15:00 -0700".
var shopifyLayouts = []string{"2006-01-02 15:04:05 -0700", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05"}

func loadShopify(l *loader, r io.Reader) error {
	l.times.setDefault(shopifyLayouts)
	var o orderBuf
	err := l.eachRecord(r, shopifySpecs, func(src *csvSource, rec []string, h *header) error {
		if len(rec) != h.n {
			return l.reject(&ParseError{Line: src.line, Reason: reasonFieldCount,
				Err: fmt.Errorf("%d fields, the header has %d", len(rec), h.n)})
		}
		name := h.field(rec, shName)
		if name == "" {
			return l.reject(h.fail(src, shName, reasonOrder, errors.New("missing order name")))
		}
		if !o.open || name != o.key {
			if err := l.flushOrder(&o); err != nil {
				return err
			}
			if e := o.start(l.order.get(name), src.line); e != nil {
				return l.reject(e)
			}
			if e := l.shopifyOrder(&o, src, rec, h); e != nil {
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
		p, e := l.shopifyLine(&o, src, rec, h)
		if e != nil {
			return l.reject(e)
		}
		o.rows++
		o.lines = append(o.lines, p)
		return nil
	})
	if err != nil {
		return err
	}
	return l.flushOrder(&o)
}

// shopifyOrder reads the order-level fields of an order's first row.
func (l *loader) shopifyOrder(o *orderBuf, src *csvSource, rec []string, h *header) *ParseError {
	o.customer = l.cust.get(strings.ToLower(h.field(rec, shEmail)))
	ts := h.field(rec, shCreated)
	t, ok := l.times.parse(ts)
	if !ok {
		return h.fail(src, shCreated, reasonTime, &valueError{what: "time", text: ts})
	}
	o.time = t
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

// shopifyLine reads the line-item fields of a row.
func (l *loader) shopifyLine(o *orderBuf, src *csvSource, rec []string, h *header) (affinity.Purchase, *ParseError) {
	s := h.field(rec, shQuantity)
	q, ok := parseQuantity(s)
	switch {
	case !ok:
		return affinity.Purchase{}, h.fail(src, shQuantity, reasonQuantity, &valueError{what: "quantity", text: s})
	case q == 0:
		return affinity.Purchase{}, h.fail(src, shQuantity, reasonZeroQty, errors.New("quantity 0"))
	}
	price, bad := l.price(src, h, shPrice, h.field(rec, shPrice))
	if bad != nil {
		return affinity.Purchase{}, bad
	}
	name := h.field(rec, shItem)
	product := h.field(rec, shSKU)
	if product == "" {
		product = name
	}
	if product == "" {
		return affinity.Purchase{}, h.fail(src, shItem, reasonProduct, errors.New("line item without sku or name"))
	}
	product = l.prod.get(product)
	if err := l.nameProduct(product, name, "", price); err != nil {
		return affinity.Purchase{}, h.fail(src, shItem, reasonCategory, err)
	}
	return affinity.Purchase{Customer: o.customer, Product: product, Order: o.key, Time: o.time, Quantity: q, Price: price}, nil
}
