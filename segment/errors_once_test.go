package segment_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// TestErrorsNameThePackageOnce: a zero as-of time matches both ErrInvalid
// and affinity.ErrNoAsOf, as a nil argument matches ErrInvalid and
// affinity.ErrNilArgument; a bad look-back puts "Lookback" before the
// look-back's own message and matches ErrInvalid and affinity.ErrInvalid;
// a corrupt file is "segment: load PATH: corrupt index file: …". Each
// message names the package and says "invalid" once.
func TestErrorsNameThePackageOnce(t *testing.T) {
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 20, Products: 5, Seed: 1, ViewsPerLine: -1}).History(ctx)
	require.NoError(t, err)
	at := h.Latest()
	x, err := segment.Build(ctx, h, at, segment.Options{})
	require.NoError(t, err)
	garbage := testdata.WriteFile(t, "garbage.bin", []byte("not an index at all, just some bytes"))
	build := func(asOf time.Time, opts segment.Options) func() error {
		return func() error { _, err := segment.Build(ctx, h, asOf, opts); return err }
	}
	testdata.CheckErrors(t, "segment: ", []testdata.ErrorCase{
		{Name: "Build with zero as-of", Call: build(time.Time{}, segment.Options{}), Is: []error{segment.ErrInvalid, affinity.ErrNoAsOf}},
		{Name: "Build with negative look-back", Call: build(at, segment.Options{Lookback: affinity.Months(-1)}), Is: []error{segment.ErrInvalid, affinity.ErrInvalid},
			Text: "segment: Lookback: affinity: invalid look-back -1 months"},
		{Name: "Build with look-back of 10,001 years", Call: build(at, segment.Options{Lookback: affinity.Months(120_012)}), Is: []error{segment.ErrInvalid, affinity.ErrInvalid}},
		{Name: "Build of nil History", Call: func() error { _, err := segment.Build(ctx, nil, at, segment.Options{}); return err }, Is: []error{segment.ErrInvalid, affinity.ErrNilArgument}},
		{Name: "Update with zero as-of", Call: func() error { _, err := segment.Update(ctx, x, h, h, time.Time{}, segment.UpdateOptions{}); return err },
			Is: []error{segment.ErrInvalid, affinity.ErrNoAsOf}},
		{Name: "ScoreRFM with zero as-of", Call: func() error { return segment.ScoreRFM(nil, time.Time{}, segment.Options{}) }, Is: []error{segment.ErrInvalid, affinity.ErrNoAsOf}},
		{Name: "Load of a corrupt file", Call: func() error { _, err := segment.Load(garbage); return err }, Is: []error{segment.ErrCorrupt},
			Text: "segment: load " + garbage + ": corrupt index file"},
		{Name: "Load of a missing file", Call: func() error { _, err := segment.Load(garbage + ".missing"); return err }, Is: []error{os.ErrNotExist}},
	})
}
