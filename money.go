package affinity

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// MoneyScale is the number of [Money] units in one currency unit: money is
// kept in ten-thousandths, which holds prices such as 0.001 exactly.
const MoneyScale = 10_000

// Money is an amount in ten-thousandths of the shop's currency unit (so 2.55
// is Money(25500)). Integer arithmetic keeps sums exact; the range is about
// ±9.2e14 currency units. As text and in JSON it is the exact decimal
// amount in currency units ("2.55"); JSON numbers are read exactly too.
type Money int64

// MaxMoney and MinMoney are the largest and smallest amounts [Money]
// holds: about ±9.2e14 currency units. MinMoney is -MaxMoney (not the
// minimum int64), so that negating an amount never overflows.
const (
	MaxMoney Money = math.MaxInt64
	MinMoney Money = -MaxMoney
)

// ErrMoneyRange is returned (wrapped) for an amount, or the result of money
// arithmetic, outside [MinMoney, MaxMoney], and for NaN.
var ErrMoneyRange = errors.New("affinity: money out of range")

// MoneyFromFloat converts a float amount in currency units to Money: the
// exact value of f (the binary number it holds, not its shortest decimal
// text) times [MoneyScale], rounded to the nearest integer, half away from
// zero. So 7.435849999999999, which lies below 7.43585, gives 74358 even
// though f × MoneyScale rounds to 74358.5 in float64. It saturates:
// amounts beyond the range (±Inf included) become [MaxMoney] or
// [MinMoney], and NaN becomes 0. It is meant for generated data and
// tests; use [MoneyFromFloatChecked] to get an error instead, and parse
// text with [ParseMoney] to avoid float rounding altogether.
func MoneyFromFloat(f float64) Money {
	m, err := MoneyFromFloatChecked(f)
	if err != nil {
		switch {
		case f > 0:
			return MaxMoney
		case f < 0:
			return MinMoney
		}
		return 0
	}
	return m
}

// MoneyFromFloatChecked is [MoneyFromFloat] with an error wrapping
// [ErrMoneyRange] for NaN, ±Inf and amounts whose rounded value lies
// outside [MinMoney, MaxMoney].
func MoneyFromFloatChecked(f float64) (Money, error) {
	a := math.Abs(f)
	// a × MoneyScale is hi + lo exactly (an FMA rounds once), so the
	// rounding is decided on the exact product, not on hi, which may
	// itself have been rounded onto a half.
	hi := a * MoneyScale
	if !(hi <= 1<<63) { // NaN fails too
		return 0, fmt.Errorf("%w: %v", ErrMoneyRange, f)
	}
	lo := math.FMA(a, MoneyScale, -hi)
	v := math.Round(hi)
	u := uint64(v) // v ≤ 2^63 fits
	switch {
	case v == hi:
		// hi is an integer; lo (exact, |lo| ≤ 512: hi ≥ 2^53 makes a a
		// multiple of 2^-14 and lo one of 2^-10) rounds on its own, half
		// up as the product is positive. Below 2^52, |lo| < 1/4 and w is 0.
		w := math.Floor(lo + 0.5)
		if w < 0 {
			u -= uint64(-w)
		} else {
			u += uint64(w)
		}
	case hi-v == -0.5 && lo < 0:
		// hi sits on a half that Round took up, but the product lies below
		// it (hi - v is exact: hi < 2^52 has a fraction)
		u--
	}
	if u > uint64(MaxMoney) {
		return 0, fmt.Errorf("%w: %v", ErrMoneyRange, f)
	}
	if f < 0 {
		return -Money(u), nil
	}
	return Money(u), nil
}

// Add returns m + x and whether the sum lies in [MinMoney, MaxMoney];
// when it does not, the result is saturated at the bound and ok is false.
func (m Money) Add(x Money) (sum Money, ok bool) {
	s := m + x
	// Overflow flips the sign away from both operands.
	if (x > 0 && s < m) || (x < 0 && s > m) || s < MinMoney {
		if x > 0 {
			return MaxMoney, false
		}
		return MinMoney, false
	}
	return s, true
}

// Mul returns m × n and whether the product lies in [MinMoney, MaxMoney];
// when it does not, the result is saturated at the bound of its sign and
// ok is false. Use it for price × quantity.
func (m Money) Mul(n int64) (product Money, ok bool) {
	if m == 0 || n == 0 {
		return 0, true
	}
	hi, lo := bits.Mul64(absU64(int64(m)), absU64(n))
	neg := (m < 0) != (n < 0)
	if hi != 0 || lo > uint64(MaxMoney) {
		if neg {
			return MinMoney, false
		}
		return MaxMoney, false
	}
	if neg {
		return -Money(lo), true
	}
	return Money(lo), true
}

// absU64 returns |v| as a uint64 (exact for the minimum int64 too).
func absU64(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// Float returns m in currency units as a float64 (for statistics and models).
func (m Money) Float() float64 { return float64(m) / MoneyScale }

// String formats m in currency units with two decimals, or with up to four
// when the amount has more precision, e.g. "2.55", "-11.20", "0.001".
func (m Money) String() string {
	var buf [24]byte
	return string(m.Append(buf[:0]))
}

// Append appends the text of [Money.String] to b and returns the extended
// buffer, without allocating when b has room.
func (m Money) Append(b []byte) []byte {
	u := uint64(m)
	if m < 0 {
		b = append(b, '-')
		u = -u
	}
	whole, frac := u/MoneyScale, u%MoneyScale
	b = strconv.AppendUint(b, whole, 10)
	b = append(b, '.', byte('0'+frac/1000), byte('0'+frac/100%10))
	if frac%100 != 0 {
		b = append(b, byte('0'+frac/10%10))
		if frac%10 != 0 {
			b = append(b, byte('0'+frac%10))
		}
	}
	return b
}

// outOfRange returns the error of an amount beyond Money's range:
// sentinel's message followed by the formatted detail, one text that
// matches both sentinel and [ErrMoneyRange] with errors.Is.
func outOfRange(sentinel error, format string, args ...any) error {
	return pkgerr.New(sentinel.Error()+": "+fmt.Sprintf(format, args...), sentinel, ErrMoneyRange)
}

// ErrMoney is returned (wrapped) by [ParseMoney] for text that is not a
// decimal amount.
var ErrMoney = errors.New("affinity: invalid money amount")

// ParseMoney parses a decimal amount such as "2.55", "-3", "1,5" (with
// decimalSep ',') or "0.001" into Money without going through float64. An
// optional leading sign is allowed, and so are leading zeros and a
// separator without digits on one side (".5", "5.", "007.5", as
// spreadsheets write them), and so are zeros after the fourth decimal
// ("12.900000", as a database's six-decimal column prints it); thousands
// separators, exponents and a fifth or later decimal other than zero are
// not (they would be silently rounded). A decimalSep of 0 means '.'.
func ParseMoney(s string, decimalSep byte) (Money, error) {
	if decimalSep == 0 {
		decimalSep = '.'
	}
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrMoney)
	}
	i := 0
	neg := false
	switch s[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	var whole, frac uint64
	nWhole, nFrac := 0, 0
	seenSep := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d := uint64(c - '0')
			if seenSep {
				if nFrac == 4 {
					if d != 0 {
						return 0, fmt.Errorf("%w: %q has more than 4 decimals", ErrMoney, s)
					}
					continue // a zero after the fourth decimal changes nothing
				}
				frac = frac*10 + d
				nFrac++
			} else {
				// Stop once whole can no longer fit; the exact bound,
				// which depends on sign and decimals, is checked below.
				if whole > math.MaxInt64/MoneyScale {
					return 0, outOfRange(ErrMoney, "%q is out of range", s)
				}
				whole = whole*10 + d
				nWhole++
			}
		case c == decimalSep && !seenSep:
			seenSep = true
		default:
			return 0, fmt.Errorf("%w: %q", ErrMoney, s)
		}
	}
	if nWhole == 0 && nFrac == 0 {
		return 0, fmt.Errorf("%w: %q has no digits", ErrMoney, s)
	}
	for ; nFrac < 4; nFrac++ {
		frac *= 10
	}
	const limit = uint64(MaxMoney) // and -MaxMoney = MinMoney: math.MinInt64 is no Money
	if whole > limit/MoneyScale || whole*MoneyScale+frac > limit {
		return 0, outOfRange(ErrMoney, "%q is out of range", s)
	}
	v := Money(whole*MoneyScale + frac)
	if neg {
		v = -v
	}
	return v, nil
}
