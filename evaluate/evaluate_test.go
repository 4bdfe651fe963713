package evaluate_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
)

// handSplit is the fixture whose metrics are computed by hand below.
//
// Training: u1 bought {A, B} on day 4 and {A} on day 19; u2 bought {C, A};
// u3 bought {D, E}; F is in the catalog, never bought.
// Test: u1 buys {A, C, F}; u2 buys {B, G} (G unknown to training); u4
// (not in training: cold) buys {A}.
func handSplit(t *testing.T) *evaluate.Split {
	train := build(t, []buy{
		{"u1", "o1", 4, []string{"A", "B"}},
		{"u1", "o2", 19, []string{"A"}},
		{"u2", "o3", 9, []string{"C", "A"}},
		{"u3", "o4", 14, []string{"D", "E"}},
	}, nil, affinity.Product{Key: "F"})
	test := build(t, []buy{
		{"u1", "o5", 35, []string{"A", "C", "F"}},
		{"u2", "o6", 40, []string{"B", "G"}},
		{"u4", "o7", 41, []string{"A"}},
	}, nil)
	return &evaluate.Split{Train: train, Test: test, AsOf: day(31), Protocol: "hand"}
}

func handLists() *static {
	return &static{name: "lists", lists: map[string][]string{
		"u1": {"C", "A", "D"},
		"u2": {"B", "A", "C"},
	}}
}

func assertMetrics(t *testing.T, want, got evaluate.Metrics) {
	t.Helper()
	assert.Equal(t, want.Users, got.Users, "users")
	assert.InDelta(t, want.Precision, got.Precision, 1e-6, "precision")
	assert.InDelta(t, want.Recall, got.Recall, 1e-6, "recall")
	assert.InDelta(t, want.NDCG, got.NDCG, 1e-6, "ndcg")
	assert.InDelta(t, want.MAP, got.MAP, 1e-6, "map")
	assert.InDelta(t, want.HitRate, got.HitRate, 1e-6, "hit rate")
	assert.InDelta(t, want.MRR, got.MRR, 1e-6, "mrr")
	assert.InDelta(t, want.Coverage, got.Coverage, 1e-6, "coverage")
	assert.InDelta(t, want.Novelty, got.Novelty, 1e-6, "novelty")
}

func TestEvaluateHandComputed(t *testing.T) {
	rep, err := evaluate.Evaluate(context.Background(), handSplit(t), []evaluate.Recommender{handLists()}, evaluate.Options{K: 3, CurveK: 3})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Users)
	assert.Equal(t, 1, rep.ColdUsers, "u4 is not in training")
	assert.Equal(t, 5, rep.TrainProducts, "A–E have interactions, F has none")
	require.Len(t, rep.Rows, 1)
	row := rep.Rows[0]

	// Novelty: training pairs N = 6 (u1: A, B; u2: C, A; u3: D, E); A has
	// 2 customers: -log2(2/6) = 1.584963; the others -log2(1/6) = 2.584963.
	// Both lists hold two 2.584963 entries and one A: mean 2.251629.
	//
	// All items. u1: R = {A, C, F}, list [C, A, D]: hits at 1, 2.
	//   precision 2/3, recall 2/3, NDCG = (1 + 0.630930)/(1 + 0.630930 + 0.5)
	//   = 0.765361, AP = (1/1 + 2/2)/3 = 2/3, RR 1.
	// u2: R = {B, G}, list [B, A, C]: hit at 1.
	//   precision 1/3, recall 1/2, NDCG = 1/(1 + 0.630930) = 0.613147,
	//   AP = 1/2, RR 1.
	// Means: precision 0.5, recall 7/12, NDCG 0.689254, MAP 7/12, hit 1,
	// MRR 1; coverage {A, B, C, D} of 5 = 0.8.
	assertMetrics(t, evaluate.Metrics{Users: 2, Precision: 0.5, Recall: 0.583333, NDCG: 0.689254, MAP: 0.583333,
		HitRate: 1, MRR: 1, Coverage: 0.8, Novelty: 2.251629}, row.Metrics[evaluate.AllItems])

	// Repeat items: only u1 has one (A, bought in training): R = {A}, hit
	// at rank 2: precision 1/3, recall 1, NDCG 0.630930, AP 1/2, RR 1/2;
	// coverage {C, A, D} = 0.6, novelty 6.754888/3 = 2.251629.
	assertMetrics(t, evaluate.Metrics{Users: 1, Precision: 0.333333, Recall: 1, NDCG: 0.630930, MAP: 0.5,
		HitRate: 1, MRR: 0.5, Coverage: 0.6, Novelty: 2.251629}, row.Metrics[evaluate.RepeatItems])

	// Explore items: u1 R = {C, F}: hit at 1 → precision 1/3, recall 1/2,
	// NDCG 0.613147, AP 1/2, RR 1; u2 as in "all".
	assertMetrics(t, evaluate.Metrics{Users: 2, Precision: 0.333333, Recall: 0.5, NDCG: 0.613147, MAP: 0.5,
		HitRate: 1, MRR: 1, Coverage: 0.8, Novelty: 2.251629}, row.Metrics[evaluate.ExploreItems])

	// Curve at K = 1, all items: u1 [C] hits, u2 [B] hits: precision 1,
	// recall (1/3 + 1/2)/2 = 0.416667, NDCG 1, AP (1/3 + 1/2)/2, RR 1,
	// coverage {C, B} = 0.4, novelty 2.584963.
	require.Len(t, row.Curve[evaluate.AllItems], 3)
	assertMetrics(t, evaluate.Metrics{Users: 2, Precision: 1, Recall: 0.416667, NDCG: 1, MAP: 0.416667,
		HitRate: 1, MRR: 1, Coverage: 0.4, Novelty: 2.584963}, row.Curve[evaluate.AllItems][0])
	assert.Equal(t, row.Metrics, [3]evaluate.Metrics{row.Curve[0][2], row.Curve[1][2], row.Curve[2][2]},
		"the curve at K is the headline")
}

func TestEvaluateMAPNorm(t *testing.T) {
	// K = 2. u1: [C, A] against {A, C, F}: precisions at the hits 1 + 1 = 2;
	// u2: [B, A] against {B, G}: 1.
	// by |R|: (2/3 + 1/2)/2 = 0.583333; by min(K, |R|): (2/2 + 1/2)/2 = 0.75.
	for norm, want := range map[evaluate.MAPNorm]float64{evaluate.MAPByRelevant: 0.583333, evaluate.MAPByMinKRelevant: 0.75} {
		t.Run(norm.String(), func(t *testing.T) {
			rep, err := evaluate.Evaluate(context.Background(), handSplit(t), []evaluate.Recommender{handLists()}, evaluate.Options{K: 2, MAP: norm})
			require.NoError(t, err)
			assert.InDelta(t, want, rep.Rows[0].Metrics[evaluate.AllItems].MAP, 1e-6)
			assert.Nil(t, rep.Rows[0].Curve[evaluate.AllItems])
		})
	}
}

func TestEvaluateMinRating(t *testing.T) {
	// Ratings: u1 rated A in training; in test B (5 stars) and C (2 stars).
	// List [C, B]. Any rating relevant: R = {B, C}: precision@2 = 1.
	// MinRating 4: R = {B}: one hit at rank 2: precision 1/2, MRR 1/2.
	train := build(t, nil, []rating{{"u1", "A", 1, 5}, {"u2", "C", 1, 3}, {"u2", "B", 2, 4}})
	test := build(t, nil, []rating{{"u1", "B", 10, 5}, {"u1", "C", 11, 2}})
	split := &evaluate.Split{Train: train, Test: test, AsOf: day(5)}
	rec := &static{name: "lists", lists: map[string][]string{"u1": {"C", "B"}}}

	rep, err := evaluate.Evaluate(context.Background(), split, []evaluate.Recommender{rec}, evaluate.Options{K: 2})
	require.NoError(t, err)
	assert.InDelta(t, 1, rep.Rows[0].Metrics[evaluate.AllItems].Precision, 1e-9)

	rep, err = evaluate.Evaluate(context.Background(), split, []evaluate.Recommender{rec}, evaluate.Options{K: 2, MinRating: 4})
	require.NoError(t, err)
	m := rep.Rows[0].Metrics[evaluate.AllItems]
	assert.InDelta(t, 0.5, m.Precision, 1e-9)
	assert.InDelta(t, 0.5, m.MRR, 1e-9)

	// a NaN threshold is an error, not silently no threshold
	_, err = evaluate.Evaluate(context.Background(), split, []evaluate.Recommender{rec}, evaluate.Options{K: 2, MinRating: float32(math.NaN())})
	require.ErrorContains(t, err, "MinRating is NaN")

	// ratings are not relevant when Events leaves them out (views only)
	rep, err = evaluate.Evaluate(context.Background(), split, []evaluate.Recommender{rec}, evaluate.Options{K: 2, Events: []affinity.EventKind{affinity.View}})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Users)
}

// recorder is a Recommender that records what exclude says and returns
// nothing.
type recorder struct {
	train    *affinity.History
	excluded map[string][]string
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	r.train, r.excluded = train, map[string][]string{}
	return nil
}

func (r *recorder) Recommend(dst []affinity.ProductID, c affinity.CustomerID, _ int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	key := r.train.CustomerKey(c)
	r.excluded[key] = []string{}
	if exclude == nil {
		return dst
	}
	for p := range affinity.ProductID(r.train.Catalog().NumProducts()) {
		if exclude(p) {
			r.excluded[key] = append(r.excluded[key], r.train.Catalog().ProductKey(p))
		}
	}
	return dst
}

func TestEvaluateExcludeSeen(t *testing.T) {
	rec := &recorder{}
	rep, err := evaluate.Evaluate(context.Background(), handSplit(t), []evaluate.Recommender{rec}, evaluate.Options{K: 3, ExcludeSeen: true})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"u1": {"A", "B"}, "u2": {"A", "C"}}, rec.excluded)
	// an empty list still counts: zero, over both customers
	assert.Equal(t, 2, rep.Rows[0].Metrics[evaluate.AllItems].Users)
	assert.Zero(t, rep.Rows[0].Metrics[evaluate.AllItems].Recall)

	_, err = evaluate.Evaluate(context.Background(), handSplit(t), []evaluate.Recommender{rec}, evaluate.Options{K: 3})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"u1": {}, "u2": {}}, rec.excluded, "nil exclude without ExcludeSeen")

	// u1's list holds A, which u1 bought in training
	_, err = evaluate.Evaluate(context.Background(), handSplit(t), []evaluate.Recommender{handLists()}, evaluate.Options{K: 3, ExcludeSeen: true})
	require.ErrorIs(t, err, evaluate.ErrBadList)
}

func TestEvaluateRejects(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		recs []evaluate.Recommender
		bad  bool // ErrBadList
	}{
		{"duplicate names", []evaluate.Recommender{handLists(), handLists()}, false},
		{"reserved word", []evaluate.Recommender{&static{name: "my-popular-items"}}, false},
		{"reserved name", []evaluate.Recommender{&static{name: "random"}}, false},
		{"empty name", []evaluate.Recommender{&static{}}, false},
		{"duplicate product", []evaluate.Recommender{&static{name: "dup", lists: map[string][]string{"u1": {"A", "A"}}}}, true},
		{"too long", []evaluate.Recommender{&tooLong{}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evaluate.Evaluate(ctx, handSplit(t), tt.recs, evaluate.Options{K: 3})
			require.Error(t, err)
			if tt.bad {
				require.ErrorIs(t, err, evaluate.ErrBadList)
			}
		})
	}
	_, err := evaluate.Evaluate(ctx, &evaluate.Split{}, nil, evaluate.Options{})
	require.Error(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = evaluate.Evaluate(cancelled, handSplit(t), []evaluate.Recommender{handLists()}, evaluate.Options{})
	require.ErrorIs(t, err, context.Canceled)
}

type tooLong struct{ static }

func (*tooLong) Name() string { return "too-long" }

func (*tooLong) Recommend(dst []affinity.ProductID, _ affinity.CustomerID, k int, _ func(affinity.ProductID) bool) []affinity.ProductID {
	for i := range k + 1 {
		dst = append(dst, affinity.ProductID(i%3))
	}
	return dst
}
