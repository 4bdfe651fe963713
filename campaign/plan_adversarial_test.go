package campaign_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases need America/New_York everywhere

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/internal/csvtext"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file checks Build's documented promises against a naive model
// written from the documentation alone (doc.go, the Options, Count,
// Schedule, Content and Build comments), on small random shops whose raw
// orders and events the model reads directly, never through the code
// under test.

const advDay = 24 * 60 * 60 // seconds

// advLine, advOrder, advEvent and advProduct are the raw data of a
// random shop, kept beside the History built from them.
type advLine struct {
	prod string
	qty  int32
}

type advOrder struct {
	cust  string
	t     time.Time
	lines []advLine
}

type advEvent struct {
	cust, prod string
	t          time.Time
	kind       affinity.EventKind
}

type advProduct struct {
	key, name string
	cats      []string
	nonMerch  bool
}

type advShop struct {
	asOf     time.Time
	custs    []string
	prods    []advProduct
	orders   []advOrder
	events   []advEvent
	snap     *shop.Snapshot
	h        *affinity.History
	lookback time.Time // start of the segment look-back (24 months)
}

// advShopOptions says which awkward data a random shop holds.
type advShopOptions struct {
	customers int
	hostile   bool // hostile customer keys and product names
	future    bool // orders and events after the as-of time
	old       bool // orders before the 24-month look-back
	returns   bool // return-only orders
}

var advHostileKeys = []string{
	`comma,key`, `"quoted"`, "new\nline", "ünïcödé-顧客", " lead space", "pipe|key", `semi;colon`,
	`back\slash`, "tab\tkey", "'single'", "emoji-🛒", `=cmd()`, "x",
}

var advHostileNames = []string{
	`Shirt, "Deluxe"`, "two\nlines", "pipe|name", "", "ünïcödé 名前", `quote"inside`, "  spaces  ",
	"emoji 🎁", `comma,,,`, "plain",
}

func (o advShopOptions) build(t *testing.T, rng *rand.Rand, asOf time.Time) *advShop {
	t.Helper()
	s := &advShop{asOf: asOf, lookback: affinity.Months(24).Start(asOf)}
	// products: three categories, one non-merchandise fee
	cats := []string{"Apparel/Shirts", "Apparel/Shoes", "Home/Kitchen", "Home/Garden"}
	np := 8 + rng.IntN(6)
	for i := range np {
		p := advProduct{key: fmt.Sprintf("p%02d", i), name: fmt.Sprintf("Product %d", i), cats: []string{cats[rng.IntN(len(cats))]}}
		if o.hostile && rng.IntN(2) == 0 {
			p.key = fmt.Sprintf("p%02d,%s", i, advHostileNames[rng.IntN(len(advHostileNames))])
			p.name = advHostileNames[rng.IntN(len(advHostileNames))]
		}
		s.prods = append(s.prods, p)
	}
	s.prods = append(s.prods, advProduct{key: "fee", name: "Shipping", cats: []string{"Fees"}, nonMerch: true})
	for i := range o.customers {
		k := fmt.Sprintf("c%03d", i)
		if o.hostile && rng.IntN(3) == 0 {
			k = fmt.Sprintf("%s#%d", advHostileKeys[rng.IntN(len(advHostileKeys))], i)
		}
		s.custs = append(s.custs, k)
	}
	// offsets before asOf: random seconds, exact day boundaries and one
	// second either side of them
	offset := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return rng.Int64N(40 * advDay)
		case 1:
			return int64(rng.IntN(35)) * advDay
		case 2:
			return int64(rng.IntN(35))*advDay - 1
		default:
			return int64(rng.IntN(35))*advDay + 1
		}
	}
	at := func(off int64) time.Time { return asOf.Add(-time.Duration(off) * time.Second) }
	prod := func() string {
		if rng.IntN(12) == 0 {
			return "fee"
		}
		return s.prods[rng.IntN(np)].key
	}
	for _, c := range s.custs {
		kind := rng.IntN(10)
		if kind == 0 {
			continue // a customer with nothing: unknown to the shop
		}
		var bought []string
		if kind >= 2 {
			for range 1 + rng.IntN(4) {
				off := offset()
				if off < 0 {
					off = 0
				}
				var lines []advLine
				for range 1 + rng.IntN(3) {
					p := prod()
					lines = append(lines, advLine{p, int32(1 + rng.IntN(3))})
					bought = append(bought, p)
				}
				s.orders = append(s.orders, advOrder{cust: c, t: at(off), lines: lines})
			}
			if o.old && rng.IntN(4) == 0 {
				s.orders = append(s.orders, advOrder{cust: c, t: at(int64(760+rng.IntN(60)) * advDay),
					lines: []advLine{{prod(), 1}}})
			}
			if o.future && rng.IntN(3) == 0 {
				s.orders = append(s.orders, advOrder{cust: c, t: asOf.Add(time.Duration(1+rng.Int64N(5*advDay)) * time.Second),
					lines: []advLine{{prod(), 1}}})
			}
			if o.returns && rng.IntN(4) == 0 {
				s.orders = append(s.orders, advOrder{cust: c, t: at(rng.Int64N(3 * advDay)),
					lines: []advLine{{bought[rng.IntN(len(bought))], -1}}})
			}
		}
		// events: views and carts in the last ten days (kind 1 has only these)
		for range rng.IntN(4) {
			k := affinity.Cart
			switch rng.IntN(4) {
			case 0:
				k = affinity.View
			case 1:
				k = affinity.Wishlist
			}
			s.events = append(s.events, advEvent{cust: c, prod: prod(), t: at(rng.Int64N(10 * advDay)), kind: k})
		}
		if o.future && rng.IntN(4) == 0 {
			s.events = append(s.events, advEvent{cust: c, prod: prod(), t: asOf.Add(time.Duration(1+rng.Int64N(advDay)) * time.Second), kind: affinity.Cart})
		}
	}
	s.open(t)
	return s
}

// open builds the History of the raw data and a shop as of s.asOf.
func (s *advShop) open(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	b := affinity.NewBuilder(nil)
	b.Workers = 1
	for _, p := range s.prods {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p.key, Name: p.name, Categories: p.cats, Price: affinity.Money(10_0000), InStock: true}))
	}
	for i, o := range s.orders {
		for _, l := range o.lines {
			require.NoError(t, b.Add(affinity.Purchase{Customer: o.cust, Product: l.prod, Order: fmt.Sprintf("o%d", i), Time: o.t, Quantity: l.qty, Price: affinity.Money(10_0000)}))
		}
	}
	for _, e := range s.events {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: e.prod, Time: e.t, Kind: e.kind, Weight: 1}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	sh, err := shop.OpenHistory(ctx, h, shop.Options{AsOf: s.asOf, Model: "neighbours", Workers: 1, RefreshWorkers: 1})
	require.NoError(t, err)
	t.Cleanup(sh.Close)
	s.snap = sh.Snapshot()
	s.h = s.snap.History()
}

func (s *advShop) id(t *testing.T, key string) affinity.CustomerID {
	t.Helper()
	c, ok := s.h.LookupCustomer(key)
	require.True(t, ok, "customer %q", key)
	return c
}

func (s *advShop) pid(key string) affinity.ProductID {
	p, ok := s.h.Catalog().LookupProduct(key)
	if !ok {
		panic("unknown product " + key)
	}
	return p
}

func (s *advShop) product(key string) advProduct {
	for _, p := range s.prods {
		if p.key == key {
			return p
		}
	}
	panic("unknown product " + key)
}

// known reports whether the segment index knows c: an order or event at
// or before the as-of time.
func (s *advShop) known(c string) bool {
	a := s.asOf.Unix()
	for _, o := range s.orders {
		if o.cust == c && o.t.Unix() <= a {
			return true
		}
	}
	for _, e := range s.events {
		if e.cust == c && e.t.Unix() <= a {
			return true
		}
	}
	return false
}

// recency is the whole days (24-hour periods counted back from the as-of
// time) since c's last order with a bought line at or before the as-of
// time.
func (s *advShop) recency(c string) (int, bool) {
	a := s.asOf.Unix()
	best, ok := int64(math.MaxInt64), false
	for _, o := range s.orders {
		if o.cust != c || o.t.Unix() > a {
			continue
		}
		if !slices.ContainsFunc(o.lines, func(l advLine) bool { return l.qty > 0 }) {
			continue
		}
		best, ok = min(best, (a-o.t.Unix())/advDay), true
	}
	return int(best), ok
}

func (s *advShop) due(c string, sc campaign.Schedule) bool {
	if sc.IsZero() {
		return true
	}
	d, ok := s.recency(c)
	return ok && d >= sc.MinDays && (sc.MaxDays == 0 || d <= sc.MaxDays)
}

// reachedSince reports whether a past message of the named campaign in
// sent, at or before asOf, reached c at or after their last purchase at
// or before asOf, in whole seconds (Options.Sent: a scheduled campaign is
// due once per purchase; a send in the purchase's second was planned
// from a snapshot holding it).
func (s *advShop) reachedSince(c, name string, sent []campaign.Message) bool {
	a := s.asOf.Unix()
	last := int64(math.MinInt64)
	for _, o := range s.orders {
		if o.cust == c && o.t.Unix() <= a && slices.ContainsFunc(o.lines, func(l advLine) bool { return l.qty > 0 }) {
			last = max(last, o.t.Unix())
		}
	}
	for _, m := range sent {
		if m.Campaign == name && m.Customer == c && !m.Time.After(s.asOf) && m.Time.Unix() >= last {
			return true
		}
	}
	return false
}

// boughtIn reports whether c bought p (a positive line) in (from, asOf].
func (s *advShop) boughtIn(c, p string, from int64) bool {
	a := s.asOf.Unix()
	for _, o := range s.orders {
		if o.cust != c || o.t.Unix() > a || o.t.Unix() <= from {
			continue
		}
		for _, l := range o.lines {
			if l.prod == p && l.qty > 0 {
				return true
			}
		}
	}
	return false
}

// advCampaign is a campaign with the model's view of its Select.
type advCampaign struct {
	c   campaign.Campaign
	sel map[string]bool // nil: no Select
}

// modelItems returns the items the documentation promises for customer c
// of campaign ac with audience members; nil when the rule finds none.
func (s *advShop) modelItems(ac advCampaign, members []string, c string) []campaign.Item {
	k := ac.c.K
	if k == 0 {
		k = 4
	}
	switch ac.c.Content {
	case campaign.NoProducts:
		return []campaign.Item{}
	case campaign.GroupFavourites:
		type pc struct {
			key string
			n   int
		}
		var all []pc
		for _, p := range s.prods {
			if p.nonMerch {
				continue
			}
			n := 0
			for _, m := range members {
				if s.boughtIn(m, p.key, s.lookback.Unix()) {
					n++
				}
			}
			if n > 0 {
				all = append(all, pc{p.key, n})
			}
		}
		slices.SortFunc(all, func(a, b pc) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(s.pid(a.key), s.pid(b.key))) })
		var out []campaign.Item
		for _, x := range all {
			if len(out) == k {
				break
			}
			if s.boughtIn(c, x.key, math.MinInt64) { // already bought, at any time up to asOf
				continue
			}
			out = append(out, campaign.Item{Product: x.key, Name: s.product(x.key).name})
		}
		return out
	case campaign.AbandonedCart, campaign.BackInStock:
		last := s.pendingEvents(ac, c, true)
		var ps []string
		for p := range last {
			ps = append(ps, p)
		}
		slices.SortFunc(ps, func(x, y string) int { return cmp.Or(cmp.Compare(last[y], last[x]), cmp.Compare(s.pid(x), s.pid(y))) })
		var out []campaign.Item
		for _, p := range ps[:min(len(ps), k)] {
			out = append(out, campaign.Item{Product: p, Name: s.product(p).name,
				Reason: time.Unix(last[p], 0).In(s.asOf.Location()).Format(time.DateOnly)})
		}
		return out
	}
	panic("content rule not modelled")
}

// pendingEvents is, by product, the time of customer c's last event in
// the window of campaign ac that its content rule reads (a cart for
// AbandonedCart, a view, cart or wish of a restocked product for
// BackInStock) of a product not bought since; merchandise only with
// sendable.
func (s *advShop) pendingEvents(ac advCampaign, c string, sendable bool) map[string]int64 {
	w := ac.c.Window
	if w == 0 {
		w = 7 * 24 * time.Hour
	}
	a, from := s.asOf.Unix(), s.asOf.Add(-w).Unix()
	last := map[string]int64{}
	for _, e := range s.events {
		if e.cust != c || e.t.Unix() <= from || e.t.Unix() > a || (sendable && s.product(e.prod).nonMerch) {
			continue
		}
		if ac.c.Content == campaign.AbandonedCart && e.kind != affinity.Cart {
			continue
		}
		// back in stock: the restocked products viewed, carted or
		// wished for (BackInStockAlert's wording)
		if ac.c.Content == campaign.BackInStock && !slices.Contains(ac.c.Products, e.prod) {
			continue
		}
		last[e.prod] = max(last[e.prod], e.t.Unix())
	}
	for p, et := range last {
		for _, o := range s.orders {
			if o.cust == c && o.t.Unix() >= et && o.t.Unix() <= a &&
				slices.ContainsFunc(o.lines, func(l advLine) bool { return l.prod == p && l.qty > 0 }) {
				delete(last, p)
				break
			}
		}
	}
	return last
}

// advControl is InControl written from its documentation: FNV-1a 64 of
// campaign, 0, customer; MurmurHash3's fmix64; divided by 2⁶⁴ below share.
func advControl(name, key string, share float64) bool {
	if !(share > 0) || math.IsInf(share, 1) {
		return share > 0 // none for NaN and shares ≤ 0, all for +Inf
	}
	f := fnv.New64a()
	_, _ = f.Write([]byte(name + "\x00" + key))
	k := f.Sum64()
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	// k / 2⁶⁴ < share, exactly (a float64 of k may round up)
	lhs := new(big.Float).SetPrec(256).SetUint64(k)
	rhs := new(big.Float).SetPrec(256).SetMantExp(big.NewFloat(share), 64)
	return lhs.Cmp(rhs) < 0
}

// modelPlan is the plan the documentation promises.
func (s *advShop) modelPlan(t *testing.T, acs []advCampaign, opts campaign.Options) ([]campaign.Message, []campaign.Count) {
	t.Helper()
	acs = slices.Clone(acs)
	slices.SortStableFunc(acs, func(a, b advCampaign) int {
		return cmp.Or(cmp.Compare(b.c.Priority, a.c.Priority), strings.Compare(a.c.Name, b.c.Name))
	})
	capN, past := capModel(opts, s.asOf)
	if capN < 0 {
		capN = math.MaxInt
	}
	out := map[string]bool{}
	for _, k := range opts.OptOut {
		out[k] = true
	}
	planned := map[string]int{}
	var msgs []campaign.Message
	var counts []campaign.Count
	for _, ac := range acs {
		var members []string
		for _, c := range s.custs {
			// AbandonedCart and BackInStock reach the customers with
			// products to send: an event of theirs in the window
			events := ac.c.Content != campaign.AbandonedCart && ac.c.Content != campaign.BackInStock ||
				len(s.pendingEvents(ac, c, false)) > 0
			again := !ac.c.Schedule.IsZero() && s.reachedSince(c, ac.c.Name, opts.Sent)
			if s.known(c) && s.due(c, ac.c.Schedule) && (ac.sel == nil || ac.sel[c]) && events && !again {
				members = append(members, c)
			}
		}
		share := ac.c.Control
		if share == 0 {
			share = campaign.DefaultControl
		}
		cnt := campaign.Count{Campaign: ac.c.Name, Audience: len(members)}
		var cm []campaign.Message
		for _, c := range members {
			id := s.id(t, c)
			if out[c] || (opts.OptIn != nil && !opts.OptIn.Contains(uint32(id))) {
				cnt.OptedOut++
				continue
			}
			if past[c]+planned[c] >= capN {
				cnt.Capped++
				if past[c] < capN {
					cnt.CappedByPlan++
				}
				continue
			}
			items := s.modelItems(ac, members, c)
			if items == nil {
				cnt.NoContent++
				continue
			}
			m := campaign.Message{Campaign: ac.c.Name, Customer: c, ID: id, Time: s.asOf, Offer: ac.c.Offer, Items: items,
				Control: advControl(ac.c.Name, c, share)}
			switch {
			case opts.Email != nil:
				m.Email = opts.Email(c)
			case opts.Attributes != nil:
				m.Email, _ = opts.Attributes.Text("email", id)
			}
			if m.Control {
				cnt.Control++
			} else {
				cnt.Treated++
			}
			planned[c]++
			cm = append(cm, m)
		}
		slices.SortFunc(cm, func(a, b campaign.Message) int { return strings.Compare(a.Customer, b.Customer) })
		msgs = append(msgs, cm...)
		counts = append(counts, cnt)
	}
	return msgs, counts
}

// advCompare checks got against the model's messages: everything but the
// reasons, whose wording is not documented (only the abandoned cart's
// date is checked).
func advCompare(t *testing.T, want, got []campaign.Message) {
	t.Helper()
	type row struct {
		Campaign, Customer, Email, Offer string
		ID                               affinity.CustomerID
		Time                             time.Time
		Control                          bool
		Products, Names                  []string
	}
	conv := func(ms []campaign.Message) []row {
		out := make([]row, 0, len(ms))
		for _, m := range ms {
			r := row{m.Campaign, m.Customer, m.Email, m.Offer, m.ID, m.Time, m.Control, []string{}, []string{}}
			for _, it := range m.Items {
				r.Products = append(r.Products, it.Product)
				r.Names = append(r.Names, it.Name)
			}
			out = append(out, r)
		}
		return out
	}
	w, g := conv(want), conv(got)
	for i := range min(len(w), len(g)) {
		require.Equal(t, w[i], g[i], "message %d of %d", i, len(g))
	}
	require.Len(t, g, len(w), "messages")
	for i := range want {
		for j, it := range want[i].Items {
			if it.Reason != "" { // the model's date of an abandoned cart
				assert.Contains(t, got[i].Items[j].Reason, it.Reason, "%s %q", got[i].Campaign, got[i].Customer)
			}
			assert.NotEmpty(t, got[i].Items[j].Reason)
		}
	}
}

var advNames = []string{"alpha", "beta", `gamma,"quoted"`, "délta\nline", "eps|pipe", "zeta", "Zeta", "ω"}

func advRandomCampaigns(rng *rand.Rand, s *advShop, groupFav bool) []advCampaign {
	names := slices.Clone(advNames)
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	n := 1 + rng.IntN(5)
	var out []advCampaign
	for _, name := range names[:n] {
		c := campaign.Campaign{Name: name, Priority: []int{0, 5, 5, 10, -3}[rng.IntN(5)],
			Control: []float64{0, -1, 0.25, 0.5, 0.9}[rng.IntN(5)], K: rng.IntN(3), Offer: []string{"", "10% off", `"free", shipping`}[rng.IntN(3)]}
		switch rng.IntN(5) {
		case 0:
		case 1:
			c.Schedule = campaign.Schedule{MinDays: 0, MaxDays: 6}
		case 2:
			c.Schedule = campaign.Schedule{MinDays: 14, MaxDays: 28}
		case 3:
			c.Schedule = campaign.Schedule{MinDays: 3 + rng.IntN(10)}
		default:
			lo := rng.IntN(20)
			c.Schedule = campaign.Schedule{MinDays: lo, MaxDays: lo + rng.IntN(3)}
		}
		contents := []campaign.Content{campaign.NoProducts, campaign.AbandonedCart, campaign.BackInStock}
		if groupFav {
			contents = append(contents, campaign.GroupFavourites)
		}
		c.Content = contents[rng.IntN(len(contents))]
		if c.Content == campaign.AbandonedCart || c.Content == campaign.BackInStock {
			c.Window = []time.Duration{0, 36 * time.Hour, 3 * 24 * time.Hour}[rng.IntN(3)]
		}
		if c.Content == campaign.BackInStock {
			c.Products = []string{"no-such-product"}
			for _, p := range s.prods {
				if rng.IntN(3) == 0 {
					c.Products = append(c.Products, p.key)
				}
			}
		}
		ac := advCampaign{c: c}
		if rng.IntN(3) == 0 {
			ac.sel = map[string]bool{}
			sel := roaring.New()
			for _, k := range s.custs {
				if rng.IntN(2) == 0 {
					ac.sel[k] = true
					if id, ok := s.h.LookupCustomer(k); ok {
						sel.Add(uint32(id))
					}
				}
			}
			sel.Add(uint32(s.h.NumCustomers() + 5)) // an id the shop does not have
			ac.c.Select = func(context.Context, *shop.Snapshot, time.Time) (*roaring.Bitmap, error) { return sel.Clone(), nil }
		}
		out = append(out, ac)
	}
	return out
}

func advRandomOptions(rng *rand.Rand, s *advShop) campaign.Options {
	o := campaign.Options{Cap: []int{0, 1, 2, 3, -1}[rng.IntN(5)],
		CapWindow: []time.Duration{0, 36 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}[rng.IntN(4)]}
	w := o.CapWindow
	if w == 0 {
		w = 7 * 24 * time.Hour
	}
	edges := []time.Duration{-w, -w + time.Nanosecond, -w - time.Nanosecond, 0, time.Nanosecond, -time.Nanosecond,
		time.Hour, -time.Hour, -w / 2, 2 * w, -2 * w}
	for range rng.IntN(40) {
		k := s.custs[rng.IntN(len(s.custs))]
		if rng.IntN(8) == 0 {
			k = "unknown-" + k
		}
		m := campaign.Message{Campaign: advNames[rng.IntN(len(advNames))], Customer: k, Time: s.asOf.Add(edges[rng.IntN(len(edges))]),
			Control: rng.IntN(3) == 0}
		o.Sent = append(o.Sent, m)
		if rng.IntN(6) == 0 {
			o.Sent = append(o.Sent, m) // a duplicate
		}
	}
	for _, k := range s.custs {
		if rng.IntN(8) == 0 {
			o.OptOut = append(o.OptOut, k)
		}
	}
	o.OptOut = append(o.OptOut, "nobody-here")
	if rng.IntN(3) == 0 {
		o.OptIn = roaring.New()
		for c := range s.h.NumCustomers() {
			if rng.IntN(4) != 0 {
				o.OptIn.Add(uint32(c))
			}
		}
	}
	switch rng.IntN(3) {
	case 0:
		o.Email = func(k string) string { return "mail," + k + "@example.com" }
	case 1:
		o.Attributes = new(segment.Attributes)
		for c := range s.h.NumCustomers() {
			if rng.IntN(3) != 0 {
				if err := o.Attributes.SetText("email", affinity.CustomerID(c), fmt.Sprintf("attr-%d@example.com", c)); err != nil {
					panic(err)
				}
			}
		}
	}
	return o
}

// advZones are as-of locations: UTC, fixed offsets and one with DST.
func advZone(t *testing.T, i int) *time.Location {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	return []*time.Location{time.UTC, time.FixedZone("UTC+13:45", 13*3600+45*60), time.FixedZone("UTC-9:30", -(9*3600 + 30*60)), ny}[i%4]
}

// advAsOf returns a whole-second as-of time that is not midnight, some
// near the 2026 DST changes of New York.
func advAsOf(rng *rand.Rand, loc *time.Location) time.Time {
	days := []time.Time{
		time.Date(2026, 3, 8, 3, 30, 0, 0, loc),   // just after spring forward
		time.Date(2026, 3, 22, 1, 59, 59, 0, loc), // two weeks after it
		time.Date(2026, 11, 1, 1, 30, 0, 0, loc),  // the repeated hour
		time.Date(2026, 11, 15, 0, 0, 1, 0, loc),
		time.Date(2025, 6, 2, 17, 4, 5, 0, loc),
	}
	return days[rng.IntN(len(days))].Add(time.Duration(rng.IntN(3)) * time.Second)
}

var advStats campaign.Count

// TestAdvPlanMatchesModel builds random plans on random small shops and
// compares them, message by message and count by count, with the model.
func TestAdvPlanMatchesModel(t *testing.T) {
	seeds := testdata.Scale(60, 10)
	ctx := context.Background()
	advStats = campaign.Count{}
	defer func() {
		// the random plans go through every path of the counts
		if !t.Failed() {
			s := advStats
			t.Logf("totals %+v", s)
			assert.True(t, s.OptedOut > 0 && s.Capped > s.CappedByPlan && s.CappedByPlan > 0 && s.NoContent > 0 && s.Control > 0 && s.Treated > 0, "%+v", s)
		}
	}()
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 77))
			asOf := advAsOf(rng, advZone(t, seed))
			so := advShopOptions{customers: 40 + rng.IntN(30), hostile: seed%2 == 1, old: seed%3 == 0, future: seed%4 == 1, returns: true}
			s := so.build(t, rng, asOf)
			for round := range 3 {
				// group favourites only without orders before the look-back
				// or after the plan's time: TestAdvGroupFavouritesLookback
				// and TestAdvGroupFavouritesFuture cover those
				acs := advRandomCampaigns(rng, s, !so.old && !so.future)
				opts := advRandomOptions(rng, s)
				var cs []campaign.Campaign
				for _, ac := range acs {
					cs = append(cs, ac.c)
				}
				p, err := campaign.Build(ctx, s.snap, asOf, cs, opts)
				require.NoError(t, err, "round %d", round)
				want, wantCounts := s.modelPlan(t, acs, opts)
				require.Equal(t, wantCounts, p.Counts, "round %d", round)
				for _, c := range p.Counts {
					advStats.Audience += c.Audience
					advStats.OptedOut += c.OptedOut
					advStats.Capped += c.Capped
					advStats.CappedByPlan += c.CappedByPlan
					advStats.NoContent += c.NoContent
					advStats.Control += c.Control
					advStats.Treated += c.Treated
				}
				advCompare(t, want, p.Messages)
				assert.True(t, p.AsOf.Equal(asOf))
				advCheckInvariants(t, p, opts)
				advCheckDeterminism(t, rng, s, cs, opts, p)
				advCheckOutputs(t, p.Messages)
			}
		})
	}
}

// advCheckInvariants checks what the documentation says of every plan,
// without the model.
func advCheckInvariants(t *testing.T, p *campaign.Plan, opts campaign.Options) {
	t.Helper()
	byName := map[string]campaign.Count{}
	for _, c := range p.Counts {
		byName[c.Campaign] = c
		assert.Equal(t, c.Audience, c.OptedOut+c.Capped+c.NoContent+c.Control+c.Treated, "%+v", c)
		assert.LessOrEqual(t, c.CappedByPlan, c.Capped, "%+v", c)
	}
	control, treated := map[string]int{}, map[string]int{}
	opted := map[string]bool{}
	for _, k := range opts.OptOut {
		opted[k] = true
	}
	for _, m := range p.Messages {
		if m.Control {
			control[m.Campaign]++
		} else {
			treated[m.Campaign]++
		}
		// assert only on a failure: t.Helper costs more than the checks
		if opted[m.Customer] {
			assert.False(t, opted[m.Customer], "opted-out %q in the plan", m.Customer)
		}
		if opts.OptIn != nil && !opts.OptIn.Contains(uint32(m.ID)) {
			assert.True(t, opts.OptIn.Contains(uint32(m.ID)), "%q not opted in", m.Customer)
		}
	}
	for name, c := range byName {
		assert.Equal(t, c.Control, control[name], name)
		assert.Equal(t, c.Treated, treated[name], name)
	}
	var sent []campaign.Message
	for _, m := range p.Messages {
		if !m.Control {
			sent = append(sent, m)
		}
	}
	assert.Equal(t, sent, p.Sent())
	// the cap, over every window that ends at the plan's time
	if capN, per := capModel(opts, p.AsOf); capN > 0 {
		inPlan := map[string]int{}
		for _, m := range p.Messages {
			inPlan[m.Customer]++
		}
		for k, n := range inPlan {
			if n+per[k] > max(capN, per[k]) {
				assert.LessOrEqual(t, n+per[k], max(capN, per[k]), "%q: %d in the plan, %d past sends in the window, cap %d", k, n, per[k], capN)
			}
			if per[k] >= capN && n != 0 {
				assert.Zero(t, n, "%q already at the cap", k)
			}
		}
	}
}

// advCheckDeterminism rebuilds p with the campaigns and past sends
// shuffled and checks byte-identical outputs.
func advCheckDeterminism(t *testing.T, rng *rand.Rand, s *advShop, cs []campaign.Campaign, opts campaign.Options, p *campaign.Plan) {
	t.Helper()
	cs2 := slices.Clone(cs)
	rng.Shuffle(len(cs2), func(i, j int) { cs2[i], cs2[j] = cs2[j], cs2[i] })
	o2 := opts
	o2.Sent = slices.Clone(opts.Sent)
	rng.Shuffle(len(o2.Sent), func(i, j int) { o2.Sent[i], o2.Sent[j] = o2.Sent[j], o2.Sent[i] })
	o2.OptOut = slices.Clone(opts.OptOut)
	slices.Reverse(o2.OptOut)
	p2, err := campaign.Build(context.Background(), s.snap, s.asOf, cs2, o2)
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&a, p.Messages))
	require.NoError(t, campaign.WriteCSV(&b, p2.Messages))
	assert.Equal(t, a.String(), b.String(), "CSV differs after shuffling campaigns and past sends")
	a.Reset()
	b.Reset()
	require.NoError(t, campaign.WriteJSON(&a, p.Messages))
	require.NoError(t, campaign.WriteJSON(&b, p2.Messages))
	assert.Equal(t, a.String(), b.String(), "JSON differs after shuffling campaigns and past sends")
	assert.Equal(t, p.Counts, p2.Counts)
}

// advJoinList joins a CSV list as WriteCSV's doc says: "|" between the
// items, a "\" before each "|" or "\" inside one.
func advJoinList(items []string) string {
	esc := make([]string, len(items))
	for i, s := range items {
		esc[i] = strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "|", `\|`)
	}
	return strings.Join(esc, "|")
}

// advCheckOutputs round-trips msgs through WriteCSV and encoding/csv, and
// WriteJSON and ReadJSON.
func advCheckOutputs(t *testing.T, msgs []campaign.Message) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&buf, msgs))
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(msgs)+1)
	assert.Equal(t, []string{"campaign", "customer", "email", "control", "offer", "time", "products", "names", "reasons"}, recs[0])
	for i, m := range msgs {
		// assert only on a failure: t.Helper costs more than the checks
		r := recs[i+1]
		if len(r) != 9 {
			require.Len(t, r, 9)
		}
		var keys, names, reasons []string
		for _, it := range m.Items {
			keys, names, reasons = append(keys, it.Product), append(names, it.Name), append(reasons, it.Reason)
		}
		// text a spreadsheet would run as a formula has an apostrophe
		// before it
		cell := csvtext.Cell
		if want := []string{cell(m.Campaign), cell(m.Customer), cell(m.Email), strconv.FormatBool(m.Control), cell(m.Offer),
			m.Time.UTC().Format(time.RFC3339), cell(advJoinList(keys)), cell(advJoinList(names)), cell(advJoinList(reasons))}; !slices.Equal(want, r) {
			assert.Equal(t, want, r)
		}
		tm, err := time.Parse(time.RFC3339, r[5])
		if err != nil || !tm.Equal(m.Time.Truncate(time.Second)) {
			if assert.NoError(t, err) {
				assert.True(t, tm.Equal(m.Time.Truncate(time.Second)), "%v vs %v", tm, m.Time)
			}
		}
	}
	buf.Reset()
	require.NoError(t, campaign.WriteJSON(&buf, msgs))
	assert.True(t, json.Valid(buf.Bytes()))
	back, err := campaign.ReadJSON(&buf)
	require.NoError(t, err)
	require.Len(t, back, len(msgs))
	if len(msgs) == 0 {
		return
	}
	for i := range back {
		if !back[i].Time.Equal(msgs[i].Time) {
			assert.True(t, back[i].Time.Equal(msgs[i].Time))
		}
		back[i].Time = msgs[i].Time
		back[i].ID = msgs[i].ID // not in the JSON
		if back[i].Items == nil && msgs[i].Items != nil && len(msgs[i].Items) == 0 {
			back[i].Items = msgs[i].Items
		}
	}
	assert.Equal(t, msgs, back)
}

// advHand returns a hand-made shop as of asOf with products p0..p5 and
// the given orders and events.
func advHand(t *testing.T, asOf time.Time, orders []advOrder, events []advEvent) *advShop {
	t.Helper()
	s := &advShop{asOf: asOf, lookback: affinity.Months(24).Start(asOf), orders: orders, events: events}
	for i := range 6 {
		s.prods = append(s.prods, advProduct{key: fmt.Sprintf("p%d", i), name: fmt.Sprintf("Product %d", i), cats: []string{"A/B"}})
	}
	seen := map[string]bool{}
	for _, o := range orders {
		if !seen[o.cust] {
			seen[o.cust] = true
			s.custs = append(s.custs, o.cust)
		}
	}
	for _, e := range events {
		if !seen[e.cust] {
			seen[e.cust] = true
			s.custs = append(s.custs, e.cust)
		}
	}
	s.open(t)
	return s
}

func advBuy(cust string, t time.Time, prods ...string) advOrder {
	o := advOrder{cust: cust, t: t}
	for _, p := range prods {
		o.lines = append(o.lines, advLine{p, 1})
	}
	return o
}

func advItemKeys(m campaign.Message) []string {
	var out []string
	for _, it := range m.Items {
		out = append(out, it.Product)
	}
	return out
}

func advFind(p *campaign.Plan, name, cust string) (campaign.Message, bool) {
	for _, m := range p.Messages {
		if m.Campaign == name && m.Customer == cust {
			return m, true
		}
	}
	return campaign.Message{}, false
}

// TestAdvGroupFavouritesLookback: GroupFavourites is documented as "the
// products bought by the most members of the campaign's audience in the
// segment look-back". Purchases from before the look-back (24 months by
// default) must not count.
func TestAdvGroupFavouritesLookback(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	old, recent := asOf.AddDate(-3, 0, 0), asOf.Add(-2*24*time.Hour)
	s := advHand(t, asOf, []advOrder{
		advBuy("a", old, "p0"), advBuy("a", recent, "p1"),
		advBuy("b", old, "p0"), advBuy("b", recent, "p1"),
		advBuy("c", old, "p0"), advBuy("c", recent, "p1"),
		advBuy("d", recent, "p2"),
	}, nil)
	c := campaign.Campaign{Name: "group", Content: campaign.GroupFavourites, K: 1, Control: -1}
	p, err := campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	m, ok := advFind(p, "group", "d")
	require.True(t, ok)
	// in the look-back p1 has 3 buyers, p2 1 (d's own) and p0 none
	assert.Equal(t, []string{"p1"}, advItemKeys(m), "d's group favourite; reason %q", m.Items[0].Reason)
}

// TestAdvGroupFavouritesFuture: a snapshot as of an earlier time than
// the History's last order (shop.Options.AsOf) plans as of that time;
// GroupFavourites must neither count the purchases after it nor leave
// out a product because the customer buys it later.
func TestAdvGroupFavouritesFuture(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recent, later := asOf.Add(-2*24*time.Hour), asOf.Add(3*24*time.Hour)
	s := advHand(t, asOf, []advOrder{
		advBuy("a", recent, "p1"), advBuy("a", later, "p0"),
		advBuy("b", recent, "p1"), advBuy("b", later, "p0"),
		advBuy("c", recent, "p1"), advBuy("c", later, "p0"),
		advBuy("d", recent, "p2"), advBuy("d", later, "p1"),
	}, nil)
	c := campaign.Campaign{Name: "group", Content: campaign.GroupFavourites, K: 1, Control: -1}
	p, err := campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	m, ok := advFind(p, "group", "d")
	require.True(t, ok, "d has a group favourite as of the plan's time (p1, bought by 3 by then): %+v", p.Counts)
	assert.Equal(t, []string{"p1"}, advItemKeys(m), "reason %q", m.Items[0].Reason)
	assert.Contains(t, m.Items[0].Reason, "3 of the 4", "the count as of the plan's time")
}

// TestAdvThankYouAfterReturn: ThankYou is "customers whose last purchase
// was 0 to 7 whole days before the plan's time ... with up to four
// complements of that order". A return (an order of negative lines
// alone) after the purchase is not a purchase: the customer is still due
// (recency counts bought orders), and the complements are those of the
// purchase. The demo's thank-you customer is given such a return.
func TestAdvThankYouAfterReturn(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	asOf := snap.AsOf()
	h := snap.History()
	ty := campaign.ThankYou()
	ty.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{ty}, campaign.Options{})
	require.NoError(t, err)
	var who campaign.Message
	var ret affinity.Purchase
	for _, m := range p.Messages {
		last, ok := h.LastPurchase(m.ID)
		if !ok || !last.Before(asOf.Add(-2*time.Hour)) {
			continue
		}
		lo, hi := h.CustomerOrders(m.ID)
		l0, _ := h.OrderLines(lo)
		if hi > lo && h.LineQuantity(l0) > 0 {
			who = m
			ln := h.Line(l0)
			ret = affinity.Purchase{Customer: m.Customer, Product: h.Catalog().ProductKey(ln.Product), Order: "adv-return",
				Time: asOf.Add(-time.Hour), Quantity: -1, Price: ln.Price}
			break
		}
	}
	require.NotEmpty(t, who.Customer, "no thank-you customer to give a return to")
	b := affinity.NewBuilder(h)
	require.NoError(t, b.Add(ret))
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	sh, err := shop.OpenHistory(ctx, h2, shop.Options{AsOf: asOf, Model: "neighbours"})
	require.NoError(t, err)
	t.Cleanup(sh.Close)
	snap2 := sh.Snapshot()
	last2, ok := snap2.History().LastPurchase(who.ID)
	require.True(t, ok)
	require.True(t, last2.Before(ret.Time), "the return is not a purchase")
	p2, err := campaign.Build(ctx, snap2, asOf, []campaign.Campaign{ty}, campaign.Options{})
	require.NoError(t, err)
	got, ok := advFind(p2, "thank-you", who.Customer)
	require.True(t, ok, "%q, due (last purchase %v), was left out after returning %s at %v: counts %+v before, %+v after",
		who.Customer, last2, ret.Product, ret.Time, p.Counts, p2.Counts)
	assert.NotEmpty(t, got.Items)
}

// TestAdvCapEdges: the cap window is (asOf − CapWindow, asOf], past
// sends count per entry and by shop key, control entries count, sends
// after the plan's time and unknown customers do not.
func TestAdvCapEdges(t *testing.T) {
	asOf := time.Date(2026, 3, 8, 3, 30, 0, 0, advZone(t, 3)) // New York, just after spring forward
	var orders []advOrder
	for _, c := range []string{"edge", "inside", "future", "dup", "control", "free", "in-utc"} {
		orders = append(orders, advBuy(c, asOf.Add(-48*time.Hour), "p0"))
	}
	s := advHand(t, asOf, orders, nil)
	w := 7 * 24 * time.Hour
	sent := []campaign.Message{
		{Campaign: "x", Customer: "edge", Time: asOf.Add(-w)},                                   // out: the window is open there
		{Campaign: "x", Customer: "inside", Time: asOf.Add(-w + time.Nanosecond)},               // in
		{Campaign: "x", Customer: "future", Time: asOf.Add(time.Nanosecond)},                    // out: after the plan
		{Campaign: "x", Customer: "dup", Time: asOf.Add(-time.Hour)},                            // in, twice
		{Campaign: "x", Customer: "dup", Time: asOf.Add(-time.Hour)},                            //
		{Campaign: "x", Customer: "control", Time: asOf, Control: true},                         // in: control counts, asOf included
		{Campaign: "x", Customer: "in-utc", Time: asOf.UTC().Add(-w).Add(time.Second)},          // in, another location
		{Campaign: "x", Customer: "nobody", Time: asOf.Add(-time.Hour)},                         // unknown
		{Campaign: "x", Customer: "free", Time: asOf.Add(-w).Add(-24 * time.Hour).In(time.UTC)}, // out
	}
	c := campaign.Campaign{Name: "all", Control: -1}
	for _, tc := range []struct {
		cap  int
		want []string
	}{
		{0, []string{"edge", "free", "future"}},
		{1, []string{"edge", "free", "future"}},
		{2, []string{"control", "edge", "free", "future", "in-utc", "inside"}},
		{3, []string{"control", "dup", "edge", "free", "future", "in-utc", "inside"}},
		{-1, []string{"control", "dup", "edge", "free", "future", "in-utc", "inside"}},
	} {
		t.Run(fmt.Sprint("cap", tc.cap), func(t *testing.T) {
			p, err := campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{Cap: tc.cap, Sent: sent})
			require.NoError(t, err)
			var got []string
			for _, m := range p.Messages {
				got = append(got, m.Customer)
			}
			assert.Equal(t, tc.want, got)
			require.Len(t, p.Counts, 1)
			assert.Equal(t, 7-len(tc.want), p.Counts[0].Capped)
			assert.Zero(t, p.Counts[0].CappedByPlan)
		})
	}
}

// TestAdvControlModel: InControl is the documented hash, exactly, on
// hostile keys and shares; a plan's control rows are InControl's, the
// share is near the campaign's, and a customer keeps their group from one
// week's plan to the next.
func TestAdvControlModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	keys := slices.Clone(advHostileKeys)
	keys = append(keys, "", "\x00", "a\x00b", "bad\xffutf8")
	for i := range 2000 {
		keys = append(keys, fmt.Sprintf("c%06d", i), strconv.Itoa(rng.Int()))
	}
	shares := []float64{-1, 0, 1e-9, 0.01, 0.1, 0.25, 0.5, 0.9, 0.999999, math.Nextafter(1, 0)}
	for _, name := range append(slices.Clone(advNames), "", "coupon") {
		for _, k := range keys {
			sh := shares[rng.IntN(len(shares))]
			if want, got := advControl(name, k, sh), campaign.InControl(name, k, sh); want != got { // require only on a failure: t.Helper costs more than InControl
				require.Equal(t, want, got, "%q %q %v", name, k, sh)
			}
		}
	}

	// a week apart, with the customers' groups compared
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var orders []advOrder
	for i := range 400 {
		orders = append(orders, advBuy(fmt.Sprintf("k%03d", i), start.Add(-time.Duration(1+i%20)*24*time.Hour), "p0"))
	}
	c := campaign.Campaign{Name: "weekly", Control: 0.3}
	groups := map[string]bool{}
	for week := range 2 {
		asOf := start.AddDate(0, 0, 7*week)
		s := advHand(t, asOf, orders, nil)
		p, err := campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
		require.NoError(t, err)
		require.Len(t, p.Messages, 400)
		in := 0
		for _, m := range p.Messages {
			if week == 0 {
				groups[m.Customer] = m.Control
			} else {
				assert.Equal(t, groups[m.Customer], m.Control, "%s changed group", m.Customer)
			}
			if m.Control {
				in++
			}
		}
		assert.InDelta(t, 0.3, float64(in)/400, 4*sqrtShare(0.3, 400))
		assert.Equal(t, in, p.Counts[0].Control)
	}
}

// TestAdvErrors: invalid arguments give errors, never panics.
func TestAdvErrors(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := advHand(t, asOf, []advOrder{advBuy("a", asOf.Add(-time.Hour), "p0")}, nil)
	ok := campaign.Campaign{Name: "ok"}
	nilSel := campaign.Campaign{Name: "nil-select", Select: func(context.Context, *shop.Snapshot, time.Time) (*roaring.Bitmap, error) { return nil, nil }}
	errSel := campaign.Campaign{Name: "err-select", Select: func(context.Context, *shop.Snapshot, time.Time) (*roaring.Bitmap, error) {
		return nil, errors.New("boom")
	}}
	var nilCtx context.Context
	for _, tc := range []struct {
		name string
		ctx  context.Context
		at   time.Time
		cs   []campaign.Campaign
		opts campaign.Options
		is   error
	}{
		{"nil context", nilCtx, asOf, []campaign.Campaign{ok}, campaign.Options{}, affinity.ErrNilArgument},
		{"zero time", ctx, time.Time{}, []campaign.Campaign{ok}, campaign.Options{}, affinity.ErrNoAsOf},
		{"other time", ctx, asOf.Add(time.Nanosecond), []campaign.Campaign{ok}, campaign.Options{}, nil},
		{"negative window", ctx, asOf, []campaign.Campaign{ok}, campaign.Options{CapWindow: -time.Nanosecond}, nil},
		{"K too large", ctx, asOf, []campaign.Campaign{{Name: "k", K: shop.MaxK + 1}}, campaign.Options{}, nil},
		{"control NaN", ctx, asOf, []campaign.Campaign{{Name: "c", Control: math.NaN()}}, campaign.Options{}, nil},
		{"control 1", ctx, asOf, []campaign.Campaign{{Name: "c", Control: 1}}, campaign.Options{}, nil},
		{"negative window of a campaign", ctx, asOf, []campaign.Campaign{{Name: "w", Window: -1}}, campaign.Options{}, nil},
		{"negative days", ctx, asOf, []campaign.Campaign{{Name: "d", Schedule: campaign.Schedule{MinDays: -1}}}, campaign.Options{}, nil},
		{"unknown content", ctx, asOf, []campaign.Campaign{{Name: "u", Content: 99}}, campaign.Options{}, nil},
		{"negative content", ctx, asOf, []campaign.Campaign{{Name: "u", Content: -1}}, campaign.Options{}, nil},
		{"bad query", ctx, asOf, []campaign.Campaign{{Name: "q", Audience: "recency between"}}, campaign.Options{}, nil},
		{"duplicate", ctx, asOf, []campaign.Campaign{ok, ok}, campaign.Options{}, nil},
		{"select error", ctx, asOf, []campaign.Campaign{errSel}, campaign.Options{}, nil},
		{"select nil bitmap", ctx, asOf, []campaign.Campaign{nilSel}, campaign.Options{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = campaign.Build(tc.ctx, s.snap, tc.at, tc.cs, tc.opts) })
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "campaign"), "error %q without its package", err)
		})
	}
	// the same instant in another location is the snapshot's time
	p, err := campaign.Build(ctx, s.snap, asOf.In(time.FixedZone("X", -7*3600)), []campaign.Campaign{ok}, campaign.Options{})
	require.NoError(t, err)
	assert.Len(t, p.Messages, 1)
	// no campaigns: an empty plan, written as an empty list
	p, err = campaign.Build(ctx, s.snap, asOf, nil, campaign.Options{})
	require.NoError(t, err)
	assert.Empty(t, p.Messages)
	var buf bytes.Buffer
	require.NoError(t, campaign.WriteJSON(&buf, p.Messages))
	assert.Equal(t, "[]\n", buf.String())
}

// TestAdvJSONRoundTripKeys: ReadJSON of WriteJSON is the past sends of
// the next plan (Options.Sent), matched by customer key. Valid UTF-8 keys,
// however awkward, survive it, so that the next plan respects the cap. A
// shop key that is not valid UTF-8 (shop exports in Latin-1) cannot be
// carried by JSON unchanged: WriteJSON refuses it, naming the key, and
// writes nothing, rather than lose the cap silently; ReadJSON refuses
// input that is not UTF-8 for the same reason. WriteCSV keeps the bytes.
func TestAdvJSONRoundTripKeys(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	keys := []string{"Jos\xe9", "plain", "ünï", "a\"b,c\nd"}
	var orders []advOrder
	for _, k := range keys {
		orders = append(orders, advBuy(k, asOf.Add(-time.Hour), "p0"))
	}
	s := advHand(t, asOf, orders, nil)
	c := campaign.Campaign{Name: "once", Control: -1}
	p, err := campaign.Build(ctx, s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	require.Len(t, p.Messages, len(keys))

	// the Latin-1 key: an error naming it, nothing written
	var buf bytes.Buffer
	err = campaign.WriteJSON(&buf, p.Messages)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"Jos\xe9"`, "the offending key, quoted")
	assert.Contains(t, err.Error(), "WriteCSV")
	assert.True(t, strings.HasPrefix(err.Error(), "campaign"), "error %q without its package", err)
	assert.Zero(t, buf.Len(), "nothing written")
	// nor an invalid product key, name or reason
	for _, bad := range []campaign.Item{{Product: "p\xff"}, {Product: "p", Name: "n\xff"}, {Product: "p", Reason: "r\xff"}} {
		m := campaign.Message{Campaign: "once", Customer: "plain", Items: []campaign.Item{bad}}
		err := campaign.WriteJSON(&buf, []campaign.Message{m})
		require.Error(t, err, "%+v", bad)
		assert.Contains(t, err.Error(), "\\xff", "%+v", bad)
	}
	// WriteCSV keeps the bytes
	var cbuf bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&cbuf, p.Messages))
	recs, err := csv.NewReader(&cbuf).ReadAll()
	require.NoError(t, err)
	var csvKeys []string
	for _, r := range recs[1:] {
		csvKeys = append(csvKeys, r[1])
	}
	assert.ElementsMatch(t, keys, csvKeys)
	// ReadJSON of input that is not UTF-8
	_, err = campaign.ReadJSON(strings.NewReader(`[{"campaign":"once","customer":"Jos` + "\xe9" + `"}]`))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "campaign"), "error %q without its package", err)

	// the valid keys round-trip and keep the cap
	valid := slices.DeleteFunc(slices.Clone(p.Messages), func(m campaign.Message) bool { return m.Customer == "Jos\xe9" })
	require.Len(t, valid, len(keys)-1)
	buf.Reset()
	require.NoError(t, campaign.WriteJSON(&buf, valid))
	past, err := campaign.ReadJSON(&buf)
	require.NoError(t, err)
	p2, err := campaign.Build(ctx, s.snap, asOf, []campaign.Campaign{c}, campaign.Options{Sent: past})
	require.NoError(t, err)
	got := make([]string, 0, len(p2.Messages))
	for _, m := range p2.Messages {
		got = append(got, m.Customer)
	}
	assert.Equal(t, []string{"Jos\xe9"}, got, "only the customer left out of the JSON is contacted again")
}

// TestAdvScheduleShopWithoutAsOf: a shop opened without Options.AsOf has
// snapshots as of their last order, and Build takes that time; its
// segment index is as of the end of that day (UTC), and the Schedule
// counts whole days as that index counts recency, from there (see
// Schedule). With the plan at 09:00, a purchase 13 days and 20 hours
// before it is 14 d 10:59:59 before the end of the day, so 14 days old
// and due for 14 to 28; one 28 d 20 h before it is 29 days old and not.
// Counting from the plan's time instead would give the opposite.
func TestAdvScheduleShopWithoutAsOf(t *testing.T) {
	ctx := context.Background()
	latest := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "last", Product: "p0", Time: latest, Quantity: 1, Price: 10_0000}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "young", Product: "p0", Time: latest.Add(-(13*24 + 20) * time.Hour), Quantity: 1, Price: 10_0000}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "old", Product: "p0", Time: latest.Add(-(28*24 + 20) * time.Hour), Quantity: 1, Price: 10_0000}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	sh, err := shop.OpenHistory(ctx, h, shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	t.Cleanup(sh.Close)
	snap := sh.Snapshot()
	require.True(t, snap.AsOf().Equal(latest))
	c := campaign.Campaign{Name: "coupon", Schedule: campaign.Schedule{MinDays: 14, MaxDays: 28}, Control: -1}
	p, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	var got []string
	for _, m := range p.Messages {
		got = append(got, m.Customer)
	}
	// "young" bought 13 d 20 h before the plan's time (14 whole days
	// before the end of its day), "old" 28 d 20 h (29 whole days)
	require.True(t, snap.Segments().AsOf().Equal(time.Date(2026, 3, 2, 23, 59, 59, 0, time.UTC)))
	assert.Equal(t, []string{"young"}, got, "due for 14..28 whole days before the end of the day of %v (segment index as of %v)", snap.AsOf(), snap.Segments().AsOf())
	// the same orders in a shop with a fixed AsOf count from 09:00 itself
	fixed, err := shop.OpenHistory(ctx, h, shop.Options{AsOf: latest, Model: "neighbours"})
	require.NoError(t, err)
	t.Cleanup(fixed.Close)
	p, err = campaign.Build(ctx, fixed.Snapshot(), latest, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	got = got[:0]
	for _, m := range p.Messages {
		got = append(got, m.Customer)
	}
	assert.Equal(t, []string{"old"}, got, "13 and 28 whole days before %v", latest)
}

// TestAdvAbandonedCartWindow: AbandonedCartReminder is "an add-to-cart in
// the 7 days before the plan's time of a product they have not bought
// since". Carts just inside and just outside the 7 days, with a
// non-midnight as-of time.
func TestAdvAbandonedCartWindow(t *testing.T) {
	asOf := time.Date(2026, 3, 8, 15, 45, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	cart := func(c string, at time.Time) advEvent {
		return advEvent{cust: c, prod: "p1", t: at, kind: affinity.Cart}
	}
	s := advHand(t, asOf, []advOrder{
		advBuy("bought-after", asOf.Add(-time.Hour), "p1"),
		advBuy("bought-same-second", asOf.Add(-2*time.Hour), "p1"),
	}, []advEvent{
		cart("inside", asOf.Add(-week+time.Second)),
		cart("at-edge", asOf.Add(-week)),
		cart("half-day-out", asOf.Add(-week-12*time.Hour)),
		cart("now", asOf),
		cart("bought-after", asOf.Add(-3*time.Hour)),
		cart("bought-same-second", asOf.Add(-2*time.Hour)),
		cart("future", asOf.Add(time.Second)),
	})
	ac := campaign.AbandonedCartReminder()
	ac.Control = -1
	p, err := campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{ac}, campaign.Options{})
	require.NoError(t, err)
	var got []string
	for _, m := range p.Messages {
		got = append(got, m.Customer)
		assert.Equal(t, []string{"p1"}, advItemKeys(m))
	}
	assert.Equal(t, []string{"inside", "now"}, got)
	require.Len(t, p.Counts, 1)
	assert.Zero(t, p.Counts[0].NoContent, "the audience holds customers the content rule finds no cart for: %+v", p.Counts[0])
}

// TestAdvEmptyShops: a shop without orders (empty, or with events only)
// plans nobody for schedules, and the built-ins do not fail.
func TestAdvEmptyShops(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		events []advEvent
	}{
		{"empty", nil},
		{"events only", []advEvent{{cust: "v", prod: "p0", t: asOf.Add(-time.Hour), kind: affinity.Cart}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := advHand(t, asOf, nil, tc.events)
			cs := append(campaign.Builtins(false), campaign.BackInStockAlert("p0"))
			var p *campaign.Plan
			var err error
			require.NotPanics(t, func() { p, err = campaign.Build(ctx, s.snap, asOf, cs, campaign.Options{}) })
			require.NoError(t, err)
			for _, c := range p.Counts {
				assert.Equal(t, c.Audience, c.OptedOut+c.Capped+c.NoContent+c.Control+c.Treated, "%+v", c)
				if c.Campaign == "coupon" || c.Campaign == "thank-you" {
					assert.Zero(t, c.Audience, c.Campaign)
				}
			}
			var buf bytes.Buffer
			require.NoError(t, campaign.WriteCSV(&buf, p.Messages))
			recs, err := csv.NewReader(&buf).ReadAll()
			require.NoError(t, err)
			assert.Len(t, recs, 1+len(p.Messages))
		})
	}
}

// TestAdvDemoInvariants plans the built-ins on the demo shop with random
// options, past sends taken from an earlier plan, and checks what holds
// whatever the content rules find: counts, cap, opt-out, control groups,
// determinism and the outputs.
func TestAdvDemoInvariants(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	asOf := snap.AsOf()
	h := snap.History()
	cs := append(campaign.Builtins(false), campaign.BackInStockAlert(recentlyViewed(snap, 20)...))
	first, err := campaign.Build(ctx, snap, asOf, cs, campaign.Options{Cap: -1})
	require.NoError(t, err)
	require.NotEmpty(t, first.Messages)
	rng := rand.New(rand.NewPCG(11, 12))
	for round := range testdata.Scale(6, 1) {
		opts := campaign.Options{Cap: []int{0, 1, 2, -1}[rng.IntN(4)], CapWindow: []time.Duration{0, 48 * time.Hour}[rng.IntN(2)]}
		for _, m := range first.Messages {
			if rng.IntN(4) == 0 {
				m.Time = asOf.Add(-time.Duration(rng.Int64N(int64(9 * 24 * time.Hour))))
				opts.Sent = append(opts.Sent, m)
			}
			if rng.IntN(20) == 0 {
				opts.OptOut = append(opts.OptOut, m.Customer)
			}
		}
		p, err := campaign.Build(ctx, snap, asOf, cs, opts)
		require.NoError(t, err, "round %d", round)
		advCheckInvariants(t, p, opts)
		advCheckDeterminism(t, rng, &advShop{snap: snap, asOf: asOf, h: h}, cs, opts, p)
		advCheckOutputs(t, p.Messages)
		for _, m := range p.Messages {
			// assert only on a failure: t.Helper costs more than the checks
			if want := advControl(m.Campaign, m.Customer, campaign.DefaultControl); want != m.Control || h.CustomerKey(m.ID) != m.Customer || len(m.Items) > 4 {
				assert.Equal(t, want, m.Control, "%s %s", m.Campaign, m.Customer)
				assert.Equal(t, h.CustomerKey(m.ID), m.Customer)
				assert.LessOrEqual(t, len(m.Items), 4)
			}
		}
		// priority order of the counts and of the messages
		order := map[string]int{}
		for i, c := range p.Counts {
			order[c.Campaign] = i
		}
		for i := 1; i < len(p.Messages); i++ {
			a, b := p.Messages[i-1], p.Messages[i]
			if ok := order[a.Campaign] < order[b.Campaign] || (a.Campaign == b.Campaign && a.Customer < b.Customer); !ok {
				assert.True(t, ok, "%d: %s %s before %s %s", i, a.Campaign, a.Customer, b.Campaign, b.Customer)
			}
		}
	}
}

// TestAdvGroupFavouritesHeavyBuyer: GroupFavourites sends "the products
// bought by the most members of the campaign's audience ... leaving out
// those the customer already bought". A customer who already bought the
// most popular products still gets the next ones (wholesale customers of
// a large catalog buy hundreds of products).
func TestAdvGroupFavouritesHeavyBuyer(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := &advShop{asOf: asOf, lookback: affinity.Months(24).Start(asOf)}
	var all []string
	for i := range 80 {
		k := fmt.Sprintf("q%02d", i)
		all = append(all, k)
		s.prods = append(s.prods, advProduct{key: k, name: "Q " + k, cats: []string{"A/B"}})
	}
	s.orders = []advOrder{
		advBuy("whale", asOf.Add(-48*time.Hour), all[:75]...),
		advBuy("shark", asOf.Add(-48*time.Hour), all[:75]...),
		advBuy("minnow", asOf.Add(-48*time.Hour), "q79"),
	}
	s.custs = []string{"whale", "shark", "minnow"}
	s.open(t)
	for _, k := range []int{1, 4} {
		c := campaign.Campaign{Name: "group", Content: campaign.GroupFavourites, K: k, Control: -1}
		p, err := campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
		require.NoError(t, err)
		m, ok := advFind(p, "group", "whale")
		if assert.True(t, ok, "K=%d: whale left out: %+v", k, p.Counts) {
			assert.Equal(t, []string{"q79"}, advItemKeys(m), "K=%d", k)
		}
	}
}

// TestAdvFavouritesCategory: Favourites recommends "from the customer's
// favourite category: the top level-two category (or top level-one when
// the tree is flat) of their spend in the segment look-back". On the
// demo, every item of the coupon and win-back messages is in the
// customer's favourite, computed from the raw orders.
func TestAdvFavouritesCategory(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	asOf := snap.AsOf()
	h := snap.History()
	cat := h.Catalog()
	// the segment index's look-back: from its own as-of time (the end of
	// the day for the demo, a shop without a fixed AsOf)
	start := snap.Segments().Options().Lookback.Start(snap.Segments().AsOf())
	top2 := func(path string) string {
		parts := strings.Split(path, "/")
		return strings.Join(parts[:min(2, len(parts))], "/")
	}
	fav := func(c affinity.CustomerID) (string, bool) {
		spend := map[string]int64{}
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			if t := h.OrderTime(o); t.After(asOf) || !t.After(start) {
				continue
			}
			l0, l1 := h.OrderLines(o)
			for i := l0; i < l1; i++ {
				ln := h.Line(i)
				pr := cat.Product(ln.Product)
				if ln.Quantity <= 0 || snap.IsNonMerchandise(pr.Key) {
					continue
				}
				seen := map[string]bool{}
				for _, path := range pr.Categories {
					if k := top2(path); !seen[k] {
						seen[k] = true
						spend[k] += int64(ln.Value())
					}
				}
			}
		}
		best, bestV, tie := "", int64(0), false
		for k, v := range spend {
			switch {
			case v > bestV:
				best, bestV, tie = k, v, false
			case v == bestV:
				tie = true
			}
		}
		return best, best != "" && !tie
	}
	cs := []campaign.Campaign{campaign.Coupon(), campaign.WinBack()}
	p, err := campaign.Build(ctx, snap, asOf, cs, campaign.Options{Cap: -1})
	require.NoError(t, err)
	checked := 0
	for _, m := range p.Messages {
		f, ok := fav(m.ID)
		if !ok {
			continue
		}
		checked++
		for _, it := range m.Items {
			pid, found := cat.LookupProduct(it.Product)
			require.True(t, found)
			in := slices.ContainsFunc(cat.Product(pid).Categories, func(path string) bool {
				return path == f || strings.HasPrefix(path, f+"/")
			})
			assert.True(t, in, "%s %s: %s (%v) outside the favourite %q", m.Campaign, m.Customer, it.Product, cat.Product(pid).Categories, f)
		}
	}
	assert.Positive(t, checked)
}

// TestAdvDeletedAndChangedOrders: orders deleted or replaced through
// Builder.DeleteOrder and PutOrder (an order feed on top of a History)
// are gone from the plan: schedules, group favourites and carts follow the
// orders as they stand, as in a History built from them alone.
func TestAdvDeletedAndChangedOrders(t *testing.T) {
	ctx := context.Background()
	for seed := range testdata.Scale(20, 4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 99))
			asOf := advAsOf(rng, advZone(t, seed))
			s := advShopOptions{customers: 40, returns: true}.build(t, rng, asOf)
			b := affinity.NewBuilder(s.h)
			var kept []advOrder
			for i, o := range s.orders {
				key := fmt.Sprintf("o%d", i)
				switch rng.IntN(4) {
				case 0:
					require.NoError(t, b.DeleteOrder(key, 1))
				case 1:
					o.t = o.t.Add(-time.Duration(rng.IntN(3*advDay)) * time.Second)
					o.lines = []advLine{{s.prods[rng.IntN(len(s.prods)-1)].key, 1}}
					var lines []affinity.Purchase
					for _, l := range o.lines {
						lines = append(lines, affinity.Purchase{Customer: o.cust, Product: l.prod, Order: key, Time: o.t, Quantity: l.qty, Price: affinity.Money(10_0000)})
					}
					require.NoError(t, b.PutOrder(key, 1, lines))
					kept = append(kept, o)
				default:
					kept = append(kept, o)
				}
			}
			h, err := b.Build(ctx)
			require.NoError(t, err)
			sh, err := shop.OpenHistory(ctx, h, shop.Options{AsOf: asOf, Model: "neighbours", Workers: 1})
			require.NoError(t, err)
			t.Cleanup(sh.Close)
			s.orders, s.snap, s.h = kept, sh.Snapshot(), h
			for round := range 3 {
				acs := advRandomCampaigns(rng, s, true)
				opts := advRandomOptions(rng, s)
				var cs []campaign.Campaign
				for _, ac := range acs {
					cs = append(cs, ac.c)
				}
				p, err := campaign.Build(ctx, s.snap, asOf, cs, opts)
				require.NoError(t, err, "round %d", round)
				want, wantCounts := s.modelPlan(t, acs, opts)
				require.Equal(t, wantCounts, p.Counts, "round %d", round)
				advCompare(t, want, p.Messages)
			}
		})
	}
}

// TestAdvConcurrentBuilds: Build shares nothing; plans built at once on
// one snapshot, with the same options, equal the one built alone.
func TestAdvConcurrentBuilds(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	asOf := advAsOf(rng, advZone(t, 1))
	s := advShopOptions{customers: 60, hostile: true, returns: true}.build(t, rng, asOf)
	acs := advRandomCampaigns(rng, s, true)
	var cs []campaign.Campaign
	for _, ac := range acs {
		cs = append(cs, ac.c)
	}
	cs = append(cs, campaign.ThankYou(), campaign.Coupon(), campaign.GroupFavouritesFor("new", "frequency = 1"))
	opts := advRandomOptions(rng, s)
	want, err := campaign.Build(ctx, s.snap, asOf, cs, opts)
	require.NoError(t, err)
	const n = 4
	plans, errs := make([]*campaign.Plan, n), make([]error, n)
	done := make(chan int)
	for i := range n {
		go func() {
			plans[i], errs[i] = campaign.Build(ctx, s.snap, asOf, cs, opts)
			done <- i
		}()
	}
	for range n {
		<-done
	}
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, want, plans[i], "plan %d", i)
	}
}

// TestAdvScheduleLongAgo: recency counts purchases "at any time up to
// asOf", beyond the look-back too; schedules of years and absurd bounds
// work.
func TestAdvScheduleLongAgo(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := advHand(t, asOf, []advOrder{
		advBuy("recent", asOf.Add(-3*24*time.Hour), "p0"),
		advBuy("two-years", asOf.Add(-800*24*time.Hour), "p0"),
		advBuy("ten-years", asOf.Add(-3700*24*time.Hour), "p0"),
	}, nil)
	for _, tc := range []struct {
		sc   campaign.Schedule
		want []string
	}{
		{campaign.Schedule{MinDays: 700, MaxDays: 900}, []string{"two-years"}},
		{campaign.Schedule{MinDays: 700}, []string{"ten-years", "two-years"}},
		{campaign.Schedule{MinDays: 3600, MaxDays: 3700}, []string{"ten-years"}},
		{campaign.Schedule{MinDays: 0, MaxDays: 1_000_000}, []string{"recent", "ten-years", "two-years"}},
		{campaign.Schedule{MinDays: 1_000_000}, nil},
		{campaign.Schedule{MinDays: math.MaxInt32}, nil},
	} {
		t.Run(fmt.Sprint(tc.sc), func(t *testing.T) {
			c := campaign.Campaign{Name: "s", Schedule: tc.sc, Control: -1}
			var p *campaign.Plan
			var err error
			require.NotPanics(t, func() {
				p, err = campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
			})
			require.NoError(t, err)
			var got []string
			for _, m := range p.Messages {
				got = append(got, m.Customer)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	// beyond what a query can say: an error or nobody, never a panic
	for _, sc := range []campaign.Schedule{{MinDays: math.MaxInt}, {MinDays: 1, MaxDays: math.MaxInt}} {
		c := campaign.Campaign{Name: "s", Schedule: sc, Control: -1}
		var p *campaign.Plan
		var err error
		require.NotPanics(t, func() {
			p, err = campaign.Build(context.Background(), s.snap, asOf, []campaign.Campaign{c}, campaign.Options{})
		})
		if err != nil {
			continue
		}
		var got []string
		for _, m := range p.Messages {
			got = append(got, m.Customer)
		}
		if sc.MaxDays == 0 {
			assert.Empty(t, got, "%+v", sc)
		} else {
			assert.Equal(t, []string{"recent", "ten-years", "two-years"}, got, "%+v", sc)
		}
	}
}

// capModel returns the documented cap (0 means 1, negative no cap) and
// the past sends of opts per customer in (asOf − CapWindow, asOf]
// (CapWindow 0 means 7 days).
func capModel(opts campaign.Options, asOf time.Time) (capN int, past map[string]int) {
	capN = opts.Cap
	if capN == 0 {
		capN = 1
	}
	w := opts.CapWindow
	if w == 0 {
		w = 7 * 24 * time.Hour
	}
	past = map[string]int{}
	for _, m := range opts.Sent {
		if m.Time.After(asOf.Add(-w)) && !m.Time.After(asOf) {
			past[m.Customer]++
		}
	}
	return capN, past
}
