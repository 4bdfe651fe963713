// Package confidence summarises a sample of per-customer scores: its mean,
// the mean's standard error and a 95 % confidence interval. recommend's
// model choice and tuning (the one-standard-error rule on paired
// per-customer differences) and evaluate's report intervals and paired
// comparisons use this one implementation.
package confidence

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Moments accumulates a sample one value at a time, in O(1) memory. The
// zero value is an empty sample.
//
// The mean is the sum over the count, the sum taken in the order of Add,
// so that it is the same as a plain average of the same values in the
// same order. The spread is Welford's running sum of squared deviations,
// which has no cancellation of Σx² − (Σx)²/n: a sample of equal values
// has a standard error of exactly 0.
type Moments struct {
	n    int
	sum  float64
	mean float64 // running mean of Welford's update
	m2   float64 // sum of squared deviations from the running mean
}

// Add adds x to the sample.
func (m *Moments) Add(x float64) {
	m.n++
	m.sum += x
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// Len returns the number of values added.
func (m *Moments) Len() int { return m.n }

// Mean returns the sample's mean, 0 for an empty sample.
func (m *Moments) Mean() float64 {
	if m.n == 0 {
		return 0
	}
	return m.sum / float64(m.n)
}

// StdErr returns the standard error of the mean: the sample standard
// deviation (n − 1 in the denominator) over √n; 0 for fewer than two
// values, of which no spread can be measured.
func (m *Moments) StdErr() float64 {
	if m.n < 2 {
		return 0
	}
	return math.Sqrt(max(m.m2, 0) / float64(m.n-1) / float64(m.n))
}

// MeanStdErr returns the mean of xs (summed in order, so the same for any
// number of workers) and its standard error (see [Moments.StdErr]).
func MeanStdErr(xs []float64) (mean, se float64) {
	var m Moments
	for _, x := range xs {
		m.Add(x)
	}
	return m.Mean(), m.StdErr()
}

// Level is the confidence level of [Interval].
const Level = 0.95

// Interval returns the 95 % confidence interval of a mean over n values
// with standard error se: mean ± t·se, t the 97.5 % quantile of Student's
// t distribution with n − 1 degrees of freedom (1.96 for large n, wider
// for small samples). ok is false, and lo = hi = mean, for fewer than two
// values: one value has no spread to measure.
func Interval(mean, se float64, n int) (lo, hi float64, ok bool) {
	if n < 2 {
		return mean, mean, false
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-Level)/2)
	return mean - t*se, mean + t*se, true
}
