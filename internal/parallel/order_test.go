package parallel_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForReturnsTheLowestFailure: with errors and panics that depend on
// the item alone, For returns what a loop over the items in order
// returns — the lowest failing item's error, or its panic — whatever the
// workers and however the items' times interleave (an item that fails
// first in time may be a higher one).
func TestForReturnsTheLowestFailure(t *testing.T) {
	for seed := range uint64(testdata.Scale(200, 15)) {
		r := rand.New(rand.NewPCG(seed, 3))
		n := 1 + r.IntN(testdata.Scale(40, 16))
		fail := map[int]string{} // item → "error" or "panic"
		for range 1 + r.IntN(4) {
			fail[r.IntN(n)] = []string{"error", "panic"}[r.IntN(2)]
		}
		delay := make([]time.Duration, n)
		for i := range delay {
			delay[i] = time.Duration(r.IntN(100)) * time.Microsecond
		}
		fn := func(_, i int) error {
			time.Sleep(delay[n-1-i]) // later items tend to finish first
			switch fail[i] {
			case "error":
				return fmt.Errorf("item %d", i)
			case "panic":
				panic(fmt.Sprintf("item %d", i))
			}
			return nil
		}
		run := func(workers int) (got string) {
			defer func() {
				if v := recover(); v != nil {
					var p *parallel.Panic
					require.True(t, errors.As(v.(error), &p), "seed %d: a *Panic", seed)
					got = "panic " + fmt.Sprint(p.Value)
				}
			}()
			if err := parallel.For(context.Background(), workers, n, fn); err != nil {
				return "error " + err.Error()
			}
			return "nil"
		}
		want := run(1)
		for _, w := range []int{2, 3, 8} {
			assert.Equal(t, want, run(w), "seed %d, %d workers, failures %v", seed, w, fail)
		}
	}
}

// TestForGoexit: a worker ended by runtime.Goexit (FailNow called off the
// test's goroutine) makes For return an error after the others stop,
// instead of returning nil with its item never done.
func TestForGoexit(t *testing.T) {
	before := runtime.NumGoroutine()
	var mu sync.Mutex
	done := map[int]bool{}
	err := parallel.For(context.Background(), 2, 100, func(_, i int) error {
		if i == 3 {
			runtime.Goexit()
		}
		mu.Lock()
		done[i] = true
		mu.Unlock()
		return nil
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "item 3")
	assert.False(t, done[3])
	// no goroutine outlives the call (polled here: Eventually runs its
	// condition on goroutines of its own)
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	assert.LessOrEqual(t, after, before)
}
