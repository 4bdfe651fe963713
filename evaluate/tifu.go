package evaluate

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
)

// Defaults of [TIFUKNN], the values of Hu et al.'s reference runs.
const (
	DefaultTIFUGroups      = 7
	DefaultTIFUWithinDecay = 0.9
	DefaultTIFUGroupDecay  = 0.7
	DefaultTIFUNeighbors   = 300
	DefaultTIFUAlpha       = 0.7
)

// TIFUKNN is TIFU-KNN (Hu, He, Gao and Zhang, "Modeling Personalized Item
// Frequency Information for Next-basket Recommendation", SIGIR 2020), the
// next-basket method that Li et al. (2023, "A Next Basket Recommendation
// Reality Check") found among the strongest: a customer is a vector of
// time-decayed item frequencies (their personalised item frequency, PIF),
// and a customer's scores blend their own vector with the mean of their
// nearest customers':
//
//	score = Alpha·u + (1−Alpha)·mean of the Neighbors nearest v
//
// The customer's baskets (orders with a bought line, and each rating a
// basket of its own, oldest first) are
// split into Groups groups of consecutive baskets, the older groups one
// basket shorter when they do not divide evenly (each basket its own group
// when there are fewer). Within a group the j-th of n baskets weighs
// WithinDecay^(n−j) and the group vector is their weighted sum over n;
// the customer's vector is the sum over the g groups of
// GroupDecay^(g−i)·group i, over g. Neighbours are nearest by Euclidean
// distance between the vectors, as in the reference implementation; ties
// by customer id. It is a baseline for evaluation: a request compares the
// customer with every other one.
type TIFUKNN struct {
	// Label is the row's name; default "tifu-knn".
	Label string
	// Groups is the number of basket groups; default 7.
	Groups int
	// WithinDecay and GroupDecay are the decay rates in (0, 1] within a
	// group and across groups; defaults 0.9 and 0.7.
	WithinDecay, GroupDecay float64
	// Neighbors is the number of nearest customers; default 300.
	Neighbors int
	// Alpha in (0, 1] weighs the customer's own vector; zero means the
	// default, 0.7.
	Alpha float64

	k     int     // Neighbors, resolved by Fit
	alpha float64 // Alpha, resolved by Fit
	vecs  [][]pif // per customer, by product
	norm2 []float64
	post  [][]postEntry // per product: the customers with a weight for it
	// scratch of Recommend
	dot   []float64
	near  []neighbor
	acc   map[affinity.ProductID]float64
	prods []affinity.ProductID
}

// pif is one product's weight in a customer's vector.
type pif struct {
	p affinity.ProductID
	w float64
}

type postEntry struct {
	c affinity.CustomerID
	w float64
}

type neighbor struct {
	c affinity.CustomerID
	d float64
}

// Name returns Label, or "tifu-knn".
func (r *TIFUKNN) Name() string { return cmp.Or(r.Label, "tifu-knn") }

func (r *TIFUKNN) settings() (groups int, rb, rg float64, k int, alpha float64, err error) {
	groups, rb, rg, k, alpha = cmp.Or(r.Groups, DefaultTIFUGroups), cmp.Or(r.WithinDecay, DefaultTIFUWithinDecay),
		cmp.Or(r.GroupDecay, DefaultTIFUGroupDecay), cmp.Or(r.Neighbors, DefaultTIFUNeighbors), cmp.Or(r.Alpha, DefaultTIFUAlpha)
	switch {
	case groups < 1:
		err = fmt.Errorf("evaluate: TIFUKNN.Groups %d < 1", groups)
	case !(rb > 0 && rb <= 1) || !(rg > 0 && rg <= 1):
		err = fmt.Errorf("evaluate: TIFUKNN decay rates %v, %v outside (0, 1]", rb, rg)
	case k < 1:
		err = fmt.Errorf("evaluate: TIFUKNN.Neighbors %d < 1", k)
	case !(alpha > 0 && alpha <= 1):
		err = fmt.Errorf("evaluate: TIFUKNN.Alpha %v outside (0, 1]", alpha)
	}
	return
}

// Fit computes every customer's vector from their orders at or before
// asOf.
func (r *TIFUKNN) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	r.vecs = nil // Recommend's sign of a model: set last
	if _, err := fitCheck(ctx, train, asOf); err != nil {
		return err
	}
	groups, rb, rg, k, alpha, err := r.settings()
	if err != nil {
		return err
	}
	r.k, r.alpha = k, alpha
	nc, np := train.NumCustomers(), train.Catalog().NumProducts()
	vecs := make([][]pif, nc)
	r.norm2 = make([]float64, nc)
	r.post = make([][]postEntry, np)
	r.dot = make([]float64, nc)
	r.acc = map[affinity.ProductID]float64{}
	until := asOf.Unix()
	var baskets []timedBasket
	w := make([]float64, np)
	seen := make([]uint32, np) // customer+1 that last listed the product
	var touched []affinity.ProductID
	for c := range affinity.CustomerID(nc) {
		if c%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		baskets = baskets[:0]
		olo, ohi := train.CustomerOrders(c)
		for o := olo; o < ohi; o++ {
			if t := train.OrderUnix(o); t <= until {
				if b := basketProducts(nil, train, o); len(b) > 0 {
					baskets = append(baskets, timedBasket{t, b})
				}
			}
		}
		elo, ehi := train.CustomerEvents(c)
		for i := elo; i < ehi; i++ {
			if e := train.Event(i); e.Unix <= until && interactionKinds.has(e.Kind) {
				baskets = append(baskets, timedBasket{e.Unix, []affinity.ProductID{e.Product}})
			}
		}
		slices.SortStableFunc(baskets, func(a, b timedBasket) int { return cmp.Compare(a.t, b.t) })
		if len(baskets) == 0 {
			continue
		}
		touched = touched[:0]
		for _, g := range groupBaskets(len(baskets), groups) {
			gi, n := g[0], g[2]-g[1]
			gw := math.Pow(rg, float64(g[3]-1-gi)) / float64(g[3]) / float64(n)
			for j := g[1]; j < g[2]; j++ {
				bw := gw * math.Pow(rb, float64(g[2]-1-j))
				for _, p := range baskets[j].prods {
					if seen[p] != uint32(c)+1 {
						seen[p] = uint32(c) + 1
						touched = append(touched, p)
					}
					w[p] += bw
				}
			}
		}
		slices.Sort(touched)
		v := make([]pif, len(touched))
		var n2 float64
		for i, p := range touched {
			v[i] = pif{p, w[p]}
			n2 += w[p] * w[p]
			r.post[p] = append(r.post[p], postEntry{c, w[p]})
			w[p] = 0
		}
		vecs[c], r.norm2[c] = v, n2
	}
	r.vecs = vecs
	return nil
}

// timedBasket is a basket of a customer and its time.
type timedBasket struct {
	t     int64
	prods []affinity.ProductID
}

// groupBaskets splits n baskets, oldest first, into min(n, groups) runs
// of consecutive baskets: each [group index, first, end, number of
// groups], the older runs one basket shorter when n does not divide
// evenly.
func groupBaskets(n, groups int) [][4]int {
	g := min(n, groups)
	base, extra := n/g, n%g // the last extra groups get one more
	out := make([][4]int, 0, g)
	at := 0
	for i := range g {
		size := base
		if i >= g-extra {
			size++
		}
		out = append(out, [4]int{i, at, at + size, g})
		at += size
	}
	return out
}

// Recommend appends c's best k products by the blended score, ties by
// product id. A customer without a basket gets nothing, and k ≤ 0
// appends nothing.
func (r *TIFUKNN) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	if k <= 0 || int(c) >= len(r.vecs) || len(r.vecs[c]) == 0 {
		return dst
	}
	kn, alpha := r.k, r.alpha
	u := r.vecs[c]
	for _, x := range u {
		for _, e := range r.post[x.p] {
			r.dot[e.c] += x.w * e.w
		}
	}
	r.near = r.near[:0]
	for v := range r.vecs {
		if v == int(c) || len(r.vecs[v]) == 0 {
			continue
		}
		d := r.norm2[c] + r.norm2[v] - 2*r.dot[v]
		r.near = append(r.near, neighbor{affinity.CustomerID(v), max(d, 0)})
		r.dot[v] = 0
	}
	r.dot[c] = 0
	slices.SortFunc(r.near, func(a, b neighbor) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.c, b.c)) })
	near := r.near[:min(kn, len(r.near))]
	clear(r.acc)
	for _, x := range u {
		r.acc[x.p] += alpha * x.w
	}
	if len(near) > 0 && alpha < 1 {
		share := (1 - alpha) / float64(len(near))
		for _, nb := range near {
			for _, x := range r.vecs[nb.c] {
				r.acc[x.p] += share * x.w
			}
		}
	}
	r.prods = r.prods[:0]
	for p := range r.acc {
		r.prods = append(r.prods, p)
	}
	slices.SortFunc(r.prods, func(a, b affinity.ProductID) int { return cmp.Or(cmp.Compare(r.acc[b], r.acc[a]), cmp.Compare(a, b)) })
	return appendRanked(dst, len(dst), r.prods, k, exclude)
}
