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
// entries affordable. A container that will likely hold more than arrayMax
// values can be opened dense: its values then go straight into a bitset.
// Payload is written after room bytes reserved for the header, so that the
// serialization needs no second copy. The zero value is ready to use and is
// reused after finish.
type bmWriter struct {
	keys    []uint16
	cards   []uint16 // cardinality - 1, as serialized
	payload []byte   // room bytes, then the containers, little-endian
	room    int      // bytes reserved for the header
	start   int      // payload offset of the open container
	key     uint16   // key of the open container
	dense   bool     // the open container collects into words
	words   *[bitsetWords]uint64
}

// reserve sets the header room for up to n containers; call it before the
// first open after finish.
func (w *bmWriter) reserve(n int) {
	w.room = 8 + 8*n
}

// open starts the container with high bits key; keys must increase from
// container to container. dense collects the values in a bitset.
func (w *bmWriter) open(key uint16, dense bool) {
	if len(w.payload) < w.room {
		w.payload = append(w.payload[:0], make([]byte, w.room)...)
	}
	w.key, w.start, w.dense = key, len(w.payload), dense
	if dense {
		if w.words == nil {
			w.words = new([bitsetWords]uint64)
		} else {
			clear(w.words[:])
		}
	}
}

// push adds a value to the open container, which must not be dense;
// values must increase.
func (w *bmWriter) push(low uint16) {
	w.payload = append(w.payload, byte(low), byte(low>>8))
}

// set adds a value to the open dense container.
func (w *bmWriter) set(low uint16) {
	w.words[low>>6] |= 1 << (low & 63)
}

// add adds a value to the open container, dense or not.
func (w *bmWriter) add(low uint16) {
	if w.dense {
		w.set(low)
	} else {
		w.push(low)
	}
}

// close ends the open container as an array or, when it holds more than
// arrayMax values, a bitset. An empty container is dropped.
func (w *bmWriter) close() {
	if w.dense {
		w.dense = false
		n := 0
		for _, x := range w.words {
			n += bits.OnesCount64(x)
		}
		if n == 0 {
			return
		}
		w.keys = append(w.keys, w.key)
		w.cards = append(w.cards, uint16(n-1))
		if n > arrayMax {
			for _, x := range w.words {
				w.payload = binary.LittleEndian.AppendUint64(w.payload, x)
			}
			return
		}
		for i, x := range w.words {
			for ; x != 0; x &= x - 1 {
				l := uint16(i<<6 | bits.TrailingZeros64(x))
				w.payload = append(w.payload, byte(l), byte(l>>8))
			}
		}
		return
	}
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
	head := 8 + 8*n
	var b []byte
	if head <= w.room {
		// the header goes into the room just before the payload
		b = w.payload[w.room-head:]
	} else {
		b = append(make([]byte, head, head+len(w.payload)-w.room), w.payload[w.room:]...)
	}
	binary.LittleEndian.PutUint32(b, serialCookieNoRun)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	off := uint32(head)
	for i := range n {
		binary.LittleEndian.PutUint16(b[8+4*i:], w.keys[i])
		binary.LittleEndian.PutUint16(b[10+4*i:], w.cards[i])
		binary.LittleEndian.PutUint32(b[8+4*n+4*i:], off)
		if card := int(w.cards[i]) + 1; card <= arrayMax {
			off += uint32(2 * card)
		} else {
			off += 8 * bitsetWords
		}
	}
	if _, err := bm.ReadFrom(bytes.NewReader(b)); err != nil {
		// The writer produced the bytes itself; failing to read them back
		// is a bug in this file, not bad input.
		panic("segment: internal error: " + err.Error())
	}
	w.keys, w.cards, w.payload = w.keys[:0], w.cards[:0], w.payload[:0]
	return bm
}

// fromSorted returns the bitmap of the strictly increasing ids.
func fromSorted(w *bmWriter, ids []uint32) *roaring.Bitmap {
	if len(ids) > 0 {
		w.reserve(int(ids[len(ids)-1]>>16-ids[0]>>16) + 1)
	}
	for i := 0; i < len(ids); {
		key := ids[i] >> 16
		j := i
		for j < len(ids) && ids[j]>>16 == key {
			j++
		}
		if j-i > arrayMax {
			w.open(uint16(key), true)
			for ; i < j; i++ {
				w.set(uint16(ids[i]))
			}
		} else {
			w.open(uint16(key), false)
			for ; i < j; i++ {
				w.push(uint16(ids[i]))
			}
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
	for j := range ws {
		ws[j].reserve(int(ids[len(ids)-1]>>16-ids[0]>>16) + 1)
	}
	for i := 0; i < len(ids); {
		key := uint16(ids[i] >> 16)
		end := i
		for end < len(ids) && uint16(ids[end]>>16) == key {
			end++
		}
		// (bitsets for many writers at once would not stay in cache)
		for j := range ws {
			ws[j].open(key, false)
		}
		for ; i < end; i++ {
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
	c := uint64(t - b.base)
	if bits.Len64(c) > len(b.slices) {
		return roaring.New()
	}
	return b.compare(cand, c, true)
}

// atMost returns the columns of cand (all present) whose value is ≤ t. It
// takes ownership of cand.
func (b *bsi) atMost(cand *roaring.Bitmap, t int64) *roaring.Bitmap {
	if t < b.base {
		return roaring.New()
	}
	c := uint64(t - b.base)
	if bits.Len64(c) > len(b.slices) {
		return cand
	}
	return b.compare(cand, c, false)
}

// compare returns the columns of cand whose stored offset is ≥ c (ge) or
// ≤ c, for c < 2^k. It walks the slices from the top bit down (O'Neil and
// Quass's range algorithm): eq keeps the columns that agree with c on the
// bits seen so far and shrinks in place, while the columns that leave it
// on the wanted side of c are moved into the result — at the 0 bits of c
// for "≥", at its 1 bits for "≤". A move costs two more operations, less
// the smaller eq has become, so compare estimates the cost of the asked
// form and of its complement (≥ c is cand minus ≤ c-1, ≤ c is cand minus
// ≥ c+1) and computes the cheaper.
func (b *bsi) compare(cand *roaring.Bitmap, c uint64, ge bool) *roaring.Bitmap {
	k := len(b.slices)
	// the other form: ≥ c ⟺ not ≤ c-1; ≤ c ⟺ not ≥ c+1
	other, otherOK := c-1, c > 0
	if !ge {
		other, otherOK = c+1, c+1 < 1<<k
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
func (b *bsi) walk(cand *roaring.Bitmap, c uint64, ge bool) *roaring.Bitmap {
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
	for j := len(b.slices) - 1; j >= stop && !eq.IsEmpty(); j-- {
		s := b.slices[j]
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
	move(eq) // equal to c
	return acc
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
