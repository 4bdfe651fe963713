package parallel_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

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
		if err != nil {
			t.Fatalf("For with %d workers: %v", workers, err)
		}
		for i := range seen {
			if n, want := seen[i].Load(), int32(1); n != want {
				t.Fatalf("item %d with %d workers: visited %d times, want %d", i, workers, n, want)
			}
		}
	}
	if err := parallel.For(context.Background(), 4, 0, func(int, int) error { return errors.New("never called") }); err != nil {
		t.Fatalf("For over no items: %v", err)
	}
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
	if !errors.Is(err, boom) {
		t.Fatalf("For: error %v, want %v", err, boom)
	}
	if n, limit := calls.Load(), int32(1_000_000); n >= limit {
		t.Errorf("stopped early: %d calls, want fewer than %d", n, limit)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = parallel.For(ctx, 2, 10, func(int, int) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("For with a canceled context: error %v, want %v", err, context.Canceled)
	}
	if got, want := parallel.Workers(3), 3; got != want {
		t.Errorf("Workers(3) = %d, want %d", got, want)
	}
	if got := parallel.Workers(0); got <= 0 {
		t.Errorf("Workers(0) = %d, want > 0", got)
	}
}

// TestForNilContext: a nil context is an error returned before any work,
// not a panic in a worker goroutine.
func TestForNilContext(t *testing.T) {
	var nilCtx context.Context
	ran := false
	err := parallel.For(nilCtx, 2, 4, func(_, _ int) error { ran = true; return nil })
	if err == nil {
		t.Fatal("For with a nil context: no error")
	}
	if ran {
		t.Fatal("For with a nil context ran the function")
	}
}

// TestWorkersBounded: Workers gives GOMAXPROCS for w ≤ 0 and never more
// than MaxWorkers, so that per-worker scratch stays bounded whatever an
// Options field says.
func TestWorkersBounded(t *testing.T) {
	for _, c := range []struct {
		w, want int
	}{
		{0, runtime.GOMAXPROCS(0)},
		{-3, runtime.GOMAXPROCS(0)},
		{7, 7},
		{parallel.MaxWorkers + 1, parallel.MaxWorkers},
		{1 << 62, parallel.MaxWorkers},
	} {
		if got := parallel.Workers(c.w); got != c.want {
			t.Fatalf("Workers(%d) = %d, want %d", c.w, got, c.want)
		}
	}
}
