package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attrIndex builds an index of n customers with one order each.
func attrIndex(t *testing.T, n int, asOf time.Time) *segment.Index {
	var b affinity.Builder
	for i := range n {
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprintf("c%03d", i), Product: "p", Order: fmt.Sprint(i),
			Time: asOf.AddDate(0, 0, -1-i%50), Quantity: 1, Price: affinity.MoneyFromFloat(1)}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	require.NoError(t, err)
	return x
}

func TestAttributesAgainstNaive(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)
	const n = 300
	x := attrIndex(t, n, asOf)
	rng := rand.New(rand.NewPCG(1, 2))
	var a segment.Attributes
	optin := map[affinity.CustomerID]bool{}
	birth := map[affinity.CustomerID]time.Time{}
	signup := map[affinity.CustomerID]time.Time{}
	for c := range affinity.CustomerID(n) {
		if rng.IntN(3) > 0 {
			v := rng.IntN(2) == 0
			require.NoError(t, a.SetFlag("optin", c, v))
			optin[c] = v
		}
		if rng.IntN(4) > 0 {
			d := time.Date(1950+rng.IntN(60), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(366))
			if c == 7 {
				d = time.Date(1992, 2, 29, 0, 0, 0, 0, time.UTC)
			}
			require.NoError(t, a.SetDate("birthday", c, d))
			birth[c] = d
		}
		if rng.IntN(4) > 0 {
			d := asOf.AddDate(0, 0, 30-rng.IntN(800))
			require.NoError(t, a.SetDate("signup", c, d))
			signup[c] = d
		}
	}
	y, err := x.WithAttributes(&a)
	require.NoError(t, err)
	today := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	// naive days to the next birthday, by stepping day by day
	daysTo := func(d time.Time) int {
		for k := 0; k < 400; k++ {
			day := today.AddDate(0, 0, k)
			m, dd := d.Month(), d.Day()
			if m == 2 && dd == 29 && !(day.Year()%4 == 0 && (day.Year()%100 != 0 || day.Year()%400 == 0)) {
				m, dd = 3, 1
			}
			if day.Month() == m && day.Day() == dd {
				return k
			}
		}
		panic("no anniversary")
	}
	require.Equal(t, 0, daysTo(time.Date(1990, 3, 1, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, 0, daysTo(birth[7]), "February 29 is March 1 in 2025")
	// the customers' days to their birthdays, stepped once rather than
	// once per query
	birthDays := map[affinity.CustomerID]int{}
	for c, b := range birth {
		birthDays[c] = daysTo(b)
	}
	for range 200 {
		lo, hi := rng.IntN(400)-10, 0
		hi = lo + rng.IntN(60)
		k := rng.IntN(900) - 50
		f := rng.IntN(2)
		q := fmt.Sprintf(`days_to("birthday") between %d and %d and days_since("signup") >= %d or flag("optin") = %d`, lo, hi, k, f)
		got, err := y.Query(q)
		require.NoError(t, err, q)
		want := roaring.New()
		for c := range affinity.CustomerID(n) {
			b, hasB := birthDays[c]
			s, hasS := signup[c]
			left := hasB && hasS && b >= lo && b <= hi && int(today.Sub(s).Hours()/24) >= k
			fv := 0
			if optin[c] {
				fv = 1
			}
			if left || fv == f {
				want.Add(uint32(c))
			}
		}
		require.True(t, want.Equals(got), "%s: got %d want %d", q, got.GetCardinality(), want.GetCardinality())
	}
	// The base index does not know the attributes, and the error says
	// which fields exist.
	_, err = x.Query(`flag("optin") = 1`)
	require.Error(t, err)
	_, err = y.Query(`flag("optout") = 1`)
	require.ErrorContains(t, err, "known: optin")
}

// An unknown customer attribute or RFM segment names a few of the known
// ones, not all: each value of a text field is a flag (email=…), so the
// list held every customer's address — 10 KB at 300 customers, and
// customer data in a message a storefront returns for a bad query.
func TestUnknownNameListsAreShort(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	const n = 300
	x := attrIndex(t, n, asOf)
	_, err := x.Query(`flag("optin") = 1`)
	require.ErrorIs(t, err, segment.ErrUnknown)
	assert.Contains(t, err.Error(), "no customer attributes attached", "instead of (known: )")

	var a segment.Attributes
	for c := range affinity.CustomerID(n) {
		require.NoError(t, a.SetText("email", c, fmt.Sprintf("customer-%05d@example.com", c)))
		require.NoError(t, a.SetText("country", c, []string{"DE", "FR"}[c%2]))
		require.NoError(t, a.SetFlag(fmt.Sprintf("flag%02d", c%20), c, true))
	}
	y, err := x.WithAttributes(&a)
	require.NoError(t, err)
	_, err = y.Query(`flag("optin") = 1`)
	require.ErrorIs(t, err, segment.ErrUnknown)
	msg := err.Error()
	require.Less(t, len(msg), 300, "%.300s…", msg)
	assert.NotContains(t, msg, "@example.com")
	assert.Contains(t, msg, `known: country=…, email=…, flag00, flag01`)
	assert.Contains(t, msg, "flag09 and 10 more") // 22 names, 12 listed
	_, err = y.Query(`days_to("birthday") < 7`)
	require.ErrorIs(t, err, segment.ErrUnknown)
	assert.Contains(t, err.Error(), "the attached attributes have no dates")

	long := strings.Repeat("é", 500)
	rules := make([]segment.RFMRule, 40)
	for i := range rules {
		rules[i] = segment.RFMRule{Name: fmt.Sprintf("%s %d", long, i)}
	}
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Order: "1", Time: asOf.AddDate(0, 0, -1), Quantity: 1, Price: 100}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	z, err := segment.Build(context.Background(), h, asOf, segment.Options{RFMRules: rules})
	require.NoError(t, err)
	_, err = z.Query(`rfm("Champions")`)
	require.ErrorIs(t, err, segment.ErrUnknown)
	require.Less(t, len(err.Error()), 2000, "%.200s…", err.Error()) // 12 names of at most 60 characters (120 bytes here)
	assert.Contains(t, err.Error(), "and 28 more")
}

func TestLoadAttributes(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	x := attrIndex(t, 5, asOf)
	src := "customer,email,optin,birthday,country\n" +
		"c000,ann@example.com,yes,1990-06-03,DE\n" +
		"c001,,no,,FR\n" +
		"c002,bob@example.com,1,1985-05-20,DE\n" +
		"zzz,x@example.com,yes,1990-01-01,DE\n"
	a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, segment.AttributeOptions{
		Flags: []string{"optin"}, Dates: []string{"birthday"}, Texts: []string{"email", "country"}})
	require.NoError(t, err)
	require.Equal(t, segment.AttributeReport{Rows: 4, Loaded: 3, UnknownCustomers: 1}, rep)
	y, err := x.WithAttributes(a)
	require.NoError(t, err)
	keys := func(q string) []string {
		set, err := y.Query(q)
		require.NoError(t, err, q)
		var out []string
		for k := range y.Keys(set) {
			out = append(out, k)
		}
		return out
	}
	require.Equal(t, []string{"c000", "c002"}, keys(`flag("optin") = 1`))
	require.Equal(t, []string{"c000"}, keys(`flag("optin") = 1 and days_to("birthday") <= 6d`))
	require.Equal(t, []string{"c000", "c002"}, keys(`flag("country=DE") = 1`))
	require.Equal(t, []string{"c001", "c003", "c004"}, keys(`flag("optin") = 0`))
	e, ok := a.Text("email", 2)
	require.True(t, ok)
	require.Equal(t, "bob@example.com", e)

	for _, bad := range []struct{ src, want string }{
		{"customer,optin\nc000,maybe\n", "line 2, column 2 (optin)"},
		{"customer,birthday\nc000,1990-13-01\n", "line 2, column 2 (birthday)"},
		{"name,optin\n", "no column \"customer\""},
		{"", "header"},
		{"customer,optin\nc000,1,2\n", "line 2"},
	} {
		_, _, err := segment.LoadAttributes(strings.NewReader(bad.src), x, segment.AttributeOptions{Flags: namesIn(bad.src, "optin"), Dates: namesIn(bad.src, "birthday")})
		require.ErrorContains(t, err, bad.want, bad.src)
	}
}

// TestLoadAttributesSkipsCustomersNotYetKnown: a customer of the History
// whose first order comes after the index's as-of time is not one the
// index knows (not in All, Len): LoadAttributes counts its row as an
// unknown customer and skips it, as AttributeReport says (it was loaded
// as a known one), and a file loaded for an index as of after that order
// covers it.
func TestLoadAttributesSkipsCustomersNotYetKnown(t *testing.T) {
	ctx := context.Background()
	t0 := advAsOf
	h := advBuild(t, []advOrder{{"now", t0.Add(-time.Hour), 10000}, {"later", t0.Add(time.Hour), 10000}})
	const src = "customer,optin\nnow,yes\nlater,yes\n"
	opts := segment.AttributeOptions{Flags: []string{"optin"}}
	later, ok := h.LookupCustomer("later")
	require.True(t, ok)

	x, err := segment.Build(ctx, h, t0, segment.Options{})
	require.NoError(t, err)
	require.Equal(t, 1, x.Len())
	a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, opts)
	require.NoError(t, err)
	assert.Equal(t, segment.AttributeReport{Rows: 2, Loaded: 1, UnknownCustomers: 1}, rep)
	assert.False(t, a.Flag("optin").Contains(uint32(later)), "the row of a customer x does not know is skipped")

	y, err := segment.Build(ctx, h, t0.Add(segment.Day), segment.Options{})
	require.NoError(t, err)
	require.Equal(t, 2, y.Len())
	a, rep, err = segment.LoadAttributes(strings.NewReader(src), y, opts)
	require.NoError(t, err)
	assert.Equal(t, segment.AttributeReport{Rows: 2, Loaded: 2}, rep)
	assert.True(t, a.Flag("optin").Contains(uint32(later)))
}

// namesIn returns []string{name} when src's header has it.
func namesIn(src, name string) []string {
	if head, _, _ := strings.Cut(src, "\n"); strings.Contains(head, name) {
		return []string{name}
	}
	return nil
}

// Customer attributes loaded beside the orders: who opted in and has a
// birthday in the coming week?
func ExampleIndex_WithAttributes() {
	ctx := context.Background()
	asOf := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var b affinity.Builder
	for i, c := range []string{"ann", "bob", "cy"} {
		_ = b.Add(affinity.Purchase{Customer: c, Product: "p", Order: fmt.Sprint(i), Time: asOf.AddDate(0, -1, 0), Quantity: 1, Price: affinity.MoneyFromFloat(10)})
	}
	h, _ := b.Build(ctx)
	x, _ := segment.Build(ctx, h, asOf, segment.Options{})
	file := "customer,email,optin,birthday\n" +
		"ann,ann@example.com,yes,1990-06-03\n" +
		"bob,bob@example.com,no,1985-06-01\n" +
		"cy,,yes,1979-12-24\n"
	attrs, rep, err := segment.LoadAttributes(strings.NewReader(file), x, segment.AttributeOptions{
		Flags: []string{"optin"}, Dates: []string{"birthday"}, Texts: []string{"email"}})
	if err != nil {
		panic(err)
	}
	y, _ := x.WithAttributes(attrs)
	set, _ := y.Query(`flag("optin") = 1 and days_to("birthday") between 0 and 6`)
	fmt.Println(rep.Loaded, "customers loaded")
	for key := range y.Keys(set) {
		id, _ := y.LookupCustomer(key)
		email, _ := attrs.Text("email", id)
		fmt.Println(key, email)
	}
	// Output:
	// 3 customers loaded
	// ann ann@example.com
}

// TestTextsThatCannotBeFlags: a text value longer than MaxAttributeValue
// or holding a newline is an error of LoadAttributes at its line and
// column, and SetText refuses it without changing anything. The value was
// kept without its flag, and SetText dropped the old value's flag before
// failing.
func TestTextsThatCannotBeFlags(t *testing.T) {
	x := attrIndex(t, 3, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	long := strings.Repeat("x", segment.MaxAttributeValue) + "@example.com"
	for _, c := range []struct{ csv, at string }{
		{"customer,country,email\nc000,DE," + long + "\n", "line 2, column 3 (email)"},
		{"customer,email,country\nc000,a@b,DE\nc001,\"b@x\ny\",FR\n", "line 3, column 2 (email)"},
	} {
		_, _, err := segment.LoadAttributes(strings.NewReader(c.csv), x, segment.AttributeOptions{Texts: []string{"email", "country"}})
		require.Error(t, err, c.csv)
		require.Contains(t, err.Error(), c.at)
		require.Less(t, len(err.Error()), 250, err.Error())
	}
	var a segment.Attributes
	require.NoError(t, a.SetText("email", 0, "ann@example.com"))
	for _, v := range []string{long, "ann\n@example.com"} {
		require.Error(t, a.SetText("email", 0, v))
		got, ok := a.Text("email", 0)
		require.True(t, ok)
		require.Equal(t, "ann@example.com", got)
		require.NotNil(t, a.Flag("email=ann@example.com"))
		require.True(t, a.Flag("email=ann@example.com").Contains(0))
	}
}
