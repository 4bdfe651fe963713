package segment

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScoreDistMatchesRFMScores checks scoreDist against rfmScores, which
// scores every customer: over random populations (values spread wide or
// crowded onto a few, so that ties fall on the cuts), the scores a
// distribution counted from the columns gives; then, over chains of
// random changes (customers scored anew, scored no more, or with new
// values), that the distribution next gives equals the one counted from
// the changed columns, field for field, that its scores are rfmScores',
// and that moved reports every value whose score changed and span the
// least and greatest scores.
func TestScoreDistMatchesRFMScores(t *testing.T) {
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 5))
		nc := 1 + r.IntN(300)
		spread := []int{2, 5, 40, 3000}[r.IntN(4)]
		cols := &custCols{recency: make([]int32, nc), freq: make([]int32, nc), monetary: make([]int64, nc)}
		scored := make([]bool, nc)
		draw := func(c int) {
			scored[c] = r.IntN(5) > 0
			if !scored[c] {
				cols.recency[c], cols.freq[c], cols.monetary[c] = 0, 0, 0
				return
			}
			cols.recency[c] = int32(r.IntN(spread))
			cols.freq[c] = int32(1 + r.IntN(spread))
			cols.monetary[c] = int64(r.IntN(2*spread) - spread/4)
		}
		for c := range nc {
			draw(c)
		}
		score := func() [3][]uint8 {
			b := &builder{nc: nc, custArrays: custArrays{recency: cols.recency, freq: cols.freq, monetary: cols.monetary}}
			var ids []uint32
			for c := range nc {
				if scored[c] {
					ids = append(ids, uint32(c))
				}
			}
			rs, fs, ms := b.rfmScores(ids)
			return [3][]uint8{rs, fs, ms}
		}
		want := score()
		d := newScoreDist(cols, want[0])
		require.NotNil(t, d, "seed %d", seed)
		check := func(d *scoreDist, want [3][]uint8, step int) {
			lo, hi := [3]uint8{6, 6, 6}, [3]uint8{}
			for c := range nc {
				if !scored[c] {
					continue
				}
				got := d.scores(cols.recency[c], cols.freq[c], cols.monetary[c])
				require.Equal(t, [3]uint8{want[0][c], want[1][c], want[2][c]}, got, "seed %d step %d customer %d", seed, step, c)
				for j := range got {
					lo[j], hi[j] = min(lo[j], got[j]), max(hi[j], got[j])
				}
			}
			glo, ghi := d.span()
			require.Equal(t, lo, glo, "seed %d step %d: span", seed, step)
			require.Equal(t, hi, ghi, "seed %d step %d: span", seed, step)
		}
		check(d, want, -1)
		for step := range 8 {
			var out, in []valueChange
			old := valueCols(cols)
			oldScored := slices.Clone(scored)
			for range 1 + r.IntN(max(1, nc/[]int{2, 10, 50}[r.IntN(3)])) {
				c := r.IntN(nc)
				if slices.Contains(old.touched, c) {
					continue
				}
				old.touched = append(old.touched, c)
				draw(c)
			}
			for _, c := range old.touched {
				if oldScored[c] {
					out = append(out, valueChange{old.recency[c], old.freq[c], old.monetary[c]})
				}
				if scored[c] {
					in = append(in, valueChange{cols.recency[c], cols.freq[c], cols.monetary[c]})
				}
			}
			e := d.next(out, in)
			require.NotNil(t, e, "seed %d step %d", seed, step)
			fresh := score()
			check(e, fresh, step)
			counted := newScoreDist(cols, fresh[0])
			require.Equal(t, counted, e, "seed %d step %d: next differs from the distribution counted anew", seed, step)
			// moved: a value of an untouched scored customer whose score
			// changed is reported
			mr, mf, mm := d.moved(e)
			for c := range nc {
				if !scored[c] || !oldScored[c] || slices.Contains(old.touched, c) {
					continue
				}
				if want[0][c] != fresh[0][c] {
					require.True(t, mr, "seed %d step %d: R moved", seed, step)
				}
				if want[1][c] != fresh[1][c] {
					require.True(t, mf, "seed %d step %d: F moved", seed, step)
				}
				if want[2][c] != fresh[2][c] {
					require.True(t, mm, "seed %d step %d: M moved", seed, step)
				}
			}
			d, want = e, fresh
		}
	}
}

// TestScoreDistRefusesInconsistentChanges checks that next declines
// (returns nil) a change whose leaving values the distribution does not
// hold, and values too large to count.
func TestScoreDistRefusesInconsistentChanges(t *testing.T) {
	cols := &custCols{recency: []int32{3, 5}, freq: []int32{1, 2}, monetary: []int64{100, 200}}
	d := newScoreDist(cols, []uint8{1, 1})
	require.NotNil(t, d)
	require.Nil(t, d.next([]valueChange{{3, 1, 150}}, nil), "a spend not held")
	require.Nil(t, d.next([]valueChange{{4, 1, 100}}, nil), "a recency not held")
	require.Nil(t, d.next([]valueChange{{3, 3, 100}}, nil), "a frequency not held")
	require.Nil(t, d.next(nil, []valueChange{{maxCountedValue, 1, 1}}), "a recency too large")
	require.Nil(t, d.next(nil, []valueChange{{1, -1, 1}}), "no orders")
	require.NotNil(t, d.next([]valueChange{{3, 1, 100}}, []valueChange{{0, 4, -7}}))
	require.Nil(t, newScoreDist(&custCols{recency: []int32{maxCountedValue}, freq: []int32{1}, monetary: []int64{1}}, []uint8{1}))
}

// valueCopy is a copy of a custCols' value columns and the customers a
// change touched.
type valueCopy struct {
	recency, freq []int32
	monetary      []int64
	touched       []int
}

func valueCols(c *custCols) valueCopy {
	return valueCopy{recency: slices.Clone(c.recency), freq: slices.Clone(c.freq), monetary: slices.Clone(c.monetary)}
}
