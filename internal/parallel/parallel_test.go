package parallel_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/parallel"
)

func TestForVisitsEveryItemOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		seen := make([]atomic.Int32, 1000)
		err := parallel.For(context.Background(), workers, len(seen), func(w, i int) error {
			if w < 0 || w >= workers {
				return errors.New("worker out of range")
			}
			seen[i].Add(1)
			return nil
		})
		require.NoError(t, err)
		for i := range seen {
			require.Equal(t, int32(1), seen[i].Load(), "item %d with %d workers", i, workers)
		}
	}
	require.NoError(t, parallel.For(context.Background(), 4, 0, func(int, int) error { return errors.New("never called") }))
}

func TestForStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	err := parallel.For(context.Background(), 2, 1_000_000, func(_, i int) error {
		calls.Add(1)
		if i == 10 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	assert.Less(t, calls.Load(), int32(1_000_000), "stopped early")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = parallel.For(ctx, 2, 10, func(int, int) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, parallel.Workers(3))
	assert.Positive(t, parallel.Workers(0))
}

// TestForNilContext: a nil context is an error returned before any work,
// not a panic in a worker goroutine.
func TestForNilContext(t *testing.T) {
	var nilCtx context.Context
	ran := false
	err := parallel.For(nilCtx, 2, 4, func(_, _ int) error { ran = true; return nil })
	require.Error(t, err)
	require.False(t, ran)
}

// TestWorkersBounded: Workers gives GOMAXPROCS for w ≤ 0 and never more
// than MaxWorkers, so that per-worker scratch stays bounded whatever an
// Options field says.
func TestWorkersBounded(t *testing.T) {
	require.Equal(t, runtime.GOMAXPROCS(0), parallel.Workers(0))
	require.Equal(t, runtime.GOMAXPROCS(0), parallel.Workers(-3))
	require.Equal(t, 7, parallel.Workers(7))
	require.Equal(t, parallel.MaxWorkers, parallel.Workers(parallel.MaxWorkers+1))
	require.Equal(t, parallel.MaxWorkers, parallel.Workers(1<<62))
}

// TestGuard: Guard returns fn's error, nil, or a *Panic holding the
// value (and unwrapping to it when it is an error) and the stack.
func TestGuard(t *testing.T) {
	boom := errors.New("boom")
	assert.NoError(t, parallel.Guard(func() error { return nil }))
	assert.Same(t, boom, parallel.Guard(func() error { return boom }))
	err := parallel.Guard(func() error { panic(boom) })
	var p *parallel.Panic
	require.ErrorAs(t, err, &p)
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, string(p.Stack), "TestGuard")
	err = parallel.Guard(func() error { panic("text") })
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "text", p.Value)
	assert.NotErrorIs(t, err, boom)
}

// TestForPanics: a panic in fn reaches the caller as a *Panic holding the
// value and the stack, whatever the workers: on one worker (workers 1, or
// a single item) it was raised as it was.
func TestForPanics(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct{ workers, n int }{{1, 3}, {2, 1}, {2, 3}, {4, 64}} {
		func() {
			defer func() {
				v := recover()
				p, ok := v.(*parallel.Panic)
				require.True(t, ok, "workers %d, n %d: recovered %T", c.workers, c.n, v)
				assert.Same(t, boom, p.Value)
				assert.ErrorIs(t, p, boom)
				assert.Contains(t, string(p.Stack), "TestForPanics")
			}()
			_ = parallel.For(context.Background(), c.workers, c.n, func(_, i int) error {
				if i == c.n-1 {
					panic(boom)
				}
				return nil
			})
			t.Errorf("workers %d, n %d: no panic", c.workers, c.n)
		}()
	}
}
