package dataset_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// A service logs the load report as structured fields: the counts, and
// the skipped rows by reason with the line of the first.
func ExampleReport_LogValue() {
	const export = `customer,product,time,quantity,price
alice,tea-01,2024-03-01,2,4.50
bob,tea-01,2024-03-02,two,4.50
dave,mug-07,2024-03-03,1,12.00
`
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(export), &b, dataset.Options{Lenient: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	log.Info("loaded", "report", rep)
	// Output:
	// {"level":"INFO","msg":"loaded","report":{"format":"csv","rows":3,"loaded":2,"purchases":2,"anonymous":0,"returns":0,"events":0,"products":0,"skipped":1,"skipped_by":{"invalid_quantity":{"count":1,"first_line":3}}}}
}
