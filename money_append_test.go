package affinity

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// moneyStringRef is Money.String written the plain way: four decimals
// through fmt, trailing zeros trimmed down to two.
func moneyStringRef(m Money) string {
	u := absU64(int64(m))
	fs := strings.TrimRight(fmt.Sprintf("%04d", u%MoneyScale), "0")
	for len(fs) < 2 {
		fs += "0"
	}
	s := strconv.FormatUint(u/MoneyScale, 10) + "." + fs
	if m < 0 {
		s = "-" + s
	}
	return s
}

// TestMoneyAppend checks Money.Append and String against the plain
// formatting on the range's ends and random amounts of every size.
func TestMoneyAppend(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vals := []Money{0, 1, -1, 5, 10, 99, 100, 1230, 1201, 9999, 10_000, -10_000, 25_500, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for range 20_000 {
		v := Money(r.Int64() >> r.IntN(64))
		if r.IntN(2) == 0 {
			v = -v
		}
		vals = append(vals, v)
	}
	for _, v := range vals {
		want := moneyStringRef(v)
		if got := v.String(); got != want {
			t.Fatalf("Money(%d).String() = %q, want %q", int64(v), got, want)
		}
		if got := string(v.Append([]byte("x"))); got != "x"+want {
			t.Fatalf("Money(%d).Append = %q, want %q", int64(v), got, "x"+want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		var buf [24]byte
		_ = Money(-123_456_789).Append(buf[:0])
	}); n != 0 {
		t.Errorf("Append allocates %v times", n)
	}
}
