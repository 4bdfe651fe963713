package segment_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// historyAround is randomHistory around an arbitrary asOf and look-back,
// with times on the day boundaries of asOf, of UTC and of asOf's zone, at
// the look-back's start and just after asOf.
func historyAround(t testing.TB, rng *rand.Rand, customers int, asOfT time.Time, lb affinity.Lookback) *affinity.History {
	t.Helper()
	var b affinity.Builder
	nProd := addRandomCatalog(t, rng, &b, "Dépt%d", "Dépt%d/Grüppe %d/Leaf«%d»")
	asOf := asOfT.Unix()
	start := lb.Start(asOfT)
	if lb.All {
		start = asOfT.AddDate(-5, 0, 0)
	}
	utcMid := asOfT.UTC().Truncate(24 * time.Hour)
	y, m, d := asOfT.Date()
	locMid := time.Date(y, m, d, 0, 0, 0, 0, asOfT.Location())
	when := func() time.Time {
		switch rng.IntN(24) {
		case 0:
			return asOfT
		case 1:
			return start
		case 2:
			return start.Add(time.Second)
		case 3:
			return asOfT.Add(-time.Duration(rng.IntN(40)) * segment.Day)
		case 4:
			return asOfT.Add(time.Duration(1+rng.IntN(30*day)) * time.Second)
		case 5:
			return utcMid.Add(-time.Duration(rng.IntN(10)) * segment.Day)
		case 6:
			return utcMid.Add(-time.Duration(rng.IntN(10))*segment.Day - time.Second)
		case 7:
			return locMid.AddDate(0, 0, -rng.IntN(10))
		case 8:
			return asOfT.Add(-time.Duration(rng.IntN(40))*segment.Day + time.Second)
		case 9:
			return asOfT.Add(-time.Duration(rng.IntN(40))*segment.Day - time.Second)
		}
		return time.Unix(asOf-int64(rng.IntN(1000*day)), 0)
	}
	order := 0
	for c := range customers {
		returnsOnly := rng.IntN(25) == 0
		addRandomCustomer(t, rng, &b, fmt.Sprintf("c%05d", c), nProd, &order, when, returnsOnly, true)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// Queries answer as the model of the lines at as-of times in other zones,
// on month ends, across a DST change and February 29, with look-backs of
// calendar months, days (shorter than LapseAfter: a customer without an
// order in it is lapsing, however recent), all time and one day.
func TestQueriesAtZonedAsOf(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	kol, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err)
	cases := []struct {
		name string
		asOf time.Time
		opts segment.Options
	}{
		{"utc-midnight", time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC), segment.Options{}},
		{"ny-month-end-dst", time.Date(2024, 3, 31, 0, 0, 0, 0, ny), segment.Options{}},
		{"kolkata-leap", time.Date(2024, 2, 29, 23, 59, 59, 0, kol), segment.Options{Lookback: affinity.Months(13)}},
		{"ny-days", time.Date(2024, 11, 3, 1, 30, 0, 0, ny), segment.Options{Lookback: affinity.Days(45)}},
		{"alltime-ny", time.Date(2024, 3, 10, 3, 0, 0, 0, ny), segment.Options{Lookback: affinity.AllTime}},
		{"1day-kolkata", time.Date(2024, 3, 10, 0, 0, 1, 0, kol), segment.Options{Lookback: affinity.Days(1)}},
		{"ntile-halflife-ny", time.Date(2024, 10, 31, 23, 0, 0, 0, ny), segment.Options{RFMScoring: segment.RFMNTile, HalfLife: 45 * segment.Day, Lookback: affinity.Months(6)}},
		{"utc-1s-before-midnight", time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), segment.Options{Lookback: affinity.Lookback{Months: 1, Duration: 36 * time.Hour}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i)+100, 38))
			lb := tc.opts.Lookback
			if lb.IsZero() {
				lb = affinity.Months(segment.DefaultLookbackMonths)
			}
			h := historyAround(t, rng, testdata.Scale(500, 150), tc.asOf, lb)
			x, err := segment.Build(context.Background(), h, tc.asOf, tc.opts)
			require.NoError(t, err)
			n := newNaive(h, tc.asOf, tc.opts)
			known := 0
			for _, c := range n.cust {
				if c.known {
					known++
				}
			}
			require.Equal(t, known, x.Len())
			checkQueries(t, x, n, rng, testdata.Scale(300, 100))
		})
	}
}

// tDef is a named segment in the model: its name and definition.
type tDef struct {
	name string
	x    tExpr
}

func (e tDef) text() string              { return fmt.Sprintf("segment(%q)", e.name) }
func (e tDef) eval(n *naive, c int) bool { return e.x.eval(n, c) }

// Queries through named segments (defined on one another, with names
// that need quoting) answer as the model of the definitions inlined.
func TestDefinitionsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 2))
	h := historyAround(t, rng, 400, testAsOf, affinity.Months(24))
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	n := newNaive(h, testAsOf, segment.Options{})
	g := newExprGen(rng, n)
	var segs []tDef
	pick := func() tExpr {
		if len(segs) > 0 && rng.IntN(2) == 0 {
			return segs[rng.IntN(len(segs))]
		}
		return g.expr(2)
	}
	for i := range 25 {
		var e tExpr
		switch rng.IntN(3) {
		case 0:
			e = tBool{and: rng.IntN(2) == 0, xs: []tExpr{pick(), pick(), pick()}}
		case 1:
			e = tNot{pick()}
		default:
			e = pick()
		}
		name := fmt.Sprintf("séг %d \"q\"", i)
		p, err := segment.Parse(e.text())
		require.NoError(t, err)
		x, err = x.Define(name, p)
		require.NoError(t, err, e.text())
		segs = append(segs, tDef{name, e})
	}
	for i := range testdata.Scale(200, 60) {
		e := tBool{and: rng.IntN(2) == 0, xs: []tExpr{pick(), tNot{pick()}, pick(), pick()}}
		got, err := x.Query(e.text())
		require.NoError(t, err)
		want := n.set(e)
		require.Truef(t, got.Equals(want), "query %d %s: got %d want %d", i, e.text(), got.GetCardinality(), want.GetCardinality())
	}
}

// edgeCase is a query and the customers the model says it selects.
type edgeCase struct {
	q    string
	pred func(n *naive, c *naiveCustomer) bool
}

// checkEdgeCases checks each case against the model.
func checkEdgeCases(t *testing.T, x *segment.Index, n *naive, cases []edgeCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := x.Query(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		want := roaring.New()
		for i := range n.cust {
			if n.cust[i].known && tc.pred(n, &n.cust[i]) {
				want.Add(uint32(i))
			}
		}
		if !got.Equals(want) {
			t.Errorf("%s: got %d want %d; extra %v missing %v", tc.q, got.GetCardinality(), want.GetCardinality(),
				head(roaring.AndNot(got, want)), head(roaring.AndNot(want, got)))
		}
	}
}

// Thresholds at the edges of each unit (0, negative, signs around the
// currency, units w, m, y, D, long decimals, 10^20 and more), shares at
// exactly 0, 1 and the stored steps, merged ranges, dates, windows and
// comments answer as the model of the lines.
func TestEdgeThresholdsMatchModel(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, ny)
	rng := rand.New(rand.NewPCG(38, 38))
	h := historyAround(t, rng, 800, asOf, affinity.Months(24))
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	require.NoError(t, err)
	n := newNaive(h, asOf, segment.Options{})
	cat := h.Catalog()
	// a category with buyers and a customer with cents
	var cc affinity.CategoryID
	for c := range cat.NumCategories() {
		if cat.Depth(affinity.CategoryID(c)) == 3 {
			cc = affinity.CategoryID(c)
			break
		}
	}
	path := cat.CategoryPath(cc)
	q := strconv.Quote(path)
	raw := "`" + path + "`"
	var someMon int64
	for i := range n.cust {
		if n.cust[i].freq > 0 && n.cust[i].monetary%100 != 0 {
			someMon = n.cust[i].monetary
			break
		}
	}
	monText := strconv.FormatFloat(float64(someMon)/1e4, 'f', -1, 64)
	rec := func(lo, hi int) func(n *naive, c *naiveCustomer) bool {
		return func(n *naive, c *naiveCustomer) bool { return c.recency >= 0 && c.recency >= lo && c.recency <= hi }
	}
	ten := func(lo, hi int) func(n *naive, c *naiveCustomer) bool {
		return func(n *naive, c *naiveCustomer) bool { return c.tenure >= 0 && c.tenure >= lo && c.tenure <= hi }
	}
	big1 := 1 << 40
	share := func(lo *big.Rat, loStrict bool, hi *big.Rat, hiStrict bool) func(n *naive, c *naiveCustomer) bool {
		return func(n *naive, c *naiveCustomer) bool {
			v := c.exactShare(0, cc)
			if lo != nil {
				if k := v.Cmp(lo); k < 0 || k == 0 && loStrict {
					return false
				}
			}
			if hi != nil {
				if k := v.Cmp(hi); k > 0 || k == 0 && hiStrict {
					return false
				}
			}
			return true
		}
	}
	utcDay := func(s string) int64 { d, _ := time.Parse(time.DateOnly, s); return d.Unix() / day }
	activeIn := func(from, to string) func(n *naive, c *naiveCustomer) bool {
		return func(n *naive, c *naiveCustomer) bool {
			for d := range c.days {
				if d >= utcDay(from) && d <= utcDay(to) {
					return true
				}
			}
			return false
		}
	}
	cases := []edgeCase{
		{"recency <= 0d", rec(0, 0)},
		{"recency = 0", rec(0, 0)},
		{"recency < 0", rec(1, 0)},
		{"recency >= -1", rec(0, big1)},
		{"recency between 0d and 0d", rec(0, 0)},
		{"recency <= 1m", rec(0, 30)},
		{"recency <= 0.5m", rec(0, 15)},
		{"recency < 1y", rec(0, 364)},
		{"recency < 1.5w", rec(0, 10)},
		{"recency <= 1.5w", rec(0, 10)},
		{"recency > 1.5w", rec(11, big1)},
		{"recency = 1.5w", rec(1, 0)},
		{"recency != 1.5w", rec(0, big1)},
		{"recency <= 3D", rec(0, 3)},
		{"tenure > 2.5w", ten(18, big1)},
		{"tenure >= 100000000000000000000", ten(1, 0)},
		{"tenure >= -100000000000000000000", ten(0, big1)},
		{"tenure != -3", ten(0, big1)},
		{"recency between 1y and 2y", rec(365, 730)},
		{"monetary >= $0.01", func(n *naive, c *naiveCustomer) bool { return c.monetary >= 100 }},
		{"monetary > 0", func(n *naive, c *naiveCustomer) bool { return c.monetary > 0 }},
		{"monetary < -$5", func(n *naive, c *naiveCustomer) bool { return c.monetary < -50000 }},
		{"monetary < $-5", func(n *naive, c *naiveCustomer) bool { return c.monetary < -50000 }},
		{"monetary <= -0", func(n *naive, c *naiveCustomer) bool { return c.monetary <= 0 }},
		{"monetary = " + monText, func(n *naive, c *naiveCustomer) bool { return c.monetary == someMon }},
		{"monetary = €" + monText, func(n *naive, c *naiveCustomer) bool { return c.monetary == someMon }},
		{"monetary != £" + monText, func(n *naive, c *naiveCustomer) bool { return c.monetary != someMon }},
		{"monetary >= " + monText + "001", func(n *naive, c *naiveCustomer) bool { return c.monetary > someMon }},
		{"monetary >= 999999999999999999999", func(n *naive, c *naiveCustomer) bool { return false }},
		{"monetary > -999999999999999999999", func(n *naive, c *naiveCustomer) bool { return true }},
		{"frequency >= 0", func(n *naive, c *naiveCustomer) bool { return true }},
		{"frequency != 0", func(n *naive, c *naiveCustomer) bool { return c.freq != 0 }},
		{"frequency = 0 and monetary < 0", func(n *naive, c *naiveCustomer) bool { return c.freq == 0 && c.monetary < 0 }},
		{"frequency > 0.9999999999", func(n *naive, c *naiveCustomer) bool { return c.freq >= 1 }},
		{"frequency < 1.0000000000001", func(n *naive, c *naiveCustomer) bool { return c.freq <= 1 }},
		{"aov <= 0", func(n *naive, c *naiveCustomer) bool { return c.freq > 0 && divRound(c.monetary, int64(c.freq)) <= 0 }},
		{"affinity(" + q + ") >= 100%", share(big.NewRat(1, 1), false, nil, false)},
		{"affinity(" + raw + ") > 100%", share(big.NewRat(1, 1), true, nil, false)},
		{"affinity(" + q + ") = 0", share(new(big.Rat), false, new(big.Rat), false)},
		{"affinity(" + q + ") != 0", func(n *naive, c *naiveCustomer) bool { return c.exactShare(0, cc).Sign() != 0 }},
		{"affinity(" + q + ") > 0.0000000000000000000000000001", share(new(big.Rat), true, nil, false)},
		{"affinity(" + q + ") < -1%", share(nil, false, big.NewRat(-1, 100), true)},
		{"affinity(" + q + ") between 33.33% and 66.67%", share(big.NewRat(3333, 10000), false, big.NewRat(6667, 10000), false)},
		{"affinity(" + q + ") >= 0.5 and affinity(" + q + ") <= 0.5", share(big.NewRat(1, 2), false, big.NewRat(1, 2), false)},
		{"affinity(" + q + ") > 0.25 and affinity(" + q + ") >= 0.25", share(big.NewRat(1, 4), true, nil, false)},
		{"affinity(" + q + ") >= 0.25 and affinity(" + q + ") > 0.25", share(big.NewRat(1, 4), true, nil, false)},
		{"affinity(" + q + ") < 0.75 and affinity(" + q + ") <= 0.75", share(nil, false, big.NewRat(3, 4), true)},
		{"affinity(" + q + ") <= 0.75 and affinity(" + q + ") < 0.75", share(nil, false, big.NewRat(3, 4), true)},
		{"recency <= 10 and recency >= 5 and recency != 7", func(n *naive, c *naiveCustomer) bool { return c.recency >= 5 && c.recency <= 10 && c.recency != 7 }},
		{"monetary >= 10 and monetary <= 5", func(n *naive, c *naiveCustomer) bool { return false }},
		{"active between \"1970-01-01\" and \"2100-12-31\"", activeIn("1970-01-01", "2100-12-31")},
		{"active between \"2024-03-30\" and \"2024-03-31\"", activeIn("2024-03-30", "2024-03-31")},
		{"active between \"2024-03-31\" and \"2024-03-31\"", activeIn("2024-03-31", "2024-03-31")},
		{"active between \"0000-01-01\" and \"2021-01-01\"", activeIn("0000-01-01", "2021-01-01")},
		{"abandoned(1d)", func(n *naive, c *naiveCustomer) bool { return c.abandoned >= 0 && c.abandoned < 1 }},
		{"abandoned(within 1w)", func(n *naive, c *naiveCustomer) bool { return c.abandoned >= 0 && c.abandoned < 7 }},
		{"abandoned()", func(n *naive, c *naiveCustomer) bool { return c.abandoned >= 0 && c.abandoned < int(n.look) }},
		{"not not all", func(n *naive, c *naiveCustomer) bool { return true }},
		{"none or not none", func(n *naive, c *naiveCustomer) bool { return true }},
		{"bought(" + q + " within 1d)", func(n *naive, c *naiveCustomer) bool { d, ok := c.catDays[cc]; return ok && d < 1 }},
		{"bought(" + q + ", 2y)", func(n *naive, c *naiveCustomer) bool { d, ok := c.catDays[cc]; return ok && d < 730 }},
		{"bought(category(" + q + "))", func(n *naive, c *naiveCustomer) bool { _, ok := c.catDays[cc]; return ok }},
		{"bought(" + q + ") # comment\n and recency <= 10", func(n *naive, c *naiveCustomer) bool {
			_, ok := c.catDays[cc]
			return ok && c.recency >= 0 && c.recency <= 10
		}},
	}
	checkEdgeCases(t, x, n, cases)
}

// An index whose customers never bought (events only, or returns only)
// answers every attribute as the package documentation says customers
// without a value compare.
func TestIndexWithoutBuyers(t *testing.T) {
	for _, returnsOnly := range []bool{false, true} {
		var b affinity.Builder
		require.NoError(t, b.AddProduct(affinity.Product{Key: "p1", Categories: []string{"Ä/B"}, InStock: true}))
		require.NoError(t, b.AddProduct(affinity.Product{Key: "p2", Categories: []string{"Ä/C"}, InStock: true}))
		for i, c := range []string{"a", "b", "c"} {
			if returnsOnly {
				require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p1", Order: "o" + c, Time: testAsOf.Add(-time.Duration(i+1) * segment.Day), Quantity: -1, Price: 500}))
			} else {
				require.NoError(t, b.AddEvent(affinity.Event{Customer: c, Product: "p1", Time: testAsOf.Add(-time.Duration(i+1) * segment.Day), Kind: affinity.Cart, Weight: 1}))
			}
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		for _, opts := range []segment.Options{{}, {HalfLife: 10 * segment.Day}} {
			x, err := segment.Build(context.Background(), h, testAsOf, opts)
			require.NoError(t, err)
			all := x.All()
			require.EqualValues(t, 3, all.GetCardinality())
			for q, want := range map[string]*roaring.Bitmap{
				"all": all, "not all": roaring.New(), "frequency = 0": all, "rscore >= 1": roaring.New(),
				`lift("Ä") >= 0`: all, `lift("Ä") > 0`: roaring.New(), `lift("Ä/B") < 1`: all,
				`affinity("Ä") = 0`: all, `not affinity("Ä/B") != 0`: all, `rfm("champions")`: roaring.New(),
				`not lifecycle("new")`: all, `recency >= 0`: roaring.New(), `not recency >= 0`: all,
				`top("Ä", 1)`: roaring.New(), `active between "2000-01-01" and "2030-01-01"`: roaring.New(),
				`bought("p1")`: roaring.New(), `aov <= 0`: roaring.New(), `itemshare("Ä") <= 0`: all,
				`ordershare("Ä/C") between 0 and 0`: all,
			} {
				got, err := x.Query(q)
				require.NoError(t, err, q)
				require.Truef(t, got.Equals(want), "%v %v %s: got %v want %v", returnsOnly, opts.HalfLife, q, got.ToArray(), want.ToArray())
			}
			if returnsOnly {
				got, err := x.Query("monetary = -0.05")
				require.NoError(t, err)
				require.True(t, got.Equals(all), "monetary = -5: %v", got.ToArray())
			} else {
				got, err := x.Query(`abandoned(2d) and carted("p1" within 2d) and carted("Ä", 2d) and not carted("Ä/C")`)
				require.NoError(t, err)
				require.EqualValues(t, 1, got.GetCardinality())
			}
			st := x.Stats("", all)
			require.Equal(t, 3, st.Customers)
			ct := x.CrossTab([]*roaring.Bitmap{all, nil}, []*roaring.Bitmap{all})
			require.Equal(t, st.Customers, ct[0][0].Customers)
		}
	}
}

// Errors of the parser and of the compiler locate the offending token by
// byte offset, line and column in code points, after comments, tabs,
// CRLF and multi-byte characters.
func TestErrorPositionsAfterMultibyteText(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 4))
	h := historyAround(t, rng, 200, testAsOf, affinity.Months(24))
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	cat := h.Catalog().CategoryPath(2)
	cases := []struct{ q, at string }{
		{"# é ✓\n\tfrequency >= 1 and\r\n affinity(\"Nöpe\") >= 1", ""},
		{"# é ✓\n\tbought(\"" + cat + "\" within 800d)", "800d"},
		{"# é ✓\n\tbought(\"" + cat + "\", 3y)", "3y"},
		{"é ✓", "é"},
		{"# é ✓\n\ttop(\"" + cat + "\", 5)", "5)"},
		{"# é ✓\n\tflag(\"nope\") = 1", "\"nope\""},
		{"# é ✓\n\trecency between 5d and 3d", "5d"},
		{"# é ✓\n\tmonetary between €5 and £3", "€5"},
		{"# é ✓\n\tmonetary between -$5 and -$6", "-$5"},
		{"# é ✓\n\trecency <= 7.5.9", ".9"},
		{"# é ✓\n\tbought(\"" + cat + "\" within 0d)", "0d"},
		{"# é ✓\n\tabandoned(within 1.5d)", "1.5d"},
		{"# é ✓\n\tactive between \"2024-02-30\" and \"2024-03-01\"", "\"2024-02-30\""},
		{"# é ✓\n\trecency <= 3x", "x"},
		{"# é ✓\n\taffinity(\"a\") >= 3d", "d"},
	}
	for _, tc := range cases {
		_, err := x.Query(tc.q)
		require.Error(t, err, tc.q)
		at := tc.at
		if at == "" {
			at = "\"Nöpe\""
		}
		off := strings.Index(tc.q, at)
		line := 1 + strings.Count(tc.q[:off], "\n")
		col := 1 + len([]rune(tc.q[strings.LastIndexByte(tc.q[:off], '\n')+1:off]))
		var se *segment.SyntaxError
		var qe *segment.QueryError
		switch {
		case errors.As(err, &se):
			assert.Equal(t, []int{off, line, col}, []int{se.Offset, se.Line, se.Column}, "%q: %v", tc.q, err)
		case errors.As(err, &qe):
			assert.Equal(t, []int{off, line, col}, []int{qe.Offset, qe.Line, qe.Column}, "%q: %v", tc.q, err)
		default:
			t.Errorf("%q: no position: %v", tc.q, err)
		}
	}
}
