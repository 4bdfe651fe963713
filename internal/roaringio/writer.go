package roaringio

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"
)

// Roaring's portable format, as far as the writer needs it.
const (
	serialCookieNoRun = 12346 // cookie of a serialization without run containers
	// ArrayMax is the largest array container; larger ones are bitsets.
	ArrayMax    = 4096
	bitsetWords = 1024 // uint64 words of a bitset container
)

// Writer builds a roaring bitmap from sorted values, one 2^16-value
// container at a time, by writing roaring's portable serialization and
// decoding it once. That costs a copy per container (or one per bitmap,
// see [Writer.Finish]) but no per-value insertion, which is what makes
// building hundreds of millions of bitmap entries affordable. A container
// that will likely hold more than ArrayMax values can be opened dense: its
// values then go straight into a bitset. Payload is written after room
// bytes reserved for the header, so that a large serialization needs no
// second copy. The zero value is ready to use and is reused after finish.
type Writer struct {
	keys    []uint16
	cards   []uint16 // cardinality - 1, as serialized
	payload []byte   // room bytes, then the containers, little-endian
	room    int      // bytes reserved for the header
	start   int      // payload offset of the open container
	key     uint16   // key of the open container
	dense   bool     // the open container collects into words
	open    bool     // a container is open (Open, not yet Close)
	words   *[bitsetWords]uint64
}

// Reserve sets the header room for up to n containers; call it before the
// first open after finish.
func (w *Writer) Reserve(n int) {
	w.room = 8 + 8*n
}

// Open starts the container with high bits key, closing the open one if
// there is one; keys must increase from container to container. dense
// collects the values in a bitset.
func (w *Writer) Open(key uint16, dense bool) {
	if w.open {
		w.Close()
	}
	w.open = true
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

// Push adds a value to the open container, which must not be dense;
// values must increase.
func (w *Writer) Push(low uint16) {
	w.payload = append(w.payload, byte(low), byte(low>>8))
}

// Set adds a value to the open dense container.
func (w *Writer) Set(low uint16) {
	w.words[low>>6] |= 1 << (low & 63)
}

// Add adds a value to the open container, dense or not; as with Push,
// values must increase when it is not dense.
func (w *Writer) Add(low uint16) {
	if w.dense {
		w.Set(low)
	} else {
		w.Push(low)
	}
}

// Close ends the open container as an array or, when it holds more than
// ArrayMax values, a bitset. An empty container is dropped; without an
// open container Close does nothing.
func (w *Writer) Close() {
	if !w.open {
		return
	}
	w.open = false
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
		if n > ArrayMax {
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
	if n <= ArrayMax {
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

// ownBufferMax is the size of the largest serialization that [Writer.Finish]
// reads without copying: larger buffers are rounded up to whole pages of
// the heap, which would waste more than copying their containers out
// costs.
const ownBufferMax = 32 << 10

// Finish returns the bitmap of everything added since the last finish
// (the open container's values included: Finish closes it) and resets w.
//
// A bitmap of up to ownBufferMax bytes serialized is read from a buffer of
// its own, exactly that size, without copying its containers out of it
// (one allocation per bitmap instead of one per container): its
// containers are marked copy-on-write, as roaring's FromBuffer does, so
// that changing the bitmap, or one that shares a container with it,
// copies that container first, and the buffer is never written again. A
// larger one is decoded from w's own buffer, one copy per container.
func (w *Writer) Finish() *roaring.Bitmap {
	w.Close()
	bm := roaring.New()
	n := len(w.keys)
	if n == 0 {
		w.payload = w.payload[:0]
		return bm
	}
	head := 8 + 8*n
	body := w.payload[min(w.room, len(w.payload)):]
	own := head+len(body) <= ownBufferMax
	var b []byte
	switch {
	case own:
		b = make([]byte, head+len(body))
		copy(b[head:], body)
	case head <= w.room:
		// the header goes into the room just before the payload
		b = w.payload[w.room-head:]
	default:
		b = append(make([]byte, head, head+len(body)), body...)
	}
	binary.LittleEndian.PutUint32(b, serialCookieNoRun)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	off := uint32(head)
	for i := range n {
		binary.LittleEndian.PutUint16(b[8+4*i:], w.keys[i])
		binary.LittleEndian.PutUint16(b[10+4*i:], w.cards[i])
		binary.LittleEndian.PutUint32(b[8+4*n+4*i:], off)
		if card := int(w.cards[i]) + 1; card <= ArrayMax {
			off += uint32(2 * card)
		} else {
			off += 8 * bitsetWords
		}
	}
	var err error
	if own {
		_, err = bm.FromBuffer(b)
	} else {
		_, err = bm.ReadFrom(bytes.NewReader(b))
	}
	if err != nil {
		// The writer produced the bytes itself; failing to read them back
		// is a bug in this file, not bad input.
		panic("roaringio: internal error: " + err.Error())
	}
	w.keys, w.cards, w.payload = w.keys[:0], w.cards[:0], w.payload[:0]
	return bm
}

// FromSorted returns the bitmap of the strictly increasing ids.
func FromSorted(w *Writer, ids []uint32) *roaring.Bitmap {
	if len(ids) > 0 {
		w.Reserve(int(ids[len(ids)-1]>>16-ids[0]>>16) + 1)
	}
	for i := 0; i < len(ids); {
		key := ids[i] >> 16
		j := i
		for j < len(ids) && ids[j]>>16 == key {
			j++
		}
		if j-i > ArrayMax {
			w.Open(uint16(key), true)
			for ; i < j; i++ {
				w.Set(uint16(ids[i]))
			}
		} else {
			w.Open(uint16(key), false)
			for ; i < j; i++ {
				w.Push(uint16(ids[i]))
			}
		}
		w.Close()
	}
	return w.Finish()
}

// Empty reports whether nothing was added since the last Finish (the open
// container's values included).
func (w *Writer) Empty() bool {
	if len(w.keys) > 0 {
		return false
	}
	if !w.open {
		return true
	}
	if w.dense {
		for _, x := range w.words {
			if x != 0 {
				return false
			}
		}
		return true
	}
	return len(w.payload) == w.start
}
