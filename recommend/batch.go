package recommend

import (
	"context"
	"fmt"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
)

// RecommendAll returns the top req.K recommendations of every customer of
// the engine's History: out[c] for customer id c. req.Customer,
// CustomerID, ByID, Basket and Items must be empty; AsOf, K, Rules and
// Segment apply to every customer. The work runs on Options.Workers
// goroutines, each reusing its scratch memory; the results share one
// allocation of NumCustomers × K Recs and do not depend on the number of
// workers. It returns an error for a nil ctx, ctx.Err() when ctx is done,
// and the errors of [Engine.Recommend].
func (e *Engine) RecommendAll(ctx context.Context, req Request) ([][]Rec, error) {
	if err := affinity.CheckContext("recommend", ctx); err != nil {
		return nil, err
	}
	if req.Customer != "" || req.ByID || len(req.Basket) > 0 || len(req.Items) > 0 {
		return nil, fmt.Errorf("%w: RecommendAll takes no customer or basket", ErrInvalidRequest)
	}
	if err := checkRequest(&req); err != nil {
		return nil, err
	}
	if err := e.resolveRules(nil, &req.Rules); err != nil {
		return nil, err // also when there is no customer to run it for
	}
	nc := e.h.NumCustomers()
	k := req.K
	slab := make([]Rec, nc*k)
	out := make([][]Rec, nc)
	const block = 64
	workers := parallel.Workers(e.o.Workers)
	scratches := make([]*scratch, min(workers, (nc+block-1)/block))
	defer func() {
		for _, s := range scratches {
			if s != nil {
				e.pool.Put(s)
			}
		}
	}()
	err := parallel.For(ctx, workers, (nc+block-1)/block, func(w, b int) error {
		s := scratches[w]
		if s == nil {
			s = e.pool.Get().(*scratch)
			scratches[w] = s
		}
		r := req
		for c := b * block; c < min((b+1)*block, nc); c++ {
			dst := slab[c*k : c*k : (c+1)*k]
			res, err := e.run(s, dst, &r, affinity.CustomerID(c), true)
			s.reset()
			if err != nil {
				return err
			}
			out[c] = res
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
