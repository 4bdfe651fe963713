package benchmarks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"
)

// Question names one of the five marketer questions.
type Question string

// The five marketer questions.
const (
	// QShare: customers whose spend in [Shop.Category] is at least 30 % of
	// their spend in the look-back.
	QShare Question = "a share"
	// QRecent: customers whose last purchase was 14 to 28 whole days
	// before [AsOf].
	QRecent Question = "b recency"
	// QCoupon: QShare and QRecent, and no purchase in [Shop.Sub] in the
	// 90 days before AsOf.
	QCoupon Question = "c coupon"
	// QRFM: the 25 R×F cells of NTILE(5) scores.
	QRFM Question = "d rfm"
	// QCouponStats: the number and net spend of the QCoupon customers.
	QCouponStats Question = "e coupon stats"
)

// Questions lists the questions in order.
var Questions = []Question{QShare, QRecent, QCoupon, QRFM, QCouponStats}

// Set is the answer for one set of customers: their keys in ascending order,
// their number and their net spend in the look-back.
type Set struct {
	Keys      []string // nil when only the count and spend are known
	Customers int
	Spend     affinity.Money
}

// Answers holds one way's answers to the questions: Sets for QShare,
// QRecent, QCoupon and QCouponStats, and RFM[r-1][f-1] for the R×F cells.
type Answers struct {
	Sets map[Question]Set
	RFM  [5][5]Set
}

// Compare returns one line per difference between the answers of two ways,
// named a and b; nil when they agree. Customer sets are compared key by key
// where both sides have keys, and the first few differing keys are listed.
func Compare(a, b string, x, y *Answers) []string {
	var out []string
	for _, q := range []Question{QShare, QRecent, QCoupon, QCouponStats} {
		if d := diffSet(x.Sets[q], y.Sets[q]); d != "" {
			out = append(out, fmt.Sprintf("%s: %s vs %s: %s", q, a, b, d))
		}
	}
	for r := range 5 {
		for f := range 5 {
			if d := diffSet(x.RFM[r][f], y.RFM[r][f]); d != "" {
				out = append(out, fmt.Sprintf("%s: R%d F%d: %s vs %s: %s", QRFM, r+1, f+1, a, b, d))
			}
		}
	}
	return out
}

// String formats the set as "n customers, spend s".
func (s Set) String() string {
	return fmt.Sprintf("%d customers, spend %s", s.Customers, s.Spend)
}

func diffSet(x, y Set) string {
	var d []string
	if x.Customers != y.Customers {
		d = append(d, fmt.Sprintf("%d vs %d customers", x.Customers, y.Customers))
	}
	if x.Spend != y.Spend {
		d = append(d, fmt.Sprintf("spend %s vs %s", x.Spend, y.Spend))
	}
	if x.Keys != nil && y.Keys != nil && !slices.Equal(x.Keys, y.Keys) {
		onlyX, onlyY := minus(x.Keys, y.Keys), minus(y.Keys, x.Keys)
		d = append(d, fmt.Sprintf("%d only in the first (%s), %d only in the second (%s)",
			len(onlyX), head(onlyX), len(onlyY), head(onlyY)))
	}
	return strings.Join(d, "; ")
}

// minus returns the keys of sorted x that are not in sorted y.
func minus(x, y []string) []string {
	var out []string
	j := 0
	for _, k := range x {
		for j < len(y) && y[j] < k {
			j++
		}
		if j == len(y) || y[j] != k {
			out = append(out, k)
		}
	}
	return out
}

func head(keys []string) string {
	if len(keys) > 5 {
		return strings.Join(keys[:5], " ") + " …"
	}
	return strings.Join(keys, " ")
}
