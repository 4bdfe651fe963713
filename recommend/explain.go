package recommend

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/mathext"

	"github.com/shopaffinity/affinity"
)

// Explain returns a one-line, human-readable explanation of r, such as
// "bought together with Running Shoes by 124 customers — 3.2× more often
// than chance". e must be the engine that produced r. It allocates; call it when
// the text is shown, not in the ranking path.
func (r *Rec) Explain(e *Engine) string {
	switch r.Source {
	case SegmentPopular:
		return "popular with customers like you"
	case Popular:
		return "popular in the shop"
	}
	var b strings.Builder
	for i, rs := range r.Reasons() {
		if i > 0 {
			b.WriteString("; ")
		}
		switch rs.Kind {
		case Again:
			b.Write(AppendRebuy(nil, int(rs.Count), float64(rs.Measure), r.Source == Rebuy, float64(rs.Trend), e.o.NextBasket.TrendWindow.Hours()/24))
		case After:
			fmt.Fprintf(&b, "bought after %s %s%s", e.name(rs.Product), e.count(rs.Count, true), times(rs.Count, rs.Lift))
		case Taste:
			b.Write(AppendTaste(nil, e.cat.ShortName(rs.Category)))
		default:
			fmt.Fprintf(&b, "bought together with %s %s%s", e.name(rs.Product), e.count(rs.Count, false), times(rs.Count, rs.Lift))
		}
	}
	if b.Len() == 0 {
		return "popular in the shop" // ranked by the popularity blend alone
	}
	return b.String()
}

func (e *Engine) name(p affinity.ProductID) string {
	if n := e.cat.ProductName(p); n != "" {
		return n
	}
	return e.cat.ProductKey(p)
}

// count words a co-count in the unit of the index that produced it.
func (e *Engine) count(n uint32, seq bool) string {
	unit := e.unit
	if seq {
		unit = "customers"
	}
	switch unit {
	case "customers":
		return fmt.Sprintf("by %d %s", n, plural(int(n), "customer", "customers"))
	case "orders":
		return fmt.Sprintf("in %d %s", n, plural(int(n), "order", "orders"))
	}
	return fmt.Sprintf("%d %s", n, plural(int(n), "time", "times"))
}

// times words a lift as " — 3.2× more often than chance", or "" when the
// pair is not bought together credibly more often than chance would have
// it (see [AppendCredibleLift]).
func times(count uint32, lift float32) string {
	return string(AppendCredibleLift(nil, int(count), float64(lift)))
}

// AppendTaste appends the words of a taste reason (kind Taste) for the
// category named category (as [affinity.Catalog.ShortName] names it):
// "bought by Sportswear shoppers like you" (the result's buyers buy in
// the customer's categories, most of all there, which need not be the
// result's own). Package shop words its served reasons with it.
func AppendTaste(b []byte, category string) []byte {
	b = append(b, "bought by "...)
	b = append(b, category...)
	return append(b, " shoppers like you"...)
}

// AppendRebuy appends the words of a re-buy reason (kind Again) for a
// product bought count times before, the last days ago: "bought 3 times
// before, last 40 days ago", then ": due again" when it is due by its
// interval (Source Rebuy), and "; 2.4× its usual buyers in the last 14
// days" when its trend over trendDays days is at least [TrendStated].
// Package shop words its served reasons with it.
func AppendRebuy(b []byte, count int, days float64, due bool, trend, trendDays float64) []byte {
	b = append(b, "bought "...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, ' ')
	b = append(b, plural(count, "time", "times")...)
	b = append(b, " before, last "...)
	switch d := math.Round(days); {
	case d < 1:
		b = append(b, "today"...)
	case d == 1:
		b = append(b, "yesterday"...)
	default:
		b = strconv.AppendFloat(b, d, 'f', 0, 64)
		b = append(b, " days ago"...)
	}
	if due {
		b = append(b, ": due again"...)
	}
	if trend >= TrendStated {
		b = append(b, "; "...)
		b = strconv.AppendFloat(b, trend, 'f', 1, 64)
		b = append(b, "× its usual buyers in the last "...)
		b = strconv.AppendFloat(b, trendDays, 'f', 0, 64)
		b = append(b, " days"...)
	}
	return b
}

// AppendCredibleLift appends [AppendLift]'s words for a pair bought
// together count times, lift times as often as chance would have it, when
// that is credible: when [CredibleLift] is at least 1. A pair seen
// together twice at a lift of 1.1 gets no factor (the count is as likely
// under chance), one seen 121 times at 1.3 gets " — 1.3× more often than
// chance".
func AppendCredibleLift(b []byte, count int, lift float64) []byte {
	if !StatesLift(count, lift) {
		return b
	}
	return AppendLift(b, lift)
}

// StatesLift reports whether an explanation states the lift of a pair
// bought together count times: when the lift is at least 1.05 (near 1,
// "1.0× more often" reads as nonsense) and credible ([CredibleLift] at
// least 1). Explanations that word the factor their own way, such as
// package shop's short "(3.2×)", ask it too.
func StatesLift(count int, lift float64) bool {
	return lift >= 1.05 && CredibleLift(count, lift) >= 1
}

// CredibleLift returns the lower end of a one-sided 95 % confidence
// interval for the lift of a pair bought together count times with the
// measured lift: the exact lower bound of a Poisson rate given count
// (the 5 % quantile of a Gamma(count) distribution), over the count that
// chance would give, count/lift. A lift measured on few co-purchases is
// noise: 2 co-purchases at a lift of 1.1 give 0.2, 121 at 1.3 give 1.1.
// It returns 0 for count ≤ 0 or a lift that is not positive and finite.
func CredibleLift(count int, lift float64) float64 {
	if count <= 0 || !(lift > 0) || math.IsInf(lift, 0) {
		return 0
	}
	return lift * poissonLower(count) / float64(count)
}

// poissonTable holds the exact lower bounds poissonLower returns for
// counts below its length.
var poissonTable = sync.OnceValue(func() []float64 {
	t := make([]float64, 256)
	for c := 1; c < len(t); c++ {
		t[c] = mathext.GammaIncRegInv(float64(c), 0.05)
	}
	return t
})

// poissonLower returns the one-sided 95 % lower confidence bound of a
// Poisson rate given an observed count c ≥ 1: exact (gonum's inverse of
// the regularized incomplete gamma function) below 256, and from 256 on by
// the Wilson–Hilferty approximation, within 0.01 % of it there.
func poissonLower(c int) float64 {
	if t := poissonTable(); c < len(t) {
		return t[c]
	}
	const z = 1.6448536269514722 // the standard normal's 95 % quantile
	x := float64(c)
	w := 1 - 1/(9*x) - z/(3*math.Sqrt(x))
	return x * w * w * w
}

// AppendLift appends the words for a lift to b, as the engine's
// explanations put them: " — 3.2× more often than chance" (one decimal
// below 10, none from 10 on), or nothing below 1.05, where the pair is
// bought together about as often as chance would have it and "1.0× more
// often" would read as nonsense.
func AppendLift(b []byte, lift float64) []byte {
	if !(lift >= 1.05) {
		return b
	}
	b = append(b, " — "...)
	return append(AppendTimes(b, lift), " more often than chance"...)
}

// AppendTimes appends a lift as a factor to b, as [AppendLift] words it
// without the phrase: "3.2×" (one decimal below 10, none from 10 on, as
// rounded: 9.96 is "10×").
func AppendTimes(b []byte, lift float64) []byte {
	if math.Round(lift*10) < 100 {
		b = strconv.AppendFloat(b, lift, 'f', 1, 64)
	} else {
		b = strconv.AppendFloat(b, lift, 'f', 0, 64)
	}
	return append(b, "×"...)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
