package evaluate_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
)

// This file checks package evaluate against an independent, naive model
// written from the package documentation: the metric formulas, the ground
// truth (bought lines and events of Options.Events, MinRating, unknown
// products, cold customers), the repeat/explore selections, coverage and
// novelty, and every split's routing of lines and events.

const advTol = 1e-12

var advT0 = time.Date(2024, 2, 27, 0, 0, 0, 0, time.UTC) // spans the 2024 leap day

// ---------------------------------------------------------------- naive metrics

// advScore is the doc's per-list formulas: ranked is cut to its first k
// entries, a product counts at its first position only, precision divides
// by k, ideal DCG puts min(k, |R|) hits first.
type advScore struct{ p, r, ndcg, ap, hit, rr float64 }

func advScoreList(ranked []string, rel map[string]bool, k int, norm evaluate.MAPNorm) advScore {
	var s advScore
	if len(rel) == 0 {
		return s
	}
	seen := map[string]bool{}
	hits := 0
	var dcg, apSum float64
	for i := 0; i < k && i < len(ranked); i++ {
		p := ranked[i]
		if seen[p] {
			continue
		}
		seen[p] = true
		if !rel[p] {
			continue
		}
		hits++
		rank := float64(i + 1)
		dcg += 1 / math.Log2(rank+1)
		apSum += float64(hits) / rank // precision@i at a hit rank
		if s.rr == 0 {
			s.rr = 1 / rank
		}
	}
	var idcg float64
	for i := 1; i <= min(k, len(rel)); i++ {
		idcg += 1 / math.Log2(float64(i)+1)
	}
	s.p = float64(hits) / float64(k)
	s.r = float64(hits) / float64(len(rel))
	s.ndcg = dcg / idcg
	den := len(rel)
	if norm == evaluate.MAPByMinKRelevant {
		den = min(k, len(rel))
	}
	s.ap = apSum / float64(den)
	if hits > 0 {
		s.hit = 1
	}
	return s
}

func TestAdversarialScoreListMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := func(n int) []affinity.ProductID {
		out := make([]affinity.ProductID, n)
		for i := range out {
			out[i] = affinity.ProductID(rng.IntN(12))
		}
		return out
	}
	for trial := range testdata.Scale(20000, 3000) {
		ranked := ids(rng.IntN(15)) // duplicates, shorter or longer than k
		relevant := ids(rng.IntN(8))
		k := 1 + rng.IntN(12)
		norm := evaluate.MAPNorm(rng.IntN(2))
		got := evaluate.ScoreList(ranked, relevant, k, norm)
		rk := make([]string, len(ranked))
		for i, p := range ranked {
			rk[i] = fmt.Sprint(p)
		}
		rel := map[string]bool{}
		for _, p := range relevant {
			rel[fmt.Sprint(p)] = true
		}
		want := advScoreList(rk, rel, k, norm)
		name := fmt.Sprintf("trial %d: ranked %v relevant %v k %d %v", trial, ranked, relevant, k, norm)
		for _, v := range []float64{got.Precision, got.Recall, got.NDCG, got.AP, got.Hit, got.RR} {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), name)
		}
		assert.InDelta(t, want.p, got.Precision, advTol, "%s precision", name)
		assert.InDelta(t, want.r, got.Recall, advTol, "%s recall", name)
		assert.InDelta(t, want.ndcg, got.NDCG, advTol, "%s ndcg", name)
		assert.InDelta(t, want.ap, got.AP, advTol, "%s ap", name)
		assert.InDelta(t, want.hit, got.Hit, advTol, "%s hit", name)
		assert.InDelta(t, want.rr, got.RR, advTol, "%s rr", name)
		if t.Failed() {
			return
		}
	}
	assert.Panics(t, func() { evaluate.ScoreList(nil, nil, 0, evaluate.MAPByRelevant) }, "k < 1 panics as documented")
}

// ---------------------------------------------------------------- records

// advLine is one purchase line as a naive model sees it.
type advLine struct {
	cust, order, prod string
	unix              int64
	qty               int32
	price             affinity.Money
}

// advEvent is one event as a naive model sees it.
type advEvent struct {
	cust, prod string
	unix       int64
	kind       affinity.EventKind
	weight     float32
}

// advDump lists every line (anonymous ones with cust "") and event of h,
// sorted, so that two Histories with the same content compare equal.
func advDump(h *affinity.History) ([]advLine, []advEvent) {
	var lines []advLine
	for o := range h.Orders() {
		cust := ""
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			lines = append(lines, advLine{cust: cust, order: h.OrderKey(o), prod: h.Catalog().ProductKey(l.Product), unix: h.OrderUnix(o), qty: l.Quantity, price: l.Price})
		}
	}
	var events []advEvent
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			events = append(events, advEvent{cust: h.CustomerKey(c), prod: h.Catalog().ProductKey(e.Product), unix: e.Unix, kind: e.Kind, weight: e.Weight})
		}
	}
	slices.SortFunc(lines, advCmpLine)
	slices.SortFunc(events, advCmpEvent)
	return lines, events
}

func advCmpLine(a, b advLine) int {
	return cmp.Or(cmp.Compare(a.cust, b.cust), cmp.Compare(a.order, b.order), cmp.Compare(a.unix, b.unix),
		cmp.Compare(a.prod, b.prod), cmp.Compare(a.qty, b.qty), cmp.Compare(a.price, b.price))
}

func advCmpEvent(a, b advEvent) int {
	return cmp.Or(cmp.Compare(a.cust, b.cust), cmp.Compare(a.unix, b.unix), cmp.Compare(a.prod, b.prod),
		cmp.Compare(a.kind, b.kind), cmp.Compare(a.weight, b.weight))
}

// advBuild builds a History from records, with catalog as its catalog
// (products added first, so that ids agree with the source's).
func advBuild(t *testing.T, catalog *affinity.Catalog, lines []advLine, events []advEvent) *affinity.History {
	t.Helper()
	var b affinity.Builder
	if catalog != nil {
		for p := range catalog.NumProducts() {
			require.NoError(t, b.AddProduct(catalog.Product(affinity.ProductID(p))))
		}
	}
	for _, l := range lines {
		require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: time.Unix(l.unix, 0), Quantity: l.qty, Price: l.price}))
	}
	for _, e := range events {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: time.Unix(e.unix, 0), Kind: e.kind, Weight: e.weight}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advBuildStaged builds a History from records shuffled and cut into one
// to three consecutive builds, each on the previous History
// (affinity.NewBuilder), after adding extra catalog products.
func advBuildStaged(t *testing.T, rng *rand.Rand, extra []string, lines []advLine, events []advEvent) *affinity.History {
	t.Helper()
	var adds []func(b *affinity.Builder) error
	for _, l := range lines {
		adds = append(adds, func(b *affinity.Builder) error {
			return b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: time.Unix(l.unix, 0), Quantity: l.qty, Price: l.price})
		})
	}
	for _, e := range events {
		adds = append(adds, func(b *affinity.Builder) error {
			return b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: time.Unix(e.unix, 0), Kind: e.kind, Weight: e.weight})
		})
	}
	rng.Shuffle(len(adds), func(i, j int) { adds[i], adds[j] = adds[j], adds[i] })
	cuts := []int{0}
	for range rng.IntN(3) {
		cuts = append(cuts, rng.IntN(len(adds)+1))
	}
	cuts = append(cuts, len(adds))
	slices.Sort(cuts)
	var h *affinity.History
	for i := 1; i < len(cuts); i++ {
		b := affinity.NewBuilder(h)
		if i == 1 {
			for _, key := range extra {
				require.NoError(t, b.AddProduct(affinity.Product{Key: key}))
			}
		}
		for _, add := range adds[cuts[i-1]:cuts[i]] {
			require.NoError(t, add(b))
		}
		var err error
		h, err = b.Build(context.Background())
		require.NoError(t, err)
	}
	return h
}

// advGen makes random records: customers prefix0…, products from prods,
// orders with explicit unique keys at times drawn from few instants (so
// that ties are common), returns and returns-only orders, events of
// three kinds, customers with events only and anonymous orders.
func advGen(rng *rand.Rand, prefix string, customers int, prods []string, t0 int64, days int, anon bool) ([]advLine, []advEvent) {
	var lines []advLine
	var events []advEvent
	when := func() int64 {
		return t0 + int64(rng.IntN(days))*86400 + []int64{0, 0, 1, 3600, 86399}[rng.IntN(5)]
	}
	for c := range customers {
		cust := fmt.Sprint(prefix, c)
		for o := range rng.IntN(5) {
			key := fmt.Sprint(cust, "/o", o)
			at := when()
			returnsOnly := rng.IntN(6) == 0
			for range 1 + rng.IntN(4) {
				q := int32(1 + rng.IntN(2))
				if returnsOnly || rng.IntN(6) == 0 {
					q = -q
				}
				lines = append(lines, advLine{cust: cust, order: key, prod: prods[rng.IntN(len(prods))], unix: at, qty: q, price: affinity.Money(1+rng.IntN(5)) * affinity.MoneyScale})
			}
		}
		for range rng.IntN(4) {
			kind := []affinity.EventKind{affinity.Rating, affinity.Rating, affinity.View, affinity.Cart}[rng.IntN(4)]
			w := float32(1)
			if kind == affinity.Rating {
				w = float32(1 + rng.IntN(5))
			}
			events = append(events, advEvent{cust: cust, prod: prods[rng.IntN(len(prods))], unix: when(), kind: kind, weight: w})
		}
	}
	if anon {
		for a := range rng.IntN(4) {
			at := when()
			for range 1 + rng.IntN(3) {
				lines = append(lines, advLine{order: fmt.Sprint(prefix, "anon", a), prod: prods[rng.IntN(len(prods))], unix: at, qty: 1, price: affinity.MoneyScale})
			}
		}
	}
	return lines, events
}

func advProducts(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

// ---------------------------------------------------------------- fake recommenders

// advFake is a Recommender with random or adversarial valid lists; it
// records each list by the k it was asked for and customer key.
type advFake struct {
	name  string
	mode  int // 0 random, 1 own training items first, 2 empty, 3 fixed catalog order
	seed  uint64
	train *affinity.History
	lists map[int]map[string][]string // by k, then customer key
	asked map[string]int
	ks    map[int]bool
}

func (f *advFake) Name() string { return f.name }

func (f *advFake) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	f.train, f.lists, f.asked, f.ks = train, map[int]map[string][]string{}, map[string]int{}, map[int]bool{}
	return nil
}

func (f *advFake) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	key := f.train.CustomerKey(c)
	f.asked[key]++
	f.ks[k] = true
	rng := rand.New(rand.NewPCG(f.seed, uint64(c)))
	np := f.train.Catalog().NumProducts()
	var cand []affinity.ProductID
	switch f.mode {
	case 0:
		for _, i := range rng.Perm(np) {
			cand = append(cand, affinity.ProductID(i))
		}
		cand = cand[:rng.IntN(min(k, np)+1)]
	case 1:
		lo, hi := f.train.CustomerLines(c)
		for i := lo; i < hi; i++ {
			cand = append(cand, f.train.LineProduct(i))
		}
		elo, ehi := f.train.CustomerEvents(c)
		for i := elo; i < ehi; i++ {
			cand = append(cand, f.train.Event(i).Product)
		}
		for _, i := range rng.Perm(np) {
			cand = append(cand, affinity.ProductID(i))
		}
	case 3:
		for i := range np {
			cand = append(cand, affinity.ProductID(np-1-i))
		}
	}
	from := len(dst)
	var got []string
	for _, p := range cand {
		if len(dst)-from == k {
			break
		}
		if slices.Contains(dst[from:], p) || (exclude != nil && exclude(p)) {
			continue
		}
		dst = append(dst, p)
		got = append(got, f.train.Catalog().ProductKey(p))
	}
	if f.lists[k] == nil {
		f.lists[k] = map[string][]string{}
	}
	f.lists[k][key] = got
	return dst
}

// ---------------------------------------------------------------- naive Evaluate

type advTruth struct {
	users     []string // evaluated customers (keys)
	cold      int
	rel, seen map[string]map[string]bool
	buyers    map[string]int // training customers per product
	pairs     int
}

func advGround(trainL []advLine, trainE []advEvent, testL []advLine, testE []advEvent, kinds []affinity.EventKind, minRating float32) advTruth {
	if kinds == nil {
		kinds = []affinity.EventKind{affinity.Rating}
	}
	tr := advTruth{rel: map[string]map[string]bool{}, seen: map[string]map[string]bool{}, buyers: map[string]int{}}
	add := func(m map[string]map[string]bool, c, p string) {
		if m[c] == nil {
			m[c] = map[string]bool{}
		}
		m[c][p] = true
	}
	trainCust := map[string]bool{}
	for _, l := range trainL {
		if l.cust == "" {
			continue
		}
		trainCust[l.cust] = true
		if l.qty > 0 {
			add(tr.seen, l.cust, l.prod)
		}
	}
	for _, e := range trainE {
		trainCust[e.cust] = true
		if slices.Contains(kinds, e.kind) {
			add(tr.seen, e.cust, e.prod)
		}
	}
	for _, ps := range tr.seen {
		for p := range ps {
			tr.buyers[p]++
			tr.pairs++
		}
	}
	for _, l := range testL {
		if l.cust != "" && l.qty > 0 {
			add(tr.rel, l.cust, l.prod)
		}
	}
	for _, e := range testE {
		if slices.Contains(kinds, e.kind) && (e.kind != affinity.Rating || minRating <= 0 || e.weight >= minRating) {
			add(tr.rel, e.cust, e.prod)
		}
	}
	for c, ps := range tr.rel {
		if len(ps) == 0 {
			continue
		}
		if trainCust[c] {
			tr.users = append(tr.users, c)
		} else {
			tr.cold++
		}
	}
	slices.Sort(tr.users)
	return tr
}

// advMetrics computes the metrics at cutoff k for the selection it from
// the recorded lists.
func advMetrics(tr advTruth, lists map[string][]string, it evaluate.Items, k int, norm evaluate.MAPNorm) evaluate.Metrics {
	var m evaluate.Metrics
	var sum advScore
	covered := map[string]bool{}
	var nov float64
	var novN int
	for _, c := range tr.users {
		rel := map[string]bool{}
		for p := range tr.rel[c] {
			had := tr.seen[c][p]
			if it == evaluate.AllItems || (it == evaluate.RepeatItems) == had {
				rel[p] = true
			}
		}
		if len(rel) == 0 {
			continue
		}
		m.Users++
		s := advScoreList(lists[c], rel, k, norm)
		sum.p += s.p
		sum.r += s.r
		sum.ndcg += s.ndcg
		sum.ap += s.ap
		sum.hit += s.hit
		sum.rr += s.rr
		l := lists[c]
		for _, p := range l[:min(k, len(l))] {
			if n := tr.buyers[p]; n > 0 {
				covered[p] = true
				nov += -math.Log2(float64(n) / float64(tr.pairs))
				novN++
			}
		}
	}
	if m.Users == 0 {
		return m
	}
	n := float64(m.Users)
	m.Precision, m.Recall, m.NDCG, m.MAP, m.HitRate, m.MRR = sum.p/n, sum.r/n, sum.ndcg/n, sum.ap/n, sum.hit/n, sum.rr/n
	if len(tr.buyers) > 0 {
		m.Coverage = float64(len(covered)) / float64(len(tr.buyers))
	}
	if novN > 0 {
		m.Novelty = nov / float64(novN)
	}
	return m
}

func advAssertMetrics(t *testing.T, want, got evaluate.Metrics, name string) {
	t.Helper()
	assert.Equal(t, want.Users, got.Users, "%s: Users", name)
	for _, metric := range []evaluate.Metric{evaluate.Precision, evaluate.Recall, evaluate.NDCG, evaluate.MAP,
		evaluate.HitRate, evaluate.MRR, evaluate.Coverage, evaluate.Novelty} {
		v := got.Value(metric)
		assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s: %v = %v", name, metric, v)
		assert.InDelta(t, want.Value(metric), v, advTol, "%s: %v", name, metric)
	}
}

// advEvalSplit makes an independent train and test History: the training
// catalog has products without interactions, the test one products
// unknown to training; some test customers are cold, some have only
// returns or events that are not relevant.
func advEvalSplit(t *testing.T, rng *rand.Rand) (s *evaluate.Split, trainL []advLine, trainE []advEvent, testL []advLine, testE []advEvent) {
	t.Helper()
	trainL, trainE = advGen(rng, "u", 4+rng.IntN(14), advProducts("p", 4+rng.IntN(16)), advT0.Unix(), 5, true)
	// test products: some in training, some unknown to it, and the
	// catalog-only x0, x1 (in the training catalog without interactions)
	testL, testE = advGen(rng, "u", 6+rng.IntN(18), append(advProducts("p", 6+rng.IntN(20)), "x0", "x1"), advT0.Unix()+5*86400, 5, true)
	extra := advProducts("x", rng.IntN(3)) // catalog-only products
	train := advBuildStaged(t, rng, extra, trainL, trainE)
	test := advBuildStaged(t, rng, nil, testL, testE)
	return &evaluate.Split{Train: train, Test: test, AsOf: advT0.AddDate(0, 0, 5), Protocol: "adversarial"}, trainL, trainE, testL, testE
}

func TestAdversarialEvaluateMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	eventSets := [][]affinity.EventKind{nil, {}, {affinity.Rating, affinity.View}, {affinity.Cart}}
	var reach struct {
		users                                           [3]int
		cold, hits, trainProducts, coverage, unknownRel int
	} // the fixtures must reach every case
	for trial := range testdata.Scale(400, 60) {
		s, trainL, trainE, testL, testE := advEvalSplit(t, rng)
		opts := evaluate.Options{
			K:           []int{0, 1, 2, 3, 5, 10, 25}[rng.IntN(7)],
			CurveK:      []int{0, 0, 1, 4, 12}[rng.IntN(5)],
			ExcludeSeen: rng.IntN(3) == 0,
			MAP:         evaluate.MAPNorm(rng.IntN(2)),
			Events:      eventSets[rng.IntN(len(eventSets))],
			MinRating:   []float32{0, 0, 3, 4.5}[rng.IntN(4)],
			Workers:     1 + rng.IntN(3),
		}
		fakes := []*advFake{
			{name: "fake-shuffle", mode: 0, seed: uint64(trial)},
			{name: "fake-own", mode: 1, seed: uint64(trial)},
			{name: "fake-empty", mode: 2},
			{name: "fake-fixed", mode: 3},
		}
		recs := make([]evaluate.Recommender, len(fakes))
		for i, f := range fakes {
			recs[i] = f
		}
		name := fmt.Sprintf("trial %d %+v", trial, opts)
		var last affinity.Progress
		calls := 0
		opts.Progress = func(p affinity.Progress) {
			calls++
			assert.GreaterOrEqual(t, p.Done, last.Done, "%s: progress goes forward", name)
			last = p
		}
		rep, err := evaluate.Evaluate(ctx, s, recs, opts)
		require.NoError(t, err, name)
		assert.Positive(t, calls, name)
		assert.Equal(t, "evaluate", last.Step, name)
		assert.Equal(t, int64(rep.Users*len(recs)), last.Total, "%s: progress total", name)
		assert.Equal(t, last.Total, last.Done, "%s: progress done", name)
		tr := advGround(trainL, trainE, testL, testE, opts.Events, opts.MinRating)
		k := cmp.Or(opts.K, 10)
		maxK := max(k, opts.CurveK)
		assert.Equal(t, len(tr.users), rep.Users, "%s: Users", name)
		assert.Equal(t, tr.cold, rep.ColdUsers, "%s: ColdUsers", name)
		assert.Equal(t, len(tr.buyers), rep.TrainProducts, "%s: TrainProducts", name)
		assert.Equal(t, k, rep.K, name)
		reach.cold += tr.cold
		reach.trainProducts += len(tr.buyers)
		for _, c := range tr.users {
			for p := range tr.rel[c] {
				if tr.buyers[p] == 0 && !strings.HasPrefix(p, "x") {
					reach.unknownRel++
				}
			}
		}
		require.Len(t, rep.Rows, len(fakes), name)
		for i, f := range fakes {
			row := rep.Rows[i]
			assert.Equal(t, f.name, row.Name)
			// every evaluated customer asked for K, then for CurveK
			// when that is longer: the table is of K-product lists
			passes, ks := 1, map[int]bool{k: true}
			if opts.CurveK > k {
				passes, ks[opts.CurveK] = 2, true
			}
			asked := make([]string, 0, len(f.asked))
			for c, n := range f.asked {
				asked = append(asked, c)
				assert.Equal(t, passes, n, "%s %s: %s asked %d times", name, f.name, c, n)
			}
			slices.Sort(asked)
			if len(asked) == 0 {
				asked = nil
			}
			assert.Equal(t, tr.users, asked, "%s %s: customers asked", name, f.name)
			if len(f.ks) > 0 {
				assert.Equal(t, ks, f.ks, "%s %s: k asked", name, f.name)
			}
			if opts.ExcludeSeen {
				for _, lists := range f.lists {
					for c, l := range lists {
						for _, p := range l {
							assert.False(t, tr.seen[c][p], "%s %s: %s got seen %s", name, f.name, c, p)
						}
					}
				}
			}
			for it := range evaluate.Items(3) {
				n := fmt.Sprintf("%s %s %v", name, f.name, it)
				want := advMetrics(tr, f.lists[k], it, k, opts.MAP)
				advAssertMetrics(t, want, row.Metrics[it], n+" @K")
				reach.users[it] += want.Users
				if want.HitRate > 0 {
					reach.hits++
				}
				if want.Coverage > 0 {
					reach.coverage++
				}
				if opts.CurveK == 0 {
					assert.Nil(t, row.Curve[it], n)
					continue
				}
				require.Len(t, row.Curve[it], opts.CurveK, n)
				for j, got := range row.Curve[it] {
					advAssertMetrics(t, advMetrics(tr, f.lists[maxK], it, j+1, opts.MAP), got, fmt.Sprintf("%s @%d", n, j+1))
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("reached: %+v", reach)
	for it := range 3 {
		assert.Positive(t, reach.users[it], "fixtures without %v users", evaluate.Items(it))
	}
	assert.Positive(t, reach.cold)
	assert.Positive(t, reach.hits)
	assert.Positive(t, reach.coverage)
	assert.Positive(t, reach.unknownRel)
}

func TestAdversarialEvaluateOptionErrors(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(21, 22))
	s, _, _, _, _ := advEvalSplit(t, rng)
	ok := &advFake{name: "fake-fixed", mode: 3}
	for _, tc := range []struct {
		name string
		recs []evaluate.Recommender
		opts evaluate.Options
	}{
		{"K above MaxK", []evaluate.Recommender{ok}, evaluate.Options{K: evaluate.MaxK + 1}},
		{"CurveK above MaxK", []evaluate.Recommender{ok}, evaluate.Options{CurveK: evaluate.MaxK + 1}},
		{"Workers above MaxWorkers", []evaluate.Recommender{ok}, evaluate.Options{Workers: evaluate.MaxWorkers + 1}},
		{"NaN MinRating", []evaluate.Recommender{ok}, evaluate.Options{MinRating: float32(math.NaN())}},
		{"nil recommender", []evaluate.Recommender{nil}, evaluate.Options{}},
		{"no name", []evaluate.Recommender{&advFake{}}, evaluate.Options{}},
		{"two names", []evaluate.Recommender{ok, &advFake{name: "fake-fixed"}}, evaluate.Options{}},
		{"reserved popular", []evaluate.Recommender{&advFake{name: "most-popular"}}, evaluate.Options{}},
		{"reserved repeat", []evaluate.Recommender{&advFake{name: "my-repeat-model"}}, evaluate.Options{}},
		{"reserved random", []evaluate.Recommender{&advFake{name: "random"}}, evaluate.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := evaluate.Evaluate(ctx, s, tc.recs, tc.opts)
			assert.Error(t, err)
			assert.Nil(t, rep)
		})
	}
	_, err := evaluate.Evaluate(ctx, &evaluate.Split{Train: s.Train}, []evaluate.Recommender{ok}, evaluate.Options{})
	assert.Error(t, err, "split without test")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = evaluate.Evaluate(cctx, s, []evaluate.Recommender{ok}, evaluate.Options{})
	assert.ErrorIs(t, err, context.Canceled)
}

// ---------------------------------------------------------------- invalid lists

// advBad returns one kind of invalid list.
type advBad struct {
	mode  int // 0 duplicate, 1 unknown id, 2 too long, 3 excluded
	train *affinity.History
}

func (b *advBad) Name() string { return fmt.Sprint("bad", b.mode) }

func (b *advBad) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	b.train = train
	return nil
}

func (b *advBad) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	np := b.train.Catalog().NumProducts()
	switch b.mode {
	case 0:
		return append(dst, 0, 0)
	case 1:
		return append(dst, affinity.ProductID(np))
	case 2:
		for i := range k + 1 {
			dst = append(dst, affinity.ProductID(i%np))
		}
		return dst
	default:
		for p := range np {
			if exclude != nil && exclude(affinity.ProductID(p)) {
				return append(dst, affinity.ProductID(p))
			}
		}
		return dst
	}
}

func TestAdversarialEvaluateInvalidLists(t *testing.T) {
	ctx := context.Background()
	train := advBuild(t, nil, []advLine{
		{cust: "a", order: "a1", prod: "p0", unix: advT0.Unix(), qty: 1, price: 1},
		{cust: "a", order: "a1", prod: "p1", unix: advT0.Unix(), qty: 1, price: 1},
		{cust: "a", order: "a1", prod: "p2", unix: advT0.Unix(), qty: 1, price: 1},
	}, nil)
	test := advBuild(t, nil, []advLine{{cust: "a", order: "a2", prod: "p2", unix: advT0.Unix() + 86400, qty: 1, price: 1}}, nil)
	s := &evaluate.Split{Train: train, Test: test, AsOf: advT0.Add(time.Hour)}
	for mode := range 4 {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			_, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{&advBad{mode: mode}}, evaluate.Options{K: 2, ExcludeSeen: mode == 3})
			require.ErrorIs(t, err, evaluate.ErrBadList)
		})
	}
	// an empty list counts, with zeros and no NaN
	rep, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{&advFake{name: "fake-empty", mode: 2}}, evaluate.Options{K: 3, CurveK: 2})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Users)
	for it := range evaluate.Items(3) {
		m := rep.Rows[0].Metrics[it]
		for metric := evaluate.Precision; metric <= evaluate.Novelty; metric++ {
			assert.Zero(t, m.Value(metric), "%v %v", it, metric)
		}
	}
}

// ---------------------------------------------------------------- splits

// advSource makes a random source History and its records.
func advSource(t *testing.T, rng *rand.Rand) (*affinity.History, []advLine, []advEvent) {
	t.Helper()
	lines, events := advGen(rng, "c", 3+rng.IntN(14), advProducts("p", 3+rng.IntN(10)), advT0.Unix(), 6, true)
	h := advBuildStaged(t, rng, []string{"catalog-only"}, lines, events)
	l, e := advDump(h)
	return h, l, e
}

func advHasCustomerData(lines []advLine, events []advEvent) bool {
	if len(events) > 0 {
		return true
	}
	for _, l := range lines {
		if l.cust != "" {
			return true
		}
	}
	return false
}

// advCheckSplit compares a split with the naive expectation: both sides'
// records, the shared catalog and, unless asOf is zero, AsOf. An empty
// expected side must give ErrEmptySplit.
func advCheckSplit(t *testing.T, name string, src *affinity.History, s *evaluate.Split, err error, trL []advLine, trE []advEvent, teL []advLine, teE []advEvent, asOf time.Time) {
	t.Helper()
	if !advHasCustomerData(trL, trE) || !advHasCustomerData(teL, teE) {
		require.ErrorIs(t, err, evaluate.ErrEmptySplit, name)
		return
	}
	require.NoError(t, err, name)
	want := func(ls []advLine, es []advEvent) ([]advLine, []advEvent) {
		return advDump(advBuild(t, src.Catalog(), ls, es))
	}
	gl, ge := advDump(s.Train)
	wl, we := want(trL, trE)
	assert.Equal(t, wl, gl, "%s: training lines", name)
	assert.Equal(t, we, ge, "%s: training events", name)
	gl, ge = advDump(s.Test)
	wl, we = want(teL, teE)
	assert.Equal(t, wl, gl, "%s: test lines", name)
	assert.Equal(t, we, ge, "%s: test events", name)
	for _, h := range []*affinity.History{s.Train, s.Test} {
		require.Equal(t, src.Catalog().NumProducts(), h.Catalog().NumProducts(), name)
		for p := range src.Catalog().NumProducts() {
			assert.Equal(t, src.Catalog().ProductKey(affinity.ProductID(p)), h.Catalog().ProductKey(affinity.ProductID(p)), "%s: product ids agree", name)
		}
	}
	if !asOf.IsZero() {
		assert.True(t, s.AsOf.Equal(asOf), "%s: AsOf %v, want %v", name, s.AsOf, asOf)
	} else {
		assert.True(t, s.AsOf.Equal(s.Train.Latest()), "%s: AsOf %v, want the latest training time %v", name, s.AsOf, s.Train.Latest())
	}
}

func TestAdversarialTemporalSplitMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range testdata.Scale(300, 60) {
		src, lines, events := advSource(t, rng)
		// cutoffs exactly at a record's time, a second off, an hour later
		var base time.Time
		if len(lines) > 0 && rng.IntN(4) > 0 {
			base = time.Unix(lines[rng.IntN(len(lines))].unix, 0)
		} else {
			base = advT0.Add(time.Duration(rng.IntN(6*24)) * time.Hour)
		}
		// whole seconds here; TestAdversarialTemporalSplitSubSecondCutoff
		// has the sub-second cutoffs
		cutoff := base.Add([]time.Duration{0, 0, time.Second, -time.Second, time.Hour}[rng.IntN(5)])
		if rng.IntN(3) == 0 {
			cutoff = cutoff.In(time.FixedZone("x", 5*3600+1800))
		}
		var trL, teL []advLine
		for _, l := range lines {
			if time.Unix(l.unix, 0).Before(cutoff) {
				trL = append(trL, l)
			} else {
				teL = append(teL, l)
			}
		}
		var trE, teE []advEvent
		for _, e := range events {
			if time.Unix(e.unix, 0).Before(cutoff) {
				trE = append(trE, e)
			} else {
				teE = append(teE, e)
			}
		}
		s, err := evaluate.TemporalSplit(ctx, src, cutoff)
		advCheckSplit(t, fmt.Sprintf("trial %d cutoff %v", trial, cutoff), src, s, err, trL, trE, teL, teE, cutoff)
		if t.Failed() {
			return
		}
	}
}

// TestAdversarialTemporalSplitSubSecondCutoff is the minimal case: an
// order at 12:00:00 is before a cutoff at 12:00:00.5.
func TestAdversarialTemporalSplitSubSecondCutoff(t *testing.T) {
	at := advT0.Add(12 * time.Hour)
	src := advBuild(t, nil, []advLine{
		{cust: "a", order: "a0", prod: "o", unix: at.Unix() - 3600, qty: 1, price: 1},
		{cust: "a", order: "a1", prod: "p", unix: at.Unix(), qty: 1, price: 1},
		{cust: "a", order: "a2", prod: "q", unix: at.Unix() + 1, qty: 1, price: 1},
	}, []advEvent{{cust: "a", prod: "p", unix: at.Unix(), kind: affinity.View, weight: 1}})
	cutoff := at.Add(500 * time.Millisecond)
	s, err := evaluate.TemporalSplit(context.Background(), src, cutoff)
	require.NoError(t, err)
	trL, trE := advDump(s.Train)
	teL, _ := advDump(s.Test)
	prods := func(ls []advLine) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.prod)
		}
		return out
	}
	assert.Equal(t, []string{"o", "p"}, prods(trL), "orders at %v and %v are before the cutoff %v: training", at.Add(-time.Hour), at, cutoff)
	assert.Equal(t, []string{"q"}, prods(teL), "the order at %v is after the cutoff %v: test", at.Add(time.Second), cutoff)
	assert.Len(t, trE, 1, "the event at %v is before the cutoff %v: training", at, cutoff)
	assert.True(t, s.AsOf.Equal(cutoff), "AsOf is the cutoff")
}

func TestAdversarialLastOrderSplitMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range testdata.Scale(300, 60) {
		src, lines, events := advSource(t, rng)
		byCust := map[string]bool{}
		bought := map[string][]int64{}
		evTimes := map[string][]int64{}
		for _, l := range lines {
			if l.cust != "" {
				byCust[l.cust] = true
				if l.qty > 0 {
					bought[l.cust] = append(bought[l.cust], l.unix)
				}
			}
		}
		for _, e := range events {
			byCust[e.cust] = true
			evTimes[e.cust] = append(evTimes[e.cust], e.unix)
		}
		cut := map[string]int64{}
		for c := range byCust {
			ts := bought[c]
			if len(ts) == 0 {
				ts = evTimes[c]
			}
			slices.Sort(ts)
			ts = slices.Compact(ts)
			if len(ts) >= 2 {
				cut[c] = ts[len(ts)-1]
			} else {
				cut[c] = math.MaxInt64
			}
		}
		var trL, teL []advLine
		for _, l := range lines {
			if l.cust == "" || l.unix < cut[l.cust] {
				trL = append(trL, l)
			} else {
				teL = append(teL, l)
			}
		}
		var trE, teE []advEvent
		for _, e := range events {
			if e.unix < cut[e.cust] {
				trE = append(trE, e)
			} else {
				teE = append(teE, e)
			}
		}
		s, err := evaluate.LastOrderSplit(ctx, src)
		advCheckSplit(t, fmt.Sprintf("trial %d", trial), src, s, err, trL, trE, teL, teE, time.Time{})
		if t.Failed() {
			return
		}
	}
}

// advUnits lists each customer's interactions in History order (lines of
// the customer's orders, then events), the order ChronoSplit and
// StratifiedSplit document.
type advUnit struct {
	line  *advLine
	event *advEvent
	unix  int64
	prod  string
}

func advUnits(h *affinity.History) map[string][]advUnit {
	out := map[string][]advUnit{}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		key := h.CustomerKey(c)
		olo, ohi := h.CustomerOrders(c)
		for o := olo; o < ohi; o++ {
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				l := h.Line(i)
				al := &advLine{cust: key, order: h.OrderKey(o), prod: h.Catalog().ProductKey(l.Product), unix: h.OrderUnix(o), qty: l.Quantity, price: l.Price}
				out[key] = append(out[key], advUnit{line: al, unix: al.unix, prod: al.prod})
			}
		}
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			ae := &advEvent{cust: key, prod: h.Catalog().ProductKey(e.Product), unix: e.Unix, kind: e.Kind, weight: e.Weight}
			out[key] = append(out[key], advUnit{event: ae, unix: ae.unix, prod: ae.prod})
		}
	}
	return out
}

// advTrainCount is how many of n ranked interactions train: j/n ≤ ratio.
func advTrainCount(n int, ratio float64) int {
	c := 0
	for j := 1; j <= n; j++ {
		if float64(j)/float64(n) <= ratio {
			c++
		}
	}
	return c
}

func advAnonymous(lines []advLine) []advLine {
	var out []advLine
	for _, l := range lines {
		if l.cust == "" {
			out = append(out, l)
		}
	}
	return out
}

func TestAdversarialChronoSplitMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range testdata.Scale(300, 60) {
		src, lines, _ := advSource(t, rng)
		ratio := []float64{0, 0.5, 0.75, 0.2, 0.9, 1.0 / 3}[rng.IntN(6)]
		trL := advAnonymous(lines)
		var trE, teE []advEvent
		var teL []advLine
		for _, us := range advUnits(src) {
			slices.SortStableFunc(us, func(a, b advUnit) int { return cmp.Compare(a.unix, b.unix) })
			n := advTrainCount(len(us), cmp.Or(ratio, 0.75))
			for j, u := range us {
				switch {
				case u.line != nil && j < n:
					trL = append(trL, *u.line)
				case u.line != nil:
					teL = append(teL, *u.line)
				case j < n:
					trE = append(trE, *u.event)
				default:
					teE = append(teE, *u.event)
				}
			}
		}
		s, err := evaluate.ChronoSplit(ctx, src, evaluate.SplitOptions{Ratio: ratio})
		advCheckSplit(t, fmt.Sprintf("trial %d ratio %v", trial, ratio), src, s, err, trL, trE, teL, teE, time.Time{})
		if t.Failed() {
			return
		}
	}
}

func TestAdversarialStratifiedSplitProperties(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range testdata.Scale(200, 40) {
		src, lines, events := advSource(t, rng)
		opts := evaluate.SplitOptions{Ratio: []float64{0, 0.5, 0.8, 1.0 / 3}[rng.IntN(4)], By: evaluate.Stratum(rng.IntN(2)), Seed: rng.Uint64()}
		name := fmt.Sprintf("trial %d %+v", trial, opts)
		s, err := evaluate.StratifiedSplit(ctx, src, opts)
		if err != nil {
			require.ErrorIs(t, err, evaluate.ErrEmptySplit, name)
			continue
		}
		again, err := evaluate.StratifiedSplit(ctx, src, opts)
		require.NoError(t, err, name)
		trL, trE := advDump(s.Train)
		teL, teE := advDump(s.Test)
		aL, aE := advDump(again.Train)
		assert.Equal(t, trL, aL, "%s: same seed, same split", name)
		assert.Equal(t, trE, aE, "%s: same seed, same split", name)
		// a partition of the source
		allL := append(slices.Clone(trL), teL...)
		allE := append(slices.Clone(trE), teE...)
		slices.SortFunc(allL, advCmpLine)
		slices.SortFunc(allE, advCmpEvent)
		wl, we := advDump(advBuild(t, src.Catalog(), lines, events))
		assert.Equal(t, wl, allL, "%s: lines partitioned", name)
		assert.Equal(t, we, allE, "%s: events partitioned", name)
		// anonymous orders train
		assert.Empty(t, advAnonymous(teL), "%s: anonymous orders train", name)
		// per stratum, exactly the documented count trains
		stratum := func(cust, prod string) string {
			if opts.By == evaluate.ByProduct {
				return prod
			}
			return cust
		}
		total, train := map[string]int{}, map[string]int{}
		for _, us := range advUnits(src) {
			for _, u := range us {
				var c string
				if u.line != nil {
					c = stratum(u.line.cust, u.prod)
				} else {
					c = stratum(u.event.cust, u.prod)
				}
				total[c]++
			}
		}
		for _, l := range trL {
			if l.cust != "" {
				train[stratum(l.cust, l.prod)]++
			}
		}
		for _, e := range trE {
			train[stratum(e.cust, e.prod)]++
		}
		for c, n := range total {
			assert.Equal(t, advTrainCount(n, cmp.Or(opts.Ratio, 0.75)), train[c], "%s: stratum %s of %d", name, c, n)
		}
		assert.True(t, s.AsOf.Equal(s.Train.Latest()), name)
		if t.Failed() {
			return
		}
	}
}

func TestAdversarialLeaveOneOutSplitProperties(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range testdata.Scale(200, 40) {
		src, lines, events := advSource(t, rng)
		opts := evaluate.SplitOptions{Ratio: []float64{0, 0.5, 0.2}[rng.IntN(3)], Seed: rng.Uint64()}
		name := fmt.Sprintf("trial %d %+v", trial, opts)
		// eligible baskets: orders with ≥ 2 distinct bought products
		basket := map[string][]advLine{}
		for _, l := range lines {
			basket[l.order] = append(basket[l.order], l)
		}
		eligible := 0
		for _, ls := range basket {
			ps := map[string]bool{}
			for _, l := range ls {
				if l.qty > 0 {
					ps[l.prod] = true
				}
			}
			if len(ps) >= 2 {
				eligible++
			}
		}
		nTest := eligible - advTrainCount(eligible, cmp.Or(opts.Ratio, 0.75))
		s, err := evaluate.LeaveOneOutSplit(ctx, src, opts)
		if nTest == 0 {
			require.ErrorIs(t, err, evaluate.ErrEmptySplit, name)
			continue
		}
		require.NoError(t, err, name)
		again, err := evaluate.LeaveOneOutSplit(ctx, src, opts)
		require.NoError(t, err, name)
		trL, trE := advDump(s.Train)
		teL, teE := advDump(s.Test)
		aL, _ := advDump(again.Test)
		assert.Equal(t, teL, aL, "%s: same seed, same split", name)
		assert.Empty(t, teE, "%s: events train", name)
		_, we := advDump(advBuild(t, src.Catalog(), lines, events))
		assert.Equal(t, we, trE, "%s: events train", name)
		held := map[string]string{}   // order key -> held product
		pseudo := map[string]string{} // order key -> pseudo-customer
		owner := map[string]string{}  // pseudo-customer -> order key
		for _, l := range teL {
			require.True(t, len(l.cust) > len(evaluate.BasketPrefix) && l.cust[:len(evaluate.BasketPrefix)] == evaluate.BasketPrefix, "%s: test customer %q", name, l.cust)
			key := l.order // advGen's order keys are unique across customers
			if p, ok := held[key]; ok {
				assert.Equal(t, p, l.prod, "%s: one held product per basket", name)
				assert.Equal(t, pseudo[key], l.cust, "%s: one pseudo-customer per basket", name)
			}
			if o, ok := owner[l.cust]; ok {
				assert.Equal(t, o, key, "%s: one basket per pseudo-customer", name)
			}
			held[key], pseudo[key], owner[l.cust] = l.prod, l.cust, key
			assert.Positive(t, l.qty, name)
		}
		assert.Len(t, held, nTest, "%s: test baskets", name)
		// expected training side: untouched baskets whole; test baskets
		// under the pseudo-customer without the held product
		var wantTr []advLine
		for key, ls := range basket {
			p, isTest := held[key]
			for _, l := range ls {
				switch {
				case !isTest:
					wantTr = append(wantTr, l)
				case l.prod != p:
					l.cust = pseudo[key]
					wantTr = append(wantTr, l)
				}
			}
			if isTest {
				var wantTe []advLine
				for _, l := range ls {
					if l.prod == p && l.qty > 0 {
						l.cust = pseudo[key]
						wantTe = append(wantTe, l)
					}
				}
				var gotTe []advLine
				for _, l := range teL {
					if l.cust == pseudo[key] {
						gotTe = append(gotTe, l)
					}
				}
				slices.SortFunc(wantTe, advCmpLine)
				assert.Equal(t, wantTe, gotTe, "%s: basket %s test lines", name, key)
			}
		}
		wl, _ := advDump(advBuild(t, src.Catalog(), wantTr, nil))
		assert.Equal(t, wl, trL, "%s: training lines", name)
		if t.Failed() {
			return
		}
	}
}

func TestAdversarialDefaultCutoffMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for trial := range testdata.Scale(300, 60) {
		src, lines, events := advSource(t, rng)
		var times []int64
		seen := map[string]bool{}
		for _, l := range lines {
			if l.cust != "" && !seen[l.order] {
				seen[l.order] = true
				times = append(times, l.unix)
			}
		}
		if len(times) == 0 {
			for _, e := range events {
				times = append(times, e.unix)
			}
		}
		var want time.Time
		if len(times) > 0 {
			slices.Sort(times)
			q := time.Unix(times[min(len(times)-1, len(times)*8/10)], 0).UTC()
			want = time.Date(q.Year(), q.Month(), q.Day(), 0, 0, 0, 0, time.UTC)
		}
		got := evaluate.DefaultCutoff(src)
		assert.True(t, want.Equal(got), "trial %d: DefaultCutoff %v, want %v", trial, got, want)
	}
	assert.True(t, evaluate.DefaultCutoff(nil).IsZero())
}

// ---------------------------------------------------------------- baselines

// advRanked ranks product keys by count (highest first, ties by product id
// of h), positive counts only, and keeps the first k not excluded.
func advRanked(h *affinity.History, count map[string]int, tie func(a, b string) int, k int, exclude func(string) bool) []string {
	var out []string
	for p, n := range count {
		if n > 0 {
			out = append(out, p)
		}
	}
	id := func(p string) affinity.ProductID {
		q, _ := h.Catalog().LookupProduct(p)
		return q
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), tie(a, b), cmp.Compare(id(a), id(b)))
	})
	out = slices.DeleteFunc(out, exclude)
	return out[:min(k, len(out))]
}

func TestAdversarialPopularMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(31, 32))
	for trial := range testdata.Scale(200, 40) {
		lines, events := advGen(rng, "c", 3+rng.IntN(10), advProducts("p", 3+rng.IntN(10)), advT0.Unix(), 6, true)
		h := advBuildStaged(t, rng, []string{"catalog-only"}, lines, events)
		// asOf at or after the end of training, as in Evaluate;
		// TestAdversarialPopularWindowIgnoresLaterInteractions has the
		// interactions after asOf
		asOf := h.Latest().Add(time.Duration(rng.IntN(3*24*2)) * 30 * time.Minute)
		window := []time.Duration{0, 24 * time.Hour, 36 * time.Hour, 72*time.Hour + time.Second}[rng.IntN(4)]
		in := func(unix int64) bool {
			at := time.Unix(unix, 0)
			return window == 0 || (at.After(asOf.Add(-window)) && !at.After(asOf))
		}
		buyers := map[string]map[string]bool{}
		mark := func(p, c string) {
			if buyers[p] == nil {
				buyers[p] = map[string]bool{}
			}
			buyers[p][c] = true
		}
		for _, l := range lines {
			if l.qty > 0 && in(l.unix) {
				if l.cust == "" {
					mark(l.prod, "anonymous order "+l.order) // each anonymous order is one more buyer
				} else {
					mark(l.prod, l.cust)
				}
			}
		}
		for _, e := range events {
			if e.kind == affinity.Rating && in(e.unix) {
				mark(e.prod, e.cust)
			}
		}
		count := map[string]int{}
		for p, cs := range buyers {
			count[p] = len(cs)
		}
		b := &evaluate.Popular{Window: window}
		require.NoError(t, b.Fit(ctx, h, asOf))
		k := 1 + rng.IntN(8)
		excluded := map[string]bool{fmt.Sprint("p", rng.IntN(4)): true}
		got := keys(h, b.Recommend(nil, 0, k, func(p affinity.ProductID) bool { return excluded[h.Catalog().ProductKey(p)] }))
		want := advRanked(h, count, func(string, string) int { return 0 }, k, func(p string) bool { return excluded[p] })
		if len(want) == 0 {
			want = []string{}
		}
		assert.Equal(t, want, got, "trial %d: asOf %v window %v k %d", trial, asOf, window, k)
		if t.Failed() {
			return
		}
	}
}

// TestAdversarialPopularWindowIgnoresLaterInteractions: Popular.Window
// counts interactions in (asOf-Window, asOf] only; a purchase after asOf
// is outside.
func TestAdversarialPopularWindowIgnoresLaterInteractions(t *testing.T) {
	asOf := advT0.Add(12 * time.Hour)
	h := advBuild(t, nil, []advLine{
		{cust: "a", order: "a1", prod: "inside", unix: asOf.Unix() - 3600, qty: 1, price: 1},
		{cust: "b", order: "b1", prod: "later", unix: asOf.Unix() + 3600, qty: 1, price: 1},
		{cust: "c", order: "c1", prod: "later", unix: asOf.Unix() + 7200, qty: 1, price: 1},
	}, nil)
	b := &evaluate.Popular{Window: 24 * time.Hour}
	require.NoError(t, b.Fit(context.Background(), h, asOf))
	got := keys(h, b.Recommend(nil, 0, 5, nil))
	assert.Equal(t, []string{"inside"}, got, "Window counts (asOf-Window, asOf] = (%v, %v]", asOf.Add(-24*time.Hour), asOf)
}

func TestAdversarialRepeatMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(33, 34))
	for trial := range testdata.Scale(200, 40) {
		lines, events := advGen(rng, "c", 3+rng.IntN(10), advProducts("p", 3+rng.IntN(10)), advT0.Unix(), 6, true)
		h := advBuildStaged(t, rng, nil, lines, events)
		b := &evaluate.Repeat{}
		require.NoError(t, b.Fit(ctx, h, h.Latest()))
		for c := range affinity.CustomerID(h.NumCustomers()) {
			cust := h.CustomerKey(c)
			count := map[string]int{}
			last := map[string]int64{}
			perOrder := map[string]bool{}
			for _, l := range lines {
				if l.cust == cust && l.qty > 0 && !perOrder[l.order+"\x00"+l.prod] {
					perOrder[l.order+"\x00"+l.prod] = true // once per order
					count[l.prod]++
					last[l.prod] = max(last[l.prod], l.unix)
				}
			}
			for _, e := range events {
				if e.cust == cust && e.kind == affinity.Rating {
					count[e.prod]++
					last[e.prod] = max(last[e.prod], e.unix)
				}
			}
			k := 1 + rng.IntN(6)
			want := advRanked(h, count, func(a, b string) int { return cmp.Compare(last[b], last[a]) }, k, func(string) bool { return false })
			got := keys(h, b.Recommend(nil, c, k, nil))
			if len(want) == 0 {
				want = []string{}
			}
			assert.Equal(t, want, got, "trial %d customer %s k %d", trial, cust, k)
		}
		if t.Failed() {
			return
		}
	}
}

func TestAdversarialRandomProperties(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(35, 36))
	for trial := range testdata.Scale(100, 20) {
		lines, events := advGen(rng, "c", 3+rng.IntN(10), advProducts("p", 3+rng.IntN(10)), advT0.Unix(), 6, false)
		h := advBuildStaged(t, rng, []string{"catalog-only"}, lines, events)
		active := map[string]bool{} // bought or rated in training
		for _, l := range lines {
			if l.qty > 0 {
				active[l.prod] = true
			}
		}
		for _, e := range events {
			if e.kind == affinity.Rating {
				active[e.prod] = true
			}
		}
		b := &evaluate.Random{Seed: uint64(trial)}
		require.NoError(t, b.Fit(ctx, h, h.Latest()))
		excluded := fmt.Sprint("p", rng.IntN(3))
		exclude := func(p affinity.ProductID) bool { return h.Catalog().ProductKey(p) == excluded }
		for c := range affinity.CustomerID(h.NumCustomers()) {
			k := 1 + rng.IntN(15)
			got := keys(h, b.Recommend(nil, c, k, exclude))
			again := keys(h, b.Recommend([]affinity.ProductID{0}, c, k, exclude))
			name := fmt.Sprintf("trial %d customer %d k %d", trial, c, k)
			assert.Equal(t, got, again[1:], "%s: same list whatever came before", name)
			pool := len(active)
			if active[excluded] {
				pool--
			}
			assert.Len(t, got, min(k, pool), name)
			seen := map[string]bool{}
			for _, p := range got {
				assert.True(t, active[p], "%s: %s has no interaction", name, p)
				assert.NotEqual(t, excluded, p, name)
				assert.False(t, seen[p], "%s: %s twice", name, p)
				seen[p] = true
			}
		}
		if t.Failed() {
			return
		}
	}
}

func TestAdversarialSegmentPopularMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(37, 38))
	paths := []string{"A/x", "A/y", "B/z", "C", "A/x/deep"}
	for trial := range testdata.Scale(200, 40) {
		prods := advProducts("p", 3+rng.IntN(10))
		lines, events := advGen(rng, "c", 3+rng.IntN(12), prods, advT0.Unix(), 12, true)
		withCats := trial%3 != 0
		var b affinity.Builder
		for _, p := range prods {
			var cats []string
			if withCats {
				for range rng.IntN(3) {
					cats = append(cats, paths[rng.IntN(len(paths))])
				}
			}
			require.NoError(t, b.AddProduct(affinity.Product{Key: p, Categories: cats}))
		}
		for _, l := range lines {
			require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: time.Unix(l.unix, 0), Quantity: l.qty, Price: l.price}))
		}
		for _, e := range events {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: time.Unix(e.unix, 0), Kind: e.kind, Weight: e.weight}))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		cat := h.Catalog()
		id := func(p string) affinity.ProductID { q, _ := cat.LookupProduct(p); return q }
		depth := rng.IntN(3)
		// each customer's distinct products and interaction times
		custProds := map[string]map[string]bool{}
		custTimes := map[string]map[int64]bool{}
		touch := func(c, p string, unix int64) {
			if custProds[c] == nil {
				custProds[c], custTimes[c] = map[string]bool{}, map[int64]bool{}
			}
			custProds[c][p], custTimes[c][unix] = true, true
		}
		global := map[string]int{}
		anon := map[string]map[string]bool{}
		for _, l := range lines {
			switch {
			case l.qty <= 0:
			case l.cust == "":
				if anon[l.order] == nil {
					anon[l.order] = map[string]bool{}
				}
				anon[l.order][l.prod] = true
			default:
				touch(l.cust, l.prod, l.unix)
			}
		}
		for _, e := range events {
			if e.kind == affinity.Rating {
				touch(e.cust, e.prod, e.unix)
			}
		}
		for _, ps := range custProds {
			for p := range ps {
				global[p]++
			}
		}
		for _, ps := range anon {
			for p := range ps {
				global[p]++
			}
		}
		segOf := map[string]string{}
		for c, ps := range custProds {
			if cat.NumCategories() == 0 {
				n := len(custTimes[c])
				segOf[c] = fmt.Sprint("band", boolInt(n > 1)+boolInt(n > 3)+boolInt(n > 7)) // 1, 2–3, 4–7, 8+
				continue
			}
			sorted := make([]string, 0, len(ps))
			for p := range ps {
				sorted = append(sorted, p)
			}
			slices.SortFunc(sorted, func(a, b string) int { return cmp.Compare(id(a), id(b)) })
			w := map[affinity.CategoryID]float32{}
			for _, p := range sorted {
				for _, sh := range cat.Shares(id(p)) {
					if cat.Depth(sh.Category) == max(depth, 1) {
						w[sh.Category] += sh.Weight
					}
				}
			}
			best, found := affinity.CategoryID(0), false
			for cid, x := range w {
				if !found || x > w[best] || (x == w[best] && cid < best) {
					best, found = cid, true
				}
			}
			if found {
				segOf[c] = fmt.Sprint("cat", best)
			}
		}
		segCount := map[string]map[string]int{}
		for c, s := range segOf {
			if segCount[s] == nil {
				segCount[s] = map[string]int{}
			}
			for p := range custProds[c] {
				segCount[s][p]++
			}
		}
		r := &evaluate.SegmentPopular{Depth: depth}
		require.NoError(t, r.Fit(ctx, h, h.Latest()))
		noTie := func(string, string) int { return 0 }
		for c := range affinity.CustomerID(h.NumCustomers()) {
			key := h.CustomerKey(c)
			k := 1 + rng.IntN(8)
			excluded := fmt.Sprint("p", rng.IntN(3))
			ex := func(p string) bool { return p == excluded }
			var want []string
			if s, ok := segOf[key]; ok {
				want = advRanked(h, segCount[s], noTie, k, ex)
			}
			for _, p := range advRanked(h, global, noTie, len(prods), ex) {
				if len(want) < k && !slices.Contains(want, p) {
					want = append(want, p)
				}
			}
			if want == nil {
				want = []string{}
			}
			got := keys(h, r.Recommend(nil, c, k, func(p affinity.ProductID) bool { return ex(cat.ProductKey(p)) }))
			assert.Equal(t, want, got, "trial %d (categories %v, depth %d) customer %s segment %q k %d", trial, withCats, depth, key, segOf[key], k)
		}
		if t.Failed() {
			return
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAdversarialRepeatNothingNew: the doc of Repeat says it recommends
// nothing new, so that its explore metrics are zero, and nothing at all
// with ExcludeSeen, whatever Options.Events selects.
func TestAdversarialRepeatNothingNew(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(39, 40))
	eventSets := [][]affinity.EventKind{nil, {affinity.Rating, affinity.View}, {}, {affinity.Cart}}
	for trial := range testdata.Scale(200, 40) {
		s, _, _, _, _ := advEvalSplit(t, rng)
		opts := evaluate.Options{K: 1 + rng.IntN(10), ExcludeSeen: trial%2 == 1, Events: eventSets[trial%len(eventSets)]}
		rep, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{&evaluate.Repeat{}}, opts)
		require.NoError(t, err)
		name := fmt.Sprintf("trial %d %+v", trial, opts)
		ex := rep.Rows[0].Metrics[evaluate.ExploreItems]
		assert.Zero(t, ex.HitRate, "%s: explore hit rate of repeat", name)
		if opts.ExcludeSeen {
			all := rep.Rows[0].Metrics[evaluate.AllItems]
			assert.Zero(t, all.Coverage, "%s: repeat lists nothing with ExcludeSeen", name)
			assert.Zero(t, all.Precision, "%s: repeat lists nothing with ExcludeSeen", name)
		}
		if t.Failed() {
			return
		}
	}
}

// TestAdversarialRepeatRatedNotSeen is the minimal case: with Events
// not listing ratings, a product rated in training and bought in test
// is an explore item, and Repeat recommends it.
func TestAdversarialRepeatRatedNotSeen(t *testing.T) {
	train := advBuild(t, nil, []advLine{{cust: "a", order: "a1", prod: "bought", unix: advT0.Unix(), qty: 1, price: 1}},
		[]advEvent{{cust: "a", prod: "rated", unix: advT0.Unix(), kind: affinity.Rating, weight: 5}})
	test := advBuild(t, nil, []advLine{{cust: "a", order: "a2", prod: "rated", unix: advT0.Unix() + 86400, qty: 1, price: 1}}, nil)
	s := &evaluate.Split{Train: train, Test: test, AsOf: advT0.Add(time.Hour)}
	for _, tc := range []struct {
		name   string
		events []affinity.EventKind
	}{{"no events", []affinity.EventKind{}}, {"carts only", []affinity.EventKind{affinity.Cart}}} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{&evaluate.Repeat{}}, evaluate.Options{K: 2, Events: tc.events, ExcludeSeen: true})
			require.NoError(t, err)
			assert.Zero(t, rep.Rows[0].Metrics[evaluate.ExploreItems].HitRate, "repeat's explore metrics are documented as zero")
			assert.Zero(t, rep.Rows[0].Metrics[evaluate.AllItems].Precision, "repeat with ExcludeSeen is documented to recommend nothing")
		})
	}
}

// TestAdversarialShippedRecommendersKeepTheContract runs the package's
// recommenders on the adversarial splits: valid lists (Evaluate checks
// them), no NaN, and Recommend appends to dst without touching it and
// independently of it.
func TestAdversarialShippedRecommendersKeepTheContract(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(41, 42))
	for trial := range testdata.Scale(60, 8) {
		s, _, _, _, _ := advEvalSplit(t, rng)
		recs := append(evaluate.Baselines(uint64(trial)), &evaluate.ItemNeighbors{}, &evaluate.ItemNeighbors{BasketScope: true, HalfLife: 48 * time.Hour},
			&evaluate.EASE{}, &evaluate.TIFUKNN{})
		opts := evaluate.Options{K: 1 + rng.IntN(12), CurveK: rng.IntN(4), ExcludeSeen: trial%2 == 0, Workers: 2}
		name := fmt.Sprintf("trial %d %+v", trial, opts)
		rep, err := evaluate.Evaluate(ctx, s, recs, opts)
		require.NoError(t, err, name)
		for _, row := range rep.Rows {
			for it := range evaluate.Items(3) {
				for metric := evaluate.Precision; metric <= evaluate.Novelty; metric++ {
					v := row.Metrics[it].Value(metric)
					assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s %s %v %v = %v", name, row.Name, it, metric, v)
				}
			}
		}
		prefix := []affinity.ProductID{0, 0, 1}
		for _, r := range recs {
			for c := range affinity.CustomerID(s.Train.NumCustomers()) {
				k := 1 + rng.IntN(6)
				alone := r.Recommend(nil, c, k, nil)
				after := r.Recommend(slices.Clone(prefix), c, k, nil)
				require.GreaterOrEqual(t, len(after), len(prefix), "%s %s", name, r.Name())
				assert.Equal(t, prefix, after[:len(prefix)], "%s %s: dst kept", name, r.Name())
				assert.Equal(t, keys(s.Train, alone), keys(s.Train, after[len(prefix):]), "%s %s customer %d: list independent of dst", name, r.Name(), c)
			}
		}
		if t.Failed() {
			return
		}
	}
}

func TestAdversarialSplitArguments(t *testing.T) {
	ctx := context.Background()
	src, _, _ := advSource(t, rand.New(rand.NewPCG(43, 44)))
	for _, ratio := range []float64{-0.5, 1, 1.5, math.NaN(), math.Inf(1)} {
		_, err := evaluate.ChronoSplit(ctx, src, evaluate.SplitOptions{Ratio: ratio})
		assert.Error(t, err, "chrono ratio %v", ratio)
		_, err = evaluate.StratifiedSplit(ctx, src, evaluate.SplitOptions{Ratio: ratio})
		assert.Error(t, err, "stratified ratio %v", ratio)
		_, err = evaluate.LeaveOneOutSplit(ctx, src, evaluate.SplitOptions{Ratio: ratio})
		assert.Error(t, err, "leave-one-out ratio %v", ratio)
	}
	_, err := evaluate.TemporalSplit(ctx, src, time.Time{})
	assert.Error(t, err, "zero cutoff")
	_, err = evaluate.TemporalSplit(ctx, nil, advT0)
	assert.Error(t, err, "nil History")
	_, err = evaluate.LastOrderSplit(ctx, nil)
	assert.Error(t, err, "nil History")
	// a cutoff before or after everything leaves a side empty
	_, err = evaluate.TemporalSplit(ctx, src, advT0.AddDate(-1, 0, 0))
	assert.ErrorIs(t, err, evaluate.ErrEmptySplit)
	_, err = evaluate.TemporalSplit(ctx, src, advT0.AddDate(1, 0, 0))
	assert.ErrorIs(t, err, evaluate.ErrEmptySplit)
}

func TestAdversarialMarkdownAndNames(t *testing.T) {
	for m := evaluate.Precision; m <= evaluate.Novelty; m++ {
		got, err := evaluate.ParseMetric(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	_, err := evaluate.ParseMetric("Precision")
	assert.Error(t, err)
	rep := &evaluate.Report{K: 7, Rows: []evaluate.Row{
		{Name: "a", Metrics: [3]evaluate.Metrics{{Users: 2, Precision: 1.0 / 3, Coverage: 0.5}, {}, {Users: 1, HitRate: 1}}},
	}}
	var buf strings.Builder
	require.NoError(t, rep.WriteMarkdown(&buf, evaluate.AllItems, evaluate.Precision, evaluate.Coverage))
	assert.Equal(t, "| recommender | precision@7 | coverage |\n|---|---:|---:|\n| a | 0.3333 | 0.5000 |\n", buf.String())
	buf.Reset()
	require.NoError(t, rep.WriteMarkdown(&buf, evaluate.RepeatItems, evaluate.HitRate))
	assert.Equal(t, "| recommender | hit@7 |\n|---|---:|\n| a | - |\n", buf.String())
}

// TestAdversarialLeaveOneOutSharedOrderKeys: order ids are scoped by
// customer (affinity.Purchase.Order), so two customers may both have an
// order "1001". Each test basket must still be its own test case.
func TestAdversarialLeaveOneOutSharedOrderKeys(t *testing.T) {
	var lines []advLine
	for i, c := range []string{"a", "b", "c", "d"} {
		for _, p := range []string{"p", "q", "r"} {
			lines = append(lines, advLine{cust: c, order: "1001", prod: p, unix: advT0.Unix() + int64(i), qty: 1, price: 1})
		}
	}
	src := advBuild(t, nil, lines, nil)
	require.Equal(t, 4, src.NumOrders())
	s, err := evaluate.LeaveOneOutSplit(context.Background(), src, evaluate.SplitOptions{Ratio: 0.25, Seed: 1})
	require.NoError(t, err)
	// 4 eligible baskets, j/4 ≤ 0.25 for one: three test cases
	teL, _ := advDump(s.Test)
	held := map[string][]string{}
	for _, l := range teL {
		held[l.cust] = append(held[l.cust], l.prod)
	}
	assert.Equal(t, 3, s.Test.NumCustomers(), "one pseudo-customer per test basket; held items by pseudo-customer: %v", held)
	for c, ps := range held {
		assert.Len(t, ps, 1, "pseudo-customer %s holds one item", c)
	}
}

// TestAdversarialRecommendKZero: Recommend appends at most k products;
// with k = 0 it must append nothing, leave dst alone and not panic.
func TestAdversarialRecommendKZero(t *testing.T) {
	ctx := context.Background()
	s, _, _, _, _ := advEvalSplit(t, rand.New(rand.NewPCG(45, 46)))
	recs := append(evaluate.Baselines(1), &evaluate.ItemNeighbors{}, &evaluate.EASE{}, &evaluate.TIFUKNN{})
	for _, r := range recs {
		t.Run(r.Name(), func(t *testing.T) {
			require.NoError(t, r.Fit(ctx, s.Train, s.AsOf))
			for c := range affinity.CustomerID(s.Train.NumCustomers()) {
				for _, prefix := range [][]affinity.ProductID{nil, {0}} {
					var got []affinity.ProductID
					require.NotPanics(t, func() { got = r.Recommend(slices.Clone(prefix), c, 0, nil) }, "customer %d, dst %v", c, prefix)
					assert.Equal(t, prefix, got, "customer %d: k = 0 appends nothing to %v", c, prefix)
				}
			}
		})
	}
}

// TestAdversarialRecommendKZeroKeepsDst: with k = 0 and a non-empty dst,
// the neighbour scorers must not overwrite the caller's entries.
func TestAdversarialRecommendKZeroKeepsDst(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "shelf"})) // no interactions: score 0
	for _, l := range []struct{ cust, prod string }{{"a", "x"}, {"a", "y"}, {"b", "x"}, {"b", "y"}, {"b", "z"}} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.cust + "1", Time: advT0, Quantity: 1, Price: 1}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	shelf, _ := h.Catalog().LookupProduct("shelf")
	a, _ := h.LookupCustomer("a")
	for _, r := range []evaluate.Recommender{&evaluate.ItemNeighbors{}, &evaluate.EASE{}} {
		t.Run(r.Name(), func(t *testing.T) {
			require.NoError(t, r.Fit(context.Background(), h, h.Latest()))
			var got []affinity.ProductID
			require.NotPanics(t, func() { got = r.Recommend([]affinity.ProductID{shelf}, a, 0, nil) })
			assert.Equal(t, []string{"shelf"}, keys(h, got), "k = 0: dst returned as given")
		})
	}
}

// TestAdversarialItemNeighborsAffinityPerOrder: ItemNeighbors' affinity
// a(j) is "1 per order with j" — an order with two lines of j counts once.
// The ranking must follow Σ_j a(j)·sim(j, i) on the index the doc
// describes (co-occurrences within customers, or orders with BasketScope).
func TestAdversarialItemNeighborsAffinityPerOrder(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(47, 48))
	for trial := range testdata.Scale(100, 25) {
		lines, _ := advGen(rng, "c", 4+rng.IntN(10), advProducts("p", 4+rng.IntN(8)), advT0.Unix(), 6, false)
		h := advBuildStaged(t, rng, nil, lines, nil) // purchases only: no rating data
		basket := trial%2 == 1
		r := &evaluate.ItemNeighbors{BasketScope: basket}
		asOf := h.Latest()
		require.NoError(t, r.Fit(ctx, h, asOf))
		scope := similarity.Customer
		if basket {
			scope = similarity.Basket
		}
		counts, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: scope})
		require.NoError(t, err)
		idx, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{K: evaluate.DefaultNeighbors, MinSupport: 1})
		require.NoError(t, err)
		for c := range affinity.CustomerID(h.NumCustomers()) {
			cust := h.CustomerKey(c)
			a := map[affinity.ProductID]float64{}
			perOrder := map[string]bool{}
			for _, l := range lines {
				if l.cust == cust && l.qty > 0 && !perOrder[l.order+"\x00"+l.prod] {
					perOrder[l.order+"\x00"+l.prod] = true
					p, _ := h.Catalog().LookupProduct(l.prod)
					a[p]++
				}
			}
			score := map[affinity.ProductID]float64{}
			for j, w := range a {
				for _, nb := range idx.Neighbors(j) {
					score[nb.Product] += w * float64(nb.Score)
				}
			}
			var want []affinity.ProductID
			for p, v := range score {
				if v > 1e-9 {
					want = append(want, p)
				}
			}
			slices.SortFunc(want, func(x, y affinity.ProductID) int {
				if math.Abs(score[x]-score[y]) > 1e-9 {
					return cmp.Compare(score[y], score[x])
				}
				return cmp.Compare(x, y)
			})
			k := 1 + rng.IntN(6)
			want = want[:min(k, len(want))]
			got := r.Recommend(nil, c, k, nil)
			name := fmt.Sprintf("trial %d (basket %v) customer %s k %d: affinities per order %v, got ids %v want ids %v", trial, basket, cust, k, a, got, want)
			require.Len(t, got, len(want), name)
			for i := range got {
				assert.InDelta(t, score[want[i]], score[got[i]], 1e-9, "%s: rank %d: got %v, want %v (scores %v)", name, i+1, keys(h, got), keys(h, want), score)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestAdversarialItemNeighborsTwoLinesOneOrder is the minimal case: a
// customer bought x in one order (on two lines) and y in another; x and y
// have one neighbour each with the same Jaccard score, 1/2. With a(x) =
// a(y) = 1 (one order each) the two neighbours tie and go by id.
func TestAdversarialItemNeighborsTwoLinesOneOrder(t *testing.T) {
	var b affinity.Builder
	for _, p := range []string{"i1", "i2", "x", "y"} {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p}))
	}
	add := func(cust, order, prod string) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: prod, Order: order, Time: advT0, Quantity: 1, Price: 1}))
	}
	add("a", "a1", "x")
	add("a", "a1", "x") // a second line of x in the same order
	add("a", "a2", "y")
	add("b", "b1", "x")
	add("b", "b1", "i2")
	add("c", "c1", "y")
	add("c", "c1", "i1")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	r := &evaluate.ItemNeighbors{}
	require.NoError(t, r.Fit(context.Background(), h, h.Latest()))
	a, _ := h.LookupCustomer("a")
	got := keys(h, r.Recommend(nil, a, 2, nil))
	assert.Equal(t, []string{"i1", "i2"}, got, "score(i1) = a(y)·1/2 = score(i2) = a(x)·1/2 with a = 1 per order: tie, by id")
}
