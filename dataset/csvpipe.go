package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/shopaffinity/affinity/internal/parallel"
)

// The CSV reader of the loaders splits the decoded input into blocks of
// whole records and parses the blocks on other goroutines while the
// loader applies the records of earlier blocks, in input order. A block
// with a quote is parsed by encoding/csv itself, and one without is split
// at line breaks and separators as encoding/csv would (parsePlain), so
// records, field positions and malformed-record errors are exactly those
// of one encoding/csv Reader over the whole input; only the cut points
// need care, and csvRecordEnd finds them by following encoding/csv's
// rules (a record ends at the end of a line unless a quoted field is
// still open there).

// csvBlockSize is the size of a block handed to a parser: large enough
// that the hand-over costs nothing, small enough that a few blocks in
// flight cost little memory.
var csvBlockSize = 256 << 10

// csvWorkers returns the default number of parsing goroutines
// (Options.Workers 0); 0 parses on the loader's goroutine.
var csvWorkers = func() int {
	return min(runtime.GOMAXPROCS(0)-1, 3)
}

// csvBlock is a run of whole CSV records and where it starts.
type csvBlock struct {
	data  []byte
	line  int   // line number of data[0]
	lines int   // line breaks in data
	err   error // fatal read error after data; nil at the end of the input
	last  bool  // the input ends after data (or err)
	one   *oneLine
	out   chan *csvBatch
}

// oneLine says which fields of a record may hold a line break. A quoted
// field that runs over a line break where it may not is taken for a quote
// opened by mistake and closed lines later, which would make one record
// of several rows: the record is malformed, and ends with the line of
// that line break; the lines after it are read again (parseCSVBlock).
// A nil *oneLine allows line breaks in every field.
type oneLine struct {
	all   lineKind   // of every field, when not anyLines
	cols  []lineKind // by field index
	names []string   // by field index: the header's text, untrimmed, for errors
	every string     // the name of every field, without a header
}

// basketLines are the fields of a format without a header ("baskets"):
// every one is read, an item's name.
var basketLines = &oneLine{all: textLines, every: "item"}

// lineKind is what a field may hold of line breaks.
type lineKind uint8

const (
	// anyLines: a field the loader does not read (an address, a note).
	anyLines lineKind = iota
	// noLines: a key, a quantity, a price, a time.
	noLines
	// textLines: free text (a name, a category path), which may hold a
	// line break unless it also holds the separator: rows swallowed by a
	// stray quote hold the separators of their fields.
	textLines
)

// kind returns what field i may hold.
func (o *oneLine) kind(i int) lineKind {
	switch {
	case o == nil:
		return anyLines
	case o.all != anyLines:
		return o.all
	case i < len(o.cols):
		return o.cols[i]
	}
	return anyLines
}

// name returns the name of field i for errors (ParseError.Field): the
// header's text, or the format's name of every field; "" when unknown.
func (o *oneLine) name(i int) string {
	switch {
	case o == nil:
		return ""
	case o.every != "":
		return o.every
	case i < len(o.names):
		return strings.TrimSpace(o.names[i]) // as header.text
	}
	return ""
}

// csvBatch is a parsed block.
type csvBatch struct {
	fields []string // the fields of every record, one after the other
	recs   []csvRec
	// lines holds, for the records whose fields do not all start on the
	// record's first line (by index in recs), the line of each field
	lines map[int][]int
	err   error // fatal read error after the records
	last  bool
	// panic, when set, is what a pipelined goroutine recovered in place
	// of this batch (the caller's Reader panicked, say); the loader
	// raises it again once the others have stopped
	panic *parallel.Panic
}

// csvRec is one record of a batch.
type csvRec struct {
	end  int    // its fields are fields[previous end:end]
	hash uint64 // of its fields, with the source's seed (see hashFields)
	line int    // line the record starts on
	bad  *ParseError
}

// csvSource reads CSV records one at a time, in input order.
type csvSource struct {
	comma rune
	seed  maphash.Seed // of the record hashes
	line  int          // line of the last record
	recI  int          // index in cur.recs of the last record

	cur   *csvBatch
	start int // fields of cur before the next record
	i     int // next record of cur

	batches chan *csvBatch // batches the loader is done with

	// blocks are cut by split; in sequential mode (workers 0) also parsed
	// on the caller's goroutine
	split   *csvSplitter
	workers int // parsing goroutines, started with the first block after the header
	done    bool

	// pipelined mode
	order chan chan *csvBatch
	quit  chan struct{}
	wg    sync.WaitGroup
}

func newCSVSource(r io.Reader, comma rune, seed maphash.Seed, workers int, header bool, maxRecord int64) *csvSource {
	if comma == 0 {
		comma = ','
	}
	s := &csvSource{comma: comma, seed: seed}
	sp := &csvSplitter{r: r, comma: comma, line: 1, maxRecord: maxRecord}
	sp.buf, sp.err = fill(r, make([]byte, 0, csvBlockSize))
	sp.free = make(chan []byte, 2*workers+4)
	s.batches = make(chan *csvBatch, 2*workers+4)
	s.split = sp
	if sp.err == nil {
		// With no core to spare (workers 0), or when the input fits in
		// one block, blocks are parsed here.
		s.workers = workers
	}
	if header {
		// The header is a block of its own, parsed now: the loader maps
		// it before the rest is cut (setOneLine).
		b := sp.header()
		s.cur = parseCSVBlock(b, comma, seed, s.batches)
		sp.recycle(b.data)
	}
	return s
}

// setOneLine sets the fields that may not hold a line break (see
// oneLine) in the records after those read so far; call it after the
// header and before the next record.
func (s *csvSource) setOneLine(o *oneLine) { s.split.one = o }

// startWorkers starts the parsing goroutines.
func (s *csvSource) startWorkers() {
	sp, workers := s.split, s.workers
	s.order = make(chan chan *csvBatch, 2*workers+2)
	s.quit = make(chan struct{})
	work := make(chan *csvBlock)
	s.wg.Add(1 + workers)
	for range workers {
		go func() {
			defer s.wg.Done()
			for b := range work {
				var out *csvBatch
				if p := guard(func() { out = parseCSVBlock(b, s.comma, s.seed, s.batches) }); p != nil {
					out = &csvBatch{panic: p}
				}
				sp.recycle(b.data)
				b.out <- out
			}
		}()
	}
	go func() {
		defer s.wg.Done()
		defer close(work)
		defer close(s.order)
		for {
			var b *csvBlock
			ok := false
			if p := guard(func() { b, ok = sp.next() }); p != nil {
				// the caller's Reader (or gzip) panicked: the loader
				// raises it after the blocks before it, as a sequential
				// read would
				out := make(chan *csvBatch, 1)
				out <- &csvBatch{panic: p}
				select {
				case s.order <- out:
				case <-s.quit:
				}
				return
			}
			if !ok {
				return
			}
			b.out = make(chan *csvBatch, 1)
			select {
			case s.order <- b.out:
			case <-s.quit:
				return
			}
			select {
			case work <- b:
			case <-s.quit:
				return
			}
		}
	}()
}

// guard calls fn and returns what it panicked with, as a
// [parallel.Panic] holding the value and the stack; nil when it returned.
func guard(fn func()) (p *parallel.Panic) {
	err := parallel.Guard(func() error { fn(); return nil })
	p, _ = err.(*parallel.Panic)
	return p
}

// csvSplitter cuts the input into blocks of whole records.
type csvSplitter struct {
	r     io.Reader
	comma rune
	buf   []byte // read and not yet handed out; starts at a record
	err   error  // of the last read; io.EOF at the end of the input
	line  int    // line number of buf[0]
	ended bool
	one   *oneLine    // of the blocks it cuts
	free  chan []byte // block buffers the parsers are done with
	// maxRecord is the longest record in bytes (Limits.MaxLine). The
	// reader in front of the source (boundedReader) bounds records as
	// encoding/csv reads them; after a record cut short (oneLine, or
	// malformed over several lines) the lines after it are read again,
	// and a quote among them may open a field it did not see: the
	// splitter refuses to buffer more of one record.
	maxRecord int64
}

// tooLong returns the error for a record at the start of the buffer
// longer than maxRecord.
func (sp *csvSplitter) tooLong() error {
	return &ParseError{Line: sp.line, Reason: reasonLineLong,
		Err: &limitError{name: "MaxLine", value: sp.maxRecord, what: fmt.Sprintf("record from line %d", sp.line)}}
}

// more makes room in the buffer for more of the record at its start and
// reads into it; false when the record is too long (sp.err is set).
func (sp *csvSplitter) more() bool {
	if int64(len(sp.buf))-2 > sp.maxRecord { // the longest record and its "\r\n" (no limit: MaxInt64)
		sp.err = sp.tooLong()
		return false
	}
	sp.buf, sp.err = fill(sp.r, grow(sp.buf))
	return true
}

// header returns the block of the first record (after any blank lines),
// whole, or the whole input when it ends first.
func (sp *csvSplitter) header() *csvBlock {
	n := 0
	for {
		m, ok := csvRecordEnd(sp.buf[n:], sp.comma, nil)
		if !ok {
			if sp.err == io.EOF {
				return sp.cut(len(sp.buf), true)
			}
			if sp.err != nil {
				// a read error drops a record it cut short, as
				// encoding/csv does
				return sp.cut(n, true)
			}
			if !sp.more() {
				return sp.cut(0, true)
			}
			continue
		}
		rec := sp.buf[n : n+m]
		n += m
		if !blankLine(rec) {
			return sp.cut(n, sp.err != nil && n == len(sp.buf))
		}
	}
}

// blankLine reports whether line, with its line break, is one encoding/csv
// skips: "\n" or "\r\n" alone ("\r\r\n" is a record of one field, "\r").
func blankLine(line []byte) bool {
	return string(line) == "\n" || string(line) == "\r\n"
}

// next returns the next block; false after the last one.
func (sp *csvSplitter) next() (*csvBlock, bool) {
	if sp.ended {
		return nil, false
	}
	for {
		n := len(sp.buf)
		if sp.err != io.EOF {
			// the end of the input ends the last record; otherwise cut
			// after the last whole one (a read error drops a record it
			// cut short, as encoding/csv does)
			n = csvCut(sp.buf, sp.comma, sp.one)
		}
		if sp.err == nil && n == 0 {
			// not one whole record in the buffer: make room for more
			if !sp.more() {
				return sp.cut(0, true), true
			}
			continue
		}
		return sp.cut(n, sp.err != nil), true
	}
}

// cut returns the first n bytes of the buffer as a block and keeps the
// rest, reading more to fill the buffer; a last block ends the input (a
// read error, its err, comes after it).
func (sp *csvSplitter) cut(n int, last bool) *csvBlock {
	b := &csvBlock{data: sp.buf[:n], line: sp.line, one: sp.one}
	b.lines = bytes.Count(b.data, []byte{'\n'})
	sp.line += b.lines
	if last {
		b.last, sp.ended = true, true
		if sp.err != io.EOF {
			b.err = sp.err
		}
		return b
	}
	var next []byte
	select {
	case next = <-sp.free:
	default:
	}
	if cap(next) < max(csvBlockSize, 2*(len(sp.buf)-n)) {
		next = make([]byte, 0, max(csvBlockSize, 2*(len(sp.buf)-n)))
	}
	next = append(next[:0], sp.buf[n:]...)
	if sp.err == nil {
		next, sp.err = fill(sp.r, next)
	}
	sp.buf = next
	return b
}

// recycle returns a block buffer to the splitter.
func (sp *csvSplitter) recycle(buf []byte) {
	if sp.free == nil {
		return
	}
	select {
	case sp.free <- buf[:0]:
	default:
	}
}

// grow doubles the capacity of buf, keeping its bytes.
func grow(buf []byte) []byte {
	n := make([]byte, len(buf), 2*max(cap(buf), 1))
	copy(n, buf)
	return n
}

// fill reads from r until buf is full or the input ends; err is io.EOF
// at the end of the input.
func fill(r io.Reader, buf []byte) ([]byte, error) {
	for len(buf) < cap(buf) {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// close stops the goroutines of the source and waits for them, so that
// nothing reads the input after the load returns.
func (s *csvSource) close() {
	if s.quit == nil || s.done {
		return
	}
	s.done = true
	close(s.quit)
	for range s.order { // let the splitter finish a send
	}
	s.wg.Wait()
}

// next returns the next record. A record that is not valid CSV comes
// back as bad, a row error; err is io.EOF at the end of the input or a
// fatal error. Blank lines are skipped. The record slice stays valid
// until the next call; its strings stay valid for good.
func (s *csvSource) next() (rec []string, bad *ParseError, err error) {
	for s.cur == nil || s.i == len(s.cur.recs) {
		if s.cur != nil {
			if s.cur.err != nil {
				err := s.cur.err
				var mine *ParseError
				if errors.As(err, &mine) {
					return nil, nil, mine
				}
				return nil, nil, &ParseError{Line: s.line + 1, Reason: reasonRead, Err: err}
			}
			if s.cur.last {
				return nil, nil, io.EOF
			}
		}
		if !s.nextBatch() {
			return nil, nil, io.EOF
		}
	}
	r := &s.cur.recs[s.i]
	s.i++
	s.line, s.recI = r.line, s.i-1
	from := s.start
	s.start = r.end
	if r.bad != nil {
		return nil, r.bad, nil
	}
	return s.cur.fields[from:r.end], nil, nil
}

// nextBatch makes the next parsed block current; false at the end.
func (s *csvSource) nextBatch() bool {
	s.i, s.start = 0, 0
	if s.cur != nil {
		// the parsers reuse the batch
		select {
		case s.batches <- s.cur:
		default:
		}
		s.cur = nil
	}
	if s.order == nil && s.workers > 0 && !s.split.ended {
		s.startWorkers()
	}
	if s.order == nil {
		b, ok := s.split.next()
		if !ok {
			return false
		}
		s.cur = parseCSVBlock(b, s.comma, s.seed, s.batches)
		s.split.recycle(b.data)
		return true
	}
	out, ok := <-s.order
	if !ok {
		return false
	}
	s.cur = <-out
	if p := s.cur.panic; p != nil {
		// stop the other goroutines first, so that nothing reads the
		// input once the panic is on its way up the caller's stack
		s.cur = nil
		s.close()
		panic(p)
	}
	return true
}

// hash returns the hash of the last record's fields (see hashFields).
func (s *csvSource) hash() uint64 { return s.cur.recs[s.recI].hash }

// fieldLine returns the line field i of the last record starts on.
func (s *csvSource) fieldLine(i int) int {
	if lines := s.cur.lines[s.recI]; i < len(lines) {
		return lines[i]
	}
	return s.line
}

// parseCSVBlock parses the records of b with encoding/csv, numbering
// lines from b.line.
func parseCSVBlock(b *csvBlock, comma rune, seed maphash.Seed, free chan *csvBatch) *csvBatch {
	var out *csvBatch
	select {
	case out = <-free:
		out.fields, out.recs, out.lines = out.fields[:0], out.recs[:0], nil
	default:
		out = new(csvBatch)
	}
	// room for a record per line, with as many fields as the first line
	// has separators plus one, but never more than the block can hold:
	// each field but a record's last ends at a separator, a record ends
	// at a line break (or the end of the input) and holds at least one
	// byte, so there are at most len(data)+1 fields; else a long first
	// line before many short ones would reserve the product of the two.
	// A block that ends with a line break has no line after its last.
	n := b.lines
	if len(b.data) == 0 || b.data[len(b.data)-1] != '\n' {
		n++
	}
	if cap(out.recs) < n {
		out.recs = make([]csvRec, 0, n)
	}
	first := b.data
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	var sep [utf8.UTFMax]byte
	perRec := bytes.Count(first, sep[:utf8.EncodeRune(sep[:], comma)]) + 1
	if want := min(n*perRec, len(b.data)+1); cap(out.fields) < want {
		out.fields = make([]string, 0, want)
	}
	out.err, out.last = b.err, b.last
	if bytes.IndexByte(b.data, '"') < 0 {
		parsePlain(out, b, comma, seed)
		return out
	}
	data := b.data
	// one bytes.Reader and one bufio.Reader for every Reader of the block
	// (csv.NewReader takes a *bufio.Reader as it is): a block of records
	// that each restart allocates little per restart
	var rd bytes.Reader
	br := bufio.NewReader(&rd)
	reader := func(data []byte) *csv.Reader {
		rd.Reset(data)
		br.Reset(&rd)
		cr := csv.NewReader(br)
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		return cr
	}
	cr := reader(data)
	off := b.line - 1
	// recordEnd returns the end in data of the record read from offset
	// from (blank lines before it skipped), where the splitter ends it
	// (csvRecordEnd; a record the input ends, without a line break after
	// it, as if one followed), and the field whose line break ended it by
	// the rule of b.one (-1 for none); the end of its first line when it
	// runs to the end of the input in a quote
	recordEnd := func(from int64) (end, cut int) {
		at := int(from)
		for rest := data[at:]; bytes.HasPrefix(rest, []byte{'\n'}) || bytes.HasPrefix(rest, []byte("\r\n")); rest = data[at:] {
			at += bytes.IndexByte(rest, '\n') + 1
		}
		n, _, cut, ok := scanRecord(data[at:], comma, b.one)
		if !ok && b.last {
			n, _, cut, ok = scanRecord(append(data[at:len(data):len(data)], '\n'), comma, b.one)
			if ok && cut >= 0 && n > len(data)-at {
				ok = false // cut at the line break added, which is no line break: a quote open at the end
			}
			n = min(n, len(data)-at)
		}
		if !ok { // a quote open at the end: its first line
			if i := bytes.IndexByte(data[at:], '\n'); i >= 0 {
				return at + i + 1, -1
			}
			return len(data), -1
		}
		return at + n, cut
	}
	// restart reads data again from end
	restart := func(end int) {
		off += bytes.Count(data[:end], []byte{'\n'})
		data = data[end:]
		cr = reader(data)
	}
	// cutShort returns the error of a record that a line break in field i
	// ended (oneLine)
	cutShort := func(line, i int) *ParseError {
		return &ParseError{Line: line, Column: i + 1, Field: b.one.name(i), Reason: reasonMalformed,
			Err: errors.New("a line break in a quoted field that may not hold one: a quote not closed where it should be?")}
	}
	for {
		from := cr.InputOffset() // where the record's text starts, blank lines before it included
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *csv.ParseError
			if !errors.As(err, &ce) {
				// not reachable for a bytes.Reader; keep the error
				out.recs = append(out.recs, csvRec{end: len(out.fields), line: off + 1,
					bad: &ParseError{Line: off + 1, Reason: reasonMalformed, Err: err}})
				continue
			}
			bad := &ParseError{Line: ce.StartLine + off, Reason: reasonMalformed,
				Err: fmt.Errorf("%w (line %d, byte %d)", ce.Err, ce.Line+off, ce.Column)}
			// A malformed record over several lines — a quote opened and
			// not closed where it should be — took the lines after its
			// first into one bad record: read them again, each a record of
			// its own, so that a lenient load loads or counts every one of
			// them. Where a line break ended the record first (oneLine),
			// also one at the end of the input, the error is that one's,
			// whatever encoding/csv found after it, so that it does not
			// depend on where a block ends.
			end, cut := 0, -1
			if ce.Line > ce.StartLine || b.one != nil {
				end, cut = recordEnd(from)
			}
			if cut >= 0 {
				bad = cutShort(ce.StartLine+off, cut)
			}
			out.recs = append(out.recs, csvRec{end: len(out.fields), line: ce.StartLine + off, bad: bad})
			if ce.Line > ce.StartLine || cut >= 0 {
				restart(end)
			}
			continue
		}
		first, _ := cr.FieldPos(0)
		if i := lineBreakIn(rec, b.one, comma); i >= 0 {
			// a line break field i may not hold: the record ends with
			// its line, malformed, and the lines after it are read again
			out.recs = append(out.recs, csvRec{end: len(out.fields), line: first + off, bad: cutShort(first+off, i)})
			end, _ := recordEnd(from)
			restart(end)
			continue
		}
		out.fields = append(out.fields, rec...)
		r := csvRec{end: len(out.fields), line: first + off, hash: hashFields(seed, rec)}
		if l, _ := cr.FieldPos(len(rec) - 1); l != first {
			lines := make([]int, len(rec))
			for i := range rec {
				l, _ := cr.FieldPos(i)
				lines[i] = l + off
			}
			if out.lines == nil {
				out.lines = make(map[int][]int)
			}
			out.lines[len(out.recs)] = lines
		}
		out.recs = append(out.recs, r)
	}
	return out
}

// lineBreakIn returns the index of the first field of rec that holds a
// line break one does not allow, -1 when there is none.
func lineBreakIn(rec []string, one *oneLine, comma rune) int {
	if one == nil {
		return -1
	}
	for i, f := range rec {
		switch one.kind(i) {
		case noLines:
			if strings.IndexByte(f, '\n') >= 0 {
				return i
			}
		case textLines:
			if strings.IndexByte(f, '\n') >= 0 && strings.ContainsRune(f, comma) {
				return i
			}
		}
	}
	return -1
}

// parsePlain parses a block without any quote as encoding/csv does: every
// line is a record of fields between separators, "\r\n" ends a line as
// "\n" does, a blank line is skipped and a "\r" right before the end of
// the input is dropped. Each record's text is one string, its fields
// substrings of it.
func parsePlain(out *csvBatch, b *csvBlock, comma rune, seed maphash.Seed) {
	sep := string(comma)
	data, line := b.data, b.line
	for len(data) > 0 {
		var text []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			text, data = data, nil // the last line, without a line break
		}
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		if len(text) == 0 {
			line++
			continue // a blank line
		}
		rec := string(text)
		start := len(out.fields)
		for {
			i := strings.Index(rec, sep)
			if i < 0 {
				out.fields = append(out.fields, rec)
				break
			}
			out.fields = append(out.fields, rec[:i])
			rec = rec[i+len(sep):]
		}
		out.recs = append(out.recs, csvRec{end: len(out.fields), line: line,
			hash: hashFields(seed, out.fields[start:])})
		line++
	}
}

// csvCut returns the length of the longest prefix of buf made of whole
// records, each ending with its line break, that also holds what
// csvRecordScan read to find where each ends (a record malformed, or cut
// short by one, on a later line): parseCSVBlock decides where such a
// record ends from the block alone. buf starts at a record.
func csvCut(buf []byte, comma rune, one *oneLine) int {
	if bytes.IndexByte(buf, '"') < 0 {
		// Without a quote every line is a record.
		return bytes.LastIndexByte(buf, '\n') + 1
	}
	n, safe, read := 0, 0, 0
	for {
		m, r, ok := csvRecordScan(buf[n:], comma, one)
		if !ok {
			return safe
		}
		read = max(read, n+r)
		n += m
		if read <= n {
			safe = n
		}
	}
}

// csvRecordEnd returns the length of the record at the start of buf, up
// to and including the line break that ends it, following the rules of
// encoding/csv (without LazyQuotes, TrimLeadingSpace or Comment): a
// record ends at the end of its line unless a quoted field is open
// there; a malformed field ends its record at the end of the line, or,
// when the record runs over several lines, at the end of its first line
// (parseCSVBlock reads the lines after it again). A field of one that
// runs over a line break makes its record malformed. ok is false when
// buf ends first.
func csvRecordEnd(buf []byte, comma rune, one *oneLine) (n int, ok bool) {
	n, _, ok = csvRecordScan(buf, comma, one)
	return n, ok
}

// csvRecordScan is csvRecordEnd, also returning how far it read to find
// the end: to the end of the line that shows a record over several lines
// malformed, past the first line its record ends with.
func csvRecordScan(buf []byte, comma rune, one *oneLine) (n, read int, ok bool) {
	n, read, _, ok = scanRecord(buf, comma, one)
	return n, read, ok
}

// scanRecord is csvRecordScan, also returning the index of the field
// whose line break ended the record by the rule of one, -1 when none did.
func scanRecord(buf []byte, comma rune, one *oneLine) (n, read, cut int, ok bool) {
	var sep [utf8.UTFMax]byte
	sep2 := sep[:utf8.EncodeRune(sep[:], comma)]
	pos := 0 // start of the current line in buf
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		return 0, 0, -1, false
	}
	line := content(buf[:nl+1])
	firstEnd := nl + 1 // the end of the record's first line
	col := 0           // index of the current field
	// malformed ends a malformed record: with its line, or with its first
	// line when it runs over several
	malformed := func() (int, int, int, bool) {
		if pos > 0 {
			return firstEnd, pos + nl + 1, -1, true
		}
		return nl + 1, nl + 1, -1, true
	}
	for {
		// at the start of a field
		if len(line) == 0 || line[0] != '"' {
			i := bytes.Index(line, sep2)
			field := line
			if i >= 0 {
				field = line[:i]
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return malformed() // a bare quote
			}
			if i < 0 {
				return pos + nl + 1, pos + nl + 1, -1, true // the last field
			}
			line = line[i+len(sep2):]
			col++
			continue
		}
		line = line[1:]
		// A line break the field may not hold ends the record, malformed,
		// with its line; in free text, once the field also holds the
		// separator (brk: the end of the line of its first line break).
		kind := one.kind(col)
		brk, sepIn := 0, false
		for {
			i := bytes.IndexByte(line, '"')
			if kind == textLines && !sepIn {
				seg := line
				if i >= 0 {
					seg = line[:i]
				}
				if sepIn = bytes.Contains(seg, sep2); sepIn && brk > 0 {
					return brk, pos + nl + 1, col, true
				}
			}
			if i < 0 {
				switch {
				case kind == noLines || kind == textLines && sepIn:
					return pos + nl + 1, pos + nl + 1, col, true
				case kind == textLines && brk == 0:
					brk = pos + nl + 1
				}
				// the quoted field goes on on the next line
				pos += nl + 1
				nl = bytes.IndexByte(buf[pos:], '\n')
				if nl < 0 {
					return 0, 0, -1, false
				}
				line = content(buf[pos : pos+nl+1])
				continue
			}
			line = line[i+1:]
			if len(line) > 0 && line[0] == '"' {
				line = line[1:] // an escaped quote
				continue
			}
			if bytes.HasPrefix(line, sep2) {
				line = line[len(sep2):]
				col++
				break // the next field
			}
			if len(line) == 0 {
				return pos + nl + 1, pos + nl + 1, -1, true // the end of the line and the record
			}
			return malformed() // a quote followed by anything else
		}
	}
}

// content returns a line without its line break ("\n" or "\r\n").
func content(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
