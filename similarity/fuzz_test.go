package similarity_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/require"
)

// FuzzReadIndex feeds arbitrary bytes to the decoder: it must never panic,
// and whatever it accepts must re-encode to exactly the bytes it read.
func FuzzReadIndex(f *testing.F) {
	for _, m := range []similarity.Measure{similarity.Lift, similarity.Jaccard} {
		f.Add(encode(f, smallIndex(f, m, similarity.Basket)))
	}
	if golden, err := os.ReadFile(filepath.Join("testdata", "index_v1.golden")); err == nil {
		f.Add(golden)
	}
	f.Add([]byte("AFSIMIDX"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		x, err := similarity.ReadIndex(r)
		// A reader that cannot tell its size takes the streaming path,
		// which must agree.
		y, err2 := similarity.ReadIndex(onlyReader{bytes.NewReader(data)})
		require.Equal(t, err == nil, err2 == nil, "sized: %v, streaming: %v", err, err2)
		if err != nil {
			require.Nil(t, x)
			require.Nil(t, y)
			return
		}
		requireSameIndex(t, x, y)
		var buf bytes.Buffer
		_, err = x.WriteTo(&buf)
		require.NoError(t, err)
		require.Equal(t, data[:len(data)-r.Len()], buf.Bytes())
	})
}

// FuzzPartial feeds arbitrary bytes to the Partial decoder: it must never
// panic, and a Partial it accepts either makes no counts or ranks into
// indexes that read back.
func FuzzPartial(f *testing.F) {
	ps, np := realPartials(f, rand.New(rand.NewPCG(1, 52)))
	for _, p := range ps {
		enc, err := p.MarshalBinary()
		require.NoError(f, err)
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		requireIndexReadsBack(t, data, np)
	})
}

// FuzzMeasures checks ranges and symmetry of the count measures on any
// consistent counts.
func FuzzMeasures(f *testing.F) {
	f.Add(uint32(100), uint32(20), uint32(10), uint32(5), false)
	f.Add(uint32(1), uint32(1), uint32(1), uint32(1), false)
	f.Add(uint32(0), uint32(0), uint32(0), uint32(0), true)
	f.Add(uint32(1<<31), uint32(1<<30), uint32(1<<30), uint32(1), true)
	f.Fuzz(func(t *testing.T, n, a, b, ab uint32, directed bool) {
		// fold the inputs into consistent counts
		c := similarity.PairCount{N: int(n)}
		if c.N > 0 {
			c.A = int(a) % (c.N + 1)
			c.B = int(b) % (c.N + 1)
			lo := max(0, c.A+c.B-c.N)
			if directed {
				lo = 0
			}
			c.AB = lo + int(ab)%(min(c.A, c.B)-lo+1)
		}
		require.True(t, c.Consistent())
		checkMeasureInvariants(t, c)
	})
}

// FuzzSetMeasures checks the bitmap measures against the count measures
// and their ranges on sets drawn from the input bytes.
func FuzzSetMeasures(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{2, 3, 4}, uint16(7))
	f.Add([]byte{}, []byte{0}, uint16(0))
	f.Fuzz(func(t *testing.T, xs, ys []byte, stride uint16) {
		a, b := roaring.New(), roaring.New()
		for i, v := range xs {
			a.Add(uint32(v) + uint32(i)*uint32(stride))
		}
		for i, v := range ys {
			b.Add(uint32(v) + uint32(i)*uint32(stride))
		}
		pc := similarity.SetPair(a, b, 0)
		for m, f := range map[similarity.Measure]func(x, y *roaring.Bitmap) float64{
			similarity.Jaccard: similarity.SetJaccard, similarity.Dice: similarity.SetDice,
			similarity.Cosine: similarity.SetCosine, similarity.Overlap: similarity.SetOverlap,
		} {
			v := f(a, b)
			require.False(t, math.IsNaN(v))
			require.GreaterOrEqual(t, v, 0.0)
			require.LessOrEqual(t, v, 1.0)
			require.Equal(t, v, f(b, a), "%v symmetric", m)
			if pc.A > 0 && pc.B > 0 {
				require.Equal(t, m.Score(pc), v, "%v", m)
			}
		}
	})
}
