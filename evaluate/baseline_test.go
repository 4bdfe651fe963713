package evaluate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
)

// baselineHistory: A bought by u1, u2, u3 (u1 twice); B by u1, u2 and an
// anonymous order; C by u3 and rated by u4; D only viewed-free rating by
// u4 long ago; E bought by u2 on day 50 only.
func baselineHistory(t *testing.T) *affinity.History {
	return build(t, []buy{
		{"u1", "o1", 1, []string{"A", "B"}},
		{"u1", "o2", 20, []string{"A"}},
		{"u1", "o3", 30, []string{"A", "C"}},
		{"u2", "o4", 2, []string{"A", "B"}},
		{"u2", "o5", 50, []string{"E"}},
		{"u3", "o6", 3, []string{"A", "C"}},
		{"", "a1", 4, []string{"B", "D"}},
	}, []rating{{"u4", "C", 5, 4}, {"u4", "D", 0, 1}})
}

func recommend(t *testing.T, r evaluate.Recommender, h *affinity.History, cust string, k int, exclude ...string) []string {
	t.Helper()
	c, ok := h.LookupCustomer(cust)
	require.True(t, ok)
	var ex func(affinity.ProductID) bool
	if len(exclude) > 0 {
		ex = func(p affinity.ProductID) bool { return slices.Contains(exclude, h.Catalog().ProductKey(p)) }
	}
	prefix := []affinity.ProductID{99} // dst is appended to, never overwritten
	got := r.Recommend(prefix, c, k, ex)
	require.Equal(t, affinity.ProductID(99), got[0])
	return keys(h, got[1:])
}

func TestPopular(t *testing.T) {
	ctx := context.Background()
	h := baselineHistory(t)
	p := &evaluate.Popular{}
	assert.Equal(t, "popular", p.Name())
	require.NoError(t, p.Fit(ctx, h, day(60)))
	// distinct customers (+ anonymous orders): A 3, B 3 (u1, u2, a1),
	// C 3 (u1, u3, u4), D 2 (a1, u4), E 1; ties by id (first seen: A, B, C, E, D)
	assert.Equal(t, []string{"A", "B", "C", "D", "E"}, recommend(t, p, h, "u1", 10))
	assert.Equal(t, []string{"A", "C"}, recommend(t, p, h, "u3", 2, "B"))

	// lately: only interactions in (day 60 - 35 days, day 60]: A (u1 day 30), C (u1), E (u2)
	lately := &evaluate.Popular{Window: 35 * 24 * time.Hour}
	require.NoError(t, lately.Fit(ctx, h, day(60)))
	assert.Equal(t, []string{"A", "C", "E"}, recommend(t, lately, h, "u2", 5))
}

func TestRepeat(t *testing.T) {
	ctx := context.Background()
	h := baselineHistory(t)
	r := &evaluate.Repeat{}
	require.NoError(t, r.Fit(ctx, h, day(60)))
	// u1: A in 3 orders, then B (day 1) and C (day 30) once each: the more
	// recent C first
	assert.Equal(t, []string{"A", "C", "B"}, recommend(t, r, h, "u1", 5))
	assert.Equal(t, []string{"A"}, recommend(t, r, h, "u1", 1))
	assert.Equal(t, []string{"C", "B"}, recommend(t, r, h, "u1", 5, "A"))
	// u4 only rated: C (day 5) before D (day 0)
	assert.Equal(t, []string{"C", "D"}, recommend(t, r, h, "u4", 5))
	// state is reset between calls
	assert.Equal(t, []string{"A", "C", "B"}, recommend(t, r, h, "u1", 5))
}

func TestRandom(t *testing.T) {
	ctx := context.Background()
	h := storefront(t, 200, 4)
	r := &evaluate.Random{Seed: 7}
	require.NoError(t, r.Fit(ctx, h, h.Latest())) // products are drawn from interactions up to asOf
	first := recommend(t, r, h, h.CustomerKey(3), 10)
	assert.Len(t, first, 10)
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(first))), 10, "distinct")
	// the same customer gets the same list whatever was asked before
	recommend(t, r, h, h.CustomerKey(5), 10)
	assert.Equal(t, first, recommend(t, r, h, h.CustomerKey(3), 10))
	assert.NotEqual(t, first, recommend(t, r, h, h.CustomerKey(4), 10))
	other := &evaluate.Random{Seed: 8}
	require.NoError(t, other.Fit(ctx, h, h.Latest()))
	assert.NotEqual(t, first, recommend(t, other, h, h.CustomerKey(3), 10))
	// exclusions are honoured
	assert.NotContains(t, recommend(t, r, h, h.CustomerKey(3), 10, first[0], first[1]), first[0])

	// a pool smaller than k: everything, once (A B C D E minus excluded)
	small := baselineHistory(t)
	require.NoError(t, r.Fit(ctx, small, small.Latest()))
	assert.ElementsMatch(t, []string{"A", "C", "D", "E"}, recommend(t, r, small, "u1", 10, "B"))
}

func TestSegmentPopular(t *testing.T) {
	ctx := context.Background()
	cats := []affinity.Product{
		{Key: "S1", Categories: []string{"Sport/Shoes"}}, {Key: "S2", Categories: []string{"Sport/Socks"}},
		{Key: "S3", Categories: []string{"Sport/Socks"}}, {Key: "H1", Categories: []string{"Home/Lamps"}},
		{Key: "H2", Categories: []string{"Home/Cups"}}, {Key: "H3", Categories: []string{"Home/Cups", "Sport/Cups"}},
	}
	h := build(t, []buy{
		{"s1", "o1", 1, []string{"S1", "S2"}},
		{"s2", "o2", 1, []string{"S1", "S3"}},
		{"s3", "o3", 1, []string{"S3", "H3"}}, // sport 1.5, home 0.5
		{"h1", "o4", 1, []string{"H1", "H2"}},
		{"h2", "o5", 1, []string{"H2"}},
		{"h3", "o6", 1, []string{"H1", "H3", "S1"}}, // home 1.5, sport 1.5: tie, lower category id (Sport, first seen) wins
	}, nil, cats...)
	sp := &evaluate.SegmentPopular{}
	assert.Equal(t, "segment-popular", sp.Name())
	require.NoError(t, sp.Fit(ctx, h, day(2)))
	// Sport segment {s1, s2, s3, h3}: S1 3, S3 2, H3 2, S2 1, H1 1; then global fill
	assert.Equal(t, []string{"S1", "S3", "H3", "S2", "H1", "H2"}, recommend(t, sp, h, "s1", 6))
	// Home segment {h1, h2}: H2 2, H1 1; then global: S1 3, then S3, H1, H2,
	// H3 with 2 each, by id (S3 = 2 < H3 = 5)
	assert.Equal(t, []string{"H2", "H1", "S1", "S3", "H3"}, recommend(t, sp, h, "h2", 5))

	// without categories: frequency bands; u1 (3 orders) and u2 (2) share a
	// band, u3 (1 order) has its own
	plain := baselineHistory(t)
	require.NoError(t, sp.Fit(ctx, plain, day(60)))
	assert.Equal(t, []string{"A", "B", "C", "E", "D"}, recommend(t, sp, plain, "u1", 5))
	assert.Equal(t, []string{"A", "C", "B", "D", "E"}, recommend(t, sp, plain, "u3", 5))
}

func TestBaselinesDeterministic(t *testing.T) {
	ctx := context.Background()
	h := storefront(t, 300, 11)
	s, err := evaluate.TemporalSplit(ctx, h, evaluate.DefaultCutoff(h))
	require.NoError(t, err)
	one, err := evaluate.Evaluate(ctx, s, evaluate.Baselines(1), evaluate.Options{CurveK: 5})
	require.NoError(t, err)
	two, err := evaluate.Evaluate(ctx, s, evaluate.Baselines(1), evaluate.Options{CurveK: 5})
	require.NoError(t, err)
	for i := range one.Rows {
		assert.Equal(t, one.Rows[i].Name, two.Rows[i].Name)
		assert.Equal(t, one.Rows[i].Metrics, two.Rows[i].Metrics)
		assert.Equal(t, one.Rows[i].Curve, two.Rows[i].Curve)
	}
	names := []string{}
	for _, r := range one.Rows {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"popular", "segment-popular", "repeat", "random"}, names)
	rep := one.Row("repeat")
	require.NotNil(t, rep)
	assert.Zero(t, rep.Metrics[evaluate.ExploreItems].Recall, "repeat never finds a new item")
	assert.Positive(t, rep.Metrics[evaluate.RepeatItems].Recall)
	assert.Greater(t, one.Row("popular").Metrics[evaluate.AllItems].Recall, one.Row("random").Metrics[evaluate.AllItems].Recall)
}

// TestBaselinesAsOf: every baseline learns from the interactions at or
// before the as-of time of Fit only, and a zero as-of time is an error.
func TestBaselinesAsOf(t *testing.T) {
	ctx := context.Background()
	h := baselineHistory(t) // E is bought by u2 on day 50 only; C rated by u4 on day 5
	for _, r := range evaluate.Baselines(1) {
		require.ErrorIs(t, r.Fit(ctx, h, time.Time{}), affinity.ErrNoAsOf, r.Name())
		require.NoError(t, r.Fit(ctx, h, day(40)), r.Name())
		for _, cust := range []string{"u1", "u2", "u3", "u4"} {
			assert.NotContains(t, recommend(t, r, h, cust, 10), "E", "%s for %s: E is bought after asOf", r.Name(), cust)
		}
	}
	r := &evaluate.Repeat{}
	require.NoError(t, r.Fit(ctx, h, day(4)))
	assert.Equal(t, []string{"D"}, recommend(t, r, h, "u4", 5), "u4 rated C on day 5, after asOf")
}

// TestRepeatLearnsEvaluateKinds: under Evaluate, Repeat counts the event
// kinds of Options.Events, which define "seen": a viewed product is a
// repeat item with Events {View}, and Repeat finds it.
func TestRepeatLearnsEvaluateKinds(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "bought", Order: "a1", Time: day(0), Quantity: 1, Price: 1}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "a", Product: "viewed", Time: day(1), Kind: affinity.View, Weight: 1}))
	train, err := b.Build(context.Background())
	require.NoError(t, err)
	test := build(t, []buy{{"a", "a2", 10, []string{"viewed"}}}, nil)
	s := &evaluate.Split{Train: train, Test: test, AsOf: day(2)}
	rep, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{&evaluate.Repeat{}}, evaluate.Options{K: 2, Events: []affinity.EventKind{affinity.View}})
	require.NoError(t, err)
	assert.InDelta(t, 1, rep.Rows[0].Metrics[evaluate.RepeatItems].HitRate, 1e-12, "the viewed product is seen and listed")
	// called directly, Repeat counts ratings only (the default of Options.Events)
	r := &evaluate.Repeat{}
	require.NoError(t, r.Fit(context.Background(), train, day(2)))
	assert.Equal(t, []string{"bought"}, recommend(t, r, train, "a", 5))
}
