package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// refRecord is what one Read of a plain encoding/csv Reader over the whole
// input gives, in the loader's terms.
type refRecord struct {
	fields []string
	line   int
	lines  []int // per field
	bad    string
	fatal  string
}

// readReference reads the input with one encoding/csv Reader, the way the
// loaders read CSV before the input was split into blocks, but for one
// rule of the loaders: after a malformed record over several lines, the
// lines after its first are read again with a new Reader.
func readReference(r io.Reader, comma rune) []refRecord {
	out, _ := readReferenceRestarts(r, comma)
	return out
}

// readReferenceRestarts is readReference, also reporting whether a
// malformed record ran over several lines (and the rest was read again).
func readReferenceRestarts(r io.Reader, comma rune) (out []refRecord, restarted bool) {
	var prefix []byte    // input of the current Reader before what it reads of r
	var buf bytes.Buffer // what it read of r
	reader := func() *csv.Reader {
		buf.Reset()
		cr := csv.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(prefix), io.TeeReader(r, &buf))))
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		return cr
	}
	cr := reader()
	last, off := 0, 0 // off: lines before the current Reader's first
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, restarted
		}
		var ce *csv.ParseError
		switch {
		case err == nil:
			l, _ := cr.FieldPos(0)
			rr := refRecord{fields: rec, line: l + off}
			for i := range rec {
				fl, _ := cr.FieldPos(i)
				rr.lines = append(rr.lines, fl+off)
			}
			last = l + off
			out = append(out, rr)
		case errors.As(err, &ce):
			last = ce.StartLine + off
			out = append(out, refRecord{line: ce.StartLine + off,
				bad: noDetail(fmt.Sprintf("line %d: %v (line %d, byte %d)", ce.StartLine+off, ce.Err, ce.Line+off, ce.Column))})
			if ce.Line > ce.StartLine {
				cur := append(prefix[:len(prefix):len(prefix)], buf.Bytes()...)
				prefix = cur[lineStart(cur, ce.StartLine+1):]
				off += ce.StartLine
				cr = reader()
				restarted = true
			}
		default:
			return append(out, refRecord{fatal: fmt.Sprintf("line %d: %v", last+1, err)}), restarted
		}
	}
}

// badLine matches a malformed record's message: its first line, then
// what is wrong and where encoding/csv noticed it.
var badLine = regexp.MustCompile(`^(line \d+): `)

// noDetail keeps the line of a malformed record only: the lines after a
// malformed record that runs over several lines are read again, and the
// source's blocks end where such a record's first line does, so that
// what encoding/csv finds wrong with it, and where, depends on the
// reader (the records read again are the same either way).
func noDetail(bad string) string {
	if m := badLine.FindStringSubmatch(bad); m != nil {
		return m[1] + ": malformed"
	}
	return bad
}

// readReferenceOneLine reads text as readReference does, with the rule
// of oneLine: a record in which a quoted field of one (after the first
// record when header is set) runs over a line break is malformed, and
// ends with the line of that break; reading starts again on the next
// line. It finds the break by walking the record's text, which
// encoding/csv has parsed (up to the line of its error for a malformed
// record).
func readReferenceOneLine(text string, comma rune, header bool, one *oneLine) []refRecord {
	var out []refRecord
	rule := one
	if header {
		rule = nil
	}
	sep := string(comma)
	// breakLine returns the line (of rest) whose line break falls inside
	// a quoted field of rule in rec, the text of a record from the start
	// of line start; 0 when none does
	breakLine := func(rec string, start int) int {
		field, quoted, fieldStart := 0, false, true
		brk, sepIn := 0, false // of the current field: its first line break's line, the separator in it
		line := start
		for i := 0; i < len(rec); {
			switch c := rec[i]; {
			case quoted && c == '"' && i+1 < len(rec) && rec[i+1] == '"':
				i += 2
				continue
			case quoted && c == '"':
				quoted = false
			case quoted && c == '\n':
				switch rule.kind(field) {
				case noLines:
					return line
				case textLines:
					if sepIn {
						return line
					}
					if brk == 0 {
						brk = line
					}
				}
				line++
			case quoted && strings.HasPrefix(rec[i:], sep):
				if rule.kind(field) == textLines {
					if sepIn = true; brk > 0 {
						return brk
					}
				}
				i += len(sep)
				continue
			case !quoted && strings.HasPrefix(rec[i:], sep):
				field, fieldStart = field+1, true
				brk, sepIn = 0, false
				i += len(sep)
				continue
			case !quoted && c == '"' && fieldStart:
				quoted = true
			case c == '\n':
				line++
			}
			fieldStart = false
			i++
		}
		return 0
	}
	rest, off := text, 0
	for {
		cr := csv.NewReader(strings.NewReader(rest))
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		again := 0 // the line of rest to read again from
		for again == 0 {
			rec, err := cr.Read()
			if err == io.EOF {
				return out
			}
			var ce *csv.ParseError
			if err != nil {
				if !errors.As(err, &ce) {
					panic(err)
				}
				out = append(out, refRecord{line: ce.StartLine + off, bad: fmt.Sprintf("line %d: malformed", ce.StartLine+off)})
				// the record's text up to where encoding/csv found it
				// malformed (a separator before that point counts)
				upTo := min(lineStart([]byte(rest), ce.Line)+max(ce.Column-1, 0), len(rest))
				if eol := lineStart([]byte(rest), ce.Line+1); eol > upTo && strings.Trim(rest[upTo:eol], "\r\n") == "" {
					upTo = eol // at the end of its line (a quote open at the end of the input): the line break too
				}
				if k := breakLine(rest[lineStart([]byte(rest), ce.StartLine):upTo], ce.StartLine); k > 0 {
					again = k + 1
				} else if ce.Line > ce.StartLine {
					again = ce.StartLine + 1
				}
			} else {
				l, _ := cr.FieldPos(0)
				if k := breakLine(rest[lineStart([]byte(rest), l):cr.InputOffset()], l); k > 0 {
					out = append(out, refRecord{line: l + off, bad: fmt.Sprintf("line %d: malformed", l+off)})
					again = k + 1
				} else {
					rr := refRecord{fields: slices.Clone(rec), line: l + off}
					for i := range rec {
						fl, _ := cr.FieldPos(i)
						rr.lines = append(rr.lines, fl+off)
					}
					out = append(out, rr)
				}
			}
			if header && len(out) == 1 {
				rule = one
			}
		}
		at := lineStart([]byte(rest), again)
		if at >= len(rest) {
			return out
		}
		rest, off = rest[at:], off+again-1
	}
}

// readSource reads the input with csvSource.
func readSource(r io.Reader, comma rune) []refRecord {
	return readSourceOneLine(r, comma, false, nil)
}

// readSourceOneLine reads the input with csvSource, the fields of one
// holding no line break after the first record when header is set, in
// every record otherwise.
func readSourceOneLine(r io.Reader, comma rune, header bool, one *oneLine) []refRecord {
	seed := maphash.MakeSeed()
	src := newCSVSource(r, comma, seed, csvWorkers(), header, 1<<62)
	defer src.close()
	if !header {
		src.setOneLine(one)
	}
	var out []refRecord
	for {
		rec, bad, err := src.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return append(out, refRecord{fatal: fmt.Sprintf("line %d: %v", pe.Line, pe.Err)})
			}
			return append(out, refRecord{fatal: err.Error()})
		}
		if bad != nil {
			out = append(out, refRecord{line: src.line, bad: noDetail(fmt.Sprintf("line %d: %v", bad.Line, bad.Err))})
			if header && len(out) == 1 {
				src.setOneLine(one)
			}
			continue
		}
		if src.hash() != hashFields(seed, rec) {
			return append(out, refRecord{fatal: "the record's hash is not that of its fields"})
		}
		rr := refRecord{fields: append([]string(nil), rec...), line: src.line}
		for i := range rec {
			rr.lines = append(rr.lines, src.fieldLine(i))
		}
		out = append(out, rr)
		if header && len(out) == 1 {
			src.setOneLine(one)
		}
	}
}

// failAfter returns its bytes and then a read error instead of EOF.
type failAfter struct {
	r   io.Reader
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// randomCSV returns text made of the bytes that matter to CSV parsing.
func randomCSV(rng *rand.Rand, n int, comma rune) string {
	pieces := []string{"a", "bc", string(comma), string(comma), "\"", "\"", "\"\"", "\n", "\n", "\r\n", "\r", " ", "é", "\n\n"}
	var b strings.Builder
	for range n {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// TestCSVSourceMatchesEncodingCSV checks that cutting the input into blocks
// of whole records and parsing them in parallel gives exactly the records,
// line numbers and malformed-record errors of one encoding/csv Reader
// over the whole input, and the same records before a read error, for random text full of quotes,
// separators and line breaks, every block size from 1 byte up, with and
// without parsing goroutines.
func TestCSVSourceMatchesEncodingCSV(t *testing.T) {
	oldSize, oldWorkers := csvBlockSize, csvWorkers
	t.Cleanup(func() { csvBlockSize, csvWorkers = oldSize, oldWorkers })
	rng := rand.New(rand.NewPCG(7, 11))
	fatal := errors.New("disk on fire")
	for i := range testdata.Scale(3000, 400) {
		comma := []rune{',', ';', '\t', 'é'}[i%4]
		text := randomCSV(rng, rng.IntN(60), comma)
		if i%5 == 0 {
			// mostly plain lines, the fast path of the splitter
			text = strings.Repeat("x,y,z\n", rng.IntN(20)) + text + strings.Repeat("u,v\n", rng.IntN(20))
		}
		want := readReference(strings.NewReader(text), comma)
		// A read error ends the input after its last line break: a line it
		// cuts short is not parsed (encoding/csv would report a malformed
		// partial line before the error).
		whole := text[:strings.LastIndexByte(text, '\n')+1]
		wantFail, restarted := readReferenceRestarts(&failAfter{strings.NewReader(whole), fatal}, comma)
		for _, workers := range []int{0, 1, 3} {
			csvWorkers = func() int { return workers }
			csvBlockSize = 1 + rng.IntN(40)
			got := readSource(strings.NewReader(text), comma)
			require.Equal(t, want, got, "input %q, comma %q, block %d, workers %d", text, comma, csvBlockSize, workers)
			if restarted {
				// After a malformed record over several lines the Reader
				// over the whole input reads the rest again and may run
				// into the read error inside a record, where the source's
				// blocks end at the line breaks before it.
				continue
			}
			got = readSource(&failAfter{strings.NewReader(text), fatal}, comma)
			require.Equal(t, wantFail, got, "input %q with a read error, comma %q, block %d, workers %d", text, comma, csvBlockSize, workers)
		}
	}
}

// TestCSVSourceOneLine checks the source against readReferenceOneLine
// when some fields hold no line break (oneLine): the records, lines and
// malformed records of encoding/csv over the whole input, but for the
// records a line break in such a field cuts short, and the lines read
// again after them. Random text full of quotes, separators and line
// breaks, with a header or without, every block size from 1 byte up,
// with and without parsing goroutines.
func TestCSVSourceOneLine(t *testing.T) {
	oldSize, oldWorkers := csvBlockSize, csvWorkers
	t.Cleanup(func() { csvBlockSize, csvWorkers = oldSize, oldWorkers })
	rng := rand.New(rand.NewPCG(5, 13))
	restarts := 0
	for i := range testdata.Scale(3000, 400) {
		comma := []rune{',', ';', '\t', 'é'}[i%4]
		text := randomCSV(rng, rng.IntN(80), comma)
		one := &oneLine{all: []lineKind{anyLines, noLines, textLines}[i%3]}
		if one.all == anyLines {
			one.cols = make([]lineKind, 1+rng.IntN(4))
			for c := range one.cols {
				one.cols[c] = lineKind(rng.IntN(3))
			}
		}
		header := i%2 == 1
		want := readReferenceOneLine(text, comma, header, one)
		if !slices.EqualFunc(readReference(strings.NewReader(text), comma), want, func(a, b refRecord) bool {
			return a.line == b.line && a.bad == b.bad && slices.Equal(a.fields, b.fields)
		}) {
			restarts++
		}
		for _, workers := range []int{0, 1, 3} {
			csvWorkers = func() int { return workers }
			csvBlockSize = 1 + rng.IntN(40)
			got := readSourceOneLine(strings.NewReader(text), comma, header, one)
			require.Equal(t, want, got, "input %q, comma %q, header %v, one %+v, block %d, workers %d", text, comma, header, one, csvBlockSize, workers)
		}
	}
	// the rule changed the records of a good share of the inputs
	require.Greater(t, restarts, testdata.Scale(3000, 400)/10)
}

// TestCSVSourceCloseEarly checks that a load that stops early stops the
// parsing goroutines and leaves no read of the input behind.
func TestCSVSourceCloseEarly(t *testing.T) {
	oldSize, oldWorkers := csvBlockSize, csvWorkers
	t.Cleanup(func() { csvBlockSize, csvWorkers = oldSize, oldWorkers })
	csvBlockSize, csvWorkers = 64, func() int { return 2 }
	text := strings.Repeat("c1,o1,p1,2024-01-01,1,2.50\n", 10000)
	r := &countingReader{r: strings.NewReader(text)}
	src := newCSVSource(r, ',', maphash.MakeSeed(), csvWorkers(), false, 1<<62)
	for range 10 {
		_, _, err := src.next()
		require.NoError(t, err)
	}
	src.close()
	n := r.n
	require.Less(t, n, len(text), "the whole input was read for 10 records")
	src.close() // a second close is harmless
	require.Equal(t, n, r.n, "the input was read after close")
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestLoadBlocksMatchSequential loads a file of many blocks, with quoted
// names, multi-line fields, malformed and duplicate rows, once with
// parsing goroutines and small blocks and once on one goroutine, and
// checks that the purchases and the report are the same.
func TestLoadBlocksMatchSequential(t *testing.T) {
	oldSize, oldWorkers := csvBlockSize, csvWorkers
	t.Cleanup(func() { csvBlockSize, csvWorkers = oldSize, oldWorkers })
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("customer,order,product,name,time,quantity,price\n")
	for i := range testdata.Scale(20000, 5000) { // 5,000 lines: 260 KB, still four blocks of 65,536 bytes
		name := fmt.Sprintf("Item %d", i%300)
		switch rng.IntN(50) {
		case 0:
			name = fmt.Sprintf("\"Item, %d\"", i%300) // quoted, with a separator
		case 1:
			name = "\"two\nlines\"" // a field over two lines
		case 2:
			name = "bad \" quote" // malformed
		}
		line := fmt.Sprintf("c%d,o%d,p%d,%s,2024-%02d-%02d 10:%02d:00,%d,%d.%02d\n",
			i/7, i/3, rng.IntN(500), name, 1+i%12, 1+i%28, i%60, 1+rng.IntN(3), rng.IntN(20), rng.IntN(100))
		b.WriteString(line)
		if rng.IntN(100) == 0 {
			b.WriteString(line) // an exact duplicate
		}
		if rng.IntN(200) == 0 {
			b.WriteString("\r\n") // a blank line
		}
	}
	data := b.String()
	load := func(workers, block int) ([]affinity.Purchase, Report) {
		csvWorkers, csvBlockSize = func() int { return workers }, block
		var bl affinity.Builder
		rep, err := Load(context.Background(), strings.NewReader(data), &bl, Options{Lenient: true})
		require.NoError(t, err)
		h, err := bl.Build(context.Background())
		require.NoError(t, err)
		return slices.Collect(h.Purchases()), rep
	}
	want, wantRep := load(0, len(data)+1)
	require.NotZero(t, wantRep.Duplicates)
	require.NotEmpty(t, wantRep.Skipped)
	for _, w := range []int{1, 3} {
		for _, block := range []int{100, 4096, 65536} {
			got, rep := load(w, block)
			require.Equal(t, wantRep, rep, "workers %d, block %d", w, block)
			require.Equal(t, want, got, "workers %d, block %d", w, block)
		}
	}
	// Options.Workers overrides the default: none, or two
	csvWorkers, csvBlockSize = func() int { return 3 }, 4096
	for _, w := range []int{-1, 2} {
		var bl affinity.Builder
		rep, err := Load(context.Background(), strings.NewReader(data), &bl, Options{Lenient: true, Workers: w})
		require.NoError(t, err)
		h, err := bl.Build(context.Background())
		require.NoError(t, err)
		require.Equal(t, wantRep, rep, "Options.Workers %d", w)
		require.Equal(t, want, slices.Collect(h.Purchases()), "Options.Workers %d", w)
	}
	var bl affinity.Builder
	_, err := Load(context.Background(), strings.NewReader(data), &bl, Options{Workers: MaxWorkers + 1})
	require.ErrorContains(t, err, "MaxWorkers")
}

// TestCSVSourceRecordLimit checks the source's own bound on a record: a
// quote that opens a field of many short lines (which the reader in front
// of the source may not have seen open, after lines read again) stops the
// source with the MaxLine error at the record's line once the record is
// longer than the limit, having buffered little more than that.
func TestCSVSourceRecordLimit(t *testing.T) {
	oldSize, oldWorkers := csvBlockSize, csvWorkers
	t.Cleanup(func() { csvBlockSize, csvWorkers = oldSize, oldWorkers })
	text := "a,b\nx,y\nx,\"" + strings.Repeat("short line\n", 100_000)
	for _, workers := range []int{0, 2} {
		for _, header := range []bool{false, true} {
			csvBlockSize, csvWorkers = 64, func() int { return workers }
			r := &countingReader{r: strings.NewReader(text)}
			src := newCSVSource(r, ',', maphash.MakeSeed(), csvWorkers(), header, 4096)
			var err error
			records := 0
			for err == nil {
				_, _, err = src.next()
				records++
			}
			src.close()
			var pe *ParseError
			require.ErrorAs(t, err, &pe, "workers %d", workers)
			require.ErrorIs(t, err, ErrLimit)
			require.Equal(t, 3, pe.Line)
			require.ErrorContains(t, err, "Limits.MaxLine")
			require.Equal(t, 3, records, "two records, then the error")
			require.Less(t, r.n, 64<<10, "read far beyond the limit")
		}
	}
	// the whole record fits: no error
	src := newCSVSource(strings.NewReader("a,\""+strings.Repeat("z\n", 1000)+"\"\n"), ',', maphash.MakeSeed(), 0, false, 4096)
	rec, bad, err := src.next()
	require.NoError(t, err)
	require.Nil(t, bad)
	require.Len(t, rec, 2)
}

// TestCSVSourceRecordLimitLifted: MaxLine -1 (no limit) resolves to the
// largest int64, and the source's bound added 2 to it: the sum wrapped,
// and every record longer than a buffer failed "more than Limits.MaxLine
// = 9223372036854775807".
func TestCSVSourceRecordLimitLifted(t *testing.T) {
	big := strings.Repeat("x", 60<<10) // each under the default MaxField
	var b strings.Builder
	b.WriteString("customer,order,product,time")
	for i := range 10 {
		b.WriteString(",note" + string(rune('a'+i)))
	}
	b.WriteString("\nc1,o1,p1,2024-01-01")
	for range 10 {
		b.WriteString("," + big)
	}
	b.WriteString("\nc2,o2,p2,2024-01-02,,,,,,,,,,\n")
	for _, maxLine := range []int{-1, math.MaxInt, 1 << 40} {
		for _, w := range []int{-1, 0, 4} {
			var bl affinity.Builder
			rep, err := Load(context.Background(), strings.NewReader(b.String()), &bl, Options{Workers: w, Limits: Limits{MaxLine: maxLine}})
			require.NoError(t, err, "MaxLine %d, workers %d", maxLine, w)
			require.Equal(t, 2, rep.Loaded)
		}
	}
}

// TestCSVSourceOneLineCases: inputs the random ones rarely make. A record
// that the input ends without a line break was cut at its first line
// where a line break in a field of free text, after a note over two
// lines, ends it; and the strict error of a stray quote that a bare quote
// closes on a later line was encoding/csv's when the splitter had ended a
// block after the stray quote's line, and the line-break one otherwise.
func TestCSVSourceOneLineCases(t *testing.T) {
	oldSize, oldWorkers := csvBlockSize, csvWorkers
	t.Cleanup(func() { csvBlockSize, csvWorkers = oldSize, oldWorkers })
	one := &oneLine{cols: []lineKind{anyLines, noLines, textLines}}
	for _, text := range []string{
		"\"note\nmore\",o1,\"Mug\nx,y\"",
		"\"note\nmore\",o1,\"Mug\nx,y\"\n",
		"n,o1,\"Mug\nx\"",
		"n,\"o1\no2\",Mug",
	} {
		want := readReferenceOneLine(text, ',', false, one)
		for _, block := range []int{len(text) + 1, 1, 7} {
			csvWorkers, csvBlockSize = func() int { return 0 }, block
			require.Equal(t, want, readSourceOneLine(strings.NewReader(text), ',', false, one), "%q, block %d", text, block)
		}
	}

	data := "customer,order,product,time,quantity\n" + strings.Repeat("c1,o1,p1,2024-01-01,1\n", 3) +
		"c2,o2,p2,2024-01-01,\"2\n" + // a stray quote in a quantity
		"c3,o3,p3,2024-01-01,3\"\n" + // a bare quote that closes it
		"c4,o4,p4,2024-01-01,4\n"
	var first string
	for _, block := range []int{256 << 10, 16, 30, 45, 60, 100, 130} {
		for _, workers := range []int{0, 2} {
			csvWorkers, csvBlockSize = func() int { return workers }, block
			var b affinity.Builder
			_, err := Load(context.Background(), strings.NewReader(data), &b, Options{})
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			got := fmt.Sprintf("line %d, column %d, field %q: %v", pe.Line, pe.Column, pe.Field, err)
			if first == "" {
				first = got
				require.Equal(t, 5, pe.Line)
				require.Equal(t, "quantity", pe.Field)
			}
			require.Equal(t, first, got, "block %d, workers %d", block, workers)
		}
	}
}

// lineStart returns the offset in data of the start of line n (1-based),
// len(data) when data has fewer lines.
func lineStart(data []byte, n int) int {
	at := 0
	for range n - 1 {
		i := bytes.IndexByte(data[at:], '\n')
		if i < 0 {
			return len(data)
		}
		at += i + 1
	}
	return at
}

// TestParseCSVBlockReservation: parseCSVBlock reserves room for the
// fields a block can hold, never more than one per byte and one: a first
// line of many separators before many short lines once reserved their
// product (a row of k commas and k blank lines, 2k bytes, asked for k²
// strings). The records parsed are those of encoding/csv either way.
func TestParseCSVBlockReservation(t *testing.T) {
	k := 500
	cases := map[string]string{
		"blank lines":  strings.Repeat(",", k) + "\n" + strings.Repeat("\n", k),
		"short lines":  strings.Repeat(";", k) + "\n" + strings.Repeat("a\n", k),
		"quoted":       "\"x\"" + strings.Repeat(",", k) + "\n" + strings.Repeat("\r\n", k),
		"one line":     strings.Repeat(",", k),
		"many fields":  strings.Repeat(strings.Repeat(",", 20)+"\n", k),
		"a field each": strings.Repeat("a\n", k),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			comma := ','
			if strings.HasPrefix(data, ";") {
				comma = ';'
			}
			b := &csvBlock{data: []byte(data), line: 1, lines: strings.Count(data, "\n"), last: true}
			out := parseCSVBlock(b, comma, maphash.MakeSeed(), nil)
			require.LessOrEqual(t, cap(out.fields), len(data)+1, "fields reserved")
			require.LessOrEqual(t, len(out.fields), cap(out.fields))

			cr := csv.NewReader(strings.NewReader(data))
			cr.Comma, cr.FieldsPerRecord = comma, -1
			want, err := cr.ReadAll()
			require.NoError(t, err)
			require.Len(t, out.recs, len(want))
			from := 0
			for i, r := range out.recs {
				require.Nil(t, r.bad)
				require.Equal(t, want[i], out.fields[from:r.end], "record %d", i)
				from = r.end
			}
		})
	}
}
