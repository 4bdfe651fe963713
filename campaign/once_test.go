package campaign_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/campaign"
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
