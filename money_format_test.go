package affinity_test

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
)

func TestMoneyFormat(t *testing.T) {
	for _, tc := range []struct {
		m    affinity.Money
		d    int
		want string
	}{
		{448778, 2, "44.88"}, {448750, 2, "44.88"}, {448749, 2, "44.87"}, {-448750, 2, "-44.88"},
		{5, 2, "0.00"}, {50, 2, "0.01"}, {-49, 2, "0.00"}, {25500, 2, "2.55"}, {25500, 0, "3"},
		{12345, 4, "1.2345"}, {12345, 3, "1.235"}, {0, 2, "0.00"},
	} {
		assert.Equal(t, tc.want, tc.m.Format(tc.d), "%d at %d", tc.m, tc.d)
	}
	assert.Panics(t, func() { affinity.Money(1).Format(5) })
}

// TestMoneyFormatMatchesBig checks Format against exact rational rounding
// over extreme and random values.
func TestMoneyFormatMatchesBig(t *testing.T) {
	vals := []affinity.Money{math.MaxInt64, math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 49, 1, -1, 49, 50, -50}
	x := uint64(0x9E3779B97F4A7C15)
	for range 2000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		vals = append(vals, affinity.Money(int64(x)>>(x%60)))
	}
	for _, m := range vals {
		for d := 0; d <= 4; d++ {
			r := new(big.Rat).SetFrac(big.NewInt(int64(m)), big.NewInt(affinity.MoneyScale))
			// FloatString rounds half away from zero, as Format does; Format
			// writes no negative zero.
			want := r.FloatString(d)
			if strings.Trim(want, "-0.") == "" {
				want = strings.TrimPrefix(want, "-")
			}
			assert.Equal(t, want, m.Format(d), "%d at %d", m, d)
		}
	}
}
