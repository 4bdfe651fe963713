package segment

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
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
