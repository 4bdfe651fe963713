package shop_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// Adversarial tests of shop's file sources and TerminalProgress, written
// against the documentation.

func srcFixture(name string) string { return filepath.Join("..", "dataset", "testdata", name) }

// srcLoad loads src into a new Builder and builds it.
func srcLoad(t *testing.T, src shop.Source) (string, dataset.Report, error) {
	t.Helper()
	var b affinity.Builder
	rep, err := src.Load(context.Background(), &b)
	if err != nil {
		return "", rep, err
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return srcDump(h), rep, nil
}

func srcDump(h *affinity.History) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%+v\n", h.Summary())
	for p := range h.Purchases() {
		fmt.Fprintf(&b, "%s|%s|%s|%d|%d|%v\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
	}
	for e := range h.Events() {
		fmt.Fprintf(&b, "ev %s|%s|%d|%v\n", e.Customer, e.Product, e.Time.Unix(), e.Kind)
	}
	cat := h.Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		pr := cat.Product(p)
		fmt.Fprintf(&b, "pr %s %q %q %v\n", pr.Key, pr.Name, pr.Categories, pr.Price)
	}
	return b.String()
}

// File is the file read with dataset.Defaults — the same History and
// Report as dataset.Open —, FileOrDemo with a path is File, FileWith with
// the Defaults options is File, and every one of them loads the same
// again on a second Load (sources are safe to load more than once).
func TestSrcFileIsOpen(t *testing.T) {
	ctx := context.Background()
	for _, fx := range []struct{ file, format string }{
		{"members.csv", "members"}, {"baskets.csv", "baskets"}, {"retail.csv", "onlineretail"},
		{"u.data", "movielens"}, {"cdnow_master.txt", "cdnow"}, {"shopify_orders.csv", "shopify"},
		{"woocommerce_orders.csv", "woocommerce"},
	} {
		t.Run(fx.file, func(t *testing.T) {
			path := srcFixture(fx.file)
			h, wantRep, err := dataset.Open(ctx, path, fx.format)
			require.NoError(t, err)
			want := srcDump(h)
			opts, err := dataset.Defaults(fx.format)
			require.NoError(t, err)
			file := shop.File(path, fx.format)
			for name, src := range map[string]shop.Source{
				"File": file, "FileOrDemo": shop.FileOrDemo(path, fx.format), "FileWith": shop.FileWith(path, opts),
			} {
				for i := range 2 {
					got, rep, err := srcLoad(t, src)
					require.NoError(t, err, "%s load %d", name, i)
					assert.Equal(t, wantRep, rep, "%s load %d", name, i)
					assert.Equal(t, want, got, "%s load %d", name, i)
				}
			}
			// LoadHistory is the same
			lh, rep, err := shop.LoadHistory(ctx, file)
			require.NoError(t, err)
			assert.Equal(t, wantRep, rep)
			assert.Equal(t, want, srcDump(lh))
		})
	}
}

// Errors of a file source: a missing file keeps its cause, an unknown
// format names the known ones, and FileWith's strict options stop at the
// first bad row with a *dataset.ParseError where File (lenient) counts it.
func TestSrcFileErrors(t *testing.T) {
	dir := t.TempDir()
	var b affinity.Builder
	_, err := shop.File(filepath.Join(dir, "missing.csv"), "csv").Load(context.Background(), &b)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = shop.FileOrDemo(filepath.Join(dir, "missing.csv"), "csv").Load(context.Background(), &b)
	assert.ErrorIs(t, err, os.ErrNotExist, "FileOrDemo with a path never falls back to the demo")
	_, err = shop.File(srcFixture("members.csv"), "parquet").Load(context.Background(), &b)
	require.Error(t, err)
	for _, f := range dataset.Formats() {
		assert.Contains(t, err.Error(), f)
	}
	_, err = shop.File(dir, "csv").Load(context.Background(), &b)
	assert.Error(t, err, "a directory")

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("customer,product,time,quantity\nc1,a,2024-01-01,1\nc1,b,2024-01-01,x\nc2,c,2024-01-02,2\n"), 0o600))
	_, rep, err := srcLoad(t, shop.File(bad, "csv"))
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Rows)
	assert.Equal(t, 2, rep.Loaded)
	assert.Equal(t, []dataset.Skip{{Reason: "invalid quantity", Count: 1, FirstLine: 3}}, rep.Skipped)
	_, _, err = srcLoad(t, shop.FileWith(bad, dataset.Options{Format: "csv"}))
	var pe *dataset.ParseError
	require.True(t, errors.As(err, &pe), "strict FileWith: %v", err)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, 4, pe.Column)

	// FileWith's options are honoured: an unknown format, or lenient
	// with DropDuplicates
	_, _, err = srcLoad(t, shop.FileWith(bad, dataset.Options{Format: "nope"}))
	assert.Error(t, err)
	dup := filepath.Join(dir, "dup.csv")
	require.NoError(t, os.WriteFile(dup, []byte("order,customer,product,time\no1,c1,a,2024-01-01\no1,c1,a,2024-01-01\n"), 0o600))
	_, rep, err = srcLoad(t, shop.FileWith(dup, dataset.Options{Format: "csv", DropDuplicates: true}))
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Loaded)
	assert.Equal(t, 1, rep.Duplicates)
}

// FileOrDemo with an empty path is the demo storefront, whatever format
// is named.
func TestSrcFileOrDemoEmptyPath(t *testing.T) {
	ctx := context.Background()
	var a, b affinity.Builder
	want, err := shop.Demo().Load(ctx, &a)
	require.NoError(t, err)
	got, err := shop.FileOrDemo("", "no such format").Load(ctx, &b)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Positive(t, got.Purchases)
}

// File reports the bytes it reads to Options.Progress in step "load":
// the step starts (Done 0) and ends (Done == Total); its "bytes" reports
// never go backwards and end at Total, the size of the file, gzip or not.
func TestSrcFileProgress(t *testing.T) {
	ctx := context.Background()
	plain, err := os.ReadFile(srcFixture("baskets.csv"))
	require.NoError(t, err)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, err = zw.Write(plain)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	gz := filepath.Join(t.TempDir(), "baskets.csv.gz")
	require.NoError(t, os.WriteFile(gz, zb.Bytes(), 0o600))

	for name, path := range map[string]string{"plain": srcFixture("baskets.csv"), "gzip": gz} {
		t.Run(name, func(t *testing.T) {
			st, err := os.Stat(path)
			require.NoError(t, err)
			var mu sync.Mutex
			var loads []affinity.Progress
			_, err = shop.Open(ctx, shop.File(path, "baskets"), shop.Options{Progress: func(p affinity.Progress) {
				if p.Step == "load" {
					mu.Lock()
					loads = append(loads, p)
					mu.Unlock()
				}
			}})
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, loads)
			assert.Zero(t, loads[0].Done, "the first report of the step is its start")
			last := loads[len(loads)-1]
			assert.Equal(t, last.Total, last.Done, "the last report of the step is its end")
			var bytesRead []affinity.Progress
			for _, p := range loads {
				assert.Equal(t, "bytes", p.Unit, "the step's reports keep one unit: %+v", loads)
				if p.Unit == "bytes" {
					bytesRead = append(bytesRead, p)
				}
			}
			require.NotEmpty(t, bytesRead, "File reports the bytes read: %+v", loads)
			end := bytesRead[len(bytesRead)-1]
			assert.Equal(t, st.Size(), end.Total, "Total is the file's size")
			assert.Equal(t, end.Total, end.Done, "the whole file is read")
			for i, p := range bytesRead {
				assert.Equal(t, st.Size(), p.Total)
				if i > 0 {
					assert.GreaterOrEqual(t, p.Done, bytesRead[i-1].Done, "bytes read never go backwards")
				}
			}
		})
	}
}

// Any other source, a file among Sources included, reports its "load"
// step in rows from its start (Done 0) to its end (Done == Total, the
// rows read), in one unit.
func TestSrcLoadProgressInRows(t *testing.T) {
	ctx := context.Background()
	for name, src := range map[string]shop.Source{
		"sources": shop.Sources(shop.File(srcFixture("baskets.csv"), "baskets")),
		"purchases": shop.Purchases(func(yield func(affinity.Purchase) bool) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range 30 {
				p := affinity.Purchase{Customer: fmt.Sprint("c", i%7), Order: fmt.Sprint("o", i/2), Product: fmt.Sprint("p", i%5), Time: t0.Add(time.Duration(i/2) * time.Hour), Quantity: 1}
				if !yield(p) {
					return
				}
			}
		}),
	} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var loads []affinity.Progress
			s, err := shop.Open(ctx, src, shop.Options{Progress: func(p affinity.Progress) {
				if p.Step == "load" {
					mu.Lock()
					loads = append(loads, p)
					mu.Unlock()
				}
			}})
			require.NoError(t, err)
			defer s.Close()
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, loads, 2, "a start and an end: %+v", loads)
			assert.Equal(t, affinity.Progress{Step: "load", Unit: "rows"}, loads[0])
			rows := int64(s.Snapshot().Report().Rows)
			assert.Positive(t, rows)
			assert.Equal(t, affinity.Progress{Step: "load", Done: rows, Total: rows, Unit: "rows"}, loads[1])
		})
	}
}

// TerminalProgress is nil — no reports, nothing written — for anything
// that is not a terminal: a pipe, /dev/null (a character device, but no
// terminal) and a regular file.
func TestSrcTerminalProgressNotTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.Nil(t, shop.TerminalProgress(w), "the write end of a pipe")
	assert.Nil(t, shop.TerminalProgress(r), "the read end of a pipe")

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	assert.Nil(t, shop.TerminalProgress(null), "/dev/null is a character device, not a terminal")

	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	assert.Nil(t, shop.TerminalProgress(f))

	// and nothing reaches the pipe when a shop is opened with it
	_, err = shop.Open(context.Background(), shop.File(srcFixture("baskets.csv"), "baskets"), shop.Options{Progress: shop.TerminalProgress(w)})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	var buf bytes.Buffer
	_, err = buf.ReadFrom(r)
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

// Open refuses a file of which no row loads — a header and no rows, or
// every row skipped (a file of another format than named) — with an error
// naming the file and the format; a refresh takes such a file (a day
// without orders). Load errors name the file too.
func TestSrcFileNothingLoaded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	header := filepath.Join(dir, "header.csv")
	require.NoError(t, os.WriteFile(header, []byte("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"), 0o600))
	retail := srcFixture("retail.csv")
	for _, c := range []struct{ path, format, want string }{
		{header, "onlineretail", "header.csv has no rows after its header (read as onlineretail)"},
		{retail, "cdnow", "rows of " + retail + " loaded as cdnow"},
		{retail, "movielens", "loaded as movielens"},
	} {
		s, err := shop.Open(ctx, shop.File(c.path, c.format), shop.Options{})
		require.ErrorIs(t, err, shop.ErrNothingLoaded, c.format)
		assert.ErrorContains(t, err, c.want)
		assert.Nil(t, s)
	}
	s, err := shop.Open(ctx, shop.File(retail, "onlineretail"), shop.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Refresh(ctx, shop.File(header, "onlineretail")), "a refresh of nothing new")

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("customer,product,time\nc1,p1,yesterday\n"), 0o600))
	_, err = shop.Open(ctx, shop.FileWith(bad, dataset.Options{Format: "csv"}), shop.Options{})
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	assert.ErrorContains(t, err, "bad.csv: line 2")
}

// Sources adds the reports up; line numbers stay those of their source:
// the first duplicate is the first source's that has one (it was lost,
// "first at line 0"), and each source's skips are entries of their own.
func TestAdvSourcesReports(t *testing.T) {
	dir := t.TempDir()
	file := func(name, data string) shop.Source {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
		return shop.File(path, "csv")
	}
	clean := file("clean.csv", "order,customer,product,time\no1,c1,a,2024-01-01\n")
	dupAt3 := file("dup3.csv", "order,customer,product,time\no2,c1,a,2024-01-02\no2,c1,a,2024-01-02\nx,c2,b,never\n")
	dupAt4 := file("dup4.csv", "order,customer,product,time\no3,c2,a,2024-01-03\no3,c2,b,2024-01-03\no3,c2,b,2024-01-03\n")
	_, rep, err := srcLoad(t, shop.Sources(clean, dupAt4, dupAt3))
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Duplicates)
	assert.Equal(t, 4, rep.FirstDuplicate, "the first source with a duplicate")
	assert.Equal(t, []dataset.Skip{{Reason: "invalid time", Count: 1, FirstLine: 4}}, rep.Skipped)
	assert.Contains(t, rep.String(), "2 (first at line 4)")
	_, rep, err = srcLoad(t, shop.Sources(clean, dupAt3, dupAt4))
	require.NoError(t, err)
	assert.Equal(t, 3, rep.FirstDuplicate)
	_, rep, err = srcLoad(t, shop.Sources(clean, clean))
	require.NoError(t, err)
	assert.Zero(t, rep.FirstDuplicate)
	assert.Zero(t, rep.Duplicates)
}

// Refreshing a shop with the order export it was opened from keeps the
// snapshot: every order is held as it is, so the refresh costs only the
// read (Shop.Refresh).
func TestSrcUnchangedExportKeepsSnapshot(t *testing.T) {
	ctx := context.Background()
	for _, fx := range []struct{ file, format string }{
		{"shopify_orders.csv", "shopify"}, {"woocommerce_orders.csv", "woocommerce"},
	} {
		t.Run(fx.format, func(t *testing.T) {
			file := shop.File(srcFixture(fx.file), fx.format)
			s, err := shop.Open(ctx, file, shop.Options{Workers: 1, RefreshWorkers: 1})
			require.NoError(t, err)
			defer s.Close()
			require.NoError(t, s.WaitModel(ctx))
			before := s.Snapshot()
			require.NoError(t, s.Refresh(ctx, file))
			assert.True(t, before == s.Snapshot(), "the same export made a new snapshot")
		})
	}
}
