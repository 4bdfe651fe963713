package segment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// smallIndex builds an index of a random history with one named segment.
func smallIndex(t testing.TB, seed uint64, customers int) *segment.Index {
	t.Helper()
	h := randomHistory(t, rand.New(rand.NewPCG(seed, seed)), customers)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{HalfLife: 60 * segment.Day})
	require.NoError(t, err)
	vip, err := segment.Parse(`monetary >= 200 and recency <= 90d`)
	require.NoError(t, err)
	x, err = x.Define("vip", vip)
	require.NoError(t, err)
	x, err = x.Define("vip dept0", segment.And(segment.Segment("vip"), segment.Bought(segment.Category("Dept0"))))
	require.NoError(t, err)
	return x
}

func encode(t testing.TB, x *segment.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func TestSaveLoadKeepsEveryAnswer(t *testing.T) {
	x := smallIndex(t, 11, 700)
	path := filepath.Join(t.TempDir(), "segments.idx")
	require.NoError(t, x.Save(path))
	y, err := segment.Load(path)
	require.NoError(t, err)

	assert.Equal(t, x.AsOf(), y.AsOf())
	wo, go_ := x.Options(), y.Options()
	wo.Workers, go_.Workers = 0, 0
	assert.Equal(t, wo, go_, "a loaded index reports the options it was built with")
	assert.Equal(t, x.Len(), y.Len())
	assert.Equal(t, x.Segments(), y.Segments())
	assert.Equal(t, x.RFMTable(), y.RFMTable())
	assert.Equal(t, x.LifecycleTable(), y.LifecycleTable())
	assert.Equal(t, encode(t, x), encode(t, y), "decode then encode gives the same bytes")

	rng := rand.New(rand.NewPCG(1, 2))
	n := newNaive(randomHistory(t, rand.New(rand.NewPCG(11, 11)), 700), testAsOf, segment.Options{HalfLife: 60 * segment.Day})
	g := newExprGen(rng, n)
	for range 200 {
		src := g.expr(3).text()
		a, err := x.Query(src)
		require.NoError(t, err, src)
		b, err := y.Query(src)
		require.NoError(t, err, src)
		require.True(t, a.Equals(b), src)
	}
	a, err := x.Query(`segment("vip dept0")`)
	require.NoError(t, err)
	b, err := y.Query(`segment("vip dept0")`)
	require.NoError(t, err)
	assert.True(t, a.Equals(b))
	assert.False(t, a.IsEmpty())
}

func TestDecodeRejectsDamage(t *testing.T) {
	x := smallIndex(t, 12, 300)
	good := encode(t, x)
	_, err := decode(good)
	require.NoError(t, err)

	// truncations all along the file (500 in the long suite, 50 in the
	// quick one: each decode copies the file, of some 200 KB)
	for n := 0; n < len(good); n += 1 + len(good)/testdata.Scale(500, 50) {
		_, err := decode(good[:n])
		require.ErrorIs(t, err, segment.ErrCorrupt, "truncated to %d", n)
	}
	// single flipped bits anywhere
	rng := rand.New(rand.NewPCG(3, 4))
	bad := make([]byte, len(good)) // rewritten by every flip
	for range testdata.Scale(300, 50) {
		copy(bad, good)
		i := rng.IntN(len(bad))
		bad[i] ^= 1 << rng.IntN(8)
		_, err := decode(bad)
		require.ErrorIs(t, err, segment.ErrCorrupt, "bit flip at %d", i)
	}
	// appended garbage, another version, another file
	_, err = decode(append(bytes.Clone(good), 0))
	require.ErrorIs(t, err, segment.ErrCorrupt)
	v2 := bytes.Clone(good)
	binary.LittleEndian.PutUint32(v2[8:], 4)
	_, err = decode(v2)
	require.ErrorIs(t, err, segment.ErrCorrupt)
	assert.Contains(t, err.Error(), "unsupported version 4")
	_, err = decode([]byte("PK\x03\x04 this is a zip file, not an index"))
	require.ErrorIs(t, err, segment.ErrCorrupt)
}

// decode reads an index from bytes.
func decode(data []byte) (*segment.Index, error) {
	return segment.ReadIndex(bytes.NewReader(data))
}

// reseal replaces the body of an index file and fixes its length and
// checksum, so that the body decoder itself is tested. The header's flags
// are 0: no NonMerchandise set, and the options as stored taken as given.
func reseal(body []byte) []byte { return resealTo(nil, body) }

// resealTo is reseal into dst's memory (its contents are lost), for the
// tests that reseal many bodies one after the other.
func resealTo(dst, body []byte) []byte {
	out := append(append(dst[:0], "AFSEGIDX\x03\x00\x00\x00\x00\x00\x00\x00"...), body...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, "AFSX"...)
}

func TestDecodeValidatesTheBody(t *testing.T) {
	t.Parallel()
	good := encode(t, smallIndex(t, 13, 200))
	body := good[16 : len(good)-16]
	sealed := reseal(body)
	require.Equal(t, good[:12], sealed[:12], "the documented layout")
	require.Equal(t, good[16:], sealed[16:], "the documented layout")
	rng := rand.New(rand.NewPCG(5, 6))
	rejected, trials := 0, testdata.Scale(2000, 80)
	// one damaged body and one file, rewritten by every trial (ReadIndex
	// reads the file into memory of its own)
	bad := make([]byte, len(body))
	var file []byte
	for range trials {
		copy(bad, body)
		for range 1 + rng.IntN(3) {
			bad[rng.IntN(len(bad))] = byte(rng.IntN(256))
		}
		file = resealTo(file, bad)
		x, err := decode(file)
		if err != nil {
			require.ErrorIs(t, err, segment.ErrCorrupt)
			rejected++
			continue
		}
		// a change that still decodes must still encode to what was read
		assert.Equal(t, file, encode(t, x))
	}
	assert.Greater(t, rejected, trials/2)
	for n := 0; n < len(body); n += 1 + len(body)/testdata.Scale(300, 30) {
		file = resealTo(file, body[:n])
		_, err := decode(file)
		require.ErrorIs(t, err, segment.ErrCorrupt, "body truncated to %d", n)
	}
}

func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "segments.idx")
	x := smallIndex(t, 14, 100)
	require.NoError(t, x.Save(path))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// a failing save (the target is a non-empty directory, so the final
	// rename fails) leaves no temporary file behind
	blocked := filepath.Join(dir, "blocked")
	require.NoError(t, os.MkdirAll(filepath.Join(blocked, "x"), 0o755))
	require.Error(t, x.Save(blocked))
	// a save into a missing directory fails before writing anything
	require.Error(t, x.Save(filepath.Join(dir, "missing", "segments.idx")))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"segments.idx", "blocked"}, names)

	// overwriting replaces the whole file
	y := smallIndex(t, 15, 120)
	require.NoError(t, y.Save(path))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotEqual(t, before, after)
	_, err = decode(after)
	require.NoError(t, err)

	_, err = segment.Load(filepath.Join(dir, "missing.idx"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
