package segment

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/internal/pkgerr"
	"github.com/shopaffinity/affinity/segment/query"
)

// Day is the unit of every recency, tenure and window: features count whole
// days of 24 hours back from the as-of time.
const Day = 24 * time.Hour

// Default option values.
const (
	// DefaultLookbackMonths is the look-back of the zero [Options.Lookback]:
	// affinity.Months(24), 24 calendar months, the usual CLV "lifetime".
	DefaultLookbackMonths = 24
	DefaultTopN           = 3
	DefaultLoyalOrders    = 4
	DefaultLapseAfter     = 180 * Day
	DefaultChurnAfter     = 365 * Day
	maxTopN               = 64
	maxDays               = 1 << 16 // windows and look-backs stay below ~179 years
	maxRFMRules           = 1 << 10 // rules of Options.RFMRules; an index numbers them in uint16
)

// Options configures [Build]. The zero value means the documented defaults.
type Options struct {
	// Lookback is the window (Lookback.Start(asOf), asOf] whose orders and
	// events make up frequency, monetary value, average order value, the
	// category shares and every bought/viewed/carted set. The zero value
	// means affinity.Months(24): 24 calendar months, so that a window
	// over a February 29 keeps its extra day (see affinity.Lookback for
	// month ends); [affinity.AllTime] means
	// everything up to asOf. The window, in whole days rounded up, must be
	// shorter than 65,536 days. Recency and tenure look at all orders up to
	// asOf regardless.
	Lookback affinity.Lookback
	// HalfLife, when positive, weights each order in the category shares by
	// 2^(-age/HalfLife), so that old interests fade. Zero means no decay.
	// It does not affect frequency, monetary value or recency.
	HalfLife time.Duration
	// TopN is how many categories per level of the tree count as a
	// customer's top categories (see [TopRank]); default 3, at most 64.
	TopN int
	// LoyalOrders is the number of orders in the look-back from which an
	// active customer counts as loyal rather than repeat; default 4, at
	// least 2 and at most math.MaxInt32 (2,147,483,647, the range of a
	// customer's order count; a value above it is an ErrInvalid).
	LoyalOrders int
	// LapseAfter is the recency beyond which a customer is lapsing; default
	// 180 days, or the look-back's length in days when that is shorter. It
	// must not exceed the look-back.
	LapseAfter time.Duration
	// ChurnAfter is the recency beyond which a customer is churned; default
	// 365 days, or LapseAfter plus a day when that is longer. It must
	// exceed LapseAfter. Recency is counted in whole days, so a purchase
	// 365.9 days back is not yet beyond 365 days.
	ChurnAfter time.Duration
	// RFMScoring chooses how RFM scores are computed: [RFMRank] (the zero
	// value: equal values share a score) or [RFMNTile] (SQL's NTILE(5),
	// ties broken by customer key). See the package documentation.
	RFMScoring RFMScoring
	// RFMRules is the ordered RFM segment map; nil means
	// [DefaultRFMRules]. A customer belongs to the first rule that matches
	// its scores, or to no RFM segment when none does. At most 1,024
	// rules; more are an ErrInvalid (there are only 125 combinations of
	// scores, so a longer map has rules that match nobody).
	RFMRules []RFMRule
	// NonMerchandise holds products (by [affinity.ProductID]) that are
	// spend but not a taste — postage, fees, gift vouchers, manual
	// adjustments: their lines count in the frequency, the monetary value
	// and the totals the category shares divide by, and the product's own
	// bought, viewed and carted sets, but in no category (no share, rank,
	// recency or bought set of a category), as if the product had none.
	// nil means none; Build keeps a copy, and the index file stores it.
	NonMerchandise *roaring.Bitmap
	// Workers is the number of goroutines Build uses; default GOMAXPROCS.
	// The result does not depend on it.
	Workers int
}

// withDefaults fills in defaults and validates the options. lookDays is
// the look-back's length in days, rounded up (0 for [affinity.AllTime]).
func (o Options) withDefaults(lookDays int) (Options, error) {
	if err := o.Lookback.Validate(); err != nil {
		return o, pkgerr.Wrap("segment", "Lookback", err, ErrInvalid)
	}
	o.Lookback = o.Lookback.Or(affinity.Months(DefaultLookbackMonths))
	if !o.Lookback.All && lookDays <= 0 {
		return o, fmt.Errorf("%w: Lookback %v is an empty window", ErrInvalid, o.Lookback)
	}
	if lookDays >= maxDays {
		return o, fmt.Errorf("%w: Lookback %v spans %d days, at most %d are supported", ErrInvalid, o.Lookback, lookDays, maxDays-1)
	}
	lookback := time.Duration(lookDays) * Day
	if o.Lookback.All {
		lookback = maxDays * Day
	}
	if o.TopN == 0 {
		o.TopN = DefaultTopN
	}
	if o.LoyalOrders == 0 {
		o.LoyalOrders = DefaultLoyalOrders
	}
	if o.LapseAfter == 0 {
		o.LapseAfter = min(DefaultLapseAfter, lookback)
	}
	if o.ChurnAfter == 0 {
		o.ChurnAfter = max(DefaultChurnAfter, o.LapseAfter+Day)
	}
	if o.RFMRules == nil {
		o.RFMRules = DefaultRFMRules()
	}
	if o.NonMerchandise != nil {
		// a copy, the caller's to change; an empty set is none, so that
		// an index reports and stores the same either way
		if o.NonMerchandise.IsEmpty() {
			o.NonMerchandise = nil
		} else {
			o.NonMerchandise = o.NonMerchandise.Clone()
		}
	}
	// a zero range means every score: spell it out (a copy), as an index
	// file stores it, so that Options reports the same rules either way
	rules := o.RFMRules
	o.RFMRules = make([]RFMRule, len(rules))
	for i, r := range rules {
		for _, s := range []*ScoreRange{&r.R, &r.F, &r.M} {
			s.Min, s.Max = s.bounds()
		}
		o.RFMRules[i] = r
	}
	o.Workers = parallel.Workers(o.Workers)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"LapseAfter", o.LapseAfter}, {"ChurnAfter", o.ChurnAfter}} {
		if _, err := wholeDays(d.name, d.v); err != nil {
			return o, err
		}
	}
	switch {
	case o.HalfLife < 0:
		return o, fmt.Errorf("%w: HalfLife %v is negative", ErrInvalid, o.HalfLife)
	case o.TopN < 1 || o.TopN > maxTopN:
		return o, fmt.Errorf("%w: TopN %d is not in [1, %d]", ErrInvalid, o.TopN, maxTopN)
	case o.LoyalOrders < 2 || o.LoyalOrders > math.MaxInt32:
		return o, fmt.Errorf("%w: LoyalOrders %d is not in [2, %d]", ErrInvalid, o.LoyalOrders, math.MaxInt32)
	case o.LapseAfter > lookback:
		return o, fmt.Errorf("%w: LapseAfter %s exceeds Lookback %v (%dd)", ErrInvalid, query.FormatDays(o.LapseAfter), o.Lookback, lookDays)
	case o.RFMScoring != RFMRank && o.RFMScoring != RFMNTile:
		return o, fmt.Errorf("%w: RFMScoring %d", ErrInvalid, o.RFMScoring)
	case o.ChurnAfter <= o.LapseAfter:
		return o, fmt.Errorf("%w: ChurnAfter %s does not exceed LapseAfter %s", ErrInvalid, query.FormatDays(o.ChurnAfter), query.FormatDays(o.LapseAfter))
	}
	if err := validateRules(o.RFMRules); err != nil {
		return o, err
	}
	return o, nil
}

// wholeDays converts a positive whole number of days to days.
func wholeDays(what string, d time.Duration) (int, error) {
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%w: %s %v is an empty window", ErrInvalid, what, d)
	case d%Day != 0:
		return 0, fmt.Errorf("%w: %s %v is not a whole number of days", ErrInvalid, what, d)
	case d/Day >= maxDays:
		return 0, fmt.Errorf("%w: %s %v is too long", ErrInvalid, what, d)
	}
	return int(d / Day), nil
}

// lookDays returns the length in days, rounded up, of the look-back l
// (defaults resolved) ending at asOf (Unix seconds), and the Unix time of
// its start: an order at t is in the look-back when start < t ≤ asOf. For
// [affinity.AllTime] it returns 0 and math.MinInt64.
func lookWindow(l affinity.Lookback, asOf int64) (days int, start int64) {
	l = l.Or(affinity.Months(DefaultLookbackMonths))
	if l.All {
		return 0, math.MinInt64
	}
	start = l.Start(time.Unix(asOf, 0).UTC()).Unix()
	span := asOf - start
	if span <= 0 {
		return 0, asOf
	}
	return int((span + secondsPerDay - 1) / secondsPerDay), start
}

// RFMScoring is a way of turning recency, frequency and monetary values
// into scores from 1 to 5; see the package documentation.
type RFMScoring uint8

const (
	// RFMRank gives equal values equal scores: score = 1 + ⌊5·L/N⌋ with L
	// the customers with a strictly worse value (SQL RANK() cut into
	// quintiles), except that the best value scores 5 and, when every
	// scored customer has the same value, everyone scores 3 (see the
	// package documentation). Recency is counted in whole days.
	RFMRank RFMScoring = iota
	// RFMNTile gives the scores of SQL's NTILE(5) OVER (ORDER BY value,
	// customer_key): customers sorted by value, ties broken by the shop's
	// customer key (byte order), cut into five tiles whose sizes differ by
	// at most one, the larger tiles first. R orders by the exact time of the
	// last purchase (seconds), F by frequency and M by monetary value, all
	// ascending, so 5 is the most recent, most frequent, highest spending.
	RFMNTile
)

// String returns "rank" or "ntile".
func (s RFMScoring) String() string {
	switch s {
	case RFMRank:
		return "rank"
	case RFMNTile:
		return "ntile"
	}
	return fmt.Sprintf("RFMScoring(%d)", s)
}

// ScoreRange is an inclusive range of RFM scores. The zero value means any
// score (1 to 5).
type ScoreRange struct {
	Min, Max int
}

func (r ScoreRange) bounds() (lo, hi int) {
	if r == (ScoreRange{}) {
		return 1, 5
	}
	return r.Min, r.Max
}

func (r ScoreRange) contains(s int) bool {
	lo, hi := r.bounds()
	return lo <= s && s <= hi
}

// RFMRule is one row of an RFM segment map: the customers whose recency,
// frequency and monetary scores fall in R, F and M belong to the segment
// Name, unless an earlier rule already took them. Names are unique
// regardless of case, not empty, and without spaces at either end
// (rfm("…") trims the name it looks up); others are an ErrInvalid.
type RFMRule struct {
	Name    string
	R, F, M ScoreRange
}

// String formats the rule as "Name: R 4-5, F 1, M 1-5".
func (r RFMRule) String() string {
	f := func(s ScoreRange) string {
		lo, hi := s.bounds()
		if lo == hi {
			return fmt.Sprint(lo)
		}
		return fmt.Sprintf("%d-%d", lo, hi)
	}
	return fmt.Sprintf("%s: R %s, F %s, M %s", r.Name, f(r.R), f(r.F), f(r.M))
}

// DefaultRFMRules returns the standard RFM segment map on the recency and
// frequency scores (the widely used R×F grid; monetary is not used), in
// the order they are applied. Every R×F cell belongs to exactly one rule:
//
//	Champions            R 5,   F 4-5
//	Loyal                R 3-4, F 4-5
//	Potential loyalists  R 4-5, F 2-3
//	New                  R 5,   F 1
//	Promising            R 4,   F 1
//	Need attention       R 3,   F 3
//	About to sleep       R 3,   F 1-2
//	Can't lose them      R 1-2, F 5
//	At risk              R 1-2, F 3-4
//	Lost                 R 1,   F 1
//	Hibernating          R 1-2, F 1-2
//
// The caller owns the returned slice.
func DefaultRFMRules() []RFMRule {
	r := func(lo, hi int) ScoreRange { return ScoreRange{lo, hi} }
	return []RFMRule{
		{Name: "Champions", R: r(5, 5), F: r(4, 5)},
		{Name: "Loyal", R: r(3, 4), F: r(4, 5)},
		{Name: "Potential loyalists", R: r(4, 5), F: r(2, 3)},
		{Name: "New", R: r(5, 5), F: r(1, 1)},
		{Name: "Promising", R: r(4, 4), F: r(1, 1)},
		{Name: "Need attention", R: r(3, 3), F: r(3, 3)},
		{Name: "About to sleep", R: r(3, 3), F: r(1, 2)},
		{Name: "Can't lose them", R: r(1, 2), F: r(5, 5)},
		{Name: "At risk", R: r(1, 2), F: r(3, 4)},
		{Name: "Lost", R: r(1, 1), F: r(1, 1)},
		{Name: "Hibernating", R: r(1, 2), F: r(1, 2)},
	}
}

// validateRules checks the rules' count, names and score ranges in time
// linear in their number (names are compared by their case fold, as
// strings.EqualFold compares them).
func validateRules(rules []RFMRule) error {
	if len(rules) > maxRFMRules {
		return fmt.Errorf("%w: %d RFM rules, at most %d are supported", ErrInvalid, len(rules), maxRFMRules)
	}
	seen := make(map[string]struct{}, len(rules))
	for i, r := range rules {
		if strings.TrimSpace(r.Name) == "" {
			return fmt.Errorf("%w: RFM rule %d has no name", ErrInvalid, i)
		}
		if strings.TrimSpace(r.Name) != r.Name {
			// rfm("…") trims the name it looks up: this one could not be
			// queried
			return fmt.Errorf("%w: RFM rule name %q begins or ends with a space", ErrInvalid, r.Name)
		}
		k := foldKey(r.Name)
		if _, dup := seen[k]; dup {
			return fmt.Errorf("%w: RFM rule %q appears twice", ErrInvalid, r.Name)
		}
		seen[k] = struct{}{}
		for _, s := range []ScoreRange{r.R, r.F, r.M} {
			if lo, hi := s.bounds(); lo < 1 || hi > 5 || lo > hi {
				return fmt.Errorf("%w: RFM rule %q has score range %d-%d outside 1-5", ErrInvalid, r.Name, lo, hi)
			}
		}
	}
	return nil
}

// foldKey returns a key of s equal to another's exactly when
// strings.EqualFold reports the two equal: each rune replaced by the
// least rune of its simple case-folding orbit (unicode.SimpleFold), and
// each byte that is not UTF-8 by utf8.RuneError, as EqualFold decodes
// it. (strings.ToLower is not that: it maps 'K' (Kelvin sign) to 'k'
// but leaves 'ſ' (long s), which EqualFold matches with 's' and 'S'.)
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// Lifecycle stages, in the order [Build] assigns them: a customer who bought
// at or before asOf is churned when the last purchase is more than
// ChurnAfter ago, else lapsing when it is more than LapseAfter ago or
// there is no order in the look-back, else loyal, repeat or new by the
// number of orders in the look-back.
const (
	StageNew     = "new"     // one order in the look-back
	StageRepeat  = "repeat"  // 2 to LoyalOrders-1 orders
	StageLoyal   = "loyal"   // LoyalOrders or more orders
	StageLapsing = "lapsing" // LapseAfter < recency ≤ ChurnAfter, or no order in the look-back
	StageChurned = "churned" // recency > ChurnAfter
)

// Stages lists the lifecycle stages in a fixed order.
var stages = [...]string{StageNew, StageRepeat, StageLoyal, StageLapsing, StageChurned}

// Stages returns the lifecycle stage names: new, repeat, loyal, lapsing,
// churned. The caller owns the slice.
func Stages() []string { return stages[:] }
