package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
)

// TestCampaignChartNegativeRevenue: revenue per customer is net of the
// period's returns, so a group that returned more than it bought has a
// negative bar; the value axis started at 0 whatever the bars, which cut
// such a bar off (drawn as nothing, read as no revenue).
func TestCampaignChartNegativeRevenue(t *testing.T) {
	res := []campaign.Result{
		{Campaign: "a", Treated: campaign.Group{Customers: 1, RevenuePerCustomer: 4}, Control: campaign.Group{Customers: 1, RevenuePerCustomer: -7.5}, Confidence: 0.95},
		{Campaign: "b", Treated: campaign.Group{Customers: 1, RevenuePerCustomer: -2}, Control: campaign.Group{Customers: 1, RevenuePerCustomer: 1}, Confidence: 0.95},
	}
	p, err := campaignChart(res)
	require.NoError(t, err)
	assert.LessOrEqual(t, p.Y.Min, -7.5, "the lowest bar is on the chart")
	assert.GreaterOrEqual(t, p.Y.Max, 4.0)
}
