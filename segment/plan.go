package segment

import (
	"math"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

type allPlan struct{}

func (allPlan) eval(_ *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if own {
		return within
	}
	return within.Clone()
}

func (allPlan) estimate(x *Index) float64 { return float64(x.universe.GetCardinality()) }

func (allPlan) cost() float64 { return 1 }

type nonePlan struct{}

func (nonePlan) eval(*Index, *roaring.Bitmap, bool) *roaring.Bitmap { return roaring.New() }

func (nonePlan) estimate(*Index) float64 { return 0 }

func (nonePlan) cost() float64 { return 0 }

// andPlan, orPlan and notPlan keep their estimate and cost, computed
// once when built from their operands' (compiler.and, newOr, newNot), so
// that ordering the operands of every And of a deep tree takes time
// linear in its size, not a walk of each subtree at every level.
type andPlan struct {
	ps       []plan
	est, cst float64
}

func (a andPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	cur := within
	for i, p := range a.ps {
		cur = p.eval(x, cur, own)
		own = true // every operand returns a bitmap of its own
		if cur.IsEmpty() && i < len(a.ps)-1 {
			break
		}
	}
	if !own {
		return within.Clone()
	}
	return cur
}

func (a andPlan) cost() float64 { return a.cst }

func (a andPlan) estimate(*Index) float64 { return a.est }

type orPlan struct {
	ps       []plan
	est, cst float64
}

func newOr(x *Index, ps []plan) orPlan {
	var e, c float64
	for _, p := range ps {
		e += p.estimate(x)
		c += p.cost()
	}
	return orPlan{ps: ps, est: min(e, float64(x.universe.GetCardinality())), cst: c + 1}
}

func (o orPlan) cost() float64 { return o.cst }

func (o orPlan) estimate(*Index) float64 { return o.est }

func (o orPlan) eval(x *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	acc := roaring.New()
	for _, p := range o.ps {
		acc.Or(p.eval(x, within, false))
	}
	return acc // a subset of within: every operand's result is
}

type notPlan struct {
	p        plan
	est, cst float64
}

func newNot(x *Index, p plan) notPlan {
	c := p.cost() + 1
	if _, ok := p.(setPlan); ok {
		c = 1
	}
	return notPlan{p: p, est: max(0, float64(x.universe.GetCardinality())-p.estimate(x)), cst: c}
}

func (n notPlan) cost() float64 { return n.cst }

func (n notPlan) estimate(*Index) float64 { return n.est }

func (n notPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	var out *roaring.Bitmap
	if s, ok := n.p.(setPlan); ok {
		out = s.b
	} else {
		out = n.p.eval(x, within, false)
	}
	if own {
		within.AndNot(out)
		return within
	}
	return roaring.AndNot(within, out)
}

// refPlan is the plan of a defined segment, of an And, Or or Not node of
// a tree built in Go, or of an active range, compiled once per query
// however often the query refers to it (directly, through other
// definitions, as a node that several parents share, or as the same
// range written again). Referred to once, it evaluates as its plan; more often,
// it evaluates its plan once on all the index's customers and intersects
// that with each within (the same customers: every plan selects a set
// intersected with within), so that definitions that each refer twice to
// the one before evaluate in time linear in their number, not in the
// 2^n paths through them.
type refPlan struct {
	p    plan
	uses int // references in the query, counted while compiling
	once sync.Once
	set  *roaring.Bitmap
}

func (r *refPlan) cost() float64 { return r.p.cost() }

func (r *refPlan) estimate(x *Index) float64 { return r.p.estimate(x) }

func (r *refPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if r.uses <= 1 {
		return r.p.eval(x, within, own)
	}
	r.once.Do(func() { r.set = r.p.eval(x, x.universe, false) })
	return x.and(within, r.set, own)
}

type setPlan struct{ b *roaring.Bitmap }

func (s setPlan) estimate(*Index) float64 { return float64(s.b.GetCardinality()) }

func (setPlan) cost() float64 { return 1 }

func (s setPlan) eval(_ *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if own {
		within.And(s.b)
		return within
	}
	return roaring.And(within, s.b)
}

// cmpPlan selects the customers whose value of a lies in [lo, hi]; when
// zero is set, customers without a value count as 0.
type cmpPlan struct {
	a      *attr
	zero   bool
	lo, hi int64
	// key names the column (attribute and category) for merging the
	// ranges of an And; empty: never merged
	key string
}

func rangePlan(a *attr, zero bool, lo, hi int64) plan {
	if lo > hi {
		return nonePlan{}
	}
	return &cmpPlan{a: a, zero: zero, lo: lo, hi: hi}
}

// estimate assumes values spread evenly over the range the slices can
// hold: crude, but it tells a two-week recency window from a share above
// 0.2.
func (p *cmpPlan) estimate(x *Index) float64 {
	if i, j, ok := p.binRange(); ok {
		if i > j {
			return 0
		}
		return float64(p.a.cum[j+1] - p.a.cum[i])
	}
	n := float64(p.a.exist.GetCardinality())
	lo, hi := float64(p.a.v.Base), float64(p.a.v.Base)+math.Exp2(float64(len(p.a.v.Slices)))-1
	frac := 1.0
	if hi > lo {
		frac = max(0, min(hi, float64(p.hi))-max(lo, float64(p.lo))+1) / (hi - lo + 1)
	}
	e := n * frac
	if p.zero && p.lo <= 0 && 0 <= p.hi {
		e += float64(x.universe.GetCardinality()) - n
	}
	return e
}

func (p *cmpPlan) cost() float64 {
	if p.a.levels != nil {
		return 1
	}
	if p.a.bins != nil {
		return 2
	}
	return 2 + 2*float64(len(p.a.v.Slices))
}

// binRange returns the bins [i, j] that hold the values in [p.lo, p.hi];
// ok is false when p.a has no bins.
func (p *cmpPlan) binRange() (i, j int, ok bool) {
	bins := p.a.bins
	if bins == nil {
		return 0, 0, false
	}
	base := p.a.v.Base
	i = int(max(p.lo, base) - base)
	if p.lo > base+int64(len(bins)) {
		i = len(bins)
	}
	j = len(bins) - 1
	if p.hi < base+int64(len(bins)) {
		j = int(p.hi - base)
		if p.hi < base {
			j = -1
		}
	}
	return i, j, true
}

func (p *cmpPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if i, j, ok := p.binRange(); ok {
		if i > j {
			return roaring.New()
		}
		if a := p.a; a.levels != nil {
			// values in [i, j] = (offset ≤ j) minus (offset ≤ i-1)
			r := a.offsetRange(i, j)
			if !x.allIDs(within) {
				r.And(within)
			}
			return r
		}
		// the union of the fewer bins, inside the range or outside it, when
		// that is cheaper than a pass over the bit slices
		a := p.a
		inside := a.cum[j+1] - a.cum[i]
		outside := a.cum[len(a.bins)] - inside
		if min(inside, outside) <= 4*within.GetCardinality() {
			if inside <= outside {
				r := x.union(a.bins[i : j+1])
				if !x.allIDs(within) {
					r.And(within)
				}
				return r
			}
			r := x.and(within, a.exist, own)
			r.AndNot(x.union(append(slices.Clip(a.bins[:i]), a.bins[j+1:]...)))
			return r
		}
	}
	var missing *roaring.Bitmap // customers without a value, when they count as 0
	if p.zero && p.lo <= 0 && 0 <= p.hi {
		missing = roaring.AndNot(within, p.a.exist)
	}
	r := x.and(within, p.a.exist, own)
	v := &p.a.v
	// the more selective bound first, so that the other works on fewer
	// columns (values assumed spread over the slices' range)
	top := float64(v.Base) + math.Exp2(float64(len(v.Slices)))
	if float64(p.hi)-float64(v.Base) < top-float64(p.lo) {
		r = v.AtMost(r, p.hi)
		r = v.AtLeast(r, p.lo)
	} else {
		r = v.AtLeast(r, p.lo)
		r = v.AtMost(r, p.hi)
	}
	if missing != nil {
		r.Or(missing)
	}
	return r
}

// nePlan selects the customers whose value of a is not v.
type nePlan struct {
	a    *attr
	zero bool
	v    int64
}

func (p nePlan) cost() float64 { return 2 + float64(len(p.a.v.Slices)) }

func (p nePlan) estimate(x *Index) float64 {
	if p.zero {
		return float64(x.universe.GetCardinality())
	}
	return float64(p.a.exist.GetCardinality())
}

func (p nePlan) eval(_ *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	cand := roaring.And(within, p.a.exist)
	r := roaring.AndNot(cand, p.a.v.Equal(cand.Clone(), p.v))
	if p.zero && p.v != 0 {
		r.Or(roaring.AndNot(within, p.a.exist))
	}
	return r
}

// productPlan materializes the customers of some products' postings whose
// last interaction was less than days ago.
type productPlan struct {
	kind  int
	prods []uint32
	days  uint16
}

func (productPlan) cost() float64 { return 2 }

func (p productPlan) estimate(x *Index) float64 {
	var n float64
	for _, prod := range p.prods {
		n += float64(x.acts[p.kind].off[prod+1] - x.acts[p.kind].off[prod])
	}
	return n
}

func (p productPlan) eval(x *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	ps := &x.acts[p.kind]
	acc := roaring.New()
	var ids []uint32
	for _, prod := range p.prods {
		ids = ids[:0]
		ps.each(prod, func(c uint32, days int64) {
			if days < int64(p.days) {
				ids = append(ids, c)
			}
		})
		if len(p.prods) == 1 {
			acc.AddMany(ids)
		} else {
			acc.Or(roaring.BitmapOf(ids...))
		}
	}
	if !x.allIDs(within) {
		acc.And(within)
	}
	return acc
}

// dailyPlan selects the customers active on days [from, to] of x.daily;
// est is count's.
type dailyPlan struct {
	from, to int
	est      float64
}

func (dailyPlan) cost() float64 { return 2 }

func (p dailyPlan) estimate(*Index) float64 { return p.est }

// count returns the sum of the days' customers, an estimate of the
// plan's: a pass over the days, done once when it compiles.
func (p dailyPlan) count(x *Index) float64 {
	var n float64
	for _, b := range x.daily[p.from : p.to+1] {
		n += float64(b.GetCardinality())
	}
	return n
}

func (p dailyPlan) eval(x *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	r := x.union(x.daily[p.from : p.to+1])
	if !x.allIDs(within) {
		r.And(within)
	}
	return r
}

// union returns the union of bms, bitmaps of customers. Many bitmaps are
// merged by setting bits in a dense array, in time linear in their sizes
// and the number of customers, where merging array containers pair by pair
// costs time quadratic in their number.
func (x *Index) union(bms []*roaring.Bitmap) *roaring.Bitmap {
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0].Clone()
	case 2:
		return roaring.Or(bms[0], bms[1])
	}
	words := make([]uint64, (len(x.keys)+63)/64)
	var buf [512]uint32
	for _, b := range bms {
		it := b.ManyIterator()
		for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
			for _, c := range buf[:n] {
				words[c>>6] |= 1 << (c & 63)
			}
		}
	}
	return roaring.FromDense(words, true)
}

// and returns within ∩ b, in place when own is set.
func and(within, b *roaring.Bitmap, own bool) *roaring.Bitmap {
	if own {
		within.And(b)
		return within
	}
	return roaring.And(within, b)
}

// and returns within ∩ b for b a bitmap of the index's customers: a copy
// of b when within holds every id, in place in within when own is set.
func (x *Index) and(within, b *roaring.Bitmap, own bool) *roaring.Bitmap {
	if !own && x.allIDs(within) {
		return b.Clone()
	}
	return and(within, b, own)
}

// allIDs reports whether set holds every id below the index's number of
// customers, so that intersecting a bitmap of the index's customers with
// it changes nothing.
func (x *Index) allIDs(set *roaring.Bitmap) bool {
	n := uint64(len(x.keys))
	return n > 0 && set.GetCardinality() == n && uint64(set.Maximum()) < n
}
