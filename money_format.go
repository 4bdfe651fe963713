package affinity

import (
	"math/bits"
	"strconv"
)

// Format formats m in currency units rounded to decimals places (0 to 4),
// half away from zero: Format(2) gives the cents a shop shows, such as
// "44.88" for 44.8778. It does not wrap for any Money value, but rounding
// is display only: the text of an amount within half a rounding step of
// [MaxMoney] or [MinMoney] names one beyond them, which [ParseMoney]
// refuses; use [Money.String] for a text that reads back exactly.
// decimals outside [0, 4] panics (a caller bug).
func (m Money) Format(decimals int) string { return m.FormatQuo(1, decimals) }

// FormatQuo formats the exact quotient m / n in currency units rounded
// once to decimals places (0 to 4), half away from zero, as [Money.Format]
// does: the way to show an average such as revenue per order. Rounding the
// quotient to Money first and formatting that rounds twice, so 2000.99
// over 200 orders (10.00495) would show as 10.01 rather than 10.00. n = 0
// formats 0, as an average over nothing; a negative n divides too. It
// takes constant time and does not wrap for any m and n. decimals outside
// [0, 4] panics (a caller bug).
func (m Money) FormatQuo(n int64, decimals int) string {
	if decimals < 0 || decimals > 4 {
		panic("affinity: money formatted with decimals outside [0, 4]")
	}
	unit := uint64(1)
	for range 4 - decimals {
		unit *= 10
	}
	// |m| / (|n| × unit) rounded half away from zero, in uint64 (where
	// |MinInt64| fits) with a 128-bit divisor
	u, d := absU64(int64(m)), absU64(n)
	var q uint64
	if dhi, dlo := bits.Mul64(d, unit); n != 0 && dhi == 0 {
		var r uint64
		q, r = u/dlo, u%dlo
		if r >= dlo-r {
			q++
		}
	} // else the divisor exceeds 2·|m| (|m| ≤ 2^63): the quotient rounds to 0
	pow := uint64(1)
	for range decimals {
		pow *= 10
	}
	s := strconv.FormatUint(q/pow, 10)
	if decimals > 0 {
		frac := strconv.FormatUint(q%pow, 10)
		for len(frac) < decimals {
			frac = "0" + frac
		}
		s += "." + frac
	}
	if (m < 0) != (n < 0) && q != 0 {
		s = "-" + s
	}
	return s
}
