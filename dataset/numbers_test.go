package dataset_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// numberFiles are one-row files of each format with a quantity ({Q}) and
// an amount ({A}) to fill in; comma is the field separator to use with
// the decimal comma.
var numberFiles = []struct {
	format, data string
	comma        rune
}{
	{"csv", "customer,product,time,quantity,price\nc1,p1,2024-01-01,{Q},{A}\n", ';'},
	{"onlineretail", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,Thing,{Q},12/1/2010 8:26,{A},17850,UK\n", ';'},
	{"cdnow", "00001 19970101 {Q} {A}\n", 0},
	{"shopify", "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price\n#1,a@x.com,2024-03-01 10:00:00 +0000,{Q},Shoe,{A}\n", ';'},
	{"woocommerce", "order_number,order_date,status,customer_id,item_sku,item_name,item_quantity,item_total,item_refunded,item_refunded_qty\n1,2024-03-01 10:00:00,completed,7,s1,Mug,{Q},{A},{A},{Q}\n", ';'},
}

// loadNumbers loads file f with quantity q and amount a and returns its
// purchase lines, or the load's error.
func loadNumbers(f string, format string, comma rune, sep byte, q, a string) ([]string, error) {
	if comma != 0 {
		f = strings.ReplaceAll(f, ",", string(comma))
	}
	data := strings.NewReplacer("{Q}", q, "{A}", a).Replace(f)
	var b affinity.Builder
	if _, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: format, Comma: comma, DecimalSep: sep}); err != nil {
		return nil, err
	}
	h, err := b.Build(context.Background())
	if err != nil {
		return nil, err
	}
	var lines []string
	for p := range h.Purchases() {
		lines = append(lines, fmt.Sprint(p.Product, " ", p.Quantity, " ", p.Price))
	}
	return lines, nil
}

// TestNumbersReadAlike: a quantity is read as an amount is, with
// Options.DecimalSep, in every format: "3." loads as "3" does, as "5."
// does as "5.00", where "3." was an invalid quantity; "3,0" with the
// decimal comma too. A fraction that is not zeros is still refused.
func TestNumbersReadAlike(t *testing.T) {
	for _, f := range numberFiles {
		t.Run(f.format, func(t *testing.T) {
			for _, sep := range []byte{'.', ','} {
				comma := rune(0)
				if sep == ',' {
					comma = f.comma
				}
				want, err := loadNumbers(f.data, f.format, comma, sep, "3", "15")
				require.NoError(t, err)
				require.NotEmpty(t, want)
				d := string(sep)
				for _, tc := range [][2]string{{"3" + d, "15" + d}, {"3" + d + "0", "15" + d + "00"}, {"+3" + d, "15" + d + "0000"}, {"03" + d + "00000", "015" + d}} {
					got, err := loadNumbers(f.data, f.format, comma, sep, tc[0], tc[1])
					require.NoError(t, err, "sep %q: quantity %q, amount %q", sep, tc[0], tc[1])
					assert.Equal(t, want, got, "sep %q: quantity %q, amount %q", sep, tc[0], tc[1])
				}
				for _, q := range []string{"3" + d + "5", d, "3" + d + d, "3" + d + "0x"} {
					_, err := loadNumbers(f.data, f.format, comma, sep, q, "15")
					var pe *dataset.ParseError
					require.ErrorAs(t, err, &pe, "sep %q: quantity %q", sep, q)
					assert.Equal(t, "invalid quantity", pe.Reason, "sep %q: quantity %q", sep, q)
				}
				_, err = loadNumbers(f.data, f.format, comma, sep, d+"0", "15")
				var pe *dataset.ParseError
				require.ErrorAs(t, err, &pe, "sep %q: quantity %q", sep, d+"0")
				assert.Equal(t, "zero quantity", pe.Reason, "a quantity of no units, written as an amount may be")
			}
		})
	}
}

// TestStockCountReadAlike: a catalog's stock count is a whole number
// read as a quantity is: "5." and "0." as "5" and "0".
func TestStockCountReadAlike(t *testing.T) {
	for _, sep := range []byte{'.', ','} {
		d := string(sep)
		data := "id;name;price;stock\np1;One;1" + d + ";5" + d + "\np2;Two;2" + d + "00;0" + d + "\np3;Three;3;" + d + "0\n"
		cat, _, err := loadCatalog(t, data, dataset.CatalogOptions{Comma: ';', DecimalSep: sep})
		require.NoError(t, err, "sep %q", sep)
		for id, want := range map[string]bool{"p1": true, "p2": false, "p3": false} {
			p, ok := cat.LookupProduct(id)
			require.True(t, ok, id)
			assert.Equal(t, want, cat.InStock(p), "sep %q: %s", sep, id)
		}
	}
}
