package benchmarks_test

// Adversarial tests of the claim that the questions of the suite get the
// same answers from DuckDB (raw lines and per-customer tables), from
// affinity's segment index and from the naive Go scan, on small shops
// written by hand: boundaries of the look-back, the recency band and the
// 90-day window, exact 30 % shares, returns, zero prices, ties in the
// NTILE order, unicode keys, duplicate lines, anonymous lines, money near
// its limits. Expectations come from the documentation (doc.go,
// answers.go, README.md and the library's godoc), not from the code.
//
// One in-memory DuckDB database serves every shop (its tables are dropped
// between shops): opening one costs more than the shops themselves.

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/benchmarks"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// advAnsRow is one CSV line of a hand-written shop.
type advAnsRow struct {
	C, O, P, Cat string
	T            time.Time
	Q            int
	Price        string
}

// advAnsWorld is a hand-written shop and what the documentation says some
// of its answers are.
type advAnsWorld struct {
	Category, Sub string
	Rows          []advAnsRow
	// Want lists the expected customer keys of QShare, QRecent and QCoupon
	// (absent: not stated); every way must give them.
	Want map[benchmarks.Question][]string
	// NoDuck leaves DuckDB out (for shops that only test the Go ways);
	// RawOnly leaves out DuckDB's per-customer tables (for shops whose
	// raw answers already show a difference), to save their cost.
	NoDuck, RawOnly bool
}

// advAnsShared is the one DuckDB database of the file, and the Shop its
// Duck reads: each world rewrites the Shop in place.
var advAnsShared struct {
	once sync.Once
	shop benchmarks.Shop
	duck *benchmarks.Duck
	err  error
	mu   sync.Mutex
}

// advAnsDuck returns the shared Duck pointed at a new shop for w, with the
// lines table loaded and the per-customer tables computed.
func advAnsDuck(t *testing.T) *benchmarks.Duck {
	s := &advAnsShared
	s.once.Do(func() { s.duck, s.err = benchmarks.OpenDuck(&s.shop, 1) })
	require.NoError(t, s.err)
	return s.duck
}

// advAnsAt returns AsOf minus d days of 24 hours plus s seconds.
func advAnsAt(d, s int) time.Time {
	return benchmarks.AsOf.Add(-time.Duration(d)*24*time.Hour + time.Duration(s)*time.Second)
}

// advAnsStart is the start of the look-back as the docs define it:
// AsOf minus 24 calendar months, a day the target month lacks taken as
// its last (the tests' reference).
func advAnsStart() time.Time {
	return testdata.MonthsBefore(benchmarks.AsOf, benchmarks.LookbackMonths)
}

// advAnsWrite writes the world's CSV file and returns its path.
func advAnsWrite(t *testing.T, rows []advAnsRow) string {
	path := filepath.Join(t.TempDir(), "shop.csv")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := csv.NewWriter(f)
	require.NoError(t, w.Write([]string{"customer", "order", "product", "category", "time", "quantity", "price"}))
	for _, r := range rows {
		require.NoError(t, w.Write([]string{r.C, r.O, r.P, r.Cat, r.T.UTC().Format(benchmarks.TimeLayout), strconv.Itoa(r.Q), r.Price}))
	}
	w.Flush()
	require.NoError(t, w.Error())
	require.NoError(t, f.Close())
	return path
}

// advAnsWays holds every way's answers to one world, nil where the way
// failed (its error is in errs).
type advAnsWays struct {
	raw, pre, aff, naive *benchmarks.Answers
	// cells are the timed forms of QRFM (counts and spend only).
	preCells, affCells *[5][5]benchmarks.Set
	errs               map[string]error
}

// advAnsAnswer answers the questions of w every way.
func advAnsAnswer(t *testing.T, w advAnsWorld) *advAnsWays {
	t.Helper()
	s := &advAnsShared
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := context.Background()
	d := advAnsDuck(t)
	path := advAnsWrite(t, w.Rows)
	s.shop = benchmarks.Shop{Path: path, Category: w.Category, Sub: w.Sub, Rows: len(w.Rows)}
	out := &advAnsWays{errs: map[string]error{}}

	// DuckDB, both ways.
	_, err := d.DB.ExecContext(ctx, "DROP TABLE IF EXISTS lines; DROP TABLE IF EXISTS cust; DROP TABLE IF EXISTS cust_cat")
	require.NoError(t, err)
	if w.NoDuck {
		err = nil
	} else if err = d.Load(ctx); err != nil {
		out.errs["duckdb load"] = err
	} else if !w.RawOnly {
		if err = d.Precompute(ctx); err != nil {
			out.errs["duckdb precompute"] = err
		}
	}
	if err == nil && !w.NoDuck {
		ways := []benchmarks.Way{benchmarks.Raw, benchmarks.Precomputed}
		if w.RawOnly {
			ways = ways[:1]
		}
		for _, way := range ways {
			a, err := d.Answers(ctx, way)
			if err != nil {
				out.errs[way.String()] = err
				continue
			}
			if way == benchmarks.Raw {
				out.raw = a
				continue
			}
			// The timed form of QRFM on the per-customer tables (the
			// raw way's is the same GROUP BY over the rows Answers read).
			cells, err := advAnsCellsSQL(ctx, d, way)
			if err != nil {
				out.errs[way.String()+" cells"] = err
			}
			out.pre, out.preCells = a, cells
		}
	}

	// affinity.
	func() {
		b, err := benchmarks.LoadAffinity(ctx, &s.shop)
		if err != nil {
			out.errs["affinity load"] = err
			return
		}
		h, err := b.Build(ctx)
		if err != nil {
			out.errs["affinity history"] = err
			return
		}
		x, err := benchmarks.BuildIndex(ctx, h)
		if err != nil {
			out.errs["affinity index"] = err
			return
		}
		a := benchmarks.NewAffinity(&s.shop, x)
		ans, err := a.Answers()
		if err != nil {
			out.errs["affinity"] = err
			return
		}
		out.aff = ans
		// The timed forms answer the same, twice (the second reuses the
		// first's slice).
		for range 2 {
			for _, q := range []benchmarks.Question{benchmarks.QShare, benchmarks.QRecent, benchmarks.QCoupon} {
				got, err := a.Timed(q)
				if assert.NoError(t, err, "timed %s", q) {
					assert.Equal(t, ans.Sets[q], got, "timed %s", q)
				}
			}
		}
		st, err := a.Stats(benchmarks.QCouponStats)
		if assert.NoError(t, err) {
			assert.Equal(t, ans.Sets[benchmarks.QCouponStats], st, "Stats(QCouponStats)")
		}
		cells, err := a.Cells(false)
		if assert.NoError(t, err) {
			out.affCells = &cells
		}
	}()

	// The naive scan.
	lines, err := benchmarks.NaiveLoad(path)
	if err != nil {
		out.errs["naive"] = err
	} else {
		out.naive = benchmarks.NaiveAnswers(&s.shop, benchmarks.NaiveFeatures(lines))
	}
	return out
}

// advAnsCellsSQL runs the timed form of QRFM the way w.
func advAnsCellsSQL(ctx context.Context, d *benchmarks.Duck, w benchmarks.Way) (*[5][5]benchmarks.Set, error) {
	rows, err := d.DB.QueryContext(ctx, d.CellsSQL(w))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [5][5]benchmarks.Set
	for rows.Next() {
		var r, f, n int
		var m int64
		if err := rows.Scan(&r, &f, &n, &m); err != nil {
			return nil, err
		}
		out[r-1][f-1] = benchmarks.Set{Customers: n, Spend: affinity.Money(m)}
	}
	return &out, rows.Err()
}

// advAnsCellsOf drops the keys of an answer's R×F cells.
func advAnsCellsOf(a *benchmarks.Answers) [5][5]benchmarks.Set {
	var out [5][5]benchmarks.Set
	for r := range 5 {
		for f := range 5 {
			out[r][f] = benchmarks.Set{Customers: a.RFM[r][f].Customers, Spend: a.RFM[r][f].Spend}
		}
	}
	return out
}

// advAnsCheck requires every way to answer, the answers to agree with
// DuckDB on the raw lines, and the stated expectations to hold.
func advAnsCheck(t *testing.T, w advAnsWorld) *advAnsWays {
	t.Helper()
	a := advAnsAnswer(t, w)
	for name, err := range a.errs {
		t.Errorf("%s: %v", name, err)
	}
	ways := []struct {
		name string
		ans  *benchmarks.Answers
	}{{"duckdb raw", a.raw}, {"duckdb precomputed", a.pre}, {"affinity", a.aff}, {"naive", a.naive}}
	var ref *benchmarks.Answers
	refName := ""
	for _, w := range ways {
		if w.ans == nil {
			continue
		}
		if ref == nil {
			ref, refName = w.ans, w.name
			continue
		}
		for _, d := range benchmarks.Compare(refName, w.name, ref, w.ans) {
			t.Error(d)
		}
	}
	for _, c := range []struct {
		name  string
		cells *[5][5]benchmarks.Set
	}{{"duckdb precomputed cells", a.preCells}, {"affinity cells", a.affCells}} {
		if c.cells != nil && ref != nil {
			assert.Equal(t, advAnsCellsOf(ref), *c.cells, "%s vs %s's R×F cells", c.name, refName)
		}
	}
	for _, q := range []benchmarks.Question{benchmarks.QShare, benchmarks.QRecent, benchmarks.QCoupon} {
		want, ok := w.Want[q]
		if !ok {
			continue
		}
		want = slices.Clone(want)
		sort.Strings(want)
		for _, w := range ways {
			if w.ans != nil {
				assert.Equal(t, want, w.ans.Sets[q].Keys, "%s: %s", w.name, q)
			}
		}
	}
	return a
}

// advAnsR builds a row.
func advAnsR(c, o, p, cat string, at time.Time, q int, price string) advAnsRow {
	return advAnsRow{C: c, O: o, P: p, Cat: cat, T: at, Q: q, Price: price}
}

// advAnsSubAnchor is a line that puts Sub ("A/s") into the catalog long
// ago, so that the coupon question can name it, for a customer of its own.
func advAnsSubAnchor() advAnsRow {
	return advAnsR("anchor", "anchor-1", "sub-anchor", "A/s", advAnsAt(400, 0), 1, "1")
}

// advAnsSetAsOf changes benchmarks.AsOf for the test and restores it.
func advAnsSetAsOf(t *testing.T, at time.Time) {
	old := benchmarks.AsOf
	benchmarks.AsOf = at
	t.Cleanup(func() { benchmarks.AsOf = old })
}

// advAnsPart is a group of customers of a shop, with the expected keys of
// QShare, QRecent and QCoupon for its customers; parts with distinct
// customers merge into one shop (one DuckDB load instead of several).
type advAnsPart struct {
	rows                  []advAnsRow
	share, recent, coupon []string
}

// advAnsMerge makes one world of parts, with Category "Ä" and Sub "Ä/s"
// (non-ASCII, so that prefixes and sorting are by bytes of UTF-8).
func advAnsMerge(parts ...advAnsPart) advAnsWorld {
	w := advAnsWorld{Category: "Ä", Sub: "Ä/s", Want: map[benchmarks.Question][]string{
		benchmarks.QShare: {}, benchmarks.QRecent: {}, benchmarks.QCoupon: {},
	}}
	for _, p := range parts {
		w.Rows = append(w.Rows, p.rows...)
		w.Want[benchmarks.QShare] = append(w.Want[benchmarks.QShare], p.share...)
		w.Want[benchmarks.QRecent] = append(w.Want[benchmarks.QRecent], p.recent...)
		w.Want[benchmarks.QCoupon] = append(w.Want[benchmarks.QCoupon], p.coupon...)
	}
	return w
}

// advAnsAnchorPart puts Sub into the catalog long ago (400 days), for a
// customer of its own, so that the coupon question can name it.
func advAnsAnchorPart() advAnsPart {
	return advAnsPart{rows: []advAnsRow{advAnsR("anchor", "anchor-1", "sub-anchor", "Ä/s", advAnsAt(400, 0), 1, "1")},
		share: []string{"anchor"}}
}

// advAnsRecencyPart puts customers at each edge of the 14–28 day band:
// whole days of 24 hours before AsOf, lines after AsOf ignored, returns
// and free lines.
func advAnsRecencyPart() advAnsPart {
	return advAnsPart{rows: []advAnsRow{
		advAnsR("r14", "o1", "pa", "Ä/x", advAnsAt(14, 0), 1, "1.5"),     // exactly 14 days: in
		advAnsR("r13", "o2", "pa", "Ä/x", advAnsAt(14, 1), 1, "2"),       // 13 days 23:59:59: out
		advAnsR("r28", "o3", "pa", "Ä/x", advAnsAt(29, 1), 2, "3.25"),    // 28 days 23:59:59: in
		advAnsR("r29", "o4", "pa", "Ä/x", advAnsAt(29, 0), 1, "4"),       // exactly 29 days: out
		advAnsR("r0", "o5", "pa", "Ä/x", advAnsAt(0, 0), 1, "5"),         // at AsOf: 0 days
		advAnsR("rfut", "o6", "pa", "Ä/x", advAnsAt(0, 1), 1, "6"),       // after AsOf only: unknown
		advAnsR("rfut2", "o7", "pa", "Ä/x", advAnsAt(20, 0), 1, "7"),     // 20 days …
		advAnsR("rfut2", "o8", "pa", "Ä/x", advAnsAt(0, 1), 1, "70"),     // … and a line after AsOf
		advAnsR("rret", "o9", "pa", "Ä/x", advAnsAt(40, 0), 1, "8"),      // bought 40 days ago …
		advAnsR("rret", "o10", "pa", "Ä/x", advAnsAt(20, 0), -1, "8"),    // … returned 20 days ago
		advAnsR("rzero", "o11", "pfree", "Ä/x", advAnsAt(20, 0), 1, "0"), // a free purchase is one
		advAnsR("r15", "o12", "pb", "B/y", advAnsAt(15, 0), 1, "9"),      // in the band, other category
	},
		recent: []string{"r14", "r28", "rfut2", "rzero", "r15"},
		share:  []string{"r14", "r13", "r28", "r29", "r0", "rfut2", "rret"},
		coupon: []string{"r14", "r28", "rfut2"},
	}
}

// advAnsLookbackPart: the window (AsOf − 24 months, AsOf] is open at its
// start and closed at AsOf, for spend, shares and RFM scoring.
func advAnsLookbackPart() advAnsPart {
	start, sec := advAnsStart(), time.Second
	return advAnsPart{rows: []advAnsRow{
		advAnsR("w_start", "o1", "pa", "Ä/x", start, 1, "10"),           // at the start: out of the window
		advAnsR("w_start", "o2", "pb", "B/y", start.Add(sec), 1, "10"),  // a second later: in
		advAnsR("w_only_start", "o3", "pa", "Ä/x", start, 1, "10"),      // bought only at the start
		advAnsR("w_after", "o4", "pa", "Ä/x", start.Add(sec), 1, "3"),   // first second of the window
		advAnsR("w_asof", "o5", "pa", "Ä/x", advAnsAt(0, 0), 1, "4"),    // at AsOf: in
		advAnsR("w_asof", "o6", "pb", "B/y", advAnsAt(0, 1), 1, "400"),  // after AsOf: out
		advAnsR("w_ret", "o7", "pa", "Ä/x", advAnsAt(20, 0), 2, "5"),    // bought in the window …
		advAnsR("w_ret", "o8", "pa", "Ä/x", start, -1, "5"),             // … a return at the start: out
		advAnsR("w_retin", "o9", "pa", "Ä/x", start.Add(-sec), 1, "6"),  // bought before the window …
		advAnsR("w_retin", "o10", "pa", "Ä/x", start.Add(sec), -1, "6"), // … returned in it: net −6, no score
		advAnsR("w_leap", "o11", "pa", "Ä/x", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), 1, "7"),
		advAnsR("w_leap", "o12", "pb", "B/y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 1, "7"),
		advAnsR("w_eoy", "o13", "pb", "B/y", time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), 1, "1"),
		advAnsR("w_eoy", "o14", "pa", "Ä/x", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), 1, "1"),
	},
		share:  []string{"w_after", "w_asof", "w_ret", "w_leap", "w_eoy"},
		recent: []string{"w_ret"},
		coupon: []string{"w_ret"},
	}
}

// advAnsSharePart: a share of exactly 30 % is in, one Money unit less is
// out; shares count bought lines only, over all bought spend
// (uncategorised products included), and the category's nodes below it,
// not a category that merely starts with the same letters or differs in
// case.
func advAnsSharePart() advAnsPart {
	at := advAnsAt(100, 0)
	return advAnsPart{rows: []advAnsRow{
		advAnsR("s30", "o1", "pa", "Ä/x", at, 1, "3"),
		advAnsR("s30", "o1", "pb", "B/y", at, 1, "7"),
		advAnsR("s30tiny", "o2", "pa2", "Ä/x", at, 1, "0.0003"),
		advAnsR("s30tiny", "o2", "pb2", "B/y", at, 1, "0.0007"),
		advAnsR("s29", "o3", "pa3", "Ä/x", at, 1, "2.9999"),
		advAnsR("s29", "o3", "pb3", "B/y", at, 1, "7.0001"),
		advAnsR("s_ret", "o4", "pa", "Ä/x", at, 1, "3"),
		advAnsR("s_ret", "o4", "pb", "B/y", at, 1, "7"),
		advAnsR("s_ret", "o5", "pa", "Ä/x", advAnsAt(50, 0), -1, "3"), // returns never lower a share
		advAnsR("s_nocat", "o6", "pa", "Ä/x", at, 1, "3"),
		advAnsR("s_nocat", "o6", "pnone", "", at, 1, "7"), // an uncategorised product
		advAnsR("s_nocat2", "o7", "pa3", "Ä/x", at, 1, "2.9999"),
		advAnsR("s_nocat2", "o7", "pnone2", "", at, 1, "7.0001"),
		advAnsR("s_deep", "o8", "pdeep", "Ä/s/t", at, 1, "3"),
		advAnsR("s_deep", "o8", "pb", "B/y", at, 1, "7"),
		advAnsR("s_prefix", "o9", "pab", "Äb/x", at, 1, "10"), // "Äb" is not below "Ä"
		advAnsR("s_case", "o10", "plow", "ä/x", at, 1, "10"),  // nor is "ä"
		advAnsR("s_zero", "o11", "pfree", "Ä/x", at, 1, "0"),  // no spend: no share
		advAnsR("s_qty", "o12", "pa4", "Ä/x", at, 3, "1"),
		advAnsR("s_qty", "o12", "pb4", "B/y", at, 7, "1"),
		advAnsR("s_qty29", "o13", "pa5", "Ä/x", at, 2, "1.4999"),
		advAnsR("s_qty29", "o13", "pb", "B/y", at, 1, "7.0002"),
		advAnsR("s_retonly", "o14", "pa", "Ä/x", at, -1, "3"),
		advAnsR("s_old", "o15", "pa", "Ä/x", advAnsStart().Add(-time.Hour), 1, "30"), // Ä only before the window
		advAnsR("s_old", "o16", "pb", "B/y", at, 1, "7"),
	},
		share: []string{"s30", "s30tiny", "s_ret", "s_nocat", "s_deep", "s_qty"},
	}
}

// advAnsCouponPart: "no purchase in Sub in the 90 days before AsOf" is the
// window (AsOf − 90 days, AsOf]; returns are not purchases.
func advAnsCouponPart() advAnsPart {
	var rows []advAnsRow
	for _, c := range []string{"c_none", "c_90", "c_89", "c_ret", "c_fut", "c_deep", "c_old", "c_low"} {
		rows = append(rows, advAnsR(c, c+"-1", "pa", "Ä/x", advAnsAt(20, 0), 1, "10"))
	}
	rows = append(rows,
		advAnsR("c_90", "c_90-2", "ps", "Ä/s", advAnsAt(90, 0), 1, "1"),    // exactly 90 days: not within
		advAnsR("c_89", "c_89-2", "ps", "Ä/s", advAnsAt(90, 1), 1, "1"),    // a second later: within
		advAnsR("c_ret", "c_ret-2", "ps", "Ä/s", advAnsAt(200, 0), 1, "1"), // bought long ago …
		advAnsR("c_ret", "c_ret-3", "ps", "Ä/s", advAnsAt(10, 0), -1, "1"), // … returned recently
		advAnsR("c_fut", "c_fut-2", "ps", "Ä/s", advAnsAt(0, 1), 1, "1"),   // after AsOf
		advAnsR("c_deep", "c_deep-2", "pst", "Ä/s/t", advAnsAt(30, 0), 1, "1"),
		advAnsR("c_old", "c_old-2", "ps", "Ä/s", advAnsAt(91, 0), 1, "1"),
		advAnsR("c_same", "c_same-1", "pa", "Ä/x", advAnsAt(20, 0), 1, "10"), // Sub in the same order
		advAnsR("c_same", "c_same-1", "ps", "Ä/s", advAnsAt(20, 0), 1, "1"),
		advAnsR("c_low", "c_low-2", "pb", "B/y", advAnsAt(25, 0), 1, "100"), // share too low
	)
	return advAnsPart{rows: rows,
		share:  []string{"c_none", "c_90", "c_89", "c_ret", "c_fut", "c_deep", "c_old", "c_same"},
		recent: []string{"c_none", "c_90", "c_89", "c_ret", "c_fut", "c_deep", "c_old", "c_same", "c_low"},
		coupon: []string{"c_none", "c_90", "c_ret", "c_fut", "c_old"},
	}
}

// advAnsDupPart: exact duplicate lines are kept (their spend counts
// twice, as the loader documents), an order id reused by another customer
// is that customer's own order, two orders at the same second are two,
// an order's lines need not be adjacent, and a return may sit in the
// order it came from at the same time.
func advAnsDupPart() advAnsPart {
	at := advAnsAt(20, 0)
	rows := []advAnsRow{
		advAnsR("dup", "o1", "pa", "Ä/x", at, 1, "2.5"),
		advAnsR("dup", "o1", "pa", "Ä/x", at, 1, "2.5"), // the same line again
		advAnsR("dup", "o1", "pb", "B/y", at, 1, "10"),
		advAnsR("other", "o1", "pa", "Ä/x", at, 1, "4"), // another customer's order "o1"
		advAnsR("dup", "o1", "pa", "Ä/x", at, 1, "2.5"), // o1 again, after another customer's line
		advAnsR("two", "t1", "pa", "Ä/x", at, 1, "1"),
		advAnsR("two", "t2", "pb", "B/y", at, 1, "1"), // a second order, same second
		advAnsR("mix", "m1", "pa", "Ä/x", at, 3, "2"),
		advAnsR("mix", "m1", "pa", "Ä/x", at, -1, "2"), // a return in the same order, same time
	}
	for i := range 6 {
		rows = append(rows, advAnsR(fmt.Sprintf("single%d", i), "s", "pb", "B/y", advAnsAt(30+i, 0), 1, "1"))
	}
	return advAnsPart{rows: rows,
		share:  []string{"dup", "other", "two", "mix"},
		recent: []string{"dup", "other", "two", "mix"},
		coupon: []string{"dup", "other", "two", "mix"},
	}
}

// advAnsQuotePart: keys, orders and products with commas and quotes, and
// non-ASCII ones, survive both CSV readers.
func advAnsQuotePart() advAnsPart {
	at := advAnsAt(20, 0)
	return advAnsPart{rows: []advAnsRow{
		advAnsR("k,1", "o,1", "p,1", "Ä/s", advAnsAt(300, 0), 1, "1"),
		advAnsR(`k"2`, `o"2`, `p"2`, "Ä/x", at, 1, "2"),
		advAnsR("κ3", "o3", "p3", "Ä/s/γ", at, 1, "3"),
		advAnsR("k4", "o4", "p4", "Äb/x", at, 1, "4"),
	},
		share:  []string{"k,1", `k"2`, "κ3"},
		recent: []string{`k"2`, "κ3", "k4"},
		coupon: []string{`k"2`},
	}
}

// advAnsHugePart: spends near the largest that every way holds (a line's
// value below 1e14, DuckDB's DECIMAL(18,4); a customer's spend times 10
// within int64 Money units, the naive scan's): the exact 30 % comparison
// holds at the last Money unit, and sums with large returns do not wrap.
func advAnsHugePart() advAnsPart {
	const p = "9000000000000" // 9e12: seven units make a line of 6.3e13
	return advAnsPart{rows: []advAnsRow{
		advAnsR("h_exact", "o1", "ps", "Ä/s", advAnsAt(100, 0), 3, p),
		advAnsR("h_exact", "o1", "pb", "B/y", advAnsAt(100, 0), 7, p),
		advAnsR("h_exact", "o2", "pb", "B/y", advAnsAt(20, 0), 1, "0"),
		advAnsR("h_short", "o1", "ps", "Ä/s", advAnsAt(100, 0), 3, p),
		advAnsR("h_short", "o1", "pb", "B/y", advAnsAt(100, 0), 7, p),
		advAnsR("h_short", "o2", "pb2", "B/y", advAnsAt(20, 0), 1, "0.0001"), // one Money unit more
		advAnsR("h_r1", "o1", "ps", "Ä/s", advAnsAt(100, 0), 2, p),
		advAnsR("h_r1", "o2", "ps", "Ä/s", advAnsAt(20, 0), -2, p), // net 0
		advAnsR("h_r2", "o3", "pa", "Ä/x", advAnsAt(200, 0), 1, "1"),
		advAnsR("h_r2", "o4", "pa", "Ä/x", advAnsAt(21, 0), -9, p), // net about −8.1e13
		advAnsR("h_r3", "o5", "pb", "B/y", advAnsAt(22, 0), 2, "45000000000000.0001"),
	},
		share:  []string{"h_exact", "h_r1", "h_r2"},
		recent: []string{"h_exact", "h_short", "h_r3"},
		coupon: []string{"h_exact"},
	}
}

// TestAdvAnsEdges answers one shop of many edge cases (see the parts):
// recency band edges, look-back edges, exact shares, the coupon's 90-day
// window, duplicate lines, keys that need quoting, money near the limits.
func TestAdvAnsEdges(t *testing.T) {
	advAnsCheck(t, advAnsMerge(advAnsAnchorPart(), advAnsRecencyPart(), advAnsLookbackPart(),
		advAnsSharePart(), advAnsCouponPart(), advAnsDupPart(), advAnsQuotePart(), advAnsHugePart()))
}

// TestAdvAnsRecencyOffMidnight: the recency and coupon edges with an
// as-of time in the middle of a UTC day, where whole days of 24 hours and
// calendar days part (AsOf is a documented variable that every way
// reads).
func TestAdvAnsRecencyOffMidnight(t *testing.T) {
	advAnsSetAsOf(t, time.Date(2026, 1, 1, 15, 30, 7, 0, time.UTC))
	advAnsCheck(t, advAnsMerge(advAnsAnchorPart(), advAnsRecencyPart(), advAnsCouponPart()))
}

// TestAdvAnsRFMTiesUnicode: customers whose last purchase and number of
// orders tie are ordered by their keys as bytes (unicode, case, quotes,
// commas, leading zeros); customers without a bought order in the
// look-back get no scores.
func TestAdvAnsRFMTiesUnicode(t *testing.T) {
	keys := []string{"Z", "a", "é", "e\u0301", "ä", "a,b", `q"uote`, "日本", "007", "7", "A", "zz", "Ω"}
	at := advAnsAt(20, 0)
	rows := advAnsAnchorPart().rows
	for i, k := range keys {
		rows = append(rows, advAnsR(k, "o-"+k, "pa", "Ä/x", at, 1, strconv.Itoa(i+1)))
		if i%3 == 0 { // a second order at the same second, for F
			rows = append(rows, advAnsR(k, "o2-"+k, "pb", "B/y", at, 1, "0.5"))
		}
	}
	rows = append(rows,
		advAnsR("ret_only", "x1", "pa", "Ä/x", at, -1, "3"), // a return only: no score
		advAnsR("before", "x2", "pa", "Ä/x", advAnsStart(), 1, "3"),
		advAnsR("before", "x3", "pa", "Ä/x", advAnsAt(30, 0), -1, "3"), // bought before the window only
		advAnsR("free", "x4", "pfree", "Ä/x", at, 1, "0"),              // free orders count
	)
	a := advAnsCheck(t, advAnsWorld{Category: "Ä", Sub: "Ä/s", Rows: rows})

	// NTILE(5) over (last purchase, key) for R: everyone but the anchor
	// bought at the same second, so R follows the keys as bytes.
	scored := append(slices.Clone(keys), "free")
	sort.Strings(scored)
	scored = append([]string{"anchor"}, scored...) // the anchor bought first
	var wantR [5][]string
	n, i := len(scored), 0
	for tile := range 5 {
		size := n / 5
		if tile < n%5 {
			size++
		}
		wantR[tile] = scored[i : i+size]
		i += size
	}
	for _, way := range []*benchmarks.Answers{a.raw, a.aff} {
		if way == nil {
			continue
		}
		for r := range 5 {
			var got []string
			for f := range 5 {
				got = append(got, way.RFM[r][f].Keys...)
			}
			sort.Strings(got)
			want := slices.Clone(wantR[r])
			sort.Strings(want)
			assert.Equal(t, want, got, "R=%d", r+1)
		}
	}
}

// TestAdvAnsOneCustomer: a shop of one customer.
func TestAdvAnsOneCustomer(t *testing.T) {
	a := advAnsCheck(t, advAnsWorld{Category: "A", Sub: "A/s", Rows: []advAnsRow{
		advAnsR("solo", "o1", "ps", "A/s", advAnsAt(300, 0), 1, "1"),
		advAnsR("solo", "o2", "pa", "A/x", advAnsAt(20, 0), 1, "5"),
	}, Want: map[benchmarks.Question][]string{
		benchmarks.QShare: {"solo"}, benchmarks.QRecent: {"solo"}, benchmarks.QCoupon: {"solo"},
	}})
	if a.raw != nil {
		assert.Equal(t, 1, a.raw.RFM[0][0].Customers, "one customer: R=1, F=1")
	}
}

// TestAdvAnsOnlyReturns: a shop whose one customer only returned things
// (DuckDB's per-customer tables meet such customers in TestAdvAnsEdges).
func TestAdvAnsOnlyReturns(t *testing.T) {
	a := advAnsCheck(t, advAnsWorld{Category: "A", Sub: "A/s", RawOnly: true, Rows: []advAnsRow{
		advAnsR("ret", "o1", "ps", "A/s", advAnsAt(20, 0), -1, "1"),
		advAnsR("ret", "o2", "pa", "A/x", advAnsAt(15, 0), -2, "5"),
	}, Want: map[benchmarks.Question][]string{
		benchmarks.QShare: {}, benchmarks.QRecent: {}, benchmarks.QCoupon: {},
	}})
	if a.raw != nil {
		assert.Equal(t, [5][5]benchmarks.Set{}, advAnsCellsOf(a.raw), "no one is scored")
	}
}

// TestAdvAnsEmptyShop: a CSV file with a header and no lines (a valid,
// empty input for the loader). SQL and the naive scan answer nobody;
// segment.Build documents ErrNoData for a History without orders by
// asOf, so affinity answers with that error.
func TestAdvAnsEmptyShop(t *testing.T) {
	a := advAnsAnswer(t, advAnsWorld{Category: "A", Sub: "A/s"})
	empty := &benchmarks.Answers{Sets: map[benchmarks.Question]benchmarks.Set{
		benchmarks.QShare: {Keys: []string{}}, benchmarks.QRecent: {Keys: []string{}},
		benchmarks.QCoupon: {Keys: []string{}}, benchmarks.QCouponStats: {},
	}}
	for name, ans := range map[string]*benchmarks.Answers{"duckdb raw": a.raw, "duckdb precomputed": a.pre, "naive": a.naive} {
		if assert.NotNil(t, ans, "%s: %v", name, a.errs) {
			assert.Empty(t, benchmarks.Compare("empty", name, empty, ans))
			assert.Equal(t, [5][5]benchmarks.Set{}, advAnsCellsOf(ans), name)
		}
	}
	assert.ErrorIs(t, a.errs["affinity index"], segment.ErrNoData)
}

// TestAdvAnsAnonymousLines: guest checkouts have no customer key.
func TestAdvAnsAnonymousLines(t *testing.T) {
	advAnsCheck(t, advAnsWorld{Category: "A", Sub: "A/s", RawOnly: true, Rows: []advAnsRow{
		advAnsSubAnchor(),
		advAnsR("", "g1", "pa", "A/x", advAnsAt(20, 0), 1, "5"),
		advAnsR("", "g2", "pa", "A/x", advAnsAt(21, 0), 1, "6"),
		advAnsR("known", "k1", "pa", "A/x", advAnsAt(22, 0), 1, "7"),
	}, Want: map[benchmarks.Question][]string{
		benchmarks.QShare:  {"anchor", "known"},
		benchmarks.QRecent: {"known"},
		benchmarks.QCoupon: {"known"},
	}})
}

// TestAdvAnsEmptyOrderID: the order column may be empty on a line.
func TestAdvAnsEmptyOrderID(t *testing.T) {
	rows := []advAnsRow{advAnsSubAnchor(),
		advAnsR("noorder", "", "pa", "A/x", advAnsAt(40, 0), 1, "5"),
		advAnsR("noorder", "", "pa", "A/x", advAnsAt(20, 0), 1, "5"),
	}
	for i := range 6 {
		rows = append(rows, advAnsR(fmt.Sprintf("n%d", i), "o", "pa", "A/x", advAnsAt(30+i, 0), 1, "1"))
	}
	advAnsCheck(t, advAnsWorld{Category: "A", Sub: "A/s", RawOnly: true, Rows: rows})
}

// TestAdvAnsNaiveShareOverflow: a customer whose whole spend (9.5e13, one
// line) is in the category has a share of 100 %.
func TestAdvAnsNaiveShareOverflow(t *testing.T) {
	advAnsCheck(t, advAnsWorld{Category: "A", Sub: "A/s", NoDuck: true, Rows: []advAnsRow{
		advAnsR("big", "o1", "ps", "A/s", advAnsAt(100, 0), 1, "1"),
		advAnsR("big", "o2", "pa", "A/x", advAnsAt(20, 0), 1, "95000000000000"),
	}, Want: map[benchmarks.Question][]string{
		benchmarks.QShare: {"big"}, benchmarks.QRecent: {"big"}, benchmarks.QCoupon: {"big"},
	}})
}

// TestAdvAnsLeapDayAsOf: AsOf on February 29 of a leap year; doc.go's
// "24 calendar months" back is February 28 (no February 29 that year),
// in SQL's interval arithmetic and in affinity.Lookback's alike, not
// March 1 as time.AddDate would roll over to.
func TestAdvAnsLeapDayAsOf(t *testing.T) {
	advAnsSetAsOf(t, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC))
	start := advAnsStart()
	require.Equal(t, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), start)
	advAnsCheck(t, advAnsWorld{Category: "A", Sub: "A/s", RawOnly: true, Rows: []advAnsRow{
		advAnsSubAnchor(),
		advAnsR("feb27", "o1", "pa", "A/x", start.Add(-12*time.Hour), 1, "10"),
		advAnsR("feb27", "o2", "pb", "B/y", advAnsAt(20, 0), 1, "10"),
		advAnsR("feb28", "o3", "pa", "A/x", start, 1, "10"),
		advAnsR("feb28", "o4", "pb", "B/y", advAnsAt(20, 0), 1, "10"),
		advAnsR("feb28noon", "o5", "pa", "A/x", start.Add(12*time.Hour), 1, "10"),
		advAnsR("feb28noon", "o6", "pb", "B/y", advAnsAt(20, 0), 1, "10"),
		advAnsR("mar1", "o7", "pa", "A/x", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 1, "10"),
		advAnsR("mar1", "o8", "pb", "B/y", advAnsAt(20, 0), 1, "10"),
	}, Want: map[benchmarks.Question][]string{
		benchmarks.QShare: {"anchor", "feb28noon", "mar1"},
	}})
}

// TestAdvAnsOutsideTheShape: files outside the shape on which the package
// doc says the ways agree, and how it says they part: a price of more than
// 4 decimals DuckDB rounds while the Go ways reject the file, a quantity
// of 0 or a negative price the strict loader refuses while SQL and the
// naive scan take it, and an empty category level a History drops while
// SQL and the naive scan keep it.
func TestAdvAnsOutsideTheShape(t *testing.T) {
	base := []advAnsRow{advAnsSubAnchor()}
	world := func(rows ...advAnsRow) advAnsWorld {
		return advAnsWorld{Category: "A", Sub: "A/s", RawOnly: true, Rows: append(slices.Clone(base), rows...)}
	}
	// agree requires the answers of the named ways to be there and equal
	// to DuckDB's on the raw lines.
	agree := func(t *testing.T, a *advAnsWays, name string, got *benchmarks.Answers) {
		require.NotNil(t, a.raw, "duckdb raw: %v", a.errs)
		require.NotNil(t, got, "%s: %v", name, a.errs)
		assert.Empty(t, benchmarks.Compare("duckdb raw", name, a.raw, got))
	}
	t.Run("price of 5 decimals", func(t *testing.T) {
		a := advAnsAnswer(t, world(advAnsR("d", "o1", "pa", "A/x", advAnsAt(20, 0), 1, "1.00005")))
		require.NotNil(t, a.raw, "DuckDB rounds: %v", a.errs)
		assert.Error(t, a.errs["affinity load"])
		assert.Error(t, a.errs["naive"])
	})
	for _, c := range []struct {
		name string
		row  advAnsRow
	}{
		{"quantity 0", advAnsR("z", "o2", "pa", "A/x", advAnsAt(20, 0), 0, "5")},
		{"negative price", advAnsR("n", "o1", "pdisc", "B/y", advAnsAt(20, 0), 1, "-5")},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := advAnsAnswer(t, world(advAnsR(c.row.C, "o0", "pa", "A/x", advAnsAt(40, 0), 1, "10"), c.row))
			assert.Error(t, a.errs["affinity load"])
			agree(t, a, "naive", a.naive)
		})
	}
	t.Run("empty level", func(t *testing.T) {
		// s bought in "A//s" 30 days ago: in the sub-category "A/s" to a
		// History, so no coupon; in no "A/s" to SQL, so a coupon
		a := advAnsAnswer(t, world(
			advAnsR("s", "o1", "pa", "A/x", advAnsAt(20, 0), 1, "10"),
			advAnsR("s", "o2", "pss", "A//s", advAnsAt(30, 0), 1, "1")))
		require.Empty(t, a.errs)
		agree(t, a, "naive", a.naive)
		assert.Equal(t, []string{"s"}, a.raw.Sets[benchmarks.QCoupon].Keys)
		assert.Empty(t, a.aff.Sets[benchmarks.QCoupon].Keys)
	})
}
