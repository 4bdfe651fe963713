package shop

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestNoCompactionStartsAfterClose checks that an index made once Close
// has begun waiting for the shop's segment work (by a build a request
// waits for, which Close waits for too) starts no goroutine to swap it
// for its compaction: such a goroutine, started after Close began to
// wait, was not waited for and could still run after Close returned.
func TestNoCompactionStartsAfterClose(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 2000, Products: 60, Categories: 8, Days: 200, Seed: 7, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", Workers: 2})
	require.NoError(t, err)
	defer s.Close()
	release := HoldCompactionSwaps()
	defer release()
	require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(oneInEight(s.Snapshot())))))
	x, err := s.Snapshot().segs.get(ctx)
	require.NoError(t, err)
	require.NotNil(t, x.Compacting(), "the update started no build in the background")

	// Close waits for the work (after the life ended: it is left live
	// here, so that a goroutine started would wait for the hold, to be
	// seen)
	life, end := context.WithCancel(ctx)
	defer end()
	work := new(segWork)
	work.wait()
	// the shop's own, waiting for the hold: started by the refresh's
	// publication, perhaps not yet running (counted too early, it would
	// seem to start in builtSeg below)
	require.Eventually(t, func() bool { return swapGoroutines() >= 1 }, 10*time.Second, time.Millisecond, "the served snapshot's swap goroutine")
	held := swapGoroutines()
	builtSeg(x, life, work)
	assert.Equal(t, held, swapGoroutines(), "a goroutine to swap the index started after Close")
}

// swapGoroutines returns the number of goroutines waiting to swap an
// index for its compaction (compactLater).
func swapGoroutines() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "segIndex).compactLater")
}
