package affinity_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPutOfWhatIsHeldCostsNoBuild: a put that puts back what the History
// holds — same key, version, customer, time and lines — wins by the rule
// of Apply and changes nothing, so Build returns the History itself (a
// database polled by updated_at >= the last poll's time reads its latest
// rows again at every poll). Every other put of the key is a change.
func TestPutOfWhatIsHeldCostsNoBuild(t *testing.T) {
	ctx := context.Background()
	line := func(c, p string, q int32, price affinity.Money, at time.Duration) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: p, Time: verT0.Add(at), Quantity: q, Price: price}
	}
	held := []affinity.Purchase{line("c1", "p1", 2, 500, time.Hour), line("c1", "p2", 1, 250, 2*time.Hour), line("c1", "p1", 1, 500, time.Hour)}
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.PutOrder("o1", 7, held))
	require.NoError(t, b.PutOrder("anon", 3, []affinity.Purchase{line("", "p2", 1, 250, 0)}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c2", Product: "p1", Order: "o2", Time: verT0, Quantity: 1, Price: 500}))
	h, err := b.Build(ctx)
	require.NoError(t, err)

	build := func(stage func(b *affinity.Builder)) *affinity.History {
		t.Helper()
		b := affinity.NewBuilder(h)
		stage(b)
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		return h2
	}
	put := func(key string, v int64, lines []affinity.Purchase) func(b *affinity.Builder) {
		return func(b *affinity.Builder) { require.NoError(t, b.PutOrder(key, v, lines)) }
	}
	// no change: the same History
	for name, stage := range map[string]func(*affinity.Builder){
		"the same put": put("o1", 7, held),
		"a later line at another later time":// an order's time is its earliest line's
		put("o1", 7, []affinity.Purchase{held[0], {Customer: "c1", Product: "p2", Time: verT0.Add(time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond), Quantity: 1, Price: 250}, held[2]}),
		"an anonymous order again":          put("anon", 3, []affinity.Purchase{line("", "p2", 1, 250, 0)}),
		"an order of Add, put at version 0": put("o2", 0, []affinity.Purchase{line("c2", "p1", 1, 500, 0)}),
		"an older version":                  put("o1", 6, held[:1]),
		"twice the same put":                func(b *affinity.Builder) { put("o1", 7, held)(b); put("o1", 7, held)(b) },
	} {
		assert.Same(t, h, build(stage), "%s: Build returns the History", name)
	}
	// a change: a new History with the put's order
	for name, stage := range map[string]func(*affinity.Builder){
		"a higher version":             put("o1", 8, held),
		"another quantity":             put("o1", 7, []affinity.Purchase{held[0], held[1], line("c1", "p1", 2, 500, time.Hour)}),
		"another price":                put("o1", 7, []affinity.Purchase{held[0], held[1], line("c1", "p1", 1, 501, time.Hour)}),
		"another product":              put("o1", 7, []affinity.Purchase{held[0], held[1], line("c1", "p2", 1, 500, time.Hour)}),
		"lines in another order":       put("o1", 7, []affinity.Purchase{held[1], held[0], held[2]}),
		"a line fewer":                 put("o1", 7, held[:2]),
		"an earlier time":              put("o1", 7, []affinity.Purchase{held[0], held[1], line("c1", "p1", 1, 500, time.Hour-time.Second)}),
		"another customer":             put("o1", 7, []affinity.Purchase{line("c2", "p1", 2, 500, time.Hour), line("c2", "p2", 1, 250, 2*time.Hour), line("c2", "p1", 1, 500, time.Hour)}),
		"a customer for anonymous":     put("anon", 3, []affinity.Purchase{line("c3", "p2", 1, 250, 0)}),
		"an order of Add at version 1": put("o2", 1, []affinity.Purchase{line("c2", "p1", 1, 500, 0)}),
		"the same put and a line added with its key": func(b *affinity.Builder) {
			put("o1", 7, held)(b)
			require.NoError(t, b.Add(affinity.Purchase{Customer: "c1", Product: "p2", Order: "o1", Time: verT0.Add(time.Hour), Quantity: 1, Price: 250}))
		},
		"the same put of an erased customer": func(b *affinity.Builder) { put("o1", 7, held)(b); b.EraseCustomer("c1") },
	} {
		h2 := build(stage)
		assert.NotSame(t, h, h2, "%s: a change", name)
	}

	// a deleted key put again at the tombstone's version is a change: the
	// put removes the tombstone, and an Add after a delete leaves it
	b = affinity.NewBuilder(h)
	require.NoError(t, b.DeleteOrder("o1", 9))
	dead, err := b.Build(ctx)
	require.NoError(t, err)
	b = affinity.NewBuilder(dead)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c1", Product: "p1", Order: "o1", Time: verT0, Quantity: 1, Price: 500}))
	added, err := b.Build(ctx)
	require.NoError(t, err)
	b = affinity.NewBuilder(added)
	require.NoError(t, b.PutOrder("o1", 9, []affinity.Purchase{line("c1", "p1", 1, 500, 0)}))
	again, err := b.Build(ctx)
	require.NoError(t, err)
	require.NotSame(t, added, again)
	_, dead1 := affinity.HistoryTombstone(added, "o1")
	_, dead2 := affinity.HistoryTombstone(again, "o1")
	assert.True(t, dead1)
	assert.False(t, dead2, "the put at the tombstone's version removed it")
}

// TestReputsAcrossBuildsProperty: a feed split into consecutive Builds,
// each Build also putting again some of what the History holds (the
// latest rows of the last poll), builds what the feed alone builds, and
// a Build of nothing but such puts returns the History itself.
func TestReputsAcrossBuildsProperty(t *testing.T) {
	keys := []string{"k0", "k1", "k2", "k3"}
	for seed := range uint64(testdata.Scale(200, 60)) {
		r := rand.New(rand.NewPCG(seed, 9))
		feed := verFeed(r, 3+r.IntN(20), 1, 4)
		cuts := []int{0}
		for i := 1; i < len(feed); i++ {
			if r.IntN(3) == 0 {
				cuts = append(cuts, i)
			}
		}
		cuts = append(cuts, len(feed))
		var plain, reput *affinity.History
		for j := 1; j < len(cuts); j++ {
			part := feed[cuts[j-1]:cuts[j]]
			plain = verBuildOnce(t, plain, part)
			// what reput holds of some keys, put again
			var again []affinity.OrderChange
			if reput != nil {
				for o := range reput.Orders() {
					if r.IntN(2) == 0 {
						again = append(again, verHeldPut(reput, o))
					}
				}
			}
			if reput != nil && len(again) > 0 {
				same := verBuildOnce(t, reput, again)
				require.Same(t, reput, same, "seed %d: puts of what the History holds build it", seed)
			}
			reput = verBuildOnce(t, reput, append(again, part...))
			require.Equal(t, verKeyed(plain, keys), verKeyed(reput, keys), "seed %d, Build %d", seed, j)
		}
	}
}

// verBuildOnce builds the changes on base (nil: none) in one Builder.
func verBuildOnce(t *testing.T, base *affinity.History, changes []affinity.OrderChange) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(base)
	for _, c := range changes {
		require.NoError(t, b.Apply(c))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// verHeldPut returns the put that makes order o of h as it is.
func verHeldPut(h *affinity.History, o affinity.OrderID) affinity.OrderChange {
	c := ""
	if id := h.OrderCustomer(o); id != affinity.NoCustomer {
		c = h.CustomerKey(id)
	}
	lo, hi := h.OrderLines(o)
	lines := make([]affinity.Purchase, 0, hi-lo)
	for i := lo; i < hi; i++ {
		l := h.Line(i)
		lines = append(lines, affinity.Purchase{Customer: c, Product: h.Catalog().ProductKey(l.Product), Time: h.OrderTime(o), Quantity: l.Quantity, Price: l.Price})
	}
	return affinity.OrderChange{Key: h.OrderKey(o), Version: h.OrderVersion(o), Lines: slices.Clip(lines)}
}

// TestNegativeVersionsRefused: versions are 0 (no version) or above. A
// version below 0 could not be ordered against a delete of version 0,
// which keeps no tombstone: del(k, 0) then put(k, -1) left no order in
// one Builder and the order when a refresh fell between them. Apply
// refuses it and stages nothing.
func TestNegativeVersionsRefused(t *testing.T) {
	ctx := context.Background()
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.PutOrder("k", 0, []affinity.Purchase{{Customer: "c", Product: "p", Time: verT0, Quantity: 1, Price: 100}}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	for _, c := range []affinity.OrderChange{
		{Key: "k", Version: -1, Lines: []affinity.Purchase{{Customer: "d", Product: "p", Time: verT0, Quantity: 1, Price: 100}}},
		{Key: "k", Version: -1, Delete: true},
		{Key: "new", Version: math.MinInt64, Lines: []affinity.Purchase{{Customer: "d", Product: "q", Time: verT0, Quantity: 1, Price: 100}}},
	} {
		b := affinity.NewBuilder(h)
		err := b.Apply(c)
		require.ErrorIs(t, err, affinity.ErrInvalid)
		require.ErrorContains(t, err, "negative version")
		h2, err := b.Build(ctx)
		require.NoError(t, err)
		assert.Same(t, h, h2, "nothing staged")
	}
}
