package roaringio_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

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
	for range testdata.Scale(200, 40) {
		ids := randomIDs(rng)
		got := roaringio.FromSorted(&w, ids)
		if !roaring.BitmapOf(ids...).Equals(got) {
			t.Fatalf("FromSorted of %d ids: a bitmap of %d differing from roaring's", len(ids), got.GetCardinality())
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("roaring's Validate: %v", err)
		}
		// the writer's bitmaps serialize to bytes that Validate accepts
		var buf bytes.Buffer
		_, err := got.WriteTo(&buf)
		if err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		if err := roaringio.Validate(buf.Bytes()); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	}
}

func TestValidate(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range testdata.Scale(200, 40) {
		bm := roaring.BitmapOf(randomIDs(rng)...)
		if rng.IntN(2) == 0 {
			bm.RunOptimize()
		}
		var buf bytes.Buffer
		_, err := bm.WriteTo(&buf)
		if err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		good := buf.Bytes()
		if err := roaringio.Validate(good); err != nil {
			t.Fatalf("roaring's own serialization: %v", err)
		}
		// every truncation is rejected
		for n := 0; n < len(good); n += 1 + len(good)/50 {
			if roaringio.Validate(good[:n]) == nil {
				t.Fatalf("cut at %d of %d: no error", n, len(good))
			}
		}
		// damage: whatever Validate accepts, roaring reads back to a valid bitmap
		for range 20 {
			bad := bytes.Clone(good)
			bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
			if roaringio.Validate(bad) == nil {
				var back roaring.Bitmap
				_, err := back.ReadFrom(bytes.NewReader(bad))
				if err != nil {
					t.Fatalf("ReadFrom of bytes Validate accepted: %v", err)
				}
				if err := back.Validate(); err != nil {
					t.Fatalf("roaring's Validate of bytes Validate accepted: %v", err)
				}
			}
		}
	}
	if roaringio.Validate(append(bytes.Clone([]byte{0x3a, 0x30, 0, 0, 0, 0, 0, 0}), 0)) == nil {
		t.Fatal("trailing byte: no error")
	}
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
	if least := 5; small < least {
		t.Fatalf("too few bitmaps of a buffer of their own: %d, want at least %d", small, least)
	}
	if least := 5; len(got)-small < least {
		t.Fatalf("too few bitmaps copied out: %d, want at least %d", len(got)-small, least)
	}

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
		if !roaring.BitmapOf(ids[i]...).Equals(bm) {
			t.Fatalf("bitmap %d changed after later builds: %d values, want %d", i, bm.GetCardinality(), len(ids[i]))
		}
		// a derived bitmap shares bm's containers; changing it leaves bm
		d := roaring.Or(bm, roaring.New())
		for _, c := range ids[i] {
			if rng.IntN(4) == 0 {
				d.Remove(c)
			}
		}
		d.Add(uint32(rng.IntN(24<<16) + 1))
		if !roaring.BitmapOf(ids[i]...).Equals(bm) {
			t.Fatalf("changing a derived bitmap changed bitmap %d: %d values, want %d", i, bm.GetCardinality(), len(ids[i]))
		}
		// and changing bm leaves what was derived before
		keep := d.Clone()
		if len(ids[i]) > 0 {
			bm.Remove(ids[i][0])
		}
		bm.Add(7 << 16)
		if !keep.Equals(d) {
			t.Fatalf("changing bitmap %d changed one derived from it: %d values, want %d", i, d.GetCardinality(), keep.GetCardinality())
		}
		if err := bm.Validate(); err != nil {
			t.Fatalf("bitmap %d: roaring's Validate: %v", i, err)
		}
	}
}
