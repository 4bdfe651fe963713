package dataset_test

import (
	"context"
	"fmt"

	"github.com/shopaffinity/affinity/dataset"
)

// Open a shop's own file with the defaults of its format, as the README
// shows it.
func Example_readme() {
	ctx := context.Background()
	path := "testdata/retail.csv"
	if err := func() error {
		// README: loading a file
		h, report, err := dataset.Open(ctx, path, "onlineretail") // lenient: every skipped row is counted, with its reason
		if err != nil {
			return err
		}
		fmt.Print(report, "\n", h.Summary())
		// README: end
		return nil
	}(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// format     onlineretail
	// rows       11
	// loaded     10
	// purchases  10
	// anonymous  3
	// returns    2
	// events     0
	// catalog    9
	// ignored    Country
	// skipped    1
	//   adjustment             1 (first at line 11)
	//
	// customers          4
	// buyers             2
	// products           9
	// categories         14
	// orders             7
	// lines              10
	// returns            2
	// events             0
	// anonymous orders   2
	// anonymous lines    3
	// revenue            89.80
	// customer revenue   73.77
	// first order        2010-12-01 08:26:00
	// last order         2010-12-01 17:06:00
}
