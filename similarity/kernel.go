package similarity

import (
	"math/bits"
	"slices"

	"github.com/shopaffinity/affinity"
)

// scratch is one worker's memory for counting a row at a time: a dense
// counter per product, the list of products it touched, and for sequential
// counts a stamp per product that counts each customer once.
type scratch struct {
	cnt     []uint32
	w       []float64 // weighted passes only: they always list touched
	touched []affinity.ProductID
	sorted  bool // touched is ascending
	dense   bool // the row was counted densely and touched not listed
	stamp   []uint32
	gen     uint32
	bits    []uint64
	// output: the current arena chunk, in which the current block starts
	// at start
	cols  []affinity.ProductID
	vals  []uint32
	start int
	chunk int // the length of the last chunk started
	// touch keeps the loads countSets issues ahead of use from being
	// optimised away.
	touch affinity.ProductID
}

func newScratch(np int, weighted bool) *scratch {
	s := &scratch{cnt: make([]uint32, np), stamp: make([]uint32, np), bits: make([]uint64, np/64+1)}
	if weighted {
		s.w = make([]float64, np)
	}
	return s
}

// count accumulates row a: for each other product b, the transactions of
// a that contain b — for sequential counts (t.unix set), the customers who
// have b within window seconds after a — into s.cnt, and with wt the sum
// of wt[transaction] into s.w. The counted products end up in s.touched
// (or, for a dense row, are found by emit's scan); a itself may be among
// them.
//
// Counting each row in full costs twice the increments of counting the
// upper triangle and mirroring it, but the mirror is a scatter over the
// whole matrix, which measured slower than the increments it saves.
//
// Rows whose work reaches a quarter of the catalog are counted densely:
// no touched list in the inner loop, which becomes a bare increment, and
// one scan of the counters afterwards, which also sorts.
func (s *scratch) count(t *txTable, p *postings, a affinity.ProductID, window int64, wt []float64) {
	np := len(s.cnt)
	dense := p.work[a] >= uint64(np/4)
	if t.unix != nil {
		s.countSeq(t, p, a, window, dense, wt)
	} else {
		s.countSets(t, p, a, dense, wt)
	}
	s.sorted, s.dense = false, false
	switch {
	case dense && wt == nil:
		// emit scans the counters
		s.dense = true
	case dense:
		s.touched = s.touched[:0]
		for b, v := range s.cnt {
			if v != 0 {
				s.touched = append(s.touched, affinity.ProductID(b))
			}
		}
		s.sorted = true
	}
}

func (s *scratch) countSets(t *txTable, p *postings, a affinity.ProductID, dense bool, wt []float64) {
	cnt, off, all := s.cnt, t.off, t.items
	xs := p.of(a)
	// The transactions of a lie anywhere in t: reading one is a cache
	// miss, and waiting for each in turn is what a large History's count
	// costs. In batches, the offsets of txBatch transactions are loaded
	// first and their first items touched next, loads that do not depend
	// on each other and so wait together; the counting that follows finds
	// them in the cache. (Loading a batch ahead of its counting measured
	// no faster.)
	var bounds [2 * txBatch]uint32 // lo, hi of each transaction of the batch
	var touch affinity.ProductID
	for len(xs) > 0 {
		batch, cur := xs[:min(len(xs), txBatch)], &bounds
		xs = xs[len(batch):]
		for j, x := range batch {
			cur[2*j], cur[2*j+1] = off[x], off[x+1]
		}
		for j := range batch {
			if cur[2*j] < cur[2*j+1] {
				touch |= all[cur[2*j]]
			}
		}
		for j, x := range batch {
			items := all[cur[2*j]:cur[2*j+1]]
			switch {
			case wt == nil && dense:
				for len(items) >= 4 {
					cnt[items[0]]++
					cnt[items[1]]++
					cnt[items[2]]++
					cnt[items[3]]++
					items = items[4:]
				}
				for _, b := range items {
					cnt[b]++
				}
			case wt == nil:
				for _, b := range items {
					if cnt[b] == 0 {
						s.touched = append(s.touched, b)
					}
					cnt[b]++
				}
			default:
				wx := wt[x]
				for _, b := range items {
					if cnt[b] == 0 && !dense {
						s.touched = append(s.touched, b)
					}
					cnt[b]++
					s.w[b] += wx
				}
			}
		}
	}
	s.touch = touch
}

// txBatch is the number of transactions whose loads countSets issues
// together.
const txBatch = 32

// countSeq scans each customer's timeline after every purchase of a, up
// to window seconds later, and counts each product found once per
// customer. Entries at the same second as a are not "after" it.
func (s *scratch) countSeq(t *txTable, p *postings, a affinity.ProductID, window int64, dense bool, wt []float64) {
	cnt, stamp := s.cnt, s.stamp
	for _, x := range p.of(a) {
		s.gen++
		if s.gen == 0 {
			clear(stamp)
			s.gen = 1
		}
		lo, hi := t.off[x], t.off[x+1]
		items, unix := t.items[lo:hi], t.unix[lo:hi]
		scanned := 0
		for i, q := range items {
			if q != a {
				continue
			}
			ta := unix[i]
			end := ta + window
			j := max(i+1, scanned)
			for j < len(items) && unix[j] <= ta {
				j++
			}
			for ; j < len(items) && unix[j] <= end; j++ {
				b := items[j]
				if b == a || stamp[b] == s.gen {
					continue
				}
				stamp[b] = s.gen
				if cnt[b] == 0 && !dense {
					s.touched = append(s.touched, b)
				}
				cnt[b]++
				if wt != nil {
					s.w[b] += wt[x]
				}
			}
			scanned = j
		}
	}
}

// sortTouched sorts s.touched ascending unless it is already: a
// comparison sort for short lists, a pass over a bitset for long ones.
func (s *scratch) sortTouched() {
	n := len(s.touched)
	if s.sorted || n < 2 {
		return
	}
	if n < 128 {
		slices.Sort(s.touched)
		return
	}
	lo, hi := s.touched[0], s.touched[0]
	for _, b := range s.touched {
		lo, hi = min(lo, b), max(hi, b)
	}
	wlo, whi := int(lo>>6), int(hi>>6)
	if whi-wlo > 8*n {
		slices.Sort(s.touched)
		return
	}
	set := s.bits
	for _, b := range s.touched {
		set[b>>6] |= 1 << (b & 63)
	}
	out := s.touched[:0]
	for w := wlo; w <= whi; w++ {
		word := set[w]
		set[w] = 0
		for word != 0 {
			i := bits.TrailingZeros64(word)
			out = append(out, affinity.ProductID(w<<6|i))
			word &= word - 1
		}
	}
	s.touched = out
}
