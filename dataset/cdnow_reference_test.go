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

// cdnowFaults are the bad fields of cdnowExport's rows, in the master
// layout (the sample's are one column further).
var cdnowFaults = []refFault{
	{"invalid time", 2, map[int]string{2: "19971301"}},
	{"time out of range", 2, map[int]string{2: "19691231"}},
	{"invalid quantity", 3, map[int]string{3: "x"}},
	{"zero quantity", 3, map[int]string{3: "0"}},
	{"invalid price", 4, map[int]string{4: "$1"}},
	{"negative price", 4, map[int]string{4: "-{}"}},
}

// cdnowExport generates a random CDNOW file, master or sample layout, of
// n lines and what a naive reading of it loads.
func cdnowExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	ref := refLoad{noOrderKeys: true}
	w := newExportWriter(rng)
	sample := rng.IntN(2) == 0
	sp := strings.Repeat(" ", 1+pad+rng.IntN(2))
	base := time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev []string
	for range n {
		fields := prev // an exact duplicate row
		dup := prev != nil && rng.IntN(10) == 0
		if !dup {
			cust := fmt.Sprintf("%05d", 1+rng.IntN(50))
			t := base.AddDate(0, 0, rng.IntN(540))
			q := int64(1 + rng.IntN(6))
			if rng.IntN(8) == 0 {
				q = -q
			}
			amount := int64(rng.IntN(1_000_000)) * 100
			fields = []string{cust, t.Format("20060102"), strconv.FormatInt(q, 10), moneyText(rng, amount)}
		}
		bad, badCol := "", 0
		if !dup {
			bad, badCol = spoil(rng, fields, bad1in, cdnowFaults)
		}
		f := fields
		if sample { // with the sample's id, the same in a duplicate
			f = append([]string{fields[0], "7"}, fields[1:]...)
			badCol++
		}
		line := w.row([]string{"\t" + strings.Join(f, sp)})
		ref.rows++
		if bad != "" {
			ref.fail(line, badCol, bad)
			continue
		}
		if dup {
			ref.dups++
		}
		prev = fields
		ref.loaded++
		t, _ := time.Parse("20060102", fields[1])
		q, _ := strconv.ParseInt(fields[2], 10, 64)
		m, _ := affinity.ParseMoney(fields[3], '.')
		for _, l := range refExact(q, int64(m)) {
			ref.lines = append(ref.lines, refLine(fields[0], "", dataset.CDNOWProduct, t, int32(l[0]), affinity.Money(l[1])))
		}
	}
	return w.b.String(), ref
}

// TestCDNOWReference compares loads of random CDNOW files with a naive
// reading of them.
func TestCDNOWReference(t *testing.T) {
	checkRandomExports(t, "cdnow", 5, cdnowExport)
}
