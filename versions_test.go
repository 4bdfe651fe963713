package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var verT0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// verKeyed is a History by order key: per key its customer, time,
// version and lines; then the tombstones of keys.
func verKeyed(h *affinity.History, keys []string) []string {
	var out []string
	cat := h.Catalog()
	for o := range h.Orders() {
		c := "-"
		if id := h.OrderCustomer(o); id != affinity.NoCustomer {
			c = h.CustomerKey(id)
		}
		var ls []string
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			ls = append(ls, fmt.Sprintf("%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price))
		}
		out = append(out, fmt.Sprintf("%s %s %d v%d %v", h.OrderKey(o), c, h.OrderUnix(o)-verT0.Unix(), h.OrderVersion(o), ls))
	}
	slices.Sort(out)
	for _, k := range keys {
		if v, ok := affinity.HistoryTombstone(h, k); ok {
			out = append(out, fmt.Sprintf("tombstone %s v%d", k, v))
		}
	}
	return out
}

// verState is what a History holds of a key, by the rule of
// Builder.Apply, given the versions of its orders and its tombstone
// (dead: it has one): the version of the latest change and whether it
// was a delete; ok is false when it holds neither. The models of the
// tests use it.
func verState(orders []int64, tomb int64, dead bool) (v int64, del, ok bool) {
	for _, o := range orders {
		if !ok || o > v {
			v, ok = o, true
		}
	}
	if dead && (!ok || tomb >= v) {
		return tomb, true, true
	}
	return v, false, ok
}

// verFirstVersions returns the versions of the orders of key among a
// model's lines, of which of gives the key, the customer and the version:
// per customer, its first line's (lines Add joins to an order keep its
// version).
func verFirstVersions[L any, C comparable](lines []L, key string, of func(L) (string, C, int64)) []int64 {
	var vs []int64
	seen := map[C]bool{}
	for _, l := range lines {
		if k, c, v := of(l); k == key && !seen[c] {
			seen[c] = true
			vs = append(vs, v)
		}
	}
	return vs
}

// verFeed returns n random puts and deletes of a few keys, with versions
// in [lo, lo+nv), of a few customers and products.
func verFeed(r *rand.Rand, n int, lo int64, nv int) []affinity.OrderChange {
	feed := make([]affinity.OrderChange, n)
	for i := range feed {
		c := affinity.OrderChange{Key: fmt.Sprintf("k%d", r.IntN(4)), Version: lo + int64(r.IntN(nv))}
		if r.IntN(3) == 0 {
			c.Delete = true
		} else {
			cust := fmt.Sprintf("c%d", r.IntN(3))
			if r.IntN(6) == 0 {
				cust = "" // anonymous
			}
			at := verT0.Add(time.Duration(r.IntN(5)) * time.Hour)
			for range 1 + r.IntN(3) {
				c.Lines = append(c.Lines, affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%d", r.IntN(4)),
					Time: at, Quantity: int32(1 + r.IntN(3)), Price: affinity.Money(100 * (1 + r.IntN(5)))})
			}
		}
		feed[i] = c
	}
	return feed
}

// verModel applies the feed after the orders of base (version 0, put by
// Add) as the documentation states it, the feed split at cuts into
// consecutive Builds (cuts nil: one Builder). Within a Builder, per key,
// the change with the highest version wins; at equal versions a delete
// beats a put and, between two puts, the later one wins. Each Build's
// winner then replaces what the History holds of its key when its
// version is not lower than the held one (the order's, or the
// tombstone's): at equal versions the later Build wins, put or delete. It
// returns what verKeyed gives for the History of the winners.
func verModel(base []affinity.Purchase, feed []affinity.OrderChange, cuts []int, keys []string) []string {
	type win struct {
		c   affinity.OrderChange
		add bool // base's lines, added with Add
	}
	wins := map[string]win{}
	for _, p := range base {
		w := wins[p.Order]
		w.add = true
		w.c.Key = p.Order
		w.c.Lines = append(w.c.Lines, p)
		wins[p.Order] = w
	}
	isDel := func(c affinity.OrderChange) bool { return c.Delete || len(c.Lines) == 0 }
	from := 0
	for _, to := range append(slices.Clone(cuts), len(feed)) {
		staged := map[string]affinity.OrderChange{}
		var order []string
		for _, c := range feed[from:to] {
			if w, ok := staged[c.Key]; ok && (c.Version < w.Version || c.Version == w.Version && isDel(w) && !isDel(c)) {
				continue
			} else if !ok {
				order = append(order, c.Key)
			}
			staged[c.Key] = c
		}
		for _, k := range order {
			c := staged[k]
			if w, ok := wins[k]; ok && c.Version < w.c.Version {
				continue
			}
			if isDel(c) && c.Version == 0 {
				delete(wins, k) // no tombstone: nothing held
				continue
			}
			wins[k] = win{c: c}
		}
		from = to
	}
	var out []string
	for k, w := range wins {
		if isDel(w.c) {
			continue
		}
		c := w.c.Lines[0].Customer
		if c == "" {
			c = "-"
		}
		at := w.c.Lines[0].Time
		var ls []string
		for _, p := range w.c.Lines {
			if p.Time.Before(at) {
				at = p.Time
			}
			ls = append(ls, fmt.Sprintf("%s:%d:%d", p.Product, p.Quantity, p.Price))
		}
		out = append(out, fmt.Sprintf("%s %s %d v%d %v", k, c, at.Unix()-verT0.Unix(), w.c.Version, ls))
	}
	slices.Sort(out)
	for _, k := range keys {
		if w, ok := wins[k]; ok && isDel(w.c) {
			out = append(out, fmt.Sprintf("tombstone %s v%d", k, w.c.Version))
		}
	}
	return out
}

// verTiedDeletePut reports whether feed holds a delete and a put of one
// key at one version: the only feeds whose outcome depends on where they
// are cut into Builds, and that a replay may change (a put replayed
// after the delete that beat it in its Builder wins in a later one).
func verTiedDeletePut(feed []affinity.OrderChange) bool {
	type kv struct {
		key string
		v   int64
	}
	del, put := map[kv]bool{}, map[kv]bool{}
	for _, c := range feed {
		if c.Delete || len(c.Lines) == 0 {
			del[kv{c.Key, c.Version}] = true
		} else {
			put[kv{c.Key, c.Version}] = true
		}
	}
	for k := range del {
		if put[k] {
			return true
		}
	}
	return false
}

// verBuild applies feed in Builders over base (nil: none), one per part
// split at cuts, and returns the last History.
func verBuild(t *testing.T, base *affinity.History, feed []affinity.OrderChange, cuts []int) *affinity.History {
	t.Helper()
	h := base
	from := 0
	for _, to := range append(cuts, len(feed)) {
		b := affinity.NewBuilder(h)
		for _, c := range feed[from:to] {
			require.NoError(t, b.Apply(c))
		}
		var err error
		h, err = b.Build(context.Background())
		require.NoError(t, err)
		from = to
	}
	return h
}

// TestVersionsAcrossBuilds: a feed of puts and deletes, shuffled and split
// at any points into consecutive Builds, each over the History of the
// one before, gives the History that the rule of Builder.Apply gives per
// key: within a Builder the change with the highest version wins, a
// delete beats a put of the same version, the later of two puts of the
// same version wins; across Builds a change wins over what the History
// holds when its version is not lower (a later Build holds a later state
// of the source). So the split feed gives what one Builder gives for the
// whole feed unless a delete and a put of one key share a version across
// a cut; the test checks each against its model. That holds on a base of
// orders added with Add (version 0), in every way Build treats a base and
// lays out the orders, and for the versions and tombstones the History
// keeps.
func TestVersionsAcrossBuilds(t *testing.T) {
	keys := []string{"k0", "k1", "k2", "k3"}
	modes := []struct {
		name         string
		base, layout int32
	}{
		{"auto", affinity.BaseAuto, affinity.LayoutAuto},
		{"over-append", affinity.BaseOver, affinity.LayoutAppend},
		{"over-compact", affinity.BaseOver, affinity.LayoutCompact},
		{"copy", affinity.BaseCopy, affinity.LayoutAuto},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			wb, wl := affinity.SetBaseMode(mode.base), affinity.SetLayoutMode(mode.layout)
			defer func() { affinity.SetBaseMode(wb); affinity.SetLayoutMode(wl) }()
			for seed := range uint64(testdata.Scale(300, 100)) {
				r := rand.New(rand.NewPCG(seed, 7))
				var added []affinity.Purchase
				var base *affinity.History
				if seed%3 == 0 {
					// a base of orders put by Add, version 0
					var b affinity.Builder
					for i := range 1 + r.IntN(3) {
						p := affinity.Purchase{Customer: fmt.Sprintf("c%d", r.IntN(3)), Product: "p9", Order: keys[i],
							Time: verT0.Add(-time.Hour), Quantity: 1, Price: 100}
						require.NoError(t, b.Add(p))
						added = append(added, p)
					}
					var err error
					base, err = b.Build(context.Background())
					require.NoError(t, err)
				}
				feed := verFeed(r, 1+r.IntN(14), 1, 1+r.IntN(5))
				cuts := make([]int, r.IntN(4))
				for i := range cuts {
					cuts[i] = r.IntN(len(feed) + 1)
				}
				slices.Sort(cuts)
				what := fmt.Sprintf("seed %d feed %v cuts %v", seed, verFeedString(feed), cuts)

				one := verBuild(t, base, feed, nil)
				require.Equal(t, verModel(added, feed, nil, keys), verKeyed(one, keys), "one Builder: %s", what)
				want := verModel(added, feed, cuts, keys)
				split := verBuild(t, base, feed, cuts)
				require.Equal(t, want, verKeyed(split, keys), "split: %s", what)
				if !verTiedDeletePut(feed) {
					require.Equal(t, verKeyed(one, keys), verKeyed(split, keys), "split as one Builder: %s", what)
				}

				// replaying the whole feed, or any part of it, changes
				// nothing, unless the feed holds a delete and a put of one
				// key at one version: replayed in a later Build, the put
				// that the delete beat in its Builder wins
				from := r.IntN(len(feed))
				again := verBuild(t, split, feed[from:], nil)
				if !verTiedDeletePut(feed) {
					require.Equal(t, want, verKeyed(again, keys), "replayed: %s", what)
				} else {
					require.Equal(t, verModel(added, append(slices.Clone(feed), feed[from:]...), append(slices.Clone(cuts), len(feed)), keys),
						verKeyed(again, keys), "replayed, by the model: %s", what)
				}
			}
		})
	}
}

func verFeedString(feed []affinity.OrderChange) string {
	var s []string
	for _, c := range feed {
		if c.Delete {
			s = append(s, fmt.Sprintf("del(%s,%d)", c.Key, c.Version))
			continue
		}
		s = append(s, fmt.Sprintf("put(%s,%d,%s)", c.Key, c.Version, c.Lines[0].Customer))
	}
	return strings.Join(s, " ")
}

// TestVersionsReplayCostsNothing: a change that loses to the versions a
// History keeps (an older one), or repeats a delete it keeps, is no
// change: Build returns the base itself. A delete of an order the History never held
// is kept as a tombstone (a new History with the same orders), so that
// the put it cancels, arriving later, is refused.
func TestVersionsReplayCostsNothing(t *testing.T) {
	ctx := context.Background()
	line := func(q int32) []affinity.Purchase {
		return []affinity.Purchase{{Customer: "ann", Product: "p", Time: verT0, Quantity: q, Price: 100}}
	}
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.PutOrder("o1", 5, line(1)))
	require.NoError(t, b.DeleteOrder("o2", 7))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	o, ok := h.LookupOrder("o1")
	require.True(t, ok)
	assert.Equal(t, int64(5), h.OrderVersion(o))

	for name, stage := range map[string]func(b *affinity.Builder){
		"older put":        func(b *affinity.Builder) { require.NoError(t, b.PutOrder("o1", 4, line(9))) },
		"older delete":     func(b *affinity.Builder) { require.NoError(t, b.DeleteOrder("o1", 4)) },
		"older put, gone":  func(b *affinity.Builder) { require.NoError(t, b.PutOrder("o2", 6, line(9))) },
		"delete replayed":  func(b *affinity.Builder) { require.NoError(t, b.DeleteOrder("o2", 7)) },
		"older delete too": func(b *affinity.Builder) { require.NoError(t, b.DeleteOrder("o2", 3)) },
	} {
		nb := affinity.NewBuilder(h)
		stage(nb)
		got, err := nb.Build(ctx)
		require.NoError(t, err)
		assert.Same(t, h, got, name)
	}

	// a delete of an unknown key: a tombstone, no order changed
	nb := affinity.NewBuilder(h)
	require.NoError(t, nb.DeleteOrder("o3", 2))
	h2, err := nb.Build(ctx)
	require.NoError(t, err)
	assert.NotSame(t, h, h2)
	assert.Equal(t, verKeyed(h, nil), verKeyed(h2, nil))
	ch, ok := h2.ChangedSince(h)
	assert.True(t, ok)
	assert.Empty(t, ch.Customers)
	v, ok := affinity.HistoryTombstone(h2, "o3")
	assert.True(t, ok)
	assert.Equal(t, int64(2), v)
	nb = affinity.NewBuilder(h2)
	require.NoError(t, nb.PutOrder("o3", 1, line(1)))
	got, err := nb.Build(ctx)
	require.NoError(t, err)
	assert.Same(t, h2, got, "the cancelled order's older put is refused")

	// a put at a delete's version in a later Build wins (a source polled
	// with ties: the order re-opened within the same version)
	nb = affinity.NewBuilder(h2)
	require.NoError(t, nb.PutOrder("o2", 7, line(9)))
	got, err = nb.Build(ctx)
	require.NoError(t, err)
	o, ok = got.LookupOrder("o2")
	require.True(t, ok, "a put at the delete's version in a later Build wins")
	assert.Equal(t, int64(7), got.OrderVersion(o))
	_, ok = affinity.HistoryTombstone(got, "o2")
	assert.False(t, ok, "and removes the tombstone")

	// a newer put wins and removes the tombstone
	nb = affinity.NewBuilder(h2)
	require.NoError(t, nb.PutOrder("o2", 8, line(2)))
	h3, err := nb.Build(ctx)
	require.NoError(t, err)
	o, ok = h3.LookupOrder("o2")
	require.True(t, ok)
	assert.Equal(t, int64(8), h3.OrderVersion(o))
	_, ok = affinity.HistoryTombstone(h3, "o2")
	assert.False(t, ok)
	assert.Equal(t, 1, affinity.HistoryTombstones(h3), "o3's stays")
}

// TestVersionZeroAcrossBuilds: version 0 is no version. Orders added with
// Add have it, and a put of version 0 in a later Build replaces them, as
// a later put of an equal version does; a delete of version 0 leaves no
// tombstone, so a put of version 0 in a later Build puts the order back
// (within one Builder the delete wins); an order at a version above 0
// refuses puts of version 0 from then on.
func TestVersionZeroAcrossBuilds(t *testing.T) {
	ctx := context.Background()
	line := func(q int32) affinity.Purchase {
		return affinity.Purchase{Customer: "ann", Product: "p", Order: "o1", Time: verT0, Quantity: q, Price: 100}
	}
	qty := func(h *affinity.History) int32 {
		o, ok := h.LookupOrder("o1")
		if !ok {
			return 0
		}
		lo, _ := h.OrderLines(o)
		return h.LineQuantity(lo)
	}
	step := func(h *affinity.History, f func(b *affinity.Builder) error) *affinity.History {
		b := affinity.NewBuilder(h)
		require.NoError(t, f(b))
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	h := step(nil, func(b *affinity.Builder) error { return b.Add(line(1)) })
	assert.Equal(t, int32(1), qty(h))
	h = step(h, func(b *affinity.Builder) error { return b.PutOrder("o1", 0, []affinity.Purchase{line(2)}) })
	assert.Equal(t, int32(2), qty(h), "a put of version 0 replaces an order added with Add")
	h = step(h, func(b *affinity.Builder) error { return b.PutOrder("o1", 0, []affinity.Purchase{line(3)}) })
	assert.Equal(t, int32(3), qty(h), "and the later of two puts of version 0 wins")
	h = step(h, func(b *affinity.Builder) error { return b.DeleteOrder("o1", 0) })
	assert.Equal(t, int32(0), qty(h))
	assert.Equal(t, 0, affinity.HistoryTombstones(h), "a delete of version 0 leaves no tombstone")
	h = step(h, func(b *affinity.Builder) error { return b.PutOrder("o1", 0, []affinity.Purchase{line(4)}) })
	assert.Equal(t, int32(4), qty(h), "so a later put of version 0 puts the order back")
	h = step(h, func(b *affinity.Builder) error { return b.PutOrder("o1", 2, []affinity.Purchase{line(5)}) })
	h = step(h, func(b *affinity.Builder) error { return b.PutOrder("o1", 0, []affinity.Purchase{line(6)}) })
	assert.Equal(t, int32(5), qty(h), "a put of version 0 loses to one of version 2")
	h = step(h, func(b *affinity.Builder) error { return b.Add(line(7)) })
	o, _ := h.LookupOrder("o1")
	lo, hi := h.OrderLines(o)
	assert.Equal(t, 2, hi-lo, "lines added with Add join the order")
	assert.Equal(t, int64(2), h.OrderVersion(o), "and leave its version")
}

// TestVersionsWithAddAndErase: lines added with Add to a key whose order
// was deleted make an order of version 0, and the tombstone still
// refuses puts below its version, while one at or above it replaces the
// order; an erasure drops the customer's orders with their versions and
// leaves no tombstone.
func TestVersionsWithAddAndErase(t *testing.T) {
	ctx := context.Background()
	put := func(cust string, q int32) []affinity.Purchase {
		return []affinity.Purchase{{Customer: cust, Product: "p", Time: verT0, Quantity: q, Price: 100}}
	}
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.DeleteOrder("o1", 3))
	require.NoError(t, b.PutOrder("o2", 3, put("bob", 1)))
	h, err := b.Build(ctx)
	require.NoError(t, err)

	b = affinity.NewBuilder(h)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "p", Order: "o1", Time: verT0, Quantity: 7, Price: 100}))
	require.NoError(t, b.PutOrder("o1", 2, put("ann", 1))) // below the tombstone's version: refused
	h, err = b.Build(ctx)
	require.NoError(t, err)
	o, ok := h.LookupOrder("o1")
	require.True(t, ok, "Add ignores the tombstone")
	lo, _ := h.OrderLines(o)
	assert.Equal(t, int32(7), h.LineQuantity(lo))
	assert.Equal(t, int64(0), h.OrderVersion(o))

	b = affinity.NewBuilder(h)
	require.NoError(t, b.PutOrder("o1", 3, put("ann", 3))) // at the tombstone's version: wins
	h3, err := b.Build(ctx)
	require.NoError(t, err)
	o, ok = h3.LookupOrder("o1")
	require.True(t, ok)
	lo, hi := h3.OrderLines(o)
	assert.Equal(t, 1, hi-lo)
	assert.Equal(t, int32(3), h3.LineQuantity(lo), "a put at the tombstone's version replaces the order Add made")
	assert.Equal(t, int64(3), h3.OrderVersion(o))

	b = affinity.NewBuilder(h)
	require.NoError(t, b.PutOrder("o1", 4, put("ann", 2)))
	b.EraseCustomer("bob")
	h, err = b.Build(ctx)
	require.NoError(t, err)
	o, ok = h.LookupOrder("o1")
	require.True(t, ok)
	lo, hi = h.OrderLines(o)
	assert.Equal(t, 1, hi-lo)
	assert.Equal(t, int32(2), h.LineQuantity(lo), "a newer put replaces the order Add made")
	assert.Equal(t, int64(4), h.OrderVersion(o))
	assert.Equal(t, 0, affinity.HistoryTombstones(h))

	b = affinity.NewBuilder(h)
	require.NoError(t, b.PutOrder("o2", 1, put("bob", 1)))
	h, err = b.Build(ctx)
	require.NoError(t, err)
	_, ok = h.LookupOrder("o2")
	assert.True(t, ok, "the erasure kept no version of bob's order")
}
