package similarity_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// onlyReader hides every method but Read, so that the decoder cannot
// learn how many bytes remain.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// allocs returns the bytes allocated by fn, the least of three runs: the
// process-wide count of one run can include a few KiB allocated outside
// fn (seen under the race detector after other tests), which would
// decide a bound of 8 KiB. fn must do the same on every run.
func allocs(fn func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestReadIndexCutAtEveryPrefix cuts a saved index at every byte, reads
// each prefix from memory, through a plain reader and from a file, and
// requires ErrCorrupt with allocation bounded by the prefix's size.
func TestReadIndexCutAtEveryPrefix(t *testing.T) {
	data := encode(t, smallIndex(t, similarity.Lift, similarity.Basket))
	dir := t.TempDir()
	var worst uint64
	// every prefix in the long suite, every fifth in the quick one
	for n := 0; n < len(data); n += testdata.Scale(1, 5) {
		prefix := data[:n]
		a := allocs(func() {
			_, err := similarity.ReadIndex(bytes.NewReader(prefix))
			require.ErrorIs(t, err, similarity.ErrCorrupt, "length %d", n)
		})
		worst = max(worst, a)
		require.LessOrEqual(t, a, uint64(4*n+8<<10), "length %d: %d bytes allocated", n, a)
		_, err := similarity.ReadIndex(onlyReader{bytes.NewReader(prefix)})
		require.ErrorIs(t, err, similarity.ErrCorrupt, "length %d, plain reader", n)
		path := filepath.Join(dir, "cut.idx")
		require.NoError(t, os.WriteFile(path, prefix, 0o644))
		_, err = similarity.LoadIndex(path)
		require.ErrorIs(t, err, similarity.ErrCorrupt, "length %d, file", n)
	}
	x, err := similarity.ReadIndex(bytes.NewReader(data))
	require.NoError(t, err)
	require.NotNil(t, x)
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "similarity index (ReadIndex, LoadIndex)", Cases: 3 * len(data),
		Outcome: fmt.Sprintf("every prefix of a %d-byte index rejected with ErrCorrupt; ≤ %d bytes allocated", len(data), worst)})
}

// craft returns a header claiming np products and m neighbours with K k,
// followed by tail and a valid checksum of everything.
func craft(np uint32, m uint64, k uint32, tail []byte) []byte {
	var b []byte
	b = append(b, "AFSIMIDX"...)
	b = binary.LittleEndian.AppendUint32(b, 1) // version
	b = binary.LittleEndian.AppendUint32(b, uint32(similarity.Lift))
	b = binary.LittleEndian.AppendUint32(b, uint32(similarity.Basket))
	b = binary.LittleEndian.AppendUint32(b, k)    // K
	b = binary.LittleEndian.AppendUint32(b, 1)    // min support
	b = binary.LittleEndian.AppendUint64(b, 0)    // shrinkage 0.0
	b = binary.LittleEndian.AppendUint64(b, 1000) // N
	b = binary.LittleEndian.AppendUint32(b, np)
	b = binary.LittleEndian.AppendUint64(b, m)
	b = append(b, tail...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// TestReadIndexCraftedHeader gives the decoder headers whose counts claim
// far more than the input holds: sized readers fail before allocating,
// plain readers fail having allocated a bounded amount.
func TestReadIndexCraftedHeader(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"max products and neighbours", craft(1<<32-1, 1<<32-1, 1<<31-1, nil)},
		{"max products, no neighbours", craft(1<<32-1, 0, 1, nil)},
		{"neighbours past the end", craft(4, 16, 4, make([]byte, 32))},
		{"supports past the end", craft(1<<20, 0, 1, make([]byte, 64))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := allocs(func() {
				x, err := similarity.ReadIndex(bytes.NewReader(tc.data))
				require.ErrorIs(t, err, similarity.ErrCorrupt)
				require.Nil(t, x)
			})
			assert.Less(t, a, uint64(16<<10), "sized reader: checked before allocating")
			a = allocs(func() {
				_, err := similarity.ReadIndex(onlyReader{bytes.NewReader(tc.data)})
				require.ErrorIs(t, err, similarity.ErrCorrupt)
			})
			assert.Less(t, a, uint64(2<<20), "plain reader: bounded preallocation")
			path := filepath.Join(t.TempDir(), "x.idx")
			require.NoError(t, os.WriteFile(path, tc.data, 0o644))
			a = allocs(func() {
				_, err := similarity.LoadIndex(path)
				require.ErrorIs(t, err, similarity.ErrCorrupt)
			})
			assert.Less(t, a, uint64(16<<10), "file: checked against its size")
		})
	}
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "similarity index with crafted counts (valid checksum)", Cases: 3 * len(cases),
		Outcome: "rejected with ErrCorrupt before allocating (sized readers, files) or after < 2 MiB (plain readers)"})
}

func TestIndexSaveAtomic(t *testing.T) {
	x := smallIndex(t, similarity.Jaccard, similarity.Customer)
	dir := t.TempDir()
	path := filepath.Join(dir, "neighbors.idx")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, x.Save(path))
	got, err := similarity.LoadIndex(path)
	require.NoError(t, err)
	requireSameIndex(t, x, got)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, encode(t, x), data)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	require.Error(t, x.Save(filepath.Join(dir, "missing", "x.idx")))
	_, err = similarity.LoadIndex(filepath.Join(dir, "missing.idx"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// FuzzLoadIndex saves arbitrary bytes as a file and loads it: the file
// path checks the header against the file's size, and must agree with
// the streaming decoder on every input.
func FuzzLoadIndex(f *testing.F) {
	f.Add(encode(f, smallIndex(f, similarity.Lift, similarity.Basket)))
	f.Add(craft(1<<32-1, 1<<32-1, 1<<31-1, nil))
	f.Add(craft(4, 16, 4, make([]byte, 32)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.idx")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		x, err := similarity.LoadIndex(path)
		y, err2 := similarity.ReadIndex(onlyReader{bytes.NewReader(data)})
		require.Equal(t, err == nil, err2 == nil, "file: %v, streaming: %v", err, err2)
		if err != nil {
			require.Nil(t, x)
			return
		}
		requireSameIndex(t, x, y)
	})
}
