package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestBoundedReaderMatchesCSV checks the quote tracking of boundedReader
// against encoding/csv's own writer: on random records with quotes,
// separators and line breaks inside fields, the reader passes input whose
// longest record and field are exactly at the limits and fails it one
// byte below either, naming the limit.
func TestBoundedReaderMatchesCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "\"", "\n", " ", "é", "¦", ","}
	for iter := range 500 {
		comma := []rune{',', ';', '¦', '\t'}[iter%4]
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma = comma
		maxRec, maxField := 0, 0
		for range 1 + r.IntN(6) {
			rec := make([]string, 1+r.IntN(4))
			for i := range rec {
				var f strings.Builder
				for range r.IntN(12) {
					f.WriteString(alphabet[r.IntN(len(alphabet))])
				}
				rec[i] = f.String()
			}
			if len(rec) == 1 && rec[0] == "" {
				rec[0] = "x" // a lone empty field is written as a blank line
			}
			var one bytes.Buffer
			ow := csv.NewWriter(&one)
			ow.Comma = comma
			require.NoError(t, ow.Write(rec))
			ow.Flush()
			maxRec = max(maxRec, one.Len()-1) // the line break ends the record
			for _, f := range rec {
				var fb bytes.Buffer
				fw := csv.NewWriter(&fb)
				fw.Comma = comma
				require.NoError(t, fw.Write([]string{f, "x"}))
				fw.Flush()
				maxField = max(maxField, fb.Len()-2-len(string(comma)))
			}
			require.NoError(t, w.Write(rec))
		}
		w.Flush()
		data := buf.Bytes()
		read := func(line, field int) error {
			br := newBoundedReader(bytes.NewReader(data), Limits{MaxLine: line, MaxField: field}.resolve(), true, comma, nil)
			_, err := io.Copy(io.Discard, br)
			return err
		}
		require.NoError(t, read(maxRec, maxField), "%q", data)
		err := read(maxRec-1, maxField)
		require.True(t, maxRec <= 1 || errors.Is(err, ErrLineTooLong), "%q: %v", data, err)
		if maxField > 1 {
			err = read(maxRec, maxField-1)
			require.ErrorIs(t, err, ErrLimit, "%q", data)
			require.ErrorContains(t, err, "MaxField")
		}
	}
}

// TestBoundedReaderChunking checks the whole-line fast path of scanCSV
// against the byte-by-byte scan, and that a limit error comes after the
// bytes before it however the input is split: on random input with
// quoted fields, blank lines and CRLF, CSV or lines, read whole, half a
// buffer or one byte at a time (which never takes the fast path but for
// blank lines) under random limits, the reader passes on the same bytes
// and gives the same error, at the same line, and counts the same lines.
func TestBoundedReaderChunking(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "bb", "\"", "\n", "\r\n", "\r", ",", "ccc", "é"}
	for range 3000 {
		var data []byte
		for range r.IntN(40) {
			data = append(data, alphabet[r.IntN(len(alphabet))]...)
		}
		lim := Limits{MaxLine: 1 + r.IntN(12), MaxField: 1 + r.IntN(12), MaxBytes: int64(1 + r.IntN(60))}.resolve()
		csv := r.IntN(4) != 0
		run := func(src io.Reader) (int, string, string) {
			br := newBoundedReader(src, lim, csv, ',', nil)
			var out bytes.Buffer
			_, err := io.Copy(&out, br)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			return br.line, msg, out.String()
		}
		wl, we, wo := run(iotest.OneByteReader(bytes.NewReader(data)))
		for _, src := range []io.Reader{bytes.NewReader(data), iotest.HalfReader(bytes.NewReader(data))} {
			gl, ge, gout := run(src)
			require.Equal(t, we, ge, "%q under %+v (csv %v)", data, lim, csv)
			require.Equal(t, wo, gout, "%q under %+v (csv %v)", data, lim, csv)
			require.Equal(t, wl, gl, "%q under %+v (csv %v)", data, lim, csv)
		}
	}
}

// TestBoundedReaderFollowsMalformedRecords checks the record sizes
// boundedReader bounds on malformed CSV: a quote inside an unquoted field
// or after a closing quote ends encoding/csv's record with its line, so a
// quote later on that line must not open a field that swallows the lines
// after it. On random text full of quotes, MaxLine at the longest record
// encoding/csv reads (csvRecordScan, checked against encoding/csv in
// TestCSVSourceMatchesEncodingCSV) passes.
func TestBoundedReaderFollowsMalformedRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	pieces := []string{"a", "bc", ",", ",", "\"", "\"", "\"\"", "\n", "\n", "\r\n", " "}
	for range 5000 {
		var b strings.Builder
		for range 1 + r.IntN(50) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		data := b.String()
		longest := 0
		for rest := []byte(data); len(rest) > 0; {
			// the reader follows a record to where its end is known: for
			// a malformed one over several lines, the line that shows it
			// (the parser then reads the lines after the first again)
			_, n, ok := csvRecordScan(rest, ',', nil)
			if !ok {
				n = len(rest) + 1 // the last record, without a line break
			}
			longest = max(longest, n-1)
			rest = rest[min(n, len(rest)):]
		}
		br := newBoundedReader(strings.NewReader(data), Limits{MaxLine: max(longest, 1), MaxField: -1}.resolve(), true, ',', nil)
		_, err := io.Copy(io.Discard, br)
		require.NoError(t, err, "%q: longest record %d bytes", data, longest)
	}
}

// TestLenientLoadSkipsMalformedRecord is the case that failed: a row with
// a stray quote, then a quote at the start of a later field of the same
// row, used to open a "quoted field" to the end of the file and stop a
// lenient load with a MaxLine error instead of skipping the row.
func TestLenientLoadSkipsMalformedRecord(t *testing.T) {
	for _, bad := range []string{"\"abc\"x,p1,\"def\n", "c\"1,p1,\"def\n"} {
		data := "customer,product,time\n" + bad + strings.Repeat("c1,p1,2024-01-01\n", 100)
		var b affinity.Builder
		rep, err := Load(context.Background(), strings.NewReader(data), &b, Options{Lenient: true, Limits: Limits{MaxLine: 200}})
		require.NoError(t, err, "%q", bad)
		require.Equal(t, 100, rep.Loaded, "%q", bad)
		require.Equal(t, []Skip{{Reason: reasonMalformed, Count: 1, FirstLine: 2}}, rep.Skipped, "%q", bad)
	}
}

// TestBoundedReaderLineBreaks checks that the line break ending a line or
// record ("\n" or "\r\n") counts for neither limit while a lone '\r'
// counts as a byte of its field and line, whether the input comes whole
// or one byte at a time (a "\r\n" split across reads), in CSV and line
// mode alike.
func TestBoundedReaderLineBreaks(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	pieces := []string{"a", "bc", ",", "\r", "\r\n", "\n", "\r\r\n"}
	for range 3000 {
		var lines [][]byte // lines without their "\n" or "\r\n"
		var data []byte
		for range 1 + r.IntN(30) {
			data = append(data, pieces[r.IntN(len(pieces))]...)
		}
		for l := range bytes.SplitSeq(data, []byte("\n")) {
			lines = append(lines, l)
		}
		longest, field := 0, 0
		for _, l := range lines {
			l = bytes.TrimSuffix(l, []byte("\r")) // "\r\n", or a '\r' at the end of the input
			longest = max(longest, len(l))
			for f := range bytes.SplitSeq(l, []byte(",")) {
				field = max(field, len(f))
			}
		}
		for _, csv := range []bool{true, false} {
			read := func(src io.Reader, line, fieldLim int) error {
				br := newBoundedReader(src, Limits{MaxLine: line, MaxField: fieldLim}.resolve(), csv, ',', nil)
				_, err := io.Copy(io.Discard, br)
				return err
			}
			for _, one := range []bool{false, true} {
				src := func() io.Reader {
					if one {
						return iotest.OneByteReader(bytes.NewReader(data))
					}
					return bytes.NewReader(data)
				}
				require.NoError(t, read(src(), max(longest, 1), max(field, 1)), "%q csv %v", data, csv)
				if longest > 1 {
					require.ErrorIs(t, read(src(), longest-1, -1), ErrLineTooLong, "%q csv %v", data, csv)
				}
				if csv && field > 1 {
					require.ErrorIs(t, read(src(), -1, field-1), ErrLimit, "%q", data)
				}
			}
		}
	}
}
