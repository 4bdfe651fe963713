package dataset_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLenientStrayQuote: a quote opened in a field and never closed makes
// encoding/csv read the rest of the input as one malformed record. A
// lenient load skips the line of the quote and reads the lines after it
// again, so that every row is loaded or counted: it loaded 1,000 of 3,000
// rows and counted one skip. A strict load stops at the quote's line.
func TestLenientStrayQuote(t *testing.T) {
	for _, workers := range []int{-1, 0, 4} {
		for _, bad := range []string{
			"cX,\"oops,2024-01-02\n",    // never closed
			"cX,\"oops\"x,2024-01-02\n", // closed, then text
			"cX,p1,\"2024-01-02\n",      // in the last field
			"\"cX,p1,2024-01-02\r\n",    // in the first field, CRLF
		} {
			var sb strings.Builder
			sb.WriteString("customer,product,time\n")
			for i := range 3000 {
				if i == 1000 {
					sb.WriteString(bad)
					continue
				}
				fmt.Fprintf(&sb, "c%d,p%d,2024-01-02\n", i, i%50)
			}
			msg := fmt.Sprintf("workers %d, line %q", workers, bad)
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(sb.String()), &b, dataset.Options{Format: "csv", Lenient: true, Workers: workers})
			require.NoError(t, err, msg)
			assert.Equal(t, 3000, rep.Rows, msg)
			assert.Equal(t, 2999, rep.Loaded, msg)
			assert.Equal(t, []dataset.Skip{{Reason: "malformed csv", Count: 1, FirstLine: 1002}}, rep.Skipped, msg)
			h, err := b.Build(context.Background())
			require.NoError(t, err, msg)
			assert.Equal(t, 2999, h.NumCustomers(), msg)

			var sb2 affinity.Builder
			_, err = dataset.Load(context.Background(), strings.NewReader(sb.String()), &sb2, dataset.Options{Format: "csv", Workers: workers})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, msg)
			assert.Equal(t, 1002, pe.Line, msg)
		}
	}
}

// TestLenientStrayQuoteClosedLater: a quote opened by mistake and closed
// lines later where a quote may close a field made encoding/csv read the
// lines between as part of one field of one good record: the rows on
// them were lost without a count, and the record loaded with the first
// row's fields before the quote and the last row's after it. A line
// break in a field the loader reads (a key, a quantity, a price, a time;
// in a name or a category once the field also holds the separator) now
// makes the record malformed, ending with that line, and the lines after
// it are read again. Line breaks in names without a separator, and in
// columns the loader does not read, are kept.
func TestLenientStrayQuoteClosedLater(t *testing.T) {
	const head = "customer,product,name,time,note\n"
	for _, tc := range []struct {
		name      string
		bad       [2]string // the row with the quote, and the row 3 lines later that closes it
		rows      int
		loaded    int
		firstLine int // of the skips, 0 for none
	}{
		{"key", [2]string{`cX,"pX,Lamp,2024-01-02,` + "\n", `cY,pY",Lamp,2024-01-02,` + "\n"}, 3000, 2998, 1002},
		{"name", [2]string{`cX,pX,"Frame,2024-01-02,` + "\n", `cY,pY,Frame 12",2024-01-02,` + "\n"}, 3000, 2998, 1002},
		{"time", [2]string{`cX,pX,Lamp,"2024-01-02,` + "\n", `cY,pY,Lamp,2024-01-02",` + "\n"}, 3000, 2998, 1002},
		// kept: a name over two lines, a note over three with separators
		{"name lines", [2]string{"cX,pX,\"Sticker\nsheet\",2024-01-02,\n", "cY,pY,Lamp,2024-01-02,\"ring, then\nleave it\nat the door\"\n"}, 3000, 3000, 0},
	} {
		for _, workers := range []int{-1, 0, 4} {
			var sb strings.Builder
			sb.WriteString(head)
			for i := range 3000 {
				switch i {
				case 1000:
					sb.WriteString(tc.bad[0])
				case 1003:
					sb.WriteString(tc.bad[1])
				default:
					fmt.Fprintf(&sb, "c%d,p%d,Item %d,2024-01-02,\n", i, i%50, i%50)
				}
			}
			msg := fmt.Sprintf("%s, workers %d", tc.name, workers)
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(sb.String()), &b, dataset.Options{Format: "csv", Lenient: true, Workers: workers})
			require.NoError(t, err, msg)
			assert.Equal(t, tc.rows, rep.Rows, msg)
			assert.Equal(t, tc.loaded, rep.Loaded, msg)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), msg)
			if tc.firstLine != 0 {
				// the quote's line, and the closing one: its quote is
				// bare once the lines are read again
				assert.Equal(t, []dataset.Skip{{Reason: "malformed csv", Count: 2, FirstLine: tc.firstLine}}, rep.Skipped, msg)
			} else {
				assert.Empty(t, rep.Skipped, msg)
			}
			h, err := b.Build(context.Background())
			require.NoError(t, err, msg)
			// the rows between the quote's line and the closing one load
			for _, c := range []string{"c1001", "c1002"} {
				_, ok := h.LookupCustomer(c)
				assert.True(t, ok, "%s: %s lost", msg, c)
			}

			// a strict load stops at the quote's line
			var sb2 affinity.Builder
			_, err = dataset.Load(context.Background(), strings.NewReader(sb.String()), &sb2, dataset.Options{Format: "csv", Workers: workers})
			if tc.firstLine == 0 {
				require.NoError(t, err, msg)
				continue
			}
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, msg)
			assert.Equal(t, 1002, pe.Line, msg)
			assert.Contains(t, err.Error(), "a quote not closed where it should be?", msg)
		}
	}
}

// TestLenientStrayQuoteLongFile: the reader that bounds records and fields
// saw the stray quote's field run on to the end of the input, where the
// loader ends the record at the line break, and stopped a lenient load of
// 2,000 rows at line 679 with a MaxField error. It ends the record where
// the loader does.
func TestLenientStrayQuoteLongFile(t *testing.T) {
	const row = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
	for _, bad := range []string{
		"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,\"6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n", // a quantity
		"536365,85123A,\"WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n", // a name, with separators after
	} {
		var sb strings.Builder
		sb.WriteString("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
		for i := range 2000 {
			if i == 1 {
				sb.WriteString(bad)
				continue
			}
			sb.WriteString(row)
		}
		for _, workers := range []int{-1, 0, 4} {
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(sb.String()), &b, dataset.Options{Format: "onlineretail", Lenient: true, Workers: workers})
			require.NoError(t, err, "workers %d, %q", workers, bad)
			assert.Equal(t, 2000, rep.Rows)
			assert.Equal(t, 1999, rep.Loaded)
			assert.Equal(t, []dataset.Skip{{Reason: "malformed csv", Count: 1, FirstLine: 3}}, rep.Skipped)
		}
	}
}

// TestStrayQuoteAfterByteOrderMark: a stray quote in a key column is one
// malformed row also when the file starts with a byte-order mark and a
// quoted header, as Excel's "CSV UTF-8" and WooCommerce exports do, in
// plain and gzip input, for Load and LoadCatalog. The input's limits
// once saw the mark the loader drops: the header's first quote looked
// stray to them, the header did not map, every field could hold line
// breaks, and the stray quote ran to the end of the input, failing the
// lenient load at Limits.MaxField.
func TestStrayQuoteAfterByteOrderMark(t *testing.T) {
	const n = 60 // rows after the stray quote: more than MaxField holds
	lim := dataset.Limits{MaxField: 512}
	cases := []struct {
		format, header, bad, row string
	}{
		{"csv", `"customer","product","time"`, `"c0,p0,2024-01-01`, "c%d,p%d,2024-01-01"},
		{"woocommerce", `"Order Number","Order Date",Status,"Customer ID","Item Name","Item Quantity","Item Total"`,
			`"1000,2024-03-01 10:00:00,completed,7,Mug,1,5.00`, "%d,2024-03-01 10:00:00,completed,%d,Mug,1,5.00"},
		{"catalog", `"product","name"`, `"p0,Mug`, "p%d,Mug %d"},
	}
	for _, c := range cases {
		for _, bom := range []string{"", "\ufeff"} {
			for _, gz := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/mark %v/gzip %v", c.format, bom != "", gz), func(t *testing.T) {
					var sb strings.Builder
					sb.WriteString(bom + c.header + "\r\n" + c.bad + "\r\n")
					for i := range n {
						fmt.Fprintf(&sb, c.row+"\r\n", 1001+i, i%7)
					}
					data := []byte(sb.String())
					if gz {
						data = gzipped(t, sb.String())
					}
					rep, err := loadAs(data, dataset.Options{Format: c.format, Lenient: true, Limits: lim})
					require.NoError(t, err)
					assert.Equal(t, n, rep.Loaded)
					assert.Equal(t, []dataset.Skip{{Reason: "malformed csv", Count: 1, FirstLine: 2}}, rep.Skipped)
				})
			}
		}
	}
}
