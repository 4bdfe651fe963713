package segment_test

// Customer attributes loaded from a CSV file, queried with every
// comparison, against a naive per-customer model written from the
// documentation of Attributes and LoadAttributes.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attrModel is one customer's attributes as the documentation states
// them: a flag is true, false or absent (0 when absent); a date is a UTC
// day or absent (no comparison matches).
type attrModel struct {
	flag    map[string]bool
	date    map[string]time.Time
	country string
}

func TestAttrQueriesAgainstModel(t *testing.T) {
	for _, asOf := range []time.Time{
		time.Date(2024, 2, 28, 18, 0, 0, 0, time.UTC), // the day before February 29
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 2, 28, 12, 0, 0, 0, time.UTC), // February 29 is March 1 this year
		time.Date(2023, 12, 31, 6, 0, 0, 0, time.UTC),
	} {
		t.Run(asOf.Format(time.DateOnly), func(t *testing.T) { attrQueriesAgainstModel(t, asOf) })
	}
}

func attrQueriesAgainstModel(t *testing.T, asOf time.Time) {
	const n = 60
	x := attrIndex(t, n, asOf)
	rng := rand.New(rand.NewPCG(75, uint64(asOf.Unix())))
	model := map[string]*attrModel{}
	var sb strings.Builder
	sb.WriteString("\ufeffCustomer,OptIn,vip,birthday,signup,country,note\r\n")
	rows, unknown := 0, 0
	bools := []string{"", "1", "0", "yes", "NO", "t", "F", " y ", "false"}
	for range 3 * n {
		k := fmt.Sprintf("c%03d", rng.IntN(n+10))
		rows++
		if k >= fmt.Sprintf("c%03d", n) {
			unknown++
		}
		m := model[k]
		if m == nil {
			m = &attrModel{flag: map[string]bool{}, date: map[string]time.Time{}}
			model[k] = m
		}
		cells := []string{k}
		for _, f := range []string{"optin", "vip"} {
			v := bools[rng.IntN(len(bools))]
			cells = append(cells, v)
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "1", "yes", "t", "y", "true":
				m.flag[f] = true
			case "0", "no", "f", "n", "false":
				m.flag[f] = false
			}
		}
		for _, f := range []string{"birthday", "signup"} {
			if rng.IntN(4) == 0 {
				cells = append(cells, "")
				continue
			}
			d := asOf.AddDate(0, 0, rng.IntN(800)-600)
			if rng.IntN(10) == 0 {
				d = time.Date(2000+4*rng.IntN(5), 2, 29, 0, 0, 0, 0, time.UTC)
			}
			// a time late in the day west of UTC is on the next UTC day
			off := -5 * 3600 * rng.IntN(2)
			local := time.Date(d.Year(), d.Month(), d.Day(), 22, 30, 0, 0, time.FixedZone("", off))
			u := local.UTC()
			m.date[f] = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
			cells = append(cells, local.Format("2006-01-02 15:04 -0700"))
		}
		country := []string{"", "DE", "FR", `"D,E"`}[rng.IntN(4)]
		cells = append(cells, country)
		if country != "" {
			m.country = strings.Trim(country, `"`)
		}
		cells = append(cells, `"a note`+"\n"+`on two lines"`)
		sb.WriteString(strings.Join(cells, ",") + "\r\n")
	}
	a, rep, err := segment.LoadAttributes(strings.NewReader(sb.String()), x, segment.AttributeOptions{
		Flags: []string{"optin", "vip"}, Dates: []string{"birthday", "signup"}, Texts: []string{"country"},
		DateLayout: "2006-01-02 15:04 -0700"})
	require.NoError(t, err)
	assert.Equal(t, segment.AttributeReport{Rows: rows, Loaded: rows - unknown, UnknownCustomers: unknown}, rep)
	y, err := x.WithAttributes(a)
	require.NoError(t, err)

	today := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	daysTo := func(d time.Time) int {
		for k := 0; ; k++ {
			day := today.AddDate(0, 0, k)
			m, dd := d.Month(), d.Day()
			if m == 2 && dd == 29 && time.Date(day.Year(), 3, 0, 0, 0, 0, 0, time.UTC).Day() != 29 {
				m, dd = 3, 1
			}
			if day.Month() == m && day.Day() == dd {
				return k
			}
		}
	}
	// value returns the customer's value of attribute attr(field), ok
	// false when the customer has none
	value := func(m *attrModel, attr, field string) (float64, bool) {
		switch attr {
		case "flag":
			if c, v, ok := strings.Cut(field, "="); ok && c == "country" {
				return map[bool]float64{true: 1}[m != nil && m.country == v], true
			}
			return map[bool]float64{true: 1}[m != nil && m.flag[field]], true
		case "days_since":
			if m == nil || m.date[field].IsZero() {
				return 0, false
			}
			return float64((today.Unix() - m.date[field].Unix()) / 86400), true
		default:
			if m == nil || m.date[field].IsZero() {
				return 0, false
			}
			return float64(daysTo(m.date[field])), true
		}
	}
	type op struct {
		s string
		f func(v, t, hi float64) bool
	}
	ops := []op{
		{"=", func(v, t, _ float64) bool { return v == t }},
		{"!=", func(v, t, _ float64) bool { return v != t }},
		{"<", func(v, t, _ float64) bool { return v < t }},
		{"<=", func(v, t, _ float64) bool { return v <= t }},
		{">", func(v, t, _ float64) bool { return v > t }},
		{">=", func(v, t, _ float64) bool { return v >= t }},
		{"between", func(v, t, hi float64) bool { return t <= v && v <= hi }},
	}
	attrs := []struct{ attr, field string }{
		{"flag", "optin"}, {"flag", "vip"}, {"flag", "country=DE"}, {"flag", "country=D,E"},
		{"days_since", "birthday"}, {"days_since", "signup"}, {"days_to", "birthday"}, {"days_to", "signup"},
	}
	// one returns a random comparison, negated at times, on attribute at
	// and whether customer k matches it
	one := func(at struct{ attr, field string }) (string, func(k string) bool) {
		o := ops[rng.IntN(len(ops))]
		var tv float64
		var ts string
		if at.attr == "flag" {
			tv = []float64{0, 1, 0.5, -1, 2}[rng.IntN(5)]
			ts = fmt.Sprint(tv)
		} else {
			w := rng.IntN(60) - 20
			tv, ts = float64(w), fmt.Sprint(w)
			if rng.IntN(3) == 0 && w >= 0 {
				tv, ts = float64(7*w), fmt.Sprintf("%dw", w)
			}
		}
		hi := tv + float64(rng.IntN(30))
		q := fmt.Sprintf("%s(%q) %s %s", at.attr, at.field, o.s, ts)
		if o.s == "between" {
			q += fmt.Sprintf(" and %v", hi)
		}
		negate := rng.IntN(3) == 0
		if negate {
			q = "not " + q
		}
		return q, func(k string) bool {
			v, ok := value(model[k], at.attr, at.field)
			return (ok && o.f(v, tv, hi)) != negate
		}
	}
	for range testdata.Scale(300, 80) {
		at := attrs[rng.IntN(len(attrs))]
		q, match := one(at)
		if rng.IntN(2) == 0 {
			// two comparisons, on the same field at times (their ranges merge)
			if rng.IntN(2) == 0 {
				at = attrs[rng.IntN(len(attrs))]
			}
			q2, match2 := one(at)
			m1 := match
			if rng.IntN(2) == 0 {
				q, match = "("+q+") and ("+q2+")", func(k string) bool { return m1(k) && match2(k) }
			} else {
				q, match = "("+q+") or ("+q2+")", func(k string) bool { return m1(k) || match2(k) }
			}
		}
		want := []string{}
		for i := range n {
			if k := fmt.Sprintf("c%03d", i); match(k) {
				want = append(want, k)
			}
		}
		require.Equal(t, want, advKeys(t, y, q), q)
	}
}
