package evaluate_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// shuffler recommends a seeded random permutation prefix of the catalog,
// honouring exclude, and records every list it returned. Its name is
// "shuffler" unless name is set.
type shuffler struct {
	name  string
	seed  uint64
	train *affinity.History
	lists map[int]map[affinity.CustomerID][]affinity.ProductID // by k
}

func (s *shuffler) Name() string { return cmp.Or(s.name, "shuffler") }

func (s *shuffler) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	s.train, s.lists = train, map[int]map[affinity.CustomerID][]affinity.ProductID{}
	return nil
}

func (s *shuffler) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	rng := rand.New(rand.NewPCG(s.seed, uint64(c)))
	n := rng.IntN(k + 1) // lists of any length up to k
	from := len(dst)
	for _, i := range rng.Perm(s.train.Catalog().NumProducts()) {
		if len(dst)-from == n {
			break
		}
		if p := affinity.ProductID(i); exclude == nil || !exclude(p) {
			dst = append(dst, p)
		}
	}
	if s.lists[k] == nil {
		s.lists[k] = map[affinity.CustomerID][]affinity.ProductID{}
	}
	s.lists[k][c] = slices.Clone(dst[from:])
	return dst
}

// randomSplit makes random train and test Histories over 30 products.
func randomSplit(t *testing.T, rng *rand.Rand) *evaluate.Split {
	gen := func(customers, lines int, d0 int) *affinity.History {
		var b affinity.Builder
		for range lines {
			c := fmt.Sprint("u", rng.IntN(customers))
			p := fmt.Sprint("p", rng.IntN(30))
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: p, Order: fmt.Sprint(c, rng.IntN(3)), Time: day(d0 + rng.IntN(10)), Quantity: 1}))
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		return h
	}
	return &evaluate.Split{Train: gen(40, 300, 0), Test: gen(50, 120, 20), AsOf: day(15)}
}

// naive averages ScoreList over the customers with relevant items of the
// selection, computes the standard errors of those means in two passes
// over the customers' scores (returned by training customer), and
// coverage and novelty from the recorded lists.
func naive(s *evaluate.Split, lists map[affinity.CustomerID][]affinity.ProductID, it evaluate.Items, k int, norm evaluate.MAPNorm) (evaluate.Metrics, map[affinity.CustomerID]evaluate.ListScore) {
	train, test := s.Train, s.Test
	bought := func(h *affinity.History, c affinity.CustomerID) []string {
		var out []string
		lo, hi := h.CustomerLines(c)
		for i := lo; i < hi; i++ {
			out = append(out, h.Catalog().ProductKey(h.LineProduct(i)))
		}
		return out
	}
	// customers per product and pairs in training
	buyers := map[string]int{}
	pairs := 0
	for c := range affinity.CustomerID(train.NumCustomers()) {
		ps := bought(train, c)
		slices.Sort(ps)
		for _, p := range slices.Compact(ps) {
			buyers[p]++
			pairs++
		}
	}
	active := len(buyers)
	var m evaluate.Metrics
	scores := map[affinity.CustomerID]evaluate.ListScore{}
	covered := map[string]bool{}
	var novSum float64
	var novN int
	for tc := range affinity.CustomerID(test.NumCustomers()) {
		c, ok := train.LookupCustomer(test.CustomerKey(tc))
		if !ok {
			continue
		}
		seen := bought(train, c)
		var rel []affinity.ProductID
		keys := bought(test, tc)
		slices.Sort(keys)
		for _, key := range slices.Compact(keys) {
			isSeen := slices.Contains(seen, key)
			if (it == evaluate.RepeatItems && !isSeen) || (it == evaluate.ExploreItems && isSeen) {
				continue
			}
			if p, ok := train.Catalog().LookupProduct(key); ok {
				rel = append(rel, p)
			} else {
				rel = append(rel, affinity.ProductID(1000+len(rel))) // unknown to training: never listed
			}
		}
		if len(rel) == 0 {
			continue
		}
		list := lists[c]
		sc := evaluate.ScoreList(list, rel, k, norm)
		scores[c] = sc
		m.Users++
		m.Precision += sc.Precision
		m.Recall += sc.Recall
		m.NDCG += sc.NDCG
		m.MAP += sc.AP
		m.HitRate += sc.Hit
		m.MRR += sc.RR
		for _, p := range list[:min(k, len(list))] {
			key := train.Catalog().ProductKey(p)
			if n := buyers[key]; n > 0 {
				covered[key] = true
				novSum += -math.Log2(float64(n) / float64(pairs))
				novN++
			}
		}
	}
	if m.Users == 0 {
		return m, scores
	}
	n := float64(m.Users)
	m.Precision /= n
	m.Recall /= n
	m.NDCG /= n
	m.MAP /= n
	m.HitRate /= n
	m.MRR /= n
	m.Coverage = float64(len(covered)) / float64(active)
	if novN > 0 {
		m.Novelty = novSum / float64(novN)
	}
	if m.Users > 1 {
		se := func(metric evaluate.Metric) float64 {
			var xs []float64
			for _, sc := range scores {
				xs = append(xs, listValue(sc, metric))
			}
			_, se := testdata.MeanStdErr(xs)
			return se
		}
		m.StdErr = evaluate.StdErrs{Precision: se(evaluate.Precision), Recall: se(evaluate.Recall), NDCG: se(evaluate.NDCG),
			MAP: se(evaluate.MAP), HitRate: se(evaluate.HitRate), MRR: se(evaluate.MRR)}
	}
	return m, scores
}

// listValue returns metric's field of a ListScore (AP for MAP, Hit for
// HitRate, RR for MRR).
func listValue(s evaluate.ListScore, m evaluate.Metric) float64 {
	return [...]float64{evaluate.Precision: s.Precision, evaluate.Recall: s.Recall, evaluate.NDCG: s.NDCG,
		evaluate.MAP: s.AP, evaluate.HitRate: s.Hit, evaluate.MRR: s.RR}[m]
}

func TestEvaluateMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 30 {
		s := randomSplit(t, rng)
		rec := &shuffler{seed: uint64(trial)}
		norm := evaluate.MAPNorm(trial % 2)
		opts := evaluate.Options{K: 1 + rng.IntN(8), CurveK: rng.IntN(6), ExcludeSeen: trial%3 == 0, MAP: norm}
		rep, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{rec}, opts)
		require.NoError(t, err)
		row := rep.Rows[0]
		// asking for a curve does not change the table
		plain := opts
		plain.CurveK = 0
		rep0, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{&shuffler{seed: uint64(trial)}}, plain)
		require.NoError(t, err)
		require.Equal(t, rep0.Rows[0].Metrics, row.Metrics, "trial %d: the table with CurveK %d and without", trial, opts.CurveK)
		for it := range evaluate.Items(3) {
			// the table of K-product lists, the curve of the longest
			want, _ := naive(s, rec.lists[opts.K], it, opts.K, norm)
			assertClose(t, want, row.Metrics[it], "trial %d %v at K", trial, it)
			for j, got := range row.Curve[it] {
				want, _ := naive(s, rec.lists[max(opts.K, opts.CurveK)], it, j+1, norm)
				assertClose(t, want, got, "trial %d %v at %d", trial, it, j+1)
			}
		}
	}
}

func assertClose(t *testing.T, want, got evaluate.Metrics, msg string, args ...any) {
	t.Helper()
	m := fmt.Sprintf(msg, args...)
	assert.Equal(t, want.Users, got.Users, m)
	for _, metric := range []evaluate.Metric{evaluate.Precision, evaluate.Recall, evaluate.NDCG, evaluate.MAP,
		evaluate.HitRate, evaluate.MRR, evaluate.Coverage, evaluate.Novelty} {
		assert.InDelta(t, want.Value(metric), got.Value(metric), 1e-9, "%s %v", m, metric)
	}
	for _, metric := range perCustomer {
		assert.InDelta(t, want.StdErr.Value(metric), got.StdErr.Value(metric), 1e-9, "%s %v standard error", m, metric)
	}
}
