package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, shop.Demo(), nil); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	for _, section := range []string{"# The shop", "rows", "# RFM segments as of 2025-12-30 23:59:59", "# Coupon campaign", "# Thank-you mail for "} {
		if !strings.Contains(s, section) {
			t.Errorf("output does not contain %q; output:\n%s", section, s)
		}
	}
	for _, seg := range []string{"Champions", "Loyal", "At risk", "Can't lose them", "Hibernating", "Lost"} {
		if rx := "(?m)^" + regexp.QuoteMeta(seg) + ` +\d+`; !regexp.MustCompile(rx).MatchString(s) {
			t.Errorf("output does not match %q; output:\n%s", rx, s)
		}
	}
	m := regexp.MustCompile(`coupon: (\d+) customers`).FindStringSubmatch(s)
	if got, want := len(m), 2; got != want {
		t.Fatalf("coupon count: match %q has %d elements, want %d; output:\n%s", m, got, want, s)
	}
	n, _ := strconv.Atoi(m[1])
	if n <= 0 {
		t.Errorf("the coupon segment is not empty: %d customers, want > 0", n)
	}
	recs := regexp.MustCompile(`(?m)^\d\. p\d{5} .*bought together with .* in \d+ orders — \d+\.\d× more often than chance`).FindAllString(s, -1)
	if got, want := len(recs), 3; got < want {
		t.Errorf("cross-sell products with their reasons: %d, want ≥ %d; output:\n%s", got, want, s)
	}
	if got, want := len(regexp.MustCompile(`(?m)^\d\. p\d{5} `).FindAllString(s, -1)), 5; got != want {
		t.Errorf("five cross-sell products: got %d, want %d; output:\n%s", got, want, s)
	}
	if rx := `lift 0\.|\b0\.\d+×`; regexp.MustCompile(rx).MatchString(s) {
		t.Errorf("no pair bought together less than chance is a reason: output matches %q; output:\n%s", rx, s)
	}
	if rx := `(?m)^  c\d{6} spent \d+\.\d\d in \d+ orders`; !regexp.MustCompile(rx).MatchString(s) {
		t.Errorf("the coupon's top spenders: output does not match %q; output:\n%s", rx, s)
	}

	var again bytes.Buffer
	if err := run(context.Background(), &again, shop.Demo(), nil); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if again.String() != s {
		t.Errorf("same data, same output: second run printed\n%s\nfirst run printed\n%s", again.String(), s)
	}
}

// TestQuickstartBaskets runs the quickstart on a file of baskets without
// customer ids: no segments, and the last basket's cross-sell.
func TestQuickstartBaskets(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, shop.File(filepath.Join("..", "..", "dataset", "testdata", "baskets.csv"), "baskets"), nil); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	if want := "# Segments\nnone: no order names its customer\n"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	if bad := "# RFM segments"; strings.Contains(s, bad) {
		t.Errorf("output contains %q; output:\n%s", bad, s)
	}
	if want := "# Bought together with the last order: citrus fruit, semi-finished bread, margarine, ready soups\n"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	if got, want := len(regexp.MustCompile(`(?m)^\d\. `).FindAllString(s, -1)), 5; got != want {
		t.Errorf("%d numbered lines, want %d; output:\n%s", got, want, s)
	}

	path := filepath.Join(testdata.Shared(t, ""), "groceries", "groceries.csv")
	out.Reset()
	if err := run(context.Background(), &out, shop.File(path, "baskets"), nil); err != nil {
		t.Fatalf("run on groceries: %v", err)
	}
	s = out.String()
	if want := "anonymous orders   9835"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	if want := "# Bought together with the last order: citrus fruit, semi-finished bread, margarine, ready soups\n"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	recs := regexp.MustCompile(`(?m)^\d\. .*bought together with .* in \d+ orders — \d+\.\d× more often than chance`).FindAllString(s, -1)
	if got, want := len(recs), 3; got < want {
		t.Errorf("%d cross-sell products with their reasons, want ≥ %d; output:\n%s", got, want, s)
	}
}
