package roaringio_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/roaringio"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// randomIDs returns sorted distinct ids: empty, sparse, dense (bitset
// containers) and runs, over several containers.
func randomIDs(rng *rand.Rand) []uint32 {
	set := map[uint32]bool{}
	for range rng.IntN(4) {
		key := uint32(rng.IntN(6)) << 16
		switch rng.IntN(3) {
		case 0: // sparse
			for range rng.IntN(100) {
				set[key|uint32(rng.IntN(1<<16))] = true
			}
		case 1: // dense: a bitset container
			for range 4097 + rng.IntN(30_000) {
				set[key|uint32(rng.IntN(1<<16))] = true
			}
		default: // a run
			start := uint32(rng.IntN(1 << 15))
			for i := range uint32(rng.IntN(20_000)) {
				set[key|(start+i)] = true
			}
		}
	}
	ids := make([]uint32, 0, len(set))
	for c := range set {
		ids = append(ids, c)
	}
	slices.Sort(ids)
	return ids
}

func TestWriterMatchesRoaring(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var w roaringio.Writer
	for range testdata.Scale(200, 20) {
		ids := randomIDs(rng)
		got := roaringio.FromSorted(&w, ids)
		require.True(t, roaring.BitmapOf(ids...).Equals(got))
		require.NoError(t, got.Validate())
		// the writer's bitmaps serialize to bytes that Validate accepts
		var buf bytes.Buffer
		_, err := got.WriteTo(&buf)
		require.NoError(t, err)
		require.NoError(t, roaringio.Validate(buf.Bytes()))
	}
}

func TestValidate(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range testdata.Scale(200, 20) {
		bm := roaring.BitmapOf(randomIDs(rng)...)
		if rng.IntN(2) == 0 {
			bm.RunOptimize()
		}
		var buf bytes.Buffer
		_, err := bm.WriteTo(&buf)
		require.NoError(t, err)
		good := buf.Bytes()
		require.NoError(t, roaringio.Validate(good), "roaring's own serialization")
		// every truncation is rejected
		for n := 0; n < len(good); n += 1 + len(good)/50 {
			require.Error(t, roaringio.Validate(good[:n]), "cut at %d of %d", n, len(good))
		}
		// damage: whatever Validate accepts, roaring reads back to a valid bitmap
		for range 20 {
			bad := bytes.Clone(good)
			bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
			if roaringio.Validate(bad) == nil {
				var back roaring.Bitmap
				_, err := back.ReadFrom(bytes.NewReader(bad))
				require.NoError(t, err)
				require.NoError(t, back.Validate())
			}
		}
	}
	require.Error(t, roaringio.Validate(append(bytes.Clone([]byte{0x3a, 0x30, 0, 0, 0, 0, 0, 0}), 0)), "trailing byte")
}

// TestFinishedBitmapsStayTheirOwn checks what Finish's shared buffers
// must not break: a bitmap keeps its values while the writer builds the
// next ones, changing a bitmap or one derived from it (which shares its
// copy-on-write containers) changes no other, and reading bitmaps from
// several goroutines at once writes nothing (run with -race). Both the
// bitmaps read from a buffer of their own and the larger ones copied out
// of the writer's are among them.
func TestFinishedBitmapsStayTheirOwn(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	var w roaringio.Writer
	var ids [][]uint32
	var got []*roaring.Bitmap
	small := 0
	for i := range testdata.Scale(120, 30) {
		v := randomIDs(rng)
		if i%3 == 0 { // more containers: over 32 KiB serialized
			for k := range uint32(4 + rng.IntN(12)) {
				for range 5000 {
					v = append(v, (k+8)<<16|uint32(rng.IntN(1<<16)))
				}
			}
			slices.Sort(v)
			v = slices.Compact(v)
		}
		ids = append(ids, v)
		got = append(got, roaringio.FromSorted(&w, v))
		if got[len(got)-1].GetSerializedSizeInBytes() <= 32<<10 {
			small++
		}
	}
	require.GreaterOrEqual(t, small, 5, "too few bitmaps of a buffer of their own")
	require.GreaterOrEqual(t, len(got)-small, 5, "too few bitmaps copied out")

	// readers on several goroutines at once, sharing containers
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := 1; i < len(got); i++ {
				u := roaring.Or(got[i-1], got[i])
				u.Or(got[i])
				_ = roaring.AndNot(u, got[i-1]).GetCardinality()
			}
		})
	}
	wg.Wait()

	for i, bm := range got {
		require.True(t, roaring.BitmapOf(ids[i]...).Equals(bm), "bitmap %d changed after later builds", i)
		// a derived bitmap shares bm's containers; changing it leaves bm
		d := roaring.Or(bm, roaring.New())
		for _, c := range ids[i] {
			if rng.IntN(4) == 0 {
				d.Remove(c)
			}
		}
		d.Add(uint32(rng.IntN(24<<16) + 1))
		require.True(t, roaring.BitmapOf(ids[i]...).Equals(bm), "changing a derived bitmap changed bitmap %d", i)
		// and changing bm leaves what was derived before
		keep := d.Clone()
		if len(ids[i]) > 0 {
			bm.Remove(ids[i][0])
		}
		bm.Add(7 << 16)
		require.True(t, keep.Equals(d), "changing bitmap %d changed one derived from it", i)
		require.NoError(t, bm.Validate())
	}
}
