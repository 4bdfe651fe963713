package segment

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lenReader reports a length that may be wrong.
type lenReader struct {
	io.Reader
	n int
}

func (l lenReader) Len() int { return l.n }

// TestReadAllReadsEverything: readAll returns exactly the rest of the
// input whether the reader reports its size truly, too small, too large
// or not at all.
func TestReadAllReadsEverything(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	path := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	partial := bytes.NewReader(data)
	if _, err := partial.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    io.Reader
		want []byte
	}{
		{"file at an offset", f, data[100:]},
		{"bytes reader", partial, data[7:]},
		{"strings reader", strings.NewReader(string(data)), data},
		{"length too small", lenReader{bytes.NewReader(data), 10}, data},
		{"length too large", lenReader{bytes.NewReader(data), len(data) * 2}, data},
		{"length zero", lenReader{bytes.NewReader(data), 0}, data},
		{"no length", io.MultiReader(bytes.NewReader(data[:5]), bytes.NewReader(data[5:])), data},
		{"empty", bytes.NewReader(nil), nil},
	} {
		got, err := readAll(tc.r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: read %d bytes, want %d", tc.name, len(got), len(tc.want))
		}
	}
}
