package segment_test

// Adversarial tests of customer attributes (LoadAttributes, Attributes,
// WithAttributes), RFM scoring (ScoreRFM, RFMRank, RFMNTile, RFMRules),
// Transition/Transitions and WriteTable, against naive models written from
// the package documentation.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var advAsOf = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// advKeys returns the keys of the customers of the query q on x, sorted.
func advKeys(t *testing.T, x *segment.Index, q string) []string {
	t.Helper()
	set, err := x.Query(q)
	require.NoError(t, err, q)
	out := []string{}
	for k := range x.Keys(set) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func advLoad(t *testing.T, x *segment.Index, src string, o segment.AttributeOptions) (*segment.Index, *segment.Attributes, segment.AttributeReport) {
	t.Helper()
	a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, o)
	require.NoError(t, err, src)
	y, err := x.WithAttributes(a)
	require.NoError(t, err)
	return y, a, rep
}

// A file saved by Excel ("CSV UTF-8") starts with a byte order mark and
// ends its lines with CRLF: the header's first name is still "customer".
func TestAdvAttrBOMHeader(t *testing.T) {
	x := attrIndex(t, 3, advAsOf)
	src := "\ufeffcustomer,optin\r\nc000,yes\r\nc001,no\r\n"
	a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, segment.AttributeOptions{Flags: []string{"optin"}})
	require.NoError(t, err)
	assert.Equal(t, segment.AttributeReport{Rows: 2, Loaded: 2}, rep)
	require.NotNil(t, a)
	assert.Equal(t, []uint32{0}, a.Flag("optin").ToArray())
}

func TestAdvAttrCRLFQuotesAndHeaderCase(t *testing.T) {
	x := attrIndex(t, 4, advAsOf)
	src := "\"Customer\", OptIn ,\"Country\"\r\n" +
		"\"c000\",\"yes\",\"DE\"\r\n" +
		" c001 , N ,\"FR\"\r\n" +
		"c002,TRUE,\"D,E\"\r\n"
	y, a, rep := advLoad(t, x, src, segment.AttributeOptions{Flags: []string{"optin"}, Texts: []string{"country"}})
	assert.Equal(t, segment.AttributeReport{Rows: 3, Loaded: 3}, rep)
	assert.Equal(t, []string{"c000", "c002"}, advKeys(t, y, `flag("optin") = 1`))
	assert.Equal(t, []string{"c001", "c003"}, advKeys(t, y, `flag("optin") = 0`))
	assert.Equal(t, []string{"c000"}, advKeys(t, y, `flag("country=DE") = 1`))
	assert.Equal(t, []string{"c002"}, advKeys(t, y, `flag("country=D,E") = 1`))
	v, ok := a.Text("country", 1)
	assert.True(t, ok)
	assert.Equal(t, "FR", v)
}

// A customer on several rows keeps the last value of each field: a later
// "no" clears the flag, a later text moves the text flag, a later date
// replaces the date.
func TestAdvAttrDuplicateRowsLastWins(t *testing.T) {
	x := attrIndex(t, 3, advAsOf)
	src := "customer,optin,country,signup\n" +
		"c000,yes,DE,2025-05-01\n" +
		"c001,no,FR,2025-05-01\n" +
		"c000,no,FR,2025-05-30\n" +
		"c001,yes,FR,2025-05-02\n" +
		"c001,1,IT,2025-05-03\n"
	y, a, rep := advLoad(t, x, src, segment.AttributeOptions{Flags: []string{"optin"}, Texts: []string{"country"}, Dates: []string{"signup"}})
	assert.Equal(t, segment.AttributeReport{Rows: 5, Loaded: 5}, rep)
	assert.Equal(t, []string{"c001"}, advKeys(t, y, `flag("optin") = 1`))
	assert.Equal(t, []string{}, advKeys(t, y, `flag("country=DE") = 1`))
	assert.Equal(t, []string{"c000"}, advKeys(t, y, `flag("country=FR") = 1`))
	assert.Equal(t, []string{"c001"}, advKeys(t, y, `flag("country=IT") = 1`))
	d, ok := a.Date("signup", 0)
	require.True(t, ok)
	assert.Equal(t, time.Date(2025, 5, 30, 0, 0, 0, 0, time.UTC), d)
	assert.Equal(t, []string{"c000"}, advKeys(t, y, `days_since("signup") = 2`))
	assert.Equal(t, []string{"c001"}, advKeys(t, y, `days_since("signup") = 29`))
	// the same file loaded twice gives the same answers
	y2, _, rep2 := advLoad(t, x, src, segment.AttributeOptions{Flags: []string{"optin"}, Texts: []string{"country"}, Dates: []string{"signup"}})
	assert.Equal(t, rep, rep2)
	for _, q := range []string{`flag("optin") = 1`, `flag("country=FR") = 1`, `days_since("signup") >= 10`} {
		assert.Equal(t, advKeys(t, y, q), advKeys(t, y2, q), q)
	}
}

// Rows of unknown customers are counted and skipped; Rows = Loaded +
// UnknownCustomers; empty cells are no value.
func TestAdvAttrUnknownAndEmpty(t *testing.T) {
	x := attrIndex(t, 5, advAsOf)
	rng := rand.New(rand.NewPCG(7, 7))
	var sb strings.Builder
	sb.WriteString("customer,optin,birthday,country\n")
	wantUnknown, wantLoaded := 0, 0
	for i := range 200 {
		k := fmt.Sprintf("c%03d", rng.IntN(12))
		if k >= "c005" {
			wantUnknown++
		} else {
			wantLoaded++
		}
		_ = i
		fmt.Fprintf(&sb, "%s,,,\n", k)
	}
	y, a, rep := advLoad(t, x, sb.String(), segment.AttributeOptions{Flags: []string{"optin"}, Dates: []string{"birthday"}, Texts: []string{"country"}})
	assert.Equal(t, segment.AttributeReport{Rows: 200, Loaded: wantLoaded, UnknownCustomers: wantUnknown}, rep)
	flags, dates, texts := a.Names()
	assert.Contains(t, flags, "optin", "a flag column exists even when nobody has it")
	assert.Empty(t, dates)
	assert.Empty(t, texts)
	assert.Equal(t, []string{"c000", "c001", "c002", "c003", "c004"}, advKeys(t, y, `flag("optin") = 0`))
	assert.Equal(t, []string{}, advKeys(t, y, `flag("optin") = 1`))
	_, ok := a.Text("country", 0)
	assert.False(t, ok)
}

// A header without rows loads nothing; opts.Customer names the key column
// (any case), and without it a file lacking "customer" is an error on line 1.
func TestAdvAttrHeaderOnlyAndCustomColumn(t *testing.T) {
	x := attrIndex(t, 2, advAsOf)
	y, a, rep := advLoad(t, x, "id,optin\n", segment.AttributeOptions{Customer: "ID", Flags: []string{"optin"}})
	assert.Equal(t, segment.AttributeReport{}, rep)
	assert.True(t, a.Flag("optin").IsEmpty())
	assert.Equal(t, []string{"c000", "c001"}, advKeys(t, y, `flag("optin") = 0`))
	_, _, err := segment.LoadAttributes(strings.NewReader("id,optin\n"), x, segment.AttributeOptions{Flags: []string{"optin"}})
	require.ErrorContains(t, err, "line 1")
}

// A value that does not parse is an error with its line and column: the
// line of the value, even when an earlier field of its row spans lines.
func TestAdvAttrBadValueAfterMultilineField(t *testing.T) {
	x := attrIndex(t, 2, advAsOf)
	src := "customer,note,optin\n" +
		"c000,\"two\nlines\",maybe\n"
	_, _, err := segment.LoadAttributes(strings.NewReader(src), x, segment.AttributeOptions{Flags: []string{"optin"}})
	require.Error(t, err)
	// "maybe" is on line 3, the third field
	assert.Contains(t, err.Error(), "line 3, column 3 (optin)")
}

func TestAdvAttrBadValues(t *testing.T) {
	x := attrIndex(t, 3, advAsOf)
	for _, tc := range []struct {
		name, src string
		o         segment.AttributeOptions
		want      string
	}{
		{"flag on line 4", "customer,optin\nc000,1\nc001,0\nc002,2\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 4, column 2 (optin)"},
		{"date layout", "customer,birthday\nc000,1990-02-30\n", segment.AttributeOptions{Dates: []string{"birthday"}}, "line 2, column 2 (birthday)"},
		{"date in another layout", "customer,birthday\nc000,02/01/1990\n", segment.AttributeOptions{Dates: []string{"birthday"}}, "line 2, column 2 (birthday)"},
		// time.Parse reads offsets of a day or more, which no zone has
		{"offset +24:00", "customer,birthday\nc000,1990-02-03 00:00 +23:00\nc001,1990-02-03 00:00 +24:00\n", segment.AttributeOptions{Dates: []string{"birthday"}, DateLayout: "2006-01-02 15:04 -07:00"}, "line 3, column 2 (birthday)"},
		{"offset -2400", "customer,birthday\nc000,1990-02-03 00:00 -2400\n", segment.AttributeOptions{Dates: []string{"birthday"}, DateLayout: "2006-01-02 15:04 -0700"}, "line 2, column 2 (birthday)"},
		{"third column", "customer,a,optin\nc000,x,yes\nc001,x,ja\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 3, column 3 (optin)"},
		{"too few fields", "customer,optin,b\nc000,1\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 2"},
		{"missing date column", "customer,optin\n", segment.AttributeOptions{Dates: []string{"birthday"}}, "birthday"},
		{"bare quote", "customer,optin\nc0\"00,1\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _, err := segment.LoadAttributes(strings.NewReader(tc.src), x, tc.o)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// names outside the bounds are errors, not attributes
	long := strings.Repeat("a", segment.MaxAttributeName+1)
	_, _, err := segment.LoadAttributes(strings.NewReader("customer,"+long+"\n"), x, segment.AttributeOptions{Flags: []string{long}})
	require.Error(t, err)
	_, _, err = segment.LoadAttributes(strings.NewReader("customer,\n"), x, segment.AttributeOptions{Flags: []string{""}})
	require.Error(t, err)
}

// Dates in a custom layout; a time with a zone counts on its UTC day;
// days_to and days_since against a day-by-day naive count; dates far in the
// past and future; dates after as-of give negative days_since.
func TestAdvAttrDatesNaive(t *testing.T) {
	x := attrIndex(t, 8, advAsOf)
	src := "customer,signup,birthday\n" +
		"c000,01.06.2025 00:00 +0000,01.06.1990 23:59 +0000\n" + // as-of day itself
		"c001,01.06.2025 23:30 -0500,02.06.2000 00:00 +0000\n" + // 2 June 04:30 UTC
		"c002,31.12.9999 00:00 +0000,29.02.2000 00:00 +0000\n" +
		"c003,01.01.0001 00:00 +0000,31.05.1980 00:00 +0000\n" +
		"c004,31.05.2025 23:59 +0000,28.02.1999 00:00 +0000\n" +
		"c005,,\n"
	layout := "02.01.2006 15:04 -0700"
	y, a, _ := advLoad(t, x, src, segment.AttributeOptions{Dates: []string{"signup", "birthday"}, DateLayout: layout})
	today := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	wantSince := map[string]int{}
	wantTo := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(src), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[1] == "" {
			continue
		}
		s, err := time.Parse(layout, f[1])
		require.NoError(t, err)
		su := s.UTC()
		sd := time.Date(su.Year(), su.Month(), su.Day(), 0, 0, 0, 0, time.UTC)
		wantSince[f[0]] = int(today.Sub(sd).Hours() / 24)
		if su.Year() == 9999 || su.Year() == 1 {
			// beyond time.Duration: count by Unix days
			wantSince[f[0]] = int((today.Unix() - sd.Unix()) / 86400)
		}
		b, err := time.Parse(layout, f[2])
		require.NoError(t, err)
		for k := 0; k < 400; k++ {
			day := today.AddDate(0, 0, k)
			m, d := b.Month(), b.Day()
			if m == 2 && d == 29 && day.Year()%4 != 0 {
				m, d = 3, 1
			}
			if day.Month() == m && day.Day() == d {
				wantTo[f[0]] = k
				break
			}
		}
	}
	for key, want := range wantSince {
		c, ok := x.LookupCustomer(key)
		require.True(t, ok)
		got, ok := a.Date("signup", c)
		require.True(t, ok, key)
		assert.Equal(t, 0, got.Hour())
		assert.Contains(t, advKeys(t, y, fmt.Sprintf(`days_since("signup") = %d`, want)), key, "days_since of %s", key)
		assert.Contains(t, advKeys(t, y, fmt.Sprintf(`days_to("birthday") = %d`, wantTo[key])), key, "days_to of %s", key)
	}
	assert.Equal(t, -1, wantSince["c001"])
	assert.Equal(t, []string{"c001", "c002"}, advKeys(t, y, `days_since("signup") < 0`))
	// no date, no value: neither side of a comparison
	assert.NotContains(t, advKeys(t, y, `days_since("signup") >= 0 or days_since("signup") < 0`), "c005")
	assert.Contains(t, advKeys(t, y, `not days_since("signup") >= 0`), "c005")
}

// Attributes of customers the index does not number (set by id beyond it)
// are left out; Flag of an unknown name is nil.
func TestAdvAttrIDsBeyondIndex(t *testing.T) {
	x := attrIndex(t, 3, advAsOf)
	var a segment.Attributes
	assert.Nil(t, a.Flag("x"))
	for _, c := range []affinity.CustomerID{0, 2, 3, 70000, 1 << 31} {
		require.NoError(t, a.SetFlag("vip", c, true))
		require.NoError(t, a.SetDate("signup", c, advAsOf.AddDate(0, 0, -int(c%7))))
		require.NoError(t, a.SetText("tier", c, "gold"))
	}
	y, err := x.WithAttributes(&a)
	require.NoError(t, err)
	assert.Equal(t, []string{"c000", "c002"}, advKeys(t, y, `flag("vip") = 1`))
	assert.Equal(t, []string{"c000", "c002"}, advKeys(t, y, `flag("tier=gold") = 1`))
	assert.Equal(t, []string{"c000", "c002"}, advKeys(t, y, `days_since("signup") >= 0`))
	assert.Equal(t, []string{"c001"}, advKeys(t, y, `flag("vip") = 0`))
	// SetText with "" clears the text flag
	require.NoError(t, a.SetText("tier", 0, ""))
	y, err = x.WithAttributes(&a)
	require.NoError(t, err)
	assert.Equal(t, []string{"c002"}, advKeys(t, y, `flag("tier=gold") = 1`))
}

// LoadAttributes and WithAttributes with nil arguments return errors, as
// the package's other functions do for a nil Index.
func TestAdvAttrNilArguments(t *testing.T) {
	var err error
	require.NotPanics(t, func() {
		_, _, err = segment.LoadAttributes(strings.NewReader("customer\nc000\n"), nil, segment.AttributeOptions{})
	})
	require.Error(t, err)
}

// ---- RFM ----

// naiveRank scores vals (ascending better when up) by 1 + ⌊5·L/N⌋ with L
// the count of strictly worse values, the ends anchored (modelRankScore).
func naiveRank(vals []int64, better func(a, b int64) bool) []int {
	n := len(vals)
	out := make([]int, n)
	for i, v := range vals {
		l, g := 0, 0
		for _, w := range vals {
			if better(v, w) {
				l++
			} else if better(w, v) {
				g++
			}
		}
		out[i] = modelRankScore(l, g, n)
	}
	return out
}

func naiveSegment(rules []segment.RFMRule, r, f, m int) string {
	in := func(s segment.ScoreRange, v int) bool {
		if s == (segment.ScoreRange{}) {
			return v >= 1 && v <= 5
		}
		return v >= s.Min && v <= s.Max
	}
	for _, rule := range rules {
		if in(rule.R, r) && in(rule.F, f) && in(rule.M, m) {
			return rule.Name
		}
	}
	return ""
}

// naiveScoreRFM scores fs by the package documentation's RFMRank.
func naiveScoreRFM(fs []segment.Features, rules []segment.RFMRule) []segment.Features {
	out := slices.Clone(fs)
	var idx []int
	var rec, freq, mon []int64
	for i, f := range fs {
		out[i].R, out[i].F, out[i].M, out[i].RFM = 0, 0, 0, ""
		if f.Frequency > 0 {
			idx = append(idx, i)
			rec = append(rec, int64(f.Recency))
			freq = append(freq, int64(f.Frequency))
			mon = append(mon, int64(f.Monetary))
		}
	}
	if len(idx) == 0 {
		return out
	}
	lower := func(a, b int64) bool { return a < b }
	higher := func(a, b int64) bool { return a > b }
	r := naiveRank(rec, lower) // fewer days is better
	f := naiveRank(freq, higher)
	m := naiveRank(mon, higher)
	for k, i := range idx {
		out[i].R, out[i].F, out[i].M = r[k], f[k], m[k]
		out[i].RFM = naiveSegment(rules, r[k], f[k], m[k])
	}
	return out
}

func TestAdvScoreRFMNaive(t *testing.T) {
	t.Parallel()
	seeds := testdata.Scale(200, 25)
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
		n := []int{0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 24, 25, 26, 60}[seed%14]
		spread := 1 + rng.IntN(6) // small spreads make many ties
		fs := make([]segment.Features, n)
		for i := range fs {
			fs[i] = segment.Features{Customer: fmt.Sprint(i), Recency: rng.IntN(spread * 10), Tenure: 900,
				Frequency: rng.IntN(spread), Monetary: affinity.Money(rng.IntN(spread*3)-spread) * 10000, AOV: 1, Stage: "x", AbandonedCartDays: -1}
			if fs[i].Frequency == 0 && rng.IntN(2) == 0 {
				fs[i].Recency = -1
			}
		}
		var rules []segment.RFMRule
		if seed%3 == 1 {
			rules = []segment.RFMRule{{Name: "top m", M: segment.ScoreRange{Min: 5, Max: 5}}, {Name: "r low", R: segment.ScoreRange{Min: 1, Max: 2}}}
		}
		want := naiveScoreRFM(fs, cmpRules(rules))
		got := slices.Clone(fs)
		require.NoError(t, segment.ScoreRFM(got, advAsOf, segment.Options{RFMRules: rules}))
		require.Equal(t, want, got, "seed %d n %d", seed, n)
		// idempotent: scoring the scored features again changes nothing
		again := slices.Clone(got)
		require.NoError(t, segment.ScoreRFM(again, advAsOf, segment.Options{RFMRules: rules}))
		require.Equal(t, got, again)
	}
}

func cmpRules(r []segment.RFMRule) []segment.RFMRule {
	if r == nil {
		return segment.DefaultRFMRules()
	}
	return r
}

// All scored customers equal: all get 3, the middle (no one is better or
// worse); the best of five distinct values gets 5.
func TestAdvScoreRFMEdges(t *testing.T) {
	mk := func(rec, freq int, mon int64) segment.Features {
		return segment.Features{Recency: rec, Frequency: freq, Monetary: affinity.Money(mon)}
	}
	fs := []segment.Features{mk(3, 2, 50), mk(3, 2, 50), mk(3, 2, 50)}
	require.NoError(t, segment.ScoreRFM(fs, advAsOf, segment.Options{}))
	for _, f := range fs {
		assert.Equal(t, [3]int{3, 3, 3}, [3]int{f.R, f.F, f.M})
		assert.Equal(t, "Need attention", f.RFM)
	}
	fs = []segment.Features{mk(50, 1, 1), mk(40, 2, 2), mk(30, 3, 3), mk(20, 4, 4), mk(10, 5, 5), mk(-1, 0, 0)}
	require.NoError(t, segment.ScoreRFM(fs, advAsOf, segment.Options{}))
	for i, f := range fs[:5] {
		assert.Equal(t, [3]int{i + 1, i + 1, i + 1}, [3]int{f.R, f.F, f.M}, "customer %d", i)
	}
	assert.Equal(t, "Champions", fs[4].RFM)
	assert.Equal(t, segment.Features{Recency: -1}, fs[5], "unscored: 0 scores, no segment")
	// 40% with one order all get F=1 and two orders start at F=3
	fs = nil
	for i := range 10 {
		fs = append(fs, mk(i, 1+max(0, i-3), 1))
	}
	require.NoError(t, segment.ScoreRFM(fs, advAsOf, segment.Options{}))
	assert.Equal(t, []int{1, 1, 1, 1, 3, 3, 4, 4, 5, 5}, func() (o []int) {
		for _, f := range fs {
			o = append(o, f.F)
		}
		return
	}())
	require.ErrorIs(t, segment.ScoreRFM(fs, advAsOf, segment.Options{RFMRules: []segment.RFMRule{{Name: "x", R: segment.ScoreRange{Min: 4, Max: 2}}}}), segment.ErrInvalid)
}

// advHistory builds customers with orders at chosen seconds so that the
// naive NTILE can order by the exact time of the last purchase.
type advOrder struct {
	cust  string
	at    time.Time
	price int64
}

func advBuild(t *testing.T, orders []advOrder) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for i, o := range orders {
		require.NoError(t, b.Add(affinity.Purchase{Customer: o.cust, Product: "p", Order: fmt.Sprint("o", i), Time: o.at,
			Quantity: 1, Price: affinity.Money(o.price)}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

func randomAdvOrders(rng *rand.Rand, nc int) []advOrder {
	var orders []advOrder
	for c := range nc {
		key := fmt.Sprintf("k%d", rng.IntN(3*nc)) // keys compared as bytes: k10 < k9
		if c%7 == 0 {
			key = fmt.Sprintf("K%d", c)
		}
		for range 1 + rng.IntN(3) {
			// few distinct seconds: ties at the same second
			at := advAsOf.Add(-time.Duration(rng.IntN(4)) * 24 * time.Hour).Add(-time.Duration(rng.IntN(3)) * time.Second)
			if rng.IntN(10) == 0 {
				at = advAsOf.AddDate(-3, 0, 0) // outside the look-back
			}
			if rng.IntN(15) == 0 {
				at = advAsOf // exactly at as-of
			}
			orders = append(orders, advOrder{key, at, int64(1+rng.IntN(3)) * 10000})
		}
	}
	return orders
}

// Build's RFMNTile and RFMRank scores against naive models from the docs.
func TestAdvBuildRFMNaive(t *testing.T) {
	t.Parallel()
	for seed := range testdata.Scale(60, 8) {
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		orders := randomAdvOrders(rng, []int{1, 2, 5, 7, 13, 40}[seed%6])
		h := advBuild(t, orders)
		start := testdata.MonthsBefore(advAsOf, segment.DefaultLookbackMonths)
		type agg struct {
			last      time.Time
			freq      int
			mon       int64
			everyLast time.Time
		}
		per := map[string]*agg{}
		for i, o := range orders {
			_ = i
			a := per[o.cust]
			if a == nil {
				a = &agg{}
				per[o.cust] = a
			}
			if o.at.After(a.everyLast) {
				a.everyLast = o.at
			}
			if o.at.After(start) && !o.at.After(advAsOf) {
				a.freq++
				a.mon += o.price
				if o.at.After(a.last) {
					a.last = o.at
				}
			}
		}
		for _, scoring := range []segment.RFMScoring{segment.RFMRank, segment.RFMNTile} {
			x, err := segment.Build(context.Background(), h, advAsOf, segment.Options{RFMScoring: scoring})
			require.NoError(t, err)
			fs := x.FeaturesOf(x.All())
			want := map[string][3]int{}
			var scored []string
			for k, a := range per {
				if a.freq > 0 {
					scored = append(scored, k)
				}
			}
			if scoring == segment.RFMRank {
				naive := naiveScoreRFM(fs, segment.DefaultRFMRules())
				for _, f := range naive {
					want[f.Customer] = [3]int{f.R, f.F, f.M}
				}
			} else {
				ntile := func(val func(a *agg) int64, which int) {
					s := slices.Clone(scored)
					slices.SortFunc(s, func(p, q string) int {
						vp, vq := val(per[p]), val(per[q])
						if vp != vq {
							if vp < vq {
								return -1
							}
							return 1
						}
						return strings.Compare(p, q)
					})
					n := len(s)
					// NTILE(5): the first n mod 5 tiles hold one more
					size, extra := n/5, n%5
					pos := 0
					for tile := 1; tile <= 5; tile++ {
						sz := size
						if tile <= extra {
							sz++
						}
						for range sz {
							w := want[s[pos]]
							w[which] = tile
							want[s[pos]] = w
							pos++
						}
					}
				}
				ntile(func(a *agg) int64 { return a.last.Unix() }, 0)
				ntile(func(a *agg) int64 { return int64(a.freq) }, 1)
				ntile(func(a *agg) int64 { return a.mon }, 2)
			}
			for _, f := range fs {
				w := want[f.Customer]
				assert.Equal(t, w, [3]int{f.R, f.F, f.M}, "seed %d %v customer %s freq %d", seed, scoring, f.Customer, f.Frequency)
				if per[f.Customer].freq == 0 {
					assert.Equal(t, "", f.RFM)
				} else {
					assert.Equal(t, naiveSegment(segment.DefaultRFMRules(), w[0], w[1], w[2]), f.RFM)
				}
			}
			if t.Failed() {
				return
			}
		}
	}
}

// ---- Transitions ----

// Transitions against naive set operations, with from built on a History
// that the to History extends (newcomers), overlapping rows, a Not row, and
// to built by Update equal to to built from scratch.
func TestAdvTransitionsNaive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for seed := range testdata.Scale(30, 4) {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		orders := randomAdvOrders(rng, 12+rng.IntN(20))
		h1 := advBuild(t, orders)
		b := affinity.NewBuilder(h1)
		for i := range 5 + rng.IntN(10) {
			k := fmt.Sprintf("k%d", rng.IntN(80))
			require.NoError(t, b.Add(affinity.Purchase{Customer: k, Product: "p", Order: fmt.Sprint("n", i),
				Time: advAsOf.Add(time.Duration(1+rng.IntN(40)) * 24 * time.Hour), Quantity: 1, Price: affinity.Money(1 + rng.IntN(5)*10000)}))
		}
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		asOf2 := advAsOf.Add(41 * 24 * time.Hour)
		from, err := segment.Build(ctx, h1, advAsOf, segment.Options{})
		require.NoError(t, err)
		toScratch, err := segment.Build(ctx, h2, asOf2, segment.Options{})
		require.NoError(t, err)
		toUpd, err := segment.Update(ctx, from, h1, h2, asOf2, segment.UpdateOptions{})
		require.NoError(t, err)
		rows := []segment.Expr{segment.RFM("Champions"), segment.Not(segment.RFM("Champions")), segment.Lifecycle("new"), segment.All()}
		cols := []segment.Expr{segment.Lifecycle("new"), segment.Lifecycle("repeat"), segment.RFM("Lost"), segment.Not(segment.Lifecycle("new"))}
		for name, to := range map[string]*segment.Index{"scratch": toScratch, "update": toUpd} {
			m, err := segment.Transitions(from, to, rows, cols)
			require.NoError(t, err)
			// naive: per customer key, membership by evaluating on each side
			rs := make([]*roaring.Bitmap, len(rows))
			for i, e := range rows {
				rs[i], err = from.Eval(e)
				require.NoError(t, err)
			}
			cs := make([]*roaring.Bitmap, len(cols))
			for j, e := range cols {
				cs[j], err = toScratch.Eval(e) // scratch is the reference for both
				require.NoError(t, err)
			}
			known := roaring.Or(from.All(), toScratch.All())
			want := make([][]int, len(rows)+1)
			for i := range want {
				want[i] = make([]int, len(cols)+1)
			}
			for it := known.Iterator(); it.HasNext(); {
				c := it.Next()
				var ri, ci []int
				for i := range rs {
					if rs[i].Contains(c) {
						ri = append(ri, i)
					}
				}
				for j := range cs {
					if cs[j].Contains(c) {
						ci = append(ci, j)
					}
				}
				if len(ri) == 0 {
					ri = []int{len(rows)}
				}
				if len(ci) == 0 {
					ci = []int{len(cols)}
				}
				for _, i := range ri {
					for _, j := range ci {
						want[i][j]++
					}
				}
			}
			require.Equal(t, want, m, "seed %d %s", seed, name)
			for i := range rows {
				for j := range cols {
					got, err := segment.Transition(from, to, rows[i], cols[j])
					require.NoError(t, err)
					assert.True(t, roaring.And(rs[i], cs[j]).Equals(got), "seed %d %s Transition %d %d", seed, name, i, j)
				}
			}
		}
		// swapping the indexes transposes the matrix
		m1, err := segment.Transitions(from, toScratch, rows, rows)
		require.NoError(t, err)
		m2, err := segment.Transitions(toScratch, from, rows, rows)
		require.NoError(t, err)
		for i := range m1 {
			for j := range m1[i] {
				require.Equal(t, m1[i][j], m2[j][i])
			}
		}
		// empty rows and columns: one cell counting everyone known
		m, err := segment.Transitions(from, toScratch, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, [][]int{{int(roaring.Or(from.All(), toScratch.All()).GetCardinality())}}, m)
	}
}

// ---- WriteTable ----

func TestAdvWriteTable(t *testing.T) {
	var buf strings.Builder
	require.NoError(t, segment.WriteTable(&buf, nil))
	assert.Equal(t, "segment  customers  share  revenue  revenue share  AOV\n", buf.String())

	buf.Reset()
	rows := []segment.Stats{
		{Name: "Zoë ✓", Customers: 3, Share: 0.3333, Revenue: 12_3456, RevenueShare: 1, Orders: 3, AOV: 4_1152},
		{Name: "x", Customers: 12345, Share: 0, Revenue: -5, RevenueShare: 0, AOV: 0},
	}
	require.NoError(t, segment.WriteTable(&buf, rows))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	w := -1
	for _, l := range lines {
		n := len([]rune(l))
		if w < 0 {
			w = n
		}
		assert.Equal(t, w, n, "aligned: %q", l)
	}
	assert.True(t, strings.HasPrefix(lines[1], "Zoë ✓  "), lines[1])
	assert.Regexp(t, `  3  33\.3%  +12\.35  +100\.0%  +4\.12$`, lines[1])
	assert.Regexp(t, `  12345  +0\.0%  +0\.00  +0\.0%  +0\.00$`, lines[2])
	assert.True(t, strings.HasPrefix(lines[2], "x      "), lines[2])

	// the table of an index of no customers prints numbers, not NaN
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Product: "p", Order: "o", Time: advAsOf.Add(-time.Hour), Quantity: 1, Price: 10000}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, advAsOf, segment.Options{})
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, segment.WriteTable(&buf, x.RFMTable()))
	assert.NotContains(t, buf.String(), "NaN")
}

// A customer whose only order is after the as-of time is not a customer of
// the index's queries: its attributes select nobody, on either side of a
// flag comparison. Attributes on an updated index answer as on the index
// built from scratch.
func TestAdvAttrOutsideUniverseAndUpdate(t *testing.T) {
	ctx := context.Background()
	h1 := advBuild(t, []advOrder{{"a", advAsOf.Add(-48 * time.Hour), 10000}, {"b", advAsOf.Add(-24 * time.Hour), 10000},
		{"late", advAsOf.Add(24 * time.Hour), 10000}})
	x, err := segment.Build(ctx, h1, advAsOf, segment.Options{})
	require.NoError(t, err)
	src := "customer,optin,signup\na,1,2025-01-01\nlate,1,2025-01-01\nb,0,\nnew,1,2025-02-01\n"
	o := segment.AttributeOptions{Flags: []string{"optin"}, Dates: []string{"signup"}}
	y, _, rep := advLoad(t, x, src, o)
	assert.Equal(t, 4, rep.Rows)
	assert.Equal(t, rep.Rows, rep.Loaded+rep.UnknownCustomers)
	assert.Equal(t, []string{"a"}, advKeys(t, y, `flag("optin") = 1`))
	assert.Equal(t, []string{"b"}, advKeys(t, y, `flag("optin") = 0`))
	assert.Equal(t, []string{"a"}, advKeys(t, y, `days_since("signup") > 0`))

	b := affinity.NewBuilder(h1)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "new", Product: "p", Order: "n1", Time: advAsOf.Add(30 * time.Hour), Quantity: 1, Price: 10000}))
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	asOf2 := advAsOf.Add(72 * time.Hour)
	scratch, err := segment.Build(ctx, h2, asOf2, segment.Options{})
	require.NoError(t, err)
	upd, err := segment.Update(ctx, x, h1, h2, asOf2, segment.UpdateOptions{})
	require.NoError(t, err)
	ys, _, reps := advLoad(t, scratch, src, o)
	yu, _, repu := advLoad(t, upd, src, o)
	assert.Equal(t, reps, repu)
	for _, q := range []string{`flag("optin") = 1`, `flag("optin") = 0`, `days_since("signup") > 100`, `days_since("signup") <= 150`} {
		assert.Equal(t, advKeys(t, ys, q), advKeys(t, yu, q), q)
	}
	assert.Equal(t, []string{"a", "late", "new"}, advKeys(t, ys, `flag("optin") = 1`))
}

// Hostile feature values: ScoreRFM either scores them as the documented
// ranks say or rejects them with ErrInvalid; it never wraps around.
func TestAdvScoreRFMHugeValues(t *testing.T) {
	fs := []segment.Features{
		{Customer: "a", Recency: 1, Frequency: 1<<32 + 1, Monetary: affinity.Money(math.MaxInt64)},
		{Customer: "b", Recency: 2, Frequency: 2, Monetary: affinity.Money(math.MinInt64)},
		{Customer: "c", Recency: 3, Frequency: 1, Monetary: 0},
	}
	want := naiveScoreRFM(fs, segment.DefaultRFMRules())
	err := segment.ScoreRFM(fs, advAsOf, segment.Options{})
	if err != nil {
		require.ErrorIs(t, err, segment.ErrInvalid)
		return
	}
	assert.Equal(t, want, fs)
}

// The column of a bad value is its field's position (with the header's
// name), as the dataset loaders give it, whatever the bytes of the fields
// before it ("Müller" is 7 bytes).
func TestAdvAttrBadValueColumnCodePoints(t *testing.T) {
	x := attrIndex(t, 1, advAsOf)
	_, _, err := segment.LoadAttributes(strings.NewReader("customer,note,optin\nc000,Müller,maybe\n"), x, segment.AttributeOptions{Flags: []string{"optin"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2, column 3 (optin)")
}

type advFailWriter struct{}

var errAdvWrite = errors.New("disk full")

func (advFailWriter) Write([]byte) (int, error) { return 0, errAdvWrite }

func TestAdvWriteTableWriterError(t *testing.T) {
	require.ErrorIs(t, segment.WriteTable(advFailWriter{}, []segment.Stats{{Name: "x"}}), errAdvWrite)
}
