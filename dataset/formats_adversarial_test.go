package dataset_test

// Adversarial, model-based tests of the order-file loaders: random but
// valid Shopify, WooCommerce and generic CSV exports with targeted
// mutations are loaded, and the History and the Report are compared with
// an independent naive model written from the documentation (Formats,
// Options, Columns, Report, Limits) on top of encoding/csv.

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// ---------------------------------------------------------------------
// Writing CSV with known line numbers.

// advCSV writes CSV records and remembers where they are.
type advCSV struct {
	b          strings.Builder
	sep        string
	crlf       bool
	line       int // line of the next record
	maxRec     int // longest record in bytes, its final line break excluded
	maxRecLine int
	maxRecRaw  string
	maxField   int // longest field in bytes, quotes included
	lastStart  int // line of the last record
	records    int
	bom        int // bytes of a byte-order mark not yet counted
}

func newAdvCSV(bom, crlf bool, sep string) *advCSV {
	w := &advCSV{sep: sep, crlf: crlf, line: 1}
	if bom {
		// Limits count the bytes after decompression, a byte-order
		// mark included: it is part of the first record and field.
		w.b.WriteString("\ufeff")
		w.bom = len("\ufeff")
	}
	return w
}

// record writes fields, quoting those that need it and, when quote says
// so, others; it returns the record's first line.
func (w *advCSV) record(fields []string, quote func(i int) bool) int {
	var rec strings.Builder
	bom := w.bom
	for i, f := range fields {
		if i > 0 {
			rec.WriteString(w.sep)
		}
		raw := f
		if strings.ContainsAny(f, "\"\n\r") || strings.Contains(f, w.sep) || (quote != nil && quote(i)) {
			raw = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		w.maxField = max(w.maxField, len(raw)+w.bom)
		rec.WriteString(raw)
		w.bom = 0
	}
	r := rec.String()
	start := w.line
	w.lastStart = start
	w.records++
	if n := len(r) + bom; n > w.maxRec {
		w.maxRec, w.maxRecLine, w.maxRecRaw = n, start, r
	}
	if w.crlf {
		r += "\r"
	}
	w.b.WriteString(r)
	w.b.WriteString("\n")
	w.line += 1 + strings.Count(r, "\n")
	return start
}

func (w *advCSV) String() string { return w.b.String() }

// ---------------------------------------------------------------------
// The naive model.

type advLine struct {
	product string
	qty     int32
	price   int64 // ten-thousandths
}

type advOrder struct {
	key, customer string
	unix          int64
	lines         []advLine
}

func (o advOrder) String() string {
	ls := make([]string, len(o.lines))
	for i, l := range o.lines {
		ls[i] = fmt.Sprintf("%s×%d@%d", l.product, l.qty, l.price)
	}
	sort.Strings(ls)
	return fmt.Sprintf("%s|%s|%d: %s", o.customer, o.key, o.unix, strings.Join(ls, " "))
}

type advProduct struct {
	name  string
	price int64
	cats  []string
}

// advModel is what a load should produce by the documentation.
type advModel struct {
	rep      dataset.Report
	skipped  map[string]dataset.Skip
	skipSeq  []string // reasons in the order of their first line
	orders   map[string]advOrder
	deleted  map[string]bool // order keys deleted
	products map[string]advProduct
	// first is the first error of a strict load: its line, column and
	// reason (reason "" when the file is clean).
	first struct {
		line, column int
		reason       string
	}
}

func newAdvModel(format string) *advModel {
	return &advModel{rep: dataset.Report{Format: format}, skipped: map[string]dataset.Skip{},
		orders: map[string]advOrder{}, deleted: map[string]bool{}, products: map[string]advProduct{}}
}

// skip counts a skipped row; strict loads fail on the first one that is
// an error (cancelled orders are skipped in both modes).
func (m *advModel) skip(reason string, line, column int) {
	s, ok := m.skipped[reason]
	if !ok {
		s = dataset.Skip{Reason: reason, FirstLine: line}
		m.skipSeq = append(m.skipSeq, reason)
	}
	if line < s.FirstLine {
		s.FirstLine = line
	}
	s.Count++
	m.skipped[reason] = s
	if reason != "cancelled order" && m.first.reason == "" {
		m.first.line, m.first.column, m.first.reason = line, column, reason
	}
}

// advNorm folds a header name as Columns documents: case, spaces,
// underscores, hyphens and dots do not count.
func advNorm(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '.', '\t', '\ufeff':
			return -1
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s))
}

// advMoney parses a decimal amount with up to 4 decimals, and zeros
// after them.
func advMoney(s string, dec byte) (int64, bool) {
	if dec == 0 {
		dec = '.'
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, string(dec))
	if len(frac) > 4 && strings.Trim(frac[4:], "0") == "" {
		frac = frac[:4]
	}
	if whole == "" && frac == "" || len(frac) > 4 || strings.Count(s, string(dec)) > 1 {
		return 0, false
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	frac += strings.Repeat("0", 4-len(frac))
	w, err := strconv.ParseInt("0"+whole, 10, 64)
	if err != nil || w > math.MaxInt64/10000 {
		return 0, false
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*10000 + f
	if v < 0 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// advQty parses an int32 quantity, "6.0" and "6." as 6, as amounts are
// read: with '.' or the decimal separator dec, a digit on one side of it
// at least.
func advQty(s string, dec byte) (int32, bool) {
	sep := "."
	if dec == ',' && !strings.Contains(s, ".") {
		sep = ","
	}
	if w, frac, ok := strings.Cut(s, sep); ok {
		digits := strings.TrimLeft(w, "+-")
		if digits == "" && frac == "" || strings.Trim(frac, "0") != "" {
			return 0, false
		}
		if digits == "" {
			w += "0"
		}
		s = w
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return int32(n), err == nil
}

// advTime parses s with layouts in loc and checks the History's range.
func advTime(s string, layouts []string, loc *time.Location) (t time.Time, ok, inRange bool) {
	for _, layout := range layouts {
		if layout == "unix" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err == nil {
				t, ok = time.Unix(n, 0), true
				break
			}
			continue
		}
		if tt, err := time.ParseInLocation(layout, s, loc); err == nil {
			t, ok = tt, true
			break
		}
	}
	if !ok {
		return t, false, false
	}
	u := t.Unix()
	return t, true, u >= 0 && u <= affinity.MaxUnix
}

// advExact splits n units (negative: returned) worth |total| into lines
// whose unit prices are exact: total/|n| when it divides, else |n|−1
// units at the truncated price and one carrying the remainder.
func advExact(dst []advLine, product string, n int32, total int64) []advLine {
	if total < 0 {
		total = -total
	}
	k := int64(n)
	sign := int64(1)
	if k < 0 {
		sign, k = -1, -k
	}
	unit := total / k
	if unit*k == total {
		return append(dst, advLine{product, n, unit})
	}
	return append(dst, advLine{product, int32(sign * (k - 1)), unit}, advLine{product, int32(sign), total - unit*(k-1)})
}

// advRecords reads data with encoding/csv (BOM removed): the records and
// the line of each field.
func advRecords(t *testing.T, data string, comma rune) (recs [][]string, lines [][]int) {
	t.Helper()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(data, "\ufeff")))
	r.FieldsPerRecord = -1
	if comma != 0 {
		r.Comma = comma
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return recs, lines
		}
		require.NoError(t, err, "the generator wrote bad CSV")
		ls := make([]int, len(rec))
		for i := range rec {
			ls[i], _ = r.FieldPos(i)
		}
		recs, lines = append(recs, rec), append(lines, ls)
	}
}

// advHeader maps spec names (by their index) to field indexes.
type advHeader struct {
	idx     map[int]int
	ignored []string
	n       int
}

func advMapHeader(rec []string, specs [][]string) advHeader {
	h := advHeader{idx: map[int]int{}, n: len(rec)}
	pos := map[string]int{}
	for i, f := range rec {
		if _, ok := pos[advNorm(f)]; !ok {
			pos[advNorm(f)] = i
		}
	}
	used := map[int]bool{}
	for c, names := range specs {
		for _, n := range names {
			if i, ok := pos[advNorm(n)]; ok {
				h.idx[c] = i
				used[i] = true
				break
			}
		}
	}
	for i, f := range rec {
		if !used[i] && advNorm(f) != "" {
			h.ignored = append(h.ignored, strings.TrimSpace(f))
		}
	}
	return h
}

// get returns the trimmed field of spec c, "" when absent.
func (h advHeader) get(rec []string, c int) string {
	i, ok := h.idx[c]
	if !ok {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// col returns the 1-based column of spec c and the line of its field.
func (h advHeader) col(lines []int, c int) (column, line int) {
	return h.idx[c] + 1, lines[h.idx[c]]
}

// ---------------------------------------------------------------------
// The order formats' model (shopify, woocommerce).

// advOrderRules are a format's rules as the documentation gives them.
type advOrderRules struct {
	specs    [][]string
	orderCol int
	// order reads the order-level fields of an order's first row into o;
	// it returns the reason, column and line of a bad field.
	order func(m *advModel, rec []string, lines []int, h advHeader, o *advOrderState) (reason string, col, line int)
	// line appends the lines of a row to o.
	line func(m *advModel, rec []string, lines []int, h advHeader, o *advOrderState) (reason string, col, line int)
}

type advOrderState struct {
	advOrder
	first  int // line of the first row
	rows   int
	bad    string
	del    bool
	refund int64
	// a row of the order was skipped: its good rows are skipped too,
	// counted at the first of them
	incomplete bool
	firstOK    int
	// the catalog entries its rows give, once it is put
	named []advNamed
}

type advNamed struct {
	key string
	advProduct
}

// advLoadOrders runs the model of loadOrders' documentation over data
// and applies the result to m.orders (puts and deletes, later wins).
func advLoadOrders(t *testing.T, m *advModel, data string, rules advOrderRules) {
	t.Helper()
	recs, lines := advRecords(t, data, 0)
	require.NotEmpty(t, recs)
	h := advMapHeader(recs[0], rules.specs)
	m.rep.Ignored = h.ignored
	// seen holds the order keys read; for an order put, what its put
	// replaced and counted, so that a later row of it (split, or
	// malformed) takes the put back: the order stays as it was and its
	// rows count as "incomplete order" at the first of them
	type advPut struct {
		prev                                    advOrder
		had, deleted                            bool
		rows, firstOK, purchases, anon, returns int
	}
	seen := map[string]*advPut{}
	takeBack := func(key string) {
		p := seen[key]
		if p == nil || p.rows == 0 {
			return
		}
		if p.had {
			m.orders[key] = p.prev
		} else {
			delete(m.orders, key)
		}
		if p.deleted {
			m.deleted[key] = true
		}
		m.rep.Loaded -= p.rows
		m.rep.Purchases -= p.purchases
		m.rep.Anonymous -= p.anon
		m.rep.Returns -= p.returns
		for range p.rows {
			m.skip("incomplete order", p.firstOK, 0)
		}
		p.rows = 0
	}
	var cur *advOrderState
	malformed := "" // the order of the last malformed row, when not cur's
	flush := func() {
		if cur == nil {
			return
		}
		o := cur
		cur = nil
		switch {
		case o.bad != "":
			return
		case o.del:
			for range o.rows {
				m.skip("cancelled order", o.first, 0)
			}
			delete(m.orders, o.key)
			m.deleted[o.key] = true
			return
		case o.incomplete:
			for range o.rows {
				m.skip("incomplete order", o.firstOK, 0)
			}
			return
		case len(o.lines) == 0:
			return
		}
		var value int64
		for _, l := range o.lines {
			value += int64(l.qty) * l.price
		}
		if r := min(o.refund, value); r > 0 {
			o.lines = append(o.lines, advLine{dataset.RefundProduct, -1, r})
		}
		p := seen[o.key]
		p.prev, p.had = m.orders[o.key]
		p.deleted, p.rows, p.firstOK = m.deleted[o.key], o.rows, o.firstOK
		p.purchases, p.anon, p.returns = m.rep.Purchases, m.rep.Anonymous, m.rep.Returns
		defer func() {
			p.purchases = m.rep.Purchases - p.purchases
			p.anon = m.rep.Anonymous - p.anon
			p.returns = m.rep.Returns - p.returns
		}()
		m.orders[o.key] = o.advOrder
		delete(m.deleted, o.key)
		for _, n := range o.named {
			if _, ok := m.products[n.key]; !ok {
				m.products[n.key] = n.advProduct
			}
		}
		m.rep.Loaded += o.rows
		for _, l := range o.lines {
			m.rep.Purchases++
			if o.customer == "" {
				m.rep.Anonymous++
			}
			if l.qty < 0 {
				m.rep.Returns++
			}
		}
	}
	for r := 1; r < len(recs); r++ {
		rec, ls := recs[r], lines[r]
		line := ls[0]
		m.rep.Rows++
		if len(rec) != h.n {
			m.skip("wrong field count", line, 0)
			if i, ok := h.idx[rules.orderCol]; ok && i < len(rec) {
				if key := strings.TrimSpace(rec[i]); cur != nil && key == cur.key {
					cur.incomplete = true
				} else {
					takeBack(key)
					malformed = key
				}
			}
			continue
		}
		key := h.get(rec, rules.orderCol)
		if key == "" {
			c, l := h.col(ls, rules.orderCol)
			m.skip("missing order", l, c)
			continue
		}
		if cur == nil || key != cur.key {
			flush()
			if seen[key] != nil {
				m.skip("split order", line, 0)
				takeBack(key)
				continue
			}
			seen[key] = &advPut{}
			cur = &advOrderState{advOrder: advOrder{key: key}, first: line, incomplete: key == malformed}
			malformed = ""
			if reason, c, l := rules.order(m, rec, ls, h, cur); reason != "" {
				cur.bad = reason
				m.skip(reason, l, c)
				continue
			}
		} else if cur.bad != "" {
			m.skip(cur.bad, line, 0)
			continue
		}
		if !cur.del {
			if reason, c, l := rules.line(m, rec, ls, h, cur); reason != "" {
				m.skip(reason, l, c)
				cur.incomplete = true
				continue
			}
		}
		if cur.rows == 0 {
			cur.firstOK = line
		}
		cur.rows++
	}
	flush()
}

// advProductOf names the product of a line item: the first non-empty key
// column, else the name; the first row that names a product in an order
// that is put gives its catalog entry (o notes it).
func advProductOf(o *advOrderState, rec []string, ls []int, h advHeader, nameCol int, price int64, keyCols ...int) (string, string, int, int) {
	name := h.get(rec, nameCol)
	product := ""
	for _, c := range keyCols {
		if product = h.get(rec, c); product != "" {
			break
		}
	}
	if product == "" {
		product = name
	}
	if product == "" {
		c, l := h.col(ls, nameCol)
		return "", "missing product", c, l
	}
	if name != "" {
		o.named = append(o.named, advNamed{product, advProduct{name: name, price: price}})
	}
	return product, "", 0, 0
}

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
)

func advShopifyRules(dec byte, loc *time.Location) advOrderRules {
	layouts := []string{"2006-01-02 15:04:05 -0700", time.RFC3339, "2006-01-02 15:04:05"}
	return advOrderRules{
		specs: [][]string{{"Name"}, {"Email"}, {"Financial Status"}, {"Created at"}, {"Cancelled at"}, {"Refunded Amount"},
			{"Lineitem quantity"}, {"Lineitem name"}, {"Lineitem price"}, {"Lineitem sku"}},
		orderCol: shName,
		order: func(m *advModel, rec []string, ls []int, h advHeader, o *advOrderState) (string, int, int) {
			o.customer = strings.ToLower(h.get(rec, shEmail))
			ts, ok, in := advTime(h.get(rec, shCreated), layouts, loc)
			if c, l := h.col(ls, shCreated); !ok {
				return "invalid time", c, l
			} else if !in {
				return "time out of range", c, l
			}
			o.unix = ts.Unix()
			switch strings.ToLower(h.get(rec, shFinancial)) {
			case "refunded", "voided":
				o.del = true
			}
			if h.get(rec, shCancelled) != "" {
				o.del = true
			}
			if s := h.get(rec, shRefunded); s != "" && !o.del {
				v, ok := advMoney(s, dec)
				if !ok || v < 0 {
					c, l := h.col(ls, shRefunded)
					return "invalid refund", c, l
				}
				o.refund = v
			}
			return "", 0, 0
		},
		line: func(m *advModel, rec []string, ls []int, h advHeader, o *advOrderState) (string, int, int) {
			q, ok := advQty(h.get(rec, shQuantity), dec)
			if c, l := h.col(ls, shQuantity); !ok {
				return "invalid quantity", c, l
			} else if q == 0 {
				return "zero quantity", c, l
			}
			p, ok := advMoney(h.get(rec, shPrice), dec)
			if c, l := h.col(ls, shPrice); !ok {
				return "invalid price", c, l
			} else if p < 0 {
				return "negative price", c, l
			}
			product, reason, c, l := advProductOf(o, rec, ls, h, shItem, p, shSKU)
			if reason != "" {
				return reason, c, l
			}
			o.lines = append(o.lines, advLine{product, q, p})
			return "", 0, 0
		},
	}
}

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
)

func advWooRules(dec byte, loc *time.Location) advOrderRules {
	layouts := []string{"2006-01-02 15:04:05", time.RFC3339, "2006-01-02 15:04"}
	dropped := []string{"cancelled", "refunded", "failed", "pending", "checkout-draft", "draft", "trash"}
	return advOrderRules{
		specs: [][]string{{"order_number", "order_id"}, {"order_date"}, {"status"}, {"customer_id"}, {"billing_email"},
			{"item_name"}, {"item_sku"}, {"item_product_id"}, {"item_quantity"}, {"item_total"}, {"item_refunded"},
			{"item_refunded_qty", "item_refunded_quantity"}},
		orderCol: wcOrder,
		order: func(m *advModel, rec []string, ls []int, h advHeader, o *advOrderState) (string, int, int) {
			o.customer = h.get(rec, wcCustomer)
			if o.customer == "" || o.customer == "0" {
				o.customer = strings.ToLower(h.get(rec, wcEmail))
			}
			ts, ok, in := advTime(h.get(rec, wcDate), layouts, loc)
			if c, l := h.col(ls, wcDate); !ok {
				return "invalid time", c, l
			} else if !in {
				return "time out of range", c, l
			}
			o.unix = ts.Unix()
			o.del = slices.Contains(dropped, strings.TrimPrefix(strings.ToLower(h.get(rec, wcStatus)), "wc-"))
			return "", 0, 0
		},
		line: func(m *advModel, rec []string, ls []int, h advHeader, o *advOrderState) (string, int, int) {
			q, ok := advQty(h.get(rec, wcQuantity), dec)
			if c, l := h.col(ls, wcQuantity); !ok {
				return "invalid quantity", c, l
			} else if q == 0 {
				return "zero quantity", c, l
			}
			total, ok := advMoney(h.get(rec, wcTotal), dec)
			if c, l := h.col(ls, wcTotal); !ok {
				return "invalid price", c, l
			} else if total < 0 {
				return "negative price", c, l
			}
			var rq int32
			if s := h.get(rec, wcRefundedQty); s != "" {
				if rq, ok = advQty(s, dec); !ok {
					c, l := h.col(ls, wcRefundedQty)
					return "invalid quantity", c, l
				}
			}
			var refunded int64
			if s := h.get(rec, wcRefunded); s != "" {
				if refunded, ok = advMoney(s, dec); !ok {
					c, l := h.col(ls, wcRefunded)
					return "invalid refund", c, l
				}
				refunded = max(refunded, -refunded)
			}
			product, reason, c, l := advProductOf(o, rec, ls, h, wcItem, total/int64(max(q, -q)), wcSKU, wcProductID)
			if reason != "" {
				return reason, c, l
			}
			o.lines = advExact(o.lines, product, q, total)
			switch {
			case rq != 0:
				o.lines = advExact(o.lines, product, -max(rq, -rq), refunded)
			case refunded > 0:
				o.lines = advExact(o.lines, product, -1, refunded)
			}
			return "", 0, 0
		},
	}
}

// ---------------------------------------------------------------------
// Comparing a History with the model.

// advHistoryOrders returns the orders of h by key (customer, order id and
// time for lines without an order id).
func advHistoryOrders(h *affinity.History) map[string]advOrder {
	out := map[string]advOrder{}
	cat := h.Catalog()
	for o := range h.Orders() {
		ord := advOrder{key: h.OrderKey(o), unix: h.OrderUnix(o)}
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			ord.customer = h.CustomerKey(c)
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			ord.lines = append(ord.lines, advLine{cat.ProductKey(l.Product), l.Quantity, int64(l.Price)})
		}
		k := ord.key
		if k == "" {
			k = fmt.Sprintf("%s@%d", ord.customer, ord.unix)
		}
		out[k+"#"+strconv.Itoa(len(out))] = ord // several orders with one key show as several
	}
	return out
}

// advOrdersText prints orders sorted, one per line.
func advOrdersText[M ~map[string]advOrder](orders M) string {
	var s []string
	for _, o := range orders {
		s = append(s, o.String())
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}

// advCompare checks h and rep against the model.
func advCompare(t *testing.T, m *advModel, h *affinity.History, rep dataset.Report, what string) {
	t.Helper()
	assert.Equal(t, advOrdersText(m.orders), advOrdersText(advHistoryOrders(h)), "%s: orders", what)
	assert.Equal(t, m.rep.Rows, rep.Rows, "%s: rows", what)
	assert.Equal(t, m.rep.Loaded, rep.Loaded, "%s: loaded", what)
	assert.Equal(t, m.rep.Purchases, rep.Purchases, "%s: purchases", what)
	assert.Equal(t, m.rep.Anonymous, rep.Anonymous, "%s: anonymous", what)
	assert.Equal(t, m.rep.Returns, rep.Returns, "%s: returns", what)
	assert.Equal(t, len(m.products), rep.Products, "%s: products", what)
	assert.Equal(t, m.rep.Ignored, rep.Ignored, "%s: ignored", what)
	got := map[string]dataset.Skip{}
	for _, s := range rep.Skipped {
		got[s.Reason] = s
	}
	assert.Equal(t, m.skipped, got, "%s: skipped", what)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "%s: rows = loaded + skipped", what)
	cat := h.Catalog()
	for key, p := range m.products {
		id, ok := cat.LookupProduct(key)
		if !assert.True(t, ok, "%s: product %q", what, key) {
			continue
		}
		assert.Equal(t, p.name, cat.ProductName(id), "%s: name of %q", what, key)
		assert.Equal(t, affinity.Money(p.price), cat.ProductPrice(id), "%s: price of %q", what, key)
		if p.cats != nil {
			assert.Equal(t, p.cats, cat.Product(id).Categories, "%s: categories of %q", what, key)
		}
	}
	customers := map[string]bool{}
	for _, o := range m.orders {
		if o.customer != "" {
			customers[o.customer] = true
		}
	}
	assert.Equal(t, len(customers), h.NumCustomers(), "%s: customers", what)
}

// advLoad loads data into b with opts.
func advLoad(b *affinity.Builder, data []byte, opts dataset.Options) (dataset.Report, error) {
	return dataset.Load(context.Background(), bytes.NewReader(data), b, opts)
}

// advBuild loads data into a new Builder and builds it.
func advBuild(t *testing.T, data []byte, opts dataset.Options) (*affinity.History, dataset.Report) {
	t.Helper()
	var b affinity.Builder
	rep, err := advLoad(&b, data, opts)
	require.NoError(t, err)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h, rep
}

// advStrict checks a strict load against the model's first error.
func advStrict(t *testing.T, m *advModel, data []byte, opts dataset.Options, what string) {
	t.Helper()
	opts.Lenient = false
	var b affinity.Builder
	_, err := advLoad(&b, data, opts)
	if m.first.reason == "" {
		require.NoError(t, err, what)
		return
	}
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe, "%s: %v", what, err)
	assert.Equal(t, m.first.reason, pe.Reason, "%s: %v", what, err)
	assert.Equal(t, m.first.line, pe.Line, "%s: %v", what, err)
	assert.Equal(t, m.first.column, pe.Column, "%s: %v", what, err)
}

// ---------------------------------------------------------------------
// Generators.

type advGen struct {
	rng     *rand.Rand
	mutate  bool
	dec     byte
	loc     *time.Location
	bom     bool
	crlf    bool
	anyCase bool
	last    *advCSV // the writer of the last file
}

func newAdvGen(seed uint64, mutate bool) *advGen {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	g := &advGen{rng: rng, mutate: mutate, dec: '.', loc: time.UTC}
	if rng.IntN(3) == 0 {
		g.dec = ','
	}
	if rng.IntN(2) == 0 {
		g.loc = time.FixedZone("adv", (rng.IntN(25)-12)*3600+rng.IntN(2)*1800)
	}
	g.bom, g.crlf, g.anyCase = rng.IntN(3) == 0, rng.IntN(3) == 0, rng.IntN(2) == 0
	return g
}

func (g *advGen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *advGen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

// money formats v (ten-thousandths) with the generator's separator and
// 2 decimals when exact (4 otherwise).
func (g *advGen) money(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := fmt.Sprintf("%d%c%04d", v/10000, g.dec, v%10000)
	if v%100 == 0 {
		s = s[:len(s)-2]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// header returns a spelling of a column name that matches it.
func (g *advGen) header(name string) string {
	if !g.anyCase {
		return name
	}
	switch g.rng.IntN(4) {
	case 0:
		return strings.ToLower(strings.ReplaceAll(name, " ", "_"))
	case 1:
		return strings.ToUpper(name)
	case 2:
		return strings.ReplaceAll(strings.ToLower(name), "_", " ")
	}
	return name
}

type advItem struct{ sku, name, pid string }

// advItems are products; some names need quoting, some have no SKU.
var advItems = []advItem{
	{"TR-42", "Trail Runner - Blue / 42", "301"},
	{"SOCK-M", "Merino Socks", "302"},
	{"BTL-750", "Water Bottle 750ml", "303"},
	{"MUG-L", `Mug, "Large"`, "304"},
	{"TEA-1", "Tea box\nassorted", "305"},
	{"LAMP", "Headlamp", "306"},
	{"", "Gift wrapping", "307"},
	{"", "Gift card, 25", "308"},
	{"CAP", "Cap ;-)", ""},
	{"Ü-1", "Milchkännchen", "309"},
	{"", "Sticker\r\nsheet", ""},
	{"JAR", "Jar", "310"},
}

// shopifyTime formats u as the export does, with a random offset, or in
// the load's Location without one.
func (g *advGen) shopifyTime(u int64) string {
	switch g.rng.IntN(3) {
	case 0:
		z := time.FixedZone("", (g.rng.IntN(27)-12)*3600)
		return time.Unix(u, 0).In(z).Format("2006-01-02 15:04:05 -0700")
	case 1:
		z := time.FixedZone("", (g.rng.IntN(27)-12)*3600+g.rng.IntN(2)*1800)
		return time.Unix(u, 0).In(z).Format(time.RFC3339)
	}
	return time.Unix(u, 0).In(g.loc).Format("2006-01-02 15:04:05")
}

// advRow is a row by column name; "__short" drops its last field.
type advRow map[string]string

// genShopify writes a random export of n orders.
func (g *advGen) genShopify(n, firstKey int) []byte {
	cols := []string{"Name", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price"}
	for _, c := range []string{"Email", "Financial Status", "Cancelled at", "Refunded Amount", "Lineitem sku"} {
		if g.chance(0.85) {
			cols = append(cols, c)
		}
	}
	cols = append(cols, "Currency", "Paid at", "Vendor", "Id")
	g.rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	has := func(c string) bool { return slices.Contains(cols, c) }
	var rows []advRow
	emails := []string{"alice@example.com", "Bob@Example.COM", "", "carol@x.org", "ALICE@example.com", "dave@y.net"}
	for i := range n {
		key := fmt.Sprintf("#%d", firstKey+i)
		u := int64(1_600_000_000 + g.rng.IntN(200_000_000))
		nl := 1 + g.rng.IntN(4)
		var value int64
		var orderRows []advRow
		for j := range nl {
			it := advItems[g.rng.IntN(len(advItems))]
			q := int64(1 + g.rng.IntN(5))
			if g.chance(0.05) {
				q = -q
			}
			p := int64(g.rng.IntN(20000)) * 100
			value += q * p
			qs := strconv.FormatInt(q, 10)
			if g.chance(0.1) {
				qs += ".0"
			}
			ps := g.money(p)
			if p == 0 && g.chance(0.5) {
				ps = "-0" + string(g.dec) + "00"
			}
			r := advRow{"Name": key, "Lineitem quantity": qs, "Lineitem name": it.name, "Lineitem price": ps,
				"Lineitem sku": it.sku, "Currency": "USD", "Vendor": "Trailhead, Inc."}
			if j == 0 {
				r["Email"] = g.pick(emails...)
				r["Created at"] = g.shopifyTime(u)
				r["Paid at"] = r["Created at"]
				r["Id"] = strconv.Itoa(5_000_000 + firstKey + i)
				r["Financial Status"] = g.pick("paid", "paid", "partially_refunded", "pending", "authorized", "refunded", "Voided", "REFUNDED")
				if g.chance(0.08) {
					r["Cancelled at"] = g.shopifyTime(u + 3600)
				}
				switch {
				case g.chance(0.2):
					r["Refunded Amount"] = g.money(int64(g.rng.IntN(30000)) * 100)
				case g.chance(0.1):
					r["Refunded Amount"] = g.money(0)
				}
			}
			orderRows = append(orderRows, r)
		}
		if g.mutate {
			for j, r := range orderRows {
				if !g.chance(0.12) {
					continue
				}
				kinds := []string{"badqty", "zeroqty", "badprice", "negprice", "thousands", "noproduct"}
				if j == 0 {
					kinds = append(kinds, "badtime", "badtime", "badrefund", "oldtime")
				} else {
					kinds = append(kinds, "fieldcount", "noorder")
				}
				switch g.pick(kinds...) {
				case "badqty":
					r["Lineitem quantity"] = g.pick("x", "1.5", "2,0", "99999999999")
				case "zeroqty":
					r["Lineitem quantity"] = g.pick("0", "0.0", "-0")
				case "badprice":
					r["Lineitem price"] = g.pick("5.0.0", "$5", "1e3", "", "0.00001")
				case "negprice":
					r["Lineitem price"] = "-" + g.money(10000)
				case "thousands":
					r["Lineitem price"] = "1 234" + string(g.dec) + "50"
				case "noproduct":
					r["Lineitem name"], r["Lineitem sku"] = "", ""
				case "badtime":
					r["Created at"] = g.pick("yesterday", "2024-13-01 10:00:00", "")
				case "oldtime":
					r["Created at"] = "1969-12-31 23:59:59 +0000"
				case "badrefund":
					if has("Refunded Amount") {
						r["Refunded Amount"] = g.pick("lots", "-1.00")
						r["Financial Status"], r["Cancelled at"] = "paid", ""
					}
				case "fieldcount":
					r["__short"] = "1"
				case "noorder":
					r["Name"] = ""
				}
			}
		}
		rows = append(rows, orderRows...)
	}
	if g.mutate && len(rows) > 3 && g.chance(0.5) {
		// an order that comes back after others
		back := cloneRow(rows[g.rng.IntN(len(rows)-2)])
		delete(back, "__short")
		rows = append(rows, back)
	}
	return g.write(cols, rows)
}

func cloneRow(r advRow) advRow {
	out := advRow{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

// write writes the header and rows in the generator's style.
func (g *advGen) write(cols []string, rows []advRow) []byte {
	w := newAdvCSV(g.bom, g.crlf, ",")
	g.last = w
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = g.header(c)
	}
	w.record(head, nil)
	for _, r := range rows {
		f := make([]string, len(cols))
		for i, c := range cols {
			f[i] = r[c]
		}
		if r["__short"] != "" {
			f = f[:len(f)-1]
		}
		w.record(f, func(int) bool { return g.chance(0.15) })
	}
	return []byte(w.String())
}

// genWoo writes a random WooCommerce export of n orders.
func (g *advGen) genWoo(n, firstKey int) []byte {
	cols := []string{"order_date", "item_name", "item_quantity", "item_total"}
	switch g.rng.IntN(3) {
	case 0:
		cols = append(cols, "order_number")
	case 1:
		cols = append(cols, "order_id")
	default:
		cols = append(cols, "order_number", "order_id")
	}
	for _, c := range []string{"status", "customer_id", "billing_email", "item_sku", "item_product_id", "item_refunded", "item_refunded_qty"} {
		if g.chance(0.85) {
			cols = append(cols, c)
		}
	}
	cols = append(cols, "order_total", "order_currency", "item_meta")
	g.rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	display := g.chance(0.4)
	has := func(c string) bool { return slices.Contains(cols, c) }
	var rows []advRow
	for i := range n {
		key := strconv.Itoa(firstKey + i)
		u := int64(1_600_000_000 + g.rng.IntN(200_000_000))
		var date string
		switch g.rng.IntN(3) {
		case 0:
			date = time.Unix(u, 0).In(g.loc).Format("2006-01-02 15:04:05")
		case 1:
			date = time.Unix(u, 0).In(time.FixedZone("", (g.rng.IntN(27)-12)*3600)).Format(time.RFC3339)
		default:
			date = time.Unix(u-u%60, 0).In(g.loc).Format("2006-01-02 15:04")
		}
		cust := g.pick("17", "17", "0", "", "42", "99")
		email := g.pick("anna@example.de", "Ben@Example.de", "", "CARL@x.de")
		status := g.pick("completed", "processing", "wc-completed", "on-hold", "cancelled", "wc-refunded", "Pending", "failed",
			"draft", "trash", "checkout-draft", "WC-Processing")
		nl := 1 + g.rng.IntN(4)
		var orderRows []advRow
		for range nl {
			it := advItems[g.rng.IntN(len(advItems))]
			q := int64(1 + g.rng.IntN(6))
			total := int64(g.rng.IntN(50000)) * 100
			if g.chance(0.3) {
				total = int64(g.rng.IntN(5_000_000)) // 4 decimals, rarely divisible
			}
			if g.chance(0.03) {
				q = -q
			}
			r := advRow{"order_number": key, "order_id": key, "order_date": date, "status": status, "customer_id": cust,
				"billing_email": email, "item_name": it.name, "item_sku": it.sku, "item_product_id": it.pid,
				"item_quantity": strconv.FormatInt(q, 10), "item_total": g.money(total), "order_total": "0.00",
				"order_currency": "EUR", "item_meta": "size=L, colour=blue"}
			if g.chance(0.25) && q > 0 {
				rq := 1 + g.rng.IntN(int(q))
				ref := int64(g.rng.IntN(int(total/q*int64(rq))+1)) * 1
				switch g.rng.IntN(4) {
				case 0:
					r["item_refunded_qty"], r["item_refunded"] = "-"+strconv.Itoa(rq), g.money(-ref)
				case 1:
					r["item_refunded_qty"], r["item_refunded"] = strconv.Itoa(rq), g.money(ref)
				case 2:
					r["item_refunded"] = g.money(-ref)
				default:
					r["item_refunded_qty"] = strconv.Itoa(rq)
				}
				if !has("item_refunded_qty") && !has("item_refunded") {
					delete(r, "item_refunded")
				}
			}
			orderRows = append(orderRows, r)
		}
		if g.mutate {
			for j, r := range orderRows {
				if !g.chance(0.12) {
					continue
				}
				kinds := []string{"badqty", "zeroqty", "badtotal", "negtotal", "noproduct"}
				if has("item_refunded") {
					kinds = append(kinds, "badrefund")
				}
				if has("item_refunded_qty") {
					kinds = append(kinds, "badrq")
				}
				if j == 0 {
					kinds = append(kinds, "baddate", "baddate")
				} else {
					kinds = append(kinds, "fieldcount", "noorder")
				}
				switch g.pick(kinds...) {
				case "badqty":
					r["item_quantity"] = g.pick("one", "1.5", "")
				case "zeroqty":
					r["item_quantity"] = "0"
				case "badtotal":
					r["item_total"] = g.pick("five", "5.00001", "1.000,00")
				case "negtotal":
					r["item_total"] = "-" + g.money(12300)
				case "noproduct":
					r["item_name"], r["item_sku"], r["item_product_id"] = "", "", ""
				case "badrefund":
					r["item_refunded"] = "x"
				case "badrq":
					r["item_refunded_qty"] = "1.5"
				case "baddate":
					r["order_date"] = g.pick("2024-13-01 10:00:00", "01/05/2024", "")
				case "fieldcount":
					r["__short"] = "1"
				case "noorder":
					r["order_number"], r["order_id"] = "", ""
				}
			}
		}
		rows = append(rows, orderRows...)
	}
	if g.mutate && len(rows) > 3 && g.chance(0.5) {
		back := cloneRow(rows[g.rng.IntN(len(rows)-2)])
		delete(back, "__short")
		rows = append(rows, back)
	}
	if display {
		for i, c := range cols {
			cols[i] = advTitle(strings.ReplaceAll(c, "_", " "))
		}
		for _, r := range rows {
			for k, v := range r {
				if !strings.HasPrefix(k, "__") {
					r[advTitle(strings.ReplaceAll(k, "_", " "))] = v
				}
			}
		}
	}
	return g.write(cols, rows)
}

// advTitle upper-cases the first letter of every space-separated word of
// an ASCII header name ("order number" → "Order Number"), as
// strings.Title, deprecated, did.
func advTitle(s string) string {
	b := []byte(s)
	for i, c := range b {
		if (i == 0 || b[i-1] == ' ') && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// ---------------------------------------------------------------------
// The tests.

// advSeeds is the number of random files per test.
func advSeeds() int { return testdata.Scale(400, 32) }

func advOrderFormat(t *testing.T, format string) {
	for seed := range uint64(advSeeds()) {
		for _, mutate := range []bool{false, true} {
			g := newAdvGen(seed, mutate)
			var data []byte
			var rules advOrderRules
			if format == "shopify" {
				data, rules = g.genShopify(1+g.rng.IntN(12), 1000), advShopifyRules(g.dec, g.loc)
			} else {
				data, rules = g.genWoo(1+g.rng.IntN(12), 2000), advWooRules(g.dec, g.loc)
			}
			what := fmt.Sprintf("seed %d mutate %v\n%s", seed, mutate, data)
			m := newAdvModel(format)
			advLoadOrders(t, m, string(data), rules)
			opts := dataset.Options{Format: format, Lenient: true, DecimalSep: g.dec, Location: g.loc, Workers: -1}
			if seed%2 == 1 {
				opts.Workers = 2
			}
			h, rep := advBuild(t, data, opts)
			advCompare(t, m, h, rep, what)
			advStrict(t, m, data, opts, what)
			if t.Failed() {
				return
			}
			if seed%4 == 0 {
				// gzip loads the same, and loading twice replaces
				hz, repz := advBuild(t, gzipped(t, string(data)), opts)
				assert.Equal(t, dump(h), dump(hz), what)
				assert.Equal(t, rep, repz, what)
				var b affinity.Builder
				for range 2 {
					_, err := advLoad(&b, data, opts)
					require.NoError(t, err, what)
				}
				twice, err := b.Build(context.Background())
				require.NoError(t, err)
				assert.Equal(t, advOrdersText(m.orders), advOrdersText(advHistoryOrders(twice)), "loaded twice: %s", what)
			}
		}
	}
}

func TestAdversarialShopifyModel(t *testing.T)     { advOrderFormat(t, "shopify") }
func TestAdversarialWooCommerceModel(t *testing.T) { advOrderFormat(t, "woocommerce") }

// TestAdversarialShopifyRefundGross: the refund line of an order adds to
// the gross value of the History, so a load whose orders fit may still
// leave a Builder that Build refuses.
func TestAdversarialShopifyRefundGross(t *testing.T) {
	data := shopifyHead + "#1,a@x,partially_refunded,2024-03-01 10:00:00 -0700,1,Gold,500000000000000,G,500000000000000\n"
	for _, lenient := range []bool{false, true} {
		var b affinity.Builder
		_, err := advLoad(&b, []byte(data), dataset.Options{Format: "shopify", Lenient: lenient})
		if err != nil {
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, "lenient %v", lenient)
			assert.Equal(t, 2, pe.Line)
			require.ErrorIs(t, err, affinity.ErrMoneyRange)
			continue
		}
		_, err = b.Build(context.Background())
		assert.NoError(t, err, "lenient %v: the load accepted the file, so Build must too", lenient)
	}
}

// TestAdversarialWooPendingThenCompleted: a pending order (no purchase
// yet) that a later export shows completed must be in the History when
// both exports are loaded into one Builder, "a later export wins".
func TestAdversarialWooPendingThenCompleted(t *testing.T) {
	head := "order_number,order_date,status,customer_id,item_name,item_sku,item_quantity,item_total\n"
	older := head + "3001,2024-05-01 10:00:00,pending,7,Mug,M,1,5.00\n"
	newer := head + "3001,2024-05-01 10:00:00,completed,7,Mug,M,1,5.00\n"
	var b affinity.Builder
	for _, data := range []string{older, newer} {
		_, err := advLoad(&b, []byte(data), dataset.Options{Format: "woocommerce"})
		require.NoError(t, err)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, h.NumOrders(), "the newer export's order 3001 is lost:\n%s", dump(h))

	// the same exports loaded one per Builder, the newer onto the History
	// of the older, keep the order
	h1, _ := advBuild(t, []byte(older), dataset.Options{Format: "woocommerce"})
	nb := affinity.NewBuilder(h1)
	_, err = advLoad(nb, []byte(newer), dataset.Options{Format: "woocommerce"})
	require.NoError(t, err)
	h2, err := nb.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, h2.NumOrders())
}

// TestAdversarialWooExtremeQuantity: -2147483648 is a valid int32
// quantity, and item_total / item_quantity is split exactly "as for
// cdnow"; the order must load with its value intact, strict or lenient.
func TestAdversarialWooExtremeQuantity(t *testing.T) {
	head := "order_number,order_date,status,customer_id,item_name,item_sku,item_quantity,item_total,item_refunded,item_refunded_qty\n"
	cases := []struct {
		name, row string
		value     affinity.Money
	}{
		{"quantity", "1,2024-05-01 10:00:00,completed,7,Mug,M,-2147483648,1000000.00,,\n", -1000000_0000},
		{"exact quantity", "1,2024-05-01 10:00:00,completed,7,Mug,M,-2147483648,214748.3648,,\n", -214748_3648},
		{"refunded quantity", "1,2024-05-01 10:00:00,completed,7,Mug,M,1,2000000.00,-1000000.00,-2147483648\n", 1000000_0000},
	}
	for _, tc := range cases {
		for _, lenient := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s lenient %v", tc.name, lenient), func(t *testing.T) {
				data := head + tc.row + "2,2024-05-02 10:00:00,completed,8,Pen,P,1,1.00,,\n"
				var b affinity.Builder
				rep, err := advLoad(&b, []byte(data), dataset.Options{Format: "woocommerce", Lenient: lenient})
				require.NoError(t, err)
				assert.Empty(t, rep.Skipped)
				h, err := b.Build(context.Background())
				require.NoError(t, err)
				for o := range h.Orders() {
					if h.OrderKey(o) == "1" {
						assert.Equal(t, tc.value, h.OrderValue(o), dump(h))
					}
				}
				require.Equal(t, 2, h.NumOrders())
			})
		}
	}
}

// TestAdversarialOrderDuplicateRows: exact duplicate rows of an order are
// counted in Report.Duplicates, and skipped with DropDuplicates, in every
// format (package documentation, Options.DropDuplicates).
func TestAdversarialOrderDuplicateRows(t *testing.T) {
	woo := "order_number,order_date,status,customer_id,item_name,item_sku,item_quantity,item_total\n" +
		"1,2024-05-01 10:00:00,completed,7,Mug,M,1,5.00\n" +
		"1,2024-05-01 10:00:00,completed,7,Mug,M,1,5.00\n"
	shop := shopifyHead + "#1,a@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n" +
		"#1,,,,2,Pen,1.00,P,\n" +
		"#1,,,,2,Pen,1.00,P,\n"
	for _, tc := range []struct{ format, data string }{{"woocommerce", woo}, {"shopify", shop}} {
		t.Run(tc.format, func(t *testing.T) {
			_, rep := advBuild(t, []byte(tc.data), dataset.Options{Format: tc.format})
			assert.Equal(t, 1, rep.Duplicates, "%+v", rep)
			_, rep = advBuild(t, []byte(tc.data), dataset.Options{Format: tc.format, DropDuplicates: true})
			assert.Equal(t, []dataset.Skip{{Reason: "duplicate row", Count: 1, FirstLine: strings.Count(tc.data, "\n")}}, rep.Skipped)
		})
	}
}

// TestAdversarialSkippedOrder: Report.Skipped lists reasons "in the order
// in which each reason first occurred".
func TestAdversarialSkippedOrder(t *testing.T) {
	data := shopifyHead +
		"#1,a@x,voided,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n" + // line 2: cancelled
		"#1,,,\n" + // line 3: wrong field count
		"#2,b@x,paid,2024-03-01 10:00:00 -0700,1,Mug,5.00,M,\n"
	_, rep := advBuild(t, []byte(data), dataset.Options{Format: "shopify", Lenient: true})
	assert.Equal(t, []dataset.Skip{{Reason: "cancelled order", Count: 1, FirstLine: 2}, {Reason: "wrong field count", Count: 1, FirstLine: 3}}, rep.Skipped)
}

// advOverlap loads two overlapping exports: into one Builder, and the
// second onto the History built from the first. Orders of the second
// replace or delete those of the first.
func advOverlap(t *testing.T, format string) {
	conflicts := 0
	for seed := range uint64(advSeeds() / 2) {
		ga, gb := newAdvGen(seed, false), newAdvGen(seed+1<<32, false)
		gb.dec, gb.loc = ga.dec, ga.loc
		n := 2 + ga.rng.IntN(10)
		var a, bData []byte
		var ra, rb advOrderRules
		if format == "shopify" {
			a, bData = ga.genShopify(n, 1000), gb.genShopify(n, 1000+n/2)
			ra, rb = advShopifyRules(ga.dec, ga.loc), advShopifyRules(gb.dec, gb.loc)
		} else {
			a, bData = ga.genWoo(n, 2000), gb.genWoo(n, 2000+n/2)
			ra, rb = advWooRules(ga.dec, ga.loc), advWooRules(gb.dec, gb.loc)
		}
		what := fmt.Sprintf("seed %d\n%s\n%s", seed, a, bData)
		ma, mb := newAdvModel(format), newAdvModel(format)
		advLoadOrders(t, ma, string(a), ra)
		advLoadOrders(t, mb, string(bData), rb)
		want := map[string]advOrder{}
		for k, o := range ma.orders {
			want[k] = o
		}
		conflict := false
		for k := range mb.deleted {
			delete(want, k)
		}
		for k, o := range mb.orders {
			want[k] = o
			conflict = conflict || ma.deleted[k]
		}
		opts := dataset.Options{Format: format, DecimalSep: ga.dec, Location: ga.loc}

		ha, _ := advBuild(t, a, opts)
		nb := affinity.NewBuilder(ha)
		_, err := advLoad(nb, bData, opts)
		require.NoError(t, err, what)
		h, err := nb.Build(context.Background())
		require.NoError(t, err, what)
		assert.Equal(t, advOrdersText(want), advOrdersText(advHistoryOrders(h)), "onto the older History: %s", what)

		if conflict {
			// An order the first export deleted and the second puts (see
			// TestAdversarialWooPendingThenCompleted): the later export
			// wins in one Builder too.
			conflicts++
		}
		var b affinity.Builder
		for _, d := range [][]byte{a, bData} {
			_, err := advLoad(&b, d, opts)
			require.NoError(t, err, what)
		}
		h, err = b.Build(context.Background())
		require.NoError(t, err, what)
		assert.Equal(t, advOrdersText(want), advOrdersText(advHistoryOrders(h)), "one Builder: %s", what)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d seeds with an order deleted by the first export and put by the second", conflicts)
}

func TestAdversarialShopifyOverlap(t *testing.T)     { advOverlap(t, "shopify") }
func TestAdversarialWooCommerceOverlap(t *testing.T) { advOverlap(t, "woocommerce") }

// ---------------------------------------------------------------------
// The generic "csv" format.

const (
	gcCustomer = iota
	gcProduct
	gcOrder
	gcTime
	gcQuantity
	gcPrice
	gcCategory
	gcName
	gcNum
)

var gcDefaults = [gcNum][]string{
	{"customer", "customer id", "client"},
	{"product", "product id", "sku", "item"},
	{"order", "order id", "invoice"},
	{"time", "date", "timestamp", "order date"},
	{"quantity", "qty"},
	{"price", "unit price"},
	{"category", "categories"},
	{"name", "product name", "description"},
}

var gcCustom = [gcNum]string{"Kunde Nr", "Artikel", "Beleg", "Zeitpunkt", "Menge", "Preis", "Warengruppe", "Bezeichnung"}

// advCats splits a category field as Columns.Category documents.
func advCats(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, "|") {
		var levels []string
		for l := range strings.SplitSeq(strings.ReplaceAll(p, ">", "/"), "/") {
			if l = strings.TrimSpace(l); l != "" {
				levels = append(levels, l)
			}
		}
		if len(levels) > 0 {
			out = append(out, strings.Join(levels, "/"))
		}
	}
	return out
}

type gcItem struct{ key, name, cats string }

var gcItems = []gcItem{
	{"tea-01", "Green Tea", "Food > Tea"},
	{"mug-07", `Mug, "Large"`, "Home/Kitchen|Gifts"},
	{"pen", "", ""},
	{"lamp", "Desk lamp", ""},
	{"box", "", "Storage > Boxes > Small"},
	{"jar", "Jar\nwith lid", " Home / Kitchen / "},
	{"Ü", "Übertopf", "Garden|Home>Deco|"},
}

// genCSV writes a random generic CSV file and returns its options.
func (g *advGen) genCSV(n int) ([]byte, dataset.Options) {
	opts := dataset.Options{Format: "csv", DecimalSep: g.dec, Location: g.loc, Lenient: true}
	sep := g.pick(",", ",", ";", "\t")
	if sep != "," {
		opts.Comma = rune(sep[0])
	}
	present := []int{gcProduct, gcTime}
	for _, c := range []int{gcCustomer, gcOrder, gcQuantity, gcPrice, gcCategory, gcName} {
		if g.chance(0.8) {
			present = append(present, c)
		}
	}
	custom := g.chance(0.5)
	names := map[int]string{}
	for _, c := range present {
		if custom {
			names[c] = gcCustom[c]
			set := g.header(gcCustom[c])
			switch c {
			case gcCustomer:
				opts.Columns.Customer = set
			case gcProduct:
				opts.Columns.Product = set
			case gcOrder:
				opts.Columns.Order = set
			case gcTime:
				opts.Columns.Time = set
			case gcQuantity:
				opts.Columns.Quantity = set
			case gcPrice:
				opts.Columns.Price = set
			case gcCategory:
				opts.Columns.Category = set
			case gcName:
				opts.Columns.Name = set
			}
		} else {
			names[c] = g.header(g.pick(gcDefaults[c]...))
		}
	}
	hasOrder := slices.Contains(present, gcOrder)
	var format func(u int64) string
	switch g.rng.IntN(4) {
	case 0:
		opts.TimeLayouts = []string{"02.01.2006 15:04:05"}
		format = func(u int64) string { return time.Unix(u, 0).In(g.loc).Format("02.01.2006 15:04:05") }
	case 1:
		opts.TimeLayouts = []string{"unix"}
		format = func(u int64) string { return strconv.FormatInt(u, 10) }
	case 2:
		opts.TimeLayouts = []string{"01/02/2006 15:04", "unix"}
		format = func(u int64) string {
			if g.chance(0.5) {
				return strconv.FormatInt(u, 10)
			}
			return time.Unix(u, 0).In(g.loc).Format("01/02/2006 15:04")
		}
	default:
		format = func(u int64) string {
			layouts := []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"}
			if hasOrder {
				layouts = append(layouts, "2006-01-02 15:04", "2006-01-02")
			}
			z := g.loc
			if g.chance(0.3) {
				z = time.FixedZone("", (g.rng.IntN(27)-12)*3600)
			}
			return time.Unix(u, 0).In(z).Format(g.pick(layouts...))
		}
	}
	cols := append([]int(nil), present...)
	cols = append(cols, -1, -2) // extras
	g.rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	head := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case -1:
			head[i] = "channel"
		case -2:
			head[i] = "country"
		default:
			head[i] = names[c]
		}
	}
	w := newAdvCSV(g.bom, g.crlf, sep)
	g.last = w
	w.record(head, nil)
	u := int64(1_500_000_000)
	for i := range n {
		u += int64(120 + g.rng.IntN(100_000))
		tu := u - u%60
		cust := g.pick("alice", "bob", "", "Carol")
		perm := g.rng.Perm(len(gcItems))[:1+g.rng.IntN(3)]
		for j, k := range perm {
			it := gcItems[k]
			q := strconv.Itoa(1 + g.rng.IntN(5))
			switch {
			case g.chance(0.1):
				q = "-" + q
			case g.chance(0.1):
				q += ".0"
			case g.chance(0.05):
				q = "+" + q
			}
			vals := map[int]string{gcCustomer: cust, gcProduct: it.key, gcOrder: fmt.Sprintf("o%d", i), gcTime: format(tu),
				gcQuantity: q, gcPrice: g.money(int64(g.rng.IntN(10000)) * 100), gcCategory: it.cats, gcName: it.name, -1: "web", -2: "DE"}
			if !hasOrder && j > 0 {
				vals[gcTime] = format(tu) // same second, maybe another layout
			}
			short := false
			if g.mutate && g.chance(0.1) {
				switch g.pick("badtime", "oldtime", "badqty", "zeroqty", "badprice", "negprice", "noproduct", "fieldcount") {
				case "badtime":
					vals[gcTime] = "soon"
				case "oldtime":
					vals[gcTime] = "-100"
					if opts.TimeLayouts == nil || opts.TimeLayouts[0] != "unix" {
						vals[gcTime] = time.Unix(-100, 0).In(g.loc).Format("2006-01-02 15:04:05")
						if opts.TimeLayouts != nil {
							vals[gcTime] = time.Unix(-100, 0).In(g.loc).Format(opts.TimeLayouts[0])
						}
					}
				case "badqty":
					vals[gcQuantity] = "a few"
				case "zeroqty":
					vals[gcQuantity] = "0.00"
				case "badprice":
					vals[gcPrice] = "12.345.6"
				case "negprice":
					vals[gcPrice] = "-" + g.money(100)
				case "noproduct":
					vals[gcProduct] = " "
				case "fieldcount":
					short = true
				}
			}
			f := make([]string, len(cols))
			for x, c := range cols {
				f[x] = vals[c]
			}
			if short {
				f = append(f, "extra")
			}
			w.record(f, func(int) bool { return g.chance(0.1) })
		}
	}
	return []byte(w.String()), opts
}

// advLoadCSV is the model of the "csv" format.
func advLoadCSV(t *testing.T, m *advModel, data string, opts dataset.Options) {
	t.Helper()
	recs, lines := advRecords(t, data, opts.Comma)
	specs := make([][]string, gcNum)
	for c, set := range []string{opts.Columns.Customer, opts.Columns.Product, opts.Columns.Order, opts.Columns.Time,
		opts.Columns.Quantity, opts.Columns.Price, opts.Columns.Category, opts.Columns.Name} {
		specs[c] = gcDefaults[c]
		if set != "" {
			specs[c] = []string{set}
		}
	}
	h := advMapHeader(recs[0], specs)
	m.rep.Ignored = h.ignored
	layouts := opts.TimeLayouts
	if layouts == nil {
		layouts = []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}
	}
	_, hasOrder := h.idx[gcOrder]
	_, hasQty := h.idx[gcQuantity]
	_, hasPrice := h.idx[gcPrice]
	for r := 1; r < len(recs); r++ {
		rec, ls := recs[r], lines[r]
		m.rep.Rows++
		if len(rec) != h.n {
			m.skip("wrong field count", ls[0], 0)
			continue
		}
		fail := func(reason string, c int) {
			col, l := h.col(ls, c)
			m.skip(reason, l, col)
		}
		product := h.get(rec, gcProduct)
		if product == "" {
			fail("missing product", gcProduct)
			continue
		}
		ts, ok, in := advTime(h.get(rec, gcTime), layouts, opts.Location)
		if !ok {
			fail("invalid time", gcTime)
			continue
		} else if !in {
			fail("time out of range", gcTime)
			continue
		}
		q := int32(1)
		if hasQty {
			if q, ok = advQty(h.get(rec, gcQuantity), opts.DecimalSep); !ok {
				fail("invalid quantity", gcQuantity)
				continue
			} else if q == 0 {
				fail("zero quantity", gcQuantity)
				continue
			}
		}
		var price int64
		if hasPrice {
			if price, ok = advMoney(h.get(rec, gcPrice), opts.DecimalSep); !ok {
				fail("invalid price", gcPrice)
				continue
			} else if price < 0 {
				fail("negative price", gcPrice)
				continue
			}
		}
		name, cats := h.get(rec, gcName), h.get(rec, gcCategory)
		if _, ok := m.products[product]; !ok && (name != "" || cats != "") {
			m.products[product] = advProduct{name: name, price: price, cats: advCats(cats)}
		}
		cust, order := h.get(rec, gcCustomer), h.get(rec, gcOrder)
		key := cust + "|" + order
		if !hasOrder {
			key = fmt.Sprintf("%s@%d", cust, ts.Unix())
		}
		o := m.orders[key]
		o.key, o.customer = order, cust
		if len(o.lines) == 0 || ts.Unix() < o.unix {
			o.unix = ts.Unix()
		}
		o.lines = append(o.lines, advLine{product, q, price})
		m.orders[key] = o
		m.rep.Loaded++
		m.rep.Purchases++
		if cust == "" {
			m.rep.Anonymous++
		}
		if q < 0 {
			m.rep.Returns++
		}
	}
}

func TestAdversarialCSVModel(t *testing.T) {
	for seed := range uint64(advSeeds()) {
		for _, mutate := range []bool{false, true} {
			g := newAdvGen(seed, mutate)
			data, opts := g.genCSV(1 + g.rng.IntN(10))
			what := fmt.Sprintf("seed %d mutate %v options %+v\n%s", seed, mutate, opts, data)
			m := newAdvModel("csv")
			advLoadCSV(t, m, string(data), opts)
			opts.Workers = []int{-1, 0, 2}[seed%3]
			h, rep := advBuild(t, data, opts)
			advCompare(t, m, h, rep, what)
			advStrict(t, m, data, opts, what)
			if seed%4 == 0 {
				hz, repz := advBuild(t, gzipped(t, string(data)), opts)
				assert.Equal(t, dump(h), dump(hz), what)
				assert.Equal(t, rep, repz, what)
			}
			if t.Failed() {
				return
			}
		}
	}
}

// ---------------------------------------------------------------------
// Limits at their edges.

func TestAdversarialLimitEdges(t *testing.T) {
	for seed := range uint64(testdata.Scale(60, 12)) {
		g := newAdvGen(seed, false)
		var data []byte
		format := "shopify"
		switch seed % 3 {
		case 0:
			data = g.genShopify(3+g.rng.IntN(5), 1000)
		case 1:
			format = "woocommerce"
			data = g.genWoo(3+g.rng.IntN(5), 1000)
		default:
			format = "csv"
			var o dataset.Options
			data, o = g.genCSV(3 + g.rng.IntN(5))
			if o.Comma != 0 || o.Columns != (dataset.Columns{}) || o.TimeLayouts != nil {
				continue
			}
		}
		w := g.last
		rows := w.records - 1
		base := dataset.Options{Format: format, DecimalSep: g.dec, Location: g.loc}
		what := fmt.Sprintf("seed %d %s\n%s", seed, format, data)
		load := func(lim dataset.Limits) (dataset.Report, error) {
			opts := base
			opts.Limits = lim
			var b affinity.Builder
			return advLoad(&b, data, opts)
		}
		rep, err := load(dataset.Limits{MaxRows: rows, MaxField: w.maxField, MaxLine: w.maxRec})
		require.NoError(t, err, "every limit at its edge: %s", what)
		assert.Equal(t, rows, rep.Rows)

		_, err = load(dataset.Limits{MaxRows: rows - 1})
		require.ErrorIs(t, err, dataset.ErrLimit, what)
		require.ErrorContains(t, err, "Limits.MaxRows", what)
		var pe *dataset.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, w.lastStart, pe.Line, "MaxRows names the first row beyond it: %s", what)

		_, err = load(dataset.Limits{MaxField: w.maxField - 1})
		require.ErrorIs(t, err, dataset.ErrLimit, what)
		require.ErrorContains(t, err, "Limits.MaxField", what)

		_, err = load(dataset.Limits{MaxLine: w.maxRec - 1})
		require.ErrorIs(t, err, dataset.ErrLineTooLong, what)
		require.ErrorContains(t, err, "Limits.MaxLine", what)
		require.ErrorAs(t, err, &pe)
		if !strings.Contains(w.maxRecRaw, "\n") {
			assert.Equal(t, w.maxRecLine, pe.Line, "MaxLine names the long record's line: %s", what)
		}
		if t.Failed() {
			return
		}
	}
}

// TestAdversarialMaxFieldCRLF: the line break of a CRLF file is no part
// of the last field; a last field of exactly MaxField bytes fits.
func TestAdversarialMaxFieldCRLF(t *testing.T) {
	const name = "Mug with a long name - longer than a time"
	for _, format := range []string{"shopify", "csv"} {
		for _, eol := range []string{"\n", "\r\n"} {
			t.Run(fmt.Sprintf("%s %q", format, eol), func(t *testing.T) {
				var data string
				if format == "shopify" {
					data = "Name,Created at,Lineitem quantity,Lineitem price,Lineitem name" + eol +
						"#1,2024-03-01 10:00:00 -0700,1,5.00," + name + eol
				} else {
					data = "customer,product,time,name" + eol + "c1,p1,2024-01-02," + name + eol
				}
				opts := dataset.Options{Format: format, Limits: dataset.Limits{MaxField: len(name)}}
				_, err := loadErr(data, opts)
				require.NoError(t, err)
			})
		}
	}
}
