package dataset_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// A quote opened and never closed would make the CSV reader gather the
// rest of the file into one field; the limits stop it where the field
// grows past Limits.MaxField, with the line and the field.
func ExampleLimits() {
	export := "customer,product,time,name\nc1,p1,2024-03-01,\"Mug\n" + strings.Repeat("and so on\n", 100)
	var b affinity.Builder
	_, err := dataset.Load(context.Background(), strings.NewReader(export), &b, dataset.Options{
		Limits: dataset.Limits{MaxField: 256},
	})
	fmt.Println(errors.Is(err, dataset.ErrLimit))
	fmt.Println(err)
	// Output:
	// true
	// dataset: line 28, column 4: field 4 of the record from line 2 (inside a quote opened at line 2 and not closed): more than Limits.MaxField = 256; raise Options.Limits.MaxField (-1 for no limit) if the input is genuine
}
