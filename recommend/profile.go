package recommend

import (
	"cmp"
	"context"
	"slices"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/shopaffinity/affinity"
)

// profiles builds the category dimensions at ProfileDepth, each product's
// own category vector (sparse, for customer vectors) and each product's
// buyer-category profile: the sum over its buyers and raters (up to AsOf)
// of their L1-normalised category vectors, L2-normalised with gonum.
func (e *Engine) profiles(ctx context.Context) error {
	c, h := e.cat, e.h
	if e.o.Personalization == 0 || c.NumCategories() == 0 {
		return nil
	}
	dimOf := make([]int32, c.NumCategories())
	for i := range dimOf {
		dimOf[i] = -1
	}
	var nodes []affinity.CategoryID
	for p := range e.np {
		for _, l := range c.Categories(affinity.ProductID(p)) {
			a := c.Ancestor(l, e.o.ProfileDepth)
			if dimOf[a] == -1 {
				dimOf[a] = 0
				nodes = append(nodes, a)
			}
		}
	}
	if len(nodes) < 2 {
		return nil // one category says nothing about taste
	}
	if len(nodes) > MaxProfileDims {
		slices.SortFunc(nodes, func(a, b affinity.CategoryID) int {
			return cmp.Or(cmp.Compare(h.CategoryBuyers(b).GetCardinality(), h.CategoryBuyers(a).GetCardinality()), cmp.Compare(a, b))
		})
		for _, a := range nodes[MaxProfileDims:] {
			dimOf[a] = -1
		}
		nodes = nodes[:MaxProfileDims]
		slices.Sort(nodes)
	}
	for i, a := range nodes {
		dimOf[a] = int32(i)
	}
	D := len(nodes)
	e.dims = D
	e.pdimOff = make([]uint32, e.np+1)
	for p := range e.np {
		leaves := c.Categories(affinity.ProductID(p))
		start := len(e.pdim)
		for _, l := range leaves {
			d := dimOf[c.Ancestor(l, e.o.ProfileDepth)]
			if d < 0 {
				continue
			}
			w := 1 / float32(len(leaves))
			if i := slices.Index(e.pdim[start:], uint16(d)); i >= 0 {
				e.pdimW[start+i] += w
			} else {
				e.pdim = append(e.pdim, uint16(d))
				e.pdimW = append(e.pdimW, w)
			}
		}
		e.pdimOff[p+1] = uint32(len(e.pdim))
	}

	e.prof = make([]float32, e.np*D)
	u := make([]float32, D)
	var prods []affinity.ProductID
	seen := make([]uint32, e.np)
	for cu := range h.NumCustomers() {
		if cu%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		prods = prods[:0]
		olo, ohi := h.CustomerOrders(affinity.CustomerID(cu))
		for o := olo; o < ohi; o++ {
			if h.OrderUnix(o) > e.asOf {
				break
			}
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				p := h.LineProduct(i)
				if h.LineQuantity(i) > 0 && seen[p] != uint32(cu)+1 {
					seen[p] = uint32(cu) + 1
					prods = append(prods, p)
				}
			}
		}
		elo, ehi := h.CustomerEvents(affinity.CustomerID(cu))
		for i := elo; i < ehi; i++ {
			// a rating is an interaction like a purchase (MovieLens)
			if ev := h.Event(i); ev.Kind == affinity.Rating && ev.Unix <= e.asOf && seen[ev.Product] != uint32(cu)+1 {
				seen[ev.Product] = uint32(cu) + 1
				prods = append(prods, ev.Product)
			}
		}
		if len(prods) == 0 {
			continue
		}
		clear(u)
		var sum float32
		for _, p := range prods {
			for j := e.pdimOff[p]; j < e.pdimOff[p+1]; j++ {
				u[e.pdim[j]] += e.pdimW[j]
				sum += e.pdimW[j]
			}
		}
		if sum == 0 {
			continue
		}
		uv := blas32.Vector{N: D, Inc: 1, Data: u}
		blas32.Scal(1/sum, uv)
		for _, p := range prods {
			blas32.Axpy(1, uv, e.row(p))
		}
	}
	for p := range e.np {
		r := e.row(affinity.ProductID(p))
		if n := blas32.Nrm2(r); n > 0 {
			blas32.Scal(1/n, r)
		}
	}
	return nil
}

// row returns p's buyer-category profile as a gonum vector.
func (e *Engine) row(p affinity.ProductID) blas32.Vector {
	i := int(p) * e.dims
	return blas32.Vector{N: e.dims, Inc: 1, Data: e.prof[i : i+e.dims : i+e.dims]}
}

// cosine returns the cosine between the L2-normalised vector u and p's
// profile: both are non-negative, so the result is in [0, 1].
func (e *Engine) cosine(u blas32.Vector, p affinity.ProductID) float32 {
	return blas32.Dot(u, e.row(p))
}
