package affinity

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MoneyScale is the number of [Money] units in one currency unit: money is
// kept in ten-thousandths, which holds prices such as 0.001 exactly.
const MoneyScale = 10_000

// Money is an amount in ten-thousandths of the shop's currency unit (so 2.55
// is Money(25500)). Integer arithmetic keeps sums exact; the range is about
// ±9.2e14 currency units.
type Money int64

// MoneyFromFloat converts a float amount in currency units to Money, rounding
// half away from zero. It is meant for generated data and tests; parse text
// with [ParseMoney] to avoid float rounding altogether.
func MoneyFromFloat(f float64) Money {
	return Money(math.Round(f * MoneyScale))
}

// Float returns m in currency units as a float64 (for statistics and models).
func (m Money) Float() float64 { return float64(m) / MoneyScale }

// String formats m in currency units with two decimals, or with up to four
// when the amount has more precision, e.g. "2.55", "-11.20", "0.001".
func (m Money) String() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u
	}
	whole, frac := u/MoneyScale, u%MoneyScale
	digits := 2
	if frac%100 != 0 {
		digits = 4
	}
	fs := fmt.Sprintf("%04d", frac)[:digits]
	for digits > 2 && fs[len(fs)-1] == '0' {
		fs = fs[:len(fs)-1]
		digits--
	}
	s := strconv.FormatUint(whole, 10) + "." + fs
	if neg {
		s = "-" + s
	}
	return s
}

// ErrMoney is returned (wrapped) by [ParseMoney] for text that is not a
// decimal amount.
var ErrMoney = errors.New("affinity: invalid money amount")

// ParseMoney parses a decimal amount such as "2.55", "-3", "1,5" (with
// decimalSep ',') or "0.001" into Money without going through float64. An
// optional leading sign is allowed; thousands separators, exponents and more
// than four decimals are not (more decimals would be silently rounded). A
// decimalSep of 0 means '.'.
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
					return 0, fmt.Errorf("%w: %q has more than 4 decimals", ErrMoney, s)
				}
				frac = frac*10 + d
				nFrac++
			} else {
				// Stop once whole can no longer fit; the exact bound,
				// which depends on sign and decimals, is checked below.
				if whole > math.MaxInt64/MoneyScale {
					return 0, fmt.Errorf("%w: %q is out of range", ErrMoney, s)
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
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // math.MinInt64 has no positive counterpart
	}
	if whole > limit/MoneyScale || whole*MoneyScale+frac > limit {
		return 0, fmt.Errorf("%w: %q is out of range", ErrMoney, s)
	}
	v := Money(whole*MoneyScale + frac)
	if neg {
		v = -v
	}
	return v, nil
}
