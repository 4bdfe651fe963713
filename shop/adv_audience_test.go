package shop_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// The tests of this file check the audiences of a snapshot —
// Snapshot.Segment and Snapshot.Audience with their statistics, pages,
// orders, CSV and JSON — and Snapshot.Profile and Snapshot.Together
// against a naive model computed from the History's accessors and the
// documentation: Member, Profile and segment.Stats field by field.

// audOpts are the options of the shops of this file: the co-purchase
// neighbours (no model choice, no learned fit) on one worker.
var audOpts = shop.Options{Model: "neighbours", NextBasket: shop.Off, Workers: 1, RefreshWorkers: 1, NonMerchandise: []string{"post"}}

// audBase is the time the random shops are built around.
var audBase = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

var audCats = []string{"A", "A/x", "A/y", "B", "B/z", "C"}

// audKey returns the key of customer i: plain, upper case, unicode and
// with a leading space, so that byte order differs from id order.
func audKey(i int) string {
	switch i % 4 {
	case 1:
		return fmt.Sprintf("C%02d", i)
	case 2:
		return fmt.Sprintf("é%02d", i)
	case 3:
		return fmt.Sprintf(" c%02d", i)
	}
	return fmt.Sprintf("c%02d", i)
}

// audProducts returns the catalog of the random shops: ten products in
// zero, one or two categories and the postage.
func audProducts() []affinity.Product {
	ps := []affinity.Product{{Key: "post", Name: "Postage", Price: 50_000, InStock: true}}
	for i := range 10 {
		p := affinity.Product{Key: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Item %d", i), Price: affinity.Money(10_000 * (i + 1)), InStock: true}
		switch i % 4 {
		case 0:
			p.Categories = []string{audCats[i%len(audCats)]}
		case 1:
			p.Categories = []string{audCats[i%len(audCats)], audCats[(i+2)%len(audCats)]}
		case 2:
			p.Categories = []string{audCats[(i+3)%len(audCats)]}
		}
		ps = append(ps, p)
	}
	return ps
}

// audWorld is a random shop: its lines and events, and the as-of time
// given to Options.AsOf (zero: the data's latest).
type audWorld struct {
	asOf   time.Time
	lines  []affinity.Purchase
	events []affinity.Event
	orders int
}

// audGen generates nOrders random orders of nCust customers around
// audBase: returns, return-only orders, anonymous orders, orders at the
// as-of time, a second after it, and at the look-back's start and a
// second after; equal prices so that spends and times tie.
func audGen(r *rand.Rand, nCust, nOrders int, fixed bool) *audWorld {
	w := &audWorld{}
	if fixed {
		w.asOf = audBase
	}
	start := affinity.Months(24).Start(audBase)
	for range nOrders {
		w.addOrder(r, nCust, start)
	}
	for range nCust / 4 {
		c := r.IntN(nCust + 5) // some customers with events only
		w.events = append(w.events, affinity.Event{Customer: audKey(c), Product: fmt.Sprintf("p%d", r.IntN(10)),
			Time: audBase.Add(-time.Duration(r.IntN(500)) * time.Hour), Kind: affinity.EventKind(1 + r.IntN(2)), Weight: 1})
	}
	return w
}

func (w *audWorld) addOrder(r *rand.Rand, nCust int, start time.Time) {
	var at time.Time
	switch r.IntN(12) {
	case 0:
		at = audBase // exactly at as-of
	case 1:
		at = start // exactly at the look-back's start: out of the window
	case 2:
		at = start.Add(time.Second)
	case 3:
		at = audBase.Add(-time.Duration(r.IntN(3)) * 24 * time.Hour) // same second as others
	default:
		at = audBase.Add(-time.Duration(r.IntN(800*24)) * time.Hour)
	}
	if w.asOf.IsZero() && at.After(audBase) {
		at = audBase
	}
	if !w.asOf.IsZero() && r.IntN(15) == 0 {
		at = audBase.Add(time.Second) // after the fixed as-of
	}
	cust := audKey(r.IntN(nCust))
	if r.IntN(10) == 0 {
		cust = "" // anonymous
	}
	w.orders++
	key := fmt.Sprintf("o%d", w.orders)
	n := 1 + r.IntN(3)
	onlyReturns := r.IntN(10) == 0
	for range n {
		q := int32(1 + r.IntN(2))
		if onlyReturns || r.IntN(8) == 0 {
			q = -q
		}
		prod := fmt.Sprintf("p%d", r.IntN(10))
		if r.IntN(6) == 0 {
			prod = "post"
		}
		price := affinity.Money(10_000 * (1 + r.IntN(3)))
		w.lines = append(w.lines, affinity.Purchase{Customer: cust, Product: prod, Order: key, Time: at, Quantity: q, Price: price})
	}
}

// source returns the world as a shop source: catalog, lines, events.
func (w *audWorld) source() shop.Source {
	return shop.Sources(shop.Catalog(audProducts()), shop.Purchases(slices.Values(w.lines)), audEvents(w.events))
}

func audEvents(es []affinity.Event) shop.Source {
	return shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		for _, e := range es {
			if err := b.AddEvent(e); err != nil {
				return dataset.Report{}, err
			}
		}
		return dataset.Report{Format: "events", Events: len(es)}, nil
	})
}

// audCust is the naive model of one customer.
type audCust struct {
	id          affinity.CustomerID
	key         string
	known       bool // an order or event at or before the index's as-of
	spend       affinity.Money
	freq        int
	bought      bool // a purchase at or before as-of
	first, last time.Time
	products    map[string]bool // bought in the look-back
	catSpend    map[string]float64
	spendBought float64 // bought lines' value in the look-back
}

// recency returns the whole days since the last purchase as of segAsOf.
func (c *audCust) recency(segAsOf time.Time) int {
	return int(segAsOf.Sub(c.last) / (24 * time.Hour))
}

func (c *audCust) stage(segAsOf time.Time) string {
	if !c.bought {
		return ""
	}
	switch d := c.recency(segAsOf); {
	case d > 365:
		return segment.StageChurned
	case d > 180 || c.freq == 0:
		return segment.StageLapsing
	case c.freq >= 4:
		return segment.StageLoyal
	case c.freq >= 2:
		return segment.StageRepeat
	}
	return segment.StageNew
}

// audNaive is the naive model of a snapshot.
type audNaive struct {
	asOf, segAsOf, start time.Time
	custs                []*audCust // the known customers, by id
	byKey                map[string]*audCust
}

// newAudNaive computes the model of snap from its History's accessors:
// the snapshot is as of asOf, its index as of the end of that day unless
// fixed (Options.AsOf), with the look-back lb.
func newAudNaive(snap *shop.Snapshot, fixed bool, lb affinity.Lookback) *audNaive {
	h := snap.History()
	cat := h.Catalog()
	n := &audNaive{asOf: snap.AsOf(), segAsOf: snap.AsOf(), byKey: map[string]*audCust{}}
	if !fixed {
		n.segAsOf = n.asOf.Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
	}
	n.start = lb.Or(shop.DefaultLookback).Start(n.segAsOf)
	for c := range affinity.CustomerID(h.NumCustomers()) {
		key := h.CustomerKey(c)
		if key == "" {
			continue // erased
		}
		cu := &audCust{id: c, key: key, products: map[string]bool{}, catSpend: map[string]float64{}}
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			t := h.OrderTime(o)
			if t.After(n.segAsOf) {
				continue
			}
			cu.known = true
			in := t.After(n.start)
			llo, lhi := h.OrderLines(o)
			boughtLine := false
			for i := llo; i < lhi; i++ {
				ln := h.Line(i)
				if in {
					cu.spend += ln.Value()
				}
				if ln.Quantity > 0 {
					boughtLine = true
					if in {
						cu.products[cat.ProductKey(ln.Product)] = true
						v := ln.Value().Float()
						cu.spendBought += v
						for _, sh := range cat.Shares(ln.Product) {
							if cat.Depth(sh.Category) == 1 {
								cu.catSpend[cat.CategoryPath(sh.Category)] += v * float64(sh.Weight)
							}
						}
					}
				}
			}
			if boughtLine && !t.After(n.asOf) {
				if in {
					cu.freq++
				}
				if !cu.bought || t.Before(cu.first) {
					cu.first = t
				}
				if !cu.bought || t.After(cu.last) {
					cu.last = t
				}
				cu.bought = true
			}
		}
		elo, ehi := h.CustomerEvents(c)
		for i := elo; i < ehi; i++ {
			if !h.Event(i).Time().After(n.segAsOf) {
				cu.known = true
			}
		}
		if cu.known {
			n.custs = append(n.custs, cu)
			n.byKey[key] = cu
		}
	}
	return n
}

// member returns the Member the audience should give for cu.
func (n *audNaive) member(cu *audCust) shop.Member {
	m := shop.Member{Customer: cu.key, ID: cu.id, Spend: cu.spend, Orders: cu.freq, Stage: cu.stage(n.segAsOf)}
	if cu.bought {
		m.LastPurchase = cu.last
	}
	return m
}

// members returns the members of the customers sel selects in order.
func (n *audNaive) members(order shop.Order, sel func(*audCust) bool) []shop.Member {
	ms := []shop.Member{}
	for _, cu := range n.custs {
		if sel(cu) {
			ms = append(ms, n.member(cu))
		}
	}
	slices.SortFunc(ms, func(a, b shop.Member) int {
		switch order {
		case shop.BySpend:
			return cmp.Or(cmp.Compare(b.Spend, a.Spend), strings.Compare(a.Customer, b.Customer))
		case shop.ByRecency:
			return cmp.Or(b.LastPurchase.Compare(a.LastPurchase), strings.Compare(a.Customer, b.Customer))
		}
		return strings.Compare(a.Customer, b.Customer)
	})
	return ms
}

// roundDiv is a / b rounded half away from zero.
func roundDiv(a, b int64) int64 {
	q, r := a/b, a%b
	if 2*absI64(r) >= absI64(b) {
		if (a < 0) != (b < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

func absI64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// stats returns the statistics of the customers sel selects.
func (n *audNaive) stats(name string, sel func(*audCust) bool) segment.Stats {
	st := segment.Stats{Name: name}
	var total affinity.Money
	for _, cu := range n.custs {
		total += cu.spend
		if sel(cu) {
			st.Customers++
			st.Revenue += cu.spend
			st.Orders += int64(cu.freq)
		}
	}
	if len(n.custs) > 0 {
		st.Share = float64(st.Customers) / float64(len(n.custs))
	}
	if total > 0 {
		st.RevenueShare = float64(st.Revenue) / float64(total)
	}
	if st.Orders > 0 {
		st.AOV = affinity.Money(roundDiv(int64(st.Revenue), st.Orders))
	}
	return st
}

// stripMembers clears the RFM segment of members (the RFM quintiles are
// checked by package segment's own tests) and puts times in UTC.
func stripMembers(ms []shop.Member) []shop.Member {
	out := make([]shop.Member, len(ms))
	for i, m := range ms {
		m.RFM = ""
		out[i] = m
	}
	return out
}

// audQueries are queries with their naive selections.
func audQueries(n *audNaive) []struct {
	q   string
	sel func(*audCust) bool
} {
	rec := func(cu *audCust) int {
		if !cu.bought {
			return -1
		}
		return cu.recency(n.segAsOf)
	}
	return []struct {
		q   string
		sel func(*audCust) bool
	}{
		{`all`, func(*audCust) bool { return true }},
		{`none`, func(*audCust) bool { return false }},
		{`not all`, func(*audCust) bool { return false }},
		{`frequency >= 2`, func(cu *audCust) bool { return cu.freq >= 2 }},
		{"FREQUENCY >= 1 # a comment", func(cu *audCust) bool { return cu.freq >= 1 }},
		{`frequency = 0`, func(cu *audCust) bool { return cu.freq == 0 }},
		{`monetary > $10`, func(cu *audCust) bool { return cu.spend > 100_000 }},
		{`monetary < 0`, func(cu *audCust) bool { return cu.spend < 0 }},
		{`monetary between -$20 and €20.00`, func(cu *audCust) bool { return cu.spend >= -200_000 && cu.spend <= 200_000 }},
		{`recency <= 30d`, func(cu *audCust) bool { r := rec(cu); return r >= 0 && r <= 30 }},
		{`not recency <= 30d`, func(cu *audCust) bool { r := rec(cu); return !(r >= 0 && r <= 30) }},
		{`recency between 1w and 2m`, func(cu *audCust) bool { r := rec(cu); return r >= 7 && r <= 60 }},
		{`bought("p3") or bought("p7")`, func(cu *audCust) bool { return cu.products["p3"] || cu.products["p7"] }},
		{`bought("p3") and not bought("post")`, func(cu *audCust) bool { return cu.products["p3"] && !cu.products["post"] }},
		{`aov >= 20`, func(cu *audCust) bool {
			return cu.freq > 0 && roundDiv(int64(cu.spend), int64(cu.freq)) >= 200_000
		}},
		{`lifecycle("loyal") or lifecycle("NEW")`, func(cu *audCust) bool {
			s := cu.stage(n.segAsOf)
			return s == segment.StageLoyal || s == segment.StageNew
		}},
	}
}

// checkAud compares aud with the naive selection sel, every order, its
// pages, CSV and JSON.
func checkAud(t *testing.T, r *rand.Rand, n *audNaive, aud *shop.Audience, name string, sel func(*audCust) bool) {
	t.Helper()
	want := n.stats(name, sel)
	st := aud.Stats()
	assert.Equal(t, want.Customers, aud.Len(), "%s: Len", name)
	assert.Equal(t, want.Customers, st.Customers, "%s: customers", name)
	assert.Equal(t, want.Revenue, st.Revenue, "%s: revenue", name)
	assert.Equal(t, want.Orders, st.Orders, "%s: orders", name)
	assert.Equal(t, want.AOV, st.AOV, "%s: AOV", name)
	assert.Equal(t, want.Revenue, aud.Revenue(), "%s: Revenue()", name)
	assert.Equal(t, want.AOV, aud.AOV(), "%s: AOV()", name)
	assert.InDelta(t, want.Share, st.Share, 1e-12, "%s: share", name)
	assert.InDelta(t, want.RevenueShare, st.RevenueShare, 1e-12, "%s: revenue share", name)
	assert.Equal(t, name, st.Name)
	assert.Equal(t, name, aud.Query())

	for o := shop.ByKey; o <= shop.ByRecency; o++ {
		exp := n.members(o, sel)
		all, err := aud.All(o)
		require.NoError(t, err)
		require.Equal(t, len(exp), len(all), "%s by %v", name, o)
		assert.Equal(t, exp, stripMembers(all), "%s by %v", name, o)
		for i, m := range all {
			assert.Equal(t, time.UTC, m.LastPurchase.Location(), "%s: member %d's last purchase in UTC", name, i)
		}
		// random pages put together are All
		var paged []shop.Member
		for off := 0; ; {
			lim := 1 + r.IntN(9)
			page, err := aud.Page(o, off, lim)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), lim)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			off += len(page)
		}
		if len(all) > 0 {
			assert.Equal(t, all, paged, "%s: pages by %v", name, o)
		} else {
			assert.Empty(t, paged)
		}
		// the CSV has the documented columns
		var buf bytes.Buffer
		require.NoError(t, aud.WriteCSV(&buf, o))
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, len(exp)+1, "%s: CSV rows", name)
		assert.Equal(t, []string{"customer", "spend", "orders", "last_purchase", "rfm_segment", "lifecycle"}, rows[0])
		for i, m := range exp {
			row := rows[i+1]
			last := ""
			if !m.LastPurchase.IsZero() {
				last = m.LastPurchase.UTC().Format(time.RFC3339)
			}
			assert.Equal(t, []string{m.Customer, m.Spend.String(), strconv.Itoa(m.Orders), last, all[i].RFM, m.Stage}, row, "%s: CSV row %d", name, i)
			sp, err := affinity.ParseMoney(row[1], '.')
			require.NoError(t, err)
			assert.Equal(t, m.Spend, sp, "CSV spend is exact")
		}
	}

	b, err := json.Marshal(aud)
	require.NoError(t, err)
	var js struct {
		Query        string         `json:"query"`
		Customers    int            `json:"customers"`
		Share        float64        `json:"share"`
		Orders       int64          `json:"orders"`
		Revenue      affinity.Money `json:"revenue"`
		RevenueShare float64        `json:"revenue_share"`
		AOV          affinity.Money `json:"aov"`
	}
	require.NoError(t, json.Unmarshal(b, &js), "%s", b)
	assert.Equal(t, name, js.Query)
	assert.Equal(t, want.Customers, js.Customers)
	assert.Equal(t, want.Revenue, js.Revenue)
	assert.Equal(t, want.AOV, js.AOV)
	assert.Equal(t, want.Orders, js.Orders)
}

// TestAdvAudienceMatchesNaive checks the audiences of random shops —
// returns, return-only orders, anonymous orders, customers with events
// only, orders at the as-of time, after it and at the look-back's start —
// against the naive model, with a fixed as-of time and without.
func TestAdvAudienceMatchesNaive(t *testing.T) {
	seeds := testdata.Scale(12, 3)
	for seed := range seeds {
		for _, fixed := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d-fixed%v", seed, fixed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(seed), 0xa0d))
				w := audGen(r, 24, testdata.Scale(200, 60), fixed)
				s, opts := audOpen(t, w)
				snap := s.Snapshot()
				n := newAudNaive(snap, fixed, opts.Lookback)
				for _, q := range audQueries(n) {
					aud, err := snap.Segment(q.q)
					require.NoError(t, err, q.q)
					checkAud(t, r, n, aud, q.q, q.sel)
				}
			})
		}
	}
}

// TestAdvAudienceUnknownIDs wraps sets holding ids the snapshot does not
// know — beyond its customers, a customer with no order or event at or
// before as-of, an erased customer — as audiences: an Audience is "a set
// of the snapshot's customers", so Len, Stats, All, pages and the CSV must
// agree on who is in it.
func TestAdvAudienceUnknownIDs(t *testing.T) {
	ctx := context.Background()
	t0 := audBase
	lines := []affinity.Purchase{
		{Customer: "a", Product: "p1", Order: "o1", Time: t0.Add(-48 * time.Hour), Quantity: 1, Price: 10_000},
		{Customer: "b", Product: "p2", Order: "o2", Time: t0, Quantity: 2, Price: 10_000},
		{Customer: "late", Product: "p2", Order: "o3", Time: t0.Add(time.Hour), Quantity: 1, Price: 10_000}, // after as-of
		{Customer: "gone", Product: "p1", Order: "o4", Time: t0.Add(-time.Hour), Quantity: 1, Price: 10_000},
	}
	opts := audOpts
	opts.AsOf = t0
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(lines)), opts)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Refresh(ctx, shop.Erase("gone")))
	snap := s.Snapshot()
	h := snap.History()
	late, ok := h.LookupCustomer("late")
	require.True(t, ok)
	var gone affinity.CustomerID
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if h.CustomerKey(c) == "" {
			gone = c
		}
	}
	a, _ := h.LookupCustomer("a")
	set := roaring.BitmapOf(uint32(a), uint32(late), uint32(gone), uint32(h.NumCustomers()), 1<<20, math.MaxUint32)
	aud := snap.Audience("mixed", set)
	all, err := aud.All(shop.ByKey)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, "a", all[0].Customer)
	assert.Equal(t, 1, aud.Stats().Customers)
	assert.Equal(t, len(all), aud.Len(), "Len is the number of customers the audience pages through")

	// an erased customer is in no audience of a query
	every, err := snap.Segment(`all`)
	require.NoError(t, err)
	assert.False(t, every.Bitmap().Contains(uint32(gone)), "erased customer in `all`")
	ms, err := every.All(shop.ByKey)
	require.NoError(t, err)
	for _, m := range ms {
		assert.NotEmpty(t, m.Customer)
		assert.NotEqual(t, "late", m.Customer, "a customer whose only order is after as-of")
	}
	p, err := snap.Profile(ctx, "gone")
	require.NoError(t, err)
	assert.False(t, p.Known, "an erased customer's profile")
}

// TestAdvAudienceNilSet wraps a nil set: the audience is empty, never a
// panic (the seam contract: a nil argument is never a panic;
// segment.Index.Stats takes a nil set as empty).
func TestAdvAudienceNilSet(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "a", Product: "p1", Order: "o1", Time: audBase, Quantity: 1, Price: 10_000},
	})), audOpts)
	require.NoError(t, err)
	defer s.Close()
	var aud *shop.Audience
	require.NotPanics(t, func() { aud = s.Snapshot().Audience("nil", nil) })
	assert.Zero(t, aud.Len())
	assert.Zero(t, aud.Stats().Customers)
}

// TestAdvAudienceEmptyShop asks a shop without any order for audiences:
// every query that parses gives an empty audience whose pages, CSV and
// JSON work, a bad query still gives its syntax error, profiles are
// unknown and Together names the unknown product.
func TestAdvAudienceEmptyShop(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase(nil))), audOpts)
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	for _, q := range []string{`all`, `frequency >= 1`, `not recency <= 3d`} {
		aud, err := snap.Segment(q)
		require.NoError(t, err, q)
		assert.Zero(t, aud.Len())
		for o := shop.ByKey; o <= shop.ByRecency; o++ {
			page, err := aud.Page(o, 0, shop.MaxPage)
			require.NoError(t, err)
			assert.Empty(t, page)
			all, err := aud.All(o)
			require.NoError(t, err)
			assert.Empty(t, all)
			var buf bytes.Buffer
			require.NoError(t, aud.WriteCSV(&buf, o))
			assert.Equal(t, "customer,spend,orders,last_purchase,rfm_segment,lifecycle\n", buf.String())
		}
		b, err := json.Marshal(aud)
		require.NoError(t, err)
		assert.JSONEq(t, `{"query":`+strconv.Quote(q)+`,"customers":0,"share":0,"orders":0,"revenue":"0.00","revenue_share":0,"aov":"0.00"}`, string(b))
	}
	_, err = snap.Segment(`frequency >=`)
	var se *segment.SyntaxError
	require.ErrorAs(t, err, &se)
	// a set of ids wrapped on a shop without customers
	aud := snap.Audience("ids", roaring.BitmapOf(0, 1, 2))
	assert.Zero(t, aud.Len())
	p, err := snap.Profile(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, shop.Profile{Customer: "c1"}, p)
	_, err = snap.Together(ctx, "p1", 3)
	require.ErrorIs(t, err, recommend.ErrUnknownProduct)
}

// TestAdvAudiencePageArguments checks Page's and All's argument checks
// at their edges: the orders, offsets and limits around the documented
// bounds, and an offset far past the end.
func TestAdvAudiencePageArguments(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	w := audGen(r, 12, 40, true)
	s, _ := audOpen(t, w)
	aud, err := s.Snapshot().Segment(`all`)
	require.NoError(t, err)
	n := aud.Len()
	require.Positive(t, n)
	for _, tc := range []struct {
		name          string
		order         shop.Order
		offset, limit int
		want          int // members; -1: an error
	}{
		{"limit 0", shop.ByKey, 0, 0, -1},
		{"limit -1", shop.ByKey, 0, -1, -1},
		{"limit MaxPage", shop.BySpend, 0, shop.MaxPage, n},
		{"limit MaxPage+1", shop.BySpend, 0, shop.MaxPage + 1, -1},
		{"limit MaxInt", shop.BySpend, 0, math.MaxInt, -1},
		{"offset -1", shop.ByRecency, -1, 1, -1},
		{"offset MinInt", shop.ByRecency, math.MinInt, 1, -1},
		{"offset last", shop.ByRecency, n - 1, shop.MaxPage, 1},
		{"offset end", shop.ByRecency, n, 1, 0},
		{"offset MaxInt", shop.ByKey, math.MaxInt, shop.MaxPage, 0},
		{"order -1", shop.Order(-1), 0, 1, -1},
		{"order 3", shop.Order(3), 0, 1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := aud.Page(tc.order, tc.offset, tc.limit)
			if tc.want < 0 {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, page, tc.want)
			assert.NotNil(t, page)
		})
	}
	for _, o := range []shop.Order{-1, 3, math.MaxInt} {
		_, err := aud.All(o)
		assert.Error(t, err)
		assert.Error(t, aud.WriteCSV(&bytes.Buffer{}, o))
		assert.Contains(t, o.String(), "Order(")
		_, err = shop.ParseOrder(o.String())
		assert.Error(t, err)
	}
	for _, bad := range []string{"", "Key", "SPEND", " key", "recency "} {
		_, err := shop.ParseOrder(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// scratchSource returns h's catalog, lines and events as a source, to
// open a shop on the same data from scratch.
func scratchSource(h *affinity.History) shop.Source {
	cat := h.Catalog()
	ps := make([]affinity.Product, cat.NumProducts())
	for p := range ps {
		ps[p] = cat.Product(affinity.ProductID(p))
	}
	return shop.Sources(shop.Catalog(ps), shop.Purchases(h.Purchases()), audEvents(slices.Collect(h.Events())))
}

// TestAdvAudienceRefreshEqualsScratch refreshes random shops with new
// orders, order changes (puts of new versions, deletes, stale versions),
// erasures and, without a fixed as-of, later days, and compares every
// audience of the refreshed snapshot with the naive model and with a shop
// opened from scratch on the same data: members (RFM segments included),
// statistics and profiles.
func TestAdvAudienceRefreshEqualsScratch(t *testing.T) {
	ctx := context.Background()
	seeds := testdata.Scale(8, 2)
	for seed := range seeds {
		for _, fixed := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d-fixed%v", seed, fixed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
				w := audGen(r, 20, testdata.Scale(150, 50), fixed)
				s, opts := audOpen(t, w)
				start := affinity.Months(24).Start(audBase)
				version := int64(1)
				rounds := testdata.Scale(6, 2)
				for round := range rounds {
					var src []shop.Source
					// new orders, later days too without a fixed as-of
					more := &audWorld{asOf: w.asOf, orders: w.orders}
					for range 5 + r.IntN(10) {
						more.addOrder(r, 24, start)
					}
					w.orders = more.orders
					if !fixed {
						shift := time.Duration(round*30+r.IntN(30)) * time.Hour
						for i := range more.lines {
							more.lines[i].Time = more.lines[i].Time.Add(shift)
						}
					}
					src = append(src, shop.Purchases(slices.Values(more.lines)))
					// changes of earlier orders
					var feed []affinity.OrderChange
					for range 3 {
						key := fmt.Sprintf("o%d", 1+r.IntN(w.orders))
						version++
						switch r.IntN(3) {
						case 0:
							feed = append(feed, affinity.OrderChange{Key: key, Version: version, Delete: true})
						default:
							lines := []affinity.Purchase{{Customer: audKey(r.IntN(24)), Product: fmt.Sprintf("p%d", r.IntN(10)), Order: key,
								Time: audBase.Add(-time.Duration(r.IntN(900*24)) * time.Hour), Quantity: int32(1 + r.IntN(3)), Price: 20_000}}
							feed = append(feed, affinity.OrderChange{Key: key, Version: version, Lines: lines})
							// a stale version of the same order arrives later
							stale := slices.Clone(lines)
							stale[0].Quantity = -7
							feed = append(feed, affinity.OrderChange{Key: key, Version: version - 1, Lines: stale})
						}
					}
					src = append(src, shop.Changes(slices.Values(feed)))
					if r.IntN(2) == 0 {
						src = append(src, shop.Erase(audKey(r.IntN(24))))
					}
					require.NoError(t, s.Refresh(ctx, shop.Sources(src...)))

					snap := s.Snapshot()
					fresh, err := shop.Open(ctx, scratchSource(snap.History()), opts)
					require.NoError(t, err)
					fsnap := fresh.Snapshot()
					require.True(t, snap.AsOf().Equal(fsnap.AsOf()))
					n := newAudNaive(snap, fixed, opts.Lookback)
					for _, q := range audQueries(n) {
						aud, err := snap.Segment(q.q)
						require.NoError(t, err, q.q)
						checkAud(t, r, n, aud, q.q, q.sel)
						want, err := fsnap.Segment(q.q)
						require.NoError(t, err, q.q)
						assert.Equal(t, want.Stats(), aud.Stats(), "round %d %s: stats against scratch", round, q.q)
						for o := shop.ByKey; o <= shop.ByRecency; o++ {
							got, err := aud.All(o)
							require.NoError(t, err)
							exp, err := want.All(o)
							require.NoError(t, err)
							require.Equal(t, len(exp), len(got), "round %d %s by %v", round, q.q, o)
							for i := range exp {
								exp[i].ID = 0 // dense ids differ between the two histories
								got[i].ID = 0
							}
							assert.Equal(t, exp, got, "round %d %s by %v against scratch", round, q.q, o)
						}
					}
					for _, cu := range n.custs[:min(5, len(n.custs))] {
						if round < rounds-1 {
							break // profiles fit the value models: once
						}
						p, err := snap.Profile(ctx, cu.key)
						require.NoError(t, err)
						fp, err := fsnap.Profile(ctx, cu.key)
						require.NoError(t, err)
						p.Value, fp.Value = nil, nil // fitted on other dense ids: checked in values tests
						assert.Equal(t, fp, p, "round %d: profile of %q against scratch", round, cu.key)
					}
					fresh.Close()
				}
			})
		}
	}
}

// TestAdvProfileMatchesNaive checks profiles of random shops against the
// naive model: orders, spend and AOV in the look-back, the first and
// last purchase at or before as-of, the lifecycle stage, and the top
// categories by share of spend.
func TestAdvProfileMatchesNaive(t *testing.T) {
	ctx := context.Background()
	seeds := testdata.Scale(8, 2)
	for seed := range seeds {
		for _, fixed := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d-fixed%v", seed, fixed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(seed), 0xf11e))
				w := audGen(r, 24, testdata.Scale(200, 80), fixed)
				opts := audOpts
				opts.AsOf = w.asOf
				// no non-merchandise: the share of spend of a profile and
				// of segment's affinity are the same then
				opts.NonMerchandise, opts.IsNonMerchandise = nil, func(affinity.Product) bool { return false }
				s, err := shop.Open(ctx, w.source(), opts)
				require.NoError(t, err)
				defer s.Close()
				snap := s.Snapshot()
				n := newAudNaive(snap, fixed, opts.Lookback)
				for _, cu := range n.custs {
					p, err := snap.Profile(ctx, cu.key)
					require.NoError(t, err)
					assert.True(t, p.Known)
					assert.Equal(t, cu.key, p.Customer)
					assert.Equal(t, cu.freq, p.Orders, "%q orders", cu.key)
					assert.Equal(t, cu.spend, p.Spend, "%q spend", cu.key)
					var aov affinity.Money
					if cu.freq > 0 {
						aov = affinity.Money(roundDiv(int64(cu.spend), int64(cu.freq)))
					}
					assert.Equal(t, aov, p.AOV, "%q AOV (orders %d, spend %v)", cu.key, cu.freq, cu.spend)
					if cu.bought {
						assert.True(t, cu.first.Equal(p.FirstPurchase), "%q first purchase %v, want %v", cu.key, p.FirstPurchase, cu.first)
						assert.True(t, cu.last.Equal(p.LastPurchase), "%q last purchase %v, want %v", cu.key, p.LastPurchase, cu.last)
					} else {
						assert.True(t, p.FirstPurchase.IsZero(), "%q never bought", cu.key)
						assert.True(t, p.LastPurchase.IsZero(), "%q never bought", cu.key)
					}
					assert.Equal(t, cu.stage(n.segAsOf), p.Stage, "%q stage", cu.key)
					if cu.freq > 0 {
						assert.True(t, p.R >= 1 && p.R <= 5 && p.F >= 1 && p.F <= 5 && p.M >= 1 && p.M <= 5, "%q scored %d %d %d", cu.key, p.R, p.F, p.M)
						assert.NotEmpty(t, p.RFM)
					} else {
						assert.Zero(t, p.R+p.F+p.M, "%q: no order in the look-back, no score", cu.key)
						assert.Empty(t, p.RFM)
					}
					// the top categories
					type cs struct {
						c string
						v float64
					}
					var want []cs
					for c, v := range cu.catSpend {
						if cu.spendBought > 0 && v > 0 {
							want = append(want, cs{c, v / cu.spendBought})
						}
					}
					slices.SortFunc(want, func(a, b cs) int { return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.c, b.c)) })
					want = want[:min(3, len(want))]
					require.Len(t, p.Top, len(want), "%q top categories %v, want %v", cu.key, p.Top, want)
					for i := range want {
						assert.Equal(t, want[i].c, p.Top[i].Category, "%q top %d", cu.key, i)
						assert.InDelta(t, want[i].v, p.Top[i].Share, 1e-6, "%q top %d", cu.key, i)
						// the same share as the segment's affinity, to its stored step
						in, err := snap.Segment(fmt.Sprintf("affinity(%q) >= %v", want[i].c, math.Floor(p.Top[i].Share*1e4-2)/1e4))
						require.NoError(t, err)
						assert.True(t, in.Bitmap().Contains(uint32(cu.id)), "%q affinity(%q) about %v", cu.key, want[i].c, p.Top[i].Share)
					}
					b, err := json.Marshal(p)
					require.NoError(t, err)
					var back map[string]any
					require.NoError(t, json.Unmarshal(b, &back))
					assert.Equal(t, p.Spend.String(), back["spend"])
					assert.Equal(t, p.AOV.String(), back["aov"])
					assert.NotNil(t, back["top_categories"], "%s", b)
				}
				for _, key := range []string{"nobody", "", " c00", "C00 "} {
					if _, ok := n.byKey[key]; ok {
						continue
					}
					p, err := snap.Profile(ctx, key)
					require.NoError(t, err)
					if _, ok := snap.History().LookupCustomer(key); !ok {
						assert.Equal(t, shop.Profile{Customer: key}, p, "unknown %q", key)
						b, err := json.Marshal(p)
						require.NoError(t, err)
						assert.Contains(t, string(b), `"top_categories":[]`, "a list whoever the customer")
					}
				}
				//lint:ignore SA1012 a nil context is what is tested
				_, err = snap.Profile(nil, n.custs[0].key)
				require.ErrorIs(t, err, shop.ErrNilContext)
				require.ErrorIs(t, err, affinity.ErrNilArgument)
			})
		}
	}
}

// TestAdvTogetherMatchesNaive checks Together on random shops: it is the
// cart request of the one product, never returns the product itself nor
// non-merchandise, at most k results, each "bought together" reason about
// the product with the number of orders at or before as-of holding both
// (bought lines only), and ColdStart exactly when all are fallbacks.
func TestAdvTogetherMatchesNaive(t *testing.T) {
	ctx := context.Background()
	seeds := testdata.Scale(8, 2)
	for seed := range seeds {
		for _, fixed := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d-fixed%v", seed, fixed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(seed), 0x70de))
				w := audGen(r, 24, testdata.Scale(200, 80), fixed)
				s, _ := audOpen(t, w)
				snap := s.Snapshot()
				h := snap.History()
				cat := h.Catalog()
				// the naive co-counts over orders at or before as-of
				co := map[[2]string]int{}
				for o := range h.Orders() {
					if h.OrderTime(o).After(snap.AsOf()) {
						continue
					}
					in := map[string]bool{}
					lo, hi := h.OrderLines(o)
					for i := lo; i < hi; i++ {
						if ln := h.Line(i); ln.Quantity > 0 {
							in[cat.ProductKey(ln.Product)] = true
						}
					}
					for a := range in {
						for b := range in {
							if a != b {
								co[[2]string{a, b}]++
							}
						}
					}
				}
				for p := range cat.NumProducts() {
					key := cat.ProductKey(affinity.ProductID(p))
					for _, k := range []int{0, 1, 3, shop.MaxK} {
						res, err := snap.Together(ctx, key, k)
						require.NoError(t, err)
						req, err := snap.Recommend(ctx, shop.Request{Cart: []string{key}, K: k})
						require.NoError(t, err)
						assert.Equal(t, req, res, "Together(%q, %d) is the cart request", key, k)
						assert.LessOrEqual(t, len(res.Recs), cmp.Or(k, shop.DefaultK))
						assert.False(t, res.Known)
						assert.Empty(t, res.Ignored)
						fallback := true
						for _, rec := range res.Recs {
							fallback = fallback && rec.Source.Fallback()
						}
						assert.Equal(t, fallback, res.ColdStart, "Together(%q): ColdStart says all results are fallbacks", key)
						for _, rec := range res.Recs {
							assert.NotEqual(t, key, rec.Product, "Together(%q) returns the product itself", key)
							assert.NotEqual(t, "post", rec.Product, "non-merchandise recommended")
							for _, x := range rec.Reasons() {
								assert.NotEqual(t, "post", x.Product, "non-merchandise as a reason")
								if x.Kind != recommend.Together {
									continue
								}
								assert.Equal(t, key, x.Product, "Together(%q): reason about another product", key)
								assert.Equal(t, "orders", x.Unit)
								assert.Equal(t, co[[2]string{key, rec.Product}], x.Count, "Together(%q): co-count with %q", key, rec.Product)
								assert.GreaterOrEqual(t, x.Lift, 1.0)
							}
						}
					}
					for _, k := range []int{-1, shop.MaxK + 1, math.MinInt, math.MaxInt} {
						_, err := snap.Together(ctx, key, k)
						require.ErrorIs(t, err, shop.ErrInvalidRequest, "k = %d", k)
					}
				}
				for _, key := range []string{"nope", "", "P1", "p1 "} {
					_, err := snap.Together(ctx, key, 3)
					require.ErrorIs(t, err, recommend.ErrUnknownProduct, "%q", key)
				}
				//lint:ignore SA1012 a nil context is what is tested
				_, err := snap.Together(nil, "p1", 3)
				require.ErrorIs(t, err, affinity.ErrNilArgument)
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err = snap.Together(cctx, "p1", 3)
				require.ErrorIs(t, err, context.Canceled)
			})
		}
	}
}

// TestAdvAudienceConcurrent reads one audience from many goroutines at
// once — the first use of each order races with the others — and
// queries the snapshot while a refresh replaces it: an Audience is safe
// for concurrent use and a Snapshot immutable. Run with -race.
func TestAdvAudienceConcurrent(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(9, 9))
	w := audGen(r, 40, 150, true)
	s, opts := audOpen(t, w)
	snap := s.Snapshot()
	n := newAudNaive(snap, true, opts.Lookback)
	wantKeys := map[shop.Order][]string{}
	for o := shop.ByKey; o <= shop.ByRecency; o++ {
		for _, m := range n.members(o, func(*audCust) bool { return true }) {
			wantKeys[o] = append(wantKeys[o], m.Customer)
		}
	}
	aud, err := snap.Segment(`all`)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 12 {
		wg.Go(func() {
			o := shop.Order(g % 3)
			var keys []string
			switch g / 3 {
			case 0:
				all, err := aud.All(o)
				if err != nil {
					errs <- err
					return
				}
				for _, m := range all {
					keys = append(keys, m.Customer)
				}
			case 1:
				for off := 0; ; off += 5 {
					page, err := aud.Page(o, off, 5)
					if err != nil {
						errs <- err
						return
					}
					if len(page) == 0 {
						break
					}
					for _, m := range page {
						keys = append(keys, m.Customer)
					}
				}
			case 2:
				var buf bytes.Buffer
				if err := aud.WriteCSV(&buf, o); err != nil {
					errs <- err
					return
				}
				rows, err := csv.NewReader(&buf).ReadAll()
				if err != nil {
					errs <- err
					return
				}
				for _, row := range rows[1:] {
					keys = append(keys, row[0])
				}
			default:
				if _, err := json.Marshal(aud); err != nil {
					errs <- err
					return
				}
				keys = wantKeys[o]
			}
			if !slices.Equal(wantKeys[o], keys) {
				errs <- fmt.Errorf("goroutine %d: %v: got %v, want %v", g, o, keys, wantKeys[o])
			}
		})
	}
	// queries of the old snapshot while a refresh replaces it
	wg.Go(func() {
		for range 20 {
			a, err := snap.Segment(`frequency >= 1`)
			if err != nil {
				errs <- err
				return
			}
			if a.Len() != n.stats("", func(cu *audCust) bool { return cu.freq >= 1 }).Customers {
				errs <- fmt.Errorf("old snapshot's audience changed: %d", a.Len())
				return
			}
		}
	})
	more := &audWorld{asOf: w.asOf, orders: w.orders}
	for range 20 {
		more.addOrder(r, 40, affinity.Months(24).Start(audBase))
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(more.lines))))
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// TestAdvAudienceHugeMoney builds a shop whose spends reach the ends of
// Money's range — a line of MaxMoney's worth, returns as large — and a
// customer with a negative spend: the statistics, members, CSV and JSON
// keep the exact amounts and never wrap.
func TestAdvAudienceHugeMoney(t *testing.T) {
	ctx := context.Background()
	big := affinity.MaxMoney / 4
	lines := []affinity.Purchase{
		{Customer: "whale", Product: "p1", Order: "w1", Time: audBase.Add(-time.Hour), Quantity: 2, Price: big},
		{Customer: "whale", Product: "p2", Order: "w2", Time: audBase, Quantity: 1, Price: big - 1},
		{Customer: "returner", Product: "p1", Order: "r1", Time: audBase, Quantity: -1, Price: 3}, // 0.0003 back
		{Customer: "tiny", Product: "p3", Order: "t1", Time: audBase, Quantity: 1, Price: 1},
		{Customer: "tiny", Product: "p3", Order: "t2", Time: audBase.Add(-time.Second), Quantity: 1, Price: 2},
	}
	opts := audOpts
	opts.AsOf = audBase
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(lines)), opts)
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	aud, err := snap.Segment(`all`)
	require.NoError(t, err)
	st := aud.Stats()
	wantRev := 3*big - 1 - 3 + 3
	assert.Equal(t, wantRev, st.Revenue)
	assert.Equal(t, int64(4), st.Orders)
	assert.Equal(t, affinity.Money(roundDiv(int64(wantRev), 4)), st.AOV)
	assert.Equal(t, 1.0, st.RevenueShare)
	assert.NotContains(t, st.String(), "-", "no wrap-around in %q", st.String())
	all, err := aud.All(shop.BySpend)
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, []string{"whale", "tiny", "returner"}, []string{all[0].Customer, all[1].Customer, all[2].Customer})
	assert.Equal(t, 3*big-1, all[0].Spend)
	assert.Equal(t, affinity.Money(-3), all[2].Spend)
	assert.Equal(t, 0, all[2].Orders, "a return-only order is no order")
	assert.True(t, all[2].LastPurchase.IsZero(), "a return is no purchase")
	assert.Empty(t, all[2].Stage, "a customer who never bought has no stage")
	var buf bytes.Buffer
	require.NoError(t, aud.WriteCSV(&buf, shop.BySpend))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, "-0.0003", rows[3][1])
	assert.Equal(t, "0.0003", rows[2][1])
	assert.Equal(t, (3*big - 1).String(), rows[1][1])
	b, err := json.Marshal(aud)
	require.NoError(t, err)
	var js struct {
		Revenue affinity.Money `json:"revenue"`
		AOV     affinity.Money `json:"aov"`
	}
	require.NoError(t, json.Unmarshal(b, &js))
	assert.Equal(t, st.Revenue, js.Revenue)
	assert.Equal(t, st.AOV, js.AOV)
	for _, q := range []string{`monetary > $500000000000000`, `monetary >= 922337203685477.5807`, `monetary > 922337203685477.5807`, `monetary < -922337203685477.5808`, `monetary > $99999999999999999999999`} {
		a, err := snap.Segment(q)
		if err != nil {
			continue // a threshold out of range may be refused, with an error
		}
		var want []string
		for _, m := range all {
			v, _ := strconv.ParseFloat(strings.TrimLeft(strings.Fields(q)[2], "$"), 64)
			ok := false
			switch strings.Fields(q)[1] {
			case ">":
				ok = m.Spend.Float() > v
			case ">=":
				ok = m.Spend.Float() >= v
			case "<":
				ok = m.Spend.Float() < v
			}
			if ok {
				want = append(want, m.Customer)
			}
		}
		got, err := a.All(shop.BySpend)
		require.NoError(t, err)
		var keys []string
		for _, m := range got {
			keys = append(keys, m.Customer)
		}
		assert.Equal(t, want, keys, q)
	}
	p, err := snap.Profile(ctx, "tiny")
	require.NoError(t, err)
	assert.Equal(t, affinity.Money(3), p.Spend)
	assert.Equal(t, affinity.Money(2), p.AOV, "1.5 ten-thousandths rounds half away from zero")
	p, err = snap.Profile(ctx, "returner")
	require.NoError(t, err)
	assert.Zero(t, p.AOV, "no order in the look-back, no AOV")
	assert.Zero(t, p.Orders)
	assert.Equal(t, affinity.Money(-3), p.Spend)
}

// TestAdvAudienceTimesInUTC loads lines whose times carry other zones
// and sub-second parts: last purchases are the same instants, in UTC and
// to the second, in members, CSV and profiles.
func TestAdvAudienceTimesInUTC(t *testing.T) {
	ctx := context.Background()
	tokyo := time.FixedZone("JST", 9*3600)
	west := time.FixedZone("X", -(11*3600 + 30*60))
	at1 := time.Date(2024, 3, 1, 8, 30, 15, 999_000_000, tokyo)
	at2 := time.Date(2024, 2, 28, 23, 59, 59, 1, west)
	s, err := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "a", Product: "p1", Order: "1", Time: at1, Quantity: 1, Price: 10_000},
		{Customer: "b", Product: "p1", Order: "2", Time: at2, Quantity: 1, Price: 10_000},
	})), audOpts)
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	aud, err := snap.Segment(`all`)
	require.NoError(t, err)
	all, err := aud.All(shop.ByRecency)
	require.NoError(t, err)
	require.Len(t, all, 2)
	want := map[string]time.Time{"a": at1.Truncate(time.Second).UTC(), "b": at2.Truncate(time.Second).UTC()}
	for _, m := range all {
		assert.Equal(t, want[m.Customer], m.LastPurchase, m.Customer)
		p, err := snap.Profile(ctx, m.Customer)
		require.NoError(t, err)
		assert.Equal(t, want[m.Customer], p.LastPurchase, m.Customer)
		assert.Equal(t, want[m.Customer], p.FirstPurchase, m.Customer)
	}
	assert.Equal(t, []string{"a", "b"}, []string{all[0].Customer, all[1].Customer}, "by recency: a's instant is later")
	var buf bytes.Buffer
	require.NoError(t, aud.WriteCSV(&buf, shop.ByRecency))
	assert.Contains(t, buf.String(), "b,1.00,1,2024-02-29T11:29:59Z,")
	assert.Contains(t, buf.String(), "a,1.00,1,2024-02-29T23:30:15Z,")
}

// TestAdvAudienceSetSizes checks the statistics and key order of sets of
// the sizes where the index changes method — 4,096 members of a roaring
// container (array against bitmap containers: summed by column or by bit
// slice), a thirty-second, an eighth and a quarter of the customers (key
// order by radix sort, by a bitmap of ranks, by walking every key) — on
// a fresh index and on one a refresh laid a delta over.
func TestAdvAudienceSetSizes(t *testing.T) {
	ctx := context.Background()
	nCust := testdata.Scale(70_000, 4_200) // the long suite spans two containers
	r := rand.New(rand.NewPCG(77, 7))
	key := func(i int) string {
		if i%3 == 0 {
			return fmt.Sprintf("k%d", i) // keys of several lengths
		}
		return fmt.Sprintf("k%07d", (i*7919)%10_000_000)
	}
	lines := make([]affinity.Purchase, 0, nCust)
	for i := range nCust {
		lines = append(lines, affinity.Purchase{Customer: key(i), Product: fmt.Sprintf("p%d", r.IntN(10)), Order: fmt.Sprintf("o%d", i),
			Time: audBase.Add(-time.Duration(r.IntN(900)) * 24 * time.Hour), Quantity: int32(1+r.IntN(3)) * int32(1-2*r.IntN(2)*r.IntN(2)), Price: affinity.Money(1 + r.IntN(200_000))})
	}
	opts := audOpts
	opts.AsOf = audBase
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(lines)), opts)
	require.NoError(t, err)
	defer s.Close()
	check := func(t *testing.T, snap *shop.Snapshot) {
		n := newAudNaive(snap, true, opts.Lookback)
		require.Len(t, n.custs, nCust)
		ids := make([]uint32, nCust)
		for i := range ids {
			ids[i] = uint32(n.custs[i].id)
		}
		sizes := []int{4096, 4097, nCust/32 + 1, nCust/8 + 1, nCust/4 + 1}
		if testdata.Long() {
			sizes = []int{1, 4095, 4096, 4097, nCust/32 - 1, nCust / 32, nCust/32 + 1, nCust/8 - 1, nCust / 8, nCust/8 + 1, nCust/4 - 1, nCust / 4, nCust/4 + 1, nCust - 1, nCust}
		}
		for _, size := range sizes {
			for _, prefix := range []bool{true, false} {
				set := roaring.New()
				if prefix {
					set.AddMany(ids[:size]) // dense: one run of ids
				} else {
					for _, i := range r.Perm(nCust)[:size] {
						set.Add(ids[i])
					}
				}
				in := map[affinity.CustomerID]bool{}
				for _, c := range set.ToArray() {
					in[affinity.CustomerID(c)] = true
				}
				sel := func(cu *audCust) bool { return in[cu.id] }
				name := fmt.Sprintf("size %d prefix %v", size, prefix)
				aud := snap.Audience(name, set)
				want := n.stats(name, sel)
				got := aud.Stats()
				assert.Equal(t, want.Customers, got.Customers, name)
				assert.Equal(t, want.Revenue, got.Revenue, name)
				assert.Equal(t, want.Orders, got.Orders, name)
				assert.Equal(t, want.AOV, got.AOV, name)
				for _, o := range []shop.Order{shop.ByKey, shop.BySpend} {
					all, err := aud.All(o)
					require.NoError(t, err)
					exp := n.members(o, sel)
					require.Equal(t, len(exp), len(all), name)
					for i := range exp {
						if exp[i].Customer != all[i].Customer || exp[i].Spend != all[i].Spend {
							assert.Failf(t, "order", "%s by %v: member %d is %q (%v), want %q (%v)", name, o, i, all[i].Customer, all[i].Spend, exp[i].Customer, exp[i].Spend)
							break
						}
					}
				}
			}
		}
	}
	t.Run("built", func(t *testing.T) { check(t, s.Snapshot()) })
	// a refresh changes a few customers: the index is a delta over it
	var more []affinity.Purchase
	for i := range 50 {
		c := r.IntN(nCust)
		more = append(more, affinity.Purchase{Customer: key(c), Product: "p1", Order: fmt.Sprintf("m%d", i), Time: audBase.Add(-time.Duration(r.IntN(100)) * time.Hour),
			Quantity: int32(1 - 3*r.IntN(2)), Price: affinity.Money(1 + r.IntN(100_000))})
	}
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(more))))
	t.Run("updated", func(t *testing.T) { check(t, s.Snapshot()) })
}

// TestAdvSegmentQueryErrors checks the errors of Snapshot.Segment for
// query strings at the documented limits: syntax errors with their
// position, unknown names wrapping segment.ErrUnknown, reversed ranges
// and windows longer than the look-back wrapping segment.ErrInvalid.
func TestAdvSegmentQueryErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	w := audGen(r, 12, 40, true)
	s, _ := audOpen(t, w)
	snap := s.Snapshot()
	for _, tc := range []struct {
		q    string
		want error // nil: a *segment.SyntaxError
	}{
		{``, nil},
		{`   # only a comment`, nil},
		{`frequency >=`, nil},
		{`frequency >= 1 and`, nil},
		{`(all`, nil},
		{strings.Repeat("(", 201) + "all" + strings.Repeat(")", 201), nil},
		{strings.Repeat("not ", 201) + "all", nil},
		{"all or " + strings.Repeat(" ", 64<<10), nil},
		{`affinity("Nope") > 0.1`, segment.ErrUnknown},
		{`bought("nope")`, segment.ErrUnknown},
		{`rfm("Nope")`, segment.ErrUnknown},
		{`lifecycle("nope")`, segment.ErrUnknown},
		{`segment("nope")`, segment.ErrUnknown},
		{`recency between 28d and 14d`, segment.ErrInvalid},
		{`bought("p1" within 800d)`, segment.ErrInvalid},
	} {
		_, err := snap.Segment(tc.q)
		require.Error(t, err, "%.40q", tc.q)
		if tc.want == nil {
			var se *segment.SyntaxError
			assert.ErrorAs(t, err, &se, "%.40q", tc.q)
		} else {
			assert.ErrorIs(t, err, tc.want, "%.40q", tc.q)
		}
		assert.LessOrEqual(t, len(err.Error()), 400, "error messages quote at most 60 characters of input")
	}
	// a window of 0 days is a syntax error (segment's doc), one beyond the
	// look-back an invalid query
	for _, q := range []string{`bought("p1" within 0d)`, `bought("p1", 0)`} {
		_, err := snap.Segment(q)
		var se *segment.SyntaxError
		assert.ErrorAs(t, err, &se, q)
	}
	for _, q := range []string{`bought("p1" within 800d)`} {
		_, err := snap.Segment(q)
		assert.ErrorIs(t, err, segment.ErrInvalid, q)
		var qe *segment.QueryError
		assert.ErrorAs(t, err, &qe, q)
	}
	// nesting just within the limits parses
	for _, q := range []string{strings.Repeat("(", 199) + "all" + strings.Repeat(")", 199), strings.Repeat("not ", 199) + "all", `bought("p1" within 730d)`, "ALL\n# comment\n"} {
		aud, err := snap.Segment(q)
		require.NoError(t, err, "%.40q", q)
		assert.Equal(t, q, aud.Query())
	}
	for _, q := range []string{strings.Repeat("(", 200) + "all" + strings.Repeat(")", 200), strings.Repeat("not ", 200) + "all", strings.Repeat("(", 100) + strings.Repeat("not ", 100) + "all" + strings.Repeat(")", 100)} {
		_, err := snap.Segment(q)
		assert.NoError(t, err, "%.40q", q)
	}
	for _, q := range []string{"ALL\n# comment\n"} {
		aud, err := snap.Segment(q)
		require.NoError(t, err, "%.40q", q)
		assert.Equal(t, q, aud.Query())
	}
}

// TestAdvAudienceOwnership checks that Snapshot.Audience copies its set
// and Bitmap returns a copy: changing either afterwards changes nothing,
// and the JSON of a query with < and > is escaped as the encoder says.
func TestAdvAudienceOwnership(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	w := audGen(r, 12, 40, true)
	s, _ := audOpen(t, w)
	snap := s.Snapshot()
	set := snap.Segments().All()
	aud := snap.Audience(`frequency < 2 & "x"`, set)
	n := aud.Len()
	set.Clear()
	assert.Equal(t, n, aud.Len(), "Audience copies the set")
	bm := aud.Bitmap()
	bm.Clear()
	assert.Equal(t, n, aud.Len(), "Bitmap returns a copy")
	all, err := aud.All(shop.ByKey)
	require.NoError(t, err)
	assert.Len(t, all, n)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(aud))
	assert.Contains(t, buf.String(), `"query":"frequency < 2 & \"x\""`)
	b, err := json.Marshal(aud)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"query":"frequency \u003c 2 \u0026 \"x\""`)
}

// TestAdvProfileShareOfSpend checks a profile's top categories against
// the customer's own figures: the share of spend is of the spend the
// profile shows, the same as segment's affinity, non-merchandise (postage)
// included in that spend.
func TestAdvProfileShareOfSpend(t *testing.T) {
	ctx := context.Background()
	lines := []affinity.Purchase{
		{Customer: "a", Product: "shoe", Order: "1", Time: audBase, Quantity: 1, Price: 100_000},
		{Customer: "a", Product: "post", Order: "1", Time: audBase, Quantity: 1, Price: 100_000},
	}
	ps := []affinity.Product{
		{Key: "shoe", Name: "Shoe", Categories: []string{"Apparel/Shoes"}, Price: 100_000},
		{Key: "post", Name: "POSTAGE", Price: 100_000},
	}
	opts := audOpts
	opts.AsOf = audBase
	s, err := shop.Open(ctx, shop.Sources(shop.Catalog(ps), shop.Purchases(slices.Values(lines))), opts)
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	require.True(t, snap.IsNonMerchandise("post"))
	p, err := snap.Profile(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, affinity.Money(200_000), p.Spend, "postage is spend")
	half, err := snap.Segment(`affinity("Apparel") = 0.5`)
	require.NoError(t, err)
	assert.Equal(t, 1, half.Len(), "segment: half of a's spend went to Apparel")
	require.Len(t, p.Top, 1)
	assert.Equal(t, "Apparel", p.Top[0].Category)
	assert.InDelta(t, 0.5, p.Top[0].Share, 1e-9, "Apparel's share of the spend the profile shows")
}

// TestAdvProfileCancelled asks for a profile with a context cancelled
// before the value models' fit: the error is the context's, and nothing
// of the stopped fit is kept — the next call fits and gives the profile
// a fresh snapshot gives.
func TestAdvProfileCancelled(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(8, 8))
	w := audGen(r, 30, 120, true)
	s, opts := audOpen(t, w)
	snap := s.Snapshot()
	h := snap.History()
	key := ""
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if lo, hi := h.CustomerOrders(c); hi-lo >= 2 {
			key = h.CustomerKey(c)
			break
		}
	}
	require.NotEmpty(t, key)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := snap.Profile(cctx, key)
	require.ErrorIs(t, err, context.Canceled)
	got, err := snap.Profile(ctx, key)
	require.NoError(t, err)
	fresh, err := shop.Open(ctx, w.source(), opts)
	require.NoError(t, err)
	defer fresh.Close()
	want, err := fresh.Snapshot().Profile(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// audOpen opens a shop on w as of w's as-of time with audOpts, closed
// when the test ends, and returns it with the options it was opened with.
func audOpen(t *testing.T, w *audWorld) (*shop.Shop, shop.Options) {
	t.Helper()
	opts := audOpts
	opts.AsOf = w.asOf
	s, err := shop.Open(context.Background(), w.source(), opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s, opts
}
