package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/shop"
)

// Adversarial tests of Snapshot.Profile and of profiles across Refresh and
// order changes, against naive models taken from the documentation only
// (shop.Profile, segment's package doc, affinity's model).

// advProfBase is the as-of time the small shops are built around.
var advProfBase = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// advProfCur is one currency unit.
const advProfCur = affinity.Money(affinity.MoneyScale)

// advProfOpts: deterministic, cheap, nothing recognised as non-merchandise
// unless listed.
func advProfOpts(asOf time.Time, lb affinity.Lookback) shop.Options {
	return shop.Options{
		AsOf: asOf, Lookback: lb,
		Model: "neighbours", NextBasket: shop.Off, Workers: 1, RefreshWorkers: 1,
		IsNonMerchandise: func(affinity.Product) bool { return false },
	}
}

func advProfBuy(cust, prod, order string, at time.Time, q int32, units int64) affinity.Purchase {
	return affinity.Purchase{Customer: cust, Product: prod, Order: order, Time: at, Quantity: q, Price: affinity.Money(units) * advProfCur}
}

func advProfOpen(t *testing.T, ps []affinity.Product, lines []affinity.Purchase, opts shop.Options) *shop.Shop {
	t.Helper()
	s, err := shop.Open(context.Background(), shop.Sources(shop.Catalog(ps), shop.Purchases(slices.Values(lines))), opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func advProfGet(t *testing.T, snap *shop.Snapshot, key string) shop.Profile {
	t.Helper()
	p, err := snap.Profile(context.Background(), key)
	require.NoError(t, err)
	return p
}

// advProfTop turns Top into a map, checking order and finiteness.
func advProfTop(t *testing.T, p shop.Profile) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	for i, x := range p.Top {
		assert.False(t, math.IsNaN(x.Share) || math.IsInf(x.Share, 0), "%q top %v", p.Customer, p.Top)
		if i > 0 {
			assert.GreaterOrEqual(t, p.Top[i-1].Share, x.Share, "%q top %v largest first", p.Customer, p.Top)
		}
		m[x.Category] = x.Share
	}
	assert.LessOrEqual(t, len(p.Top), 3)
	return m
}

// advProfZero asserts that p carries no purchase data.
func advProfZero(t *testing.T, p shop.Profile) {
	t.Helper()
	assert.Zero(t, p.Orders, "%q orders", p.Customer)
	assert.Zero(t, p.Spend, "%q spend", p.Customer)
	assert.Zero(t, p.AOV, "%q aov", p.Customer)
	assert.True(t, p.FirstPurchase.IsZero(), "%q first %v", p.Customer, p.FirstPurchase)
	assert.True(t, p.LastPurchase.IsZero(), "%q last %v", p.Customer, p.LastPurchase)
	assert.Zero(t, p.R+p.F+p.M, "%q scores", p.Customer)
	assert.Empty(t, p.RFM, "%q rfm", p.Customer)
	assert.Empty(t, p.Stage, "%q stage", p.Customer)
	assert.Empty(t, p.Top, "%q top", p.Customer)
}

var advProfCatalog = []affinity.Product{
	{Key: "ax", Name: "AX", Categories: []string{"A/x"}, Price: 10 * advProfCur},
	{Key: "ay", Name: "AY", Categories: []string{"A/y"}, Price: 10 * advProfCur},
	{Key: "b", Name: "B", Categories: []string{"B"}, Price: 20 * advProfCur},
	{Key: "c", Name: "C", Categories: []string{"C"}, Price: 5 * advProfCur},
	{Key: "d", Name: "D", Categories: []string{"D"}, Price: 100 * advProfCur},
	{Key: "e", Name: "E", Categories: []string{"E"}, Price: 1 * advProfCur},
	{Key: "free", Name: "Free sample", Categories: []string{"A/x"}},
	{Key: "axbz", Name: "AX and BZ", Categories: []string{"A/x", "B/z"}, Price: 10 * advProfCur},
	{Key: "axay", Name: "AX and AY", Categories: []string{"A/x", "A/y"}, Price: 10 * advProfCur},
	{Key: "ccq", Name: "C and C/q", Categories: []string{"C", "C/q"}, Price: 10 * advProfCur},
	{Key: "post", Name: "Postage"},
}

// TestAdvProfLookbackBoundaries: Orders, Spend, AOV and Top cover the
// look-back (start, asOf] exactly; FirstPurchase and LastPurchase every
// purchase at or before asOf; nothing after asOf counts anywhere.
func TestAdvProfLookbackBoundaries(t *testing.T) {
	asOf := advProfBase
	lb := affinity.Days(30)
	start := lb.Start(asOf)
	lines := []affinity.Purchase{
		advProfBuy("a", "ax", "o1", start, 3, 10),                    // on the start: out of the window
		advProfBuy("a", "b", "o2", start.Add(time.Second), 1, 20),    // just inside
		advProfBuy("a", "c", "o3", asOf, 2, 5),                       // on asOf: inside
		advProfBuy("a", "d", "o4", asOf.Add(time.Second), 1, 100),    // after asOf
		advProfBuy("late", "d", "o5", asOf.Add(time.Second), 1, 100), // only after asOf
		advProfBuy("old", "b", "o6", start.Add(-time.Hour), 1, 20),   // only before the window
		advProfBuy("x", "e", "o7", asOf.Add(-time.Hour), 1, 1),       // someone else
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(asOf, lb))
	snap := s.Snapshot()

	p := advProfGet(t, snap, "a")
	require.True(t, p.Known)
	assert.Equal(t, 2, p.Orders)
	assert.Equal(t, 30*advProfCur, p.Spend)
	assert.Equal(t, 15*advProfCur, p.AOV)
	assert.True(t, start.Equal(p.FirstPurchase), "first %v, want %v (purchases at or before asOf, any age)", p.FirstPurchase, start)
	assert.True(t, asOf.Equal(p.LastPurchase), "last %v, want %v (not the order after asOf)", p.LastPurchase, asOf)
	top := advProfTop(t, p)
	assert.Equal(t, []string{"B", "C"}, slices.Sorted(func(yield func(string) bool) {
		for k := range top {
			if !yield(k) {
				return
			}
		}
	}), "top %v", p.Top)
	assert.InDelta(t, 20.0/30, top["B"], 1e-9)
	assert.InDelta(t, 10.0/30, top["C"], 1e-9)

	late := advProfGet(t, snap, "late")
	advProfZero(t, late)

	old := advProfGet(t, snap, "old")
	require.True(t, old.Known)
	assert.Zero(t, old.Orders)
	assert.Zero(t, old.Spend)
	assert.Zero(t, old.AOV)
	assert.Empty(t, old.Top)
	assert.True(t, start.Add(-time.Hour).Equal(old.FirstPurchase))
	assert.True(t, start.Add(-time.Hour).Equal(old.LastPurchase))
	assert.Zero(t, old.R+old.F+old.M, "no order in the look-back: not scored")
	assert.Equal(t, "lapsing", old.Stage, "bought, but no order in the look-back")
}

// TestAdvProfMultiCategoryShares: a product in n category paths counts
// 1/n toward each, and an ancestor the sum of the paths below it, at most
// 1 (affinity's model, Catalog.Shares), so Top shares are those weights
// times spend over all the spend.
func TestAdvProfMultiCategoryShares(t *testing.T) {
	asOf := advProfBase
	lines := []affinity.Purchase{
		advProfBuy("a", "axbz", "a1", asOf.Add(-time.Hour), 1, 10),
		advProfBuy("a", "axay", "a1", asOf.Add(-time.Hour), 1, 10),
		advProfBuy("b", "axay", "b1", asOf.Add(-time.Hour), 2, 10),
		advProfBuy("c", "ccq", "c1", asOf.Add(-time.Hour), 1, 10),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(asOf, affinity.Months(24)))
	snap := s.Snapshot()

	a := advProfGet(t, snap, "a")
	assert.Equal(t, []shop.CategoryShare{{Category: "A", Share: 0.75}, {Category: "B", Share: 0.25}}, a.Top)
	b := advProfGet(t, snap, "b")
	assert.Equal(t, []shop.CategoryShare{{Category: "A", Share: 1}}, b.Top, "A/x and A/y: A counts once")
	c := advProfGet(t, snap, "c")
	assert.Equal(t, []shop.CategoryShare{{Category: "C", Share: 1}}, c.Top, "C and C/q: C counts once")
	for q, want := range map[string][]string{
		`affinity("A") = 0.75`: {"a"},
		`affinity("B") = 0.25`: {"a"},
		`affinity("A") = 1`:    {"b"},
		`affinity("C") = 1`:    {"c"},
	} {
		aud, err := snap.Segment(q)
		require.NoError(t, err, q)
		ms, err := aud.All(shop.ByKey)
		require.NoError(t, err)
		var got []string
		for _, m := range ms {
			got = append(got, m.Customer)
		}
		assert.Equal(t, want, got, q)
	}
}

// TestAdvProfDegenerateSpend: customers whose bought spend is zero (free
// samples only), whose spend is all non-merchandise, or whose spend was all
// returned get finite shares (no NaN) and a profile that marshals.
func TestAdvProfDegenerateSpend(t *testing.T) {
	asOf := advProfBase
	at := asOf.Add(-24 * time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("free", "free", "f1", at, 3, 0),
		advProfBuy("post", "post", "p1", at, 1, 4),
		advProfBuy("ret", "ax", "r1", at, 1, 10),
		advProfBuy("ret", "ax", "r2", at.Add(time.Hour), -1, 10),
		advProfBuy("retonly", "ax", "q1", at, -2, 10),
	}
	opts := advProfOpts(asOf, affinity.Months(24))
	opts.NonMerchandise = []string{"post"}
	s := advProfOpen(t, advProfCatalog, lines, opts)
	snap := s.Snapshot()
	for _, key := range []string{"free", "post", "ret", "retonly"} {
		p := advProfGet(t, snap, key)
		advProfTop(t, p)
		_, err := json.Marshal(p)
		assert.NoError(t, err, "%q: %+v", key, p)
	}
	free := advProfGet(t, snap, "free")
	assert.Equal(t, 1, free.Orders)
	assert.Zero(t, free.Spend)
	assert.Empty(t, free.Top, "no spend: no share of it")

	post := advProfGet(t, snap, "post")
	assert.Equal(t, 4*advProfCur, post.Spend)
	assert.Empty(t, post.Top, "postage counts in the spend and in no category")

	ret := advProfGet(t, snap, "ret")
	assert.Equal(t, 1, ret.Orders, "the return-only order has no bought line")
	assert.Zero(t, ret.Spend, "net spend")
	assert.Zero(t, ret.AOV)
	assert.Equal(t, []shop.CategoryShare{{Category: "A", Share: 1}}, ret.Top, "shares count bought lines only")
	assert.True(t, at.Equal(ret.LastPurchase), "last purchase %v: a return is no purchase (segment: an order with a bought line)", ret.LastPurchase)

	ro := advProfGet(t, snap, "retonly")
	assert.Zero(t, ro.Orders)
	assert.Equal(t, -20*advProfCur, ro.Spend, "returns in the window are subtracted")
	assert.Zero(t, ro.AOV, "no order: no AOV")
	assert.Empty(t, ro.Top)
	assert.True(t, ro.LastPurchase.IsZero(), "never bought: last purchase %v", ro.LastPurchase)
	assert.True(t, ro.FirstPurchase.IsZero(), "never bought: first purchase %v", ro.FirstPurchase)
	assert.Empty(t, ro.Stage, "stages partition the customers who bought")
	assert.Zero(t, ro.R+ro.F+ro.M)
}

// TestAdvProfLastPurchaseAgreesWithMember: a profile's LastPurchase and
// an audience Member's are the same instant (both "the last purchase"),
// also when a return-only order follows the last bought one.
func TestAdvProfLastPurchaseAgreesWithMember(t *testing.T) {
	asOf := advProfBase
	at := asOf.Add(-10 * 24 * time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("r", "ax", "r1", at, 2, 10),
		advProfBuy("r", "ax", "r2", at.Add(48*time.Hour), -1, 10),
		advProfBuy("s", "b", "s1", at, 1, 20),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(asOf, affinity.Months(24)))
	snap := s.Snapshot()
	aud, err := snap.Segment("all")
	require.NoError(t, err)
	ms, err := aud.All(shop.ByKey)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	for _, m := range ms {
		p := advProfGet(t, snap, m.Customer)
		assert.True(t, m.LastPurchase.Equal(p.LastPurchase), "%q: member %v, profile %v", m.Customer, m.LastPurchase, p.LastPurchase)
		assert.Equal(t, m.Spend, p.Spend)
		assert.Equal(t, m.Orders, p.Orders)
		assert.Equal(t, m.Stage, p.Stage)
		assert.Equal(t, m.RFM, p.RFM)
	}
	within, err := snap.Segment("recency <= 9d")
	require.NoError(t, err)
	assert.Zero(t, within.Len(), "a return is not a purchase for recency")
}

// TestAdvProfTopThreeTies: at most three categories, largest first; equal
// shares come in one order whatever the workers, and the fourth and fifth
// are left out.
func TestAdvProfTopThreeTies(t *testing.T) {
	asOf := advProfBase
	// catalog ids in the order d, e, b, c, ax: byte order differs
	ps := []affinity.Product{
		{Key: "d", Categories: []string{"D"}, Price: advProfCur},
		{Key: "e", Categories: []string{"E"}, Price: advProfCur},
		{Key: "b", Categories: []string{"B"}, Price: advProfCur},
		{Key: "c", Categories: []string{"C"}, Price: advProfCur},
		{Key: "ax", Categories: []string{"A/x"}, Price: advProfCur},
	}
	at := asOf.Add(-time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("t", "e", "1", at, 4, 10),
		advProfBuy("t", "d", "1", at, 3, 10),
		advProfBuy("t", "b", "1", at, 3, 10),
		advProfBuy("t", "c", "1", at, 2, 10),
		advProfBuy("t", "ax", "1", at, 1, 10),
	}
	var tops [][]shop.CategoryShare
	for _, w := range []int{1, 2} {
		opts := advProfOpts(asOf, affinity.Months(24))
		opts.Workers, opts.RefreshWorkers = w, w
		s := advProfOpen(t, ps, lines, opts)
		p := advProfGet(t, s.Snapshot(), "t")
		require.Len(t, p.Top, 3)
		assert.Equal(t, "E", p.Top[0].Category)
		assert.InDelta(t, 4.0/13, p.Top[0].Share, 1e-9)
		assert.ElementsMatch(t, []string{"B", "D"}, []string{p.Top[1].Category, p.Top[2].Category})
		assert.InDelta(t, 3.0/13, p.Top[1].Share, 1e-9)
		assert.InDelta(t, 3.0/13, p.Top[2].Share, 1e-9)
		tops = append(tops, p.Top)
	}
	assert.Equal(t, tops[0], tops[1])
	t.Logf("tie order: %v", tops[0])
}

// TestAdvProfHalfLifeShares: with Segment.HalfLife the category shares
// weight each order by 2^(-age/HalfLife); Top is "the share of all the
// spend, as segment's affinity has it", so it decays the same way, while
// Spend and Orders do not.
func TestAdvProfHalfLifeShares(t *testing.T) {
	asOf := advProfBase
	hl := 30 * 24 * time.Hour
	lines := []affinity.Purchase{
		advProfBuy("h", "ax", "1", asOf.Add(-2*hl), 1, 10),
		advProfBuy("h", "b", "2", asOf, 1, 10),
	}
	opts := advProfOpts(asOf, affinity.Months(24))
	opts.Segment.HalfLife = hl
	s := advProfOpen(t, advProfCatalog, lines, opts)
	snap := s.Snapshot()
	p := advProfGet(t, snap, "h")
	assert.Equal(t, 20*advProfCur, p.Spend)
	assert.Equal(t, 2, p.Orders)
	// weights 1/4 and 1: A 2.5/12.5, B 10/12.5
	for _, c := range []struct {
		cat   string
		share float64
	}{{"B", 0.8}, {"A", 0.2}} {
		aud, err := snap.Segment(fmt.Sprintf("affinity(%q) between %v and %v", c.cat, c.share-0.001, c.share+0.001))
		require.NoError(t, err)
		require.Equal(t, 1, aud.Len(), "segment's affinity(%q) is %v with the half-life", c.cat, c.share)
	}
	top := advProfTop(t, p)
	assert.InDelta(t, 0.8, top["B"], 1e-4, "profile top %v, segment's affinity B = 0.8", p.Top)
	assert.InDelta(t, 0.2, top["A"], 1e-4, "profile top %v, segment's affinity A = 0.2", p.Top)
}

// TestAdvProfRefreshOldAndNew: after a refresh the new snapshot's profile
// counts the new orders and the new customer; the old snapshot, held,
// answers exactly as before (value included).
func TestAdvProfRefreshOldAndNew(t *testing.T) {
	ctx := context.Background()
	t0 := advProfBase.AddDate(0, -6, 0)
	var lines []affinity.Purchase
	for i := range 12 {
		c := fmt.Sprintf("c%d", i%4)
		lines = append(lines, advProfBuy(c, []string{"ax", "b", "c", "e"}[i%4], fmt.Sprint("o", i), t0.AddDate(0, 0, 9*i), int32(1+i%3), int64(1+i)))
		lines = append(lines, advProfBuy(c, "ay", fmt.Sprint("o", i), t0.AddDate(0, 0, 9*i), 1, 10))
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(time.Time{}, affinity.Months(24)))
	old := s.Snapshot()
	before := map[string]shop.Profile{}
	for _, k := range []string{"c0", "c1", "c2", "c3", "new"} {
		before[k] = advProfGet(t, old, k)
	}
	require.True(t, before["c1"].Known)
	require.False(t, before["new"].Known)
	require.Equal(t, shop.Profile{Customer: "new"}, before["new"])

	at := old.AsOf().Add(36 * time.Hour)
	add := []affinity.Purchase{
		advProfBuy("c1", "d", "n1", at, 1, 100),
		advProfBuy("new", "b", "n2", at, 2, 20),
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(add))))
	cur := s.Snapshot()
	require.NotSame(t, old, cur)
	for k, want := range before {
		assert.Equal(t, want, advProfGet(t, old, k), "old snapshot's profile of %q changed", k)
	}
	c1 := advProfGet(t, cur, "c1")
	assert.Equal(t, before["c1"].Orders+1, c1.Orders)
	assert.Equal(t, before["c1"].Spend+100*advProfCur, c1.Spend)
	assert.True(t, at.Equal(c1.LastPurchase), "last %v want %v", c1.LastPurchase, at)
	assert.True(t, before["c1"].FirstPurchase.Equal(c1.FirstPurchase))
	n := advProfGet(t, cur, "new")
	assert.True(t, n.Known)
	assert.Equal(t, 1, n.Orders)
	assert.Equal(t, 40*advProfCur, n.Spend)
	assert.Equal(t, 40*advProfCur, n.AOV)
	assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 1}}, n.Top)
	assert.Equal(t, "new", n.Stage)
	// the same as a shop opened on everything
	fresh := advProfOpen(t, advProfCatalog, append(slices.Clone(lines), add...), advProfOpts(time.Time{}, affinity.Months(24)))
	for k := range before {
		assert.Equal(t, advProfGet(t, fresh.Snapshot(), k), advProfGet(t, cur, k), "%q refreshed vs scratch", k)
	}
}

// TestAdvProfRefreshWindowMoves: a refresh on a later day moves the
// look-back; the profile of a customer the refresh did not touch loses
// the orders that left the window, as a shop opened on the same data.
func TestAdvProfRefreshWindowMoves(t *testing.T) {
	ctx := context.Background()
	t0 := advProfBase
	lb := affinity.Days(30)
	lines := []affinity.Purchase{
		advProfBuy("a", "ax", "a1", t0, 1, 10),
		advProfBuy("a", "b", "a2", t0.AddDate(0, 0, 20), 1, 20),
	}
	all := slices.Clone(lines)
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(time.Time{}, lb))
	p := advProfGet(t, s.Snapshot(), "a")
	require.Equal(t, 2, p.Orders)
	for _, step := range []struct {
		day    int
		orders int
		spend  affinity.Money
	}{{45, 1, 20 * advProfCur}, {75, 0, 0}} {
		add := advProfBuy(fmt.Sprint("z", step.day), "e", fmt.Sprint("z", step.day), t0.AddDate(0, 0, step.day), 1, 1)
		all = append(all, add)
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{add}))))
		got := advProfGet(t, s.Snapshot(), "a")
		assert.Equal(t, step.orders, got.Orders, "day %d", step.day)
		assert.Equal(t, step.spend, got.Spend, "day %d", step.day)
		if step.orders == 0 {
			assert.Empty(t, got.Top, "day %d", step.day)
			assert.Equal(t, "lapsing", got.Stage, "day %d", step.day)
		} else {
			assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 1}}, got.Top, "day %d", step.day)
		}
		fresh := advProfOpen(t, advProfCatalog, all, advProfOpts(time.Time{}, lb))
		assert.Equal(t, advProfGet(t, fresh.Snapshot(), "a"), got, "day %d: refreshed vs scratch", step.day)
	}
}

// TestAdvProfOrderChanges: profiles follow order changes — a put replaces
// the order (a partial refund lowers the spend), a delete removes it, the
// highest version wins whatever the order of arrival, and loading the same
// feed again changes no profile.
func TestAdvProfOrderChanges(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.Add(-5 * 24 * time.Hour)
	put := func(key string, v int64, ls ...affinity.Purchase) affinity.OrderChange {
		return affinity.OrderChange{Key: key, Version: v, Lines: ls}
	}
	initial := []affinity.OrderChange{
		put("o1", 1, advProfBuy("a", "ax", "o1", at, 1, 10), advProfBuy("a", "b", "o1", at, 1, 20)),
		put("o2", 1, advProfBuy("a", "c", "o2", at.Add(24*time.Hour), 2, 5)),
		put("o3", 1, advProfBuy("solo", "d", "o3", at, 1, 100)),
	}
	s, err := shop.Open(ctx, shop.Sources(shop.Catalog(advProfCatalog), shop.Changes(slices.Values(initial))), advProfOpts(advProfBase, affinity.Months(24)))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	a := advProfGet(t, s.Snapshot(), "a")
	require.Equal(t, 2, a.Orders)
	require.Equal(t, 40*advProfCur, a.Spend)

	feed := []affinity.OrderChange{
		put("o2", 3, advProfBuy("a", "c", "o2", at.Add(24*time.Hour), 9, 5)), // stale, arrives first
		{Key: "o2", Version: 5, Delete: true},
		put("o2", 4, advProfBuy("a", "c", "o2", at.Add(24*time.Hour), 9, 5)), // stale, arrives after the delete
		put("o1", 7, advProfBuy("a", "b", "o1", at, 1, 20)),                  // ax refunded
		put("o1", 2, advProfBuy("a", "ax", "o1", at, 5, 10)),                 // stale
		{Key: "o3", Version: 2, Delete: true},
	}
	require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(feed))))
	snap := s.Snapshot()
	a = advProfGet(t, snap, "a")
	assert.Equal(t, 1, a.Orders)
	assert.Equal(t, 20*advProfCur, a.Spend)
	assert.Equal(t, 20*advProfCur, a.AOV)
	assert.True(t, at.Equal(a.LastPurchase), "o2 deleted: last %v", a.LastPurchase)
	assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 1}}, a.Top)
	solo := advProfGet(t, snap, "solo")
	advProfZero(t, solo)
	if solo.Known {
		aud, err := snap.Segment("all")
		require.NoError(t, err)
		for _, m := range advProfMust(aud.All(shop.ByKey)) {
			assert.NotEqual(t, "solo", m.Customer, "no order left: not a member of the index")
		}
	}

	// the same feed again, reversed: the same profiles
	slices.Reverse(feed)
	require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(feed))))
	again := s.Snapshot()
	assert.Equal(t, a, advProfGet(t, again, "a"))
	assert.Equal(t, solo, advProfGet(t, again, "solo"))
}

func advProfMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAdvProfErasedAcrossRefresh: after Erase the new snapshot does not
// know the customer (a zero profile with Known false); a held old snapshot
// still does.
func TestAdvProfErasedAcrossRefresh(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.Add(-time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("gone", "ax", "g1", at, 1, 10),
		advProfBuy("stay", "b", "s1", at, 1, 20),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(advProfBase, affinity.Months(24)))
	old := s.Snapshot()
	before := advProfGet(t, old, "gone")
	require.True(t, before.Known)
	stay := advProfGet(t, old, "stay")
	require.NoError(t, s.Refresh(ctx, shop.Erase("gone", "never-was")))
	cur := s.Snapshot()
	assert.Equal(t, shop.Profile{Customer: "gone"}, advProfGet(t, cur, "gone"))
	assert.Equal(t, before, advProfGet(t, old, "gone"))
	got := advProfGet(t, cur, "stay")
	assert.Equal(t, stay.Spend, got.Spend)
	assert.Equal(t, stay.Orders, got.Orders)
	assert.Equal(t, stay.Top, got.Top)
	// the erased customer's key is gone; the empty key names nobody
	assert.Equal(t, shop.Profile{Customer: ""}, advProfGet(t, cur, ""))
}

// TestAdvProfConcurrentFirstCalls: the first Profile calls of a snapshot
// (which fit the value models) from several goroutines at once agree with
// each other and with a fresh shop's.
func TestAdvProfConcurrentFirstCalls(t *testing.T) {
	ctx := context.Background()
	t0 := advProfBase.AddDate(-1, 0, 0)
	var lines []affinity.Purchase
	for i := range 60 {
		c := fmt.Sprintf("k%d", i%12)
		lines = append(lines, advProfBuy(c, []string{"ax", "ay", "b", "c", "e"}[i%5], fmt.Sprint("o", i), t0.AddDate(0, 0, 5*i+i%7), int32(1+i%2), int64(1+i%9)))
	}
	opts := advProfOpts(time.Time{}, affinity.Months(24))
	s := advProfOpen(t, advProfCatalog, lines, opts)
	ref := advProfOpen(t, advProfCatalog, lines, opts)
	snap := s.Snapshot()
	const n = 8
	got := make([]shop.Profile, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() { got[g], errs[g] = snap.Profile(ctx, fmt.Sprintf("k%d", g)) })
	}
	wg.Wait()
	for g := range n {
		require.NoError(t, errs[g])
		want := advProfGet(t, ref.Snapshot(), fmt.Sprintf("k%d", g))
		assert.Equal(t, want, got[g], "k%d", g)
		assert.Equal(t, want, advProfGet(t, snap, fmt.Sprintf("k%d", g)))
	}
}

// TestAdvProfEventsOnly: a customer with events but no purchase is known
// with no purchase data; an order time is its earliest line's.
func TestAdvProfEventsOnly(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.Add(-48 * time.Hour)
	src := shop.Sources(shop.Catalog(advProfCatalog), shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (r0 dataset.Report, err error) {
		if err = b.AddEvent(affinity.Event{Customer: "viewer", Product: "ax", Time: at, Kind: affinity.View, Weight: 1}); err != nil {
			return r0, err
		}
		for _, p := range []affinity.Purchase{
			advProfBuy("two", "ax", "t1", at.Add(time.Hour), 1, 10),
			advProfBuy("two", "b", "t1", at, 1, 20), // earlier line of the same order
		} {
			if err = b.Add(p); err != nil {
				return r0, err
			}
		}
		return r0, nil
	}))
	s, err := shop.Open(ctx, src, advProfOpts(advProfBase, affinity.Months(24)))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	v := advProfGet(t, s.Snapshot(), "viewer")
	assert.True(t, v.Known)
	advProfZero(t, v)
	two := advProfGet(t, s.Snapshot(), "two")
	assert.Equal(t, 1, two.Orders)
	assert.Equal(t, 30*advProfCur, two.Spend)
	assert.True(t, at.Equal(two.FirstPurchase), "order time is its earliest line's: %v", two.FirstPurchase)
	assert.True(t, at.Equal(two.LastPurchase), "order time is its earliest line's: %v", two.LastPurchase)
}

// TestAdvProfZeroShareNotTop: a free sample in A beside a paid product in
// B gives A no share of the spend (segment's affinity("A") is 0), so A is
// none of the customer's top categories by share of spend.
func TestAdvProfZeroShareNotTop(t *testing.T) {
	at := advProfBase.Add(-time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("z", "free", "1", at, 1, 0),
		advProfBuy("z", "b", "1", at, 1, 20),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(advProfBase, affinity.Months(24)))
	snap := s.Snapshot()
	p := advProfGet(t, snap, "z")
	aud, err := snap.Segment(`affinity("A") > 0`)
	require.NoError(t, err)
	require.Zero(t, aud.Len(), "segment: no share of spend in A")
	assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 1}}, p.Top)
}

// TestAdvProfAllTime: with an AllTime look-back the profile counts every
// order at or before asOf, and none after it.
func TestAdvProfAllTime(t *testing.T) {
	asOf := advProfBase
	lines := []affinity.Purchase{
		advProfBuy("a", "ax", "o1", asOf.AddDate(-5, 0, 0), 3, 10),
		advProfBuy("a", "b", "o2", asOf.AddDate(-1, 0, 0), 1, 20),
		advProfBuy("a", "c", "o3", asOf, 2, 5),
		advProfBuy("a", "d", "o4", asOf.Add(time.Second), 1, 100),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(asOf, affinity.AllTime))
	p := advProfGet(t, s.Snapshot(), "a")
	assert.Equal(t, 3, p.Orders)
	assert.Equal(t, 60*advProfCur, p.Spend)
	assert.Equal(t, 20*advProfCur, p.AOV)
	assert.Equal(t, []shop.CategoryShare{{Category: "A", Share: 0.5}, {Category: "B", Share: 20.0 / 60}, {Category: "C", Share: 10.0 / 60}}, p.Top)
	assert.True(t, asOf.AddDate(-5, 0, 0).Equal(p.FirstPurchase))
	assert.True(t, asOf.Equal(p.LastPurchase))
}

// TestAdvProfOrderMovesCustomer: order keys are global, so a put of order
// K under another customer takes it from the first: both profiles follow.
func TestAdvProfOrderMovesCustomer(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.Add(-72 * time.Hour)
	initial := []affinity.OrderChange{
		{Key: "k1", Version: 1, Lines: []affinity.Purchase{advProfBuy("a", "ax", "k1", at, 1, 10)}},
		{Key: "k2", Version: 1, Lines: []affinity.Purchase{advProfBuy("a", "b", "k2", at.Add(24*time.Hour), 1, 20)}},
		{Key: "k3", Version: 1, Lines: []affinity.Purchase{advProfBuy("b", "c", "k3", at, 1, 5)}},
	}
	s, err := shop.Open(ctx, shop.Sources(shop.Catalog(advProfCatalog), shop.Changes(slices.Values(initial))), advProfOpts(advProfBase, affinity.Months(24)))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	move := []affinity.OrderChange{{Key: "k2", Version: 2, Lines: []affinity.Purchase{advProfBuy("b", "b", "", at.Add(24*time.Hour), 1, 20)}}}
	require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values(move))))
	snap := s.Snapshot()
	a, b := advProfGet(t, snap, "a"), advProfGet(t, snap, "b")
	assert.Equal(t, 1, a.Orders)
	assert.Equal(t, 10*advProfCur, a.Spend)
	assert.True(t, at.Equal(a.LastPurchase), "a's last %v", a.LastPurchase)
	assert.Equal(t, []shop.CategoryShare{{Category: "A", Share: 1}}, a.Top)
	assert.Equal(t, 2, b.Orders)
	assert.Equal(t, 25*advProfCur, b.Spend)
	assert.True(t, at.Add(24*time.Hour).Equal(b.LastPurchase), "b's last %v", b.LastPurchase)
	assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 0.8}, {Category: "C", Share: 0.2}}, b.Top)
}

// TestAdvProfEmptyOrderKeys: lines without an order id form one order per
// customer and second.
func TestAdvProfEmptyOrderKeys(t *testing.T) {
	at := advProfBase.Add(-time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("a", "ax", "", at, 1, 10),
		advProfBuy("a", "b", "", at, 1, 20),                 // same second: same order
		advProfBuy("a", "c", "", at.Add(time.Second), 1, 5), // next second: another
		advProfBuy("b", "c", "", at, 1, 5),                  // another customer, same second
		advProfBuy("", "c", "", at, 1, 5),                   // anonymous: nobody's
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(advProfBase, affinity.Months(24)))
	snap := s.Snapshot()
	a := advProfGet(t, snap, "a")
	assert.Equal(t, 2, a.Orders)
	assert.Equal(t, 35*advProfCur, a.Spend)
	assert.Equal(t, affinity.Money(175_000), a.AOV)
	b := advProfGet(t, snap, "b")
	assert.Equal(t, 1, b.Orders)
	assert.Equal(t, 5*advProfCur, b.Spend)
	assert.Equal(t, shop.Profile{Customer: ""}, advProfGet(t, snap, ""))
}

// TestAdvProfSegmentLookback: Options.Segment.Lookback, with
// Options.Lookback unset, is the segment look-back: Orders and Spend (read
// from the index) and Top cover the same window.
func TestAdvProfSegmentLookback(t *testing.T) {
	asOf := advProfBase
	lines := []affinity.Purchase{
		advProfBuy("a", "ax", "1", asOf.AddDate(0, 0, -60), 1, 10),
		advProfBuy("a", "b", "2", asOf.AddDate(0, 0, -1), 1, 20),
	}
	opts := advProfOpts(asOf, affinity.Lookback{})
	opts.Segment.Lookback = affinity.Days(30)
	s := advProfOpen(t, advProfCatalog, lines, opts)
	p := advProfGet(t, s.Snapshot(), "a")
	switch p.Orders {
	case 1:
		assert.Equal(t, 20*advProfCur, p.Spend)
		assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 1}}, p.Top, "Top in the 30-day window of Orders and Spend")
	case 2:
		assert.Equal(t, 30*advProfCur, p.Spend)
		assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 2.0 / 3}, {Category: "A", Share: 1.0 / 3}}, p.Top, "Top in the window of Orders and Spend")
	default:
		t.Fatalf("orders %d", p.Orders)
	}
	t.Logf("Segment.Lookback 30 days, Lookback unset: orders %d top %v", p.Orders, p.Top)
}

// TestAdvProfFirstPurchaseAfterReturn: a return-only order is no purchase,
// so the first purchase is the first order with a bought line (segment's
// tenure agrees).
func TestAdvProfFirstPurchaseAfterReturn(t *testing.T) {
	asOf := advProfBase
	ret, buy := asOf.AddDate(0, 0, -20), asOf.AddDate(0, 0, -5)
	lines := []affinity.Purchase{
		advProfBuy("rb", "ax", "1", ret, -1, 10),
		advProfBuy("rb", "b", "2", buy, 1, 20),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(asOf, affinity.Months(24)))
	snap := s.Snapshot()
	p := advProfGet(t, snap, "rb")
	aud, err := snap.Segment("tenure <= 6d")
	require.NoError(t, err)
	require.Equal(t, 1, aud.Len(), "segment: tenure counts from the first bought order")
	assert.True(t, buy.Equal(p.FirstPurchase), "first purchase %v, want %v", p.FirstPurchase, buy)
	assert.True(t, buy.Equal(p.LastPurchase))
	assert.Equal(t, 1, p.Orders)
	assert.Equal(t, 10*advProfCur, p.Spend)
}

// TestAdvProfCatalogRefresh: a refresh that moves a product to another
// category changes the Top of its buyers, consistently with segment's
// affinity and with a shop opened on the new catalog.
func TestAdvProfCatalogRefresh(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.Add(-time.Hour)
	lines := []affinity.Purchase{
		advProfBuy("a", "b", "1", at, 1, 20),
		advProfBuy("a", "c", "1", at, 2, 5),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(advProfBase, affinity.Months(24)))
	moved := slices.Clone(advProfCatalog)
	for i := range moved {
		if moved[i].Key == "b" {
			moved[i].Categories = []string{"E/new"}
		}
	}
	require.NoError(t, s.Refresh(ctx, shop.Catalog(moved)))
	snap := s.Snapshot()
	p := advProfGet(t, snap, "a")
	assert.Equal(t, []shop.CategoryShare{{Category: "E", Share: 20.0 / 30}, {Category: "C", Share: 10.0 / 30}}, p.Top)
	aud, err := snap.Segment(`affinity("E") between 0.66 and 0.67 and affinity("B") = 0`)
	require.NoError(t, err)
	assert.Equal(t, 1, aud.Len(), "segment's affinity after the catalog refresh")
	fresh := advProfOpen(t, moved, lines, advProfOpts(advProfBase, affinity.Months(24)))
	assert.Equal(t, advProfGet(t, fresh.Snapshot(), "a"), p)
}

// TestAdvProfConsumableDue: a product of a consumable category is offered
// again as a due re-buy once its interval has passed since the customer's
// last purchase of it (Source Rebuy, a reason of kind Again with Due, the
// days since and the number of earlier purchases), and not before.
func TestAdvProfConsumableDue(t *testing.T) {
	ctx := context.Background()
	asOf := advProfBase
	var lines []affinity.Purchase
	for i := range 6 { // others, so that the shop has evidence
		c := fmt.Sprint("o", i)
		lines = append(lines, advProfBuy(c, "b", c, asOf.AddDate(0, 0, -30-i), 1, 20), advProfBuy(c, "e", c, asOf.AddDate(0, 0, -30-i), 1, 1))
	}
	lines = append(lines,
		advProfBuy("due", "c", "d1", asOf.AddDate(0, 0, -24), 1, 5),
		advProfBuy("due", "c", "d2", asOf.AddDate(0, 0, -10), 1, 5),
		advProfBuy("fresh", "c", "f1", asOf.AddDate(0, 0, -3), 1, 5),
	)
	opts := advProfOpts(asOf, affinity.Months(24))
	opts.Recommend.Consumables = []recommend.Consumable{{Category: "C", Interval: 7 * 24 * time.Hour}}
	ps := slices.Clone(advProfCatalog)
	for i := range ps {
		ps[i].InStock = true
	}
	s := advProfOpen(t, ps, lines, opts)
	snap := s.Snapshot()

	res, err := snap.Recommend(ctx, shop.Request{Customer: "due", K: 5})
	require.NoError(t, err)
	var found bool
	for _, r := range res.Recs {
		if r.Product != "c" {
			continue
		}
		found = true
		assert.Equal(t, recommend.Rebuy, r.Source)
		rs := r.Reasons()
		require.NotEmpty(t, rs)
		assert.Equal(t, recommend.Again, rs[0].Kind)
		assert.True(t, rs[0].Due, "%+v", rs[0])
		assert.Equal(t, "c", rs[0].Product)
		assert.Equal(t, 2, rs[0].Count, "earlier purchases")
		assert.Equal(t, "purchases", rs[0].Unit)
		assert.InDelta(t, 10, rs[0].Days, 1e-9)
		assert.Contains(t, r.Explanation(), "due again")
	}
	assert.True(t, found, "c is due again: %+v", res.Recs)

	res, err = snap.Recommend(ctx, shop.Request{Customer: "fresh", K: 5})
	require.NoError(t, err)
	for _, r := range res.Recs {
		assert.NotEqual(t, "c", r.Product, "bought 3 days ago, interval 7 days: not due")
	}
}

// TestAdvProfNonMerchandiseWithCategory: non-merchandise counts in the
// spend and in no category, even when the catalog files it under one;
// segment's affinity, which Top follows, agrees.
func TestAdvProfNonMerchandiseWithCategory(t *testing.T) {
	at := advProfBase.Add(-time.Hour)
	ps := append(slices.Clone(advProfCatalog),
		affinity.Product{Key: "ship", Name: "POSTAGE", Categories: []string{"S/post"}, Price: 10 * advProfCur},
		affinity.Product{Key: "fee", Name: "Handling", Categories: []string{"A/fees"}, Price: 10 * advProfCur})
	lines := []affinity.Purchase{
		advProfBuy("n", "ship", "1", at, 1, 10),
		advProfBuy("n", "fee", "1", at, 1, 10),
		advProfBuy("n", "b", "1", at, 1, 20),
	}
	opts := advProfOpts(advProfBase, affinity.Months(24))
	opts.IsNonMerchandise = nil // the default recognises POSTAGE
	opts.NonMerchandise = []string{"fee"}
	s := advProfOpen(t, ps, lines, opts)
	snap := s.Snapshot()
	require.True(t, snap.IsNonMerchandise("ship"))
	require.True(t, snap.IsNonMerchandise("fee"))
	p := advProfGet(t, snap, "n")
	assert.Equal(t, 40*advProfCur, p.Spend)
	assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 0.5}}, p.Top)
	for _, q := range []string{`affinity("B") = 0.5`, `affinity("S") = 0`, `affinity("A") = 0`} {
		aud, err := snap.Segment(q)
		require.NoError(t, err)
		assert.Equal(t, 1, aud.Len(), "segment: %s", q)
	}
}

// TestAdvProfNonMerchandiseAfterRefresh: a refresh that makes a product
// non-merchandise (renamed POSTAGE in the catalog) takes it out of every
// customer's category shares, the customers the refresh did not touch
// included: the segment index is built anew, not updated, when the set
// changes.
func TestAdvProfNonMerchandiseAfterRefresh(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.Add(-48 * time.Hour)
	ps := append(slices.Clone(advProfCatalog), affinity.Product{Key: "box", Name: "Gift box", Categories: []string{"S/boxes"}, Price: 10 * advProfCur})
	lines := []affinity.Purchase{
		advProfBuy("u", "box", "1", at, 1, 10),
		advProfBuy("u", "b", "1", at, 1, 30),
		advProfBuy("v", "b", "2", at, 1, 5),
	}
	opts := advProfOpts(time.Time{}, affinity.Months(24))
	opts.IsNonMerchandise = nil // the default recognises POSTAGE
	s := advProfOpen(t, ps, lines, opts)
	count := func(q string) int {
		aud, err := s.Snapshot().Segment(q)
		require.NoError(t, err)
		return aud.Len()
	}
	require.Equal(t, 1, count(`affinity("S") = 0.25`), "a gift box is merchandise")

	renamed := ps[len(ps)-1]
	renamed.Name = "POSTAGE"
	require.NoError(t, s.Refresh(ctx, shop.Sources(shop.Catalog([]affinity.Product{renamed}),
		shop.Purchases(slices.Values([]affinity.Purchase{advProfBuy("w", "b", "3", at.Add(time.Hour), 1, 7)})))))
	snap := s.Snapshot()
	require.True(t, snap.IsNonMerchandise("box"))
	_, err := snap.SegmentIndex(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, count(`affinity("S") > 0`), "u, untouched by the refresh, has no share in postage's category")
	assert.Equal(t, 1, count(`affinity("B") = 0.75`), "u's merchandise share of all the spend")
	assert.Equal(t, []shop.CategoryShare{{Category: "B", Share: 0.75}}, advProfGet(t, snap, "u").Top)
}

// TestAdvProfDuringRefresh: profiles asked while a refresh runs come from
// one snapshot or the other, never a mix: the spend and orders of a
// customer the refresh changes are either before or after.
func TestAdvProfDuringRefresh(t *testing.T) {
	ctx := context.Background()
	at := advProfBase.AddDate(0, 0, -3)
	lines := []affinity.Purchase{
		advProfBuy("a", "b", "1", at, 1, 20),
		advProfBuy("z", "c", "2", at, 1, 5),
	}
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(time.Time{}, affinity.Months(24)))
	before := advProfGet(t, s.Snapshot(), "a")
	var wg sync.WaitGroup
	var bad []string
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			for range 50 {
				p, err := s.Snapshot().Profile(ctx, "a")
				ok := err == nil && ((p.Orders == 1 && p.Spend == 20*advProfCur) || (p.Orders == 2 && p.Spend == 120*advProfCur))
				if !ok {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%+v %v", p, err))
					mu.Unlock()
				}
			}
		})
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{advProfBuy("a", "d", "3", at.Add(time.Hour), 1, 100)}))))
	wg.Wait()
	assert.Empty(t, bad)
	assert.Equal(t, 1, before.Orders)
	after := advProfGet(t, s.Snapshot(), "a")
	assert.Equal(t, 2, after.Orders)
	assert.Equal(t, 120*advProfCur, after.Spend)
}

// TestAdvProfValueIsValuesOf: a profile's Value is what Values.Of gives
// for the customer ("as Snapshot.Profile shows it"), and a customer the
// models do not cover (no purchase by the snapshot time) gets none.
func TestAdvProfValueIsValuesOf(t *testing.T) {
	ctx := context.Background()
	asOf := advProfBase
	t0 := asOf.AddDate(-1, 0, 0)
	var lines []affinity.Purchase
	for i := range 60 {
		c := fmt.Sprintf("k%d", i%12)
		lines = append(lines, advProfBuy(c, []string{"ax", "ay", "b", "c", "e"}[i%5], fmt.Sprint("o", i), t0.AddDate(0, 0, 5*i+i%7), int32(1+i%2), int64(1+i%9)))
	}
	lines = append(lines,
		advProfBuy("late", "b", "late", asOf.Add(time.Second), 1, 20),
		advProfBuy("retonly", "b", "ret", asOf.AddDate(0, 0, -2), -1, 20))
	s := advProfOpen(t, advProfCatalog, lines, advProfOpts(asOf, affinity.Months(24)))
	snap := s.Snapshot()
	vs, err := snap.Value(ctx)
	if err != nil {
		t.Skipf("no value models on this shop: %v", err)
	}
	h := snap.History()
	for _, key := range []string{"k0", "k5", "k11", "late", "retonly"} {
		c, ok := h.LookupCustomer(key)
		require.True(t, ok, key)
		p := advProfGet(t, snap, key)
		v, covered := vs.Of(c)
		if !covered {
			assert.Nil(t, p.Value, "%q: not covered by the models", key)
			continue
		}
		require.NotNil(t, p.Value, key)
		assert.Equal(t, v, *p.Value, key)
		assert.False(t, math.IsNaN(v.PAlive) || math.IsNaN(v.CLV) || math.IsNaN(v.ExpectedPurchases), "%q %+v", key, v)
	}
	late, _ := h.LookupCustomer("late")
	_, lateCovered := vs.Of(late)
	assert.False(t, lateCovered, "no purchase by the snapshot time")
}
