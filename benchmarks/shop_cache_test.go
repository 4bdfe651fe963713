package benchmarks

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGenerateRewritesStaleFiles checks the CSV cache: a file written
// from other purchases (another version of the generator) is written
// again, and a file that matches is kept as it is.
func TestGenerateRewritesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	sh, err := Generate(dir, 10_000)
	require.NoError(t, err)
	good, err := os.ReadFile(sh.Path)
	require.NoError(t, err)
	fp, err := os.ReadFile(sh.Path + ".fingerprint")
	require.NoError(t, err)

	// a file from another generator
	require.NoError(t, os.WriteFile(sh.Path, []byte("customer,order\nx,y\n"), 0o644))
	require.NoError(t, os.WriteFile(sh.Path+".fingerprint", []byte("1 purchases 0000000000000000"), 0o644))
	sh2, err := Generate(dir, 10_000)
	require.NoError(t, err)
	got, err := os.ReadFile(sh2.Path)
	require.NoError(t, err)
	require.Equal(t, good, got, "the stale file is written again")
	got, err = os.ReadFile(sh2.Path + ".fingerprint")
	require.NoError(t, err)
	require.Equal(t, fp, got)
	require.Equal(t, int64(len(good)), sh2.Bytes)

	// a matching file is not rewritten
	st, err := os.Stat(sh.Path)
	require.NoError(t, err)
	require.NoError(t, os.Chtimes(sh.Path, st.ModTime().Add(-3600e9), st.ModTime().Add(-3600e9)))
	before, err := os.Stat(sh.Path)
	require.NoError(t, err)
	_, err = Generate(dir, 10_000)
	require.NoError(t, err)
	after, err := os.Stat(sh.Path)
	require.NoError(t, err)
	require.Equal(t, before.ModTime(), after.ModTime(), "a matching file is kept")
}
