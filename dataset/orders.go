package dataset

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
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
	// the good rows of an order with a skipped row, as of an SQLSource
	reasonIncomplete = "incomplete order"
)

// orderVersions numbers the loads of the order formats: each load stages
// its puts and deletes at the next number, so that a later export wins,
// its cancellations included, in one Builder or on the History an earlier
// load built, which keeps the versions (the Builder lets a delete beat a
// put of equal version). An order the base History holds as it is is
// left out (flushOrder), keeping its earlier version.
var orderVersions atomic.Int64

// orderBuf collects the rows of one order of an export with one row per
// line item; flush hands the order to the Builder as one put (or delete).
type orderBuf struct {
	key      string
	first    int       // the line of the order's first row
	customer string    // from the order's first row
	time     time.Time // from the order's first row
	open     bool
	rows     int    // data rows of the order read so far
	bad      string // reason the order's first row failed; its rows are skipped
	// incomplete is set when a later row of the order was skipped
	// (lenient): a put holds the whole order, so nothing is put and its
	// good rows count as "incomplete order" at the first of them, firstOK
	incomplete bool
	firstOK    int
	del        bool // cancelled: the order is deleted
	refund     affinity.Money
	lines      []affinity.Purchase
	notes      []productNote // the catalog entries of its rows, kept once it is put
	name       lineName      // the catalog entry of the row's line item
	// seen holds what the load did with each order key read, to detect
	// split orders and take back the order a split one put; prev, made
	// on first need, the changes the Builder held staged for keys before
	// this load put them
	seen map[string]seenOrder
	prev map[string]affinity.OrderChange
	dups []int // lines of its duplicate rows, counted once it is put
	// dupOrders lists the orders loaded with duplicate rows, in line
	// order, for takeBack to find Report.FirstDuplicate again
	dupOrders []dupOrder
}

// seenOrder is what a load did with an order key: where its rows start
// and, once it is flushed, what its rows loaded, so that a row of the
// order found later (a split order, or a malformed row with its id)
// takes it back (loader.takeBack). It is kept for every order of the
// file, so it is small: int32 counts, which an order would pass only
// with more rows than the default limits let a file hold.
type seenOrder struct {
	first int // the line of the order's first row, its first loaded one
	// rows counts its loaded rows (0: none loaded, or taken back), lines
	// and returns its purchase lines and returns in the Report, dups its
	// duplicate rows counted in Report.Duplicates
	rows, lines, returns, dups int32
	anonymous                  bool // its lines count as anonymous
	put                        bool // staged by this load, not held as it is
	// onlyMalformed: no row of the order was read but a malformed one
	// that may be its (first is its line)
	onlyMalformed bool
}

// dupOrder is an order loaded with duplicate rows and the line of its
// first one.
type dupOrder struct {
	key  string
	line int
}

// lineName is what a line item's row says of its product, for a catalog
// entry given once the row is known to load (not a dropped duplicate).
type lineName struct {
	product, name string
	price         affinity.Money
	col           int // the column of the name
}

// start begins order key at line; it returns the row's error when the
// key was seen before, not on the row just before.
func (o *orderBuf) start(key string, line int) *ParseError {
	if s, ok := o.seen[key]; ok {
		return &ParseError{Line: line, Reason: reasonSplit,
			Err: fmt.Errorf("order %q continues after other orders (it starts at line %d); rows of an order must be adjacent", key, s.first)}
	}
	if o.seen == nil {
		o.seen = make(map[string]seenOrder)
	}
	o.seen[key] = seenOrder{first: line}
	*o = orderBuf{key: key, open: true, seen: o.seen, prev: o.prev, dupOrders: o.dupOrders, lines: o.lines[:0], notes: o.notes[:0], dups: o.dups[:0], first: line}
	return nil
}

// orderFormat describes an export with one row per line item: the column
// of the order id, and how the order-level fields (read from an order's
// first row) and a line item (appended to the order's lines) are read.
type orderFormat struct {
	specs    []colSpec
	orderCol int
	// firstOnly: only an order's first row holds the order-level fields
	// (Shopify); WooCommerce repeats them on every row
	firstOnly bool
	readOrder func(l *loader, o *orderBuf, src *csvSource, rec []string, h *header) *ParseError
	readLine  func(l *loader, o *orderBuf, src *csvSource, rec []string, h *header) *ParseError
}

// loadOrders reads an order export: it groups adjacent rows by order id
// and hands each order to the Builder as one put or delete, at a version
// above those of every earlier load (see orderVersions), but for an order
// the Builder's base holds as it is.
func (l *loader) loadOrders(r io.Reader, f orderFormat) error {
	l.version = orderVersions.Add(1)
	var o orderBuf
	// malformed holds the order ids a malformed row just read may name
	// (see malformedRow): an order of one of them that starts next
	// misses the row's line, as one that starts later does (o.seen)
	var malformed [2]string
	err := l.eachRecord(r, f.specs, func(src *csvSource, rec []string, h *header) error {
		if len(rec) != h.n {
			e := &ParseError{Line: src.line, Reason: reasonFieldCount,
				Err: fmt.Errorf("%d fields, the header has %d", len(rec), h.n)}
			if !l.opts.Lenient {
				return e
			}
			if err := l.malformedRow(&o, &malformed, rec, h.idx[f.orderCol]-h.n+len(rec), h.idx[f.orderCol], src.line); err != nil {
				return err
			}
			return l.reject(e)
		}
		key := h.field(rec, f.orderCol)
		if key == "" {
			return l.reject(h.fail(src, f.orderCol, reasonOrder, errors.New("missing order id")))
		}
		if !o.open || key != o.key {
			if err := l.flushOrder(&o); err != nil {
				return err
			}
			// an order whose malformed row came just before it is no
			// split order: it misses that row's line
			next := key == malformed[0] || key == malformed[1]
			if next {
				if s := o.seen[key]; s.onlyMalformed {
					delete(o.seen, key)
				}
			}
			malformed = [2]string{}
			if e := o.start(l.order.get(key), src.line); e != nil {
				if err := l.reject(e); err != nil {
					return err
				}
				return l.takeBack(&o, key)
			}
			o.incomplete = next
			// After a malformed row that may be the order's first, the
			// only one with its order-level fields (firstOnly), this
			// row is read as a later one, without them: the order is
			// not put, so its rows are "incomplete order", not, say,
			// "invalid time" for want of the first row's Created at.
			if !next || !f.firstOnly {
				if e := f.readOrder(l, &o, src, rec, h); e != nil {
					return l.badOrder(&o, e)
				}
			}
		} else if o.bad != "" {
			l.skip(o.bad, src.line)
			return nil
		}
		if o.del {
			// counted as read, so that Report.Skipped stays in line order
			l.skip(reasonCancelled, src.line)
			return nil
		}
		n := len(o.lines)
		o.name = lineName{}
		if e := f.readLine(l, &o, src, rec, h); e != nil {
			o.lines, o.incomplete = o.lines[:n], true
			return l.reject(e)
		}
		// The catalog entry is checked first: a row it skips is no
		// duplicate, and no row repeating it is one.
		var note productNote
		if nm := o.name; nm.product != "" {
			var err error
			if note, err = l.noteProduct(nm.product, nm.name, "", nm.price); err != nil {
				o.lines, o.incomplete = o.lines[:n], true
				return l.reject(h.fail(src, nm.col, reasonCategory, err))
			}
		}
		switch dup, drop := l.repeated(src.hash(), src.line, o.key); {
		case drop:
			o.lines = o.lines[:n]
			return nil
		case dup:
			// counted once the order is put: an order skipped whole
			// counts its rows under that reason only
			o.dups = append(o.dups, src.line)
		}
		if o.name.product != "" {
			o.notes = append(o.notes, note)
		}
		if o.rows == 0 {
			o.firstOK = src.line
		}
		o.rows++
		return nil
	})
	if err != nil {
		return err
	}
	return l.flushOrder(&o)
}

// flushOrder puts or deletes the buffered order and counts its rows. An
// order the Builder would refuse, now or at Build, is the error of its
// first row (strict) or skipped with all its rows (lenient). An order
// with a skipped row is not put: a put replaces the whole order, and
// would drop the skipped row's line from the History.
func (l *loader) flushOrder(o *orderBuf) error {
	if !o.open {
		return nil
	}
	o.open = false
	switch {
	case o.bad != "":
		return nil // rows counted as they were skipped
	case o.del:
		if l.b.HoldsOrder(o.key, nil) {
			return nil // deleted already; rows counted as they were read
		}
		return l.b.DeleteOrder(o.key, l.version) // rows counted as they were read
	case o.incomplete:
		for range o.rows {
			l.skip(reasonIncomplete, o.firstOK)
		}
		return nil
	case len(o.lines) == 0:
		return nil // every line was skipped
	}
	if _, e := l.finishOrder(o, l.version); e != nil {
		return l.dropOrder(o, e)
	}
	// An order the Builder's base holds as it is needs no put: one at
	// this load's version would rebuild the History for nothing.
	if l.b.HoldsOrder(o.key, o.lines) {
		l.loaded(o, false)
		return nil
	}
	// The change staged before, an earlier load's or the caller's, for
	// takeBack to stage again: a strict load takes nothing back.
	var prev affinity.OrderChange
	staged := false
	if l.opts.Lenient {
		prev, staged = l.b.Staged(o.key)
	}
	if err := l.b.PutOrder(o.key, l.version, o.lines); err != nil {
		reason := reasonRecord
		if errors.Is(err, affinity.ErrMoneyRange) {
			reason = reasonMoneyRange
		}
		return l.dropOrder(o, &ParseError{Line: o.first, Reason: reason, Err: err})
	}
	if staged {
		if o.prev == nil {
			o.prev = make(map[string]affinity.OrderChange)
		}
		o.prev[o.key] = prev
	}
	l.loaded(o, true)
	return nil
}

// loaded counts the rows of order o, put or held as it is, gives its
// products their catalog entries (an order dropped whole names none) and
// notes in o.seen what it loaded.
func (l *loader) loaded(o *orderBuf, put bool) {
	for _, line := range o.dups {
		l.countDuplicate(line, false)
	}
	if l.opts.Lenient && len(o.dups) > 0 { // read by takeBack only, which a strict load never reaches
		o.dupOrders = append(o.dupOrders, dupOrder{key: o.key, line: o.dups[0]})
	}
	lines, returns, anonymous := l.countLines(o.lines)
	l.rep.Loaded += o.rows
	for _, n := range o.notes {
		l.keep(n)
	}
	// An order loaded whole starts at its first loaded row: a first row
	// that fails makes the order bad, a later one incomplete, and the
	// first row of an order is no duplicate.
	o.seen[o.key] = seenOrder{first: o.first, rows: int32(o.rows),
		lines: int32(lines), returns: int32(returns), dups: int32(len(o.dups)),
		anonymous: anonymous > 0, put: put}
}

// malformedRow notes what a malformed row (a field count off by
// len(rec)−h.n, in a lenient load) tells of its order, whose id column
// is c: the fields shifted in or out may sit before that column or
// after it, so the id is rec[c] or rec[d] (d = c shifted by the
// difference), where those exist; an empty one names no order. The open
// order misses the row's line when either reading is its id: it is not
// put. When both readings exist and name one order, the row is surely
// that order's: one read and loaded before other orders is taken back
// (takeBack), and one that starts later is skipped as a split order
// (start). When they differ (or one is missing) the row is no order's
// for sure: no order read before is taken back, which might be another
// order than the row's, but an order of either id that starts later is
// not put, so that no order is put without the row's line. The ids
// that may start next are noted in malformed, for loadOrders to read
// that order's rows as "incomplete order" rather than a split order.
func (l *loader) malformedRow(o *orderBuf, malformed *[2]string, rec []string, d, c, line int) error {
	*malformed = [2]string{}
	if c < 0 {
		return nil // no order column: the header check refuses it
	}
	if o.seen == nil {
		o.seen = make(map[string]seenOrder)
	}
	var ids [2]string
	sure := true
	for i, p := range [2]int{c, d} {
		if p < 0 || p >= len(rec) {
			sure = false
			continue
		}
		ids[i] = strings.TrimSpace(rec[p])
	}
	switch {
	case ids[0] == "":
		ids[0], ids[1] = ids[1], ""
	case ids[1] == ids[0]:
		ids[1] = ""
	}
	sure = sure && ids[1] == ""
	if o.open && (ids[0] == o.key || ids[1] == o.key) {
		o.incomplete = true
		return nil
	}
	for i, key := range ids {
		if key == "" {
			continue
		}
		s, ok := o.seen[key]
		switch {
		case !ok:
			key = strings.Clone(key) // the map keeps it: no row's memory pinned
			o.seen[key] = seenOrder{first: line, onlyMalformed: true}
		case sure:
			if err := l.takeBack(o, key); err != nil {
				return err
			}
		case s.onlyMalformed:
		default:
			continue // read before: not taken back, nor next
		}
		malformed[i] = key
	}
	return nil
}

// takeBack takes back order key, read and loaded before other orders,
// when a lenient load finds another row of it (a split order, or a
// malformed row surely its, see malformedRow): a put replaces the whole
// order, so the put of its first rows would drop the later row's line
// from the History. The put is unstaged and the change staged before
// it, if any, staged again, so that the Builder holds the order as it
// did before the load; its rows count as "incomplete order" instead of
// loaded, at the first of them, and its duplicate rows no longer count
// in Report.Duplicates. The catalog entries and names its rows gave
// their products stay. An order taken back, or never loaded, is left as
// it is.
func (l *loader) takeBack(o *orderBuf, key string) error {
	s, ok := o.seen[key]
	if !ok || s.rows == 0 {
		return nil
	}
	key = strings.Clone(key) // the map keeps it: no row's memory pinned
	if s.put {
		l.b.Unstage(key)
		if prev, ok := o.prev[key]; ok {
			if err := l.b.Apply(prev); err != nil {
				return err // cannot happen: the Builder took it before
			}
			delete(o.prev, key)
		}
	}
	l.rep.Loaded -= int(s.rows)
	l.rep.Purchases -= int(s.lines)
	if s.anonymous {
		l.rep.Anonymous -= int(s.lines)
	}
	l.rep.Returns -= int(s.returns)
	for range s.rows {
		l.skip(reasonIncomplete, s.first)
	}
	o.seen[key] = seenOrder{first: s.first}
	if s.dups > 0 {
		l.rep.Duplicates -= int(s.dups)
		l.firstDuplicate(o)
	}
	return nil
}

// firstDuplicate sets Report.FirstDuplicate to the first duplicate row
// of the orders still loaded: o.dupOrders lists the loaded orders with
// duplicate rows in line order (an order's rows are adjacent), so the
// orders taken back are dropped from its front. Each is dropped once.
func (l *loader) firstDuplicate(o *orderBuf) {
	for len(o.dupOrders) > 0 && o.seen[o.dupOrders[0].key].rows == 0 {
		o.dupOrders = o.dupOrders[1:]
	}
	l.rep.FirstDuplicate = 0
	if len(o.dupOrders) > 0 {
		l.rep.FirstDuplicate = o.dupOrders[0].line
	}
}

// dropOrder handles an order the Builder cannot take: strict loads return
// e, lenient ones count every row of the order under e's reason.
func (l *loader) dropOrder(o *orderBuf, e *ParseError) error {
	if !l.opts.Lenient {
		return e
	}
	for range o.rows {
		l.skip(e.Reason, o.first)
	}
	return nil
}

// finishOrder appends o's refund line, if any, and checks that o's net
// value, its gross value (the refund line included) and the gross value
// of everything put so far with o fit in Money, so that the Builder
// cannot refuse the load at Build without a line to show for it: with a
// Builder, o put at version counted in place of what it replaces
// (affinity.Builder.CheckApply: the lines of its base, those added and
// the puts staged, by earlier loads and this one), without one the
// orders of this load, whose gross value it returns with o's.
func (l *loader) finishOrder(o *orderBuf, version int64) (affinity.Money, *ParseError) {
	var value, gross affinity.Money
	ok := true
	for _, p := range o.lines {
		v, fits := p.Price.Mul(int64(p.Quantity))
		var okV, okG bool
		value, okV = value.Add(v)
		gross, okG = gross.Add(max(v, -v))
		ok = ok && fits && okV && okG
	}
	if ok && o.refund > 0 {
		// The refund may include shipping and taxes, which the lines do
		// not: it is capped at the value of the lines. Its line adds to
		// the gross value.
		if r := min(o.refund, value); r > 0 {
			var okG bool
			gross, okG = gross.Add(r)
			ok = okG
			p := o.lines[0]
			p.Product, p.Quantity, p.Price = RefundProduct, -1, r
			o.lines = append(o.lines, p)
		}
	}
	total, okT := l.putGross.Add(gross)
	if !ok || l.b == nil && !okT {
		return 0, &ParseError{Line: o.first, Reason: reasonMoneyRange,
			Err: fmt.Errorf("order %q: value beyond the range of Money: %w", o.key, affinity.ErrMoneyRange)}
	}
	if l.b != nil {
		if err := l.b.CheckApply(affinity.OrderChange{Key: o.key, Version: version, Lines: o.lines}); err != nil {
			return 0, lineError(o.first, err)
		}
	}
	return total, nil
}

// countLines counts purchase lines handed to the Builder in the Report
// and returns how many lines, returns and anonymous lines it counted.
func (l *loader) countLines(lines []affinity.Purchase) (n, returns, anonymous int) {
	for _, p := range lines {
		n++
		if p.Customer == "" {
			anonymous++
		}
		if p.Quantity < 0 {
			returns++
		}
	}
	l.rep.Purchases += n
	l.rep.Anonymous += anonymous
	l.rep.Returns += returns
	return n, returns, anonymous
}

// badOrder marks the order whose first row failed: the row and the rest
// of the order are skipped (lenient) or the load stops (strict).
func (l *loader) badOrder(o *orderBuf, e *ParseError) error {
	o.bad = e.Reason
	return l.reject(e)
}

// exactLines appends to dst the lines for n units (n ≠ 0, negative for a
// return; math.MinInt32 included) of p whose total value is |total|: one
// line at total/|n| when that is exact in [affinity.Money], otherwise
// |n|−1 units at the truncated unit price and one unit carrying the
// remainder, so that units and value both stay exact (as the "cdnow"
// format does).
func exactLines(dst []affinity.Purchase, p affinity.Purchase, n int32, total affinity.Money) []affinity.Purchase {
	k := absQuantity(n)
	if total < 0 {
		total = -total
	}
	unit := total / affinity.Money(k)
	rem := total - unit*affinity.Money(k)
	p.Quantity, p.Price = n, unit
	if rem == 0 {
		return append(dst, p)
	}
	// k > 1 here, so both quantities fit in int32.
	sign := int64(1)
	if n < 0 {
		sign = -1
	}
	p.Quantity = int32(sign * (k - 1))
	dst = append(dst, p)
	p.Quantity, p.Price = int32(sign), unit+rem
	return append(dst, p)
}

// absQuantity returns |q|, in int64 as −math.MinInt32 does not fit in
// int32.
func absQuantity(q int32) int64 {
	return max(int64(q), -int64(q))
}

// quantity reads the non-zero line quantity of column c.
func (l *loader) quantity(src *csvSource, rec []string, h *header, c int) (int32, *ParseError) {
	s := h.field(rec, c)
	q, ok := parseQuantity(s, l.opts.DecimalSep)
	switch {
	case !ok:
		return 0, h.fail(src, c, reasonQuantity, &valueError{what: "quantity", text: s})
	case q == 0:
		return 0, h.fail(src, c, reasonZeroQty, errors.New("quantity 0"))
	}
	return q, nil
}

// orderTime reads the order time of column c into o.
func (l *loader) orderTime(o *orderBuf, src *csvSource, rec []string, h *header, c int) *ParseError {
	ts := h.field(rec, c)
	t, ok := l.times.parse(ts)
	if !ok {
		return h.fail(src, c, reasonTime, &valueError{what: "time", text: ts})
	}
	if err := checkTime(t, ts); err != nil {
		return h.fail(src, c, reasonTimeRange, err)
	}
	o.time = t
	return nil
}

// lineProduct returns the product id of a line item — the first
// non-empty of the key columns, else the name column — and notes in o
// the catalog entry named after the name column that loadOrders gives
// the product once the row is known to load.
func (l *loader) lineProduct(o *orderBuf, src *csvSource, rec []string, h *header, price affinity.Money, nameCol int, keyCols ...int) (string, *ParseError) {
	name := h.field(rec, nameCol)
	product := ""
	for _, c := range keyCols {
		if product = h.field(rec, c); product != "" {
			break
		}
	}
	if product == "" {
		product = name
	}
	if product == "" {
		return "", h.fail(src, nameCol, reasonProduct, errors.New("line item without product id or name"))
	}
	product = l.prod.get(product)
	o.name = lineName{product: product, name: name, price: price, col: nameCol}
	return product, nil
}
