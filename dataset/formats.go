package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
)

// CDNOWProduct is the product id of every CDNOW purchase line: the files
// record how many CDs a customer bought, not which.
const CDNOWProduct = "cd"

// defaultBasketTime is the time of every basket of the "baskets" format
// when Options.BasketTime is zero.
var defaultBasketTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var retailLayouts = []string{"2006-01-02 15:04:05", "1/2/2006 15:04", "1/2/2006 15:04:05", "2006-01-02 15:04"}

// retailSpecs are the columns of the "onlineretail" format.
var retailSpecs = func() []colSpec {
	specs := make([]colSpec, numCols)
	specs[colOrder] = colSpec{names: []string{"InvoiceNo", "Invoice"}, required: true}
	specs[colProduct] = colSpec{names: []string{"StockCode"}, required: true}
	specs[colName] = colSpec{names: []string{"Description"}, required: true, text: true}
	specs[colQuantity] = colSpec{names: []string{"Quantity"}, required: true}
	specs[colTime] = colSpec{names: []string{"InvoiceDate"}, required: true}
	specs[colPrice] = colSpec{names: []string{"UnitPrice", "Price"}, required: true}
	specs[colCustomer] = colSpec{names: []string{"CustomerID"}, required: true} // also matches "Customer ID"
	return specs
}()

func loadOnlineRetail(l *loader, r io.Reader) error {
	l.times.setDefault(retailLayouts)
	return l.loadPurchaseCSV(r, retailSpecs, kindOnlineRetail)
}

// membersSpecs are the columns of the "members" format.
var membersSpecs = func() []colSpec {
	specs := make([]colSpec, numCols)
	specs[colCustomer] = colSpec{names: []string{"Member_number"}, required: true}
	specs[colTime] = colSpec{names: []string{"Date"}, required: true}
	specs[colProduct] = colSpec{names: []string{"itemDescription"}, required: true, text: true}
	return specs
}()

func loadMembers(l *loader, r io.Reader) error {
	l.times.setDefault([]string{"2-1-2006"})
	return l.loadPurchaseCSV(r, membersSpecs, kindMembers)
}

func loadBaskets(l *loader, r io.Reader) error {
	t := l.opts.BasketTime
	if t.IsZero() {
		t = defaultBasketTime
	}
	if err := checkTime(t, "Options.BasketTime"); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	// The baskets' order keys start with the number of lines the Builder
	// holds, so that those of two loads into one Builder differ.
	prefix := strconv.AppendInt([]byte(basketKeyPrefix), int64(l.b.Len()), 10)
	prefix = append(prefix, ':')
	return l.eachRecord(r, nil, func(src *csvSource, rec []string, _ *header) error {
		return l.basket(rec, src.line, t, prefix)
	})
}

// basketKeyPrefix starts the order keys of the "baskets" format.
const basketKeyPrefix = "basket:"

// basket adds the items of one basket as an anonymous order keyed prefix
// followed by line.
func (l *loader) basket(items []string, line int, t time.Time, prefix []byte) error {
	n := 0
	for _, it := range items {
		if strings.TrimSpace(it) != "" {
			n++
		}
	}
	if n == 0 {
		return l.reject(&ParseError{Line: line, Reason: reasonEmptyBask, Err: errors.New("basket without items")})
	}
	if n > l.lim.baskets {
		return l.reject(&ParseError{Line: line, Reason: reasonBasket,
			Err: &limitError{name: "MaxBasket", value: int64(l.lim.baskets), what: fmt.Sprintf("basket of %d items", n)}})
	}
	// The catalog entries and lines are checked first: a refused one
	// rejects the basket whole, with nothing of it added.
	notes := l.notes[:0]
	lines := l.basketLines[:0]
	order := string(strconv.AppendInt(prefix, int64(line), 10))
	for i, it := range items {
		if it = strings.TrimSpace(it); it == "" {
			continue
		}
		n, err := l.noteProduct(l.prod.get(it), it, "", 0)
		if err != nil {
			return l.reject(&ParseError{Line: line, Column: i + 1, Field: "item", Reason: reasonCategory, Err: err})
		}
		notes = append(notes, n)
		lines = append(lines, affinity.Purchase{Product: l.prod.get(it), Order: order, Time: t, Quantity: 1})
	}
	l.notes, l.basketLines = notes, lines
	if e := l.check(line, lines...); e != nil {
		return l.reject(e)
	}
	for _, p := range lines {
		if err := l.add(p, line); err != nil {
			return err // cannot happen: checked
		}
	}
	for _, n := range notes {
		l.keep(n)
	}
	l.rep.Loaded++
	return nil
}

// lineSource reads non-blank lines without their line break.
type lineSource struct {
	br   *bufio.Reader
	line int
}

func newLineSource(r io.Reader) *lineSource {
	return &lineSource{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next non-blank line; err is io.EOF at the end.
func (s *lineSource) next() (string, error) {
	for {
		text, err := s.br.ReadString('\n')
		if err != nil && (err != io.EOF || text == "") {
			return "", err
		}
		s.line++
		text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
		if strings.TrimSpace(text) != "" {
			return text, nil
		}
	}
}

// eachLine calls fn with every non-blank line of r and its 1-based
// number; it returns ErrEmpty when there is none.
func eachLine(r io.Reader, fn func(text string, line int) error) error {
	src := newLineSource(r)
	found := false
	for {
		text, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		found = true
		if err := fn(text, src.line); err != nil {
			return err
		}
	}
	if !found {
		return ErrEmpty
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// splitFields appends the white-space separated fields of s to dst.
func splitFields(dst []string, s string) []string {
	for i := 0; i < len(s); {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		if j > i {
			dst = append(dst, s[i:j])
		}
		i = j
	}
	return dst
}

// fieldError is the error for a bad field of a line format.
func fieldError(line, col int, field, reason string, err error) *ParseError {
	return &ParseError{Line: line, Column: col, Field: field, Reason: reason, Err: err}
}

func loadCDNOW(l *loader, r io.Reader) error {
	l.times.setDefault([]string{"20060102"})
	// width is 4 (master) or 5 (sample), from the first row that loads:
	// a bad row of the other width before it (a title, a header) is
	// read at its own width, and costs its line alone
	width := 0
	var f []string
	return eachLine(r, func(text string, line int) error {
		if err := l.row(line); err != nil {
			return err
		}
		f = splitFields(f[:0], text)
		w := width
		if w == 0 && (len(f) == 4 || len(f) == 5) {
			w = len(f)
		}
		if len(f) != w {
			want := "4 (customer date cds dollars) or 5 (master_id sample_id date cds dollars)"
			if width != 0 {
				want = strconv.Itoa(width)
			}
			return l.reject(&ParseError{Line: line, Reason: reasonFieldCount, Err: fmt.Errorf("%d fields, want %s", len(f), want)})
		}
		loaded := l.rep.Loaded
		if err := l.cdnowRow(f[0], f[w-3:], line, w-4); err != nil {
			return err
		}
		if l.rep.Loaded > loaded {
			width = w
		}
		return nil
	})
}

// cdnowRow adds one CDNOW line: f holds date, cds and dollars, which are
// fields off+2 … off+4 of the line.
func (l *loader) cdnowRow(customer string, f []string, line, off int) error {
	t, ok := l.times.parse(f[0])
	if !ok {
		return l.reject(fieldError(line, off+2, "date", reasonTime, &valueError{what: "date", text: f[0]}))
	}
	if err := checkTime(t, f[0]); err != nil {
		return l.reject(fieldError(line, off+2, "date", reasonTimeRange, err))
	}
	q, ok := parseQuantity(f[1], l.opts.DecimalSep)
	switch {
	case !ok:
		return l.reject(fieldError(line, off+3, "cds", reasonQuantity, &valueError{what: "quantity", text: f[1]}))
	case q == 0:
		return l.reject(fieldError(line, off+3, "cds", reasonZeroQty, errors.New("quantity 0")))
	}
	amount, err := affinity.ParseMoney(f[2], l.opts.DecimalSep)
	switch {
	case err != nil:
		return l.reject(fieldError(line, off+4, "dollars", reasonPrice, &valueError{what: "amount", text: f[2], err: err}))
	case amount < 0:
		return l.reject(fieldError(line, off+4, "dollars", reasonNegPrice, fmt.Errorf("negative amount %s", f[2])))
	}
	dup, drop := l.repeated(l.dups.hash(f), line, customer, f[0])
	if drop {
		return nil
	}
	n := absQuantity(q) // int64: q may be math.MinInt32
	unit := amount / affinity.Money(n)
	rem := amount - unit*affinity.Money(n)
	p := affinity.Purchase{Customer: l.cust.get(customer), Product: CDNOWProduct, Time: t, Quantity: q, Price: unit}
	ps := [2]affinity.Purchase{p}
	lines := ps[:1]
	if rem != 0 {
		// n > 1 here: split so that quantity and amount both stay exact.
		sign := int64(1)
		if q < 0 {
			sign = -1
		}
		ps[0].Quantity = int32(sign * (n - 1))
		p.Quantity, p.Price = int32(sign), unit+rem
		ps[1], lines = p, ps[:2]
	}
	if e := l.check(line, lines...); e != nil {
		return l.reject(e) // the row whole, not one of its lines
	}
	for _, p := range lines {
		if err := l.add(p, line); err != nil {
			return l.reject(err) // cannot happen: checked
		}
	}
	if dup {
		l.countDuplicate(line, false)
	}
	l.rep.Loaded++
	return nil
}

// splitRating splits a MovieLens line at "::", commas or white space.
func splitRating(dst []string, s string) []string {
	sep := ""
	switch {
	case strings.Contains(s, "::"):
		sep = "::"
	case strings.IndexByte(s, ',') >= 0:
		sep = ","
	default:
		return splitFields(dst, s)
	}
	for f := range strings.SplitSeq(s, sep) {
		dst = append(dst, strings.TrimSpace(f))
	}
	return dst
}

func loadMovieLens(l *loader, r io.Reader) error {
	var f []string
	first := true
	return eachLine(r, func(text string, line int) error {
		f = splitRating(f[:0], text)
		if first {
			first = false
			if h := normHeader(f[0]); h == "userid" || h == "user" {
				return nil // the header of ratings.csv
			}
		}
		if err := l.row(line); err != nil {
			return err
		}
		return l.ratingRow(f, line)
	})
}

// ratingRow adds one MovieLens rating: user, item, rating, Unix time.
func (l *loader) ratingRow(f []string, line int) error {
	if len(f) != 4 {
		return l.reject(&ParseError{Line: line, Reason: reasonFieldCount,
			Err: fmt.Errorf("%d fields, want 4 (user item rating timestamp)", len(f))})
	}
	if f[0] == "" {
		return l.reject(fieldError(line, 1, "user", reasonCustomer, errors.New("missing user id")))
	}
	if f[1] == "" {
		return l.reject(fieldError(line, 2, "item", reasonProduct, errors.New("missing item id")))
	}
	rating, err := strconv.ParseFloat(f[2], 32)
	if err != nil || math.IsNaN(rating) || math.IsInf(rating, 0) {
		return l.reject(fieldError(line, 3, "rating", reasonRating, &valueError{what: "rating", text: f[2], err: err}))
	}
	t, ok := parseTime("unix", f[3], time.UTC)
	if !ok {
		t, ok = farUnix(f[3])
	}
	if !ok {
		return l.reject(fieldError(line, 4, "timestamp", reasonTime, &valueError{what: "timestamp", text: f[3]}))
	}
	if err := checkTime(t, f[3]); err != nil {
		return l.reject(fieldError(line, 4, "timestamp", reasonTimeRange, err))
	}
	dup, drop := l.repeated(l.dups.hash(f), line, f[0])
	if drop {
		return nil
	}
	user, item := l.cust.get(f[0]), l.prod.get(f[1])
	if l.opts.MovieLensAsPurchases {
		if err := l.add(affinity.Purchase{Customer: user, Product: item, Time: t, Quantity: 1}, line); err != nil {
			return l.reject(err)
		}
	} else {
		e := affinity.Event{Customer: user, Product: item, Time: t, Kind: affinity.Rating, Weight: float32(rating)}
		if err := l.b.AddEvent(e); err != nil {
			return l.reject(&ParseError{Line: line, Reason: reasonRecord, Err: err})
		}
		l.rep.Events++
	}
	if dup {
		l.countDuplicate(line, false)
	}
	l.rep.Loaded++
	return nil
}
