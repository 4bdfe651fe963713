package campaign_test

import (
	"testing"
	"time"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Birthday counts UTC days, as its documentation says: a Berlin plan on
// Monday 1 June 2026 at 00:30 is on Sunday 31 May in UTC and reaches the
// birthdays of Sunday to Saturday; at 09:00 those of Monday to Sunday.
func TestBirthdayCountsUTCDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	d := func(m time.Month, day int) time.Time { return time.Date(1990, m, day, 0, 0, 0, 0, time.UTC) }
	bds := map[string]time.Time{"sun-before": d(5, 31), "mon": d(6, 1), "sat": d(6, 6), "sun-after": d(6, 7)}
	for _, tc := range []struct {
		name string
		asOf time.Time
		want []string
	}{
		{"00:30", time.Date(2026, 6, 1, 0, 30, 0, 0, berlin), []string{"mon", "sat", "sun-before"}},
		{"09:00", time.Date(2026, 6, 1, 9, 0, 0, 0, berlin), []string{"mon", "sat", "sun-after"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &advBIWorld{}
			w.product("p", "P", "A/B", true)
			for _, k := range []string{"mon", "sat", "sun-after", "sun-before"} {
				w.buy(k, tc.asOf.AddDate(0, -1, 0), "p")
			}
			h := w.history(t)
			var a segment.Attributes
			for k, b := range bds {
				id, ok := h.LookupCustomer(k)
				require.True(t, ok)
				require.NoError(t, a.SetDate("birthday", id, b))
			}
			assert.Equal(t, tc.want, advBIMembers(t, campaign.Birthday(), advBIOpen(t, h, tc.asOf).Snapshot(), &a))
		})
	}
}
