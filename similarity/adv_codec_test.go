package similarity_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// Adversarial tests of the index encoding (Index.WriteTo, ReadIndex,
// LoadIndex), written against the documentation of WriteTo, which gives
// the format: magic "AFSIMIDX", version (uint32, 1), measure, scope, K,
// min support (uint32 each), shrinkage (float64), N (uint64), P (uint32),
// M (uint64), P supports (uint32), P row lengths (uint32), M neighbours
// (product uint32, score float32, count uint32), CRC-32C of everything
// before it; little-endian.

var errCdcBoom = errors.New("cdc: boom")

// cdcFile is the content of an index file, field by field.
type cdcFile struct {
	version                   uint32
	measure, scope, k, minSup uint32
	shrink                    float64
	n                         uint64
	supports                  []uint32
	rows                      [][]similarity.Neighbor
	np                        *uint32 // P when not len(supports)
	m                         *uint64 // M when not the sum of the rows
	rowLens                   []uint32
}

// bytes encodes f as the documentation of Index.WriteTo describes.
func (f cdcFile) bytes() []byte {
	le := binary.LittleEndian
	b := []byte("AFSIMIDX")
	b = le.AppendUint32(b, f.version)
	b = le.AppendUint32(b, f.measure)
	b = le.AppendUint32(b, f.scope)
	b = le.AppendUint32(b, f.k)
	b = le.AppendUint32(b, f.minSup)
	b = le.AppendUint64(b, math.Float64bits(f.shrink))
	b = le.AppendUint64(b, f.n)
	np := uint32(len(f.supports))
	if f.np != nil {
		np = *f.np
	}
	b = le.AppendUint32(b, np)
	m := uint64(0)
	for _, r := range f.rows {
		m += uint64(len(r))
	}
	if f.m != nil {
		m = *f.m
	}
	b = le.AppendUint64(b, m)
	for _, s := range f.supports {
		b = le.AppendUint32(b, s)
	}
	if f.rowLens != nil {
		for _, l := range f.rowLens {
			b = le.AppendUint32(b, l)
		}
	} else {
		for _, r := range f.rows {
			b = le.AppendUint32(b, uint32(len(r)))
		}
	}
	for _, r := range f.rows {
		for _, nb := range r {
			b = le.AppendUint32(b, uint32(nb.Product))
			b = le.AppendUint32(b, math.Float32bits(nb.Score))
			b = le.AppendUint32(b, nb.Count)
		}
	}
	return le.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// cdcFileOf reads the fields of x through its API.
func cdcFileOf(x *similarity.Index) cdcFile {
	f := cdcFile{version: 1, measure: uint32(x.Measure()), scope: uint32(x.Scope()), k: uint32(x.K()),
		minSup: uint32(x.MinSupport()), shrink: x.Shrinkage(), n: uint64(x.Total())}
	for p := range x.NumProducts() {
		id := affinity.ProductID(p)
		f.supports = append(f.supports, uint32(x.Support(id)))
		f.rows = append(f.rows, x.Neighbors(id))
	}
	return f
}

// cdcBase is a valid small index: four products, K 3, Lift over baskets.
func cdcBase() cdcFile {
	return cdcFile{version: 1, measure: uint32(similarity.Lift), scope: uint32(similarity.Basket), k: 3, minSup: 1,
		shrink: 2, n: 20, supports: []uint32{10, 8, 6, 0},
		rows: [][]similarity.Neighbor{
			{{Product: 2, Score: 1.5, Count: 4}, {Product: 1, Score: 1.25, Count: 5}},
			{{Product: 0, Score: 1.25, Count: 5}, {Product: 2, Score: 1.25, Count: 2}},
			{{Product: 0, Score: 1.5, Count: 4}, {Product: 1, Score: 1.25, Count: 2}},
			nil,
		}}
}

func cdcEncode(t testing.TB, x *similarity.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

// cdcIndexes builds small indexes of every measure and scope, with random
// K, minimum support and shrinkage, and EASE and SVD ones.
func cdcIndexes(t *testing.T, workers int) map[string]*similarity.Index {
	ctx := context.Background()
	d := randomData(rand.New(rand.NewPCG(31, 13)), randomOptions{customers: 25, products: 14, orders: 90, maxLines: 4, events: 30})
	h := d.history(t, nil)
	asOf := h.Latest()
	out := map[string]*similarity.Index{}
	rng := rand.New(rand.NewPCG(5, 55))
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: scope, Workers: workers})
		require.NoError(t, err)
		for m := similarity.Jaccard; m <= similarity.BM25; m++ {
			opts := similarity.IndexOptions{Measure: m, K: 1 + rng.IntN(6), MinSupport: 1 + rng.IntN(2),
				Shrinkage: float64(rng.IntN(3)) / 2, Workers: workers}
			x, err := similarity.NewIndex(ctx, c, opts)
			require.NoError(t, err)
			out[fmt.Sprintf("%v/%v", scope, m)] = x
		}
		if scope == similarity.Basket {
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Lift, K: similarity.MaxIndexK,
				MinSupport: 1, Workers: workers})
			require.NoError(t, err)
			out["basket/lift/K max"] = x
			x, err = similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Jaccard, MinSupport: similarity.MaxIndexK, Workers: workers})
			require.NoError(t, err)
			out["basket/jaccard/min support max (empty)"] = x
			im, err := similarity.NewItemMatrix(ctx, h, asOf, similarity.CountOptions{Scope: scope})
			require.NoError(t, err)
			bm, err := im.BM25(similarity.DefaultBM25)
			require.NoError(t, err)
			e, err := similarity.Embed(ctx, bm, similarity.EmbedOptions{Dim: 4, Workers: workers})
			require.NoError(t, err)
			x, err = e.Index(ctx, c, similarity.IndexOptions{K: 5, Workers: workers})
			require.NoError(t, err)
			out["basket/svd"] = x
		}
	}
	for _, k := range []int{3, -1} {
		x, err := similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Lambda: 5, K: k, Solver: similarity.EASEDense,
			Count: similarity.CountOptions{Scope: similarity.Customer, Workers: workers}})
		require.NoError(t, err)
		out[fmt.Sprintf("customer/ease/K %d", k)] = x
	}
	return out
}

func cdcRequireSame(t *testing.T, name string, want, got *similarity.Index) {
	t.Helper()
	require.Equal(t, want.NumProducts(), got.NumProducts(), name)
	require.Equal(t, want.Measure(), got.Measure(), name)
	require.Equal(t, want.Scope(), got.Scope(), name)
	require.Equal(t, want.Directed(), got.Directed(), name)
	require.Equal(t, want.Total(), got.Total(), name)
	require.Equal(t, want.K(), got.K(), name)
	require.Equal(t, want.MinSupport(), got.MinSupport(), name)
	require.Equal(t, want.Shrinkage(), got.Shrinkage(), name)
	require.Equal(t, want.NumNeighbors(), got.NumNeighbors(), name)
	for p := range want.NumProducts() + 1 {
		id := affinity.ProductID(p)
		require.Equal(t, want.Support(id), got.Support(id), name)
		require.Equal(t, want.Neighbors(id), got.Neighbors(id), name)
	}
}

// TestCdcRoundTrips: every kind of index reads back into one that answers
// alike, writes the same bytes again, and is encoded exactly as the
// documentation of WriteTo says; the bytes do not depend on the number of
// workers.
func TestCdcRoundTrips(t *testing.T) {
	one, two := cdcIndexes(t, 1), cdcIndexes(t, 2)
	for name, x := range one {
		data := cdcEncode(t, x)
		assert.Equal(t, data, cdcEncode(t, two[name]), "%s: the encoding depends on the workers", name)
		assert.Equal(t, cdcFileOf(x).bytes(), data, "%s: not the documented layout", name)
		assert.LessOrEqual(t, x.K(), similarity.MaxIndexK, name)
		assert.GreaterOrEqual(t, x.K(), 0, name)
		for p := range x.NumProducts() {
			assert.LessOrEqual(t, len(x.Neighbors(affinity.ProductID(p))), x.K(), "%s: row %d longer than K", name, p)
		}
		y, err := similarity.ReadIndex(bytes.NewReader(data))
		require.NoError(t, err, name)
		cdcRequireSame(t, name, x, y)
		assert.Equal(t, data, cdcEncode(t, y), "%s: decode then encode differs", name)
	}
}

// TestCdcCraftedValid: a file written from the documented layout by hand
// reads, with the fields it holds; so does one of no products.
func TestCdcCraftedValid(t *testing.T) {
	f := cdcBase()
	x, err := similarity.ReadIndex(bytes.NewReader(f.bytes()))
	require.NoError(t, err)
	assert.Equal(t, similarity.Lift, x.Measure())
	assert.Equal(t, 3, x.K())
	assert.Equal(t, 20, x.Total())
	assert.Equal(t, 4, x.NumProducts())
	assert.Equal(t, 6, x.NumNeighbors())
	assert.Equal(t, f.rows[1], x.Neighbors(1))
	assert.Empty(t, x.Neighbors(3))
	assert.Empty(t, x.Neighbors(4))
	assert.Equal(t, f.bytes(), cdcEncode(t, x))

	empty := cdcFile{version: 1, measure: uint32(similarity.Jaccard), k: 50, minSup: 2}
	x, err = similarity.ReadIndex(bytes.NewReader(empty.bytes()))
	require.NoError(t, err)
	assert.Zero(t, x.NumProducts())
	assert.Empty(t, x.Neighbors(0))
	assert.Zero(t, x.Support(0))
	assert.Equal(t, empty.bytes(), cdcEncode(t, x))
}

// TestCdcCraftedInvalid: files with a valid checksum whose fields break
// what the documentation promises of an index are rejected with
// ErrCorrupt (ErrVersion for a version), never read into an index that
// breaks its own documentation.
func TestCdcCraftedInvalid(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	nb := func(p uint32, s float32, c uint32) similarity.Neighbor {
		return similarity.Neighbor{Product: affinity.ProductID(p), Score: s, Count: c}
	}
	cases := []struct {
		name    string
		edit    func(f *cdcFile)
		version bool
	}{
		{"version 0", func(f *cdcFile) { f.version = 0 }, true},
		{"version 2", func(f *cdcFile) { f.version = 2 }, true},
		{"version max", func(f *cdcFile) { f.version = math.MaxUint32 }, true},
		{"unknown measure", func(f *cdcFile) { f.measure = 99 }, false},
		{"measure -1", func(f *cdcFile) { f.measure = math.MaxUint32 }, false},
		{"unknown scope", func(f *cdcFile) { f.scope = 3 }, false},
		{"scope max", func(f *cdcFile) { f.scope = math.MaxUint32 }, false},
		{"K beyond 31 bits", func(f *cdcFile) { f.k = 1 << 31 }, false},
		{"K max", func(f *cdcFile) { f.k = math.MaxUint32 }, false},
		{"min support beyond 31 bits", func(f *cdcFile) { f.minSup = 1 << 31 }, false},
		{"shrinkage NaN", func(f *cdcFile) { f.shrink = math.NaN() }, false},
		{"shrinkage negative", func(f *cdcFile) { f.shrink = -1 }, false},
		{"shrinkage +Inf", func(f *cdcFile) { f.shrink = math.Inf(1) }, false},
		{"N beyond int64", func(f *cdcFile) { f.n = 1 << 63 }, false},
		{"N max", func(f *cdcFile) { f.n = math.MaxUint64 }, false},
		{"P one more than held", func(f *cdcFile) { f.np = u32(5) }, false},
		{"P one less than held", func(f *cdcFile) { f.np = u32(3) }, false},
		{"M one more than the rows", func(f *cdcFile) { f.m = u64(7) }, false},
		{"M one less than the rows", func(f *cdcFile) { f.m = u64(5) }, false},
		{"row lengths overflow to M", func(f *cdcFile) {
			// 2^32 − 1 + 1 + 6 wraps to 6 in 32 bits
			f.rowLens = []uint32{math.MaxUint32, 1, 2, 4}
		}, false},
		{"row longer than K", func(f *cdcFile) { f.k = 1 }, false},
		{"neighbour out of range", func(f *cdcFile) { f.rows[0][1] = nb(4, 1.25, 5) }, false},
		{"neighbour id max", func(f *cdcFile) { f.rows[0][1] = nb(math.MaxUint32, 1.25, 5) }, false},
		{"neighbour itself", func(f *cdcFile) { f.rows[0][1] = nb(0, 1.25, 5) }, false},
		{"scores ascending", func(f *cdcFile) { f.rows[0][0], f.rows[0][1] = f.rows[0][1], f.rows[0][0] }, false},
		{"tie not by id", func(f *cdcFile) { f.rows[1][0], f.rows[1][1] = f.rows[1][1], f.rows[1][0] }, false},
		{"duplicate neighbour", func(f *cdcFile) { f.rows[1][1] = f.rows[1][0] }, false},
		{"score NaN", func(f *cdcFile) { f.rows[0][1].Score = float32(math.NaN()) }, false},
		{"score +Inf", func(f *cdcFile) { f.rows[0][0].Score = float32(math.Inf(1)) }, false},
		{"score -Inf", func(f *cdcFile) { f.rows[0][1].Score = float32(math.Inf(-1)) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := cdcBase()
			for i, r := range f.rows {
				f.rows[i] = append([]similarity.Neighbor(nil), r...)
			}
			tc.edit(&f)
			data := f.bytes()
			for _, r := range []io.Reader{bytes.NewReader(data), testdata.OnlyRead(bytes.NewReader(data))} {
				x, err := similarity.ReadIndex(r)
				if tc.version {
					require.ErrorIs(t, err, similarity.ErrVersion)
				} else {
					require.ErrorIs(t, err, similarity.ErrCorrupt)
				}
				require.Nil(t, x)
			}
		})
	}
}

// TestCdcSupportAboveN: a support above N is a size no population gives,
// which ReadIndex rejects ("inconsistent sizes").
func TestCdcSupportAboveN(t *testing.T) {
	f := cdcBase()
	f.supports[0] = 21
	x, err := similarity.ReadIndex(bytes.NewReader(f.bytes()))
	require.ErrorIs(t, err, similarity.ErrCorrupt)
	require.Nil(t, x)
}

// TestCdcInconsistentCoCounts: a neighbour's co-count above the support
// of either product, or below the index's MinSupport ("the minimum
// co-count of a neighbour"), is as inconsistent as a support above N,
// which ReadIndex rejects; "ReadIndex validates every field".
func TestCdcInconsistentCoCounts(t *testing.T) {
	cases := []struct {
		name string
		edit func(f *cdcFile)
	}{
		{"co-count above the anchor's support", func(f *cdcFile) { f.supports[2] = 3 }},
		{"co-count above the neighbour's support", func(f *cdcFile) { f.rows[0][0].Count = 7; f.rows[2][0].Count = 7 }},
		{"co-count below the minimum support", func(f *cdcFile) { f.minSup = 3 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := cdcBase()
			for i, r := range f.rows {
				f.rows[i] = append([]similarity.Neighbor(nil), r...)
			}
			tc.edit(&f)
			x, err := similarity.ReadIndex(bytes.NewReader(f.bytes()))
			assert.ErrorIs(t, err, similarity.ErrCorrupt)
			assert.Nil(t, x)
		})
	}
}

// TestCdcHugeClaims: small inputs whose header claims 2^31 products or
// neighbours, followed by some bytes of padding, allocate with the input,
// not with the claim, through every kind of reader.
func TestCdcHugeClaims(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	claims := map[string][]byte{}
	f := cdcBase()
	f.np = u32(1 << 31)
	claims["products 2^31"] = f.bytes()
	f = cdcBase()
	f.m = u64(1 << 31)
	f.rowLens = []uint32{1 << 30, 1 << 30, 0, 0}
	f.k = similarity.MaxIndexK
	claims["neighbours 2^31, rows to match"] = f.bytes()
	f = cdcBase()
	f.m = u64(math.MaxUint64)
	claims["neighbours max"] = f.bytes()
	f = cdcBase()
	f.np, f.m = u32(math.MaxUint32), u64(math.MaxUint64)
	claims["both max"] = f.bytes()
	pad := make([]byte, 256<<10) // zeros: supports 0, rows 0
	dir := t.TempDir()
	for name, c := range claims {
		for _, padded := range []bool{false, true} {
			data := c
			if padded {
				data = append(bytes.Clone(c[:len(c)-4]), pad...)
			}
			path := filepath.Join(dir, "claim.idx")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			readers := map[string]func() io.Reader{
				"sized":     func() io.Reader { return bytes.NewReader(data) },
				"plain":     func() io.Reader { return testdata.OnlyRead(bytes.NewReader(data)) },
				"one byte":  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
				"half":      func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
				"truncated": func() io.Reader { return io.LimitReader(bytes.NewReader(data), int64(len(data)/2)) },
			}
			for rname, r := range readers {
				var err error
				a := testdata.TotalAlloc(func() {
					require.NotPanics(t, func() { _, err = similarity.ReadIndex(r()) })
				})
				require.ErrorIs(t, err, similarity.ErrCorrupt, "%s, padded %v, %s reader", name, padded, rname)
				assert.Less(t, a, uint64(8*len(data)+4<<20), "%s, padded %v, %s reader: %d bytes allocated", name, padded, rname, a)
				assert.Less(t, a, uint64(64<<20))
			}
			a := testdata.TotalAlloc(func() {
				_, err := similarity.LoadIndex(path)
				require.ErrorIs(t, err, similarity.ErrCorrupt)
			})
			assert.Less(t, a, uint64(8*len(data)+4<<20), "%s, padded %v, file: %d bytes allocated", name, padded, a)
		}
	}
}

// TestCdcNothingPastItsEnd: "ReadIndex reads an index written by
// Index.WriteTo, and nothing past its end", so that indexes written one
// after the other read back one after the other, from any reader.
func TestCdcNothingPastItsEnd(t *testing.T) {
	idx := cdcIndexes(t, 1)
	a, b := idx["basket/lift"], idx["sequential/confidence"]
	stream := append(append(cdcEncode(t, a), cdcEncode(t, b)...), "tail"...)
	path := filepath.Join(t.TempDir(), "two.idx")
	require.NoError(t, os.WriteFile(path, stream, 0o644))
	readers := map[string]func() io.Reader{
		"bytes":    func() io.Reader { return bytes.NewReader(stream) },
		"plain":    func() io.Reader { return testdata.OnlyRead(bytes.NewReader(stream)) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"buffer":   func() io.Reader { return bytes.NewBuffer(bytes.Clone(stream)) },
		"stutter":  func() io.Reader { return testdata.Stutter(iotest.HalfReader(bytes.NewReader(stream))) },
		"file": func() io.Reader {
			f, err := os.Open(path)
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })
			return f
		},
	}
	for name, mk := range readers {
		r := mk()
		x, err := similarity.ReadIndex(r)
		require.NoError(t, err, name)
		cdcRequireSame(t, name, a, x)
		y, err := similarity.ReadIndex(r)
		require.NoError(t, err, name)
		cdcRequireSame(t, name, b, y)
		rest, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, "tail", string(rest), name)
	}
}

// TestCdcNilReader: a nil reader is an error, not a panic (STYLE: panics
// only for documented caller bugs).
func TestCdcNilReader(t *testing.T) {
	var x *similarity.Index
	var err error
	require.NotPanics(t, func() { x, err = similarity.ReadIndex(nil) })
	require.Error(t, err)
	assert.Nil(t, x)
}

// TestCdcReaders: data delivered with io.EOF reads; a reader that fails
// anywhere gives its error ("or the reader's error").
func TestCdcReaders(t *testing.T) {
	data := cdcBase().bytes()
	x, err := similarity.ReadIndex(iotest.DataErrReader(bytes.NewReader(data)))
	require.NoError(t, err)
	assert.Equal(t, data, cdcEncode(t, x))

	for n := 0; n < len(data); n += 1 + n/4 {
		x, err := similarity.ReadIndex(testdata.FailAfter(data, n, errCdcBoom))
		require.ErrorIs(t, err, errCdcBoom, "reader fails after %d bytes", n)
		require.Nil(t, x)
	}
	x, err = similarity.ReadIndex(iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(data))))
	require.ErrorIs(t, err, iotest.ErrTimeout)
	require.Nil(t, x)
}

// TestCdcWriteToFailingWriter: WriteTo returns the writer's error and the
// number of bytes it wrote, wherever the writer fails.
func TestCdcWriteToFailingWriter(t *testing.T) {
	data := cdcBase().bytes()
	x, err := similarity.ReadIndex(bytes.NewReader(data))
	require.NoError(t, err)
	for _, k := range []int{0, 1, 8, 12, 55, 56, 60, 80, len(data) - 4, len(data) - 1} {
		w := testdata.FailWriter(k, errCdcBoom)
		n, err := x.WriteTo(w)
		require.ErrorIs(t, err, errCdcBoom, "writer fails after %d bytes", k)
		assert.Equal(t, int64(k), n, "writer took %d bytes", k)
	}
}
