package evaluate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
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

// TestAdaptersOnStorefront evaluates the engine, item neighbours and
// EASE against the popular products on a temporal split of a 2,000-
// customer storefront (seed 13; under testdata.Long seeds 1–3 too), on
// the items new to each test customer, where the planted complements
// are what popular misses.
//
// On seeds 1–48 their recall@10 there was 0.99–1.19 × popular's (engine,
// mean 1.09), 0.99–1.24 × (knn-cosine, mean 1.07) and 0.94–1.22 × (EASE,
// mean 1.07), sd 0.05–0.06: a seed holds out only 350–390 customers,
// and the lead, 0.02–0.03 of recall, is no more than the spread between
// seeds, so "each beats popular" failed on 7 of the 48 seeds (seed 13,
// the one tested, passed). So each must reach 0.85 × popular on every
// seed (3.5 sd under the means), and summed over the seeds, when there
// are several, the engine must beat popular and the others reach 0.95 ×
// (over any four consecutive seeds of 1–48 the least were 1.05, 1.03
// and 1.01 ×). Random recommendations reach 0.03–0.06 × (seeds 13, 1–3).
func TestAdaptersOnStorefront(t *testing.T) {
	ctx := context.Background()
	names := []string{"engine", "knn-cosine", "ease"}
	recall := map[string]float64{} // sums over the seeds
	seeds := []uint64{13, 1, 2, 3}[:testdata.Scale(4, 1)]
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			shop := dataset.Generate(dataset.SyntheticOptions{Customers: 2000, Products: 600, Categories: 30, Seed: seed})
			h, err := shop.History(ctx)
			require.NoError(t, err)
			s, err := evaluate.TemporalSplit(ctx, h, evaluate.DefaultCutoff(h))
			require.NoError(t, err)
			recs := []evaluate.Recommender{&evaluate.Popular{}, &evaluate.Engine{},
				&evaluate.ItemNeighbors{Measure: similarity.Cosine}, &evaluate.EASE{Lambda: 50}}
			rep, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{ExcludeSeen: true})
			require.NoError(t, err)
			pop := rep.Row("popular").Metrics[evaluate.ExploreItems]
			recall["popular"] += pop.Recall
			for _, name := range names {
				m := rep.Row(name).Metrics[evaluate.ExploreItems]
				t.Logf("%-10s recall@10 %.4f ndcg@10 %.4f (popular %.4f %.4f)", name, m.Recall, m.NDCG, pop.Recall, pop.NDCG)
				assert.GreaterOrEqual(t, m.Recall, 0.85*pop.Recall, "%s: not clearly worse than popular", name)
				recall[name] += m.Recall
			}
		})
	}
	if len(seeds) > 1 {
		for _, name := range names {
			t.Logf("%d seeds: %-10s recall@10 %.3f × popular's", len(seeds), name, recall[name]/recall["popular"])
		}
		assert.Greater(t, recall["engine"], recall["popular"], "the engine finds planted complements popular misses")
		assert.GreaterOrEqual(t, recall["knn-cosine"], 0.95*recall["popular"])
		assert.GreaterOrEqual(t, recall["ease"], 0.95*recall["popular"])
	}
}

// movielensShaped returns a synthetic rating data set shaped like
// MovieLens 100k — users, items, about 100 ratings per user (at least
// 20), Zipf item popularity, ratings 1–5, timestamps over seven months —
// with planted taste: items belong to one of 19 genres and each user
// prefers a few genres.
func movielensShaped(t testing.TB, users, items, ratings int, seed uint64) *affinity.History {
	t.Helper()
	h, err := newMovielensShaped(users, items, ratings, seed)
	require.NoError(t, err)
	return h
}

// movielensSets holds, by seed, the 400-user sets of 700 items and about
// 40,000 ratings that TestMovieLensShaped and
// TestEngineOnRatingsKeepsUpWithItsParts both evaluate, each built once
// (movielens400): a History is never changed, so they share it.
var (
	movielensMu   sync.Mutex
	movielensSets = map[uint64]func() (*affinity.History, error){}
)

// movielens400 is movielensShaped(t, 400, 700, 40_000, seed), built once
// per seed and shared: read it, never change it.
func movielens400(t testing.TB, seed uint64) *affinity.History {
	t.Helper()
	movielensMu.Lock()
	build, ok := movielensSets[seed]
	if !ok {
		build = sync.OnceValues(func() (*affinity.History, error) { return newMovielensShaped(400, 700, 40_000, seed) })
		movielensSets[seed] = build
	}
	movielensMu.Unlock()
	h, err := build()
	require.NoError(t, err)
	return h
}

// newMovielensShaped is movielensShaped, returning the first error.
func newMovielensShaped(users, items, ratings int, seed uint64) (*affinity.History, error) {
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
			if err != nil {
				return nil, err
			}
		}
	}
	return b.Build(context.Background())
}

// TestMovieLensShaped evaluates the baselines, item neighbours and EASE
// on MovieLens-shaped rating sets split per product: seed 1, and under
// testdata.Long seeds 2 and 3 too.
//
// The number of ratings is 400 users' draws of 20 plus an exponential
// tail of mean 80 (capped at half the items): sd about 1,600 per seed,
// and a mean a little under 40,000 (39,000 on seeds 1–64, 35,216–42,755,
// sd 1,500). The former ±3,000, two standard deviations, failed on 5 of
// those 64 seeds; ±7,000 is four or more.
//
// On seeds 1–160 popular ranked 5.9–12.5 × random and EASE 1.14–1.62 ×
// popular (mean 1.32, sd 0.09), but the Jaccard neighbours only
// 0.963–1.26 × popular (mean 1.10, sd 0.06): each seed holds out about
// 10,000 ratings of 400 users, and "beats popular", asserted on seed 1,
// failed on seed 114. So on each seed the neighbours must reach 0.85 ×
// popular (4 sd under the mean), and over several seeds (NDCG@10
// summed) beat it: any three consecutive seeds of 1–160 gave 1.02 × or
// more. EASE must beat popular on each seed. Random recommendations
// reach 0.08–0.17 × popular.
func TestMovieLensShaped(t *testing.T) {
	ctx := context.Background()
	var knn, pop float64 // NDCG@10 summed over the seeds
	seeds := testdata.Scale(3, 1)
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed+1), func(t *testing.T) {
			h := movielens400(t, seed+1)
			assert.Equal(t, 400, h.NumCustomers())
			assert.InDelta(t, 40_000, h.NumEvents(), 7000)
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
			assert.GreaterOrEqual(t, all("knn-jaccard").NDCG, 0.85*all("popular").NDCG, "planted taste is learnable")
			assert.Greater(t, all("ease").NDCG, all("popular").NDCG)
			// with every training item excluded, nothing is a repeat
			assert.Zero(t, rep.Row("popular").Metrics[evaluate.RepeatItems].Users)
			knn, pop = knn+all("knn-jaccard").NDCG, pop+all("popular").NDCG
		})
	}
	if seeds > 1 {
		t.Logf("%d seeds: knn-jaccard NDCG@10 %.3f × popular's", seeds, knn/pop)
		assert.Greater(t, knn, pop, "planted taste is learnable: the neighbours beat popular over the seeds")
	}
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
