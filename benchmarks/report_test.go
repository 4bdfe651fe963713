package benchmarks

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDur checks the units of durations at their boundaries: a value
// that rounds to 1,000 of a unit is written in the next one.
func TestDur(t *testing.T) {
	for s, want := range map[float64]string{
		0:         "—",
		1e-6:      "1 µs",
		4.059e-6:  "4.06 µs",
		999.4e-6:  "999 µs",
		999.6e-6:  "1 ms",
		1e-3:      "1 ms",
		0.0123456: "12.3 ms",
		0.9994:    "999 ms",
		0.9996:    "1.00 s",
		1:         "1.00 s",
		23.281:    "23.28 s",
	} {
		assert.Equal(t, want, dur(s), "dur(%v)", s)
	}
}

// TestLines checks the units of line counts at their boundaries: a count
// that rounds to 1000.0k is written in millions.
func TestLines(t *testing.T) {
	for n, want := range map[int]string{
		0:         "0",
		999:       "999",
		1000:      "1.0k",
		10_110:    "10.1k",
		999_949:   "999.9k",
		999_950:   "1.00M",
		999_999:   "1.00M",
		1_000_000: "1.00M",
		9_803_285: "9.80M",
	} {
		assert.Equal(t, want, lines(n), "lines(%d)", n)
	}
}
