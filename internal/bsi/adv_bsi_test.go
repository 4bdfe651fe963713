package bsi_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/roaringio"
)

// advForms runs test with the comparisons in bitmap form, word form and
// chosen by density.
func advForms(t *testing.T, test func(t *testing.T, mode int)) {
	for _, f := range []struct {
		name string
		mode int
	}{{"bitmaps", -1}, {"words", 1}, {"chosen", 0}} {
		t.Run(f.name, func(t *testing.T) {
			defer bsi.SetWords(f.mode)()
			test(t, f.mode)
		})
	}
}

func advArr(b *roaring.Bitmap) []uint32 {
	if b == nil {
		return nil
	}
	if a := b.ToArray(); len(a) > 0 {
		return a
	}
	return nil
}

// advCheckAll compares every query of x against the naive model (ids,
// vals) for candidates cand and thresholds ts. words may be nil.
func advCheckAll(t *testing.T, x *bsi.BSI, ids []uint32, vals []int64, cand []uint32, ts []int64, words *bsi.Words) {
	t.Helper()
	value := make(map[uint32]int64, len(ids))
	for i, c := range ids {
		value[c] = vals[i]
	}
	naive := func(keep func(v int64) bool) []uint32 {
		var out []uint32
		for _, c := range cand {
			if keep(value[c]) {
				out = append(out, c)
			}
		}
		return out
	}
	cb := roaring.BitmapOf(cand...)
	var sum int64
	var want []int64
	for _, c := range cand {
		sum += value[c] // wraps like int64 arithmetic
		want = append(want, value[c])
	}
	assert.Equal(t, sum, x.Sum(cb.Clone()), "sum")
	gotVals := x.Values(nil, cb.Clone())
	if len(gotVals) == 0 {
		gotVals = nil
	}
	assert.Equal(t, want, gotVals, "Values")
	gotOf := x.ValuesOf(nil, cand)
	if len(gotOf) == 0 {
		gotOf = nil
	}
	assert.Equal(t, want, gotOf, "ValuesOf")
	for _, c := range cand {
		if !assert.Equal(t, value[c], x.Value(c), "Value(%d)", c) {
			break
		}
	}
	for _, t1 := range ts {
		assert.Equal(t, naive(func(v int64) bool { return v >= t1 }), advArr(x.AtLeast(cb.Clone(), t1)), "≥ %d", t1)
		assert.Equal(t, naive(func(v int64) bool { return v <= t1 }), advArr(x.AtMost(cb.Clone(), t1)), "≤ %d", t1)
		assert.Equal(t, naive(func(v int64) bool { return v == t1 }), advArr(x.Equal(cb.Clone(), t1)), "= %d", t1)
		for j, t2 := range ts {
			if t2 < t1 || (j%4 != 0 && t2 != t1 && j != len(ts)-1) {
				continue // t1 itself, the largest and a quarter of the rest
			}
			g1, g2 := x.AtLeastPair(cb.Clone(), t1, t2)
			assert.Equal(t, naive(func(v int64) bool { return v >= t1 }), advArr(g1), "pair ≥ %d (t2 %d)", t1, t2)
			assert.Equal(t, naive(func(v int64) bool { return v >= t2 }), advArr(g2), "pair ≥ %d (t1 %d)", t2, t1)
			for _, w := range []*bsi.Words{nil, words} {
				s2, between := x.AtLeastSplit(cb, t1, t2, w)
				assert.Equal(t, naive(func(v int64) bool { return v >= t2 }), advArr(s2), "split ≥ %d (t1 %d, words %v)", t2, t1, w != nil)
				if len(between) == 0 {
					between = nil
				}
				assert.Equal(t, naive(func(v int64) bool { return v >= t1 && v < t2 }), between, "split [%d, %d) words %v", t1, t2, w != nil)
				if w == nil && words == nil {
					break
				}
			}
		}
	}
	assert.Equal(t, cand, advArr(cb), "AtLeastSplit changed its candidates")
}

// advThresholds returns the thresholds around vals: each distinct value
// ±1, the extremes of int64 and around zero.
func advThresholds(vals []int64) []int64 {
	ts := []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64}
	for _, v := range vals {
		ts = append(ts, v)
		if v > math.MinInt64 {
			ts = append(ts, v-1)
		}
		if v < math.MaxInt64 {
			ts = append(ts, v+1)
		}
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// TestAdvExtremeValues: values at the ends of int64 and at bit-width
// boundaries, so that max - min needs all 64 bits, or just 2^k.
// (The columns near MaxUint32 are not tried in the forced word form,
// which would decode every column below them into words.)
func TestAdvExtremeValues(t *testing.T) { advForms(t, testAdvExtremeValues) }

func testAdvExtremeValues(t *testing.T, mode int) {
	cases := map[string][]int64{
		"full int64 range":    {math.MinInt64, math.MaxInt64, 0, -1, 1},
		"max only":            {math.MaxInt64, math.MaxInt64 - 1},
		"min only":            {math.MinInt64, math.MinInt64 + 1},
		"span 2^63":           {0, math.MaxInt64, 1 << 62},
		"span 2^63 negative":  {math.MinInt64, -1, -2},
		"span 2^32":           {0, 1 << 32, 1<<32 - 1, 1 << 31},
		"span 2^32 - 1":       {5, 5 + 1<<32 - 1, 6},
		"span 2^16 + 1":       {-7, -7 + 1<<16 + 1, -7 + 1<<16},
		"negative small":      {-3, -2, -1, -3},
		"single":              {42},
		"single min":          {math.MinInt64},
		"constant":            {9, 9, 9},
		"pow2 ladder":         {1, 2, 4, 8, 16, 1 << 20, 1 << 40, 1 << 62},
		"negative pow ladder": {-1, -2, -4, -(1 << 20), -(1 << 40), -(1 << 62), math.MinInt64},
	}
	idSets := map[string]func(n int) []uint32{
		"low": func(n int) []uint32 {
			ids := make([]uint32, n)
			for i := range ids {
				ids[i] = uint32(i * 3)
			}
			return ids
		},
		"top": func(n int) []uint32 { // columns up to MaxUint32
			ids := make([]uint32, n)
			for i := range ids {
				ids[i] = math.MaxUint32 - uint32(n-1-i)*70_001
			}
			return ids
		},
	}
	var bb bsi.Builder
	for name, vals := range cases {
		for idName, mk := range idSets {
			if idName == "top" && mode == 1 {
				continue
			}
			t.Run(name+"/"+idName, func(t *testing.T) {
				ids := mk(len(vals))
				x := bb.Build(ids, vals)
				if len(vals) > 0 {
					assert.Equal(t, slices.Min(vals), x.Base, "base is the minimum")
				}
				var words *bsi.Words
				if idName == "low" {
					words = x.Words(0) // "at least every column of every slice"
				}
				advCheckAll(t, &x, ids, vals, ids, advThresholds(vals), words)
				if len(ids) > 2 {
					advCheckAll(t, &x, ids, vals, ids[1:len(ids)-1], advThresholds(vals[1:len(vals)-1]), words)
				}
			})
		}
	}
}

// TestAdvEmpty: an empty index, empty candidates.
func TestAdvEmpty(t *testing.T) {
	var bb bsi.Builder
	x := bb.Build(nil, nil)
	assert.Equal(t, int64(0), x.Base, "base 0 when there are no values")
	assert.Empty(t, x.Slices)
	assert.Equal(t, int64(0), x.Sum(roaring.New()))
	assert.Empty(t, x.Values(nil, roaring.New()))
	assert.Empty(t, x.ValuesOf(nil, nil))
	for _, tv := range []int64{math.MinInt64, 0, math.MaxInt64} {
		assert.True(t, x.AtLeast(roaring.New(), tv).IsEmpty())
		assert.True(t, x.AtMost(roaring.New(), tv).IsEmpty())
		assert.True(t, x.Equal(roaring.New(), tv).IsEmpty())
		g1, g2 := x.AtLeastPair(roaring.New(), tv, tv)
		assert.True(t, g1.IsEmpty())
		assert.True(t, g2.IsEmpty())
		s2, between := x.AtLeastSplit(roaring.New(), tv, tv, nil)
		assert.True(t, s2.IsEmpty())
		assert.Empty(t, between)
		s2, between = x.AtLeastSplit(roaring.New(), tv, tv, x.Words(0))
		assert.True(t, s2.IsEmpty())
		assert.Empty(t, between)
	}
	// a non-empty index queried with no candidates
	y := bb.Build([]uint32{1, 5}, []int64{-3, 100})
	assert.Equal(t, int64(0), y.Sum(roaring.New()))
	assert.True(t, y.AtLeast(roaring.New(), -10).IsEmpty())
	assert.True(t, y.AtMost(roaring.New(), 1000).IsEmpty())
	assert.Empty(t, y.ValuesOf(nil, nil))
}

// TestAdvValuesIntoDst: Values and ValuesOf decode "into dst": the result
// holds exactly the values asked for, whatever dst held (they overwrite
// dst from its start rather than append, unlike the STYLE.md dst
// convention: the doc comment should say so).
func TestAdvValuesIntoDst(t *testing.T) {
	var bb bsi.Builder
	x := bb.Build([]uint32{2, 70_000}, []int64{-5, 11})
	assert.Equal(t, []int64{-5, 11}, x.Values([]int64{99}, roaring.BitmapOf(2, 70_000)))
	assert.Equal(t, []int64{11}, x.ValuesOf([]int64{99, 98, 97}, []uint32{70_000}))
	big := make([]int64, 3, 8)
	assert.Equal(t, []int64{-5, 11}, x.ValuesOf(big, []uint32{2, 70_000}), "dst with spare capacity")
}

func TestAdvAtMostFullRange(t *testing.T) {
	var bb bsi.Builder
	x := bb.Build([]uint32{0, 1}, []int64{math.MinInt64, math.MaxInt64})
	require.Len(t, x.Slices, 64)
	for _, mode := range []int{-1, 0, 1} {
		restore := bsi.SetWords(mode)
		assert.Equal(t, []uint32{0}, advArr(x.AtMost(roaring.BitmapOf(0, 1), 0)), "≤ 0, form %d", mode)
		assert.Equal(t, []uint32{0}, advArr(x.AtMost(roaring.BitmapOf(0, 1), math.MinInt64)), "≤ MinInt64, form %d", mode)
		assert.Equal(t, []uint32{1}, advArr(x.AtLeast(roaring.BitmapOf(0, 1), 0)), "≥ 0, form %d", mode)
		restore()
	}
}

// TestAdvBuilderReuse: reusing a Builder leaves the BSIs it built before
// intact.
func TestAdvBuilderReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var bb bsi.Builder
	type built struct {
		x    bsi.BSI
		ids  []uint32
		vals []int64
	}
	var all []built
	for range 6 {
		n := 1 + rng.IntN(3000)
		seen := map[uint32]bool{}
		var ids []uint32
		for len(ids) < n {
			c := uint32(rng.IntN(3 << 16))
			if !seen[c] {
				seen[c] = true
				ids = append(ids, c)
			}
		}
		slices.Sort(ids)
		vals := make([]int64, n)
		base := rng.Int64N(1<<40) - 1<<39
		for i := range vals {
			vals[i] = base + rng.Int64N(1<<uint(1+rng.IntN(20)))
		}
		all = append(all, built{bb.Build(ids, vals), ids, vals})
	}
	for i, b := range all {
		require.Equal(t, b.vals, b.x.Values(nil, roaring.BitmapOf(b.ids...)), "BSI %d changed by later builds", i)
	}
}

// TestAdvRandomDense: random BSIs with candidates that are every column,
// none, one, and a random subset, with ties and thresholds on and around
// every value, in each comparison form. Columns fill whole chunks so that
// word forms are chosen.
func TestAdvRandomDense(t *testing.T) { advForms(t, testAdvRandomDense) }

func testAdvRandomDense(t *testing.T, _ int) {
	rng := rand.New(rand.NewPCG(11, 12))
	var bb bsi.Builder
	for round := range 4 {
		n := 200 + rng.IntN(400)
		start := uint32(rng.IntN(2)) << 16
		ids := make([]uint32, 0, n)
		for c := start + uint32(rng.IntN(64)); len(ids) < n; c += 1 + uint32(rng.IntN(2)) {
			ids = append(ids, c)
		}
		levels := []int64{2, 3, 7, 1 << 13}[round]
		base := []int64{0, -1, math.MaxInt64 - 1<<13, math.MinInt64}[round]
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = base + rng.Int64N(levels)
		}
		x := bb.Build(ids, vals)
		words := x.Words(ids[len(ids)-1] + 1)
		var sub []uint32
		for _, c := range ids {
			if rng.IntN(3) == 0 {
				sub = append(sub, c)
			}
		}
		ts := []int64{math.MinInt64, math.MaxInt64, base - 1, base, base + levels - 1, base + levels}
		for range 4 {
			ts = append(ts, vals[rng.IntN(n)])
		}
		slices.Sort(ts)
		ts = slices.Compact(ts)
		for _, cand := range [][]uint32{ids, sub, ids[:1], ids[n-1:], nil} {
			advCheckAll(t, &x, ids, vals, cand, ts, words)
		}
	}
}

// TestAdvFinishSlices: FinishSlices drops empty top slices only.
func TestAdvFinishSlices(t *testing.T) {
	ws := make([]roaringio.Writer, 5)
	ws[0].Open(0, false)
	ws[0].Push(3)
	ws[0].Close()
	// ws[1] empty in the middle, ws[2] holds one value, ws[3], ws[4] empty on top
	ws[2].Open(1, false)
	ws[2].Push(0xffff)
	ws[2].Close()
	got := bsi.FinishSlices(ws)
	require.Len(t, got, 3)
	assert.Equal(t, []uint32{3}, got[0].ToArray())
	assert.True(t, got[1].IsEmpty())
	assert.Equal(t, []uint32{1<<16 | 0xffff}, got[2].ToArray())

	assert.Empty(t, bsi.FinishSlices(make([]roaringio.Writer, 3)), "all empty")
	assert.Empty(t, bsi.FinishSlices(nil))

	// slices built by hand answer like built ones
	x := bsi.BSI{Base: -10, Slices: got}
	assert.Equal(t, int64(-10+1), x.Value(3))
	assert.Equal(t, int64(-10+4), x.Value(1<<16|0xffff))
	assert.Equal(t, int64(-10), x.Value(9))
}
