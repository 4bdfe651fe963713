package similarity

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/atomicfile"
	"github.com/shopaffinity/affinity/internal/iox"
	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// ErrCorrupt is returned (wrapped) by [ReadIndex] for input that is not a
// valid index encoding: bad magic, inconsistent sizes, invalid neighbours
// or a checksum mismatch.
var ErrCorrupt = errors.New("similarity: corrupt index encoding")

// ErrVersion is returned (wrapped) by [ReadIndex] for an encoding of an
// unsupported format version; rebuild the index.
var ErrVersion = errors.New("similarity: unsupported index version")

const (
	indexMagic   = "AFSIMIDX"
	indexVersion = 1
	// headerSize is the size of the encoding up to the supports: magic,
	// version, measure, scope, K, min support, shrinkage, N, P and M.
	headerSize = 8 + 4*5 + 8 + 8 + 4 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes x in the versioned binary index format and returns the
// number of bytes written. The format (little-endian) is: magic
// "AFSIMIDX", version (uint32, currently 1), measure, scope, K, min
// support (uint32 each), shrinkage (float64), N (uint64), number of
// products P (uint32), number of neighbours M (uint64), P supports
// (uint32), P row lengths (uint32), M neighbours (product uint32, score
// float32, count uint32), and a CRC-32C (Castagnoli) of everything before
// it.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	cw := &iox.CountingWriter{W: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	crc := crc32.New(castagnoli)
	e := encoder{w: io.MultiWriter(bw, crc)}
	e.bytes([]byte(indexMagic))
	e.u32(indexVersion)
	e.u32(uint32(x.measure))
	e.u32(uint32(x.scope))
	e.u32(uint32(x.k))
	e.u32(uint32(x.minSupport))
	e.u64(math.Float64bits(x.shrinkage))
	e.u64(uint64(x.n))
	np := x.NumProducts()
	e.u32(uint32(np))
	e.u64(uint64(len(x.nb)))
	for p := range np {
		e.u32(uint32(x.Support(affinity.ProductID(p))))
	}
	for p := range np {
		e.u32(x.off[p+1] - x.off[p])
	}
	for _, n := range x.nb {
		e.u32(uint32(n.Product))
		e.u32(math.Float32bits(n.Score))
		e.u32(n.Count)
	}
	if e.err == nil {
		binary.LittleEndian.PutUint32(e.buf[:4], crc.Sum32())
		_, e.err = bw.Write(e.buf[:4])
	}
	if e.err == nil {
		e.err = bw.Flush()
	}
	return cw.N, e.err
}

type encoder struct {
	w   io.Writer
	buf [8]byte
	err error
}

func (e *encoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.bytes(e.buf[:8])
}

// decoder reads little-endian values and hashes what it reads. It reads
// exactly the bytes it is asked for, so that an index can be followed by
// other data in the same stream.
type decoder struct {
	r     io.Reader
	crc   hash.Hash32
	buf   [8]byte
	chunk []byte
	err   error
}

func (d *decoder) readFull(b []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: truncated", ErrCorrupt)
		}
		d.err = err
		return
	}
	d.crc.Write(b)
}

func (d *decoder) read(n int) []byte {
	d.readFull(d.buf[:n])
	return d.buf[:n]
}

func (d *decoder) u32() uint32 { return binary.LittleEndian.Uint32(d.read(4)) }
func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.read(8)) }

// records reads n records of size bytes in chunks and calls fn on each
// until fn returns false or reading fails.
func (d *decoder) records(n uint64, size int, fn func(b []byte) bool) {
	per := uint64(len(d.chunk) / size)
	for n > 0 && d.err == nil {
		c := min(n, per)
		b := d.chunk[:int(c)*size]
		d.readFull(b)
		for i := 0; i < len(b) && d.err == nil; i += size {
			if !fn(b[i : i+size]) {
				return
			}
		}
		n -= c
	}
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

// maxPrealloc bounds how many elements a decoder allocates before it has
// read them, so that a corrupt size cannot exhaust memory.
const maxPrealloc = 1 << 16

// Save writes x to the file at path atomically (see [Index.WriteTo] for
// the format): it writes a temporary file in the same directory, fsyncs
// it, renames it over path and fsyncs the directory, so that a crash or an
// error never leaves a half-written index in place of a good one. A file
// path names keeps its permissions (a new one gets 0666 less the umask);
// a symbolic link keeps pointing at the file it names, which is replaced.
func (x *Index) Save(path string) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := x.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("similarity: save %s: %w", path, err)
	}
	return nil
}

// LoadIndex reads the index in the file at path, written by [Index.Save]
// or [Index.WriteTo]; see [ReadIndex]. The sizes the file's header claims
// are checked against the file's size before anything is allocated.
func LoadIndex(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("similarity: load: %w", err)
	}
	defer f.Close()
	x, err := ReadIndex(f)
	if err != nil {
		return nil, pkgerr.Wrap("similarity", "load "+path, err)
	}
	return x, nil
}

// ReadIndex reads an index written by [Index.WriteTo], and nothing past
// its end. It validates the whole encoding — magic, version, sizes, every
// neighbour (in range, not the product itself, best first, finite score,
// a co-count within both products' supports and not below the minimum
// support) and the checksum — and returns an error wrapping [ErrVersion] or
// [ErrCorrupt] (or the reader's error) without a partial index. A nil r
// is an error matching [affinity.ErrNilArgument].
//
// Memory grows with the input actually read, never with sizes the input
// claims: when r can tell how many bytes remain (a Len method, as
// bytes.Reader has, or a regular *os.File), the sizes in the header are
// checked against them before anything is allocated; otherwise arrays
// grow as their elements arrive, from at most 64 Ki elements reserved.
func ReadIndex(r io.Reader) (*Index, error) {
	if r == nil {
		return nil, affinity.NilArgument("similarity", "reader")
	}
	left, sized := iox.Remaining(r)
	d := &decoder{r: r, crc: crc32.New(castagnoli)}
	if string(d.read(8)) != indexMagic && d.err == nil {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if v := d.u32(); d.err == nil && v != indexVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrVersion, v, indexVersion)
	}
	x := &Index{}
	x.measure = Measure(d.u32())
	x.scope = Scope(d.u32())
	k, minSup := d.u32(), d.u32()
	x.shrinkage = math.Float64frombits(d.u64())
	n := d.u64()
	np := d.u32()
	m := d.u64()
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case !x.measure.Valid():
		d.fail("measure %d", int(x.measure))
	case x.scope < Basket || x.scope > Sequential:
		d.fail("scope %d", int(x.scope))
	case k == 0 || k > math.MaxInt32 || minSup > math.MaxInt32:
		d.fail("K %d, min support %d", k, minSup)
	case !(x.shrinkage >= 0) || math.IsInf(x.shrinkage, 0):
		d.fail("shrinkage %v", x.shrinkage)
	case n > maxTotal:
		d.fail("total %d", n)
	case m > uint64(np)*uint64(k) || m > math.MaxUint32:
		d.fail("%d neighbours for %d products, K %d", m, np, k)
	}
	if d.err != nil {
		return nil, d.err
	}
	// Body: P supports and P row lengths (4 bytes each), M neighbours
	// (12 bytes each) and the checksum.
	body := 8*uint64(np) + 12*m + 4
	if sized && body > uint64(left-headerSize) {
		return nil, fmt.Errorf("%w: header claims %d products and %d neighbours (%d bytes), %d bytes remain",
			ErrCorrupt, np, m, body, left-headerSize)
	}
	d.chunk = make([]byte, max(12, min(12<<12, body)))
	x.k, x.minSupport, x.n = int(k), int(minSup), int(n)
	x.support = make([]uint32, 0, min(int(np), maxPrealloc))
	d.records(uint64(np), 4, func(b []byte) bool {
		s := binary.LittleEndian.Uint32(b)
		if uint64(s) > n {
			d.fail("support %d above total %d", s, n)
			return false
		}
		x.support = append(x.support, s)
		return true
	})
	x.off = make([]uint32, 1, min(int(np)+1, maxPrealloc))
	var sum uint64
	d.records(uint64(np), 4, func(b []byte) bool {
		l := binary.LittleEndian.Uint32(b)
		sum += uint64(l)
		if l > k || sum > m {
			d.fail("row of %d neighbours", l)
			return false
		}
		x.off = append(x.off, uint32(sum))
		return true
	})
	if d.err == nil && sum != m {
		d.fail("rows hold %d neighbours, header says %d", sum, m)
	}
	x.nb = make([]Neighbor, 0, min(int(m), maxPrealloc))
	a := uint32(0)
	d.records(m, 12, func(b []byte) bool {
		nb := Neighbor{
			Product: affinity.ProductID(binary.LittleEndian.Uint32(b)),
			Score:   math.Float32frombits(binary.LittleEndian.Uint32(b[4:])),
			Count:   binary.LittleEndian.Uint32(b[8:]),
		}
		i := uint32(len(x.nb))
		for i >= x.off[a+1] {
			a++
		}
		switch {
		case uint32(nb.Product) >= np || uint32(nb.Product) == a:
			d.fail("row %d: neighbour %d", a, nb.Product)
		case math.IsNaN(float64(nb.Score)) || math.IsInf(float64(nb.Score), 0):
			d.fail("row %d: score %v", a, nb.Score)
		case i > x.off[a] && !better(x.nb[i-1], nb):
			d.fail("row %d: neighbours out of order", a)
		case nb.Count > min(x.support[a], x.support[nb.Product]):
			d.fail("row %d: neighbour %d bought together %d times, supports %d and %d",
				a, nb.Product, nb.Count, x.support[a], x.support[nb.Product])
		case nb.Count < uint32(x.minSupport):
			d.fail("row %d: neighbour %d bought together %d times, below the minimum support %d",
				a, nb.Product, nb.Count, x.minSupport)
		}
		x.nb = append(x.nb, nb)
		return d.err == nil
	})
	if d.err != nil {
		return nil, d.err
	}
	want := d.crc.Sum32()
	if _, err := io.ReadFull(d.r, d.buf[:4]); err != nil {
		return nil, fmt.Errorf("%w: missing checksum", ErrCorrupt)
	}
	if got := binary.LittleEndian.Uint32(d.buf[:4]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, want %08x", ErrCorrupt, got, want)
	}
	return x, nil
}
