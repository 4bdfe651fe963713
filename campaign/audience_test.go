package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An audience is a query of its own: text that only parses once pasted
// next to the schedule (unbalanced parentheses) is an error, and does not
// reach customers the schedule leaves out.
func TestAudienceCannotEscapeSchedule(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("p", "P", "A/B", true)
	w.buy("due", asOf.AddDate(0, 0, -20), "p")
	w.buy("notdue", asOf.AddDate(0, 0, -2), "p")
	h := w.history(t)
	snap := advBIOpen(t, h, asOf).Snapshot()
	for _, aud := range []string{"frequency >= 1) or (frequency >= 1", "frequency >= 1) or (all"} {
		t.Run(aud, func(t *testing.T) {
			c := campaign.Coupon()
			c.Audience = aud
			_, err := c.Members(context.Background(), snap, nil)
			var se *segment.SyntaxError
			require.ErrorAs(t, err, &se, "not a query on its own")
			assert.Equal(t, 1, se.Line, "positioned in the audience text")
			assert.Less(t, se.Offset, len(aud)+1, "positioned in the audience text")
			_, err = campaign.Build(context.Background(), snap, asOf, []campaign.Campaign{c}, campaign.Options{})
			require.Error(t, err)
		})
	}
	c := campaign.Coupon()
	c.Audience = "frequency >= 1 or frequency >= 1"
	assert.Equal(t, []string{"due"}, advBIMembers(t, c, snap, nil), "the schedule holds for a valid audience with or")
}

// Errors of an audience give the line and column in the audience text,
// not in a query the campaign made of it.
func TestAudienceErrorsPositionedInAudienceText(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := &advBIWorld{}
	w.product("p", "P", "A/B", true)
	w.buy("a", asOf.AddDate(0, 0, -20), "p")
	snap := advBIOpen(t, w.history(t), asOf).Snapshot()
	x, err := snap.SegmentIndex(context.Background())
	require.NoError(t, err)
	for _, aud := range []string{"# everyone", "frequency >= 1 and\n  affinity(\"Nope\") >= 0.3", "recency >="} {
		t.Run(aud, func(t *testing.T) {
			_, want := x.Query(aud)
			require.Error(t, want)
			c := campaign.Coupon()
			c.Audience = aud
			_, err := c.Members(context.Background(), snap, nil)
			require.Error(t, err)
			assert.ErrorContains(t, err, want.Error(), "the error of the audience alone")
		})
	}
}
