package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-min-support", "5"}))
	s := out.String()
	assert.Contains(t, s, "demo storefront")
	rs := rows(t, s)
	require.Len(t, rs, 20, s)
	for i, r := range rs {
		assert.GreaterOrEqual(t, r.together, 5)
		if i > 0 {
			assert.LessOrEqual(t, r.lift, rs[i-1].lift, "ranked by lift")
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
		require.NoError(t, run(context.Background(), &out, &out, args), "%v", args)
		assert.Len(t, rows(t, out.String()), 5, "%v\n%s", args, out.String())
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, run(context.Background(), &out, &out, []string{"-measure", "magic"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-measure", "ease"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-scope", "galaxy"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-data", "no/such/file.csv"}))
}

// TestRunGroceries checks the printed rules against counts taken straight
// from the file.
func TestRunGroceries(t *testing.T) {
	path := filepath.Join(testdata.Shared(t, ""), "groceries", "groceries.csv")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", path, "-format", "baskets", "-top", "10"}))
	t.Log("\n" + out.String())
	rs := rows(t, out.String())
	require.Len(t, rs, 10)

	f, err := os.Open(path)
	require.NoError(t, err)
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
	require.NoError(t, sc.Err())
	require.Len(t, baskets, 9835)
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
		assert.Equal(t, nab, r.together, "%s → %s", r.a, r.b)
		assert.InDelta(t, float64(nab)/float64(na), r.conf, 0.0005, "confidence %s → %s", r.a, r.b)
		assert.InDelta(t, float64(nab)*float64(len(baskets))/(float64(na)*float64(nb)), r.lift, 0.005, "lift %s → %s", r.a, r.b)
	}
	// the best-known pair rule of this data set (Hahsler et al.)
	assert.Equal(t, "Instant food products", rs[0].a)
	assert.Equal(t, "hamburger meat", rs[0].b)
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
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", path, "-format", "onlineretail", "-top", "10"}))
	t.Log("\n" + out.String())
	rs := rows(t, out.String())
	require.Len(t, rs, 10)
	for _, r := range rs {
		assert.GreaterOrEqual(t, r.together, 20)
		assert.Greater(t, r.lift, 1.0, fmt.Sprint(r))
	}
}
