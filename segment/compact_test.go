package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// TestUpdateCompacts follows chains of updates with
// UpdateOptions.Compact, which start full builds in the background and
// lay later deltas over them, and requires every index of the chain to
// answer as the full build of its History does: whether the background
// build was done by the next update (waited for here at random) or not,
// across later days, erasures, catalog additions and fallbacks.
func TestUpdateCompacts(t *testing.T) {
	ctx := context.Background()
	defer segment.SetCompactShare(1 << 40)() // every layered update starts one
	// the quick suite's 4 seeds make 24 steps, most of them laid over a
	// background build (the race detector's quick run takes 6)
	seeds := uint64(testdata.Scale(30, 4))
	if raceEnabled {
		seeds = uint64(testdata.Scale(20, 6))
	}
	var steps, layered, rebased, started, waited int
	for seed := range seeds {
		r := rand.New(rand.NewPCG(seed, 1113))
		g, opts, h, x := builtUpdateGen(t, r, 2, 14)
		for step := range 6 {
			msg := fmt.Sprintf("seed %d step %d (%d customers, options %+v)", seed, step, h.NumCustomers(), opts)
			h2 := g.next(t, h, 1+r.IntN(2), msg)
			if r.IntN(10) == 0 { // a day later
				g.asOf = g.asOf.Add(segment.Day)
				g.window(opts)
			}
			got, gerr := segment.Update(ctx, x, h, h2, g.asOf, segment.UpdateOptions{Compact: true})
			want, werr := segment.Build(ctx, h2, g.asOf, opts)
			steps++
			if werr != nil {
				require.Error(t, gerr, "%s: Build fails with %v", msg, werr)
				break
			}
			require.NoError(t, gerr, msg)
			if segment.Layered(got) {
				layered++
				if segment.Layered(x) && segment.Base(got) != segment.Base(x) {
					rebased++ // laid over the background build of an earlier History
				}
			}
			queries, bad := updateQueries(r, want, h2.Catalog(), 3, 3)
			requireSameIndex(t, msg, r, got, want, x, h2, updateCheck{queries: queries, bad: bad, random: 10, keys: g.keys})
			if r.IntN(2) == 0 && segment.WaitCompaction(got) {
				waited++
			}
			if segment.Layered(got) && segment.WaitCompaction(got) {
				started++
			}
			x, h = got, h2
		}
		// the last index again, after every background build is done
		want, err := segment.Build(ctx, h, g.asOf, opts)
		if err == nil {
			queries, bad := updateQueries(r, want, h.Catalog(), 3, 3)
			requireSameIndex(t, fmt.Sprintf("seed %d, at the end", seed), r, x, want, x, h, updateCheck{queries: queries, bad: bad, random: 10, keys: g.keys})
		}
	}
	t.Logf("%d steps: %d layered, %d of them over a background build; %d background builds, %d waited for at once",
		steps, layered, rebased, started, waited)
	require.Greater(t, started, steps/4, "too few background builds")
	require.Greater(t, rebased, steps/8, "too few updates laid over a background build")
}

// TestUpdateCompactsAfterTime requires that a chain of updates with
// Compact lays its delta over the background build once that is done,
// without being waited for: the delta then shrinks to the customers
// touched since.
func TestUpdateCompactsAfterTime(t *testing.T) {
	ctx := context.Background()
	defer segment.SetCompactShare(1 << 40)()
	r := rand.New(rand.NewPCG(3, 5))
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 80}
	h := g.history(t, 8)
	x, err := segment.Build(ctx, h, g.asOf, segment.Options{})
	require.NoError(t, err)
	var bases []*segment.Index
	for step := range 4 {
		h2 := g.next(t, h, 2)
		got, err := segment.Update(ctx, x, h, h2, g.asOf, segment.UpdateOptions{Compact: true})
		require.NoError(t, err)
		require.True(t, segment.Layered(got), "step %d", step)
		bases = append(bases, segment.Base(got))
		deadline := time.Now().Add(time.Minute)
		for segment.Layered(got) && !segment.CompactionDone(got) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		x, h = got, h2
	}
	// step 0 lies over the first full build and starts a background
	// build of its History; step 1 lies over that one, and so on
	for i := 1; i < len(bases); i++ {
		require.NotSame(t, bases[i-1], bases[i], "step %d: the same base as the step before", i)
	}
}

// TestCompacted requires that Compacted lays an updated index over its
// finished background build, answer for answer the full build of its
// History, whether updates came after the build started or not (then the
// build itself), and that it returns the index itself when there is
// nothing to lay it over.
func TestCompacted(t *testing.T) {
	ctx := context.Background()
	defer segment.SetCompactShare(1 << 40)() // every layered update starts one
	var adopted, withSince, kept int
	// The background builds wait until the test waits for them, so that
	// the update after a "continue" below always finds its build under
	// way: how far a build got while the test made the next History
	// decided it (a build done by then is laid under that update, which
	// starts the next with no customer touched since), and with fast
	// builds no adopted build had customers touched since it began
	// (withSince 0, about one run in twenty under -race -cpu 1,2,4).
	held := &heldBuilds{}
	defer held.release()
	for seed := range uint64(testdata.Scale(16, 4)) { // the quick suite's 4 adopt about 10 builds
		r := rand.New(rand.NewPCG(seed, 2207))
		g, opts, h, x := builtUpdateGen(t, r, 4, 10)
		same, err := x.Compacted(ctx, segment.UpdateOptions{})
		require.NoError(t, err)
		require.Same(t, x, same, "seed %d: a built index has nothing to lay over", seed)
		require.Nil(t, x.Compacting())
		for step := range 5 {
			msg := fmt.Sprintf("seed %d step %d (%d customers, options %+v)", seed, step, h.NumCustomers(), opts)
			h2 := g.next(t, h, 1+r.IntN(2), msg)
			got, err := segment.Update(held.update(ctx), x, h, h2, g.asOf, segment.UpdateOptions{Compact: true, Background: held.background()})
			require.NoError(t, err, msg)
			x, h = got, h2
			ch := got.Compacting()
			if ch == nil || r.IntN(2) == 0 {
				continue // another update first: customers touched since
			}
			held.release()
			select {
			case <-ch:
			case <-time.After(time.Minute):
				t.Fatalf("%s: the background build did not finish within a minute", msg)
			}
			started := !segment.CompactionSince(got).IsEmpty()
			done, stop := context.WithCancel(ctx)
			stop()
			_, err = got.Compacted(done, segment.UpdateOptions{})
			require.ErrorIs(t, err, context.Canceled, "%s: a done context, even where the result takes no work", msg)
			y, err := got.Compacted(held.update(ctx), segment.UpdateOptions{Compact: true, Background: held.background()})
			require.NoError(t, err, msg)
			want, werr := segment.Build(ctx, h, g.asOf, opts)
			require.NoError(t, werr, msg)
			if y == got {
				kept++ // a build that cannot be the base, or too many touched since
				continue
			}
			adopted++
			if started {
				withSince++
			}
			require.NotSame(t, segment.Base(got), segment.Base(y), "%s: laid over the same base", msg)
			if started {
				require.True(t, segment.Layered(y), msg)
				require.Equal(t, segment.CompactionSince(got).ToArray(), segment.Touched(y).ToArray(),
					"%s: the delta holds the customers touched since the build", msg)
			} else {
				require.False(t, segment.Layered(y), "%s: nothing touched since the build: the build itself", msg)
			}
			queries, bad := updateQueries(r, want, h.Catalog(), 3, 3)
			requireSameIndex(t, msg, r, y, want, got, h, updateCheck{queries: queries, bad: bad, random: 10, keys: g.keys})
			// and the chain goes on from it
			x = y
		}
		held.release()
	}
	t.Logf("%d adopted (%d with customers touched since the build), %d kept", adopted, withSince, kept)
	require.Greater(t, adopted, 3)
	require.Positive(t, withSince)
}

// TestCompactedAfterWriteTo: WriteTo of an updated index builds the full
// index of its History once and lets the History go; Compacted, after
// that or while it runs on another goroutine, answers as Build does (it
// updated x from the History, gone by then) and races with nothing.
func TestCompactedAfterWriteTo(t *testing.T) {
	ctx := context.Background()
	defer segment.SetCompactShare(1 << 40)() // every layered update starts a background build
	for _, concurrent := range []bool{false, true} {
		t.Run(fmt.Sprintf("concurrent=%v", concurrent), func(t *testing.T) {
			x, h, asOf, opts := compactedChain(t)
			var buf bytes.Buffer
			var wg sync.WaitGroup
			var werr error
			write := func() { _, werr = x.WriteTo(&buf) } // builds the full index, drops the History
			if concurrent {
				wg.Go(write)
			} else {
				write()
			}
			var y *segment.Index
			var err error
			require.NotPanics(t, func() { y, err = x.Compacted(ctx, segment.UpdateOptions{}) })
			wg.Wait()
			require.NoError(t, werr)
			require.NoError(t, err)
			want, err := segment.Build(ctx, h, asOf, opts)
			require.NoError(t, err)
			var wbuf, ybuf bytes.Buffer
			_, err = want.WriteTo(&wbuf)
			require.NoError(t, err)
			_, err = y.WriteTo(&ybuf)
			require.NoError(t, err)
			require.Equal(t, wbuf.Bytes(), ybuf.Bytes(), "Compacted writes as Build")
			require.Equal(t, wbuf.Bytes(), buf.Bytes(), "WriteTo writes as Build")
		})
	}
}

// compactedChain returns an index made by three updates with
// UpdateOptions.Compact whose background build is done, the updates
// after the one that started it touching customers since (the build is
// held until the last one), with its History, as-of time and options.
func compactedChain(t *testing.T) (*segment.Index, *affinity.History, time.Time, segment.Options) {
	t.Helper()
	ctx := context.Background()
	held := &heldBuilds{}
	defer held.release()
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 2207))
		g, opts, h, x := builtUpdateGen(t, r, 4, 10)
		for range 3 {
			h2 := g.next(t, h, 1+r.IntN(2))
			y, err := segment.Update(held.update(ctx), x, h, h2, g.asOf, segment.UpdateOptions{Compact: true, Background: held.background()})
			require.NoError(t, err)
			x, h = y, h2
		}
		held.release()
		if ch := x.Compacting(); ch != nil && !segment.CompactionSince(x).IsEmpty() {
			<-ch
			return x, h, g.asOf, opts
		}
	}
	t.Fatal("no update carried a background build")
	return nil, nil, time.Time{}, segment.Options{}
}

// heldBuilds holds the background builds that updates start (through
// UpdateOptions.Background) until release: each build waits at its
// first check of its context. An update that waits for the build under
// way (when its delta would outgrow the share an update keeps) releases
// the builds started before it through the Done of its own context, the
// only place an update asks for Done, so that it never waits for a
// build the test holds.
type heldBuilds struct {
	mu    sync.Mutex
	gates []chan struct{}
}

// background returns the context for the next update's
// UpdateOptions.Background: the build it starts is held.
func (hb *heldBuilds) background() context.Context {
	gate := make(chan struct{})
	hb.mu.Lock()
	hb.gates = append(hb.gates, gate)
	hb.mu.Unlock()
	return heldContext{Context: context.Background(), gate: gate}
}

// update returns the context for the next update itself, after
// background: its Done releases every build held but the one that
// update starts.
func (hb *heldBuilds) update(ctx context.Context) context.Context {
	return releasingContext{Context: ctx, release: func() { hb.releaseBut(1) }}
}

// release lets every held build go on.
func (hb *heldBuilds) release() { hb.releaseBut(0) }

// releaseBut releases every held build but the last keep started.
func (hb *heldBuilds) releaseBut(keep int) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	n := max(0, len(hb.gates)-keep)
	for _, gate := range hb.gates[:n] {
		close(gate)
	}
	hb.gates = hb.gates[n:]
}

// heldContext is a context whose Err waits until gate is closed.
type heldContext struct {
	context.Context
	gate <-chan struct{}
}

func (c heldContext) Err() error {
	<-c.gate
	return c.Context.Err()
}

// releasingContext is a context whose Done calls release first.
type releasingContext struct {
	context.Context
	release func()
}

func (c releasingContext) Done() <-chan struct{} {
	c.release()
	return c.Context.Done()
}

// TestCompactedDoneContext: Compacted with a done context returns its
// error on every path, the one that takes no work (nothing touched since
// the build: the build itself) included.
func TestCompactedDoneContext(t *testing.T) {
	ctx := context.Background()
	defer segment.SetCompactShare(1 << 40)() // every layered update starts one
	done, stop := context.WithCancel(ctx)
	stop()
	paths := map[bool]int{}
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 4409))
		g, _, h, x := builtUpdateGen(t, r, 4, 10)
		h2 := g.next(t, h, 1)
		got, err := segment.Update(ctx, x, h, h2, g.asOf, segment.UpdateOptions{Compact: true})
		require.NoError(t, err)
		ch := got.Compacting()
		if ch == nil {
			continue
		}
		<-ch
		_, err = got.Compacted(done, segment.UpdateOptions{})
		require.ErrorIs(t, err, context.Canceled, "seed %d", seed)
		y, err := got.Compacted(ctx, segment.UpdateOptions{})
		require.NoError(t, err)
		if y != got {
			paths[segment.Layered(y)]++
		}
	}
	t.Logf("adopted: %v (true: laid over with a delta)", paths)
	require.Positive(t, paths[false], "the path that takes no work was taken")
}

// builtUpdateGen draws random index options and a generator of 40 to 99
// customers, with a History of a catalog of lo to lo+span−1 products,
// all drawn from r, and builds the index of that History.
func builtUpdateGen(t *testing.T, r *rand.Rand, lo, span int) (*updateGen, segment.Options, *affinity.History, *segment.Index) {
	t.Helper()
	opts := randomUpdateOptions(r)
	g := &updateGen{r: r, asOf: updateAsOf, nCust: 40 + r.IntN(60)}
	g.window(opts)
	h := g.history(t, lo+r.IntN(span))
	x, err := segment.Build(context.Background(), h, g.asOf, opts)
	require.NoError(t, err)
	return g, opts, h, x
}
