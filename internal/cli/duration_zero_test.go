package cli

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDurationUnderANanosecond: a positive value of under a nanosecond
// rounded to a zero duration, which the library reads as its default; it
// is an error of the command line naming the flag. The smallest value of
// a whole nanosecond is taken, and 0 stays 0.
func TestDurationUnderANanosecond(t *testing.T) {
	for _, unit := range []time.Duration{time.Nanosecond, time.Second, 24 * time.Hour, 7 * 24 * time.Hour} {
		smallest := 1 / float64(unit)
		for _, v := range []float64{math.SmallestNonzeroFloat64, 1e-300, smallest / 2, math.Nextafter(smallest, 0)} {
			if time.Duration(v*float64(unit)) != 0 {
				continue // rounds to a whole nanosecond in this unit
			}
			d, err := Duration("horizon", v, unit, "unit")
			require.Error(t, err, "%v × %v", v, unit)
			assert.ErrorIs(t, err, ErrUsage)
			assert.Contains(t, err.Error(), "-horizon ")
			assert.Contains(t, err.Error(), "under a nanosecond")
			assert.Zero(t, d)
		}
		d, err := Duration("horizon", math.Nextafter(smallest, 2), unit, "unit")
		require.NoError(t, err, "%v", unit)
		assert.Positive(t, d, "%v", unit)
		d, err = Duration("horizon", 0, unit, "unit")
		require.NoError(t, err)
		assert.Zero(t, d)
	}
}
