package shop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestFileProgressPanicReachesCaller checks that a Progress callback
// that panics in a "load" report of a file source reaches a recover of
// Open's caller, also for the reports made from the CSV loader's reading
// goroutine (those after its first two blocks of 256 KiB, which it reads
// before the parsing goroutine starts), where the panic would end the
// process.
func TestFileProgressPanicReachesCaller(t *testing.T) {
	old := progressBytes
	t.Cleanup(func() { progressBytes = old })
	progressBytes = 64 << 10
	var csv strings.Builder
	csv.WriteString("customer,product,time,quantity,price\n")
	for i := 0; csv.Len() < 3<<19; i++ {
		fmt.Fprintf(&csv, "c%d,p%d,2024-03-01,1,2.50\n", i%5000, i%300)
	}
	path := filepath.Join(t.TempDir(), "orders.csv")
	require.NoError(t, os.WriteFile(path, []byte(csv.String()), 0o644))
	var reports int
	rec := func() (rec any) {
		defer func() { rec = recover() }()
		s, err := Open(context.Background(), FileWith(path, dataset.Options{Workers: 1}), Options{
			Progress: func(p affinity.Progress) {
				if p.Step == "load" && p.Done > 600<<10 && p.Done < p.Total {
					reports++
					panic("progress callback bug")
				}
			}})
		require.NoError(t, err)
		s.Close()
		return nil
	}()
	require.Equal(t, 1, reports, "no report from the loader's reading goroutine")
	require.NotNil(t, rec, "Open returned instead of raising the callback's panic")
	assert.Contains(t, fmt.Sprint(rec), "progress callback bug")
}
