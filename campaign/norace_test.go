//go:build !race

package campaign_test

// raceEnabled is true under the race detector, which slows the repeated
// experiments tenfold; they run fewer times then.
const raceEnabled = false
