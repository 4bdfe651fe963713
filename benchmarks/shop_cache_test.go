package benchmarks

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// generateCached generates the 10 k-line shop into dir and returns it with
// the contents of its file and of its fingerprint.
func generateCached(t *testing.T, dir string) (sh *Shop, file, fp []byte) {
	t.Helper()
	sh, err := Generate(dir, 10_000)
	require.NoError(t, err)
	file, err = os.ReadFile(sh.Path)
	require.NoError(t, err)
	fp, err = os.ReadFile(sh.Path + ".fingerprint")
	require.NoError(t, err)
	return sh, file, fp
}

// TestGenerateRewritesStaleFiles checks the CSV cache: a file written
// from other purchases (another version of the generator) is written
// again, and a file that matches is kept as it is.
func TestGenerateRewritesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	sh, good, fp := generateCached(t, dir)

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

// TestGenerateRewritesOtherLayouts: a cached file of the same purchases
// in another CSV layout (written by an earlier writeCSV, whose
// fingerprint covered only the purchases) is written again.
func TestGenerateRewritesOtherLayouts(t *testing.T) {
	dir := t.TempDir()
	sh, good, fp := generateCached(t, dir)

	// the same purchases in another layout, fingerprinted by the
	// purchases alone
	purchasesOnly, _, _ := strings.Cut(string(fp), ", csv layout")
	require.NoError(t, os.WriteFile(sh.Path, []byte(strings.ReplaceAll(string(good), ",", ";")), 0o644))
	require.NoError(t, os.WriteFile(sh.Path+".fingerprint", []byte(purchasesOnly), 0o644))
	_, err := Generate(dir, 10_000)
	require.NoError(t, err)
	got, err := os.ReadFile(sh.Path)
	require.NoError(t, err)
	// (not require.Equal: its diff of two 700 KB files says no more)
	require.True(t, string(good) == string(got), "the file of another layout is written again")
}
