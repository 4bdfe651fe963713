package bsi_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// columns returns n random strictly increasing column ids spread over
// several 2^16 chunks, dense in some and sparse in others, and a value
// for each in [base, base+span).
func columns(rng *rand.Rand, n int, base, span int64) ([]uint32, []int64) {
	seen := map[uint32]bool{}
	var ids []uint32
	for len(ids) < n {
		var c uint32
		if rng.IntN(2) == 0 {
			c = uint32(rng.IntN(5000)) // a dense first chunk
		} else {
			c = uint32(rng.IntN(4 << 16))
		}
		if !seen[c] {
			seen[c] = true
			ids = append(ids, c)
		}
	}
	slices.Sort(ids)
	vals := make([]int64, n)
	for i := range vals {
		vals[i] = base + rng.Int64N(span)
	}
	return ids, vals
}

// forms runs test with the comparisons in their bitmap form, their word
// form, and choosing between them by density.
func forms(t *testing.T, test func(t *testing.T)) {
	for _, f := range []struct {
		name string
		mode int
	}{{"bitmaps", -1}, {"words", 1}, {"chosen", 0}} {
		t.Run(f.name, func(t *testing.T) {
			defer bsi.SetWords(f.mode)()
			test(t)
		})
	}
}

// TestBSIMatchesNaive checks every operation against a map of values, for
// random columns, values (negative bases included), candidate sets and
// thresholds on, between and beyond the values, with the comparisons in
// each form.
func TestBSIMatchesNaive(t *testing.T) { forms(t, testBSIMatchesNaive) }

func testBSIMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var bb bsi.Builder
	for round := range testdata.Scale(60, 4) { // a multiple of 4: every base
		n := 1 + rng.IntN(6000)
		base := []int64{0, -37, 1 << 40, -(1 << 50)}[round%4]
		span := []int64{1, 2, 100, 10_001, 1 << 33}[rng.IntN(5)]
		ids, vals := columns(rng, n, base, span)
		x := bb.Build(ids, vals)
		value := map[uint32]int64{}
		for i, c := range ids {
			value[c] = vals[i]
		}
		all := roaring.BitmapOf(ids...)
		// Values decodes every column, and ValuesOf any of them: a few
		// per chunk (looked up) or many (decoded by chunks)
		require.Equal(t, vals, x.Values(nil, all), "round %d", round)
		for _, keep := range []int{1, 10, 100} {
			var sub []uint32
			var want []int64
			for i, c := range ids {
				if rng.IntN(100) < keep {
					sub, want = append(sub, c), append(want, vals[i])
				}
			}
			require.Equal(t, want, x.ValuesOf(nil, sub), "round %d, %d %% of the columns", round, keep)
		}
		xw := x.Words(uint32(ids[len(ids)-1]) + 1) // x's slices as words, read by every trial
		arr := func(b *roaring.Bitmap) []uint32 {
			if a := b.ToArray(); len(a) > 0 {
				return a
			}
			return nil
		}
		for range 20 {
			cand := roaring.New()
			for _, c := range ids {
				if rng.IntN(3) > 0 {
					cand.Add(c)
				}
			}
			tv := vals[rng.IntN(len(vals))] + int64(rng.IntN(5)) - 2
			if rng.IntN(8) == 0 {
				tv = base - 1 - rng.Int64N(10)
			}
			// the candidates and their values, looked up once
			candIDs := cand.ToArray()
			candVals := make([]int64, len(candIDs))
			for i, c := range candIDs {
				candVals[i] = value[c]
			}
			naive := func(keep func(v int64) bool) []uint32 {
				var out []uint32
				for i, c := range candIDs {
					if keep(candVals[i]) {
						out = append(out, c)
					}
				}
				return out
			}
			atLeast := naive(func(v int64) bool { return v >= tv })
			require.Equal(t, atLeast, arr(x.AtLeast(cand.Clone(), tv)), "≥ %d", tv)
			require.Equal(t, naive(func(v int64) bool { return v <= tv }), arr(x.AtMost(cand.Clone(), tv)), "≤ %d", tv)
			require.Equal(t, naive(func(v int64) bool { return v == tv }), arr(x.Equal(cand.Clone(), tv)), "= %d", tv)
			t2 := tv + []int64{0, 1, 2, 5, 1 << 12}[rng.IntN(5)]
			atLeast2 := naive(func(v int64) bool { return v >= t2 })
			g1, g2 := x.AtLeastPair(cand.Clone(), tv, t2)
			require.Equal(t, atLeast, arr(g1), "pair ≥ %d", tv)
			require.Equal(t, atLeast2, arr(g2), "pair ≥ %d", t2)
			// with the slices copied, and read from their words
			for _, words := range []*bsi.Words{nil, xw} {
				s2, between := x.AtLeastSplit(cand.Clone(), tv, t2, words)
				require.Equal(t, atLeast2, arr(s2), "split ≥ %d", t2)
				if len(between) == 0 {
					between = nil
				}
				require.Equal(t, naive(func(v int64) bool { return v >= tv && v < t2 }), between, "split [%d, %d)", tv, t2)
			}
			var sum int64
			for _, v := range candVals {
				sum += v
			}
			require.Equal(t, sum, x.Sum(cand))
		}
	}
}

func TestBuildEmptyAndConstant(t *testing.T) {
	var bb bsi.Builder
	x := bb.Build(nil, nil)
	require.Empty(t, x.Slices)
	x = bb.Build([]uint32{3, 9}, []int64{7, 7})
	require.Empty(t, x.Slices, "constant values need no slices")
	require.Equal(t, []uint32{3, 9}, x.AtLeast(roaring.BitmapOf(3, 9), 7).ToArray())
	require.True(t, x.AtLeast(roaring.BitmapOf(3, 9), 8).IsEmpty())
}

func TestAtLeastPairMatchesAtLeast(t *testing.T) { forms(t, testAtLeastPairMatchesAtLeast) }

func testAtLeastPairMatchesAtLeast(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var bb bsi.Builder
	for round := range testdata.Scale(200, 30) { // a multiple of 3: every base
		base := []int64{0, -5, 1 << 20}[round%3]
		ids, vals := columns(rng, 1+rng.IntN(3000), base, []int64{1, 3, 17, 10_001, 1 << 20}[rng.IntN(5)])
		x := bb.Build(ids, vals)
		cand := roaring.New()
		for _, c := range ids {
			if rng.IntN(4) > 0 {
				cand.Add(c)
			}
		}
		t1 := vals[rng.IntN(len(vals))] + int64(rng.IntN(7)) - 3
		if rng.IntN(6) == 0 {
			t1 = base - int64(rng.IntN(3))
		}
		t2 := t1 + int64(rng.IntN(6))
		if rng.IntN(6) == 0 {
			t2 = t1 + rng.Int64N(1<<22)
		}
		g1, g2 := x.AtLeastPair(cand.Clone(), t1, t2)
		require.Equal(t, x.AtLeast(cand.Clone(), t1).ToArray(), g1.ToArray(), "≥ %d", t1)
		require.Equal(t, x.AtLeast(cand.Clone(), t2).ToArray(), g2.ToArray(), "≥ %d", t2)
		before := cand.Clone()
		s2, between := x.AtLeastSplit(cand, t1, t2, x.Words(uint32(ids[len(ids)-1])+1))
		require.True(t, cand.Equals(before), "AtLeastSplit changed its candidates")
		_, _ = x.AtLeastSplit(cand, t1, t2, nil)
		require.True(t, cand.Equals(before), "AtLeastSplit changed its candidates")
		require.Equal(t, g2.ToArray(), s2.ToArray(), "split ≥ %d", t2)
		require.Equal(t, roaring.AndNot(g1, g2).ToArray(), append([]uint32{}, between...), "split [%d, %d)", t1, t2)
	}
}
