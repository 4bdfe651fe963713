package shop_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of Shop.Refresh and the sources it reads — Erase,
// Changes, Catalog, Purchases, Sources — against a shop opened from
// scratch on the same final data, as the documentation promises: a
// refreshed shop answers as one built anew on the same data when both
// have the same Model and HalfLife and a learned model's fit is waited
// for (Options.Model, Options.ModelRefit). Also the background refit,
// concurrent refreshes, Close, Progress callbacks that block or panic,
// cancellation at every step, sources that fail after adding part of
// their data, and snapshots held across refreshes.

var rfrT0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// rfrWorld is a tiny shop as plain data: a catalogue and orders by key.
// Its source opens a shop from scratch on exactly this data.
type rfrWorld struct {
	products []affinity.Product
	orders   map[string][]affinity.Purchase // by order key
}

func rfrCatalog(n int) []affinity.Product {
	ps := make([]affinity.Product, n)
	for i := range ps {
		ps[i] = affinity.Product{Key: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("Thing %d", i),
			Categories: []string{fmt.Sprintf("Cat%d/Sub%d", i%3, i%2)}, Price: affinity.Money(10_000 * (1 + i%5)), InStock: true}
	}
	return ps
}

// rfrNewWorld draws orders o<seed>-<i> of customers c00..c(nc-1) over
// two months after rfrT0.
func rfrNewWorld(seed uint64, nc, np, orders int) *rfrWorld {
	w := &rfrWorld{products: rfrCatalog(np), orders: map[string][]affinity.Purchase{}}
	r := rand.New(rand.NewPCG(seed, 17))
	for o := range orders {
		key := fmt.Sprintf("o%d-%d", seed, o)
		w.orders[key] = rfrOrder(r, key, fmt.Sprintf("c%02d", r.IntN(nc)), np, rfrT0.Add(time.Duration(r.IntN(60*24))*time.Hour))
	}
	return w
}

func rfrOrder(r *rand.Rand, key, customer string, np int, at time.Time) []affinity.Purchase {
	n := 1 + r.IntN(3)
	var ls []affinity.Purchase
	for range n {
		p := r.IntN(np)
		ls = append(ls, affinity.Purchase{Customer: customer, Product: fmt.Sprintf("p%02d", p), Order: key,
			Time: at, Quantity: int32(1 + r.IntN(2)), Price: affinity.Money(10_000 * (1 + p%5))})
	}
	return ls
}

func (w *rfrWorld) clone() *rfrWorld {
	c := &rfrWorld{products: slices.Clone(w.products), orders: map[string][]affinity.Purchase{}}
	for k, v := range w.orders {
		c.orders[k] = slices.Clone(v)
	}
	return c
}

func (w *rfrWorld) lines() []affinity.Purchase {
	keys := make([]string, 0, len(w.orders))
	for k := range w.orders {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []affinity.Purchase
	for _, k := range keys {
		out = append(out, w.orders[k]...)
	}
	return out
}

// source is the catalogue followed by every line.
func (w *rfrWorld) source() shop.Source {
	return shop.Sources(shop.Catalog(w.products), shop.Purchases(slices.Values(w.lines())))
}

// erase drops every order of customer key from the world.
func (w *rfrWorld) erase(key string) {
	for k, ls := range w.orders {
		if len(ls) > 0 && ls[0].Customer == key {
			delete(w.orders, k)
		}
	}
}

func (w *rfrWorld) customers() []string {
	seen := map[string]bool{}
	for _, ls := range w.orders {
		seen[ls[0].Customer] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rfrOpen opens a shop and closes it when the test ends.
func rfrOpen(t *testing.T, src shop.Source, opts shop.Options) *shop.Shop {
	t.Helper()
	s, err := shop.Open(context.Background(), src, opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// rfrQueries are segment queries whose answers depend on the whole
// population (RFM quintiles, lifecycle) and on spend.
var rfrQueries = []string{"frequency >= 1", "frequency >= 2", "recency <= 20d", `affinity("Cat1") >= 0.3`, `rfm("Champions") or mscore >= 4`, `lifecycle("new")`}

// rfrView is everything a snapshot answers, by shop key, for the
// customers ask (which may include erased and unknown keys) and every
// product of the catalogue, as text, so that two shops with different
// dense ids compare.
func rfrView(t *testing.T, snap *shop.Snapshot, ask []string, profiles bool) []string {
	return rfrViewOf(t, snap, ask, profiles, true)
}

// rfrViewOf is rfrView, without the recommendations unless recs.
func rfrViewOf(t *testing.T, snap *shop.Snapshot, ask []string, profiles, recs bool) []string {
	t.Helper()
	ctx := context.Background()
	var v []string
	v = append(v, "asof "+snap.AsOf().String())
	h := snap.History()
	v = append(v, fmt.Sprintf("lines %d revenue %v", h.NumLines(), rfrRevenue(h)))
	for _, c := range ask {
		if recs {
			res, err := snap.Recommend(ctx, shop.Request{Customer: c, K: 6})
			require.NoError(t, err)
			v = append(v, fmt.Sprintf("rec %s known=%v cold=%v %s", c, res.Known, res.ColdStart, rfrRecs(res)))
		}
		if profiles {
			p, err := snap.Profile(ctx, c)
			require.NoError(t, err)
			v = append(v, "profile "+rfrProfile(p))
		}
	}
	cat := h.Catalog()
	for i := range cat.NumProducts() {
		if !recs {
			break
		}
		key := cat.ProductKey(affinity.ProductID(i))
		res, err := snap.Together(ctx, key, 4)
		require.NoError(t, err)
		v = append(v, fmt.Sprintf("together %s %s", key, rfrRecs(res)))
	}
	for _, q := range rfrQueries {
		a, err := snap.Segment(q)
		require.NoError(t, err, q)
		st := a.Stats()
		v = append(v, fmt.Sprintf("segment %q len=%d share=%.9f orders=%d revenue=%v aov=%v", q, a.Len(), st.Share, st.Orders, a.Revenue(), a.AOV()))
		ms, err := a.All(shop.BySpend)
		require.NoError(t, err)
		for _, m := range ms {
			v = append(v, fmt.Sprintf("  member %s spend=%v orders=%d last=%s rfm=%s stage=%s", m.Customer, m.Spend, m.Orders, m.LastPurchase, m.RFM, m.Stage))
		}
	}
	return v
}

func rfrRevenue(h *affinity.History) affinity.Money {
	var m affinity.Money
	for l := range h.Purchases() {
		m += affinity.Money(l.Quantity) * l.Price
	}
	return m
}

// rfrRecs writes recommendations with scores rounded, so that sums in
// another order compare.
func rfrRecs(res shop.Result) string {
	var b strings.Builder
	for _, r := range res.Recs {
		fmt.Fprintf(&b, "[%s %s %.6g %v %s]", r.Product, r.Source, r.Score, r.Price, r.Explanation())
	}
	return b.String()
}

func rfrProfile(p shop.Profile) string {
	s := fmt.Sprintf("%s known=%v orders=%d spend=%v aov=%v first=%s last=%s rfm=%d%d%d %s %s top=%v", p.Customer, p.Known, p.Orders, p.Spend, p.AOV,
		p.FirstPurchase, p.LastPurchase, p.R, p.F, p.M, p.RFM, p.Stage, p.Top)
	// the value models are compared in TestRfrValuesSameDataSameFit
	return s + fmt.Sprintf(" value=%v", p.Value != nil)
}

func rfrChanges(cs ...affinity.OrderChange) shop.Source { return shop.Changes(slices.Values(cs)) }

func rfrPurchases(ls []affinity.Purchase) shop.Source { return shop.Purchases(slices.Values(ls)) }

var rfrCheap = shop.Options{Model: "neighbours", Neighbors: 5, HalfLife: 30 * 24 * time.Hour, Workers: 1, RefreshWorkers: 1}

// rfrSame compares a refreshed snapshot with a shop opened from scratch
// on the world's data, with the same options.
func rfrSame(t *testing.T, got *shop.Snapshot, w *rfrWorld, opts shop.Options, ask []string, profiles bool, msg string) {
	t.Helper()
	want := rfrOpen(t, w.source(), opts).Snapshot()
	rfrDiff(t, rfrView(t, want, ask, profiles), rfrView(t, got, ask, profiles), msg)
}

// rfrDiff reports the first few differing lines of two views.
func rfrDiff(t *testing.T, want, got []string, msg string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	var b strings.Builder
	n := 0
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g && n < 6 {
			fmt.Fprintf(&b, "\n  want %s\n  got  %s", w, g)
			n++
		}
	}
	t.Errorf("%s: the refreshed snapshot differs from one opened anew (%d/%d lines):%s", msg, len(got), len(want), b.String())
}

// rfrLatestCustomer is the customer of the world's latest order.
func rfrLatestCustomer(w *rfrWorld) string {
	var at time.Time
	var c string
	for _, ls := range w.orders {
		if ls[0].Time.After(at) || ls[0].Time.Equal(at) && ls[0].Customer > c {
			at, c = ls[0].Time, ls[0].Customer
		}
	}
	return c
}

func rfrWinBack(t *testing.T, snap *shop.Snapshot) []string {
	t.Helper()
	v, err := snap.Value(context.Background())
	if err != nil {
		return []string{"error"}
	}
	var out []string
	for _, c := range v.WinBack(clv.WinBackOptions{Top: 1, MaxPAlive: 1}).ToArray() {
		out = append(out, snap.History().CustomerKey(affinity.CustomerID(c)))
	}
	slices.Sort(out)
	return out
}

// TestRfrEraseEverywhere: an erased customer vanishes from every answer —
// recommendations (a cold start by key, ErrUnknownCustomer by id),
// segments and audiences, profiles, values and the win-back list — and
// the other customers' answers are those of a shop opened without the
// customer's orders (their co-purchases no longer count; the RFM
// quintiles and the as-of time are the remaining customers'). A later
// refresh with other customers' orders does not bring the customer back;
// new orders of the key do, with those orders alone. With a learned model
// a refresh that erases is fitted before it is served (Options.ModelRefit).
func TestRfrEraseEverywhere(t *testing.T) {
	ctx := context.Background()
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			opts := rfrCheap
			opts.Model = model
			w := rfrNewWorld(3, 14, 9, 60)
			s := rfrOpen(t, w.source(), opts)
			old := s.Snapshot()
			_, err := old.Profile(ctx, "c00") // profiles served: values fitted before each swap
			require.NoError(t, err)
			latest := rfrLatestCustomer(w)
			other := "c01"
			if latest == other {
				other = "c02"
			}
			oldID, ok := old.History().LookupCustomer(latest)
			require.True(t, ok)
			ask := append(w.customers(), "ghost")

			require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Erase(latest, "nobody"), shop.Erase(other))))
			got := s.Snapshot()
			require.NotSame(t, old, got)
			assert.True(t, got.ModelCurrent(), "a refresh that erases is fitted before it is served")
			w.erase(latest)
			w.erase(other)
			rfrSame(t, got, w, opts, ask, true, "after the erasure")
			assert.True(t, got.AsOf().Equal(got.History().Latest()), "the as-of is the remaining data's latest time")

			// by id: the erased id names no customer
			_, err = got.Recommend(ctx, shop.Request{CustomerID: oldID, ByID: true})
			assert.ErrorIs(t, err, shop.ErrUnknownCustomer)
			set := old.History().AllBuyers()
			aud := got.Audience("all", set)
			assert.False(t, aud.Bitmap().Contains(uint32(oldID)), "Audience drops an erased id")
			if v, err := got.Value(ctx); assert.NoError(t, err) {
				_, covered := v.Of(oldID)
				assert.False(t, covered, "the value models do not cover an erased customer")
				assert.NotContains(t, rfrWinBack(t, got), latest)
			}
			for _, q := range rfrQueries {
				a, err := got.Segment(q)
				require.NoError(t, err)
				assert.False(t, a.Bitmap().Contains(uint32(oldID)), q)
			}

			// other customers' new orders: the erased customers stay gone
			r := rand.New(rand.NewPCG(5, 5))
			more := map[string][]affinity.Purchase{}
			for i := range 4 {
				key := fmt.Sprintf("late-%d", i)
				more[key] = rfrOrder(r, key, fmt.Sprintf("c%02d", 3+i), 9, rfrT0.AddDate(0, 2, i))
			}
			var lines []affinity.Purchase
			for _, k := range []string{"late-0", "late-1", "late-2", "late-3"} {
				lines = append(lines, more[k]...)
				w.orders[k] = more[k]
			}
			require.NoError(t, s.Refresh(ctx, rfrPurchases(lines)))
			got = s.Snapshot()
			_, back := got.History().LookupCustomer(latest)
			assert.False(t, back, "an erased customer does not come back with others' orders")
			if model == "ease" {
				require.NoError(t, s.WaitModel(ctx))
				got = s.Snapshot()
			}
			rfrSame(t, got, w, opts, ask, true, "after a later refresh")

			// new orders of the erased key: the customer is new, with those alone
			again := rfrOrder(r, "again", latest, 9, rfrT0.AddDate(0, 2, 10))
			w.orders["again"] = again
			require.NoError(t, s.Refresh(ctx, rfrPurchases(again)))
			if model == "ease" {
				require.NoError(t, s.WaitModel(ctx))
			}
			got = s.Snapshot()
			p, err := got.Profile(ctx, latest)
			require.NoError(t, err)
			assert.True(t, p.Known)
			assert.Equal(t, 1, p.Orders, "only the orders after the erasure")
			rfrSame(t, got, w, opts, ask, true, "after the key's new orders")
		})
	}
}

// TestRfrValuesSameDataSameFit: the value models of a refreshed snapshot
// are those of a shop opened anew on the same data ("the same data gives
// the same answers", Options.AsOf; RefitInline "answers at once as one
// built anew on the same data"). A refresh that adds one order of a new
// customer gives that customer a higher dense id than a shop opened on
// the same lines does, and nothing else.
func TestRfrValuesSameDataSameFit(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(3, 14, 9, 60)
	s := rfrOpen(t, w.source(), rfrCheap)
	again := rfrOrder(rand.New(rand.NewPCG(5, 5)), "again", "zz", 9, rfrT0.AddDate(0, 2, 10))
	w.orders["again"] = again
	require.NoError(t, s.Refresh(ctx, rfrPurchases(again)))
	got := s.Snapshot()
	want := rfrOpen(t, w.source(), rfrCheap).Snapshot()
	gv, err := got.Value(ctx)
	require.NoError(t, err)
	wv, err := want.Value(ctx)
	require.NoError(t, err)
	assert.Equal(t, wv.Penalized, gv.Penalized, "penalised fit")
	assert.InEpsilon(t, wv.BGNBD.A, gv.BGNBD.A, 1e-6, "BG/NBD a")
	assert.InEpsilon(t, wv.BGNBD.R, gv.BGNBD.R, 1e-6, "BG/NBD r")
	for _, c := range w.customers() {
		gp, err := got.Profile(ctx, c)
		require.NoError(t, err)
		wp, err := want.Profile(ctx, c)
		require.NoError(t, err)
		require.NotNil(t, gp.Value)
		require.NotNil(t, wp.Value)
		if !assert.InEpsilon(t, wp.Value.ExpectedPurchases, gp.Value.ExpectedPurchases, 1e-6, "%s: expected purchases", c) {
			break
		}
	}
}

// rfrApply is the world after a feed of order changes, by the documented
// rule: per key the highest Version wins; at equal versions a delete
// beats a put and, between puts, the later one wins; a put without lines
// is a delete.
func rfrApply(w *rfrWorld, feed []affinity.OrderChange) {
	type best struct {
		c   affinity.OrderChange
		set bool
	}
	win := map[string]best{}
	for _, c := range feed {
		b := win[c.Key]
		del := c.Delete || len(c.Lines) == 0
		bdel := b.c.Delete || len(b.c.Lines) == 0
		if !b.set || c.Version > b.c.Version || c.Version == b.c.Version && (del || !bdel) {
			win[c.Key] = best{c, true}
		}
	}
	for k, b := range win {
		if b.c.Delete || len(b.c.Lines) == 0 {
			delete(w.orders, k)
			continue
		}
		ls := slices.Clone(b.c.Lines)
		for i := range ls {
			ls[i].Order = k
		}
		w.orders[k] = ls
	}
}

// TestRfrChangesMatchScratch: a feed of puts and deletes — replacements
// with other lines and another customer (order keys are global), deletes
// of known and unknown orders, a put without lines, versions out of
// order, a delete and a put again at a higher version, the delete of the
// latest order (the as-of time moves back) and of a customer's only order
// — gives the answers of a shop opened anew on the orders that survive.
// Loading the same feed again changes no answer.
func TestRfrChangesMatchScratch(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(2) {
		w := rfrNewWorld(10+seed, 12, 8, 50)
		s := rfrOpen(t, w.source(), rfrCheap)
		r := rand.New(rand.NewPCG(seed, 3))
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range w.orders {
				if !yield(k) {
					return
				}
			}
		})
		var latestKey string
		var at time.Time
		for _, k := range keys {
			if tm := w.orders[k][0].Time; !tm.Before(at) {
				latestKey, at = k, tm
			}
		}
		put := func(key, customer string, v int64) affinity.OrderChange {
			return affinity.OrderChange{Key: key, Version: v, Lines: rfrOrder(r, key, customer, 8, rfrT0.Add(time.Duration(r.IntN(50*24))*time.Hour))}
		}
		feed := []affinity.OrderChange{
			{Key: latestKey, Version: 5, Delete: true},
			put(keys[0], "c05", 3), put(keys[0], "c07", 2), // the higher version wins, whatever the order
			put(keys[1], "newbie", 1), // another customer takes the order over
			{Key: keys[2], Version: 1},
			{Key: "never-was", Version: 9, Delete: true},
			{Key: keys[3], Version: 1, Delete: true}, put(keys[3], "c02", 2), // deleted and created again
			put(keys[4], "c03", 4), {Key: keys[4], Version: 4, Delete: true}, // a delete beats a put of its version
			put(keys[5], "c01", 0), put(keys[5], "c09", 0), // the later put wins
			put("fresh-1", "c04", 1), put("fresh-2", "", 1), // an anonymous order
		}
		rfrApply(w, feed)
		require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(feed))))
		ask := append(w.customers(), "newbie", "ghost")
		got := s.Snapshot()
		rfrSame(t, got, w, rfrCheap, ask, true, fmt.Sprintf("seed %d", seed))
		assert.True(t, got.AsOf().Equal(got.History().Latest()))
		// replayed: the same answers
		require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(feed))))
		rfrSame(t, s.Snapshot(), w, rfrCheap, ask, false, fmt.Sprintf("seed %d replayed", seed))
	}
}

// TestRfrCatalogRefresh: a Catalog refresh adds products and replaces the
// entries of known ones (name, price, stock flag, categories:
// Builder.AddProduct); the next snapshot serves them as a shop opened on
// the new catalogue does. A catalogue that repeats every entry changes no
// answer.
func TestRfrCatalogRefresh(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(20, 12, 8, 50)
	s := rfrOpen(t, w.source(), rfrCheap)
	before := s.Snapshot()
	ask := append(w.customers(), "ghost")

	require.NoError(t, s.Refresh(ctx, shop.Catalog(slices.Clone(w.products))))
	rfrSame(t, s.Snapshot(), w, rfrCheap, ask, false, "the same catalogue")
	assert.Equal(t, rfrView(t, before, ask, false), rfrView(t, s.Snapshot(), ask, false))

	w.products[1].Price = 123_4500
	w.products[1].Name = "Renamed"
	w.products[2].InStock = false
	w.products[3].Categories = []string{"Cat0/Sub0"} // an existing category
	w.products = append(w.products, affinity.Product{Key: "p99", Name: "New thing", Categories: []string{"Cat2/Sub1"}, Price: 5_0000, InStock: true})
	require.NoError(t, s.Refresh(ctx, shop.Catalog([]affinity.Product{w.products[1], w.products[2], w.products[3], w.products[8]})))
	got := s.Snapshot()
	require.NotSame(t, before, got, "changed products are a change")
	rfrSame(t, got, w, rfrCheap, ask, false, "changed products")
	for _, c := range ask {
		res, err := got.Recommend(ctx, shop.Request{Customer: c, K: 8})
		require.NoError(t, err)
		for _, r := range res.Recs {
			assert.NotEqual(t, "p02", r.Product, "out of stock by the catalogue")
			if r.Product == "p01" {
				assert.Equal(t, affinity.Money(123_4500), r.Price)
				assert.Equal(t, "Renamed", r.Name)
			}
		}
	}
	// a held snapshot keeps its catalogue
	res, err := before.Together(ctx, "p00", 8)
	require.NoError(t, err)
	for _, r := range res.Recs {
		if r.Product == "p01" {
			assert.Equal(t, "Thing 1", r.Name, "a held snapshot's names do not change")
		}
	}
}

// rfrCommitter counts its commits.
type rfrCommitter struct {
	shop.Source
	commits atomic.Int32
}

func (c *rfrCommitter) Commit() { c.commits.Add(1) }

// TestRfrFailedSourceInvisible: a source that adds part of its data —
// lines, an erasure, order changes, a product's new entry, a good source
// before it in Sources — and then fails leaves the snapshot in place, and
// nothing of it shows in any answer after the next good refresh; a
// Committer among Sources is committed only with the good one.
func TestRfrFailedSourceInvisible(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(30, 12, 8, 50)
	s := rfrOpen(t, w.source(), rfrCheap)
	_, err := s.Snapshot().Profile(ctx, "c00")
	require.NoError(t, err)
	before := s.Snapshot()
	boom := errors.New("feed down")
	r := rand.New(rand.NewPCG(30, 1))
	extra := rfrOrder(r, "extra", "c03", 8, rfrT0.AddDate(0, 3, 0))
	var someKey string
	for k := range w.orders {
		someKey = max(someKey, k)
	}
	failing := func(add func(b *affinity.Builder) error) shop.Source {
		return shop.SourceFunc(func(_ context.Context, b *affinity.Builder) (dataset.Report, error) {
			if err := add(b); err != nil {
				return dataset.Report{}, err
			}
			return dataset.Report{Rows: 1}, boom
		})
	}
	com := &rfrCommitter{Source: rfrPurchases(rfrOrder(r, "committed", "c04", 8, rfrT0.AddDate(0, 3, 1)))}
	bad := []affinity.Purchase{extra[0], {Customer: "c05", Product: "p01", Order: "x", Time: rfrT0, Quantity: 0, Price: 1}}
	cases := map[string]shop.Source{
		"lines": failing(func(b *affinity.Builder) error {
			for _, p := range extra {
				if err := b.Add(p); err != nil {
					return err
				}
			}
			return nil
		}),
		"erase":   failing(func(b *affinity.Builder) error { b.EraseCustomer("c01"); return nil }),
		"changes": failing(func(b *affinity.Builder) error { return b.Apply(affinity.OrderChange{Key: someKey, Delete: true}) }),
		"product": failing(func(b *affinity.Builder) error {
			return b.AddProduct(affinity.Product{Key: "p00", Name: "Leaked", Price: 99_0000, InStock: true})
		}),
		"sources":      shop.Sources(com, rfrPurchases(extra), shop.Erase("c02"), failing(func(*affinity.Builder) error { return nil })),
		"invalid line": rfrPurchases(bad),
		"invalid change": shop.Changes(slices.Values([]affinity.OrderChange{{Key: someKey, Delete: true},
			{Key: "y", Lines: []affinity.Purchase{{Customer: "c01", Product: "p01", Order: "z", Time: rfrT0, Quantity: 1}}}})),
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range cases {
			if !yield(k) {
				return
			}
		}
	}) {
		err := s.Refresh(ctx, cases[name])
		assert.Error(t, err, name)
		if name != "invalid line" && name != "invalid change" {
			assert.ErrorIs(t, err, boom, name)
		}
		assert.Same(t, before, s.Snapshot(), "%s: a failed refresh leaves the snapshot", name)
	}
	assert.Zero(t, com.commits.Load(), "a failed refresh commits nothing")
	later := rfrOrder(r, "later", "c06", 8, rfrT0.AddDate(0, 3, 2))
	w.orders["later"] = later
	require.NoError(t, s.Refresh(ctx, rfrPurchases(later)))
	rfrSame(t, s.Snapshot(), w, rfrCheap, append(w.customers(), "ghost"), true, "after the failed refreshes")
}

// rfrHook is a Progress callback the test can swap.
type rfrHook struct {
	f atomic.Pointer[func(affinity.Progress)]
}

func (h *rfrHook) report(p affinity.Progress) {
	if f := h.f.Load(); f != nil {
		(*f)(p)
	}
}

func (h *rfrHook) set(f func(affinity.Progress)) {
	if f == nil {
		h.f.Store(nil)
		return
	}
	h.f.Store(&f)
}

// rfrWithin runs f and fails the test when it does not return within d.
func rfrWithin(t *testing.T, d time.Duration, what string, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("%s did not return within %v", what, d)
		return false
	}
}

// TestRfrCancelAtEachStep: a refresh whose context is cancelled at the
// start or the end of each of its steps either fails with the context's
// error and leaves the snapshot (and the committer) as they were, or
// succeeds and serves what a shop opened anew serves; the next refresh
// with the same source then gives those answers either way.
func TestRfrCancelAtEachStep(t *testing.T) {
	ctx := context.Background()
	w0 := rfrNewWorld(40, 12, 8, 40)
	want := map[bool][]string{} // the answers of a shop opened anew, with and without profiles
	for _, step := range []string{"load", "history", "count", "neighbours", "engine", "segment"} {
		for _, end := range []bool{false, true} {
			name := fmt.Sprintf("%s end=%v", step, end)
			w := w0.clone()
			var hook rfrHook
			opts := rfrCheap
			opts.Progress = hook.report
			s := rfrOpen(t, w.source(), opts)
			if step == "segment" {
				// profiles served: the index is built before the swap
				_, err := s.Snapshot().Profile(ctx, "c00")
				require.NoError(t, err)
			}
			before := s.Snapshot()
			more := rfrOrder(rand.New(rand.NewPCG(41, 1)), "more", "c02", 8, rfrT0.AddDate(0, 3, 0))
			w.orders["more"] = more
			com := &rfrCommitter{Source: rfrPurchases(more)}
			cctx, cancel := context.WithCancel(ctx)
			var hit, started atomic.Bool
			hook.set(func(p affinity.Progress) {
				if p.Step != step {
					return
				}
				// a step's first report is its start, a later one with
				// Done == Total its end (affinity.Progress)
				first := !started.Swap(true)
				if first && !end || !first && end && p.Done == p.Total && !hit.Load() {
					hit.Store(true)
					cancel()
				}
			})
			err := s.Refresh(cctx, com)
			cancel()
			hook.set(nil)
			require.True(t, hit.Load(), "%s: the step was reported", name)
			if err != nil {
				assert.ErrorIs(t, err, context.Canceled, name)
				assert.Same(t, before, s.Snapshot(), "%s: a cancelled refresh leaves the snapshot", name)
				assert.Zero(t, com.commits.Load(), "%s: not committed", name)
				require.NoError(t, s.Refresh(ctx, com), name)
			}
			assert.EqualValues(t, 1, com.commits.Load(), "%s: committed once served", name)
			profiles := step == "segment"
			if want[profiles] == nil {
				want[profiles] = rfrView(t, rfrOpen(t, w.source(), rfrCheap).Snapshot(), w.customers(), profiles)
			}
			rfrDiff(t, want[profiles], rfrView(t, s.Snapshot(), w.customers(), profiles), name)
		}
	}
}

// TestRfrContextEndsAfterRefresh: a server refreshes with a request's
// context, which ends as soon as the handler returns. The snapshot that
// Refresh served must still answer segments and audiences (built in the
// background after Refresh returned) and fit its model: a build stopped
// is "built when asked for", and the answers are those of a shop opened
// anew.
func TestRfrContextEndsAfterRefresh(t *testing.T) {
	ctx := context.Background()
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			opts := rfrCheap
			opts.Model = model
			w := rfrNewWorld(50, 12, 8, 40)
			s := rfrOpen(t, w.source(), opts)
			for i := range 3 {
				more := rfrOrder(rand.New(rand.NewPCG(51, uint64(i))), fmt.Sprintf("more%d", i), fmt.Sprintf("c%02d", i), 8, rfrT0.AddDate(0, 3, i))
				w.orders[fmt.Sprintf("more%d", i)] = more
				rctx, cancel := context.WithCancel(ctx)
				require.NoError(t, s.Refresh(rctx, rfrPurchases(more)))
				cancel() // the handler returned
			}
			snap := s.Snapshot()
			idx, err := snap.SegmentIndex(ctx)
			require.NoError(t, err, "the index of a served snapshot")
			require.NotNil(t, idx)
			require.NoError(t, s.WaitModel(ctx), "the background fit of a served snapshot")
			rfrSame(t, s.Snapshot(), w, opts, w.customers(), false, "after refreshes whose contexts ended")
		})
	}
}

// TestRfrBlockingProgress: while a refresh's Progress callback blocks,
// the shop goes on serving: Snapshot, requests, audiences and profiles of
// the current snapshot and the live stock controls do not wait ("requests
// ... never wait", "A Shop is safe for concurrent use"). Close then stops
// the refresh under way and a refresh queued behind it: both return
// ErrClosed and the snapshot stays as it was.
func TestRfrBlockingProgress(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(60, 12, 8, 40)
	var hook rfrHook
	opts := rfrCheap
	opts.Progress = hook.report
	s := rfrOpen(t, w.source(), opts)
	before := s.Snapshot()
	_, err := before.Profile(ctx, "c00")
	require.NoError(t, err)
	want := rfrView(t, before, w.customers(), true)

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook.set(func(p affinity.Progress) {
		if p.Step == "count" {
			once.Do(func() { close(entered); <-release })
		}
	})
	more := rfrOrder(rand.New(rand.NewPCG(61, 1)), "more", "c02", 8, rfrT0.AddDate(0, 3, 0))
	first := make(chan error, 1)
	go func() { first <- s.Refresh(ctx, rfrPurchases(more)) }()
	<-entered
	second := make(chan error, 1)
	go func() {
		second <- s.Refresh(ctx, rfrPurchases(rfrOrder(rand.New(rand.NewPCG(61, 2)), "more2", "c03", 8, rfrT0.AddDate(0, 3, 1))))
	}()

	ok := rfrWithin(t, 2*time.Second, "serving during a blocked refresh", func() {
		assert.Same(t, before, s.Snapshot())
		assert.Equal(t, want, rfrView(t, s.Snapshot(), w.customers(), true))
	})
	ok = rfrWithin(t, 2*time.Second, "SetInStock during a blocked refresh", func() { s.SetInStock("p01", false) }) && ok
	ok = rfrWithin(t, 2*time.Second, "UpdateStock during a blocked refresh", func() { s.UpdateStock([]string{"p01"}, nil) }) && ok
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	// the callback returns only once Close has begun (a sleep here let a
	// loaded machine run the blocked refresh to its end before Close was
	// called, and serve it): WaitModel returns ErrClosed, without waiting,
	// as soon as Close has been called on a shop with no background fit
	// (rfrCheap's neighbours), and nil before
	var waitErr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if waitErr = s.WaitModel(ctx); waitErr != nil {
			break
		}
	}
	close(release)
	require.ErrorIs(t, waitErr, shop.ErrClosed, "Close began within 10 s, and WaitModel returned nil before")
	if !ok {
		return
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the callback did")
	}
	for i, ch := range []chan error{first, second} {
		select {
		case err := <-ch:
			assert.ErrorIs(t, err, shop.ErrClosed, "refresh %d", i)
		case <-time.After(5 * time.Second):
			t.Fatalf("refresh %d did not return after Close", i)
		}
	}
	assert.Same(t, before, s.Snapshot(), "Close leaves the snapshot as it was")
	assert.Equal(t, want, rfrView(t, s.Snapshot(), w.customers(), true), "the last snapshot stays usable")
	assert.ErrorIs(t, s.Refresh(ctx, rfrPurchases(more)), shop.ErrClosed)
}

// TestRfrPanickingProgress: the documentation says nothing of a Progress
// callback that panics; the least a caller may expect is that a panic on
// its own goroutine (the refresh's "load" and "history" steps) reaches it
// and leaves the shop usable: the snapshot as it was, the next refresh
// not locked out, Close returning.
func TestRfrPanickingProgress(t *testing.T) {
	ctx := context.Background()
	for _, step := range []string{"load", "history"} {
		t.Run(step, func(t *testing.T) {
			w := rfrNewWorld(70, 12, 8, 40)
			var hook rfrHook
			opts := rfrCheap
			opts.Progress = hook.report
			s := rfrOpen(t, w.source(), opts)
			before := s.Snapshot()
			hook.set(func(p affinity.Progress) {
				if p.Step == step {
					panic("callback bug")
				}
			})
			more := rfrOrder(rand.New(rand.NewPCG(71, 1)), "more", "c02", 8, rfrT0.AddDate(0, 3, 0))
			var recovered any
			var err error
			func() {
				defer func() { recovered = recover() }()
				err = s.Refresh(ctx, rfrPurchases(more))
			}()
			hook.set(nil)
			t.Logf("recovered %v, error %v", recovered, err)
			assert.True(t, recovered != nil || err != nil, "the panic is not swallowed")
			assert.Same(t, before, s.Snapshot())
			w.orders["more"] = more
			if rfrWithin(t, 2*time.Second, "the refresh after a panicking callback", func() {
				assert.NoError(t, s.Refresh(ctx, rfrPurchases(more)))
			}) {
				rfrSame(t, s.Snapshot(), w, rfrCheap, w.customers(), false, "after the panic")
			}
			rfrWithin(t, 2*time.Second, "Close after a panicking callback", s.Close)
		})
	}
}

// TestRfrEraseWithinOneSource: an erasure drops every line of the
// customer "from the base History, added before or after this call, or
// staged by a put" (Builder.EraseCustomer), whichever source of Sources
// adds them; a customer first seen in the same refresh is erased too.
func TestRfrEraseWithinOneSource(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(80, 12, 8, 40)
	s := rfrOpen(t, w.source(), rfrCheap)
	r := rand.New(rand.NewPCG(81, 1))
	at := rfrT0.AddDate(0, 3, 0)
	k1 := rfrOrder(r, "k1", "c05", 8, at.Add(4*time.Hour))
	src := shop.Sources(
		rfrPurchases(rfrOrder(r, "b1", "c04", 8, at)),
		rfrPurchases(rfrOrder(r, "n1", "newcomer", 8, at)),
		shop.Erase("c04", "newcomer"),
		rfrPurchases(rfrOrder(r, "b2", "c04", 8, at.Add(time.Hour))),
		rfrChanges(affinity.OrderChange{Key: "b3", Version: 1, Lines: rfrOrder(r, "b3", "c04", 8, at.Add(2*time.Hour))}),
		rfrPurchases(rfrOrder(r, "n2", "newcomer", 8, at.Add(3*time.Hour))),
		rfrPurchases(k1),
	)
	w.erase("c04")
	w.orders["k1"] = k1
	require.NoError(t, s.Refresh(ctx, src))
	got := s.Snapshot()
	for _, k := range []string{"c04", "newcomer"} {
		_, ok := got.History().LookupCustomer(k)
		assert.False(t, ok, "%s is erased", k)
	}
	for _, k := range []string{"b1", "b2", "b3", "n1", "n2"} {
		_, ok := got.History().LookupOrder(k)
		assert.False(t, ok, "order %s of an erased customer", k)
	}
	_, ok := got.History().LookupOrder("k1")
	assert.True(t, ok, "the others' orders stay")
	rfrSame(t, got, w, rfrCheap, append(w.customers(), "c04", "newcomer"), true, "erased within one source")
}

// TestRfrConcurrentRefreshesAndClose: refreshes started together run one
// at a time; Close while one blocks in its source (which honours its
// context) makes the one under way and those queued return ErrClosed (or
// nil, for those done before), and the last snapshot holds exactly the
// refreshes that returned nil: it answers as a shop opened anew on them.
func TestRfrConcurrentRefreshesAndClose(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(90, 12, 8, 40)
	s := rfrOpen(t, w.source(), rfrCheap)
	const n = 5
	batches := make([][]affinity.Purchase, n)
	errs := make([]error, n)
	r := rand.New(rand.NewPCG(91, 1))
	for i := range batches {
		key := fmt.Sprintf("batch%d", i)
		batches[i] = rfrOrder(r, key, fmt.Sprintf("c%02d", i), 8, rfrT0.AddDate(0, 3, i))
	}
	blocked := make(chan struct{})
	var once sync.Once
	blocker := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		once.Do(func() { close(blocked) })
		<-ctx.Done()
		return dataset.Report{}, ctx.Err()
	})
	var wg sync.WaitGroup
	var blockErr error
	wg.Go(func() { blockErr = s.Refresh(ctx, blocker) })
	<-blocked
	for i := range n {
		wg.Go(func() { errs[i] = s.Refresh(ctx, rfrPurchases(batches[i])) })
	}
	time.Sleep(5 * time.Millisecond) // let them queue
	if !rfrWithin(t, 5*time.Second, "Close during a blocked source", s.Close) {
		return
	}
	atClose := s.Snapshot()
	if !rfrWithin(t, 5*time.Second, "the refreshes after Close", wg.Wait) {
		return
	}
	assert.Same(t, atClose, s.Snapshot(), "no refresh is served after Close returned")
	assert.ErrorIs(t, blockErr, shop.ErrClosed, "the refresh under way")
	for i, err := range errs {
		if err != nil {
			assert.ErrorIs(t, err, shop.ErrClosed, "refresh %d", i)
			continue
		}
		w.orders[fmt.Sprintf("batch%d", i)] = batches[i]
	}
	assert.ErrorIs(t, s.Refresh(ctx, rfrPurchases(batches[0])), shop.ErrClosed)
	assert.ErrorIs(t, s.WaitModel(ctx), shop.ErrClosed)
	rfrSame(t, s.Snapshot(), w, rfrCheap, w.customers(), false, "the refreshes that returned nil")
}

// TestRfrRefreshDuringRefit: with a learned model fitted in the
// background, refreshes that follow one another without waiting — new
// orders, order changes, an erasure — each serve the new history at once
// (with the last fit), a snapshot held meanwhile never changes, and after
// WaitModel the shop answers as one opened anew with RefitInline.
func TestRfrRefreshDuringRefit(t *testing.T) {
	ctx := context.Background()
	opts := rfrCheap
	opts.Model = "ease"
	inline := opts
	inline.ModelRefit = shop.RefitInline
	w := rfrNewWorld(100, 14, 9, 60)
	s := rfrOpen(t, w.source(), opts)
	r := rand.New(rand.NewPCG(101, 1))
	ask := append(w.customers(), "ghost")
	type held struct {
		snap *shop.Snapshot
		view []string
		w    *rfrWorld
	}
	var helds []held
	for i := range 4 {
		var src shop.Source
		key := fmt.Sprintf("r%d", i)
		switch i {
		case 2:
			src = shop.Erase("c03")
			w.erase("c03")
		case 3:
			ch := affinity.OrderChange{Key: key, Version: 1, Lines: rfrOrder(r, key, "c05", 9, rfrT0.AddDate(0, 3, i))}
			src = shop.Sources(rfrChanges(ch), shop.Catalog([]affinity.Product{{Key: "p50", Name: "Late", Price: 1_0000, InStock: true}}))
			rfrApply(w, []affinity.OrderChange{ch})
			w.products = append(w.products, affinity.Product{Key: "p50", Name: "Late", Price: 1_0000, InStock: true})
		default:
			ls := rfrOrder(r, key, fmt.Sprintf("c%02d", i+6), 9, rfrT0.AddDate(0, 3, i))
			src = rfrPurchases(ls)
			w.orders[key] = ls
		}
		require.NoError(t, s.Refresh(ctx, src))
		snap := s.Snapshot()
		assert.Equal(t, rfrViewOf(t, rfrOpen(t, w.source(), inline).Snapshot(), ask, false, false), rfrViewOf(t, snap, ask, false, false),
			"refresh %d: the new history is served at once", i)
		helds = append(helds, held{snap, rfrView(t, snap, ask, false), w.clone()})
	}
	require.NoError(t, s.WaitModel(ctx))
	assert.True(t, s.Snapshot().ModelCurrent())
	rfrSame(t, s.Snapshot(), w, inline, ask, false, "after WaitModel")
	for i, h := range helds {
		assert.Equal(t, h.view, rfrView(t, h.snap, ask, false), "held snapshot %d answers as it did", i)
	}
}

// TestRfrHeldSnapshotsLazyState: a snapshot held across refreshes that
// erase its customers, delete its orders and replace them answers, when
// first asked — segments, audiences, profiles and values fitted only now
// — as a shop opened on its own data; so does a refreshed snapshot whose
// background segment build a later refresh stopped ("a segment index
// whose build was stopped is built when asked for").
func TestRfrHeldSnapshotsLazyState(t *testing.T) {
	ctx := context.Background()
	w0 := rfrNewWorld(110, 12, 8, 50)
	s := rfrOpen(t, w0.source(), rfrCheap)
	first := s.Snapshot()
	ask := append(w0.customers(), "ghost")
	r := rand.New(rand.NewPCG(111, 1))

	w1 := w0.clone()
	add := rfrOrder(r, "a1", "c07", 8, rfrT0.AddDate(0, 3, 0))
	w1.orders["a1"] = add
	require.NoError(t, s.Refresh(ctx, rfrPurchases(add)))
	second := s.Snapshot() // its index is built in the background

	w2 := w1.clone()
	var victimOrder string
	for k, ls := range w2.orders {
		if ls[0].Customer == "c02" {
			victimOrder = max(victimOrder, k)
		}
	}
	feed := []affinity.OrderChange{{Key: victimOrder, Version: 1, Delete: true}}
	for k, ls := range w2.orders {
		if ls[0].Customer == "c05" {
			feed = append(feed, affinity.OrderChange{Key: k, Version: 1, Lines: rfrOrder(r, k, "c06", 8, ls[0].Time)})
		}
	}
	slices.SortFunc(feed, func(a, b affinity.OrderChange) int { return strings.Compare(a.Key, b.Key) })
	rfrApply(w2, feed)
	w2.erase("c01")
	require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Erase("c01"), shop.Changes(slices.Values(feed)))))
	require.NoError(t, s.Refresh(ctx, rfrPurchases(rfrOrder(r, "a2", "c08", 8, rfrT0.AddDate(0, 3, 1)))))

	_, ok := first.History().LookupCustomer("c01")
	assert.True(t, ok, "a held snapshot's History keeps its customers")
	rfrSame(t, first, w0, rfrCheap, ask, true, "the opening snapshot, first asked after the refreshes")
	rfrSame(t, second, w1, rfrCheap, ask, true, "a refreshed snapshot, first asked after the refreshes")
}

// rfrEvents is a source of events.
func rfrEvents(es ...affinity.Event) shop.Source {
	return shop.SourceFunc(func(_ context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, e := range es {
			if err := b.AddEvent(e); err != nil {
				return dataset.Report{}, err
			}
		}
		return dataset.Report{Rows: len(es)}, nil
	})
}

// TestRfrEraseEdges: erasing a customer known only by events (a cart, a
// view) removes them from the index ("customers the index knows"),
// erasing an unknown key changes nothing (the snapshot stays), and
// erasing every customer leaves the shop a shop opened on the catalogue
// alone would be.
func TestRfrEraseEdges(t *testing.T) {
	ctx := context.Background()
	w := rfrNewWorld(120, 6, 6, 14)
	at := rfrT0.AddDate(0, 1, 0)
	events := []affinity.Event{
		{Customer: "browser", Product: "p01", Time: at, Kind: affinity.Cart, Weight: 1},
		{Customer: "c01", Product: "p02", Time: at, Kind: affinity.View, Weight: 1},
	}
	s := rfrOpen(t, shop.Sources(w.source(), rfrEvents(events...)), rfrCheap)
	ask := append(w.customers(), "browser")
	all, err := s.Snapshot().Segment("frequency >= 0")
	require.NoError(t, err)
	n := all.Len()

	require.NoError(t, s.Refresh(ctx, shop.Erase("browser")))
	got := s.Snapshot()
	_, ok := got.History().LookupCustomer("browser")
	assert.False(t, ok)
	all, err = got.Segment("frequency >= 0")
	require.NoError(t, err)
	assert.Equal(t, n-1, all.Len(), "the erased browser leaves the index")
	rfrDiff(t, rfrView(t, rfrOpen(t, shop.Sources(w.source(), rfrEvents(events[1])), rfrCheap).Snapshot(), ask, true),
		rfrView(t, got, ask, true), "after erasing an events-only customer")

	require.NoError(t, s.Refresh(ctx, shop.Erase(append(w.customers(), "c01")...)))
	got = s.Snapshot()
	assert.Zero(t, got.History().NumLines())
	want := rfrOpen(t, shop.Catalog(w.products), rfrCheap).Snapshot()
	assert.Equal(t, want.AsOf(), got.AsOf(), "as of nothing")
	for _, c := range ask {
		wr, err := want.Recommend(ctx, shop.Request{Customer: c, K: 4})
		require.NoError(t, err)
		gr, err := got.Recommend(ctx, shop.Request{Customer: c, K: 4})
		require.NoError(t, err)
		assert.Equal(t, rfrRecs(wr), rfrRecs(gr), c)
		assert.False(t, gr.Known, c)
		p, err := got.Profile(ctx, c)
		require.NoError(t, err)
		assert.False(t, p.Known, c)
	}
	a, err := got.Segment("frequency >= 0")
	if want.Segments() == nil {
		assert.Nil(t, got.Segments(), "no index without any order or event")
	} else {
		require.NoError(t, err)
		assert.Zero(t, a.Len())
	}
}

// TestRfrEraseUnknownKeysChangeNothing: "Unknown keys are ignored"
// (Erase), and "a source that changes nothing (no new line, event,
// product or order change) leaves the snapshot as it is and costs only
// the read" (Refresh): an erasure request sent again, or for a customer
// the shop never had, must not rebuild the shop.
func TestRfrEraseUnknownKeysChangeNothing(t *testing.T) {
	ctx := context.Background()
	for _, model := range []string{"neighbours", "ease"} {
		t.Run(model, func(t *testing.T) {
			opts := rfrCheap
			opts.Model = model
			w := rfrNewWorld(130, 6, 6, 14)
			s := rfrOpen(t, w.source(), opts)
			require.NoError(t, s.Refresh(ctx, shop.Erase("c01")))
			require.NoError(t, s.WaitModel(ctx))
			before := s.Snapshot()
			require.NoError(t, s.Refresh(ctx, shop.Erase("c01", "nobody")))
			assert.True(t, before == s.Snapshot(), "erasing unknown keys changes nothing: the snapshot stays")
			assert.True(t, before.History() == s.Snapshot().History(), "and so does the History")
			assert.True(t, s.Snapshot().ModelCurrent(), "no refit for nothing")
		})
	}
}

// TestRfrPanickingProgressEveryStep: whichever step's report panics —
// also those reported from the refresh's worker goroutines, the
// background segment build or the background model fit — the process
// lives on: the panic reaches the caller of Refresh, or it becomes the
// error of the background work (WaitModel's, the segment query's); the
// shop stays usable and Close returns.
func TestRfrPanickingProgressEveryStep(t *testing.T) {
	ctx := context.Background()
	for _, step := range []string{"count", "neighbours", "engine", "segment", "model"} {
		t.Run(step, func(t *testing.T) {
			w := rfrNewWorld(90, 12, 8, 40)
			var hook rfrHook
			opts := rfrCheap
			opts.Model, opts.ModelRefit = "ease", shop.RefitBackground
			opts.Progress = hook.report
			s := rfrOpen(t, w.source(), opts)
			require.NoError(t, s.WaitModel(ctx))
			var fired atomic.Bool
			hook.set(func(p affinity.Progress) {
				if p.Step == step {
					fired.Store(true)
					panic("callback bug in " + step)
				}
			})
			more := rfrOrder(rand.New(rand.NewPCG(91, 1)), "more", "c03", 8, rfrT0.AddDate(0, 3, 0))
			var recovered any
			var err error
			func() {
				defer func() { recovered = recover() }()
				err = s.Refresh(ctx, rfrPurchases(more))
				if err == nil {
					err = s.WaitModel(ctx)
				}
				if err == nil {
					_, err = s.Snapshot().Segment("frequency >= 1")
				}
			}()
			hook.set(nil)
			require.True(t, fired.Load(), "the %s step was reported", step)
			t.Logf("recovered %v, error %.80v", recovered, err)
			assert.True(t, recovered != nil || err != nil, "the panic is neither raised to the caller nor an error")
			rfrWithin(t, 2*time.Second, "a refresh after the panic", func() {
				assert.NoError(t, s.Refresh(ctx, rfrPurchases(rfrOrder(rand.New(rand.NewPCG(92, 1)), "later", "c04", 8, rfrT0.AddDate(0, 3, 1)))))
			})
			rfrWithin(t, 2*time.Second, "Close after the panic", s.Close)
		})
	}
}
