package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// cdnowSample returns the path of the CDNOW sample next to the repository,
// skipping the test when it is absent.
func cdnowSample(t *testing.T) string {
	t.Helper()
	return testdata.Shared(t, "cdnow/CDNOW_sample.txt")
}

func TestRunCDNOWReproducesPublishedFit(t *testing.T) {
	path := cdnowSample(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{
		"-data", path, "-format", "cdnow", "-calibration-end", "1997-09-30", "-unit", "week", "-customers", "4",
	}))
	s := out.String()
	line := regexp.MustCompile(`(?m)^(r|alpha|a|b|loglik|p|q|gamma)\s+(\S+)\s+published (\S+)$`)
	rows := line.FindAllStringSubmatch(s, -1)
	require.Len(t, rows, 8, s)
	tol := map[string]float64{"r": 5e-5, "alpha": 5e-5, "a": 5e-5, "b": 5e-5, "loglik": 0.01, "p": 0.005, "q": 0.005, "gamma": 0.005}
	for _, r := range rows {
		got, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		want, err := strconv.ParseFloat(r[3], 64)
		require.NoError(t, err)
		assert.Equal(t, published[r[1]], want)
		assert.InDelta(t, want, got, tol[r[1]]+1e-9, r[1])
	}
	assert.Contains(t, s, "2357 customers, 946 with repeat purchases")
	assert.Contains(t, s, "total holdout purchases: actual 1882")
	// the first customer of the sample: x = 2, tₓ = 30.43, T = 38.86
	assert.Regexp(t, `00004\s+2\s+30\.43\s+38\.86\s+22\.3\d\s+1\.226\s+0\.727`, s)
	assert.Contains(t, s, "top CLV decile")
}

// TestRunCDNOWMBG runs -model mbgnbd on the CDNOW sample: BTYDplus's
// estimates, and a one-time buyer with P(alive) below 1.
func TestRunCDNOWMBG(t *testing.T) {
	path := cdnowSample(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{
		"-data", path, "-format", "cdnow", "-calibration-end", "1997-09-30", "-unit", "week", "-customers", "4", "-model", "mbgnbd",
	}))
	s := out.String()
	line := regexp.MustCompile(`(?m)^(r|alpha|a|b|loglik|p|q|gamma)\s+(\S+)\s+published (\S+)$`)
	rows := line.FindAllStringSubmatch(s, -1)
	require.Len(t, rows, 7, s) // no published log-likelihood
	for _, r := range rows {
		got, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		want, err := strconv.ParseFloat(r[3], 64)
		require.NoError(t, err)
		assert.Equal(t, publishedMBG[r[1]], want)
		assert.InDelta(t, want, got, 0.0005+1e-9, r[1])
	}
	assert.Contains(t, s, "MBG/NBD on 2357 customers")
	// customer 00050 bought once, 38.86 weeks before the calibration end
	assert.Regexp(t, `00050\s+0\s+0\.00\s+38\.86\s+0\.00\s+0\.154\s+0\.390`, s)
}

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-customers", "3", "-unit", "day"}))
	s := out.String()
	assert.Contains(t, s, "demo storefront")
	assert.Regexp(t, `(?m)^r\s+\d`, s)
	assert.Regexp(t, `(?m)^gamma\s+\d`, s)
	assert.NotContains(t, s, "published", "the published values belong to CDNOW only")
	// The demo's customers differ in drop-out: exact maximum likelihood
	// converges, no penalty needed.
	assert.NotContains(t, s, "refitted with penalty", "the demo's BG/NBD fit needs no penalty")
	assert.NotContains(t, s, "NaN")
	assert.Contains(t, s, "holdout")
	assert.Contains(t, s, "12 months to")
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	ctx := context.Background()
	assert.Error(t, run(ctx, &out, &out, []string{"-unit", "fortnight"}))
	assert.Error(t, run(ctx, &out, &out, []string{"-calibration-end", "30/09/1997"}))
	assert.Error(t, run(ctx, &out, &out, []string{"-months", "0"}))
	assert.Error(t, run(ctx, &out, &out, []string{"-model", "pareto"}))
	assert.Error(t, run(ctx, &out, &out, []string{"-data", "no/such/file.txt"}))
	assert.Error(t, run(ctx, &out, &out, []string{"-data", "main.go", "-format", "nope"}))
}

// TestHistoricalShowsAOVRoundedOnce: 199 orders of 10.00 and one of 10.99
// are 2000.99 over 200 orders, an AOV of exactly 10.00495, which the
// 12-month line shows as 10.00 in cents; Window.AOV (10.0050, in Money
// units) formatted to cents showed 10.01.
func TestHistoricalShowsAOVRoundedOnce(t *testing.T) {
	var b affinity.Builder
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	for i := range 200 {
		price := affinity.Money(100000)
		if i == 199 {
			price = 109900
		}
		require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "mug", Order: "o" + strconv.Itoa(i),
			Time: t0.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: price}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, historical(context.Background(), &out, h, config{calEnd: t0.AddDate(0, 1, 0)}))
	assert.Contains(t, out.String(), "200 orders, spend 2000.99, AOV 10.00,")
}
