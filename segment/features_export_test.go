package segment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
)

// ScoreRFM on the features of an index, with the scores cleared, gives the
// scores of the index back.
func TestScoreRFMMatchesBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := dataset.Demo().History(ctx)
	require.NoError(t, err)
	for _, o := range []segment.Options{{}, {Lookback: affinity.Months(12), RFMRules: segment.DefaultRFMRules()[:4]}} {
		x, err := segment.Build(ctx, h, h.Latest(), o)
		require.NoError(t, err)
		want := x.FeaturesOf(x.All())
		ids := x.All().ToArray()
		require.Len(t, want, len(ids))
		for i := 0; i < len(ids); i += 97 {
			f, ok := x.Features(affinity.CustomerID(ids[i]))
			require.True(t, ok)
			require.Equal(t, f, want[i], "FeaturesOf is Features for many")
		}
		got := make([]segment.Features, len(want))
		for i, f := range want {
			f.R, f.F, f.M, f.RFM = 9, 9, 9, "x"
			got[i] = f
		}
		require.NoError(t, segment.ScoreRFM(got, h.Latest(), o))
		require.Equal(t, want, got)
		scored := 0
		for _, f := range got {
			if f.R > 0 {
				scored++
			}
		}
		require.Greater(t, scored, 100)
	}
	at := h.Latest()
	require.ErrorIs(t, segment.ScoreRFM(nil, at, segment.Options{TopN: -1}), segment.ErrInvalid)
	require.ErrorIs(t, segment.ScoreRFM(nil, at, segment.Options{RFMScoring: segment.RFMNTile}), segment.ErrInvalid)
	require.ErrorIs(t, segment.ScoreRFM(nil, time.Time{}, segment.Options{}), affinity.ErrNoAsOf)
}
