package recommend

import (
	"fmt"
	"strconv"
	"strings"

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
			fmt.Fprintf(&b, "bought %d %s before, last %.0f days ago", rs.Count, plural(int(rs.Count), "time", "times"), rs.Measure)
			if r.Source == Rebuy {
				b.WriteString(": due again")
			}
		case After:
			fmt.Fprintf(&b, "bought after %s %s%s", e.name(rs.Product), e.count(rs.Count, true), times(rs.Lift))
		default:
			fmt.Fprintf(&b, "bought together with %s %s%s", e.name(rs.Product), e.count(rs.Count, false), times(rs.Lift))
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

// times words a lift (≥ 1) as " — 3.2× more often than chance", or ""
// when the pair is bought together about as often as chance would have it.
func times(lift float32) string { return string(AppendLift(nil, float64(lift))) }

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
// without the phrase: "3.2×" (one decimal below 10, none from 10 on).
func AppendTimes(b []byte, lift float64) []byte {
	if lift < 10 {
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
