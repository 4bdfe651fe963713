package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-query", `rfm("Champions") and recency <= 30d`}))
	s := out.String()
	for _, want := range []string{
		"format     synthetic", "customers          5000",
		"demo storefront: 5000 customers known as of 2025-12-30 23:59:59",
		"RFM segments",
		"segment              customers  share    revenue  revenue share    AOV",
		"Champions", "Hibernating", "Lifecycle", "loyal",
		"Favourite top-level category: top(X, 1)",
		"Category fans: affinity(X) >= 0.3 and lift(X) >= 2",
		"Where the Champions of 2025-09-30 are now",
		`Query rfm("Champions") and recency <= 30d`,
		"biggest spenders: c",
		"R×F grid: customers (share of revenue)",
	} {
		assert.Contains(t, s, want)
	}
	// the grid's 25 cells hold every customer with an order in the
	// look-back once: all 5,000 demo customers
	total, rows := 0, 0
	for _, line := range strings.Split(s, "\n") {
		if len(line) < 3 || line[0] != 'R' || line[1] < '1' || line[1] > '5' || line[2] != ' ' {
			continue
		}
		rows++
		for _, f := range strings.Fields(line)[1:] {
			if !strings.HasPrefix(f, "(") {
				n, err := strconv.Atoi(f)
				require.NoError(t, err, line)
				total += n
			}
		}
	}
	assert.Equal(t, 5, rows)
	assert.Equal(t, 5000, total)
}

func TestBadInput(t *testing.T) {
	// the errors found once the shop is open: the same on eight Online
	// Retail rows as on the demo storefront, at a fraction of the cost
	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	var out bytes.Buffer
	err := run(context.Background(), &out, &out, []string{"-data", path, "-query", `recency between 14d 28d`})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1, column 21")
	require.Error(t, run(context.Background(), &out, &out, []string{"-asof", "yesterday"}))
	err = run(context.Background(), &out, &out, []string{"-data", path, "-asof", "1999-01-01"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "before the first order")
	require.Error(t, run(context.Background(), &out, &out, []string{"-data", filepath.Join(t.TempDir(), "missing.csv")}))
	require.Error(t, run(context.Background(), &out, &out, []string{"extra"}))
}

// TestOnlineRetail runs the program on the UCI Online Retail file when the
// shared data folder is present. Loading the file and opening the shop
// take a second whatever the program does, so it runs in the long suite
// only; the quick suite loads the file in the dataset, segment, recommend
// and campaign tests, and runs the program on the demo (TestDemo).
func TestOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("real data: skipped in -short mode")
	}
	testdata.SkipUnlessLong(t)
	path := testdata.Shared(t, "online-retail/online_retail_2010-2011.csv.gz")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", path, "-format", "onlineretail", "-asof", "2011-12-10"}))
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "4339 customers known as of 2011-12-10 00:00:00")
	assert.Contains(t, s, "format     onlineretail")
	assert.Contains(t, s, "Champions")
	assert.Contains(t, s, "Bag (")
}

// TestBaskets runs the example on a file of baskets without customer ids:
// the summary, and no segment tables.
func TestBaskets(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", filepath.Join("..", "..", "dataset", "testdata", "baskets.csv"), "-format", "baskets"}))
	s := out.String()
	assert.Contains(t, s, "anonymous orders   6\n")
	assert.Contains(t, s, ": 0 customers known as of 2000-01-01 23:59:59")
	assert.Contains(t, s, "no segments: no order by then names its customer\n")
	assert.NotContains(t, s, "RFM segments")
}

// TestAsOfHelp: -h said the default as-of time was "the day after the
// last order"; it is the end of the last order's day, and -asof a date's
// 00:00 UTC, as the output says.
func TestAsOfHelp(t *testing.T) {
	var out, usage bytes.Buffer
	require.Error(t, run(context.Background(), &out, &usage, []string{"-h"}))
	assert.Contains(t, usage.String(), "00:00 UTC of that day (default: the end of the last order's day, 23:59:59 UTC)")
	path := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)) // last order 2011-01-03 10:00
	require.NoError(t, run(context.Background(), &out, &usage, []string{"-data", path, "-format", "onlineretail"}))
	assert.Contains(t, out.String(), "as of 2011-01-03 23:59:59")
	out.Reset()
	require.NoError(t, run(context.Background(), &out, &usage, []string{"-data", path, "-format", "onlineretail", "-asof", "2011-01-02"}))
	assert.Contains(t, out.String(), "as of 2011-01-02 00:00:00")
}
