package segment_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/segment/query"
)

func TestParseErrorsHavePositions(t *testing.T) {
	cases := []struct {
		src          string
		line, column int
		msg          string
	}{
		{"", 1, 1, "empty expression"},
		{"recency >", 1, 10, "expected a number"},
		{"recency between 14d 28d", 1, 21, `expected "and"`},
		{"affinity(\"Apparel\") >= 0.3 and", 1, 31, "expected a condition"},
		{"recency > 14x", 1, 13, `unknown duration unit "x"`},
		{"affinity(\"A\") > 3d", 1, 18, `unexpected "d" after a share`},
		{"frequency > $3", 1, 13, "currency sign"},
		{"bought(\"A\" within 0d)", 1, 19, "empty window"},
		{"bought()", 1, 8, "expected a quoted category or product"},
		{"recency > 3d)", 1, 13, `unexpected ")"`},
		{"(recency > 3d", 1, 14, `expected ")"`},
		{"foo > 3", 1, 1, `unknown word "foo"`},
		{"affinity > 0.3", 1, 10, `expected "(" and a category after affinity`},
		{"recency ! 3", 1, 9, "use != or not"},
		{"bought(\"A\nB\")", 1, 8, "unterminated string"},
		{"active between \"2024-13-01\" and \"2024-12-31\"", 1, 16, "invalid date"},
		{"top(\"A\", 0)", 1, 10, "expected a rank"},
		{"recency < 3d and\n  tenure >= abc", 2, 13, "expected a number"},
		{"rfm(\"Champions\") or\n\tnot § 3", 2, 6, "unexpected character"},
		{"segment(\"Küche\") and affinity(\"Küche\") ≥ 1", 1, 40, "unexpected character"},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			_, err := segment.Parse(tc.src)
			var se *segment.SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.line, se.Line, "line")
			assert.Equal(t, tc.column, se.Column, "column")
			assert.Contains(t, se.Msg, tc.msg)
			assert.Contains(t, se.Error(), "query: syntax error at line")
		})
	}
}

func TestParseDeepNestingIsAnError(t *testing.T) {
	src := ""
	for range 1000 {
		src += "("
	}
	_, err := segment.Parse(src + "all")
	var se *segment.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "nested deeper than Limits.MaxDepth (200)")
	long := "not "
	for range 1000 {
		long += "not "
	}
	_, err = segment.Parse(long + "all")
	require.ErrorAs(t, err, &se)
}

func TestParsePrintsBack(t *testing.T) {
	cases := map[string]string{
		`affinity("Apparel/Sportswear") >= 0.3 and recency between 14d and 28d and not bought("Apparel/Socks")`: `affinity("Apparel/Sportswear") >= 0.3 and recency between 14d and 28d and not bought("Apparel/Socks")`,
		`AFFINITY("A") >= 30% OR Recency < 2w`:                                  `affinity("A") >= 0.3 or recency < 14d`,
		`monetary >= $500 and aov < €19.99 and monetary > -£5`:                  `monetary >= 500 and aov < 19.99 and monetary > -5`,
		`carted("p1", 7d) and not bought("p1" within 1m)`:                       `carted("p1" within 7d) and not bought("p1" within 30d)`,
		`viewed(category("A"), product("p2"), "x")`:                             `viewed(category("A"), product("p2"), "x")`,
		`abandoned() or abandoned(2w) or abandoned(within 1y)`:                  `abandoned() or abandoned(within 14d) or abandoned(within 365d)`,
		`active between "2024-01-01" and "2024-01-31"`:                          `active between "2024-01-01" and "2024-01-31"`,
		`(a_b_c_is_not_a_word)`:                                                 ``,
		`rfm("Champions") and (lifecycle("loyal") or segment("vip")) # comment`: `rfm("Champions") and (lifecycle("loyal") or segment("vip"))`,
		`not (all or none) and top("A") and top("A", 2) and rank("A") = 1`:      `not (all or none) and top("A") and top("A", 2) and rank("A") = 1`,
		`recency("A") > 3 and lift("A") >= 1.5 and itemshare("A") != 0`:         `recency("A") > 3d and lift("A") >= 1.5 and itemshare("A") != 0`,
		`rscore >= 4 and fscore == 5 and mscore <= 2 and tenure > 1y`:           `rscore >= 4 and fscore = 5 and mscore <= 2 and tenure > 365d`,
	}
	for src, want := range cases {
		e, err := segment.Parse(src)
		if want == "" {
			require.Error(t, err, src)
			continue
		}
		require.NoError(t, err, src)
		assert.Equal(t, want, e.String(), src)
		again, err := segment.Parse(e.String())
		require.NoError(t, err)
		assert.Equal(t, e.String(), again.String())
	}
}

func TestGoExpressionsEqualText(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(3, 3)), 800)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	cat := "Dept0/Group0"
	cases := []struct {
		e    segment.Expr
		text string
	}{
		{segment.Affinity(cat).GE(0.3), `affinity("Dept0/Group0") >= 0.3`},
		{segment.And(segment.Recency().Between(14, 28), segment.Not(segment.Bought(segment.Category("Dept1")))),
			`recency between 14d and 28d and not bought(category("Dept1"))`},
		{segment.Or(segment.Monetary().GT(100), segment.Frequency().LE(1)), `monetary > 100 or frequency <= 1`},
		{segment.Carted(segment.Product("p001")).Within(7 * segment.Day), `carted(product("p001") within 7d)`},
		{segment.Viewed(segment.Category(cat), segment.Product("p002")), `viewed(category("Dept0/Group0"), product("p002"))`},
		{segment.Abandoned(30 * segment.Day), `abandoned(within 30d)`},
		{segment.Active(time.Date(2024, 1, 1, 15, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)),
			`active between "2024-01-01" and "2024-03-01"`},
		{segment.RFM("Champions"), `rfm("Champions")`},
		{segment.Lifecycle("loyal"), `lifecycle("loyal")`},
		{segment.Top(cat, 2), `top("Dept0/Group0", 2)`},
		{segment.TopRank(cat).EQ(1), `rank("Dept0/Group0") = 1`},
		{segment.Lift(cat).GE(1.2), `lift("Dept0/Group0") >= 1.2`},
		{segment.ItemShare(cat).LT(0.5), `itemshare("Dept0/Group0") < 0.5`},
		{segment.OrderShare(cat).NE(1), `ordershare("Dept0/Group0") != 1`},
		{segment.CategoryRecency(cat).LE(60), `recency("Dept0/Group0") <= 60d`},
		{segment.And(segment.RScore().GE(4), segment.FScore().GE(4), segment.MScore().GE(4), segment.AOV().GT(20), segment.Tenure().GT(365)),
			`rscore >= 4 and fscore >= 4 and mscore >= 4 and aov > 20 and tenure > 365d`},
		{segment.And(), `all`},
		{segment.Or(), `none`},
		{segment.All(), `all`},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.text, tc.e.String())
		a, err := x.Eval(tc.e)
		require.NoError(t, err, tc.text)
		b, err := x.Query(tc.text)
		require.NoError(t, err, tc.text)
		assert.True(t, a.Equals(b), tc.text)
	}
}

// query.Active compares the UTC days of its instants, which String
// writes: a From later in the day than To on the same UTC day (here
// 22:00 UTC, written at New York's 18:00) is that one day, as its text
// is, not an empty range; a From on a later UTC day is one.
func TestActiveComparesUTCDays(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(38, 3)), 200)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	d0 := testAsOf.UTC().Add(-10 * segment.Day).Truncate(segment.Day)
	late := d0.Add(22 * time.Hour).In(ny)
	for _, e := range []*query.Active{
		{From: late, To: d0.Add(9 * time.Hour)},
		{From: late, To: d0},
		{From: d0.Add(-time.Second).In(ny), To: d0.Add(-time.Hour)},
	} {
		want, err := x.Query(e.String())
		require.NoError(t, err, e.String())
		got, err := x.Eval(e)
		require.NoError(t, err, "%s: From %v To %v", e, e.From, e.To)
		assert.True(t, got.Equals(want), e.String())
	}
	_, err = x.Eval(&query.Active{From: d0.Add(24 * time.Hour), To: d0.Add(24*time.Hour - time.Second)})
	require.ErrorIs(t, err, segment.ErrInvalid, "a From on the next UTC day is after To")
	assert.Contains(t, err.Error(), "empty date range")
}

func TestBadInputIsAClearError(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(4, 4)), 300)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	cases := []struct {
		src, msg string
		sentinel error
	}{
		{`affinity("Dept0/Grup0") >= 0.3`, `unknown name: category "Dept0/Grup0" at line 1, column 10`, segment.ErrUnknown},
		{`bought("group0")`, `did you mean "Dept0/Group0"`, segment.ErrUnknown},
		{`bought(product("Dept0"))`, `product "Dept0" at line 1, column 16`, segment.ErrUnknown},
		{`recency < 3d and bought("nothing")`, `category "nothing" (nor a product) at line 1, column 25`, segment.ErrUnknown},
		{`segment("vip")`, `segment "vip" at line 1, column 9`, segment.ErrUnknown},
		{`rfm("Champs")`, `RFM segment "Champs" (known: Champions, Loyal`, segment.ErrUnknown},
		{`all and lifecycle( "sleeping")`, `lifecycle stage "sleeping" (known: new, repeat, loyal, lapsing, churned) at line 1, column 20`, segment.ErrUnknown},
		{`recency between 28d and 14d`, `empty range: recency between 28d and 14d at line 1, column 17`, segment.ErrInvalid},
		{`bought("Dept0" within 800d)`, `window 800d exceeds the index's look-back of 731d at line 1, column 23`, segment.ErrInvalid},
		{`active between "2024-02-01" and "2024-01-01"`, `empty date range: 2024-02-01 is after 2024-01-01 at line 1, column 16`, segment.ErrInvalid},
		{`top("Dept0", 5)`, `top 5 exceeds the index's TopN 3 at line 1, column 14`, segment.ErrInvalid},
		{"recency < 3d and\n  affinity(\"" + strings.Repeat("x", 500) + "\") > 0.1",
			`category "` + strings.Repeat("x", 60) + `"… at line 2, column 12`, segment.ErrUnknown},
	}
	for _, tc := range cases {
		_, err := x.Query(tc.src)
		require.ErrorIs(t, err, tc.sentinel, tc.src)
		assert.Contains(t, err.Error(), tc.msg, tc.src)
	}
	for _, e := range []segment.Expr{
		segment.Bought(segment.Category("Dept0")).Within(-segment.Day),
		segment.Bought(segment.Category("Dept0")).Within(36 * time.Hour),
		segment.Bought(),
		segment.Recency().GE(nanValue()),
		segment.Abandoned(-1),
		nil,
	} {
		_, err := x.Eval(e)
		require.ErrorIs(t, err, segment.ErrInvalid, "%v", e)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestBuildRejectsBadInput(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(6, 6)), 200)
	ctx := context.Background()
	_, err := segment.Build(ctx, h, time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), segment.Options{})
	require.ErrorIs(t, err, segment.ErrNoData)
	assert.Contains(t, err.Error(), "before the first order")
	_, err = segment.Build(ctx, nil, testAsOf, segment.Options{})
	require.ErrorIs(t, err, segment.ErrInvalid)
	_, err = segment.Build(ctx, h, time.Time{}, segment.Options{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	for _, o := range []segment.Options{
		{Lookback: affinity.Days(-1)},
		{Lookback: affinity.Lookback{Months: 1, All: true}},
		{Lookback: affinity.Months(200 * 12)},
		{RFMScoring: 7},
		{HalfLife: -time.Hour},
		{TopN: 100},
		{LoyalOrders: 1},
		{Lookback: affinity.Days(30), LapseAfter: 60 * segment.Day},
		{LapseAfter: 100 * segment.Day, ChurnAfter: 100 * segment.Day},
		{RFMRules: []segment.RFMRule{{Name: "x", R: segment.ScoreRange{Min: 0, Max: 6}}}},
		{RFMRules: []segment.RFMRule{{Name: "x"}, {Name: "X"}}},
		{RFMRules: []segment.RFMRule{{Name: " "}}},
	} {
		_, err := segment.Build(ctx, h, testAsOf, o)
		require.ErrorIs(t, err, segment.ErrInvalid, "%+v", o)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = segment.Build(cctx, h, testAsOf, segment.Options{})
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}
