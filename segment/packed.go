package segment

import "math/bits"

// packedInts is a column of signed integers bit-packed in blocks of
// packBlock values: block b stores its values zigzag-encoded (0, −1, 1,
// −2, … as 0, 1, 2, 3, …) in widths[b] bits each, the width of the block's
// largest, in the widths[b] words from words[start[b]]. A block of small
// values costs a few bits per value, and any value is read in constant
// time. A column of zeros keeps no blocks at all. The exact share
// numerators and denominators and the product postings are stored this
// way: most values are far below the 32 or 64 bits of a plain slice.
type packedInts struct {
	n      int
	widths []uint8
	start  []uint32 // the first word of each block; len(widths) entries
	words  []uint64
}

// packBlock is the number of values in a block: a full block of width w
// fills exactly w words.
const packBlock = 64

// layout sets the first word of each block from the widths and returns
// the number of words: a full block of width w takes w words, a shorter
// last one fewer.
func (p *packedInts) layout() int {
	p.start = make([]uint32, len(p.widths))
	total := 0
	for b, w := range p.widths {
		p.start[b] = uint32(total)
		total += (int(w)*min(packBlock, p.n-b*packBlock) + 63) / 64
	}
	return total
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// packInts packs vals.
func packInts[T int64 | int32 | uint32 | uint16](vals []T) packedInts {
	nb := (len(vals) + packBlock - 1) / packBlock
	p := packedInts{n: len(vals), widths: make([]uint8, nb)}
	for b := range nb {
		var or uint64
		for _, v := range vals[b*packBlock : min((b+1)*packBlock, len(vals))] {
			or |= zigzag(int64(v))
		}
		p.widths[b] = uint8(bits.Len64(or))
	}
	total := p.layout()
	if total == 0 {
		return packedInts{n: len(vals)} // every value 0
	}
	p.words = make([]uint64, total)
	for i, v := range vals {
		b := i / packBlock
		w := uint(p.widths[b])
		if w == 0 {
			continue
		}
		bit := uint(i%packBlock) * w
		j := int(p.start[b]) + int(bit/64)
		off := bit % 64
		u := zigzag(int64(v))
		p.words[j] |= u << off
		if off+w > 64 {
			p.words[j+1] |= u >> (64 - off)
		}
	}
	return p
}

// at returns value i, 0 ≤ i < p.len().
func (p *packedInts) at(i int) int64 {
	if p.words == nil {
		return 0
	}
	b := i / packBlock
	w := uint(p.widths[b])
	if w == 0 {
		return 0
	}
	bit := uint(i%packBlock) * w
	j := int(p.start[b]) + int(bit/64)
	off := bit % 64
	u := p.words[j] >> off
	if off+w > 64 {
		u |= p.words[j+1] << (64 - off)
	}
	if w < 64 {
		u &= 1<<w - 1
	}
	return unzigzag(u)
}

func (p *packedInts) len() int { return p.n }

// size returns the bytes p keeps.
func (p *packedInts) size() int { return 5*len(p.widths) + 8*len(p.words) }

// predictNum is the numerator that the stored share q (in 1/shareScale)
// of a customer with denominator den implies, q·den/shareScale rounded
// half up; 0 when den ≤ 0 or the product leaves 64 bits. The index keeps
// an exact numerator as its difference from this prediction, which is at
// most den/(2·shareScale) plus the stored share's own error: a few bits
// for most customers instead of 32 or 64.
func predictNum(q, den int64) int64 {
	if den <= 0 || q <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(q), uint64(den))
	lo, c := bits.Add64(lo, shareScale/2, 0)
	hi += c
	if hi >= shareScale {
		return 0
	}
	var v uint64
	if hi == 0 {
		v = lo / shareScale // a multiplication: the divisor is a constant
	} else {
		v, _ = bits.Div64(hi, lo, shareScale)
	}
	if v > 1<<63-1 {
		return 0
	}
	return int64(v)
}
