package shop_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of the shop's lifecycle and options: Open, Refresh,
// Close, WaitModel, the background refit, Progress, the stock controls,
// snapshot immutability and the as-of time. Expected results come from
// the package documentation.

var lcT0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// lcLines is a small deterministic shop: customers c0..c(nc-1), products
// p0..p(np-1), orders spread over days after lcT0.
func lcLines(seed uint64, nc, np, orders int, from time.Time) []affinity.Purchase {
	r := rand.New(rand.NewPCG(seed, 99))
	var out []affinity.Purchase
	for o := range orders {
		c := fmt.Sprintf("c%d", r.IntN(nc))
		at := from.Add(time.Duration(r.IntN(60*24)) * time.Hour)
		n := 1 + r.IntN(4)
		for range n {
			out = append(out, affinity.Purchase{Customer: c, Product: fmt.Sprintf("p%d", r.IntN(np)),
				Order: fmt.Sprintf("o%d-%d", seed, o), Time: at, Quantity: 1, Price: affinity.Money(10_000 + r.IntN(90_000))})
		}
	}
	return out
}

func lcSrc(lines []affinity.Purchase) shop.Source { return shop.Purchases(slices.Values(lines)) }

// lcRecs are the product keys recommended to each of customers.
func lcRecs(t *testing.T, snap *shop.Snapshot, customers []string) [][]string {
	t.Helper()
	out := make([][]string, len(customers))
	for i, c := range customers {
		res, err := snap.Recommend(context.Background(), shop.Request{Customer: c, K: 10})
		require.NoError(t, err)
		for _, r := range res.Recs {
			out[i] = append(out[i], r.Product)
		}
	}
	return out
}

func lcCustomers(n int) []string {
	var cs []string
	for i := range n {
		cs = append(cs, fmt.Sprintf("c%d", i))
	}
	return cs
}

// TestLifecycleOptionsValidation: every invalid setting is an error from
// Open and OpenHistory (with no Shop), and the documented boundaries are
// accepted.
func TestLifecycleOptionsValidation(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(1, 10, 8, 20, lcT0)
	h, _, err := shop.LoadHistory(ctx, lcSrc(lines))
	require.NoError(t, err)
	base := shop.Options{Model: "neighbours"}
	with := func(f func(*shop.Options)) shop.Options { o := base; f(&o); return o }
	bad := map[string]shop.Options{
		"neighbours -1":      with(func(o *shop.Options) { o.Neighbors = -1 }),
		"neighbours 10001":   with(func(o *shop.Options) { o.Neighbors = 10_001 }),
		"neighbours maxint":  with(func(o *shop.Options) { o.Neighbors = math.MaxInt }),
		"shrinkage NaN":      with(func(o *shop.Options) { o.Shrinkage = math.NaN() }),
		"shrinkage +Inf":     with(func(o *shop.Options) { o.Shrinkage = math.Inf(1) }),
		"shrinkage -0.5":     with(func(o *shop.Options) { o.Shrinkage = -0.5 }),
		"model unknown":      with(func(o *shop.Options) { o.Model = "EASE" }),
		"refit 2":            with(func(o *shop.Options) { o.ModelRefit = 2 }),
		"refit -1":           with(func(o *shop.Options) { o.ModelRefit = -1 }),
		"value model":        with(func(o *shop.Options) { o.ValueModel = "pareto" }),
		"next basket 3":      with(func(o *shop.Options) { o.NextBasket = 3 }),
		"next basket -1":     with(func(o *shop.Options) { o.NextBasket = -1 }),
		"halflife -1ns":      with(func(o *shop.Options) { o.HalfLife = -1 }),
		"lookback -days":     with(func(o *shop.Options) { o.Lookback = affinity.Days(-1) }),
		"lookback all+bound": with(func(o *shop.Options) { o.Lookback = affinity.Lookback{All: true, Months: 2} }),
		"measure svd":        with(func(o *shop.Options) { o.Measure = "svd" }),
		"scope":              with(func(o *shop.Options) { o.Scope = "Basket " }),
	}
	for name, o := range bad {
		t.Run(name, func(t *testing.T) {
			s, err := shop.Open(ctx, lcSrc(lines), o)
			assert.Error(t, err)
			assert.Nil(t, s)
			s, err = shop.OpenHistory(ctx, h, o)
			assert.Error(t, err)
			assert.Nil(t, s)
		})
	}
	good := map[string]shop.Options{
		"zero":             {},
		"neighbours 1":     with(func(o *shop.Options) { o.Neighbors = 1 }),
		"neighbours 10000": with(func(o *shop.Options) { o.Neighbors = 10_000 }),
		"shrinkage huge":   with(func(o *shop.Options) { o.Shrinkage = math.MaxFloat64 }),
		"workers negative": with(func(o *shop.Options) { o.Workers, o.RefreshWorkers = -7, -1 }),
		"halflife huge":    with(func(o *shop.Options) { o.HalfLife = math.MaxInt64 }),
		"lookback all":     with(func(o *shop.Options) { o.Lookback = affinity.AllTime }),
		"mbgnbd inline on": with(func(o *shop.Options) { o.ValueModel, o.ModelRefit, o.NextBasket = "mbgnbd", shop.RefitInline, shop.On }),
	}
	for name, o := range good {
		t.Run(name, func(t *testing.T) {
			s, err := shop.OpenHistory(ctx, h, o)
			require.NoError(t, err)
			defer s.Close()
			_, err = s.Snapshot().Recommend(ctx, shop.Request{Customer: "c1", K: 5})
			assert.NoError(t, err)
		})
	}
}

// TestLifecycleOpenFailureGivesNoShop: an Open that fails returns no Shop
// (the Go convention the rest of the package follows): a half-built one
// has no snapshot and panics when used.
func TestLifecycleOpenFailureGivesNoShop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// an empty source reads nothing, so the cancellation is first seen by the build
	s, err := shop.Open(ctx, lcSrc(nil), shop.Options{Model: "neighbours"})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, s == nil, "a failed Open returns no Shop")
	if s != nil {
		assert.NotPanics(t, func() { _ = s.Refresh(context.Background(), lcSrc(lcLines(2, 3, 3, 2, lcT0))) },
			"a Shop that Open returned must be usable or absent")
		s.Close()
	}
}

// TestLifecycleCloseThenEverything: Close twice, then Refresh and
// WaitModel return ErrClosed, while the last snapshot keeps answering
// and live controls keep working on it.
func TestLifecycleCloseThenEverything(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(3, 20, 10, 60, lcT0)
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			s, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: model})
			require.NoError(t, err)
			require.NoError(t, s.Refresh(ctx, lcSrc(lcLines(4, 20, 10, 5, lcT0.AddDate(0, 3, 0)))))
			s.Close()
			// taken after Close: a background fit may end and serve its
			// model until Close is called, but never after
			snap := s.Snapshot()
			s.Close()
			assert.ErrorIs(t, s.Refresh(ctx, lcSrc(lcLines(5, 20, 10, 5, lcT0.AddDate(0, 4, 0)))), shop.ErrClosed)
			assert.ErrorIs(t, s.WaitModel(ctx), shop.ErrClosed)
			assert.ErrorIs(t, s.WaitModel(ctx), shop.ErrClosed, "twice")
			assert.Same(t, snap, s.Snapshot(), "Close leaves the snapshot")
			x, err := snap.SegmentIndex(ctx)
			require.NoError(t, err, "a stopped segment build is built when asked for")
			require.NotNil(t, x)
			aud, err := snap.Segment("frequency >= 1")
			require.NoError(t, err)
			assert.Positive(t, aud.Len())
			res, err := snap.Recommend(ctx, shop.Request{K: 20})
			require.NoError(t, err)
			require.NotEmpty(t, res.Recs)
			top := res.Recs[0].Product
			s.SetInStock(top, false)
			res, err = s.Snapshot().Recommend(ctx, shop.Request{K: 20})
			require.NoError(t, err)
			for _, r := range res.Recs {
				assert.NotEqual(t, top, r.Product, "live controls work after Close")
			}
		})
	}
}

// TestLifecycleCloseConcurrent: Close while refreshes, a background fit
// and WaitModel run returns, and every call ends with nil or ErrClosed.
func TestLifecycleCloseConcurrent(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(6, 2)) {
		s, err := shop.Open(ctx, lcSrc(lcLines(seed, 30, 15, 80, lcT0)), shop.Options{Model: "ease"})
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 3 {
			wg.Go(func() {
				errs <- s.Refresh(ctx, lcSrc(lcLines(seed*10+uint64(i)+100, 30, 15, 10, lcT0.AddDate(0, 3+i, 0))))
			})
		}
		wg.Go(func() { errs <- s.WaitModel(ctx) })
		if seed%2 == 0 {
			runtime.Gosched()
		}
		s.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				assert.ErrorIs(t, err, shop.ErrClosed, "seed %d", seed)
			}
		}
		assert.ErrorIs(t, s.WaitModel(ctx), shop.ErrClosed)
		_, err = s.Snapshot().Recommend(ctx, shop.Request{Customer: "c1", K: 3})
		assert.NoError(t, err)
	}
}

// TestLifecycleRefreshFailsMidway: a source that adds part of its lines
// and fails leaves the snapshot in place, and the next refresh builds as
// if the failed one never ran.
func TestLifecycleRefreshFailsMidway(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(7, 20, 10, 50, lcT0)
	later := lcLines(8, 25, 12, 20, lcT0.AddDate(0, 3, 0))
	opts := shop.Options{Model: "neighbours"}
	s, err := shop.Open(ctx, lcSrc(lines), opts)
	require.NoError(t, err)
	defer s.Close()
	before := s.Snapshot()
	boom := errors.New("feed down")
	half := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, p := range later[:len(later)/2] {
			require.NoError(t, b.Add(p))
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: "ghost", Name: "Ghost"}))
		return dataset.Report{}, boom
	})
	require.ErrorIs(t, s.Refresh(ctx, half), boom)
	assert.Same(t, before, s.Snapshot())

	cctx, cancel := context.WithCancel(ctx)
	cancelling := shop.SourceFunc(func(_ context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, p := range later[:3] {
			require.NoError(t, b.Add(p))
		}
		cancel()
		return dataset.Report{Rows: 3}, nil
	})
	require.ErrorIs(t, s.Refresh(cctx, cancelling), context.Canceled)
	assert.Same(t, before, s.Snapshot())

	require.NoError(t, s.Refresh(ctx, lcSrc(later)))
	want, err := shop.Open(ctx, lcSrc(append(slices.Clone(lines), later...)), opts)
	require.NoError(t, err)
	defer want.Close()
	got := s.Snapshot()
	assert.Equal(t, want.Snapshot().History().NumLines(), got.History().NumLines())
	_, ok := got.History().Catalog().LookupProduct("ghost")
	assert.False(t, ok, "the failed refresh's product is not kept")
	assert.Equal(t, want.Snapshot().AsOf(), got.AsOf())
	cs := lcCustomers(25)
	assert.Equal(t, lcRecs(t, want.Snapshot(), cs), lcRecs(t, got, cs))
}

// TestLifecycleRefreshNoChange: a source that changes nothing leaves the
// snapshot as it is.
func TestLifecycleRefreshNoChange(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string]shop.Options{
		"latest": {Model: "neighbours"},
		"fixed":  {Model: "neighbours", AsOf: lcT0.AddDate(0, 1, 0)},
		"ease":   {Model: "ease"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := shop.Open(ctx, lcSrc(lcLines(9, 10, 6, 20, lcT0)), opts)
			require.NoError(t, err)
			defer s.Close()
			before := s.Snapshot()
			require.NoError(t, s.Refresh(ctx, lcSrc(nil)))
			require.NoError(t, s.Refresh(ctx, shop.Sources()))
			assert.Same(t, before, s.Snapshot())
			require.NoError(t, s.WaitModel(ctx))
			assert.True(t, s.Snapshot().ModelCurrent())
		})
	}
}

// TestLifecycleConcurrentRefreshes: refreshes run one at a time, each on
// the History the one before made, so concurrent refreshes lose no line,
// while requests and stock settings go on.
func TestLifecycleConcurrentRefreshes(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(11, 20, 10, 40, lcT0)
	s, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: "neighbours", Workers: 2})
	require.NoError(t, err)
	defer s.Close()
	n := testdata.Scale(8, 4)
	total := len(lines)
	batches := make([][]affinity.Purchase, n)
	for i := range n {
		batches[i] = lcLines(uint64(100+i), 30, 14, 6, lcT0.AddDate(0, 2, i))
		total += len(batches[i])
	}
	var refreshes, reader sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		refreshes.Go(func() { errs[i] = s.Refresh(ctx, lcSrc(batches[i])) })
	}
	var stop atomic.Bool
	var readErr error
	reader.Go(func() {
		for i := 0; !stop.Load(); i++ {
			s.SetInStock(fmt.Sprintf("p%d", i%14), i%3 != 0)
			if _, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: "c3", K: 5}); err != nil {
				readErr = err
				return
			}
		}
	})
	refreshes.Wait()
	stop.Store(true)
	reader.Wait()
	assert.NoError(t, readErr)
	for i, err := range errs {
		assert.NoError(t, err, "refresh %d", i)
	}
	assert.Equal(t, total, s.Snapshot().History().NumLines())
}

// lcGoroutine is the id of the calling goroutine.
func lcGoroutine() string {
	var buf [64]byte
	f := strings.Fields(string(buf[:runtime.Stack(buf[:], false)]))
	return f[1]
}

// lcRecorder records the reports of Progress and checks the protocol of
// each step: a start (Done 0), Done never decreasing, an end (Done ==
// Total).
type lcRecorder struct {
	mu         sync.Mutex
	reports    []affinity.Progress
	goroutines map[string]bool
	inFlight   atomic.Int32
	overlap    atomic.Bool // reports overlapped: a refresh's may, Open's may not
}

func (r *lcRecorder) report(p affinity.Progress) {
	if r.inFlight.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.inFlight.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, p)
	if r.goroutines == nil {
		r.goroutines = map[string]bool{}
	}
	r.goroutines[lcGoroutine()] = true
}

var lcSteps = []string{"load", "history", "segment", "count", "neighbours", "model", "engine", "tune"}

func (r *lcRecorder) check(t *testing.T) (order []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	last := map[string]affinity.Progress{}
	open := map[string]bool{}
	for _, p := range r.reports {
		assert.Contains(t, lcSteps, p.Step)
		assert.GreaterOrEqual(t, p.Done, int64(0), "%+v", p)
		if p.Total > 0 {
			assert.LessOrEqual(t, p.Done, p.Total, "%+v", p)
		}
		if l, ok := last[p.Step]; ok && open[p.Step] && p.Unit == l.Unit {
			assert.GreaterOrEqual(t, p.Done, l.Done, "Done decreased within step %s: %+v after %+v", p.Step, p, l)
		}
		if !open[p.Step] {
			assert.Zero(t, p.Done, "a step starts at 0: %+v", p)
			open[p.Step] = true
			order = append(order, p.Step)
		} else if p.Done == p.Total {
			open[p.Step] = false
		}
		last[p.Step] = p
	}
	r.reports = nil
	return order
}

// TestLifecycleProgressOpen: Open reports each step with a start and an
// end, Done never decreasing, all from the goroutine that builds.
func TestLifecycleProgressOpen(t *testing.T) {
	ctx := context.Background()
	for _, model := range []string{"neighbours", "ease", ""} {
		t.Run("model "+model, func(t *testing.T) {
			var r lcRecorder
			s, err := shop.Open(ctx, shop.Storefront(small(3)), shop.Options{Model: model, Workers: 2, Progress: r.report})
			require.NoError(t, err)
			defer s.Close()
			steps := r.check(t)
			assert.Subset(t, steps, []string{"load", "history", "segment", "count", "neighbours", "engine"})
			assert.False(t, r.overlap.Load(), "Open reports from one goroutine at a time")
			assert.Len(t, r.goroutines, 1, "Open reports from the goroutine that builds")
		})
	}
}

// TestLifecycleProgressLoadStart: a step reports its start first (Done
// 0) and its end last (Done == Total), so that a start of unknown size
// (Done == Total == 0) is not read as the end (affinity.Progress): "load"
// starts at 0 of an unknown number of rows and ends at all of them.
func TestLifecycleProgressLoadStart(t *testing.T) {
	var r lcRecorder
	s, err := shop.Open(context.Background(), lcSrc(lcLines(1, 5, 5, 5, lcT0)), shop.Options{Model: "neighbours", Progress: r.report})
	require.NoError(t, err)
	defer s.Close()
	var load []affinity.Progress
	for _, p := range r.reports {
		if p.Step == "load" {
			load = append(load, p)
		}
	}
	require.GreaterOrEqual(t, len(load), 2, "a start and an end")
	assert.Zero(t, load[0].Done, "the first report is the start")
	last := load[len(load)-1]
	assert.True(t, last.Done == last.Total && last.Total > 0, "the last report is the end, of every row: %+v", last)
}

// TestLifecycleProgressRefresh: a refresh reports every step it runs with
// an end, the background ones included, and once WaitModel returns the
// "model" step has ended.
func TestLifecycleProgressRefresh(t *testing.T) {
	ctx := context.Background()
	var r lcRecorder
	s, err := shop.Open(ctx, lcSrc(lcLines(12, 30, 12, 80, lcT0)), shop.Options{Model: "ease", Progress: r.report})
	require.NoError(t, err)
	defer s.Close()
	r.check(t)
	require.NoError(t, s.Refresh(ctx, lcSrc(lcLines(13, 30, 12, 10, lcT0.AddDate(0, 3, 0)))))
	require.NoError(t, s.WaitModel(ctx))
	_, err = s.Snapshot().SegmentIndex(ctx)
	require.NoError(t, err)
	r.mu.Lock()
	var modelEnd bool
	for _, p := range r.reports {
		if p.Step == "model" && p.Total > 0 && p.Done == p.Total {
			modelEnd = true
		}
	}
	r.mu.Unlock()
	assert.True(t, modelEnd, "the background fit reported its end before WaitModel returned")
	steps := r.check(t)
	assert.Subset(t, steps, []string{"load", "history", "count", "neighbours", "engine", "model"})
}

// TestLifecycleStockModel: the stock set of the current snapshot is, after
// any sequence of SetInStock, UpdateStock, SetStock and refreshes that add
// products, the catalog's flag overridden by the live settings (those of
// keys the shop knew when set, or that the last SetStock named), with the
// non-merchandise never in stock — a naive model of the documentation.
func TestLifecycleStockModel(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(20, 3)) {
		r := rand.New(rand.NewPCG(seed, 5))
		const np = 24
		key := func(i int) string { return fmt.Sprintf("p%d", i) }
		product := func(i int) affinity.Product {
			name := "Thing " + key(i)
			if i%7 == 6 {
				name = "POSTAGE"
			}
			return affinity.Product{Key: key(i), Name: name, InStock: i%3 != 0}
		}
		listed := 8
		var cat []affinity.Product
		for i := range listed {
			cat = append(cat, product(i))
		}
		lines := lcLines(seed, 10, listed, 20, lcT0)
		s, err := shop.Open(ctx, shop.Sources(shop.Catalog(cat), lcSrc(lines)), shop.Options{Model: "neighbours", NonMerchandise: []string{key(np - 1)}})
		require.NoError(t, err)
		settings := map[string]bool{}
		pick := func() []string {
			var ks []string
			for range r.IntN(4) {
				ks = append(ks, key(r.IntN(np)))
			}
			return ks
		}
		// SetInStock and UpdateStock keep the settings of the keys the
		// snapshot knows and of those the last SetStock named
		update := func(k string, in bool) {
			_, known := s.Snapshot().History().Catalog().LookupProduct(k)
			if _, kept := settings[k]; known || kept {
				settings[k] = in
			}
		}
		for step := range 12 {
			switch r.IntN(5) {
			case 0:
				k, in := key(r.IntN(np)), r.IntN(2) == 0
				update(k, in)
				s.SetInStock(k, in)
			case 1:
				in, out := pick(), pick()
				for _, k := range in {
					update(k, true)
				}
				for _, k := range out {
					update(k, false)
				}
				s.UpdateStock(in, out)
			case 2:
				in, out := pick(), pick()
				s.SetStock(in, out)
				clear(settings)
				for _, k := range in {
					settings[k] = true
				}
				for _, k := range out {
					settings[k] = false
				}
			default:
				var add []affinity.Product
				for range 1 + r.IntN(3) {
					if listed < np {
						add = append(add, product(listed))
						listed++
					}
				}
				more := lcLines(seed*100+uint64(step), 10, listed, 3, lcT0.AddDate(0, 2, step))
				require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Catalog(add), lcSrc(more))))
			}
			snap := s.Snapshot()
			cat := snap.History().Catalog()
			for p := range cat.NumProducts() {
				k := cat.ProductKey(affinity.ProductID(p))
				var i int
				_, err := fmt.Sscanf(k, "p%d", &i)
				require.NoError(t, err)
				want := product(i).InStock
				if in, ok := settings[k]; ok {
					want = in
				}
				non := i%7 == 6 || i == np-1
				assert.Equal(t, non, snap.IsNonMerchandise(k), "seed %d step %d %s", seed, step, k)
				if non {
					want = false
				}
				assert.Equal(t, want, snap.Engine().InStock(affinity.ProductID(p)), "seed %d step %d %s", seed, step, k)
			}
		}
		s.Close()
	}
}

// TestLifecycleSnapshotImmutable: a snapshot held while the shop moves on
// — refreshes with the same customers' new orders, new products, stock
// changes, a background fit — answers as it did.
func TestLifecycleSnapshotImmutable(t *testing.T) {
	ctx := context.Background()
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			s, err := shop.Open(ctx, lcSrc(lcLines(21, 15, 10, 60, lcT0)), shop.Options{Model: model})
			require.NoError(t, err)
			defer s.Close()
			held := s.Snapshot()
			cs := lcCustomers(15)
			recs := lcRecs(t, held, cs)
			asOf, lines := held.AsOf(), held.History().NumLines()
			aud, err := held.Segment("frequency >= 2")
			require.NoError(t, err)
			members := aud.Len()
			for i := range 3 {
				require.NoError(t, s.Refresh(ctx, lcSrc(lcLines(uint64(30+i), 15, 14, 15, lcT0.AddDate(0, 2+i, 0)))))
				s.SetInStock(fmt.Sprintf("p%d", i), false)
			}
			s.SetStock(nil, []string{"p5", "p6"})
			require.NoError(t, s.WaitModel(ctx))
			assert.Equal(t, asOf, held.AsOf())
			assert.Equal(t, lines, held.History().NumLines())
			assert.Equal(t, recs, lcRecs(t, held, cs), "a held snapshot answers as it did")
			aud, err = held.Segment("frequency >= 2")
			require.NoError(t, err)
			assert.Equal(t, members, aud.Len())
		})
	}
}

// TestLifecycleFixedAsOf: with Options.AsOf every snapshot is as of it,
// and orders after it are not read: a refresh that adds only later
// orders leaves every answer as it was. Without it each snapshot is as of
// its History's latest time.
func TestLifecycleFixedAsOf(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(41, 15, 10, 60, lcT0)
	asOf := lcT0.AddDate(0, 1, 0).Add(time.Second / 2)
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			s, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: model, AsOf: asOf, ModelRefit: shop.RefitInline})
			require.NoError(t, err)
			defer s.Close()
			before := s.Snapshot()
			assert.True(t, before.AsOf().Equal(asOf))
			cs := lcCustomers(15)
			recs := lcRecs(t, before, cs)
			aud, err := before.Segment("frequency >= 1")
			require.NoError(t, err)
			n := aud.Len()
			require.NoError(t, s.Refresh(ctx, lcSrc(lcLines(42, 20, 14, 20, asOf.Add(time.Second)))))
			after := s.Snapshot()
			assert.True(t, after.AsOf().Equal(asOf), "a fixed as-of stays")
			// the catalog has no time: products first listed by the later
			// orders may fill lists as fallbacks; the rest is as it was
			got := lcRecs(t, after, cs)
			for i := range got {
				got[i] = slices.DeleteFunc(got[i], func(k string) bool {
					_, ok := before.History().Catalog().LookupProduct(k)
					return !ok
				})
			}
			assert.Equal(t, recs, got, "orders after the as-of are not read")
			aud, err = after.Segment("frequency >= 1")
			require.NoError(t, err)
			assert.Equal(t, n, aud.Len())
		})
	}
	s, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, s.Snapshot().History().Latest(), s.Snapshot().AsOf())
	require.NoError(t, s.Refresh(ctx, lcSrc(lcLines(43, 5, 5, 3, lcT0.AddDate(1, 0, 0)))))
	assert.Equal(t, s.Snapshot().History().Latest(), s.Snapshot().AsOf())
}

// TestLifecycleWorkersDoNotMatter: results never depend on Workers or
// RefreshWorkers, through a refresh and a background fit.
func TestLifecycleWorkersDoNotMatter(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(51, 25, 12, 80, lcT0)
	later := lcLines(52, 30, 14, 20, lcT0.AddDate(0, 3, 0))
	cs := lcCustomers(30)
	var want [][]string
	for i, w := range [][2]int{{1, 1}, {3, 2}, {-1, 0}, {2, 5}} {
		s, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: "ease", Workers: w[0], RefreshWorkers: w[1]})
		require.NoError(t, err)
		require.NoError(t, s.Refresh(ctx, lcSrc(later)))
		require.NoError(t, s.WaitModel(ctx))
		got := lcRecs(t, s.Snapshot(), cs)
		if i == 0 {
			want = got
		} else {
			assert.Equal(t, want, got, "workers %v", w)
		}
		s.Close()
	}
}

// TestLifecycleModelCurrentFlags: with RefitInline every snapshot's model
// is current at once; with RefitBackground a refreshed snapshot's flag
// never changes (snapshots are immutable), and after WaitModel the
// current snapshot's model is current and answers as RefitInline's.
func TestLifecycleModelCurrentFlags(t *testing.T) {
	ctx := context.Background()
	lines := lcLines(61, 25, 12, 80, lcT0)
	cs := lcCustomers(30)
	inline, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: "ease", ModelRefit: shop.RefitInline})
	require.NoError(t, err)
	defer inline.Close()
	bg, err := shop.Open(ctx, lcSrc(lines), shop.Options{Model: "ease"})
	require.NoError(t, err)
	defer bg.Close()
	assert.True(t, inline.Snapshot().ModelCurrent())
	assert.True(t, bg.Snapshot().ModelCurrent())
	for i := range 3 {
		more := lcLines(uint64(62+i), 30, 14, 10, lcT0.AddDate(0, 3+i, 0))
		require.NoError(t, inline.Refresh(ctx, lcSrc(more)))
		require.NoError(t, bg.Refresh(ctx, lcSrc(more)))
		assert.True(t, inline.Snapshot().ModelCurrent())
		served := bg.Snapshot()
		was := served.ModelCurrent()
		require.NoError(t, bg.WaitModel(ctx))
		assert.Equal(t, was, served.ModelCurrent(), "a snapshot's flag does not change")
		cur := bg.Snapshot()
		assert.True(t, cur.ModelCurrent())
		assert.Same(t, served.History(), cur.History(), "the fit serves the same history")
		assert.Equal(t, lcRecs(t, inline.Snapshot(), cs), lcRecs(t, cur, cs), "round %d", i)
	}
}
