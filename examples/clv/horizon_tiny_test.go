package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/cli"
)

// TestHorizonUnderANanosecond: a -horizon above 0 but under a
// nanosecond rounded to a zero clv.ScoreOptions.Horizon, which means the
// default, and the program ran with another horizon than the one given;
// it is a usage error naming the flag, found before the load.
func TestHorizonUnderANanosecond(t *testing.T) {
	path := advCLICDNOW(t)
	for _, args := range [][]string{
		{"-horizon", "1e-16"},
		{"-horizon", "1e-15", "-unit", "day"},
		{"-horizon", "5e-324"},
	} {
		out, err := advCLI.Run(append([]string{"-data", path, "-format", "cdnow"}, args...)...)
		require.Error(t, err, "%q", args)
		assert.ErrorIs(t, err, cli.ErrUsage, "%q", args)
		assert.Contains(t, err.Error(), "-horizon "+args[1]+": under a nanosecond", "%q", args)
		assert.NotContains(t, out, "format     ", "a bad flag is found before the load")
	}
}
