package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopaffinity/affinity"
)

// The purchase fields of a CSV row, indexes into a []colSpec.
const (
	colCustomer = iota
	colProduct
	colOrder
	colTime
	colQuantity
	colPrice
	colCategory
	colName
	numCols
)

// colSpec says how a column is found in a header.
type colSpec struct {
	names    []string // accepted header names, the first present one wins
	required bool
	// text marks a column of free text (a name, a category path): a line
	// break in it is the text's, unless the field also holds the
	// separator (see lineKind)
	text bool
}

// header maps column specs to field indexes of the records.
type header struct {
	idx  []int    // per spec: 0-based field index, -1 when absent
	text []string // per spec: the header's text of that field
	n    int      // number of header fields
}

// oneLine returns the line breaks the fields of the records after
// header rec may hold: none in those the loader reads, by specs, but in
// free text (see lineKind).
func (h *header) oneLine(rec []string, specs []colSpec) *oneLine {
	// The names are the record's own strings, trimmed when read (see
	// oneLine.name): a copy of the slice, not of each string, which may
	// be a header of very many columns.
	o := &oneLine{cols: make([]lineKind, h.n), names: slices.Clone(rec)}
	for j, i := range h.idx {
		if i >= 0 && i < h.n {
			o.cols[i] = noLines
			if specs[j].text {
				o.cols[i] = textLines
			}
		}
	}
	return o
}

// normHeader folds a header name for matching: lower case, without
// spaces, underscores, hyphens and dots, and without invisible format
// characters (a byte-order mark, zero-width spaces) that editors and
// exports leave in headers.
func normHeader(s string) string {
	s = strings.TrimSpace(s)
	if folded(s) {
		return s // most headers: no copy
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ' || r == '_' || r == '-' || r == '.' || r == '\t':
		case unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// folded reports whether s is its own normHeader: ASCII without upper
// case letters and without the characters normHeader drops (ASCII holds
// no format characters).
func folded(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c >= 'A' && c <= 'Z', c == ' ', c == '_', c == '-', c == '.', c == '\t':
			return false
		}
	}
	return true
}

// looseHeader keeps only the ASCII letters and digits of a normalised
// header name: "\xffcustomer" and "customer#" both become "customer".
func looseHeader(s string) string {
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, s)
}

// nearMiss returns the name among the unmapped specs' names that header
// name k almost matches: equal but for stray characters, or one edit away
// from a name of five or more letters. It returns "" when there is none.
// norms holds the specs' names as normHeader folds them, by spec.
func nearMiss(k string, specs []colSpec, norms [][]string, idx []int) (name string, loose bool) {
	if len(k) > 64 {
		return "", false
	}
	lk := looseHeader(k)
	for c, sp := range specs {
		if idx[c] >= 0 {
			continue
		}
		for j, n := range sp.names {
			nn := norms[c][j]
			if lk != "" && lk == looseHeader(nn) {
				return n, true
			}
			if len(nn) >= 5 && editDistance1(k, nn) {
				return n, false
			}
		}
	}
	return "", false
}

// editDistance1 reports whether a and b differ by exactly one inserted,
// deleted or replaced byte.
func editDistance1(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 || a == b {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:]
	}
	return a[i+1:] == b[i:]
}

// MaxIgnored is the most column texts a [Report] lists in Ignored.
const MaxIgnored = 32

// appendIgnored appends the text of a column no field maps to ignored,
// trimmed, as [Report.Ignored] lists it: at most MaxIgnored, each cut to
// at most 64 bytes.
func appendIgnored(ignored *[]string, text string) {
	if len(*ignored) >= MaxIgnored {
		return
	}
	t := strings.TrimSpace(text)
	if len(t) > 64 { // 61 bytes and "…" (3)
		t = strings.ToValidUTF8(t[:61], "") + "…"
	}
	*ignored = append(*ignored, strings.Clone(t))
}

// mapHeader resolves specs against the header record rec found at line.
// Duplicate names and missing required columns are errors. A column that
// maps to no field but nearly matches the name of an unmapped one (see
// nearMiss) is an error in strict mode, so that a stray byte cannot turn
// a whole file anonymous; in lenient mode a column equal to a name but for
// stray characters is mapped to it. ignored receives the texts of the
// columns left unmapped. format, when not empty, is named in the error of
// missing columns: a file read in another format than its own.
func mapHeader(rec []string, specs []colSpec, line int, lenient bool, ignored *[]string, format string) (header, error) {
	// The folded names, and the columns with one sorted by it (then by
	// column): a slice, not a map, so that a header of very many short
	// columns costs a few times its size.
	keys := make([]string, len(rec))
	byKey := make([]int32, 0, len(rec))
	for i, f := range rec {
		if keys[i] = normHeader(f); keys[i] != "" {
			byKey = append(byKey, int32(i))
		}
	}
	slices.SortFunc(byKey, func(a, b int32) int { return cmp.Or(strings.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	// The error names the first column that repeats an earlier one's name.
	dup, first := -1, -1
	for x := 1; x < len(byKey); x++ {
		i := int(byKey[x])
		if keys[i] == keys[byKey[x-1]] && (dup < 0 || i < dup) {
			dup, first = i, int(byKey[x-1])
		}
	}
	if dup >= 0 {
		f := strings.TrimSpace(rec[dup])
		return header{}, &ParseError{Line: line, Column: dup + 1, Field: f, Reason: reasonHeader,
			Err: fmt.Errorf("duplicate column %q (same as column %d)", f, first+1)}
	}
	seen := func(k string) (int, bool) {
		x, ok := slices.BinarySearchFunc(byKey, k, func(i int32, k string) int { return strings.Compare(keys[i], k) })
		if !ok {
			return 0, false
		}
		return int(byKey[x]), true
	}
	h := header{idx: make([]int, len(specs)), text: make([]string, len(specs)), n: len(rec)}
	var missing []string
	norms := make([][]string, len(specs)) // folded once: nearMiss reads them for every column
	for c, sp := range specs {
		h.idx[c] = -1
		norms[c] = make([]string, len(sp.names))
		for j, name := range sp.names {
			norms[c][j] = normHeader(name)
		}
		for j := range sp.names {
			if i, ok := seen(norms[c][j]); ok {
				h.idx[c] = i
				h.text[c] = strings.Clone(strings.TrimSpace(rec[i]))
				break
			}
		}
	}
	used := make([]bool, len(rec))
	for _, i := range h.idx {
		if i >= 0 {
			used[i] = true
		}
	}
	for i, f := range rec {
		k := keys[i]
		if used[i] || k == "" {
			continue
		}
		if name, loose := nearMiss(k, specs, norms, h.idx); name != "" {
			if !lenient {
				return header{}, &ParseError{Line: line, Column: i + 1, Field: strconv.Quote(f), Reason: reasonHeader,
					Err: fmt.Errorf("column %q matches no known column; did you mean %q? (rename it, or name it in Options.Columns)", f, name)}
			}
			if loose {
				for c, sp := range specs {
					if h.idx[c] < 0 && slices.Contains(sp.names, name) {
						h.idx[c], h.text[c] = i, strings.Clone(strings.TrimSpace(f))
					}
				}
				continue
			}
		}
		appendIgnored(ignored, f)
	}
	missing = missing[:0]
	for c, sp := range specs {
		if h.idx[c] < 0 && sp.required {
			alt := make([]string, len(sp.names))
			for i, n := range sp.names {
				alt[i] = strconv.Quote(n)
			}
			missing = append(missing, strings.Join(alt, " or "))
		}
	}
	if len(missing) > 0 {
		hint := "" // what the header holds instead, for a mapping
		if len(*ignored) > 0 {
			hint = fmt.Sprintf(" (the header's other columns: %s; rename one, or name it in Options.Columns)", strings.Join(*ignored, ", "))
		}
		of := ""
		if format != "" {
			of = fmt.Sprintf(" of format %q", format)
		}
		return header{}, &ParseError{Line: line, Reason: reasonHeader,
			Err: fmt.Errorf("missing required column %s%s%s", strings.Join(missing, ", "), of, hint)}
	}
	return h, nil
}

// field returns the trimmed value of column c, "" when it is not mapped.
func (h *header) field(rec []string, c int) string {
	if h.idx[c] < 0 {
		return ""
	}
	return strings.TrimSpace(rec[h.idx[c]])
}

// has reports whether column c is mapped.
func (h *header) has(c int) bool { return h.idx[c] >= 0 }

// fail returns the error for a bad value of column c in the last record
// of src; the error names the whole line when c is not mapped.
func (h *header) fail(src *csvSource, c int, reason string, err error) *ParseError {
	if !h.has(c) {
		return &ParseError{Line: src.line, Reason: reason, Err: err}
	}
	line := src.fieldLine(h.idx[c])
	return &ParseError{Line: line, Column: h.idx[c] + 1, Field: h.text[c], Reason: reason, Err: err}
}

// valueError is a value that does not parse; it prints as
// `invalid quantity "x"` and unwraps to the parser's error.
type valueError struct {
	what, text string
	err        error
}

func (e *valueError) Error() string { return "invalid " + e.what + " " + strconv.Quote(e.text) }

func (e *valueError) Unwrap() error { return e.err }

// csvKind selects the format rules applied to a purchase row.
type csvKind uint8

const (
	kindGeneric csvKind = iota
	kindOnlineRetail
	kindMembers
)

// loadPurchaseCSV loads a CSV file with a header whose columns are found
// by specs (indexed by the col constants).
func (l *loader) loadPurchaseCSV(r io.Reader, specs []colSpec, kind csvKind) error {
	return l.eachRecord(r, specs, func(src *csvSource, rec []string, h *header) error {
		return l.purchaseRow(src, rec, h, kind)
	})
}

// eachRecord reads a CSV file and calls row for every well-formed
// record; malformed ones go to l.reject. With specs, the first record is
// a header resolved by specs; without, every record is data and h is nil.
func (l *loader) eachRecord(r io.Reader, specs []colSpec, row func(src *csvSource, rec []string, h *header) error) error {
	if !l.dups.seeded {
		l.dups.setSeed(maphash.MakeSeed())
	}
	workers := l.opts.Workers
	switch {
	case workers == 0:
		workers = csvWorkers()
	case workers < 0:
		workers = 0
	}
	src := newCSVSource(r, l.opts.Comma, l.dups.seed, workers, specs != nil, l.lim.line)
	defer src.close()
	if specs == nil {
		src.setOneLine(basketLines)
	}
	var h *header
	for {
		rec, bad, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if specs != nil && h == nil {
			if bad != nil {
				bad.Reason = reasonHeader
				return bad
			}
			hm, err := mapHeader(rec, specs, src.line, l.opts.Lenient, &l.rep.Ignored, l.rep.Format)
			if err != nil {
				return err
			}
			h = &hm
			src.setOneLine(hm.oneLine(rec, specs))
			continue
		}
		if err := l.row(src.line); err != nil {
			return err
		}
		if bad != nil {
			err = l.reject(bad)
		} else {
			err = row(src, rec, h)
		}
		if err != nil {
			return err
		}
	}
	if h == nil && l.rep.Rows == 0 {
		return ErrEmpty
	}
	return nil
}

// purchaseRow parses one record into a purchase line and adds it.
func (l *loader) purchaseRow(src *csvSource, rec []string, h *header, kind csvKind) error {
	line := src.line
	if len(rec) != h.n {
		return l.reject(&ParseError{Line: line, Reason: reasonFieldCount,
			Err: fmt.Errorf("%d fields, the header has %d", len(rec), h.n)})
	}
	customer, order := h.field(rec, colCustomer), h.field(rec, colOrder)
	if kind == kindOnlineRetail && order != "" && (order[0] == 'A' || order[0] == 'a') {
		l.skip(reasonAdjustment, line) // whatever its other fields hold
		return nil
	}
	product := h.field(rec, colProduct)
	if product == "" {
		return l.reject(h.fail(src, colProduct, reasonProduct, errors.New("missing product id")))
	}
	cancel := false
	if kind == kindOnlineRetail {
		cancel = order != "" && (order[0] == 'C' || order[0] == 'c')
		customer = strings.TrimSuffix(customer, ".0")
		if customer == "0" {
			customer = ""
		}
	}
	ts := h.field(rec, colTime)
	t, ok := l.times.parse(ts)
	if !ok {
		return l.reject(h.fail(src, colTime, reasonTime, &valueError{what: "time", text: ts}))
	}
	if err := checkTime(t, ts); err != nil {
		return l.reject(h.fail(src, colTime, reasonTimeRange, err))
	}
	qty := int32(1)
	if h.has(colQuantity) {
		s := h.field(rec, colQuantity)
		q, ok := parseQuantity(s, l.opts.DecimalSep)
		switch {
		case !ok:
			return l.reject(h.fail(src, colQuantity, reasonQuantity, &valueError{what: "quantity", text: s}))
		case q == 0:
			return l.reject(h.fail(src, colQuantity, reasonZeroQty, errors.New("quantity 0")))
		}
		qty = q
	}
	if cancel && qty > 0 {
		qty = -qty
	}
	var price affinity.Money
	if h.has(colPrice) {
		m, bad := l.price(src, h, colPrice, h.field(rec, colPrice))
		if bad != nil {
			return l.reject(bad)
		}
		price = m
	}
	if _, ok := price.Mul(int64(qty)); !ok {
		return l.reject(h.fail(src, colPrice, reasonMoneyRange,
			fmt.Errorf("%d × %v: %w", qty, price, affinity.ErrMoneyRange)))
	}
	name, cats := h.field(rec, colName), h.field(rec, colCategory)
	switch kind {
	case kindOnlineRetail:
		if name == "Missing_Description" {
			name = ""
		}
	case kindMembers:
		name = product
	}
	product = l.prod.get(product)
	note, err := l.noteProduct(product, name, cats, price) // kept once the row loads
	if err != nil {
		c := colProduct
		switch {
		case cats != "":
			c = colCategory
		case h.has(colName):
			c = colName
		}
		return l.reject(h.fail(src, c, reasonCategory, err))
	}
	// after the catalog entry's check: a row it skips is no duplicate
	dup, drop := l.repeated(src.hash(), line, customer, order, ts)
	if drop {
		return nil
	}
	p := affinity.Purchase{
		Customer: l.cust.get(customer),
		Product:  product,
		Order:    l.order.get(order),
		Time:     t,
		Quantity: qty,
		Price:    price,
	}
	if err := l.add(p, line); err != nil {
		return l.reject(err) // skipped for this reason, not counted as a duplicate
	}
	if dup {
		l.countDuplicate(line, false)
	}
	l.keep(note)
	l.rep.Loaded++
	return nil
}

// pickSpec returns the spec of a column the caller may name: set
// explicitly it is required under that name, otherwise the defaults
// apply.
func pickSpec(set string, required bool, defaults ...string) colSpec {
	if set != "" {
		return colSpec{names: []string{set}, required: true}
	}
	return colSpec{names: defaults, required: required}
}

// price parses the unit price s of column c; bad is the row's error.
func (l *loader) price(src *csvSource, h *header, c int, s string) (m affinity.Money, bad *ParseError) {
	m, err := affinity.ParseMoney(s, l.opts.DecimalSep)
	switch {
	case err != nil:
		return 0, h.fail(src, c, reasonPrice, &valueError{what: "price", text: s, err: err})
	case m < 0:
		return 0, h.fail(src, c, reasonNegPrice, fmt.Errorf("negative price %s", s))
	}
	return m, nil
}

// genericSpecs maps Columns to column specs: set fields are required
// under their own name, unset ones fall back to the default names.
func genericSpecs(c Columns) []colSpec {
	spec := pickSpec
	s := make([]colSpec, numCols)
	s[colCustomer] = spec(c.Customer, false, "customer", "customer id", "client")
	s[colProduct] = spec(c.Product, true, "product", "product id", "sku", "item")
	s[colOrder] = spec(c.Order, false, "order", "order id", "invoice")
	s[colTime] = spec(c.Time, true, "time", "date", "timestamp", "order date")
	s[colQuantity] = spec(c.Quantity, false, "quantity", "qty")
	s[colPrice] = spec(c.Price, false, "price", "unit price")
	s[colCategory] = spec(c.Category, false, "category", "categories")
	s[colName] = spec(c.Name, false, "name", "product name", "description")
	s[colCategory].text, s[colName].text = true, true
	return s
}

var defaultCSVLayouts = []string{"2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

func loadGenericCSV(l *loader, r io.Reader) error {
	l.times.setDefault(defaultCSVLayouts)
	return l.loadPurchaseCSV(r, genericSpecs(l.opts.Columns), kindGeneric)
}
