package segment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// boundsHistory returns a History of ten customers, customer i with i+1
// orders on days before boundsAsOf, spending more and buying more
// recently the more orders it has, so that the RFM scores and lifecycle
// stages differ and c9 scores 5 on R, F and M.
func boundsHistory(t testing.TB) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for i := range 10 {
		key := fmt.Sprintf("c%d", i)
		for o := range i + 1 {
			noErr(t, b.Add(affinity.Purchase{Customer: key, Product: "p", Order: fmt.Sprintf("%s-%d", key, o),
				Time: boundsAsOf.Add(-time.Duration(10*(9-i)+o+1) * segment.Day), Quantity: 1, Price: affinity.Money(i+1) * affinity.MoneyScale}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

var boundsAsOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// roundTrip writes x and reads it back.
func roundTrip(t *testing.T, x *segment.Index, msg string) *segment.Index {
	t.Helper()
	var buf bytes.Buffer
	_, err := x.WriteTo(&buf)
	require.NoError(t, err, msg)
	y, err := segment.ReadIndex(&buf)
	require.NoError(t, err, "%s: ReadIndex of what WriteTo wrote", msg)
	return y
}

// Every integer option at the limits of the narrower types an index
// holds it in (int32 counts, uint32 and uint16 fields of the file, uint8
// scores): Build either refuses it with ErrInvalid or builds an index
// that reads back from its file with the same options and features. A
// value above the int32 range used to wrap: LoyalOrders 1<<32+2 acted as
// 2, 1<<31 made every buyer loyal, and an index built with 1<<32+1 wrote
// a file ReadIndex refused.
func TestIntegerOptionsAtTypeLimits(t *testing.T) {
	h := boundsHistory(t)
	bigDays := time.Duration(math.MaxInt64/segment.Day) * segment.Day
	cases := []struct {
		name string
		opts segment.Options
		ok   bool
	}{
		{"LoyalOrders MaxInt32", segment.Options{LoyalOrders: math.MaxInt32}, true},
		{"LoyalOrders MaxInt32+1", segment.Options{LoyalOrders: math.MaxInt32 + 1}, false},
		{"LoyalOrders 1<<32+1", segment.Options{LoyalOrders: 1<<32 + 1}, false},
		{"LoyalOrders 1<<32+2", segment.Options{LoyalOrders: 1<<32 + 2}, false},
		{"LoyalOrders MaxInt", segment.Options{LoyalOrders: math.MaxInt}, false},
		{"LoyalOrders MinInt", segment.Options{LoyalOrders: math.MinInt}, false},
		{"TopN 1<<32+3", segment.Options{TopN: 1<<32 + 3}, false},
		{"TopN MinInt", segment.Options{TopN: math.MinInt}, false},
		{"Lookback.Months 1<<32+1", segment.Options{Lookback: affinity.Months(1<<32 + 1)}, false},
		{"Lookback.Duration MaxInt64", segment.Options{Lookback: affinity.Lookback{Duration: math.MaxInt64}}, false},
		{"Lookback 65,535 days", segment.Options{Lookback: affinity.Days(65535)}, true},
		{"Lookback 65,536 days", segment.Options{Lookback: affinity.Days(65536)}, false},
		{"LapseAfter 65,534 days", segment.Options{Lookback: affinity.AllTime, LapseAfter: 65534 * segment.Day}, true},
		{"LapseAfter 65,535 days", segment.Options{Lookback: affinity.AllTime, LapseAfter: 65535 * segment.Day}, false}, // ChurnAfter one day more
		{"LapseAfter 65,536 days", segment.Options{Lookback: affinity.AllTime, LapseAfter: 65536 * segment.Day}, false},
		{"LapseAfter longest Duration", segment.Options{Lookback: affinity.AllTime, LapseAfter: bigDays}, false},
		{"ChurnAfter 65,535 days", segment.Options{ChurnAfter: 65535 * segment.Day}, true},
		{"ChurnAfter 65,536 days", segment.Options{ChurnAfter: 65536 * segment.Day}, false},
		{"ChurnAfter longest Duration", segment.Options{ChurnAfter: bigDays}, false},
		{"HalfLife MaxInt64", segment.Options{HalfLife: math.MaxInt64}, true},
		{"Workers MaxInt", segment.Options{Workers: math.MaxInt}, true},
		{"Workers MinInt", segment.Options{Workers: math.MinInt}, true},
		{"RFMScoring 255", segment.Options{RFMScoring: 255}, false},
		{"ScoreRange Max 256+5", segment.Options{RFMRules: []segment.RFMRule{{Name: "a", R: segment.ScoreRange{Min: 1, Max: 256 + 5}}}}, false},
		{"ScoreRange Min 1<<32+1", segment.Options{RFMRules: []segment.RFMRule{{Name: "a", F: segment.ScoreRange{Min: 1<<32 + 1, Max: 5}}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := segment.Build(context.Background(), h, boundsAsOf, c.opts)
			if !c.ok {
				require.ErrorIs(t, err, segment.ErrInvalid)
				return
			}
			require.NoError(t, err)
			y := roundTrip(t, x, c.name)
			xo, yo := x.Options(), y.Options()
			xo.Workers, yo.Workers = 0, 0 // not stored
			assert.Equal(t, xo, yo)
			all := x.All()
			require.Equal(t, all.ToArray(), y.All().ToArray())
			assert.Equal(t, x.FeaturesOf(all), y.FeaturesOf(all))
		})
	}
}

// LoyalOrders at the top of its range leaves everybody short of loyal,
// and the smallest value makes every active customer with two orders
// loyal: the bound is the count a customer's orders are held in, not
// a wrapped value.
func TestLoyalOrdersExtremes(t *testing.T) {
	h := boundsHistory(t)
	for _, c := range []struct {
		loyal int
		want  func(f segment.Features) bool
	}{
		{math.MaxInt32, func(segment.Features) bool { return false }},
		{2, func(f segment.Features) bool { return f.Frequency >= 2 }},
	} {
		x, err := segment.Build(context.Background(), h, boundsAsOf, segment.Options{LoyalOrders: c.loyal})
		require.NoError(t, err)
		n := 0
		for _, f := range x.FeaturesOf(x.All()) {
			loyal := f.Stage == segment.StageLoyal
			assert.Equal(t, c.want(f) && f.Stage != segment.StageLapsing && f.Stage != segment.StageChurned, loyal,
				"LoyalOrders %d: customer %s with %d orders is %s", c.loyal, f.Customer, f.Frequency, f.Stage)
			if loyal {
				n++
			}
		}
		if c.loyal == 2 {
			require.Positive(t, n, "no loyal customer at all")
		}
	}
}

// boundsRules returns n rules: the first n-1 take only the customers
// scored 5 on R, F and M; the last takes every other score.
func boundsRules(n int) []segment.RFMRule {
	five := segment.ScoreRange{Min: 5, Max: 5}
	rules := make([]segment.RFMRule, n)
	for i := range n - 1 {
		rules[i] = segment.RFMRule{Name: fmt.Sprintf("r%05d", i), R: five, F: five, M: five}
	}
	rules[n-1] = segment.RFMRule{Name: "rest"}
	return rules
}

// RFMRules may hold at most 1,024 rules. Beyond 65,535 the segment
// numbers wrapped, so that with 65,536 rules every customer no rule
// matched landed in the first rule; now more than 1,024 are refused by
// Build, and by ReadIndex in a file. At the limit every customer is in
// the first rule that matches it, in the index and in its file.
func TestRFMRulesCountLimit(t *testing.T) {
	h := boundsHistory(t)
	for _, n := range []int{1025, 1 << 16} {
		_, err := segment.Build(context.Background(), h, boundsAsOf, segment.Options{RFMRules: boundsRules(n)})
		require.ErrorIs(t, err, segment.ErrInvalid, "%d rules", n)
	}

	rules := boundsRules(1024)
	x, err := segment.Build(context.Background(), h, boundsAsOf, segment.Options{RFMRules: rules})
	require.NoError(t, err)
	y := roundTrip(t, x, "1,024 rules")
	require.Equal(t, x.Options(), y.Options())
	var top, rest int
	for _, z := range []*segment.Index{x, y} {
		for _, f := range z.FeaturesOf(z.All()) {
			want := "rest"
			if f.R == 5 && f.F == 5 && f.M == 5 {
				want, top = rules[0].Name, top+1
			} else {
				rest++
			}
			require.Equal(t, want, f.RFM, "customer %s scored %d/%d/%d", f.Customer, f.R, f.F, f.M)
		}
	}
	require.Positive(t, top)
	require.Positive(t, rest)

	// the file with one rule more: the count after the options' fixed
	// fields (as of, look-back days, months, duration, all, scoring,
	// half-life, TopN, LoyalOrders, LapseAfter, ChurnAfter), then the
	// extra rule after the first
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	good := buf.Bytes()
	body := slices.Clone(good[16 : len(good)-16])
	const countAt = 8 + 4 + 4 + 8 + 1 + 1 + 8 + 4 + 4 + 4 + 4
	require.Equal(t, uint32(1024), binary.LittleEndian.Uint32(body[countAt:]), "the rule count's offset")
	binary.LittleEndian.PutUint32(body[countAt:], 1025)
	first := countAt + 4 + 1 + len(rules[0].Name) + 6
	extra := append([]byte{5}, "extra"...)
	extra = append(extra, 1, 5, 1, 5, 1, 5)
	body = slices.Insert(body, first, extra...)
	_, err = segment.ReadIndex(bytes.NewReader(cdcReseal(nil, good, body)))
	require.ErrorIs(t, err, segment.ErrCorrupt)
	require.ErrorContains(t, err, "1025 RFM rules")
}

// RFM rule names are unique regardless of case exactly as
// strings.EqualFold compares them, in time linear in the rules: names
// that only Unicode case folding (not lower-casing) makes equal, and
// bytes that are not UTF-8 (which EqualFold reads as U+FFFD).
func TestRFMRuleNamesCaseFold(t *testing.T) {
	h := boundsHistory(t)
	names := []string{"a", "A", "s", "S", "ſ", "k", "K", "\u212a", "ß", "ẞ", "ss", "σ", "ς", "Σ",
		"i", "I", "İ", "ı", "\xff", "\xfe", "\ufffd", "aſ", "AS", "Ǆ", "ǅ", "ǆ"}
	for i, a := range names {
		for _, b := range names[i+1:] {
			_, err := segment.Build(context.Background(), h, boundsAsOf, segment.Options{
				RFMRules: []segment.RFMRule{{Name: a}, {Name: b}}})
			if strings.EqualFold(a, b) {
				require.ErrorIs(t, err, segment.ErrInvalid, "%q and %q", a, b)
				require.ErrorContains(t, err, "appears twice")
			} else {
				require.NoError(t, err, "%q and %q", a, b)
			}
		}
	}
}
