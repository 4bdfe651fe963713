package query_test

import (
	"fmt"

	"github.com/shopaffinity/affinity/segment/query"
)

func ExampleSyntax_Parse() {
	syn := query.NewSyntax(
		query.AttrSpec{Name: "recency", Unit: query.Days},
		query.AttrSpec{Name: "affinity", Unit: query.Share, Arg: true},
	)
	e, err := syn.Parse(`affinity("Apparel") >= 30% and recency between 2w and 28`)
	fmt.Println(e, err)
	_, err = syn.Parse(`recency >= 3x`)
	fmt.Println(err)
	// Output:
	// affinity("Apparel") >= 0.3 and recency between 14d and 28d <nil>
	// query: syntax error at line 1, column 13: unknown duration unit "x" (use d, w, m or y)
}
