package segment_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
)

// WriteFeaturesCSV writes an index's features as Index.WriteCSV does, byte
// for byte; no features, the header alone.
func TestWriteFeaturesCSVMatchesWriteCSV(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(21, 21)), 300)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	var want, got bytes.Buffer
	require.NoError(t, x.WriteCSV(&want, x.All()))
	require.NoError(t, segment.WriteFeaturesCSV(&got, x.FeaturesOf(x.All())))
	require.Greater(t, bytes.Count(want.Bytes(), []byte("\n")), 100)
	require.Equal(t, want.String(), got.String())

	want.Reset()
	got.Reset()
	require.NoError(t, x.WriteCSV(&want, nil))
	require.NoError(t, segment.WriteFeaturesCSV(&got, nil))
	require.Equal(t, want.String(), got.String())
}
