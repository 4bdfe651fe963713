package evaluate_test

// Adversarial tests of the splits and of the evaluation protocol around
// them (Options, Report, the adapters as evaluated), each against a naive
// model written from the package documentation. The metric formulas have
// their own adversarial file (metrics_adversarial_test.go).

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
)

var splT0 = time.Date(2023, 12, 30, 0, 0, 0, 0, time.UTC) // spans a year end

// splLine is one purchase line of a generated History, in shop keys.
type splLine struct {
	cust, order, prod string
	unix              int64
	qty               int32
}

// splEvent is one event of a generated History, in shop keys.
type splEvent struct {
	cust, prod string
	unix       int64
	kind       affinity.EventKind
	weight     float32
}

// splGen makes a random shop: customers with orders (returns included,
// several times colliding on purpose), events of every kind, and a few
// anonymous orders; products include a catalog-only one with a name,
// categories, a price and a stock flag.
func splGen(rng *rand.Rand, customers, products int) ([]splLine, []splEvent) {
	var lines []splLine
	var events []splEvent
	when := func() int64 {
		return splT0.Unix() + int64(rng.IntN(5))*86400 + []int64{0, 1, 7200, 86399}[rng.IntN(4)]
	}
	prod := func() string { return fmt.Sprint("p", rng.IntN(products)) }
	for c := range customers {
		cust := fmt.Sprint("c", c)
		for o := range rng.IntN(5) {
			at := when()
			for range 1 + rng.IntN(3) {
				q := int32(1 + rng.IntN(3))
				if rng.IntN(7) == 0 {
					q = -q
				}
				lines = append(lines, splLine{cust: cust, order: fmt.Sprint(cust, "-", o), prod: prod(), unix: at, qty: q})
			}
		}
		for range rng.IntN(3) {
			kind := affinity.EventKind(1 + rng.IntN(4))
			w := float32(1)
			if kind == affinity.Rating {
				w = float32(1 + rng.IntN(5))
			}
			events = append(events, splEvent{cust: cust, prod: prod(), unix: when(), kind: kind, weight: w})
		}
	}
	for a := range rng.IntN(3) {
		at := when()
		for range 1 + rng.IntN(3) {
			lines = append(lines, splLine{order: fmt.Sprint("anon-", a), prod: prod(), unix: at, qty: 1})
		}
	}
	return lines, events
}

// splCatalog is the catalog of splGen's shops: products with names,
// categories, prices and stock flags, one of them never bought.
func splCatalog(products int) []affinity.Product {
	out := make([]affinity.Product, 0, products+1)
	for p := range products {
		out = append(out, affinity.Product{Key: fmt.Sprint("p", p), Name: fmt.Sprint("Product ", p),
			Categories: []string{fmt.Sprint("Dept", p%3, "/Aisle", p%5)}, Price: affinity.Money(p+1) * affinity.MoneyScale, InStock: p%2 == 0})
	}
	return append(out, affinity.Product{Key: "shelf-only", Name: "Never bought", Categories: []string{"Dept0", "Misc/Odds"}, Price: 3 * affinity.MoneyScale})
}

func splBuild(t testing.TB, catalog []affinity.Product, lines []splLine, events []splEvent) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range catalog {
		require.NoError(t, b.AddProduct(p))
	}
	for _, l := range lines {
		require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: time.Unix(l.unix, 0), Quantity: l.qty, Price: affinity.MoneyScale}))
	}
	for _, e := range events {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: time.Unix(e.unix, 0), Kind: e.kind, Weight: e.weight}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// splDump lists h's lines and events in shop keys, sorted.
func splDump(h *affinity.History) ([]splLine, []splEvent) {
	var lines []splLine
	for o := range h.Orders() {
		cust := ""
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			lines = append(lines, splLine{cust: cust, order: h.OrderKey(o), prod: h.Catalog().ProductKey(h.LineProduct(i)), unix: h.OrderUnix(o), qty: h.LineQuantity(i)})
		}
	}
	var events []splEvent
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			events = append(events, splEvent{cust: h.CustomerKey(c), prod: h.Catalog().ProductKey(e.Product), unix: e.Unix, kind: e.Kind, weight: e.Weight})
		}
	}
	slices.SortFunc(lines, func(a, b splLine) int {
		return cmp.Or(cmp.Compare(a.cust, b.cust), cmp.Compare(a.order, b.order), cmp.Compare(a.unix, b.unix), cmp.Compare(a.prod, b.prod), cmp.Compare(a.qty, b.qty))
	})
	slices.SortFunc(events, func(a, b splEvent) int {
		return cmp.Or(cmp.Compare(a.cust, b.cust), cmp.Compare(a.unix, b.unix), cmp.Compare(a.prod, b.prod), cmp.Compare(a.kind, b.kind), cmp.Compare(a.weight, b.weight))
	})
	return lines, events
}

// splAllSplits runs every split function on h with one set of options.
func splAllSplits(ctx context.Context, h *affinity.History, opts evaluate.SplitOptions) map[string]func() (*evaluate.Split, error) {
	return map[string]func() (*evaluate.Split, error){
		"temporal":   func() (*evaluate.Split, error) { return evaluate.TemporalSplit(ctx, h, splT0.AddDate(0, 0, 2)) },
		"last-order": func() (*evaluate.Split, error) { return evaluate.LastOrderSplit(ctx, h) },
		"chrono":     func() (*evaluate.Split, error) { return evaluate.ChronoSplit(ctx, h, opts) },
		"stratified-customer": func() (*evaluate.Split, error) {
			o := opts
			o.By = evaluate.ByCustomer
			return evaluate.StratifiedSplit(ctx, h, o)
		},
		"stratified-product": func() (*evaluate.Split, error) {
			o := opts
			o.By = evaluate.ByProduct
			return evaluate.StratifiedSplit(ctx, h, o)
		},
		"leave-one-out": func() (*evaluate.Split, error) { return evaluate.LeaveOneOutSplit(ctx, h, opts) },
	}
}

// TestAdvSplitKeepsCatalog: "Both Histories carry the full catalog of the
// source" — the products themselves, not only their keys: names,
// categories, prices and stock flags, also of products never bought.
func TestAdvSplitKeepsCatalog(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(101, 102))
	for trial := range testdata.Scale(20, 4) {
		cat := splCatalog(8)
		lines, events := splGen(rng, 12, 8)
		h := splBuild(t, cat, lines, events)
		for name, split := range splAllSplits(ctx, h, evaluate.SplitOptions{Seed: uint64(trial)}) {
			s, err := split()
			if err != nil {
				require.ErrorIs(t, err, evaluate.ErrEmptySplit, "trial %d %s", trial, name)
				continue
			}
			for side, sh := range map[string]*affinity.History{"train": s.Train, "test": s.Test} {
				require.Equal(t, h.Catalog().NumProducts(), sh.Catalog().NumProducts(), "trial %d %s %s", trial, name, side)
				for p := range affinity.ProductID(h.Catalog().NumProducts()) {
					assert.Equal(t, h.Catalog().Product(p), sh.Catalog().Product(p), "trial %d %s %s: product %d", trial, name, side, p)
				}
				assert.Equal(t, h.Catalog().NumCategories(), sh.Catalog().NumCategories(), "trial %d %s %s: category tree", trial, name, side)
			}
		}
	}
}

// TestAdvSplitsDeterministic: the same History and options give the same
// split (seeded splits with the same seed), as records and as Protocol
// and AsOf; and splitting twice does not depend on a first split having
// run (no shared state).
func TestAdvSplitsDeterministic(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(103, 104))
	for trial := range testdata.Scale(30, 5) {
		lines, events := splGen(rng, 10+rng.IntN(10), 6)
		h := splBuild(t, nil, lines, events)
		opts := evaluate.SplitOptions{Ratio: []float64{0, 0.5, 0.3}[trial%3], Seed: rng.Uint64()}
		for name, split := range splAllSplits(ctx, h, opts) {
			s1, err1 := split()
			s2, err2 := split()
			if err1 != nil {
				assert.Equal(t, err1.Error(), fmt.Sprint(err2), "trial %d %s", trial, name)
				continue
			}
			require.NoError(t, err2)
			l1, e1 := splDump(s1.Train)
			l2, e2 := splDump(s2.Train)
			assert.Equal(t, l1, l2, "trial %d %s: training lines", trial, name)
			assert.Equal(t, e1, e2, "trial %d %s: training events", trial, name)
			l1, e1 = splDump(s1.Test)
			l2, e2 = splDump(s2.Test)
			assert.Equal(t, l1, l2, "trial %d %s: test lines", trial, name)
			assert.Equal(t, e1, e2, "trial %d %s: test events", trial, name)
			assert.Equal(t, s1.Protocol, s2.Protocol)
			assert.True(t, s1.AsOf.Equal(s2.AsOf))
		}
	}
}

// TestAdvSplitCancelled: "Long steps ... stop when ctx is cancelled,
// returning ctx.Err() wrapped" — a cancelled context makes every split
// and Evaluate fail with an error matching context.Canceled, also on a
// History too small to reach an internal check interval.
func TestAdvSplitCancelled(t *testing.T) {
	lines, events := splGen(rand.New(rand.NewPCG(105, 106)), 12, 6)
	h := splBuild(t, nil, lines, events)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, split := range splAllSplits(ctx, h, evaluate.SplitOptions{Seed: 1}) {
		t.Run(name, func(t *testing.T) {
			s, err := split()
			require.ErrorIs(t, err, context.Canceled)
			assert.Nil(t, s)
		})
	}
	t.Run("evaluate", func(t *testing.T) {
		s, err := evaluate.TemporalSplit(context.Background(), h, splT0.AddDate(0, 0, 2))
		require.NoError(t, err)
		rep, err := evaluate.Evaluate(ctx, s, evaluate.Baselines(1), evaluate.Options{})
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, rep)
	})
}

// TestAdvTemporalSplitOrderAtEarliestLine: an order's time is the earliest
// of its lines (package affinity), and TemporalSplit moves whole orders: an
// order whose lines straddle the cutoff trains whole, at its order time.
func TestAdvTemporalSplitOrderAtEarliestLine(t *testing.T) {
	at := splT0.Add(10 * time.Hour)
	var b affinity.Builder
	add := func(cust, order, prod string, tm time.Time) {
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: prod, Order: order, Time: tm, Quantity: 1, Price: affinity.MoneyScale}))
	}
	add("a", "o1", "x", at.Add(2*time.Hour)) // later line first
	add("a", "o1", "y", at)
	add("a", "o2", "z", at.Add(5*time.Hour))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	s, err := evaluate.TemporalSplit(context.Background(), h, at.Add(time.Hour))
	require.NoError(t, err)
	trL, _ := splDump(s.Train)
	teL, _ := splDump(s.Test)
	assert.Equal(t, []splLine{{cust: "a", order: "o1", prod: "x", unix: at.Unix(), qty: 1}, {cust: "a", order: "o1", prod: "y", unix: at.Unix(), qty: 1}}, trL)
	assert.Equal(t, []splLine{{cust: "a", order: "o2", prod: "z", unix: at.Add(5 * time.Hour).Unix(), qty: 1}}, teL)
}

// TestAdvTemporalSplitNested: a temporal split is a pure function of the
// records' times, so splitting the training side of a split at c1 again at
// an earlier c0 gives the same training side as splitting the source at
// c0, and the test sides add up: test(h, c0) = test(train(h, c1), c0) ∪
// test(h, c1).
func TestAdvTemporalSplitNested(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(107, 108))
	for trial := range testdata.Scale(60, 10) {
		lines, events := splGen(rng, 8+rng.IntN(12), 6)
		h := splBuild(t, nil, lines, events)
		c0 := splT0.Add(time.Duration(24+rng.IntN(48)) * time.Hour).Add(time.Duration(rng.IntN(2)) * time.Second)
		c1 := c0.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		outer, err := evaluate.TemporalSplit(ctx, h, c1)
		if err != nil {
			require.ErrorIs(t, err, evaluate.ErrEmptySplit)
			continue
		}
		inner, errIn := evaluate.TemporalSplit(ctx, outer.Train, c0)
		direct, errDir := evaluate.TemporalSplit(ctx, h, c0)
		if errDir != nil {
			require.ErrorIs(t, errDir, evaluate.ErrEmptySplit)
			require.Error(t, errIn, "trial %d: direct split at %v empty, the nested one must be too", trial, c0)
			continue
		}
		if errIn != nil {
			// nothing of the training side at or after c0: the records of
			// [c0, c1) are none
			require.ErrorIs(t, errIn, evaluate.ErrEmptySplit, "trial %d", trial)
			tl, te := splDump(direct.Test)
			ol, oe := splDump(outer.Test)
			assert.Equal(t, ol, tl, "trial %d: nothing in [c0, c1): direct test = outer test", trial)
			assert.Equal(t, oe, te, "trial %d", trial)
			continue
		}
		l1, e1 := splDump(inner.Train)
		l2, e2 := splDump(direct.Train)
		assert.Equal(t, l2, l1, "trial %d: training lines", trial)
		assert.Equal(t, e2, e1, "trial %d: training events", trial)
		tl1, te1 := splDump(inner.Test)
		tl2, te2 := splDump(outer.Test)
		gotL := append(tl1, tl2...)
		gotE := append(te1, te2...)
		wantL, wantE := splDump(direct.Test)
		assert.ElementsMatch(t, wantL, gotL, "trial %d: test lines", trial)
		assert.ElementsMatch(t, wantE, gotE, "trial %d: test events", trial)
	}
}

// TestAdvDefaultCutoffLeavesTraining: DefaultCutoff is documented to
// put "about the last fifth of the customers' orders" in test, so a
// TemporalSplit at it must leave training data when the orders span more
// than one day. Here nine orders are on day 0 and one on day 1: the 80 %
// quantile order is on day 0, and its 00:00 is before every order (which
// put every order in test, and TemporalSplit failed with ErrEmptySplit):
// the cutoff is then day 1's 00:00.
func TestAdvDefaultCutoffLeavesTraining(t *testing.T) {
	var lines []splLine
	for c := range 9 {
		lines = append(lines, splLine{cust: fmt.Sprint("c", c), order: "o1", prod: "x", unix: splT0.Add(time.Duration(8+c) * time.Hour).Unix(), qty: 1})
	}
	lines = append(lines, splLine{cust: "c0", order: "o2", prod: "y", unix: splT0.AddDate(0, 0, 1).Add(9 * time.Hour).Unix(), qty: 1})
	h := splBuild(t, nil, lines, nil)
	cutoff := evaluate.DefaultCutoff(h)
	require.False(t, cutoff.IsZero())
	s, err := evaluate.TemporalSplit(context.Background(), h, cutoff)
	require.NoError(t, err, "DefaultCutoff %v of orders on %v and %v", cutoff, splT0.Format(time.DateOnly), splT0.AddDate(0, 0, 1).Format(time.DateOnly))
	nTest := s.Test.NumOrders()
	assert.LessOrEqual(t, nTest, 5, "about the last fifth of 10 orders in test, got %d", nTest)
}

// TestAdvDefaultCutoffTies: all orders in one second (or one day) still
// give a cutoff at 00:00 UTC of that day, whatever the location of the
// stored times; at the Unix epoch too.
func TestAdvDefaultCutoffTies(t *testing.T) {
	for _, at := range []time.Time{
		splT0.Add(13 * time.Hour),
		time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Unix(0, 0),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
	} {
		h := splBuild(t, nil, []splLine{{cust: "a", order: "1", prod: "x", unix: at.Unix(), qty: 1}, {cust: "b", order: "1", prod: "y", unix: at.Unix(), qty: -1}}, nil)
		want := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		got := evaluate.DefaultCutoff(h)
		assert.True(t, want.Equal(got), "orders at %v: DefaultCutoff %v, want %v", at, got, want)
	}
	// without customer orders and events: the zero time, also with
	// anonymous orders only
	h := splBuild(t, nil, []splLine{{order: "till", prod: "x", unix: splT0.Unix(), qty: 1}}, nil)
	assert.True(t, evaluate.DefaultCutoff(h).IsZero())
}

// TestAdvLastOrderSplitReturnAfterLastPurchase: "everything at or after
// the time of the last order with a bought line goes to test": a
// returns-only order after it is test data, one before it training.
func TestAdvLastOrderSplitReturnAfterLastPurchase(t *testing.T) {
	h := splBuild(t, nil, []splLine{
		{cust: "a", order: "1", prod: "x", unix: splT0.Unix(), qty: 1},
		{cust: "a", order: "2", prod: "x", unix: splT0.Unix() + 10, qty: -1},
		{cust: "a", order: "3", prod: "y", unix: splT0.Unix() + 20, qty: 1},
		{cust: "a", order: "4", prod: "y", unix: splT0.Unix() + 30, qty: -1},
	}, nil)
	s, err := evaluate.LastOrderSplit(context.Background(), h)
	require.NoError(t, err)
	trL, _ := splDump(s.Train)
	teL, _ := splDump(s.Test)
	orders := func(ls []splLine) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.order)
		}
		return out
	}
	assert.Equal(t, []string{"1", "2"}, orders(trL))
	assert.Equal(t, []string{"3", "4"}, orders(teL))
	assert.True(t, s.AsOf.Equal(time.Unix(splT0.Unix()+10, 0)), "AsOf is the latest training time, got %v", s.AsOf)
}

// splFixed is a cheap deterministic Recommender: every customer gets the
// catalog in a fixed customer-dependent rotation, skipping excluded
// products, so that its top-k is a prefix of its top-(k+1).
type splFixed struct {
	label string
	train *affinity.History
}

func (f *splFixed) Name() string { return f.label }

func (f *splFixed) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	f.train = train
	return nil
}

func (f *splFixed) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	np := f.train.Catalog().NumProducts()
	from := len(dst)
	for i := range np {
		if len(dst)-from >= k {
			break
		}
		p := affinity.ProductID((int(c)*7 + i*3) % np)
		if slices.Contains(dst[from:], p) || (exclude != nil && exclude(p)) {
			continue
		}
		dst = append(dst, p)
	}
	return dst
}

// splStripTimes zeroes the wall-clock fields of a report, which are the
// only ones allowed to vary.
func splStripTimes(r *evaluate.Report) *evaluate.Report {
	c := *r
	c.Rows = slices.Clone(r.Rows)
	for i := range c.Rows {
		c.Rows[i].FitTime, c.Rows[i].RecommendTime = 0, 0
	}
	return &c
}

// TestAdvEvaluateProtocolProperties checks, over random splits of every
// kind: the report does not depend on Workers and is reproducible; the
// metrics at K are the curve's entry at K when K ≤ CurveK, and equal the
// metrics of a separate run at that K without a curve (a list's top-K
// does not depend on the curve); Metrics[AllItems].Users is Report.Users
// for every row; and Users splits into customers with repeat and explore
// items (each at most Users, together at least Users).
func TestAdvEvaluateProtocolProperties(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(109, 110))
	kinds := [][]affinity.EventKind{nil, {affinity.Rating, affinity.View}, {}}
	evaluated := 0
	defer func() { assert.Positive(t, evaluated, "some trials evaluated") }()
	for trial := range testdata.Scale(24, 4) {
		lines, events := splGen(rng, 14+rng.IntN(10), 7)
		h := splBuild(t, nil, lines, events)
		var s *evaluate.Split
		var err error
		switch trial % 3 {
		case 0:
			s, err = evaluate.ChronoSplit(ctx, h, evaluate.SplitOptions{Ratio: 0.5})
		case 1:
			s, err = evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{Ratio: 0.6, Seed: uint64(trial)})
		default:
			s, err = evaluate.LastOrderSplit(ctx, h)
		}
		if err != nil {
			require.ErrorIs(t, err, evaluate.ErrEmptySplit)
			continue
		}
		recs := func() []evaluate.Recommender {
			return append(evaluate.Baselines(uint64(trial)), &splFixed{label: "fixed"}, &evaluate.TIFUKNN{Neighbors: 3})
		}
		k := 1 + rng.IntN(5)
		curveK := k + rng.IntN(4)
		if trial%4 == 3 {
			curveK = rng.IntN(k) // no curve, or a curve shorter than K
		}
		opts := evaluate.Options{K: k, CurveK: curveK, ExcludeSeen: trial%2 == 1, Events: kinds[trial%len(kinds)], Workers: 1}
		name := fmt.Sprintf("trial %d %s %+v", trial, s.Protocol, opts)
		r1, err := evaluate.Evaluate(ctx, s, recs(), opts)
		require.NoError(t, err, name)
		opts.Workers = 3
		r3, err := evaluate.Evaluate(ctx, s, recs(), opts)
		require.NoError(t, err, name)
		assert.Equal(t, splStripTimes(r1), splStripTimes(r3), "%s: Workers 1 and 3", name)
		evaluated += r1.Users
		for _, row := range r1.Rows {
			for it := range evaluate.Items(3) {
				require.Len(t, row.Curve[it], curveK, "%s %s", name, row.Name)
				if k <= curveK {
					assert.Equal(t, row.Metrics[it], row.Curve[it][k-1], "%s %s %v: metrics at K = curve at K", name, row.Name, it)
				}
			}
			assert.Equal(t, r1.Users, row.Metrics[evaluate.AllItems].Users, "%s %s", name, row.Name)
			rep, exp := row.Metrics[evaluate.RepeatItems].Users, row.Metrics[evaluate.ExploreItems].Users
			assert.LessOrEqual(t, rep, r1.Users, name)
			assert.LessOrEqual(t, exp, r1.Users, name)
			assert.GreaterOrEqual(t, rep+exp, r1.Users, name)
		}
		// each curve point is what a run at that K alone gives, and the
		// metrics at K what a run without a curve gives
		alone, err := evaluate.Evaluate(ctx, s, recs(), evaluate.Options{K: k, ExcludeSeen: opts.ExcludeSeen, Events: opts.Events, Workers: 2})
		require.NoError(t, err, name)
		for i, row := range alone.Rows {
			for it := range evaluate.Items(3) {
				for m := evaluate.Precision; m <= evaluate.Novelty; m++ {
					assert.InDelta(t, row.Metrics[it].Value(m), r1.Rows[i].Metrics[it].Value(m), 1e-12, "%s %s %v %v@%d: with and without a curve", name, row.Name, it, m, k)
				}
			}
		}
		for j := 1; j <= curveK; j++ {
			one, err := evaluate.Evaluate(ctx, s, recs(), evaluate.Options{K: j, ExcludeSeen: opts.ExcludeSeen, Events: opts.Events, Workers: 2})
			require.NoError(t, err, name)
			for i, row := range one.Rows {
				for it := range evaluate.Items(3) {
					want, got := r1.Rows[i].Curve[it][j-1], row.Metrics[it]
					for m := evaluate.Precision; m <= evaluate.Novelty; m++ {
						assert.InDelta(t, want.Value(m), got.Value(m), 1e-12, "%s %s %v %v@%d: curve vs run at K", name, row.Name, it, m, j)
					}
					assert.Equal(t, want.Users, got.Users, name)
				}
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestAdvEvaluateProgress: Progress hears step "evaluate" in customers,
// Done never decreasing and ending at Total = evaluated customers ×
// recommenders, also across the internal report interval (1,024
// customers) and with several recommenders at once.
func TestAdvEvaluateProgress(t *testing.T) {
	ctx := context.Background()
	n := testdata.Scale(3000, 1030)
	var lines []splLine
	for c := range n {
		cust := fmt.Sprint("c", c)
		lines = append(lines,
			splLine{cust: cust, order: "1", prod: fmt.Sprint("p", c%5), unix: splT0.Unix(), qty: 1},
			splLine{cust: cust, order: "2", prod: fmt.Sprint("p", (c+1)%5), unix: splT0.Unix() + 86400, qty: 1})
	}
	h := splBuild(t, nil, lines, nil)
	s, err := evaluate.TemporalSplit(ctx, h, splT0.Add(time.Hour))
	require.NoError(t, err)
	for _, nrec := range []int{1, 3} {
		var got []affinity.Progress
		recs := []evaluate.Recommender{&splFixed{label: "a"}, &splFixed{label: "b"}, &splFixed{label: "c"}}[:nrec]
		rep, err := evaluate.Evaluate(ctx, s, recs, evaluate.Options{Workers: 2, Progress: func(p affinity.Progress) { got = append(got, p) }})
		require.NoError(t, err)
		require.Equal(t, n, rep.Users)
		require.NotEmpty(t, got)
		total := int64(n * nrec)
		for i, p := range got {
			assert.Equal(t, "evaluate", p.Step)
			assert.Equal(t, "customers", p.Unit)
			assert.Equal(t, total, p.Total)
			if i > 0 {
				assert.GreaterOrEqual(t, p.Done, got[i-1].Done, "report %d", i)
			}
		}
		assert.Equal(t, total, got[len(got)-1].Done, "%d recommenders: last report", nrec)
	}
}

// TestAdvReportSummaryWithoutRows: Summary describes "customers evaluated
// per Items selection"; a report of zero recommenders still evaluated
// Report.Users customers (its ground truth does not depend on the
// recommenders), so its summary must not say 0.
func TestAdvReportSummaryWithoutRows(t *testing.T) {
	lines, events := splGen(rand.New(rand.NewPCG(111, 112)), 20, 6)
	h := splBuild(t, nil, lines, events)
	s, err := evaluate.ChronoSplit(context.Background(), h, evaluate.SplitOptions{Ratio: 0.5})
	require.NoError(t, err)
	rep, err := evaluate.Evaluate(context.Background(), s, nil, evaluate.Options{})
	require.NoError(t, err)
	require.Positive(t, rep.Users)
	assert.Contains(t, rep.Summary(), fmt.Sprintf("%d customers evaluated", rep.Users))
}

// TestAdvEvaluateColdAndEvaluated: with a split made by hand, the
// evaluated customers are exactly the test customers with a relevant item
// who are customers of training (matched by key, not by id); test
// customers with only non-relevant test records (returns, views) are
// neither evaluated nor cold; customers known to training only through a
// view or a return still count as customers of training.
func TestAdvEvaluateColdAndEvaluated(t *testing.T) {
	ctx := context.Background()
	// training: "known" bought; "viewer" only viewed; "returner" only
	// returned; "z" bought. Test ids differ from training ids.
	train := splBuild(t, nil, []splLine{
		{cust: "z", order: "1", prod: "x", unix: splT0.Unix(), qty: 1},
		{cust: "known", order: "1", prod: "x", unix: splT0.Unix(), qty: 1},
		{cust: "returner", order: "1", prod: "y", unix: splT0.Unix(), qty: -1},
	}, []splEvent{{cust: "viewer", prod: "y", unix: splT0.Unix(), kind: affinity.View, weight: 1}})
	test := splBuild(t, nil, []splLine{
		{cust: "new", order: "2", prod: "y", unix: splT0.Unix() + 86400, qty: 1},         // cold
		{cust: "viewer", order: "2", prod: "x", unix: splT0.Unix() + 86400, qty: 1},      // evaluated
		{cust: "returner", order: "2", prod: "x", unix: splT0.Unix() + 86400, qty: 1},    // evaluated
		{cust: "known", order: "2", prod: "y", unix: splT0.Unix() + 86400, qty: -1},      // nothing relevant
		{cust: "onlyreturn", order: "2", prod: "y", unix: splT0.Unix() + 86400, qty: -1}, // nothing relevant, not cold
	}, []splEvent{{cust: "z", prod: "y", unix: splT0.Unix() + 86400, kind: affinity.View, weight: 1}}) // view: not relevant by default
	s := &evaluate.Split{Train: train, Test: test, AsOf: train.Latest(), Protocol: "hand"}
	var asked []string
	rec := &splRecorder{asked: &asked}
	rep, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{rec}, evaluate.Options{K: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Users)
	assert.Equal(t, 1, rep.ColdUsers)
	slices.Sort(asked)
	assert.Equal(t, []string{"returner", "viewer"}, asked)
	// with views relevant, z's test view makes z evaluated too
	asked = nil
	rep, err = evaluate.Evaluate(ctx, s, []evaluate.Recommender{rec}, evaluate.Options{K: 2, Events: []affinity.EventKind{affinity.View}})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Users)
	slices.Sort(asked)
	assert.Equal(t, []string{"returner", "viewer", "z"}, asked)
	// every relevant test item is new to its customer: the viewer viewed
	// y but must buy x, the returner returned y, z bought x and views y
	row := rep.Rows[0]
	assert.Equal(t, 3, row.Metrics[evaluate.ExploreItems].Users)
	assert.Equal(t, 0, row.Metrics[evaluate.RepeatItems].Users)
}

// splRecorder records the training keys of the customers it is asked for
// and returns nothing.
type splRecorder struct {
	asked *[]string
	train *affinity.History
}

func (r *splRecorder) Name() string { return "recorder" }

func (r *splRecorder) Fit(_ context.Context, train *affinity.History, _ time.Time) error {
	r.train = train
	return nil
}

func (r *splRecorder) Recommend(dst []affinity.ProductID, c affinity.CustomerID, _ int, _ func(affinity.ProductID) bool) []affinity.ProductID {
	*r.asked = append(*r.asked, r.train.CustomerKey(c))
	return dst
}

// TestAdvEvaluateExploreIsNewToCustomer: with a temporal split, an item
// is a repeat item when the customer bought it (positive line) or rated
// it before the cutoff; a product only returned in training, only viewed
// (views not in Options.Events), or bought by another customer is an
// explore item. Repeat lists exactly the customer's seen items, so its
// explore hit rate is 0 and its repeat recall is 1 when K covers them.
func TestAdvEvaluateExploreIsNewToCustomer(t *testing.T) {
	ctx := context.Background()
	h := splBuild(t, nil, []splLine{
		{cust: "a", order: "1", prod: "bought", unix: splT0.Unix(), qty: 1},
		{cust: "a", order: "1", prod: "returned", unix: splT0.Unix(), qty: -1},
		{cust: "b", order: "1", prod: "other", unix: splT0.Unix(), qty: 1},
		{cust: "a", order: "2", prod: "bought", unix: splT0.Unix() + 86400, qty: 1},
		{cust: "a", order: "2", prod: "returned", unix: splT0.Unix() + 86400, qty: 1},
		{cust: "a", order: "2", prod: "viewed", unix: splT0.Unix() + 86400, qty: 1},
		{cust: "a", order: "2", prod: "rated", unix: splT0.Unix() + 86400, qty: 1},
		{cust: "a", order: "2", prod: "other", unix: splT0.Unix() + 86400, qty: 1},
	}, []splEvent{
		{cust: "a", prod: "viewed", unix: splT0.Unix() + 60, kind: affinity.View, weight: 1},
		{cust: "a", prod: "rated", unix: splT0.Unix() + 60, kind: affinity.Rating, weight: 1},
	})
	s, err := evaluate.TemporalSplit(ctx, h, splT0.Add(12*time.Hour))
	require.NoError(t, err)
	rep, err := evaluate.Evaluate(ctx, s, evaluate.Baselines(1), evaluate.Options{K: 5})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Users)
	r := rep.Row(evaluate.RepeatName)
	require.NotNil(t, r)
	// R = {bought, returned, viewed, rated, other}; repeat = {bought,
	// rated}; explore = {returned, viewed, other}
	assert.InDelta(t, 1.0, r.Metrics[evaluate.RepeatItems].Recall, 1e-12, "repeat lists bought and rated")
	assert.InDelta(t, 0.0, r.Metrics[evaluate.ExploreItems].HitRate, 1e-12)
	assert.InDelta(t, 2.0/5, r.Metrics[evaluate.AllItems].Recall, 1e-12)
	assert.InDelta(t, 2.0/5, r.Metrics[evaluate.AllItems].Precision, 1e-12, "2 hits / K = 5")
	// with views counted, viewed moves to repeat
	rep, err = evaluate.Evaluate(ctx, s, evaluate.Baselines(1), evaluate.Options{K: 5, Events: []affinity.EventKind{affinity.Rating, affinity.View}})
	require.NoError(t, err)
	r = rep.Row(evaluate.RepeatName)
	assert.InDelta(t, 1.0, r.Metrics[evaluate.RepeatItems].Recall, 1e-12)
	assert.InDelta(t, 3.0/5, r.Metrics[evaluate.AllItems].Recall, 1e-12, "bought, rated, viewed")
}

// TestAdvTIFUKNNMatchesNaive checks TIFU-KNN's lists against the doc's
// definition computed naively: baskets (orders with a bought line and
// each rating) at or before asOf, oldest first, in min(n, Groups) groups
// with the older groups shorter; basket j of n in a group weighs
// WithinDecay^(n−j), a group is the weighted sum over n, the vector the
// sum over g groups of GroupDecay^(g−i)·group i over g; the nearest
// Neighbors customers by Euclidean distance (ties by customer id) are
// averaged and blended with Alpha; products ranked by score, ties by id.
func TestAdvTIFUKNNMatchesNaive(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(113, 114))
	listed := 0
	defer func() { assert.Positive(t, listed, "some lists compared") }()
	for trial := range testdata.Scale(80, 12) {
		nc, np := 4+rng.IntN(10), 3+rng.IntN(8)
		type basket struct {
			unix  int64
			prods []string
		}
		var lines []splLine
		var events []splEvent
		// distinct basket times per customer, so that "oldest first" is
		// unambiguous
		for c := range nc {
			cust := fmt.Sprint("c", c)
			nb := rng.IntN(9)
			times := rng.Perm(20)[:nb]
			for i, ti := range times {
				unix := splT0.Unix() + int64(ti)*3600
				if rng.IntN(4) == 0 {
					w := float32(1 + rng.IntN(5))
					events = append(events, splEvent{cust: cust, prod: fmt.Sprint("p", rng.IntN(np)), unix: unix, kind: affinity.Rating, weight: w})
					continue
				}
				for range 1 + rng.IntN(3) {
					q := int32(1)
					if rng.IntN(6) == 0 {
						q = -1
					}
					lines = append(lines, splLine{cust: cust, order: fmt.Sprint(cust, "-", i), prod: fmt.Sprint("p", rng.IntN(np)), unix: unix, qty: q})
				}
			}
			if rng.IntN(4) == 0 {
				// a view: not a basket
				events = append(events, splEvent{cust: cust, prod: "p0", unix: splT0.Unix() + 30, kind: affinity.View, weight: 1})
			}
		}
		h := splBuild(t, nil, lines, events)
		asOf := splT0.Add(time.Duration(rng.IntN(22)) * time.Hour)
		r := &evaluate.TIFUKNN{
			Groups:      1 + rng.IntN(5),
			WithinDecay: []float64{0.5, 0.9, 1}[rng.IntN(3)],
			GroupDecay:  []float64{0.5, 0.7, 1}[rng.IntN(3)],
			Neighbors:   1 + rng.IntN(5),
			Alpha:       []float64{0.3, 0.7, 1}[rng.IntN(3)],
		}
		name := fmt.Sprintf("trial %d %+v asOf %v", trial, *r, asOf)
		require.NoError(t, r.Fit(ctx, h, asOf), name)

		// naive baskets and vectors, by customer key
		baskets := map[string][]basket{}
		byOrder := map[string]*basket{}
		var orderKeys []string
		for _, l := range lines {
			if l.unix > asOf.Unix() || l.qty <= 0 {
				continue
			}
			k := l.cust + "\x00" + l.order
			b, ok := byOrder[k]
			if !ok {
				b = &basket{unix: l.unix}
				byOrder[k] = b
				orderKeys = append(orderKeys, k)
			}
			if !slices.Contains(b.prods, l.prod) {
				b.prods = append(b.prods, l.prod)
			}
		}
		for _, k := range orderKeys {
			cust := k[:strings.IndexByte(k, 0)]
			baskets[cust] = append(baskets[cust], *byOrder[k])
		}
		for _, e := range events {
			if e.kind == affinity.Rating && e.unix <= asOf.Unix() {
				baskets[e.cust] = append(baskets[e.cust], basket{unix: e.unix, prods: []string{e.prod}})
			}
		}
		vec := map[string]map[string]float64{}
		for cust, bs := range baskets {
			sort.SliceStable(bs, func(i, j int) bool { return bs[i].unix < bs[j].unix })
			n := len(bs)
			g := min(n, r.Groups)
			// sizes: older groups one shorter
			sizes := make([]int, g)
			for i := range sizes {
				sizes[i] = n / g
			}
			for i := g - n%g; i < g; i++ {
				sizes[i]++
			}
			v := map[string]float64{}
			at := 0
			for gi := 1; gi <= g; gi++ {
				m := sizes[gi-1]
				for j := 1; j <= m; j++ {
					w := math.Pow(r.WithinDecay, float64(m-j)) / float64(m) * math.Pow(r.GroupDecay, float64(g-gi)) / float64(g)
					for _, p := range bs[at+j-1].prods {
						v[p] += w
					}
				}
				at += m
			}
			vec[cust] = v
		}
		id := func(cust string) affinity.CustomerID {
			c, ok := h.LookupCustomer(cust)
			require.True(t, ok, cust)
			return c
		}
		for c := range affinity.CustomerID(h.NumCustomers()) {
			cust := h.CustomerKey(c)
			u := vec[cust]
			score := map[string]float64{}
			if len(u) > 0 {
				type nb struct {
					cust string
					d    float64
				}
				var near []nb
				for other, v := range vec {
					if other == cust {
						continue
					}
					d := 0.0
					for p, x := range u {
						d += (x - v[p]) * (x - v[p])
					}
					for p, y := range v {
						if _, ok := u[p]; !ok {
							d += y * y
						}
					}
					near = append(near, nb{other, d})
				}
				slices.SortFunc(near, func(a, b nb) int {
					if math.Abs(a.d-b.d) > 1e-12 {
						return cmp.Compare(a.d, b.d)
					}
					return cmp.Compare(id(a.cust), id(b.cust))
				})
				near = near[:min(r.Neighbors, len(near))]
				for p, x := range u {
					score[p] += r.Alpha * x
				}
				if r.Alpha < 1 {
					for _, n := range near {
						for p, y := range vec[n.cust] {
							score[p] += (1 - r.Alpha) / float64(len(near)) * y
						}
					}
				}
			}
			pid := func(p string) affinity.ProductID {
				q, _ := h.Catalog().LookupProduct(p)
				return q
			}
			var want []string
			for p := range score {
				want = append(want, p)
			}
			slices.SortFunc(want, func(a, b string) int {
				if math.Abs(score[a]-score[b]) > 1e-12 {
					return cmp.Compare(score[b], score[a])
				}
				return cmp.Compare(pid(a), pid(b))
			})
			k := 1 + rng.IntN(np+1)
			want = want[:min(k, len(want))]
			got := keys(h, r.Recommend(nil, c, k, nil))
			listed += len(got)
			require.Len(t, got, len(want), "%s customer %s k %d: got %v want %v (scores %v)", name, cust, k, got, want, score)
			for i := range got {
				assert.InDelta(t, score[want[i]], score[got[i]], 1e-9, "%s customer %s rank %d: got %v want %v (scores %v)", name, cust, i+1, got, want, score)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestAdvTIFUKNNZeroAsOf: the seam contract — "asOf is required: the zero
// time is an error wrapping ErrNoAsOf" — holds for every Fit that takes an
// as-of time; the non-baseline adapters must not silently fit on nothing
// (TIFUKNN at the zero time reads no basket) or on everything.
func TestAdvTIFUKNNZeroAsOf(t *testing.T) {
	ctx := context.Background()
	h := splBuild(t, nil, []splLine{
		{cust: "a", order: "1", prod: "x", unix: splT0.Unix(), qty: 1},
		{cust: "a", order: "1", prod: "y", unix: splT0.Unix(), qty: 1},
		{cust: "b", order: "1", prod: "x", unix: splT0.Unix(), qty: 1},
	}, nil)
	for _, r := range []evaluate.Recommender{&evaluate.TIFUKNN{}, &evaluate.ItemNeighbors{}, &evaluate.EASE{}} {
		assert.ErrorIs(t, r.Fit(ctx, h, time.Time{}), affinity.ErrNoAsOf, r.Name())
	}
}

// TestAdvReportInvalidItems: an Items value outside AllItems …
// ExploreItems is a caller's mistake that WriteMarkdown and WriteChart
// must report as an error, never a panic (hostile values: a clear error).
func TestAdvReportInvalidItems(t *testing.T) {
	rep := &evaluate.Report{K: 2, CurveK: 2, Rows: []evaluate.Row{{Name: "x",
		Metrics: [3]evaluate.Metrics{{Users: 1, Precision: 0.5}},
		Curve:   [3][]evaluate.Metrics{{{Users: 1}, {Users: 1}}, {{}, {}}, {{}, {}}}}}}
	for _, it := range []evaluate.Items{3, -1} {
		var b strings.Builder
		var err error
		if assert.NotPanics(t, func() { err = rep.WriteMarkdown(&b, it) }, "WriteMarkdown(%v)", it) {
			assert.Error(t, err, "WriteMarkdown(%v)", it)
		}
		if assert.NotPanics(t, func() { err = rep.WriteChart(&b, evaluate.Precision, it) }, "WriteChart(%v)", it) {
			assert.Error(t, err, "WriteChart(%v)", it)
		}
	}
}

// TestAdvEngineRepeatZero: "Without next-basket mode the engine leaves
// out what the customer already bought or rated, so its repeat metrics
// are zero by design" — evaluated on a split, the engine's lists never
// hold a product the customer bought or rated in training.
func TestAdvEngineRepeatZero(t *testing.T) {
	ctx := context.Background()
	lines, events := splGen(rand.New(rand.NewPCG(115, 116)), 40, 10)
	h := splBuild(t, splCatalog(10), lines, events)
	s, err := evaluate.ChronoSplit(ctx, h, evaluate.SplitOptions{Ratio: 0.5})
	require.NoError(t, err)
	rep, err := evaluate.Evaluate(ctx, s, []evaluate.Recommender{&evaluate.Engine{}}, evaluate.Options{K: 5})
	require.NoError(t, err)
	row := rep.Rows[0]
	require.Positive(t, row.Metrics[evaluate.RepeatItems].Users)
	assert.Zero(t, row.Metrics[evaluate.RepeatItems].HitRate, "repeat hit rate")
	assert.Zero(t, row.Metrics[evaluate.RepeatItems].Recall, "repeat recall")
}

// splChildEnv names the recommender a child run of
// TestAdvEvaluateTypedNilRecommender evaluates as a typed nil pointer.
const splChildEnv = "AFFINITY_ADV_SPLIT_TYPED_NIL"

// splTypedNils are the package's recommenders as typed nil pointers.
var splTypedNils = map[string]evaluate.Recommender{
	"Popular": (*evaluate.Popular)(nil), "SegmentPopular": (*evaluate.SegmentPopular)(nil), "Repeat": (*evaluate.Repeat)(nil),
	"Random": (*evaluate.Random)(nil), "ItemNeighbors": (*evaluate.ItemNeighbors)(nil), "EASE": (*evaluate.EASE)(nil),
	"TIFUKNN": (*evaluate.TIFUKNN)(nil), "Engine": (*evaluate.Engine)(nil),
}

// TestAdvEvaluateTypedNilRecommender: Evaluate rejects a nil recommender
// with an error ("evaluate: nil recommender", ErrNilArgument), and the seam contract says
// a nil required argument is an error, "never a panic, in the caller or
// in a worker goroutine". A typed nil pointer (a *Popular that is nil) in
// recs is the same mistake; it must be an error, not a crash of the
// process from Fit on a worker goroutine. Each case runs in a child
// process, since a panic on Evaluate's worker goroutine cannot be
// recovered by the test.
func TestAdvEvaluateTypedNilRecommender(t *testing.T) {
	if name := os.Getenv(splChildEnv); name != "" {
		h := splBuild(t, nil, []splLine{
			{cust: "a", order: "1", prod: "x", unix: splT0.Unix(), qty: 1},
			{cust: "a", order: "2", prod: "y", unix: splT0.Unix() + 86400, qty: 1},
		}, nil)
		s, err := evaluate.TemporalSplit(context.Background(), h, splT0.Add(time.Hour))
		require.NoError(t, err)
		_, err = evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{splTypedNils[name]}, evaluate.Options{Workers: 1})
		require.Error(t, err, "typed nil %s", name)
		return
	}
	names := []string{"Popular"} // crashes on the worker goroutine
	if testdata.Long() {
		names = slices.Sorted(func(yield func(string) bool) {
			for n := range splTypedNils {
				if !yield(n) {
					return
				}
			}
		})
	}
	for _, name := range names {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAdvEvaluateTypedNilRecommender$", "-test.count=1")
		cmd.Env = append(os.Environ(), splChildEnv+"="+name)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "Evaluate with a typed nil *%s: child process failed:\n%s", name, out)
	}
}

// TestAdvRefitReplaces: "A later Fit replaces what an earlier one
// learned" — a recommender fitted on one History and then on another
// (smaller catalog, other customers, another as-of time) gives, for every
// customer and k, the lists of a fresh one fitted on the second only.
func TestAdvRefitReplaces(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(117, 118))
	fresh := func() []evaluate.Recommender {
		return append(evaluate.Baselines(7), &evaluate.SegmentPopular{Depth: 2}, &evaluate.Popular{Window: 36 * time.Hour},
			&evaluate.ItemNeighbors{}, &evaluate.ItemNeighbors{BasketScope: true, HalfLife: 24 * time.Hour}, &evaluate.EASE{}, &evaluate.TIFUKNN{Neighbors: 2})
	}
	for trial := range testdata.Scale(12, 3) {
		l1, e1 := splGen(rng, 25, 12)
		h1 := splBuild(t, splCatalog(12), l1, e1)
		l2, e2 := splGen(rng, 10+rng.IntN(10), 5)
		var cat []affinity.Product
		if trial%2 == 0 {
			cat = splCatalog(5)
		}
		h2 := splBuild(t, cat, l2, e2)
		asOf2 := splT0.Add(time.Duration(24+rng.IntN(72)) * time.Hour)
		twice, once := fresh(), fresh()
		for i := range twice {
			name := fmt.Sprintf("trial %d %T %s", trial, twice[i], twice[i].Name())
			require.NoError(t, twice[i].Fit(ctx, h1, h1.Latest()), name)
			require.NoError(t, twice[i].Fit(ctx, h2, asOf2), name)
			require.NoError(t, once[i].Fit(ctx, h2, asOf2), name)
			for c := range affinity.CustomerID(h2.NumCustomers()) {
				for _, k := range []int{1, 3, 20} {
					assert.Equal(t, once[i].Recommend(nil, c, k, nil), twice[i].Recommend(nil, c, k, nil), "%s customer %d k %d", name, c, k)
				}
			}
		}
	}
}

// TestAdvStratifiedSplitInvalidStratum: SplitOptions.By is ByCustomer
// (default) or ByProduct, and the Protocol names the stratum used. Any
// other value must be an error, not a by-product split whose Protocol
// says "by customer".
func TestAdvStratifiedSplitInvalidStratum(t *testing.T) {
	lines, events := splGen(rand.New(rand.NewPCG(119, 120)), 20, 6)
	h := splBuild(t, nil, lines, events)
	for _, by := range []evaluate.Stratum{2, -1} {
		s, err := evaluate.StratifiedSplit(context.Background(), h, evaluate.SplitOptions{By: by, Seed: 3})
		if !assert.Error(t, err, "By = %d", int(by)) {
			// what it did instead
			byProduct, err := evaluate.StratifiedSplit(context.Background(), h, evaluate.SplitOptions{By: evaluate.ByProduct, Seed: 3})
			require.NoError(t, err)
			l1, _ := splDump(s.Train)
			l2, _ := splDump(byProduct.Train)
			t.Logf("By = %d: protocol %q; same training lines as ByProduct: %v", int(by), s.Protocol, slices.Equal(l1, l2))
		}
	}
}

// TestAdvMarkdownNames: WriteMarkdown writes "one row per recommender,
// one column per metric"; a recommender's name (an Engine or TIFUKNN
// Label is free text) must not add columns or rows to the table.
func TestAdvMarkdownNames(t *testing.T) {
	rep := &evaluate.Report{K: 3, Rows: []evaluate.Row{
		{Name: "engine|v2", Metrics: [3]evaluate.Metrics{{Users: 1, Precision: 0.5}}},
		{Name: "tifu\nnew", Metrics: [3]evaluate.Metrics{{Users: 1, Precision: 0.25}}},
	}}
	var b strings.Builder
	require.NoError(t, rep.WriteMarkdown(&b, evaluate.AllItems, evaluate.Precision))
	out := strings.TrimSuffix(b.String(), "\n")
	rows := strings.Split(out, "\n")
	assert.Len(t, rows, 2+len(rep.Rows), "header, rule and one line per recommender:\n%s", out)
	cells := func(line string) int { return strings.Count(line, "|") - strings.Count(line, `\|`) }
	for _, line := range rows[2:] {
		assert.Equal(t, cells(rows[0]), cells(line), "cells of %q vs header %q", line, rows[0])
	}
}
