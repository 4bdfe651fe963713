package evaluate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/similarity"
)

// Customers: c1 {A, B}, c2 {A, B}, c3 {A, C}, c4 {D, C}, c5 {D, E}, and t
// who bought A on day 0 and D on day 30. Buyers: A 4, B 2, C 2, D 3, E 1.
// Jaccard: J(A,B) = 2/4 = 0.5, J(A,C) = 1/5 = 0.2, J(A,D) = 1/6,
// J(D,C) = 1/4, J(D,E) = 1/3.
func neighborHistory(t *testing.T) *affinity.History {
	return build(t, []buy{
		{"c1", "o1", 0, []string{"A", "B"}},
		{"c2", "o2", 0, []string{"A", "B"}},
		{"c3", "o3", 0, []string{"A", "C"}},
		{"c4", "o4", 0, []string{"D", "C"}},
		{"c5", "o5", 0, []string{"D", "E"}},
		{"t", "o6", 0, []string{"A"}},
		{"t", "o7", 30, []string{"D"}},
	}, nil)
}

func TestItemNeighborsHandComputed(t *testing.T) {
	ctx := context.Background()
	h := neighborHistory(t)
	knn := &evaluate.ItemNeighbors{Measure: similarity.Jaccard}
	assert.Equal(t, "knn-jaccard", knn.Name())
	require.NoError(t, knn.Fit(ctx, h, day(30)))
	// weights A = D = 1: B 0.5, C 0.2 + 0.25 = 0.45, E 1/3, A 1/6 (from D),
	// D 1/6 (from A); the tie A–D goes to the lower id, A
	assert.Equal(t, []string{"B", "C", "E", "A", "D"}, recommend(t, knn, h, "t", 10))

	// half-life 30 days, as of day 30: A weighs 0.5, D 1:
	// C 0.5·0.2 + 0.25 = 0.35, E 1/3, B 0.5·0.5 = 0.25, A 1/6, D 1/12
	decayed := &evaluate.ItemNeighbors{Measure: similarity.Jaccard, HalfLife: 30 * 24 * time.Hour}
	require.NoError(t, decayed.Fit(ctx, h, day(30)))
	assert.Equal(t, []string{"C", "E", "B", "A", "D"}, recommend(t, decayed, h, "t", 10))
	assert.Equal(t, []string{"C", "E", "B"}, recommend(t, decayed, h, "t", 10, "A", "D"))
	assert.Equal(t, []string{"C"}, recommend(t, decayed, h, "t", 1))

	// c5 bought D and E: D's neighbours C, E (self excluded), A; E's: D
	assert.Equal(t, []string{"D", "E", "C", "A"}, recommend(t, knn, h, "c5", 10))
	basket := &evaluate.ItemNeighbors{Measure: similarity.Cosine, BasketScope: true}
	assert.Equal(t, "knn-cosine-basket", basket.Name())
}

func TestAdaptersOnStorefront(t *testing.T) {
	ctx := context.Background()
	shop := dataset.Generate(dataset.SyntheticOptions{Customers: 2000, Products: 600, Categories: 30, Seed: 13})
	h, err := shop.History(ctx)
	require.NoError(t, err)
	s, err := evaluate.TemporalSplit(ctx, h, evaluate.DefaultCutoff(h))
	require.NoError(t, err)
	recs := []evaluate.Recommender{&evaluate.Popular{}, &evaluate.Engine{},
		&evaluate.ItemNeighbors{Measure: similarity.Cosine}, &evaluate.EASE{Lambda: 50}}
	rep, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{ExcludeSeen: true})
	require.NoError(t, err)
	pop := rep.Row("popular").Metrics[evaluate.ExploreItems]
	for _, name := range []string{"engine", "knn-cosine", "ease"} {
		m := rep.Row(name).Metrics[evaluate.ExploreItems]
		t.Logf("%-10s recall@10 %.4f ndcg@10 %.4f (popular %.4f %.4f)", name, m.Recall, m.NDCG, pop.Recall, pop.NDCG)
		assert.Greater(t, m.Recall, pop.Recall, "%s finds planted complements popular misses", name)
	}
}

// movielensShaped returns a synthetic rating data set shaped like
// MovieLens 100k — users, items, about 100 ratings per user (at least
// 20), Zipf item popularity, ratings 1–5, timestamps over seven months —
// with planted taste: items belong to one of 19 genres and each user
// prefers a few genres.
func movielensShaped(t testing.TB, users, items, ratings int, seed uint64) *affinity.History {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0xda3e39cb94b95bdb))
	const genres = 19
	genre := make([]int, items)
	pop := make([]float64, items)
	for i := range items {
		genre[i] = rng.IntN(genres)
		pop[i] = 1 / math.Pow(float64(rng.IntN(items)+1), 0.9)
	}
	// ratings per user: 20 + a geometric tail with the right mean
	mean := float64(ratings)/float64(users) - 20
	start := time.Date(1997, 9, 20, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	w := make([]float64, items)
	for u := range users {
		var pref [genres]float64
		for g := range pref {
			pref[g] = 0.05
		}
		for range 3 {
			pref[rng.IntN(genres)] += 1
		}
		n := min(items/2, 20+int(rng.ExpFloat64()*mean))
		total := 0.0
		for i := range items {
			w[i] = pop[i] * pref[genre[i]]
			total += w[i]
		}
		t0 := start.Add(time.Duration(rng.Float64() * 200 * 24 * float64(time.Hour)))
		for j := range n {
			// draw without replacement by rejection on the cumulative weight
			x := rng.Float64() * total
			i := 0
			for ; i < items-1 && x >= w[i]; i++ {
				x -= w[i]
			}
			if w[i] == 0 {
				continue
			}
			total -= w[i]
			w[i] = 0
			stars := float32(min(5, max(1, int(math.Round(3.6+rng.NormFloat64())))))
			err := b.AddEvent(affinity.Event{Customer: fmt.Sprint(u + 1), Product: fmt.Sprint(i + 1),
				Time: t0.Add(time.Duration(j) * time.Minute * time.Duration(1+rng.IntN(600))), Kind: affinity.Rating, Weight: stars})
			require.NoError(t, err)
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

func TestMovieLensShaped(t *testing.T) {
	ctx := context.Background()
	h := movielensShaped(t, 400, 700, 40_000, 1)
	assert.Equal(t, 400, h.NumCustomers())
	assert.InDelta(t, 40_000, h.NumEvents(), 3000)
	s, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: evaluate.ByProduct, Seed: 42})
	require.NoError(t, err)
	recs := []evaluate.Recommender{&evaluate.Popular{}, &evaluate.Random{Seed: 1},
		&evaluate.ItemNeighbors{Measure: similarity.Jaccard}, &evaluate.EASE{}}
	rep, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{ExcludeSeen: true})
	require.NoError(t, err)
	for _, r := range rep.Rows {
		m := r.Metrics[evaluate.AllItems]
		t.Logf("%-12s precision@10 %.4f ndcg@10 %.4f map %.4f recall@10 %.4f", r.Name, m.Precision, m.NDCG, m.MAP, m.Recall)
	}
	all := func(name string) evaluate.Metrics { return rep.Row(name).Metrics[evaluate.AllItems] }
	assert.Greater(t, all("popular").NDCG, all("random").NDCG)
	assert.Greater(t, all("knn-jaccard").NDCG, all("popular").NDCG, "planted taste is learnable")
	assert.Greater(t, all("ease").NDCG, all("popular").NDCG)
	// with every training item excluded, nothing is a repeat
	assert.Zero(t, rep.Row("popular").Metrics[evaluate.RepeatItems].Users)
}

// BenchmarkEvaluateMovieLensShaped evaluates four recommenders (two
// baselines, SAR-style Jaccard neighbours and EASE) on a per-item
// stratified 75/25 split of a MovieLens-100k-shaped data set, items seen
// in training excluded: the whole of Evaluate, fits included.
func BenchmarkEvaluateMovieLensShaped(b *testing.B) {
	ctx := context.Background()
	h := movielensShaped(b, 943, 1682, 100_000, 1)
	s, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: evaluate.ByProduct, Seed: 42})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		recs := []evaluate.Recommender{&evaluate.Popular{}, &evaluate.Random{Seed: 1},
			&evaluate.ItemNeighbors{Measure: similarity.Jaccard}, &evaluate.EASE{}}
		if _, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{ExcludeSeen: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStratifiedSplitMovieLensShaped measures the split itself.
func BenchmarkStratifiedSplitMovieLensShaped(b *testing.B) {
	ctx := context.Background()
	h := movielensShaped(b, 943, 1682, 100_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: evaluate.ByProduct, Seed: 42}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestItemNeighborsAnchorsAsOf: a customer's purchases after the as-of
// time of Fit are not in their profile, as they are not in the counts.
func TestItemNeighborsAnchorsAsOf(t *testing.T) {
	h := build(t, []buy{
		{"u1", "o1", 1, []string{"w", "x"}},
		{"u4", "o4", 1, []string{"q", "r"}},
		{"u3", "o3", 1, []string{"w"}},
		{"u3", "o5", 10, []string{"q"}}, // after asOf
	}, nil)
	for _, r := range []evaluate.Recommender{&evaluate.ItemNeighbors{}, &evaluate.ItemNeighbors{HalfLife: 24 * time.Hour}, &evaluate.EASE{}} {
		require.NoError(t, r.Fit(context.Background(), h, day(5)), r.Name())
		c, ok := h.LookupCustomer("u3")
		require.True(t, ok)
		assert.NotContains(t, keys(h, r.Recommend(nil, c, 5, nil)), "r", "%s: q, bought after asOf, is no anchor", r.Name())
	}
}
