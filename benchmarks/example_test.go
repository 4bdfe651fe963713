package benchmarks_test

import (
	"fmt"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/benchmarks"
)

// Compare lists what two ways answered differently, with the customers found
// by only one of them.
func ExampleCompare() {
	duck := &benchmarks.Answers{Sets: map[benchmarks.Question]benchmarks.Set{
		benchmarks.QShare: {Keys: []string{"c1", "c2", "c3"}, Customers: 3, Spend: affinity.Money(300_0000)},
	}}
	aff := &benchmarks.Answers{Sets: map[benchmarks.Question]benchmarks.Set{
		benchmarks.QShare: {Keys: []string{"c1", "c3", "c4"}, Customers: 3, Spend: affinity.Money(310_0000)},
	}}
	for _, d := range benchmarks.Compare("duckdb", "affinity", duck, aff) {
		fmt.Println(d)
	}
	// Output:
	// a share: duckdb vs affinity: spend 300.00 vs 310.00; 1 only in the first (c2), 1 only in the second (c4)
}

// Exponent fits the growth of a step between two sizes: ten times the lines
// in twelve times the time is n^1.08.
func ExampleExponent() {
	fmt.Printf("%.2f\n", benchmarks.Exponent(1e6, 2.0, 1e7, 24.0))
	// Output:
	// 1.08
}
