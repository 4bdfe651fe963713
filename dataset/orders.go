package dataset

import (
	"fmt"
	"time"

	"github.com/shopaffinity/affinity"
)

// RefundProduct is the product id of the line that carries an order-level
// refund whose lines the export does not name (Shopify's "Refunded
// Amount"): quantity −1, the refunded amount as its price. It reduces the
// order's value and spend and, as a return, never counts as interest.
const RefundProduct = "refund"

// Reasons of the order formats ("shopify", "woocommerce").
const (
	reasonOrder     = "missing order"
	reasonSplit     = "split order"
	reasonCancelled = "cancelled order"
	reasonRefund    = "invalid refund"
)

// orderBuf collects the rows of one order of an export with one row per
// line item; flush hands the order to the Builder as one put (or delete).
type orderBuf struct {
	key      string
	customer string    // from the order's first row
	time     time.Time // from the order's first row
	open     bool
	rows     int    // data rows of the order read so far
	bad      string // reason the order's first row failed; its rows are skipped
	del      bool   // cancelled: the order is deleted
	refund   affinity.Money
	lines    []affinity.Purchase
	seen     map[string]int // order key → first line, to detect split orders
}

// start begins order key at line; it returns the row's error when the
// key was seen before, not on the row just before.
func (o *orderBuf) start(key string, line int) *ParseError {
	if first, ok := o.seen[key]; ok {
		return &ParseError{Line: line, Reason: reasonSplit,
			Err: fmt.Errorf("order %q continues after other orders (it starts at line %d); rows of an order must be adjacent", key, first)}
	}
	if o.seen == nil {
		o.seen = make(map[string]int)
	}
	o.seen[key] = line
	*o = orderBuf{key: key, open: true, seen: o.seen, lines: o.lines[:0]}
	return nil
}

// flush puts or deletes the buffered order and counts its rows.
func (l *loader) flushOrder(o *orderBuf) error {
	if !o.open {
		return nil
	}
	o.open = false
	switch {
	case o.bad != "":
		return nil // rows counted as they were skipped
	case o.del:
		for range o.rows {
			l.skip(reasonCancelled, o.seen[o.key])
		}
		return l.b.DeleteOrder(o.key, 0)
	case len(o.lines) == 0:
		return nil // every line was skipped
	}
	if o.refund > 0 {
		var value affinity.Money
		for _, p := range o.lines {
			value += p.Value()
		}
		// The refund may include shipping and taxes, which the lines do
		// not: it is capped at the value of the lines.
		if r := min(o.refund, value); r > 0 {
			p := o.lines[0]
			p.Product, p.Quantity, p.Price = RefundProduct, -1, r
			o.lines = append(o.lines, p)
		}
	}
	if err := l.b.PutOrder(o.key, 0, o.lines); err != nil {
		return &ParseError{Line: o.seen[o.key], Reason: reasonRecord, Err: err}
	}
	for _, p := range o.lines {
		l.rep.Purchases++
		if p.Customer == "" {
			l.rep.Anonymous++
		}
		if p.Quantity < 0 {
			l.rep.Returns++
		}
	}
	l.rep.Loaded += o.rows
	return nil
}

// badOrder marks the order whose first row failed: the row and the rest
// of the order are skipped (lenient) or the load stops (strict).
func (l *loader) badOrder(o *orderBuf, e *ParseError) error {
	o.bad = e.Reason
	return l.reject(e)
}

// exactLines appends to dst the lines for n units (n ≠ 0, negative for a
// return) of p whose total value is |total|: one line at total/|n| when
// that is exact in [affinity.Money], otherwise |n|−1 units at the
// truncated unit price and one unit carrying the remainder, so that
// units and value both stay exact (as the "cdnow" format does).
func exactLines(dst []affinity.Purchase, p affinity.Purchase, n int32, total affinity.Money) []affinity.Purchase {
	sign, k := int32(1), n
	if n < 0 {
		sign, k = -1, -n
	}
	if total < 0 {
		total = -total
	}
	unit := total / affinity.Money(k)
	rem := total - unit*affinity.Money(k)
	p.Quantity, p.Price = n, unit
	if rem == 0 {
		return append(dst, p)
	}
	p.Quantity = sign * (k - 1)
	dst = append(dst, p)
	p.Quantity, p.Price = sign, unit+rem
	return append(dst, p)
}
