package testdata

import (
	"sync"
	"sync/atomic"
)

// Gate makes a step of a build slow on demand: Wait blocks while the
// gate is held, until Open. A test calls Wait from the step it wants to
// hold (a progress callback, say), Hold before the build, and Open when
// it is done, also in a Cleanup: Open is safe to call more than once.
type Gate struct {
	held atomic.Bool
	once sync.Once
	open chan struct{}
}

// NewGate returns a gate that is not held.
func NewGate() *Gate { return &Gate{open: make(chan struct{})} }

// Hold makes the calls of Wait from now on block until Open.
func (g *Gate) Hold() { g.held.Store(true) }

// Wait blocks until Open while the gate is held; at once otherwise.
func (g *Gate) Wait() {
	if g.held.Load() {
		<-g.open
	}
}

// Open releases every Wait, those to come too.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }
