package affinity_test

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// extremeMoney returns amounts near zero, near the bounds and random ones.
func extremeMoney(r *rand.Rand) affinity.Money {
	switch r.IntN(5) {
	case 0:
		return affinity.Money(r.Int64N(2001) - 1000)
	case 1:
		return affinity.MaxMoney - affinity.Money(r.Int64N(1000))
	case 2:
		return affinity.MinMoney + affinity.Money(r.Int64N(1000))
	case 3:
		return affinity.Money(int64(r.Uint64()))
	}
	return affinity.Money(r.Int64N(1<<40) - 1<<39)
}

// bigFits reports whether v lies in [MinMoney, MaxMoney].
func bigFits(v *big.Int) bool {
	return v.Cmp(big.NewInt(int64(affinity.MinMoney))) >= 0 && v.Cmp(big.NewInt(int64(affinity.MaxMoney))) <= 0
}

// TestMoneyCheckedArithmetic compares Money.Add and Money.Mul with exact
// big-integer arithmetic on extreme values: in range they are exact, out
// of range they report it and saturate at the bound of the true sign.
func TestMoneyCheckedArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	n := testdata.Scale(200_000, 20_000)
	for range n {
		a, b := extremeMoney(r), extremeMoney(r)
		want := new(big.Int).Add(big.NewInt(int64(a)), big.NewInt(int64(b)))
		got, ok := a.Add(b)
		// require only on a failure: its t.Helper costs more than the
		// arithmetic
		if bigFits(want) {
			if !ok || want.Int64() != int64(got) {
				require.True(t, ok, "%d + %d", a, b)
				require.Equal(t, want.Int64(), int64(got), "%d + %d", a, b)
			}
		} else if sat := map[bool]affinity.Money{true: affinity.MaxMoney, false: affinity.MinMoney}[want.Sign() > 0]; ok || got != sat {
			require.False(t, ok, "%d + %d", a, b)
			require.Equal(t, sat, got)
		}
		n := int64(extremeMoney(r))
		if r.IntN(2) == 0 {
			n = int64(int32(n)) // quantities are int32
		}
		want = new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(n))
		got, ok = a.Mul(n)
		if bigFits(want) {
			if !ok || want.Int64() != int64(got) {
				require.True(t, ok, "%d × %d", a, n)
				require.Equal(t, want.Int64(), int64(got), "%d × %d", a, n)
			}
		} else if sat := map[bool]affinity.Money{true: affinity.MaxMoney, false: affinity.MinMoney}[want.Sign() > 0]; ok || got != sat {
			require.False(t, ok, "%d × %d", a, n)
			require.Equal(t, sat, got)
		}
	}
	_, ok := affinity.Money(math.MinInt64).Mul(-1)
	assert.False(t, ok, "the minimum int64 has no positive counterpart")
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "Money.Add and Money.Mul on extreme values (property test against math/big)", Cases: 2*n + 1,
		Outcome: "exact in range; out of range reported and saturated, never wrapped"})
}

func TestMoneyFromFloatRange(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e30, -1e30, 9.3e14, -9.3e14} {
		_, err := affinity.MoneyFromFloatChecked(f)
		require.ErrorIs(t, err, affinity.ErrMoneyRange, "%v", f)
	}
	assert.Equal(t, affinity.MaxMoney, affinity.MoneyFromFloat(math.Inf(1)))
	assert.Equal(t, affinity.MaxMoney, affinity.MoneyFromFloat(1e30))
	assert.Equal(t, affinity.MinMoney, affinity.MoneyFromFloat(math.Inf(-1)))
	assert.Equal(t, affinity.MinMoney, affinity.MoneyFromFloat(-1e30))
	assert.Equal(t, affinity.Money(0), affinity.MoneyFromFloat(math.NaN()))
	m, err := affinity.MoneyFromFloatChecked(9.2e14)
	require.NoError(t, err)
	assert.Equal(t, affinity.Money(9.2e18), m)
	m, err = affinity.MoneyFromFloatChecked(-2.55)
	require.NoError(t, err)
	assert.Equal(t, affinity.Money(-25500), m)
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "MoneyFromFloat(Checked) with NaN, ±Inf, ±1e30, ±9.3e14", Cases: 7,
		Outcome: "ErrMoneyRange; MoneyFromFloat saturates (NaN → 0), never the minimum int64"})
}

// TestBuilderRefusesMoneyOverflow checks that no line and no sum of lines
// can wrap: a line whose value overflows is refused, and so is the line
// that would take the gross value beyond MaxMoney; what was accepted sums
// exactly.
func TestBuilderRefusesMoneyOverflow(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	err := b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: at, Quantity: math.MaxInt32, Price: affinity.MaxMoney / 2})
	require.ErrorIs(t, err, affinity.ErrInvalid)
	require.ErrorIs(t, err, affinity.ErrMoneyRange)

	half := affinity.MaxMoney / 2
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o1", Time: at, Quantity: 1, Price: half}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "o2", Time: at, Quantity: -1, Price: half}))
	// The net is 0, but the gross is full: one more unit would wrap a
	// sum of positive lines.
	err = b.Add(affinity.Purchase{Customer: "d", Product: "p", Order: "o3", Time: at, Quantity: 1, Price: half})
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "d", Product: "p", Order: "o3", Time: at, Quantity: 1, Price: 1}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	s := h.Summary()
	assert.Equal(t, affinity.Money(1), s.Revenue)
	assert.Equal(t, half, h.OrderValue(0))

	// A Builder started from h keeps counting h's gross.
	nb := affinity.NewBuilder(h)
	err = nb.Add(affinity.Purchase{Customer: "d", Product: "p", Order: "o4", Time: at, Quantity: 1, Price: half})
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "Builder.Add: line value or gross beyond MaxMoney", Cases: 3,
		Outcome: "ErrInvalid + ErrMoneyRange; revenue of what was accepted exact"})
}

// TestBuilderAddCountsStagedPuts checks that Add and Check count the
// lines of the staged puts in the gross value, as Build does once it has
// applied them: a line Add accepts after a put never makes Build fail
// with ErrMoneyRange (Add once checked only the lines added, and Build
// refused the Builder without a line to show).
func TestBuilderAddCountsStagedPuts(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	big6 := affinity.MaxMoney / 10 * 6 // two of them do not fit
	line := func(c, order string, price affinity.Money) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: "p", Order: order, Time: at, Quantity: 1, Price: price}
	}
	t.Run("add after put", func(t *testing.T) {
		var b affinity.Builder
		require.NoError(t, b.PutOrder("k", 1, []affinity.Purchase{line("a", "", big6)}))
		assert.Equal(t, big6, b.Gross())
		require.ErrorIs(t, b.Add(line("b", "o", big6)), affinity.ErrMoneyRange)
		require.ErrorIs(t, b.Check(line("b", "o", 1), line("b", "o", big6)), affinity.ErrMoneyRange)
		require.NoError(t, b.Add(line("b", "o", 100)))
		assert.Equal(t, big6+100, b.Gross())
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		assert.Equal(t, big6+100, h.Summary().Revenue)
	})
	t.Run("put replaced or deleted", func(t *testing.T) {
		var b affinity.Builder
		require.NoError(t, b.PutOrder("k", 1, []affinity.Purchase{line("a", "", big6)}))
		require.NoError(t, b.PutOrder("k", 2, []affinity.Purchase{line("a", "", 5), line("a", "", 7)}))
		assert.Equal(t, affinity.Money(12), b.Gross(), "the later put takes the earlier one's place")
		require.NoError(t, b.PutOrder("k", 1, []affinity.Purchase{line("a", "", big6)}))
		assert.Equal(t, affinity.Money(12), b.Gross(), "a put that loses counts nothing")
		require.NoError(t, b.DeleteOrder("k", 2))
		assert.Equal(t, affinity.Money(0), b.Gross())
		require.NoError(t, b.Add(line("b", "o", big6)))
		_, err := b.Build(context.Background())
		require.NoError(t, err)
	})
	t.Run("puts beyond MaxMoney", func(t *testing.T) {
		var b affinity.Builder
		for _, k := range []string{"k1", "k2", "k3"} {
			require.NoError(t, b.PutOrder(k, 1, []affinity.Purchase{line("a", "", big6), line("a", "", big6)}))
		}
		assert.Equal(t, affinity.MaxMoney, b.Gross(), "capped")
		require.ErrorIs(t, b.Add(line("b", "o", 1)), affinity.ErrMoneyRange)
		require.NoError(t, b.DeleteOrder("k1", 1))
		require.NoError(t, b.DeleteOrder("k2", 1))
		require.NoError(t, b.PutOrder("k3", 2, []affinity.Purchase{line("a", "", 3)}))
		assert.Equal(t, affinity.Money(3), b.Gross(), "taken out exactly")
	})
	t.Run("on a base", func(t *testing.T) {
		var b affinity.Builder
		require.NoError(t, b.Add(line("a", "o1", big6/2)))
		base, err := b.Build(context.Background())
		require.NoError(t, err)
		nb := affinity.NewBuilder(base)
		require.NoError(t, nb.PutOrder("k", 1, []affinity.Purchase{line("c", "", big6/2)}))
		assert.Equal(t, big6, nb.Gross())
		require.ErrorIs(t, nb.Add(line("d", "o2", big6)), affinity.ErrMoneyRange)
		require.ErrorIs(t, nb.Check(line("d", "o2", big6)), affinity.ErrMoneyRange)
		require.NoError(t, nb.Add(line("d", "o2", big6/2)))
		h, err := nb.Build(context.Background())
		require.NoError(t, err)
		assert.Equal(t, big6/2*3, h.Summary().Revenue)
	})
}

// TestBuilderGrossMatchesModel applies random adds, puts and deletes of a
// few keys, some of values near MaxMoney, and compares Gross with the
// exact sum of the lines added and the latest put of each key: Add
// accepts a line exactly when the sum with it fits, and Build fails
// exactly when the staged sum does not fit.
func TestBuilderGrossMatchesModel(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	refused, failed := 0, 0 // the model's outcomes that need the staged puts
	for seed := range uint64(testdata.Scale(5000, 100)) {
		r := rand.New(rand.NewPCG(seed, 7))
		price := func() affinity.Money {
			if r.IntN(3) == 0 {
				return affinity.MaxMoney / affinity.Money(2+r.IntN(4))
			}
			return affinity.Money(r.IntN(1000))
		}
		var b affinity.Builder
		held := new(big.Int)
		puts := map[string]*big.Int{}
		staged := func() *big.Int {
			s := new(big.Int).Set(held)
			for _, g := range puts {
				s.Add(s, g)
			}
			return s
		}
		maxMoney := big.NewInt(int64(affinity.MaxMoney))
		for i := range 30 {
			key := fmt.Sprintf("k%d", r.IntN(4))
			switch r.IntN(3) {
			case 0:
				p := affinity.Purchase{Customer: "c", Product: "p", Order: fmt.Sprintf("o%d", i), Time: at, Quantity: int32(1 - 2*r.IntN(2)), Price: price()}
				// Add refuses a line that takes the gross value, capped at
				// MaxMoney, beyond it: not one of value 0
				with := new(big.Int).Add(staged(), big.NewInt(int64(p.Price)))
				if err := b.Add(p); with.Cmp(maxMoney) <= 0 || p.Price == 0 {
					require.NoError(t, err, "seed %d", seed)
					held.Add(held, big.NewInt(int64(p.Price)))
				} else {
					require.ErrorIs(t, err, affinity.ErrMoneyRange, "seed %d", seed)
					refused++
				}
			case 1:
				lines := make([]affinity.Purchase, 1+r.IntN(3))
				g := new(big.Int)
				for j := range lines {
					lines[j] = affinity.Purchase{Customer: key, Product: "q", Time: at, Quantity: 1, Price: price()}
					g.Add(g, big.NewInt(int64(lines[j].Price)))
				}
				require.NoError(t, b.PutOrder(key, int64(i), lines))
				puts[key] = g
			default:
				require.NoError(t, b.DeleteOrder(key, int64(i)))
				delete(puts, key)
			}
			want := staged()
			if want.Cmp(maxMoney) > 0 {
				want = maxMoney
			}
			require.Equal(t, want.Int64(), int64(b.Gross()), "seed %d step %d", seed, i)
		}
		_, err := b.Build(context.Background())
		if staged().Cmp(maxMoney) <= 0 {
			require.NoError(t, err, "seed %d", seed)
		} else {
			require.ErrorIs(t, err, affinity.ErrMoneyRange, "seed %d", seed)
			failed++
		}
	}
	assert.Positive(t, refused, "adds refused")
	assert.Positive(t, failed, "builds failed")
}

func TestBuilderTimeRange(t *testing.T) {
	ok := []time.Time{time.Unix(affinity.MinUnix, 0), time.Unix(affinity.MaxUnix, 0), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
	bad := []time.Time{time.Unix(affinity.MinUnix-1, 0), time.Unix(affinity.MaxUnix+1, 0),
		time.Date(170, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}
	var b affinity.Builder
	for _, at := range ok {
		assert.True(t, affinity.ValidTime(at), "%v", at)
		require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: at, Quantity: 1}))
		require.NoError(t, b.AddEvent(affinity.Event{Customer: "c", Product: "p", Time: at, Kind: affinity.View, Weight: 1}))
	}
	for _, at := range bad {
		assert.False(t, affinity.ValidTime(at), "%v", at)
		require.ErrorIs(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: at, Quantity: 1}), affinity.ErrInvalid)
		require.ErrorIs(t, b.AddEvent(affinity.Event{Customer: "c", Product: "p", Time: at, Kind: affinity.View, Weight: 1}), affinity.ErrInvalid)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err, "every accepted time fits the History's 32-bit offsets")
	assert.Equal(t, time.Unix(affinity.MaxUnix, 0).UTC(), h.Summary().Last)
	reliability.Add(t, reliability.Record{Kind: "invalid", Subject: "Builder.Add/AddEvent with times outside 1970..2106", Cases: 2 * len(bad),
		Outcome: "ErrInvalid at Add; Build never fails on the 136-year span"})
}

// FuzzMoneyArithmetic checks Money.Add and Money.Mul against math/big on
// any operands: exact in range, reported and saturated outside.
func FuzzMoneyArithmetic(f *testing.F) {
	f.Add(int64(25500), int64(3), int64(-1))
	f.Add(int64(math.MaxInt64), int64(1), int64(2))
	f.Add(int64(math.MinInt64), int64(-1), int64(-1))
	f.Add(int64(-math.MaxInt64), int64(math.MaxInt32), int64(math.MinInt32))
	f.Fuzz(func(t *testing.T, a, b, n int64) {
		check := func(op string, want *big.Int, got affinity.Money, ok bool) {
			if bigFits(want) {
				require.True(t, ok, "%d %s", a, op)
				require.Equal(t, want.Int64(), int64(got), "%d %s", a, op)
				return
			}
			require.False(t, ok, "%d %s", a, op)
			if want.Sign() > 0 {
				require.Equal(t, affinity.MaxMoney, got)
			} else {
				require.Equal(t, affinity.MinMoney, got)
			}
		}
		got, ok := affinity.Money(a).Add(affinity.Money(b))
		check(fmt.Sprintf("+ %d", b), new(big.Int).Add(big.NewInt(a), big.NewInt(b)), got, ok)
		got, ok = affinity.Money(a).Mul(n)
		check(fmt.Sprintf("× %d", n), new(big.Int).Mul(big.NewInt(a), big.NewInt(n)), got, ok)
		f := math.Float64frombits(uint64(n))
		m, err := affinity.MoneyFromFloatChecked(f)
		if err == nil {
			require.InDelta(t, f*affinity.MoneyScale, float64(m), 1+math.Abs(f*affinity.MoneyScale)*1e-15)
		} else {
			require.ErrorIs(t, err, affinity.ErrMoneyRange)
		}
		require.NotEqual(t, affinity.Money(math.MinInt64), affinity.MoneyFromFloat(f))
	})
}
