package topk

import (
	"cmp"
	"math/rand/v2"
	"slices"
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

// PushCount keeps the k largest counts, ties by the lower id: the first
// k of all the pairs sorted so.
func TestPushCountMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range testdata.Scale(2_000, 200) {
		n, k := 1+r.IntN(60), 1+r.IntN(12)
		type pair struct{ v, id uint32 }
		pairs := make([]pair, n)
		var keys Keys
		keys.Reset(k)
		for i := range pairs {
			pairs[i] = pair{1<<24 + r.Uint32N(5), uint32(i)} // ties, beyond float32's integers
			keys.PushCount(pairs[i].v, pairs[i].id)
		}
		slices.SortFunc(pairs, func(a, b pair) int { return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.id, b.id)) })
		got := keys.Sorted()
		require.Len(t, got, min(k, n))
		for i, key := range got {
			require.Equal(t, PackCount(pairs[i].v, pairs[i].id), key, "rank %d of %d, k %d", i, n, k)
		}
	}
}
