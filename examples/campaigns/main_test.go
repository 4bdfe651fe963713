package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/internal/testdata"
)

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-out", filepath.Join(dir, "lists"), "-png", filepath.Join(dir, "png")}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	for _, want := range []string{
		"format     synthetic", "customers          5000",
		"demo storefront: week's plan as of 2025-12-16 22:29:00",
		"abandoned-cart", "back-in-stock", "thank-you", "win-back", "coupon", "new-customers",
		"the cap removed", "Measurement (treated vs control", "Retention over the 6 months",
		"lists written to", "charts written to",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output does not contain %q; output:\n%s", want, s)
		}
	}
	for _, f := range []string{"png/rfm.png", "png/cohorts.png", "png/clv.png", "png/campaigns.png", "lists/plan.csv", "lists/plan.json", "lists/results.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := fi.Size(); got <= 0 {
			t.Errorf("%s: size %d, want > 0", f, got)
		}
	}
	f, err := os.Open(filepath.Join(dir, "lists", "plan.json"))
	if err != nil {
		t.Fatalf("open plan.json: %v", err)
	}
	defer f.Close()
	msgs, err := campaign.ReadJSON(f)
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	if len(msgs) == 0 {
		t.Fatalf("plan.json holds no messages")
	}
	csv, err := os.ReadFile(filepath.Join(dir, "lists", "plan.csv"))
	if err != nil {
		t.Fatalf("read plan.csv: %v", err)
	}
	if got, want := strings.Count(string(csv), "\n"), len(msgs)+1; got != want {
		t.Errorf("plan.csv has %d lines, want %d (one per message of plan.json and a header)", got, want)
	}
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
	if err := run(context.Background(), &out, []string{"-data", path, "-format", "onlineretail"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	for _, want := range []string{"format     onlineretail", "week's plan as of 2011-11-25", "thank-you", "win-back", "coupon", "Measurement"} {
		if !strings.Contains(s, want) {
			t.Errorf("output does not contain %q; output:\n%s", want, s)
		}
	}
}

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-control", "1"}); err == nil {
		t.Fatalf("-control 1: got no error, want one")
	}
	if err := run(context.Background(), &out, []string{"-days", "0"}); err == nil {
		t.Fatalf("-days 0: got no error, want one")
	}
	if err := run(context.Background(), &out, []string{"extra"}); err == nil {
		t.Fatalf("extra argument: got no error, want one")
	}
}

// TestShortHistory checks the message for a file whose orders span less
// than -days: the plan would come before every order.
func TestShortHistory(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, []string{"-data", filepath.Join("..", "..", "dataset", "testdata", "woocommerce_orders.csv"), "-format", "woocommerce"})
	if err == nil {
		t.Fatalf("got no error, want one")
	}
	if got, want := err.Error(), "the orders run from 2024-05-01 to 2024-05-03: a plan 14 days before the last order comes before them all; lower -days"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}
