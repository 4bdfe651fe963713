package segment

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
)

// TestSortedMoneyScale: the scale rescore takes from its sorted spend is
// the one a build selects from the same spend in any order, for every
// size around the quintile boundaries and with ties.
func TestSortedMoneyScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= testdata.Scale(200, 40); n++ {
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = rng.Int64N(int64(n)) - int64(n)/3 // ties, negative spend
		}
		sorted := slices.Sorted(slices.Values(vals))
		assert.Equal(t, newMoneyScale(vals), sortedMoneyScale(sorted), "n=%d", n)
	}
}
