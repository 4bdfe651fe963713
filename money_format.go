package affinity

import "strconv"

// Format formats m in currency units rounded to decimals places (0 to 4),
// half away from zero: Format(2) gives the cents a shop shows, such as
// "44.88" for 44.8778. It does not wrap for any Money value, but rounding
// is display only: the text of an amount within half a rounding step of
// [MaxMoney] or [MinMoney] names one beyond them, which [ParseMoney]
// refuses; use [Money.String] for a text that reads back exactly.
// decimals outside [0, 4] panics (a caller bug).
func (m Money) Format(decimals int) string {
	if decimals < 0 || decimals > 4 {
		panic("affinity: Money.Format decimals outside [0, 4]")
	}
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u
	}
	unit := uint64(1)
	for range 4 - decimals {
		unit *= 10
	}
	// Round in uint64, where |MinInt64| + unit/2 still fits.
	u = (u + unit/2) / unit
	pow := uint64(1)
	for range decimals {
		pow *= 10
	}
	s := strconv.FormatUint(u/pow, 10)
	if decimals > 0 {
		frac := strconv.FormatUint(u%pow, 10)
		for len(frac) < decimals {
			frac = "0" + frac
		}
		s += "." + frac
	}
	if neg && u != 0 {
		s = "-" + s
	}
	return s
}
