package main

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// cdnowSample returns the path of the CDNOW sample next to the repository,
// skipping the test when it is absent.
func cdnowSample(t *testing.T) string {
	t.Helper()
	return testdata.Shared(t, "cdnow/CDNOW_sample.txt")
}

// inDelta reports an error unless got lies within delta of want. As
// testify's InDelta, a NaN fails unless both values are NaN.
func inDelta(t *testing.T, want, got, delta float64, msg string) {
	t.Helper()
	if math.IsNaN(want) && math.IsNaN(got) {
		return
	}
	if math.IsNaN(want) || math.IsNaN(got) || math.Abs(want-got) > delta {
		t.Errorf("%s: got %v, want %v ± %v", msg, got, want, delta)
	}
}

func TestRunCDNOWReproducesPublishedFit(t *testing.T) {
	path := cdnowSample(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{
		"-data", path, "-format", "cdnow", "-calibration-end", "1997-09-30", "-unit", "week", "-customers", "4",
	}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	line := regexp.MustCompile(`(?m)^(r|alpha|a|b|loglik|p|q|gamma)\s+(\S+)\s+published (\S+)$`)
	rows := line.FindAllStringSubmatch(s, -1)
	if got, want := len(rows), 8; got != want {
		t.Fatalf("%d parameter rows, want %d; output:\n%s", got, want, s)
	}
	tol := map[string]float64{"r": 5e-5, "alpha": 5e-5, "a": 5e-5, "b": 5e-5, "loglik": 0.01, "p": 0.005, "q": 0.005, "gamma": 0.005}
	for _, r := range rows {
		got, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("%s: %v", r[1], err)
		}
		want, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatalf("%s: %v", r[1], err)
		}
		if published[r[1]] != want {
			t.Errorf("%s: printed published value %v, want %v", r[1], want, published[r[1]])
		}
		inDelta(t, want, got, tol[r[1]]+1e-9, r[1])
	}
	if want := "2357 customers, 946 with repeat purchases"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	if want := "total holdout purchases: actual 1882"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	// the first customer of the sample: x = 2, tₓ = 30.43, T = 38.86
	if rx := `00004\s+2\s+30\.43\s+38\.86\s+22\.3\d\s+1\.226\s+0\.727`; !regexp.MustCompile(rx).MatchString(s) {
		t.Errorf("output does not match %q; output:\n%s", rx, s)
	}
	if want := "top CLV decile"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
}

// TestRunCDNOWMBG runs -model mbgnbd on the CDNOW sample: BTYDplus's
// estimates, and a one-time buyer with P(alive) below 1.
func TestRunCDNOWMBG(t *testing.T) {
	path := cdnowSample(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{
		"-data", path, "-format", "cdnow", "-calibration-end", "1997-09-30", "-unit", "week", "-customers", "4", "-model", "mbgnbd",
	}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	line := regexp.MustCompile(`(?m)^(r|alpha|a|b|loglik|p|q|gamma)\s+(\S+)\s+published (\S+)$`)
	rows := line.FindAllStringSubmatch(s, -1)
	if got, want := len(rows), 7; got != want { // no published log-likelihood
		t.Fatalf("%d parameter rows, want %d; output:\n%s", got, want, s)
	}
	for _, r := range rows {
		got, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("%s: %v", r[1], err)
		}
		want, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatalf("%s: %v", r[1], err)
		}
		if publishedMBG[r[1]] != want {
			t.Errorf("%s: printed published value %v, want %v", r[1], want, publishedMBG[r[1]])
		}
		inDelta(t, want, got, 0.0005+1e-9, r[1])
	}
	if want := "MBG/NBD on 2357 customers"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	// customer 00050 bought once, 38.86 weeks before the calibration end
	if rx := `00050\s+0\s+0\.00\s+38\.86\s+0\.00\s+0\.154\s+0\.390`; !regexp.MustCompile(rx).MatchString(s) {
		t.Errorf("output does not match %q; output:\n%s", rx, s)
	}
}

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-customers", "3", "-unit", "day"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	if want := "demo storefront"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	if rx := `(?m)^r\s+\d`; !regexp.MustCompile(rx).MatchString(s) {
		t.Errorf("output does not match %q; output:\n%s", rx, s)
	}
	if rx := `(?m)^gamma\s+\d`; !regexp.MustCompile(rx).MatchString(s) {
		t.Errorf("output does not match %q; output:\n%s", rx, s)
	}
	if bad := "published"; strings.Contains(s, bad) {
		t.Errorf("the published values belong to CDNOW only: output contains %q; output:\n%s", bad, s)
	}
	// The demo's customers differ in drop-out: exact maximum likelihood
	// converges, no penalty needed.
	if bad := "refitted with penalty"; strings.Contains(s, bad) {
		t.Errorf("the demo's BG/NBD fit needs no penalty: output contains %q; output:\n%s", bad, s)
	}
	if bad := "NaN"; strings.Contains(s, bad) {
		t.Errorf("output contains %q; output:\n%s", bad, s)
	}
	if want := "holdout"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	if want := "12 months to"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	ctx := context.Background()
	for _, args := range [][]string{
		{"-unit", "fortnight"},
		{"-calibration-end", "30/09/1997"},
		{"-months", "0"},
		{"-model", "pareto"},
		{"-data", "no/such/file.txt"},
		{"-data", "main.go", "-format", "nope"},
	} {
		if err := run(ctx, &out, args); err == nil {
			t.Errorf("%q: got no error, want one", args)
		}
	}
}
