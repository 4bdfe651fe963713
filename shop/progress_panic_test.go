package shop_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// progressPanicChild is the environment variable that makes
// TestProgressPanicAtBackgroundStepEnd the child process it starts.
const progressPanicChild = "AFFINITY_PROGRESS_PANIC_CHILD"

// TestProgressPanicAtBackgroundStepEnd: a Progress callback that panics
// at the end of a step the shop runs on a goroutine of its own (a
// refresh's background segment index, the background model fit) does
// not end the process, as no recover of the caller's can reach that
// goroutine. The steps run in a child process, which such a panic would
// end.
func TestProgressPanicAtBackgroundStepEnd(t *testing.T) {
	if os.Getenv(progressPanicChild) == "1" {
		progressPanicSteps(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProgressPanicAtBackgroundStepEnd$", "-test.v")
	cmd.Env = append(os.Environ(), progressPanicChild+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process:\n%s", out)
	assert.Contains(t, string(out), "--- PASS: TestProgressPanicAtBackgroundStepEnd/segment")
	assert.Contains(t, string(out), "--- PASS: TestProgressPanicAtBackgroundStepEnd/model")
}

// progressPanicSteps, in the child process, refreshes a shop whose
// Progress callback panics at the end of each background step in turn,
// waits for the report and closes the shop, which waits for its
// goroutines.
func progressPanicSteps(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var base []affinity.Purchase
	for i, k := range []string{"a", "b", "c", "d"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		base = append(base,
			affinity.Purchase{Customer: k, Product: "p1", Order: "o" + k, Time: at, Quantity: 1, Price: 10000},
			affinity.Purchase{Customer: k, Product: "p2", Order: "o" + k, Time: at, Quantity: 1, Price: 20000})
	}
	more := []affinity.Purchase{
		{Customer: "e", Product: "p1", Order: "oe", Time: t0.Add(48 * time.Hour), Quantity: 1, Price: 10000},
		{Customer: "e", Product: "p2", Order: "oe", Time: t0.Add(48 * time.Hour), Quantity: 1, Price: 20000}}
	for _, step := range []string{"segment", "model"} {
		t.Run(step, func(t *testing.T) {
			var armed atomic.Bool
			fired := make(chan struct{})
			var once sync.Once
			opts := shop.Options{Model: "neighbours", Progress: func(p affinity.Progress) {
				if armed.Load() && p.Step == step && p.Total > 0 && p.Done == p.Total {
					defer once.Do(func() { close(fired) })
					panic("callback bug at the end of " + step)
				}
			}}
			if step == "model" {
				opts.Model, opts.ModelRefit = "ease", shop.RefitBackground
			}
			s, err := shop.Open(ctx, shop.Purchases(slices.Values(base)), opts)
			require.NoError(t, err)
			require.NoError(t, s.WaitModel(ctx))
			armed.Store(true)
			require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(more))))
			select {
			case <-fired:
			case <-time.After(10 * time.Second):
				t.Fatalf("the end of the %s step was not reported", step)
			}
			s.Close() // waits for the shop's goroutines: the panic is behind us
		})
	}
}
