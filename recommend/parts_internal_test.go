package recommend

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// demoHistory is the demo storefront's History, shared by the tests
// (DemoHistory): read it, never change it.
func demoHistory(t *testing.T) *affinity.History {
	t.Helper()
	h, err := DemoHistory()
	require.NoError(t, err)
	return h
}

// Each part of the engine is built by its own constructor; these tests
// check each against a naive computation.

// naivePopularity is the popularity of the np products as of asOf in
// float64: 2^(−age/hl) per bought line, times the anchor weight per event.
func naivePopularity(h *affinity.History, np int, asOf int64, hl float64, ew [affinity.Wishlist + 1]float32) []float64 {
	want := make([]float64, np)
	for o := range h.Orders() {
		ot := h.OrderUnix(o)
		if ot > asOf {
			continue
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			if h.LineQuantity(i) > 0 {
				want[h.LineProduct(i)] += math.Exp2(-float64(asOf-ot) / hl)
			}
		}
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if ev := h.Event(i); ev.Unix <= asOf && ev.Kind.Valid() && ew[ev.Kind] > 0 {
				want[ev.Product] += float64(ew[ev.Kind]) * math.Exp2(-float64(asOf-ev.Unix)/hl)
			}
		}
	}
	return want
}

func TestPartPopularity(t *testing.T) {
	h := demoHistory(t)
	np := h.Catalog().NumProducts()
	asOf := h.Latest().AddDate(0, -3, 0).Unix()
	const hl = 90 * 86400
	ew := [affinity.Wishlist + 1]float32{affinity.View: 0.1, affinity.Cart: 0.3, affinity.Rating: 1, affinity.Wishlist: 0.3}
	pop, err := newPopularity(context.Background(), h, np, asOf, hl, ew, newBitset(np))
	require.NoError(t, err)
	want := naivePopularity(h, np, asOf, hl, ew)
	for p := range np {
		assert.InDelta(t, want[p], float64(pop.pop[p]), 1e-4*max(1, want[p]), "product %d", p)
	}
	for i := 1; i < np; i++ {
		a, b := pop.popOrder[i-1], pop.popOrder[i]
		require.True(t, pop.pop[a] > pop.pop[b] || (pop.pop[a] == pop.pop[b] && a < b))
	}
}

func TestPartRepeatModel(t *testing.T) {
	h := demoHistory(t)
	np := h.Catalog().NumProducts()
	asOf := h.Latest().Unix()
	m, err := newRepeatModel(context.Background(), h, np, asOf, NextBasket{Propensity: 1, Trend: -1, Demand: -1}, newBitset(np))
	require.NoError(t, err)
	again, later := make([]float64, np), make([]float64, np)
	for c := range h.NumCustomers() {
		var orders []map[affinity.ProductID]bool
		olo, ohi := h.CustomerOrders(affinity.CustomerID(c))
		for o := olo; o < ohi; o++ {
			in := map[affinity.ProductID]bool{}
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				if h.LineQuantity(i) > 0 {
					in[h.LineProduct(i)] = true
				}
			}
			orders = append(orders, in)
		}
		// only the products the customer bought count: for any other,
		// first stays −1 and n 0
		bought := map[affinity.ProductID]bool{}
		for _, in := range orders {
			for p := range in {
				bought[p] = true
			}
		}
		for p := range bought {
			first, n := -1, 0
			for i, in := range orders {
				if in[p] {
					if first < 0 {
						first = i
					}
					n++
				}
			}
			if first >= 0 && first < len(orders)-1 {
				later[p]++
			}
			if n >= 2 {
				again[p]++
			}
		}
	}
	for p := range np {
		assert.InDelta(t, (again[p]+1)/(later[p]+2), float64(m.prop[p]), 1e-6, "product %d", p)
	}
	off, err := newRepeatModel(context.Background(), h, np, asOf, NextBasket{Propensity: -1, Trend: -1, Demand: -1}, newBitset(np))
	require.NoError(t, err)
	assert.Nil(t, off.prop)
}

func TestPartSubstitutes(t *testing.T) {
	h := demoHistory(t)
	c := h.Catalog()
	np := c.NumProducts()
	for _, depth := range []int{0, 1, 2} {
		sub := newSubstitutes(c, np, depth)
		for a := 0; a < np; a += 7 {
			for b := 0; b < np; b += 11 {
				want := false
				for _, x := range c.Categories(affinity.ProductID(a)) {
					for _, y := range c.Categories(affinity.ProductID(b)) {
						if depth > 0 {
							x, y = c.Ancestor(x, depth), c.Ancestor(y, depth)
						}
						want = want || x == y
					}
				}
				require.Equal(t, want, sub.same(affinity.ProductID(a), affinity.ProductID(b)), "depth %d: %d, %d", depth, a, b)
			}
		}
	}
}

func TestPartEdgeTable(t *testing.T) {
	h := demoHistory(t)
	ctx := context.Background()
	np := h.Catalog().NumProducts()
	c, err := similarity.Count(ctx, h, h.Latest(), similarity.CountOptions{})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine})
	require.NoError(t, err)
	o := withDefaults(Options{SubstitutePenalty: 0.5})
	sub := newSubstitutes(h.Catalog(), np, 0)
	excl := newBitset(np)
	excl.add(3)
	excl.add(5)
	tab, err := newEdgeTable(ctx, np, nb, nil, &o, sub, excl, nil)
	require.NoError(t, err)
	for a := range np {
		pa := affinity.ProductID(a)
		row := tab.nbr[tab.off[a]:tab.off[a+1]]
		if excl.has(pa) {
			require.Empty(t, row)
			continue
		}
		var want []affinity.ProductID
		for _, n := range nb.Neighbors(pa) {
			if n.Score > 0 && !excl.has(n.Product) {
				want = append(want, n.Product)
			}
		}
		got := append([]affinity.ProductID{}, row...)
		want = append([]affinity.ProductID{}, want...)
		slices.Sort(got)
		slices.Sort(want)
		require.Equal(t, want, got, "row %d", a)
		var prev float32
		for j := tab.off[a]; j < tab.off[a+1]; j++ {
			q := tab.nbr[j]
			i := slices.IndexFunc(nb.Neighbors(pa), func(n similarity.Neighbor) bool { return n.Product == q })
			w := nb.Neighbors(pa)[i].Score
			if sub.same(pa, q) {
				w *= 0.5
			}
			assert.InDelta(t, max(w, 1e-6), tab.w[j], 1e-6)
			// ordered by the weight as served (the substitute penalty
			// applied) times the basket prior
			rank := tab.w[j] * tab.priorB[q]
			if j > tab.off[a] {
				assert.GreaterOrEqual(t, prev*(1+1e-6), rank, "strongest first")
			}
			prev = rank
		}
	}
}

func TestPartProfiles(t *testing.T) {
	h := demoHistory(t)
	np := h.Catalog().NumProducts()
	pr, err := newProfiles(context.Background(), h, np, h.Latest().Unix(), 2, true, newBitset(np))
	require.NoError(t, err)
	require.Positive(t, pr.dims)
	for p := range np {
		r := pr.row(affinity.ProductID(p)).Data
		var n float64
		for _, v := range r {
			require.GreaterOrEqual(t, v, float32(0))
			n += float64(v) * float64(v)
		}
		if n > 0 {
			assert.InDelta(t, 1, n, 1e-4, "row %d is unit length", p)
		}
	}
	off, err := newProfiles(context.Background(), h, np, h.Latest().Unix(), 2, false, newBitset(np))
	require.NoError(t, err)
	assert.Zero(t, off.dims)
}
