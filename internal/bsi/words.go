package bsi

import (
	"math/bits"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// Comparisons on words.
//
// The slice-at-a-time walk of compare costs two or three bitmap operations
// per slice, each reading two bitmaps and writing a third. When the
// candidates are dense, it is cheaper to copy the candidates and the
// slices once into plain words and run the whole walk for 64 columns at a
// time in registers: every slice is read once and nothing is written until
// the result. Measured by BenchmarkRange on a million columns with 14-bit
// values (go test -run '^$' -bench Range -benchtime 50x ./internal/bsi/),
// "≥" on every column takes 0.40–0.43 ms on words against 0.83–0.85 ms
// by the walk, and on a candidate set of a tenth of the columns 0.81–0.91
// against 1.14 ms; in package segment, lift and monetary thresholds on a
// million customers take half the time. The walk stays for sparse
// candidates, where its array containers cost less than the words of the
// whole id range, and for comparisons that visit few slices.

// The word form runs on one goroutine: copying the slices on two and
// walking two ranges of the words was no faster on the 2-core machine
// (BenchmarkRange "≥" on every column 0.37 ms against 0.29 ms on one,
// 2026-12-05): the copies are bound by memory.

// wordsSlices is the fewest slices a comparison visits for the word form:
// over fewer (RFM scores take three) the few bitmap operations of the walk
// cost less than copying the slices and the result (measured by
// BenchmarkQueries in package segment: "rscore >= 4 and fscore >= 4 and
// mscore >= 4" took 35 % longer on words).
const wordsSlices = 6

// wordsDensity is the divisor of the words of the id range above which
// the candidates are dense enough for the words: at least one candidate
// per wordsDensity words.
const wordsDensity = 4

// useWords is the test hook that forces the word or the bitmap form:
// 0 chooses by density, 1 always words, -1 never.
var useWords = 0

// wordPool holds the scratch words of the comparisons.
var wordPool = sync.Pool{New: func() any { return new([]uint64) }}

// dense reports whether a comparison on cand with thresholds c1 and c2
// takes the word form.
func (b *BSI) dense(cand *roaring.Bitmap, c1, c2 uint64) bool {
	switch useWords {
	case 1:
		return !cand.IsEmpty()
	case -1:
		return false
	}
	stop := min(bits.TrailingZeros64(c1), bits.TrailingZeros64(c2))
	if cand.IsEmpty() || len(b.Slices)-stop < wordsSlices {
		return false
	}
	return cand.GetCardinality()*wordsDensity >= uint64(b.span(cand))
}

// span returns the number of words that cover cand and every slice.
func (b *BSI) span(cand *roaring.Bitmap) int {
	top := cand.Maximum()
	for _, s := range b.Slices {
		if !s.IsEmpty() {
			top = max(top, s.Maximum())
		}
	}
	return int(top/64) + 1
}

// geWords returns the columns of cand whose stored offset is ≥ c1 and
// those whose offset is ≥ c2 (c1, c2 ≥ 1 and below 2^k, the second only
// when two is set), computed on words; with below set, the first result
// is instead the columns of cand below c1.
func (b *BSI) geWords(cand *roaring.Bitmap, c1, c2 uint64, two, below bool) (ge1, ge2 *roaring.Bitmap) {
	w := b.runWords(cand, c1, c2, two, nil)
	defer w.release()
	if below {
		for i, c := range w.cand {
			w.o1[i] = c &^ w.o1[i]
		}
	}
	ge1 = roaring.FromDense(w.o1, true)
	if two {
		ge2 = roaring.FromDense(w.o2, true)
	}
	return ge1, ge2
}

// splitWords returns the columns of cand whose stored offset is ≥ c2 and,
// in ascending order, those whose offset is in [c1, c2) (1 ≤ c1 ≤ c2 <
// 2^k), computed on words (pre: the slices as words, or nil): the second
// as a list, as a narrow band is cheaper to list from the words than to
// make a bitmap of.
func (b *BSI) splitWords(cand *roaring.Bitmap, c1, c2 uint64, pre *Words) (ge2 *roaring.Bitmap, between []uint32) {
	w := b.runWords(cand, c1, c2, true, pre)
	defer w.release()
	for i, x := range w.o1 {
		for x &^= w.o2[i]; x != 0; x &= x - 1 {
			between = append(between, uint32(i*64+bits.TrailingZeros64(x)))
		}
	}
	return roaring.FromDense(w.o2, true), between
}

// wordRun holds the words of one comparison: the candidates and the
// columns ≥ each threshold, in scratch from wordPool until release.
type wordRun struct {
	cand, o1, o2 []uint64
	scratch      *[]uint64
}

func (w *wordRun) release() { wordPool.Put(w.scratch) }

// runWords copies cand and the slices a comparison with thresholds c1 and
// c2 (the second only when two is set) visits into words and runs
// geKernel on them. The slices are read from pre instead when it covers
// the words of cand.
func (b *BSI) runWords(cand *roaring.Bitmap, c1, c2 uint64, two bool, pre *Words) wordRun {
	if !two {
		c2 = c1
	}
	k := len(b.Slices)
	// below the lowest 1 of a threshold, every column that agrees with it
	// so far qualifies: those slices are not needed
	stop := min(bits.TrailingZeros64(c1), bits.TrailingZeros64(c2))
	n := b.span(cand)
	copied := k - stop // slices copied into the scratch
	if pre != nil && len(pre.w) == k && pre.n >= n {
		copied = 0
	}
	need := (copied + 3) * n // the slices copied, cand, and the two results
	wp := wordPool.Get().(*[]uint64)
	if cap(*wp) < need {
		*wp = make([]uint64, need)
	}
	w := (*wp)[:need]
	clear(w[:(copied+1)*n])
	sl := make([][]uint64, k)
	for j := stop; j < k; j++ {
		if copied == 0 {
			sl[j] = pre.w[j][:n]
			continue
		}
		sl[j] = w[(j-stop)*n : (j-stop+1)*n]
		b.Slices[j].WriteDenseTo(sl[j])
	}
	at := copied * n
	r := wordRun{cand: w[at : at+n], o1: w[at+n : at+2*n], scratch: wp}
	cand.WriteDenseTo(r.cand)
	if two {
		r.o2 = w[at+2*n : at+3*n]
	}
	geKernel(sl, r.cand, c1, c2, r.o1, r.o2)
	return r
}

// Words are a BSI's slices as plain words, made once by [BSI.Words] for
// a comparison that runs often: it then reads them instead of copying the
// slices into words each time. They cost n/8 bytes per slice for n
// columns, about what a dense slice costs as a bitmap.
type Words struct {
	w [][]uint64
	n int // words per slice
}

// Words returns b's slices as words covering the columns below n (at
// least every column of every slice).
func (b *BSI) Words(n uint32) *Words {
	nw := int((uint64(n) + 63) / 64)
	for _, s := range b.Slices {
		if !s.IsEmpty() {
			nw = max(nw, int(s.Maximum()/64)+1)
		}
	}
	all := make([]uint64, nw*len(b.Slices))
	w := &Words{w: make([][]uint64, len(b.Slices)), n: nw}
	for j, s := range b.Slices {
		w.w[j] = all[j*nw : (j+1)*nw : (j+1)*nw]
		s.WriteDenseTo(w.w[j])
	}
	return w
}

// geChunk is the number of words geKernel keeps in flight: the state of
// two walks over them stays within the first-level cache.
const geChunk = 256

// geKernel writes to o1 and o2 the words of the columns of cand whose
// value in the slices sl (nil below the lowest 1 of either threshold) is
// ≥ c1 and ≥ c2: the walk of compare, a chunk of words at a time, shared
// while the thresholds agree. A nil o2 skips the second threshold.
func geKernel(sl [][]uint64, cand []uint64, c1, c2 uint64, o1, o2 []uint64) {
	k := len(sl)
	stop1, stop2 := bits.TrailingZeros64(c1), bits.TrailingZeros64(c2)
	var eq1, gt1, eq2, gt2 [geChunk]uint64
	for lo := 0; lo < len(cand); lo += geChunk {
		hi := min(lo+geChunk, len(cand))
		m := hi - lo
		e1, g1 := eq1[:m], gt1[:m]
		copy(e1, cand[lo:hi])
		clear(g1)
		j := k - 1
		for ; j >= max(stop1, stop2) && c1>>j&1 == c2>>j&1; j-- {
			geStep(e1, g1, sl[j][lo:hi], c1>>j&1 == 1)
		}
		if o2 != nil {
			e2, g2 := eq2[:m], gt2[:m]
			copy(e2, e1)
			copy(g2, g1)
			for j2 := j; j2 >= stop2; j2-- {
				geStep(e2, g2, sl[j2][lo:hi], c2>>j2&1 == 1)
			}
			geOut(o2[lo:hi], g2, e2)
		}
		for j1 := j; j1 >= stop1; j1-- {
			geStep(e1, g1, sl[j1][lo:hi], c1>>j1&1 == 1)
		}
		geOut(o1[lo:hi], g1, e1)
	}
}

// geOut writes the columns above the threshold or equal to it.
func geOut(out, gt, eq []uint64) {
	gt, eq = gt[:len(out)], eq[:len(out)]
	for i := range out {
		out[i] = gt[i] | eq[i]
	}
}

// geStep applies slice s to the columns eq that agree with the threshold
// so far and the columns gt above it: at a 1 bit of the threshold a column
// without the bit falls below, at a 0 bit a column with it rises above.
func geStep(eq, gt, s []uint64, one bool) {
	s = s[:len(eq)]
	gt = gt[:len(eq)]
	if one {
		for i := range eq {
			eq[i] &= s[i]
		}
		return
	}
	for i := range eq {
		gt[i] |= eq[i] & s[i]
		eq[i] &^= s[i]
	}
}
