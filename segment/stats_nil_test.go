package segment_test

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
)

// TestStatsNilSet checks that Stats takes a nil set as empty, as CrossTab
// does, instead of panicking.
func TestStatsNilSet(t *testing.T) {
	x := smallIndex(t, 2, 50)
	var s = x.Stats("none", nil)
	assert.Equal(t, x.Stats("none", roaring.New()), s)
	assert.Zero(t, s.Customers)
	assert.Zero(t, s.Revenue)
}
