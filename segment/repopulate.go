package segment

import (
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/bsi"
)

// patchShare is the divisor of the customers above which an update builds
// the population-wide parts in full rather than patching the previous
// index's: past a sixteenth, patching bitmaps one customer at a time
// costs about what writing them anew does. (A variable for the tests, as
// is patched, the number of patched updates.)
var patchShare = 16

var patched atomic.Int64

// scoreChange is a customer whose R, F or M score, RFM segment or
// lifecycle stage differs between two indexes.
type scoreChange struct {
	c        uint32
	old, new [3]uint8 // R, F, M; 0 none
	seg      [2]uint16
	stage    [2]uint8
}

// classifier gives a customer's RFM segment and lifecycle stage from the
// scores, recency and frequency: for segments, and for the old and the
// new side of patchPopulation.
type classifier struct {
	rule                [6][6][6]uint16 // len(rules): none
	lapse, churn, loyal int32
	none                uint16
}

func newClassifier(opts Options) classifier {
	rules := opts.RFMRules
	k := classifier{
		lapse: int32(opts.LapseAfter / Day), churn: int32(opts.ChurnAfter / Day),
		loyal: int32(opts.LoyalOrders), none: uint16(len(rules)),
	}
	for sr := 1; sr <= 5; sr++ {
		for sf := 1; sf <= 5; sf++ {
			for sm := 1; sm <= 5; sm++ {
				k.rule[sr][sf][sm] = uint16(len(rules))
				for i, ru := range rules {
					if ru.R.contains(sr) && ru.F.contains(sf) && ru.M.contains(sm) {
						k.rule[sr][sf][sm] = uint16(i)
						break
					}
				}
			}
		}
	}
	return k
}

// classify returns the segment (k.none: none) and stage (len(stages):
// none) of a customer with scores s, recency rec (< 0: none) and
// frequency freq.
func (k *classifier) classify(s [3]uint8, rec, freq int32) (seg uint16, stage uint8) {
	seg, stage = k.none, uint8(len(stages))
	if freq > 0 && s[0] > 0 && s[1] > 0 && s[2] > 0 {
		seg = k.rule[s[0]][s[1]][s[2]]
	}
	if rec >= 0 {
		stage = uint8(lifecycleStage(rec, freq, k.lapse, k.churn, k.loyal))
	}
	return seg, stage
}

// patchPopulation sets x's population-wide parts (see population) from
// prev's, the index x updates, when few customers' scores, segments or
// stages differ: copies of prev's bitmaps with those customers moved.
// r, f and m are x's scores of every customer; prevRecency and prevFreq
// are prev's per-customer columns. It reports false, having set
// nothing, when more than a sixteenth of the customers differ, a score
// column's range changes, or prev holds different rules; population's
// other half, populate, builds them in full then.
func (b *builder) patchPopulation(x, prev *Index, prevRecency, prevFreq []int32, r, f, m []uint8) bool {
	if len(prev.rfm) != len(b.opts.RFMRules) || len(prev.opts.RFMRules) != len(b.opts.RFMRules) {
		return false
	}
	old := prev.scoreColumns()
	// the stages' thresholds as of each index's time (a look-back in
	// calendar months bounds the lapse, and its days vary)
	k, k0 := newClassifier(b.opts), newClassifier(prev.opts)
	on := min(len(prev.keys), len(prevRecency), len(prevFreq))
	limit := b.nc/patchShare + 1
	// the customers each index knows, a bit each (the columns of the
	// others hold zeros, not absent values)
	known0, known1 := make([]uint64, (b.nc+63)/64), make([]uint64, (b.nc+63)/64)
	prev.universe.WriteDenseTo(known0)
	x.universe.WriteDenseTo(known1)
	var chg []scoreChange
	var revenue, orders int64
	lo, hi := [3]uint8{6, 6, 6}, [3]uint8{}
	for c := range b.nc {
		s1 := [3]uint8{r[c], f[c], m[c]}
		for j, v := range s1 {
			if v > 0 {
				lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
			}
		}
		seg1, st1 := k.none, uint8(len(stages))
		if known1[c/64]>>(c%64)&1 == 1 {
			revenue += b.monetary[c]
			orders += int64(b.freq[c])
			seg1, st1 = k.classify(s1, b.recency[c], b.freq[c])
		}
		var s0 [3]uint8
		seg0, st0 := k0.none, uint8(len(stages))
		if c < on {
			s0 = [3]uint8{old[0][c], old[1][c], old[2][c]}
			if known0[c/64]>>(c%64)&1 == 1 {
				seg0, st0 = k0.classify(s0, prevRecency[c], prevFreq[c])
			}
		}
		if s0 == s1 && seg0 == seg1 && st0 == st1 {
			continue
		}
		if len(chg) == limit {
			return false
		}
		chg = append(chg, scoreChange{c: uint32(c), old: s0, new: s1, seg: [2]uint16{seg0, seg1}, stage: [2]uint8{st0, st1}})
	}
	return b.applyChanges(x, prev, chg, lo, hi, revenue, orders, [3][]uint8{r, f, m})
}

// applyChanges sets x's population-wide parts to prev's with the
// customers of chg moved between scores, segments and stages, and the
// totals revenue and orders; lo and hi are the least and the greatest
// new score of each of R, F and M, and scores x's score columns. It
// reports false, having set nothing, when a score column's range changes.
func (b *builder) applyChanges(x, prev *Index, chg []scoreChange, lo, hi [3]uint8, revenue, orders int64, scores [3][]uint8) bool {
	var cols [3]attr
	for j, sc := range [3]int{scR, scF, scM} {
		var ok bool
		if cols[j], ok = patchScoreColumn(prev.scalars[sc], chg, j, lo[j], hi[j]); !ok {
			return false
		}
	}
	x.scalars[scR], x.scalars[scF], x.scalars[scM] = cols[0], cols[1], cols[2]
	x.rfm = slices.Clone(prev.rfm)
	x.stages = prev.stages
	var ownSeg []bool
	var ownStage [len(stages)]bool
	for _, ch := range chg {
		if ch.seg[0] != ch.seg[1] {
			if ownSeg == nil {
				ownSeg = make([]bool, len(x.rfm))
			}
			move(x.rfm, ownSeg, int(ch.seg[0]), int(ch.seg[1]), ch.c)
		}
		if ch.stage[0] != ch.stage[1] {
			move(x.stages[:], ownStage[:], int(ch.stage[0]), int(ch.stage[1]), ch.c)
		}
	}
	x.revenue, x.orders = affinity.Money(revenue), orders
	x.setScores(scores[0], scores[1], scores[2])
	patched.Add(1)
	return true
}

// move takes customer c out of sets[from] and puts it in sets[to] (an
// index past the end: none), copying a set before its first change
// (own marks the copies).
func move(sets []*roaring.Bitmap, own []bool, from, to int, c uint32) {
	for i, add := range [2]bool{false, true} {
		s := from
		if i == 1 {
			s = to
		}
		if s >= len(sets) {
			continue
		}
		if !own[s] {
			sets[s], own[s] = sets[s].Clone(), true
		}
		if add {
			sets[s].Add(c)
		} else {
			sets[s].Remove(c)
		}
	}
}

// patchScoreColumn returns the score column a (scores 1–5 at the scored
// customers) with score j of the customers of chg moved from their old to
// their new value, sharing a's bitmaps that do not change; lo and hi are
// the least and the greatest new score (lo > hi: none). ok is false when
// the column's base or number of bit slices would change.
func patchScoreColumn(a attr, chg []scoreChange, j int, lo, hi uint8) (_ attr, ok bool) {
	if lo > hi || a.exist == nil {
		return attr{}, false
	}
	base := int64(lo)
	if a.v.Base != base || len(a.v.Slices) != bits.Len64(uint64(hi-lo)) {
		return attr{}, false
	}
	out := attr{exist: a.exist, v: bsi.BSI{Base: base, Slices: slices.Clone(a.v.Slices)}}
	ownExist, own := false, make([]bool, len(out.v.Slices))
	for _, ch := range chg {
		v0, v1 := ch.old[j], ch.new[j]
		if v0 == v1 {
			continue
		}
		if (v0 > 0) != (v1 > 0) {
			if !ownExist {
				out.exist, ownExist = out.exist.Clone(), true
			}
			if v1 > 0 {
				out.exist.Add(ch.c)
			} else {
				out.exist.Remove(ch.c)
			}
		}
		var b0, b1 uint64
		if v0 > 0 {
			b0 = uint64(int64(v0) - base)
		}
		if v1 > 0 {
			b1 = uint64(int64(v1) - base)
		}
		for d := b0 ^ b1; d != 0; d &= d - 1 {
			s := bits.TrailingZeros64(d)
			if !own[s] {
				out.v.Slices[s], own[s] = out.v.Slices[s].Clone(), true
			}
			if b1>>s&1 == 1 {
				out.v.Slices[s].Add(ch.c)
			} else {
				out.v.Slices[s].Remove(ch.c)
			}
		}
	}
	return out, true
}

// setScores keeps r, f and m as x's per-customer score columns (see
// scoreColumns), which ScoreGrid and the next update read.
func (x *Index) setScores(r, f, m []uint8) {
	x.scoresOnce.Do(func() { x.scoreCols = [3][]uint8{r, f, m} })
}
