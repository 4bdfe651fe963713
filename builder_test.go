package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkIncremental builds first, then NewBuilder(h1)+rest, and compares the
// result with one build of first+rest and with the model. h1 must not change.
func checkIncremental(t *testing.T, first, rest []record) {
	t.Helper()
	h1 := build(t, nil, first)
	before := viewRaw(h1)
	h2 := build(t, h1, rest)
	all := append(append([]record(nil), first...), rest...)
	want := build(t, nil, all)
	assert.Equal(t, viewHistory(want), viewHistory(h2), "incremental build differs from a full build")
	checkModel(t, all, h2)
	assert.Equal(t, before, viewRaw(h1), "NewBuilder modified its base")
}

func TestIncrementalBuild(t *testing.T) {
	for seed := range uint64(testdata.Scale(100, 20)) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 3))
			recs := genRecords(r, 1+r.IntN(150))
			// A cut at a random point, as when yesterday's export is added.
			k := r.IntN(len(recs) + 1)
			checkIncremental(t, recs[:k], recs[k:])
			// A random partition: the later half revisits every customer,
			// order and second of the first.
			var first, rest []record
			for _, rec := range recs {
				if r.IntN(2) == 0 {
					first = append(first, rec)
				} else {
					rest = append(rest, rec)
				}
			}
			checkIncremental(t, first, rest)
		})
	}
}

func TestIncrementalBuildLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 3))
	recs := genRecords(r, 10000)
	checkIncremental(t, recs[:7000], recs[7000:])
}

func TestIncrementalGenerations(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	recs := genRecords(r, 900)
	var h *affinity.History
	var views []rawView
	var gens []*affinity.History
	for i := 0; i < len(recs); i += 300 {
		j := min(i+300, len(recs))
		h = build(t, h, recs[i:j])
		gens = append(gens, h)
		views = append(views, viewRaw(h))
		checkModel(t, recs[:j], h)
	}
	assert.Equal(t, viewHistory(build(t, nil, recs)), viewHistory(h))
	for i, g := range gens {
		assert.Equal(t, views[i], viewRaw(g), "generation %d changed", i)
	}
}

func TestNewBuilderWithoutAdditions(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	recs := genRecords(r, 400)
	h := build(t, nil, recs)
	b := affinity.NewBuilder(h)
	assert.Equal(t, h.NumLines(), b.Len(), "Len counts the base's lines")
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, viewHistory(h), viewHistory(h2))

	// NewBuilder(nil) is an empty Builder (build uses it throughout).
	b = affinity.NewBuilder(nil)
	assert.Zero(t, b.Len())
}

// New lines join existing orders of the base: by order id (also when
// another customer used the same id first) and by second without one.
func TestIncrementalJoinsOrders(t *testing.T) {
	base := buildPurchases(t,
		affinity.Purchase{Customer: "b", Order: "o1", Product: "x", Time: at(0), Quantity: 1, Price: 1},
		affinity.Purchase{Customer: "a", Order: "o1", Product: "x", Time: at(10), Quantity: 1, Price: 1},
		affinity.Purchase{Customer: "a", Product: "y", Time: at(20), Quantity: 1, Price: 1},
		affinity.Purchase{Product: "y", Order: "t1", Time: at(30), Quantity: 1, Price: 1},
	)
	before := viewRaw(base)
	b := affinity.NewBuilder(base)
	for _, p := range []affinity.Purchase{
		{Customer: "a", Order: "o1", Product: "z", Time: at(5), Quantity: 2, Price: 3},
		{Customer: "a", Product: "z", Time: at(20), Quantity: 1, Price: 4},
		{Customer: "b", Order: "o1", Product: "z", Time: at(1), Quantity: 1, Price: 5},
		{Product: "z", Order: "t1", Time: at(31), Quantity: 1, Price: 6},
		{Customer: "c", Order: "o1", Product: "z", Time: at(40), Quantity: 1, Price: 7},
	} {
		require.NoError(t, b.Add(p))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before, viewRaw(base))
	assert.Equal(t, 5, h.NumOrders(), "only c's order is new")

	a := customer(t, h, "a")
	lo, hi := h.CustomerOrders(a)
	require.Equal(t, []orderView{
		{Customer: "a", Key: "o1", Unix: at(5).Unix(), Value: 7, Lines: []lineView{{"x", 1, 1}, {"z", 2, 3}}},
		{Customer: "a", Key: "", Unix: at(20).Unix(), Value: 5, Lines: []lineView{{"y", 1, 1}, {"z", 1, 4}}},
	}, viewOrders(h, lo, hi))
	blo, bhi := h.CustomerOrders(customer(t, h, "b"))
	require.Equal(t, []orderView{
		{Customer: "b", Key: "o1", Unix: at(0).Unix(), Value: 6, Lines: []lineView{{"x", 1, 1}, {"z", 1, 5}}},
	}, viewOrders(h, blo, bhi))
	alo, ahi := h.AnonymousOrders()
	require.Equal(t, []orderView{
		{Key: "t1", Unix: at(30).Unix(), Value: 7, Lines: []lineView{{"y", 1, 1}, {"z", 1, 6}}},
	}, viewOrders(h, alo, ahi))
	checkInvariants(t, h)
}

// The number of workers is a speed knob; the result must not depend on it.
func TestBuildWorkers(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	recs := genRecords(r, 5000)
	var views []historyView
	for _, w := range []int{1, 3, 8} {
		b := affinity.Builder{Workers: w}
		b.Grow(len(recs))
		addAll(t, &b, recs)
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		assert.Equal(t, w, b.Workers, "Build keeps Workers")
		views = append(views, viewHistory(h))
	}
	assert.Equal(t, views[0], views[1])
	assert.Equal(t, views[0], views[2])
}

func TestMemoryUsage(t *testing.T) {
	var b affinity.Builder
	empty, err := b.Build(context.Background())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(11, 11))
	small := build(t, nil, genRecords(r, 1000))
	large := build(t, nil, genRecords(r, 10000))
	for _, h := range []*affinity.History{small, large} {
		m := h.MemoryUsage()
		assert.Positive(t, m.Columns)
		assert.Positive(t, m.Bitmaps)
		assert.Positive(t, m.IDs)
		assert.Equal(t, m.Columns+m.Bitmaps+m.IDs, m.Total())
		// The line columns alone take 16 bytes a line.
		assert.GreaterOrEqual(t, m.Columns, 16*h.NumLines())
	}
	assert.Less(t, empty.MemoryUsage().Total(), small.MemoryUsage().Total())
	assert.Less(t, small.MemoryUsage().Total(), large.MemoryUsage().Total())
}

func TestHasProduct(t *testing.T) {
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "bare", Time: time.Unix(100, 0), Quantity: 1}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "named", Name: "Named"}))
	assert.False(t, b.HasProduct("bare"), "seen in a purchase only")
	assert.True(t, b.HasProduct("named"))
	assert.False(t, b.HasProduct("unknown"))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	assert.False(t, nb.HasProduct("bare"))
	assert.True(t, nb.HasProduct("named"), "entries of the base count")
}

// TestNewBuilderUnchanged: a Builder from a base that nothing changes
// builds the base itself; the first change copies it, leaving it intact.
func TestNewBuilderUnchanged(t *testing.T) {
	ctx := context.Background()
	h := buildPurchases(t,
		affinity.Purchase{Customer: "a", Product: "p", Order: "o1", Time: at(0), Quantity: 1, Price: 10},
		affinity.Purchase{Customer: "b", Product: "q", Order: "o2", Time: at(5), Quantity: 2, Price: 20})
	b := affinity.NewBuilder(h)
	assert.Equal(t, 2, b.Len())
	same, err := b.Build(ctx)
	require.NoError(t, err)
	assert.Same(t, h, same)

	b = affinity.NewBuilder(h)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "q", Order: "o3", Time: at(9), Quantity: 1, Price: 20}))
	next, err := b.Build(ctx)
	require.NoError(t, err)
	assert.NotSame(t, h, next)
	assert.Equal(t, 3, next.NumLines())
	assert.Equal(t, 2, h.NumLines(), "the base is not modified")

	b = affinity.NewBuilder(h)
	b.EraseCustomer("a")
	erased, err := b.Build(ctx)
	require.NoError(t, err)
	_, ok := erased.LookupCustomer("a")
	assert.False(t, ok)
	_, ok = h.LookupCustomer("a")
	assert.True(t, ok)
}

// TestBuildKeepsWorkers: Build empties the Builder but for Workers, as
// given: 0 stays 0 (GOMAXPROCS at each Build), not the number it
// resolved to on this machine.
func TestBuildKeepsWorkers(t *testing.T) {
	for _, w := range []int{0, 1, 3} {
		b := affinity.Builder{Workers: w}
		require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 1}))
		_, err := b.Build(context.Background())
		require.NoError(t, err)
		require.Equal(t, w, b.Workers)
		require.Zero(t, b.Len())
	}
}
