package affinity_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/shopaffinity/affinity"
)

// A service logs what its History holds as structured fields, the
// revenue as an exact decimal.
func ExampleSummary_LogValue() {
	var b affinity.Builder
	t := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	price, _ := affinity.ParseMoney("4.50", '.')
	for _, p := range []affinity.Purchase{
		{Customer: "alice", Product: "tea-01", Order: "o1", Time: t, Quantity: 2, Price: price},
		{Customer: "bob", Product: "tea-01", Order: "o2", Time: t.Add(time.Hour), Quantity: 1, Price: price},
	} {
		if err := b.Add(p); err != nil {
			fmt.Println(err)
			return
		}
	}
	h, err := b.Build(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 { // the record's time
			return slog.Attr{}
		}
		return a
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	log.Info("history", "summary", h.Summary())
	// Output:
	// {"level":"INFO","msg":"history","summary":{"customers":2,"buyers":2,"products":1,"categories":0,"orders":2,"lines":2,"returns":0,"events":0,"anonymous_orders":0,"anonymous_lines":0,"revenue":"13.50","customer_revenue":"13.50","first_order":"2024-03-01T10:00:00Z","last_order":"2024-03-01T11:00:00Z"}}
}
