package segment

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/shopaffinity/affinity/segment/query"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"math/big"
	"os"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/roaringio"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/atomicfile"
	"github.com/shopaffinity/affinity/internal/iox"
	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// The index file format, version 3. All integers are little-endian.
//
//	header  "AFSEGIDX" (8 bytes), version uint32, flags uint32 (bit 0:
//	        the options hold a NonMerchandise set, the bitmap after the
//	        RFM rules; bit 1: LapseAfter was left to its default, bit 2:
//	        ChurnAfter was, so that a build at another as-of time derives
//	        them anew (without, the stored values are taken as given, as
//	        from files written before the bits); no other bit is set)
//	body    the fields written by encode, in order; every bitmap is a
//	        uint64 byte length followed by roaring's portable serialization
//	        (https://github.com/RoaringBitmap/RoaringFormatSpec)
//	trailer body length uint64, CRC-32C (Castagnoli) of the body uint32,
//	        "AFSX" (4 bytes)
//
// A reader checks magic, version, length and checksum before it decodes
// anything, and validates every bitmap and every id it decodes.
const (
	fileMagic   = "AFSEGIDX"
	trailMagic  = "AFSX"
	fileVersion = 3
	headerLen   = 16
	trailerLen  = 16

	flagNonMerch     = 1 // the options hold a NonMerchandise set
	flagLapseDefault = 2 // Options.LapseAfter was left to its default
	flagChurnDefault = 4 // Options.ChurnAfter was left to its default
	knownFlags       = flagNonMerch | flagLapseDefault | flagChurnDefault
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encoder writes the body, counting bytes and checksumming them.
type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	n   int64
	err error
	tmp []byte
}

func (e *encoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	e.crc.Write(p)
	n, err := e.w.Write(p)
	e.n += int64(n)
	e.err = err
	return n, err
}

func (e *encoder) u8(v uint8)    { e.Write([]byte{v}) }
func (e *encoder) u32(v uint32)  { e.Write(binary.LittleEndian.AppendUint32(e.tmp[:0], v)) }
func (e *encoder) u64(v uint64)  { e.Write(binary.LittleEndian.AppendUint64(e.tmp[:0], v)) }
func (e *encoder) i64(v int64)   { e.u64(uint64(v)) }
func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }

func (e *encoder) str(s string) {
	e.Write(binary.AppendUvarint(e.tmp[:0], uint64(len(s))))
	e.Write([]byte(s))
}

func (e *encoder) bitmap(b *roaring.Bitmap) {
	if e.err != nil {
		return
	}
	e.u64(b.GetSerializedSizeInBytes())
	if _, err := b.WriteTo(e); err != nil && e.err == nil {
		e.err = err
	}
}

func (e *encoder) bitSliced(b bsi.BSI) {
	e.i64(b.Base)
	e.u8(uint8(len(b.Slices)))
	for _, s := range b.Slices {
		e.bitmap(s)
	}
}

func (e *encoder) attr(a attr) {
	e.bitmap(a.exist)
	e.bitSliced(a.v)
}

// ints writes a length and the values, little-endian, size bytes each.
func ints[T uint16 | uint32 | int32 | int64](e *encoder, v []T, size int) {
	e.u64(uint64(len(v)))
	values(e, v, size)
}

// values writes the values, little-endian, size bytes each.
func values[T uint16 | uint32 | int32 | int64 | uint64](e *encoder, v []T, size int) {
	for len(v) > 0 && e.err == nil {
		n := min(len(v), 1024)
		buf := e.tmp[:0]
		for _, x := range v[:n] {
			switch size {
			case 2:
				buf = binary.LittleEndian.AppendUint16(buf, uint16(x))
			case 4:
				buf = binary.LittleEndian.AppendUint32(buf, uint32(x))
			default:
				buf = binary.LittleEndian.AppendUint64(buf, uint64(x))
			}
		}
		e.Write(buf)
		e.tmp = buf
		v = v[n:]
	}
}

// WriteTo writes the index, its named segments included, in the versioned,
// checksummed file format described in the package documentation. It
// implements io.WriterTo.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	if x.over != nil {
		y, err := x.compacted()
		if err != nil {
			return 0, err
		}
		return y.WriteTo(w)
	}
	cw := &iox.CountingWriter{W: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	var head [headerLen]byte
	copy(head[:], fileMagic)
	binary.LittleEndian.PutUint32(head[8:], fileVersion)
	binary.LittleEndian.PutUint32(head[12:], x.fileFlags())
	if _, err := bw.Write(head[:]); err != nil {
		return cw.N, err
	}
	e := &encoder{w: bw, crc: crc32.New(castagnoli), tmp: make([]byte, 0, 8192)}
	x.encode(e)
	if e.err != nil {
		return cw.N, e.err
	}
	var trail [trailerLen]byte
	binary.LittleEndian.PutUint64(trail[:], uint64(e.n))
	binary.LittleEndian.PutUint32(trail[8:], e.crc.Sum32())
	copy(trail[12:], trailMagic)
	if _, err := bw.Write(trail[:]); err != nil {
		return cw.N, err
	}
	err := bw.Flush()
	return cw.N, err
}

// fileFlags returns the header flags of x's file.
func (x *Index) fileFlags() uint32 {
	var f uint32
	if x.opts.NonMerchandise != nil {
		f |= flagNonMerch
	}
	if x.given.LapseAfter == 0 {
		f |= flagLapseDefault
	}
	if x.given.ChurnAfter == 0 {
		f |= flagChurnDefault
	}
	return f
}

func (x *Index) encode(e *encoder) {
	encodeOptions(e, x.asOf, x.lookDays, &x.opts)
	e.u32(uint32(len(x.keys)))
	for _, k := range x.keys {
		e.str(k)
	}
	e.bitmap(x.universe)
	for i := range x.scalars {
		e.attr(x.scalars[i])
	}
	e.u32(uint32(len(x.cats)))
	for i, c := range x.cats {
		e.str(c)
		e.u32(x.catParent[i])
		e.u8(x.catDepth[i])
		e.f64(x.popShare[i])
		d := &x.catData[i]
		e.bitmap(d.bought)
		e.bitSliced(d.spend)
		e.bitSliced(d.items)
		e.bitSliced(d.orders)
		e.bitSliced(d.days)
		e.attr(d.rank)
		e.attr(d.viewed)
		e.attr(d.carted)
	}
	e.u32(uint32(len(x.products)))
	for _, p := range x.products {
		e.str(p)
	}
	for i := range x.acts {
		ints(e, x.acts[i].off, 4)
		ints(e, x.acts[i].first, 4)
		e.packed(&x.acts[i].gap)
		e.packed(&x.acts[i].days)
	}
	e.i64(x.day0)
	e.u32(uint32(len(x.daily)))
	for _, b := range x.daily {
		e.bitmap(b)
	}
	for _, b := range x.rfm {
		e.bitmap(b)
	}
	for _, b := range x.stages {
		e.bitmap(b)
	}
	e.i64(int64(x.revenue))
	e.i64(x.orders)
	e.u8(boolByte(x.exact))
	if x.exact {
		for k := range x.exDen {
			e.packed(&x.exDen[k])
		}
		e.str(x.popDen.String())
		for i := range x.catData {
			d := &x.catData[i]
			for k := range d.exNum {
				e.packed(&d.exNum[k])
			}
			e.str(d.popNum.String())
		}
	}
	e.u32(uint32(len(x.defs.list)))
	for _, d := range x.defs.list {
		e.str(d.name)
		e.str(d.expr.String())
	}
}

// packed writes the length of p, then 0 when every value is 0, else 1,
// the width of each block and the words.
func (e *encoder) packed(p *packedInts) {
	e.u64(uint64(p.n))
	if p.words == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.Write(p.widths)
	values(e, p.words, 8)
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// encodeOptions writes the as-of time, the look-back days and the options
// of an index (or of a Part's fingerprint).
func encodeOptions(e *encoder, asOf int64, lookDays int, o *Options) {
	e.i64(asOf)
	e.u32(uint32(lookDays))
	e.u32(uint32(o.Lookback.Months))
	e.i64(int64(o.Lookback.Duration))
	e.u8(boolByte(o.Lookback.All))
	e.u8(uint8(o.RFMScoring))
	e.i64(int64(o.HalfLife))
	e.u32(uint32(o.TopN))
	e.u32(uint32(o.LoyalOrders))
	e.u32(uint32(o.LapseAfter / Day))
	e.u32(uint32(o.ChurnAfter / Day))
	e.u32(uint32(len(o.RFMRules)))
	for _, r := range o.RFMRules {
		e.str(r.Name)
		for _, s := range []ScoreRange{r.R, r.F, r.M} {
			lo, hi := s.bounds()
			e.u8(uint8(lo))
			e.u8(uint8(hi))
		}
	}
	if o.NonMerchandise != nil { // flagNonMerch
		e.bitmap(o.NonMerchandise)
	}
}

// Save writes the index to the file path atomically with
// internal/atomicfile: a temporary file in the same directory, flushed,
// fsynced and renamed over path, then the directory fsynced, so that a
// crash or an error never leaves a half-written file in place of a good
// one. A file path names keeps its permissions (a new one gets 0666 less
// the umask); a symbolic link keeps pointing at the file it names, which
// is replaced.
func (x *Index) Save(path string) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := x.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("segment: save %s: %w", path, err)
	}
	return nil
}

// Load reads an index written by [Index.Save] or [Index.WriteTo]; see
// [ReadIndex].
func Load(path string) (*Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("segment: load: %w", err)
	}
	x, err := decode(data)
	if err != nil {
		return nil, pkgerr.Wrap("segment", "load "+path, err)
	}
	return x, nil
}

// ReadIndex reads an index written by [Index.WriteTo] from r; the whole
// file is read into memory first. A truncated, damaged or foreign file
// returns an error wrapping [ErrCorrupt], and so does one that passes the
// checksum but whose monetary or aov values leave [affinity.Money]'s
// range, whose monetary values sum in absolute value beyond MaxMoney, or
// whose stored revenue and orders are not the sums of the customers'
// monetary and frequency values (decoding them takes time linear in the
// customers and bit slices); ReadIndex never returns a partly decoded
// index. A nil r is an error matching [affinity.ErrNilArgument].
func ReadIndex(r io.Reader) (*Index, error) {
	if r == nil {
		return nil, affinity.NilArgument("segment", "reader")
	}
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("segment: read index: %w", err)
	}
	return decode(data)
}

// readAll reads r to its end into one buffer of the size r reports, when
// it does (a regular file, a bytes or strings reader), instead of growing
// one by doubling: a large index then costs one copy and its own size. A
// Len method is trusted only up to maxLenHint bytes (a reader whose Len
// overstates what it holds must not make it allocate that much); beyond,
// the buffer starts there and grows as the bytes arrive.
func readAll(r io.Reader) ([]byte, error) {
	size, ok := iox.Remaining(r)
	if _, file := r.(*os.File); !file {
		size = min(size, maxLenHint)
	}
	if !ok || size < 0 || size > math.MaxInt32*64 {
		return io.ReadAll(r)
	}
	buf := make([]byte, size+1) // one more byte tells a reader that grew
	n, err := io.ReadFull(r, buf)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return buf[:n], nil
	case nil:
		rest, err := io.ReadAll(r)
		return append(buf, rest...), err
	}
	return nil, err
}

// maxLenHint is the most readAll preallocates on the word of a Len method.
const maxLenHint = 1 << 26

// decode decodes an index from the bytes of a file.
func decode(data []byte) (*Index, error) {
	if len(data) < headerLen+trailerLen || string(data[:8]) != fileMagic {
		return nil, fmt.Errorf("%w: not an index file", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != fileVersion {
		return nil, fmt.Errorf("%w: unsupported version %d (want %d)", ErrCorrupt, v, fileVersion)
	}
	flags := binary.LittleEndian.Uint32(data[12:])
	if flags&^knownFlags != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, flags)
	}
	trail := data[len(data)-trailerLen:]
	body := data[headerLen : len(data)-trailerLen]
	if string(trail[12:]) != trailMagic || binary.LittleEndian.Uint64(trail) != uint64(len(body)) {
		return nil, fmt.Errorf("%w: truncated or extended file", ErrCorrupt)
	}
	if crc := crc32.Checksum(body, castagnoli); crc != binary.LittleEndian.Uint32(trail[8:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	d := &decoder{b: body}
	x := d.index(flags)
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d bytes after the last field", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return x, nil
}

// decoder reads the body; the first error sticks and every later read
// returns zero values, so decoding code can check once at the end.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at body offset %d", ErrCorrupt, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *decoder) next(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("field of %d bytes runs past the end", n)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8() uint8 {
	if p := d.next(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.next(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.next(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) i64() int64   { return int64(d.u64()) }
func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

// count reads a uint32 count of items that take at least minBytes each in
// the file and checks that they fit in the rest of the body, so that no
// count makes the decoder allocate more than a small multiple of the bytes
// actually there.
func (d *decoder) count(minBytes int) int {
	n := int(d.u32())
	if d.err == nil && n*minBytes > len(d.b)-d.off {
		d.fail("count %d exceeds the data", n)
		return 0
	}
	return n
}

// Least encoded sizes of the repeated items, for count: a string is at
// least its one-byte length, a bitmap its 8-byte length and an 8-byte
// empty serialization, a bsi its base and slice count.
const (
	minString = 1
	minBitmap = 16
	minBSI    = 9
	minAttr   = minBitmap + minBSI
	// a category: path, parent, depth, population share, bought, four
	// bsis and three attributes
	minCategory = minString + 4 + 1 + 8 + minBitmap + 4*minBSI + 3*minAttr
	minRule     = minString + 6
)

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 || n > uint64(len(d.b)-d.off-k) {
		d.fail("bad string length")
		return ""
	}
	d.off += k
	return string(d.next(int(n)))
}

// bitmap reads a bitmap whose values must be below limit. Only canonical
// encodings (those roaring's WriteTo produces, see roaringio.Validate) are
// accepted, so that decoding and encoding again gives the same bytes.
func (d *decoder) bitmap(limit uint64) *roaring.Bitmap {
	n := d.u64()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("bitmap of %d bytes runs past the end", n)
		return nil
	}
	p := d.next(int(n))
	bm := roaring.New()
	err := roaringio.Validate(p)
	if err == nil {
		_, err = bm.ReadFrom(bytes.NewReader(p))
	}
	if err == nil && !bm.IsEmpty() && uint64(bm.Maximum()) >= limit {
		err = fmt.Errorf("value %d out of range", bm.Maximum())
	}
	if err != nil {
		d.fail("bitmap: %v", err)
		return nil
	}
	return bm
}

// bitSliced reads a bit-sliced index. Values outside the attribute's column set
// are never read (every use intersects with the set first), so they are not
// checked for.
func (d *decoder) bitSliced(limit uint64) bsi.BSI {
	b := bsi.BSI{Base: d.i64()}
	k := int(d.u8())
	if k > 64 {
		d.fail("bsi with %d slices", k)
		return bsi.BSI{}
	}
	b.Slices = make([]*roaring.Bitmap, k)
	for j := range k {
		if b.Slices[j] = d.bitmap(limit); d.err != nil {
			return bsi.BSI{}
		}
	}
	return b
}

// packed reads what encoder.packed wrote, a column of n values; what it
// allocates is bounded by the bytes it reads.
func (d *decoder) packed(n int, what string) packedInts {
	if m := d.u64(); d.err == nil && m != uint64(n) {
		d.fail("%s: %d values, want %d", what, m, n)
	}
	switch f := d.u8(); {
	case d.err != nil:
		return packedInts{}
	case f == 0:
		return packedInts{n: n}
	case f != 1:
		d.fail("%s: bad flag %d", what, f)
		return packedInts{}
	}
	nb := (n + packBlock - 1) / packBlock
	ws := d.next(nb)
	if ws == nil {
		return packedInts{}
	}
	p := packedInts{n: n, widths: slices.Clone(ws)}
	if i := slices.IndexFunc(p.widths, func(w uint8) bool { return w > 64 }); i >= 0 {
		d.fail("%s: block of width %d", what, p.widths[i])
		return packedInts{}
	}
	total := p.layout()
	if total == 0 {
		d.fail("%s: blocks of zeros flagged as values", what)
		return packedInts{}
	}
	if p.words = readValues[uint64](d, total, 8); p.words == nil {
		return packedInts{}
	}
	return p
}

// bigInt reads a decimal integer of at most 40 digits (128 bits).
func (d *decoder) bigInt() *big.Int {
	s := d.str()
	if d.err != nil {
		return nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || len(s) > 41 || v.String() != s {
		d.fail("bad integer %.20q", s)
		return nil
	}
	return v
}

func (d *decoder) attr(limit uint64) attr {
	return attr{exist: d.bitmap(limit), v: d.bitSliced(limit)}
}

// readInts reads what ints wrote: at most maxLen values of size bytes.
func readInts[T uint16 | uint32 | int32 | int64](d *decoder, maxLen, size int) []T {
	n := d.u64()
	if d.err == nil && (n > uint64(maxLen) || n > uint64(len(d.b)-d.off)/uint64(size)) {
		d.fail("array of %d values", n)
	}
	if d.err != nil {
		return nil
	}
	return readValues[T](d, int(n), size)
}

// readValues reads n values of size bytes each, which the caller has
// checked fit in the rest of the body.
func readValues[T uint16 | uint32 | int32 | int64 | uint64](d *decoder, n, size int) []T {
	p := d.next(size * n)
	if p == nil {
		return nil
	}
	v := make([]T, n)
	for i := range v {
		switch size {
		case 2:
			v[i] = T(binary.LittleEndian.Uint16(p[2*i:]))
		case 4:
			v[i] = T(binary.LittleEndian.Uint32(p[4*i:]))
		default:
			v[i] = T(binary.LittleEndian.Uint64(p[8*i:]))
		}
	}
	return v
}

func (d *decoder) index(flags uint32) *Index {
	x := &Index{asOf: d.i64()}
	o := &x.opts
	x.lookDays = int(d.u32())
	o.Lookback.Months = int(d.u32())
	o.Lookback.Duration = time.Duration(d.i64())
	o.Lookback.All = d.u8() == 1
	o.RFMScoring = RFMScoring(d.u8())
	o.HalfLife = time.Duration(d.i64())
	o.TopN = int(d.u32())
	o.LoyalOrders = int(d.u32())
	o.LapseAfter = time.Duration(d.u32()) * Day
	o.ChurnAfter = time.Duration(d.u32()) * Day
	nr := d.count(minRule)
	if nr > maxRFMRules {
		d.fail("%d RFM rules, at most %d are supported", nr, maxRFMRules)
		return nil
	}
	o.RFMRules = make([]RFMRule, nr)
	for i := range o.RFMRules {
		r := &o.RFMRules[i]
		r.Name = d.str()
		for _, s := range []*ScoreRange{&r.R, &r.F, &r.M} {
			s.Min, s.Max = int(d.u8()), int(d.u8())
		}
	}
	if flags&flagNonMerch != 0 {
		if o.NonMerchandise = d.bitmap(1 << 32); d.err == nil && o.NonMerchandise.IsEmpty() {
			d.fail("an empty NonMerchandise set") // written only when not empty
		}
	}
	if d.err != nil {
		return nil
	}
	wantDays, _ := lookWindow(o.Lookback, x.asOf)
	if o.Lookback.All {
		wantDays = maxDays - 1
	}
	// the options as given: those stored, less the ones the flags say
	// were left to their defaults (which must be the stored values)
	given := *o
	if flags&flagLapseDefault != 0 {
		given.LapseAfter = 0
	}
	if flags&flagChurnDefault != 0 {
		given.ChurnAfter = 0
	}
	checked, err := given.withDefaults(wantDays)
	switch {
	case err != nil:
		d.fail("invalid options: %v", err)
		return nil
	case wantDays != x.lookDays:
		// a file of an earlier version whose calendar months rolled a
		// month-end day over (AddDate) rather than clamp it as now
		d.fail("a look-back of %d days where %v before %s spans %d (an index saved by an earlier version at a month end: build it again)",
			x.lookDays, o.Lookback, time.Unix(x.asOf, 0).UTC().Format(time.DateOnly), wantDays)
		return nil
	case checked.Lookback != o.Lookback || checked.TopN != o.TopN || checked.LoyalOrders != o.LoyalOrders ||
		checked.LapseAfter != o.LapseAfter || checked.ChurnAfter != o.ChurnAfter:
		d.fail("invalid options: a stored value is not the default it stands for")
		return nil
	}
	o.Workers = checked.Workers
	x.given = given
	x.given.Workers = 0

	nc := d.count(minString)
	x.keys = make([]string, nc)
	for i := range x.keys {
		x.keys[i] = d.str()
	}
	limit := uint64(nc)
	x.universe = d.bitmap(limit)
	for i := range x.scalars {
		x.scalars[i] = d.attr(limit)
	}
	if d.err != nil {
		return nil
	}
	for _, sc := range binnedScalars {
		a := &x.scalars[sc]
		ids := a.exist.ToArray()
		a.binned(ids, a.v.ValuesOf(nil, ids))
		if hasLevels(sc) && a.bins != nil {
			a.leveled()
		}
	}
	ncat := d.count(minCategory)
	x.cats = make([]string, ncat)
	x.catParent = make([]uint32, ncat)
	x.catDepth = make([]uint8, ncat)
	x.popShare = make([]float64, ncat)
	x.catData = make([]catData, ncat)
	for i := range ncat {
		x.cats[i] = d.str()
		x.catParent[i] = d.u32()
		x.catDepth[i] = d.u8()
		x.popShare[i] = d.f64()
		if d.err != nil {
			return nil
		}
		if p := x.catParent[i]; p != noParent && int(p) >= ncat || x.catDepth[i] == 0 ||
			!(x.popShare[i] >= 0 && x.popShare[i] <= 1) {
			d.fail("invalid category %d", i)
			return nil
		}
		c := &x.catData[i]
		c.bought = d.bitmap(limit)
		c.spend = d.bitSliced(limit)
		c.items = d.bitSliced(limit)
		c.orders = d.bitSliced(limit)
		c.days = d.bitSliced(limit)
		c.rank = d.attr(limit)
		c.viewed = d.attr(limit)
		c.carted = d.attr(limit)
	}
	np := d.count(minString)
	x.products = make([]string, np)
	for i := range x.products {
		x.products[i] = d.str()
	}
	for k := range x.acts {
		p := &x.acts[k]
		p.off = readInts[uint32](d, np+1, 4)
		p.first = readInts[uint32](d, np, 4)
		if d.err != nil {
			return nil
		}
		if len(p.off) != np+1 || p.off[0] != 0 || len(p.first) != np {
			d.fail("invalid postings")
			return nil
		}
		// a product's entries are distinct customers in ascending order
		// from its first: at most nc of them, the first at most nc less
		// their number (so the entries are at most np·nc)
		for i := range np {
			lo, hi, first := p.off[i], p.off[i+1], uint64(p.first[i])
			switch {
			case lo > hi:
				d.fail("invalid postings offsets")
				return nil
			case hi-lo > uint32(nc) || lo < hi && first+uint64(hi-lo) > uint64(nc) || lo == hi && first != 0:
				d.fail("postings of product %d: %d entries from customer %d, of %d customers", i, hi-lo, first, nc)
				return nil
			}
		}
		n := int(p.off[np])
		p.gap = d.packed(n, "posting gaps")
		p.days = d.packed(n, "posting days")
		if d.err != nil {
			return nil
		}
		if p.gap.words == nil && p.days.words == nil {
			// columns of zeros, a byte each whatever n: every product's
			// customers follow one another from its first (checked above),
			// 0 days back, within any look-back
			continue
		}
		// else a column's widths take a byte per packBlock entries, which
		// bounds this loop by the file's size
		for prod := range np {
			lo, hi := int(p.off[prod]), int(p.off[prod+1])
			c := int64(p.first[prod])
			for i := lo; i < hi; i++ {
				g, days := p.gap.at(i), p.days.at(i)
				if i > lo {
					c += g + 1
				}
				if g < 0 || g >= int64(nc) || i == lo && g != 0 || c >= int64(nc) || days < 0 || days >= int64(x.lookDays) {
					d.fail("invalid posting %d of product %d", i-lo, prod)
					return nil
				}
			}
		}
	}
	x.day0 = d.i64()
	nd := d.count(minBitmap)
	// the days of activity lie between 1970 and the as-of day (Build
	// leaves day0 at 0 without any)
	if last := floorDiv(x.asOf, secondsPerDay); d.err == nil && (x.day0 < 0 || nd == 0 && x.day0 != 0 || nd > 0 && x.day0 > last-int64(nd)+1) {
		d.fail("invalid first day %d of %d daily bitmaps as of day %d", x.day0, nd, last)
		return nil
	}
	x.daily = make([]*roaring.Bitmap, nd)
	for i := range x.daily {
		x.daily[i] = d.bitmap(limit)
	}
	x.rfm = make([]*roaring.Bitmap, nr)
	for i := range x.rfm {
		x.rfm[i] = d.bitmap(limit)
	}
	for i := range x.stages {
		x.stages[i] = d.bitmap(limit)
	}
	x.revenue = affinity.Money(d.i64())
	x.orders = d.i64()
	if d.err == nil {
		d.checkTotals(x)
	}
	switch d.u8() {
	case 0:
	case 1:
		if o.HalfLife != 0 {
			d.fail("exact shares with a half-life")
			return nil
		}
		x.exact = true
		x.share = new(shareBudget)
		for k := range x.exDen {
			x.exDen[k] = d.packed(nc, "share denominators")
		}
		x.popDen = d.bigInt()
		for i := range x.catData {
			c := &x.catData[i]
			n := int(c.bought.GetCardinality())
			for k := range c.exNum {
				c.exNum[k] = d.packed(n, fmt.Sprintf("share numerators of category %d", i))
			}
			c.popNum = d.bigInt()
			c.cols = new([3]shareColumn)
			if d.err != nil {
				return nil
			}
		}
	default:
		d.fail("bad exact flag")
	}
	ndef := d.count(2 * minString)
	if d.err != nil {
		return nil
	}
	x.indexNames()
	if len(x.catIndex) != ncat || len(x.prodIndex) != np {
		d.fail("duplicate category or product names")
		return nil
	}
	// each definition is checked against those before it, with the
	// plans of the ones it refers to compiled once for the whole loop
	memo := map[int]compiledDef{}
	for range ndef {
		name, src := d.str(), d.str()
		if d.err != nil {
			return nil
		}
		e, err := savedSyntax(len(src)).Parse(src)
		if err == nil {
			if err = x.defineCheck(name, e, memo); err == nil {
				x.defs = x.defs.with(definition{name: name, expr: e})
			}
		}
		if err != nil {
			d.fail("named segment %q: %v", name, err)
			return nil
		}
	}
	return x
}

// checkTotals checks the money-valued columns and the totals of x: every
// monetary and aov value within Money's range, the monetary values summing
// in absolute value to at most MaxMoney (as a History's order values do),
// revenue their sum and orders the sum of the frequencies. Stats then sums
// any set of customers without leaving Money's range.
func (d *decoder) checkTotals(x *Index) {
	mon, ok := checkedValues(nil, &x.scalars[scMonetary], int64(affinity.MinMoney), int64(affinity.MaxMoney))
	if !ok {
		d.fail("a monetary value beyond the range of Money")
		return
	}
	if _, ok := addGross(0, mon); !ok {
		d.fail("monetary values whose absolute sum exceeds the range of Money")
		return
	}
	var revenue int64
	for _, v := range mon {
		revenue += v // cannot overflow: the absolute sum is within range
	}
	if revenue != int64(x.revenue) {
		d.fail("revenue %d, where the monetary values sum to %d", x.revenue, revenue)
		return
	}
	if _, ok := checkedValues(mon, &x.scalars[scAOV], int64(affinity.MinMoney), int64(affinity.MaxMoney)); !ok {
		d.fail("an aov value beyond the range of Money")
		return
	}
	freq, ok := checkedValues(mon, &x.scalars[scFrequency], 0, math.MaxInt64)
	if !ok {
		d.fail("a negative frequency")
		return
	}
	var orders uint64
	for _, v := range freq {
		if orders += uint64(v); orders > math.MaxInt64 {
			d.fail("frequencies summing beyond the int64 range")
			return
		}
	}
	if orders != uint64(x.orders) {
		d.fail("orders %d, where the frequencies sum to %d", x.orders, orders)
	}
}

// checkedValues decodes a's values into buf (reused) and reports whether
// each lies in [lo, hi]. Decoding wraps in int64 when Base and the slices
// are beyond that range, but a value's offset above Base, v − Base modulo
// 2^64, does not: the check is on Base + offset exactly.
func checkedValues(buf []int64, a *attr, lo, hi int64) ([]int64, bool) {
	if a.exist == nil {
		return buf[:0], true
	}
	vals := a.v.Values(buf, a.exist)
	base := a.v.Base
	if base > hi {
		return vals, len(vals) == 0
	}
	var minOff uint64
	if base < lo {
		minOff = uint64(lo) - uint64(base)
	}
	maxOff := uint64(hi) - uint64(base)
	for _, v := range vals {
		if off := uint64(v) - uint64(base); off < minOff || off > maxOff {
			return vals, false
		}
	}
	return vals, true
}

// savedSyntax is the syntax that reads back a named segment of n bytes
// of text: an Expr built in Go may be longer than a query's text limit
// and nest up to MaxExprDepth, and Define took it; the file's size
// already bounds the text.
func savedSyntax(n int) *query.Syntax {
	s := *syntax
	s.Limits = query.Limits{MaxLen: max(n, query.DefaultMaxLen), MaxDepth: MaxExprDepth}
	return &s
}
