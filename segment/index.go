package segment

import (
	"errors"
	"iter"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/roaringio"

	"github.com/shopaffinity/affinity"
)

// Errors callers can branch on; the errors returned wrap them with details.
var (
	// ErrInvalid reports an option, window, range or argument that cannot
	// be used: an empty or reversed window, a negative half-life, a
	// threshold that is not a number.
	ErrInvalid = errors.New("segment: invalid argument")
	// ErrUnknown reports a category, product, named segment, RFM segment
	// or lifecycle stage that the index does not know.
	ErrUnknown = errors.New("segment: unknown name")
	// ErrNoData reports an as-of time before every order and event.
	ErrNoData = errors.New("segment: no data at or before asOf")
	// ErrCorrupt reports an index file that is truncated, damaged or not an
	// index file at all.
	ErrCorrupt = errors.New("segment: corrupt index file")
)

// attr is one numeric attribute: the present columns and their values.
type attr struct {
	exist *roaring.Bitmap
	v     bsi.BSI
	// bins, kept for the day attributes of customers, holds one bitmap per
	// stored offset (an equality encoding next to the bit slices) and cum
	// the running counts, cum[i] = |bins[0]| + … + |bins[i-1]|: a narrow
	// range such as two weeks of recency is then the union of a few small
	// bitmaps, and its size is known without evaluating it.
	bins []*roaring.Bitmap
	cum  []uint64
	// levels, kept for recency and tenure, range-encode the bins at the
	// offsets in cuts: levels[i] holds the customers whose offset is at
	// most cuts[i]. Any range is then one or two of them, differenced,
	// plus a few bins at the edges. Cuts are every day for the first 90
	// days, every week to a year and every 30 days beyond, which costs
	// about 18 bytes per customer once the levels are dense.
	levels []*roaring.Bitmap
	cuts   []int
}

// isCut reports whether offset off gets a level.
func isCut(off int) bool {
	switch {
	case off < 90:
		return true
	case off < 365:
		return (off-89)%7 == 0
	}
	return (off-364)%30 == 0
}

// leveled adds the levels of a, which must have bins.
func (a *attr) leveled() {
	cur := roaring.New()
	changed := true
	for off, b := range a.bins {
		if !b.IsEmpty() {
			cur.Or(b)
			changed = true
		}
		if isCut(off) || off == len(a.bins)-1 {
			// a level equal to the one before it is the same bitmap:
			// levels and bins are only read
			if changed || len(a.levels) == 0 {
				a.levels = append(a.levels, cur.Clone())
			} else {
				a.levels = append(a.levels, a.levels[len(a.levels)-1])
			}
			a.cuts = append(a.cuts, off)
			changed = false
		}
	}
}

// levelAtMost returns the highest level at or below offset t (nil when
// there is none; shared, never to be modified) and the first offset it
// does not cover: the customers whose offset is at most t are the level
// and the bins from lo to t.
func (a *attr) levelAtMost(t int) (level *roaring.Bitmap, lo int) {
	i, found := slices.BinarySearch(a.cuts, t)
	if !found {
		i--
	}
	if i < 0 {
		return nil, 0
	}
	return a.levels[i], a.cuts[i] + 1
}

// offsetRange returns the present customers whose offset is in [i, j],
// 0 ≤ i ≤ j: the customers at most j less those at most i−1, each a level
// and the bins above it. The levels are shared. When both ends fall on
// levels (any range within the first 90 days, which have a level a day)
// the result is the difference of the two written into a new bitmap;
// otherwise the upper level is cloned, its bins added, and the lower level
// and its bins removed in place. Measured by BenchmarkQueries/recency on
// 1 M customers, the first is 25 % faster than the second for two weeks
// of recency, the second 25 % faster than the first for a hundred days.
func (a *attr) offsetRange(i, j int) *roaring.Bitmap {
	hiLevel, hiFrom := a.levelAtMost(j)
	var loLevel *roaring.Bitmap
	loFrom := 0
	if i > 0 {
		loLevel, loFrom = a.levelAtMost(i - 1)
	}
	if hiLevel != nil && loLevel != nil && hiFrom > j && loFrom >= i {
		return roaring.AndNot(hiLevel, loLevel)
	}
	r := roaring.New()
	if hiLevel != nil {
		r = hiLevel.Clone()
	}
	for off := hiFrom; off <= j && off < len(a.bins); off++ {
		r.Or(a.bins[off])
	}
	if loLevel != nil {
		r.AndNot(loLevel)
	}
	// bins at offsets loFrom..i−1, above the lower level
	for off := loFrom; off < i && off < len(a.bins); off++ {
		r.AndNot(a.bins[off])
	}
	return r
}

// maxBins bounds the span of values that gets bins.
const maxBins = 1 << 16

// binned adds the bins of a, built from its present ids (sorted) and their
// values, unless the values span more than maxBins.
func (a *attr) binned(ids []uint32, vals []int64) {
	if len(ids) == 0 {
		return
	}
	base := a.v.Base
	span := int64(0)
	for _, v := range vals {
		d := v - base
		if d < 0 || d >= maxBins { // wrapped or too wide: no bins
			return
		}
		span = max(span, d)
	}
	n := int(span) + 1
	off := make([]uint32, n+1)
	for _, v := range vals {
		off[v-base+1]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	sorted := make([]uint32, len(ids))
	pos := slices.Clone(off[:n])
	for i, v := range vals {
		sorted[pos[v-base]] = ids[i]
		pos[v-base]++
	}
	var w roaringio.Writer
	a.bins = make([]*roaring.Bitmap, n)
	a.cum = make([]uint64, n+1)
	empty := roaring.New() // every empty bin: bins are only read
	for i := range n {
		if off[i] == off[i+1] {
			a.bins[i] = empty
		} else {
			a.bins[i] = roaringio.FromSorted(&w, sorted[off[i]:off[i+1]])
		}
		a.cum[i+1] = uint64(off[i+1])
	}
}

// catData holds everything the index knows per category node.
type catData struct {
	bought *roaring.Bitmap // bought in the category within the look-back
	// values of the bought customers: shares in 1/shareScale, days since the
	// last purchase in the category
	spend, items, orders, days bsi.BSI
	rank                       attr // rank among the customer's top categories at this level
	viewed, carted             attr // days since the last view / add-to-cart
	// exNum holds, when the index keeps shares exactly, the numerators of
	// the spend, item and order shares of the bought customers in
	// ascending id order (spend and items times the weights' common
	// denominator), each less the numerator its stored share implies
	// (predictNum), bit-packed; popNum is the sum of the spend numerators.
	exNum  [3]packedInts
	popNum *big.Int
	cols   *[3]shareColumn // decoded on use, when the index keeps shares exactly
}

// postings lists, per product, the customers with an interaction of one
// kind within the look-back and the days since the last one, sorted by
// customer id: a compressed column that turns into a bitmap in time linear
// in the product's customers. Entries off[p] to off[p+1] are product p's;
// its first customer is first[p], each later one the previous plus
// gap[i] + 1, and days[i] is the days since the customer's last
// interaction. gap and days are bit-packed: a product bought by one
// customer in a hundred takes about 15 bits per entry for the customer,
// not 32.
type postings struct {
	off   []uint32 // len NumProducts+1
	first []uint32 // len NumProducts; 0 for a product without entries
	gap   packedInts
	days  packedInts
}

// each calls f with the customer and the days of product prod's entries,
// in customer order.
func (p *postings) each(prod uint32, f func(c uint32, days int64)) {
	lo, hi := int(p.off[prod]), int(p.off[prod+1])
	c := p.first[prod]
	for i := lo; i < hi; i++ {
		if i > lo {
			c += uint32(p.gap.at(i)) + 1
		}
		f(c, p.days.at(i))
	}
}

// Scalar attributes of a customer, in their storage order.
const (
	scRecency = iota
	scTenure
	scFrequency
	scMonetary
	scAOV
	scR
	scF
	scM
	scAbandoned
	numScalars
)

// binnedScalars are the scalar attributes with bins (days of customers);
// the first two also get levels.
var binnedScalars = [...]int{scRecency, scTenure, scAbandoned}

func hasLevels(sc int) bool { return sc == scRecency || sc == scTenure }

// Activity kinds, in their storage order.
const (
	actBought = iota
	actViewed
	actCarted
	numActs
)

// Index is an immutable index of customer features as of one point in
// time, built by [Build] or read by [Load]: recency, frequency, monetary
// value, tenure, average order value, RFM scores and segments, lifecycle
// stages, per-category shares, lift, recency and top-N ranks, bought,
// viewed and carted sets and daily activity, all as roaring bitmaps and
// bit-sliced indexes. Customers are the dense ids of the [affinity.History]
// it was built from; every method that returns a bitmap returns a new one
// the caller owns. All methods are safe for concurrent use.
type Index struct {
	asOf     int64 // Unix seconds
	opts     Options
	given    Options // the options as given to Build, whose defaults another as-of time derives anew
	lookDays int

	keys     []string        // shop customer ids by dense id
	universe *roaring.Bitmap // customers with an order or event at or before asOf

	scalars [numScalars]attr

	cust *customerCols // customer attributes (WithAttributes); nil when none

	cats      []string
	catParent []uint32 // noParent for a top-level node
	catDepth  []uint8
	catData   []catData
	popShare  []float64 // share of all customers' (decayed) spend per category
	catIndex  map[string]uint32

	products  []string
	prodIndex map[string]uint32
	acts      [numActs]postings

	day0  int64             // Unix day (days since 1970-01-01 UTC) of daily[0]
	daily []*roaring.Bitmap // customers with a bought order on each day

	rfm    []*roaring.Bitmap // per rule of opts.RFMRules
	stages [len(stages)]*roaring.Bitmap

	revenue affinity.Money // net spend of the universe in the look-back
	orders  int64

	// exact is set when shares are decided exactly: exDen holds the share
	// denominators per customer (spend and items times the common
	// denominator of the weights, orders), popDen their spend sum.
	exact  bool
	exDen  [3]packedInts
	popDen *big.Int

	defs defList // named segments, in definition order

	lookupOnce sync.Once
	byKey      []uint32 // customer ids sorted by key, built on first lookup
	keyRank    []uint32 // per customer id: its position in byKey
	// the keys in byKey order, their bytes one after another in sortedBuf:
	// key r is sortedBuf[sortedOff[r]:sortedOff[r+1]]. Listing keys then
	// reads 4 bytes per key where a []string would read 16. Beyond 4 GiB
	// of keys the offsets are sortedOff64 instead. When all keys have
	// keyWidth (> 0) bytes there are no offsets: key r starts at
	// r·keyWidth.
	sortedBuf   []byte
	keyWidth    int
	sortedOff   []uint32
	sortedOff64 []uint64

	statsOnce sync.Once
	statCols  []statCol // per customer, decoded on the first small Stats

	scoresOnce sync.Once
	scoreCols  [3][]uint8 // per customer: R, F and M score, 0 none; decoded on the first ScoreGrid

	share *shareBudget // share columns and words made so far (see shareColumn); nil: none

	// cols is set on an index built by Build or Update (see custCols),
	// over on one made by Update (see overlay).
	cols *custCols
	over *overlay
	// shift, on the base layer of an index that Update moved to a later
	// day, is the number of days its stored day values lag: a customer's
	// recency is the stored one plus shift.
	shift int64
}

// shifted returns the stored value that day count v (as of x's time)
// corresponds to on a layer whose stored days lag by x.shift; the
// unbounded ends stay unbounded, and a bound that would pass an end of
// the int64 range stays at it (no stored value lies near either).
func (x *Index) shifted(v int64) int64 {
	if x.shift == 0 || v == math.MinInt64 || v == math.MaxInt64 {
		return v
	}
	return satAdd(v, -x.shift)
}

const noParent = ^uint32(0)

// AsOf returns the time the index describes (UTC).
func (x *Index) AsOf() time.Time { return time.Unix(x.asOf, 0).UTC() }

// Options returns the options the index was built with, defaults filled in
// (see [Index.GivenOptions] to build another time's index).
// The RFMRules slice and the NonMerchandise set are copies.
func (x *Index) Options() Options { return x.opts.clone() }

// GivenOptions returns the options the index was built with as they were
// given, before their defaults (Workers aside): those to build the index
// of another time with the same settings. Options' filled-in defaults
// may not fit another time: LapseAfter's derives from the look-back's
// length in days, so the defaults of Months(1) as of 2025-06-01 (31 days)
// exceed the look-back as of 2025-03-01 (28 days), which Build refuses.
// An index read from a file gives the defaults that do not depend on the
// time (TopN, LoyalOrders, RFMRules) filled in, which builds the same.
// The RFMRules slice and the NonMerchandise set are copies.
func (x *Index) GivenOptions() Options { return x.given.clone() }

// clone returns o with copies of its RFMRules slice and NonMerchandise set.
func (o Options) clone() Options {
	o.RFMRules = slices.Clone(o.RFMRules)
	if o.NonMerchandise != nil {
		o.NonMerchandise = o.NonMerchandise.Clone()
	}
	return o
}

// Len returns the number of customers the index knows: those with an
// order (of any kind, returns included) or event at or before asOf.
func (x *Index) Len() int { return int(x.universe.GetCardinality()) }

// NumCustomers returns the size of the customer id space: every customer
// of the History the index was built from, including those whose first
// activity comes after asOf. Ids run from 0 to NumCustomers-1.
func (x *Index) NumCustomers() int { return len(x.keys) }

// All returns the customers the index knows (see [Index.Len]).
func (x *Index) All() *roaring.Bitmap { return x.universe.Clone() }

// CustomerKey returns the shop id of customer c, or "" when c is out of
// range.
func (x *Index) CustomerKey(c affinity.CustomerID) string {
	if int(c) >= len(x.keys) {
		return ""
	}
	return x.keys[c]
}

// LookupCustomer returns the dense id of the shop customer id key: any
// customer of the History the index was built from, one whose first
// activity comes after asOf included (see [Index.NumCustomers]); never
// an erased customer, whose key is empty. The first call sorts the keys
// once (O(n log n)); later calls are binary searches.
func (x *Index) LookupCustomer(key string) (affinity.CustomerID, bool) {
	if key == "" {
		return 0, false // the key of erased customers: nobody's
	}
	x.lookupOnce.Do(x.sortKeys)
	i, ok := slices.BinarySearchFunc(x.byKey, key, func(id uint32, k string) int {
		switch kk := x.keys[id]; {
		case kk < k:
			return -1
		case kk > k:
			return 1
		}
		return 0
	})
	if !ok {
		return 0, false
	}
	return affinity.CustomerID(x.byKey[i]), true
}

// sortKeys sorts the customer ids by key (as bytes, then by id) into
// byKey and records each id's position in keyRank.
func (x *Index) sortKeys() {
	ids := make([]uint32, len(x.keys))
	for i := range ids {
		ids[i] = uint32(i)
	}
	slices.SortFunc(ids, func(a, b uint32) int {
		if x.keys[a] < x.keys[b] {
			return -1
		}
		if x.keys[a] > x.keys[b] {
			return 1
		}
		return int(a) - int(b)
	})
	x.byKey = ids
	x.keyRank = make([]uint32, len(ids))
	size := 0
	for _, k := range x.keys {
		size += len(k)
	}
	x.sortedBuf = make([]byte, 0, size)
	if n := len(ids); n > 0 && len(x.keys[0]) > 0 && sameWidth(x.keys) {
		// Fixed-width keys (zero-padded numbers, UUIDs, hashes) need no
		// offsets: listing keys then reads a quarter less memory.
		x.keyWidth = len(x.keys[0])
	} else if size <= maxOff32 {
		x.sortedOff = make([]uint32, len(ids)+1)
	} else {
		x.sortedOff64 = make([]uint64, len(ids)+1)
	}
	for r, id := range ids {
		x.keyRank[id] = uint32(r)
		x.sortedBuf = append(x.sortedBuf, x.keys[id]...)
		switch {
		case x.sortedOff != nil:
			x.sortedOff[r+1] = uint32(len(x.sortedBuf))
		case x.sortedOff64 != nil:
			x.sortedOff64[r+1] = uint64(len(x.sortedBuf))
		}
	}
}

// sameWidth reports whether all keys have the same length.
func sameWidth(keys []string) bool {
	for _, k := range keys {
		if len(k) != len(keys[0]) {
			return false
		}
	}
	return true
}

// maxOff32 is the most key bytes whose offsets are kept in 32 bits (a
// variable so that a test can take the other path).
var maxOff32 = math.MaxUint32

// sortedKey returns the key of rank r, sharing sortedBuf's bytes, which
// are never written after sortKeys.
func (x *Index) sortedKey(r uint32) string {
	var lo, hi uint64
	if w := uint64(x.keyWidth); w > 0 {
		return unsafe.String(&x.sortedBuf[uint64(r)*w], w)
	}
	if x.sortedOff != nil {
		lo, hi = uint64(x.sortedOff[r]), uint64(x.sortedOff[r+1])
	} else {
		lo, hi = x.sortedOff64[r], x.sortedOff64[r+1]
	}
	if lo == hi {
		return ""
	}
	return unsafe.String(&x.sortedBuf[lo], hi-lo)
}

// SortedKeys returns the shop customer ids of the customers in set in
// ascending order of the keys compared as bytes (SQL's ORDER BY on the
// key in the C collation), the form an export or a mailing list wants.
// Ids of customers the index does not know ([Index.Len]) are skipped.
// The first call (of SortedKeys or
// [Index.LookupCustomer]) sorts all keys once, O(n log n), and keeps 12
// bytes per customer (8 when all keys have the same length) and a copy of
// the keys' bytes; later calls take time
// linear in the size of set (the ids' ranks are radix-sorted, or from a
// thirty-second of the customers marked in a bitmap of the ranks), or in
// the customers for a set of more than a quarter of them (the keys are
// walked in order), and allocate little beyond the result. The strings
// share one buffer of the index: holding any of them keeps the copy of
// all keys' bytes.
func (x *Index) SortedKeys(set *roaring.Bitmap) []string {
	if keys := x.AppendSortedKeys(nil, set); keys != nil {
		return keys
	}
	return []string{} // an empty list, not nil: JSON's [] rather than null
}

// AppendSortedKeys appends the keys [Index.SortedKeys] returns to dst and
// returns the extended slice. A server that answers the same kind of
// question again and again passes the last answer's slice back, cut to
// length zero (AppendSortedKeys(keys[:0], set)), once it is done with it:
// a large answer then costs no allocation, no zeroing of a fresh slice,
// and none of the collections that the garbage of a fresh slice per
// answer would bring on a large heap.
func (x *Index) AppendSortedKeys(dst []string, set *roaring.Bitmap) []string {
	set = x.known(set)
	inside := x.inside(set)
	keys := slices.Grow(dst, inside)
	if x.keyWidth > 0 && inside > 0 && sortedPath(len(x.keys), inside) == pathMarks {
		return x.appendMarkedKeys(keys, set, inside)
	}
	x.sortedRanks(set, inside, func(ranks []uint32) {
		for _, r := range ranks {
			keys = append(keys, x.sortedKey(r))
		}
	})
	return keys
}

// SortedIDs returns the customers of set in the order of [Index.SortedKeys]
// (ascending keys compared as bytes), at the same cost. Ids of customers
// the index does not know ([Index.Len]) are skipped.
func (x *Index) SortedIDs(set *roaring.Bitmap) []affinity.CustomerID {
	set = x.known(set)
	inside := x.inside(set)
	ids := make([]affinity.CustomerID, 0, inside)
	x.sortedRanks(set, inside, func(ranks []uint32) {
		for _, r := range ranks {
			ids = append(ids, affinity.CustomerID(x.byKey[r]))
		}
	})
	return ids
}

// known returns the members of set the index knows ([Index.Len]): set
// itself when they all are (a query's answer), without allocating; nil
// is the empty set.
func (x *Index) known(set *roaring.Bitmap) *roaring.Bitmap {
	set = orEmpty(set)
	if set.AndCardinality(x.universe) != set.GetCardinality() {
		return roaring.And(set, x.universe)
	}
	return set
}

// orEmpty returns set, or an empty bitmap for nil: the methods that take
// a set read nil as the empty set.
func orEmpty(set *roaring.Bitmap) *roaring.Bitmap {
	if set == nil {
		return roaring.New()
	}
	return set
}

// inside returns the number of members of set that are customers of the
// index, after the keys are sorted.
func (x *Index) inside(set *roaring.Bitmap) int {
	x.lookupOnce.Do(x.sortKeys)
	if n := len(x.keys); n > 0 {
		return int(set.Rank(uint32(n - 1)))
	}
	return 0
}

// rankBlock is the number of key ranks sortedRanks walks at a time.
const rankBlock = 4096

// Scratch of sortedRanks, reused across calls: a bit per customer, and
// the ids and ranks of a small set.
var (
	markPool = sync.Pool{New: func() any { return new([]uint64) }}
	rankPool = sync.Pool{New: func() any { return new([]uint32) }}
)

// sortedRanks passes the key ranks of the inside customers of set (ids
// outside the index skipped) to emit, ascending, in one or more calls.
func (x *Index) sortedRanks(set *roaring.Bitmap, inside int, emit func(ranks []uint32)) {
	if inside == 0 {
		return
	}
	switch sortedPath(len(x.keys), inside) {
	case pathWalk:
		x.walkRanks(set, emit)
	case pathMarks:
		x.markRanks(set, inside, emit)
	default:
		x.radixRanks(set, inside, emit)
	}
}

// radixRanks passes the ranks of the first inside members of set to emit
// by looking each one up and radix-sorting them.
func (x *Index) radixRanks(set *roaring.Bitmap, inside int, emit func(ranks []uint32)) {
	rp := rankPool.Get().(*[]uint32)
	defer rankPool.Put(rp)
	ranks := slices.Grow((*rp)[:0], 2*inside)[:inside]
	*rp = ranks
	k := 0
	eachInside(set, inside, func(ids []uint32) {
		for _, c := range ids {
			ranks[k] = x.keyRank[c]
			k++
		}
	})
	radixSort(ranks, uint32(len(x.keys)), ranks[inside:2*inside])
	emit(ranks)
}

// eachInside passes the first inside members of set (the customers of
// the index: ids are ascending) to f, a block at a time.
func eachInside(set *roaring.Bitmap, inside int, f func(ids []uint32)) {
	var buf [rankBlock]uint32
	it := set.ManyIterator()
	for left := inside; left > 0; {
		m := it.NextMany(buf[:min(len(buf), left)])
		if m == 0 {
			panic("segment: internal error: set has fewer members than its rank")
		}
		f(buf[:m])
		left -= m
	}
}

// rankMarks returns cleared scratch of a bit per customer from markPool,
// and the function that returns it.
func (x *Index) rankMarks() (marks []uint64, release func()) {
	mp := markPool.Get().(*[]uint64)
	w := (len(x.keys) + 63) / 64
	marks = slices.Grow((*mp)[:0], w)[:w]
	*mp = marks
	clear(marks)
	return marks, func() { markPool.Put(mp) }
}

// Ways of sortedRanks to order a set's key ranks.
const (
	pathRadix = iota // look up each member's rank and radix-sort them
	pathMarks        // mark each member's rank in a bitmap and read it in order
	pathWalk         // walk every key in order and keep the members
)

// forcePath, when not negative, is the test hook that makes sortedRanks
// take that path.
var forcePath = -1

// sortedPath returns the way to order the ranks of inside of n customers.
// Measured by BenchmarkSortedKeys (a million customers, keys in an order
// unrelated to the ids; ms per call for radix, marks and walk): a tenth of
// a share 0.10, 0.10, 1.02; 3 % 0.32, 0.32, 1.18; 6 % 0.66, 0.57, 1.49;
// 12 % 1.32, 1.23, 1.71; 30 % 3.44, 3.17, 2.87; 60 % 8.16, 6.33, 6.24.
func sortedPath(n, inside int) int {
	switch {
	case forcePath >= 0:
		return forcePath
	case inside > n/walkKeys:
		return pathWalk
	case inside > n/markKeys:
		return pathMarks
	}
	return pathRadix
}

// The paths run on one goroutine. Marking on two (each goroutine the
// ranks of its range of ids in a bitmap of its own, then each reading
// its range of ranks into its part of the result) was measured slower on
// the 2-core machine, the work being bound by memory: a set of 12 % of a
// million customers 1.0 ms against 0.87 ms, 6 % 0.53 against 0.45 ms
// (BenchmarkSortedKeys, 2026-12-05); so was Stats on two goroutines.

// walkKeys and markKeys are the divisors of the customers above which
// sortedRanks walks all keys, and marks the ranks instead of sorting them.
const (
	walkKeys = 4
	markKeys = 32
)

// walkRanks passes the ranks of set's members to emit by walking all keys
// in order, a block at a time. Every rank is written and kept when
// marked: no branch to mispredict on a set that holds a random part of
// the keys.
func (x *Index) walkRanks(set *roaring.Bitmap, emit func(ranks []uint32)) {
	n := len(x.keys)
	b := set
	if b.Maximum() >= uint32(n) { // ids beyond the index
		b = set.Clone()
		b.RemoveRange(uint64(n), uint64(set.Maximum())+1)
	}
	marks, release := x.rankMarks()
	defer release()
	b.WriteDenseTo(marks)
	var buf [rankBlock + 1]uint32
	for lo := 0; lo < n; lo += rankBlock {
		k := 0
		for r, c := range x.byKey[lo:min(lo+rankBlock, n)] {
			buf[k] = uint32(lo + r)
			k += int(marks[c/64] >> (c % 64) & 1)
		}
		if k > 0 {
			emit(buf[:k])
		}
	}
}

// markRanks passes the ranks of the first inside members of set to emit
// by marking each member's rank in a bitmap of the ranks and reading it
// in order: work in the members, not in all keys, and no sort.
func (x *Index) markRanks(set *roaring.Bitmap, inside int, emit func(ranks []uint32)) {
	marks, release := x.markedRanks(set, inside)
	defer release()
	var buf [rankBlock]uint32
	k := 0
	for i, w := range marks {
		for ; w != 0; w &= w - 1 {
			buf[k] = uint32(i*64 + bits.TrailingZeros64(w))
			k++
		}
		if k > len(buf)-64 {
			emit(buf[:k])
			k = 0
		}
	}
	if k > 0 {
		emit(buf[:k])
	}
}

// markedRanks returns scratch from markPool with the bit of each key
// rank of the first inside members of set, and the function that returns
// it.
func (x *Index) markedRanks(set *roaring.Bitmap, inside int) (marks []uint64, release func()) {
	marks, release = x.rankMarks()
	eachInside(set, inside, func(ids []uint32) {
		for _, c := range ids {
			r := x.keyRank[c]
			marks[r/64] |= 1 << (r % 64)
		}
	})
	return marks, release
}

// appendMarkedKeys is AppendSortedKeys on the marks path for keys of one
// width: the keys are appended as the marks are read, without passing
// the ranks through a buffer (on a million customers, the keys of 11 %
// of them 0.46 → 0.40 ms).
func (x *Index) appendMarkedKeys(keys []string, set *roaring.Bitmap, inside int) []string {
	marks, release := x.markedRanks(set, inside)
	defer release()
	w, buf := uint64(x.keyWidth), x.sortedBuf
	for i, m := range marks {
		for ; m != 0; m &= m - 1 {
			r := uint64(i)*64 + uint64(bits.TrailingZeros64(m))
			keys = append(keys, unsafe.String(&buf[r*w], w))
		}
	}
	return keys
}

// radixSort sorts v, whose values are below limit, in place: least
// significant byte first, one counting pass per byte limit needs. tmp,
// when at least as long as v, is its scratch space.
func radixSort(v []uint32, limit uint32, tmp []uint32) {
	if len(v) < 256 {
		slices.Sort(v)
		return
	}
	if len(tmp) < len(v) {
		tmp = make([]uint32, len(v))
	}
	tmp = tmp[:len(v)]
	src, dst := v, tmp
	top := max(limit, 1) - 1 // the largest possible value
	for shift := uint(0); shift < 32 && (shift == 0 || top>>shift > 0); shift += 8 {
		var count [257]int
		for _, x := range src {
			count[(x>>shift)&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, x := range src {
			d := (x >> shift) & 0xff
			dst[count[d]] = x
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &v[0] {
		copy(v, src)
	}
}

// Keys returns the shop customer ids of the customers in set, in ascending
// dense id order. Ids of customers the index does not know ([Index.Len]:
// erased, or active only after asOf) are skipped.
func (x *Index) Keys(set *roaring.Bitmap) iter.Seq[string] {
	set = x.known(set)
	return func(yield func(string) bool) {
		it := set.Iterator()
		for it.HasNext() {
			c := it.Next()
			if int(c) >= len(x.keys) {
				return
			}
			if !yield(x.keys[c]) {
				return
			}
		}
	}
}

// Categories returns the category paths the index knows, at every level,
// in catalog (id) order. The caller owns the slice.
func (x *Index) Categories() []string { return slices.Clone(x.cats) }

// CategoryDepth returns the level of the category path (1 = top level) and
// whether the index knows it.
func (x *Index) CategoryDepth(path string) (int, bool) {
	id, ok := x.lookupCategory(path)
	if !ok {
		return 0, false
	}
	return int(x.catDepth[id]), true
}

// PopulationShare returns the share of the category in the (decayed) spend
// of all customers in the look-back: the denominator of [Lift]. ok is false
// when the index does not know the category.
func (x *Index) PopulationShare(path string) (share float64, ok bool) {
	id, ok := x.lookupCategory(path)
	if !ok {
		return 0, false
	}
	return x.popShare[id], true
}

// RFMSegments returns the names of the RFM segments in rule order. The
// caller owns the slice.
func (x *Index) RFMSegments() []string {
	names := make([]string, len(x.opts.RFMRules))
	for i, r := range x.opts.RFMRules {
		names[i] = r.Name
	}
	return names
}

func (x *Index) lookupCategory(path string) (uint32, bool) {
	if id, ok := x.catIndex[path]; ok {
		return id, true
	}
	id, ok := x.catIndex[affinity.CleanCategoryPath(path)]
	return id, ok
}

// MemoryUsage is an estimate of the bytes an [Index] keeps resident.
type MemoryUsage struct {
	// Customers counts the customer-level bitmaps and bit-sliced indexes,
	// the RFM and lifecycle segments and the daily activity bitmaps.
	Customers int
	// Categories counts the per-category bitmaps and bit-sliced indexes.
	Categories int
	// Products counts the per-product posting lists.
	Products int
	// Keys counts the shop ids of customers and products and the category
	// paths, string bytes included.
	Keys int
}

// Total returns the sum of all parts.
func (m MemoryUsage) Total() int { return m.Customers + m.Categories + m.Products + m.Keys }

// MemoryUsage estimates the bytes x keeps resident from roaring's size
// estimate of each bitmap and the lengths of its arrays. It takes time
// linear in the number of bitmaps. It leaves out what the index builds on
// use: the key order of LookupCustomer and SortedKeys (12 bytes per
// customer and a copy of the keys' bytes), the spend and order columns of
// Stats on small sets and of ScoreGrid (16), the score columns of
// ScoreGrid (3) and the share columns of exact comparisons on few
// candidates (2 each, at most 16 columns).
func (x *Index) MemoryUsage() MemoryUsage {
	if o := x.over; o != nil {
		// the base, the deltas and the population-wide parts
		m := o.base.MemoryUsage()
		m.Customers += int(o.touched.GetSizeInBytes()) + 24*len(x.keys) + x.cols.scoreDist.Load().size()
		for _, l := range o.deltas {
			d := l.MemoryUsage()
			m.Customers += d.Customers
			m.Categories += d.Categories
			m.Products += d.Products
		}
		m.Keys += 16 * (len(x.keys) - len(o.base.keys))
		return m
	}
	var m MemoryUsage
	bm := func(b *roaring.Bitmap) int {
		if b == nil {
			return 0
		}
		return int(b.GetSizeInBytes())
	}
	at := func(a *attr) int {
		n := bm(a.exist) + int(a.v.Size()) + 8*len(a.cum) + 8*len(a.cuts)
		for _, b := range a.bins {
			if !b.IsEmpty() { // the empty bins share one bitmap
				n += bm(b)
			}
		}
		for i, b := range a.levels {
			if i == 0 || b != a.levels[i-1] { // a repeated level is the same bitmap
				n += bm(b)
			}
		}
		return n
	}
	m.Customers = bm(x.universe)
	for i := range x.scalars {
		m.Customers += at(&x.scalars[i])
	}
	for _, b := range x.daily {
		m.Customers += bm(b)
	}
	for _, b := range x.rfm {
		m.Customers += bm(b)
	}
	for _, b := range x.stages {
		m.Customers += bm(b)
	}
	for i := range x.catData {
		d := &x.catData[i]
		m.Categories += bm(d.bought) + int(d.spend.Size()+d.items.Size()+d.orders.Size()+d.days.Size()) +
			at(&d.rank) + at(&d.viewed) + at(&d.carted)
	}
	m.Categories += 14 * len(x.cats) // parent, depth, population share
	for i := range x.catData {
		for k := range x.catData[i].exNum {
			m.Categories += x.catData[i].exNum[k].size()
		}
	}
	for k := range x.exDen {
		m.Customers += x.exDen[k].size()
	}
	for i := range x.acts {
		p := &x.acts[i]
		m.Products += 4*(len(p.off)+len(p.first)) + p.gap.size() + p.days.size()
	}
	for _, s := range [][]string{x.keys, x.products, x.cats} {
		for _, k := range s {
			m.Keys += 16 + len(k)
		}
	}
	m.Keys += 48 * (len(x.catIndex) + len(x.prodIndex)) // map entries, roughly
	return m
}
