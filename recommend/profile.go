package recommend

import (
	"cmp"
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/shopaffinity/affinity"
)

// profiles are the category-affinity vectors, built once by
// [newProfiles] (or [updateProfiles] from an earlier engine's).
type profiles struct {
	dims    int
	prof    [][]float32 // pages of profPage rows of dims, rows L2-normalised
	pdimOff []uint32
	pdim    []uint16
	pdimW   []float32
	nodes   []affinity.CategoryID // the category node of each dimension
	sum     [][]int64             // pages of profPage rows of dims: Σ over buyers of their vectors, in units of 2^-profileBits
	asOf    int64                 // the lines and events counted: those at or before asOf
	// buyers counts, per category node (by CategoryID), the customers who
	// bought a product under it up to asOf (History.CategoryBuyerCount as
	// of asOf): what chooses the MaxProfileDims dimensions when there are
	// more nodes at depth; nil when there are not
	buyers []int32
	depth  int
	// excl are the products (Options.Exclude) that are no evidence of
	// taste: left out of the buyers' vectors, the buyer counts and the
	// choice of dimensions, and given no category vector
	excl bitset
	// own marks the pages updateProfiles has copied from the earlier
	// profiles it shares the others with (nil: every page is t's own)
	own []bool
}

// profPage is the number of products of a page of profiles.sum and
// profiles.prof: updateProfiles copies the pages of the products whose
// profiles change and shares the others with the earlier profiles.
const (
	profPageBits = 8
	profPage     = 1 << profPageBits
)

// allocPages gives t zeroed pages for np products.
func (t *profiles) allocPages(np int) {
	n := (np + profPage - 1) / profPage
	t.sum, t.prof = make([][]int64, n), make([][]float32, n)
	for i := range n {
		t.sum[i], t.prof[i] = make([]int64, profPage*t.dims), make([]float32, profPage*t.dims)
	}
}

// sumRow and profRow return p's rows; writing needs ownRow first.
func (t *profiles) sumRow(p affinity.ProductID) []int64 {
	i := uint(p&(profPage-1)) * uint(t.dims)
	return t.sum[p>>profPageBits][i : i+uint(t.dims) : i+uint(t.dims)]
}

func (t *profiles) profRow(p affinity.ProductID) []float32 {
	i := uint(p&(profPage-1)) * uint(t.dims)
	return t.prof[p>>profPageBits][i : i+uint(t.dims) : i+uint(t.dims)]
}

// ownRow copies the page of p's rows from the earlier profiles t shares
// it with, unless t has.
func (t *profiles) ownRow(p affinity.ProductID) {
	if g := int(p) / profPage; t.own != nil && !t.own[g] {
		t.sum[g], t.prof[g] = slices.Clone(t.sum[g]), slices.Clone(t.prof[g])
		t.own[g] = true
	}
}

// profileBits is the fixed-point precision of a customer's L1-normalised
// category vector in profiles.sum: integer sums do not depend on the order
// of the customers, so that a profile updated customer by customer
// (updateProfiles) is the one a full pass computes, bit for bit. A
// vector's entries add up to 2^40, so sums over fewer than 2^23 buyers
// cannot overflow.
const profileBits = 40

// newProfiles builds the category dimensions at depth, each product's own
// category vector (sparse, for customer vectors) and each product's
// buyer-category profile: the sum over its buyers and raters (up to asOf)
// of their L1-normalised category vectors, L2-normalised. The products
// in excl (non-merchandise) count nowhere: not in a buyer's vector, not
// among the categories at depth, not in the buyer counts. Off (or with
// fewer than two categories at depth) it returns empty profiles (dims 0).
// With more than MaxProfileDims categories at depth, the dimensions are
// those with the most buyers up to asOf (customers with a bought line of
// a product under the node, as History.CategoryBuyerCount counts them
// over all time; ties to the lower id), so that nothing after asOf
// chooses them.
// Time linear in the lines of h times the categories of a line.
func newProfiles(ctx context.Context, h *affinity.History, np int, asOf int64, depth int, on bool, excl bitset) (*profiles, error) {
	nodes := depthNodes(h.Catalog(), np, depth, on, excl)
	var buyers []int32
	if len(nodes) > MaxProfileDims {
		buyers = make([]int32, h.Catalog().NumCategories())
		w := newNodeScratch(h, np, excl)
		for cu := range h.NumCustomers() {
			if cu%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			w.count(h, affinity.CustomerID(cu), asOf, buyers, 1)
		}
	}
	t := profileDims(h, np, depth, nodes, buyers, excl)
	if t.dims == 0 {
		return t, nil
	}
	t.asOf = asOf
	t.allocPages(np)
	w := t.newVecScratch(np)
	for cu := range h.NumCustomers() {
		if cu%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t.addCustomer(w, h, affinity.CustomerID(cu), 1)
	}
	for p := range np {
		t.normalize(affinity.ProductID(p))
	}
	return t, nil
}

// depthNodes returns the distinct category nodes at depth of the first np
// products of c but those in excl, in the order the products reach them;
// nil when off or with fewer than two (one category says nothing about
// taste).
func depthNodes(c *affinity.Catalog, np, depth int, on bool, excl bitset) []affinity.CategoryID {
	if !on || c.NumCategories() == 0 {
		return nil
	}
	seen := make([]bool, c.NumCategories())
	var nodes []affinity.CategoryID
	for p := range affinity.ProductID(np) {
		if excl.has(p) {
			continue
		}
		for _, l := range c.Categories(p) {
			if a := c.Ancestor(l, depth); !seen[a] {
				seen[a] = true
				nodes = append(nodes, a)
			}
		}
	}
	if len(nodes) < 2 {
		return nil
	}
	return nodes
}

// sameShares reports whether the first np products of a and b count
// toward the same category nodes, so that buyer counts by node of a hold
// for b.
func sameShares(a, b *affinity.Catalog, np int) bool {
	for p := range affinity.ProductID(np) {
		if !slices.EqualFunc(a.Shares(p), b.Shares(p), func(x, y affinity.CategoryShare) bool { return x.Category == y.Category }) {
			return false
		}
	}
	return true
}

// nodeScratch is the working memory of nodeScratch.count.
type nodeScratch struct {
	prods *vecScratch
	seen  []bool // per category node: counted for the customer
	nodes []affinity.CategoryID
}

func newNodeScratch(h *affinity.History, np int, excl bitset) *nodeScratch {
	return &nodeScratch{prods: &vecScratch{seen: make([]uint32, np), excl: excl}, seen: make([]bool, h.Catalog().NumCategories())}
}

// count adds sign to buyers[a] for each category node a, at every level,
// of the products customer cu bought in h up to asOf (ratings aside, as
// History.CategoryBuyerCount counts).
func (w *nodeScratch) count(h *affinity.History, cu affinity.CustomerID, asOf int64, buyers []int32, sign int32) {
	c := h.Catalog()
	w.nodes = w.nodes[:0]
	for _, p := range customerProducts(w.prods, h, cu, asOf, false) {
		for _, x := range c.Shares(p) {
			if a := x.Category; !w.seen[a] {
				w.seen[a] = true
				w.nodes = append(w.nodes, a)
				buyers[a] += sign
			}
		}
	}
	for _, a := range w.nodes {
		w.seen[a] = false
	}
}

// profileDims returns profiles with the dimensions (nodes, the result of
// depthNodes, or of them the MaxProfileDims with the most buyers when
// there are more, buyers counting them by CategoryID: see
// nodeScratch.count) and the products'
// own category vectors of h's catalog at depth (none for the products in
// excl), and no buyer profiles yet (dims 0 without nodes).
func profileDims(h *affinity.History, np, depth int, nodes []affinity.CategoryID, buyers []int32, excl bitset) *profiles {
	t := &profiles{depth: depth, excl: excl}
	if len(nodes) < 2 {
		return t
	}
	c := h.Catalog()
	dimOf := make([]int32, c.NumCategories())
	for i := range dimOf {
		dimOf[i] = -1
	}
	nodes = slices.Clone(nodes)
	if len(nodes) > MaxProfileDims {
		t.buyers = buyers
		slices.SortFunc(nodes, func(a, b affinity.CategoryID) int {
			return cmp.Or(cmp.Compare(buyers[b], buyers[a]), cmp.Compare(a, b))
		})
		nodes = nodes[:MaxProfileDims]
	}
	slices.Sort(nodes)
	for i, a := range nodes {
		dimOf[a] = int32(i)
	}
	t.nodes = nodes
	t.dims = len(nodes)
	t.pdimOff = make([]uint32, np+1)
	for p := range np {
		leaves := c.Categories(affinity.ProductID(p))
		if excl.has(affinity.ProductID(p)) {
			leaves = nil
		}
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
	return t
}

// vecScratch is the working memory of addCustomer.
type vecScratch struct {
	u     []float64 // per dimension
	dims  []uint16  // the customer's non-zero dimensions
	fixed []int64   // their entries in units of 2^-profileBits
	prods []affinity.ProductID
	seen  []uint32 // customer + 1 that listed the product
	excl  bitset   // products never listed (profiles.excl)
}

func (t *profiles) newVecScratch(np int) *vecScratch {
	return &vecScratch{u: make([]float64, t.dims), seen: make([]uint32, np), excl: t.excl}
}

// addCustomer adds sign × customer cu's L1-normalised category vector
// (its distinct bought and rated products up to t.asOf in h) to the sums
// of each of those products. It reports whether it changed any.
func (t *profiles) addCustomer(w *vecScratch, h *affinity.History, cu affinity.CustomerID, sign int64) bool {
	customerProducts(w, h, cu, t.asOf, true)
	w.dims = w.dims[:0]
	var sum float64
	for _, p := range w.prods {
		for j := t.pdimOff[p]; j < t.pdimOff[p+1]; j++ {
			d := t.pdim[j]
			if w.u[d] == 0 {
				w.dims = append(w.dims, d)
			}
			w.u[d] += float64(t.pdimW[j])
			sum += float64(t.pdimW[j])
		}
	}
	if sum == 0 {
		return false
	}
	w.fixed = w.fixed[:0]
	for _, d := range w.dims {
		w.fixed = append(w.fixed, sign*int64(math.Round(w.u[d]/sum*(1<<profileBits))))
		w.u[d] = 0
	}
	for _, p := range w.prods {
		t.ownRow(p)
		row := t.sumRow(p)
		for i, d := range w.dims {
			row[d] += w.fixed[i]
		}
	}
	return true
}

// customerProducts sets w.prods to customer cu's distinct bought (and,
// with ratings, rated) products up to asOf in h, but those in w.excl, and
// returns it.
func customerProducts(w *vecScratch, h *affinity.History, cu affinity.CustomerID, asOf int64, ratings bool) []affinity.ProductID {
	mark := uint32(cu) + 1
	w.prods = w.prods[:0]
	olo, ohi := h.CustomerOrders(cu)
	for o := olo; o < ohi; o++ {
		if h.OrderUnix(o) > asOf {
			break
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			p := h.LineProduct(i)
			if h.LineQuantity(i) > 0 && w.seen[p] != mark && !w.excl.has(p) {
				w.seen[p] = mark
				w.prods = append(w.prods, p)
			}
		}
	}
	elo, ehi := h.CustomerEvents(cu)
	if !ratings {
		elo = ehi
	}
	for i := elo; i < ehi; i++ {
		// a rating is an interaction like a purchase (MovieLens)
		if ev := h.Event(i); ev.Kind == affinity.Rating && ev.Unix <= asOf && w.seen[ev.Product] != mark && !w.excl.has(ev.Product) {
			w.seen[ev.Product] = mark
			w.prods = append(w.prods, ev.Product)
		}
	}
	// the next call may be for the same customer in another History
	for _, p := range w.prods {
		w.seen[p] = 0
	}
	return w.prods
}

// normalize sets p's profile to its sum, L2-normalised.
func (t *profiles) normalize(p affinity.ProductID) {
	t.ownRow(p)
	sum, out := t.sumRow(p), t.profRow(p)
	var n float64
	for _, x := range sum {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		clear(out)
		return
	}
	n = math.Sqrt(n)
	for j, x := range sum {
		out[j] = float32(float64(x) / n)
	}
}

// updateProfiles returns the profiles newProfiles(ctx, h, np, asOf,
// depth, on, excl) returns: prev itself when it is the profiles of h as
// of asOf at depth with the same excl; otherwise from prev, the profiles
// of prevH (as of prevAsOf), when h was built on prevH, excl holds the
// same of prev's products as prev's, and the dimensions and the products'
// category vectors are the same: the sums of the products of the changed
// customers change by their vectors then and now, the other products keep
// prev's profiles. With more than MaxProfileDims categories at depth, the
// buyers that choose the dimensions are prev's counts moved by the
// changed customers, and the dimensions must come out the same. It
// returns nil when it cannot.
func updateProfiles(ctx context.Context, prev *profiles, prevH, h *affinity.History, np int, asOf int64, depth int, on bool, excl bitset) (*profiles, error) {
	if on && prev != nil && prevH == h && prev.dims > 0 && prev.asOf == asOf && prev.depth == depth && len(prev.pdimOff) == np+1 && slices.Equal(prev.excl, excl) {
		return prev, nil // the same lines and events at the same depth: prev, which no engine modifies
	}
	ch, ok := h.ChangedSince(prevH)
	if !ok || prev == nil || prev.dims == 0 || prev.depth != depth || len(prev.pdimOff) > np+1 ||
		!excl.samePrefix(prev.excl, len(prev.pdimOff)-1) {
		return nil, nil // (an unchanged customer's vector would change)
	}
	if latest := prevH.Latest().Unix(); prev.asOf < latest || asOf < latest {
		return nil, nil // lines of unchanged customers counted differently
	}
	pnp := len(prev.pdimOff) - 1
	pnc := affinity.CustomerID(prevH.NumCustomers())
	nodes := depthNodes(h.Catalog(), np, depth, on, excl)
	var buyers []int32
	if len(nodes) > MaxProfileDims {
		// the dimensions are the nodes with the most buyers as of asOf:
		// prev's counts, moved by the changed customers
		if prev.buyers == nil || len(prev.buyers) > h.Catalog().NumCategories() || !sameShares(prevH.Catalog(), h.Catalog(), pnp) {
			return nil, nil
		}
		buyers = make([]int32, h.Catalog().NumCategories())
		copy(buyers, prev.buyers)
		w := newNodeScratch(h, np, excl)
		for i, c := range ch.Customers {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if c < pnc {
				w.count(prevH, c, prev.asOf, buyers, -1)
			}
			w.count(h, c, asOf, buyers, 1)
		}
	}
	t := profileDims(h, np, depth, nodes, buyers, excl)
	if !slices.Equal(t.nodes, prev.nodes) || !slices.Equal(t.pdimOff[:pnp+1], prev.pdimOff) ||
		!slices.Equal(t.pdim[:len(prev.pdim)], prev.pdim) || !slices.Equal(t.pdimW[:len(prev.pdimW)], prev.pdimW) {
		return nil, nil
	}
	t.asOf = asOf
	// prev's pages, shared until a product's rows change (ownRow), and
	// new ones for the products prev did not have
	n := (np + profPage - 1) / profPage
	t.sum, t.prof, t.own = make([][]int64, n), make([][]float32, n), make([]bool, n)
	for g := range n {
		if g < len(prev.sum) {
			t.sum[g], t.prof[g] = prev.sum[g], prev.prof[g]
		} else {
			t.sum[g], t.prof[g] = make([]int64, profPage*t.dims), make([]float32, profPage*t.dims)
			t.own[g] = true
		}
	}
	touched := make([]bool, np)
	old := *prev
	// subtract the old vectors from the new sums
	old.sum, old.prof, old.own = t.sum, t.prof, t.own
	w := t.newVecScratch(np)
	for i, c := range ch.Customers {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if c < pnc && old.addCustomer(w, prevH, c, -1) {
			for _, p := range w.prods {
				touched[p] = true
			}
		}
		if t.addCustomer(w, h, c, 1) {
			for _, p := range w.prods {
				touched[p] = true
			}
		}
	}
	for p, x := range touched {
		if x {
			t.normalize(affinity.ProductID(p))
		}
	}
	t.own = nil
	return t, nil
}

// row returns p's buyer-category profile as a gonum vector.
func (t *profiles) row(p affinity.ProductID) blas32.Vector {
	return blas32.Vector{N: t.dims, Inc: 1, Data: t.profRow(p)}
}

// taste returns the dimension where the customer vector u (the data of
// customerVector's result) and p's profile meet most (the largest term
// of their cosine; ties to the first) as its category node, and u's
// share of its total there. ok is false when they do not meet.
func (t *profiles) taste(u []float32, p affinity.ProductID) (node affinity.CategoryID, share float32, ok bool) {
	row := t.row(p).Data
	best, bv := -1, float32(0)
	var sum float32
	for k, x := range u[:t.dims] {
		sum += x
		if v := x * row[k]; v > bv {
			best, bv = k, v
		}
	}
	if best < 0 || !(sum > 0) {
		return 0, 0, false
	}
	return t.nodes[best], u[best] / sum, true
}

// cosine returns the cosine between the L2-normalised vector u and p's
// profile: both are non-negative, so the result is in [0, 1].
func (t *profiles) cosine(u blas32.Vector, p affinity.ProductID) float32 {
	return blas32.Dot(u, t.row(p))
}
