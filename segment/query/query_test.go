package query_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment/query"
)

var syn = query.NewSyntax(
	query.AttrSpec{Name: "recency", Unit: query.Days},
	query.AttrSpec{Name: "affinity", Unit: query.Share, Arg: true},
)

func TestChainedAndIsFlat(t *testing.T) {
	leaf := query.Attr{Name: "recency", Unit: query.Days}
	acc := query.And()
	const n = 100_000
	for i := range n {
		acc = query.And(acc, leaf.LE(float64(i)))
	}
	b, ok := acc.(*query.Bool)
	require.True(t, ok)
	require.Len(t, b.Xs, n+1) // the leading All and n clauses
	// a Bool extended twice does not see the other's operands
	base := query.And(leaf.LE(1), leaf.LE(2))
	x := query.And(base, leaf.LE(3))
	y := query.And(base, leaf.LE(4))
	assert.Equal(t, "recency <= 1d and recency <= 2d and recency <= 3d", x.String())
	assert.Equal(t, "recency <= 1d and recency <= 2d and recency <= 4d", y.String())
	assert.Equal(t, "recency <= 1d and recency <= 2d", base.String())
	z := query.And(x, leaf.LE(5))
	assert.Equal(t, "recency <= 1d and recency <= 2d and recency <= 3d and recency <= 5d", z.String())
	assert.Equal(t, "recency <= 1d and recency <= 2d and recency <= 4d", y.String())
	// Or splices Ors, not Ands
	o := query.Or(query.Or(leaf.LE(1), leaf.LE(2)), query.And(leaf.LE(3), leaf.LE(4)))
	require.Len(t, o.(*query.Bool).Xs, 3)
	assert.Equal(t, "recency <= 1d or recency <= 2d or recency <= 3d and recency <= 4d", o.String())
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("recency < 3d and ", 5000) + "all"
	_, err := syn.Parse(long)
	var se *query.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "longer than Limits.MaxLen (65536 bytes)")
	big := query.NewSyntax(query.AttrSpec{Name: "recency", Unit: query.Days})
	big.Limits.MaxLen = 1 << 20
	_, err = big.Parse(long)
	require.NoError(t, err)

	for _, src := range []string{ // at the limit: accepted
		strings.Repeat("(", 200) + "all" + strings.Repeat(")", 200),
		strings.Repeat("not ", 200) + "all",
		strings.Repeat("(not ", 100) + "all" + strings.Repeat(")", 100),
	} {
		_, err := syn.Parse(src)
		assert.NoError(t, err, "200 levels")
	}
	deep := strings.Repeat("(", 201) + "all" + strings.Repeat(")", 201)
	_, err = syn.Parse(deep)
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "Limits.MaxDepth (200)")
	big.Limits.MaxDepth = 300
	_, err = big.Parse(deep)
	require.NoError(t, err)
}

func TestErrorsQuoteLittleInput(t *testing.T) {
	word := strings.Repeat("w", 10_000)
	_, err := syn.Parse(word)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 150, err.Error())
	assert.Contains(t, err.Error(), `unknown word "`+strings.Repeat("w", 60)+`"…`)
	_, err = syn.Parse(`affinity("a") > 1` + strings.Repeat("x", 10_000))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 200, err.Error())
	assert.Equal(t, `"héllo"`, query.Excerpt("héllo"))
}

func TestPositions(t *testing.T) {
	e, err := syn.Parse(`recency <= 3d and affinity( "A/B") between 0.1 and 0.2`)
	require.NoError(t, err)
	b := e.(*query.Bool)
	c := b.Xs[1].(*query.Compare)
	assert.Equal(t, 19, c.Pos)
	assert.Equal(t, 29, c.ArgPos)
	assert.Equal(t, 44, c.ValuePos)
	assert.Equal(t, 52, c.HiPos)
	assert.Equal(t, "A/B", c.Attr.Arg)
}
