package segment

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/segment/query"
)

// Exact shares.
//
// The share attributes (affinity, itemshare, ordershare and lift) are
// stored as bit-sliced indexes of shares rounded to 1/shareScale, which is
// what makes ranges fast, but a rounded share cannot decide a threshold
// that falls between two customers' exact shares: a customer at 29.997 %
// is stored as 0.3000. When the index keeps the exact numerators and
// denominators (Index.exact: no half-life), a comparison is decided
// exactly: the stored shares split the customers into those surely in,
// surely out and a narrow band of stored values around each threshold,
// and only the band is checked with integer arithmetic, num·q ≥ den·p for
// a threshold p/q. A numerator is kept as its difference from the one its
// stored share implies (predictNum), bit-packed (packedInts): a few bits
// for most customers, none when the denominator is small, as item and
// order counts usually are.

// shareBand is how many stored steps a stored share may lie from the exact
// share times shareScale: half a step of rounding plus the error of the
// floating-point sums, which is far below the rest.
const shareBand = 1.5

// ratOf returns the threshold v as the decimal number it prints as (the
// shortest representation that parses back to v), so that 0.3 means 3/10
// and not the binary fraction nearest to it.
func ratOf(v float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	if !ok { // not reached for finite v
		r = new(big.Rat).SetFloat64(v)
	}
	return r
}

// exactPlan selects the customers whose exact share num/den lies between
// lo and hi (nil: unbounded), each end included unless strict; customers
// without a value have share 0.
type exactPlan struct {
	a                  *attr           // present customers and their stored shares
	num                *packedInts     // numerators less predictNum, by rank in a.exist
	den                *packedInts     // by customer id
	cols               *[3]shareColumn // the category's share columns, or nil
	kind               int             // which share: spend, items, orders
	lo, hi             *big.Rat
	loStrict, hiStrict bool
	key                string // as cmpPlan.key
}

// intersect returns the plan of the shares in both p's and q's ranges
// (same column).
func (p *exactPlan) intersect(q *exactPlan) *exactPlan {
	r := *p
	if q.lo != nil {
		if c := 1; r.lo != nil {
			c = q.lo.Cmp(r.lo)
			if c > 0 || c == 0 && q.loStrict {
				r.lo, r.loStrict = q.lo, q.loStrict
			}
		} else {
			r.lo, r.loStrict = q.lo, q.loStrict
		}
	}
	if q.hi != nil {
		if r.hi != nil {
			c := q.hi.Cmp(r.hi)
			if c < 0 || c == 0 && q.hiStrict {
				r.hi, r.hiStrict = q.hi, q.hiStrict
			}
		} else {
			r.hi, r.hiStrict = q.hi, q.hiStrict
		}
	}
	return &r
}

// storedRange returns the stored range of the candidates (every customer
// that may qualify) and of the customers surely in.
func (p *exactPlan) storedRange() (cLo, cHi, sLo, sHi int64) {
	cLo, sLo, cHi, sHi = math.MinInt64, math.MinInt64, math.MaxInt64, math.MaxInt64
	if p.lo != nil {
		f, _ := p.lo.Float64()
		t := f * shareScale
		cLo, sLo = toInt(math.Ceil(t-shareBand)), satAdd(toInt(math.Floor(t+shareBand)), 1)
	}
	if p.hi != nil {
		f, _ := p.hi.Float64()
		t := f * shareScale
		cHi, sHi = toInt(math.Floor(t+shareBand)), satAdd(toInt(math.Ceil(t-shareBand)), -1)
	}
	return
}

func (p *exactPlan) candidates() *cmpPlan {
	cLo, cHi, _, _ := p.storedRange()
	return &cmpPlan{a: p.a, lo: cLo, hi: cHi}
}

func (p *exactPlan) cost() float64 { return p.candidates().cost() + 1 }

func (p *exactPlan) estimate(x *Index) float64 {
	e := p.candidates().estimate(x)
	if p.matches(big.NewRat(0, 1)) {
		e += float64(x.universe.GetCardinality() - p.a.exist.GetCardinality())
	}
	return min(e, float64(x.universe.GetCardinality()))
}

// matches reports whether the share s lies in the range.
func (p *exactPlan) matches(s *big.Rat) bool {
	if p.lo != nil {
		if c := s.Cmp(p.lo); c < 0 || c == 0 && p.loStrict {
			return false
		}
	}
	if p.hi != nil {
		if c := s.Cmp(p.hi); c > 0 || c == 0 && p.hiStrict {
			return false
		}
	}
	return true
}

func (p *exactPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	cLo, cHi, sLo, sHi := p.storedRange()
	zero := p.matches(new(big.Rat))
	var missing *roaring.Bitmap
	if zero {
		missing = roaring.AndNot(within, p.a.exist)
	}
	// the candidates: the customers with a share, shared with the index
	// (read, never modified) when within holds every customer
	all, shared := p.a.exist, !own && x.allIDs(within)
	if !shared {
		all = and(within, p.a.exist, own)
	}
	in := p.inBand()
	if col := p.column(x, all); col != nil {
		return evalColumn(col, all, missing, cLo, cHi, sLo, sHi, in)
	}
	v := &p.a.v
	// candidates q ∈ [cLo, cHi] and sure q ∈ [sLo, sHi], from one pass
	// per bound over the bit slices; r starts as the sure ones, and ids
	// lists the band, the candidates that are not sure
	var r *roaring.Bitmap
	var ids []uint32
	if p.lo != nil && p.hi == nil {
		// a lower bound alone: the band listed from the comparison's
		// words, without a bitmap of the candidates
		r, ids = v.AtLeastSplit(all, cLo, max(sLo, cLo), p.words(x))
	} else {
		if shared {
			all = all.Clone()
		}
		var cand, sure *roaring.Bitmap
		if p.lo != nil {
			cand, sure = v.AtLeastPair(all, cLo, max(sLo, cLo))
		} else {
			cand, sure = all, all.Clone()
		}
		if p.hi != nil && !cand.IsEmpty() {
			aboveSure, aboveCand := v.AtLeastPair(cand.Clone(), satAdd(min(sHi, cHi), 1), satAdd(cHi, 1))
			cand.AndNot(aboveCand)
			sure.AndNot(aboveSure)
		}
		if sLo > sHi {
			sure = roaring.New()
		}
		r, ids = sure, roaring.AndNot(cand, sure).ToArray()
	}
	// The band's stored shares are the few values of [cLo, cHi] outside
	// [sLo, sHi]: one decoding pass over the slices gives every member its
	// stored share (three Equal passes, one per value, took 15 % of a
	// share query on a million customers).
	if len(ids) > 0 {
		qs := v.ValuesOf(nil, ids)
		k := 0
		for i, c := range ids {
			if in(c, qs[i]) {
				ids[k] = c
				k++
			}
		}
		r.AddMany(ids[:k])
	}
	if missing != nil {
		r.Or(missing)
	}
	return r
}

// inBand returns the exact test of a band member: whether customer c,
// whose stored share is q, lies in the range.
func (p *exactPlan) inBand() func(c uint32, q int64) bool {
	bl, bh, fast := p.ints()
	return func(c uint32, q int64) bool {
		den := p.den.at(int(c))
		num := predictNum(q, den) + p.num.at(int(p.a.exist.Rank(c)-1)) // wraps as the build did
		if den <= 0 {
			num, den = 0, 1 // no spend: share 0
		}
		if fast {
			return (p.lo == nil || cmpFrac(num, den, bl) >= boolInt(p.loStrict)) &&
				(p.hi == nil || cmpFrac(num, den, bh) <= -boolInt(p.hiStrict))
		}
		return p.matches(new(big.Rat).SetFrac(big.NewInt(num), big.NewInt(den)))
	}
}

// A share column holds a category's stored shares of one kind per
// customer id (0 for a customer without one), decoded from the bit slices
// the second time a comparison's candidates are few: the comparison then
// reads one entry per candidate instead of intersecting 14 slices with
// them. It costs 2 bytes per customer; an index decodes at most
// maxShareColumns of them and compares on the slices beyond that.
// Measured on a million customers: BenchmarkQuery3 888 → 475 µs; the
// query (recency two to four weeks and a share of a category of 214,000
// buyers) that decodes a column took 11.7 ms, the same query later
// 0.4–0.5 ms. A query asked once never pays the decoding.
type shareColumn struct {
	uses atomic.Int32
	once sync.Once
	v    []uint16

	// words are the share's bit slices as words (bsi.Words), made on
	// the second comparison of many candidates: the comparison on words
	// then reads them instead of copying the slices each time (on a
	// million customers, 0.12 of the 0.40 ms of a share threshold over a
	// category of 443,000 buyers). They cost what the slices cost as
	// bitmaps, about 1.7 MB at a million customers; an index makes at
	// most maxShareWords of them.
	wordUses atomic.Int32
	wordOnce sync.Once
	words    *bsi.Words
}

// shareBudget counts the share columns and words an index has made.
type shareBudget struct{ cols, words atomic.Int32 }

// maxShareColumns bounds the share columns an index decodes (32 MB at a
// million customers), and maxShareWords the shares it keeps as words (7
// MB at a million customers, for the 14 slices of a spend share).
const (
	maxShareColumns = 16
	maxShareWords   = 4
)

// sparseCandidates is the divisor of a category's buyers below which a
// comparison's candidates read the share column: a variable so that a
// test can send every comparison to the slices (0) or to the column
// (negative).
var sparseCandidates = 8

// column returns the share column for the candidates all, or nil when the
// comparison should intersect the slices: too many candidates, or the
// index's budget of columns spent.
func (p *exactPlan) column(x *Index, all *roaring.Bitmap) []uint16 {
	if p.cols == nil || x.share == nil || sparseCandidates == 0 ||
		sparseCandidates > 0 && all.GetCardinality()*uint64(sparseCandidates) >= p.a.exist.GetCardinality() {
		return nil
	}
	sc := &p.cols[p.kind]
	if sc.uses.Load() < 2 && sc.uses.Add(1) < 2 {
		return nil
	}
	sc.once.Do(func() {
		if x.share.cols.Add(1) > maxShareColumns {
			return
		}
		col := make([]uint16, len(x.keys))
		p.a.scatter(nil, func(c uint32, v int64) { col[c] = uint16(v) })
		sc.v = col
	})
	return sc.v
}

// words returns the slices of the comparison's share as words from its
// second call on, while the index's budget lasts; nil otherwise.
func (p *exactPlan) words(x *Index) *bsi.Words {
	if p.cols == nil || x.share == nil {
		return nil
	}
	sc := &p.cols[p.kind]
	if sc.wordUses.Load() < 2 && sc.wordUses.Add(1) < 2 {
		return nil
	}
	sc.wordOnce.Do(func() {
		if x.share.words.Add(1) > maxShareWords {
			return
		}
		sc.words = p.a.v.Words(uint32(len(x.keys)))
	})
	return sc.words
}

// evalColumn is eval on the share column: the candidates all with a
// stored share in [cLo, cHi], those in [sLo, sHi] surely, the others when
// in says so, and missing.
func evalColumn(col []uint16, all, missing *roaring.Bitmap, cLo, cHi, sLo, sHi int64, in func(uint32, int64) bool) *roaring.Bitmap {
	var ids []uint32
	var buf [256]uint32
	it := all.ManyIterator()
	for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
		for _, c := range buf[:n] {
			q := int64(col[c])
			switch {
			case q < cLo || q > cHi:
			case q >= sLo && q <= sHi, in(c, q):
				ids = append(ids, c)
			}
		}
	}
	r := roaring.New()
	r.AddMany(ids)
	if missing != nil {
		r.Or(missing)
	}
	return r
}

// frac is a threshold p/q with q > 0.
type frac struct{ p, q int64 }

// ints returns the bounds as fractions of int64, when they fit.
func (p *exactPlan) ints() (lo, hi frac, ok bool) {
	conv := func(r *big.Rat) (frac, bool) {
		if r == nil {
			return frac{}, true
		}
		if !r.Num().IsInt64() || !r.Denom().IsInt64() {
			return frac{}, false
		}
		return frac{r.Num().Int64(), r.Denom().Int64()}, true
	}
	lo, ok1 := conv(p.lo)
	hi, ok2 := conv(p.hi)
	return lo, hi, ok1 && ok2
}

// cmpFrac compares num/den (den > 0) with f: -1, 0 or +1, exactly, in
// 128-bit products.
func cmpFrac(num, den int64, f frac) int {
	h1, l1 := mul128(num, f.q)
	h2, l2 := mul128(den, f.p)
	switch {
	case h1 != h2:
		if h1 < h2 {
			return -1
		}
		return 1
	case l1 != l2:
		if l1 < l2 {
			return -1
		}
		return 1
	}
	return 0
}

// mul128 returns a·b as a signed 128-bit integer hi·2^64 + lo.
func mul128(a, b int64) (hi int64, lo uint64) {
	h, l := bits.Mul64(uint64(a), uint64(b))
	if a < 0 {
		h -= uint64(b)
	}
	if b < 0 {
		h -= uint64(a)
	}
	return int64(h), l
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// exactComparison compiles a comparison of a share attribute to an exact
// plan; the thresholds are shares (lift thresholds already multiplied by
// the population share).
func exactComparison(x *Index, a *attr, num, den *packedInts, op query.Op, v, hi *big.Rat) plan {
	p := &exactPlan{a: a, num: num, den: den}
	switch op {
	case query.GE:
		p.lo = v
	case query.GT:
		p.lo, p.loStrict = v, true
	case query.LE:
		p.hi = v
	case query.LT:
		p.hi, p.hiStrict = v, true
	case query.EQ:
		p.lo, p.hi = v, v
	case query.NE:
		p.lo, p.hi = v, v
		return newNot(x, p)
	case query.Between:
		p.lo, p.hi = v, hi
	}
	return p
}
