package campaign_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/require"
)

var (
	demoOnce sync.Once
	demoSnap *shop.Snapshot
	demoErr  error
)

// demo returns the snapshot of the demo shop as of its last order, on
// the neighbours (what "auto" chooses on the demo, without the
// validation runs that choose it: the campaigns are what is tested here).
func demo(t testing.TB) *shop.Snapshot {
	t.Helper()
	demoOnce.Do(func() {
		s, err := shop.Open(context.Background(), shop.Demo(), shop.Options{Model: "neighbours"})
		if err != nil {
			demoErr = err
			return
		}
		demoSnap = s.Snapshot()
	})
	require.NoError(t, demoErr)
	return demoSnap
}

var demoPlan = sync.OnceValues(func() (*campaign.Plan, error) {
	snap := demoSnap // set: demoPlanOf calls demo first
	return campaign.Build(context.Background(), snap, snap.AsOf(), campaign.Builtins(false), campaign.Options{})
})

// demoPlanOf returns the plan of the built-ins on the demo at its as-of
// time with the default options, built once for the tests that only
// read it.
func demoPlanOf(t testing.TB) *campaign.Plan {
	t.Helper()
	demo(t)
	p, err := demoPlan()
	require.NoError(t, err)
	return p
}

// recentlyViewed returns up to n products added to a cart in the 30 days
// before the snapshot's time, by product id: the demo's views all precede
// a purchase, so its abandoned carts are what a restock can remind of.
func recentlyViewed(snap *shop.Snapshot, n int) []string {
	h := snap.History()
	from := snap.AsOf().AddDate(0, 0, -30).Unix()
	seen := map[affinity.ProductID]bool{}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if e := h.Event(i); e.Kind == affinity.Cart && e.Unix > from && e.Unix <= snap.AsOf().Unix() {
				seen[e.Product] = true
			}
		}
	}
	var ids []affinity.ProductID
	for p := range seen {
		ids = append(ids, p)
	}
	slices.Sort(ids)
	var keys []string
	for _, p := range ids[:min(n, len(ids))] {
		keys = append(keys, h.Catalog().ProductKey(p))
	}
	return keys
}

// checkRules checks every message of p against the documented rule of
// its built-in, from the History directly.
func checkRules(t *testing.T, snap *shop.Snapshot, p *campaign.Plan, restocked []string) {
	t.Helper()
	h := snap.History()
	cat := h.Catalog()
	asOf := snap.AsOf()
	segAsOf := snap.Segments().AsOf() // schedules count the segment index's days
	days := func(c affinity.CustomerID) int {
		last, ok := h.LastPurchase(c)
		require.True(t, ok)
		return int(segAsOf.Sub(last) / (24 * time.Hour))
	}
	lastOrder := func(c affinity.CustomerID) map[string]bool {
		lo, hi := h.CustomerOrders(c)
		o := hi - 1
		for ; o >= lo && h.OrderTime(o).After(asOf); o-- {
		}
		out := map[string]bool{}
		l0, l1 := h.OrderLines(o)
		for i := l0; i < l1; i++ {
			out[cat.ProductKey(h.LineProduct(i))] = true
		}
		return out
	}
	// event returns the last event time of kind k of product key by c in
	// the window, and the time of the last purchase of it.
	event := func(c affinity.CustomerID, key string, kinds ...affinity.EventKind) (ev, bought int64) {
		pid, ok := cat.LookupProduct(key)
		require.True(t, ok)
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			if e.Product == pid && slices.Contains(kinds, e.Kind) && e.Unix <= asOf.Unix() {
				ev = max(ev, e.Unix)
			}
		}
		ol, oh := h.CustomerOrders(c)
		for o := ol; o < oh; o++ {
			l0, l1 := h.OrderLines(o)
			for i := l0; i < l1; i++ {
				if h.LineProduct(i) == pid && h.LineQuantity(i) > 0 && h.OrderUnix(o) <= asOf.Unix() {
					bought = max(bought, h.OrderUnix(o))
				}
			}
		}
		return ev, bought
	}
	for _, m := range p.Messages {
		c := m.ID
		require.Equal(t, h.CustomerKey(c), m.Customer)
		require.NotEmpty(t, m.Items, "%s %s", m.Campaign, m.Customer)
		require.LessOrEqual(t, len(m.Items), 4)
		switch m.Campaign {
		case "coupon":
			d := days(c)
			require.True(t, d >= 14 && d <= 28, "coupon %s: %d days", m.Customer, d)
			require.Equal(t, "10% off", m.Offer)
		case "thank-you":
			d := days(c)
			require.True(t, d >= 0 && d <= 7, "thank-you %s: %d days", m.Customer, d)
			last := lastOrder(c)
			for _, it := range m.Items {
				require.False(t, last[it.Product], "thank-you %s recommends %s from the order itself", m.Customer, it.Product)
				require.Contains(t, it.Reason, "bought", "a thank-you item without co-purchase evidence")
			}
		case "abandoned-cart":
			for _, it := range m.Items {
				ev, bought := event(c, it.Product, affinity.Cart)
				require.Greater(t, ev, asOf.Add(-7*24*time.Hour).Unix(), "%s %s", m.Customer, it.Product)
				require.Less(t, bought, ev, "%s bought %s after carting it", m.Customer, it.Product)
			}
		case "back-in-stock":
			for _, it := range m.Items {
				require.Contains(t, restocked, it.Product)
				ev, bought := event(c, it.Product, affinity.View, affinity.Cart, affinity.Wishlist)
				require.Greater(t, ev, asOf.Add(-30*24*time.Hour).Unix())
				require.Less(t, bought, ev)
			}
		case "new-customers":
			f, ok := snap.Segments().Features(c)
			require.True(t, ok)
			require.Equal(t, 1, f.Frequency)
			for _, it := range m.Items {
				pid, _ := cat.LookupProduct(it.Product)
				require.False(t, h.Buyers(pid).Contains(uint32(c)), "group favourite %s already bought by %s", it.Product, m.Customer)
			}
		}
	}
}

func TestBuiltinsDemo(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	restocked := recentlyViewed(snap, 40)
	cs := append(campaign.Builtins(false), campaign.BackInStockAlert(restocked...))
	p, err := campaign.Build(ctx, snap, snap.AsOf(), cs, campaign.Options{})
	require.NoError(t, err)
	names := map[string]campaign.Count{}
	for _, c := range p.Counts {
		names[c.Campaign] = c
		require.Equal(t, c.Audience, c.OptedOut+c.Capped+c.NoContent+c.Control+c.Treated, "%+v", c)
		require.Positive(t, c.Treated, "%s sends nothing on the demo", c.Campaign)
	}
	require.Len(t, names, len(cs))
	// Priority order: abandoned cart (70) first, group favourites (10) last.
	require.Equal(t, "abandoned-cart", p.Counts[0].Campaign)
	require.Equal(t, "new-customers", p.Counts[len(p.Counts)-1].Campaign)
	checkRules(t, snap, p, restocked)

	// win-back: exactly clv's WinBack on the exact BG/NBD fit (the demo
	// needs no penalty), less nobody: it has the highest priority among
	// the overlapping campaigns after abandoned cart and thank-you.
	sum, err := clv.Summarize(ctx, snap.History(), snap.AsOf(), clv.SummaryOptions{})
	require.NoError(t, err)
	bg, err := clv.FitBGNBD(ctx, sum.Rows, clv.FitOptions{})
	require.NoError(t, err)
	sc, err := clv.Score(ctx, sum.Rows, bg, nil, clv.ScoreOptions{})
	require.NoError(t, err)
	want := clv.WinBack(sum.Customers, sum.Spend, sc.PAlive, clv.WinBackOptions{})
	wb := campaign.WinBack()
	got, err := wb.Members(ctx, snap, nil)
	require.NoError(t, err)
	require.True(t, want.Equals(got), "win-back audience differs from clv.WinBack: %d vs %d", got.GetCardinality(), want.GetCardinality())
	require.Equal(t, int(want.GetCardinality()), names["win-back"].Audience)
}

func TestPlanDeterministicAndCapped(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	cs := campaign.Builtins(false)
	p1 := demoPlanOf(t)
	rev := slices.Clone(cs)
	slices.Reverse(rev)
	p2, err := campaign.Build(ctx, snap, snap.AsOf(), rev, campaign.Options{})
	require.NoError(t, err)
	require.True(t, reflect.DeepEqual(p1, p2), "campaign order changed the plan")

	// Cap 1: one entry (sent or control) per customer.
	per := map[string]int{}
	for _, m := range p1.Messages {
		per[m.Customer]++
		require.LessOrEqual(t, per[m.Customer], 1, m.Customer)
	}
	capped := 0
	for _, c := range p1.Counts {
		capped += c.CappedByPlan
	}
	require.Positive(t, capped, "the demo's campaigns should overlap")

	// Cap 2 lets the overlapping customers have two; the total grows by
	// what the cap removed.
	p3, err := campaign.Build(ctx, snap, snap.AsOf(), cs, campaign.Options{Cap: 2})
	require.NoError(t, err)
	require.Greater(t, len(p3.Messages), len(p1.Messages))
	per = map[string]int{}
	for _, m := range p3.Messages {
		per[m.Customer]++
		require.LessOrEqual(t, per[m.Customer], 2)
	}

	// Past sends: last week's plan caps this week's customers inside the
	// window and not outside it.
	var past []campaign.Message
	for _, m := range p1.Messages[:50] {
		m.Time = snap.AsOf().Add(-3 * 24 * time.Hour)
		past = append(past, m)
	}
	p4, err := campaign.Build(ctx, snap, snap.AsOf(), cs, campaign.Options{Sent: past})
	require.NoError(t, err)
	got := map[string]bool{}
	for _, m := range p4.Messages {
		got[m.Customer] = true
	}
	for _, m := range past {
		require.False(t, got[m.Customer], "%s was sent 3 days ago and again", m.Customer)
	}
	for i := range past {
		past[i].Time = snap.AsOf().Add(-8 * 24 * time.Hour)
	}
	p5, err := campaign.Build(ctx, snap, snap.AsOf(), cs, campaign.Options{Sent: past})
	require.NoError(t, err)
	require.Equal(t, p1.Messages, p5.Messages, "sends older than the cap window must not count")

	// Opt-out: never in the plan, not even as control; opt-in restricts.
	var out []string
	for _, m := range p1.Messages[:100] {
		out = append(out, m.Customer)
	}
	p6, err := campaign.Build(ctx, snap, snap.AsOf(), cs, campaign.Options{OptOut: out})
	require.NoError(t, err)
	opted := 0
	for _, m := range p6.Messages {
		require.NotContains(t, out, m.Customer)
	}
	for _, c := range p6.Counts {
		opted += c.OptedOut
	}
	require.GreaterOrEqual(t, opted, 100)
}

func TestControlGroup(t *testing.T) {
	n := testdata.Scale(200_000, 50_000) // the bounds below are 4 sd at n
	for _, share := range []float64{0.05, 0.1, 0.5} {
		in, both := 0, 0
		for i := range n {
			k := fmt.Sprintf("c%06d", i)
			a := campaign.InControl("coupon", k, share)
			if a {
				in++
			}
			if a && campaign.InControl("thank-you", k, share) {
				both++
			}
			if again := campaign.InControl("coupon", k, share); again != a { // require only on a failure: t.Helper costs more than InControl
				require.Equal(t, a, again, "not deterministic")
			}
		}
		got := float64(in) / float64(n)
		require.InDelta(t, share, got, 4*sqrtShare(share, n), "share %v", share)
		// Groups of two campaigns are independent.
		require.InDelta(t, share*share, float64(both)/float64(n), 4*sqrtShare(share*share, n)+1e-4)
	}
	require.False(t, campaign.InControl("x", "c1", 0))

	// In a plan, the control entries are exactly InControl's.
	snap := demo(t)
	p := demoPlanOf(t)
	for _, m := range p.Messages {
		if want := campaign.InControl(m.Campaign, m.Customer, campaign.DefaultControl); want != m.Control {
			require.Equal(t, want, m.Control)
		}
	}
	none := campaign.Coupon()
	none.Control = -1
	p, err := campaign.Build(context.Background(), snap, snap.AsOf(), []campaign.Campaign{none}, campaign.Options{})
	require.NoError(t, err)
	require.Zero(t, p.Counts[0].Control)
}

func sqrtShare(p float64, n int) float64 { return math.Sqrt(p * (1 - p) / float64(n)) }

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	_, err := campaign.Build(ctx, snap, time.Time{}, campaign.Builtins(false), campaign.Options{})
	require.ErrorIs(t, err, affinity.ErrNoAsOf)
	_, err = campaign.Build(ctx, snap, snap.AsOf().Add(time.Hour), campaign.Builtins(false), campaign.Options{})
	require.ErrorContains(t, err, "differs")
	bad := []campaign.Campaign{
		{},
		{Name: "x", K: -1},
		{Name: "x", Control: 1},
		{Name: "x", Control: math.NaN()},
		{Name: "x", Control: math.Inf(1)},
		{Name: "x", Schedule: campaign.Schedule{MinDays: 10, MaxDays: 5}},
		{Name: "x", Content: campaign.BackInStock},
		{Name: "x", Audience: "recency >"},
	}
	for _, c := range bad {
		_, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{c}, campaign.Options{})
		require.Error(t, err, "%+v", c)
	}
	_, err = campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{campaign.Coupon(), campaign.Coupon()}, campaign.Options{})
	require.ErrorContains(t, err, "duplicate")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = campaign.Build(cctx, snap, snap.AsOf(), campaign.Builtins(false), campaign.Options{})
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestOutputs(t *testing.T) {
	snap := demo(t)
	p, err := campaign.Build(context.Background(), snap, snap.AsOf(), []campaign.Campaign{campaign.ThankYou()},
		campaign.Options{Email: func(k string) string { return k + "@example.com" }})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&buf, p.Messages))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, len(p.Messages)+1)
	require.Equal(t, "campaign,customer,email,control,offer,time,products,names,reasons", lines[0])
	m := p.Messages[0]
	require.True(t, strings.HasPrefix(lines[1], "thank-you,"+m.Customer+","+m.Customer+"@example.com,"), lines[1])

	buf.Reset()
	require.NoError(t, campaign.WriteJSON(&buf, p.Messages))
	back, err := campaign.ReadJSON(&buf)
	require.NoError(t, err)
	require.Len(t, back, len(p.Messages))
	for i := range back {
		back[i].ID = p.Messages[i].ID // not in the JSON
		require.True(t, back[i].Time.Equal(p.Messages[i].Time))
		back[i].Time = p.Messages[i].Time
	}
	require.Equal(t, p.Messages, back)
}

func TestBuiltinsOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("loads Online Retail")
	}
	path := filepath.Join(testdata.Shared(t, ""), "online-retail", "online_retail_2010-2011.csv.gz")
	ctx := context.Background()
	// The campaigns, not the model: the default model choice fits EASE
	// twice on Online Retail, seconds (minutes under the race detector)
	// that recommend's TestChooseOnlineRetail spends once.
	if !testdata.Long() {
		// The quick suite plans on the file's last 60,000 rows (from
		// 2011-11-18, some 20 of the loader's 256 KiB blocks), copied
		// gzipped as the real file is: the same as-of time as the whole
		// file's, every campaign but abandoned cart sends (some capped
		// or without content), a customer who bought only at price zero
		// (a category share of nothing spent) is among them, and the
		// neighbour index still meets rows whose estimated floor was
		// too high (similarity's selectRow selects them again).
		path = testdata.GzipPart(t, path, 1, 60_000)
	}
	s, err := shop.Open(ctx, shop.File(path, "onlineretail"), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	snap := s.Snapshot()
	cs := campaign.Builtins(false)
	p, err := campaign.Build(ctx, snap, snap.AsOf(), cs, campaign.Options{})
	require.NoError(t, err)
	for _, c := range p.Counts {
		require.Equal(t, c.Audience, c.OptedOut+c.Capped+c.NoContent+c.Control+c.Treated, "%+v", c)
		if c.Campaign == "abandoned-cart" {
			require.Zero(t, c.Audience, "Online Retail has no cart events")
			continue
		}
		require.Positive(t, c.Treated, "%s sends nothing on Online Retail", c.Campaign)
	}
	checkRules(t, snap, p, nil)
}

// TestBirthdayWithAttributes gives the demo's customers birthdays, an
// opt-in and e-mail addresses, and checks the birthday built-in.
func TestBirthdayWithAttributes(t *testing.T) {
	ctx := context.Background()
	snap := demo(t)
	h := snap.History()
	var a segment.Attributes
	today := snap.AsOf().Truncate(24 * time.Hour)
	for c := range affinity.CustomerID(h.NumCustomers()) {
		bd := time.Date(1960+int(c%40), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(c*7919%365))
		require.NoError(t, a.SetDate("birthday", c, bd))
		require.NoError(t, a.SetFlag("optin", c, c%3 != 0))
		require.NoError(t, a.SetText("email", c, h.CustomerKey(c)+"@example.com"))
	}
	b := campaign.Birthday()
	b.Audience += ` and flag("optin") = 1`
	p, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{b}, campaign.Options{Attributes: &a})
	require.NoError(t, err)
	require.Positive(t, p.Counts[0].Treated)
	for _, m := range p.Messages {
		c := m.ID
		require.NotZero(t, c%3, "%s did not opt in", m.Customer)
		bd, _ := a.Date("birthday", c)
		next := time.Date(today.Year(), bd.Month(), bd.Day(), 0, 0, 0, 0, time.UTC)
		if next.Before(today) {
			next = next.AddDate(1, 0, 0)
		}
		d := int(next.Sub(today).Hours() / 24)
		require.True(t, d >= 0 && d <= 6, "%s: birthday in %d days", m.Customer, d)
		require.Equal(t, m.Customer+"@example.com", m.Email)
		require.Equal(t, "birthday gift", m.Offer)
	}
	// Everyone due and opted in is planned (no cap conflicts in a single
	// campaign), less those without content.
	want := 0
	for c := range affinity.CustomerID(h.NumCustomers()) {
		bd, _ := a.Date("birthday", c)
		next := time.Date(today.Year(), bd.Month(), bd.Day(), 0, 0, 0, 0, time.UTC)
		if next.Before(today) {
			next = next.AddDate(1, 0, 0)
		}
		if d := int(next.Sub(today).Hours() / 24); d <= 6 && c%3 != 0 && snap.Segments().All().Contains(uint32(c)) {
			want++
		}
	}
	require.Equal(t, want, p.Counts[0].Audience)
	_, err = campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{campaign.Birthday()}, campaign.Options{})
	require.ErrorContains(t, err, "birthday", "without attributes the birthday campaign cannot run")
}

// TestReadJSONTimeOffset: a plan's time with an offset RFC 3339 does not
// allow ("+24:00") read as a day earlier, which moved the sends the cap
// counts; it is an error, as in Purchase and Event.
func TestReadJSONTimeOffset(t *testing.T) {
	_, err := campaign.ReadJSON(strings.NewReader(`[{"campaign":"c","customer":"x","time":"2026-01-05T10:00:00+24:00","control":false,"items":[]}]`))
	require.ErrorContains(t, err, "UTC offset out of range")
	msgs, err := campaign.ReadJSON(strings.NewReader(`[{"campaign":"c","customer":"x","time":"2026-01-05T10:00:00+02:00","control":false,"items":[]}]`))
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].Time.Equal(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)))
}

// TestReadJSONUnknownFields: a plan's message or item with a field
// Message or Item does not have was read without it: a misspelt
// "control" made a held-out entry a send the cap counts as treated. It
// is an error naming the field.
func TestReadJSONUnknownFields(t *testing.T) {
	const good = `[{"campaign":"c","customer":"x","time":"2026-01-05T10:00:00Z","control":true,"items":[{"product":"p","name":"P","reason":"r"}]}]`
	msgs, err := campaign.ReadJSON(strings.NewReader(good))
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].Control)
	for _, field := range []string{"control", "product"} {
		bad := strings.Replace(good, `"`+field+`":`, `"`+field+`_x":`, 1)
		_, err := campaign.ReadJSON(strings.NewReader(bad))
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), `unknown field "`+field+`_x"`)
		require.True(t, strings.HasPrefix(err.Error(), "campaign: read JSON: "), err.Error())
	}
}
