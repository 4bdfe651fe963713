package segment

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/timetext"
	"github.com/shopaffinity/affinity/segment/query"
)

// AttributeOptions says how [LoadAttributes] reads a file of customer
// attributes. Columns not named here are ignored.
type AttributeOptions struct {
	// Customer is the header of the customer key column; "" means
	// "customer".
	Customer string
	// Flags are the headers of boolean columns: 1, 0, true, false, yes,
	// no, y, n, t, f (any case); empty means no value.
	Flags []string
	// Dates are the headers of date columns in DateLayout; empty means no
	// value.
	Dates []string
	// Texts are the headers of text columns (e-mail, country), each
	// without "=": each non-empty value is kept, and queries read it as
	// the flag "header=value" (see [Attributes]). A value must fit
	// [MaxAttributeValue] bytes without NUL or newline (see
	// [Attributes.SetText]); one that does not is an error.
	Texts []string
	// Lenient makes LoadAttributes skip bad rows — malformed CSV, a row
	// with the wrong number of fields, a value that does not parse —
	// counting them by reason in [AttributeReport.Skipped], instead of
	// stopping at the first one with an error. Header errors, read
	// errors, a record beyond [MaxAttributeRecord] and more than
	// [MaxAttributeRows] rows stop the load in both modes.
	Lenient bool
	// DateLayout is the layout of dates (time.Parse); "" means
	// "2006-01-02". A date with a time and a UTC offset counts on its UTC
	// day; a date without an offset is read in UTC, and a zone
	// abbreviation (MST) other than UTC at offset 0, whatever the
	// machine's local zone.
	DateLayout string
}

// AttributeReport says what [LoadAttributes] read. After a successful
// load every data row read is loaded, a row of an unknown customer or
// skipped: Rows = Loaded + UnknownCustomers + [AttributeReport.SkippedRows].
type AttributeReport struct {
	// Rows counts the data rows (a malformed record counts as one row,
	// whatever lines it spans); Loaded those of a known customer.
	Rows, Loaded int
	// UnknownCustomers counts rows whose customer the index does not know
	// ([Index.Len]: customers without any order or event at or before its
	// as-of time, such as one whose first order came after it), which are
	// skipped.
	UnknownCustomers int
	// Skipped lists the rows [AttributeOptions.Lenient] skipped, by
	// reason, in the order in which each reason first occurred (FirstLine
	// order); empty in strict mode.
	Skipped []AttributeSkip `json:"skipped_by,omitempty"`
}

// SkippedRows returns the number of skipped rows (all reasons).
func (r AttributeReport) SkippedRows() int {
	n := 0
	for _, s := range r.Skipped {
		n += s.Count
	}
	return n
}

// AttributeSkip counts the rows a lenient [LoadAttributes] skipped for
// one reason, as the dataset loaders' Skip does.
type AttributeSkip struct {
	// Reason is one of "malformed csv" (bad quoting), "wrong field
	// count", "invalid flag", "invalid date" and "invalid text" (a value
	// beyond [MaxAttributeValue] or with a NUL or newline): the error the
	// row raises in strict mode.
	Reason string `json:"reason"`
	// Count is the number of rows skipped for Reason.
	Count int `json:"count"`
	// FirstLine is the 1-based line where the first of them starts.
	FirstLine int `json:"first_line"`
}

// Reasons of skipped rows (see [AttributeSkip.Reason]).
const (
	reasonMalformed  = "malformed csv"
	reasonFieldCount = "wrong field count"
	reasonFlag       = "invalid flag"
	reasonDate       = "invalid date"
	reasonText       = "invalid text"
)

// MaxAttributeRows bounds the rows LoadAttributes reads.
const MaxAttributeRows = 50_000_000

// MaxAttributeRecord bounds the bytes of one record LoadAttributes reads,
// the header included: its fields, separators, quotes and line breaks (a
// quoted field may span lines), 1 MiB. A longer record, such as one
// whose quote never closes, is an error, not unbounded memory.
const MaxAttributeRecord = 1 << 20

// errRecordTooLong stops the CSV reader at MaxAttributeRecord.
var errRecordTooLong = errors.New("record too long")

// recordCap delivers the bytes of r up to limit, then errRecordTooLong.
type recordCap struct {
	r        io.Reader
	n, limit int64 // bytes delivered; the most to deliver
}

func (c *recordCap) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errRecordTooLong
	}
	if int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// LoadAttributes reads a CSV file with a header row — one row per
// customer, such as
//
//	customer,email,optin,birthday,signup,country
//	c42,ann@example.com,yes,1990-06-02,2024-03-01,DE
//
// — into Attributes keyed by the customer ids of x (see
// [Index.LookupCustomer]), which remember x's customer keys: attached to
// an index of another History they are matched by key (see
// [Index.WithAttributes]). Headers match the names in opts whatever
// their case and the spaces around them. A header named in opts that is
// missing or that two columns match, or a value that does not parse, is
// an error with its line (where the value starts) and column (the
// field's 1-based position, with its header name, as the dataset loaders
// give it), quoting at most the first 60 characters of a value.
// Malformed CSV (a stray quote) and a row with the wrong number of
// fields are errors at the line where the record starts, with where the
// reader stopped as a line and a byte, or the two numbers of fields. So
// are a record longer than
// [MaxAttributeRecord] bytes, with the line after which it starts, and
// more than [MaxAttributeRows] rows: a malformed record, such as a quote
// that never closes, costs an error, not the whole stream in memory. Rows of customers x does not know
// ([Index.Len]) are checked as the others, then counted and skipped,
// those of its History whose first order or event came after its as-of
// time included (load the file again for a later index to cover them):
// whether a file loads does not depend on the index. A UTF-8 byte-order
// mark before the header (bare or quoted) is skipped. A customer on
// several rows keeps the last value of each field; an empty cell is no
// value and leaves that of an earlier row. With [AttributeOptions.Lenient]
// the rows that would be errors are skipped whole (none of their values
// is set) and counted by reason in [AttributeReport.Skipped]. A nil
// reader or Index is an error matching [affinity.ErrNilArgument].
func LoadAttributes(r io.Reader, x *Index, opts AttributeOptions) (*Attributes, AttributeReport, error) {
	var rep AttributeReport
	switch {
	case r == nil:
		return nil, rep, affinity.NilArgument("segment", "reader")
	case x == nil:
		return nil, rep, affinity.NilArgument("segment", "Index")
	}
	// The byte-order mark spreadsheets save goes before the CSV reader
	// sees the stream: after it, a quoted header's first quote would be
	// a bare quote to the reader.
	br := bufio.NewReader(r)
	if head, _ := br.Peek(3); string(head) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	capped := &recordCap{r: br, limit: MaxAttributeRecord}
	cr := csv.NewReader(capped)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return nil, rep, errors.New("segment: attributes: empty file, want a header row")
		case errors.Is(err, errRecordTooLong):
			return nil, rep, fmt.Errorf("segment: attributes: line 1: the header is longer than %d bytes (MaxAttributeRecord)", MaxAttributeRecord)
		}
		return nil, rep, csvError(err, 0, 0)
	}
	// end is the line where the last record read ends
	end := func(rec []string) int {
		line, _ := cr.FieldPos(len(rec) - 1)
		return line + strings.Count(rec[len(rec)-1], "\n")
	}
	last := end(head)
	head = slices.Clone(head)
	col := func(name string) (int, error) {
		found := -1
		for i, h := range head {
			if !strings.EqualFold(strings.TrimSpace(h), name) {
				continue
			}
			if found >= 0 {
				return 0, fmt.Errorf("segment: attributes: line 1: columns %d and %d are both %s", found+1, i+1, query.Excerpt(name))
			}
			found = i
		}
		if found < 0 {
			return 0, fmt.Errorf("segment: attributes: line 1: no column %s (header: %s)", query.Excerpt(name), listNames(head))
		}
		return found, nil
	}
	custCol, err := col(cmpOr(opts.Customer, "customer"))
	if err != nil {
		return nil, rep, err
	}
	type field struct {
		name string
		i    int
	}
	cols := func(names []string, check func(string) error) ([]field, error) {
		out := make([]field, len(names))
		for j, n := range names {
			i, err := col(n)
			if err != nil {
				return nil, err
			}
			if err := check(n); err != nil {
				return nil, err
			}
			out[j] = field{n, i}
		}
		return out, nil
	}
	flags, err := cols(opts.Flags, checkName)
	if err != nil {
		return nil, rep, err
	}
	dates, err := cols(opts.Dates, checkName)
	if err != nil {
		return nil, rep, err
	}
	texts, err := cols(opts.Texts, checkTextName)
	if err != nil {
		return nil, rep, err
	}
	layout := cmpOr(opts.DateLayout, time.DateOnly)
	a := &Attributes{keys: x.keys}
	for _, f := range flags {
		_ = a.SetFlag(f.name, 0, false) // the flag exists even when nobody has it
	}
	// the values of a row, checked before any is set
	fv := make([]int8, len(flags)) // per flag: 0 empty, 1 false, 2 true
	dv := make([]time.Time, len(dates))
	dok := make([]bool, len(dates))
	tv := make([]string, len(texts)) // "" for none
	// skip counts a bad row under reason in lenient mode and returns nil;
	// in strict mode it returns err
	skip := func(reason string, line int, err error) error {
		if !opts.Lenient {
			return err
		}
		for i := range rep.Skipped {
			if rep.Skipped[i].Reason == reason {
				rep.Skipped[i].Count++
				return nil
			}
		}
		rep.Skipped = append(rep.Skipped, AttributeSkip{Reason: reason, Count: 1, FirstLine: line})
		return nil
	}
	// bad is skip for the value v of field f, at the line where it starts
	// (a quoted field before it may span lines)
	bad := func(reason string, f field, v, want string) error {
		line, _ := cr.FieldPos(f.i)
		return skip(reason, line, fmt.Errorf("segment: attributes: line %d, column %d (%s): %s %s", line, f.i+1, f.name, query.Excerpt(v), want))
	}
	// check reads the values of rec into the scratch slices; false when
	// one does not parse (err is nil when the row is skipped). Every
	// value is checked, on the rows of unknown customers too, so that
	// whether a file loads does not depend on the index.
	check := func(rec []string) (bool, error) {
		for j, f := range flags {
			fv[j] = 0
			if v := strings.TrimSpace(rec[f.i]); v != "" {
				b, ok := parseBool(v)
				if !ok {
					return false, bad(reasonFlag, f, v, "is not a boolean (1/0, true/false, yes/no)")
				}
				fv[j] = 1
				if b {
					fv[j] = 2
				}
			}
		}
		for j, f := range dates {
			dok[j] = false
			if v := strings.TrimSpace(rec[f.i]); v != "" {
				t, err := time.ParseInLocation(layout, v, time.UTC) // not time.Local: the day must not depend on the machine
				if err != nil || !timetext.OffsetInRange(layout, v, t) {
					return false, bad(reasonDate, f, v, "is not a date in layout "+layout)
				}
				dv[j], dok[j] = t, true
			}
		}
		for j, f := range texts {
			tv[j] = strings.TrimSpace(rec[f.i])
			if tv[j] != "" && checkText(f.name, tv[j]) != nil {
				return false, bad(reasonText, f, tv[j], fmt.Sprintf("is %d bytes, want at most %d (MaxAttributeValue) without NUL or newline", len(tv[j]), MaxAttributeValue))
			}
		}
		return true, nil
	}
	for {
		capped.limit = cr.InputOffset() + MaxAttributeRecord
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errRecordTooLong) {
			return nil, rep, fmt.Errorf("segment: attributes: the record after line %d is longer than %d bytes (MaxAttributeRecord)", last, MaxAttributeRecord)
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, rep, fmt.Errorf("segment: attributes: %w", err) // a read error stops the load in both modes
		}
		rep.Rows++
		if rep.Rows > MaxAttributeRows {
			return nil, rep, fmt.Errorf("segment: attributes: more than %d rows", MaxAttributeRows)
		}
		if pe != nil {
			reason := reasonMalformed
			if errors.Is(err, csv.ErrFieldCount) {
				reason = reasonFieldCount
			}
			last = pe.Line // the reader read that line whole
			if err := skip(reason, pe.StartLine, csvError(pe, len(rec), len(head))); err != nil {
				return nil, rep, err
			}
			continue
		}
		last = end(rec)
		if ok, err := check(rec); !ok {
			if err != nil {
				return nil, rep, err
			}
			continue
		}
		c, ok := x.LookupCustomer(strings.TrimSpace(rec[custCol]))
		if !ok || !x.universe.Contains(uint32(c)) {
			rep.UnknownCustomers++
			continue
		}
		rep.Loaded++
		for j, f := range flags {
			if fv[j] != 0 {
				_ = a.SetFlag(f.name, c, fv[j] == 2)
			}
		}
		for j, f := range dates {
			if dok[j] {
				_ = a.SetDate(f.name, c, dv[j])
			}
		}
		for j, f := range texts {
			if tv[j] != "" {
				a.setText(f.name, c, tv[j]) // checked above
			}
		}
	}
	return a, rep, nil
}

// csvError returns the error of the CSV reader's err, of a record of
// fields fields where the header has want, as the dataset loaders give
// it: the line where the record starts, and where in it the reader
// stopped as a line and a byte (encoding/csv's column counts bytes, not
// fields); a record with the wrong number of fields gives both numbers.
func csvError(err error, fields, want int) error {
	var pe *csv.ParseError
	switch {
	case !errors.As(err, &pe):
		return fmt.Errorf("segment: attributes: %w", err)
	case errors.Is(err, csv.ErrFieldCount):
		return fmt.Errorf("segment: attributes: line %d: %d fields, the header has %d: %w", pe.StartLine, fields, want, pe.Err)
	}
	return fmt.Errorf("segment: attributes: line %d: %w (line %d, byte %d)", pe.StartLine, pe.Err, pe.Line, pe.Column)
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "y", "t":
		return true, true
	case "0", "false", "no", "n", "f":
		return false, true
	}
	return false, false
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
