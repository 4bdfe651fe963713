package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/cli"
)

// TestHalfLifeUnderANanosecond: a -half-life above 0 but under a
// nanosecond rounded to a zero half-life, which means the default
// (recommend.DefaultHalfLife), so that the engine ran with another decay
// than the one given; it is a usage error naming the flag.
func TestHalfLifeUnderANanosecond(t *testing.T) {
	for _, hl := range []string{"1e-15", "5e-324"} {
		_, err := advCLIRun(append(advCLIValidArgs(t), "-recommenders", "engine", "-half-life", hl)...)
		require.Error(t, err, hl)
		assert.ErrorIs(t, err, cli.ErrUsage, hl)
		assert.Contains(t, err.Error(), "-half-life "+hl+": under a nanosecond", hl)
	}
}
