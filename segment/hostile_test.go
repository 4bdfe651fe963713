package segment_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// exactIndex is tinyIndex's history built without a half-life, so that the
// file holds the exact share columns too.
func exactIndex(t testing.TB) *segment.Index {
	x := tinyIndex(t)
	require.True(t, x.Options().HalfLife == 0)
	return x
}

// allocated returns the bytes allocated while running f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeEveryPrefix cuts an index file at every length, as a crash
// during a non-atomic copy would, and the body at every length with a
// valid checksum: every cut is an error wrapping ErrCorrupt.
func TestDecodeEveryPrefix(t *testing.T) {
	t.Parallel()
	good := encode(t, exactIndex(t))
	body := good[16 : len(good)-16]
	step := testdata.Scale(1, 13) // 13: still every alignment of a 4- and 8-byte field
	if raceEnabled {
		step = 7
	}
	cases := 0
	for n := 0; n < len(good); n += step {
		cases++
		_, err := decode(good[:n])
		require.ErrorIs(t, err, segment.ErrCorrupt, "file cut at %d", n)
	}
	var file []byte // rewritten by every cut
	for n := 0; n < len(body); n += step {
		cases++
		file = resealTo(file, body[:n])
		_, err := decode(file)
		require.ErrorIs(t, err, segment.ErrCorrupt, "body cut at %d", n)
	}
	reliability.Add(t, reliability.Record{Kind: "cut", Subject: "segment index (ReadIndex, Load)",
		Cases:   cases,
		Outcome: fmt.Sprintf("%s of a %d-byte index, and of its body resealed with a valid checksum, rejected with ErrCorrupt", every(step, "prefix"), len(good))})
}

// every says which cuts a loop stepping by step took: "every prefix" or
// "every 7th prefix".
func every(step int, what string) string {
	if step == 1 {
		return "every " + what
	}
	return fmt.Sprintf("every %dth %s", step, what)
}

// TestCraftedCountsAllocateLittle writes a count of millions over every
// offset of a valid body and reseals it, so that the checksum holds: each
// such file must fail or decode without allocating more than a small
// multiple of its size.
func TestCraftedCountsAllocateLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes a few thousand crafted files")
	}
	good := encode(t, exactIndex(t))
	body := good[16 : len(good)-16]
	worst, worstAt := uint64(0), 0
	// one crafted body and one file, rewritten for every offset (ReadIndex
	// reads the file into memory of its own)
	bad := make([]byte, len(body))
	var file []byte
	cases := 0
	// every offset in the long suite, every thirteenth in the quick one
	// (which still takes every alignment of a 4-byte count)
	for i := 0; i+4 <= len(body); i += testdata.Scale(1, 13) {
		for _, claim := range []uint32{5_000_000} {
			cases++
			copy(bad, body)
			binary.LittleEndian.PutUint32(bad[i:], claim)
			file = resealTo(file, bad)
			var err error
			n := allocated(func() { _, err = decode(file) })
			if err != nil {
				require.ErrorIs(t, err, segment.ErrCorrupt)
			}
			if n > worst {
				worst, worstAt = n, i
			}
		}
	}
	// decoding the good file itself, for scale
	base := allocated(func() { _, _ = decode(good) })
	t.Logf("file %d bytes, decoding it allocates %d; worst crafted count at body offset %d allocated %d bytes", len(good), base, worstAt, worst)
	require.Less(t, worst, 4*base+(1<<20), "a crafted count allocated %d bytes (good file: %d)", worst, base)
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "segment index with a crafted count at every offset (valid checksum)",
		Cases: cases, Outcome: fmt.Sprintf("each rejected with ErrCorrupt or decoded; ≤ %d bytes allocated (the good %d-byte file: %d)", worst, len(good), base)})
}

func TestBuildOfExactIndexRoundTrips(t *testing.T) {
	x := exactIndex(t)
	y, err := decode(encode(t, x))
	require.NoError(t, err)
	for _, q := range []string{`affinity("Apparel") >= 0.5`, `lift("Home") > 1`, `itemshare("Apparel/Tops") = 0.4`} {
		a, err := x.Query(q)
		require.NoError(t, err)
		b, err := y.Query(q)
		require.NoError(t, err)
		require.Equal(t, a.ToArray(), b.ToArray(), q)
	}
}
