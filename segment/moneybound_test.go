package segment_test

import (
	"context"
	"math/big"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// moneyCustomer is one customer of a money-bound fixture: a single
// order line worth price (a return when negative).
type moneyCustomer struct {
	key   string
	price affinity.Money
}

// moneyIndex builds the index of customers, each with one line an hour
// before asOf.
func moneyIndex(t *testing.T, customers []moneyCustomer) *segment.Index {
	t.Helper()
	var b affinity.Builder
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range customers {
		q, p := int32(1), c.price
		if p < 0 {
			q, p = -1, -p
		}
		require.NoError(t, b.Add(affinity.Purchase{Customer: c.key, Product: "p", Order: strconv.Itoa(i),
			Time: asOf.Add(-time.Hour), Quantity: q, Price: p}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	require.NoError(t, err)
	return x
}

// moneyRat is m as an exact number of currency units.
func moneyRat(m affinity.Money) *big.Rat { return big.NewRat(int64(m), 10_000) }

// thresholdRat is the decimal v prints as: what a threshold compares.
func thresholdRat(t *testing.T, v float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'f', -1, 64))
	require.True(t, ok, v)
	return r
}

// A threshold beyond every amount a Money holds compares as such: a
// customer who spent exactly MaxMoney (math.MaxInt64 Money units) lies
// below 10^15 and every larger threshold, and one who got MaxMoney back
// (MinMoney) above -10^15, for every operator, in text and in Go.
// Thresholds near MaxMoney (922337203685477.5 below it, .625 above, which
// compares as its shortest decimal .6) check the boundary itself. The expected sets come from comparing the
// customers' exact amounts with each threshold's decimal.
func TestMoneyThresholdsBeyondMaxMoney(t *testing.T) {
	thresholds := []float64{0, 922337203685477, 922337203685477.5, 922337203685477.625,
		999999999999999, 1e15, 2e15, 1e21, 1e300}
	for _, fx := range []struct {
		name      string
		customers []moneyCustomer
	}{
		{"max", []moneyCustomer{{"max", affinity.MaxMoney}, {"zero", 0}}},
		{"min", []moneyCustomer{{"min", affinity.MinMoney}, {"zero", 0}}},
	} {
		t.Run(fx.name, func(t *testing.T) {
			x := moneyIndex(t, fx.customers)
			for _, attr := range []segment.Attr{segment.Monetary(), segment.AOV()} {
				// the customers with a value of attr, and that value
				have := map[string]*big.Rat{}
				for _, c := range fx.customers {
					if attr.Name == "monetary" || c.price >= 0 { // a return alone is no order: no aov
						have[c.key] = moneyRat(c.price)
					}
				}
				want := func(ok func(v *big.Rat) bool) []string {
					keys := []string{}
					for _, c := range fx.customers {
						if v, has := have[c.key]; has && ok(v) {
							keys = append(keys, c.key)
						}
					}
					slices.Sort(keys)
					return keys
				}
				for _, th := range thresholds {
					for _, v := range []float64{th, -th} {
						r := thresholdRat(t, v)
						for _, c := range []struct {
							e  segment.Expr
							ok func(c int) bool
						}{
							{attr.GT(v), func(c int) bool { return c > 0 }},
							{attr.GE(v), func(c int) bool { return c >= 0 }},
							{attr.LT(v), func(c int) bool { return c < 0 }},
							{attr.LE(v), func(c int) bool { return c <= 0 }},
							{attr.EQ(v), func(c int) bool { return c == 0 }},
							{attr.NE(v), func(c int) bool { return c != 0 }},
						} {
							got, err := x.Eval(c.e)
							require.NoError(t, err, c.e)
							exp := want(func(a *big.Rat) bool { return c.ok(a.Cmp(r)) })
							assert.Equal(t, exp, x.SortedKeys(got), "%s", c.e)
							// the text form parses back to the same threshold
							text := c.e.String()
							got, err = x.Query(text)
							require.NoError(t, err, text)
							assert.Equal(t, exp, x.SortedKeys(got), "%s", text)
						}
						if v < 0 {
							continue
						}
						for _, r := range [][2]float64{{-v, v}, {-v, 2 * v}, {-v, 1e300}, {v, 2*v + 1}} {
							e := attr.Between(r[0], r[1])
							got, err := x.Eval(e)
							require.NoError(t, err, e)
							lo, hi := thresholdRat(t, r[0]), thresholdRat(t, r[1])
							exp := want(func(a *big.Rat) bool { return a.Cmp(lo) >= 0 && a.Cmp(hi) <= 0 })
							assert.Equal(t, exp, x.SortedKeys(got), "%s", e)
						}
					}
				}
			}
		})
	}
}

// The queries that showed the saturation, as a user writes them.
func TestMoneyThresholdsBeyondMaxMoneyText(t *testing.T) {
	x := moneyIndex(t, []moneyCustomer{{"max", affinity.MaxMoney}, {"zero", 0}})
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"monetary >= 922337203685477", []string{"max"}},
		{"monetary >= 999999999999999", []string{}},
		{"monetary > 1000000000000000", []string{}},
		{"monetary >= 1000000000000000000000", []string{}},
		{"monetary between 1000000000000000 and 2000000000000000", []string{}},
		{"monetary < 1000000000000000", []string{"max", "zero"}},
		{"monetary <= 1000000000000000", []string{"max", "zero"}},
		{"monetary != 1000000000000000", []string{"max", "zero"}},
		{"monetary = 1000000000000000", []string{}},
		{"aov > 1000000000000000", []string{}},
		{"aov < 1000000000000000", []string{"max", "zero"}},
		{"not monetary >= 1000000000000000", []string{"max", "zero"}},
	} {
		got, err := x.Query(c.q)
		require.NoError(t, err, c.q)
		assert.Equal(t, c.want, x.SortedKeys(got), c.q)
	}
}
