package dataset_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// limitsInput builds an input of n rows by row, with row long (0-based)
// made long by pad (a name or a line padded with spaces).
func limitsInput(head string, n, long int, row func(i int, pad string) string) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		pad := ""
		if i == long {
			pad = strings.Repeat("x", 150)
		}
		b.WriteString(row(i, pad))
	}
	return b.String()
}

// TestLimitErrorsIndependentOfReads: a load stopped by MaxBytes, MaxLine
// or MaxField gives the error, Report and Builder contents of a
// sequential read, however the reader splits the input: whole, one byte
// at a time, half a buffer at a time, or gunzipped. The MaxBytes error
// names the line holding the first byte past the limit, and every row
// before the failing one is loaded.
func TestLimitErrorsIndependentOfReads(t *testing.T) {
	csvIn := limitsInput("customer,product,order,time,quantity,price,name\n", 300, 200, func(i int, pad string) string {
		return fmt.Sprintf("c%d,p%d,o%d,2024-01-%02d,1,2.50,Name %d%s\n", i%17, i%23, i/2, 1+i%28, i, pad)
	})
	shopIn := limitsInput("Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n", 300, 200, func(i int, pad string) string {
		return fmt.Sprintf("#%d,u%d@x.com,2024-03-%02d 10:00:00 +0000,1,Item %d%s,3.00,S%d\n", i/3, i/3%11, 1+i/3%28, i%5, pad, i%5)
	})
	cdnowIn := limitsInput("", 300, 200, func(i int, pad string) string {
		return fmt.Sprintf("%05d 199701%02d 1 9.99%s\n", i%40, 1+i%28, strings.Repeat(" ", len(pad)))
	})
	catIn := limitsInput("id,name,category\n", 300, 200, func(i int, pad string) string {
		return fmt.Sprintf("P%d,Product %d%s,Home/Kitchen\n", i, i, pad)
	})
	type load func(r io.Reader, b *affinity.Builder, lim dataset.Limits) (dataset.Report, error)
	orders := func(format string) load {
		return func(r io.Reader, b *affinity.Builder, lim dataset.Limits) (dataset.Report, error) {
			return dataset.Load(context.Background(), r, b, dataset.Options{Format: format, Lenient: true, Limits: lim})
		}
	}
	catalog := func(r io.Reader, b *affinity.Builder, lim dataset.Limits) (dataset.Report, error) {
		return dataset.LoadCatalog(context.Background(), r, b, dataset.CatalogOptions{Lenient: true, Limits: lim})
	}
	readers := map[string]func(t *testing.T, in string) io.Reader{
		"one byte": func(_ *testing.T, in string) io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
		"half":     func(_ *testing.T, in string) io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
		"gzip": func(t *testing.T, in string) io.Reader {
			return bytes.NewReader(opnGzip(t, []byte(in)))
		},
	}
	for _, c := range []struct {
		name  string
		in    string
		load  load
		field bool // MaxField applies
		head  int  // header lines
	}{
		{"csv", csvIn, orders("csv"), true, 1},
		{"shopify", shopIn, orders("shopify"), true, 1},
		{"cdnow", cdnowIn, orders("cdnow"), false, 0},
		{"catalog", catIn, catalog, true, 1},
	} {
		lims := []dataset.Limits{{MaxBytes: int64(len(c.in)) / 2}, {MaxLine: 120}}
		if c.field {
			lims = append(lims, dataset.Limits{MaxField: 100})
		}
		for _, lim := range lims {
			t.Run(fmt.Sprintf("%s %+v", c.name, lim), func(t *testing.T) {
				run := func(r io.Reader) (string, dataset.Report, string) {
					var b affinity.Builder
					rep, err := c.load(r, &b, lim)
					require.ErrorIs(t, err, dataset.ErrLimit)
					h, berr := b.Build(context.Background())
					require.NoError(t, berr)
					return err.Error(), rep, opnDump(h)
				}
				wantErr, wantRep, wantDump := run(strings.NewReader(c.in))
				if lim.MaxBytes > 0 {
					line := strings.Count(c.in[:lim.MaxBytes], "\n") + 1
					assert.Contains(t, wantErr, fmt.Sprintf("line %d:", line), "MaxBytes names the line of the first byte past it")
					assert.Equal(t, line-1-c.head, wantRep.Rows, "every row before that line is read")
				}
				for name, open := range readers {
					gotErr, gotRep, gotDump := run(open(t, c.in))
					assert.Equal(t, wantErr, gotErr, name)
					assert.Equal(t, wantRep, gotRep, name)
					assert.Equal(t, wantDump, gotDump, name)
				}
			})
		}
	}
}
