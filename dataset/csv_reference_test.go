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

// csvFaults are the bad fields of csvExport's rows.
var csvFaults = []refFault{
	{"invalid quantity", 5, map[int]string{5: "1/2"}},
	{"zero quantity", 5, map[int]string{5: "0.00"}},
	{"invalid price", 6, map[int]string{6: "$3"}},
	{"negative price", 6, map[int]string{6: "-{}"}},
	{"invalid time", 4, map[int]string{4: "2024-02-30"}},
	{"time out of range", 4, map[int]string{4: "1969-12-31"}},
	{"missing product", 2, map[int]string{2: ""}},
	{"amount out of range", 6, map[int]string{5: "-2000000000", 6: "900000000000"}},
}

// csvExport generates a random file of the "csv" format with the
// default column names (n orders, one bad row in about one of bad1in)
// and what a naive reading of it loads: names and categories are the
// most frequent of each product's loaded rows.
func csvExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	const nf = 9 // the fields of a row
	ref := refLoad{}
	var names, cats refNames
	w := newExportWriter(rng)
	w.row([]string{"Customer ID", "SKU", "order", "date", "qty", "Unit Price", "categories", "Product Name", "note"})
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	catTexts := [][2]string{ // as written, and the path it is
		{"Apparel/Shoes", "Apparel/Shoes"}, {"Apparel > Shoes", "Apparel/Shoes"}, {" Apparel>Shoes ", "Apparel/Shoes"},
		{"Home/Kitchen|Gifts", "Home/Kitchen|Gifts"}, {"", ""}, {"Gifts", "Gifts"},
	}
	for o := range n {
		key := fmt.Sprintf("o-%d", o)
		t := base.Add(time.Duration(rng.IntN(300*24*3600)) * time.Second)
		ts := t.Format("2006-01-02 15:04:05")
		switch rng.IntN(4) {
		case 0:
			ts = t.Format(time.RFC3339)
		case 1:
			t = t.Truncate(24 * time.Hour)
			ts = t.Format("2006-01-02")
		case 2:
			ts = t.In(time.FixedZone("", -5*3600)).Format(time.RFC3339)
		}
		cust := fmt.Sprintf("c%d", rng.IntN(20))
		if rng.IntN(6) == 0 {
			cust = "" // anonymous
		}
		var seen [][]string
		for range 1 + rng.IntN(4) {
			pid := rng.IntN(25)
			q := int64(rng.IntN(9) - 3)
			if q == 0 {
				q = 1
			}
			price := int64(rng.IntN(5000)) * 100
			ct := catTexts[rng.IntN(len(catTexts))]
			name := []string{fmt.Sprintf("Widget %d", pid), fmt.Sprintf("Widget #%d", pid), ""}[rng.IntN(3)]
			fields := []string{cust, fmt.Sprintf("P%d", pid), key, ts, strconv.FormatInt(q, 10), moneyText(rng, price),
				csvQuote(rng, ct[0]), csvQuote(rng, name), csvQuote(rng, strings.Repeat("-", pad)+"\nsee, note"), ct[1]}
			if rng.IntN(10) == 0 && len(seen) > 0 {
				// an exact duplicate row; its path is the last field
				fields = slices.Clone(seen[rng.IntN(len(seen))])
				ct[1] = fields[len(fields)-1]
			}
			bad, badCol := spoil(rng, fields, bad1in, csvFaults)
			if !ref.plainRow(w.row(fields[:nf]), fields, nf, bad, badCol, &seen) {
				continue
			}
			q, _ = strconv.ParseInt(fields[4], 10, 64)
			p, _ := affinity.ParseMoney(fields[5], '.')
			ref.lines = append(ref.lines, refLine(cust, key, fields[1], t, int32(q), p))
			names.count(fields[1], strings.Trim(fields[7], `"`))
			cats.count(fields[1], ct[1])
		}
	}
	ref.names = names.best()
	ref.cats = cats.best()
	return w.b.String(), ref
}

// TestCSVReference compares loads of random files of the "csv" format
// with a naive reading of them.
func TestCSVReference(t *testing.T) {
	checkRandomExports(t, "csv", 4, csvExport)
}
