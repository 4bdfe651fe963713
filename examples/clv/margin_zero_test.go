package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMarginZeroIsRefused: clv.CLVOptions reads a Margin of 0 as 1, so a
// -margin 0 passed through would print the CLV of revenue under a flag
// that asked for no profit at all; the program refuses it as a usage
// error before the load.
func TestMarginZeroIsRefused(t *testing.T) {
	out, err := advCLI.Run("-data", advCLICDNOW(t), "-format", "cdnow", "-margin", "0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-margin")
	assert.NotContains(t, out, "calibration to", "refused before the fit")
}
