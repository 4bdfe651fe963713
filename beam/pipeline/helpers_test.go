package pipeline_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// skewed returns the demo shop's purchase lines with one huge customer
// (600 orders) and one huge basket (an anonymous order of 400 distinct
// products) added, so that one key dominates a shard and the MaxBasket
// sample is taken.
func skewed() []affinity.Purchase {
	demo := dataset.Demo()
	lines := append([]affinity.Purchase(nil), demo.Purchases...)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	np := len(demo.Products)
	for i := range 600 {
		for j := range 3 {
			lines = append(lines, affinity.Purchase{Customer: "whale", Product: demo.Products[(i*7+j*13)%np].Key,
				Order: fmt.Sprintf("w%04d", i), Time: t0.Add(time.Duration(i) * 20 * time.Hour), Quantity: 1, Price: affinity.MoneyFromFloat(4.5)})
		}
	}
	for j := range 400 {
		lines = append(lines, affinity.Purchase{Product: demo.Products[(j*3)%np].Key, Order: "bulk-1",
			Time: t0.Add(90 * 24 * time.Hour), Quantity: 2, Price: affinity.MoneyFromFloat(1.25)})
	}
	return lines
}

// writeParts writes lines as generic CSV files of about per lines each —
// orders may straddle two files — and returns their paths in order.
func writeParts(t testing.TB, dir string, lines []affinity.Purchase, per int) []string {
	t.Helper()
	return writeCatalogParts(t, dir, lines, nil, per)
}

// writeCatalogParts is writeParts with a category column: each line
// carries the category paths of its product in cats ("|"-separated).
func writeCatalogParts(t testing.TB, dir string, lines []affinity.Purchase, cats map[string][]string, per int) []string {
	t.Helper()
	var files []string
	for start := 0; start < len(lines); start += per {
		path := filepath.Join(dir, fmt.Sprintf("part-%03d.csv", len(files)))
		f, err := os.Create(path)
		require.NoError(t, err)
		w := csv.NewWriter(f)
		header := []string{"customer", "product", "order", "time", "quantity", "price"}
		if cats != nil {
			header = append(header, "category")
		}
		require.NoError(t, w.Write(header))
		for _, p := range lines[start:min(start+per, len(lines))] {
			row := []string{p.Customer, p.Product, p.Order, p.Time.UTC().Format(time.RFC3339),
				strconv.Itoa(int(p.Quantity)), p.Price.String()}
			if cats != nil {
				row = append(row, strings.Join(cats[p.Product], "|"))
			}
			require.NoError(t, w.Write(row))
		}
		w.Flush()
		require.NoError(t, w.Error())
		require.NoError(t, f.Close())
		files = append(files, path)
	}
	return files
}

// run runs p on the prism runner.
func run(t testing.TB, p *beam.Pipeline) {
	t.Helper()
	start := time.Now()
	_, err := prism.Execute(context.Background(), p)
	require.NoError(t, err)
	t.Logf("prism: %v", time.Since(start).Round(time.Millisecond))
}

// sharedData returns the path of a file of the shared data sets
// (../shared/data beside the repository root, the parent of this module),
// or skips the test.
func sharedData(t testing.TB, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", name))
	require.NoError(t, err)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not found: the shared data sets are not beside the repository", path)
	}
	return path
}

// dictText is the CSV a dictionary of keys is written as.
func dictText(what string, keys []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", what})
	for i, k := range keys {
		_ = w.Write([]string{strconv.Itoa(i), k})
	}
	w.Flush()
	return b.String()
}

// latin1Shop writes a file of a shop exported in Latin-1 (Windows-1252),
// as many are: product keys such as "CAF\xe9" and category paths such as
// "Caf\xe9s" are not valid UTF-8. The dataset package and the Builder keep
// keys as bytes.
func latin1Shop(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte("customer,product,order,time,quantity,price,category\n"+
		"c1,CAF\xe9,o1,2024-01-10T00:00:00Z,1,10,Caf\xe9s\n"+
		"c1,TEA,o1,2024-01-10T00:00:00Z,1,10,T\n"+
		"c1,MUG,o1,2024-01-10T00:00:00Z,1,10,T\n"+
		"c2,CAF\xe9,o2,2024-01-11T00:00:00Z,1,10,Caf\xe9s\n"+
		"c2,TEA,o2,2024-01-11T00:00:00Z,1,10,T\n"+
		"c3,CAF\xe9,o3,2024-01-12T00:00:00Z,1,10,\n"+
		"c3,MUG,o3,2024-01-12T00:00:00Z,1,10,\n"), 0o644))
	return path
}
