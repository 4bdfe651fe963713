package testdata

import "math"

// MeanStdErr returns the mean of xs and its standard error, sd/√n with
// the sample standard deviation (n − 1), computed the textbook way in two
// passes: the reference the tests of the library's running computation
// (internal/confidence, evaluate's intervals) check against. It needs at
// least two values.
func MeanStdErr(xs []float64) (mean, se float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1) / float64(len(xs)))
}
