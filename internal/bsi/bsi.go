package bsi

import (
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/roaringio"
)

// BSI is a bit-sliced index: the value of a present column c is
// Base + Σ 2^j [c ∈ Slices[j]]. Which columns are present is kept outside,
// so that several measures of the same columns share one presence bitmap.
// Comparisons and sums are bitmap algebra over the slices (O'Neil and
// Quass, "Improved query performance with variant indexes", 1997): they
// never visit columns one by one.
type BSI struct {
	Base   int64
	Slices []*roaring.Bitmap
}

// Builder builds BSIs from columns sorted by id, with one writer per
// slice so that each value is split into its set bits in a single pass.
// The zero value is ready to use; reuse it to avoid allocations.
type Builder struct {
	writers [64]roaringio.Writer
}

// Build returns the BSI of vals[i] at ids[i]; ids must be strictly
// increasing. base is the minimum value (0 when there are no values).
func (bb *Builder) Build(ids []uint32, vals []int64) BSI {
	if len(ids) == 0 {
		return BSI{}
	}
	base := vals[0]
	for _, v := range vals[1:] {
		base = min(base, v)
	}
	var span uint64
	for _, v := range vals {
		span |= uint64(v - base)
	}
	k := bits.Len64(span)
	ws := bb.writers[:k]
	for j := range ws {
		ws[j].Reserve(int(ids[len(ids)-1]>>16-ids[0]>>16) + 1)
	}
	for i := 0; i < len(ids); {
		key := uint16(ids[i] >> 16)
		end := i
		for end < len(ids) && uint16(ids[end]>>16) == key {
			end++
		}
		// (bitsets for many writers at once would not stay in cache)
		for j := range ws {
			ws[j].Open(key, false)
		}
		for ; i < end; i++ {
			low := uint16(ids[i])
			for u := uint64(vals[i] - base); u != 0; u &= u - 1 {
				ws[bits.TrailingZeros64(u)].Push(low)
			}
		}
		for j := range ws {
			ws[j].Close()
		}
	}
	return BSI{Base: base, Slices: FinishSlices(ws)}
}

// FinishSlices finishes the writers of ws, one per bit, and returns their
// bitmaps without empty top slices.
func FinishSlices(ws []roaringio.Writer) []*roaring.Bitmap {
	k := len(ws)
	for k > 0 && ws[k-1].Empty() {
		k--
	}
	slices := make([]*roaring.Bitmap, k)
	for j := range ws {
		b := ws[j].Finish()
		if j < k {
			slices[j] = b
		}
	}
	return slices
}

// AtLeast returns the columns of cand (which must all be present) whose
// value is ≥ t. It takes ownership of cand and may return it modified.
func (b *BSI) AtLeast(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t <= b.Base {
		return cand
	}
	c := uint64(t - b.Base)
	if bits.Len64(c) > len(b.Slices) {
		return roaring.New()
	}
	if b.dense(cand, c, c) {
		ge, _ := b.geWords(cand, c, c, false, false)
		return ge
	}
	return b.compare(cand, c, true)
}

// AtMost returns the columns of cand (all present) whose value is ≤ t. It
// takes ownership of cand.
func (b *BSI) AtMost(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t < b.Base {
		return roaring.New()
	}
	c := uint64(t - b.Base)
	if bits.Len64(c) > len(b.Slices) || c == maxOffset(len(b.Slices)) {
		return cand
	}
	if b.dense(cand, c+1, c+1) { // ≤ c is cand less ≥ c+1
		le, _ := b.geWords(cand, c+1, c+1, false, true)
		return le
	}
	return b.compare(cand, c, false)
}

// maxOffset returns the largest offset k slices hold, 2^k-1 (all 64 bits
// set for k = 64, where 1<<k would wrap to 0).
func maxOffset(k int) uint64 { return ^uint64(0) >> (64 - k) }

// compare returns the columns of cand whose stored offset is ≥ c (ge) or
// ≤ c, for c < 2^k. It walks the slices from the top bit down (O'Neil and
// Quass's range algorithm): eq keeps the columns that agree with c on the
// bits seen so far and shrinks in place, while the columns that leave it
// on the wanted side of c are moved into the result — at the 0 bits of c
// for "≥", at its 1 bits for "≤". A move costs two more operations, less
// the smaller eq has become, so compare estimates the cost of the asked
// form and of its complement (≥ c is cand minus ≤ c-1, ≤ c is cand minus
// ≥ c+1) and computes the cheaper.
func (b *BSI) compare(cand *roaring.Bitmap, c uint64, ge bool) *roaring.Bitmap {
	k := len(b.Slices)
	// the other form: ≥ c ⟺ not ≤ c-1; ≤ c ⟺ not ≥ c+1
	other, otherOK := c-1, c > 0
	if !ge {
		other, otherOK = c+1, c < maxOffset(k)
	}
	if !otherOK { // ≥ 0 or ≤ 2^k-1: everything
		return cand
	}
	if moveCost(other, !ge, k)+2 < moveCost(c, ge, k) {
		orig := cand.Clone()
		orig.AndNot(b.walk(cand, other, !ge))
		return orig
	}
	return b.walk(cand, c, ge)
}

// moveCost estimates the work of walk: each move is weighted by the
// expected relative size of eq, which halves with every bit.
func moveCost(c uint64, ge bool, k int) float64 {
	stop := bits.TrailingZeros64(c)
	if !ge {
		stop = bits.TrailingZeros64(^c)
	}
	cost, w := 0.0, 1.0
	for j := k - 1; j >= stop; j-- {
		if bit := c>>j&1 == 1; bit != ge {
			cost += 2 * w
		}
		cost += w
		w /= 2
	}
	return cost
}

// walk is the top-down pass of compare for one form.
func (b *BSI) walk(cand *roaring.Bitmap, c uint64, ge bool) *roaring.Bitmap {
	var acc *roaring.Bitmap
	move := func(m *roaring.Bitmap) {
		if acc == nil {
			acc = m
		} else {
			acc.Or(m)
		}
	}
	// Below the lowest bit of c that can still decide (the lowest 1 for
	// "≥", the lowest 0 for "≤") every column of eq qualifies.
	stop := bits.TrailingZeros64(c)
	if !ge {
		stop = bits.TrailingZeros64(^c)
	}
	eq := cand
	for j := len(b.Slices) - 1; j >= stop && !eq.IsEmpty(); j-- {
		s := b.Slices[j]
		switch bit := c>>j&1 == 1; {
		case bit && !ge: // bit 0 < 1: below c
			move(roaring.AndNot(eq, s))
			eq.And(s)
		case bit:
			eq.And(s)
		case ge: // bit 1 > 0: above c
			move(roaring.And(eq, s))
			eq.AndNot(s)
		default:
			eq.AndNot(s)
		}
	}
	move(eq) // Equal to c
	return acc
}

// AtLeastPair returns the columns of cand (all present) whose value is
// ≥ t1 and those whose value is ≥ t2, for t1 ≤ t2, in one top-down pass
// while the two thresholds agree on their high bits and two passes over
// the low bits where they differ: about the cost of one comparison when
// the thresholds are close. It takes ownership of cand; ge2 ⊆ ge1.
func (b *BSI) AtLeastPair(cand *roaring.Bitmap, t1, t2 int64) (ge1, ge2 *roaring.Bitmap) {
	if t2 < t1 {
		panic("bsi: AtLeastPair with t2 < t1")
	}
	k := len(b.Slices)
	switch {
	case t1 <= b.Base:
		return cand, b.AtLeast(cand.Clone(), t2)
	case bits.Len64(uint64(t1-b.Base)) > k:
		return roaring.New(), roaring.New()
	case bits.Len64(uint64(t2-b.Base)) > k:
		return b.AtLeast(cand, t1), roaring.New()
	}
	c1, c2 := uint64(t1-b.Base), uint64(t2-b.Base)
	if b.dense(cand, c1, c2) {
		return b.geWords(cand, c1, c2, true, false)
	}
	acc := roaring.New() // columns above both thresholds
	eq := cand
	j := k - 1
	for ; j >= 0 && c1>>j&1 == c2>>j&1 && !eq.IsEmpty(); j-- {
		s := b.Slices[j]
		if c1>>j&1 == 1 {
			eq.And(s)
		} else {
			acc.Or(roaring.And(eq, s))
			eq.AndNot(s)
		}
	}
	if j < 0 || eq.IsEmpty() { // equal thresholds, or nothing left to split
		acc.Or(eq)
		return acc, acc.Clone()
	}
	// bit j: c1 has 0, c2 has 1; the columns with a 1 are above c1 and
	// agree with c2 so far
	s := b.Slices[j]
	eq2 := roaring.And(eq, s)
	eq.AndNot(s)
	ge1 = geFrom(b.Slices, eq, c1, j-1)
	ge1.Or(eq2)
	ge2 = geFrom(b.Slices, eq2.Clone(), c2, j-1)
	ge1.Or(acc)
	ge2.Or(acc)
	return ge1, ge2
}

// AtLeastSplit returns the columns of cand (all present) whose value is
// ≥ t2 and, in ascending order, those whose value is in [t1, t2), for
// t1 ≤ t2: AtLeastPair for a caller that wants the columns between the
// thresholds, a narrow band, as a list. It does not modify cand, which
// the caller may share. words, when not nil, are b's slices as words
// (b.Words), which a comparison on words then reads instead of copying
// the slices.
func (b *BSI) AtLeastSplit(cand *roaring.Bitmap, t1, t2 int64, words *Words) (ge2 *roaring.Bitmap, between []uint32) {
	if t2 < t1 {
		panic("bsi: AtLeastSplit with t2 < t1")
	}
	if k := len(b.Slices); t1 > b.Base && bits.Len64(uint64(t2-b.Base)) <= k {
		if c1, c2 := uint64(t1-b.Base), uint64(t2-b.Base); b.dense(cand, c1, c2) {
			return b.splitWords(cand, c1, c2, words)
		}
	}
	ge1, ge2 := b.AtLeastPair(cand.Clone(), t1, t2)
	return ge2, roaring.AndNot(ge1, ge2).ToArray()
}

// geFrom returns the columns of eq, which agree with c on the bits above
// j, whose value is ≥ c, looking at bits j down to 0. It takes ownership
// of eq.
func geFrom(slices []*roaring.Bitmap, eq *roaring.Bitmap, c uint64, j int) *roaring.Bitmap {
	acc := roaring.New()
	stop := bits.TrailingZeros64(c) // below the lowest 1 of c, every column of eq qualifies
	for ; j >= stop && j >= 0 && !eq.IsEmpty(); j-- {
		s := slices[j]
		if c>>j&1 == 1 {
			eq.And(s)
		} else {
			acc.Or(roaring.And(eq, s))
			eq.AndNot(s)
		}
	}
	acc.Or(eq)
	return acc
}

// Equal returns the columns of cand (all present) whose value is t. It
// takes ownership of cand.
func (b *BSI) Equal(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t < b.Base {
		return roaring.New()
	}
	c := uint64(t - b.Base)
	k := len(b.Slices)
	if bits.Len64(c) > k {
		return roaring.New()
	}
	eq := cand
	for j := k - 1; j >= 0 && !eq.IsEmpty(); j-- {
		if c>>j&1 == 1 {
			eq.And(b.Slices[j])
		} else {
			eq.AndNot(b.Slices[j])
		}
	}
	return eq
}

// Value returns the value of column c, which must be present: Base plus
// the bits of the slices that hold c. O(slices).
func (b *BSI) Value(c uint32) int64 {
	v := b.Base
	for j, s := range b.Slices {
		if s.Contains(c) {
			v += 1 << j
		}
	}
	return v
}

// Sum returns the sum of the values of the columns of set (all present)
// using one intersection count per slice.
func (b *BSI) Sum(set *roaring.Bitmap) int64 {
	s := b.Base * int64(set.GetCardinality())
	for j, sl := range b.Slices {
		s += int64(set.AndCardinality(sl)) << j
	}
	return s
}

// Values decodes the values of the columns of set (all present) into dst
// (overwritten from its start, its capacity reused) in ascending column
// order, slice by slice and 2^16 columns at a time, so
// that decoding many columns costs a pass over the slices rather than a
// lookup per column and slice.
func (b *BSI) Values(dst []int64, set *roaring.Bitmap) []int64 {
	return b.ValuesOf(dst, set.ToArray())
}

// ValuesOf is Values for the columns ids (strictly increasing, all
// present), for a caller that has them as a slice already. A few columns
// per 2^16 (fewer than fewPerChunk) are looked up one by one in every
// slice; more are decoded a chunk of 2^16 columns at a time.
func (b *BSI) ValuesOf(dst []int64, ids []uint32) []int64 {
	n := len(ids)
	dst = append(dst[:0], make([]int64, n)...)
	if n == 0 {
		return dst
	}
	chunks := 1
	for i := 1; i < n; i++ {
		if ids[i]>>16 != ids[i-1]>>16 {
			chunks++
		}
	}
	if n < fewPerChunk*chunks {
		for j, sl := range b.Slices {
			for i, c := range ids {
				if sl.Contains(c) {
					dst[i] |= 1 << j
				}
			}
		}
	} else {
		b.valuesByChunk(dst, ids)
	}
	for i := range dst {
		dst[i] += b.Base
	}
	return dst
}

// fewPerChunk is the number of columns per chunk of 2^16 below which
// ValuesOf looks each column up in each slice: a lookup costs about as
// much as 1/64 of intersecting a chunk's columns with a slice (measured
// on a million columns with 14 slices: the 175 columns of a share
// threshold's band took 0.14 ms by chunks, most of it in intersections
// and their allocations, and 0.03 ms by lookups).
const fewPerChunk = 64

// valuesByChunk ORs into dst the bits of the columns ids, a chunk of 2^16
// columns at a time: the chunk's columns intersected with every slice.
func (b *BSI) valuesByChunk(dst []int64, ids []uint32) {
	n := len(ids)
	// pos maps the low 16 bits of a column of the current chunk to its
	// position in ids; sized to the largest low value, not 2^16 entries,
	// so that decoding a small index does not allocate 256 KiB per call
	top := uint16(0)
	for _, c := range ids {
		top = max(top, uint16(c))
	}
	pos := make([]int32, int(top)+1)
	for i := 0; i < n; {
		key := ids[i] >> 16
		start := i
		for ; i < n && ids[i]>>16 == key; i++ {
			pos[uint16(ids[i])] = int32(i)
		}
		chunk := roaring.New()
		chunk.AddMany(ids[start:i])
		for j, sl := range b.Slices {
			roaring.And(sl, chunk).Iterate(func(x uint32) bool {
				dst[pos[uint16(x)]] |= 1 << j
				return true
			})
		}
	}
}

// Size returns roaring's estimate of the bytes held by the slices.
func (b *BSI) Size() uint64 {
	var n uint64
	for _, s := range b.Slices {
		n += s.GetSizeInBytes()
	}
	return n + 8
}
