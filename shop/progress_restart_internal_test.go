package shop

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// stepTally counts the start and end reports of one progress step, once
// armed; first, when set, is called at the first start counted, on the
// reporting goroutine, and ended gets a value at each end.
type stepTally struct {
	step   string
	armed  atomic.Bool
	first  func()
	ended  chan struct{}
	mu     sync.Mutex
	starts int
	ends   int
}

func newStepTally(step string) *stepTally {
	return &stepTally{step: step, ended: make(chan struct{}, 16)}
}

func (c *stepTally) report(p affinity.Progress) {
	if !c.armed.Load() || p.Step != c.step || p.Total == 0 {
		return
	}
	c.mu.Lock()
	first := false
	switch p.Done {
	case 0:
		c.starts++
		first = c.starts == 1
	case p.Total:
		c.ends++
	}
	c.mu.Unlock()
	if first && c.first != nil {
		c.first()
	}
	if p.Done == p.Total {
		c.ended <- struct{}{}
	}
}

// counts returns the starts and ends counted so far.
func (c *stepTally) counts() (starts, ends int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.starts, c.ends
}

// waitEnd waits, within a bound, for an end report.
func (c *stepTally) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-c.ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("no end of step %q reported", c.step)
	}
}

// TestSegmentBuildRestartedReportsOneStart: a snapshot's segment build
// that a newer snapshot stops (nobody waiting) and that a request then
// starts again is one "segment" step: one start and one end, where the
// run begun again used to report a second start.
func TestSegmentBuildRestartedReportsOneStart(t *testing.T) {
	ctx := context.Background()
	tally := newStepTally("segment")
	entered, release := make(chan struct{}), make(chan struct{})
	tally.first = func() {
		close(entered)
		<-release // the build stops meanwhile
	}
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 300, Products: 20, Categories: 4, Seed: 5, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", Workers: 1, Progress: tally.report})
	require.NoError(t, err)
	defer s.Close()
	tally.armed.Store(true)
	// a refresh's snapshot, whose index is built once it is served
	snap, err := newSnapshot(ctx, s.Snapshot().h, dataset.Report{}, s.set, nil, 1, true)
	require.NoError(t, err)
	snap.segs.begin()
	<-entered
	snap.segs.replaced() // a newer snapshot is served: the build stops
	close(release)
	x, err := snap.SegmentIndex(ctx) // asked for: built again
	require.NoError(t, err)
	require.NotNil(t, x)
	tally.waitEnd(t)
	starts, ends := tally.counts()
	assert.Equal(t, 1, starts, "starts of the segment step")
	assert.Equal(t, 1, ends, "ends of the segment step")
}

// TestRefitRetryReportsOneStart: a background fit that fails after a
// newer refresh was served, followed by the fit of the newer history, is
// one "model" step: one start and one end, where the fit begun again
// used to report a second start.
func TestRefitRetryReportsOneStart(t *testing.T) {
	ctx := context.Background()
	tally := newStepTally("model")
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 60, Products: 20, Categories: 4, Seed: 3, ViewsPerLine: -1})
	s, err := Open(ctx, Storefront(sf), Options{Model: "neighbours", ModelRefit: RefitBackground, Workers: 1, Progress: tally.report})
	require.NoError(t, err)
	defer s.Close()
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	fit := func(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
		if calls.Add(1) == 2 {
			close(entered)
			<-release // the next refresh is served meanwhile
			return nil, errors.New("broken fit")
		}
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{})
	}
	s.set.chosen = &recommend.Candidate{Model: recommend.Model{Name: "custom", Fit: fit}}
	refresh := func(order string) {
		t.Helper()
		require.NoError(t, s.Refresh(ctx, Purchases(slices.Values(refitFeed(s.Snapshot().History(), order)))))
	}
	refresh("n1") // the model changed: fitted inline
	tally.armed.Store(true)
	refresh("n2") // fitted in the background: the fit that fails
	<-entered
	refresh("n3") // served while that fit runs
	close(release)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, s.WaitModel(wctx))
	require.Equal(t, int32(3), calls.Load(), "the newer history was not fitted")
	tally.waitEnd(t)
	starts, ends := tally.counts()
	assert.Equal(t, 1, starts, "starts of the model step")
	assert.Equal(t, 1, ends, "ends of the model step")
}
