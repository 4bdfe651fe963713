package recommend

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shopaffinity/affinity"
)

// RecommendAll returns the top req.K recommendations of every customer of
// the engine's History: out[c] for customer id c. req.Customer, Basket and
// Items must be empty; AsOf, K, Rules and Segment apply to every customer.
// The work runs on workers goroutines (< 1 means GOMAXPROCS), each reusing
// its scratch memory; the results share one allocation of
// NumCustomers × K Recs. It returns ctx.Err() when ctx is done, and the
// errors of [Engine.Recommend].
func (e *Engine) RecommendAll(ctx context.Context, req Request, workers int) ([][]Rec, error) {
	if req.Customer != "" || len(req.Basket) > 0 || len(req.Items) > 0 {
		return nil, fmt.Errorf("%w: RecommendAll takes no customer or basket", ErrInvalidRequest)
	}
	if err := checkRequest(&req); err != nil {
		return nil, err
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	nc := e.h.NumCustomers()
	k := req.K
	slab := make([]Rec, nc*k)
	out := make([][]Rec, nc)
	const block = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := e.pool.Get().(*scratch)
			defer e.pool.Put(s)
			r := req
			for {
				lo := int(next.Add(block)) - block
				if lo >= nc {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				for c := lo; c < min(lo+block, nc); c++ {
					dst := slab[c*k : c*k : (c+1)*k]
					res, err := e.run(s, dst, &r, affinity.CustomerID(c), true)
					s.reset()
					if err != nil {
						errs[w] = err
						return
					}
					out[c] = res
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
