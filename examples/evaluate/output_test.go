package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readySplit writes the ready split of TestRunReadySplitHandComputed and
// returns the -train and -test arguments.
func readySplit(t *testing.T) []string {
	train := write(t, "u1.base", "1\t10\t5\t100\n2\t10\t4\t100\n2\t20\t3\t100\n3\t20\t5\t100\n3\t30\t1\t100\n4\t10\t2\t100\n4\t30\t4\t100\n4\t40\t5\t100\n")
	test := write(t, "u1.test", "1\t20\t4\t200\n1\t40\t2\t200\n3\t10\t5\t200\n5\t10\t3\t200\n")
	return []string{"-train", train, "-test", test, "-k", "2"}
}

// TestRunSummaryOnStdout: the line saying which split, cut-off and
// customers the tables measure went to standard error with the timings,
// so that a copy of the tables (> file) lost it; it is on standard
// output, above the tables, and in words that need no glossary.
func TestRunSummaryOnStdout(t *testing.T) {
	out, errOut, err := runArgs(t, append(readySplit(t), "-recommenders", "popular")...)
	require.NoError(t, err, errOut)
	summary := regexp.MustCompile(`(?m)^ready split .*; K = 2; 2 customers evaluated .*1 cold customers skipped.*\n\nall items \(2 customers\)\n`)
	assert.Regexp(t, summary, out)
	assert.NotContains(t, errOut, "customers evaluated", "the summary once, on standard output")
	assert.Contains(t, errOut, "popular", "the timings stay on standard error")
	// rating data: training items are left out, said so unambiguously
	assert.Contains(t, out, "the products each customer bought or rated in training are left out of their recommendations")
	assert.NotContains(t, out, "kept from")
	assert.Contains(t, out, "map@2 sums, per customer, the precision at each rank where the list holds a relevant item, divided by their number of relevant test items")

	out, _, err = runArgs(t, append(readySplit(t), "-recommenders", "popular", "-exclude-seen=false", "-map", "min")...)
	require.NoError(t, err)
	assert.Contains(t, out, "the products each customer bought or rated in training may be recommended to them again")
	assert.Contains(t, out, "divided by K or their number of relevant test items, whichever is smaller")
	assert.NotContains(t, out, "AP divided by")
}

// TestUsageExplainsMAP: -h gave the AP denominator as "|R|", which a shop
// owner cannot read; it says what is divided by what.
func TestUsageExplainsMAP(t *testing.T) {
	var out, usage bytes.Buffer
	require.Error(t, run(context.Background(), []string{"-h"}, &out, &usage))
	assert.Contains(t, usage.String(), "what map@K divides each customer's summed precision at the hits (the ranks holding a relevant item) by")
	assert.NotContains(t, usage.String(), "AP denominator")
}

// TestRunRandomValidationDescribed: the validation of the engine rows on
// a random split holds out a random quarter of products, no window, and
// was printed as "2025-12-30 to 2025-12-30"; the log names what was held
// out (recommend's TestTuningValidation checks the window of a time
// holdout).
func TestRunRandomValidationDescribed(t *testing.T) {
	data := ratingsFile(t, 120, 60)
	_, errOut, err := runArgs(t, "-data", data, "-format", "movielens", "-split", "stratified", "-seed", "7", "-recommenders", "engine-tuned", "-metrics", "ndcg")
	require.NoError(t, err, errOut)
	assert.Contains(t, errOut, "engine-tuned: validation: a random quarter of the products of each customer with at least 4 (seed 7), ")
	same := regexp.MustCompile(`(\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)`)
	for _, m := range same.FindAllStringSubmatch(errOut, -1) {
		assert.NotEqual(t, m[1], m[2], "a window of no days: %s", m[0])
	}

}

// fixed recommends the same list to everybody.
type fixed struct {
	name  string
	items []affinity.ProductID
}

func (f *fixed) Name() string                                            { return f.name }
func (f *fixed) Fit(context.Context, *affinity.History, time.Time) error { return nil }
func (f *fixed) Recommend(dst []affinity.ProductID, _ affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	for _, p := range f.items {
		if len(dst) >= k {
			break
		}
		if exclude == nil || !exclude(p) {
			dst = append(dst, p)
		}
	}
	return dst
}

// TestWriteComparisons: the best two rows were compared even when they
// scored every customer alike (two engines that chose the same model:
// "+0.0000 ± 0.0000 … within noise"), and the engine was never set
// against the baselines unless it happened to be in the best two. The
// runner-up is the best row that differs per customer, the rows alike
// are named, and the engine's default row is compared with the best
// baseline.
func TestWriteComparisons(t *testing.T) {
	ctx := context.Background()
	// products 1–20 in training; every test item is one of 1, 2 and 3
	rng := rand.New(rand.NewPCG(7, 8))
	var b strings.Builder
	for u := 1; u <= 60; u++ {
		for p := range 20 {
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "%d\t%d\t5\t1000\n", u, p+1)
			}
		}
	}
	train := write(t, "train", b.String())
	b.Reset()
	for u := 1; u <= 60; u++ {
		fmt.Fprintf(&b, "%d\t%d\t5\t9000\n", u, 1+rng.IntN(3))
	}
	test := write(t, "test", b.String())
	split, _, _, err := evaluate.LoadSplit(ctx, train, test, dataset.Options{Format: "movielens"})
	require.NoError(t, err)
	// the products in the order of their keys' numbers
	cat := split.Train.Catalog()
	byKey := make([]affinity.ProductID, cat.NumProducts())
	for p := range cat.NumProducts() {
		k, err := strconv.Atoi(cat.ProductKey(affinity.ProductID(p)))
		require.NoError(t, err)
		byKey[k-1] = affinity.ProductID(p)
	}
	list := func(keys ...int) []affinity.ProductID {
		var ps []affinity.ProductID
		for _, k := range keys {
			ps = append(ps, byKey[k-1])
		}
		return ps
	}
	recs := []evaluate.Recommender{
		&fixed{"weak-baseline", list(10, 11, 12, 13, 14)}, // no test item
		&fixed{"engine", list(1, 2, 3, 4, 5)},             // every test item
		&fixed{"engine-copy", list(1, 2, 3, 6, 7)},        // the same hits at the same ranks
		&fixed{"baseline", list(4, 5, 6, 1, 2)},           // some, low
	}
	rep, err := evaluate.Evaluate(ctx, split, recs, evaluate.Options{K: 5})
	require.NoError(t, err)

	var w bytes.Buffer
	require.NoError(t, writeComparisons(&w, rep, evaluate.AllItems, evaluate.NDCG, map[string]bool{"engine": true, "engine-copy": true}))
	got := w.String()
	assert.Regexp(t, `(?m)^  best +engine `, got)
	assert.Regexp(t, `(?m)^  runner-up +baseline `, got, "the best row that differs per customer")
	assert.NotContains(t, got, "+0.0000 ± 0.0000", "no comparison of rows alike")
	assert.Contains(t, got, "  (engine-copy: the same ndcg@5 as engine for every customer)\n")
	// the engine against the best baseline, also when the baseline is
	// not among the best two
	i := strings.Index(got, "the engine's defaults against the best baseline, ndcg@5:\n")
	require.GreaterOrEqual(t, i, 0, got)
	assert.Regexp(t, `^[^\n]*\n  engine +engine +[0-9.]+ ± [0-9.]+ \[[^\n]*\n  baseline +baseline +[0-9.]+ ± [0-9.]+ \[[^\n]*\n  difference [+-]`, got[i:])

	w.Reset()
	require.NoError(t, writeComparisons(&w, rep, evaluate.AllItems, evaluate.NDCG, map[string]bool{"engine": true, "engine-copy": true, "baseline": true}))
	got = w.String()
	i = strings.Index(got, "the engine's defaults against the best baseline, ndcg@5:\n")
	require.GreaterOrEqual(t, i, 0, got)
	assert.Regexp(t, `^[^\n]*\n  engine +engine +[0-9.]+ ± [0-9.]+ \[[^\n]*\n  baseline +weak-baseline +0\.0000 ± 0\.0000 \[[^\n]*\n  difference \+[0-9.]+ ± [0-9.]+ \[[^\n]*: beyond noise\n  \(the engine's default mode offers nothing a customer bought before; [^\n]*\n  [^\n]*\)\n$`, got[i:])
	// on new items only, nothing to say of repeats
	w.Reset()
	require.NoError(t, writeComparisons(&w, rep, evaluate.ExploreItems, evaluate.NDCG, map[string]bool{"engine": true, "engine-copy": true}))
	assert.NotContains(t, w.String(), "bought before")

	// no engine row, or no baseline: no such comparison
	w.Reset()
	require.NoError(t, writeComparisons(&w, rep, evaluate.AllItems, evaluate.NDCG, map[string]bool{}))
	assert.NotContains(t, w.String(), "against the best baseline")
	w.Reset()
	require.NoError(t, writeComparisons(&w, rep, evaluate.AllItems, evaluate.NDCG, map[string]bool{"engine": true, "engine-copy": true, "baseline": true, "weak-baseline": true}))
	assert.NotContains(t, w.String(), "against the best baseline")
}

// TestRunRatingsLabelled: with -synthetic movielens-ratings the load
// report describes the purchase store (1,943 returns) and the summary
// the rating data made from it (no orders, no returns); unlabelled, the
// two read as a contradiction.
func TestRunRatingsLabelled(t *testing.T) {
	out, errOut, err := runArgs(t, "-synthetic", "movielens-ratings", "-recommenders", "popular", "-metrics", "ndcg")
	require.NoError(t, err, errOut)
	i := strings.Index(out, "generated (the purchase store):\nformat     synthetic\n")
	j := strings.Index(out, "\nevaluated (the same store as rating data: one rating per customer and product, no orders):\ncustomers ")
	require.True(t, i == 0 && j > i, out)
	assert.Regexp(t, `\nreturns +[1-9]`, out[:j], "the purchase store has returns")
	assert.Regexp(t, `\norders +0\n`, out[j:], "the rating data has no orders")

}
