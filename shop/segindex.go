package shop

import (
	"context"
	"sync"

	"github.com/shopaffinity/affinity/segment"
)

// segIndex is a snapshot's segment index. Open builds it before the
// snapshot is served; a refresh publishes the snapshot first and builds
// the index in the background, so that new orders reach recommendations
// without waiting for it, and whoever needs the index waits for it (it
// describes the snapshot's own History, as of the snapshot's time, either
// way). When a newer snapshot replaces this one before the build is done
// and nobody is waiting, the build stops; a later request for the index
// builds it again.
type segIndex struct {
	mu      sync.Mutex
	done    chan struct{} // closed once x and err are final
	x       *segment.Index
	err     error
	build   func(context.Context) (*segment.Index, error) // nil once final
	cancel  context.CancelFunc                            // of the running build; nil when none runs
	waiters int                                           // callers waiting for the running build
}

// builtSeg returns the segIndex of an index already built.
func builtSeg(x *segment.Index) *segIndex {
	g := &segIndex{done: make(chan struct{}), x: x}
	close(g.done)
	return g
}

// laterSeg returns the segIndex that build makes, built by begin or by
// the first get.
func laterSeg(build func(context.Context) (*segment.Index, error)) *segIndex {
	return &segIndex{done: make(chan struct{}), build: build}
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
	go func() {
		x, err := build(ctx)
		g.mu.Lock()
		defer g.mu.Unlock()
		stopped := ctx.Err() != nil
		cancel()
		if err != nil && stopped { // replaced: build again when asked
			g.cancel = nil
			if g.waiters > 0 {
				g.start()
			}
			return
		}
		g.x, g.err, g.build, g.cancel = x, err, nil, nil
		close(g.done)
	}()
}

// get returns the index, waiting for its build (and starting it again
// if it was stopped) until ctx is done.
func (g *segIndex) get(ctx context.Context) (*segment.Index, error) {
	select {
	case <-g.done:
		return g.x, g.err
	default:
	}
	g.mu.Lock()
	select {
	case <-g.done:
		g.mu.Unlock()
		return g.x, g.err
	default:
	}
	g.waiters++
	if g.cancel == nil {
		g.start()
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.waiters--
		g.mu.Unlock()
	}()
	select {
	case <-g.done:
		return g.x, g.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// replaced stops the background build unless someone waits for it: a
// newer snapshot is served.
func (g *segIndex) replaced() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil && g.waiters == 0 {
		g.cancel()
	}
}
