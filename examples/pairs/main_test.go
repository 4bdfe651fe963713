package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

var rowRE = regexp.MustCompile(`(?m)^\s+(\d+)\s+(.+?)\s+→\s+(.+?)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)\s+([\d.]+)`)

type row struct {
	a, b     string
	together int
	conf     float64
	lift     float64
}

func rows(t *testing.T, out string) []row {
	var rs []row
	for _, m := range rowRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[4])
		conf, _ := strconv.ParseFloat(m[6], 64)
		lift, _ := strconv.ParseFloat(m[7], 64)
		rs = append(rs, row{a: m[2], b: m[3], together: n, conf: conf, lift: lift})
	}
	return rs
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

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-min-support", "5"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	if want := "demo storefront"; !strings.Contains(s, want) {
		t.Errorf("output does not contain %q; output:\n%s", want, s)
	}
	rs := rows(t, s)
	if got, want := len(rs), 20; got != want {
		t.Fatalf("%d rules, want %d; output:\n%s", got, want, s)
	}
	for i, r := range rs {
		if want := 5; r.together < want {
			t.Errorf("%s → %s: bought together %d times, want ≥ %d", r.a, r.b, r.together, want)
		}
		if i > 0 {
			if !(r.lift <= rs[i-1].lift) {
				t.Errorf("ranked by lift: rule %d (%s → %s) has lift %v, want ≤ %v of the rule before", i+1, r.a, r.b, r.lift, rs[i-1].lift)
			}
		}
	}
}

func TestRunMeasuresAndScopes(t *testing.T) {
	for _, args := range [][]string{
		{"-measure", "npmi", "-scope", "customer", "-top", "5"},
		{"-measure", "confidence", "-scope", "sequential", "-top", "5", "-min-support", "3"},
		{"-measure", "lift", "-shrinkage", "10", "-top", "5", "-min-support", "3"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got, want := len(rows(t, out.String())), 5; got != want {
			t.Errorf("%v: %d rules, want %d; output:\n%s", args, got, want, out.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{
		{"-measure", "magic"},
		{"-measure", "ease"},
		{"-scope", "galaxy"},
		{"-data", "no/such/file.csv"},
	} {
		if err := run(context.Background(), &out, args); err == nil {
			t.Errorf("%q: got no error, want one", args)
		}
	}
}

// TestRunGroceries checks the printed rules against counts taken straight
// from the file.
func TestRunGroceries(t *testing.T) {
	path := filepath.Join(testdata.Shared(t, ""), "groceries", "groceries.csv")
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-data", path, "-format", "baskets", "-top", "10"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Log("\n" + out.String())
	rs := rows(t, out.String())
	if got, want := len(rs), 10; got != want {
		t.Fatalf("%d rules, want %d", got, want)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var baskets []map[string]bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		set := map[string]bool{}
		for _, item := range strings.Split(sc.Text(), ",") {
			set[strings.TrimSpace(item)] = true
		}
		baskets = append(baskets, set)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if got, want := len(baskets), 9835; got != want {
		t.Fatalf("%d baskets, want %d", got, want)
	}
	for _, r := range rs {
		na, nb, nab := 0, 0, 0
		for _, s := range baskets {
			if s[r.a] {
				na++
			}
			if s[r.b] {
				nb++
			}
			if s[r.a] && s[r.b] {
				nab++
			}
		}
		if r.together != nab {
			t.Errorf("%s → %s: bought together %d times, want %d", r.a, r.b, r.together, nab)
		}
		inDelta(t, float64(nab)/float64(na), r.conf, 0.0005, fmt.Sprintf("confidence %s → %s", r.a, r.b))
		inDelta(t, float64(nab)*float64(len(baskets))/(float64(na)*float64(nb)), r.lift, 0.005, fmt.Sprintf("lift %s → %s", r.a, r.b))
	}
	// the best-known pair rule of this data set (Hahsler et al.)
	if got, want := rs[0].a, "Instant food products"; got != want {
		t.Errorf("first rule's antecedent %q, want %q", got, want)
	}
	if got, want := rs[0].b, "hamburger meat"; got != want {
		t.Errorf("first rule's consequent %q, want %q", got, want)
	}
}

// TestRunOnlineRetail runs the program on the UCI Online Retail file. Its
// 530,000 lines take a second to load and count, so it runs in the long
// suite only; the quick suite runs the program on the Groceries file
// (TestRunGroceries) and the demo.
func TestRunOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 530,000 lines")
	}
	testdata.SkipUnlessLong(t)
	path := filepath.Join(testdata.Shared(t, ""), "online-retail", "online_retail_2010-2011.csv.gz")
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-data", path, "-format", "onlineretail", "-top", "10"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Log("\n" + out.String())
	rs := rows(t, out.String())
	if got, want := len(rs), 10; got != want {
		t.Fatalf("%d rules, want %d", got, want)
	}
	for _, r := range rs {
		if want := 20; r.together < want {
			t.Errorf("%s → %s: bought together %d times, want ≥ %d", r.a, r.b, r.together, want)
		}
		if want := 1.0; !(r.lift > want) {
			t.Errorf("%s: lift %v, want > %v", fmt.Sprint(r), r.lift, want)
		}
	}
}
