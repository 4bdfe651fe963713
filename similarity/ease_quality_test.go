package similarity_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldOut is a leave-one-out split of a storefront: each customer with at
// least three distinct products loses every line of one of them, drawn
// with a seeded generator; train holds the rest.
type heldOut struct {
	train *affinity.History
	held  map[affinity.CustomerID]affinity.ProductID // ids of train
}

func leaveOneOut(t testing.TB, s *dataset.Storefront, seed uint64) heldOut {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	bought := map[string][]string{}
	var order []string
	for _, p := range s.Purchases {
		if p.Quantity <= 0 {
			continue
		}
		if _, ok := bought[p.Customer]; !ok {
			order = append(order, p.Customer)
		}
		if !slices.Contains(bought[p.Customer], p.Product) {
			bought[p.Customer] = append(bought[p.Customer], p.Product)
		}
	}
	drop := map[string]string{}
	for _, c := range order {
		if ps := bought[c]; len(ps) >= 3 {
			drop[c] = ps[rng.IntN(len(ps))]
		}
	}
	rest := &dataset.Storefront{Products: s.Products}
	for _, p := range s.Purchases {
		if drop[p.Customer] != p.Product {
			rest.Purchases = append(rest.Purchases, p)
		}
	}
	h, err := rest.History(context.Background())
	require.NoError(t, err)
	lo := heldOut{train: h, held: map[affinity.CustomerID]affinity.ProductID{}}
	for c, p := range drop {
		cid, ok1 := h.LookupCustomer(c)
		pid, ok2 := h.Catalog().LookupProduct(p)
		if ok1 && ok2 {
			lo.held[cid] = pid
		}
	}
	return lo
}

// quality scores every held-out customer with x — Σ over the customer's
// training products i of W[i][·], positive weights only when positive —
// ranks the products not bought in training (score descending, ties by
// id) and returns recall@k (the held-out product in the top k) and
// NDCG@k (1/log₂(rank+1), averaged), and the top k lists by customer.
func quality(x *similarity.Index, lo heldOut, k int, positive bool) (recall, ndcg float64, tops map[affinity.CustomerID][]affinity.ProductID) {
	h := lo.train
	np := h.Catalog().NumProducts()
	score := make([]float64, np)
	seen := make([]bool, np)
	tops = map[affinity.CustomerID][]affinity.ProductID{}
	for c, want := range lo.held {
		clear(score)
		clear(seen)
		l0, l1 := h.CustomerLines(c)
		for l := l0; l < l1; l++ {
			if p := h.LineProduct(l); h.LineQuantity(l) > 0 && !seen[p] {
				seen[p] = true
				for _, n := range x.Neighbors(p) {
					if n.Score > 0 || !positive {
						score[n.Product] += float64(n.Score)
					}
				}
			}
		}
		// the k best by bounded insertion
		better := func(a, b affinity.ProductID) bool { return score[a] > score[b] || (score[a] == score[b] && a < b) }
		top := make([]affinity.ProductID, 0, k)
		for p := range np {
			q := affinity.ProductID(p)
			if seen[p] || (len(top) == k && !better(q, top[k-1])) {
				continue
			}
			if len(top) < k {
				top = append(top, q)
			} else {
				top[k-1] = q
			}
			for i := len(top) - 1; i > 0 && better(top[i], top[i-1]); i-- {
				top[i], top[i-1] = top[i-1], top[i]
			}
		}
		tops[c] = top
		if r := slices.Index(top, want); r >= 0 {
			recall++
			ndcg += 1 / math.Log2(float64(r+2))
		}
	}
	n := float64(len(lo.held))
	return recall / n, ndcg / n, tops
}

// overlap returns the mean share of b's lists found in a's.
func overlap(a, b map[affinity.CustomerID][]affinity.ProductID) float64 {
	s := 0.0
	for c, x := range a {
		in := 0
		for _, p := range b[c] {
			if slices.Contains(x, p) {
				in++
			}
		}
		s += float64(in) / float64(max(1, len(x)))
	}
	return s / float64(len(a))
}

// TestSparseEASEQuality compares the sparse solver with its default
// options to dense EASE on leave-one-out splits of three synthetic shops
// — a retail-shaped catalog (sparse co-occurrences) and two
// MovieLens-shaped ones (943 customers, 1,682 products, about 70
// products each: dense co-occurrences, on which the automatic fill
// grows) — and requires recall@10 and NDCG@10 within 2 % of the dense
// model's, summed over the held-out customers of a few generator seeds
// per shop, and within 3 % on each seed. The quick suite fits shops of
// the same shapes with about a third of the products (the fill still
// grows once on the ratings-shaped one); the long one (testdata.Long)
// the sizes above.
//
// Why pooled: the ratings-shaped shops hold out only 300–400 customers
// at the quick size, about 150 of them hits, and the sparse model, whose
// top 10 share 92–94 % with the dense one, moves a few held-out products
// across rank 10 either way: on seeds 1–12 sparse recall was 0.979–1.042
// × dense on "taste" and 0.986–1.027 × on "ratings" (NDCG 0.991–1.024;
// retail, with 3,000 customers, 0.996–1.005), so a single seed's 2 % is
// three customers. So "taste" pools two seeds (three under
// testdata.Long) and "ratings", less noisy, one (two); the long sizes
// hold out 900–12,000 customers per seed, and there every ratio was
// 0.990–1.019 on seeds 1–8. Inaccurate fits fall far below: a fill of 64 that factored
// without a breakdown ranked 20 % below dense on "taste".
func TestSparseEASEQuality(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("fits dense EASE on 1,700 products")
	}
	ctx := context.Background()
	for name, shop := range map[string]struct {
		so    dataset.SyntheticOptions
		seeds []uint64
	}{
		// a few thousand held-out customers: one seed is enough
		"retail": {dataset.SyntheticOptions{Customers: testdata.Scale(15_000, 4_000), Products: testdata.Scale(1_500, 500), Categories: testdata.Scale(60, 20), ViewsPerLine: -1}, []uint64{3}},
		"ratings": {dataset.SyntheticOptions{Customers: testdata.Scale(943, 400), Products: testdata.Scale(1682, 600), Categories: 19, MeanOrders: 20, MeanLines: 5, RepeatRate: -1, Zipf: 0.9, ViewsPerLine: -1},
			[]uint64{3, 1}[:testdata.Scale(2, 1)]},
		// examples/evaluate's MovieLens-shaped store, on which the fill of
		// 64 once passed without a breakdown and ranked 20 % below dense
		"taste": {dataset.SyntheticOptions{Customers: testdata.Scale(943, 314), Products: testdata.Scale(1682, 560), Categories: 19, MeanOrders: 44, MeanLines: 2.5, RepeatRate: 0.01, ViewsPerLine: -1},
			[]uint64{5, 1, 2}[:testdata.Scale(3, 2)]},
	} {
		t.Run(name, func(t *testing.T) {
			var dr, dn, sr, sn, held float64 // sums over the seeds' held-out customers
			for _, seed := range shop.seeds {
				so := shop.so
				so.Seed = seed
				lo := leaveOneOut(t, dataset.Generate(so), 7)
				fit := func(solver similarity.EASESolver) *similarity.Index {
					x, err := similarity.FitEASE(ctx, lo.train, lo.train.Latest(), similarity.EASEOptions{
						Count: similarity.CountOptions{Scope: similarity.Customer}, K: 200, Solver: solver})
					require.NoError(t, err)
					return x
				}
				const k = 10
				dense, sparse := fit(similarity.EASEDense), fit(similarity.EASESparse)
				r, n, dtop := quality(dense, lo, k, false)
				rs, ns, stop := quality(sparse, lo, k, false)
				t.Logf("seed %d: %d customers held out", seed, len(lo.held))
				t.Logf("  dense          recall@10 %.4f ndcg@10 %.4f", r, n)
				t.Logf("  sparse         recall@10 %.4f ndcg@10 %.4f, top-10 overlap with dense %.3f", rs, ns, overlap(dtop, stop))
				assert.GreaterOrEqual(t, rs, 0.97*r, "seed %d: recall@10 within 3 %%", seed)
				assert.GreaterOrEqual(t, ns, 0.97*n, "seed %d: NDCG@10 within 3 %%", seed)
				c := float64(len(lo.held))
				dr, dn, sr, sn, held = dr+c*r, dn+c*n, sr+c*rs, sn+c*ns, held+c
			}
			t.Logf("%d seeds, %.0f customers: sparse/dense recall@10 %.4f, NDCG@10 %.4f", len(shop.seeds), held, sr/dr, sn/dn)
			assert.GreaterOrEqual(t, sr, 0.98*dr, "recall@10 within 2 %")
			assert.GreaterOrEqual(t, sn, 0.98*dn, "NDCG@10 within 2 %")
		})
	}
}

// fromSplit returns the training History of s and, for every test
// customer known in training, the first product of their test lines that
// is known in training and new to them.
func fromSplit(t *testing.T, s *evaluate.Split) heldOut {
	lo := heldOut{train: s.Train, held: map[affinity.CustomerID]affinity.ProductID{}}
	for c := range s.Test.NumCustomers() {
		cid, ok := s.Train.LookupCustomer(s.Test.CustomerKey(affinity.CustomerID(c)))
		if !ok {
			continue
		}
		l0, l1 := s.Test.CustomerLines(affinity.CustomerID(c))
		for l := l0; l < l1; l++ {
			pid, ok := s.Train.Catalog().LookupProduct(s.Test.Catalog().ProductKey(s.Test.LineProduct(l)))
			if ok && !bought(s.Train, cid, pid) {
				lo.held[cid] = pid
				break
			}
		}
	}
	require.NotEmpty(t, lo.held)
	return lo
}

func bought(h *affinity.History, c affinity.CustomerID, p affinity.ProductID) bool {
	l0, l1 := h.CustomerLines(c)
	for l := l0; l < l1; l++ {
		if h.LineProduct(l) == p && h.LineQuantity(l) > 0 {
			return true
		}
	}
	return false
}

// TestSparseEASEQualityOnEvaluateSplit compares the sparse solver with
// dense EASE on the training part of examples/evaluate's MovieLens-shaped
// store (-synthetic movielens: its stratified split), where a fill of 64
// factored without a breakdown yet so inaccurately that some products got
// weights ten times the dense ones in every row (NDCG@10 −31 % in
// examples/evaluate); the automatic fill must notice (see
// similarity.MaxSparseEASEResidual) and rank within 2 % of dense.
func TestSparseEASEQualityOnEvaluateSplit(t *testing.T) {
	t.Parallel()
	testdata.SkipUnlessLong(t)
	ctx := context.Background()
	h, err := dataset.Generate(dataset.SyntheticOptions{Customers: 943, Products: 1682, Categories: 19, MeanOrders: 44, MeanLines: 2.5, RepeatRate: 0.01, ViewsPerLine: -1, Seed: 5}).History(ctx)
	require.NoError(t, err)
	s, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{Seed: 42})
	require.NoError(t, err)
	lo := fromSplit(t, s)
	fit := func(solver similarity.EASESolver) *similarity.Index {
		x, err := similarity.FitEASE(ctx, s.Train, s.AsOf, similarity.EASEOptions{
			Count: similarity.CountOptions{Scope: similarity.Customer}, K: 50, Solver: solver})
		require.NoError(t, err)
		return x
	}
	dr, dn, _ := quality(fit(similarity.EASEDense), lo, 10, false)
	sr, sn, _ := quality(fit(similarity.EASESparse), lo, 10, false)
	t.Logf("%d customers: dense recall@10 %.4f ndcg@10 %.4f, sparse %.4f %.4f", len(lo.held), dr, dn, sr, sn)
	assert.GreaterOrEqual(t, sr, 0.98*dr, "recall@10 within 2 %")
	assert.GreaterOrEqual(t, sn, 0.98*dn, "NDCG@10 within 2 %")
}
