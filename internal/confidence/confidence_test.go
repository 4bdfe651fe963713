package confidence_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity/internal/confidence"
	"github.com/shopaffinity/affinity/internal/testdata"
)

func TestMeanStdErr(t *testing.T) {
	mean, se := confidence.MeanStdErr([]float64{1, 2, 3, 4})
	assert.Equal(t, 2.5, mean)
	assert.InDelta(t, 0.6455, se, 1e-4) // sd √(5/3) over √4
	mean, se = confidence.MeanStdErr([]float64{7})
	assert.Equal(t, 7.0, mean)
	assert.Zero(t, se)
	mean, se = confidence.MeanStdErr(nil)
	assert.Zero(t, mean)
	assert.Zero(t, se)

	// equal values: exactly no spread, where Σx² − (Σx)²/n is not 0
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = 0.1
	}
	_, se = confidence.MeanStdErr(xs)
	assert.Zero(t, se)

	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		xs := make([]float64, 2+r.IntN(500))
		for i := range xs {
			xs[i] = r.Float64() * r.Float64()
		}
		var plain float64
		for _, x := range xs {
			plain += x
		}
		wantMean, wantSE := testdata.MeanStdErr(xs)
		mean, se := confidence.MeanStdErr(xs)
		assert.Equal(t, plain/float64(len(xs)), mean, "the mean is the plain average")
		assert.InDelta(t, wantMean, mean, 1e-15)
		assert.InDelta(t, wantSE, se, 1e-12)
	}
}

func TestInterval(t *testing.T) {
	lo, hi, ok := confidence.Interval(0.5, 0.1, 1)
	assert.False(t, ok, "one value: no interval")
	assert.Equal(t, [2]float64{0.5, 0.5}, [2]float64{lo, hi})
	lo, hi, ok = confidence.Interval(0.5, 0, 10)
	assert.True(t, ok)
	assert.Equal(t, [2]float64{0.5, 0.5}, [2]float64{lo, hi}, "no spread: width 0")
	// Student's t quantiles: 12.706 for 1 degree of freedom, 2.262 for 9,
	// 1.960 for many
	for _, c := range []struct {
		n int
		t float64
	}{{2, 12.7062}, {10, 2.2622}, {1_000_000, 1.9600}} {
		lo, hi, ok := confidence.Interval(1, 0.5, c.n)
		assert.True(t, ok)
		assert.InDelta(t, 1-c.t*0.5, lo, 1e-4, "n = %d", c.n)
		assert.InDelta(t, 1+c.t*0.5, hi, 1e-4, "n = %d", c.n)
	}
}
