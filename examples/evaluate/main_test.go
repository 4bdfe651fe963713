package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func runArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// A ready split in u.data layout whose popular row is computed by hand.
//
// Training popularity (distinct users): item 10 by users 1, 2, 4; 20 by
// 2, 3; 30 by 3, 4; 40 by 4. Popular ranks 10, 20, 30, 40 (ties by first
// appearance). Test: user 1 rates 20 and 40, user 3 rates 10, user 5 is
// not in training (cold). Rating data: seen items are excluded.
//
// K = 2. User 1 (seen {10}) gets [20, 30]: hit at 1 of R = {20, 40}:
// precision 1/2, recall 1/2, NDCG 1/(1 + 1/log2 3) = 0.613147, AP (1/1)/2.
// User 3 (seen {20, 30}) gets [10, 40]: hit at 1 of R = {10}: precision
// 1/2, recall 1, NDCG 1, AP 1. Means: precision 0.5, recall 0.75, NDCG
// 0.806574, MAP (1/2 + 1)/2 = 0.75, hit 1; coverage {10, 20, 30, 40} of 4 = 1.
func TestRunReadySplitHandComputed(t *testing.T) {
	train := write(t, "u1.base", "1\t10\t5\t100\n2\t10\t4\t100\n2\t20\t3\t100\n3\t20\t5\t100\n3\t30\t1\t100\n4\t10\t2\t100\n4\t30\t4\t100\n4\t40\t5\t100\n")
	test := write(t, "u1.test", "1\t20\t4\t200\n1\t40\t2\t200\n3\t10\t5\t200\n5\t10\t3\t200\n")
	out, errOut, err := runArgs(t, "-train", train, "-test", test, "-k", "2", "-recommenders", "popular")
	require.NoError(t, err, errOut)
	want := "| recommender | precision@2 | recall@2 | ndcg@2 | map@2 | hit@2 | coverage |\n" +
		"|---|---:|---:|---:|---:|---:|---:|\n" +
		"| popular | 0.5000 | 0.7500 | 0.8066 | 0.7500 | 1.0000 | 1.0000 |\n"
	// NDCG per customer 0.613147 and 1: standard error |1 − 0.613147|/2
	// = 0.193426; t with 1 degree of freedom 12.7062: ± 2.457755
	best := "\nndcg@2, mean ± standard error [95 % interval] over the customers:\n" +
		"  best       popular 0.8066 ± 0.1934 [-1.6511, 3.2643]\n"
	tables := "all items (2 customers)\n\n" + want + best + "\nexplore: items new to the customer (2 customers)\n\n" + want + best
	assert.True(t, strings.HasSuffix(out, "\n"+tables), out)
	assert.Contains(t, out, "1 cold customers skipped")
	assert.Contains(t, out, "training are left out of their recommendations")
	// both load reports and the training summary come first
	assert.Regexp(t, `(?s)^training file:\n.*loaded +8\n.*test file:\n.*loaded +4\n.*customers +4\n`, out)

	// -min-rating 3 drops user 1's 2-star rating of 40: R = {20}, recall 1
	// for both users; -map min divides user 1's AP by min(2, 1) = 1
	out, _, err = runArgs(t, "-train", train, "-test", test, "-k", "2", "-recommenders", "popular", "-min-rating", "3", "-metrics", "recall,map,mrr")
	require.NoError(t, err)
	assert.Contains(t, out, "| popular | 1.0000 | 1.0000 | 1.0000 |\n")
}

// TestRunCompareHandComputed: below each table, the best two rows and
// their paired difference. On the ready split of
// TestRunReadySplitHandComputed with training items excluded, repeat
// lists nothing (0 for both customers), so the difference popular −
// repeat is popular's own values: MAP 1/2 and 1, mean 0.75, standard error
// 0.25, t with 1 degree of freedom 12.7062: ± 3.176551.
func TestRunCompareHandComputed(t *testing.T) {
	train := write(t, "u1.base", "1\t10\t5\t100\n2\t10\t4\t100\n2\t20\t3\t100\n3\t20\t5\t100\n3\t30\t1\t100\n4\t10\t2\t100\n4\t30\t4\t100\n4\t40\t5\t100\n")
	test := write(t, "u1.test", "1\t20\t4\t200\n1\t40\t2\t200\n3\t10\t5\t200\n5\t10\t3\t200\n")
	out, _, err := runArgs(t, "-train", train, "-test", test, "-k", "2", "-recommenders", "repeat,popular", "-compare", "map", "-metrics", "map")
	require.NoError(t, err)
	assert.Contains(t, out, "| repeat | 0.0000 |\n| popular | 0.7500 |\n\nmap@2, mean ± standard error [95 % interval] over the customers:\n"+
		"  best       popular 0.7500 ± 0.2500 [-2.4266, 3.9266]\n"+
		"  runner-up  repeat  0.0000 ± 0.0000 [0.0000, 0.0000]\n"+
		"  difference +0.7500 ± 0.2500 [-2.4266, +3.9266], paired over 2 customers: within noise\n")

	for _, bad := range []string{"coverage", "novelty", "f1"} {
		_, _, err := runArgs(t, "-train", train, "-test", test, "-compare", bad)
		assert.ErrorContains(t, err, "-compare", bad)
	}
}

// ratingsFile writes a u.data-style file of users with a taste for one of
// four item groups.
func ratingsFile(t *testing.T, users, items int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for u := 1; u <= users; u++ {
		group := rng.IntN(4)
		for j := range 15 {
			item := rng.IntN(items)
			if rng.Float64() < 0.8 {
				item = item/4*4 + group
			}
			fmt.Fprintf(&b, "%d\t%d\t%d\t%d\n", u, item+1, 1+rng.IntN(5), 880000000+u*1000+j*60)
		}
	}
	return write(t, "u.data", b.String())
}

func TestRunDataSplits(t *testing.T) {
	data := ratingsFile(t, 200, 120)
	for _, split := range [][]string{
		{"-split", "temporal"},
		{"-split", "stratified", "-by", "product", "-seed", "7"},
		{"-split", "stratified"},
		{"-split", "ratio", "-ratio", "0.8"},
		{"-split", "last-order"},
	} {
		t.Run(strings.Join(split, " "), func(t *testing.T) {
			args := append([]string{"-data", data, "-format", "movielens", "-recommenders", "popular,repeat,random,knn-cosine,ease,engine"}, split...)
			out, errOut, err := runArgs(t, args...)
			require.NoError(t, err, errOut)
			i := strings.Index(out, "all items")
			require.Positive(t, i, "the load report first: %s", out)
			lines := strings.Split(out[i:], "\n")
			require.GreaterOrEqual(t, len(lines), 10, out)
			assert.Equal(t, "| recommender | precision@10 | recall@10 | ndcg@10 | map@10 | hit@10 | coverage |", lines[2])
			for i, name := range []string{"popular", "repeat", "random", "knn-cosine", "ease", "engine"} {
				assert.True(t, strings.HasPrefix(lines[4+i], "| "+name+" |"), lines[4+i])
			}
			assert.Contains(t, out, "explore: items new to the customer")
			assert.Contains(t, out, "training are left out of their recommendations")
		})
	}
}

func TestRunBasketsAndChart(t *testing.T) {
	var b strings.Builder
	rng := rand.New(rand.NewPCG(3, 4))
	for range 400 {
		base := rng.IntN(5) * 3
		fmt.Fprintf(&b, "item %d,item %d,item %d\n", base, base+1, base+rng.IntN(3))
	}
	data := write(t, "baskets.csv", b.String())
	chart := filepath.Join(t.TempDir(), "chart.png")
	// an earlier chart is replaced, not overwritten in place: a reader of
	// it (a second link) keeps it whole
	require.NoError(t, os.WriteFile(chart, []byte("an earlier chart"), 0o644))
	reader := filepath.Join(t.TempDir(), "chart.png")
	require.NoError(t, os.Link(chart, reader))
	out, errOut, err := runArgs(t, "-data", data, "-format", "baskets", "-recommenders", "popular,knn-jaccard", "-png", chart, "-chart-metric", "recall")
	require.NoError(t, err, errOut)
	earlier, err := os.ReadFile(reader)
	require.NoError(t, err)
	assert.Equal(t, "an earlier chart", string(earlier), "the earlier chart overwritten in place")
	assert.Contains(t, out, "leave-one-item-out")
	assert.Contains(t, out, "| knn-jaccard |")
	f, err := os.Open(chart)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 720, img.Bounds().Dx())
}

func TestRunErrors(t *testing.T) {
	data := ratingsFile(t, 20, 30)
	for _, args := range [][]string{
		{"-synthetic", "nope"},
		{"-synthetic", "demo", "-data", data},
		{"-data", data},
		{"-data", data, "-format", "nope"},
		{"-data", data, "-format", "movielens", "-split", "sideways"},
		{"-data", data, "-format", "movielens", "-recommenders", "oracle"},
		{"-data", data, "-format", "movielens", "-map", "median"},
		{"-data", data, "-format", "movielens", "-metrics", "auc"},
		{"-data", data, "-format", "movielens", "-cutoff", "yesterday"},
		{"-train", data},
		{"-bogus"},
	} {
		_, _, err := runArgs(t, args...)
		assert.Error(t, err, "%q", args)
	}
	out, _, err := runArgs(t, "-list")
	require.NoError(t, err)
	assert.Equal(t, "popular\nsegment-popular\nrepeat\nrandom\nengine\nengine-next-basket\nengine-tuned\nknn-jaccard\nknn-cosine\nknn-lift\nknn-confidence\nknn-npmi\nknn-bm25\nease\ntifu-knn\n", out)
}

// TestOnlineRetail checks the cross-sell claim on real data: with the
// command's defaults (temporal split), the engine beats popular on
// explore recall@10 and NDCG@10 by at least 1.5×. It runs in the long
// suite only; the quick suite checks the claim on a temporal split of the
// file in package recommend (TestOnlineRetailBeatsPopular).
func TestOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("real data run in -short mode")
	}
	testdata.SkipUnlessLong(t)
	testdata.SkipUnderRace(t)
	path := filepath.Join(testdata.Shared(t, ""), "online-retail", "online_retail_2010-2011.csv.gz")
	out, errOut, err := runArgs(t, "-data", path, "-format", "onlineretail", "-recommenders", "popular,engine")
	require.NoError(t, err, errOut)
	t.Log("\n" + out + errOut)
	i := strings.Index(out, "explore:")
	require.GreaterOrEqual(t, i, 0, "no explore table: %s", out)
	explore := out[i:]
	row := func(name string) (recall, ndcg float64) {
		for line := range strings.SplitSeq(explore, "\n") {
			if f := strings.Split(line, " | "); strings.HasPrefix(line, "| "+name+" |") {
				recall, _ = strconv.ParseFloat(f[2], 64)
				ndcg, _ = strconv.ParseFloat(f[3], 64)
				return recall, ndcg
			}
		}
		t.Fatalf("no row %s", name)
		return 0, 0
	}
	popRecall, popNDCG := row("popular")
	recall, ndcg := row("engine")
	assert.GreaterOrEqual(t, recall, 1.5*popRecall)
	assert.GreaterOrEqual(t, ndcg, 1.5*popNDCG)
}

// TestRunDemo: without arguments the command evaluates the demo store; in
// next-basket mode the engine finds the repeat purchases it leaves out by
// default.
func TestRunDemo(t *testing.T) {
	out, errOut, err := runArgs(t, "-recommenders", "popular,engine,engine-next-basket", "-metrics", "ndcg")
	require.NoError(t, err, errOut)
	// the load report and the History's summary first on standard
	// output, as every example
	require.True(t, strings.HasPrefix(out, "format     synthetic\n"), out)
	assert.Contains(t, out[:strings.Index(out, "all items")], "\ncustomers          5000\n")
	assert.NotContains(t, errOut, "format     synthetic\n")
	ndcg := allNDCG(t, out)
	assert.Greater(t, ndcg("engine-next-basket"), ndcg("engine"), "\n%s", out)
}

// TestRunMovieLensRatings runs the MovieLens-shaped store as rating data:
// no orders, and the engine's defaults for ratings (EASE, no decay) rank
// with EASE alone and above the co-occurrence neighbours. Its two dense
// EASE fits on 1,682 products take seconds, so it runs in the long suite
// only; the quick suite checks the claim on a 700-product shop in package
// evaluate (TestEngineOnRatingsKeepsUpWithItsParts).
func TestRunMovieLensRatings(t *testing.T) {
	testdata.SkipUnlessLong(t)
	out, errOut, err := runArgs(t, "-synthetic", "movielens-ratings", "-recommenders", "engine,knn-jaccard,ease", "-metrics", "ndcg")
	require.NoError(t, err, errOut)
	require.Contains(t, out, "(0 with repeat items", "one rating per customer and product")
	ndcg := allNDCG(t, out)
	assert.GreaterOrEqual(t, ndcg("engine"), 0.99*ndcg("ease"), "\n%s", out)
	assert.Greater(t, ndcg("engine"), ndcg("knn-jaccard"), "\n%s", out)
}

// allNDCG returns the NDCG@10 column of the all-items table of out.
func allNDCG(t *testing.T, out string) func(name string) float64 {
	t.Helper()
	i := strings.Index(out, "explore:")
	require.GreaterOrEqual(t, i, 0, "no explore table: %s", out)
	all := out[:i]
	return func(name string) float64 {
		for line := range strings.SplitSeq(all, "\n") {
			if f := strings.Split(line, " | "); strings.HasPrefix(line, "| "+name+" |") {
				v, err := strconv.ParseFloat(strings.TrimSuffix(f[1], " |"), 64)
				require.NoError(t, err, line)
				return v
			}
		}
		t.Fatalf("no row %s in\n%s", name, out)
		return 0
	}
}

// TestUsageDefaults: -h gave defaults as Go identifiers
// ("evaluate.DefaultCutoff", "recommend.DefaultHalfLife"), which a user of
// the command cannot look up; it gives their values, or the rule.
func TestUsageDefaults(t *testing.T) {
	var out, usage bytes.Buffer
	require.ErrorIs(t, run(context.Background(), []string{"-h"}, &out, &usage), flag.ErrHelp)
	u := usage.String()
	assert.NotRegexp(t, `\b(evaluate|recommend|similarity)\.Default`, u)
	for _, want := range []string{
		"80 % quantile of the customers' orders",
		fmt.Sprintf("(default: %v days; on rating data, no decay)", recommend.DefaultHalfLife.Hours()/24),
		fmt.Sprintf("basket groups (default: %d)", evaluate.DefaultTIFUGroups),
		fmt.Sprintf("L2 regularisation of ease (default: %v)", similarity.DefaultEASELambda),
	} {
		assert.Contains(t, u, want)
	}
}

// TestStatusLine: the progress line redrew a shorter report over a
// longer one without clearing it, and left each finished step on the
// screen: each report now clears the line first, and a finished step
// leaves it empty.
func TestStatusLine(t *testing.T) {
	var b strings.Builder
	report := statusLine(&b)
	report(affinity.Progress{Step: "recommend", Done: 500, Total: 1000, Unit: "customers"})
	report(affinity.Progress{Step: "fit", Done: 1, Total: 8, Unit: "models"})
	report(affinity.Progress{Step: "fit", Done: 8, Total: 8, Unit: "models"})
	draws := strings.Split(b.String(), "\r")[1:]
	require.Len(t, draws, 3, "%q", b.String())
	for _, d := range draws {
		assert.True(t, strings.HasPrefix(d, "\033[K"), "%q clears the line", d)
	}
	assert.Equal(t, "\033[K", draws[2], "a finished step leaves the line empty")
}
