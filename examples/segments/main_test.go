package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-query", `rfm("Champions") and recency <= 30d`}); err != nil {
		t.Fatalf("run: %v", err)
	}
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
		if !strings.Contains(s, want) {
			t.Errorf("output does not contain %q; output:\n%s", want, s)
		}
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
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				total += n
			}
		}
	}
	if want := 5; rows != want {
		t.Errorf("R×F grid has %d rows, want %d; output:\n%s", rows, want, s)
	}
	if want := 5000; total != want {
		t.Errorf("R×F grid holds %d customers, want %d; output:\n%s", total, want, s)
	}
}

func TestBadInput(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, []string{"-query", `recency between 14d 28d`})
	if err == nil {
		t.Fatalf("bad query: got no error, want one")
	}
	if want := "line 1, column 21"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err.Error(), want)
	}
	if err := run(context.Background(), &out, []string{"-asof", "yesterday"}); err == nil {
		t.Fatalf("-asof yesterday: got no error, want one")
	}
	if err := run(context.Background(), &out, []string{"-asof", "1999-01-01"}); err == nil {
		t.Fatalf("-asof 1999-01-01: got no error, want one")
	}
	if err := run(context.Background(), &out, []string{"-data", filepath.Join(t.TempDir(), "missing.csv")}); err == nil {
		t.Fatalf("-data missing.csv: got no error, want one")
	}
	if err := run(context.Background(), &out, []string{"extra"}); err == nil {
		t.Fatalf("extra argument: got no error, want one")
	}
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
	if err := run(context.Background(), &out, []string{"-data", path, "-format", "onlineretail", "-asof", "2011-12-10"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	t.Log("\n" + s)
	for _, want := range []string{"4339 customers known as of 2011-12-10 00:00:00", "format     onlineretail", "Champions", "Bag ("} {
		if !strings.Contains(s, want) {
			t.Errorf("output does not contain %q", want)
		}
	}
}

// TestBaskets runs the example on a file of baskets without customer ids:
// the summary, and no segment tables.
func TestBaskets(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-data", filepath.Join("..", "..", "dataset", "testdata", "baskets.csv"), "-format", "baskets"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	for _, want := range []string{"anonymous orders   6\n", ": 0 customers known as of 2000-01-01 23:59:59", "no segments: no order by then names its customer\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("output does not contain %q; output:\n%s", want, s)
		}
	}
	if bad := "RFM segments"; strings.Contains(s, bad) {
		t.Errorf("output contains %q; output:\n%s", bad, s)
	}
}
