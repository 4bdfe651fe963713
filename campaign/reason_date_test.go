package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The date of an abandoned-cart or back-in-stock reason is the day in the
// plan's location: a New York cart on Sunday evening (Monday in UTC) reads
// Sunday's date, whatever the location the shop was opened in.
func TestEventReasonDateInPlanLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, ny)
	w := &advBIWorld{}
	w.product("p0", "P0", "A/B", true)
	w.buy("c", asOf.AddDate(0, -2, 0), "p0")
	w.ev("c", "p0", time.Date(2026, 3, 1, 21, 0, 0, 0, ny), affinity.Cart) // Sunday evening in New York
	h := w.history(t)
	cart := campaign.AbandonedCartReminder()
	cart.Control = -1
	back := campaign.BackInStockAlert("p0")
	back.Control = -1
	for _, tc := range []struct {
		name       string
		open, plan time.Time
		cart, back string
	}{
		{"New York", asOf, asOf, "left in the cart on 2026-03-01", "looked at on 2026-03-01, back in stock"},
		{"shop in UTC, plan in New York", asOf.UTC(), asOf, "left in the cart on 2026-03-01", "looked at on 2026-03-01, back in stock"},
		{"UTC", asOf.UTC(), asOf.UTC(), "left in the cart on 2026-03-02", "looked at on 2026-03-02, back in stock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := advBIOpen(t, h, tc.open).Snapshot()
			for _, c := range []struct {
				c    campaign.Campaign
				want string
			}{{cart, tc.cart}, {back, tc.back}} {
				p, err := campaign.Build(context.Background(), snap, tc.plan, []campaign.Campaign{c.c}, campaign.Options{})
				require.NoError(t, err)
				require.Len(t, p.Messages, 1)
				require.NotEmpty(t, p.Messages[0].Items)
				assert.Equal(t, c.want, p.Messages[0].Items[0].Reason, c.c.Name)
			}
		})
	}
}
