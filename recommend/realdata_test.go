package recommend_test

import (
	"context"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// split is a temporal split: train holds everything before the cutoff;
// test maps a train customer to the products of their first order at or
// after the cutoff that they had not bought before.
type split struct {
	train  *affinity.History
	cutoff time.Time
	test   map[affinity.CustomerID][]affinity.ProductID
}

func temporalSplit(t testing.TB, full *affinity.History, cutoff time.Time) split {
	t.Helper()
	var b affinity.Builder
	cat := full.Catalog()
	for p := range cat.NumProducts() {
		require.NoError(t, b.AddProduct(cat.Product(affinity.ProductID(p))))
	}
	cu := cutoff.Unix()
	next := map[string]affinity.OrderID{}
	for c := range full.NumCustomers() {
		olo, ohi := full.CustomerOrders(affinity.CustomerID(c))
		key := full.CustomerKey(affinity.CustomerID(c))
		for o := olo; o < ohi; o++ {
			if full.OrderUnix(o) >= cu {
				next[key] = o
				break
			}
			lo, hi := full.OrderLines(o)
			for i := lo; i < hi; i++ {
				l := full.Line(i)
				// require only on an error: on 400,000 lines its
				// bookkeeping costs more than the Builder
				if err := b.Add(affinity.Purchase{Customer: key, Product: cat.ProductKey(l.Product), Order: full.OrderKey(o),
					Time: full.OrderTime(o), Quantity: l.Quantity, Price: l.Price}); err != nil {
					require.NoError(t, err)
				}
			}
		}
	}
	train, err := b.Build(context.Background())
	require.NoError(t, err)
	sp := split{train: train, cutoff: cutoff, test: map[affinity.CustomerID][]affinity.ProductID{}}
	for key, o := range next {
		c, ok := train.LookupCustomer(key)
		if !ok {
			continue
		}
		if _, ok := train.LastPurchase(c); !ok {
			continue
		}
		bought := map[affinity.ProductID]bool{}
		lo, hi := train.CustomerLines(c)
		for i := lo; i < hi; i++ {
			bought[train.LineProduct(i)] = true
		}
		var tgt []affinity.ProductID
		lo, hi = full.OrderLines(o)
		for i := lo; i < hi; i++ {
			if p := full.LineProduct(i); full.LineQuantity(i) > 0 && !bought[p] && !slices.Contains(tgt, p) {
				tgt = append(tgt, p)
			}
		}
		if len(tgt) > 0 {
			sp.test[c] = tgt
		}
	}
	return sp
}

type metrics struct{ recall, ndcg float64 }

// evaluate averages recall@k and NDCG@k of rank over the split's test
// customers.
func evaluate(sp split, k int, rank func(c affinity.CustomerID) []affinity.ProductID) metrics {
	var m metrics
	for c, tgt := range sp.test {
		got := rank(c)
		var hits, dcg, idcg float64
		for i, p := range got[:min(k, len(got))] {
			if slices.Contains(tgt, p) {
				hits++
				dcg += 1 / math.Log2(float64(i+2))
			}
		}
		for i := range min(k, len(tgt)) {
			idcg += 1 / math.Log2(float64(i+2))
		}
		m.recall += hits / float64(len(tgt))
		m.ndcg += dcg / idcg
	}
	n := float64(len(sp.test))
	return metrics{m.recall / n, m.ndcg / n}
}

// popularRanker ranks products by their number of buyers in train,
// skipping what the customer already bought.
func popularRanker(h *affinity.History, k int) func(affinity.CustomerID) []affinity.ProductID {
	np := h.Catalog().NumProducts()
	order := make([]affinity.ProductID, np)
	for p := range order {
		order[p] = affinity.ProductID(p)
	}
	buyers := func(p affinity.ProductID) uint64 { return h.Buyers(p).GetCardinality() }
	slices.SortStableFunc(order, func(a, b affinity.ProductID) int { return int(buyers(b)) - int(buyers(a)) })
	return func(c affinity.CustomerID) []affinity.ProductID {
		var out []affinity.ProductID
		for _, p := range order {
			if len(out) == k {
				break
			}
			if !h.Buyers(p).Contains(uint32(c)) {
				out = append(out, p)
			}
		}
		return out
	}
}

func engineRanker(t testing.TB, e *recommend.Engine, asOf time.Time, k int) func(affinity.CustomerID) []affinity.ProductID {
	h := e.History()
	return func(c affinity.CustomerID) []affinity.ProductID {
		recs, err := e.Recommend(nil, recommend.Request{Customer: h.CustomerKey(c), AsOf: asOf, K: k, Rules: recommend.Rules{IncludeOutOfStock: true}})
		require.NoError(t, err)
		out := make([]affinity.ProductID, len(recs))
		for i, r := range recs {
			out[i] = r.Product
		}
		return out
	}
}

func loadOnlineRetail(t testing.TB) *affinity.History {
	t.Helper()
	path := testdata.Shared(t, "online-retail/online_retail_2010-2011.csv.gz")
	h, _, err := dataset.ReadFile(context.Background(), path, dataset.Options{Format: "onlineretail", Lenient: true, Categories: dataset.CategoryFromName})
	require.NoError(t, err)
	return h
}

// On Online Retail with a temporal split (train before 2011-09-01, test
// each customer's next order, items new to the customer), the engine beats
// the global-popular baseline by at least 1.5× on recall@10 and NDCG@10.
func TestOnlineRetailBeatsPopular(t *testing.T) {
	if testing.Short() {
		t.Skip("real-data evaluation skipped in -short mode")
	}
	full := loadOnlineRetail(t)
	cutoff := time.Date(2011, 9, 1, 0, 0, 0, 0, time.UTC)
	sp := temporalSplit(t, full, cutoff)
	require.NotEmpty(t, sp.test)
	ctx := context.Background()
	pop := evaluate(sp, 10, popularRanker(sp.train, 10))
	t.Logf("%d test customers; popular: recall@10 %.4f ndcg@10 %.4f", len(sp.test), pop.recall, pop.ndcg)
	for _, cfg := range realConfigs() {
		if !cfg.check && !testdata.Long() {
			continue // a reference, only logged: the long suite evaluates it
		}
		nb, err := index(ctx, sp.train, similarity.CountOptions{Scope: cfg.scope, Workers: runtime.GOMAXPROCS(0)}, similarity.IndexOptions{Measure: cfg.measure, K: 50})
		require.NoError(t, err)
		e, err := recommend.New(ctx, sp.train, nb, sp.train.Latest(), cfg.opts)
		require.NoError(t, err)
		got := evaluate(sp, 10, engineRanker(t, e, cutoff, 10))
		t.Logf("%-30s recall@10 %.4f (%.2f×) ndcg@10 %.4f (%.2f×)", cfg.name, got.recall, got.recall/pop.recall, got.ndcg, got.ndcg/pop.ndcg)
		if cfg.check {
			assert.GreaterOrEqual(t, got.recall, 1.5*pop.recall, "recall@10")
			assert.GreaterOrEqual(t, got.ndcg, 1.5*pop.ndcg, "ndcg@10")
		}
	}
}

// On Online Retail cut where examples/evaluate cuts it (2011-10-27),
// recommend.Choose on the training side (validated on its last four
// weeks, before the test) chooses EASE, and the engine on it ranks the
// test customers' next orders' new items no worse than the engine on the
// co-purchase neighbours it was chosen over (they tie: 0.0710). Cut at
// 2011-09-01, EASE leads the validation by less than a standard error
// and the neighbours are kept, though EASE ranks that test 10 % higher:
// the rule's price. The EASE fits take seconds: the long suite runs it.
func TestChooseOnlineRetail(t *testing.T) {
	testdata.SkipUnlessLong(t)
	testdata.SkipUnderRace(t)
	full := loadOnlineRetail(t)
	cutoff := time.Date(2011, 10, 27, 0, 0, 0, 0, time.UTC)
	sp := temporalSplit(t, full, cutoff)
	ctx := context.Background()
	asOf := sp.train.Latest()
	c, tu, err := recommend.Choose(ctx, sp.train, asOf, recommend.AutoGrid(recommend.Options{}))
	require.NoError(t, err)
	require.NotNil(t, tu)
	for _, tr := range tu.Trials {
		t.Log(tr)
	}
	require.Equal(t, similarity.EASE, c.Model.Measure)
	chosen, err := c.New(ctx, sp.train, asOf)
	require.NoError(t, err)
	other, err := recommend.Candidate{Model: recommend.DefaultModel()}.New(ctx, sp.train, asOf)
	require.NoError(t, err)
	got := evaluate(sp, 10, engineRanker(t, chosen, cutoff, 10))
	nb := evaluate(sp, 10, engineRanker(t, other, cutoff, 10))
	t.Logf("chosen %v: ndcg@10 %.4f, recall@10 %.4f; neighbours: %.4f, %.4f", c.Model, got.ndcg, got.recall, nb.ndcg, nb.recall)
	assert.GreaterOrEqual(t, got.ndcg, 0.97*nb.ndcg)
}

type realConfig struct {
	name    string
	scope   similarity.Scope
	measure similarity.Measure
	opts    recommend.Options
	check   bool
}

// realConfigs are the engines evaluated on real data: the defaults (the
// ones checked), a plain item-cosine recommender for reference, and the
// defaults on a customer-scope index.
func realConfigs() []realConfig {
	return []realConfig{
		{name: "basket cosine, defaults", scope: similarity.Basket, measure: similarity.Cosine, check: true},
		{name: "plain item cosine", scope: similarity.Basket, measure: similarity.Cosine,
			opts: recommend.Options{PopularityExponent: -1, PopularityBlend: -1, BasketPopularityExponent: -1, BasketPopularityBlend: -1, SubstitutePenalty: 1, Personalization: -1, MaxEdges: -1}},
		{name: "customer cosine, defaults", scope: similarity.Customer, measure: similarity.Cosine},
	}
}

// On the Groceries baskets (anonymous, popularity-dominated) a basket
// request is not clearly worse than the popular products at finding a
// held-out item of the basket.
func TestGroceriesNotWorseThanPopular(t *testing.T) {
	re, rp := groceries(t, recommend.Options{})
	assert.GreaterOrEqual(t, re, 0.9*rp, "clearly worse than popular")
}

// groceries returns the hit rate@10 of a held-out basket item for the
// engine with opts and for the popular list.
func groceries(t *testing.T, opts recommend.Options) (engine, popular float64) {
	path := testdata.Shared(t, "groceries/groceries.csv")
	ctx := context.Background()
	full, _, err := dataset.ReadFile(ctx, path, dataset.Options{Format: "baskets"})
	require.NoError(t, err)
	cat := full.Catalog()
	lo, hi := full.AnonymousOrders()
	cut := lo + (hi-lo)*4/5
	var b affinity.Builder
	for p := range cat.NumProducts() {
		require.NoError(t, b.AddProduct(cat.Product(affinity.ProductID(p))))
	}
	for o := lo; o < cut; o++ {
		l0, l1 := full.OrderLines(o)
		for i := l0; i < l1; i++ {
			require.NoError(t, b.Add(affinity.Purchase{Product: cat.ProductKey(full.LineProduct(i)), Order: full.OrderKey(o), Time: full.OrderTime(o), Quantity: 1}))
		}
	}
	train, err := b.Build(ctx)
	require.NoError(t, err)
	nb, err := index(ctx, train, similarity.CountOptions{Scope: similarity.Basket}, similarity.IndexOptions{Measure: similarity.Cosine})
	require.NoError(t, err)
	e, err := recommend.New(ctx, train, nb, train.Latest(), opts)
	require.NoError(t, err)
	popList := make([]affinity.ProductID, 0, 16)
	recs, err := e.Recommend(nil, recommend.Request{K: 10 + 32, Rules: recommend.Rules{IncludeOutOfStock: true}})
	require.NoError(t, err)
	for _, r := range recs {
		popList = append(popList, r.Product)
	}
	var n, hitE, hitP int
	for o := cut; o < hi; o++ {
		l0, l1 := full.OrderLines(o)
		if l1-l0 < 2 {
			continue
		}
		held := full.LineProduct(l1 - 1)
		items := make([]affinity.ProductID, 0, l1-l0-1)
		for i := l0; i < l1-1; i++ {
			items = append(items, full.LineProduct(i))
		}
		recs, err = e.Recommend(recs[:0], recommend.Request{Items: items, K: 10, Rules: recommend.Rules{IncludeOutOfStock: true}})
		require.NoError(t, err)
		n++
		if slices.ContainsFunc(recs, func(r recommend.Rec) bool { return r.Product == held }) {
			hitE++
		}
		k := 0
		for _, p := range popList {
			if k == 10 {
				break
			}
			if slices.Contains(items, p) {
				continue
			}
			k++
			if p == held {
				hitP++
			}
		}
	}
	re, rp := float64(hitE)/float64(n), float64(hitP)/float64(n)
	t.Logf("groceries: %d test baskets; hit rate@10 engine %.4f, popular %.4f (%.2f×)", n, re, rp, re/rp)
	return re, rp
}
