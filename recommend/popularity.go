package recommend

import (
	"context"
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/topk"
)

// popularity is the shop's recency-weighted popularity, built once by
// [newPopularity]: the popular fallback, the popularity blend and the
// baseline of segment favourites.
type popularity struct {
	pop      []float32
	popNorm  []float32 // pop / max pop
	popTotal float64
	popOrder []affinity.ProductID // by pop descending, then id
}

// newPopularity computes the recency-weighted popularity of the np
// products as of asOf (Unix seconds): bought lines weigh
// 2^(−age/halfLife), halfLife in seconds, and events the same times their
// anchor weight ew. Time linear in the lines and events of h.
func newPopularity(ctx context.Context, h *affinity.History, np int, asOf int64, phl float64, ew [affinity.Wishlist + 1]float32) (*popularity, error) {
	t := &popularity{}
	t.pop = make([]float32, np)
	for o := range h.NumOrders() {
		if o%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ot := h.OrderUnix(affinity.OrderID(o))
		if ot > asOf {
			continue
		}
		d := decay(asOf-ot, phl)
		lo, hi := h.OrderLines(affinity.OrderID(o))
		for i := lo; i < hi; i++ {
			if h.LineQuantity(i) > 0 {
				t.pop[h.LineProduct(i)] += d
			}
		}
	}
	// events count with their anchor weights: ratings fully (rating data
	// has no purchases), views and carts a little
	for i := range h.NumEvents() {
		if i%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if ev := h.Event(i); ev.Unix <= asOf && ev.Kind.Valid() && ew[ev.Kind] > 0 {
			t.pop[ev.Product] += ew[ev.Kind] * decay(asOf-ev.Unix, phl)
		}
	}
	var top float32
	for _, v := range t.pop {
		t.popTotal += float64(v)
		top = max(top, v)
	}
	t.popNorm = make([]float32, np)
	if top > 0 {
		for p, v := range t.pop {
			t.popNorm[p] = v / top
		}
	}
	// most popular first, ties by product, as packed keys
	keys := make([]uint64, np)
	for p, v := range t.pop {
		keys[p] = topk.Pack(v, uint32(p))
	}
	slices.Sort(keys)
	t.popOrder = make([]affinity.ProductID, np)
	for i, k := range keys {
		t.popOrder[i] = affinity.ProductID(uint32(k))
	}
	return t, nil
}
