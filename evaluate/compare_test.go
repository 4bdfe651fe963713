package evaluate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
)

var perCustomer = []evaluate.Metric{evaluate.Precision, evaluate.Recall, evaluate.NDCG, evaluate.MAP, evaluate.HitRate, evaluate.MRR}

// TestCompareAgainstNaive checks the paired differences of Compare, and
// the rows' standard errors, against the per-customer metrics computed
// by hand (ScoreList on the recorded lists, in naive).
func TestCompareAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range testdata.Scale(40, 8) {
		s := randomSplit(t, rng)
		k := 1 + rng.IntN(6)
		norm := evaluate.MAPNorm(trial % 2)
		a, b := &shuffler{name: "a", seed: uint64(trial)}, &shuffler{name: "b", seed: uint64(trial) + 100}
		opts := evaluate.Options{K: k, CurveK: rng.IntN(8), MAP: norm, ExcludeSeen: trial%3 == 0}
		rep, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{a, b}, opts)
		require.NoError(t, err)
		for it := range evaluate.Items(3) {
			wantA, na := naive(s, a.lists[k], it, k, norm)
			wantB, nb := naive(s, b.lists[k], it, k, norm)
			assertClose(t, wantA, rep.Rows[0].Metrics[it], "trial %d %v", trial, it)
			assertClose(t, wantB, rep.Rows[1].Metrics[it], "trial %d %v", trial, it)
			for _, m := range perCustomer {
				var diff []float64
				for c, sa := range na {
					diff = append(diff, listValue(sa, m)-listValue(nb[c], m))
				}
				d, err := rep.Compare("a", "b", it, m)
				require.NoError(t, err)
				require.Equal(t, len(diff), d.Users, "trial %d %v", trial, it)
				if len(diff) == 0 {
					assert.Zero(t, d.Mean)
					continue
				}
				mean, se := testdata.MeanStdErr(diff)
				assert.InDelta(t, mean, d.Mean, 1e-12, "trial %d %v %v difference", trial, it, m)
				assert.InDelta(t, wantA.Value(m)-wantB.Value(m), d.Mean, 1e-12, "the difference of the rows")
				if len(diff) < 2 {
					continue
				}
				assert.InDelta(t, se, d.StdErr, 1e-12, "trial %d %v %v difference's standard error", trial, it, m)
				lo, hi, ok := d.Interval()
				require.True(t, ok)
				assert.InDelta(t, d.Mean, (lo+hi)/2, 1e-12)
				if se > 0 {
					assert.Greater(t, (hi-lo)/2/se, 1.96, "a t quantile for %d customers", len(diff))
				}
				back, err := rep.Compare("b", "a", it, m)
				require.NoError(t, err)
				assert.InDelta(t, -d.Mean, back.Mean, 1e-12, "antisymmetric")
				assert.InDelta(t, d.StdErr, back.StdErr, 1e-12)
			}
		}
	}
}

// TestIntervalCoverage simulates many evaluations whose true means are
// known and counts how often the 95 % intervals cover them. Each customer
// has one relevant product among np; the shuffler lists n of the np
// products at random, n uniform in 0 … k, so that rank r holds the
// relevant product with probability P(n ≥ r)/np = (k+1−r)/(k+1)/np: the
// hit rate's true mean is k/2/np, precision's 1/2/np and NDCG's
// Σ_{r≤k} P(n ≥ r)/np/log2(r+1). Two independent shufflers differ by 0.
func TestIntervalCoverage(t *testing.T) {
	const n, np, k = 200, 6, 3
	var trainBuys, testBuys []buy
	rng := rand.New(rand.NewPCG(11, 12))
	for c := range n {
		cust := fmt.Sprintf("c%d", c)
		trainBuys = append(trainBuys, buy{cust, "t" + cust, 1, []string{fmt.Sprintf("p%d", c%np)}})
		testBuys = append(testBuys, buy{cust, "s" + cust, 40, []string{fmt.Sprintf("p%d", rng.IntN(np))}})
	}
	s := &evaluate.Split{Train: build(t, trainBuys, nil), Test: build(t, testBuys, nil), AsOf: day(31)}
	var ndcg float64
	for r := 1; r <= k; r++ {
		ndcg += float64(k+1-r) / (k + 1) / np / math.Log2(float64(r+1))
	}
	truth := map[evaluate.Metric]float64{evaluate.HitRate: k / 2.0 / np, evaluate.Precision: 1 / 2.0 / np, evaluate.NDCG: ndcg}
	reps := testdata.Scale(3000, 300)
	covered := map[string]int{}
	var sum float64
	for i := range reps {
		a, b := &shuffler{name: "a", seed: uint64(2 * i)}, &shuffler{name: "b", seed: uint64(2*i + 1)}
		rep, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{a, b}, evaluate.Options{K: k, Workers: 1})
		require.NoError(t, err)
		sum += rep.Rows[0].Metrics[evaluate.AllItems].HitRate
		for m, want := range truth {
			lo, hi, ok := rep.Rows[0].Metrics[evaluate.AllItems].Interval(m)
			require.True(t, ok)
			if lo <= want && want <= hi {
				covered[m.String()]++
			}
			d, err := rep.Compare("a", "b", evaluate.AllItems, m)
			require.NoError(t, err)
			lo, hi, ok = d.Interval()
			require.True(t, ok)
			if lo <= 0 && 0 <= hi {
				covered[m.String()+" difference"]++
			}
		}
	}
	// the simulation is what the truth says it is
	require.InDelta(t, truth[evaluate.HitRate], sum/float64(reps), 0.01)
	require.Len(t, covered, 6)
	for what, c := range covered {
		rate := float64(c) / float64(reps)
		// nominal 0.95; the rate's own standard error is 0.013 at 300
		assert.InDelta(t, 0.95, rate, 0.04, "%s: covered in %d of %d", what, c, reps)
		t.Logf("%s: %.3f", what, rate)
	}
}

func TestIntervalEdgeCases(t *testing.T) {
	ctx := context.Background()
	t.Run("one customer", func(t *testing.T) {
		s := &evaluate.Split{
			Train: build(t, []buy{{"u1", "o1", 1, []string{"A", "B"}}}, nil),
			Test:  build(t, []buy{{"u1", "o2", 40, []string{"A"}}}, nil),
			AsOf:  day(31),
		}
		rep, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{&static{name: "x", lists: map[string][]string{"u1": {"B", "A"}}}, &static{name: "y", lists: map[string][]string{"u1": {"A"}}}}, evaluate.Options{K: 2})
		require.NoError(t, err)
		m := rep.Rows[0].Metrics[evaluate.AllItems]
		require.Equal(t, 1, m.Users)
		assert.Equal(t, evaluate.StdErrs{}, m.StdErr)
		lo, hi, ok := m.Interval(evaluate.MRR)
		assert.False(t, ok, "one customer: no interval")
		assert.Equal(t, [2]float64{0.5, 0.5}, [2]float64{lo, hi})
		d, err := rep.Compare("x", "y", evaluate.AllItems, evaluate.MRR)
		require.NoError(t, err)
		assert.Equal(t, 1, d.Users)
		assert.InDelta(t, -0.5, d.Mean, 1e-12)
		assert.Zero(t, d.StdErr)
		_, _, ok = d.Interval()
		assert.False(t, ok)
		// repeat items: A was bought in training; explore: none
		d, err = rep.Compare("x", "y", evaluate.ExploreItems, evaluate.MRR)
		require.NoError(t, err)
		assert.Equal(t, evaluate.Difference{A: "x", B: "y", Metric: evaluate.MRR, Items: evaluate.ExploreItems}, d)
	})
	t.Run("identical recommenders", func(t *testing.T) {
		s := randomSplit(t, rand.New(rand.NewPCG(1, 1)))
		rep, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{&shuffler{name: "a", seed: 9}, &shuffler{name: "b", seed: 9}}, evaluate.Options{K: 3, CurveK: 5})
		require.NoError(t, err)
		for _, m := range perCustomer {
			for _, names := range [][2]string{{"a", "b"}, {"a", "a"}} {
				d, err := rep.Compare(names[0], names[1], evaluate.AllItems, m)
				require.NoError(t, err)
				assert.Equal(t, rep.Users, d.Users)
				assert.Zero(t, d.Mean, "%v %v", names, m)
				assert.Zero(t, d.StdErr, "%v %v", names, m)
				lo, hi, ok := d.Interval()
				assert.True(t, ok)
				assert.Equal(t, [2]float64{0, 0}, [2]float64{lo, hi}, "width 0")
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		rep, err := evaluate.Evaluate(ctx, handSplit(t), []evaluate.Recommender{handLists()}, evaluate.Options{K: 3})
		require.NoError(t, err)
		for _, m := range []evaluate.Metric{evaluate.Coverage, evaluate.Novelty, evaluate.Metric(42)} {
			_, err := rep.Compare("lists", "lists", evaluate.AllItems, m)
			assert.ErrorContains(t, err, "only the means over customers", "%v", m)
			v := rep.Rows[0].Metrics[evaluate.AllItems].Value(m)
			lo, hi, ok := rep.Rows[0].Metrics[evaluate.AllItems].Interval(m)
			assert.False(t, ok, "%v has no interval", m)
			assert.True(t, lo == v && hi == v || math.IsNaN(v))
			assert.True(t, math.IsNaN(rep.Rows[0].Metrics[evaluate.AllItems].StdErr.Value(m)))
		}
		_, err = rep.Compare("lists", "nobody", evaluate.AllItems, evaluate.NDCG)
		assert.ErrorContains(t, err, `no row named "nobody"`)
		_, err = rep.Compare("lists", "lists", evaluate.Items(7), evaluate.NDCG)
		assert.ErrorContains(t, err, "invalid Items")
		var none *evaluate.Report
		_, err = none.Compare("lists", "lists", evaluate.AllItems, evaluate.NDCG)
		assert.ErrorIs(t, err, affinity.ErrNilArgument)

		// a report through JSON keeps its standard errors, but not the
		// per-customer scores
		data, err := json.Marshal(rep)
		require.NoError(t, err)
		var back evaluate.Report
		require.NoError(t, json.Unmarshal(data, &back))
		assert.Equal(t, rep.Rows[0].Metrics, back.Rows[0].Metrics)
		assert.Positive(t, back.Rows[0].Metrics[evaluate.AllItems].StdErr.Recall)
		_, err = back.Compare("lists", "lists", evaluate.AllItems, evaluate.NDCG)
		assert.ErrorContains(t, err, "no per-customer scores")
	})
}
