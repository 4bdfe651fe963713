package segment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// Adversarial tests of the index file (Index.WriteTo, ReadIndex, Load),
// written against the package documentation: "Load and ReadIndex reject
// truncated, damaged or foreign files with ErrCorrupt and validate every
// bitmap and id", "ReadIndex never returns a partly decoded index".

const cdcGolden = "testdata/tiny.idx"

// errCdcBoom is the error of the failing readers and writers.
var errCdcBoom = errors.New("cdc: boom")

// cdcReseal wraps body in the header of file good and a trailer of the
// body's length, CRC-32C and end mark (the layout of the golden file), so
// that the checksum holds and the body decoder itself is attacked.
func cdcReseal(dst, good, body []byte) []byte {
	out := append(append(dst[:0], good[:16]...), body...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, good[len(good)-4:]...)
}

func cdcGoldenFile(t testing.TB) []byte {
	t.Helper()
	good, err := os.ReadFile(filepath.FromSlash(cdcGolden))
	require.NoError(t, err)
	require.Equal(t, good, cdcReseal(nil, good, good[16:len(good)-16]), "layout of the golden file")
	return good
}

// TestCdcNilReader: a nil reader is a clear error, never a panic (STYLE:
// panics only for documented caller bugs; LoadAttributes of this package
// documents a nil reader as an error matching affinity.ErrNilArgument).
func TestCdcNilReader(t *testing.T) {
	var x *segment.Index
	var err error
	require.NotPanics(t, func() { x, err = segment.ReadIndex(nil) })
	require.Error(t, err)
	assert.Nil(t, x)
	assert.ErrorIs(t, err, affinity.ErrNilArgument)
}

// TestCdcReaderShapes: a reader may return any number of bytes per call,
// data together with io.EOF, or (0, nil) now and then; the index read is
// the same. A file positioned after other data is read from there.
func TestCdcReaderShapes(t *testing.T) {
	good := cdcGoldenFile(t)
	for _, tc := range []struct {
		name string
		r    func() io.Reader
	}{
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(good)) }},
		{"half reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(good)) }},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(good)) }},
		{"stutters", func() io.Reader { return testdata.Stutter(iotest.HalfReader(bytes.NewReader(good))) }},
		{"plain reader", func() io.Reader { return testdata.OnlyRead(bytes.NewReader(good)) }},
		{"buffer", func() io.Reader { return bytes.NewBuffer(bytes.Clone(good)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := segment.ReadIndex(tc.r())
			require.NoError(t, err)
			assert.Equal(t, good, encode(t, x))
		})
	}
	t.Run("file at an offset", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "prefixed.idx")
		require.NoError(t, os.WriteFile(path, append([]byte("some other header"), good...), 0o644))
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Seek(int64(len("some other header")), io.SeekStart)
		require.NoError(t, err)
		x, err := segment.ReadIndex(f)
		require.NoError(t, err)
		assert.Equal(t, good, encode(t, x))
	})
}

// TestCdcReaderErrors: a reader that fails anywhere in the file, even
// after the last byte, makes ReadIndex fail with an error that says why
// (wrapping the reader's error), and no index.
func TestCdcReaderErrors(t *testing.T) {
	good := cdcGoldenFile(t)
	for _, n := range []int{0, 1, 8, 15, 16, 17, 100, len(good) / 2, len(good) - 16, len(good) - 1, len(good)} {
		x, err := segment.ReadIndex(testdata.FailAfter(good, n, errCdcBoom))
		require.Error(t, err, "reader fails after %d bytes", n)
		assert.Nil(t, x)
		assert.ErrorIs(t, err, errCdcBoom, "after %d bytes: the reader's error is lost: %v", n, err)
	}
	x, err := segment.ReadIndex(iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(good))))
	require.Error(t, err)
	assert.Nil(t, x)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

// TestCdcFramingAttacks: damage to the frame of the file (magic, version,
// length, checksum, end mark, what follows) is ErrCorrupt, and a small
// hostile file allocates little.
func TestCdcFramingAttacks(t *testing.T) {
	good := cdcGoldenFile(t)
	n := len(good)
	set := func(off int, v []byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", good[:1]},
		{"magic only", good[:8]},
		{"header only", good[:16]},
		{"header and trailer, no body", append(bytes.Clone(good[:16]), good[n-16:]...)},
		{"lower-case magic", append(bytes.ToLower(good[:8]), good[8:]...)},
		{"similarity magic", set(0, []byte("AFSIMIDX"))},
		{"version 0", set(8, u32(0))},
		{"version 2", set(8, u32(2))},
		{"version max", set(8, u32(1<<32-1))},
		{"reserved header bytes", set(12, u32(1<<31))},
		{"length 0", set(n-16, u64(0))},
		{"length one less", set(n-16, u64(uint64(n-32-1)))},
		{"length one more", set(n-16, u64(uint64(n-32+1)))},
		{"length 2^31", set(n-16, u64(1<<31))},
		{"length 2^63", set(n-16, u64(1<<63))},
		{"length max", set(n-16, u64(1<<64-1))},
		{"checksum", set(n-8, u32(^binary.LittleEndian.Uint32(good[n-8:])))},
		{"end mark", set(n-4, []byte("AFSY"))},
		{"no end mark", good[:n-4]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"trailing end mark", append(bytes.Clone(good), good[n-4:]...)},
		{"two files", append(bytes.Clone(good), good...)},
		{"leading byte", append([]byte{0}, good...)},
		{"zeros", make([]byte, n)},
	}
	for _, tc := range cases {
		for _, plain := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(tc.data)
			if plain {
				r = testdata.OnlyRead(r)
			}
			var x *segment.Index
			var err error
			a := testdata.TotalAlloc(func() {
				require.NotPanics(t, func() { x, err = segment.ReadIndex(r) }, tc.name)
			})
			require.ErrorIs(t, err, segment.ErrCorrupt, "%s (plain reader %v)", tc.name, plain)
			assert.Nil(t, x, tc.name)
			assert.Less(t, a, uint64(4*len(good)+1<<20), "%s: %d bytes allocated", tc.name, a)
		}
	}
	// the same through a file
	dir := t.TempDir()
	for i, tc := range cases {
		path := filepath.Join(dir, fmt.Sprintf("case%d.idx", i))
		require.NoError(t, os.WriteFile(path, tc.data, 0o644))
		x, err := segment.Load(path)
		require.ErrorIs(t, err, segment.ErrCorrupt, tc.name)
		assert.Nil(t, x)
	}
	_, err := segment.Load(dir)
	require.Error(t, err, "a directory is no index")
}

// TestCdcCraftedClaims writes counts that claim 2^31 and 2^32−1 records
// (as 32-bit and 64-bit integers and as a uvarint) over offsets of a
// valid body and reseals it, so that the checksum holds: each file is
// rejected with ErrCorrupt or decodes into an index that writes the same
// bytes, and none allocates more than a small multiple of its size (the
// quick suite's TestCraftedCountsAllocateLittle writes 5,000,000 at every
// thirteenth offset; these take other offsets and larger claims). The
// long suite takes every 19th offset, the quick one every 38th (which
// still cycles through every claim).
func TestCdcCraftedClaims(t *testing.T) {
	good := cdcGoldenFile(t)
	body := good[16 : len(good)-16]
	base := testdata.TotalAlloc(func() {
		_, err := segment.ReadIndex(bytes.NewReader(good))
		require.NoError(t, err)
	})
	claims := [][]byte{
		binary.LittleEndian.AppendUint32(nil, 1<<31),
		binary.LittleEndian.AppendUint32(nil, 1<<32-1),
		binary.LittleEndian.AppendUint64(nil, 1<<40),
		binary.AppendUvarint(nil, 1<<31),
		binary.AppendUvarint(nil, 1<<63),
	}
	bad := make([]byte, len(body))
	var file []byte
	worst, worstAt, decoded, cases := uint64(0), 0, 0, 0
	for i := 3; i < len(body); i += testdata.Scale(19, 38) {
		c := claims[(i/19)%len(claims)]
		if i+len(c) > len(body) {
			continue
		}
		copy(bad, body)
		copy(bad[i:], c)
		file = cdcReseal(file, good, bad)
		var x *segment.Index
		var err error
		a := testdata.TotalAlloc(func() { x, err = segment.ReadIndex(bytes.NewReader(file)) })
		cases++
		if a > worst {
			worst, worstAt = a, i
		}
		if err != nil {
			require.ErrorIs(t, err, segment.ErrCorrupt, "claim %x at body offset %d", c, i)
			require.Nil(t, x)
			continue
		}
		decoded++
		require.Equal(t, file, encode(t, x), "claim %x at %d decoded, but writes other bytes", c, i)
	}
	t.Logf("%d crafted files, %d decoded; good file allocates %d, worst %d at body offset %d", cases, decoded, base, worst, worstAt)
	require.Less(t, worst, 4*base+1<<20, "a crafted claim at body offset %d allocated %d bytes", worstAt, worst)
	require.Less(t, worst, uint64(64<<20))
}

// cdcOptions are option sets that change what the file holds.
func cdcOptions() []segment.Options {
	return []segment.Options{
		{},
		{HalfLife: 45 * segment.Day},
		{RFMScoring: segment.RFMNTile, TopN: 1, LoyalOrders: 2},
		{Lookback: affinity.AllTime, TopN: 64, LapseAfter: 30 * segment.Day, ChurnAfter: 90 * segment.Day},
		{Lookback: affinity.Days(100), RFMRules: []segment.RFMRule{
			{Name: "best", R: segment.ScoreRange{Min: 4, Max: 5}, M: segment.ScoreRange{Min: 5, Max: 5}},
			{Name: "rest"},
		}},
	}
}

// cdcQueries returns queries over every kind of column of x.
func cdcQueries(x *segment.Index) []string {
	qs := []string{
		`all`, `none`, `recency between 14d and 28d`, `tenure > 100d`, `frequency >= 2`,
		`monetary >= $50`, `monetary < 0`, `aov < 20`, `rscore = 5`, `fscore >= 3`, `mscore <= 2`,
		`abandoned(30d)`, `abandoned(1d)`, `active between "2024-01-01" and "2024-06-30"`,
		`active between "2021-01-01" and "2022-12-31"`, `lifecycle("loyal") or lifecycle("churned")`,
		`lifecycle("new")`, `bought("p001")`, `viewed("p002" within 30d)`, `carted("p003")`,
	}
	for _, name := range x.RFMSegments() {
		qs = append(qs, fmt.Sprintf("rfm(%q)", name))
	}
	for _, name := range x.Segments() {
		qs = append(qs, fmt.Sprintf("segment(%q)", name))
	}
	cats := x.Categories()
	for i, c := range cats {
		if i%2 == 1 && i > 3 {
			continue
		}
		qs = append(qs,
			fmt.Sprintf("affinity(%q) >= 0.3", c), fmt.Sprintf("itemshare(%q) > 0.1", c),
			fmt.Sprintf("ordershare(%q) >= 50%%", c), fmt.Sprintf("lift(%q) > 1", c),
			fmt.Sprintf("recency(%q) <= 60d", c), fmt.Sprintf("rank(%q) = 1", c), fmt.Sprintf("top(%q, 1)", c),
			fmt.Sprintf("bought(%q)", c), fmt.Sprintf("viewed(%q within 30d)", c), fmt.Sprintf("carted(%q)", c))
	}
	return qs
}

// cdcSame requires y, read from x's file, to answer as x does.
func cdcSame(t *testing.T, msg string, x, y *segment.Index) {
	t.Helper()
	require.Equal(t, x.Len(), y.Len(), msg)
	require.Equal(t, x.NumCustomers(), y.NumCustomers(), msg)
	assert.True(t, x.AsOf().Equal(y.AsOf()), msg)
	wo, got := x.Options(), y.Options()
	wo.Workers, got.Workers = 0, 0
	assert.Equal(t, wo, got, msg)
	assert.Equal(t, x.Categories(), y.Categories(), msg)
	for _, c := range x.Categories() {
		ws, wok := x.PopulationShare(c)
		gs, gok := y.PopulationShare(c)
		assert.Equal(t, wok, gok, msg)
		assert.Equal(t, ws, gs, "%s: population share of %s", msg, c)
		wd, _ := x.CategoryDepth(c)
		gd, _ := y.CategoryDepth(c)
		assert.Equal(t, wd, gd, msg)
	}
	assert.Equal(t, x.RFMSegments(), y.RFMSegments(), msg)
	assert.Equal(t, x.RFMTable(), y.RFMTable(), msg)
	assert.Equal(t, x.LifecycleTable(), y.LifecycleTable(), msg)
	require.Equal(t, x.Segments(), y.Segments(), msg)
	for _, name := range x.Segments() {
		we, _ := x.Definition(name)
		ge, ok := y.Definition(name)
		require.True(t, ok, msg)
		assert.Equal(t, we.String(), ge.String(), msg)
	}
	all := x.All()
	require.True(t, all.Equals(y.All()), msg)
	assert.Equal(t, x.FeaturesOf(all), y.FeaturesOf(all), msg)
	assert.Equal(t, x.SortedKeys(all), y.SortedKeys(all), msg)
	for c := range x.NumCustomers() {
		id := affinity.CustomerID(c)
		require.Equal(t, x.CustomerKey(id), y.CustomerKey(id), msg)
		if c%7 == 0 {
			assert.Equal(t, x.Spend(id), y.Spend(id), msg)
			got, ok := y.LookupCustomer(x.CustomerKey(id))
			assert.True(t, ok, msg)
			assert.Equal(t, id, got, msg)
		}
	}
	wg, werr := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
	gg, gerr := y.ScoreGrid(segment.RScore(), segment.FScore(), nil)
	assert.Equal(t, werr, gerr, msg)
	assert.Equal(t, wg, gg, msg)
	for _, q := range cdcQueries(x) {
		a, aerr := x.Query(q)
		b, berr := y.Query(q)
		if aerr != nil {
			require.Error(t, berr, "%s: %s", msg, q)
			assert.Equal(t, aerr.Error(), berr.Error(), "%s: %s", msg, q)
			continue
		}
		require.NoError(t, berr, "%s: %s", msg, q)
		require.True(t, a.Equals(b), "%s: %s: %v vs %v", msg, q, a.ToArray(), b.ToArray())
	}
}

// TestCdcRoundTripOptions: indexes of random histories with options that
// change what the file holds read back into indexes that answer every
// question alike and write the same bytes again; the bytes do not depend
// on the number of workers.
func TestCdcRoundTripOptions(t *testing.T) {
	ctx := context.Background()
	for i, opts := range cdcOptions() {
		seed := uint64(40 + i)
		h := randomHistory(t, rand.New(rand.NewPCG(seed, 7)), 90)
		o1, o2 := opts, opts
		o1.Workers, o2.Workers = 1, 2
		x, err := segment.Build(ctx, h, testAsOf, o1)
		require.NoError(t, err)
		e, err := segment.Parse(`frequency >= 2 and not bought("p000")`)
		require.NoError(t, err)
		x, err = x.Define("regulars", e)
		require.NoError(t, err)
		x, err = x.Define("regulars & dept1", segment.And(segment.Segment("regulars"), segment.Bought(segment.Category("Dept1"))))
		require.NoError(t, err)
		data := encode(t, x)
		x2, err := segment.Build(ctx, h, testAsOf, o2)
		require.NoError(t, err)
		x2, err = x2.Define("regulars", e)
		require.NoError(t, err)
		x2, err = x2.Define("regulars & dept1", segment.And(segment.Segment("regulars"), segment.Bought(segment.Category("Dept1"))))
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, encode(t, x2)), "options %d: the file depends on the workers", i)
		require.True(t, bytes.Equal(data, encode(t, x)), "options %d: writing twice differs", i)

		y, err := segment.ReadIndex(bytes.NewReader(data))
		require.NoError(t, err)
		msg := fmt.Sprintf("options %d", i)
		cdcSame(t, msg, x, y)
		require.True(t, bytes.Equal(data, encode(t, y)), "%s: decode then encode differs", msg)
		// a loaded index takes new definitions like a built one
		z, err := y.Define("late", segment.Segment("regulars"))
		require.NoError(t, err)
		a, err := z.Query(`segment("late")`)
		require.NoError(t, err)
		b, err := x.Query(`segment("regulars")`)
		require.NoError(t, err)
		assert.True(t, a.Equals(b), msg)
	}
}

// TestCdcEmptyIndexes: an index of no customers (anonymous orders only)
// round-trips.
func TestCdcEmptyIndexes(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A/B"}}))
	for i := range 3 {
		require.NoError(t, b.Add(affinity.Purchase{Product: "p", Order: fmt.Sprint("o", i),
			Time: testAsOf.Add(-time.Duration(i) * segment.Day), Quantity: 1, Price: 10_000}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	require.Zero(t, x.Len())
	data := encode(t, x)
	y, err := segment.ReadIndex(bytes.NewReader(data))
	require.NoError(t, err)
	cdcSame(t, "empty", x, y)
	assert.Equal(t, data, encode(t, y))
}

// TestCdcAttributesAreNotSaved: "Attributes are not saved by
// Index.WriteTo: attach them again after loading."
func TestCdcAttributesAreNotSaved(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(51, 1)), 40)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	var a segment.Attributes
	for c := range 10 {
		require.NoError(t, a.SetFlag("optin", affinity.CustomerID(c), true))
	}
	xa, err := x.WithAttributes(&a)
	require.NoError(t, err)
	in, err := xa.Query(`flag("optin") = 1`)
	require.NoError(t, err)
	require.False(t, in.IsEmpty())
	data := encode(t, xa)
	assert.Equal(t, encode(t, x), data, "attributes leaked into the file")
	y, err := segment.ReadIndex(bytes.NewReader(data))
	require.NoError(t, err)
	_, err = y.Query(`flag("optin") = 1`)
	assert.Error(t, err, "a loaded index knows no attributes")
	ya, err := y.WithAttributes(&a)
	require.NoError(t, err)
	again, err := ya.Query(`flag("optin") = 1`)
	require.NoError(t, err)
	assert.True(t, in.Equals(again))
}

// TestCdcWriteToFailingWriter: WriteTo reports the writer's error and the
// number of bytes the writer took (io.WriterTo), wherever it fails.
func TestCdcWriteToFailingWriter(t *testing.T) {
	good := cdcGoldenFile(t)
	x, err := segment.ReadIndex(bytes.NewReader(good))
	require.NoError(t, err)
	for _, k := range []int{0, 1, 7, 8, 16, 100, len(good) / 3, len(good) - 16, len(good) - 5, len(good) - 1} {
		w := testdata.FailWriter(k, errCdcBoom)
		n, err := x.WriteTo(w)
		require.ErrorIs(t, err, errCdcBoom, "writer fails after %d bytes", k)
		assert.Equal(t, int64(k), n, "writer took %d bytes", k)
	}
	w := testdata.FailWriter(len(good), errCdcBoom)
	n, err := x.WriteTo(w)
	require.NoError(t, err)
	assert.Equal(t, int64(len(good)), n)
}

// TestCdcLoadedIndexConcurrentReaders: "An *Index is immutable after
// Build, Update or Load and safe for any number of concurrent readers",
// including the first calls, which decode columns and sort keys.
func TestCdcLoadedIndexConcurrentReaders(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(52, 2)), 120)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{Workers: 1})
	require.NoError(t, err)
	y, err := segment.ReadIndex(bytes.NewReader(encode(t, x)))
	require.NoError(t, err)
	qs := cdcQueries(x)
	want := make([][]uint32, len(qs))
	for i, q := range qs {
		b, err := x.Query(q)
		if err == nil {
			want[i] = b.ToArray()
		}
	}
	all := x.All()
	small := all.Clone()
	small.RemoveRange(10, uint64(x.NumCustomers()))
	wantF, wantK, wantS := x.FeaturesOf(all), x.SortedKeys(all), x.Stats("s", small)
	wantG, _ := x.ScoreGrid(segment.RScore(), segment.MScore(), nil)
	wantKey := x.CustomerKey(5)
	const workers = 4
	errs := make([][]string, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(format string, args ...any) { errs[g] = append(errs[g], fmt.Sprintf(format, args...)) }
			for j := range qs {
				i := (j + g*len(qs)/workers) % len(qs)
				b, err := y.Query(qs[i])
				if (err == nil) != (want[i] != nil) || (err == nil && !slices.Equal(b.ToArray(), want[i])) {
					fail("%s: %v", qs[i], err)
				}
				switch (i + g) % 5 {
				case 0:
					if !slices.Equal(y.SortedKeys(all), wantK) {
						fail("SortedKeys")
					}
				case 1:
					if s := y.Stats("s", small); s != wantS {
						fail("Stats %v != %v", s, wantS)
					}
				case 2:
					if gr, _ := y.ScoreGrid(segment.RScore(), segment.MScore(), nil); gr != wantG {
						fail("ScoreGrid")
					}
				case 3:
					if id, ok := y.LookupCustomer(wantKey); !ok || id != 5 {
						fail("LookupCustomer")
					}
				case 4:
					if f := y.FeaturesOf(all); !slices.Equal(f, wantF) {
						fail("FeaturesOf")
					}
				}
			}
		}()
	}
	wg.Wait()
	for g := range workers {
		assert.Empty(t, errs[g], "goroutine %d", g)
	}
}

// TestCdcPartDecodeLeavesPartUnchanged: "UnmarshalBinary ... On error p
// is unchanged", also for a Part that holds a decoded part.
func TestCdcPartDecodeLeavesPartUnchanged(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(53, 3)), 30)
	p, err := segment.BuildPart(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	data, err := p.MarshalBinary()
	require.NoError(t, err)
	var q segment.Part
	require.NoError(t, q.UnmarshalBinary(data))
	rng := rand.New(rand.NewPCG(9, 9))
	bads := [][]byte{nil, {}, data[:len(data)/2], append(bytes.Clone(data), 1)}
	for range 20 {
		d := bytes.Clone(data)
		d[rng.IntN(len(d))] ^= byte(1 + rng.IntN(255))
		bads = append(bads, d)
	}
	for i, bad := range bads {
		err := q.UnmarshalBinary(bad)
		require.ErrorIs(t, err, segment.ErrCorrupt, "case %d", i)
		require.Equal(t, p.Len(), q.Len(), "case %d", i)
		again, err := q.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, data, again, "case %d: a failed decode changed the Part", i)
	}
}

// TestCdcAcceptedDamageIsUsable: "Load and ReadIndex ... validate every
// bitmap and id", so that whatever decodes is an index like any other:
// damaged bodies (resealed, so that the checksum holds) that decode must
// answer every kind of question without panicking.
func TestCdcAcceptedDamageIsUsable(t *testing.T) {
	good := cdcGoldenFile(t)
	body := good[16 : len(good)-16]
	x, err := segment.ReadIndex(bytes.NewReader(good))
	require.NoError(t, err)
	qs := cdcQueries(x)
	rng := rand.New(rand.NewPCG(17, 71))
	bad := make([]byte, len(body))
	var file []byte
	decoded := 0
	for trial := range 400 {
		copy(bad, body)
		for range 1 + rng.IntN(2) {
			i := rng.IntN(len(bad))
			switch rng.IntN(3) {
			case 0:
				bad[i] ^= 1 << rng.IntN(8)
			case 1:
				bad[i] = byte(rng.IntN(256))
			default:
				bad[i]++
			}
		}
		file = cdcReseal(file, good, bad)
		y, err := segment.ReadIndex(bytes.NewReader(file))
		if err != nil {
			require.ErrorIs(t, err, segment.ErrCorrupt, "trial %d", trial)
			continue
		}
		decoded++
		require.NotPanics(t, func() {
			all := y.All()
			_ = y.FeaturesOf(all)
			_ = y.SortedKeys(all)
			_ = y.RFMTable()
			_ = y.LifecycleTable()
			_, _ = y.ScoreGrid(segment.RScore(), segment.FScore(), nil)
			_ = y.Stats("s", all)
			for c := range y.NumCustomers() {
				_, _ = y.Features(affinity.CustomerID(c))
				_ = y.Spend(affinity.CustomerID(c))
			}
			for _, q := range qs {
				_, _ = y.Query(q)
			}
			_ = y.WriteCSV(io.Discard, all)
		}, "trial %d decoded a damaged body that is not usable", trial)
	}
	t.Logf("%d of 400 damaged bodies decoded", decoded)
}
