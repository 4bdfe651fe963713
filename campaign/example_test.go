package campaign_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/shop"
)

// A week's plan on the demo shop: every built-in tactic, one message per
// customer per week, one customer in ten held out per campaign.
func ExampleBuild() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		panic(err)
	}
	// README: campaigns
	snap := s.Snapshot()
	plan, err := campaign.Build(ctx, snap, snap.AsOf(), campaign.Builtins(false), campaign.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%-15s %8s %6s %10s %7s %7s\n", "campaign", "audience", "capped", "no content", "control", "sent")
	for _, c := range plan.Counts {
		fmt.Printf("%-15s %8d %6d %10d %7d %7d\n", c.Campaign, c.Audience, c.Capped, c.NoContent, c.Control, c.Treated)
	}
	// README: end

	// Output:
	// campaign        audience capped no content control    sent
	// abandoned-cart        16      0          4       1      11
	// thank-you            117      8          0       9     100
	// win-back             658      0          0      69     589
	// coupon               172      1          0      14     157
	// new-customers       1233      0          0     127    1106
}

// The list for the mail tool: one row per message, control rows included
// and flagged.
func ExampleWriteCSV() {
	msgs := []campaign.Message{{
		Campaign: "thank-you", Customer: "c42", Email: "ann@example.com",
		Time:  time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC),
		Items: []campaign.Item{{Product: "p7", Name: "Running Socks", Reason: "bought together with Running Shoes in 124 orders"}},
	}}
	if err := campaign.WriteCSV(os.Stdout, msgs); err != nil {
		panic(err)
	}
	// Output:
	// campaign,customer,email,control,offer,time,products,names,reasons
	// thank-you,c42,ann@example.com,false,,2025-06-02T08:00:00Z,p7,Running Socks,bought together with Running Shoes in 124 orders
}

// A list field of the CSV read back into its items: a "|" inside a key
// is escaped, so "mug|blue" stays one product.
func ExampleSplitList() {
	var buf bytes.Buffer
	msgs := []campaign.Message{{Campaign: "thank-you", Customer: "c42", Items: []campaign.Item{
		{Product: "mug|blue", Name: "Mug | Blue"}, {Product: `back\slash`, Name: "Slash"}}}}
	if err := campaign.WriteCSV(&buf, msgs); err != nil {
		panic(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		panic(err)
	}
	fmt.Println(rows[1][6])
	fmt.Printf("%q\n", campaign.SplitList(rows[1][6]))
	fmt.Printf("%q\n", campaign.SplitList(rows[1][7]))
	// Output:
	// mug\|blue|back\\slash
	// ["mug|blue" "back\\slash"]
	// ["Mug | Blue" "Slash"]
}

// Did the coupon pay? Treated against control over the two weeks after.
func ExampleMeasure() {
	t0 := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	for i, c := range []string{"a", "b", "c", "d"} {
		_ = b.Add(affinity.Purchase{Customer: c, Product: "p", Order: fmt.Sprint(i), Time: t0.AddDate(0, 0, 3), Quantity: 1, Price: affinity.MoneyFromFloat(20)})
	}
	h, _ := b.Build(context.Background())
	var msgs []campaign.Message
	for _, c := range []string{"a", "b", "c", "x", "y"} {
		msgs = append(msgs, campaign.Message{Campaign: "coupon", Customer: c})
	}
	msgs = append(msgs, campaign.Message{Campaign: "coupon", Customer: "d", Control: true},
		campaign.Message{Campaign: "coupon", Customer: "z", Control: true},
		campaign.Message{Campaign: "coupon", Customer: "w", Control: true})
	res, _ := campaign.Measure(context.Background(), h, msgs, t0, t0.AddDate(0, 0, 14), campaign.MeasureOptions{})
	r := res[0]
	fmt.Printf("treated: %d customers, conversion %.0f%%, %.2f per customer\n", r.Treated.Customers, 100*r.Treated.Conversion, r.Treated.RevenuePerCustomer)
	fmt.Printf("control: %d customers, conversion %.0f%%, %.2f per customer\n", r.Control.Customers, 100*r.Control.Conversion, r.Control.RevenuePerCustomer)
	fmt.Printf("incremental revenue %.2f (95%% CI %.2f to %.2f), significant: %v\n", r.Incremental, r.IncrementalCI[0], r.IncrementalCI[1], r.Significant())
	// Output:
	// treated: 5 customers, conversion 60%, 12.00 per customer
	// control: 3 customers, conversion 33%, 6.67 per customer
	// incremental revenue 26.67 (95% CI -86.67 to 140.00), significant: false
}
