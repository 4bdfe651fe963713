package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
)

// Recommender is a model that is fitted on the training side of a [Split]
// and then ranks products for the customers of that training History.
//
// Evaluate calls Fit once, then Recommend once per evaluated customer, all
// from one goroutine (other recommenders run on other goroutines at the
// same time); a Recommender value is not used by two evaluations at the
// same time.
type Recommender interface {
	// Name is the row label in a [Report]. The baselines use the reserved
	// names "popular", "segment-popular", "repeat" and "random"; other
	// recommenders must not use them.
	Name() string
	// Fit trains the model on train as of asOf, the end of the training
	// period (see [Split.AsOf]). A later Fit replaces what an earlier one
	// learned, even when it fails. Evaluate never calls Recommend after a
	// failed Fit; the package's recommenders then return dst unchanged
	// until a Fit succeeds.
	Fit(ctx context.Context, train *affinity.History, asOf time.Time) error
	// Recommend appends to dst at most k distinct products (ids of the
	// training History's catalog) for customer c (an id of the training
	// History), best first, and returns the extended slice; with k ≤ 0 it
	// returns dst unchanged. The products already in dst are never
	// changed. When exclude is not nil, no product p with exclude(p) may be
	// returned. A customer the model knows nothing about gets what the
	// model gives anybody (or nothing).
	Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID
}

// MAPNorm is the denominator of average precision, see [ScoreList].
type MAPNorm int

const (
	// MAPByRelevant divides the sum of precisions at the hit ranks by the
	// number of relevant items |R|, as microsoft/recommenders' `map` does
	// (and as its `map_at_k` did when its published benchmark tables were
	// made). It is the default, so that our numbers can be set beside
	// those tables.
	MAPByRelevant MAPNorm = iota
	// MAPByMinKRelevant divides by min(k, |R|), as the current `map_at_k`
	// of microsoft/recommenders and Spark's meanAveragePrecisionAt do.
	MAPByMinKRelevant
)

// String returns "relevant" or "min(k,relevant)".
func (n MAPNorm) String() string {
	if n == MAPByMinKRelevant {
		return "min(k,relevant)"
	}
	return "relevant"
}

// MaxK is the largest Options.K and Options.CurveK: lists longer than a
// thousand products measure nothing a shop shows.
const MaxK = 1000

// Options configures [Evaluate]. The zero value means the defaults.
type Options struct {
	// K is the cutoff of the ranked lists, at most [MaxK]; 0 means 10, and
	// a negative K is an error.
	K int
	// CurveK, when positive, also computes every metric at K = 1 … CurveK
	// (for [Report.WriteChart]). When CurveK > K, recommenders are asked
	// for CurveK products in a second pass, so that the metrics at K are
	// those of K-product lists whatever CurveK (a recommender's first K
	// of CurveK need not be its K); the curve's point at K may then
	// differ from them. At most [MaxK]; negative is an error.
	CurveK int
	// ExcludeSeen removes each customer's training items from their
	// recommendations (the "remove seen" protocol of rating benchmarks).
	// Off by default: in shops, repeat purchases are real demand.
	ExcludeSeen bool
	// MAP chooses the denominator of average precision; default
	// MAPByRelevant.
	MAP MAPNorm
	// Events are the event kinds that make a product relevant in the test
	// History and "seen" in the training History, besides bought lines
	// (positive quantity); nil means [affinity.Rating] only. Views and
	// carts are not purchases and do not count unless listed. [Repeat]
	// learns from the same kinds, so that it lists only seen products. A
	// kind that is not [affinity.EventKind.Valid] is an error.
	Events []affinity.EventKind
	// MinRating, when positive, makes a test rating relevant only when its
	// weight is at least MinRating (e.g. 4 for "liked"); NaN is an error.
	// Training ratings count as seen whatever their value.
	MinRating float32
	// Workers is the number of recommenders fitted and evaluated at the
	// same time (≤ 0: GOMAXPROCS, at most MaxWorkers). The report does not
	// depend on it, apart from the measured times.
	Workers int
	// Progress, when not nil, receives reports of step "evaluate" in
	// units of "customers": the evaluated customers times the
	// recommenders.
	Progress affinity.ProgressFunc
}

// MaxWorkers is the largest Options.Workers.
const MaxWorkers = 1024

func (o Options) withDefaults() Options {
	if o.K <= 0 {
		o.K = 10
	}
	if o.CurveK < 0 {
		o.CurveK = 0
	}
	if o.Events == nil {
		o.Events = []affinity.EventKind{affinity.Rating}
	}
	return o
}

// ErrBadList is returned (wrapped, with the recommender's name) when a
// Recommender returns more than k products, a product twice, a product
// outside the training catalog, or an excluded product.
var ErrBadList = errors.New("evaluate: invalid recommendation list")

// Evaluate fits every recommender on s.Train and measures its top-K lists
// against s.Test (see the package documentation for the protocol and the
// metric definitions). Rows of the [Report] are in the order of recs.
//
// The evaluated customers are the test customers with at least one
// relevant test item who are also customers of s.Train (matched by shop
// key); the others are counted in [Report.ColdUsers]. Time and memory are
// linear in the size of both Histories plus, per recommender, its Fit and
// one Recommend call per evaluated customer. The report keeps, for
// [Report.Compare], each row's list state at K for each customer of each
// [Items] selection (hit count, first hit rank, DCG and the sum of the
// precisions at the hits: 20 bytes, at most 60 per customer and
// recommender, and |R| per customer once): at K only, as the curve's
// cutoffs would multiply it by CurveK, and kept rather than differenced
// while scoring, which would need the pairs named before the evaluation
// and the recommenders scored in step. It returns ctx.Err() (wrapped)
// when ctx is done, and an error wrapping [ErrBadList] when a recommender
// returns an invalid list.
func Evaluate(ctx context.Context, s *Split, recs []Recommender, opts Options) (*Report, error) {
	if err := affinity.CheckContext("evaluate", ctx); err != nil {
		return nil, err
	}
	if s == nil || s.Train == nil || s.Test == nil {
		return nil, affinity.NilArgument("evaluate", "split, or split without train or test History")
	}
	if opts.K > MaxK || opts.CurveK > MaxK || opts.K < 0 || opts.CurveK < 0 {
		return nil, fmt.Errorf("evaluate: K = %d, CurveK = %d: want 0 (the default) to MaxK = %d", opts.K, opts.CurveK, MaxK)
	}
	if opts.Workers > MaxWorkers {
		return nil, fmt.Errorf("evaluate: Workers = %d: at most MaxWorkers = %d", opts.Workers, MaxWorkers)
	}
	if opts.MinRating != opts.MinRating {
		return nil, errors.New("evaluate: MinRating is NaN")
	}
	for _, k := range opts.Events {
		if !k.Valid() {
			return nil, fmt.Errorf("evaluate: Events: unknown event kind %d", uint8(k))
		}
	}
	o := opts.withDefaults()
	names := make(map[string]bool, len(recs))
	for _, r := range recs {
		if isNil(r) {
			return nil, affinity.NilArgument("evaluate", "recommender")
		}
		name := r.Name()
		switch {
		case name == "":
			return nil, errors.New("evaluate: recommender without a name")
		case names[name]:
			return nil, fmt.Errorf("evaluate: two recommenders named %q", name)
		case reservedName(name) && !isBaseline(r):
			return nil, fmt.Errorf("evaluate: recommender name %q uses a baseline's word (popular, repeat, random)", name)
		}
		names[name] = true
	}
	g, err := newGround(ctx, s, o)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Protocol:      s.Protocol,
		AsOf:          s.AsOf,
		K:             o.K,
		CurveK:        o.CurveK,
		ExcludeSeen:   o.ExcludeSeen,
		MAP:           o.MAP,
		Users:         len(g.users),
		ColdUsers:     g.cold,
		TrainProducts: g.nActive,
		scored:        true,
	}
	for _, u := range g.users {
		for it := range numItems {
			if u.nRel[it] > 0 {
				rep.nRel[it] = append(rep.nRel[it], u.nRel[it])
			}
		}
	}
	rep.Rows = make([]Row, len(recs))
	pr := &progress{f: o.Progress, total: int64(len(g.users)) * int64(len(recs))}
	pr.report(0)
	err = parallel.For(ctx, parallel.Workers(o.Workers), len(recs), func(_, i int) error {
		row, err := g.run(ctx, recs[i], o, pr, &rep.nRel)
		rep.Rows[i] = row
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// progress serialises the reports of concurrent evaluations.
type progress struct {
	mu    sync.Mutex
	f     affinity.ProgressFunc
	done  int64
	total int64
}

// report adds n evaluated customers and reports.
func (p *progress) report(n int64) {
	if p.f == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.f(affinity.Progress{Step: "evaluate", Done: p.done, Total: p.total, Unit: "customers"})
}

// kindMask is a set of event kinds.
type kindMask uint16

func maskOf(kinds []affinity.EventKind) kindMask {
	var m kindMask
	for _, k := range kinds {
		m |= 1 << k
	}
	return m
}

func (m kindMask) has(k affinity.EventKind) bool { return m&(1<<k) != 0 }

// evalUser is one evaluated customer: its training id and the ranges of
// its relevant and seen products in the ground truth's flat arrays.
type evalUser struct {
	c              affinity.CustomerID
	relLo, relHi   int32 // into ground.rel (training product ids)
	seenLo, seenHi int32 // into ground.seen
	unknown        int32 // relevant test products absent from the training catalog
	nRel           [numItems]int32
}

// ground is the evaluation ground truth shared by all recommenders.
type ground struct {
	train   *affinity.History
	asOf    time.Time
	kinds   kindMask // Options.Events: what is relevant in test and seen in training
	users   []evalUser
	rel     []affinity.ProductID
	seen    []affinity.ProductID
	cold    int
	nActive int       // training products with at least one interaction
	novelty []float64 // per training product: -log2(customers/pairs); NaN when never seen
	idcg    []float64 // idcg[n] = sum_{i=1..n} 1/log2(i+1)
}

func newGround(ctx context.Context, s *Split, o Options) (*ground, error) {
	train, test := s.Train, s.Test
	kinds := maskOf(o.Events)
	trainCat, testCat := train.Catalog(), test.Catalog()
	np := trainCat.NumProducts()
	// test product id -> training product id (or np when unknown)
	pmap := make([]affinity.ProductID, testCat.NumProducts())
	for p := range pmap {
		if q, ok := trainCat.LookupProduct(testCat.ProductKey(affinity.ProductID(p))); ok {
			pmap[p] = q
		} else {
			pmap[p] = affinity.ProductID(np)
		}
	}
	g := &ground{train: train, asOf: s.AsOf, kinds: kinds}
	g.idcg = idcgTable(max(o.K, o.CurveK))

	// novelty and the coverage denominator from the training interactions
	custCount := make([]int32, np)
	stamp := make([]uint32, np)
	pairs := 0
	for c := range train.NumCustomers() {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		forInteractions(train, affinity.CustomerID(c), kinds, 0, func(p affinity.ProductID, _ int64, _ float32) {
			if stamp[p] != uint32(c)+1 {
				stamp[p] = uint32(c) + 1
				custCount[p]++
				pairs++
			}
		})
	}
	g.novelty = make([]float64, np)
	for p, n := range custCount {
		if n == 0 {
			g.novelty[p] = math.NaN()
			continue
		}
		g.nActive++
		g.novelty[p] = -math.Log2(float64(n) / float64(pairs))
	}

	var relTest []affinity.ProductID
	var unknownSet []affinity.ProductID
	clear(stamp)
	for tc := range test.NumCustomers() {
		if tc%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		relTest = relTest[:0]
		forInteractions(test, affinity.CustomerID(tc), kinds, o.MinRating, func(p affinity.ProductID, _ int64, _ float32) {
			relTest = append(relTest, p)
		})
		if len(relTest) == 0 {
			continue
		}
		c, ok := train.LookupCustomer(test.CustomerKey(affinity.CustomerID(tc)))
		if !ok {
			g.cold++
			continue
		}
		u := evalUser{c: c, seenLo: int32(len(g.seen))}
		forInteractions(train, c, kinds, 0, func(p affinity.ProductID, _ int64, _ float32) {
			if stamp[p] != uint32(tc)+1 {
				stamp[p] = uint32(tc) + 1
				g.seen = append(g.seen, p)
			}
		})
		u.seenHi = int32(len(g.seen))
		seen := g.seen[u.seenLo:u.seenHi]
		slices.Sort(seen)
		u.relLo = int32(len(g.rel))
		unknownSet = unknownSet[:0]
		for _, tp := range relTest {
			p := pmap[tp]
			if int(p) == np {
				unknownSet = append(unknownSet, tp)
				continue
			}
			g.rel = append(g.rel, p)
		}
		u.relHi = int32(len(g.rel))
		rel := g.rel[u.relLo:u.relHi]
		slices.Sort(rel)
		rel = slices.Compact(rel)
		g.rel = g.rel[:int(u.relLo)+len(rel)]
		u.relHi = int32(len(g.rel))
		slices.Sort(unknownSet)
		u.unknown = int32(len(slices.Compact(unknownSet)))
		for _, p := range rel {
			if _, found := slices.BinarySearch(seen, p); found {
				u.nRel[RepeatItems]++
			} else {
				u.nRel[ExploreItems]++
			}
		}
		u.nRel[ExploreItems] += u.unknown
		u.nRel[AllItems] = u.nRel[RepeatItems] + u.nRel[ExploreItems]
		g.users = append(g.users, u)
	}
	return g, nil
}

// forInteractions calls fn for each bought line (positive quantity) of c,
// with weight 1, and each of c's events whose kind is in kinds (ratings
// below minRating skipped when minRating > 0), with the event's weight,
// lines first, in History order.
func forInteractions(h *affinity.History, c affinity.CustomerID, kinds kindMask, minRating float32, fn func(p affinity.ProductID, unix int64, weight float32)) {
	olo, ohi := h.CustomerOrders(c)
	for o := olo; o < ohi; o++ {
		unix := h.OrderUnix(o)
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			if h.LineQuantity(i) > 0 {
				fn(h.LineProduct(i), unix, 1)
			}
		}
	}
	if kinds == 0 {
		return
	}
	lo, hi := h.CustomerEvents(c)
	for i := lo; i < hi; i++ {
		e := h.Event(i)
		if !kinds.has(e.Kind) {
			continue
		}
		if minRating > 0 && e.Kind == affinity.Rating && e.Weight < minRating {
			continue
		}
		fn(e.Product, e.Unix, e.Weight)
	}
}

// kindsFitter is a Recommender whose model depends on what Evaluate
// counts as an interaction ([Options.Events]): [Repeat], which must learn
// "seen" exactly as Evaluate defines it. Evaluate calls fitKinds instead
// of Fit, with the kinds of Options.Events.
type kindsFitter interface {
	fitKinds(ctx context.Context, train *affinity.History, asOf time.Time, kinds kindMask) error
}

// run fits r and scores its lists for every evaluated customer; nRel
// holds, per kind of items, the counts of relevant items of the customers
// with any (read only: its lengths size the kept scores).
func (g *ground) run(ctx context.Context, r Recommender, o Options, pr *progress, nRel *[numItems][]int32) (Row, error) {
	row := Row{Name: r.Name()}
	t0 := time.Now()
	fit := r.Fit
	if kf, ok := r.(kindsFitter); ok {
		fit = func(ctx context.Context, train *affinity.History, asOf time.Time) error {
			return kf.fitKinds(ctx, train, asOf, g.kinds)
		}
	}
	if err := fit(ctx, g.train, g.asOf); err != nil {
		return row, fmt.Errorf("evaluate: fit %s: %w", r.Name(), err)
	}
	row.FitTime = time.Since(t0)
	t0 = time.Now()

	np := g.train.Catalog().NumProducts()
	maxK := max(o.K, o.CurveK)
	// The table is scored on lists of K products and the curve on lists
	// of CurveK: a recommender's first K of CurveK products need not be
	// its K products (a re-ranking's depth may grow with the list's), and
	// asking for a chart must not change the table. One pass when
	// CurveK ≤ K: the curve's lists are then the table's, cut.
	passes := []int{o.K}
	var acc, curveAcc [numItems]accumulator
	if o.CurveK > o.K {
		passes = append(passes, o.CurveK)
		for it := range acc {
			acc[it] = newAccumulator(cutoffs(o.K, 0), o.K, np)
			curveAcc[it] = newAccumulator(cutoffs(0, o.CurveK), o.CurveK, np)
		}
	} else {
		for it := range acc {
			acc[it] = newAccumulator(cutoffs(o.K, o.CurveK), maxK, np)
		}
	}
	// each customer's list state at K, for Report.Compare: only at K, as
	// a curve's states would cost CurveK times as much
	for it := range acc {
		n := len(nRel[it])
		row.scores[it] = customerScores{hits: make([]uint16, 0, n), first: make([]uint16, 0, n), dcg: make([]float64, 0, n), ap: make([]float64, 0, n)}
		acc[it].keep, acc[it].keepK = &row.scores[it], o.K
	}
	// per-product marks, valid when equal to gen (dupGen: to lists)
	relGen := make([]uint32, np)
	relItems := make([]Items, np)
	seenGen := make([]uint32, np)
	dupGen := make([]uint32, np) // valid when equal to the list's mark
	var lists uint32
	var gen uint32
	var exclude func(affinity.ProductID) bool
	if o.ExcludeSeen {
		exclude = func(p affinity.ProductID) bool { return int(p) < np && seenGen[p] == gen }
	}
	list := make([]affinity.ProductID, 0, maxK)
	var hits [numItems][]bool
	for it := range hits {
		hits[it] = make([]bool, maxK)
	}
	const chunk = 1024
	for ui := range g.users {
		if ui%chunk == 0 {
			if err := ctx.Err(); err != nil {
				return row, fmt.Errorf("evaluate: %s: %w", r.Name(), err)
			}
			if ui > 0 {
				pr.report(chunk)
			}
		}
		u := &g.users[ui]
		gen++
		for _, p := range g.seen[u.seenLo:u.seenHi] {
			seenGen[p] = gen
		}
		for _, p := range g.rel[u.relLo:u.relHi] {
			relGen[p] = gen
			if seenGen[p] == gen {
				relItems[p] = RepeatItems
			} else {
				relItems[p] = ExploreItems
			}
		}
		for pass, k := range passes {
			list = r.Recommend(list[:0], u.c, k, exclude)
			if len(list) > k {
				return row, fmt.Errorf("%w: %s returned %d products for k = %d", ErrBadList, r.Name(), len(list), k)
			}
			lists++
			dup := lists // this list's mark
			for i, p := range list {
				switch {
				case int(p) >= np:
					return row, fmt.Errorf("%w: %s returned product id %d, the training catalog has %d", ErrBadList, r.Name(), p, np)
				case dupGen[p] == dup:
					return row, fmt.Errorf("%w: %s returned product %q twice", ErrBadList, r.Name(), g.train.Catalog().ProductKey(p))
				case exclude != nil && exclude(p):
					return row, fmt.Errorf("%w: %s returned excluded product %q", ErrBadList, r.Name(), g.train.Catalog().ProductKey(p))
				}
				dupGen[p] = dup
				isRel := relGen[p] == gen
				hits[AllItems][i] = isRel
				hits[RepeatItems][i] = isRel && relItems[p] == RepeatItems
				hits[ExploreItems][i] = isRel && relItems[p] == ExploreItems
			}
			into := &acc
			if pass == 1 {
				into = &curveAcc
			}
			for it := range numItems {
				if u.nRel[it] > 0 {
					into[it].add(list, hits[it][:len(list)], int(u.nRel[it]), o.MAP, g)
				}
			}
		}
	}
	row.RecommendTime = time.Since(t0)
	if n := len(g.users); n > 0 {
		pr.report(int64((n-1)%chunk + 1))
	}
	for it := range numItems {
		if len(passes) == 1 {
			row.Metrics[it], row.Curve[it] = acc[it].result(o.K, o.CurveK)
			continue
		}
		row.Metrics[it], _ = acc[it].result(o.K, 0)
		_, row.Curve[it] = curveAcc[it].result(o.CurveK, o.CurveK)
	}
	return row, nil
}

// isNil reports whether r is nil or holds a nil pointer (or map, slice,
// func), whose methods would panic, in a worker goroutine too.
func isNil(r Recommender) bool {
	if r == nil {
		return true
	}
	switch v := reflect.ValueOf(r); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}
