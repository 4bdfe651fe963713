package testdata

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// GzipPart writes the first head lines of the gzipped text file at path,
// then its last tail lines after those, to a gzipped file of the same
// name in t's temporary directory, and returns that file's path: a cut of
// a real file for the quick suite (a header and the most recent rows,
// say). It fails t when the file cannot be read or has at most head+tail
// lines, since the cut would then be the whole file. With tail 0 it reads
// the file only as far as the line after the head.
func GzipPart(t testing.TB, path string, head, tail int) string {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	write := func(line []byte) {
		if _, err := zw.Write(append(line, '\n')); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
	}
	sc := bufio.NewScanner(zr)
	ring := make([][]byte, tail) // the last tail lines after the head
	lines, rest := 0, 0
	for sc.Scan() {
		lines++
		if lines <= head {
			write(sc.Bytes())
			continue
		}
		if tail == 0 {
			// nothing kept after the head: one line more shows that
			// the cut is not the whole file, the rest need not be read
			rest++
			break
		}
		ring[rest%tail] = append(ring[rest%tail][:0], sc.Bytes()...)
		rest++
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if rest <= tail {
		t.Fatalf("%s has %d lines: no cut of %d+%d lines", path, lines, head, tail)
	}
	for i := range tail { // from the oldest line kept, at rest%tail
		write(ring[(rest+i)%tail])
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return out
}
