package dataset_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// shopifyFaults are the bad fields of randomShopifyExport's rows.
var shopifyFaults = []refFault{
	{"invalid quantity", 6, map[int]string{6: "2x"}},
	{"negative price", 8, map[int]string{8: "-{}"}},
	{"invalid price", 13, map[int]string{13: "a lot"}},
	{"amount out of range", 8, map[int]string{6: "2000000000", 8: "900000000000"}},
}

// randomShopifyExport generates a random Shopify orders export of n orders
// (one bad line item in about one of bad1in rows) and what a naive
// reading of it loads.
func randomShopifyExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	ref := refLoad{names: map[string]string{}}
	w := newExportWriter(rng)
	w.row([]string{"Name", "Email", "Financial Status", "Currency", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku", "Billing Street", "Cancelled at", "Refunded Amount", "Lineitem discount"})
	const nf = 13
	statuses := []string{"paid", "paid", "partially_refunded", "pending", "authorized", "Refunded", "voided"}
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for n := range n {
		key := "#" + strconv.Itoa(1000+n)
		t := base.Add(time.Duration(rng.IntN(500*24*3600)) * time.Second)
		zone := time.FixedZone("", (rng.IntN(25)-12)*3600+rng.IntN(2)*1800)
		created := t.In(zone).Format("2006-01-02 15:04:05 -0700")
		switch rng.IntN(3) {
		case 0:
			created = t.In(zone).Format(time.RFC3339)
		case 1:
			created = t.Format("2006-01-02 15:04:05") // no offset: UTC
		}
		status := statuses[rng.IntN(len(statuses))]
		email := fmt.Sprintf("Buyer%d@Example.COM", rng.IntN(30))
		if rng.IntN(5) == 0 {
			email = "" // anonymous
		}
		cancelled := ""
		if rng.IntN(8) == 0 {
			cancelled = created
		}
		del := cancelled != "" || strings.EqualFold(status, "refunded") || strings.EqualFold(status, "voided")
		var refund int64
		refundText := ""
		if rng.IntN(3) == 0 {
			refund = int64(rng.IntN(20000)) * 100
			refundText = moneyText(rng, refund)
		}
		o := refOrder{ref: &ref, del: del}
		key, o.split = ref.orderKey(rng, key)
		o.key = key
		cust := strings.ToLower(email)
		var prev []string
		var prevName [2]string
		for i := range 1 + rng.IntN(4) {
			if prev != nil && rng.IntN(8) == 0 {
				o.row(w.row(prev[:nf]), prev, nf, "", 0, true, prevName) // an exact duplicate row
				continue
			}
			pid := rng.IntN(40)
			sku, name := fmt.Sprintf("SKU-%d", pid), fmt.Sprintf("Thing %d - Blue / 42", pid)
			if pid%3 == 0 {
				name = fmt.Sprintf("Thing, \"%d\"", pid)
			}
			if rng.IntN(4) == 0 {
				sku = ""
			}
			product := cmpOr(sku, name)
			q := int64(1 + rng.IntN(5))
			qText := strconv.FormatInt(q, 10)
			if rng.IntN(5) == 0 {
				qText += ".0"
			}
			price := int64(rng.IntN(10000)) * 100
			var discount int64
			discountText := ""
			switch rng.IntN(4) {
			case 0:
				discount = int64(rng.IntN(20000)) * 100
				discountText = moneyText(rng, discount)
			case 1:
				discountText = "0.00"
			}
			fields := []string{key, "", "", "", "", qText, csvQuote(rng, name), moneyText(rng, price), csvQuote(rng, sku),
				csvQuote(rng, strings.Repeat("s", pad)+"\n"+strconv.Itoa(n)+", Main St"), "", "", discountText}
			if i == 0 { // the order's columns
				fields[1], fields[2], fields[3], fields[4], fields[10], fields[11] = csvQuote(rng, email), status, "EUR", created, cancelled, refundText
			}
			if discount == 0 {
				fields = append(fields, refLine(cust, key, product, t, int32(q), affinity.Money(price)))
			} else {
				for _, l := range refExact(q, price*q-min(discount, price*q)) {
					fields = append(fields, refLine(cust, key, product, t, int32(l[0]), affinity.Money(l[1])))
				}
			}
			bad, badCol := spoil(rng, fields, bad1in, shopifyFaults)
			rec := fields[:nf]
			// the first row of a split order's later rows may be surely
			// its (no Email shifted in), which refOrder does not model
			if bad == "" && (i > 0 || !o.split) {
				rec, bad = miscount(rng, rec, bad1in)
				if i == 0 && bad != "" {
					// the order's columns are lost with its first row: its
					// other rows "incomplete order", cancelled or not
					o.del = false
				}
			}
			o.row(w.row(rec), fields, nf, bad, badCol, false, [2]string{product, name})
			if bad == "" {
				prev, prevName = fields, [2]string{product, name}
			}
		}
		if !o.end() {
			continue
		}
		var value int64
		for _, l := range o.lines {
			f := strings.Split(l, "|")
			q, _ := strconv.ParseInt(f[4], 10, 64)
			p, _ := strconv.ParseInt(f[5], 10, 64)
			value += q * p
		}
		if r := min(refund, value); r > 0 {
			o.lines = append(o.lines, refLine(cust, key, dataset.RefundProduct, t, -1, affinity.Money(r)))
		}
		o.commit()
	}
	return w.b.String(), ref
}

// TestShopifyReference compares loads of random Shopify exports with a
// naive reading of them.
func TestShopifyReference(t *testing.T) {
	checkRandomExports(t, "shopify", 2, randomShopifyExport)
}
