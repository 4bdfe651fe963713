package segment

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"
)

// Roaring's portable format, as far as the writer below needs it.
const (
	serialCookieNoRun = 12346 // cookie of a serialization without run containers
	arrayMax          = 4096  // largest array container; larger ones are bitsets
	bitsetWords       = 1024  // uint64 words of a bitset container
)

// bmWriter builds a roaring bitmap from sorted values, one 2^16-value
// container at a time, by writing roaring's portable serialization and
// decoding it once. That costs a copy per container but no per-value
// insertion, which is what makes building hundreds of millions of bitmap
// entries affordable. Values are pushed between open and close; the zero
// value is ready to use and is reused after finish.
type bmWriter struct {
	keys    []uint16
	cards   []uint16 // cardinality - 1, as serialized
	payload []byte   // containers, little-endian
	start   int      // payload offset of the open container
	key     uint16   // key of the open container
	buf     []byte
}

// open starts the container with high bits key; keys must increase from
// container to container.
func (w *bmWriter) open(key uint16) {
	w.key, w.start = key, len(w.payload)
}

// push adds a value to the open container; values must increase.
func (w *bmWriter) push(low uint16) {
	w.payload = append(w.payload, byte(low), byte(low>>8))
}

// close ends the open container, turning it into a bitset when it holds
// more than arrayMax values. An empty container is dropped.
func (w *bmWriter) close() {
	n := (len(w.payload) - w.start) / 2
	if n == 0 {
		return
	}
	w.keys = append(w.keys, w.key)
	w.cards = append(w.cards, uint16(n-1))
	if n <= arrayMax {
		return
	}
	var words [bitsetWords]uint64
	for i := w.start; i < len(w.payload); i += 2 {
		l := binary.LittleEndian.Uint16(w.payload[i:])
		words[l>>6] |= 1 << (l & 63)
	}
	w.payload = w.payload[:w.start]
	for _, x := range words {
		w.payload = binary.LittleEndian.AppendUint64(w.payload, x)
	}
}

// finish returns the bitmap of everything added since the last finish and
// resets w.
func (w *bmWriter) finish() *roaring.Bitmap {
	bm := roaring.New()
	n := len(w.keys)
	if n == 0 {
		w.payload = w.payload[:0]
		return bm
	}
	b := w.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, serialCookieNoRun)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for i := range n {
		b = binary.LittleEndian.AppendUint16(b, w.keys[i])
		b = binary.LittleEndian.AppendUint16(b, w.cards[i])
	}
	off := uint32(8 + 8*n)
	for i := range n {
		b = binary.LittleEndian.AppendUint32(b, off)
		if card := int(w.cards[i]) + 1; card <= arrayMax {
			off += uint32(2 * card)
		} else {
			off += 8 * bitsetWords
		}
	}
	b = append(b, w.payload...)
	if _, err := bm.ReadFrom(bytes.NewReader(b)); err != nil {
		// The writer produced the bytes itself; failing to read them back
		// is a bug in this file, not bad input.
		panic("segment: internal error: " + err.Error())
	}
	w.buf = b[:0]
	w.keys, w.cards, w.payload = w.keys[:0], w.cards[:0], w.payload[:0]
	return bm
}

// fromSorted returns the bitmap of the strictly increasing ids.
func fromSorted(w *bmWriter, ids []uint32) *roaring.Bitmap {
	for i := 0; i < len(ids); {
		key := ids[i] >> 16
		w.open(uint16(key))
		for ; i < len(ids) && ids[i]>>16 == key; i++ {
			w.push(uint16(ids[i]))
		}
		w.close()
	}
	return w.finish()
}

// bsi is a bit-sliced index: the value of a present column c is
// base + Σ 2^j [c ∈ slices[j]]. Which columns are present is kept outside,
// so that several measures of the same columns share one presence bitmap.
// Comparisons and sums are bitmap algebra over the slices (O'Neil and
// Quass, "Improved query performance with variant indexes", 1997): they
// never visit columns one by one.
type bsi struct {
	base   int64
	slices []*roaring.Bitmap
}

// bsiBuilder builds bsis from columns sorted by id, with one writer per
// slice so that each value is split into its set bits in a single pass.
// The zero value is ready to use; reuse it to avoid allocations.
type bsiBuilder struct {
	writers [64]bmWriter
}

// build returns the bsi of vals[i] at ids[i]; ids must be strictly
// increasing. base is the minimum value (0 when there are no values).
func (bb *bsiBuilder) build(ids []uint32, vals []int64) bsi {
	if len(ids) == 0 {
		return bsi{}
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
	for i := 0; i < len(ids); {
		key := uint16(ids[i] >> 16)
		for j := range ws {
			ws[j].open(key)
		}
		for ; i < len(ids) && uint16(ids[i]>>16) == key; i++ {
			low := uint16(ids[i])
			for u := uint64(vals[i] - base); u != 0; u &= u - 1 {
				ws[bits.TrailingZeros64(u)].push(low)
			}
		}
		for j := range ws {
			ws[j].close()
		}
	}
	return bsi{base: base, slices: finishSlices(ws)}
}

// finishSlices returns the bitmaps of ws, without empty top slices.
func finishSlices(ws []bmWriter) []*roaring.Bitmap {
	k := len(ws)
	for k > 0 && len(ws[k-1].keys) == 0 {
		k--
	}
	slices := make([]*roaring.Bitmap, k)
	for j := range ws {
		b := ws[j].finish()
		if j < k {
			slices[j] = b
		}
	}
	return slices
}

// atLeast returns the columns of cand (which must all be present) whose
// value is ≥ t. It takes ownership of cand and may return it modified.
func (b *bsi) atLeast(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t <= b.base {
		return cand
	}
	return b.compare(cand, uint64(t-b.base), true)
}

// atMost returns the columns of cand (all present) whose value is ≤ t. It
// takes ownership of cand.
func (b *bsi) atMost(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t < b.base {
		return roaring.New()
	}
	return b.compare(cand, uint64(t-b.base), false)
}

// compare returns the columns of cand whose stored offset is ≥ c (ge) or
// ≤ c. From the top slice down, eq holds the columns equal to c on the
// bits seen so far; those that differ from c on the current bit in the
// wanted direction are settled into out.
func (b *bsi) compare(cand *roaring.Bitmap, c uint64, ge bool) *roaring.Bitmap {
	k := len(b.slices)
	if bits.Len64(c) > k {
		if ge {
			return roaring.New()
		}
		return cand
	}
	out := roaring.New()
	eq := cand
	for j := k - 1; j >= 0 && !eq.IsEmpty(); j-- {
		switch bit := c>>j&1 == 1; {
		case bit && !ge: // value bit 0 < 1: below c
			out.Or(roaring.AndNot(eq, b.slices[j]))
			eq.And(b.slices[j])
		case bit:
			eq.And(b.slices[j])
		case ge: // value bit 1 > 0: above c
			out.Or(roaring.And(eq, b.slices[j]))
			eq.AndNot(b.slices[j])
		default:
			eq.AndNot(b.slices[j])
		}
	}
	out.Or(eq)
	return out
}

// equal returns the columns of cand (all present) whose value is t. It
// takes ownership of cand.
func (b *bsi) equal(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t < b.base {
		return roaring.New()
	}
	c := uint64(t - b.base)
	k := len(b.slices)
	if bits.Len64(c) > k {
		return roaring.New()
	}
	eq := cand
	for j := k - 1; j >= 0 && !eq.IsEmpty(); j-- {
		if c>>j&1 == 1 {
			eq.And(b.slices[j])
		} else {
			eq.AndNot(b.slices[j])
		}
	}
	return eq
}

// sum returns the sum of the values of the columns of set (all present)
// using one intersection count per slice.
func (b *bsi) sum(set *roaring.Bitmap) int64 {
	s := b.base * int64(set.GetCardinality())
	for j, sl := range b.slices {
		s += int64(set.AndCardinality(sl)) << j
	}
	return s
}

// values decodes the values of the columns of set (all present) into dst
// in ascending column order, slice by slice and 2^16 columns at a time, so
// that decoding many columns costs a pass over the slices rather than a
// lookup per column and slice.
func (b *bsi) values(dst []int64, set *roaring.Bitmap) []int64 {
	n := int(set.GetCardinality())
	dst = append(dst[:0], make([]int64, n)...)
	if n == 0 {
		return dst
	}
	ids := set.ToArray()
	var pos [1 << 16]int32 // position in ids of each low value of the chunk
	for i := 0; i < n; {
		key := ids[i] >> 16
		start := i
		for ; i < n && ids[i]>>16 == key; i++ {
			pos[uint16(ids[i])] = int32(i)
		}
		lo, hi := uint64(key)<<16, uint64(key+1)<<16
		chunk := roaring.New()
		chunk.AddMany(ids[start:i])
		for j, sl := range b.slices {
			if sl.CardinalityInRange(lo, hi) == 0 {
				continue
			}
			roaring.And(sl, chunk).Iterate(func(x uint32) bool {
				dst[pos[uint16(x)]] |= 1 << j
				return true
			})
		}
	}
	for i := range dst {
		dst[i] += b.base
	}
	return dst
}

// size returns roaring's estimate of the bytes held by the slices.
func (b *bsi) size() uint64 {
	var n uint64
	for _, s := range b.slices {
		n += s.GetSizeInBytes()
	}
	return n + 8
}
