package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopaffinity/affinity/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.idx")
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "first")
		return err
	}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if want := "first"; string(got) != want {
		t.Errorf("file holds %q, want %q", got, want)
	}

	// A failing writer leaves the old file and no temporary behind.
	boom := errors.New("boom")
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write with a failing writer: error %v, want %v", err, boom)
	}
	got, err = os.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if want := "first"; string(got) != want {
		t.Errorf("after a failed Write the file holds %q, want %q", got, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	if want := 1; len(entries) != want {
		t.Errorf("%d entries in the directory, want %d: %v", len(entries), want, entries)
	}

	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "second")
		return err
	}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err = os.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if want := "second"; string(got) != want {
		t.Errorf("file holds %q, want %q", got, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.Mode().Perm()&0o044 == 0 {
		t.Errorf("readable by others, as os.Create would make it: mode %v", st.Mode().Perm())
	}

	if atomicfile.Write(filepath.Join(dir, "missing", "x"), func(io.Writer) error { return nil }) == nil {
		t.Fatal("Write into a missing directory: no error")
	}
}
