package similarity

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

func defaultWorkers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}

// parallel calls fn(worker, i) for i in [0, n) on up to workers goroutines,
// handing out i in increasing order as workers become free, so that uneven
// items balance. worker is in [0, workers) and identifies per-worker
// scratch. It stops early and returns the first error, or ctx.Err() when
// ctx is done. No goroutine outlives the call.
func parallel(ctx context.Context, workers, n int, fn func(worker, i int) error) error {
	workers = max(1, min(workers, n))
	var next atomic.Int64
	var stop atomic.Bool
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(w, i)
				}
				if err != nil {
					errs[w] = err
					stop.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
