package dataset_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// LoadFile's errors name the file once, and keep their cause; a gzip
// error says "gzip" once.
func TestLoadFileErrorsNameTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
		return p
	}
	empty := write("empty.csv", "")
	var b affinity.Builder
	_, err := dataset.LoadFile(ctx, empty, &b, dataset.Options{})
	require.ErrorIs(t, err, dataset.ErrEmpty)
	assert.Equal(t, "dataset: "+empty+": empty input", err.Error())

	bad := write("bad.csv", "customer,product,time\nc1,p1,yesterday\n")
	_, err = dataset.LoadFile(ctx, bad, &b, dataset.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Line)
	assert.True(t, strings.HasPrefix(err.Error(), "dataset: "+bad+": line 2"), err.Error())

	gz := write("junk.csv.gz", "\x1f\x8bnot gzip at all")
	_, _, err = dataset.Open(ctx, gz, "onlineretail")
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, strings.Count(err.Error(), "gzip"), err.Error())
	assert.Contains(t, err.Error(), gz)
}
