package segment

import (
	"slices"
	"sort"
	"sync/atomic"

	"github.com/shopaffinity/affinity/internal/bsi"
)

// An update on the same day as its index (the common refresh) changes the
// recency, frequency and monetary values of the touched customers alone.
// Their RFM scores (see builder.rfmScores) depend on every scored
// customer's value, but only through the distribution of the values: a
// recency or frequency value's score comes from the numbers of customers
// with a worse and with a better value, a monetary value's from four cuts
// and the least and greatest spend. rescore keeps
// that distribution with the index's per-customer columns (scoreDist),
// updates it by the touched customers' old and new values, and gives
// scores anew only where they change: the touched customers, and the
// untouched ones whose value's score the new distribution moves (found
// by one pass over the columns, and only when it moves any). Building the
// scores of every customer and comparing them with the previous index's
// costs several passes over every customer, a selection of the monetary
// cuts and a classification of each customer twice.

// maxCountedValue bounds the recency and frequency values that scoreDist
// counts in an array: beyond it an update scores everyone (rfmScores,
// which sorts such values).
const maxCountedValue = 1 << 20

// rescored counts the updates whose scores rescore gave (tests read it).
var rescored atomic.Int64

// scoreDist is the distribution of the RFM values of an index's scored
// customers (those with an order in the look-back), and the score each
// value gets from it.
type scoreDist struct {
	n     int64   // scored customers
	rec   []int64 // customers per recency in days
	freq  []int64 // customers per number of orders
	money []int64 // the customers' net spend, ascending
	rTab  []uint8 // the score of each recency value counted in rec
	fTab  []uint8 // the score of each frequency value counted in freq
	scale moneyScale
}

// newScoreDist returns the distribution of the values of the customers
// whose R score is set in r (the scored ones), or nil when a value is too
// large to count.
func newScoreDist(cols *custCols, r []uint8) *scoreDist {
	d := &scoreDist{}
	hiR, hiF := int32(-1), int32(-1)
	for c, s := range r {
		if s == 0 {
			continue
		}
		rec, freq := cols.recency[c], cols.freq[c]
		if rec < 0 || freq < 1 || rec >= maxCountedValue || freq >= maxCountedValue {
			return nil
		}
		d.n++
		hiR, hiF = max(hiR, rec), max(hiF, freq)
	}
	d.rec, d.freq = make([]int64, hiR+1), make([]int64, hiF+1)
	d.money = make([]int64, 0, d.n)
	for c, s := range r {
		if s == 0 {
			continue
		}
		d.rec[cols.recency[c]]++
		d.freq[cols.freq[c]]++
		d.money = append(d.money, cols.monetary[c])
	}
	slices.Sort(d.money)
	d.tables()
	return d
}

// dist returns the distribution of the scored customers' values of c,
// whose scores are r: kept from the update that made c, or counted on
// first use (nil when it cannot be counted).
func (c *custCols) dist(r []uint8) *scoreDist {
	c.distOnce.Do(func() {
		if c.scoreDist.Load() == nil {
			c.scoreDist.Store(newScoreDist(c, r))
		}
	})
	return c.scoreDist.Load()
}

// tables sets the score of every counted value and the monetary scale,
// as rfmScores gives them ([rankScore]; a longer recency and fewer orders
// are worse).
func (d *scoreDist) tables() {
	if d.n == 0 {
		d.rTab, d.fTab = make([]uint8, len(d.rec)), make([]uint8, len(d.freq))
		return
	}
	d.rTab = countedScores(d.rec, d.n, false)
	d.fTab = countedScores(d.freq, d.n, true)
	d.scale = sortedMoneyScale(d.money)
}

// size returns the bytes d keeps (0 for nil).
func (d *scoreDist) size() int {
	if d == nil {
		return 0
	}
	return 8*(len(d.rec)+len(d.freq)+len(d.money)) + len(d.rTab) + len(d.fTab)
}

// mScore returns the monetary score of spend v.
func (d *scoreDist) mScore(v int64) uint8 { return d.scale.score(v) }

// scores returns the R, F and M scores of a scored customer's values.
func (d *scoreDist) scores(rec, freq int32, money int64) [3]uint8 {
	return [3]uint8{d.rTab[rec], d.fTab[freq], d.mScore(money)}
}

// span returns the least and the greatest score of each of R, F and M
// (lo > hi: none); scores grow with a shorter recency, more orders and a
// larger spend.
func (d *scoreDist) span() (lo, hi [3]uint8) {
	lo, hi = [3]uint8{6, 6, 6}, [3]uint8{}
	if d.n == 0 {
		return lo, hi
	}
	for j, col := range [2][]int64{d.rec, d.freq} {
		tab := [2][]uint8{d.rTab, d.fTab}[j]
		for v, n := range col {
			if n > 0 {
				lo[j], hi[j] = min(lo[j], tab[v]), max(hi[j], tab[v])
			}
		}
	}
	lo[2], hi[2] = d.mScore(d.money[0]), d.mScore(d.money[len(d.money)-1])
	return lo, hi
}

// valueChange is a scored customer's values before or after an update.
type valueChange struct {
	rec, freq int32
	money     int64
}

// next returns the distribution after the scored values out leave it and
// in join it (nil when a value is too large to count, or out holds a
// value d does not, which a consistent index never has).
func (d *scoreDist) next(out, in []valueChange) *scoreDist {
	hiR, hiF := int32(len(d.rec)-1), int32(len(d.freq)-1)
	for _, v := range in {
		hiR, hiF = max(hiR, v.rec), max(hiF, v.freq)
	}
	if hiR >= maxCountedValue || hiF >= maxCountedValue {
		return nil
	}
	e := &scoreDist{n: d.n + int64(len(in)) - int64(len(out))}
	e.rec, e.freq = grown(d.rec, int(hiR)+1), grown(d.freq, int(hiF)+1)
	gone := make([]int64, 0, len(out))
	for _, v := range out {
		if v.rec < 0 || v.freq < 1 || int(v.rec) >= len(d.rec) || int(v.freq) >= len(d.freq) || e.rec[v.rec] == 0 || e.freq[v.freq] == 0 {
			return nil
		}
		e.rec[v.rec]--
		e.freq[v.freq]--
		gone = append(gone, v.money)
	}
	come := make([]int64, 0, len(in))
	for _, v := range in {
		if v.rec < 0 || v.freq < 1 {
			return nil
		}
		e.rec[v.rec]++
		e.freq[v.freq]++
		come = append(come, v.money)
	}
	e.rec, e.freq = trimZeros(e.rec), trimZeros(e.freq)
	slices.Sort(gone)
	slices.Sort(come)
	// d.money less gone, merged with come: the runs of d.money between
	// them copied whole
	e.money = make([]int64, 0, e.n)
	pos, i, j := 0, 0, 0
	for i < len(gone) || j < len(come) {
		leave := j == len(come) || (i < len(gone) && gone[i] <= come[j])
		var v int64
		if leave {
			v = gone[i]
		} else {
			v = come[j]
		}
		p := pos + sort.Search(len(d.money)-pos, func(k int) bool { return d.money[pos+k] >= v })
		e.money = append(e.money, d.money[pos:p]...)
		pos = p
		if leave {
			if p == len(d.money) || d.money[p] != v {
				return nil // not in d
			}
			pos++
			i++
			continue
		}
		e.money = append(e.money, v)
		j++
	}
	e.money = append(e.money, d.money[pos:]...)
	e.tables()
	return e
}

// trimZeros returns s without its trailing zeros.
func trimZeros(s []int64) []int64 {
	n := len(s)
	for n > 0 && s[n-1] == 0 {
		n--
	}
	return s[:n]
}

// moved reports whether e gives any value that d counts a score other
// than d's: whether untouched customers' scores can change.
func (d *scoreDist) moved(e *scoreDist) (r, f, m bool) {
	return tableMoved(d.rec, d.rTab, e.rTab), tableMoved(d.freq, d.fTab, e.fTab), d.scale != e.scale
}

// tableMoved reports whether a value counted in count scores otherwise
// in the table now than in the table before.
func tableMoved(count []int64, before, now []uint8) bool {
	for v, n := range count {
		if n > 0 && (v >= len(now) || before[v] != now[v]) {
			return true
		}
	}
	return false
}

// rescore sets m's population-wide parts (see population) from those of
// x, the index m updates on x's day, with the scores of the distribution
// of values updated by the touched customers of only (ascending): their
// scores, segments and stages given anew, and those of the untouched
// customers whose value's score moved; cols are x's per-customer columns
// and mc m's. It reports false, having set nothing, when the scores are
// not ranked (RFMNTile), x holds other rules or a value is too large to
// count; update scores everyone then.
func (g *builder) rescore(m, x *Index, cols, mc *custCols, only []uint32) bool {
	if g.opts.RFMScoring != RFMRank || len(x.rfm) != len(g.opts.RFMRules) || len(x.opts.RFMRules) != len(g.opts.RFMRules) {
		return false
	}
	prev := x.scoreColumns()
	on := len(prev[0])
	if len(cols.recency) < on || len(cols.freq) < on || len(cols.monetary) < on {
		return false
	}
	d := cols.dist(prev[0])
	if d == nil {
		return false
	}
	known0 := func(c uint32) bool { return int(c) < on && x.universe.Contains(c) }
	known1 := m.universe.Contains
	var out, in []valueChange
	for _, c := range only {
		if int(c) < on && prev[0][c] > 0 {
			out = append(out, valueChange{cols.recency[c], cols.freq[c], cols.monetary[c]})
		}
		if known1(c) && mc.freq[c] > 0 {
			in = append(in, valueChange{mc.recency[c], mc.freq[c], mc.monetary[c]})
		}
	}
	e := d.next(out, in)
	if e == nil {
		return false
	}
	mc.distOnce.Do(func() { mc.scoreDist.Store(e) })
	rescored.Add(1)

	nc := g.nc
	scores := [3][]uint8{grown(prev[0], nc), grown(prev[1], nc), grown(prev[2], nc)}
	k, k0 := newClassifier(g.opts), newClassifier(x.opts)
	limit := nc/patchShare + 1
	revenue, orders := int64(x.revenue), x.orders
	var chg []scoreChange
	for _, c := range only {
		var s0, s1 [3]uint8
		seg0, st0 := k0.none, uint8(len(stages))
		if known0(c) {
			s0 = [3]uint8{prev[0][c], prev[1][c], prev[2][c]}
			seg0, st0 = k0.classify(s0, cols.recency[c], cols.freq[c])
			revenue -= cols.monetary[c]
			orders -= int64(cols.freq[c])
		}
		seg1, st1 := k.none, uint8(len(stages))
		if known1(c) {
			if mc.freq[c] > 0 {
				s1 = e.scores(mc.recency[c], mc.freq[c], mc.monetary[c])
			}
			seg1, st1 = k.classify(s1, mc.recency[c], mc.freq[c])
			revenue += mc.monetary[c]
			orders += int64(mc.freq[c])
		}
		for j := range scores {
			scores[j][c] = s1[j]
		}
		if s0 != s1 || seg0 != seg1 || st0 != st1 {
			chg = append(chg, scoreChange{c: c, old: s0, new: s1, seg: [2]uint16{seg0, seg1}, stage: [2]uint8{st0, st1}})
		}
	}
	// the untouched customers whose value's score moved (their values,
	// and so their stages, are as they were)
	if r, f, sm := d.moved(e); r || f || sm {
		next := 0 // the first touched customer not yet passed
		for c := range uint32(on) {
			if next < len(only) && only[next] == c {
				next++
				continue
			}
			s0 := [3]uint8{prev[0][c], prev[1][c], prev[2][c]}
			if s0[0] == 0 {
				continue // not scored
			}
			s1 := s0
			rec, freq := cols.recency[c], cols.freq[c]
			if r {
				s1[0] = e.rTab[rec]
			}
			if f {
				s1[1] = e.fTab[freq]
			}
			if sm {
				s1[2] = e.mScore(cols.monetary[c])
			}
			if s1 == s0 {
				continue
			}
			for j := range scores {
				scores[j][c] = s1[j]
			}
			if len(chg) <= limit {
				seg0, st := k0.classify(s0, rec, freq)
				seg1, _ := k.classify(s1, rec, freq)
				chg = append(chg, scoreChange{c: c, old: s0, new: s1, seg: [2]uint16{seg0, seg1}, stage: [2]uint8{st, st}})
			}
		}
	}
	lo, hi := e.span()
	if len(chg) > limit || !g.applyChanges(m, x, chg, lo, hi, revenue, orders, scores) {
		known, bought := knownAndBought(m, mc.freq)
		g.populate(new(bsi.Builder), m, known, bought, scores[0], scores[1], scores[2])
	}
	return true
}

// knownAndBought returns the customers m knows and those of them with an
// order in the look-back (freq > 0), ascending.
func knownAndBought(m *Index, freq []int32) (known, bought []uint32) {
	known = m.universe.ToArray()
	bought = make([]uint32, 0, len(known))
	for _, c := range known {
		if freq[c] > 0 {
			bought = append(bought, c)
		}
	}
	return known, bought
}
