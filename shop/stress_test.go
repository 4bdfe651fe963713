package shop_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// stressFailures reports the first few failures of goroutines that run
// beside the test (never require in a spawned goroutine) and counts the
// rest.
type stressFailures struct {
	t *testing.T
	n atomic.Int64
}

func (f *stressFailures) fail(format string, args ...any) {
	if f.n.Add(1) <= 12 {
		f.t.Errorf(format, args...)
	}
}

// stressSetting is a product's stock setting in stressStock.
type stressSetting uint8

const (
	stressFollow stressSetting = iota // no setting: the catalog's flag
	stressIn
	stressOut
)

// stressKeyState is a product's setting and its version, bumped at every
// change of the setting.
type stressKeyState struct {
	set stressSetting
	ver uint64
}

// stressStock is the model of the stock settings a test makes on a shop
// from several goroutines. A setting that may bring a product back into
// stock is recorded (its version bumped) before the shop's call, one that
// takes it out after the call returned: a reader that copies the settings
// before it takes a snapshot, and finds a product's version unchanged
// once it has read the snapshot's recommendations, knows that the
// product was out of stock, by the shop's own calls, for every snapshot
// taken in between.
type stressStock struct {
	ctl sync.RWMutex // SetStock (Lock) against SetInStock calls on disjoint keys (RLock)
	mu  sync.Mutex
	st  map[string]stressKeyState
}

func newStressStock() *stressStock { return &stressStock{st: map[string]stressKeyState{}} }

// setLocked records key's new setting; m.mu is held.
func (m *stressStock) setLocked(key string, set stressSetting) {
	m.st[key] = stressKeyState{set: set, ver: m.st[key].ver + 1}
}

// set calls s.SetInStock(key, in) and records it. Goroutines calling set
// at once use disjoint keys.
func (m *stressStock) set(s *shop.Shop, key string, in bool) {
	m.ctl.RLock()
	defer m.ctl.RUnlock()
	if in {
		m.mu.Lock()
		m.setLocked(key, stressIn)
		m.mu.Unlock()
		s.SetInStock(key, true)
		return
	}
	s.SetInStock(key, false)
	m.mu.Lock()
	m.setLocked(key, stressOut)
	m.mu.Unlock()
}

// replace calls s.SetStock(in, out) and records it: every key of pool
// not in in or out follows the catalog again.
func (m *stressStock) replace(s *shop.Shop, in, out, pool []string) {
	m.ctl.Lock()
	defer m.ctl.Unlock()
	m.mu.Lock()
	for _, k := range pool {
		// a key that follows the catalog from now on may be in stock
		// until the call, if it was set in stock: recorded as in until
		// the call returned
		if !slices.Contains(out, k) && m.st[k].set != stressIn {
			m.setLocked(k, stressIn)
		}
	}
	m.mu.Unlock()
	s.SetStock(in, out)
	m.mu.Lock()
	for _, k := range pool {
		switch {
		case slices.Contains(out, k):
			if m.st[k].set != stressOut {
				m.setLocked(k, stressOut)
			}
		case !slices.Contains(in, k):
			m.setLocked(k, stressFollow)
		}
	}
	m.mu.Unlock()
}

// view copies the settings.
func (m *stressStock) view() map[string]stressKeyState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.st)
}

// unchanged reports whether key's setting is still the one of was.
func (m *stressStock) unchanged(key string, was stressKeyState) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st[key].ver == was.ver
}

// sets returns the settings as SetStock's arguments.
func (m *stressStock) sets() (in, out []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(m.st)) {
		switch m.st[k].set {
		case stressIn:
			in = append(in, k)
		case stressOut:
			out = append(out, k)
		}
	}
	return in, out
}

// outOfStock reports whether snap must not serve the product with key
// given the settings of view: set out of stock, out of stock in the
// catalog without a setting, or non-merchandise.
func stressOutOfStock(snap *shop.Snapshot, view map[string]stressKeyState, key string) bool {
	if snap.IsNonMerchandise(key) {
		return true
	}
	switch view[key].set {
	case stressOut:
		return true
	case stressIn:
		return false
	}
	cat := snap.History().Catalog()
	p, ok := cat.LookupProduct(key)
	return ok && !cat.InStock(p)
}

// checkRecs fails for a result of snap, taken after view was copied, that
// holds a product out of stock all along.
func (m *stressStock) checkRecs(f *stressFailures, snap *shop.Snapshot, view map[string]stressKeyState, res shop.Result, what string) {
	for _, r := range res.Recs {
		if stressOutOfStock(snap, view, r.Product) && m.unchanged(r.Product, view[r.Product]) {
			f.fail("%s: %s served while out of stock (setting %d, version %d, catalog in stock %v, source %v)",
				what, r.Product, view[r.Product].set, view[r.Product].ver, stressCatalogInStock(snap, r.Product), r.Source)
		}
	}
}

func stressCatalogInStock(snap *shop.Snapshot, key string) bool {
	cat := snap.History().Catalog()
	p, ok := cat.LookupProduct(key)
	return ok && cat.InStock(p)
}

// checkFinal checks that snap's engine holds exactly the settings made:
// the catalog's flags overridden by the settings, non-merchandise out.
func (m *stressStock) checkFinal(t *testing.T, snap *shop.Snapshot, msg string) {
	t.Helper()
	view := m.view()
	cat := snap.History().Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		key := cat.ProductKey(p)
		want := !stressOutOfStock(snap, view, key)
		assert.Equal(t, want, snap.Engine().InStock(p), "%s: product %s (setting %d)", msg, key, view[key].set)
	}
}

// stressFrequency returns the customers of h whose orders hold a bought
// line in the segment look-back as of asOf (the segment attribute
// frequency ≥ 1) and the customers with an order or event at or before
// asOf (those the index knows), computed from the History alone.
func stressFrequency(h *affinity.History, asOf time.Time, lookback affinity.Lookback) (bought, known *roaring.Bitmap) {
	bought, known = roaring.New(), roaring.New()
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			t := h.OrderTime(o)
			if t.After(asOf) {
				continue
			}
			known.Add(uint32(c))
			if h.OrderBought(o) && lookback.Contains(asOf, t) {
				bought.Add(uint32(c))
			}
		}
		elo, ehi := h.CustomerEvents(c)
		for i := elo; i < ehi; i++ {
			if h.Event(i).Unix <= asOf.Unix() {
				known.Add(uint32(c))
			}
		}
	}
	return bought, known
}

// checkSegments checks the segment answers of snap against its own
// History and against each other: frequency ≥ 1 is the customers with a
// bought order in the look-back, its complement the rest of the index's
// customers, and an audience's length, statistics, pages and CSV agree.
func stressCheckSegments(ctx context.Context, f *stressFailures, snap *shop.Snapshot, what string) {
	x, err := snap.SegmentIndex(ctx)
	if err != nil {
		f.fail("%s: segment index: %v", what, err)
		return
	}
	if x == nil {
		return
	}
	bought, known := stressFrequency(snap.History(), x.AsOf(), shop.DefaultLookback)
	a, err := snap.Segment("frequency >= 1")
	if err != nil {
		f.fail("%s: segment: %v", what, err)
		return
	}
	if got := a.Bitmap(); !got.Equals(bought) {
		f.fail("%s: frequency >= 1 holds %d customers, the History %d (only in the index %v, only in the History %v)", what,
			got.GetCardinality(), bought.GetCardinality(), roaring.AndNot(got, bought).ToArray(), roaring.AndNot(bought, got).ToArray())
	}
	if !x.All().Equals(known) {
		f.fail("%s: the index knows %d customers, the History %d", what, x.Len(), known.GetCardinality())
	}
	not, err := snap.Segment("not frequency >= 1")
	if err != nil {
		f.fail("%s: segment: %v", what, err)
		return
	}
	if a.Len()+not.Len() != x.Len() || not.Bitmap().Intersects(a.Bitmap()) {
		f.fail("%s: frequency >= 1 (%d) and its complement (%d) do not partition the index's %d customers", what, a.Len(), not.Len(), x.Len())
	}
	if a.Stats().Customers != a.Len() {
		f.fail("%s: stats count %d customers, the audience %d", what, a.Stats().Customers, a.Len())
	}
	// the members by key, in pages, are the audience, in key order, each
	// with an order in the look-back
	var keys []string
	for off := 0; ; off += 37 {
		page, err := a.Page(shop.ByKey, off, 37)
		if err != nil {
			f.fail("%s: page: %v", what, err)
			return
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			keys = append(keys, m.Customer)
			if m.Orders < 1 {
				f.fail("%s: member %s has %d orders in the look-back", what, m.Customer, m.Orders)
			}
		}
	}
	if len(keys) != a.Len() || !slices.IsSorted(keys) {
		f.fail("%s: %d members by key in pages (sorted %v), the audience has %d", what, len(keys), slices.IsSorted(keys), a.Len())
	}
	all, err := a.All(shop.BySpend)
	if err != nil {
		f.fail("%s: all: %v", what, err)
		return
	}
	if len(all) != a.Len() || !slices.IsSortedFunc(all, func(p, q shop.Member) int { return int(q.Spend - p.Spend) }) {
		f.fail("%s: %d members by spend, the audience has %d", what, len(all), a.Len())
	}
	var csv strings.Builder
	if err := a.WriteCSV(&csv, shop.ByRecency); err != nil {
		f.fail("%s: csv: %v", what, err)
	} else if n := strings.Count(csv.String(), "\n"); n != a.Len()+1 {
		f.fail("%s: csv of %d lines, the audience has %d members", what, n, a.Len())
	}
}

// stressQueries are segment queries whose answers are compared between
// a snapshot and a shop opened on its History.
var stressQueries = []string{
	"recency <= 7d", "monetary >= $50 and frequency >= 2", `lifecycle("loyal") or lifecycle("new")`,
	`rfm("Champions")`, "tenure > 100d", "abandoned(within 30d)", "aov between $5 and $40", "rscore >= 4",
}

// stressCheckFeatures compares every customer's segment features, and
// the answers of stressQueries, of snap with those of a shop opened on
// its History: an index updated during concurrent refreshes (and perhaps
// swapped for its compaction) with one built anew.
func stressCheckFeatures(ctx context.Context, f *stressFailures, snap *shop.Snapshot, what string) {
	x, err := snap.SegmentIndex(ctx)
	if err != nil || x == nil {
		f.fail("%s: segment index %v: %v", what, x, err)
		return
	}
	full, err := shop.OpenHistory(ctx, snap.History(), shop.Options{Model: "neighbours", Workers: 1})
	if err != nil {
		f.fail("%s: open history: %v", what, err)
		return
	}
	defer full.Close()
	y := full.Snapshot().Segments()
	if got, want := x.FeaturesOf(x.All()), y.FeaturesOf(y.All()); !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				f.fail("%s: features differ from a fresh build (%d and %d customers), first:\n%+v\n%+v", what, len(got), len(want), got[i], want[i])
				return
			}
		}
		f.fail("%s: features of %d customers, a fresh build %d", what, len(got), len(want))
	}
	for _, q := range stressQueries {
		a, err := snap.Segment(q)
		if err != nil {
			f.fail("%s: %s: %v", what, q, err)
			continue
		}
		b, err := full.Snapshot().Segment(q)
		if err != nil {
			f.fail("%s: %s: %v", what, q, err)
			continue
		}
		if !a.Bitmap().Equals(b.Bitmap()) || a.Stats() != b.Stats() {
			f.fail("%s: %s: %d customers (%+v), a fresh build %d (%+v)", what, q, a.Len(), a.Stats(), b.Len(), b.Stats())
		}
	}
}

// stressOrder is an order a refresher put, to be replaced later.
type stressOrder struct {
	key      string
	customer string
	at       time.Time
	version  int64
}

// stressFeed returns one small refresh of refresher g's round: new
// orders as purchase lines or order changes, replacements of g's own
// orders, events, for known and new customers, now and then of a
// product the catalog does not know yet (future-0 … future-3), a
// catalog entry (a product's stock flag flipped, or a future product
// described), or nothing new. It
// returns the keys of the orders it puts and g's orders after it.
func stressFeed(r *rand.Rand, h *affinity.History, g, round, wide int, own []stressOrder) (shop.Source, []string, []stressOrder) {
	cat := h.Catalog()
	step := time.Minute
	if r.IntN(5) == 0 {
		step = 3 * time.Hour // a later day now and then
	}
	at := h.Latest().Add(time.Duration(1+r.IntN(90)) * step)
	product := func() string {
		if r.IntN(8) == 0 {
			return fmt.Sprintf("future-%d", r.IntN(4))
		}
		return cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts())))
	}
	customer := func() string {
		if r.IntN(6) == 0 {
			return fmt.Sprintf("stress-%d-%d-%d", g, round, r.IntN(wide))
		}
		return h.CustomerKey(affinity.CustomerID(r.IntN(h.NumCustomers())))
	}
	lines := func(cust, order string, t time.Time) []affinity.Purchase {
		ls := make([]affinity.Purchase, 1+r.IntN(3))
		for i := range ls {
			ls[i] = affinity.Purchase{Customer: cust, Order: order, Product: product(), Time: t, Quantity: int32(1 + r.IntN(2)), Price: affinity.Money(100 * (1 + r.IntN(50)))}
		}
		return ls
	}
	var keys []string
	if r.IntN(12) == 0 { // nothing new: the snapshot stays
		return shop.Purchases(slices.Values([]affinity.Purchase(nil))), nil, own
	}
	switch kind := r.IntN(5); {
	case kind == 4: // a catalog change: a product's stock flag flipped, or a new product described
		pr := cat.Product(affinity.ProductID(r.IntN(cat.NumProducts())))
		pr.InStock = !pr.InStock
		if r.IntN(3) == 0 {
			key := fmt.Sprintf("future-%d", r.IntN(4))
			pr = affinity.Product{Key: key, Name: "Future " + key, Categories: pr.Categories, Price: 990, InStock: r.IntN(2) == 0}
		}
		return shop.Catalog([]affinity.Product{pr}), nil, own
	case kind == 0: // purchase lines
		var ps []affinity.Purchase
		for i := range 1 + r.IntN(4*wide) {
			o := stressOrder{key: fmt.Sprintf("sp-%d-%d-%d", g, round, i), customer: customer(), at: at}
			ps = append(ps, lines(o.customer, o.key, at)...)
			keys, own = append(keys, o.key), append(own, o)
		}
		return shop.Purchases(slices.Values(ps)), keys, own
	case kind == 1 || len(own) == 0: // new orders as changes
		var cs []affinity.OrderChange
		for i := range 1 + r.IntN(4*wide) {
			o := stressOrder{key: fmt.Sprintf("sc-%d-%d-%d", g, round, i), customer: customer(), at: at, version: 1}
			cs = append(cs, affinity.OrderChange{Key: o.key, Version: o.version, Lines: lines(o.customer, "", at)})
			keys, own = append(keys, o.key), append(own, o)
		}
		return shop.Changes(slices.Values(cs)), keys, own
	case kind == 2: // replacements of own orders (the keys were put before)
		var cs []affinity.OrderChange
		own = slices.Clone(own)
		for range 1 + r.IntN(3*wide) {
			i := r.IntN(len(own))
			own[i].version++
			cs = append(cs, affinity.OrderChange{Key: own[i].key, Version: own[i].version, Lines: lines(own[i].customer, "", own[i].at)})
		}
		return shop.Changes(slices.Values(cs)), nil, own
	default: // events
		type ev struct{ c, p string }
		var evs []ev
		for range 1 + r.IntN(6*wide) {
			evs = append(evs, ev{customer(), product()})
		}
		return shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
			rep := dataset.Report{Format: "events"}
			for i, e := range evs {
				kind := affinity.View
				if i%3 == 2 {
					kind = affinity.Cart
				}
				if err := b.AddEvent(affinity.Event{Customer: e.c, Product: e.p, Time: at, Kind: kind, Weight: 1}); err != nil {
					return rep, err
				}
				rep.Rows++
				rep.Events++
			}
			return rep, nil
		}), nil, own
	}
}

// stressCommitted is the order keys of the refreshes that returned.
type stressCommitted struct {
	mu   sync.Mutex
	keys []string
}

func (c *stressCommitted) add(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys = append(c.keys, keys...)
}

func (c *stressCommitted) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.keys)
}

// untilClosed calls fn(0), fn(1), … until stop is closed or fn returns
// false: the loop of a stress test's readers.
func untilClosed(stop <-chan struct{}, fn func(i int) bool) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if !fn(i) {
			return
		}
	}
}

// TestStressRefreshRequestsStock runs refreshes from three goroutines at
// once — purchase lines, order changes (new orders and replacements),
// events, new customers and products — while readers serve every kind of
// request from the current snapshot (Recommend, Together, Segment with
// its pages and CSV, and in one case Profile and Value) and two
// goroutines flip stock with SetInStock and one replaces it with
// SetStock; now and then a feed fails half-way (a line the Builder
// rejects). It checks that no other call fails and nothing of a failed
// feed is ever served; that a product out of stock by
// calls that returned before a snapshot was taken is never served from
// it (nor a product out of stock in the catalog without a setting);
// that each snapshot holds the orders of every refresh that returned
// before it was taken and no fewer orders or events than the one a
// reader saw before it; that segment answers agree with the snapshot's
// own History; and, once everything stops, that the last snapshot's
// stock is the settings made and its answers those of a shop opened on
// its History with them (after WaitModel for EASE).
func TestStressRefreshRequestsStock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     shop.Options
		profiles bool // readers ask for profiles: refreshes build the index and fit values before the swap
		size     stressSize
		seeds    int
	}{
		{"default", shop.Options{}, false, stressSmall, testdata.Scale(2, 1)}, // Model "auto": too few customers to choose, tried again at every refresh
		{"neighbours", shop.Options{Model: "neighbours", Workers: 2, RefreshWorkers: 1}, false, stressSmall, testdata.Scale(2, 1)},
		{"ease", shop.Options{Model: "ease", Workers: 1, RefreshWorkers: 2}, false, stressSmall, testdata.Scale(2, 1)},
		// next-basket mode serves customers' own repeat items too
		{"profiles", shop.Options{Model: "neighbours", Measure: "bm25", Neighbors: 8, NextBasket: shop.On}, true, stressSmall, testdata.Scale(2, 1)},
		// the long suite only: feeds of up to 60 orders on 3,000
		// customers, so that refreshes pass through the segment index's
		// background full builds, and wait for them
		{"wide", shop.Options{Model: "ease", RefreshWorkers: 1}, false, stressSize{customers: 3000, products: 200, wide: 15}, testdata.Scale(1, 0)},
	}
	for ci, tc := range cases {
		for seed := range uint64(tc.seeds) {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				stressRefreshRequestsStock(t, seed*10+uint64(ci), tc.opts, tc.profiles, tc.size)
			})
		}
	}
}

// stressSize is the size of a stress test's shop and feeds.
type stressSize struct {
	customers, products int
	wide                int // feeds hold up to this many times the small ones' orders and events
}

var stressSmall = stressSize{customers: 250, products: 60, wide: 1}

func stressRefreshRequestsStock(t *testing.T, seed uint64, opts shop.Options, profiles bool, size stressSize) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: size.customers, Products: size.products, Categories: 10, Days: 400, Seed: seed + 1})
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	defer s.Close()
	f := &stressFailures{t: t}
	stock := newStressStock()
	var committed, failing stressCommitted

	// the products whose stock is flipped: the most recommended ones, so
	// that a lost setting shows, and two not in the catalog yet
	top, err := s.Snapshot().Recommend(ctx, shop.Request{K: 12})
	require.NoError(t, err)
	var pool []string
	for _, r := range top.Recs {
		pool = append(pool, r.Product)
	}
	pool = append(pool, "future-0", "future-1")
	halves := [][]string{pool[:len(pool)/2], pool[len(pool)/2:]}

	rounds := testdata.Scale(16, 4)
	if profiles {
		rounds = testdata.Scale(10, 2) // every refresh fits the value models
	}
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var refreshers, others sync.WaitGroup
	for g := range 3 {
		refreshers.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			var own []stressOrder
			for round := range rounds {
				if r.IntN(6) == 0 {
					// a feed that fails after adding an order: nothing of
					// it may reach a snapshot
					h := s.Snapshot().History()
					bad := affinity.Purchase{Customer: h.CustomerKey(0), Order: fmt.Sprintf("bad-%d-%d", g, round),
						Product: h.Catalog().ProductKey(0), Time: h.Latest().Add(time.Minute), Quantity: 1, Price: 100}
					failing.add([]string{bad.Order})
					zero := bad
					zero.Quantity = 0 // rejected by the Builder
					if err := s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{bad, zero}))); err == nil {
						f.fail("refresher %d round %d: a feed with a line of quantity 0 refreshed", g, round)
					}
				}
				src, keys, next := stressFeed(r, s.Snapshot().History(), g, round, size.wide, own)
				if err := s.Refresh(ctx, src); err != nil {
					f.fail("refresher %d round %d: %v", g, round, err)
					return
				}
				own = next
				committed.add(keys)
			}
		})
	}
	for g := range 2 {
		others.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(10+g)))
			for !stopped() {
				keys := halves[g]
				stock.set(s, keys[r.IntN(len(keys))], r.IntN(3) == 0)
				runtime.Gosched()
			}
		})
	}
	others.Go(func() {
		r := rand.New(rand.NewPCG(seed, 20))
		for !stopped() {
			var in, out []string
			for _, k := range pool {
				switch r.IntN(3) {
				case 0:
					in = append(in, k)
				case 1:
					out = append(out, k)
				}
			}
			stock.replace(s, in, out, pool)
			time.Sleep(time.Millisecond)
		}
	})
	var iterations atomic.Int64
	for g := range 3 {
		others.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(30+g)))
			var orders, events int
			var asOf time.Time
			var held *shop.Snapshot
			// one request at least, however late this goroutine runs
			for i := 0; i == 0 || !stopped() && f.n.Load() == 0; i++ {
				iterations.Add(1)
				keys := committed.all()
				view := stock.view()
				snap := s.Snapshot()
				h := snap.History()
				what := fmt.Sprintf("reader %d request %d", g, i)
				// every refresh that returned is in the snapshot; none goes
				// backwards
				for _, k := range keys {
					if _, ok := h.LookupOrder(k); !ok {
						f.fail("%s: order %s of a refresh that returned is missing", what, k)
					}
				}
				for _, k := range failing.all() {
					if _, ok := h.LookupOrder(k); ok {
						f.fail("%s: order %s of a failed refresh is served", what, k)
					}
				}
				if h.NumOrders() < orders || h.NumEvents() < events || snap.AsOf().Before(asOf) {
					f.fail("%s: the snapshot went back: %d orders, %d events as of %v after %d, %d as of %v", what,
						h.NumOrders(), h.NumEvents(), snap.AsOf(), orders, events, asOf)
				}
				orders, events, asOf = h.NumOrders(), h.NumEvents(), snap.AsOf()
				c := affinity.CustomerID(r.IntN(h.NumCustomers()))
				cat := h.Catalog()
				p := cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts())))
				res, err := snap.Recommend(ctx, shop.Request{CustomerID: c, ByID: true, K: 10})
				if erasedID(err, h, c) {
					continue
				}
				if err != nil {
					f.fail("%s: recommend: %v", what, err)
					continue
				}
				stock.checkRecs(f, snap, view, res, what+" (customer)")
				res, err = snap.Recommend(ctx, shop.Request{Customer: h.CustomerKey(c), Cart: []string{p, pool[r.IntN(len(pool))]}, K: 8})
				if err != nil {
					f.fail("%s: recommend with a cart: %v", what, err)
					continue
				}
				stock.checkRecs(f, snap, view, res, what+" (cart)")
				if res, err = snap.Together(ctx, p, 6); err != nil {
					f.fail("%s: together: %v", what, err)
					continue
				}
				stock.checkRecs(f, snap, view, res, what+" (together)")
				if res, err = snap.Recommend(ctx, shop.Request{K: 10}); err != nil {
					f.fail("%s: popular: %v", what, err)
					continue
				}
				stock.checkRecs(f, snap, view, res, what+" (popular)")
				if profiles {
					pr, err := snap.Profile(ctx, h.CustomerKey(c))
					if err != nil {
						f.fail("%s: profile: %v", what, err)
						continue
					}
					x := snap.Segments()
					bought, _ := stressFrequency(h, x.AsOf(), shop.DefaultLookback)
					if ft, ok := x.Features(c); !pr.Known || (ok && ft.Frequency != pr.Orders) || bought.Contains(uint32(c)) != (pr.Orders > 0) {
						f.fail("%s: profile of %s: known %v, %d orders; features %d (%v); in the look-back %v", what,
							pr.Customer, pr.Known, pr.Orders, ft.Frequency, ok, bought.Contains(uint32(c)))
					}
					if _, err := snap.Value(ctx); err != nil {
						f.fail("%s: value: %v", what, err)
					}
				}
				if i%4 == g%4 {
					stressCheckSegments(ctx, f, snap, what)
				}
				if i%16 == 5*g {
					// the snapshot of 16 requests ago, replaced by now:
					// its index built again if a refresh stopped it
					if held != nil {
						stressCheckFeatures(ctx, f, held, what+" (held)")
					}
					held = snap
				}
			}
		})
	}
	refreshers.Wait()
	close(stop)
	others.Wait()
	require.Zero(t, f.n.Load(), "failures while running")
	require.Positive(t, iterations.Load())

	require.NoError(t, s.WaitModel(ctx))
	got := s.Snapshot()
	require.True(t, got.ModelCurrent())
	stock.checkFinal(t, got, "last snapshot")
	h := got.History()
	for _, k := range committed.all() {
		_, ok := h.LookupOrder(k)
		require.True(t, ok, "order %s", k)
	}
	for _, k := range failing.all() {
		_, ok := h.LookupOrder(k)
		require.False(t, ok, "order %s of a failed refresh", k)
	}
	// the last snapshot answers as a shop opened on its History with the
	// same stock settings
	ropts := opts
	ropts.Progress = nil
	rebuilt, err := shop.OpenHistory(ctx, h, ropts)
	require.NoError(t, err)
	defer rebuilt.Close()
	in, out := stock.sets()
	rebuilt.SetStock(in, out)
	want := rebuilt.Snapshot()
	stock.checkFinal(t, want, "rebuilt")
	require.Equal(t, snapshotView(t, want), snapshotView(t, got))
	for i := range 25 {
		sameAnswer(t, want, got, shop.Request{CustomerID: affinity.CustomerID(i * h.NumCustomers() / 25), ByID: true, K: 8}, "")
	}
	// a setting made now reaches the current snapshot at once
	res, err := got.Recommend(ctx, shop.Request{K: 1})
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	s.SetInStock(res.Recs[0].Product, false)
	res2, err := s.Snapshot().Recommend(ctx, shop.Request{K: 10})
	require.NoError(t, err)
	for _, r := range res2.Recs {
		require.NotEqual(t, res.Recs[0].Product, r.Product)
	}
}

// stressIsClosed reports whether err is one a call may return while the
// shop closes.
func stressIsClosed(err error) bool { return errors.Is(err, shop.ErrClosed) }

// TestStressCloseDuringBackgroundWork closes a shop on EASE with
// RefitBackground while two goroutines refresh it, one waits for the
// model, readers ask for segment indexes being built and serve requests,
// at a random moment: after a random delay, or just as a background fit
// or a segment build starts. Close must return; every call made after it
// returned gets ErrClosed (Refresh, WaitModel); calls under way get nil or
// ErrClosed; the snapshots taken before still answer requests, segments
// (built again where Close stopped the build) and profiles; stock
// settings still reach the current snapshot; and every goroutine the shop
// started ends.
func TestStressCloseDuringBackgroundWork(t *testing.T) {
	for seed := range uint64(testdata.Scale(8, 4)) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { stressClose(t, seed) })
	}
}

func stressClose(t *testing.T, seed uint64) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 99))
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 250, Products: 60, Categories: 10, Days: 400, Seed: seed + 1})
	base := runtime.NumGoroutine()
	trigger := []string{"", "model", "segment", "count"}[seed%4] // "" closes after a delay
	closeNow := make(chan struct{}, 1)
	var armed atomic.Bool
	opts := shop.Options{Model: "ease", Workers: 1 + int(seed%2), Progress: func(p affinity.Progress) {
		if armed.Load() && p.Step == trigger && p.Done == 0 {
			select {
			case closeNow <- struct{}{}:
			default:
			}
		}
	}}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	f := &stressFailures{t: t}

	var closing, closed atomic.Bool
	var held struct {
		sync.Mutex
		snaps []*shop.Snapshot
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	var refreshes atomic.Int64
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			var own []stressOrder
			for round := 0; ; round++ {
				after := closed.Load()
				src, _, next := stressFeed(r, s.Snapshot().History(), g, round, 1, own)
				err := s.Refresh(ctx, src)
				switch {
				case err == nil && !after:
					own = next
					refreshes.Add(1)
					snap := s.Snapshot()
					held.Lock()
					held.snaps = append(held.snaps, snap)
					held.Unlock()
					if round%2 == 0 {
						wg.Go(func() { snap.Segments() }) // waits for the background build
					}
					continue
				case err != nil && stressIsClosed(err) && (closing.Load() || after):
				case err == nil && closing.Load():
					// finished before Close stopped it
					continue
				default:
					f.fail("refresher %d round %d (after Close: %v): %v", g, round, after, err)
				}
				return
			}
		})
	}
	wg.Go(func() {
		for {
			after := closed.Load()
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := s.WaitModel(wctx)
			cancel()
			switch {
			case err == nil && !after:
				select {
				case <-done:
					return
				default:
					runtime.Gosched()
					continue
				}
			case err != nil && stressIsClosed(err) && (closing.Load() || after):
				return
			default:
				f.fail("WaitModel (after Close: %v): %v", after, err)
				return
			}
		}
	})
	for g := range 2 {
		wg.Go(func() {
			untilClosed(done, func(i int) bool {
				snap := s.Snapshot()
				h := snap.History()
				c := affinity.CustomerID((i*37 + g) % h.NumCustomers())
				if _, err := snap.Recommend(ctx, shop.Request{CustomerID: c, ByID: true, K: 5}); err != nil && !erasedID(err, h, c) {
					f.fail("reader %d: recommend: %v", g, err)
					return false
				}
				if i%8 == g {
					if _, err := snap.Segment("recency <= 30d"); err != nil {
						f.fail("reader %d: segment: %v", g, err)
						return false
					}
				}
				return true
			})
		})
	}

	// close at a random moment
	delay := time.Duration(r.IntN(8000)) * time.Microsecond
	if trigger != "" {
		delay = 2 * time.Second // unless the step comes first
		armed.Store(true)
	}
	select {
	case <-closeNow:
	case <-time.After(delay):
	}
	closing.Store(true)
	var closers sync.WaitGroup
	for range 2 { // Close is safe to call concurrently
		closers.Go(s.Close)
	}
	closeDone := make(chan struct{})
	go func() { closers.Wait(); close(closeDone) }()
	select {
	case <-closeDone:
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("Close did not return within 30 s:\n%s", buf[:runtime.Stack(buf, true)])
	}
	closed.Store(true)
	close(done)
	wg.Wait()
	require.Zero(t, f.n.Load(), "failures while closing")

	require.ErrorIs(t, s.WaitModel(ctx), shop.ErrClosed)
	last := s.Snapshot()
	require.ErrorIs(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "late", Product: last.History().Catalog().ProductKey(0), Time: last.AsOf(), Quantity: 1, Price: 100},
	}))), shop.ErrClosed)
	require.Same(t, last, s.Snapshot(), "a refresh after Close changes nothing")

	// every snapshot taken still answers, segments included
	snaps := append(held.snaps, last)
	if len(snaps) > 6 {
		snaps = append(snaps[:3], snaps[len(snaps)-3:]...)
	}
	for i, snap := range snaps {
		what := fmt.Sprintf("snapshot %d after Close", i)
		h := snap.History()
		res, err := snap.Recommend(ctx, shop.Request{Customer: h.CustomerKey(0), K: 5})
		require.NoError(t, err, what)
		require.NotEmpty(t, res.Recs, what)
		stressCheckSegments(ctx, f, snap, what)
		_, err = snap.Profile(ctx, h.CustomerKey(1))
		require.NoError(t, err, what)
	}
	require.Zero(t, f.n.Load(), "failures after Close")
	// live controls keep working on the last snapshot
	res, err := last.Recommend(ctx, shop.Request{K: 1})
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	s.SetInStock(res.Recs[0].Product, false)
	res2, err := s.Snapshot().Recommend(ctx, shop.Request{K: 10})
	require.NoError(t, err)
	for _, r := range res2.Recs {
		require.NotEqual(t, res.Recs[0].Product, r.Product)
	}
	t.Logf("closed on %q after %d refreshes", trigger, refreshes.Load())

	// every goroutine the shop started ends
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines 20 s after Close, %d before Open:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestStressCancelledRefreshes refreshes a shop on the co-purchase
// neighbours with random feeds (randomChanges: new orders, replacements,
// deletions, erasures), cancelling some refreshes at a random moment —
// before they start, at a random progress report, after a random delay
// — while readers serve requests and segments beside them, on the
// neighbours and on EASE fitted in the background. A cancelled
// refresh returns context.Canceled and leaves the snapshot as it was (one
// that finished first succeeds); every successful refresh holds its
// feed and answers as a shop opened on its History (on EASE, every other
// one, once WaitModel returned).
func TestStressCancelledRefreshes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     shop.Options
		profiles bool
	}{
		{"background", shop.Options{Model: "neighbours", Workers: 2, RefreshWorkers: 1}, false},
		{"profiles", shop.Options{Model: "neighbours", Workers: 1, RefreshWorkers: 2}, true},
		// the background fit runs beside the next refreshes, and an
		// erasure fits before the swap
		{"ease", shop.Options{Model: "ease", Workers: 2}, false},
	}
	for ci, tc := range cases {
		for seed := range uint64(testdata.Scale(3, 1)) {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				stressCancelled(t, seed*10+uint64(ci), tc.opts, tc.profiles)
			})
		}
	}
}

func stressCancelled(t *testing.T, seed uint64, opts shop.Options, profiles bool) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 7))
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200 + r.IntN(100), Products: 60, Categories: 10, Seed: seed + 1, ViewsPerLine: -1})
	// the cancel of the refresh under way, at its n-th progress report
	var hook atomic.Pointer[func()]
	ropts := opts
	opts.Progress = func(affinity.Progress) {
		if h := hook.Load(); h != nil {
			(*h)()
		}
	}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	defer s.Close()
	f := &stressFailures{t: t}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			untilClosed(stop, func(i int) bool {
				snap := s.Snapshot()
				h := snap.History()
				c := affinity.CustomerID((i*31 + g) % h.NumCustomers())
				if _, err := snap.Recommend(ctx, shop.Request{CustomerID: c, ByID: true, K: 5}); err != nil && !erasedID(err, h, c) {
					f.fail("reader %d: recommend: %v", g, err)
					return false
				}
				if profiles {
					if _, err := snap.Profile(ctx, h.CustomerKey(c)); err != nil {
						f.fail("reader %d: profile: %v", g, err)
						return false
					}
				}
				if i%6 == g {
					stressCheckSegments(ctx, f, snap, fmt.Sprintf("reader %d request %d", g, i))
				}
				return true
			})
		})
	}
	if opts.Model == "ease" {
		// WaitModel beside the refreshes: nil or still waiting
		wg.Go(func() {
			untilClosed(stop, func(int) bool {
				wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
				err := s.WaitModel(wctx)
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					f.fail("WaitModel: %v", err)
					return false
				}
				return true
			})
		})
	}
	defer func() { close(stop); wg.Wait() }()

	var feed []affinity.OrderChange
	var erase []string
	cancelled, succeeded, late := 0, 0, 0
	rounds := testdata.Scale(16, 8)
	if profiles {
		rounds = testdata.Scale(10, 5) // every refresh fits the value models
	}
	for round := 0; round < rounds; round++ {
		if feed == nil || r.IntN(2) == 0 { // else the feed of a cancelled refresh again
			feed, erase = randomChanges(r, s.Snapshot().History(), 100+round, 12, time.Hour)
		}
		src := shop.Sources(shop.Changes(slices.Values(feed)), shop.Erase(erase...))
		before := s.Snapshot()
		rctx, cancel := context.WithCancel(ctx)
		mode := r.IntN(4)
		switch mode {
		case 1: // before it starts
			cancel()
		case 2: // at a random progress report
			var n atomic.Int32
			at := int32(1 + r.IntN(12))
			h := func() {
				if n.Add(1) == at {
					cancel()
				}
			}
			hook.Store(&h)
		case 3: // after a random delay
			time.AfterFunc(time.Duration(r.IntN(3000))*time.Microsecond, cancel)
		}
		err := s.Refresh(rctx, src)
		hook.Store(nil)
		cancel()
		msg := fmt.Sprintf("round %d (cancel mode %d)", round, mode)
		if err != nil {
			require.ErrorIs(t, err, context.Canceled, msg)
			require.NotEqual(t, 0, mode, msg)
			// the snapshot of the same History: on EASE the background
			// fit may have swapped in one with the new fit meanwhile
			require.True(t, before.History() == s.Snapshot().History(), "%s: a cancelled refresh keeps the snapshot", msg)
			cancelled++
			continue
		}
		if mode != 0 {
			late++
		}
		succeeded++
		got := s.Snapshot()
		h := got.History()
		// the feed is in the History: the last version of each order
		last := map[string]affinity.OrderChange{}
		for _, c := range feed {
			if c.Version >= last[c.Key].Version {
				last[c.Key] = c
			}
		}
		for key, c := range last {
			if slices.ContainsFunc(c.Lines, func(p affinity.Purchase) bool { return slices.Contains(erase, p.Customer) }) {
				continue
			}
			o, ok := h.LookupOrder(key)
			require.Equal(t, !c.Delete, ok, "%s: order %s (delete %v)", msg, key, c.Delete)
			if ok {
				var v affinity.Money
				for _, p := range c.Lines {
					v += p.Value()
				}
				require.Equal(t, v, h.OrderValue(o), "%s: order %s", msg, key)
			}
		}
		for _, k := range erase {
			if slices.ContainsFunc(feed, func(c affinity.OrderChange) bool {
				return slices.ContainsFunc(c.Lines, func(p affinity.Purchase) bool { return p.Customer == k })
			}) {
				continue // erased and back in the same feed
			}
			_, ok := h.LookupCustomer(k)
			require.False(t, ok, "%s: erased customer %s", msg, k)
		}
		feed = nil
		if opts.Model == "ease" {
			if succeeded%2 == 1 {
				continue // the fit runs on beside the next refresh
			}
			require.NoError(t, s.WaitModel(ctx), msg)
			got = s.Snapshot()
			require.Same(t, h, got.History(), msg)
			require.True(t, got.ModelCurrent(), msg)
		}
		full, err := shop.OpenHistory(ctx, h, ropts)
		require.NoError(t, err)
		want := full.Snapshot()
		require.Equal(t, snapshotView(t, want), snapshotView(t, got), msg)
		for i := range 15 {
			sameAnswer(t, want, got, shop.Request{CustomerID: affinity.CustomerID(i * h.NumCustomers() / 15), ByID: true, K: 5}, msg)
		}
		full.Close()
		require.Zero(t, f.n.Load(), "%s: readers failed", msg)
	}
	t.Logf("%d refreshes cancelled, %d succeeded (%d despite a cancel)", cancelled, succeeded, late)
	require.Positive(t, cancelled)
	require.Positive(t, succeeded)
}

// stressContents returns what h holds, by shop keys: every keyed order's
// customer, time and lines, and every customer's events, each sorted.
func stressContents(h *affinity.History) (orders map[string]string, events map[string][]string) {
	cat := h.Catalog()
	orders, events = map[string]string{}, map[string][]string{}
	for o := range h.Orders() {
		cust := ""
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		var lines []string
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			ln := h.Line(i)
			lines = append(lines, fmt.Sprintf("%s×%d@%d", cat.ProductKey(ln.Product), ln.Quantity, ln.Price))
		}
		slices.Sort(lines)
		key := h.OrderKey(o)
		if key == "" { // unkeyed orders, in one sorted entry
			key = fmt.Sprintf("(unkeyed %s %d %v)", cust, h.OrderUnix(o), lines)
		}
		orders[key] = fmt.Sprintf("%s %d %v", cust, h.OrderUnix(o), lines)
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			events[h.CustomerKey(c)] = append(events[h.CustomerKey(c)], fmt.Sprintf("%s %d %d %g", cat.ProductKey(e.Product), e.Unix, e.Kind, e.Weight))
		}
		slices.Sort(events[h.CustomerKey(c)])
	}
	return orders, events
}

// TestStressShopsShareAHistory refreshes two shops at once that share
// their History: one opened on the other's current History
// (OpenHistory), as a shop with other options for the same data is.
// Each refresh builds on the shared History, appending orders and
// events where the room past its columns allows; each shop must hold
// its own feeds and none of the other's, and answer as a shop opened on
// its History, whichever refresh took the room. Some refreshes are
// cancelled once their History is built, which keeps the room claimed.
func TestStressShopsShareAHistory(t *testing.T) {
	t.Parallel()
	for seed := range uint64(testdata.Scale(4, 1)) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { stressShared(t, seed) })
	}
}

func stressShared(t *testing.T, seed uint64) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 50, Categories: 8, Days: 300, Seed: seed + 1})
	// the shops cancel a refresh of theirs once its History is built
	var cancels [3]atomic.Pointer[context.CancelFunc]
	optsOf := func(i int) shop.Options {
		o := shop.Options{Model: "neighbours", Workers: 1 + i%2}
		o.Progress = func(p affinity.Progress) {
			if c := cancels[i].Load(); c != nil && p.Step == "history" && p.Done == p.Total {
				(*c)()
			}
		}
		return o
	}
	a, err := shop.Open(ctx, shop.Storefront(sf), optsOf(0))
	require.NoError(t, err)
	defer a.Close()
	for round := range testdata.Scale(8, 3) {
		// two more shops on a's current History, refreshed beside a
		shops := []*shop.Shop{a}
		for i := 1; i <= 2; i++ {
			o, err := shop.OpenHistory(ctx, a.Snapshot().History(), optsOf(i))
			require.NoError(t, err)
			defer o.Close()
			shops = append(shops, o)
		}
		for step := range 2 {
			var wg sync.WaitGroup
			errs := make([]error, len(shops))
			type want struct {
				orders map[string]string
				events map[string][]string
			}
			wants := make([]want, len(shops))
			for i, s := range shops {
				r := rand.New(rand.NewPCG(seed, uint64(100*round+10*step+i)))
				h := s.Snapshot().History()
				cat := h.Catalog()
				at := h.Latest().Add(time.Duration(1+r.IntN(600)) * time.Minute)
				var ps []affinity.Purchase
				var evs []affinity.Event
				for j := range 1 + r.IntN(6) {
					cust := h.CustomerKey(affinity.CustomerID(r.IntN(h.NumCustomers())))
					if r.IntN(4) == 0 {
						cust = fmt.Sprintf("shop%d-new-%d-%d-%d", i, round, step, j)
					}
					if r.IntN(2) == 0 {
						ps = append(ps, affinity.Purchase{Customer: cust, Order: fmt.Sprintf("shop%d-%d-%d-%d", i, round, step, j),
							Product: cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts()))), Time: at, Quantity: 1, Price: affinity.Money(100 + 100*i)})
					} else {
						evs = append(evs, affinity.Event{Customer: cust, Product: cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts()))),
							Time: at, Kind: affinity.View, Weight: float32(1 + i)})
					}
				}
				src := shop.Sources(shop.Purchases(slices.Values(ps)), shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
					for _, e := range evs {
						if err := b.AddEvent(e); err != nil {
							return dataset.Report{}, err
						}
					}
					return dataset.Report{Events: len(evs)}, nil
				}))
				w := &wants[i]
				w.orders, w.events = stressContents(h)
				for _, p := range ps {
					w.orders[p.Order] = fmt.Sprintf("%s %d [%s×1@%d]", p.Customer, p.Time.Unix(), p.Product, p.Price)
				}
				for _, e := range evs {
					w.events[e.Customer] = append(w.events[e.Customer], fmt.Sprintf("%s %d %d %g", e.Product, e.Time.Unix(), e.Kind, e.Weight))
					slices.Sort(w.events[e.Customer])
				}
				cancelFirst := r.IntN(3) == 0
				wg.Go(func() {
					if cancelFirst { // cancelled once built: the room stays claimed
						cctx, cancel := context.WithCancel(ctx)
						cancels[i].Store(&cancel)
						err := s.Refresh(cctx, src)
						cancels[i].Store(nil)
						cancel()
						if !errors.Is(err, context.Canceled) {
							errs[i] = fmt.Errorf("cancelled refresh: %v", err)
							return
						}
					}
					errs[i] = s.Refresh(ctx, src)
				})
			}
			wg.Wait()
			for i, s := range shops {
				msg := fmt.Sprintf("round %d step %d shop %d", round, step, i)
				require.NoError(t, errs[i], msg)
				got := s.Snapshot()
				orders, events := stressContents(got.History())
				require.Equal(t, wants[i].orders, orders, msg)
				require.Equal(t, wants[i].events, events, msg)
				full, err := shop.OpenHistory(ctx, got.History(), shop.Options{Model: "neighbours"})
				require.NoError(t, err)
				require.Equal(t, snapshotView(t, full.Snapshot()), snapshotView(t, got), msg)
				full.Close()
			}
		}
	}
}

// TestStressSegmentsFromProgress reacts to the end of a refresh's
// "segment" step — reported from the goroutine that builds the new
// snapshot's index, and the step TerminalProgress takes as the end of a
// refresh — by asking for the current snapshot's segment index, as a
// dashboard showing audience counts once the index is ready would. The
// end is reported once the index is served, so the call returns it.
// (When the report came from within the build, SegmentIndex waited for
// the build, which waited for the callback: the callback never returned,
// and every later Segment, Segments and Profile on that snapshot, and
// the next refresh's segment update, waited for ever; the deadline below
// keeps such a failure short.)
func TestStressSegmentsFromProgress(t *testing.T) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100, Products: 30, Categories: 6, Seed: 1, ViewsPerLine: -1})
	var s *shop.Shop
	var before atomic.Pointer[shop.Snapshot] // set while the refresh is watched
	got := make(chan error, 1)
	opts := shop.Options{Model: "neighbours", Progress: func(p affinity.Progress) {
		old := before.Load()
		if old == nil || p.Step != "segment" || p.Total == 0 || p.Done != p.Total {
			return
		}
		before.Store(nil)
		// the index is built: once the refresh has swapped its snapshot
		// in, show an audience of it
		for deadline := time.Now().Add(5 * time.Second); s.Snapshot() == old && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := s.Snapshot().SegmentIndex(wctx)
		got <- err
	}}
	s, err := shop.Open(ctx, shop.Storefront(sf), opts)
	require.NoError(t, err)
	defer s.Close()
	h := s.Snapshot().History()
	before.Store(s.Snapshot())
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: h.CustomerKey(0), Order: "late", Product: h.Catalog().ProductKey(0), Time: h.Latest().Add(time.Hour), Quantity: 1, Price: 100},
	}))))
	select {
	case err := <-got:
		require.NoError(t, err, "the index whose build reported its end, asked for from the report")
	case <-time.After(10 * time.Second):
		t.Fatal("no end of the segment step reported")
	}
}

// erasedID reports whether err is the answer to a request by the dense id
// c of a customer erased in h: ErrUnknownCustomer, as documented.
func erasedID(err error, h *affinity.History, c affinity.CustomerID) bool {
	return errors.Is(err, shop.ErrUnknownCustomer) && h.CustomerKey(c) == ""
}

// sameAnswer requires want and got, snapshots of the same History, to
// answer req alike: the same results, or both ErrUnknownCustomer for the
// dense id of an erased customer.
func sameAnswer(t *testing.T, want, got *shop.Snapshot, req shop.Request, msg string) {
	t.Helper()
	ctx := context.Background()
	w, werr := want.Recommend(ctx, req)
	g, gerr := got.Recommend(ctx, req)
	if req.ByID && got.History().CustomerKey(req.CustomerID) == "" {
		require.ErrorIs(t, werr, shop.ErrUnknownCustomer, msg)
		require.ErrorIs(t, gerr, shop.ErrUnknownCustomer, msg)
		return
	}
	require.NoError(t, werr, msg)
	require.NoError(t, gerr, msg)
	require.Equal(t, w, g, "%s: customer %d", msg, req.CustomerID)
}
