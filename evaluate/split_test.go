package evaluate_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// record is one line or event of a History, in shop keys, for comparing
// Histories as multisets.
type record struct {
	cust, prod, order string
	unix              int64
	qty               int32
	kind              affinity.EventKind
	weight            float32
}

func records(h *affinity.History) []record {
	var out []record
	cat := h.Catalog()
	for o := range h.Orders() {
		cust := ""
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			cust = h.CustomerKey(c)
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			out = append(out, record{cust: cust, prod: cat.ProductKey(h.LineProduct(i)), order: h.OrderKey(o), unix: h.OrderUnix(o), qty: h.LineQuantity(i)})
		}
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			e := h.Event(i)
			out = append(out, record{cust: h.CustomerKey(c), prod: cat.ProductKey(e.Product), unix: e.Unix, kind: e.Kind, weight: e.Weight})
		}
	}
	slices.SortFunc(out, compareRecords)
	return out
}

func compareRecords(x, y record) int {
	return cmp.Or(cmp.Compare(x.cust, y.cust), cmp.Compare(x.unix, y.unix), cmp.Compare(x.order, y.order),
		cmp.Compare(x.prod, y.prod), cmp.Compare(x.kind, y.kind), cmp.Compare(x.qty, y.qty), cmp.Compare(x.weight, y.weight))
}

// assertPartition checks that train and test together hold exactly the
// records of src, and that the catalogs agree id by id. It returns the
// records of train and of test, for the caller's further checks.
func assertPartition(t *testing.T, src *affinity.History, s *evaluate.Split) (train, test []record) {
	t.Helper()
	return assertPartitionOf(t, src, records(src), s)
}

// assertPartitionOf is assertPartition given srcRecords, records(src):
// for the tests that split one History several times.
func assertPartitionOf(t *testing.T, src *affinity.History, srcRecords []record, s *evaluate.Split) (train, test []record) {
	t.Helper()
	train, test = records(s.Train), records(s.Test)
	all := slices.Concat(train, test)
	slices.SortFunc(all, compareRecords)
	assert.Equal(t, srcRecords, all, "train ∪ test = source")
	for _, h := range []*affinity.History{s.Train, s.Test} {
		require.Equal(t, src.Catalog().NumProducts(), h.Catalog().NumProducts())
		for p := range affinity.ProductID(src.Catalog().NumProducts()) {
			assert.Equal(t, src.Catalog().Product(p), h.Catalog().Product(p))
		}
	}
	return train, test
}

func TestTemporalSplit(t *testing.T) {
	ctx := context.Background()
	h := storefront(t, 300, 3)
	cutoff := evaluate.DefaultCutoff(h)
	assert.Equal(t, cutoff, cutoff.Truncate(24*time.Hour))
	s, err := evaluate.TemporalSplit(ctx, h, cutoff)
	require.NoError(t, err)
	train, test := assertPartition(t, h, s)
	assert.Equal(t, cutoff, s.AsOf)
	for _, r := range train {
		assert.Less(t, r.unix, cutoff.Unix(), "no training record at or after the cutoff")
	}
	for _, r := range test {
		assert.GreaterOrEqual(t, r.unix, cutoff.Unix(), "no test record before the cutoff")
	}
	// the default cutoff leaves roughly a fifth of the customer orders for test
	lo, _ := s.Test.AnonymousOrders()
	share := float64(lo) / float64(h.NumOrders())
	assert.InDelta(t, 0.2, share, 0.05)

	_, err = evaluate.TemporalSplit(ctx, h, time.Time{})
	require.Error(t, err)
	_, err = evaluate.TemporalSplit(ctx, h, day0.AddDate(-5, 0, 0))
	require.ErrorIs(t, err, evaluate.ErrEmptySplit)
}

func TestLastOrderSplit(t *testing.T) {
	h := build(t, []buy{
		{"u1", "o1", 1, []string{"A", "B"}},
		{"u1", "o2", 5, []string{"C"}},
		{"u1", "o3", 9, []string{"A", "D"}},
		{"u2", "o4", 2, []string{"A"}}, // a single order: stays in training
		{"u3", "o5", 3, []string{"B"}},
		{"u3", "o6", 3, []string{"C"}}, // same time as o5: one basket
		{"", "a1", 4, []string{"A", "C"}},
	}, []rating{{"u1", "E", 7, 4}, {"u1", "F", 10, 5}, {"u4", "A", 1, 3}, {"u4", "B", 6, 1}})
	s, err := evaluate.LastOrderSplit(context.Background(), h)
	require.NoError(t, err)
	_, test := assertPartition(t, h, s)
	want := []record{
		{cust: "u1", prod: "A", order: "o3", unix: day(9).Unix(), qty: 1},
		{cust: "u1", prod: "D", order: "o3", unix: day(9).Unix(), qty: 1},
		{cust: "u1", prod: "F", unix: day(10).Unix(), kind: affinity.Rating, weight: 5},
		{cust: "u4", prod: "B", unix: day(6).Unix(), kind: affinity.Rating, weight: 1},
	}
	slices.SortFunc(want, compareRecords)
	assert.Equal(t, want, test)
	assert.Equal(t, day(7), s.AsOf, "latest training time: u1's rating on day 7")
}

func TestChronoSplit(t *testing.T) {
	ctx := context.Background()
	h := storefront(t, testdata.Scale(300, 150), 5)
	src := records(h) // the same for every ratio
	for _, ratio := range []float64{0.5, 0.75, 0.9} {
		s, err := evaluate.ChronoSplit(ctx, h, evaluate.SplitOptions{Ratio: ratio})
		require.NoError(t, err)
		trainRecords, testRecords := assertPartitionOf(t, h, src, s)
		train, test := byCustomer(trainRecords), byCustomer(testRecords)
		for c := range affinity.CustomerID(h.NumCustomers()) {
			key := h.CustomerKey(c)
			n := len(train[key]) + len(test[key])
			assert.Equal(t, trainCount(n, ratio), len(train[key]), "customer %s, %d interactions", key, n)
			if len(train[key]) > 0 && len(test[key]) > 0 {
				assert.LessOrEqual(t, slices.MaxFunc(train[key], byTime).unix, slices.MinFunc(test[key], byTime).unix,
					"training interactions come first")
			}
		}
	}
	_, err := evaluate.ChronoSplit(ctx, h, evaluate.SplitOptions{Ratio: 1})
	require.Error(t, err)
}

func byTime(x, y record) int { return cmp.Compare(x.unix, y.unix) }

// trainCount is the number of training interactions of a stratum of n:
// those of rank j with j/n ≤ ratio, as in microsoft/recommenders.
func trainCount(n int, ratio float64) int {
	k := 0
	for j := 1; j <= n; j++ {
		if float64(j)/float64(n) <= ratio {
			k++
		}
	}
	return k
}

func byCustomer(rs []record) map[string][]record {
	m := map[string][]record{}
	for _, r := range rs {
		if r.cust != "" {
			m[r.cust] = append(m[r.cust], r)
		}
	}
	return m
}

func TestStratifiedSplit(t *testing.T) {
	ctx := context.Background()
	h := storefront(t, testdata.Scale(400, 200), 9)
	src := records(h) // the same for both strata
	for _, by := range []evaluate.Stratum{evaluate.ByCustomer, evaluate.ByProduct} {
		t.Run(by.String(), func(t *testing.T) {
			s, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: by, Seed: 42})
			require.NoError(t, err)
			trainRecords, testRecords := assertPartitionOf(t, h, src, s)
			group := func(r record) string {
				if by == evaluate.ByProduct {
					return r.prod
				}
				return r.cust
			}
			count := func(rs []record) map[string]int {
				m := map[string]int{}
				for _, r := range rs {
					if r.cust != "" { // anonymous lines always train
						m[group(r)]++
					}
				}
				return m
			}
			train, test := count(trainRecords), count(testRecords)
			groups := 0
			for g, n := range train {
				assert.Equal(t, trainCount(n+test[g], 0.75), n, "stratum %s keeps the ratio", g)
				groups++
			}
			assert.Greater(t, groups, 50)

			again, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: by, Seed: 42})
			require.NoError(t, err)
			assert.Equal(t, testRecords, records(again.Test), "same seed, same split")
			other, err := evaluate.StratifiedSplit(ctx, h, evaluate.SplitOptions{By: by, Seed: 43})
			require.NoError(t, err)
			assert.NotEqual(t, testRecords, records(other.Test), "another seed, another split")
		})
	}
}

func TestLeaveOneOutSplit(t *testing.T) {
	var buys []buy
	for i := range 40 {
		prods := []string{"milk", fmt.Sprintf("p%d", i%7), fmt.Sprintf("q%d", i%5)}
		if i%10 == 0 {
			prods = prods[:1] // single-item baskets are never test cases
		}
		buys = append(buys, buy{"", fmt.Sprintf("b%02d", i), i % 3, prods})
	}
	h := build(t, buys, nil)
	s, err := evaluate.LeaveOneOutSplit(context.Background(), h, evaluate.SplitOptions{Seed: 1})
	require.NoError(t, err)
	// 36 eligible baskets: ranks j/36 ≤ 0.75 stay whole (27), 9 are test cases
	assert.Equal(t, 9, s.Test.NumCustomers())
	src := map[string][]string{}
	for _, r := range records(h) {
		src[r.order] = append(src[r.order], r.prod)
	}
	trainOf := byCustomer(records(s.Train))
	for _, r := range records(s.Test) {
		// one pseudo-customer per test basket, keyed by the order's id
		require.True(t, strings.HasPrefix(r.cust, evaluate.BasketPrefix+"#"), r.cust)
		rest := trainOf[r.cust]
		require.Len(t, rest, len(src[r.order])-1, "the rest of the basket is the pseudo-customer's history")
		got := []string{r.prod}
		for _, x := range rest {
			assert.Equal(t, r.order, x.order)
			got = append(got, x.prod)
		}
		assert.ElementsMatch(t, src[r.order], got)
	}
}

func TestLoadSplit(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "u1.base")
	test := filepath.Join(dir, "u1.test")
	require.NoError(t, os.WriteFile(train, []byte("1\t10\t5\t100\n2\t10\t4\t300\n2\t20\t3\t200\n"), 0o644))
	require.NoError(t, os.WriteFile(test, []byte("2\t30\t4\t400\n1\t20\t1\t500\n"), 0o644))
	s, trainRep, testRep, err := evaluate.LoadSplit(context.Background(), train, test, dataset.Options{Format: "movielens"})
	require.NoError(t, err)
	assert.Equal(t, 3, trainRep.Loaded)
	assert.Equal(t, 2, testRep.Loaded)
	assert.Equal(t, time.Unix(300, 0).UTC(), s.AsOf, "latest training rating")
	assert.Equal(t, "ready split u1.base / u1.test", s.Protocol)
	assert.Equal(t, 3, s.Train.NumEvents())
	assert.Equal(t, 2, s.Test.NumEvents())

	// item 30 is unknown to training: relevant, never hit
	rep, err := evaluate.Evaluate(context.Background(), s, []evaluate.Recommender{&evaluate.Popular{}}, evaluate.Options{K: 1, ExcludeSeen: true})
	require.NoError(t, err)
	// user 1 (seen 10) gets [20]: a hit; user 2 (seen 10, 20) gets nothing
	assert.InDelta(t, 0.5, rep.Rows[0].Metrics[evaluate.AllItems].Precision, 1e-9)

	_, _, _, err = evaluate.LoadSplit(context.Background(), filepath.Join(dir, "missing"), test, dataset.Options{Format: "movielens"})
	require.Error(t, err)

	// A lenient load says what each file skipped.
	require.NoError(t, os.WriteFile(test, []byte("2\t30\t4\t400\nbroken\n1\t20\t1\t500\n"), 0o644))
	_, _, _, err = evaluate.LoadSplit(context.Background(), train, test, dataset.Options{Format: "movielens"})
	require.Error(t, err, "strict: the bad row is an error")
	s, trainRep, testRep, err = evaluate.LoadSplit(context.Background(), train, test, dataset.Options{Format: "movielens", Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Test.NumEvents())
	assert.Empty(t, trainRep.Skipped)
	require.Len(t, testRep.Skipped, 1)
	assert.Equal(t, 1, testRep.Skipped[0].Count)
	assert.Equal(t, 2, testRep.Skipped[0].FirstLine)
	assert.Equal(t, 2, testRep.Loaded)
}

func TestTemporalSplitProtocolFraction(t *testing.T) {
	h := build(t, []buy{{"u1", "o1", 1, []string{"A"}}, {"u1", "o2", 3, []string{"B"}}}, nil)
	s, err := evaluate.TemporalSplit(context.Background(), h, day(2).Add(250*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, "temporal split at 2024-01-03 00:00:00.25", s.Protocol, "the fraction of the cutoff is printed")
	s, err = evaluate.TemporalSplit(context.Background(), h, day(2))
	require.NoError(t, err)
	assert.Equal(t, "temporal split at 2024-01-03 00:00:00", s.Protocol, "no fraction, none printed")
}

func TestLeaveOneOutSplitPseudoCustomerClash(t *testing.T) {
	// a real customer named like the pseudo-customer of order 0
	h := build(t, []buy{
		{"basket #0", "o1", 1, []string{"A", "B"}},
		{"u2", "o2", 1, []string{"A", "B"}},
	}, nil)
	_, err := evaluate.LeaveOneOutSplit(context.Background(), h, evaluate.SplitOptions{Ratio: 0.1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"basket #0"`)
}
