package campaign_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of the built-in campaigns, their content rules and
// outputs, against models written from the package documentation only.

const advBIDay = 24 * time.Hour

// advBIWorld is a small shop built by hand: catalog, order lines, events
// and erasures, added to an affinity.Builder in that order.
type advBIWorld struct {
	products []affinity.Product
	lines    []affinity.Purchase
	events   []affinity.Event
	erase    []string
	orders   int
}

func (w *advBIWorld) product(key, name, cat string, inStock bool) {
	w.products = append(w.products, affinity.Product{Key: key, Name: name, Categories: []string{cat}, Price: 10_0000, InStock: inStock})
}

// buy adds one order of cust at at with one unit of each product.
func (w *advBIWorld) buy(cust string, at time.Time, prods ...string) {
	w.orders++
	for _, p := range prods {
		w.lines = append(w.lines, affinity.Purchase{Customer: cust, Product: p, Order: fmt.Sprintf("o%d", w.orders), Time: at, Quantity: 1, Price: 10_0000})
	}
}

// ret adds a return-only order of cust at at.
func (w *advBIWorld) ret(cust string, at time.Time, prod string) {
	w.orders++
	w.lines = append(w.lines, affinity.Purchase{Customer: cust, Product: prod, Order: fmt.Sprintf("o%d", w.orders), Time: at, Quantity: -1, Price: 10_0000})
}

func (w *advBIWorld) ev(cust, prod string, at time.Time, kind affinity.EventKind) {
	w.events = append(w.events, affinity.Event{Customer: cust, Product: prod, Time: at, Kind: kind, Weight: 1})
}

func (w *advBIWorld) history(t testing.TB) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(nil)
	b.Workers = 1
	for _, p := range w.products {
		require.NoError(t, b.AddProduct(p))
	}
	for _, l := range w.lines {
		require.NoError(t, b.Add(l))
	}
	for _, e := range w.events {
		require.NoError(t, b.AddEvent(e))
	}
	for _, k := range w.erase {
		b.EraseCustomer(k)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advBIOpen opens a shop on h, as of asOf (zero: as of its data).
func advBIOpen(t testing.TB, h *affinity.History, asOf time.Time) *shop.Shop {
	t.Helper()
	s, err := shop.OpenHistory(context.Background(), h, shop.Options{AsOf: asOf, Model: "neighbours", Workers: 1, RefreshWorkers: 1})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// advBIMembers returns the shop keys of c's members, sorted.
func advBIMembers(t testing.TB, c campaign.Campaign, snap *shop.Snapshot, attrs *segment.Attributes) []string {
	t.Helper()
	bm, err := c.Members(context.Background(), snap, attrs)
	require.NoError(t, err)
	keys := []string{}
	for _, id := range bm.ToArray() {
		keys = append(keys, snap.History().CustomerKey(affinity.CustomerID(id)))
	}
	slices.Sort(keys)
	return keys
}

func advBIItemKeys(m campaign.Message) []string {
	keys := []string{}
	for _, it := range m.Items {
		keys = append(keys, it.Product)
	}
	return keys
}

func advBIByCustomer(p *campaign.Plan, name string) map[string]campaign.Message {
	out := map[string]campaign.Message{}
	for _, m := range p.Messages {
		if m.Campaign == name {
			out[m.Customer] = m
		}
	}
	return out
}

func advBICount(t testing.TB, p *campaign.Plan, name string) campaign.Count {
	t.Helper()
	for _, c := range p.Counts {
		if c.Campaign == name {
			return c
		}
	}
	require.Failf(t, "no count", "campaign %q not in the plan's counts", name)
	return campaign.Count{}
}

// TestAdvBIBuiltinsSpec: the built-ins are what their documentation says:
// names unique, priorities, schedules, content rules and offers, and
// Builtins holds the documented set in any case.
func TestAdvBIBuiltinsSpec(t *testing.T) {
	type spec struct {
		prio    int
		content campaign.Content
		sched   campaign.Schedule
		offer   string
	}
	want := map[string]spec{}
	for _, c := range []struct {
		c campaign.Campaign
		s spec
	}{
		{campaign.Coupon(), spec{30, campaign.Favourites, campaign.Schedule{MinDays: 14, MaxDays: 28}, "10% off"}},
		{campaign.ThankYou(), spec{50, campaign.CrossSell, campaign.Schedule{MinDays: 0, MaxDays: 7}, ""}},
		{campaign.AbandonedCartReminder(), spec{70, campaign.AbandonedCart, campaign.Schedule{}, ""}},
		{campaign.BackInStockAlert("x", "y"), spec{60, campaign.BackInStock, campaign.Schedule{}, ""}},
		{campaign.Birthday(), spec{20, campaign.Favourites, campaign.Schedule{}, "birthday gift"}},
		{campaign.WinBack(), spec{40, campaign.Favourites, campaign.Schedule{}, "15% off"}},
		{campaign.GroupFavouritesFor("g", "frequency = 1"), spec{10, campaign.GroupFavourites, campaign.Schedule{}, ""}},
	} {
		name := c.c.Name
		require.NotEmpty(t, name)
		_, dup := want[name]
		require.False(t, dup, "two built-ins named %q", name)
		want[name] = c.s
		assert.Equal(t, c.s.prio, c.c.Priority, name)
		assert.Equal(t, c.s.content, c.c.Content, name)
		if c.s.sched != (campaign.Schedule{}) {
			assert.Equal(t, c.s.sched, c.c.Schedule, name)
		}
		if c.s.offer != "" {
			assert.Equal(t, c.s.offer, c.c.Offer, name)
		}
		assert.True(t, c.c.K == 0 || c.c.K == 4, "%s: up to four products, K %d", name, c.c.K)
		assert.True(t, c.c.Control == 0 || c.c.Control == campaign.DefaultControl, "%s: 10%% control by default, got %v", name, c.c.Control)
	}
	bis := campaign.BackInStockAlert("x", "y")
	assert.Equal(t, []string{"x", "y"}, bis.Products)
	assert.Equal(t, 30*advBIDay, bis.Window, "30 days of views (Window 0 would mean 7)")
	ac := campaign.AbandonedCartReminder()
	assert.True(t, ac.Window == 0 || ac.Window == 7*advBIDay, "7 days, got %v", ac.Window)
	g := campaign.GroupFavouritesFor("g", "frequency = 1")
	assert.Equal(t, "g", g.Name)
	assert.Equal(t, "frequency = 1", g.Audience)

	for _, withBirthday := range []bool{false, true} {
		bs := campaign.Builtins(withBirthday)
		var names []string
		for _, c := range bs {
			names = append(names, c.Name)
		}
		assert.Len(t, names, len(slices.Compact(slices.Sorted(slices.Values(names)))), "unique names %v", names)
		wantNames := []string{campaign.AbandonedCartReminder().Name, campaign.ThankYou().Name, campaign.WinBack().Name, campaign.Coupon().Name, "new-customers"}
		if withBirthday {
			wantNames = append(wantNames, campaign.Birthday().Name)
		}
		assert.ElementsMatch(t, wantNames, names, "withBirthday %v", withBirthday)
		for _, c := range bs {
			if c.Name == "new-customers" {
				assert.Equal(t, campaign.GroupFavourites, c.Content)
				assert.Equal(t, 10, c.Priority)
				q1, err := segment.Parse(c.Audience)
				require.NoError(t, err)
				q2, _ := segment.Parse("frequency = 1")
				assert.Equal(t, q2.String(), q1.String())
			}
		}
	}
}

// advBIScheduleWorld returns a random world of customers buying (and
// returning) around asOf, with buyers placed at the exact day boundaries
// of segAsOf (the segment index's as-of time), and the model's whole days
// since each customer's last purchase at or before asOf.
func advBIScheduleWorld(rng *rand.Rand, asOf, segAsOf time.Time, future bool) (*advBIWorld, map[string]int) {
	w := &advBIWorld{}
	for i := range 6 {
		w.product(fmt.Sprintf("p%d", i), fmt.Sprintf("Product %d", i), "Home/Kitchen", true)
	}
	type rec struct {
		at     time.Time
		bought bool
	}
	recs := map[string][]rec{}
	add := func(c string, at time.Time, bought bool) {
		if at.After(asOf) && !future {
			return
		}
		p := fmt.Sprintf("p%d", rng.IntN(6))
		if bought {
			w.buy(c, at, p)
		} else {
			w.ret(c, at, p)
		}
		recs[c] = append(recs[c], rec{at, bought})
	}
	for i := range 30 {
		c := fmt.Sprintf("r%02d", i)
		for range 1 + rng.IntN(3) {
			at := asOf.Add(-time.Duration(rng.Int64N(int64(40 * advBIDay)))).Add(2 * advBIDay)
			add(c, at.Truncate(time.Second), rng.IntN(6) != 0)
		}
	}
	for _, d := range []int{0, 1, 6, 7, 13, 14, 15, 27, 28, 29} {
		dd := time.Duration(d) * advBIDay
		add(fmt.Sprintf("b%02d-exact", d), segAsOf.Add(-dd), true)
		add(fmt.Sprintf("b%02d-late", d), segAsOf.Add(-dd-advBIDay+time.Second), true)
		// a return after the purchase neither resets the days
		add(fmt.Sprintf("b%02d-ret", d), segAsOf.Add(-dd-time.Second), true)
		add(fmt.Sprintf("b%02d-ret", d), asOf.Add(-time.Second), false)
	}
	w.ev("events-only", "p1", asOf.Add(-time.Hour), affinity.View)
	days := map[string]int{}
	for c, rs := range recs {
		var last time.Time
		for _, r := range rs {
			if r.bought && !r.at.After(asOf) && r.at.After(last) {
				last = r.at
			}
		}
		if !last.IsZero() {
			days[c] = int(segAsOf.Sub(last) / advBIDay)
		}
	}
	return w, days
}

// TestAdvBIScheduleModel: Coupon is due 14 to 28 whole days after the
// last purchase, ThankYou 0 to 7, counted from the plan's time for a shop
// with a fixed as-of time and from the end of its UTC day otherwise (see
// Schedule); returns and purchases after the plan's time do not count,
// nor do customers who never bought. Members, the plan's audience counts
// and its messages all follow that model, on random shops with buyers at
// the exact boundaries, and control entries are InControl's.
func TestAdvBIScheduleModel(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		for _, fixed := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d/fixed=%v", seed, fixed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 77))
				asOf := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(advBIDay)))).Truncate(time.Second)
				segAsOf := asOf
				if !fixed {
					segAsOf = time.Date(2026, 3, 10, 23, 59, 59, 0, time.UTC)
				}
				w, days := advBIScheduleWorld(rng, asOf, segAsOf, fixed)
				var open time.Time
				if fixed {
					open = asOf
				} else {
					w.buy("sentinel", asOf, "p0") // the latest order: the snapshot's time
					days["sentinel"] = int(segAsOf.Sub(asOf) / advBIDay)
				}
				h := w.history(t)
				snap := advBIOpen(t, h, open).Snapshot()
				require.True(t, snap.AsOf().Equal(asOf), "%v", snap.AsOf())

				for _, c := range []campaign.Campaign{campaign.Coupon(), campaign.ThankYou()} {
					want := []string{}
					for k, d := range days {
						if d >= c.Schedule.MinDays && d <= c.Schedule.MaxDays {
							want = append(want, k)
						}
					}
					slices.Sort(want)
					assert.Equal(t, want, advBIMembers(t, c, snap, nil), "%s as of %v", c.Name, asOf)
				}

				p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{campaign.Coupon(), campaign.ThankYou()}, campaign.Options{Cap: -1})
				require.NoError(t, err)
				require.Len(t, p.Counts, 2)
				assert.Equal(t, []string{"thank-you", "coupon"}, []string{p.Counts[0].Campaign, p.Counts[1].Campaign}, "priority order")
				rank := map[string]int{"thank-you": 0, "coupon": 1}
				assert.True(t, slices.IsSortedFunc(p.Messages, func(a, b campaign.Message) int {
					return cmp.Or(cmp.Compare(rank[a.Campaign], rank[b.Campaign]), strings.Compare(a.Customer, b.Customer))
				}), "messages by campaign (priority), then customer key")
				for _, c := range p.Counts {
					assert.Equal(t, c.Audience, c.OptedOut+c.Capped+c.NoContent+c.Control+c.Treated, "%+v", c)
					assert.Zero(t, c.Capped+c.OptedOut, "%+v", c)
				}
				for _, m := range p.Messages {
					d, ok := days[m.Customer]
					require.True(t, ok, "%s never bought", m.Customer)
					if m.Campaign == "coupon" {
						assert.True(t, d >= 14 && d <= 28, "%s: %d days", m.Customer, d)
						assert.Equal(t, "10% off", m.Offer)
					} else {
						assert.True(t, d >= 0 && d <= 6, "%s: %d days", m.Customer, d)
					}
					assert.Equal(t, campaign.InControl(m.Campaign, m.Customer, campaign.DefaultControl), m.Control, "%s/%s", m.Campaign, m.Customer)
					assert.True(t, m.Time.Equal(asOf), "message time %v", m.Time)
					assert.LessOrEqual(t, len(m.Items), 4)
				}
			})
		}
	}
}

// TestAdvBIThankYouWeekly: weekly plans, each given the earlier plans'
// messages as Options.Sent, thank every buyer once: plans one week apart
// (fixed as-of times) put each customer whose purchase falls in the weeks
// they cover in exactly one thank-you plan, purchases at the plans' exact
// times and in the second after them included.
func TestAdvBIThankYouWeekly(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	t0 := time.Date(2026, 5, 4, 10, 15, 0, 0, time.UTC)
	const weeks = 3
	w := &advBIWorld{}
	w.product("p0", "P0", "A/B", true)
	want := map[string]int{}
	for i := range 40 {
		c := fmt.Sprintf("c%02d", i)
		at := t0.Add(-7 * advBIDay).Add(time.Duration(rng.Int64N(int64(weeks*7*advBIDay))) + time.Second).Truncate(time.Second)
		switch i {
		case 0, 1, 2:
			at = t0.Add(time.Duration(i) * 7 * advBIDay) // at a plan's time
		case 3:
			at = t0.Add(-7*advBIDay + time.Second)
		case 4:
			at = t0.Add(7*advBIDay - time.Second)
		case 5:
			at = t0.Add(time.Second) // just after a plan
		}
		w.buy(c, at, "p0")
		want[c] = 1
	}
	var plans []time.Time
	for k := range weeks {
		plans = append(plans, t0.Add(time.Duration(k)*7*advBIDay))
	}
	assert.Equal(t, want, advBIWeeklyThanks(t, w, plans, true, true))
}

// advBIWeeklyThanks builds the thank-you plan at each of plans in turn,
// with a fixed as-of time or as of the history up to the plan's time
// (the shop's latest order), each given the earlier plans' messages when
// sent, and counts each customer's messages (held-out entries included).
func advBIWeeklyThanks(t *testing.T, w *advBIWorld, plans []time.Time, fixed, sent bool) map[string]int {
	t.Helper()
	h := w.history(t)
	ty := campaign.ThankYou()
	ty.Content = campaign.NoProducts
	var past []campaign.Message
	got := map[string]int{}
	for _, at := range plans {
		var snap *shop.Snapshot
		if fixed {
			snap = advBIOpen(t, h, at).Snapshot()
		} else {
			upTo := &advBIWorld{products: w.products}
			for _, l := range w.lines {
				if !l.Time.After(at) {
					upTo.lines = append(upTo.lines, l)
				}
			}
			snap = advBIOpen(t, upTo.history(t), time.Time{}).Snapshot()
			require.True(t, snap.AsOf().Equal(at), "the plan falls at the latest order")
		}
		opts := campaign.Options{Cap: -1}
		if sent {
			opts.Sent = past
		}
		p, err := campaign.Build(context.Background(), snap, at, []campaign.Campaign{ty}, opts)
		require.NoError(t, err)
		for _, m := range p.Messages {
			got[m.Customer]++
		}
		past = append(past, p.Messages...)
	}
	return got
}

// TestAdvBIThankYouWeeklyAcrossDST: local Monday 09:00 plans are 169 h
// apart across the autumn daylight-saving change and 167 h across the
// spring one. With Sent, a purchase in the first hour after one plan is
// thanked at the next, and a purchase just before one plan is not
// thanked again.
func TestAdvBIThankYouWeeklyAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		mon1 time.Time
		gap  time.Duration
	}{
		{"autumn", time.Date(2026, 10, 19, 9, 0, 0, 0, berlin), 169 * time.Hour},
		{"spring", time.Date(2026, 3, 23, 9, 0, 0, 0, berlin), 167 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mon1 := tc.mon1
			mon2 := mon1.AddDate(0, 0, 7)
			require.Equal(t, tc.gap, mon2.Sub(mon1))
			w := &advBIWorld{}
			w.product("p0", "P0", "A/B", true)
			w.buy("early", mon1.Add(-3*advBIDay), "p0")
			w.buy("eve", mon1.Add(-30*time.Minute), "p0") // just before the first plan
			w.buy("late", mon1.Add(30*time.Minute), "p0") // just after it
			w.buy("last", mon2.Add(-time.Minute), "p0")
			got := advBIWeeklyThanks(t, w, []time.Time{mon1, mon2}, true, true)
			assert.Equal(t, map[string]int{"early": 1, "eve": 1, "late": 1, "last": 1}, got, "every buyer thanked once by weekly plans")
		})
	}
}

// TestAdvBIThankYouWeeklyWithoutFixedAsOf: a shop opened without
// shop.Options.AsOf counts days from the end of the UTC day of its latest
// order; plans on the same weekday still thank every buyer once, a
// purchase later on the day of one plan included. Without Sent, a buyer
// of the day before a plan is thanked again at the next, as ThankYou
// says.
func TestAdvBIThankYouWeeklyWithoutFixedAsOf(t *testing.T) {
	d1 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("p0", "P0", "A/B", true)
	w.buy("before", d1.Add(-2*advBIDay), "p0")
	w.buy("first", d1, "p0")                    // the latest order of week 1
	w.buy("evening", d1.Add(5*time.Hour), "p0") // after week 1's plan, same day
	w.buy("next", d1.AddDate(0, 0, 7), "p0")    // the latest order of week 2
	plans := []time.Time{d1, d1.AddDate(0, 0, 7)}
	assert.Equal(t, map[string]int{"before": 1, "first": 1, "evening": 1, "next": 1},
		advBIWeeklyThanks(t, w, plans, false, true), "every buyer thanked once by weekly plans")
	assert.Equal(t, map[string]int{"before": 1, "first": 2, "evening": 1, "next": 1},
		advBIWeeklyThanks(t, w, plans, false, false), "without Sent, the buyer of the plan's day is thanked again")
}

// advBICrossWorld is a shop with co-purchases around pans: B, C and D go
// with A, D is out of stock in the catalog, POST is postage.
func advBICrossWorld(asOf time.Time) *advBIWorld {
	w := &advBIWorld{}
	w.product("A", "Pan", "Kitchen/Pans", true)
	w.product("B", "Lid", "Kitchen/Pans", true)
	w.product("C", "Spatula", "Kitchen/Tools", true)
	w.product("D", "Oil", "Kitchen/Food", false)
	w.product("E", "Apron", "Kitchen/Textile", true)
	w.product("F", "Towel", "Kitchen/Textile", true)
	w.product("POST", "POSTAGE", "", true)
	w.product("G", "Candle", "Home/Deco", true)
	w.product("H", "Vase", "Home/Deco", true)
	for i := range 30 { // orders without A, so that A's pairs beat chance
		w.buy(fmt.Sprintf("deco%02d", i), asOf.Add(-time.Duration(40+i)*advBIDay), "G", "H")
	}
	for i := range 30 {
		at := asOf.Add(-time.Duration(40+i) * advBIDay)
		c := fmt.Sprintf("bg%02d", i)
		switch i % 5 {
		case 0:
			w.buy(c, at, "A", "B", "POST")
		case 1:
			w.buy(c, at, "A", "C", "POST")
		case 2:
			w.buy(c, at, "A", "D", "POST")
		case 3:
			w.buy(c, at, "A", "E", "F")
		case 4:
			w.buy(c, at, "B", "C", "E")
		}
	}
	// the customers of the thank-you
	w.buy("x", asOf.Add(-2*advBIDay), "A", "POST")
	w.buy("y", asOf.Add(-3*advBIDay), "A", "B")
	w.buy("z", asOf.Add(-5*advBIDay), "A")
	w.buy("z", asOf.Add(-1*advBIDay), "E")
	w.buy("r", asOf.Add(-4*advBIDay), "A")
	w.ret("r", asOf.Add(-time.Hour), "C") // return-only: not the last purchase
	w.buy("f", asOf.Add(-2*advBIDay), "B")
	w.buy("f", asOf.Add(time.Hour), "A") // after the plan: not seen
	w.buy("p", asOf.Add(-1*advBIDay), "POST")
	return w
}

// TestAdvBICrossSellContent: the thank-you's complements are those of
// the last order at or before the plan's time with a bought line (not a
// later return-only order, not an order after the plan's time), never a
// product of that order, never non-merchandise, never out of stock (in
// the catalog or set by Shop.SetInStock), at most four, each with its
// catalog name and a reason; and they equal the non-fallback results of
// the documented shop.Request (the order's bought products as the cart
// and the exclusions).
func TestAdvBICrossSellContent(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := advBICrossWorld(asOf)
	h := w.history(t)
	s := advBIOpen(t, h, asOf)
	s.SetInStock("F", false)
	snap := s.Snapshot()
	ty := campaign.ThankYou()
	ty.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{ty}, campaign.Options{})
	require.NoError(t, err)
	lastOrder := map[string][]string{"x": {"A", "POST"}, "y": {"A", "B"}, "z": {"E"}, "r": {"A"}, "f": {"B"}, "p": {"POST"}}
	msgs := advBIByCustomer(p, ty.Name)
	names := map[string]string{}
	for _, pr := range w.products {
		names[pr.Key] = pr.Name
	}
	for c, order := range lastOrder {
		m, ok := msgs[c]
		res, err := snap.Recommend(ctx, shop.Request{Customer: c, Cart: order, Exclude: order, K: 4})
		require.NoError(t, err)
		want := []string{}
		for _, r := range res.Recs {
			if !r.Source.Fallback() {
				want = append(want, r.Product)
			}
		}
		if !ok {
			assert.Empty(t, want, "%s not contacted, but the request finds %v", c, want)
			continue
		}
		got := advBIItemKeys(m)
		assert.Equal(t, want, got, "%s: complements of %v", c, order)
		assert.LessOrEqual(t, len(got), 4)
		for _, it := range m.Items {
			assert.NotContains(t, order, it.Product, "%s: %s was just bought", c, it.Product)
			assert.NotContains(t, []string{"POST", "D", "F"}, it.Product, "%s: non-merchandise or out of stock", c)
			assert.Equal(t, names[it.Product], it.Name)
			assert.NotEmpty(t, it.Reason, "%s: %s without a reason", c, it.Product)
		}
	}
	// x, y, r and z have complements in stock; p bought postage only
	for _, c := range []string{"x", "y", "r", "z"} {
		assert.Contains(t, msgs, c)
	}
	assert.NotContains(t, msgs, "p", "postage has no complements")
	cnt := advBICount(t, p, ty.Name)
	assert.Equal(t, len(lastOrder), cnt.Audience, "%+v", cnt)
	assert.Equal(t, cnt.Audience, cnt.NoContent+cnt.Treated, "%+v", cnt)
}

// TestAdvBIAbandonedCartContent: the abandoned-cart message holds the
// carted products not bought since, most recent first, at most four (K 0);
// a product bought before it was carted is still abandoned; a customer
// with events and no order is reminded too; views are not carts.
func TestAdvBIAbandonedCartContent(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	for i := range 8 {
		w.product(fmt.Sprintf("q%d", i), fmt.Sprintf("Q %d", i), "Toys/Cars", true)
	}
	w.buy("many", asOf.Add(-20*advBIDay), "q0")
	for i := range 6 {
		w.ev("many", fmt.Sprintf("q%d", i), asOf.Add(-time.Duration(6-i)*advBIDay), affinity.Cart)
	}
	w.buy("again", asOf.Add(-3*advBIDay), "q1")
	w.ev("again", "q1", asOf.Add(-2*advBIDay), affinity.Cart) // carted after buying: abandoned
	w.ev("again", "q2", asOf.Add(-2*advBIDay), affinity.Cart)
	w.buy("again", asOf.Add(-advBIDay), "q2") // bought since: not
	w.ev("ghost", "q3", asOf.Add(-time.Hour), affinity.Cart)
	w.ev("ghost", "q4", asOf.Add(-2*time.Hour), affinity.Cart)
	w.ev("viewer", "q5", asOf.Add(-time.Hour), affinity.View)
	w.ev("viewer", "q6", asOf.Add(-time.Hour), affinity.Wishlist)
	w.buy("viewer", asOf.Add(-30*advBIDay), "q7")
	h := w.history(t)
	snap := advBIOpen(t, h, asOf).Snapshot()
	ac := campaign.AbandonedCartReminder()
	ac.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{ac}, campaign.Options{})
	require.NoError(t, err)
	msgs := advBIByCustomer(p, ac.Name)
	got := map[string][]string{}
	for c, m := range msgs {
		got[c] = advBIItemKeys(m)
	}
	assert.Equal(t, map[string][]string{
		"many":  {"q5", "q4", "q3", "q2"},
		"again": {"q1"},
		"ghost": {"q3", "q4"},
	}, got)
	cnt := advBICount(t, p, ac.Name)
	assert.Equal(t, 3, cnt.Audience, "%+v", cnt)
}

// TestAdvBIBackInStock: BackInStockAlert reminds of the restocked
// products the customer viewed, added to the cart or wished for in the 30
// days before the plan's time and has not bought since, most recent first;
// other products, events outside the 30 days and restocked keys the shop
// does not know are left out, without error.
func TestAdvBIBackInStock(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	for _, k := range []string{"R1", "R2", "R3", "N"} {
		w.product(k, "Item "+k, "Garden/Tools", true)
	}
	w.buy("seed", asOf.Add(-100*advBIDay), "N")
	w.ev("v", "R1", asOf.Add(-29*advBIDay), affinity.View)
	w.ev("v", "R2", asOf.Add(-advBIDay), affinity.Wishlist)
	w.ev("v", "N", asOf.Add(-time.Hour), affinity.View) // not restocked
	w.ev("cart", "R3", asOf.Add(-3*advBIDay), affinity.Cart)
	w.ev("edge-in", "R1", asOf.Add(-30*advBIDay+time.Second), affinity.View)
	w.ev("edge-out", "R1", asOf.Add(-30*advBIDay-time.Hour), affinity.View)
	w.ev("edge-out", "R2", asOf.Add(-45*advBIDay), affinity.View)
	w.ev("bought", "R3", asOf.Add(-5*advBIDay), affinity.View)
	w.buy("bought", asOf.Add(-4*advBIDay), "R3")
	w.buy("before", asOf.Add(-20*advBIDay), "R2")
	w.ev("before", "R2", asOf.Add(-10*advBIDay), affinity.View) // viewed again after buying
	w.ev("later", "R1", asOf.Add(time.Hour), affinity.View)     // after the plan
	w.buy("later", asOf.Add(-60*advBIDay), "N")
	h := w.history(t)
	snap := advBIOpen(t, h, asOf).Snapshot()
	bis := campaign.BackInStockAlert("R1", "R2", "R3", "UNKNOWN")
	bis.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{bis}, campaign.Options{})
	require.NoError(t, err)
	got := map[string][]string{}
	for c, m := range advBIByCustomer(p, bis.Name) {
		got[c] = advBIItemKeys(m)
	}
	assert.Equal(t, map[string][]string{
		"v":       {"R2", "R1"},
		"cart":    {"R3"},
		"edge-in": {"R1"},
		"before":  {"R2"},
	}, got)
	cnt := advBICount(t, p, bis.Name)
	assert.Equal(t, cnt.Audience, cnt.NoContent+cnt.Treated, "%+v", cnt)
}

// TestAdvBIBirthdayEdges: the birthday audience is the customers whose
// birthday falls in the 7 days from the plan's day on (today included),
// with February 29 on March 1 in other years and across the new year.
func TestAdvBIBirthdayEdges(t *testing.T) {
	type bd struct {
		key  string
		date time.Time
	}
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	bds := []bd{
		{"leap", d(2000, 2, 29)},
		{"jan3", d(1990, 1, 3)},
		{"jan4", d(1990, 1, 4)},
		{"dec28", d(1990, 12, 28)},
		{"dec27", d(1990, 12, 27)},
		{"mar1", d(1985, 3, 1)},
		{"feb22", d(1985, 2, 22)},
		{"nobday", time.Time{}},
	}
	w := &advBIWorld{}
	w.product("p", "P", "A/B", true)
	for _, b := range bds {
		w.buy(b.key, d(2027, 1, 1), "p")
	}
	h := w.history(t)
	var a segment.Attributes
	for _, b := range bds {
		if b.date.IsZero() {
			continue
		}
		id, ok := h.LookupCustomer(b.key)
		require.True(t, ok)
		require.NoError(t, a.SetDate("birthday", id, b.date))
	}
	for _, tc := range []struct {
		asOf time.Time
		want []string
	}{
		// 2027 is not a leap year: February 29 falls on March 1
		{time.Date(2027, 2, 23, 10, 0, 0, 0, time.UTC), []string{"leap", "mar1"}},
		{time.Date(2027, 2, 28, 10, 0, 0, 0, time.UTC), []string{"leap", "mar1"}},
		{time.Date(2027, 3, 1, 23, 0, 0, 0, time.UTC), []string{"leap", "mar1"}},
		{time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC), []string{}},
		{time.Date(2027, 12, 28, 10, 0, 0, 0, time.UTC), []string{"dec28", "jan3"}},
		// 2028 is: February 29 on its day
		{time.Date(2028, 2, 22, 10, 0, 0, 0, time.UTC), []string{"feb22"}},
		{time.Date(2028, 2, 23, 10, 0, 0, 0, time.UTC), []string{"leap"}},
		{time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC), []string{"leap", "mar1"}},
	} {
		snap := advBIOpen(t, h, tc.asOf).Snapshot()
		got := advBIMembers(t, campaign.Birthday(), snap, &a)
		slices.Sort(tc.want)
		assert.Equal(t, tc.want, got, "as of %v", tc.asOf)
	}
}

// TestAdvBIWinBackSkipped: on a shop where the purchase model cannot be
// fitted (all one-time buyers) the win-back is skipped with ErrSkip and
// its reason, and the plan goes on with the other built-ins.
func TestAdvBIWinBackSkipped(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("p", "P", "A/B", true)
	w.product("q", "Q", "A/B", true)
	for i := range 12 {
		w.buy(fmt.Sprintf("c%02d", i), asOf.Add(-time.Duration(i*3)*advBIDay), "p", "q")
	}
	snap := advBIOpen(t, w.history(t), asOf).Snapshot()
	wb := campaign.WinBack()
	_, err := wb.Members(ctx, snap, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, campaign.ErrSkip)
	p, err := campaign.Build(ctx, snap, asOf, campaign.Builtins(false), campaign.Options{})
	require.NoError(t, err)
	c := advBICount(t, p, wb.Name)
	assert.NotEmpty(t, c.Skipped)
	assert.Zero(t, c.Audience)
	assert.Empty(t, advBIByCustomer(p, wb.Name))
	assert.Positive(t, advBICount(t, p, "new-customers").Audience, "the plan goes on")
}

// TestAdvBIErased: an erased customer is in no audience and gets no
// message, whatever their orders and carts were; a Select naming the
// erased id or an id beyond the History gives an error or leaves it out,
// never a message without a key; past sends and opt-outs naming the
// erased key are harmless.
func TestAdvBIErased(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := advBICrossWorld(asOf)
	w.buy("gone", asOf.Add(-2*advBIDay), "A")
	w.buy("gone", asOf.Add(-20*advBIDay), "A")
	w.ev("gone", "C", asOf.Add(-time.Hour), affinity.Cart)
	w.erase = []string{"gone"}
	h := w.history(t)
	snap := advBIOpen(t, h, asOf).Snapshot()
	erased := -1
	for c := range h.NumCustomers() {
		if h.CustomerKey(affinity.CustomerID(c)) == "" {
			erased = c
		}
	}
	require.GreaterOrEqual(t, erased, 0, "the erased customer keeps its id")
	sel := campaign.Campaign{Name: "sel", Control: -1, Select: func(context.Context, *shop.Snapshot, time.Time) (*roaring.Bitmap, error) {
		return roaring.BitmapOf(uint32(erased), uint32(h.NumCustomers()+5), 1<<31), nil
	}}
	cs := append(campaign.Builtins(false), campaign.BackInStockAlert("C"), campaign.GroupFavouritesFor("all", ""))
	for _, c := range cs {
		bm, err := c.Members(ctx, snap, nil)
		if errors.Is(err, campaign.ErrSkip) {
			continue
		}
		require.NoError(t, err, c.Name)
		assert.False(t, bm.Contains(uint32(erased)), "%s selects the erased customer", c.Name)
	}
	opts := campaign.Options{Cap: -1, OptOut: []string{"gone", ""}, Sent: []campaign.Message{{Campaign: "coupon", Customer: "gone", Time: asOf.Add(-time.Hour)}}}
	p, err := campaign.Build(ctx, snap, asOf, cs, opts)
	require.NoError(t, err)
	for _, m := range p.Messages {
		assert.NotEmpty(t, m.Customer, "%s: a message to a customer without a key", m.Campaign)
		assert.NotEqual(t, "gone", m.Customer)
	}
	var sp *campaign.Plan
	require.NotPanics(t, func() { sp, err = campaign.Build(ctx, snap, asOf, []campaign.Campaign{sel}, campaign.Options{}) })
	if err == nil {
		// Select is intersected with Audience "": every customer the index knows
		assert.Empty(t, sp.Messages, "messages to the erased or unknown ids")
		require.Len(t, sp.Counts, 1)
		assert.Zero(t, sp.Counts[0].Audience, "%+v", sp.Counts[0])
	}
}

// TestAdvBIDailyPlansCapped: plans every day for two weeks over the
// built-ins, each given every earlier plan's messages as Sent, keep every
// customer at Cap messages (control entries included) in any window of
// CapWindow.
func TestAdvBIDailyPlansCapped(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(11, 3))
	w := &advBIWorld{}
	for i := range 6 {
		w.product(fmt.Sprintf("p%d", i), fmt.Sprintf("P%d", i), fmt.Sprintf("Cat/S%d", i%2), true)
	}
	for i := range 40 {
		c := fmt.Sprintf("c%02d", i)
		for range 1 + rng.IntN(3) {
			at := t0.Add(-time.Duration(rng.Int64N(int64(40 * advBIDay)))).Add(14 * advBIDay).Truncate(time.Second)
			w.buy(c, at, fmt.Sprintf("p%d", rng.IntN(6)), fmt.Sprintf("p%d", rng.IntN(6)))
			if rng.IntN(2) == 0 {
				w.ev(c, fmt.Sprintf("p%d", rng.IntN(6)), at.Add(time.Hour), affinity.Cart)
			}
		}
	}
	h := w.history(t)
	for _, o := range []campaign.Options{{}, {Cap: 2, CapWindow: 3 * advBIDay}} {
		capN, win := max(o.Cap, 1), o.CapWindow
		if win == 0 {
			win = 7 * advBIDay
		}
		var sent []campaign.Message
		for k := 0; k < 14; k += 1 + k%2 {
			asOf := t0.Add(time.Duration(k) * advBIDay)
			snap := advBIOpen(t, h, asOf).Snapshot()
			o.Sent = sent
			p, err := campaign.Build(ctx, snap, asOf, campaign.Builtins(false), o)
			require.NoError(t, err)
			sent = append(sent, p.Messages...)
		}
		times := map[string][]time.Time{}
		for _, m := range sent {
			times[m.Customer] = append(times[m.Customer], m.Time)
		}
		require.NotEmpty(t, times)
		for c, ts := range times {
			for _, end := range ts {
				n := 0
				for _, x := range ts {
					if x.After(end.Add(-win)) && !x.After(end) {
						n++
					}
				}
				assert.LessOrEqual(t, n, capN, "%s: %d messages in the %v before %v", c, n, win, end)
			}
		}
	}
}

// advBIFailWriter fails every write.
type advBIFailWriter struct{}

func (advBIFailWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestAdvBIWriteCSV: the CSV list has the documented header and one row
// per message, control rows included, with every string byte for byte
// (quotes, commas, new lines), control as true/false, the time in RFC 3339
// and products, names and reasons joined by "|"; an empty list is the
// header alone; a failing writer is an error.
func TestAdvBIWriteCSV(t *testing.T) {
	loc := time.FixedZone("X", -(3*3600 + 1800))
	at := time.Date(2026, 6, 10, 14, 0, 7, 0, loc)
	msgs := []campaign.Message{
		{Campaign: "c,1", Customer: "a \"quoted\"\nkey", Email: "a@x", Time: at, Control: true, Offer: "10% off, today",
			Items: []campaign.Item{{Product: "p1", Name: "Pan, large", Reason: "bought with \"Lid\""}, {Product: "p2", Name: "Lid", Reason: "r\r\n2"}}},
		{Campaign: "c2", Customer: " lead", Time: at.UTC(), Items: nil},
		{Campaign: "c2", Customer: "Jos\xe9", Time: at, Items: []campaign.Item{{Product: "ü", Name: "", Reason: ""}}},
	}
	var buf bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&buf, msgs))
	r := csv.NewReader(&buf)
	r.FieldsPerRecord = 9
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+len(msgs))
	assert.Equal(t, []string{"campaign", "customer", "email", "control", "offer", "time", "products", "names", "reasons"}, recs[0])
	for i, m := range msgs {
		row := recs[i+1]
		assert.Equal(t, m.Campaign, row[0])
		assert.Equal(t, m.Customer, row[1])
		assert.Equal(t, m.Email, row[2])
		assert.Equal(t, fmt.Sprint(m.Control), row[3])
		assert.Equal(t, m.Offer, row[4])
		tm, err := time.Parse(time.RFC3339, row[5])
		if assert.NoError(t, err, row[5]) {
			assert.True(t, tm.Equal(m.Time), "%v against %v", tm, m.Time)
		}
		var ps, ns, rs []string
		for _, it := range m.Items {
			ps, ns, rs = append(ps, it.Product), append(ns, it.Name), append(rs, it.Reason)
		}
		assert.Equal(t, strings.Join(ps, "|"), row[6])
		assert.Equal(t, strings.Join(ns, "|"), row[7])
		// encoding/csv reads \r\n inside a quoted field as \n
		assert.Equal(t, strings.ReplaceAll(strings.Join(rs, "|"), "\r\n", "\n"), row[8])
	}
	buf.Reset()
	require.NoError(t, campaign.WriteCSV(&buf, nil))
	recs, err = csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Len(t, recs, 1, "header only")
	assert.Error(t, campaign.WriteCSV(advBIFailWriter{}, msgs))
	assert.Error(t, campaign.WriteJSON(advBIFailWriter{}, msgs[:2]))
}

// TestAdvBICSVJoinAmbiguous: products are joined by "|" in the CSV, so a
// product key holding "|" must not read back as two products: the list
// of one item "a|b" and that of the items "a" and "b" must differ, or
// the writer must refuse it (nothing silently lost).
func TestAdvBICSVJoinAmbiguous(t *testing.T) {
	at := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	one := []campaign.Message{{Campaign: "c", Customer: "k", Time: at, Items: []campaign.Item{{Product: "a|b", Name: "n|m", Reason: "r|s"}}}}
	two := []campaign.Message{{Campaign: "c", Customer: "k", Time: at, Items: []campaign.Item{{Product: "a", Name: "n", Reason: "r"}, {Product: "b", Name: "m", Reason: "s"}}}}
	var b1, b2 bytes.Buffer
	err1 := campaign.WriteCSV(&b1, one)
	require.NoError(t, campaign.WriteCSV(&b2, two))
	if err1 == nil {
		assert.NotEqual(t, b1.String(), b2.String(), "one product %q and two products a, b write the same list", "a|b")
	}
}

// advBIRandString returns a short valid UTF-8 string with awkward runes.
func advBIRandString(rng *rand.Rand) string {
	runes := []rune{'a', 'Z', '0', ' ', ',', '"', '\\', '\n', '\t', '|', '<', '&', 'é', 'ü', '€', '😀', '\u2028', '\x00', '\x7f', '\ufffd'}
	var sb strings.Builder
	for range rng.IntN(6) {
		sb.WriteRune(runes[rng.IntN(len(runes))])
	}
	return sb.String()
}

// TestAdvBIJSONRoundTrip: ReadJSON reads back what WriteJSON writes —
// every field but the dense id, times as the same instants — for random
// messages with awkward valid UTF-8; and refuses what is not one array of
// messages.
func TestAdvBIJSONRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	zones := []*time.Location{time.UTC, time.FixedZone("A", 5*3600+45*60), time.FixedZone("B", -11*3600)}
	for round := range 20 {
		msgs := make([]campaign.Message, rng.IntN(4))
		for i := range msgs {
			m := campaign.Message{
				Campaign: "c" + advBIRandString(rng), Customer: "k" + advBIRandString(rng), Email: advBIRandString(rng),
				ID:      affinity.CustomerID(rng.IntN(100)),
				Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(1e6)) * time.Second).In(zones[rng.IntN(len(zones))]),
				Control: rng.IntN(2) == 0, Offer: advBIRandString(rng),
			}
			for range rng.IntN(3) {
				m.Items = append(m.Items, campaign.Item{Product: "p" + advBIRandString(rng), Name: advBIRandString(rng), Reason: advBIRandString(rng)})
			}
			msgs[i] = m
		}
		var buf bytes.Buffer
		require.NoError(t, campaign.WriteJSON(&buf, msgs), "round %d", round)
		back, err := campaign.ReadJSON(&buf)
		require.NoError(t, err, "round %d", round)
		require.Len(t, back, len(msgs))
		for i, m := range msgs {
			g := back[i]
			assert.True(t, g.Time.Equal(m.Time), "round %d: %v against %v", round, g.Time, m.Time)
			assert.Equal(t, len(m.Items), len(g.Items))
			m.ID, m.Time, g.Time = 0, time.Time{}, time.Time{}
			if len(m.Items) == 0 {
				m.Items, g.Items = nil, nil
			}
			assert.Equal(t, m, g, "round %d", round)
		}
	}
	for _, bad := range []string{"", "null", "{}", "[] []", "[1]", "[]x", `[{"campaign":1}]`, `{"campaign":"c"}`, "[", `[{"time":"yesterday"}]`, "[null]", "[{}]",
		`[{"campaign":"c","customer":"k"}]`, `[{"campaign":"c","customer":"k","time":"2026-01-01T00:00:00Z","items":[null]}]`} {
		var err error
		require.NotPanics(t, func() { _, err = campaign.ReadJSON(strings.NewReader(bad)) }, "%q", bad)
		assert.Error(t, err, "%q", bad)
	}
	for _, good := range []string{" [] \n", "[]", "\t[{\"campaign\":\"c\",\"customer\":\"k\",\"time\":\"2026-01-01T00:00:00Z\",\"control\":false,\"items\":null}]\n"} {
		_, err := campaign.ReadJSON(strings.NewReader(good))
		assert.NoError(t, err, "%q", good)
	}
	_, err := campaign.ReadJSON(nil)
	assert.ErrorIs(t, err, affinity.ErrNilArgument)
}

// TestAdvBIFavouritesContent: the coupon's products come from the
// customer's favourite category — the top level-two category of their
// spend in the look-back, non-merchandise left out — as the documented
// shop.Request for the customer filtered to that category: so never out
// of stock, never postage, and equal to that request's answer.
func TestAdvBIFavouritesContent(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	cats := map[string]string{}
	for i, c := range []string{"Kitchen/Pans", "Kitchen/Tools", "Garden/Seeds", "Garden/Tools"} {
		for j := range 4 {
			k := fmt.Sprintf("k%d%d", i, j)
			w.product(k, "Item "+k, c, !(i == 0 && j == 3))
			cats[k] = c
		}
	}
	w.product("POST", "POSTAGE", "Kitchen/Tools", true) // postage filed under a category
	rng := rand.New(rand.NewPCG(8, 8))
	for i := range 40 {
		c := rng.IntN(4)
		w.buy(fmt.Sprintf("bg%02d", i), asOf.Add(-time.Duration(30+i)*advBIDay), fmt.Sprintf("k%d%d", c, rng.IntN(4)), fmt.Sprintf("k%d%d", c, rng.IntN(4)))
	}
	// cook: pans, and a lot of postage filed under Kitchen/Tools
	w.buy("cook", asOf.Add(-40*advBIDay), "k00", "k01")
	w.buy("cook", asOf.Add(-20*advBIDay), "k02")
	w.lines = append(w.lines, affinity.Purchase{Customer: "cook", Product: "POST", Order: "cook-post", Time: asOf.Add(-20 * advBIDay), Quantity: 5, Price: 100_0000})
	// gardener: seeds three years ago (before the look-back), tools now
	for i := range 4 {
		w.buy("gardener", asOf.AddDate(-3, 0, -i), "k20", "k21", "k22")
	}
	w.buy("gardener", asOf.Add(-15*advBIDay), "k30")
	h := w.history(t)
	snap := advBIOpen(t, h, asOf).Snapshot()
	co := campaign.Coupon()
	co.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{co}, campaign.Options{})
	require.NoError(t, err)
	msgs := advBIByCustomer(p, co.Name)
	for c, fav := range map[string]string{"cook": "Kitchen/Pans", "gardener": "Garden/Tools"} {
		m, ok := msgs[c]
		require.True(t, ok, "%s is due and has products in %s", c, fav)
		res, err := snap.Recommend(ctx, shop.Request{Customer: c, Category: fav, K: 4})
		require.NoError(t, err)
		want := []string{}
		for _, r := range res.Recs {
			want = append(want, r.Product)
		}
		assert.Equal(t, want, advBIItemKeys(m), "%s: favourites in %s", c, fav)
		for _, it := range m.Items {
			assert.Equal(t, fav, cats[it.Product], "%s: %s", c, it.Product)
			assert.NotEqual(t, "k03", it.Product, "out of stock")
			assert.NotEmpty(t, it.Reason)
		}
	}
	for _, m := range p.Messages {
		for _, it := range m.Items {
			assert.NotEqual(t, "POST", it.Product)
			assert.NotEqual(t, "k03", it.Product, "out of stock")
		}
	}
}

// TestAdvBIGroupFavouritesStock: the group's favourites leave out
// non-merchandise, however many members bought it; and a product out of
// stock (in the catalog, or set so with Shop.SetInStock) is not mailed
// as a favourite either, as no rule of the shop recommends one ("Out-of-
// stock products are not recommended"). The GroupFavourites doc says
// nothing of stock: a gap at the least.
func TestAdvBIGroupFavouritesStock(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("TOP", "Top seller", "A/B", false) // out of stock in the catalog
	w.product("SOLD", "Sold out", "A/B", true)   // set out of stock below
	w.product("X", "X", "A/B", true)
	w.product("Y", "Y", "A/C", true)
	w.product("POST", "POSTAGE", "", true)
	for i := range 10 {
		w.buy(fmt.Sprintf("fan%02d", i), asOf.Add(-time.Duration(10+i)*advBIDay), "TOP", "SOLD", "X", "POST")
	}
	for i := range 5 {
		w.buy(fmt.Sprintf("new%02d", i), asOf.Add(-time.Duration(10+i)*advBIDay), "Y")
	}
	s := advBIOpen(t, w.history(t), asOf)
	s.SetInStock("SOLD", false)
	snap := s.Snapshot()
	g := campaign.GroupFavouritesFor("everyone", "")
	g.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{g}, campaign.Options{})
	require.NoError(t, err)
	got := map[string][]string{}
	for _, m := range p.Messages {
		got[m.Customer] = advBIItemKeys(m)
	}
	for i := range 5 {
		c := fmt.Sprintf("new%02d", i)
		assert.Equal(t, []string{"X"}, got[c], "%s: the group's favourites in stock", c)
	}
}

// TestAdvBIAbandonedCartLiveStock: the abandoned-cart reminder leaves out
// products out of stock in the catalog (it does), so it must follow the
// shop's live stock, which "overrides the catalog's stock flag until
// changed again" (Shop.SetInStock): a product restocked with SetInStock
// is reminded, one set out of stock is not.
func TestAdvBIAbandonedCartLiveStock(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("restocked", "Restocked", "A/B", false)
	w.product("soldout", "Sold out", "A/B", true)
	w.product("gone", "Gone", "A/B", false)
	w.product("fine", "Fine", "A/B", true)
	for i, p := range []string{"restocked", "soldout", "gone", "fine"} {
		w.ev("c", p, asOf.Add(-time.Duration(i+1)*time.Hour), affinity.Cart)
	}
	s := advBIOpen(t, w.history(t), asOf)
	s.SetInStock("restocked", true)
	s.SetInStock("soldout", false)
	snap := s.Snapshot()
	ac := campaign.AbandonedCartReminder()
	ac.Control = -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{ac}, campaign.Options{})
	require.NoError(t, err)
	require.Len(t, p.Messages, 1)
	assert.Equal(t, []string{"restocked", "fine"}, advBIItemKeys(p.Messages[0]), "most recent first, in stock now")
}

// TestAdvBIBadCampaignFields: a negative K is an error, not a panic;
// a custom K and Window are honoured by the abandoned cart.
func TestAdvBIBadCampaignFields(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	for i := range 4 {
		w.product(fmt.Sprintf("q%d", i), fmt.Sprintf("Q %d", i), "Toys/Cars", true)
		w.ev("c", fmt.Sprintf("q%d", i), asOf.Add(-time.Duration(i)*advBIDay-time.Hour), affinity.Cart)
	}
	snap := advBIOpen(t, w.history(t), asOf).Snapshot()
	ac := campaign.AbandonedCartReminder()
	ac.K = -1
	var err error
	require.NotPanics(t, func() { _, err = campaign.Build(ctx, snap, asOf, []campaign.Campaign{ac}, campaign.Options{}) })
	assert.Error(t, err, "K -1")
	ac.K, ac.Window, ac.Control = 1, 2*advBIDay, -1
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{ac}, campaign.Options{})
	require.NoError(t, err)
	require.Len(t, p.Messages, 1)
	assert.Equal(t, []string{"q0"}, advBIItemKeys(p.Messages[0]))
	ac.K = 0
	p, err = campaign.Build(ctx, snap, asOf, []campaign.Campaign{ac}, campaign.Options{})
	require.NoError(t, err)
	require.Len(t, p.Messages, 1)
	assert.Equal(t, []string{"q0", "q1"}, advBIItemKeys(p.Messages[0]), "the carts of the last 2 days")
}

// TestAdvBIFavouriteLevel: the favourite category is "the top level-two
// category (or top level-one when the tree is flat)" of the customer's
// spend. In a tree with level-two categories, a product filed only under
// a top-level category ("Garden") does not make "Garden" the favourite: a
// customer with spend in Kitchen/Pans gets pans. In a flat tree the top
// level-one category is the favourite.
func TestAdvBIFavouriteLevel(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	for _, flat := range []bool{false, true} {
		w := &advBIWorld{}
		pans, garden := "Kitchen/Pans", "Garden"
		if flat {
			pans = "Kitchen"
		}
		cats := map[string]string{}
		for i := range 3 {
			w.product(fmt.Sprintf("k%d", i), "Pan", pans, true)
			w.product(fmt.Sprintf("g%d", i), "Rake", garden, true)
			cats[fmt.Sprintf("k%d", i)], cats[fmt.Sprintf("g%d", i)] = pans, garden
		}
		for i := range 12 {
			at := asOf.Add(-time.Duration(40+i) * advBIDay)
			w.buy(fmt.Sprintf("bg%02d", i), at, fmt.Sprintf("k%d", i%3), fmt.Sprintf("k%d", (i+1)%3))
			w.buy(fmt.Sprintf("bh%02d", i), at, fmt.Sprintf("g%d", i%3), fmt.Sprintf("g%d", (i+1)%3))
		}
		w.lines = append(w.lines, affinity.Purchase{Customer: "m", Product: "g0", Order: "m1", Time: asOf.Add(-20 * advBIDay), Quantity: 5, Price: 10_0000})
		w.buy("m", asOf.Add(-20*advBIDay), "k0")
		snap := advBIOpen(t, w.history(t), asOf).Snapshot()
		co := campaign.Coupon()
		co.Control = -1
		p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{co}, campaign.Options{})
		require.NoError(t, err)
		m, ok := advBIByCustomer(p, co.Name)["m"]
		require.True(t, ok)
		want := pans // the only level-two category of m's spend
		if flat {
			want = garden // the top level-one category of m's spend
		}
		require.NotEmpty(t, m.Items)
		for _, it := range m.Items {
			assert.Equal(t, want, cats[it.Product], "flat %v: %s", flat, it.Product)
		}
	}
}

// TestAdvBIProductsLimit: "Products are shop product keys the content
// rule is limited to": with Products set, every rule's items are among
// them — the recommendation rules, the abandoned cart and the group's
// favourites alike.
func TestAdvBIProductsLimit(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	w := advBICrossWorld(asOf)
	w.ev("x", "C", asOf.Add(-time.Hour), affinity.Cart)
	w.ev("x", "E", asOf.Add(-2*time.Hour), affinity.Cart)
	w.ev("y", "E", asOf.Add(-time.Hour), affinity.Cart)
	snap := advBIOpen(t, w.history(t), asOf).Snapshot()
	limit := []string{"C", "G"}
	var cs []campaign.Campaign
	for _, c := range []campaign.Campaign{campaign.AbandonedCartReminder(), campaign.ThankYou(), campaign.GroupFavouritesFor("all", ""), campaign.Coupon()} {
		c.Products, c.Control = limit, -1
		cs = append(cs, c)
	}
	for _, c := range cs {
		p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{c}, campaign.Options{})
		require.NoError(t, err, c.Name)
		outside := map[string]int{}
		for _, m := range p.Messages {
			for _, it := range m.Items {
				if !slices.Contains(limit, it.Product) {
					outside[it.Product]++
				}
			}
		}
		assert.Empty(t, outside, "%s: products outside %v (product: messages)", c.Name, limit)
	}
}

// TestAdvBISplitListRoundTrip: SplitList reads back every list WriteCSV
// writes, keys holding "|" and "\" included (an item list of one empty
// string aside, which reads as none).
func TestAdvBISplitListRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 11))
	at := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	for round := range 50 {
		var items []campaign.Item
		var keys []string
		for range 1 + rng.IntN(4) {
			k := advBIRandString(rng) + string("|\\"[rng.IntN(2)]) + advBIRandString(rng)
			keys = append(keys, k)
			items = append(items, campaign.Item{Product: k})
		}
		var buf bytes.Buffer
		require.NoError(t, campaign.WriteCSV(&buf, []campaign.Message{{Campaign: "c", Customer: "k", Time: at, Items: items}}))
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 2)
		// encoding/csv reads \r\n inside a quoted field as \n
		for i := range keys {
			keys[i] = strings.ReplaceAll(keys[i], "\r\n", "\n")
		}
		assert.Equal(t, keys, campaign.SplitList(rows[1][6]), "round %d: %q", round, rows[1][6])
	}
	assert.Nil(t, campaign.SplitList(""))
	assert.Equal(t, []string{"", ""}, campaign.SplitList("|"))
	assert.Equal(t, []string{`a\`}, campaign.SplitList(`a\`), "a trailing lone escape is kept")
}
