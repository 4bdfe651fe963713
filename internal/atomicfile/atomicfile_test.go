package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.idx")
	require.NoError(t, atomicfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "first")
		return err
	}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))

	// A failing writer leaves the old file and no temporary behind.
	boom := errors.New("boom")
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)

	require.NoError(t, atomicfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "second")
		return err
	}))
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode().Perm()&0o044, "readable by others, as os.Create would make it")

	require.Error(t, atomicfile.Write(filepath.Join(dir, "missing", "x"), func(io.Writer) error { return nil }))
}
