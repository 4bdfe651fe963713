package affinity_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestMoneyFormatQuoRoundsOnce checks that an average is rounded once:
// 2000.99 over 200 orders is 10.00495, 10.00 in cents, where rounding to
// Money units first (10.0050) and then to cents gives 10.01.
func TestMoneyFormatQuoRoundsOnce(t *testing.T) {
	revenue := affinity.Money(20009900)
	assert.Equal(t, "10.00", revenue.FormatQuo(200, 2))
	assert.Equal(t, "-10.00", (-revenue).FormatQuo(200, 2))
	assert.Equal(t, "-10.00", revenue.FormatQuo(-200, 2))
	assert.Equal(t, "10.0050", revenue.FormatQuo(200, 4))
	assert.Equal(t, "0.00", revenue.FormatQuo(0, 2), "an average over nothing")
	assert.Panics(t, func() { revenue.FormatQuo(2, -1) })
}

// TestMoneyFormatQuoMatchesBig checks FormatQuo against exact rational
// rounding over extreme and random amounts and divisors.
func TestMoneyFormatQuoMatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(38, 1))
	ms := []affinity.Money{math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 0, 1, -1, 20009900}
	ns := []int64{1, -1, 2, 3, 200, math.MaxInt64, math.MinInt64, 1 << 50, math.MaxInt64 / 10000}
	for range testdata.Scale(20000, 2000) {
		ms = append(ms, affinity.Money(r.Int64()>>r.IntN(63)*(1-2*r.Int64N(2))))
		ns = append(ns, r.Int64()>>r.IntN(63)*(1-2*r.Int64N(2)))
	}
	for i, m := range ms {
		n := ns[i%len(ns)]
		if n == 0 {
			n = 7 // FormatQuo's 0 is checked above
		}
		for d := 0; d <= 4; d++ {
			q := new(big.Rat).SetFrac(big.NewInt(int64(m)), new(big.Int).Mul(big.NewInt(n), big.NewInt(affinity.MoneyScale)))
			want := q.FloatString(d)
			if strings.Trim(want, "-0.") == "" {
				want = strings.TrimPrefix(want, "-")
			}
			require.Equal(t, want, m.FormatQuo(n, d), "%d / %d at %d", m, n, d)
		}
	}
}
