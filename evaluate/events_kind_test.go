package evaluate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
)

// TestEvaluateUnknownEventKind: an Options.Events kind that no event has
// (0, above the last kind, or 16 and beyond, which fell outside the
// 16-bit mask) was silently ignored: the report was that of the other
// kinds. It is an error naming the kind; every valid kind is taken.
func TestEvaluateUnknownEventKind(t *testing.T) {
	split := handSplit(t)
	run := func(kinds ...affinity.EventKind) error {
		_, err := evaluate.Evaluate(context.Background(), split, []evaluate.Recommender{handLists()}, evaluate.Options{K: 2, Events: kinds})
		return err
	}
	last := affinity.View
	for k := affinity.View; k.Valid(); k++ {
		last = k
	}
	for _, bad := range []affinity.EventKind{0, last + 1, 15, 16, 17, 255} {
		err := run(affinity.Rating, bad)
		require.Error(t, err, "kind %d", bad)
		assert.ErrorContains(t, err, "unknown event kind")
	}
	var all []affinity.EventKind
	for k := affinity.View; k <= last; k++ {
		all = append(all, k)
	}
	require.NoError(t, run(all...))
	require.NoError(t, run())
}
