package atomicfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/atomicfile"
)

func advWrite(path string, data []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func advNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestAdvWriteFresh: a new path gets exactly what write wrote, in many
// small writes and one large one, and an empty file when write writes
// nothing; nothing else is left in the directory.
func TestAdvWriteFresh(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	cases := map[string]func(w io.Writer) error{
		"empty": func(io.Writer) error { return nil },
		"many small": func(w io.Writer) error {
			for i := range 10_000 {
				if _, err := fmt.Fprintf(w, "%d\n", i); err != nil {
					return err
				}
			}
			return nil
		},
		"one large": func(w io.Writer) error { _, err := w.Write(big); return err },
	}
	want := map[string][]byte{"empty": {}, "one large": big}
	var b bytes.Buffer
	for i := range 10_000 {
		fmt.Fprintf(&b, "%d\n", i)
	}
	want["many small"] = b.Bytes()
	for name, write := range cases {
		path := filepath.Join(dir, name)
		require.NoError(t, atomicfile.Write(path, write), name)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want[name], got), "%s: %d bytes, want %d", name, len(got), len(want[name]))
	}
	assert.ElementsMatch(t, []string{"empty", "many small", "one large"}, advNames(t, dir))
}

// TestAdvWriteErrorOnNewPath: a failing write for a path that did not
// exist leaves no file and no temporary; the error is returned wrapped or
// as is.
func TestAdvWriteErrorOnNewPath(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	path := filepath.Join(dir, "new")
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, _ = w.Write(bytes.Repeat([]byte{'x'}, 1<<16)) // more than a buffer
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = os.Stat(path)
	assert.True(t, errors.Is(err, os.ErrNotExist), "a failed write created the file")
	assert.Empty(t, advNames(t, dir), "temporary left behind")
}

// TestAdvWriteMode: a file replaced keeps its mode (an index of customer
// keys kept at 0600 stays private; it became 0644), and a new file gets
// 0666 less the umask, as os.Create gives.
func TestAdvWriteMode(t *testing.T) {
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644} {
		path := filepath.Join(dir, "f"+mode.String())
		require.NoError(t, os.WriteFile(path, []byte("old"), mode))
		require.NoError(t, os.Chmod(path, mode)) // whatever the umask
		require.NoError(t, advWrite(path, []byte("new")))
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, mode, st.Mode().Perm())
	}
	require.NoError(t, advWrite(filepath.Join(dir, "g"), nil))
	st, err := os.Stat(filepath.Join(dir, "g"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o666)&^os.FileMode(umask), st.Mode().Perm())
}

// TestAdvWriteOverDirectory: path naming a directory is an error that
// leaves the directory and its content, and no temporary.
func TestAdvWriteOverDirectory(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "keep"), []byte("k"), 0o644))
	require.Error(t, advWrite(sub, []byte("x")))
	got, err := os.ReadFile(filepath.Join(sub, "keep"))
	require.NoError(t, err)
	assert.Equal(t, "k", string(got))
	assert.Equal(t, []string{"sub"}, advNames(t, dir))
}

// TestAdvWriteRelative: a relative path, in the working directory.
func TestAdvWriteRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, advWrite("rel.idx", []byte("r")))
	got, err := os.ReadFile(filepath.Join(dir, "rel.idx"))
	require.NoError(t, err)
	assert.Equal(t, "r", string(got))
	assert.Equal(t, []string{"rel.idx"}, advNames(t, dir))
}

// TestAdvWritePanic: a panicking write propagates to the caller and
// leaves the old file in place.
func TestAdvWritePanic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, advWrite(path, []byte("good")))
	assert.Panics(t, func() {
		_ = atomicfile.Write(path, func(w io.Writer) error {
			_, _ = w.Write([]byte("half"))
			panic("adv")
		})
	})
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "good", string(got))
}

// TestAdvWriteConcurrentReaders: while writers replace the file again and
// again (each with a content of its own, of different lengths), readers
// only ever see one whole content, never a mix or a prefix; afterwards
// the file holds one writer's last content and no temporary is left.
func TestAdvWriteConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	content := func(w, round int) []byte {
		return bytes.Repeat([]byte{byte('a' + w), byte('0' + round%10)}, 1000+w*5000+round)
	}
	require.NoError(t, advWrite(path, content(0, 0)))
	valid := map[string]bool{}
	for w := range 3 {
		for r := range 5 {
			valid[string(content(w, r))] = true
		}
	}
	var stop atomic.Bool
	var bad atomic.Value
	var wg sync.WaitGroup
	var readers sync.WaitGroup
	readers.Go(func() {
		for !stop.Load() {
			got, err := os.ReadFile(path)
			if err != nil {
				bad.Store("read: " + err.Error())
				return
			}
			if !valid[string(got)] {
				bad.Store(fmt.Sprintf("a reader saw %d bytes that no writer wrote whole", len(got)))
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	})
	for w := range 3 {
		wg.Go(func() {
			for r := range 5 {
				if err := advWrite(path, content(w, r)); err != nil {
					bad.Store("write: " + err.Error())
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	last := map[string]bool{}
	for w := range 3 {
		last[string(content(w, 4))] = true
	}
	assert.True(t, last[string(got)], "the file holds no writer's last content")
	assert.Equal(t, []string{"f"}, advNames(t, dir))
}
