package similarity_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var countMeasures = []similarity.Measure{
	similarity.Jaccard, similarity.Cosine, similarity.Lift, similarity.Confidence, similarity.NPMI,
	similarity.PMI, similarity.Leverage, similarity.Conviction, similarity.Support, similarity.Dice, similarity.Overlap,
}

// Hand-computed: N = 100 baskets, 20 with a, 10 with b, 5 with both.
func TestMeasureFixtures(t *testing.T) {
	c := similarity.PairCount{N: 100, A: 20, B: 10, AB: 5}
	want := map[similarity.Measure]float64{
		similarity.Jaccard:    5.0 / 25,            // |a∩b| / |a∪b|
		similarity.Cosine:     0.35355339059327373, // 5 / √200
		similarity.Lift:       2.5,                 // 0.05 / (0.2·0.1)
		similarity.Confidence: 0.25,                // 5 / 20
		similarity.NPMI:       0.3058653605207225,  // log₂2.5 / −log₂0.05
		similarity.PMI:        1.3219280948873624,  // log₂2.5
		similarity.Leverage:   0.03,                // 0.05 − 0.02
		similarity.Conviction: 1.2,                 // 0.9 / 0.75
		similarity.Support:    0.05,                // 5 / 100
		similarity.Dice:       1.0 / 3,             // 10 / 30
		similarity.Overlap:    0.5,                 // 5 / 10
	}
	for m, w := range want {
		t.Run(m.String(), func(t *testing.T) {
			assert.InDelta(t, w, m.Score(c), 1e-12)
		})
	}
	// directional ones swap: P(a|b) = 0.5, conviction (1−0.2)/(1−0.5)
	swapped := similarity.PairCount{N: 100, A: 10, B: 20, AB: 5}
	assert.InDelta(t, 0.5, similarity.Confidence.Score(swapped), 1e-12)
	assert.InDelta(t, 1.6, similarity.Conviction.Score(swapped), 1e-12)
}

func TestMeasureEdgeCases(t *testing.T) {
	never := similarity.PairCount{N: 100, A: 20, B: 10, AB: 0}
	assert.Equal(t, math.Inf(-1), similarity.PMI.Score(never))
	assert.Equal(t, -1.0, similarity.NPMI.Score(never))
	assert.Zero(t, similarity.Lift.Score(never))
	assert.Zero(t, similarity.Jaccard.Score(never))
	assert.InDelta(t, 0.9, similarity.Conviction.Score(never), 1e-12)
	assert.InDelta(t, -0.02, similarity.Leverage.Score(never), 1e-12)

	always := similarity.PairCount{N: 100, A: 10, B: 30, AB: 10} // every a-basket has b
	assert.Equal(t, math.Inf(1), similarity.Conviction.Score(always))
	assert.Equal(t, 1.0, similarity.Confidence.Score(always))
	assert.Equal(t, 1.0, similarity.Overlap.Score(always))

	everywhere := similarity.PairCount{N: 7, A: 7, B: 7, AB: 7}
	assert.Equal(t, 1.0, similarity.NPMI.Score(everywhere))
	assert.Equal(t, 0.0, similarity.PMI.Score(everywhere))
	assert.Equal(t, 1.0, similarity.Lift.Score(everywhere))

	empty := similarity.PairCount{}
	for _, m := range countMeasures {
		v := m.Score(empty)
		assert.False(t, math.IsNaN(v), m.String())
	}
	for _, bad := range []similarity.PairCount{
		{N: 10, A: 3, B: 4, AB: 5},  // AB > A
		{N: 3, A: 4, B: 2, AB: 1},   // A > N
		{N: 10, A: 3, B: 4, AB: -1}, // negative
	} {
		assert.False(t, bad.Consistent())
		for _, m := range countMeasures {
			assert.True(t, math.IsNaN(m.Score(bad)), "%v on %+v", m, bad)
		}
	}
	for _, m := range []similarity.Measure{similarity.BM25, similarity.EASE, similarity.SVD} {
		assert.True(t, math.IsNaN(m.Score(similarity.PairCount{N: 100, A: 20, B: 10, AB: 5})), m.String())
	}
}

// naiveMeasure evaluates the textbook definitions from probabilities
// estimated on explicit transactions.
func naiveMeasure(m similarity.Measure, txs [][2]bool) float64 {
	var n, na, nb, nab float64
	for _, t := range txs {
		n++
		if t[0] {
			na++
		}
		if t[1] {
			nb++
		}
		if t[0] && t[1] {
			nab++
		}
	}
	pa, pb, pab := na/n, nb/n, nab/n
	switch m {
	case similarity.Jaccard:
		return nab / (na + nb - nab)
	case similarity.Cosine:
		return nab / math.Sqrt(na*nb)
	case similarity.Lift:
		return pab / (pa * pb)
	case similarity.Confidence:
		return pab / pa
	case similarity.NPMI:
		return math.Log2(pab/(pa*pb)) / -math.Log2(pab)
	case similarity.PMI:
		return math.Log2(pab / (pa * pb))
	case similarity.Leverage:
		return pab - pa*pb
	case similarity.Conviction:
		return (1 - pb) / (1 - pab/pa)
	case similarity.Support:
		return pab
	case similarity.Dice:
		return 2 * nab / (na + nb)
	case similarity.Overlap:
		return nab / math.Min(na, nb)
	}
	panic(m)
}

func TestMeasuresMatchNaiveOnRandomTransactions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	for range 500 {
		n := 2 + rng.IntN(60)
		pa, pb, corr := rng.Float64(), rng.Float64(), rng.Float64()
		txs := make([][2]bool, n)
		var c similarity.PairCount
		c.N = n
		for i := range txs {
			a := rng.Float64() < pa
			b := rng.Float64() < pb
			if a && rng.Float64() < corr {
				b = true
			}
			txs[i] = [2]bool{a, b}
			if a {
				c.A++
			}
			if b {
				c.B++
			}
			if a && b {
				c.AB++
			}
		}
		if c.A == 0 || c.B == 0 || c.AB == 0 || c.AB == c.A || c.AB == n {
			continue // the defined-by-convention corners are covered above
		}
		for _, m := range countMeasures {
			assert.InDelta(t, naiveMeasure(m, txs), m.Score(c), 1e-9, "%v %+v", m, c)
		}
	}
}

// measureRange returns the closed range of m.
func measureRange(m similarity.Measure) (lo, hi float64) {
	switch m {
	case similarity.Lift, similarity.Conviction:
		return 0, math.Inf(1)
	case similarity.PMI:
		return math.Inf(-1), math.Inf(1)
	case similarity.NPMI:
		return -1, 1
	case similarity.Leverage:
		return -1, 0.25
	}
	return 0, 1
}

// checkMeasureInvariants asserts range and symmetry for consistent counts.
//
// Each check is a plain comparison first, require only when it fails:
// require's bookkeeping (t.Helper walks the stack) cost more than the
// measures themselves on thousands of counts.
func checkMeasureInvariants(t *testing.T, c similarity.PairCount) {
	swapped := similarity.PairCount{N: c.N, A: c.B, B: c.A, AB: c.AB}
	for _, m := range countMeasures {
		v := m.Score(c)
		lo, hi := measureRange(m)
		if math.IsNaN(v) || !(v >= lo) || !(v <= hi) {
			t.Helper()
			require.False(t, math.IsNaN(v), "%v %+v", m, c)
			require.GreaterOrEqual(t, v, lo, "%v %+v", m, c)
			require.LessOrEqual(t, v, hi, "%v %+v", m, c)
		}
		if !m.Directed() {
			if w := m.Score(swapped); v != w {
				t.Helper()
				require.Equal(t, v, w, "%v symmetric on %+v", m, c)
			}
		}
	}
	if c.A+c.B-c.AB <= c.N { // undirected counts
		if v := similarity.Leverage.Score(c); !(v >= -0.25) {
			t.Helper()
			require.GreaterOrEqual(t, v, -0.25)
		}
	}
	// PMI is bounded above by −log₂ max(pA, pB) when AB > 0
	if c.AB > 0 {
		bound := -math.Log2(float64(max(c.A, c.B)) / float64(c.N))
		if v := similarity.PMI.Score(c); !(v <= bound+1e-12) {
			t.Helper()
			require.LessOrEqual(t, v, bound+1e-12)
		}
	}
}

func TestMeasureInvariantsOnRandomCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for i := range testdata.Scale(5000, 1000) {
		n := rng.IntN(1000)
		a := rng.IntN(n + 1)
		b := rng.IntN(n + 1)
		lo := max(0, a+b-n)
		if i%2 == 1 {
			lo = 0 // directed counts: a and b may meet outside AB
		}
		ab := lo + rng.IntN(min(a, b)-lo+1)
		checkMeasureInvariants(t, similarity.PairCount{N: n, A: a, B: b, AB: ab})
	}
}

func TestMeasureNames(t *testing.T) {
	seen := map[string]bool{}
	for m := similarity.Jaccard; m <= similarity.SVD; m++ {
		require.True(t, m.Valid())
		name := m.String()
		assert.False(t, seen[name], "duplicate name %s", name)
		seen[name] = true
		got, err := similarity.ParseMeasure(name)
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	got, err := similarity.ParseMeasure("NPMI")
	require.NoError(t, err)
	assert.Equal(t, similarity.NPMI, got)
	_, err = similarity.ParseMeasure("magic")
	assert.Error(t, err)
	assert.False(t, similarity.Measure(-1).Valid())
	assert.Equal(t, "Measure(99)", similarity.Measure(99).String())
	assert.Equal(t, similarity.Jaccard, similarity.Measure(0), "zero value is the default measure")
}

func TestShrink(t *testing.T) {
	assert.Equal(t, 2.5, similarity.Shrink(2.5, 5, 0))
	assert.InDelta(t, 2.5*5/15.0, similarity.Shrink(2.5, 5, 10), 1e-12)
	// more evidence, less shrinkage
	assert.Less(t, similarity.Shrink(1, 2, 10), similarity.Shrink(1, 200, 10))
}
