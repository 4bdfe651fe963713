package dataset_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// membersFaults are the bad fields of membersExport's rows.
var membersFaults = []refFault{
	{"invalid time", 2, map[int]string{2: "31-02-2015"}},
	{"time out of range", 2, map[int]string{2: "31-12-1969"}},
	{"missing product", 3, map[int]string{3: ""}},
}

// membersExport generates a random file of the "members" format (the
// Kaggle groceries data) of n member-days and what a naive reading of it
// loads.
func membersExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	const nf = 3
	ref := refLoad{noOrderKeys: true, names: map[string]string{}}
	w := newExportWriter(rng)
	w.row([]string{"Member_number", "Date", "itemDescription"})
	items := []string{"whole milk", "other vegetables", "rolls/buns", "soda", "yogurt", "bottled water", "root vegetables", "tropical fruit", "shopping bags", "sausage", "pastry", "citrus fruit"}
	base := time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
	for range n {
		cust := strconv.Itoa(1000 + rng.IntN(60))
		t := base.AddDate(0, 0, rng.IntN(700))
		date := t.Format("02-01-2006")
		if rng.IntN(2) == 0 {
			date = t.Format("2-1-2006")
		}
		var seen [][]string
		for range 1 + rng.IntN(4) {
			item := items[rng.IntN(len(items))] + strings.Repeat(" ", pad)
			fields := []string{cust, date, item} // unquoted: equal items, equal rows
			if rng.IntN(10) == 0 && len(seen) > 0 {
				fields = slices.Clone(seen[rng.IntN(len(seen))]) // an exact duplicate row
			}
			bad, badCol := spoil(rng, fields, bad1in, membersFaults)
			if !ref.plainRow(w.row(fields), fields, nf, bad, badCol, &seen) {
				continue
			}
			product := strings.TrimSpace(strings.Trim(fields[2], `"`))
			ref.lines = append(ref.lines, refLine(cust, "", product, t, 1, 0))
			ref.names[product] = product
		}
	}
	return w.b.String(), ref
}

// TestMembersReference compares loads of random files of the "members"
// format with a naive reading of them.
func TestMembersReference(t *testing.T) {
	checkRandomExports(t, "members", 6, membersExport)
}

// basketsExport generates a random file of the "baskets" format (the
// Groceries data) of n baskets and what a naive reading of it loads.
func basketsExport(rng *rand.Rand, n, pad, bad1in int) (string, refLoad) {
	ref := refLoad{names: map[string]string{}}
	w := newExportWriter(rng)
	items := []string{"citrus fruit", "semi-finished bread", "margarine", "ready soups", "tropical fruit", "yogurt", "coffee", "whole milk", "pip fruit", "cream cheese "}
	when := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for range n {
		var fields []string
		for range 1 + rng.IntN(6) {
			it := items[rng.IntN(len(items))]
			switch rng.IntN(12) {
			case 0:
				it = "" // an empty item, ignored
			case 1:
				it = "\"fruit, \"\"exotic\"\"\""
			}
			if !strings.HasPrefix(it, `"`) {
				it += strings.Repeat(" ", pad) // trimmed; after a quote it would be malformed
			}
			fields = append(fields, it)
		}
		if rng.IntN(bad1in) == 0 {
			fields = []string{" ", ""}
		}
		if len(fields) == 1 && fields[0] == "" {
			fields = append(fields, "") // a blank line is no basket
		}
		line := w.row(fields)
		ref.rows++
		var lines []string
		for _, it := range fields {
			if strings.HasPrefix(it, `"`) {
				it = strings.ReplaceAll(strings.Trim(strings.TrimSpace(it), `"`), `""`, `"`) + `"`
			}
			if it = strings.TrimSpace(it); it != "" {
				lines = append(lines, refLine("", fmt.Sprintf("basket:0:%d", line), it, when, 1, 0))
				ref.names[it] = it
			}
		}
		if len(lines) == 0 {
			ref.fail(line, 0, "empty basket")
			continue
		}
		ref.loaded++
		ref.lines = append(ref.lines, lines...)
	}
	return w.b.String(), ref
}

// TestBasketsReference compares loads of random files of the "baskets"
// format with a naive reading of them.
func TestBasketsReference(t *testing.T) {
	checkRandomExports(t, "baskets", 7, basketsExport)
}
