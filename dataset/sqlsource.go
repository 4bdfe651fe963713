package dataset

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
)

// SQLSource reads order lines from a database through database/sql, with
// any driver, for incremental polling: each [SQLSource.Poll] reads the
// lines of the orders changed since a cursor and returns them as order
// changes for [affinity.Builder.Apply], with the cursor for the next
// poll; [SQLSource.Load] applies them to a Builder, checked against what
// it holds. The library imports no driver: the caller opens DB with the
// one it uses. A SQLSource is safe for concurrent use if DB is.
//
// A poll sees the rows its query returns, and nothing of rows that are
// gone: an order removed with DELETE stays in the History. Mark orders
// removed instead (a Cancelled status, or an order left without lines,
// setting their updated-at), or delete them from the History with
// [affinity.Builder.DeleteOrder] once the DELETE is committed: an order
// the query still returns is put back by [SQLSource.Load], which takes
// what it reads for the order's current state.
//
// The [Report] counts every row of the result (Rows) as loaded or
// skipped: Loaded counts the rows whose lines were put, Skipped the rest
// by reason, among them the rows of a cancelled order ("cancelled order":
// the order is deleted, a change of the batch, but its rows add no line,
// as in the order formats), rows without a line ("no line", see
// [SQLColumns].Product) and lines of quantity 0 ("removed line"). An
// order that lenient mode skips and whose rows stay at the cursor (its
// updated-at the largest read) is read, and skipped and counted, again
// by every poll until it is fixed or a later change moves the cursor on.
type SQLSource struct {
	// DB is the database to read; required.
	DB *sql.DB
	// Query selects order lines. Its only argument is the cursor (written
	// $1, ? or :1, as the driver wants), and it must return every line of
	// each order it returns, so filter on the order's change column, not
	// the line's, for example:
	//
	//	SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at,
	//	       o.status, l.sku AS product_id, l.quantity, l.price
	//	FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
	//	WHERE o.updated_at >= $1
	//
	// The LEFT JOIN returns an order whose lines were all removed as one
	// row without a line, which deletes it (see [SQLColumns].Product); an
	// inner JOIN returns no row for it, and the History keeps its lines.
	// The order's updated-at must be set on every change of the order or
	// of its lines (by the application, or by a trigger on both tables).
	// Compare with ">=": rows at the cursor are read again, which costs
	// nothing because changes are idempotent (a Builder over a History
	// that holds an order as read again, its lines in the same order,
	// finds no change and builds nothing: [affinity.NewBuilder]), and no
	// order committed late with the cursor's own time is missed; one
	// committed late with an earlier time needs [SQLSource.Overlap]. No
	// ORDER BY is needed: the rows may come in any order, the lines of
	// each order are put in one order whatever the rows' (see
	// [SQLBatch].Changes), so the same rows read in another order are
	// no change and build nothing.
	Query string
	// Columns names the result columns; see [SQLColumns].
	Columns SQLColumns
	// Cancelled lists the values of the Status column (compared ignoring
	// case) that cancel an order, such as "cancelled" or "refunded".
	Cancelled []string
	// Lenient skips bad rows, counting them in [Report.Skipped], instead
	// of failing the poll. The other rows of an order with a bad row are
	// skipped too (reason "incomplete order", its FirstLine the first of
	// those rows), since a put must hold the whole order: the History
	// keeps that order's previous version. A cancelled order (a row with
	// a valid version and a Cancelled status) is deleted whatever its
	// other rows hold.
	Lenient bool
	// Location is the time zone of text times without one, in the Time
	// and Version columns; nil means UTC. It applies to text only: a time
	// the driver returns as a time.Time is taken as it is, so a
	// PostgreSQL "timestamp without time zone" column, which pgx reads as
	// UTC, is UTC whatever Location says (convert it in the query: ts AT
	// TIME ZONE 'Europe/Berlin', or select it as text). A Version column
	// converted so must be compared with the cursor in the same terms,
	//
	//	WHERE o.updated_at >= ($1::timestamptz AT TIME ZONE 'Europe/Berlin')
	//
	// since the driver sends a time.Time for a timestamp without time
	// zone as its wall clock in its own location (pgx: the process's
	// local time, for a cursor read from a timestamptz): compared as it
	// is, the cursor of a shop whose time zone is behind the process's
	// skips the changes of the hours between. Local times also repeat an
	// hour when summer time ends, going back: prefer timestamptz for the
	// Version column.
	Location *time.Location
	// Overlap moves a time cursor back before the query runs, so that an
	// order committed late with an updated-at a little before the cursor
	// (a transaction that set it, then committed after a poll read a later
	// one) is still read; the orders in the overlap are read again, which
	// is harmless since changes are idempotent. Zero means none, which
	// loses such orders for good: set it to the longest a transaction
	// writing orders may take, a few minutes. Integer cursors ignore it
	// (a sequence has the same problem: use one assigned at commit). Such
	// a transaction may also have changed an order after a poll read a
	// later updated-at of it (set by a transaction that began after it,
	// as PostgreSQL's now() is the transaction's start): [SQLSource.Load]
	// puts the state read at the version the Builder's base holds, so
	// that it wins; changes of [SQLSource.Poll] carry the database's
	// versions, and such a change loses to the base's.
	Overlap time.Duration
	// MaxRows bounds the rows one poll reads, and so its memory: more is
	// an error wrapping [ErrLimit]. 0 means [DefaultMaxRows]; negative
	// means no limit.
	MaxRows int
	// DropDuplicates skips the rows of an order that repeat an earlier
	// line of it exactly (see [Report.Duplicates]), counting them in
	// [Report.Skipped] as "duplicate row". Without it they are loaded
	// and only counted: an order may hold the same line twice, but
	// every line of a query's result repeated is the mark of a join
	// that multiplies the lines (a second line table, or a table of
	// shipments or payments joined in).
	DropDuplicates bool
}

// SQLColumns names the result columns of [SQLSource.Query], matched
// exactly. An empty field means the default name in parentheses. Result
// columns that no field names are read as nothing and listed in
// [Report.Ignored].
type SQLColumns struct {
	// Order is the shop's order id ("order_id"); required.
	Order string
	// Customer is the customer id ("customer_id"); optional: without the
	// column, or with NULL or "", an order is anonymous.
	Customer string
	// Product is the product id ("product_id"); required. A row whose
	// product is NULL, and its quantity and price too where the result
	// has them, is an order without lines, as a LEFT JOIN of orders and
	// lines returns it: it adds no line (counted in [Report.Skipped] as
	// "no line"), and such an order is a delete. A NULL product with a
	// quantity or price is a bad row ("null value").
	Product string
	// Time is when the order was placed ("created_at"): a timestamp, or
	// text in RFC 3339 or "2006-01-02 15:04:05"; required.
	Time string
	// Quantity is the line's units ("quantity"), an integer, negative for
	// a return; optional, 1 when the result has no such column (a column
	// of another name is listed in [Report.Ignored]). A line with
	// quantity 0 is a line removed from the order: skipped as "removed
	// line".
	Quantity string
	// Price is the unit price ("price"): numeric, text or floating point,
	// read exactly as a decimal (a single-precision column's value as the
	// decimal it stores: 8.1, not 8.100000381469727; a floating-point
	// value with more decimals than Money keeps, such as a price computed
	// as 0.1 + 0.2, as its exact binary value rounded to the nearest
	// ten-thousandth, halves up: see [affinity.MoneyFromFloat]); a
	// numeric or text value with a digit other than 0 beyond the fourth
	// decimal (a price divided by a tax rate in numeric) is an "invalid
	// price", not rounded: round it in the query (round(price, 4)). A
	// negative number, a float with any number of decimals included, is
	// a "negative price"; optional, 0 when
	// absent or NULL. Price × quantity, each order's value and the gross
	// value of the orders a poll puts (with [SQLSource.Load], with all
	// the Builder holds) must fit in [affinity.Money]: else the row (or
	// the order, at its first row) is an error, or skipped as "amount out
	// of range" in lenient mode.
	Price string
	// Version is the cursor column ("updated_at"): an updated-at
	// timestamp or an increasing integer such as the order id or a change
	// sequence. The largest value read is the next cursor; it is also the
	// changes' [affinity.OrderChange.Version] (Unix microseconds for
	// times), so later versions of an order win ([SQLSource.Load] raises
	// it to the version its Builder's base holds of the order, if
	// higher). Versions are 0 or above:
	// a negative integer, a time before 1970 or one beyond the range of
	// Unix microseconds (about 292,000 years) is an invalid version.
	// Required.
	Version string
	// Status is the order status ("status"), compared with
	// [SQLSource.Cancelled]; optional.
	Status string
}

// SQLBatch is what one [SQLSource.Poll] read.
type SQLBatch struct {
	// Changes holds one change per order read, sorted by (Version, Key):
	// a put with all its lines, sorted by product key, time, quantity
	// and price (equal lines in row order), whatever the order of the
	// result's rows; or a delete for an order that is cancelled or has
	// no line left. Apply them with [affinity.Builder.Apply].
	Changes []affinity.OrderChange
	// Cursor is the largest value of the Version column read, of the
	// type of the since argument (time.Time, or int64 for an int64 or
	// int), or since itself when that is larger or no row was read. Pass
	// it to the next Poll once what the batch read is in use: on an error
	// of the poll, or of the Build that follows it, keep the old cursor.
	//
	// A poll that reads no row, or only rows below since (those of the
	// [SQLSource.Overlap]), keeps the cursor where it is: no later change
	// is known, and the database's clock, not the poller's, dates the
	// next one, so moving the cursor to the poller's time could skip it.
	// The window a time cursor's poll reads, from the cursor less the
	// Overlap, therefore does not grow while polls find nothing new; but
	// the orders whose updated-at falls in the Overlap before the
	// cursor are read again by every poll until a later change moves the
	// cursor on: with [SQLSource.Load] onto the History that holds them
	// they are no change and build nothing, so what repeats is the query
	// and the reading of those rows (and the count of their skipped
	// rows in Report).
	Cursor any
	// Report counts the rows (see [SQLSource]). Its Line fields and
	// those of errors are 1-based row numbers of the query's result.
	Report Report
}

// Reasons of skipped SQL rows, beside the file reasons.
const (
	reasonRemoved  = "removed line"
	reasonVersion  = "invalid version"
	reasonNull     = "null value"
	reasonConflict = "customer conflict"
	reasonNoLine   = "no line"
)

// sqlOrder is an order read and its rows.
type sqlOrder struct {
	key string
	g   *sqlGroup
}

// sqlGroup collects the rows of one order.
type sqlGroup struct {
	customer string
	version  int64 // the largest read; math.MinInt64 before the first
	del      bool
	bad      bool
	seen     bool // customer set from the first row
	rows     int  // good rows with a line, skipped as incomplete if bad
	firstRow int  // the order's first row
	firstOK  int  // its first good row with a line: where "incomplete order" counts it
	// good rows without a line (see noLine), skipped as "no line", and
	// the first of them
	empty, firstEmpty int
	lines             []affinity.Purchase
	lineRows          []int // the row of each line
}

// Poll runs the query with since as its argument and returns the orders
// it read as changes, with the next cursor. since is a time.Time (for a
// timestamp Version column; the zero time reads everything) or an int64
// (for an integer one; an int is taken as an int64, and the batch's
// Cursor is then an int64); its type decides how the Version column is
// read.
//
// Poll checks that the gross value of the orders it puts fits in
// [affinity.Money] counting these orders alone: applied to a Builder
// that holds other lines (a shop's History), they may still take its
// gross value beyond, and Build then fails with no row to show for it.
// [SQLSource.Load] applies a poll to a Builder and checks each put
// against what the Builder holds.
//
// In strict mode a bad row fails the poll with a [*ParseError] naming the
// row and, for a bad value, the column: the first bad row of the result,
// except that an order whose value, or the gross value of the orders put
// with it, is beyond Money is known only once every row is read; it
// fails the poll at its first row, without a column (in lenient mode its
// rows are skipped as "amount out of range"). Poll stops when ctx is
// done (the query is cancelled through the driver) and returns an error
// wrapping ctx.Err(). Memory grows with the rows of one poll; bound a
// poll with the query (a time window) when a backlog may be large.
func (s *SQLSource) Poll(ctx context.Context, since any) (SQLBatch, error) {
	return s.poll(ctx, since, nil)
}

// Load polls as [SQLSource.Poll] does and applies the changes to b with
// [affinity.Builder.Apply], in the batch's order, checking each put
// against what b holds ([affinity.Builder.CheckApply]: its base History,
// the lines added and the changes staged, a put counted in place of the
// base's version of its order, so that reading an order again costs
// nothing): an order that would take b's gross value beyond
// [affinity.MaxMoney] fails the load with a [*ParseError] at the order's
// first row, or in lenient mode is skipped with its rows as "amount out
// of range", and the orders after it still load. So Build cannot fail
// for the puts of a Load. What Load reads is the order's current state:
// a change whose version is below the one b's base History holds of its
// order (see [affinity.Builder.BaseVersion]) is applied at the base's
// version, which wins as the later Build's, instead of losing to an
// earlier poll's read of a later updated-at (see [SQLSource.Overlap]).
// The batch's Changes are the changes applied, with those versions.
// On error b may hold part of them: discard it, and keep the cursor. A
// nil b is an error wrapping [affinity.ErrNilArgument].
func (s *SQLSource) Load(ctx context.Context, since any, b *affinity.Builder) (SQLBatch, error) {
	if b == nil {
		return SQLBatch{Cursor: since, Report: Report{Format: "sql"}}, affinity.NilArgument("dataset", "Builder")
	}
	return s.poll(ctx, since, b)
}

// poll is Poll, and with a Builder Load.
func (s *SQLSource) poll(ctx context.Context, since any, b *affinity.Builder) (SQLBatch, error) {
	out := SQLBatch{Cursor: since, Report: Report{Format: "sql"}}
	if err := affinity.CheckContext("dataset", ctx); err != nil {
		return out, err
	}
	if s == nil {
		return out, affinity.NilArgument("dataset", "SQLSource")
	}
	switch v := since.(type) {
	case time.Time:
	case int64:
	case int:
		since, out.Cursor = int64(v), int64(v)
	default:
		return out, fmt.Errorf("dataset: sql cursor of type %T, want time.Time or int64", since)
	}
	switch {
	case s.DB == nil:
		return out, affinity.NilArgument("dataset", "SQLSource.DB")
	case s.Query == "":
		return out, errors.New("dataset: sql source without a Query")
	}
	arg := since
	if t, ok := since.(time.Time); ok && s.Overlap > 0 && !t.IsZero() {
		arg = t.Add(-s.Overlap)
	}
	rows, err := s.DB.QueryContext(ctx, s.Query, arg)
	if err != nil {
		return out, fmt.Errorf("dataset: sql query: %w", err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return out, fmt.Errorf("dataset: sql columns: %w", err)
	}
	m, err := s.Columns.mapping(names)
	if err != nil {
		return out, err
	}
	loc := s.Location
	l := newLoader(ctx, b, Options{Lenient: s.Lenient, Location: loc, TimeLayouts: sqlLayouts,
		Limits: Limits{MaxRows: s.MaxRows}}, "sql")
	for i, name := range names {
		if !slices.Contains(m, i) {
			appendIgnored(&l.rep.Ignored, name)
		}
	}
	cancelled := make(map[string]bool, len(s.Cancelled))
	for _, c := range s.Cancelled {
		cancelled[strings.ToLower(c)] = true
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	groups := map[string]*sqlGroup{}
	var orders []sqlOrder // in the order of their first rows
	var cursor any
	row := 0
	for rows.Next() {
		row++
		if err := l.row(row); err != nil {
			return out, err
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, fmt.Errorf("dataset: sql row %d: %w", row, err)
		}
		r := sqlRow{vals: vals, m: m, names: names, line: row}
		key, e := r.text(colOrder, true)
		if e == nil && key == "" {
			e = r.fail(colOrder, reasonOrder, errors.New("empty order id"))
		}
		if e != nil {
			if err := l.reject(e); err != nil {
				return out, err
			}
			continue
		}
		g := groups[key]
		if g == nil {
			g = &sqlGroup{firstRow: row, version: math.MinInt64}
			key = strings.Clone(key)
			groups[key] = g
			orders = append(orders, sqlOrder{key, g})
		}
		if e := readRow(l, &r, g, since, loc, cancelled, &cursor); e != nil {
			if err := l.reject(e); err != nil {
				return out, err
			}
			g.bad = true
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return out, fmt.Errorf("dataset: sql poll stopped at row %d: %w", row, ctx.Err())
		}
		return out, fmt.Errorf("dataset: sql rows: %w", err)
	}
	if b != nil {
		// What the query read is the order's current state, even when its
		// version is below the one the base holds of it (a transaction
		// that set its updated-at before another one changed the order,
		// and committed after a poll read that change): put at the
		// base's version, it wins, as at equal versions the later Build
		// does. A state read again keeps that version, so it is no change.
		// The base is asked once per order; Apply and CheckApply compare
		// the raised version with it again, which it no longer loses to.
		for _, o := range orders {
			if o.g.version != math.MinInt64 {
				if v, ok := b.BaseVersion(o.key); ok && v > o.g.version {
					o.g.version = v
				}
			}
		}
	}
	// The orders in the order of their changes, so that which order a
	// gross value near MaxMoney refuses does not depend on the order of
	// the result's rows.
	slices.SortFunc(orders, func(a, b sqlOrder) int {
		return cmp.Or(cmp.Compare(a.g.version, b.g.version), cmp.Compare(a.key, b.key))
	})
	for _, o := range orders {
		c, err := s.finish(l, o.key, o.g)
		if err != nil {
			return out, err
		}
		if c.Key != "" {
			out.Changes = append(out.Changes, c)
		}
	}
	if cursor != nil && versionLess(since, cursor) {
		out.Cursor = cursor // never back, even when only the overlap was read
	}
	out.Report = l.report()
	return out, nil
}

// finish turns the rows of order key into its change, applied to the
// loader's Builder if it has one, and counts them; a zero change when the
// order is skipped, an error when strict mode stops.
func (s *SQLSource) finish(l *loader, key string, g *sqlGroup) (affinity.OrderChange, error) {
	for range g.empty {
		l.skip(reasonNoLine, g.firstEmpty)
	}
	switch {
	case g.bad && !g.del:
		for range g.rows {
			l.skip(reasonIncomplete, g.firstOK)
		}
		return affinity.OrderChange{}, nil
	case g.del || len(g.lines) == 0:
		// a cancelled order is deleted whatever its line rows hold: a
		// delete needs no line, and adds none
		c := affinity.OrderChange{Key: key, Version: g.version, Delete: true}
		if l.b != nil {
			if err := l.b.Apply(c); err != nil {
				return c, fmt.Errorf("dataset: sql order %q: %w", key, err)
			}
		}
		for range g.rows {
			l.skip(reasonCancelled, g.firstOK)
		}
		return c, nil
	}
	g.sortLines()
	dups, lines := g.duplicates(), g.lines
	if s.DropDuplicates && len(dups) > 0 {
		lines = g.without(dups)
	}
	// the order's value, and the gross value of the orders put with it
	// (with a Builder, of everything it holds), fit in Money: else the
	// Builder would refuse them at Build without a row to show for it
	c := affinity.OrderChange{Key: key, Version: g.version, Lines: lines}
	total, e := l.finishOrder(&orderBuf{key: key, first: g.firstRow, lines: lines}, g.version)
	if e == nil && l.b != nil {
		if err := l.b.Apply(c); err != nil {
			e = lineError(g.firstRow, err)
		}
	}
	if e != nil {
		e.row = true
		if !l.opts.Lenient {
			return c, e
		}
		for range g.rows {
			l.skip(e.Reason, g.firstRow)
		}
		return affinity.OrderChange{}, nil
	}
	for _, i := range dups {
		l.countDuplicate(g.lineRows[i], s.DropDuplicates)
		if s.DropDuplicates {
			g.rows--
		}
	}
	l.putGross = total
	l.countLines(lines)
	l.rep.Loaded += g.rows
	return c, nil
}

var sqlLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// readRow reads one result row into g.
func readRow(l *loader, r *sqlRow, g *sqlGroup, since any, loc *time.Location, cancelled map[string]bool, cursor *any) *ParseError {
	version, cur, e := r.version(since, loc)
	if e != nil {
		return e
	}
	if *cursor == nil || versionLess(*cursor, cur) {
		*cursor = cur
	}
	g.version = max(g.version, version)
	if r.has(colCategory) { // the status column
		st, e := r.text(colCategory, false)
		if e != nil {
			return e
		}
		if cancelled[strings.ToLower(st)] {
			g.del = true
		}
	}
	customer, e := r.text(colCustomer, false)
	if e != nil {
		return e
	}
	if !g.seen {
		g.seen = true
		g.customer = l.cust.get(customer)
	} else if customer != g.customer {
		return r.fail(colCustomer, reasonConflict, fmt.Errorf("customer %q differs from the order's %q", customer, g.customer))
	}
	if r.noLine() {
		// an order without lines, as a LEFT JOIN returns it: the row
		// adds no line, and an order of such rows is a delete
		g.empty++
		g.firstEmpty = cmp.Or(g.firstEmpty, r.line)
		return nil
	}
	product, e := r.text(colProduct, true)
	if e == nil && product == "" {
		e = r.fail(colProduct, reasonProduct, errors.New("empty product id"))
	}
	if e != nil {
		return e
	}
	t, e := r.time(l)
	if e != nil {
		return e
	}
	q := int32(1)
	if r.has(colQuantity) {
		if q, e = r.quantity(); e != nil {
			return e
		}
	}
	var price affinity.Money
	if r.has(colPrice) {
		if price, e = r.money(); e != nil {
			return e
		}
	}
	if _, ok := price.Mul(int64(q)); !ok {
		return r.fail(colPrice, reasonMoneyRange, fmt.Errorf("%d × %v: %w", q, price, affinity.ErrMoneyRange))
	}
	if q == 0 {
		l.skip(reasonRemoved, r.line)
		return nil
	}
	g.rows++
	g.firstOK = cmp.Or(g.firstOK, r.line)
	g.lines = append(g.lines, affinity.Purchase{Customer: g.customer, Product: l.prod.get(product), Time: t, Quantity: q, Price: price})
	g.lineRows = append(g.lineRows, r.line)
	return nil
}

// sortLines puts the lines of g, with their rows, in a canonical order:
// by product key, time, quantity and price, equal lines in row order. An
// order's change then does not depend on the order of the result's rows,
// which SQL leaves to the database without an ORDER BY: the same rows
// read in another order are the same put, which a Builder holding it
// finds unchanged instead of rebuilding ([affinity.NewBuilder]).
func (g *sqlGroup) sortLines() {
	if len(g.lines) < 2 || slices.IsSortedFunc(g.lines, compareLines) {
		return // read in order (a query with ORDER BY): nothing to move
	}
	idx := make([]int, len(g.lines))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return compareLines(g.lines[i], g.lines[j]) })
	lines := make([]affinity.Purchase, len(idx))
	rows := make([]int, len(idx))
	for k, i := range idx {
		lines[k], rows[k] = g.lines[i], g.lineRows[i]
	}
	g.lines, g.lineRows = lines, rows
}

// compareLines orders an order's lines by product key, time (the
// instant, whatever the location), quantity and price.
func compareLines(a, b affinity.Purchase) int {
	return cmp.Or(strings.Compare(a.Product, b.Product), a.Time.Compare(b.Time),
		cmp.Compare(a.Quantity, b.Quantity), cmp.Compare(a.Price, b.Price))
}

// duplicates returns the lines of g, put in order by sortLines, that
// repeat an earlier line of it exactly (product, time, quantity and
// price; the customer, version and status are the order's own),
// wherever the query's result put them: the indices of every such line
// but the first of its kind, ascending. Sorted, equal lines are
// neighbours, the first in row order first.
func (g *sqlGroup) duplicates() []int {
	var dups []int
	for i := 1; i < len(g.lines); i++ {
		if compareLines(g.lines[i-1], g.lines[i]) == 0 {
			dups = append(dups, i)
		}
	}
	return dups
}

// without returns the lines of g but those at the ascending indices drop.
func (g *sqlGroup) without(drop []int) []affinity.Purchase {
	out := make([]affinity.Purchase, 0, len(g.lines)-len(drop))
	for i, p := range g.lines {
		if len(drop) > 0 && drop[0] == i {
			drop = drop[1:]
			continue
		}
		out = append(out, p)
	}
	return out
}

// The times a version in Unix microseconds holds, 0 or above: 1970 to
// about 292,000 years later.
var (
	minVersionTime = time.UnixMicro(0)
	maxVersionTime = time.UnixMicro(math.MaxInt64)
)

// noLine reports whether the row's line columns — product, and quantity
// and price when the result has them — are all NULL.
func (r *sqlRow) noLine() bool {
	for _, c := range [...]int{colProduct, colQuantity, colPrice} {
		if r.has(c) && r.vals[r.m[c]] != nil {
			return false
		}
	}
	return true
}

func versionLess(a, b any) bool {
	switch a := a.(type) {
	case time.Time:
		return a.Before(b.(time.Time))
	case int64:
		return a < b.(int64)
	}
	return false
}

// mapping resolves the columns against the result's names; it reuses the
// CSV column indexes, with colCategory standing for Status and colName for
// Version.
func (c SQLColumns) mapping(names []string) ([]int, error) {
	want := []struct {
		col      int
		name     string
		required bool
	}{
		{colOrder, cmp.Or(c.Order, "order_id"), true},
		{colCustomer, cmp.Or(c.Customer, "customer_id"), c.Customer != ""},
		{colProduct, cmp.Or(c.Product, "product_id"), true},
		{colTime, cmp.Or(c.Time, "created_at"), true},
		{colQuantity, cmp.Or(c.Quantity, "quantity"), c.Quantity != ""},
		{colPrice, cmp.Or(c.Price, "price"), c.Price != ""},
		{colName, cmp.Or(c.Version, "updated_at"), true},
		{colCategory, cmp.Or(c.Status, "status"), c.Status != ""},
	}
	m := make([]int, numCols)
	for i := range m {
		m[i] = -1
	}
	for _, w := range want {
		m[w.col] = slices.Index(names, w.name)
		if m[w.col] < 0 && w.required {
			return nil, fmt.Errorf("dataset: sql result has no column %q (columns: %s)", w.name, strings.Join(names, ", "))
		}
	}
	return m, nil
}

// sqlRow is one scanned result row.
type sqlRow struct {
	vals  []any
	m     []int
	names []string
	line  int
}

func (r *sqlRow) has(c int) bool { return r.m[c] >= 0 }

func (r *sqlRow) fail(c int, reason string, err error) *ParseError {
	return &ParseError{Line: r.line, Column: r.m[c] + 1, Field: r.names[r.m[c]], Reason: reason, Err: err, row: true}
}

// text returns column c as text; NULL is "" unless required.
func (r *sqlRow) text(c int, required bool) (string, *ParseError) {
	if !r.has(c) {
		return "", nil
	}
	switch v := r.vals[r.m[c]].(type) {
	case nil:
		if required {
			return "", r.fail(c, reasonNull, errors.New("NULL"))
		}
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case []byte:
		return strings.TrimSpace(string(v)), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	default:
		return strings.TrimSpace(fmt.Sprint(v)), nil
	}
}

func (r *sqlRow) time(l *loader) (time.Time, *ParseError) {
	switch v := r.vals[r.m[colTime]].(type) {
	case time.Time:
		if v.IsZero() {
			break
		}
		if err := checkTime(v, v.String()); err != nil {
			return time.Time{}, r.fail(colTime, reasonTimeRange, err)
		}
		return v, nil
	case string, []byte:
		s, _ := r.text(colTime, false)
		if t, ok := l.times.parse(s); ok {
			if err := checkTime(t, s); err != nil {
				return time.Time{}, r.fail(colTime, reasonTimeRange, err)
			}
			return t, nil
		}
		return time.Time{}, r.fail(colTime, reasonTime, &valueError{what: "time", text: s})
	}
	return time.Time{}, r.fail(colTime, reasonTime, fmt.Errorf("invalid time %v", r.vals[r.m[colTime]]))
}

func (r *sqlRow) quantity() (int32, *ParseError) {
	switch v := r.vals[r.m[colQuantity]].(type) {
	case int64:
		if v >= -1<<31 && v < 1<<31 {
			return int32(v), nil
		}
	case string, []byte:
		s, _ := r.text(colQuantity, false)
		if q, ok := parseQuantity(s, '.'); ok {
			return q, nil
		}
	case float64:
		if q := int32(v); float64(q) == v {
			return q, nil
		}
	}
	return 0, r.fail(colQuantity, reasonQuantity, fmt.Errorf("invalid quantity %v", r.vals[r.m[colQuantity]]))
}

func (r *sqlRow) money() (affinity.Money, *ParseError) {
	var s string
	switch v := r.vals[r.m[colPrice]].(type) {
	case nil:
		return 0, nil
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if _, err := affinity.ParseMoney(s, '.'); err != nil && float64(float32(v)) == v {
			// a single-precision column (real, float4) the driver
			// widened: 8.1 arrives as 8.100000381469727, whose shortest
			// form at 32 bits is the decimal stored
			s = strconv.FormatFloat(v, 'f', -1, 32)
		}
		if v < 0 {
			// before the float fallback below, which would call
			// -0.30000000000000004 an invalid price
			return 0, r.fail(colPrice, reasonNegPrice, fmt.Errorf("negative price %s", s))
		}
		if _, err := affinity.ParseMoney(s, '.'); err != nil {
			// a price computed in floating point (0.1 + 0.2 is
			// 0.30000000000000004): to the nearest ten-thousandth
			if m, err := affinity.MoneyFromFloatChecked(v); err == nil {
				return m, nil
			}
		}
	default:
		s, _ = r.text(colPrice, false)
	}
	m, err := affinity.ParseMoney(s, '.')
	switch {
	case err != nil:
		return 0, r.fail(colPrice, reasonPrice, &valueError{what: "price", text: s, err: err})
	case m < 0:
		return 0, r.fail(colPrice, reasonNegPrice, fmt.Errorf("negative price %s", s))
	}
	return m, nil
}

// version reads the Version column as the kind of since: the change's
// version and the cursor value.
func (r *sqlRow) version(since any, loc *time.Location) (int64, any, *ParseError) {
	v := r.vals[r.m[colName]]
	if _, isTime := since.(time.Time); isTime {
		var t time.Time
		ok := false
		switch x := v.(type) {
		case time.Time:
			t, ok = x, true
		case string, []byte:
			s, _ := r.text(colName, false)
			for _, layout := range sqlLayouts {
				if t, ok = parseTime(layout, s, cmp.Or(loc, time.UTC)); ok {
					break
				}
			}
		}
		switch {
		case !ok:
			return 0, nil, r.fail(colName, reasonVersion, fmt.Errorf("invalid updated-at %v", v))
		case t.Before(minVersionTime):
			return 0, nil, r.fail(colName, reasonVersion, fmt.Errorf("updated-at %v before 1970: versions are 0 or above", v))
		case t.After(maxVersionTime):
			return 0, nil, r.fail(colName, reasonVersion, fmt.Errorf("updated-at %v beyond the range of Unix microseconds", v))
		}
		return t.UnixMicro(), t, nil
	}
	n, ok := v.(int64)
	switch v.(type) {
	case string, []byte:
		s, _ := r.text(colName, false)
		var err error
		n, err = strconv.ParseInt(s, 10, 64)
		ok = err == nil
	}
	switch {
	case !ok:
		return 0, nil, r.fail(colName, reasonVersion, fmt.Errorf("invalid version %v", v))
	case n < 0:
		return 0, nil, r.fail(colName, reasonVersion, fmt.Errorf("negative version %d: versions are 0 or above", n))
	}
	return n, n, nil
}
