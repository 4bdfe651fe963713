package campaign_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScheduleOncePerPurchase: a scheduled campaign reaches a customer
// once per purchase, whatever the spacing of the plans given the earlier
// plans' messages. The coupon's window (14 to 28 days) once sent it on
// days 14, 21 and 28 of weekly plans, the cap of one a week letting each
// through; after a new purchase it is due again.
func TestScheduleOncePerPurchase(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	for i := range 6 {
		w.product(fmt.Sprintf("p%d", i), fmt.Sprintf("P%d", i), "A/B", true)
	}
	for i := range 30 {
		w.buy(fmt.Sprintf("bg%d", i), t0.AddDate(0, 0, -60+i), fmt.Sprintf("p%d", i%6), fmt.Sprintf("p%d", (i+1)%6))
	}
	w.buy("alice", t0, "p0", "p1")
	w.buy("alice", t0.AddDate(0, 0, 35), "p2")
	h := w.history(t)
	for _, step := range []int{7, 1} { // weekly and daily plans
		t.Run(fmt.Sprintf("every %d days", step), func(t *testing.T) {
			var sent []campaign.Message
			var days []int
			controls := 0
			for d := 14; d <= 64; d += step {
				asOf := t0.AddDate(0, 0, d)
				c := campaign.Coupon()
				if d%2 == 0 {
					c.Control = 0.999999 // held out: reached as well
				} else {
					c.Control = -1
				}
				p, err := campaign.Build(context.Background(), advBIOpen(t, h, asOf).Snapshot(), asOf, []campaign.Campaign{c}, campaign.Options{Sent: sent})
				require.NoError(t, err)
				for _, m := range p.Messages {
					if m.Customer == "alice" {
						days = append(days, d)
						if m.Control {
							controls++
						}
					}
				}
				sent = append(sent, p.Messages...)
			}
			// once for the purchase on day 0 (due from day 14), once for
			// the one on day 35 (due from day 49)
			require.Len(t, days, 2, "days %v", days)
			assert.Equal(t, 14, days[0])
			assert.Equal(t, 49, days[1])
			assert.Equal(t, 1, controls, "held out on day 14 (reached all the same), sent on day 49")
		})
	}
	// without the earlier plans' messages, each plan is on its own
	var n int
	for _, d := range []int{14, 21, 28} {
		asOf := t0.AddDate(0, 0, d)
		c := campaign.Coupon()
		c.Control = -1
		p, err := campaign.Build(context.Background(), advBIOpen(t, h, asOf).Snapshot(), asOf, []campaign.Campaign{c}, campaign.Options{})
		require.NoError(t, err)
		for _, m := range p.Messages {
			if m.Customer == "alice" {
				n++
			}
		}
	}
	assert.Equal(t, 3, n)
}

// planKeys returns the customer keys of msgs, in plan order.
func planKeys(msgs []campaign.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Customer)
	}
	return out
}

// TestScheduleOncePerPurchaseAtLatestOrder: a shop opened without
// Options.AsOf plans as of its latest order, so the customer who placed
// it is reached at exactly their purchase's time. The next plan, given
// that plan's messages, must not reach them again for the same purchase,
// and reaches the customer whose order came in since.
func TestScheduleOncePerPurchaseAtLatestOrder(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	for i := range 3 {
		w.product(fmt.Sprintf("p%d", i), fmt.Sprintf("P%d", i), "A/B", true)
	}
	w.buy("a", t0.Add(-48*time.Hour), "p0", "p1")
	w.buy("b", t0.Add(-30*time.Hour), "p1", "p2")
	w.buy("x", t0, "p0") // the latest order: the plan's time
	s, err := shop.OpenHistory(ctx, w.history(t), shop.Options{Model: "neighbours", Workers: 1, RefreshWorkers: 1})
	require.NoError(t, err)
	defer s.Close()
	c := campaign.Campaign{Name: "thanks", Schedule: campaign.Schedule{MinDays: 0, MaxDays: 6}, Control: -1}
	snap := s.Snapshot()
	require.True(t, snap.AsOf().Equal(t0))
	p1, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{c}, campaign.Options{Cap: -1})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "x"}, planKeys(p1.Messages))

	// the next day another customer orders; nobody of the first plan did
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase{
		{Customer: "y", Order: "o9", Product: "p2", Time: t0.Add(24 * time.Hour), Quantity: 1, Price: 10_0000}}))))
	snap = s.Snapshot()
	p2, err := campaign.Build(ctx, snap, snap.AsOf(), []campaign.Campaign{c}, campaign.Options{Sent: p1.Messages, Cap: -1})
	require.NoError(t, err)
	assert.Equal(t, []string{"y"}, planKeys(p2.Messages), "a, b and x were reached after their last purchase")
}

// TestScheduleOncePerPurchaseSubSecond: plan times that are not whole
// seconds (Options.AsOf from a wall clock). The History keeps whole
// seconds, so a purchase in the send's second is one the send's
// snapshot held, whether it came a little before or a little after the
// send within that second: it is not due again. A purchase in the next
// second is.
func TestScheduleOncePerPurchaseSubSecond(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := campaign.Campaign{Name: "thanks", Schedule: campaign.Schedule{MinDays: 0, MaxDays: 6}, Control: -1}
	for _, tc := range []struct {
		name     string
		sent     time.Duration // the first plan's time after t0
		bought   time.Duration // x's purchase after t0
		dueAgain bool
	}{
		{"bought earlier in the send's second", 500 * time.Millisecond, 0, false},
		{"bought later in the send's second", 500 * time.Millisecond, 700 * time.Millisecond, false},
		{"sent at the second", 0, 0, false},
		{"bought the second after", 500 * time.Millisecond, 1200 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &advBIWorld{}
			w.product("p0", "P0", "A/B", true)
			w.product("p1", "P1", "A/B", true)
			w.buy("x", t0.Add(-2*time.Hour), "p1")
			w.buy("x", t0.Add(tc.bought), "p0")
			w.buy("y", t0.Add(-time.Hour), "p1")
			h := w.history(t)
			plan := func(at time.Time, sent []campaign.Message) []campaign.Message {
				p, err := campaign.Build(ctx, advBIOpen(t, h, at).Snapshot(), at, []campaign.Campaign{c}, campaign.Options{Sent: sent, Cap: -1})
				require.NoError(t, err)
				return p.Messages
			}
			first := plan(t0.Add(tc.sent), nil)
			require.Equal(t, []string{"x", "y"}, planKeys(first))
			second := plan(t0.Add(24*time.Hour+tc.sent), first)
			var want []string
			if tc.dueAgain {
				want = []string{"x"} // bought after the first plan's time
			}
			assert.Equal(t, want, planKeys(second))
		})
	}
}

// TestCapWindowWeeklyAcrossDST: weekly plans at local Monday 09:00 are
// 167 h apart across the spring daylight-saving change. The default
// window of 168 h still holds the previous plan's messages and caps
// everyone; the margin the documentation suggests lets the week's plan
// through.
func TestCapWindowWeeklyAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	mon1 := time.Date(2026, 3, 23, 9, 0, 0, 0, berlin)
	mon2 := mon1.AddDate(0, 0, 7) // 2026-03-30, after the change on the 29th
	require.Equal(t, 167*time.Hour, mon2.Sub(mon1))
	w := &advBIWorld{}
	w.product("p0", "P0", "A/B", true)
	for i := range 4 {
		w.buy(fmt.Sprintf("c%d", i), mon1.AddDate(0, 0, -30), "p0")
	}
	h := w.history(t)
	c := campaign.Campaign{Name: "news", Control: -1}
	first, err := campaign.Build(context.Background(), advBIOpen(t, h, mon1).Snapshot(), mon1, []campaign.Campaign{c}, campaign.Options{})
	require.NoError(t, err)
	require.Len(t, first.Messages, 4)
	for _, tc := range []struct {
		window time.Duration
		sent   int
	}{{0, 0}, {6 * 24 * time.Hour, 4}} {
		p, err := campaign.Build(context.Background(), advBIOpen(t, h, mon2).Snapshot(), mon2, []campaign.Campaign{c},
			campaign.Options{Sent: first.Messages, CapWindow: tc.window})
		require.NoError(t, err)
		assert.Len(t, p.Messages, tc.sent, "window %v", tc.window)
		assert.Equal(t, 4-tc.sent, p.Counts[0].Capped, "window %v", tc.window)
	}
}
