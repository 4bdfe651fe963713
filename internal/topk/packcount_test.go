package topk

import (
	"cmp"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// PackCount keys order as (count descending, id ascending) for every
// uint32 count, above 2^24 too, where float32 scores (Pack) tie, and
// Unpack gives the id back.
func TestPackCountOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(79, 24))
	count := func() uint32 {
		switch r.IntN(3) {
		case 0:
			return 1<<24 + r.Uint32N(4) // neighbours float32 cannot tell apart
		case 1:
			return ^uint32(0) - r.Uint32N(3)
		}
		return r.Uint32()
	}
	for range testdata.Scale(100_000, 10_000) {
		v1, v2, id1, id2 := count(), count(), r.Uint32N(8), r.Uint32N(8)
		want := cmp.Or(cmp.Compare(v2, v1), cmp.Compare(id1, id2))
		got := cmp.Compare(PackCount(v1, id1), PackCount(v2, id2))
		require.Equal(t, want, got, "(%d, %d) against (%d, %d)", v1, id1, v2, id2)
		_, id := Unpack(PackCount(v1, id1))
		require.Equal(t, id1, id)
	}
}
