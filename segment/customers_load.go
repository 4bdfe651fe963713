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
	// DateLayout is the layout of dates (time.Parse); "" means
	// "2006-01-02". A date with a time and a UTC offset counts on its UTC
	// day; a date without an offset is read in UTC, and a zone
	// abbreviation (MST) other than UTC at offset 0, whatever the
	// machine's local zone.
	DateLayout string
}

// AttributeReport says what [LoadAttributes] read.
type AttributeReport struct {
	// Rows counts the data rows; Loaded those of a known customer.
	Rows, Loaded int
	// UnknownCustomers counts rows whose customer the index does not know
	// ([Index.Len]: customers without any order or event at or before its
	// as-of time, such as one whose first order came after it), which are
	// skipped.
	UnknownCustomers int
}

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
// [Index.LookupCustomer]). Headers match the names in opts whatever
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
// value and leaves that of an earlier row. A nil reader or Index is an error matching
// [affinity.ErrNilArgument].
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
	a := &Attributes{}
	for _, f := range flags {
		_ = a.SetFlag(f.name, 0, false) // the flag exists even when nobody has it
	}
	fv := make([]int8, len(flags)) // per flag of a row: 0 empty, 1 false, 2 true
	dv := make([]time.Time, len(dates))
	dok := make([]bool, len(dates))
	for {
		capped.limit = cr.InputOffset() + MaxAttributeRecord
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errRecordTooLong) {
			return nil, rep, fmt.Errorf("segment: attributes: the record after line %d is longer than %d bytes (MaxAttributeRecord)", last, MaxAttributeRecord)
		}
		if err != nil {
			return nil, rep, csvError(err, len(rec), len(head))
		}
		last = end(rec)
		rep.Rows++
		if rep.Rows > MaxAttributeRows {
			return nil, rep, fmt.Errorf("segment: attributes: more than %d rows", MaxAttributeRows)
		}
		// every value is checked, on the rows of unknown customers too, so
		// that whether a file loads does not depend on the index
		for j, f := range flags {
			fv[j] = 0
			if v := strings.TrimSpace(rec[f.i]); v != "" {
				b, ok := parseBool(v)
				if !ok {
					line, _ := cr.FieldPos(f.i) // where the value starts: a quoted field before it may span lines
					return nil, rep, fmt.Errorf("segment: attributes: line %d, column %d (%s): %s is not a boolean (1/0, true/false, yes/no)", line, f.i+1, f.name, query.Excerpt(v))
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
					line, _ := cr.FieldPos(f.i)
					return nil, rep, fmt.Errorf("segment: attributes: line %d, column %d (%s): %s is not a date in layout %s", line, f.i+1, f.name, query.Excerpt(v), layout)
				}
				dv[j], dok[j] = t, true
			}
		}
		for _, f := range texts {
			if v := strings.TrimSpace(rec[f.i]); v != "" {
				if err := checkText(f.name, v); err != nil {
					line, _ := cr.FieldPos(f.i)
					return nil, rep, fmt.Errorf("segment: attributes: line %d, column %d (%s): %s", line, f.i+1, f.name, strings.TrimPrefix(err.Error(), "segment: "))
				}
			}
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
		for _, f := range texts {
			if v := strings.TrimSpace(rec[f.i]); v != "" {
				_ = a.SetText(f.name, c, v) // checked above
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
