package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSummarize checks the statistics of a repeated step on known
// repetition times, given out of order: the median of an even count is
// the mean of the two middle values, the 99th percentile the nearest
// rank ⌈0.99·n⌉.
func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		n           int
		median, p99 float64 // of the times 1, 2, …, n
	}{
		{n: 1, median: 1, p99: 1},
		{n: 2, median: 1.5, p99: 2},
		{n: 3, median: 2, p99: 3},
		{n: 4, median: 2.5, p99: 4},
		{n: 5, median: 3, p99: 5},
		{n: 100, median: 50.5, p99: 99},
		{n: 101, median: 51, p99: 100},
		{n: 2000, median: 1000.5, p99: 1980},
	} {
		t.Run(fmt.Sprint(c.n), func(t *testing.T) {
			ds, cs := make([]float64, c.n), make([]float64, c.n)
			for i := range c.n {
				ds[i], cs[i] = float64(i+1), float64(i+1)/2
			}
			rng := rand.New(rand.NewPCG(uint64(c.n), 1))
			rng.Shuffle(c.n, func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
			rng.Shuffle(c.n, func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
			s := summarize("q", ds, cs)
			assert.Equal(t, "q", s.Name)
			assert.Equal(t, c.median, s.Seconds, "median")
			assert.Equal(t, c.p99, s.P99, "p99")
			assert.Equal(t, c.median/2, s.CPUMedian, "median processor time")
		})
	}
}

// TestRepeatRunsOnce: Repeat with no minimum still runs f once and
// summarizes that run, instead of indexing an empty list.
func TestRepeatRunsOnce(t *testing.T) {
	n := 0
	s, err := Repeat("q", 0, 0, func() error { n++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, s.Seconds, s.P99, "one repetition is its own median and p99")
}
