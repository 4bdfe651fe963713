package benchmarks_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/benchmarks"
	"github.com/stretchr/testify/require"
)

// envLines returns the line count in the environment variable name (a
// number such as 1000000 or 1e6, one of benchmarks.Sizes), or def when it
// is unset.
func envLines(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return int(n)
}

// testLines is the size TestAnswersEqual runs at by default: about the
// smallest shop of the generator in which every question selects someone
// (at 10 k lines the coupon question selects no one).
const testLines = 30_000

// TestAnswersEqual answers the five questions three ways on the same CSV
// file — DuckDB on the lines, DuckDB on per-customer tables, affinity's
// segment index — and requires the same customers and the same spend, to
// the Money unit, from each; the naive Go scan must agree with DuckDB too.
func TestAnswersEqual(t *testing.T) {
	ctx := context.Background()
	shop, err := benchmarks.Generate(t.TempDir(), envLines(t, "BENCH_TEST_LINES", testLines))
	require.NoError(t, err)

	d, err := benchmarks.OpenDuck(shop, 0)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Load(ctx))
	require.NoError(t, d.Precompute(ctx))
	raw, err := d.Answers(ctx, benchmarks.Raw)
	require.NoError(t, err)
	pre, err := d.Answers(ctx, benchmarks.Precomputed)
	require.NoError(t, err)

	b, err := benchmarks.LoadAffinity(ctx, shop)
	require.NoError(t, err)
	h, err := b.Build(ctx)
	require.NoError(t, err)
	require.Equal(t, shop.Rows, h.NumLines())
	x, err := benchmarks.BuildIndex(ctx, h)
	require.NoError(t, err)
	a := benchmarks.NewAffinity(shop, x)
	aff, err := a.Answers()
	require.NoError(t, err)
	// The timed form, which reuses its last answer's slice, answers the same.
	for range 2 {
		for _, q := range []benchmarks.Question{benchmarks.QShare, benchmarks.QRecent, benchmarks.QCoupon} {
			got, err := a.Timed(q)
			require.NoError(t, err)
			require.Equal(t, aff.Sets[q], got, "%s, timed", q)
		}
	}

	// The questions must select someone, or equality proves little.
	for _, q := range []benchmarks.Question{benchmarks.QShare, benchmarks.QRecent, benchmarks.QCoupon} {
		require.NotZero(t, raw.Sets[q].Customers, "%s selects no one", q)
		t.Logf("%-15s %s", q, raw.Sets[q])
	}

	require.Empty(t, benchmarks.Compare("raw", "precomputed", raw, pre), "DuckDB raw and precomputed differ")
	lines, err := benchmarks.NaiveLoad(shop.Path)
	require.NoError(t, err)
	naive := benchmarks.NaiveAnswers(shop, benchmarks.NaiveFeatures(lines))
	require.Empty(t, benchmarks.Compare("raw", "naive", raw, naive), "DuckDB raw and the naive scan differ")
	for _, q := range benchmarks.Questions {
		t.Run(string(q), func(t *testing.T) {
			var diffs []string
			for _, d := range benchmarks.Compare("duckdb", "affinity", raw, aff) {
				if strings.HasPrefix(d, string(q)+":") {
					diffs = append(diffs, d)
				}
			}
			if len(diffs) > 0 {
				for _, d := range diffs {
					t.Error(d)
				}
			}
		})
	}
}
