package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/similarity"
)

// Input reaches the workers inside the read step's DoFn, which Beam
// serialises as JSON: a time layout with a Latin-1 byte ("à" of a French
// export, "\xe0") arrived as U+FFFD, no row's time parsed, and the job
// failed where the single machine loads the file.
func TestReadTimeLayoutNotUTF8(t *testing.T) {
	f := advWrite(t, t.TempDir(), "a.csv", []byte("customer,product,order,time,quantity,price\n"+
		"c1,A,o1,10/01/2024 \xe0 09:30,1,10\n"+
		"c1,B,o1,10/01/2024 \xe0 09:30,1,20\n"+
		"c2,A,o2,11/01/2024 \xe0 17:05,2,10\n"), false)
	in := pipeline.Input{Files: []string{f}, Format: "csv", TimeLayouts: []string{"02/01/2006 \xe0 15:04"}}
	h, err := pipeline.LoadHistory(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 3, h.NumLines())
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	advFeatures(t, in, pipeline.Features{AsOf: asOf})
	advCoPurchase(t, in, pipeline.CoPurchase{AsOf: asOf, Index: similarity.IndexOptions{K: 5, MinSupport: 1}})
}
