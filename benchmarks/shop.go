package benchmarks

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Sizes are the nominal line counts of the suite: 10 k, 100 k, 1 M and 10 M
// order lines.
var Sizes = []int{10_000, 100_000, 1_000_000, 10_000_000}

// customersFor maps the nominal sizes to the customer counts that give
// about that many purchase lines: lines per customer grow from 7.38 at
// 1,370 customers (10,110 lines) to 10.37 at 945,000 (9,803,285 lines;
// more products, fewer repeats of the same product), measured once with
// the options of [Options].
var customersFor = map[int]int{10_000: 1_370, 100_000: 12_200, 1_000_000: 104_400, 10_000_000: 945_000}

// AsOf is the as-of time of every question: one day after the end of the
// generated trading period, which runs 730 days from 2024-01-01 and so
// ends at 2025-12-31 00:00 UTC (2024 is a leap year): no line falls on
// the last day before AsOf. Its 24-month look-back starts on 2024-01-01,
// one day before a 730-day one would.
var AsOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// LookbackMonths is the look-back of every windowed feature, in calendar
// months.
const LookbackMonths = 24

// TimeLayout is the layout of the time column of the CSV files.
const TimeLayout = "2006-01-02 15:04:05"

// Shop is a generated storefront written as a CSV file.
type Shop struct {
	// Lines is the nominal size (one of [Sizes]); Rows the number of lines
	// in the file.
	Lines, Rows int
	// Customers and Products are the generator's counts.
	Customers, Products int
	// Path is the CSV file: a header and one row per purchase line with
	// the columns customer, order, product, category, time, quantity and
	// price.
	Path string
	// Bytes is the size of the file.
	Bytes int64
	// Category is a top-level category and Sub a second-level category
	// below it, the subjects of the questions.
	Category, Sub string
}

// Options returns the synthetic options of the shop with about lines
// purchase lines: the customers of the table above (lines/10 for other
// sizes), a tenth as many products (at least 1,000), 500 leaf categories,
// seed 1, no events.
func Options(lines int) dataset.SyntheticOptions {
	c, ok := customersFor[lines]
	if !ok {
		c = max(lines/10, 1)
	}
	return dataset.SyntheticOptions{Customers: c, Products: max(c/10, 1000), Categories: 500, Seed: 1, ViewsPerLine: -1}
}

// Generate generates the shop of about lines purchase lines and writes it
// to dir/orders-<lines>.csv, unless a file of that name written by an
// earlier call holds the same purchases in the same layout: the
// fingerprint of the generated purchases and the CSV layout's version is
// kept beside the file (<file>.fingerprint), so that a file written by an
// earlier version of the generator or of the CSV writer is written again. Each
// product keeps its first category path only, so that category spend is
// never split between paths.
func Generate(dir string, lines int) (*Shop, error) {
	o := Options(lines)
	path := filepath.Join(dir, fmt.Sprintf("orders-%d.csv", lines))
	s := dataset.Generate(o)
	sh := &Shop{Lines: lines, Rows: len(s.Purchases), Customers: o.Customers, Products: o.Products, Path: path}
	sh.Category, sh.Sub = subjects(s)
	fp := fingerprint(s)
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		if old, err := os.ReadFile(path + ".fingerprint"); err == nil && string(old) == fp {
			sh.Bytes = st.Size()
			return sh, nil
		}
	}
	if err := writeCSV(path, s); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".fingerprint", []byte(fp), 0o644); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	sh.Bytes = st.Size()
	return sh, nil
}

// subjects picks the top-level category with the most bought spend and the
// second-level category with the most bought spend below it; ties go to
// the smaller path.
func subjects(s *dataset.Storefront) (cat, sub string) {
	leaf := make(map[string]string, len(s.Products))
	for _, p := range s.Products {
		leaf[p.Key] = p.Categories[0]
	}
	spend := map[string]affinity.Money{}
	for _, p := range s.Purchases {
		if p.Quantity > 0 {
			parts := strings.SplitN(leaf[p.Product], affinity.CategorySep, 3)
			spend[parts[0]] += p.Value()
			spend[parts[0]+affinity.CategorySep+parts[1]] += p.Value()
		}
	}
	best := func(prefix string, level int) string {
		b := ""
		for k, v := range spend {
			if strings.Count(k, affinity.CategorySep) != level || !strings.HasPrefix(k, prefix) {
				continue
			}
			if b == "" || v > spend[b] || v == spend[b] && k < b {
				b = k
			}
		}
		return b
	}
	cat = best("", 0)
	return cat, best(cat+affinity.CategorySep, 1)
}

// csvLayout is the version of the layout writeCSV writes (columns, time
// and number formats), part of the fingerprint: increment it with any
// change to writeCSV's output, so that files cached in an older layout are
// written again.
const csvLayout = 1

// fingerprint returns a hash of the purchases and product categories of
// s, in hex, and the CSV layout's version: what the CSV file is written
// from, and how.
func fingerprint(s *dataset.Storefront) string {
	h := fnv.New64a()
	var b []byte
	for _, p := range s.Products {
		b = append(append(append(b[:0], p.Key...), 0), p.Categories[0]...)
		h.Write(append(b, '\n'))
	}
	for _, p := range s.Purchases {
		b = append(append(append(append(append(b[:0], p.Customer...), 0), p.Order...), 0), p.Product...)
		b = strconv.AppendInt(append(b, 0), p.Time.UnixNano(), 10)
		b = strconv.AppendInt(append(b, 0), int64(p.Quantity), 10)
		b = strconv.AppendInt(append(b, 0), int64(p.Price), 10)
		h.Write(append(b, '\n'))
	}
	return fmt.Sprintf("%d purchases %016x, csv layout %d", len(s.Purchases), h.Sum64(), csvLayout)
}

// writeCSV writes the purchases of s to path in the layout of [Shop.Path]
// (version csvLayout), through a temporary file renamed into place.
func writeCSV(path string, s *dataset.Storefront) error {
	cat := make(map[string]string, len(s.Products))
	for _, p := range s.Products {
		cat[p.Key] = p.Categories[0]
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("customer,order,product,category,time,quantity,price\n")
	var buf []byte
	for _, p := range s.Purchases {
		buf = buf[:0]
		buf = append(buf, p.Customer...)
		buf = append(buf, ',')
		buf = append(buf, p.Order...)
		buf = append(buf, ',')
		buf = append(buf, p.Product...)
		buf = append(buf, ',')
		buf = append(buf, cat[p.Product]...)
		buf = append(buf, ',')
		buf = p.Time.UTC().AppendFormat(buf, TimeLayout)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(p.Quantity), 10)
		buf = append(buf, ',')
		buf = append(buf, p.Price.String()...)
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
