package recommend

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// decay agrees with math.Exp2 to 1e-6 relative error over its range.
func TestDecayMatchesExp2(t *testing.T) {
	const hl = 30 * 86400.0
	assert.Equal(t, float32(1), decay(0, hl))
	assert.Equal(t, float32(1), decay(-5, hl))
	for age := int64(1); age < 120*int64(hl); age = age*21/20 + 1 {
		want := max(math.Exp2(-float64(age)/hl), 1e-30)
		got := float64(decay(age, hl))
		assert.InEpsilon(t, want, got, 1e-6, "age %d", age)
	}
	assert.Equal(t, float32(1e-30), decay(200*int64(hl), hl))
	assert.InDelta(t, 0.5, decay(int64(hl), hl), 1e-6)
}
