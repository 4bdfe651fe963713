package dataset_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestCatalogStockValues: a stock count is read as quantities are, a
// decimal with a zero or empty fraction included ("5.0", "5.", as
// spreadsheets export counts), and WooCommerce's "onbackorder" is in stock (it can be
// ordered); anything else that is no flag is an "invalid stock flag".
func TestCatalogStockValues(t *testing.T) {
	for _, c := range []struct {
		stock   string
		inStock bool
		ok      bool
	}{
		{"5", true, true}, {"5.0", true, true}, {"12.000", true, true}, {"0.00", false, true}, {"-3.0", false, true},
		{"instock", true, true}, {"outofstock", false, true}, {"onbackorder", true, true}, {"On backorder", true, true},
		{"5.", true, true}, {".0", false, true},
		{"5.5", false, false}, {".", false, false}, {"maybe", false, false},
	} {
		t.Run(c.stock, func(t *testing.T) {
			cat, rep, err := loadCatalog(t, "id,name,stock\nA,a,"+c.stock+"\n", dataset.CatalogOptions{})
			if !c.ok {
				var pe *dataset.ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "invalid stock flag", pe.Reason)
				assert.Equal(t, 3, pe.Column)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 1, rep.Products)
			assert.Equal(t, c.inStock, cat.InStock(0))
		})
	}
}
