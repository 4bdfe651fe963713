package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/segment/query"
)

// A tree built in Go may share a node among several parents: e =
// Or(And(e, a), And(e, b)), repeated, has two nodes more per level but
// 2^levels paths. Each shared node compiles and evaluates once, so the
// work (counted in allocations, which were millions) grows with the
// nodes, not the paths; the answer is e's, e ∧ (a ∨ b).
func TestSharedNodesCompileOnce(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(38, 7)), 300)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	leaf, a, b := segment.Frequency().GE(1), segment.Recency().LE(200), segment.Monetary().GT(500)
	const levels = 16
	e := leaf
	for range levels {
		e = segment.Or(segment.And(e, a), segment.And(e, b))
	}
	var got any
	allocs := testing.AllocsPerRun(1, func() {
		got, err = x.Eval(e)
	})
	require.NoError(t, err)
	assert.Less(t, allocs, float64(100*levels), "allocations grow with the paths through the tree")
	want, err := x.Eval(segment.And(leaf, segment.Or(a, b)))
	require.NoError(t, err)
	assert.True(t, want.Equals(got), "shared nodes answer as the tree")
	require.NoError(t, x.Check(e))

	// a node shared by Ands of its own kind is spliced once: x and x is x
	and := &query.Bool{And: true, Xs: []segment.Expr{leaf, a}}
	for range levels {
		and = &query.Bool{And: true, Xs: []segment.Expr{and, and}}
	}
	got2, err := x.Eval(and)
	require.NoError(t, err)
	want2, err := x.Eval(segment.And(leaf, a))
	require.NoError(t, err)
	assert.True(t, want2.Equals(got2))

	// the depth limit holds wherever a shared node is reached: s nests
	// 6,000 deep, and 6,000 Nots above it make 12,000
	s := segment.All()
	for range 6000 {
		s = segment.Not(s)
	}
	deep := s
	for range 6000 {
		deep = segment.Not(deep)
	}
	_, err = x.Eval(segment.And(segment.Or(s, leaf), deep))
	require.ErrorIs(t, err, segment.ErrInvalid)
	assert.Contains(t, err.Error(), "MaxExprDepth")
	_, err = x.Eval(segment.And(segment.Or(s, leaf), segment.Not(segment.Not(s))))
	require.NoError(t, err, "6,003 deep")
}

// *query.Activity and *query.Const satisfy Expr through their value
// methods, and evaluate as the values do; a nil node of any kind is an
// error, not a panic.
func TestPointerNodesEvaluateAsValues(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(38, 8)), 200)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	act := segment.Bought(segment.Category(h.Catalog().CategoryPath(1))).Within(30 * segment.Day)
	for i, c := range []struct{ ptr, val segment.Expr }{
		{&act, act},
		{&query.Const{All: true}, query.Const{All: true}},
		{&query.Const{}, query.Const{}},
		{segment.Not(&act), segment.Not(act)},
	} {
		assert.Equal(t, c.val.String(), c.ptr.String())
		want, err := x.Eval(c.val)
		require.NoError(t, err)
		got, err := x.Eval(c.ptr)
		require.NoError(t, err, c.val.String())
		assert.True(t, want.Equals(got), c.val.String())
		name := fmt.Sprint("d", i)
		y, err := x.Define(name, c.ptr)
		require.NoError(t, err)
		got, err = y.Query(fmt.Sprintf("segment(%q)", name))
		if assert.NoError(t, err) {
			assert.True(t, want.Equals(got), "defined: %s", c.val.String())
		}
	}
	for _, e := range []segment.Expr{(*query.Activity)(nil), (*query.Const)(nil), (*query.Bool)(nil), (*query.Negation)(nil),
		(*query.Compare)(nil), (*query.Abandoned)(nil), (*query.Active)(nil), (*query.Ref)(nil), (*query.Top)(nil),
		segment.And(segment.All(), (*query.Bool)(nil)), segment.Not((*query.Activity)(nil))} {
		_, err := x.Eval(e)
		require.ErrorIs(t, err, segment.ErrInvalid, "%T", e)
	}
}

// An expression built in Go that is among its own operands (an And in
// its own Xs, directly or through an Or or a Not) has no text: Eval,
// Check and Define refuse it instead of answering as if the cycle were
// not there, and Define no longer writes it until the stack overflows.
func TestExpressionContainingItself(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(5, 7)), 60)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	leaf := segment.Frequency().GE(2)
	self := &query.Bool{And: true}
	self.Xs = []segment.Expr{leaf, self}
	deeper := &query.Bool{And: true}
	deeper.Xs = []segment.Expr{leaf, &query.Bool{And: true, Xs: []segment.Expr{segment.Recency().LE(30), deeper}}}
	across := &query.Bool{And: true}
	across.Xs = []segment.Expr{leaf, &query.Bool{Xs: []segment.Expr{segment.Recency().LE(30), across}}}
	negated := &query.Bool{And: true}
	negated.Xs = []segment.Expr{leaf, segment.Not(negated)}
	for name, e := range map[string]segment.Expr{"self": self, "deeper": deeper, "across": across, "negated": negated} {
		_, err := x.Eval(e)
		require.ErrorIs(t, err, segment.ErrInvalid, name)
		assert.Contains(t, err.Error(), "contains itself", name)
		require.ErrorIs(t, x.Check(e), segment.ErrInvalid, name)
		_, err = x.Define("loop", e)
		require.ErrorIs(t, err, segment.ErrInvalid, name)
	}
}

// Define saves a segment's text, which writes a shared node at each of
// its places: a tree of 3·levels+3 nodes writes about 2^levels. Past
// MaxDefinitionNodes it is refused (it took 0.6 s and 306 MB at 18
// levels, doubling with each), found in time linear in the distinct
// nodes; below, it is defined and answers as Eval does.
func TestDefineBoundsSharedText(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(38, 7)), 100)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	leaf, a, b := segment.Frequency().GE(1), segment.Recency().LE(200), segment.Monetary().GT(500)
	e := leaf
	for range 8 {
		e = segment.Or(segment.And(e, a), segment.And(e, b))
	}
	y, err := x.Define("small", e)
	require.NoError(t, err, "2^8 paths")
	want, err := x.Eval(e)
	require.NoError(t, err)
	got, err := y.Query(`segment("small")`)
	require.NoError(t, err)
	assert.True(t, want.Equals(got))
	for range 60 {
		e = segment.Or(segment.And(e, a), segment.And(e, b))
	}
	_, err = x.Eval(e)
	require.NoError(t, err, "68 levels evaluate")
	allocs := testing.AllocsPerRun(1, func() {
		_, err = x.Define("large", e)
	})
	require.ErrorIs(t, err, segment.ErrInvalid)
	assert.Contains(t, err.Error(), fmt.Sprint(segment.MaxDefinitionNodes))
	assert.Less(t, allocs, 2000.0, "the size is counted, not written")
}
