package dataset_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// refNames picks a product's name as the loaders do: the most frequent
// of its loaded rows' names, the first seen among equals.
type refNames struct {
	order  map[string][]string // product → names in first-seen order
	counts map[string]int      // product|name → rows
}

func (r *refNames) count(product, name string) {
	if name == "" {
		return
	}
	if r.order == nil {
		r.order, r.counts = map[string][]string{}, map[string]int{}
	}
	k := product + "|" + name
	if r.counts[k] == 0 {
		r.order[product] = append(r.order[product], name)
	}
	r.counts[k]++
}

func (r *refNames) best() map[string]string {
	m := map[string]string{}
	for p, names := range r.order {
		best := names[0]
		for _, n := range names[1:] {
			if r.counts[p+"|"+n] > r.counts[p+"|"+best] {
				best = n
			}
		}
		m[p] = best
	}
	return m
}

// retailFaults are the bad fields of retailExport's rows.
var retailFaults = []refFault{
	{"invalid quantity", 4, map[int]string{4: "many"}},
	{"zero quantity", 4, map[int]string{4: "0"}},
	{"invalid price", 6, map[int]string{6: "1.5.0"}},
	{"negative price", 6, map[int]string{6: "-1.5"}},
	{"invalid time", 5, map[int]string{5: "13/45/2010 8:26"}},
	{"missing product", 2, map[int]string{2: ""}},
	{"amount out of range", 6, map[int]string{4: "2000000000", 6: "900000000000"}},
}

// retailExport generates a random Online Retail (I or II) export of n
// invoices (one bad row in about one of bad1in rows) and what a naive
// reading of it loads.
func retailExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	ref := refLoad{}
	var names refNames
	w := newExportWriter(rng)
	head := []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}
	if rng.IntN(2) == 0 {
		head = []string{"Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"}
	}
	w.row(head)
	base := time.Date(2010, 12, 1, 8, 0, 0, 0, time.UTC)
	for inv := range n {
		key := strconv.Itoa(536000 + inv)
		switch rng.IntN(8) {
		case 0:
			key = "C" + key
		case 1:
			key = "A" + key
		}
		t := base.Add(time.Duration(rng.IntN(400*24*60)) * time.Minute)
		ts := t.Format("1/2/2006 15:04")
		if rng.IntN(3) == 0 {
			ts = t.Format("2006-01-02 15:04:05")
		}
		cust := strconv.Itoa(12000 + rng.IntN(50))
		customer := cust
		switch rng.IntN(6) {
		case 0:
			cust, customer = "", ""
		case 1:
			cust, customer = "0", ""
		case 2:
			cust += ".0"
		}
		var seen [][]string // the invoice's loaded rows, for duplicates
		for range 1 + rng.IntN(5) {
			pid := rng.IntN(30)
			code := fmt.Sprintf("%05d", 20000+pid)
			if pid%4 == 0 {
				code += "B"
			}
			name := []string{fmt.Sprintf("WHITE MUG %d", pid), fmt.Sprintf("MUG, WHITE %d", pid), "", "Missing_Description"}[rng.IntN(4)]
			q := int64(1 + rng.IntN(12))
			qText := strconv.FormatInt(q, 10)
			if rng.IntN(5) == 0 {
				qText += ".0"
			}
			if key[0] == 'C' && rng.IntN(2) == 0 {
				qText = "-" + qText // cancellations are negative either way
			}
			price := int64(rng.IntN(2000)) * 100
			fields := []string{key, code, csvQuote(rng, name), qText, ts, moneyText(rng, price), cust, csvQuote(rng, "United Kingdom"+strings.Repeat(" ", pad))}
			if rng.IntN(10) == 0 && len(seen) > 0 {
				fields = slices.Clone(seen[rng.IntN(len(seen))]) // an exact duplicate row
			}
			bad, badCol := spoil(rng, fields, bad1in, retailFaults)
			line := w.row(fields)
			if key[0] == 'A' {
				ref.rows++
				ref.skip("adjustment", line) // whatever its fields
				continue
			}
			if ref.plainRow(line, fields, len(fields), bad, badCol, &seen) {
				q, _ := strconv.ParseInt(strings.TrimSuffix(fields[3], ".0"), 10, 64)
				p, _ := affinity.ParseMoney(fields[5], '.')
				if key[0] == 'C' && q > 0 {
					q = -q
				}
				product := fields[1]
				ref.lines = append(ref.lines, refLine(customer, key, product, t, int32(q), p))
				if nm := strings.Trim(fields[2], `"`); nm != "Missing_Description" {
					names.count(product, nm)
				}
			}
		}
	}
	ref.names = names.best()
	return w.b.String(), ref
}

// TestOnlineRetailReference compares loads of random Online Retail
// exports with a naive reading of them.
func TestOnlineRetailReference(t *testing.T) {
	checkRandomExports(t, "onlineretail", 3, retailExport)
}
