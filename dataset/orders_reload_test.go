package dataset_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestOrderFormatReloadNearMaxMoney loads an export whose orders' gross
// value is near MaxMoney onto the History it built, as a shop refreshing
// from its newest export does: each order replaces its earlier version,
// so nothing is beyond MaxMoney. (The check counted the History's version
// of each order and its new put both, and refused the export's big
// order.) An order that does go beyond is still refused at its row.
func TestOrderFormatReloadNearMaxMoney(t *testing.T) {
	ctx := context.Background()
	big6 := (affinity.MaxMoney / 10 * 6).String() // two of them do not fit
	export := func(price string) string {
		return "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n" +
			"#1,ann@example.com,2024-03-01 10:00:00 +0000,1,Lamp,1.00,LAMP\n" +
			"#2,bob@example.com,2024-03-02 10:00:00 +0000,1,Gold," + price + ",GOLD\n"
	}
	var b affinity.Builder
	_, err := dataset.Load(ctx, strings.NewReader(export(big6)), &b, dataset.Options{Format: "shopify"})
	require.NoError(t, err)
	h, err := b.Build(ctx)
	require.NoError(t, err)

	nb := affinity.NewBuilder(h)
	rep, err := dataset.Load(ctx, strings.NewReader(export(big6)), nb, dataset.Options{Format: "shopify"})
	require.NoError(t, err, "each order replaces its version in the History")
	assert.Equal(t, 2, rep.Loaded)
	again, err := nb.Build(ctx)
	require.NoError(t, err)
	assert.Equal(t, h.Summary().Revenue, again.Summary().Revenue)

	// #2 edited to a ten-thousandth beyond MaxMoney with #1: refused at
	// its row
	nb = affinity.NewBuilder(h)
	_, err = dataset.Load(ctx, strings.NewReader(export((affinity.MaxMoney - 1_0000 + 1).String())), nb, dataset.Options{Format: "shopify"})
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
}
