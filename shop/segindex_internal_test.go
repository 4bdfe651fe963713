package shop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
)

// TestSegIndexStates drives segIndex with a build that runs until it is
// released or stopped: a replaced build without waiters stops, a later
// get starts it again and gets its result; a build with a waiter is not
// stopped by the replacement, but is once the last waiter leaves; a
// waiter whose context ends leaves without the index; every caller gets
// the one result; errors other than a stop are final.
func TestSegIndexStates(t *testing.T) {
	x := new(segment.Index)
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(ctx context.Context) (*segment.Index, error) {
		builds.Add(1)
		select {
		case <-release:
			return x, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	// replaced while nobody waits: the build stops, get builds again
	g := beginSeg(build)
	g.replaced()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.cancel == nil })
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d builds before get, want 1", n)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := g.get(ended); !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("get with an ended context = %v, %v", got, err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if got, err := g.get(context.Background()); got != x || err != nil {
				t.Errorf("get = %v, %v", got, err)
			}
		})
	}
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.waiters == 3 })
	g.replaced() // waiters: not stopped
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 3 {
		// the get with the ended context started one, stopped as it
		// left: the index is replaced and nobody else waited
		t.Fatalf("%d builds, want 3 (the stopped one, the one the ended get started and left, and the one the waiters got)", n)
	}
	if got, err := g.get(context.Background()); got != x || err != nil {
		t.Fatalf("get after the build = %v, %v", got, err)
	}

	// a get that comes after the stop but before the stopped build
	// returns starts it again
	proceed := make(chan struct{})
	var builds2 atomic.Int32
	g = beginSeg(func(ctx context.Context) (*segment.Index, error) {
		if builds2.Add(1) == 1 {
			<-ctx.Done()
			<-proceed
			return nil, ctx.Err()
		}
		return x, nil
	})
	g.replaced()
	res := make(chan *segment.Index)
	go func() {
		got, _ := g.get(context.Background())
		res <- got
	}()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.waiters == 1 })
	close(proceed)
	select {
	case got := <-res:
		if got != x {
			t.Fatalf("get across a stop = %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("get across a stop never returned")
	}
	if n := builds2.Load(); n != 2 {
		t.Fatalf("%d builds across a stop, want 2", n)
	}

	// an error that is not a stop is the result
	bad := errors.New("bad")
	g = beginSeg(func(context.Context) (*segment.Index, error) { return nil, bad })
	if _, err := g.get(context.Background()); !errors.Is(err, bad) {
		t.Fatalf("get = %v, want %v", err, bad)
	}
	g.replaced()
	if _, err := g.get(context.Background()); !errors.Is(err, bad) {
		t.Fatalf("get after replaced = %v, want %v", err, bad)
	}

	// an index built before the snapshot is served
	if got, err := builtSeg(x, nil, nil).get(ended); got != x || err != nil {
		t.Fatalf("built get = %v, %v", got, err)
	}
}

// waitFor polls cond until it holds, failing after ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("condition not reached")
		}
	}
}

// beginSeg returns the segIndex of build, started.
func beginSeg(build func(context.Context) (*segment.Index, error)) *segIndex {
	g := laterSeg(func(ctx context.Context) (*segment.Index, func(), error) {
		x, err := build(ctx)
		return x, nil, err
	}, nil, nil)
	g.begin()
	return g
}

// TestSegIndexSwapsForItsCompaction: an index that carries a background
// build is swapped, once the build is done, for the index laid over it
// (the same index in the file format as a full build of its History),
// unless a newer snapshot replaced this one first or the shop closed.
func TestSegIndexSwapsForItsCompaction(t *testing.T) {
	ctx := context.Background()
	life, end := context.WithCancel(ctx)
	defer end()
	h2, asOf, x1 := compactingIndex(t, life)
	built := x1.Compacting()
	stale := builtSeg(x1, life, nil)
	stale.replaced()
	closed, stop := context.WithCancel(ctx)
	stop()
	ended := builtSeg(x1, closed, nil)
	live := builtSeg(x1, life, nil)

	select {
	case <-built:
	case <-time.After(time.Minute):
		t.Fatal("the background build did not finish within a minute")
	}
	waitFor(t, func() bool { return live.x.Load() != x1 })
	y := live.x.Load()
	if y.Compacting() != nil {
		t.Fatal("the swapped index carries a background build")
	}
	want, err := segment.Build(ctx, h2, asOf, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var gotBytes, wantBytes bytes.Buffer
	if _, err := y.WriteTo(&gotBytes); err != nil {
		t.Fatal(err)
	}
	if _, err := want.WriteTo(&wantBytes); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotBytes.Bytes(), wantBytes.Bytes()) {
		t.Fatal("the swapped index differs from a full build of its History")
	}
	if got, _ := live.get(ctx); got != y {
		t.Fatal("get does not return the swapped index")
	}
	time.Sleep(20 * time.Millisecond) // time for the others to swap, if they were to
	if stale.x.Load() != x1 {
		t.Fatal("a replaced snapshot's index was swapped")
	}
	if ended.x.Load() != x1 {
		t.Fatal("the index of a closed shop was swapped")
	}
}

// TestSegIndexNotSwappedOnceClosed: a segIndex whose shop's life has
// ended is not swapped for its compaction (builtSeg: "until the shop's
// life ends"; compactLater: "unless ... the shop closes").
//
// A segIndex made once the build is done sees both its build and its
// shop's end ready: twenty such indexes, so that a check of the life
// made only where the goroutine waits (as it once was, picked at random
// against the finished build) would let one swap with probability
// 1 − 2⁻²⁰. The swap is checked under the lock replaced holds.
func TestSegIndexNotSwappedOnceClosed(t *testing.T) {
	ctx := context.Background()
	life, end := context.WithCancel(ctx)
	defer end()
	_, _, x1 := compactingIndex(t, life)
	built := x1.Compacting()
	select {
	case <-built:
	case <-time.After(time.Minute):
		t.Fatal("the background build did not finish within a minute")
	}
	closed, stop := context.WithCancel(ctx)
	stop()
	ended := make([]*segIndex, 20)
	for i := range ended {
		ended[i] = builtSeg(x1, closed, nil)
	}
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; time.Sleep(time.Millisecond) {
		for i, g := range ended {
			if g.x.Load() != x1 {
				t.Fatalf("index %d of a closed shop was swapped for its compaction", i)
			}
		}
	}
}

// compactingIndex returns an index carrying a background build (started
// by an update of a tenth of 2,000 customers, to stop when life ends),
// with the History and time it is of.
func compactingIndex(t *testing.T, life context.Context) (*affinity.History, time.Time, *segment.Index) {
	t.Helper()
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 2000, Products: 200, Categories: 12, Seed: 3, ViewsPerLine: -1})
	h, err := sf.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	asOf := h.Latest().Add(time.Hour)
	x0, err := segment.Build(ctx, h, asOf, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nb := affinity.NewBuilder(h)
	for c := 0; c < h.NumCustomers(); c += 10 {
		p := affinity.Purchase{Customer: h.CustomerKey(affinity.CustomerID(c)), Order: fmt.Sprintf("new-%d", c),
			Product: h.Catalog().ProductKey(affinity.ProductID(c % h.Catalog().NumProducts())), Time: asOf.Add(-time.Minute), Quantity: 1, Price: 990}
		if err := nb.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	h2, err := nb.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	x1, err := segment.Update(ctx, x0, h, h2, asOf, compactionUpdate(life))
	if err != nil {
		t.Fatal(err)
	}
	if x1.Compacting() == nil {
		t.Fatal("the update started no background build")
	}
	return h2, asOf, x1
}
