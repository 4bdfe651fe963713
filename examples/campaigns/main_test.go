package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-out", filepath.Join(dir, "lists"), "-png", filepath.Join(dir, "png")}))
	s := out.String()
	for _, want := range []string{
		"format     synthetic", "customers          5000",
		"demo storefront: week's plan as of 2025-12-16 22:29:00",
		"abandoned-cart", "back-in-stock", "thank-you", "win-back", "coupon", "new-customers",
		"the cap removed", "Measurement (treated vs control", "Retention over the 6 months",
		"lists written to", "charts written to",
	} {
		assert.Contains(t, s, want)
	}
	for _, f := range []string{"png/rfm.png", "png/cohorts.png", "png/clv.png", "png/campaigns.png", "lists/plan.csv", "lists/plan.json", "lists/results.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, fi.Size(), f)
	}
	f, err := os.Open(filepath.Join(dir, "lists", "plan.json"))
	require.NoError(t, err)
	defer f.Close()
	msgs, err := campaign.ReadJSON(f)
	require.NoError(t, err)
	require.NotEmpty(t, msgs)
	csv, err := os.ReadFile(filepath.Join(dir, "lists", "plan.csv"))
	require.NoError(t, err)
	assert.Equal(t, len(msgs)+1, strings.Count(string(csv), "\n"))
}

// TestOnlineRetail runs the program on the UCI Online Retail file. Loading
// it and opening the shop take a second or more, so it runs in the long
// suite only; the quick suite plans the built-in campaigns on that file in
// package campaign (TestBuiltinsOnlineRetail) and runs the program on the
// demo (TestDemo).
func TestOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("loads Online Retail")
	}
	testdata.SkipUnlessLong(t)
	testdata.SkipUnderRace(t)
	path := filepath.Join(testdata.Shared(t, ""), "online-retail", "online_retail_2010-2011.csv.gz")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", path, "-format", "onlineretail"}))
	s := out.String()
	for _, want := range []string{"format     onlineretail", "week's plan as of 2011-11-25", "thank-you", "win-back", "coupon", "Measurement"} {
		assert.Contains(t, s, want)
	}
}

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	require.Error(t, run(context.Background(), &out, &out, []string{"-control", "1"}))
	require.Error(t, run(context.Background(), &out, &out, []string{"-days", "0"}))
	require.Error(t, run(context.Background(), &out, &out, []string{"extra"}))
}

// TestShortHistory checks the message for a file whose orders span less
// than -days: the plan would come before every order.
func TestShortHistory(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, &out, []string{"-data", filepath.Join("..", "..", "dataset", "testdata", "woocommerce_orders.csv"), "-format", "woocommerce"})
	require.Error(t, err)
	assert.Equal(t, "the orders run from 2024-05-01 to 2024-05-03: a plan 14 days before the last order or event (2024-05-03) comes before them all; lower -days", err.Error())
}

// smallShop writes the orders of a generated storefront of 500 customers
// (a tenth of the demo's) to a file of the csv format and returns its
// path: for the checks that need a shop with prices, campaigns and
// cohorts but not the demo itself.
func smallShop(t *testing.T) string {
	t.Helper()
	st := dataset.Generate(dataset.SyntheticOptions{Customers: 500, Products: 200})
	var b strings.Builder
	b.WriteString("customer,order,time,product,quantity,price\n")
	for _, p := range st.Purchases {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%d,%s\n", p.Customer, p.Order, p.Time.Format(time.RFC3339), p.Product, p.Quantity, p.Price)
	}
	return testdata.WriteFile(t, "orders.csv", []byte(b.String()))
}

// TestNoControl: with -control 0 no campaign has a control group, and the
// run failed after writing three of the four charts; the chart of
// treated against control is now left out, and an earlier run's removed
// (it would be taken for this run's). The charts drawn replace the
// earlier ones, not overwrite them in place: a reader of the earlier
// rfm.png (a second link to it) keeps it whole. On a small generated
// shop: every campaign but the two of cart events plans messages there,
// all treated.
func TestNoControl(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "campaigns.png"), []byte("an earlier run's chart"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rfm.png"), []byte("an earlier run's chart"), 0o644))
	reader := filepath.Join(t.TempDir(), "rfm.png")
	require.NoError(t, os.Link(filepath.Join(dir, "rfm.png"), reader))
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", smallShop(t), "-format", "csv", "-control", "0", "-png", dir}))
	assert.Regexp(t, `(?m)^ +win-back +[1-9]\d* `, out.String(), "a campaign with an audience")
	assert.Contains(t, out.String(), " messages to send, 0 customers held out;")
	b, err := os.ReadFile(reader)
	require.NoError(t, err)
	assert.Equal(t, "an earlier run's chart", string(b), "rfm.png overwritten in place")
	assert.Contains(t, out.String(), "charts written to "+dir+": rfm.png, cohorts.png, clv.png\n")
	_, err = os.Stat(filepath.Join(dir, "campaigns.png"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestCampaignChartIntervals: the chart's doc promised the interval of
// the difference as error bars on the treated bars, and none was drawn.
// Each bar spans the control's revenue per customer plus the interval of
// Incremental per treated customer; a campaign with a group of one has
// none.
func TestCampaignChartIntervals(t *testing.T) {
	res := []campaign.Result{
		{Campaign: "a", Treated: campaign.Group{Customers: 10, RevenuePerCustomer: 5}, Control: campaign.Group{Customers: 4, RevenuePerCustomer: 3},
			Confidence: 0.95, Incremental: 20, IncrementalCI: [2]float64{-50, 50}},
		{Campaign: "b", Treated: campaign.Group{Customers: 8, RevenuePerCustomer: 2}, Control: campaign.Group{Customers: 1, RevenuePerCustomer: 9}},
		{Campaign: "c", Treated: campaign.Group{Customers: 8, RevenuePerCustomer: 2}},
	}
	names, _, _, eb, conf := campaignBars(res)
	require.Len(t, names, 2, "campaigns with a control group")
	require.Len(t, eb.lo, 2)
	assert.Equal(t, []float64{3 - 5, 3 + 5}, []float64{eb.lo[0], eb.hi[0]})
	assert.True(t, math.IsNaN(eb.lo[1]) && math.IsNaN(eb.hi[1]))
	assert.Equal(t, 0.95, conf)
	p, err := campaignChart(res)
	require.NoError(t, err)
	assert.Equal(t, -2.0, p.Y.Min, "the lowest interval's end")
	assert.Contains(t, p.X.Label.Text, "95 %")
	p, err = campaignChart(res[2:])
	require.NoError(t, err)
	assert.Nil(t, p)
}

// TestNoPrices: on a shop without prices every CLV is 0, and the CLV chart
// was an empty plot from −1 to 1; it is left out. A month that acquired
// nobody printed a month-1 retention of 0.0 %.
func TestNoPrices(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer,product,time\n")
	for c := range 60 {
		for m := 1 + c%3; m <= 6; m += 1 + c%2 {
			fmt.Fprintf(&b, "c%d,p%d,2024-%02d-%02d\n", c, (c+m)%7, m, 1+c%27)
		}
	}
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", testdata.WriteFile(t, "orders.csv", []byte(b.String())), "-format", "csv", "-png", dir}))
	assert.Contains(t, out.String(), "charts written to "+dir+": rfm.png, cohorts.png")
	// nobody was acquired in April: no retention rate, not 0.0 %
	assert.Contains(t, out.String(), " 2024-04 –")
	_, err := os.Stat(filepath.Join(dir, "clv.png"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestResultsShowAveragesRoundedOnce: revenue 1.25 over 10 customers and
// 10 orders is 0.125 a customer and an order, 0.13 in cents rounded half
// away from zero as Money.Format rounds; printing the float64 averages
// with %.2f rounded that binary value half to even, 0.12.
func TestResultsShowAveragesRoundedOnce(t *testing.T) {
	g := campaign.Group{Customers: 10, Converted: 10, Orders: 10, Revenue: 12500}
	g.Conversion = 1
	g.RevenuePerCustomer = g.Revenue.Float() / float64(g.Customers) // as Measure computes them
	g.AOV = g.Revenue.Float() / float64(g.Orders)
	var out bytes.Buffer
	require.NoError(t, printResults(&out, []campaign.Result{{Campaign: "spring", Treated: g, Control: g}}, nil))
	assert.Regexp(t, `spring\s+10\s+10\s+100\.0% / 100\.0%\s+0\.13 / 0\.13\s+0\.13 / 0\.13\s`, out.String())
}
