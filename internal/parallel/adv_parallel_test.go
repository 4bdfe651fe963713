package parallel_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/parallel"
)

// TestAdvForEveryIndexOnce: every i in [0, n) once, worker in
// [0, min(workers, n)), and no two items running at once on one worker
// (worker identifies per-worker scratch), for n and workers around
// each other, workers above MaxWorkers included.
func TestAdvForEveryIndexOnce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 64, 513} {
		for _, workers := range []int{1, 2, 3, n - 1, n, n + 1, 4 * n, parallel.MaxWorkers + 3} {
			if workers < 1 {
				continue
			}
			seen := make([]atomic.Int32, n)
			busy := make([]atomic.Int32, min(workers, n))
			var bad atomic.Value
			err := parallel.For(context.Background(), workers, n, func(w, i int) error {
				if w < 0 || w >= min(workers, n) {
					bad.Store(fmt.Sprintf("worker %d out of [0, %d)", w, min(workers, n)))
					return nil
				}
				if busy[w].Add(1) != 1 {
					bad.Store(fmt.Sprintf("worker %d runs two items at once", w))
				}
				if i%7 == 0 {
					runtime.Gosched()
				}
				seen[i].Add(1)
				busy[w].Add(-1)
				return nil
			})
			require.NoError(t, err)
			if msg := bad.Load(); msg != nil {
				t.Fatalf("n %d workers %d: %s", n, workers, msg)
			}
			for i := range seen {
				require.Equal(t, int32(1), seen[i].Load(), "n %d workers %d item %d", n, workers, i)
			}
		}
	}
}

// TestAdvForOneWorkerInOrder: with one worker, items go in increasing
// order on worker 0; an error at item k stops before k+1 and is returned;
// a cancel during item k stops before k+1 with ctx.Err().
func TestAdvForOneWorkerInOrder(t *testing.T) {
	var got []int
	require.NoError(t, parallel.For(context.Background(), 1, 50, func(w, i int) error {
		if w != 0 {
			return fmt.Errorf("worker %d", w)
		}
		got = append(got, i)
		return nil
	}))
	for i, v := range got {
		require.Equal(t, i, v)
	}
	require.Len(t, got, 50)

	boom := errors.New("boom")
	calls := 0
	err := parallel.For(context.Background(), 1, 50, func(_, i int) error {
		calls++
		if i == 3 || i == 5 {
			return fmt.Errorf("item %d: %w", i, boom)
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "item 3", "the first error")
	assert.Equal(t, 4, calls)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls = 0
	err = parallel.For(ctx, 1, 50, func(_, i int) error {
		calls++
		if i == 9 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 10, calls, "ctx checked before each item")
}

// TestAdvForCancelledBeforeStart: a context cancelled (or past its
// deadline) before the call runs no item at all.
func TestAdvForCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dctx, dcancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer dcancel()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{ctx, context.Canceled}, {dctx, context.DeadlineExceeded}} {
		for _, workers := range []int{1, 4} {
			var calls atomic.Int32
			err := parallel.For(c.ctx, workers, 100, func(int, int) error { calls.Add(1); return nil })
			require.ErrorIs(t, err, c.want)
			assert.Zero(t, calls.Load(), "workers %d: ctx is checked before each item", workers)
		}
	}
}

// TestAdvForManyWorkersStopEarly: an error from one worker stops the
// others taking new items, with several workers, and the returned error
// is one that fn returned; errors from several workers at once give one
// of them.
func TestAdvForManyWorkersStopEarly(t *testing.T) {
	for _, workers := range []int{2, 4, 16} {
		var calls atomic.Int32
		errs := map[int]error{}
		for i := range 8 {
			errs[i*3+1] = fmt.Errorf("e%d", i*3+1)
		}
		err := parallel.For(context.Background(), workers, 100_000, func(_, i int) error {
			calls.Add(1)
			return errs[i] // read only
		})
		require.Error(t, err)
		found := false
		for _, e := range errs {
			if errors.Is(err, e) {
				found = true
			}
		}
		assert.True(t, found, "workers %d: %v is none of fn's errors", workers, err)
		assert.Less(t, calls.Load(), int32(1000), "workers %d: stops early", workers)
	}
}

// TestAdvForNoGoroutineOutlives: when For returns (done, error, cancel),
// no worker still runs fn.
func TestAdvForNoGoroutineOutlives(t *testing.T) {
	boom := errors.New("boom")
	for _, mode := range []string{"done", "error", "cancel"} {
		ctx, cancel := context.WithCancel(context.Background())
		var running atomic.Int32
		_ = parallel.For(ctx, 4, 200, func(_, i int) error {
			running.Add(1)
			defer running.Add(-1)
			time.Sleep(50 * time.Microsecond)
			switch {
			case mode == "error" && i == 20:
				return boom
			case mode == "cancel" && i == 20:
				cancel()
			}
			return nil
		})
		assert.Zero(t, running.Load(), "%s: fn still running after For returned", mode)
		cancel()
	}
}

// TestAdvForDegenerate: n ≤ 0 calls nothing; workers ≤ 0 neither hangs
// nor panics (the doc does not say what it means; Workers maps it to
// GOMAXPROCS).
func TestAdvForDegenerate(t *testing.T) {
	for _, n := range []int{0, -1, -1 << 40} {
		called := false
		err := parallel.For(context.Background(), 3, n, func(int, int) error { called = true; return nil })
		assert.NoError(t, err, "n %d", n)
		assert.False(t, called, "n %d", n)
	}
	for _, workers := range []int{0, -1} {
		var calls atomic.Int32
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v", r)
				}
			}()
			done <- parallel.For(context.Background(), workers, 10, func(int, int) error { calls.Add(1); return nil })
		}()
		select {
		case err := <-done:
			if err == nil {
				assert.Equal(t, int32(10), calls.Load(), "workers %d: nil error but not every item ran", workers)
			} else {
				assert.NotContains(t, err.Error(), "panic", "workers %d", workers)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("workers %d: For hangs", workers)
		}
	}
	assert.Equal(t, 1, parallel.Workers(1))
	assert.Equal(t, parallel.MaxWorkers, parallel.Workers(parallel.MaxWorkers))
	assert.Equal(t, runtime.GOMAXPROCS(0), parallel.Workers(-1<<62))
}

// TestAdvForPanicHelper panics in a worker for TestAdvForPanic, in a
// process of its own.
func TestAdvForPanicHelper(t *testing.T) {
	if os.Getenv("ADV_PARALLEL_PANIC") == "" {
		t.Skip("run by TestAdvForPanic")
	}
	workers := 1
	if os.Getenv("ADV_PARALLEL_PANIC") == "2" {
		workers = 2
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Println("RECOVERED:", r)
		}
	}()
	err := parallel.For(context.Background(), workers, 8, func(_, i int) error {
		if i == 3 {
			panic("adv boom")
		}
		return nil
	})
	fmt.Println("RETURNED:", err)
}

// TestAdvForPanic: what a panic in fn does. The doc says nothing; the
// acceptable outcomes are that it reaches the caller's goroutine (a
// recover there sees it) or becomes an error. A crash of the process
// from a worker goroutine cannot be recovered by the caller.
func TestAdvForPanic(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the test binary")
	}
	for _, w := range []string{"1", "2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAdvForPanicHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ADV_PARALLEL_PANIC="+w)
		out, _ := cmd.CombinedOutput()
		s := string(out)
		ok := assert.Regexp(t, `RECOVERED: adv boom|RETURNED: .*adv boom`, s, "workers %s: a panic in fn is neither recoverable by the caller nor an error", w)
		if !ok {
			t.Logf("output head: %.300s", s)
		}
	}
}
