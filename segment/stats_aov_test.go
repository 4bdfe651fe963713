package segment_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// FormatAOV rounds Revenue / Orders once: 0.0899 over 2 orders is 0.04495,
// "0.04" at cents, where the AOV rounded to Money units (0.0450) would
// show "0.05"; String and WriteTable show the same.
func TestStatsFormatAOVRoundsOnce(t *testing.T) {
	s := segment.Stats{Name: "s", Customers: 1, Revenue: 899, Orders: 2, AOV: 450}
	assert.Equal(t, "0.04", s.FormatAOV(2))
	assert.Equal(t, "0.0450", s.FormatAOV(4))
	assert.Equal(t, "0.05", s.AOV.Format(2), "the AOV rounded twice")
	assert.Contains(t, s.String(), "AOV 0.04")
	assert.Equal(t, "0.00", segment.Stats{Revenue: 100}.FormatAOV(2), "no orders")
	assert.Equal(t, affinity.Money(899).FormatQuo(2, 1), s.FormatAOV(1))
}
