package atomicfile_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/atomicfile"
)

// TestWritePanicRemovesTemporary: a write that panics leaves the old file
// and no temporary behind (a server that recovers and retries left one
// hidden file, and an open descriptor, per try).
func TestWritePanicRemovesTemporary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idx")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	for range 3 {
		require.Panics(t, func() {
			_ = atomicfile.Write(path, func(w io.Writer) error {
				_, _ = w.Write([]byte("half"))
				panic("boom")
			})
		})
	}
	assert.Equal(t, []string{"idx"}, advNames(t, dir))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
}

// TestWriteThroughSymlink: a path that is a symbolic link replaces the
// file it points to and keeps the link (a deployment pointing current.idx
// at a versioned file lost the link, and readers of the target read the
// old index).
func TestWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "v1.idx")
	link := filepath.Join(dir, "current.idx")
	require.NoError(t, os.WriteFile(real, []byte("old"), 0o600))
	require.NoError(t, os.Chmod(real, 0o600))
	if err := os.Symlink("v1.idx", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	require.NoError(t, advWrite(link, []byte("new")))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&os.ModeSymlink, "the link stays a link")
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	st, err = os.Stat(real)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.ElementsMatch(t, []string{"v1.idx", "current.idx"}, advNames(t, dir))
}

// TestWriteLongName: a name as long as the file system allows is
// written; the temporary's name repeats only the first part of it.
func TestWriteLongName(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("a", 250)
	if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
		t.Skipf("no 250-byte names here: %v", err)
	}
	require.NoError(t, advWrite(filepath.Join(dir, name), []byte("new")))
	got, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	assert.Equal(t, []string{name}, advNames(t, dir))
}
