package dataset

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"unicode/utf8"
)

// Limits bounds what one load may read, so that a hostile or broken file
// costs an error, never unbounded memory or time. Each field's zero value
// means the default given with it; a negative value means no limit. The
// error for an exceeded limit wraps [ErrLimit], names the limit where the
// caller set it ("Options.Limits.MaxRows", "CatalogOptions.Limits.MaxRows",
// [SQLSource.MaxRows]) and stops the load in strict and lenient mode
// alike, except MaxCategories and MaxBasket, which reject one row
// (counted in lenient mode).
type Limits struct {
	// MaxLine is the longest physical line, and for the CSV formats the
	// longest record (a quoted field may span lines), in bytes after
	// decompression, without the line break ("\n" or "\r\n") that ends
	// it; default 1 MiB. A quote opened and never closed fails at the
	// line and field where the record reaches this limit or, first with
	// the defaults, where its field reaches MaxField, unless the field may
	// not hold a line break: then the record ends with its line, a
	// malformed row, as the loader reads it (see "Quotes and line breaks"
	// in the package documentation). (A quote that closes wrongly on a
	// later line, or at the end of the input, makes only its own line a
	// malformed row: the lines after it are read again.)
	MaxLine int
	// MaxField is the longest field of a CSV record in bytes, quotes
	// included; the line break that ends the record is no part of its
	// last field. Default 64 KiB.
	MaxField int
	// MaxBytes is the most input bytes read after decompression; default
	// 16 GiB. It stops gzip bombs. Its error names the line of the first
	// byte past it; the rows before that line are read.
	MaxBytes int64
	// MaxRows is the most data rows read; default 100 million.
	MaxRows int
	// MaxCategories is the most category paths one product may have
	// (several paths are separated by "|"); default 64.
	MaxCategories int
	// MaxBasket is the most items in one basket of the "baskets" format;
	// default 10,000.
	MaxBasket int
}

// The defaults of [Limits].
const (
	DefaultMaxLine       = 1 << 20
	DefaultMaxField      = 64 << 10
	DefaultMaxBytes      = 16 << 30
	DefaultMaxRows       = 100_000_000
	DefaultMaxCategories = 64
	DefaultMaxBasket     = 10_000
)

// ErrLimit is wrapped by the error returned when the input exceeds one of
// the [Limits].
var ErrLimit = errors.New("dataset: limit exceeded")

// limits are Limits resolved: the defaults filled in, "no limit" as the
// largest value.
type limits struct {
	line, field         int64
	bytes               int64
	rows, cats, baskets int
}

func (o Limits) resolve() limits {
	pick := func(v, def int64) int64 {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 1<<63 - 1
		}
		return v
	}
	return limits{
		line:    pick(int64(o.MaxLine), DefaultMaxLine),
		field:   pick(int64(o.MaxField), DefaultMaxField),
		bytes:   pick(o.MaxBytes, DefaultMaxBytes),
		rows:    int(pick(int64(o.MaxRows), DefaultMaxRows)),
		cats:    int(pick(int64(o.MaxCategories), DefaultMaxCategories)),
		baskets: int(pick(int64(o.MaxBasket), DefaultMaxBasket)),
	}
}

// limitError is an exceeded limit; it matches ErrLimit (and
// ErrLineTooLong for MaxLine).
type limitError struct {
	name  string // field of Limits
	value int64  // the limit
	what  string // what exceeded it
	// where is the setting that holds the limit, without its field name:
	// "" for Options.Limits (see setWhere)
	where string
}

func (e *limitError) Error() string {
	where, input := cmp.Or(e.where, "Options.Limits"), "input"
	if e.where == sqlLimits {
		input = "query's result"
	}
	return fmt.Sprintf("%s: more than %s.%s = %d; raise it (-1 for no limit) if the %s is genuine",
		e.what, where, e.name, e.value, input)
}

// sqlLimits is where an [SQLSource] sets its limit.
const sqlLimits = "SQLSource"

// setWhere names where, in the settings of the load that returned err,
// the limit err exceeds is set (an [Options] field is the default); it
// returns err.
func setWhere(err error, where string) error {
	var le *limitError
	if errors.As(err, &le) && le.where == "" {
		le.where = where
	}
	return err
}

func (e *limitError) Is(target error) bool {
	return target == ErrLimit || (target == ErrLineTooLong && e.name == "MaxLine")
}

// boundedReader passes input through while enforcing MaxBytes, MaxLine and
// MaxField and counting lines. For CSV input it follows the quoting of
// encoding/csv (a field is quoted when it starts with '"'; inside, '""'
// is a quote and line breaks do not end the record), so that the record
// and field sizes it bounds are those the CSV reader would buffer.
type boundedReader struct {
	r     io.Reader
	lim   limits
	csv   bool
	comma []byte // UTF-8 of the field separator (CSV)

	total      int64 // bytes read
	line       int   // 1-based physical line of the next byte
	rec        int64 // bytes of the current record (line, for non-CSV)
	recLine    int   // line where the current record started
	field      int   // 1-based field number within the record
	fieldBytes int64
	fieldStart bool // the next byte starts a field
	inQuote    bool // inside a quoted field
	quoteEnd   bool // saw '"' inside a quoted field: closes it unless '"' follows
	quoteLine  int  // line where the open quote started
	commaAt    int  // bytes of comma matched so far
	// cr is set when the last byte was a '\r' outside quotes (CSV): with
	// a '\n' after it, it is part of the line break and counts for no
	// limit, so its limit check waits for the next byte
	cr bool
	// lineErr is set when the record is malformed for encoding/csv (a
	// quote inside an unquoted field, or a closing quote followed by
	// anything but a separator or the line's end): the reader then ends
	// the record with this line, so no quote after it opens a field
	lineErr bool
	err     error

	// The loaders end a record at a line break in a quoted field that may
	// not hold one (see oneLine); the reader follows them, so that a stray
	// quote in such a field does not make it count the rest of the input
	// as one field. rules gives the fields' kinds from the header (or for
	// every record); one holds them once known (after the header).
	rules   *lineRules
	one     *oneLine
	hdr     []byte // the header read so far, until its record ends
	hdrFrom int    // where the header goes on in the current chunk
	hdrDone bool
	brk     bool // a line break in the current quoted free-text field
	sepIn   bool // the separator in the current quoted free-text field
}

// lineRules says what line breaks a CSV format's fields may hold: fixed
// for every record (no header), or by specs from the header's mapping,
// as the loader maps it (see header.oneLine).
type lineRules struct {
	fixed   *oneLine
	specs   []colSpec
	lenient bool
}

// of returns the fields' kinds for the header record in text, nil when
// the header does not map (the load fails on it). The record is parsed
// as the loader parses it (parseCSVBlock), which for a header without
// quotes costs about its size, not encoding/csv's several times that.
func (r *lineRules) of(text []byte, comma []byte) *oneLine {
	c, _ := utf8.DecodeRune(comma)
	out := parseCSVBlock(&csvBlock{data: text, line: 1, lines: bytes.Count(text, []byte{'\n'}), last: true}, c, maphash.MakeSeed(), nil)
	if len(out.recs) == 0 || out.recs[0].bad != nil {
		return nil
	}
	rec := out.fields[:out.recs[0].end]
	var ignored []string
	h, err := mapHeader(rec, r.specs, 1, r.lenient, &ignored, "")
	if err != nil {
		return nil
	}
	return h.oneLine(rec, r.specs)
}

func newBoundedReader(r io.Reader, lim limits, csv bool, comma rune, rules *lineRules) *boundedReader {
	if comma == 0 {
		comma = ','
	}
	b := &boundedReader{r: r, lim: lim, csv: csv, comma: utf8.AppendRune(nil, comma),
		line: 1, recLine: 1, field: 1, fieldStart: true, rules: rules, hdrDone: rules == nil || rules.specs == nil}
	if rules != nil {
		b.one = rules.fixed
	}
	return b
}

// dropped notes the n bytes of the input dropped before the reader (a
// byte-order mark, which the loaders do not read): they count for
// MaxBytes and, as part of the first record and field, for MaxLine and
// MaxField, as bytes after decompression.
func (b *boundedReader) dropped(n int) {
	b.total, b.rec, b.fieldBytes = int64(n), int64(n), int64(n)
}

// endHeader notes that a record ends at chunk[i] (its line break): while
// the header has not ended, it is collected, and its end sets the fields'
// kinds. Blank lines before it are no record.
func (b *boundedReader) endHeader(chunk []byte, i int) {
	b.hdr = append(b.hdr, chunk[b.hdrFrom:i+1]...)
	b.hdrFrom = i + 1
	if blankLine(b.hdr) {
		b.hdr = b.hdr[:0]
		return
	}
	b.one, b.hdrDone, b.hdr = b.rules.of(b.hdr, b.comma), true, nil
}

// Read passes on the input up to the first byte that breaks a limit and
// returns the limit's error with the next call, so that the bytes, the
// lines before the error and the error's line are those of a byte-by-byte
// read, however the source splits the input.
func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	// Bytes past MaxBytes are not passed on; the error comes at the line
	// of the first of them, once the bytes before it are scanned.
	over := false
	if allowed := max(b.lim.bytes-b.total, 0); int64(n) > allowed {
		n, over = int(allowed), true
	}
	b.total += int64(n)
	var k int
	var bad *ParseError
	if b.csv {
		k, bad = b.scanCSV(p[:n])
	} else {
		k, bad = b.scanLines(p[:n])
	}
	switch {
	case bad != nil:
		b.err = bad
	case over:
		k, b.err = n, &ParseError{Line: b.line, Reason: reasonLimit,
			Err: &limitError{name: "MaxBytes", value: b.lim.bytes, what: "input (after decompression)"}}
	default:
		if err != nil && err != io.EOF {
			err = &ParseError{Line: b.line, Reason: reasonRead, Err: err}
		}
		return n, err
	}
	if k == 0 {
		return 0, b.err
	}
	return k, nil
}

// scanLines counts lines and bounds their length. It returns how many
// bytes of chunk come before the first that makes a line too long, and
// the error for it (nil when there is none). A '\r' is part of the line
// unless a '\n' follows it, so a '\r' that would make the line too long
// fails at the next byte (at none, at the end of the input).
func (b *boundedReader) scanLines(chunk []byte) (int, *ParseError) {
	lim := b.lim.line
	for i := 0; i < len(chunk); {
		if b.rec > lim && chunk[i] != '\n' { // a '\r' went past the limit
			return i, b.lineLimitErr()
		}
		j := bytes.IndexByte(chunk[i:], '\n')
		nl := j >= 0
		if !nl {
			j = len(chunk) - i
		}
		if j > 0 && b.rec+int64(j) > lim { // here b.rec <= lim
			k := i + int(lim-b.rec) // the byte past the limit
			if chunk[k] != '\r' {
				return k, b.lineLimitErr()
			}
			if k+1 < i+j {
				return k + 1, b.lineLimitErr()
			}
		}
		b.rec += int64(j)
		if !nl {
			break
		}
		b.line++
		b.rec = 0
		i += j + 1
	}
	return len(chunk), nil
}

// lineLimitErr returns the error for a line longer than MaxLine (non-CSV).
func (b *boundedReader) lineLimitErr() *ParseError {
	return &ParseError{Line: b.line, Reason: reasonLineLong,
		Err: &limitError{name: "MaxLine", value: b.lim.line, what: "line"}}
}

// scanCSV follows the quoting state through chunk and bounds record and
// field sizes. It returns how many bytes of chunk come before the one at
// which a record or field is known to be too long, and the error for it
// (nil when there is none). Its state lives in locals for speed and is
// stored back on return.
func (b *boundedReader) scanCSV(chunk []byte) (int, *ParseError) {
	rec, fb, field := b.rec, b.fieldBytes, b.field
	inQuote, quoteEnd, fieldStart, commaAt, lineErr, cr := b.inQuote, b.quoteEnd, b.fieldStart, b.commaAt, b.lineErr, b.cr
	lineLim, fieldLim := b.lim.line, b.lim.field
	comma := b.comma
	var bad *ParseError
	i := 0
	b.hdrFrom = 0
scan:
	for ; i < len(chunk); i++ {
		if rec == 0 && !inQuote && commaAt == 0 && b.hdrDone {
			// Fast path at the start of a record: a whole line without a
			// quote, no longer than either limit, needs no byte-by-byte
			// state (no field in it can be longer than the line, whose
			// "\r\n" or "\n" counts for neither limit).
			rest := chunk[i:]
			j := bytes.IndexByte(rest, '\n')
			n := j
			if n > 0 && rest[n-1] == '\r' {
				n--
			}
			if j >= 0 && int64(n) <= min(lineLim, fieldLim) && bytes.IndexByte(rest[:j], '"') < 0 {
				b.line++
				b.recLine, field, fb, fieldStart = b.line, 1, 0, true
				i += j
				continue
			}
		}
		c := chunk[i]
		if inQuote {
			switch {
			case quoteEnd:
				quoteEnd = false
				if c != '"' {
					inQuote = false
					if c != '\n' && c != '\r' && c != comma[0] {
						lineErr = true // encoding/csv's ErrQuote
					}
					goto unquoted
				}
			case c == '"':
				quoteEnd = true
			case c == '\n':
				b.line++
				if k := b.one.kind(field - 1); k == noLines || k == textLines && b.sepIn {
					// the loader ends the record here (see oneLine)
					inQuote, b.brk, b.sepIn = false, false, false
					rec, b.recLine, field, fb, fieldStart, commaAt, lineErr = 0, b.line, 1, 0, true, 0, false
					continue
				} else if k == textLines {
					b.brk = true
				}
			case c == comma[0] && b.one.kind(field-1) == textLines && bytes.HasPrefix(chunk[i:], comma):
				b.sepIn = true
				if b.brk {
					// the loader ended the record at the field's first
					// line break and reads the lines after it again:
					// nothing more of this line opens a quote here
					inQuote, b.brk, b.sepIn = false, false, false
					rec, fb, lineErr, b.recLine = 0, 0, true, b.line
					continue
				}
			}
			rec++
			fb++
			if rec > lineLim || fb > fieldLim {
				b.rec, b.fieldBytes, b.field, b.inQuote = rec, fb, field, inQuote
				bad = b.limitErr()
				break scan
			}
			continue
		}
	unquoted:
		if cr {
			// The '\r' before c is the field's unless c ends the line.
			cr = false
			if c != '\n' && (rec > lineLim || fb > fieldLim) {
				b.rec, b.fieldBytes, b.field, b.inQuote = rec, fb, field, inQuote
				bad = b.limitErr()
				break scan
			}
		}
		switch {
		case c == '\n':
			b.line++
			rec, b.recLine, field, fb, fieldStart, commaAt, lineErr = 0, b.line, 1, 0, true, 0, false
			if !b.hdrDone {
				b.endHeader(chunk, i)
			}
			continue
		case c == comma[commaAt]:
			commaAt++
			if commaAt == len(comma) {
				commaAt = 0
				field++
				fb = -1 // the separator is not part of the next field
				fieldStart = true
				rec++
				fb++
				if rec > lineLim {
					b.rec, b.fieldBytes, b.field, b.inQuote = rec, fb, field, inQuote
					bad = b.limitErr()
					break scan
				}
				continue
			}
		default:
			commaAt = 0
			if c == comma[0] {
				commaAt = 1
			}
		}
		switch {
		case c != '"':
		case fieldStart && !lineErr:
			inQuote, b.quoteLine = true, b.line
			b.brk, b.sepIn = false, false
		case !fieldStart:
			lineErr = true // a bare quote: encoding/csv's ErrBareQuote
		}
		fieldStart = false
		rec++
		fb++
		if c == '\r' {
			cr = true // checked with the next byte: "\r\n" is a line break
			continue
		}
		// The bytes of a separator being matched are not the field's.
		if rec > lineLim || fb-int64(commaAt) > fieldLim {
			b.rec, b.fieldBytes, b.field, b.inQuote = rec, fb, field, inQuote
			bad = b.limitErr()
			break scan
		}
	}
	if bad != nil {
		return i, bad
	}
	if !b.hdrDone {
		b.hdr = append(b.hdr, chunk[b.hdrFrom:]...)
	}
	b.rec, b.fieldBytes, b.field = rec, fb, field
	b.inQuote, b.quoteEnd, b.fieldStart, b.commaAt, b.lineErr, b.cr = inQuote, quoteEnd, fieldStart, commaAt, lineErr, cr
	return len(chunk), nil
}

// limitErr returns the error for the record or field that went past its
// limit.
func (b *boundedReader) limitErr() *ParseError {
	e := &ParseError{Line: b.line, Column: b.field, Field: b.one.name(b.field - 1), Reason: reasonLineLong}
	what := fmt.Sprintf("record from line %d", b.recLine)
	if b.inQuote {
		what += fmt.Sprintf(" (inside a quote opened at line %d and not closed)", b.quoteLine)
	}
	if b.rec > b.lim.line {
		e.Err = &limitError{name: "MaxLine", value: b.lim.line, what: what}
		return e
	}
	e.Reason = reasonFieldLong
	what = fmt.Sprintf("field %d of the %s", b.field, what)
	e.Err = &limitError{name: "MaxField", value: b.lim.field, what: what}
	return e
}
