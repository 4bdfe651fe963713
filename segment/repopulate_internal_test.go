package segment

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/bsi"
)

// TestPatchScoreColumnMatchesBuild moves random customers' scores in a
// score column and checks the patched column against one built from the
// new scores, and that the old column is left as it was: or that the
// patch declines exactly when the new scores change the column's base or
// width.
func TestPatchScoreColumnMatchesBuild(t *testing.T) {
	build := func(vals []uint8) attr {
		var ids []uint32
		for c, v := range vals {
			if v > 0 {
				ids = append(ids, uint32(c))
			}
		}
		return column(new(bsi.Builder), ids, nil, func(c uint32) int64 { return int64(vals[c]) }, false)
	}
	same := func(msg string, want, got attr) {
		require.True(t, want.exist.Equals(got.exist), "%s: presence", msg)
		require.Equal(t, want.v.Base, got.v.Base, "%s: base", msg)
		require.Len(t, got.v.Slices, len(want.v.Slices), "%s: slices", msg)
		for j := range want.v.Slices {
			require.True(t, want.v.Slices[j].Equals(got.v.Slices[j]), "%s: slice %d", msg, j)
		}
	}
	var patchedN, declined int
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 3))
		n := 1 + r.IntN(3000)
		// scores of a narrow or the full range, some customers unscored
		lo, hi := 1+r.IntN(5), 5
		hi = lo + r.IntN(hi-lo+1)
		score := func() uint8 {
			if r.IntN(8) == 0 {
				return 0
			}
			return uint8(lo + r.IntN(hi-lo+1))
		}
		oldV := make([]uint8, n)
		for c := range oldV {
			oldV[c] = score()
		}
		newV := append([]uint8(nil), oldV...)
		var chg []scoreChange
		for range r.IntN(n/4 + 2) {
			c := r.IntN(n)
			newV[c] = score()
			if seed%4 == 0 && r.IntN(20) == 0 {
				newV[c] = uint8(1 + r.IntN(5)) // perhaps out of the range
			}
		}
		for c := range n {
			if oldV[c] != newV[c] {
				var ch scoreChange
				ch.c, ch.old[1], ch.new[1] = uint32(c), oldV[c], newV[c]
				chg = append(chg, ch)
			}
		}
		old := build(oldV)
		if old.exist == nil || old.exist.IsEmpty() {
			continue
		}
		want := build(newV)
		nlo, nhi := uint8(6), uint8(0)
		for _, v := range newV {
			if v > 0 {
				nlo, nhi = min(nlo, v), max(nhi, v)
			}
		}
		before := build(oldV)
		got, ok := patchScoreColumn(old, chg, 1, nlo, nhi)
		msg := fmt.Sprintf("seed %d", seed)
		if !ok {
			declined++
			require.True(t, nlo > nhi || want.v.Base != old.v.Base || len(want.v.Slices) != len(old.v.Slices),
				"seed %d: declined a patch that keeps the base and width", seed)
			continue
		}
		patchedN++
		same(msg, want, got)
		same(msg+" (old column)", before, old)
	}
	t.Logf("%d patched, %d declined", patchedN, declined)
	require.Greater(t, patchedN, 150)
	require.Positive(t, declined)
}
