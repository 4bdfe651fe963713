package campaign_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlanEmailOfAttributesLoadedForAnotherHistory: attributes loaded for
// one History's index (before a reload that numbers the customers
// otherwise) give each message the e-mail of its own customer. The plan
// looked the address up by the snapshot's id in the attributes' own
// numbering, and wrote another customer's address on most messages.
func TestPlanEmailOfAttributesLoadedForAnotherHistory(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var w advBIWorld
	w.product("p", "P", "C", true)
	var keys []string
	for i := range 9 {
		keys = append(keys, fmt.Sprintf("c%02d", i))
	}
	for i, k := range keys {
		w.buy(k, asOf.AddDate(0, 0, -1-i), "p")
	}
	first := advBIOpen(t, w.history(t), asOf)
	slices.Reverse(w.lines) // the reload meets the customers in another order
	second := advBIOpen(t, w.history(t), asOf)

	x1, err := first.Snapshot().SegmentIndex(ctx)
	require.NoError(t, err)
	var src strings.Builder
	src.WriteString("customer,email\n")
	for _, k := range keys {
		fmt.Fprintf(&src, "%s,%s@example.com\n", k, k)
	}
	attrs, _, err := segment.LoadAttributes(strings.NewReader(src.String()), x1, segment.AttributeOptions{Texts: []string{"email"}})
	require.NoError(t, err)

	snap := second.Snapshot()
	moved := 0
	for _, k := range keys {
		a, _ := first.Snapshot().History().LookupCustomer(k)
		if b, _ := snap.History().LookupCustomer(k); a != b {
			moved++
		}
	}
	require.Positive(t, moved, "the reload numbers the customers otherwise")

	hello := campaign.Campaign{Name: "hello", Audience: "all", Content: campaign.NoProducts}
	p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{hello}, campaign.Options{Attributes: attrs, Cap: -1})
	require.NoError(t, err)
	require.Len(t, p.Messages, len(keys))
	for _, m := range p.Messages {
		assert.Equal(t, m.Customer+"@example.com", m.Email, m.Customer)
		assert.Equal(t, m.Customer, snap.History().CustomerKey(affinity.CustomerID(m.ID)))
	}
}
