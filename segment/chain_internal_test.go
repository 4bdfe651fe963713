package segment

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment/query"
)

// TestCompileFlattensNestedBools builds And and Or trees nested 20,000
// deep by hand (as a tree from elsewhere might be, without the splicing of
// query.And) and checks that each compiles to one flat plan.
func TestCompileFlattensNestedBools(t *testing.T) {
	x := &Index{universe: nil}
	x.universe = newUniverse(10)
	for _, and := range []bool{true, false} {
		var e Expr = query.All()
		for range 20_000 {
			e = &query.Bool{And: and, Xs: []Expr{query.None(), e}} // right-deep
		}
		p, err := x.compile(e, "")
		require.NoError(t, err)
		if and {
			require.Len(t, p.(andPlan).ps, 20_001)
		} else {
			require.Len(t, p.(orPlan).ps, 20_001)
		}
	}
	// depth that does not flatten is bounded
	var e Expr = query.All()
	for range MaxExprDepth + 1 {
		e = query.Not(e)
	}
	_, err := x.compile(e, "")
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "MaxExprDepth")
}

func newUniverse(n uint32) *roaring.Bitmap {
	b := roaring.New()
	b.AddRange(0, uint64(n))
	return b
}

// TestRepeatedActiveRangeMergesOnce: every active term merges a bitmap per
// day of its range (all of them for "0000-01-01" to "9999-12-31"); a
// query asking for one range many times, directly or through a
// definition, compiles it to one shared plan that merges once, and an Or
// (And) takes a shared plan once.
func TestRepeatedActiveRangeMergesOnce(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	for i, c := range []string{"a", "b", "c"} { // on February 26, 27 and 28
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p", Order: c, Time: t0.AddDate(0, 0, i-3), Quantity: 1, Price: 100}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := Build(context.Background(), h, t0, Options{})
	require.NoError(t, err)
	require.Len(t, x.daily, 3)
	const wide, narrow = `active between "0000-01-01" and "9999-12-31"`, `active between "2024-02-26" and "2024-02-26"`
	x, err = x.Define("d", query.Or(mustParse(t, wide), mustParse(t, narrow)))
	require.NoError(t, err)
	src := strings.Repeat(wide+" or ", 50) + narrow + ` or segment("d")`
	e, err := Parse(src)
	require.NoError(t, err)
	p, err := x.compile(e, src)
	require.NoError(t, err)
	or, ok := p.(orPlan)
	require.True(t, ok, "%T", p)
	require.Len(t, or.ps, 3, "the range once (x or x is x), the other, the definition")
	first, ok := or.ps[0].(*refPlan)
	require.True(t, ok, "%T", or.ps[0])
	require.Equal(t, 51, first.uses, "50 terms and the definition's")
	got := p.eval(x, x.universe, false)
	want, err := x.Query(wide)
	require.NoError(t, err)
	require.True(t, want.Equals(got))
}

func mustParse(t *testing.T, src string) Expr {
	t.Helper()
	e, err := Parse(src)
	require.NoError(t, err)
	return e
}
