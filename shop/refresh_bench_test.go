package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// stepTimer records the wall time of each build step from the Progress
// reports (a report with Done 0 starts a step, Done == Total ends it).
type stepTimer struct {
	mu    sync.Mutex
	start map[string]time.Time
	total map[string]time.Duration
}

func newStepTimer() *stepTimer {
	return &stepTimer{start: map[string]time.Time{}, total: map[string]time.Duration{}}
}

func (t *stepTimer) report(p affinity.Progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	switch {
	case p.Done == 0:
		t.start[p.Step] = now
	case p.Total > 0 && p.Done == p.Total:
		if s, ok := t.start[p.Step]; ok {
			t.total[p.Step] += now.Sub(s)
			delete(t.start, p.Step)
		}
	}
}

// of returns the total time of step so far.
func (t *stepTimer) of(step string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total[step]
}

// liveLines returns n new purchase lines in orders of 4 lines of
// existing customers, all a minute after the History's latest time: what
// a live feed delivers between two refreshes of the same day.
func liveLines(h *affinity.History, round, n int) []affinity.Purchase {
	rng := rand.New(rand.NewPCG(uint64(round), 77))
	cat := h.Catalog()
	at := h.Latest().Add(time.Minute)
	out := make([]affinity.Purchase, 0, n)
	for len(out) < n {
		c := affinity.CustomerID(rng.IntN(h.NumCustomers()))
		order := fmt.Sprintf("live-%d-%d", round, len(out))
		for range min(4, n-len(out)) {
			p := affinity.ProductID(rng.IntN(cat.NumProducts()))
			out = append(out, affinity.Purchase{Customer: h.CustomerKey(c), Product: cat.ProductKey(p), Order: order,
				Time: at, Quantity: 1, Price: affinity.Money(1000)})
		}
	}
	return out
}

// refreshSettle is how long BenchmarkRefresh waits after its iterations
// for a background build of the segment index to finish (one goroutine:
// about 8 s at 1 M customers on the 2-core machine).
const refreshSettle = 20 * time.Second

// median returns the median of ds (the mean of the middle two of an even
// number); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// roundAll rounds each of ds to the millisecond, for a log line.
func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// cpuTime returns the CPU time the process used so far (user and
// system): on a shared machine it varies less than the wall time. The
// same call gives the minor page faults so far: the kernel's count of
// pages it had to map in, whatever the runtime's accounting of them.
func cpuTime(b *testing.B) (cpu time.Duration, faults int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Minflt
}

// BenchmarkRefresh measures a refresh that adds 10,000 lines (new orders
// of existing customers) to a shop of about 1 M lines, 100,000 customers
// and 10,000 products, and to one of about 10 M lines, 1 M customers and
// 100,000 products (select it alone: it needs several GB). An iteration
// is a refresh within the day and the wait for the new snapshot's segment
// index, which the refresh updates in the background: ns/op is the time
// until segment queries see the change, recs-ms/op the time until Refresh
// returns and recommendations see it. The day's first refresh, which
// also moves the index to the new day, runs before the timer and is
// logged. The time of each build step is reported as
// ms/op metrics and the CPU time of the iteration (all goroutines) as
// cpu-ms/op. Each iteration adds 10,000 more lines. p50-ms and
// recs-p50-ms are the medians of the iterations' two times (ns/op and
// recs-ms/op their means): the first refreshes after the shop opens land
// on memory the process has not touched before (the heap grows until its
// first collection), later ones reuse what collections freed, as in a
// server that has run for a while; run enough iterations (-benchtime 24x)
// for the median to show the latter. steady-p50-ms is the median time
// until segment queries see the change over the steady-n refreshes
// that took less than 64 MiB of memory the process had not written
// before (or had given back to the system); the log lists what each
// refresh took, its page faults (the kernel's count, which matches), the
// collections during it and the memory the runtime held after it. The
// others pay a page fault per 4 KiB: the first
// refreshes, and those during which the live heap grows, as it does
// while a background build of the segment index holds a second index
// and an older History. heap-x-last is the live
// heap of the shop after the iterations (its snapshot's segment index a
// delta over a built one, perhaps with a background build of the next
// full index under way or done) against the shop's after it opened (a
// built index); heap-x-idle the same after a pause for any background
// build to finish (the current snapshot's index is then laid over it);
// heap-x after one more refresh of 1,000 lines, which lays its delta
// over that build: base and delta between compactions.
// "small" is the shop of 1 M customers refreshed with 100 lines at a
// time, a minute of a busy shop: what a refresh costs whatever the size
// of the change. "changes" is the shop of 1 M customers refreshed with
// the same 10,000 lines as order changes (shop.Changes, puts), as a
// database feed delivers them: each order is looked up among the shop's
// by its key. "views" is the shop of 100,000 customers generated with
// product views (about two events a line) and refreshed with 10,000 lines
// and 20,000 views.
func BenchmarkRefresh(b *testing.B) {
	for _, customers := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("customers=%d", customers), func(b *testing.B) {
			benchRefresh(b, customers, customers/10, 10_000, shop.Options{}, feedLines)
		})
	}
	b.Run("small", func(b *testing.B) {
		benchRefresh(b, 1_000_000, 100_000, 100, shop.Options{}, feedLines)
	})
	b.Run("changes", func(b *testing.B) {
		benchRefresh(b, 1_000_000, 100_000, 10_000, shop.Options{}, feedChanges)
	})
	b.Run("views", func(b *testing.B) {
		benchRefresh(b, 100_000, 10_000, 10_000, shop.Options{}, feedViews)
	})
}

// asChanges returns a source of the lines as order changes (puts of
// version 1, one per order), as a database feed delivers them
// (dataset.SQLSource, shop.Changes): each is looked up among the orders
// the shop has.
func asChanges(lines []affinity.Purchase) shop.Source {
	var cs []affinity.OrderChange
	for i, p := range lines {
		if i == 0 || p.Order != lines[i-1].Order {
			cs = append(cs, affinity.OrderChange{Key: p.Order, Version: 1})
		}
		c := &cs[len(cs)-1]
		c.Lines = append(c.Lines, p)
	}
	return shop.Changes(slices.Values(cs))
}

// BenchmarkRefreshModel is BenchmarkRefresh on the shop of 100,000
// customers and 10,000 products with EASE (fitted by the sparse solver),
// its model fitted again before each refreshed snapshot is served
// (RefitInline) or after, in the background (RefitBackground). The
// iterations follow each other at once, so with RefitBackground the fits
// run beside the refreshes.
func BenchmarkRefreshModel(b *testing.B) {
	for _, refit := range []shop.Refit{shop.RefitInline, shop.RefitBackground} {
		b.Run(fmt.Sprintf("refit=%v", map[shop.Refit]string{shop.RefitInline: "inline", shop.RefitBackground: "background"}[refit]), func(b *testing.B) {
			benchRefresh(b, 100_000, 10_000, 10_000, shop.Options{Model: "ease", ModelRefit: refit}, feedLines)
		})
	}
}

// grewSteady is the most memory a refresh may touch for the first time
// (mapped anew, or given back to the system and taken again) and still
// count as steady in BenchmarkRefresh's steady-p50-ms.
const grewSteady = 64 << 20

// touchedHeap returns the memory the runtime holds from the system and
// has not given back: what a refresh grows when it writes where the
// process has not written before (or not since the memory was released),
// a page fault per 4 KiB.
func touchedHeap() uint64 {
	mapped, released := heapMemory()
	return mapped - released
}

// heapMemory returns the memory the runtime has mapped from the system
// and how much of it it has given back (released).
func heapMemory() (mapped, released uint64) {
	m := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64(), m[1].Value.Uint64()
}

// gcCycles returns the number of garbage collections completed so far.
func gcCycles() uint64 {
	m := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}

// How benchRefresh feeds the lines: as purchases, as order changes, or as
// purchases with two product views a line (then the shop is generated
// with views too: about two events a line).
type feedKind int

const (
	feedLines feedKind = iota
	feedChanges
	feedViews
)

// liveViews returns n product views of existing customers a minute after
// the History's latest time.
func liveViews(h *affinity.History, round, n int) []affinity.Event {
	rng := rand.New(rand.NewPCG(uint64(round), 78))
	cat := h.Catalog()
	at := h.Latest().Add(time.Minute)
	out := make([]affinity.Event, n)
	for i := range out {
		c := affinity.CustomerID(rng.IntN(h.NumCustomers()))
		p := affinity.ProductID(rng.IntN(cat.NumProducts()))
		out[i] = affinity.Event{Customer: h.CustomerKey(c), Product: cat.ProductKey(p), Time: at, Kind: affinity.View, Weight: 1}
	}
	return out
}

func benchRefresh(b *testing.B, customers, products, lines int, opts shop.Options, kind feedKind) {
	ctx := context.Background()
	h := func() *affinity.History { // the generated data goes out of scope with it
		views := float64(-1)
		if kind == feedViews {
			views = 0 // the default: two a line
		}
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: customers, Products: products, Categories: 200, Seed: 5, ViewsPerLine: views})
		h, err := sf.History(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return h
	}()
	b.Logf("shop: %d lines, %d orders, %d customers, %d products, %d events", h.NumLines(), h.NumOrders(), h.NumCustomers(), h.Catalog().NumProducts(), h.NumEvents())
	feeds := make([][]affinity.Purchase, 0, 16)
	st := newStepTimer()
	opts.Progress = st.report
	s, err := shop.OpenHistory(ctx, h, opts)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	built := liveHeap() // one snapshot with a built index
	// The shop's data ends at 23:59, so the first refresh starts a new
	// day and moves the segment index on to it (see shop.Options.AsOf);
	// it runs before the timer and is logged. The iterations are the
	// refreshes within that day.
	t0 := time.Now()
	feed := liveLines(h, -1, lines)
	round := 0
	source := func(feed []affinity.Purchase) shop.Source {
		switch kind {
		case feedChanges:
			return asChanges(feed)
		case feedViews:
			evs := liveViews(s.Snapshot().History(), round, 2*len(feed))
			return shop.Sources(shop.Purchases(slices.Values(feed)), shop.SourceFunc(func(_ context.Context, b *affinity.Builder) (dataset.Report, error) {
				for _, e := range evs {
					if err := b.AddEvent(e); err != nil {
						return dataset.Report{}, err
					}
				}
				return dataset.Report{Rows: len(evs), Loaded: len(evs), Events: len(evs)}, nil
			}))
		}
		return shop.Purchases(slices.Values(feed))
	}
	if err := s.Refresh(ctx, source(feed)); err != nil {
		b.Fatal(err)
	}
	recs0 := time.Since(t0)
	if _, err := s.Snapshot().SegmentIndex(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("first refresh of the day: recommendations after %v, segment queries after %v", recs0.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	st.total = map[string]time.Duration{}
	b.ReportAllocs()
	var cpu, recs time.Duration
	var recsEach, segEach []time.Duration // each refresh's, for the medians
	var grewEach []int64                  // the memory each refresh touched first
	var faultEach []int64                 // the MiB of page faults of each refresh
	var gcEach []uint64                   // the collections during each refresh
	var mappedEach, releasedEach []uint64 // MiB the runtime holds, and has released, after each
	steps := []string{"history", "count", "neighbours", "engine", "segment"}
	stepEach := map[string][]time.Duration{} // each step's time in each refresh
	for b.Loop() {
		b.StopTimer()
		if round == len(feeds) {
			feeds = append(feeds, liveLines(s.Snapshot().History(), round, lines))
		}
		feed := feeds[round]
		b.StartTimer()
		c0, f0 := cpuTime(b)
		before := map[string]time.Duration{}
		for _, step := range steps {
			before[step] = st.of(step)
		}
		t0, m0, g0 := time.Now(), touchedHeap(), gcCycles()
		if err := s.Refresh(ctx, source(feed)); err != nil {
			b.Fatal(err)
		}
		r := time.Since(t0)
		recs += r
		recsEach = append(recsEach, r)
		if _, err := s.Snapshot().SegmentIndex(ctx); err != nil {
			b.Fatal(err)
		}
		segEach = append(segEach, time.Since(t0))
		grewEach = append(grewEach, int64(touchedHeap())-int64(m0))
		c1, f1 := cpuTime(b)
		faultEach = append(faultEach, (f1-f0)*int64(syscall.Getpagesize())>>20)
		gcEach = append(gcEach, gcCycles()-g0)
		for _, step := range steps {
			stepEach[step] = append(stepEach[step], st.of(step)-before[step])
		}
		mapped, released := heapMemory()
		mappedEach, releasedEach = append(mappedEach, mapped>>20), append(releasedEach, released>>20)
		cpu += c1 - c0
		round++
	}
	if got := s.Snapshot().History().NumLines(); got != h.NumLines()+lines*(round+1) {
		b.Fatalf("refreshed shop has %d lines, want %d", got, h.NumLines()+lines*(round+1))
	}
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(round), "cpu-ms/op")
	// one snapshot whose index is a delta laid over a built one, and
	// perhaps a background build of the next full index under way
	b.StopTimer()
	feeds, feed = nil, nil
	runtime.GC()
	b.ReportMetric(float64(liveHeap())/float64(built), "heap-x-last")
	// between compactions: once a background build is done, the next
	// refresh lays its delta over it and the older full index goes
	time.Sleep(refreshSettle)
	runtime.GC()
	b.ReportMetric(float64(liveHeap())/float64(built), "heap-x-idle")
	if err := s.Refresh(ctx, shop.Purchases(slices.Values(liveLines(s.Snapshot().History(), 1_000_000, 1_000)))); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Snapshot().SegmentIndex(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ReportMetric(float64(liveHeap())/float64(built), "heap-x")
	runtime.KeepAlive(s)
	b.ReportMetric(float64(recs.Microseconds())/1e3/float64(round), "recs-ms/op")
	b.ReportMetric(float64(median(recsEach).Microseconds())/1e3, "recs-p50-ms")
	b.ReportMetric(float64(median(segEach).Microseconds())/1e3, "p50-ms")
	b.Logf("each refresh until recommendations see it: %v; until segment queries do: %v", roundAll(recsEach), roundAll(segEach))
	// the refreshes that did not grow the heap's memory, apart
	var steady []time.Duration
	mib := make([]int64, len(grewEach))
	for i, g := range grewEach {
		mib[i] = g >> 20
		if g < grewSteady {
			steady = append(steady, segEach[i])
		}
	}
	b.Logf("memory each refresh touched first (MiB): %v", mib)
	b.Logf("page faults of each refresh (MiB): %v", faultEach)
	b.Logf("collections during each refresh: %v", gcEach)
	for _, step := range steps {
		b.Logf("the %s step of each refresh (median %v): %v", step, median(stepEach[step]).Round(time.Millisecond), roundAll(stepEach[step]))
	}
	b.Logf("mapped after each refresh (MiB): %v", mappedEach)
	b.Logf("released after each refresh (MiB): %v", releasedEach)
	if len(steady) > 0 {
		b.ReportMetric(float64(median(steady).Microseconds())/1e3, "steady-p50-ms")
	}
	b.ReportMetric(float64(len(steady)), "steady-n")
	for _, step := range []string{"load", "history", "segment", "count", "neighbours", "model", "engine"} {
		if _, ok := st.total[step]; !ok && step == "model" {
			continue // no learned model
		}
		b.ReportMetric(float64(st.total[step].Microseconds())/1e3/float64(round), step+"-ms/op")
	}
}
