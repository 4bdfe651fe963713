//go:build race

package segment_test

// raceEnabled is true when the tests run under the race detector, which
// slows the large property tests tenfold; they check fewer queries then.
const raceEnabled = true
