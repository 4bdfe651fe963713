package recommend

import (
	"context"
	"fmt"
	"math"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
)

// RecommendAll returns the top req.K recommendations of every customer of
// the engine's History: out[c] for customer id c. req.Customer,
// CustomerID, ByID, Basket and Items must be empty (else an error
// wrapping [ErrInvalidRequest]); AsOf, K, Rules and Segment apply to
// every customer, a Segment's favourites computed once. The work runs on
// Options.Workers goroutines, each reusing its scratch memory; the
// results share one allocation of NumCustomers × min(K, the products not
// in Options.Exclude) Recs and do not depend on the number of workers.
// It returns an error for a nil ctx, ctx.Err() when ctx is done, and the
// errors of [Engine.Recommend]. A panic in a worker is raised again on
// the caller's goroutine, where a recover can catch it, and leaves no
// state behind: the scratch memory of the customer it interrupted is
// dropped, not reused, so later calls answer as on a fresh engine.
func (e *Engine) RecommendAll(ctx context.Context, req Request) ([][]Rec, error) {
	if err := affinity.CheckContext("recommend", ctx); err != nil {
		return nil, err
	}
	if req.Customer != "" || req.CustomerID != 0 || req.ByID || len(req.Basket) > 0 || len(req.Items) > 0 {
		return nil, fmt.Errorf("%w: RecommendAll takes no customer or basket", ErrInvalidRequest)
	}
	if err := checkRequest(&req); err != nil {
		return nil, err
	}
	if err := e.resolveRules(nil, &req.Rules); err != nil {
		return nil, err // also when there is no customer to run it for
	}
	nc := e.h.NumCustomers()
	// no customer gets more results than there are products to recommend
	k := min(req.K, e.np-e.excl.len())
	slab := make([]Rec, nc*k)
	var seg *segPop
	if req.Segment != nil {
		s := e.pool.Get().(*scratch)
		sp := e.favourites(s, req.Segment, e.requestAsOf(&req), math.MaxInt)
		e.pool.Put(s)
		seg = &sp
	}
	out := make([][]Rec, nc)
	const block = 64
	workers := parallel.Workers(e.o.Workers)
	scratches := make([]*scratch, min(workers, (nc+block-1)/block))
	defer func() {
		for _, s := range scratches {
			if s != nil {
				s.seg = nil // the request's, not the pool's
				e.pool.Put(s)
			}
		}
	}()
	err := parallel.For(ctx, workers, (nc+block-1)/block, func(w, b int) error {
		s := scratches[w]
		if s == nil {
			s = e.pool.Get().(*scratch)
			s.seg = seg
		}
		// s is out of scratches while a customer runs: a panic in run
		// leaves half a request's marks and scores in it, and the
		// deferred Put must not hand those to a later call
		scratches[w] = nil
		r := req
		for c := b * block; c < min((b+1)*block, nc); c++ {
			dst := slab[c*k : c*k : (c+1)*k]
			res, err := e.run(s, dst, &r, affinity.CustomerID(c), true)
			s.reset()
			if err != nil {
				scratches[w] = s
				return err
			}
			out[c] = res
		}
		scratches[w] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
