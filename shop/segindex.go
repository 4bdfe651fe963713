package shop

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/segment"
)

// segIndex is a snapshot's segment index. Open builds it before the
// snapshot is served; a refresh publishes the snapshot first and builds
// the index in the background, so that new orders reach recommendations
// without waiting for it, and whoever needs the index waits for it (it
// describes the snapshot's own History, as of the snapshot's time, either
// way). When a newer snapshot replaces this one before the build is done
// and nobody is waiting, or once the last waiter stops waiting, the build
// stops; a later request for the index builds it again.
//
// An index that an update made carries, from time to time, a full index
// under construction in the background (segment.UpdateOptions.Compact),
// which the next update lays its delta over. Until then the index holds
// both the full index under it and the new one; so once that is done, and
// as long as no newer snapshot replaced this one, the segIndex swaps its
// index for one laid over the new full index (segment.Index.Compacted):
// the same answers, and a shop that no refresh reaches gives the older
// full index's memory back.
type segIndex struct {
	mu      sync.Mutex
	done    chan struct{} // closed once err is final and x set
	x       atomic.Pointer[segment.Index]
	err     error
	build   segBuild           // nil once final
	cancel  context.CancelFunc // of the running build; nil when none runs
	waiters int                // callers waiting for the running build

	life  context.Context // the shop's: ends the swap's wait (nil: no swap)
	work  *segWork        // the shop's: what Close waits for (nil: nothing)
	stale chan struct{}   // closed by replaced
	once  sync.Once       // closes stale

	// bg is the context of the full build in the background that the
	// index's update may start (see newSnapshot); nil when there is none
	bg *bgLife
}

// bgLife gives each run of a snapshot's index build the context of the
// full build in the background its update may start: one of the shop's
// life, that drop cancels when the snapshot is never served.
type bgLife struct {
	mu      sync.Mutex
	life    context.Context
	cancel  context.CancelFunc // of the last run's context
	dropped bool
}

// run returns the context of a run of the build, and the function that
// lets it go (once the build it started is done, or at once when it
// started none); runs come one after the other.
func (b *bgLife) run() (context.Context, context.CancelFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ctx, cancel := context.WithCancel(b.life)
	if b.dropped {
		cancel()
	}
	b.cancel = cancel
	return ctx, cancel
}

// drop cancels the context of the last run, and of any later one.
func (b *bgLife) drop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropped = true
	if b.cancel != nil {
		b.cancel()
	}
}

// segWork is the segment work of a shop that [Shop.Close] waits for: the
// goroutines of index builds and compactions started before Close, and
// the full builds in the background that updates of those indexes
// started (segment.UpdateOptions.Compact), which end with the shop's
// life. What starts once Close has begun — an index asked for after it,
// or by a request that waited for a build Close stopped — is the
// asker's: it is not waited for. The zero value is ready; a nil
// *segWork tracks nothing.
type segWork struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	builds []<-chan struct{} // Index.Compacting of the indexes made, while running
}

// run runs f on a new goroutine, which wait waits for unless wait had
// begun when run was called.
func (w *segWork) run(f func()) {
	if !w.runOpen(f) {
		go f()
	}
}

// runOpen runs f on a new goroutine that wait waits for, unless wait has
// begun: then it runs nothing, and returns false. For work that has
// nothing to do once the shop's life has ended (wait begins after that),
// so that none of it is started after Close.
func (w *segWork) runOpen(f func()) bool {
	if w == nil {
		go f()
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.wg.Go(f) // under w.mu: no Add once wait has begun
	return true
}

// carry records the background build that x carries, if any, for wait.
func (w *segWork) carry(x *segment.Index) {
	ch := x.Compacting()
	if w == nil || ch == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.builds = slices.DeleteFunc(w.builds, isClosed) // what ended
	if !slices.Contains(w.builds, ch) {
		w.builds = append(w.builds, ch)
	}
}

// wait waits for the goroutines run started and the background builds
// of the indexes they made; the shop's life has ended, so that they stop.
func (w *segWork) wait() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
	// the builds carried by what the goroutines made, now all recorded
	w.mu.Lock()
	builds := slices.Clone(w.builds)
	w.mu.Unlock()
	for _, ch := range builds {
		<-ch
	}
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// builtSeg returns the segIndex of an index already built, swapped for
// its compaction (see segIndex) until the shop's life ends; work, when not
// nil, tracks the swap's goroutine for Close.
func builtSeg(x *segment.Index, life context.Context, work *segWork) *segIndex {
	g := &segIndex{done: make(chan struct{}), life: life, work: work, stale: make(chan struct{})}
	g.x.Store(x)
	close(g.done)
	g.compactLater(x)
	return g
}

// segBuild builds a segment index. It also returns the report of its
// step's end (or nil), made once the index is published, outside every
// lock: a Progress callback that asks for the index then gets it, where
// a report from within the build would wait for itself.
type segBuild func(context.Context) (*segment.Index, func(), error)

// laterSeg returns the segIndex that build makes, built by begin or by
// the first get, and swapped for its compaction (see segIndex) until the
// shop's life ends; work, when not nil, tracks the build's goroutine and
// the swap's for Close.
func laterSeg(build segBuild, life context.Context, work *segWork) *segIndex {
	return &segIndex{done: make(chan struct{}), build: build, life: life, work: work, stale: make(chan struct{})}
}

// compactionUpdate is how a snapshot's index is updated, for a refresh or
// for a compaction: on one goroutine, beside the refresh's other steps or
// the requests, with the background builds ending with the context
// given (a variable for the tests).
var compactionUpdate = func(life context.Context) segment.UpdateOptions {
	return segment.UpdateOptions{Workers: 1, Compact: true, Background: life}
}

// compactionHold, when set (by tests), is a channel the goroutine of
// compactLater waits on before anything else: until it is closed, no
// index made meanwhile is swapped for its compaction.
var compactionHold atomic.Pointer[chan struct{}]

// compactLater swaps x for its compaction once its background build is
// done, unless a newer snapshot replaces this one first or the shop
// closes; it goes on with the build the compaction itself may start.
func (g *segIndex) compactLater(x *segment.Index) {
	if x == nil || g.life == nil || x.Compacting() == nil {
		return
	}
	g.work.carry(x)
	// once Close has begun, the shop's life has ended: no swap follows
	g.work.runOpen(func() {
		if hold := compactionHold.Load(); hold != nil {
			select {
			case <-*hold:
			case <-g.life.Done():
				return
			}
		}
		for ch := x.Compacting(); ch != nil; ch = x.Compacting() {
			select {
			case <-ch:
			case <-g.stale:
				return
			case <-g.life.Done():
				return
			}
			var y *segment.Index
			err := parallel.Guard(func() (err error) {
				y, err = x.Compacted(g.life, compactionUpdate(g.life))
				return err
			})
			if err != nil || y == x {
				return // the next refresh builds or updates as before
			}
			g.work.carry(y) // the compaction's update may start a build
			if !g.swap(y) {
				return
			}
			x = y
		}
	})
}

// swap serves y, the compaction of the index served, unless the snapshot
// was replaced or the shop closed: checked under g.mu, which replaced
// holds as it closes g.stale, so that no swap follows its return (the
// compaction's build itself may end after the shop's life: it reads no
// context once it has the new full index).
func (g *segIndex) swap(y *segment.Index) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.stale:
		return false
	case <-g.life.Done():
		return false
	default:
	}
	g.x.Store(y)
	return true
}

// begin starts the build in the background unless it is done or running.
func (g *segIndex) begin() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.done:
		return
	default:
	}
	if g.cancel == nil {
		g.start()
	}
}

// start runs the build in a new goroutine; g.mu is held.
func (g *segIndex) start() {
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	build := g.build
	g.work.run(func() {
		var x *segment.Index
		var end func()
		err := parallel.Guard(func() (err error) {
			x, end, err = build(ctx)
			return err
		})
		if _, ok := err.(*parallel.Panic); ok {
			err = wrap(err, "segment index") // the build's own errors say so
		}
		g.mu.Lock()
		stopped := ctx.Err() != nil
		cancel()
		if err != nil && stopped { // replaced: build again when asked
			g.cancel = nil
			if g.waiters > 0 {
				g.start()
			}
			g.mu.Unlock()
			return
		}
		g.x.Store(x)
		g.err, g.build, g.cancel = err, nil, nil
		close(g.done)
		if err == nil {
			g.compactLater(x)
		}
		g.mu.Unlock()
		if err == nil && end != nil {
			// the step's end, reported on this goroutine, the shop's, where
			// no recover of the caller's reaches: a panic of the Progress
			// callback is dropped, as the index is already served
			_ = parallel.Guard(func() error {
				end()
				return nil
			})
		}
	})
}

// get returns the index, waiting for its build (and starting it again
// if it was stopped) until ctx is done.
func (g *segIndex) get(ctx context.Context) (*segment.Index, error) {
	select {
	case <-g.done:
		return g.x.Load(), g.err
	default:
	}
	g.mu.Lock()
	select {
	case <-g.done:
		g.mu.Unlock()
		return g.x.Load(), g.err
	default:
	}
	g.waiters++
	if g.cancel == nil {
		g.start()
	}
	g.mu.Unlock()
	defer g.unwait()
	select {
	case <-g.done:
		return g.x.Load(), g.err
	case <-ctx.Done():
		return nil, wrap(ctx.Err(), "waiting for the segment index")
	}
}

// hold counts one more waiter for the index, starting its build unless
// it is done or running, until the returned function is called (once;
// later calls do nothing): for a refresh's update, whose goroutine asks
// for the index it updates only once it runs, so that the refresh's swap
// does not stop that build in between.
func (g *segIndex) hold() (letGo func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.done:
		return func() {}
	default:
	}
	g.waiters++
	if g.cancel == nil {
		g.start()
	}
	return sync.OnceFunc(g.unwait)
}

// unwait counts one waiter less; the build stops when it was the last
// and the snapshot was replaced meanwhile.
func (g *segIndex) unwait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiters--
	if g.waiters == 0 && g.cancel != nil && isClosed(g.stale) {
		// replaced while waited for: nobody needs it now (as replaced
		// would have had it; Close waits for the build)
		g.cancel()
	}
}

// notServed stops the background build of a snapshot that is not
// served (its refresh failed), as replaced does, and the full build its
// update started in the background, which nothing will carry on.
func (g *segIndex) notServed() {
	g.replaced()
	if g.bg != nil {
		g.bg.drop()
	}
}

// replaced stops the background build unless someone waits for it: a
// newer snapshot is served.
func (g *segIndex) replaced() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.once.Do(func() {
		if g.stale != nil {
			close(g.stale)
		}
	})
	if g.cancel != nil && g.waiters == 0 {
		g.cancel()
	}
}
