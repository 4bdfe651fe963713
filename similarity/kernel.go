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
	w       []float64 // weighted passes only
	touched []affinity.ProductID
	stamp   []uint32
	gen     uint32
	bits    []uint64
	cols    []affinity.ProductID // output buffers of the current block
	vals    []uint32
}

func newScratch(np int, weighted bool) *scratch {
	s := &scratch{cnt: make([]uint32, np), stamp: make([]uint32, np), bits: make([]uint64, np/64+1)}
	if weighted {
		s.w = make([]float64, np)
	}
	return s
}

// row counts, for anchor a, the transactions of a that contain each other
// product — for sequential counts (window ≥ 0), the customers who have it
// within window seconds after a — into s.cnt, and with wt the sum of
// wt[transaction] into s.w. Touched products are listed in s.touched, in
// no particular order; a itself may be among them.
func (s *scratch) row(t *txTable, p *postings, a affinity.ProductID, window int64, wt []float64) {
	if t.unix != nil {
		s.rowSeq(t, p, a, window, wt)
		return
	}
	cnt := s.cnt
	for _, x := range p.of(a) {
		items := t.tx(x)
		if wt == nil {
			for _, b := range items {
				if cnt[b] == 0 {
					s.touched = append(s.touched, b)
				}
				cnt[b]++
			}
			continue
		}
		wx := wt[x]
		for _, b := range items {
			if cnt[b] == 0 {
				s.touched = append(s.touched, b)
			}
			cnt[b]++
			s.w[b] += wx
		}
	}
}

// rowSeq scans each customer's timeline after every purchase of a, up to
// window seconds later, and counts each product found once per customer.
// Entries at the same second as a are not "after" it.
func (s *scratch) rowSeq(t *txTable, p *postings, a affinity.ProductID, window int64, wt []float64) {
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
				if cnt[b] == 0 {
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

// sortTouched sorts s.touched ascending: a comparison sort for short
// lists, a pass over a bitset for long ones.
func (s *scratch) sortTouched() {
	n := len(s.touched)
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
