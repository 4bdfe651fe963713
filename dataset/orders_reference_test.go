package dataset_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// refLoad is what a naive reading of an order export says a load gives:
// the purchase lines (as refLine texts), the Report's counts and the
// catalog names by product key.
type refLoad struct {
	lines              []string
	rows, loaded, dups int
	skipped            []dataset.Skip
	names              map[string]string
	cats               map[string]string // category paths by product, joined by "|"; nil: not checked
	// orders holds the orders loaded by key, groups the order key of
	// each run of rows, for split orders
	orders map[string]*refOrder
	groups []string
	// noOrderKeys: the format has no order ids, the lines' are not compared
	noOrderKeys bool
	// errLine, errCol and errReason locate the first bad row, the error
	// of a strict load; errLine is 0 when there is none
	errLine, errCol int
	errReason       string
}

// fail notes a bad row: the strict load's error if it is the first.
func (r *refLoad) fail(line, col int, reason string) {
	r.skip(reason, line)
	if r.errLine == 0 {
		r.errLine, r.errCol, r.errReason = line, col, reason
	}
}

func refLine(customer, order, product string, t time.Time, q int32, price affinity.Money) string {
	return fmt.Sprintf("%s|%s|%s|%d|%d|%d", customer, order, product, t.Unix(), q, price)
}

func (r *refLoad) skip(reason string, line int) {
	i := slices.IndexFunc(r.skipped, func(s dataset.Skip) bool { return s.Reason == reason })
	if i < 0 {
		r.skipped = append(r.skipped, dataset.Skip{Reason: reason, Count: 1, FirstLine: line})
	} else {
		r.skipped[i].Count++
		r.skipped[i].FirstLine = min(r.skipped[i].FirstLine, line)
	}
	// the Report lists the reasons in FirstLine order
	slices.SortStableFunc(r.skipped, func(a, b dataset.Skip) int { return a.FirstLine - b.FirstLine })
}

// refExact is the naive split of n units (negative for a return) worth
// |total| into lines of whole Money: one line when it divides, else
// |n|−1 units at the truncated price and one carrying the rest.
func refExact(n int64, total int64) [][2]int64 {
	if total < 0 {
		total = -total
	}
	k := n
	if k < 0 {
		k = -k
	}
	unit := total / k
	if unit*k == total {
		return [][2]int64{{n, unit}}
	}
	s := int64(1)
	if n < 0 {
		s = -1
	}
	return [][2]int64{{s * (k - 1), unit}, {s, total - unit*(k-1)}}
}

// csvQuote writes a field, quoted at random or when it must be.
func csvQuote(rng *rand.Rand, s string) string {
	if strings.ContainsAny(s, ",\"\r\n") || rng.IntN(5) == 0 {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// moneyText writes m (in Money units, a whole number of cents) in one of
// the ways exports write amounts.
func moneyText(rng *rand.Rand, m int64) string {
	neg := ""
	if m < 0 {
		neg, m = "-", -m
	}
	units, cents := m/affinity.MoneyScale, m%affinity.MoneyScale/100
	switch {
	case cents == 0 && rng.IntN(2) == 0:
		return neg + strconv.FormatInt(units, 10)
	case cents%10 == 0 && rng.IntN(2) == 0:
		return fmt.Sprintf("%s%d.%d", neg, units, cents/10)
	}
	return fmt.Sprintf("%s%d.%02d", neg, units, cents)
}

// exportWriter assembles an export's text with a BOM or not, LF or CRLF
// and stray blank lines, counting its lines.
type exportWriter struct {
	b    strings.Builder
	eol  string
	line int
	rng  *rand.Rand
}

func newExportWriter(rng *rand.Rand) *exportWriter {
	w := &exportWriter{eol: "\n", rng: rng}
	if rng.IntN(2) == 0 {
		w.eol = "\r\n"
	}
	if rng.IntN(2) == 0 {
		w.b.WriteString("\ufeff")
	}
	return w
}

// row writes one record and returns its line (its first, as a quoted
// field may hold a line break).
func (w *exportWriter) row(fields []string) int {
	if w.line > 0 && w.rng.IntN(10) == 0 {
		w.b.WriteString(w.eol) // a blank line
		w.line++
	}
	w.line++
	first := w.line
	rec := strings.Join(fields, ",")
	w.line += strings.Count(rec, "\n")
	w.b.WriteString(rec)
	w.b.WriteString(w.eol)
	return first
}

// refFault is a bad field a generated row may get: set maps 1-based
// columns to their new text ("{}" stands for the old one), col is the
// column the error names.
type refFault struct {
	reason string
	col    int
	set    map[int]string
}

// spoil gives fields one of faults in about one of bad1in rows and
// returns its reason and column; reason is "" when the row stays good.
func spoil(rng *rand.Rand, fields []string, bad1in int, faults []refFault) (reason string, col int) {
	i := rng.IntN(bad1in)
	if i >= len(faults) {
		return "", 0
	}
	f := faults[i]
	for c, text := range f.set {
		fields[c-1] = strings.ReplaceAll(text, "{}", fields[c-1])
	}
	return f.reason, f.col
}

// plainRow notes a row of a format without orders, written at line:
// fields are its nf fields followed by anything the generator keeps, and
// seen the loaded rows of its order before it, for duplicates. A bad row
// (bad names the reason, badCol its column) is skipped; plainRow reports
// whether the row loads.
func (r *refLoad) plainRow(line int, fields []string, nf int, bad string, badCol int, seen *[][]string) bool {
	r.rows++
	if bad != "" {
		// the line of the bad field, after the line breaks of the fields
		// before it
		r.fail(line+strings.Count(strings.Join(fields[:badCol-1], ","), "\n"), badCol, bad)
		return false
	}
	if slices.ContainsFunc(*seen, func(s []string) bool { return slices.Equal(s[:nf], fields[:nf]) }) {
		r.dups++
	}
	*seen = append(*seen, fields)
	r.loaded++
	return true
}

// orderKey returns the key of the next run of rows: now and then, the
// key of an earlier order, not the one just before (split is then true),
// else key.
func (r *refLoad) orderKey(rng *rand.Rand, key string) (k string, split bool) {
	if g := len(r.groups); g > 1 && rng.IntN(15) == 0 {
		if k := r.groups[rng.IntN(g-1)]; k != r.groups[g-1] {
			key, split = k, true
		}
	}
	r.groups = append(r.groups, key)
	return key, split
}

// miscount gives about one of bad1in records one field too few or too
// many and returns it, with "wrong field count" when it did.
func miscount(rng *rand.Rand, rec []string, bad1in int) ([]string, string) {
	switch rng.IntN(2 * bad1in) {
	case 0:
		return rec[:len(rec)-1], "wrong field count"
	case 1:
		return append(rec[:len(rec):len(rec)], "extra"), "wrong field count"
	}
	return rec, ""
}

// refOrder follows the rows of one order of a generated export.
type refOrder struct {
	ref                 *refLoad
	key                 string
	split               bool  // the key of an order read before other orders
	splitRows           int   // its rows of the right field count
	del                 bool  // cancelled: its rows are skipped
	rows                []int // the lines of its rows
	cancelled           []int // the lines of its rows of a cancelled order
	lines               []string
	names               [][2]string // product key and name of its good rows
	dups, good, firstOK int
	incomplete          bool // a bad row: the others are skipped too
}

// row notes a row written at line: fields are its nf fields followed
// by its purchase lines; bad, when not empty, is why it is skipped, at
// column badCol (0 for a wrong field count, see miscount).
func (o *refOrder) row(line int, fields []string, nf int, bad string, badCol int, dup bool, name [2]string) {
	o.rows = append(o.rows, line)
	switch {
	case bad != "" && badCol == 0:
		// a wrong field count, read before anything else: it may be the
		// order's, so the order is not put (its id is the first field,
		// and the field shifted there names no order read before)
		o.ref.fail(line, 0, bad)
		o.incomplete = true
	case o.split:
		o.ref.fail(line, 0, "split order")
		o.splitRows++
	case o.del:
		o.cancelled = append(o.cancelled, line)
	case bad != "":
		o.ref.fail(line+strings.Count(strings.Join(fields[:badCol-1], ","), "\n"), badCol, bad)
		o.incomplete = true
	default:
		if o.good == 0 {
			o.firstOK = line
		}
		o.good++
		if dup {
			o.dups++
		}
		o.lines = append(o.lines, fields[nf:]...)
		o.names = append(o.names, name)
	}
}

// end counts the order's rows skipped or loaded and reports whether it
// loads, for the caller to add its last lines before commit.
func (o *refOrder) end() bool {
	o.ref.rows += len(o.rows)
	switch {
	case o.split:
		// the order read before is taken back, its rows now incomplete,
		// at its key's first row of another field count
		if t := o.ref.orders[o.key]; t != nil && o.splitRows > 0 {
			o.ref.lines = slices.DeleteFunc(o.ref.lines, func(l string) bool { return strings.Split(l, "|")[1] == o.key })
			o.ref.loaded -= len(t.rows)
			o.ref.dups -= t.dups
			for range t.rows {
				o.ref.skip("incomplete order", t.rows[0])
			}
			delete(o.ref.orders, o.key)
		}
		return false
	case o.del:
		for _, l := range o.cancelled {
			o.ref.skip("cancelled order", l)
		}
		return false
	case o.incomplete:
		for range o.good {
			o.ref.skip("incomplete order", o.firstOK)
		}
		return false
	}
	return true
}

// commit adds the lines of an order that loads.
func (o *refOrder) commit() {
	if o.ref.orders == nil {
		o.ref.orders = map[string]*refOrder{}
	}
	o.ref.orders[o.key] = o
	o.ref.dups += o.dups
	o.ref.loaded += len(o.rows)
	for _, nm := range o.names {
		if _, ok := o.ref.names[nm[0]]; !ok {
			o.ref.names[nm[0]] = nm[1]
		}
	}
	o.ref.lines = append(o.ref.lines, o.lines...)
}

// wooFaults are the bad fields of wooExport's rows.
var wooFaults = []refFault{
	{"invalid quantity", 10, map[int]string{10: "x"}},
	{"zero quantity", 10, map[int]string{10: "0"}},
	{"invalid price", 11, map[int]string{11: "1.2.3"}},
	{"negative price", 11, map[int]string{11: "-{}"}},
	{"invalid refund", 12, map[int]string{12: "ten"}},
}

// wooExport generates a random WooCommerce export of n orders and what
// a naive reading of it loads.
func wooExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	ref := refLoad{names: map[string]string{}}
	w := newExportWriter(rng)
	w.row([]string{"order_id", "order_date", "status", "customer_id", "billing_email", "item_id", "item_product_id", "item_name", "item_sku", "item_quantity", "item_total", "item_refunded", "item_refunded_qty", "order_notes"})
	const nf = 14 // the fields of a row
	statuses := []string{"completed", "wc-completed", "processing", "on-hold", "Completed", "cancelled", "wc-refunded", "failed", "pending", "trash"}
	item := 0
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for o := range n {
		key := strconv.Itoa(1000 + o)
		t := base.Add(time.Duration(rng.IntN(500*24*3600)) * time.Second)
		date := t.Format("2006-01-02 15:04:05")
		switch rng.IntN(4) {
		case 0:
			date = t.Format(time.RFC3339)
		case 1:
			t = t.Truncate(time.Minute)
			date = t.Format("2006-01-02 15:04")
		case 2:
			date = t.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)
		}
		status := statuses[rng.IntN(len(statuses))]
		cust, email := strconv.Itoa(rng.IntN(30)+1), fmt.Sprintf("Guest%d@Example.com", rng.IntN(10))
		switch rng.IntN(4) {
		case 0:
			cust = "0"
		case 1:
			cust = ""
		}
		if rng.IntN(6) == 0 {
			email = ""
		}
		customer := cust
		if cust == "" || cust == "0" {
			customer = strings.ToLower(email)
		}
		o := refOrder{ref: &ref}
		key, o.split = ref.orderKey(rng, key)
		o.key = key
		switch strings.TrimPrefix(strings.ToLower(status), "wc-") {
		case "cancelled", "refunded", "failed", "pending", "trash":
			o.del = true
		}
		var prev []string
		var prevName [2]string
		for range 1 + rng.IntN(4) {
			if prev != nil && rng.IntN(8) == 0 {
				o.row(w.row(prev[:nf]), prev, nf, "", 0, true, prevName) // an exact duplicate row
				continue
			}
			item++
			pid := rng.IntN(40)
			sku, prodID, name := fmt.Sprintf("SKU-%d", pid), strconv.Itoa(300+pid), fmt.Sprintf("Item %d", pid)
			if pid%3 == 0 {
				name = fmt.Sprintf("Item, \"%d\"", pid)
			}
			if pid%7 == 0 {
				name = fmt.Sprintf("Item\n%d", pid) // a line break in free text
			}
			switch rng.IntN(5) {
			case 0:
				sku = ""
			case 1:
				sku, prodID = "", ""
			}
			product := cmpOr(sku, prodID, name)
			q := int64(1 + rng.IntN(5))
			qText := strconv.FormatInt(q, 10)
			if rng.IntN(5) == 0 {
				qText += ".0"
			}
			total := int64(rng.IntN(10000)) * 100
			var refunded, rq int64
			refText, rqText := "", ""
			switch rng.IntN(5) {
			case 0:
				refunded = int64(rng.IntN(12000)) * 100
				refText = moneyText(rng, -refunded)
				rq = int64(1 + rng.IntN(6))
				rqText = strconv.FormatInt(-rq, 10)
			case 1:
				refunded = int64(rng.IntN(12000)) * 100
				refText = moneyText(rng, refunded)
			case 2:
				rq = int64(1 + rng.IntN(3))
				rqText = strconv.FormatInt(rq, 10)
			}
			fields := []string{key, date, status, cust, email, strconv.Itoa(item), prodID, csvQuote(rng, name), csvQuote(rng, sku), qText, moneyText(rng, total), refText, rqText,
				csvQuote(rng, strings.Repeat("n", pad)+"\nnote, "+strconv.Itoa(item))}
			for j := range fields[:7] {
				if rng.IntN(10) == 0 {
					fields[j] = `"` + fields[j] + `"`
				}
			}
			for _, l := range refExact(q, total) {
				fields = append(fields, refLine(customer, key, product, t, int32(l[0]), affinity.Money(l[1])))
			}
			refunded = min(refunded, total)
			switch {
			case rq != 0:
				for _, l := range refExact(-min(rq, q), refunded) {
					fields = append(fields, refLine(customer, key, product, t, int32(l[0]), affinity.Money(l[1])))
				}
			case refunded > 0:
				fields = append(fields, refLine(customer, key, product, t, -1, affinity.Money(refunded)))
			}
			bad, badCol := spoil(rng, fields, bad1in, wooFaults)
			rec := fields[:nf]
			if bad == "" {
				rec, bad = miscount(rng, rec, bad1in)
			}
			o.row(w.row(rec), fields, nf, bad, badCol, false, [2]string{product, name})
			if bad == "" {
				prev, prevName = fields, [2]string{product, name}
			}
		}
		if o.end() {
			o.commit()
		}
	}
	return w.b.String(), ref
}

func cmpOr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// checkRefLoad loads data in format with several worker counts, strict
// and lenient, and compares each load with ref.
func checkRefLoad(t *testing.T, format, data string, ref refLoad) {
	t.Helper()
	for _, lenient := range []bool{false, true} {
		for _, workers := range []int{-1, 1, 3} {
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: format, Lenient: lenient, Workers: workers})
			if !lenient && ref.errLine != 0 {
				var pe *dataset.ParseError
				require.ErrorAs(t, err, &pe, "workers %d", workers)
				assert.Equal(t, [3]any{ref.errLine, ref.errCol, ref.errReason}, [3]any{pe.Line, pe.Column, pe.Reason}, "workers %d: %v", workers, err)
				continue
			}
			require.NoError(t, err, "lenient %v, workers %d", lenient, workers)
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			var got []string
			for p := range h.Purchases() {
				if ref.noOrderKeys {
					p.Order = ""
				}
				got = append(got, refLine(p.Customer, p.Order, p.Product, p.Time, p.Quantity, p.Price))
			}
			want := slices.Clone(ref.lines)
			slices.Sort(got)
			slices.Sort(want)
			require.Equal(t, want, got, "lenient %v, workers %d", lenient, workers)
			assert.Equal(t, ref.rows, rep.Rows)
			assert.Equal(t, ref.loaded, rep.Loaded)
			assert.Equal(t, len(ref.lines), rep.Purchases)
			anon, returns := 0, 0
			for _, l := range ref.lines {
				f := strings.Split(l, "|")
				if f[0] == "" {
					anon++
				}
				if strings.HasPrefix(f[4], "-") {
					returns++
				}
			}
			assert.Equal(t, anon, rep.Anonymous)
			assert.Equal(t, returns, rep.Returns)
			assert.Equal(t, ref.skipped, rep.Skipped)
			assert.Equal(t, ref.dups, rep.Duplicates)
			for key, cats := range ref.cats {
				p, ok := h.Catalog().LookupProduct(key)
				if assert.True(t, ok, key) {
					var paths []string
					for _, c := range h.Catalog().Categories(p) {
						paths = append(paths, h.Catalog().CategoryPath(c))
					}
					assert.Equal(t, cats, strings.Join(paths, "|"), key)
				}
			}
			for key, name := range ref.names {
				p, ok := h.Catalog().LookupProduct(key)
				if assert.True(t, ok, key) {
					assert.Equal(t, name, h.Catalog().ProductName(p), key)
				}
			}
		}
	}
}

// checkRandomExports checks loads of exports of format that gen
// generates against their naive reading: small ones, and one longer than
// a block, so that the parsing goroutines share it.
func checkRandomExports(t *testing.T, format string, seed uint64, gen func(rng *rand.Rand, n, pad, bad1in int) (string, refLoad)) {
	rng := rand.New(rand.NewPCG(86, seed))
	for i := range 20 {
		data, ref := gen(rng, 1+rng.IntN(30), 0, 40)
		t.Run(strconv.Itoa(i), func(t *testing.T) { checkRefLoad(t, format, data, ref) })
	}
	data, ref := gen(rng, testdata.Scale(4000, 1200), 200, 200)
	require.Greater(t, len(data), 512<<10)
	t.Run("blocks", func(t *testing.T) { checkRefLoad(t, format, data, ref) })
}

// TestWooCommerceReference compares loads of random WooCommerce exports
// with a naive reading of them.
func TestWooCommerceReference(t *testing.T) {
	checkRandomExports(t, "woocommerce", 1, wooExport)
}
