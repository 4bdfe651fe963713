package affinity_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name string
		in   string
		sep  byte
		want affinity.Money
	}{
		{"integer", "3", 0, 30000},
		{"two decimals", "2.55", 0, 25500},
		{"explicit dot", "2.55", '.', 25500},
		{"one decimal", "1.5", 0, 15000},
		{"four decimals", "0.0001", 0, 1},
		{"four decimals full", "12.3456", 0, 123456},
		{"zeros after four decimals", "12.900000", 0, 129000},
		{"zeros after four nonzero decimals", "-0.123400", 0, -1234},
		{"only zeros after the separator", ".00000", 0, 0},
		{"tenth of a cent", "0.001", 0, 10},
		{"minus", "-11.20", 0, -112000},
		{"plus", "+7.25", 0, 72500},
		{"comma", "1,5", ',', 15000},
		{"comma negative", "-0,0001", ',', -1},
		{"trailing separator", "5.", 0, 50000},
		{"leading separator", ".5", 0, 5000},
		{"negative leading separator", "-.25", 0, -2500},
		{"leading zeros", "0007.10", 0, 71000},
		{"zero", "0", 0, 0},
		{"negative zero", "-0.00", 0, 0},
		{"large", "922337203685469.9999", 0, 9223372036854699999},
		{"max", "922337203685477.5807", 0, math.MaxInt64},
		{"min", "-922337203685477.5807", 0, affinity.MinMoney},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := affinity.ParseMoney(tt.in, tt.sep)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseMoneyErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		sep  byte
	}{
		{"empty", "", 0},
		{"sign only", "-", 0},
		{"plus only", "+", 0},
		{"separator only", ".", 0},
		{"sign and separator", "-.", 0},
		{"five decimals", "1.00001", 0},
		{"nonzero after zeros", "1.0000001", 0},
		{"letters", "abc", 0},
		{"currency sign", "$5", 0},
		{"trailing letter", "5x", 0},
		{"space", " 5", 0},
		{"inner space", "1 000", 0},
		{"two separators", "1.2.3", 0},
		{"thousands separator", "1,000.00", 0},
		{"dot with comma separator", "1.5", ','},
		{"double sign", "--1", 0},
		{"sign after digits", "1-", 0},
		{"exponent", "1e3", 0},
		{"overflow", "922337203685477.5808", 0},
		{"below MinMoney", "-922337203685477.5808", 0},
		{"negative overflow", "-922337203685477.5809", 0},
		{"overflow whole", "922337203685478", 0},
		{"huge", "99999999999999999999999999", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := affinity.ParseMoney(tt.in, tt.sep)
			require.ErrorIs(t, err, affinity.ErrMoney)
		})
	}
	// every amount beyond the range wraps ErrMoneyRange, however many
	// digits it has (from 16 on, the digit loop stopped without it)
	for _, s := range []string{"922337203685478", "1000000000000000", "9999999999999999", "10000000000000000", "99999999999999999999", "-99999999999999999999.5"} {
		_, err := affinity.ParseMoney(s, 0)
		require.ErrorIs(t, err, affinity.ErrMoneyRange, s)
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		in   affinity.Money
		want string
	}{
		{0, "0.00"},
		{1, "0.0001"},
		{10, "0.001"},
		{100, "0.01"},
		{25500, "2.55"},
		{-112000, "-11.20"},
		{30000, "3.00"},
		{123456, "12.3456"},
		{123450, "12.345"},
		{-1, "-0.0001"},
		{math.MaxInt64, "922337203685477.5807"},
		{math.MinInt64, "-922337203685477.5808"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.in.String())
		})
	}
}

func TestMoneyStringRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(m affinity.Money) {
		// require only on a failure: its t.Helper costs more than the
		// parsing
		if got, err := affinity.ParseMoney(m.String(), 0); err != nil || got != m {
			t.Helper()
			require.NoError(t, err, "value %d formatted as %q", int64(m), m.String())
			require.Equal(t, m, got, "value formatted as %q", m.String())
		}
	}
	for _, m := range []affinity.Money{0, 1, -1, 99, 100, 9999, 10000, math.MaxInt64, math.MaxInt64 - 1, math.MinInt64 + 1} { // math.MinInt64 is below MinMoney: no amount
		check(m)
	}
	for range 20000 {
		// Mix magnitudes so that small prices, which dominate real data,
		// are covered as well as the full int64 range.
		m := affinity.Money(r.Int64() >> r.IntN(64))
		if r.IntN(2) == 0 {
			m = -m
		}
		check(m)
	}
}

func TestMoneyFromFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want affinity.Money
	}{
		{0, 0},
		{1, 10000},
		{2.55, 25500}, // 2.55 is 2.5499999… in binary
		{0.1, 1000},
		{-11.2, -112000},
		{1.23456, 12346},   // 12345.6 rounds up
		{-1.23456, -12346}, // and away from zero when negative
		{1.23454, 12345},
		{-1.23454, -12345},
		{0.00004, 0},
		{0.00006, 1},
		{-0.00006, -1},
		{19.99, 199900},
		{1e9, 1e13},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, affinity.MoneyFromFloat(tt.in), "MoneyFromFloat(%v)", tt.in)
	}
}

func TestMoneyFloat(t *testing.T) {
	assert.InDelta(t, 2.55, affinity.Money(25500).Float(), 1e-12)
	assert.InDelta(t, -0.0001, affinity.Money(-1).Float(), 1e-15)
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		m := affinity.Money(r.Int64N(2e12) - 1e12)
		assert.Equal(t, m, affinity.MoneyFromFloat(m.Float()), "value %d", int64(m))
	}
}

func TestMoneyValue(t *testing.T) {
	p := affinity.Purchase{Quantity: -3, Price: 25500}
	assert.Equal(t, affinity.Money(-76500), p.Value())
	l := affinity.Line{Quantity: 2, Price: 10}
	assert.Equal(t, affinity.Money(20), l.Value())
}

// TestMoneyFromFloatRoundsExactValue checks amounts just below a half of a
// Money unit whose product with MoneyScale rounds onto the half in
// float64: the exact value decides, so they round down (towards zero).
func TestMoneyFromFloatRoundsExactValue(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want affinity.Money
	}{
		{7.435849999999999, 74358},
		{-7.435849999999999, -74358},
		{56.896049999999995, 568960},
		{492.30224999999996, 4923022},
		{958534.0973499999, 9585340973},
		{0.30000000000000004, 3000},
	} {
		assert.Equal(t, tt.want, affinity.MoneyFromFloat(tt.in), "MoneyFromFloat(%v)", tt.in)
	}
}

// TestMoneyFromFloatMatchesBig checks MoneyFromFloatChecked against exact
// rounding of the float's binary value times MoneyScale, half away from
// zero, over random floats at every magnitude from 2^-30 to beyond the
// range and over floats next to halves of a Money unit.
func TestMoneyFromFloatMatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(38, 2))
	vals := []float64{0, math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, 0.00005, -0.00005,
		float64(affinity.MaxMoney) / affinity.MoneyScale, -float64(affinity.MaxMoney) / affinity.MoneyScale}
	for range testdata.Scale(50000, 5000) {
		// a random float at a random magnitude
		vals = append(vals, math.Ldexp(1+r.Float64(), r.IntN(82)-30))
		// and the floats around a half of a Money unit at a random magnitude
		h := (float64(r.Int64()>>r.IntN(63)) + 0.5) / affinity.MoneyScale
		vals = append(vals, h, math.Nextafter(h, 0), math.Nextafter(h, math.Inf(1)))
	}
	maxM := big.NewInt(int64(affinity.MaxMoney))
	for _, f := range vals {
		for _, f := range []float64{f, -f} {
			p := new(big.Rat).Mul(new(big.Rat).SetFloat64(f), big.NewRat(affinity.MoneyScale, 1))
			want, _ := new(big.Int).SetString(p.FloatString(0), 10) // rounds half away from zero
			got, err := affinity.MoneyFromFloatChecked(f)
			// require only on a failure: t.Helper costs more than the checks
			if new(big.Int).Abs(want).Cmp(maxM) > 0 {
				if !errors.Is(err, affinity.ErrMoneyRange) {
					require.ErrorIs(t, err, affinity.ErrMoneyRange, "%v", f)
				}
				continue
			}
			if err != nil || want.Int64() != int64(got) {
				require.NoError(t, err, "%v", f)
				require.Equal(t, want.Int64(), int64(got), "MoneyFromFloatChecked(%v)", f)
			}
		}
	}
}
