package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// chained returns acc = And(acc, clause) repeated n times, the way a
// program building a segment from a list of rules writes it.
func chained(n int) segment.Expr {
	acc := segment.All()
	for i := range n {
		// distinct clauses that keep most customers, so that every one
		// of them does real work
		switch i % 3 {
		case 0:
			acc = segment.And(acc, segment.Frequency().LE(float64(50+i%100)))
		case 1:
			acc = segment.And(acc, segment.Recency().LE(float64(900+i%100)))
		default:
			acc = segment.And(acc, segment.Affinity("Dept0").LE(0.95+float64(i%100)/2000))
		}
	}
	return acc
}

func TestChainedAndEvaluates(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(8, 8)), 1000)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	want, err := x.Query(`frequency <= 50 and recency <= 900d and affinity("Dept0") <= 0.95`)
	require.NoError(t, err)
	// 100,000 clauses in the long suite, 25,000 in the quick one: as deep
	// a chain for the compiler to flatten, a quarter of the work
	got, err := x.Eval(chained(testdata.Scale(100_000, 25_000)))
	require.NoError(t, err)
	require.Equal(t, want.ToArray(), got.ToArray())
}

// BenchmarkChainedAnd evaluates 100,000 clauses chained with And(acc, x)
// on a 1,000-customer index: linear in the clauses, well under a second.
func BenchmarkChainedAnd(b *testing.B) {
	h := randomHistory(b, rand.New(rand.NewPCG(8, 8)), 1000)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("clauses=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Eval(chained(n)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMergedRangesMatchIntersections checks that the comparisons of an And
// on one column, merged into one range, select the intersection of what
// each selects alone.
func TestMergedRangesMatchIntersections(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	h := randomHistory(t, rng, 800)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	ops := []string{"<", "<=", ">", ">=", "=", "!="}
	attrs := []struct {
		name string
		val  func() string
	}{
		{"recency", func() string { return fmt.Sprint(rng.IntN(800), "d") }},
		{"monetary", func() string { return fmt.Sprint(rng.IntN(2000)) }},
		{`affinity("Dept0")`, func() string { return fmt.Sprintf("%.3f", rng.Float64()) }},
		{`lift("Dept1")`, func() string { return fmt.Sprintf("%.2f", 3*rng.Float64()) }},
		{`ordershare("Dept2")`, func() string { return []string{"0.5", "0.25", "1", "0", "0.3333"}[rng.IntN(5)] }},
	}
	for range 200 {
		a := attrs[rng.IntN(len(attrs))]
		var clauses []string
		want := x.All()
		for range 2 + rng.IntN(3) {
			q := a.name + " " + ops[rng.IntN(len(ops))] + " " + a.val()
			clauses = append(clauses, q)
			one, err := x.Query(q)
			require.NoError(t, err, q)
			want.And(one)
		}
		src := strings.Join(clauses, " and ")
		got, err := x.Query(src)
		require.NoError(t, err, src)
		require.Equal(t, want.ToArray(), got.ToArray(), src)
	}
}
