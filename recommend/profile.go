package recommend

import (
	"cmp"
	"context"
	"slices"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/shopaffinity/affinity"
)

// profiles are the category-affinity vectors, built once by
// [newProfiles].
type profiles struct {
	dims    int
	prof    []float32 // np × dims, rows L2-normalised
	pdimOff []uint32
	pdim    []uint16
	pdimW   []float32
}

// newProfiles builds the category dimensions at depth, each product's own
// category vector (sparse, for customer vectors) and each product's
// buyer-category profile: the sum over its buyers and raters (up to asOf)
// of their L1-normalised category vectors, L2-normalised with gonum. Off
// (or with fewer than two categories at depth) it returns empty profiles
// (dims 0). Time linear in the lines of h times the categories of a line.
func newProfiles(ctx context.Context, h *affinity.History, np int, asOf int64, depth int, on bool) (*profiles, error) {
	t := &profiles{}
	c := h.Catalog()
	if !on || c.NumCategories() == 0 {
		return t, nil
	}
	dimOf := make([]int32, c.NumCategories())
	for i := range dimOf {
		dimOf[i] = -1
	}
	var nodes []affinity.CategoryID
	for p := range np {
		for _, l := range c.Categories(affinity.ProductID(p)) {
			a := c.Ancestor(l, depth)
			if dimOf[a] == -1 {
				dimOf[a] = 0
				nodes = append(nodes, a)
			}
		}
	}
	if len(nodes) < 2 {
		return t, nil // one category says nothing about taste
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
	t.dims = D
	t.pdimOff = make([]uint32, np+1)
	for p := range np {
		leaves := c.Categories(affinity.ProductID(p))
		start := len(t.pdim)
		for _, l := range leaves {
			d := dimOf[c.Ancestor(l, depth)]
			if d < 0 {
				continue
			}
			w := 1 / float32(len(leaves))
			if i := slices.Index(t.pdim[start:], uint16(d)); i >= 0 {
				t.pdimW[start+i] += w
			} else {
				t.pdim = append(t.pdim, uint16(d))
				t.pdimW = append(t.pdimW, w)
			}
		}
		t.pdimOff[p+1] = uint32(len(t.pdim))
	}

	t.prof = make([]float32, np*D)
	u := make([]float32, D)
	var prods []affinity.ProductID
	seen := make([]uint32, np)
	for cu := range h.NumCustomers() {
		if cu%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		prods = prods[:0]
		olo, ohi := h.CustomerOrders(affinity.CustomerID(cu))
		for o := olo; o < ohi; o++ {
			if h.OrderUnix(o) > asOf {
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
			if ev := h.Event(i); ev.Kind == affinity.Rating && ev.Unix <= asOf && seen[ev.Product] != uint32(cu)+1 {
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
			for j := t.pdimOff[p]; j < t.pdimOff[p+1]; j++ {
				u[t.pdim[j]] += t.pdimW[j]
				sum += t.pdimW[j]
			}
		}
		if sum == 0 {
			continue
		}
		uv := blas32.Vector{N: D, Inc: 1, Data: u}
		blas32.Scal(1/sum, uv)
		for _, p := range prods {
			blas32.Axpy(1, uv, t.row(p))
		}
	}
	for p := range np {
		r := t.row(affinity.ProductID(p))
		if n := blas32.Nrm2(r); n > 0 {
			blas32.Scal(1/n, r)
		}
	}
	return t, nil
}

// row returns p's buyer-category profile as a gonum vector.
func (t *profiles) row(p affinity.ProductID) blas32.Vector {
	i := int(p) * t.dims
	return blas32.Vector{N: t.dims, Inc: 1, Data: t.prof[i : i+t.dims : i+t.dims]}
}

// cosine returns the cosine between the L2-normalised vector u and p's
// profile: both are non-negative, so the result is in [0, 1].
func (t *profiles) cosine(u blas32.Vector, p affinity.ProductID) float32 {
	return blas32.Dot(u, t.row(p))
}
