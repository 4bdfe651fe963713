package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReplotReproducesReport: the committed report redrawn from the
// committed results (what -replot does, here into a temporary directory)
// is the committed report, byte for byte: the machine line included,
// which comes from the results and not from the machine redrawing them.
func TestReplotReproducesReport(t *testing.T) {
	runs, err := readResults("../../report")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, writeReport(dir, runs, io.Discard))
	got, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	want, err := os.ReadFile("../../report/report.md")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}
