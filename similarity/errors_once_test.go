package similarity_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// TestErrorsNameThePackageOnce: a bad look-back puts "Lookback" before
// the look-back's own message ("similarity: Lookback: affinity: invalid
// look-back …"), a corrupt file is "similarity: load PATH: corrupt index
// encoding: …"; each message names the package and says "invalid" once
// and matches its sentinels.
func TestErrorsNameThePackageOnce(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 20, Products: 5, Seed: 1, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	garbage := testdata.WriteFile(t, "garbage.bin", []byte("not an index at all, just some bytes"))
	count := func(h *affinity.History, asOf time.Time, opts similarity.CountOptions) func() error {
		return func() error { _, err := similarity.Count(ctx, h, asOf, opts); return err }
	}
	testdata.CheckErrors(t, "similarity: ", []testdata.ErrorCase{
		{Name: "Count with zero as-of", Call: count(h, time.Time{}, similarity.CountOptions{}), Is: []error{affinity.ErrNoAsOf}},
		{Name: "Count with negative look-back", Call: count(h, h.Latest(), similarity.CountOptions{Lookback: affinity.Months(-1)}), Is: []error{affinity.ErrInvalid},
			Text: "similarity: Lookback: affinity: invalid look-back -1 months"},
		{Name: "Count of nil History", Call: count(nil, h.Latest(), similarity.CountOptions{}), Is: []error{affinity.ErrNilArgument}},
		{Name: "LoadIndex of a corrupt file", Call: func() error { _, err := similarity.LoadIndex(garbage); return err }, Is: []error{similarity.ErrCorrupt},
			Text: "similarity: load " + garbage + ": corrupt index encoding"},
		{Name: "LoadIndex of a missing file", Call: func() error { _, err := similarity.LoadIndex(garbage + ".missing"); return err }, Is: []error{os.ErrNotExist}},
	})
}
