// Package parallel runs indexed work items on a bounded number of
// goroutines, for the build steps of the affinity packages.
package parallel

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// errNilContext is the error of a nil context: a caller's bug, matching
// affinity.ErrNilArgument as the entry points' own checks do (the root
// package imports this one, so the sentinel comes from internal/pkgerr).
var errNilContext = pkgerr.New("affinity: nil context", pkgerr.ErrNilArgument)

// MaxWorkers bounds the number of goroutines [Workers] gives: more cannot
// make a build faster on any machine, and each costs per-worker scratch
// (a dense counter per product, for some builds), so that a huge
// Workers option would otherwise exhaust memory.
const MaxWorkers = 1024

// Workers returns w, at most MaxWorkers, or GOMAXPROCS when w ≤ 0.
func Workers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return min(w, MaxWorkers)
}

// For calls fn(worker, i) for every i in [0, n) on up to workers
// goroutines, handing out i in increasing order as workers become free, so
// that uneven items balance. worker is in [0, min(workers, n)) and
// identifies per-worker scratch. It checks ctx before each item, stops
// handing out items at the first error (or ctx.Err()) and returns the
// error of the lowest item that failed: every item below one handed out
// runs, so that is the error a loop over the items in order returns,
// whatever the workers (for an fn whose errors depend on the item alone).
// A worker that fn ends with [runtime.Goexit] (a test's FailNow called
// where it must not be) stops the others and makes For return an error,
// instead of its item going missing; with one worker it ends the
// caller's goroutine, as in a loop. No goroutine outlives
// the call. A nil ctx is an error matching affinity.ErrNilArgument,
// returned before any goroutine starts
// (the entry points of the affinity packages check their context first;
// this keeps one they miss from crashing in a worker). With one worker
// (workers ≤ 1, or n ≤ 1) the items run on the caller's goroutine.
//
// A panic in fn stops the other workers as an error does and, when its
// item is the lowest that failed, is raised again on the caller's
// goroutine once they have stopped, as a [*Panic]
// holding the value and the worker's stack, so that a recover there (a
// server's, say) sees it instead of the process dying in a worker. With
// one worker too: what a recover sees does not depend on the workers.
func For(ctx context.Context, workers, n int, fn func(worker, i int) error) error {
	if ctx == nil {
		return errNilContext
	}
	workers = max(1, min(workers, n))
	if workers == 1 {
		defer func() {
			if v := recover(); v != nil {
				panic(&Panic{Value: v, Stack: debug.Stack()})
			}
		}()
		for i := range n {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(0, i); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	var stop atomic.Bool
	type failure struct {
		item  int
		err   error
		panic *Panic
	}
	fails := make([]failure, workers) // per worker: its one failed item, if any
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			i, returned := -1, false
			defer func() {
				v := recover()
				switch {
				case v != nil:
					fails[w] = failure{item: i, panic: &Panic{Value: v, Stack: debug.Stack()}}
				case !returned: // runtime.Goexit in fn
					fails[w] = failure{item: i, err: fmt.Errorf("affinity: item %d of a parallel step ended its goroutine (runtime.Goexit)", i)}
				default:
					return
				}
				stop.Store(true)
			}()
			for !stop.Load() {
				i = int(next.Add(1) - 1)
				if i >= n {
					break
				}
				err := ctx.Err()
				if err == nil {
					err = fn(w, i)
				}
				if err != nil {
					fails[w] = failure{item: i, err: err}
					stop.Store(true)
					break
				}
			}
			returned = true
		})
	}
	wg.Wait()
	first := failure{item: n}
	for _, f := range fails {
		if (f.err != nil || f.panic != nil) && f.item < first.item {
			first = f
		}
	}
	if first.panic != nil {
		panic(first.panic)
	}
	return first.err
}

// Panic is what [For] raises on the caller's goroutine when fn panicked
// in a worker: the value given to panic and the worker's stack.
type Panic struct {
	Value any
	Stack []byte
}

// Error returns the value, then the worker's stack.
func (p *Panic) Error() string { return fmt.Sprintf("%v\n\nworker stack:\n%s", p.Value, p.Stack) }

// Unwrap returns the value when it is an error.
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Guard returns fn's error, or a [*Panic] when fn panics: for the
// background goroutines of the affinity packages, where a panic (a bug,
// or a caller's callback that panics) would end the process, since no
// recover of the caller's can reach it; they report it as the work's
// error instead. A *Panic raised again ([For]'s, with the worker's
// stack) is returned as it is.
func Guard(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if p, ok := v.(*Panic); ok {
				err = p
				return
			}
			err = &Panic{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
