package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shopaffinity/affinity"
)

// CatalogOptions configures [LoadCatalog]. The zero value reads a CSV
// file with the default header names, strictly.
type CatalogOptions struct {
	// Columns maps the catalog fields to header names.
	Columns CatalogColumns
	// Lenient skips bad rows, counting them by reason in
	// [Report.Skipped], instead of stopping at the first one.
	Lenient bool
	// Comma is the field separator; 0 means ','.
	Comma rune
	// DecimalSep is the decimal separator of prices, '.' or ','; 0
	// means '.'. A stock count may use it too, or '.', as a quantity
	// may ([Options.DecimalSep]).
	DecimalSep byte
	// Categories, when set, derives category paths from the name of a
	// product whose category field is empty or absent (see
	// [Options.Categories]).
	Categories func(name string) string
	// Limits bounds line, field, input and row sizes as for [Load]; the
	// zero value means safe defaults.
	Limits Limits
}

// CatalogColumns names the header fields of a catalog file. Names are
// matched as in [Columns]; an empty field means the defaults listed with
// it; a field set explicitly must be present.
type CatalogColumns struct {
	// Product is the product id; default "product", "product id", "id",
	// "sku". Required.
	Product string
	// Name is the display name; default "name", "title", "product name".
	Name string
	// Category holds the category paths: several paths are separated by
	// "|", the levels of a path by "/" or ">" ("Home > Kitchen|Gifts"
	// is the two paths "Home/Kitchen" and "Gifts"); default "category",
	// "categories", "category path".
	Category string
	// Price is the list price, a decimal; empty means unknown (0);
	// default "price", "list price".
	Price string
	// InStock is the stock flag: true/false, yes/no, y/n, 1/0, "in
	// stock"/"out of stock" (or "instock"/"outofstock", as WooCommerce
	// writes them, whose "onbackorder" is in stock: the product can be
	// ordered), "available"/"unavailable", "sold out", or a stock count,
	// whole (in stock when > 0; "5.0" and "5." are 5, as for
	// quantities, see [CatalogOptions.DecimalSep]); empty
	// means in stock; default "in stock", "stock", "available". Without
	// the column every product is in stock.
	InStock string
}

const (
	catProduct = iota
	catName
	catCategory
	catPrice
	catStock
	numCatCols
)

// LoadCatalog reads a product catalog in CSV with a header (see
// [CatalogColumns]) and adds one [affinity.Product] per row to b, in one
// streaming pass, its memory bounded as for [Load] but for the set of
// product ids read (to tell a duplicate), which grows with the catalog.
// A product id that occurs twice is a "duplicate product" error (in
// lenient mode the first valid row wins: a row skipped for another
// reason does not count, and a later row with its id is loaded). Empty input,
// strict and lenient handling, ctx checks and the returned Report follow
// [Load]; the Report counts products in Products.
//
// [affinity.Builder.AddProduct] replaces earlier entries of the same id,
// including those that [Load] adds for product names; [Load] in turn keeps
// the entries of a catalog loaded before it. Loading the catalog first is
// therefore the order that keeps the catalog's data.
func LoadCatalog(ctx context.Context, r io.Reader, b *affinity.Builder, opts CatalogOptions) (Report, error) {
	if err := checkArgs(ctx, b, r == nil, "reader"); err != nil {
		return Report{Format: "catalog"}, err
	}
	if err := checkSeparators(opts.Comma, opts.DecimalSep); err != nil {
		return Report{Format: "catalog"}, err
	}
	l := newLoader(ctx, b, Options{Lenient: opts.Lenient, DecimalSep: opts.DecimalSep, Comma: opts.Comma, Categories: opts.Categories, Limits: opts.Limits}, "catalog")
	if err := ctx.Err(); err != nil {
		return l.report(), fmt.Errorf("dataset: %w", err)
	}
	src, err := open(r, l.lim, true, opts.Comma, &lineRules{specs: catalogSpecs(opts.Columns), lenient: opts.Lenient})
	if err == nil {
		err = l.loadCatalog(src, opts)
	}
	return l.report(), setWhere(err, "CatalogOptions.Limits")
}

// catalogSpecs are the columns of a catalog file by c.
func catalogSpecs(c CatalogColumns) []colSpec {
	spec := pickSpec
	specs := make([]colSpec, numCatCols)
	specs[catProduct] = spec(c.Product, true, "product", "product id", "id", "sku")
	specs[catName] = spec(c.Name, false, "name", "title", "product name")
	specs[catCategory] = spec(c.Category, false, "category", "categories", "category path")
	specs[catName].text, specs[catCategory].text = true, true
	specs[catPrice] = spec(c.Price, false, "price", "list price")
	specs[catStock] = spec(c.InStock, false, "in stock", "stock", "available")
	return specs
}

func (l *loader) loadCatalog(r io.Reader, opts CatalogOptions) error {
	specs := catalogSpecs(opts.Columns)
	seen := make(map[string]struct{})
	return l.eachRecord(r, specs, func(src *csvSource, rec []string, h *header) error {
		return l.productRow(src, rec, h, seen)
	})
}

// productRow adds the product of one catalog record.
func (l *loader) productRow(src *csvSource, rec []string, h *header, seen map[string]struct{}) error {
	if len(rec) != h.n {
		return l.reject(&ParseError{Line: src.line, Reason: reasonFieldCount,
			Err: fmt.Errorf("%d fields, the header has %d", len(rec), h.n)})
	}
	key := h.field(rec, catProduct)
	if key == "" {
		return l.reject(h.fail(src, catProduct, reasonProduct, errors.New("missing product id")))
	}
	if _, dup := seen[key]; dup {
		return l.reject(h.fail(src, catProduct, reasonDuplicate, fmt.Errorf("duplicate product %q", key)))
	}
	var price affinity.Money
	if s := h.field(rec, catPrice); s != "" {
		m, bad := l.price(src, h, catPrice, s)
		if bad != nil {
			return l.reject(bad)
		}
		price = m
	}
	stock := h.field(rec, catStock)
	inStock, ok := parseStock(stock, l.opts.DecimalSep)
	if !ok {
		return l.reject(h.fail(src, catStock, reasonStock, &valueError{what: "stock flag", text: stock}))
	}
	name, cats := h.field(rec, catName), h.field(rec, catCategory)
	if cats == "" && name != "" && l.opts.Categories != nil {
		cats = l.opts.Categories(name)
	}
	key = strings.Clone(key)
	paths, err := l.splitCategories(cats)
	if err == nil {
		err = l.addProduct(affinity.Product{Key: key, Name: strings.Clone(name), Categories: paths, Price: price, InStock: inStock})
	}
	if err != nil {
		c := catCategory
		if !h.has(c) || h.field(rec, c) == "" {
			c = catName
		}
		return l.reject(h.fail(src, c, reasonCategory, err))
	}
	seen[key] = struct{}{}
	l.rep.Products++
	l.rep.Loaded++
	return nil
}

// parseStock parses a stock flag or count (a whole number written with
// decimal separator sep, see parseWhole); "" means in stock.
func parseStock(s string, sep byte) (inStock, ok bool) {
	switch strings.ToLower(s) {
	case "", "true", "t", "yes", "y", "in stock", "instock", "available", "onbackorder", "on backorder":
		return true, true
	case "false", "f", "no", "n", "out of stock", "outofstock", "unavailable", "sold out":
		return false, true
	}
	n, ok := parseWhole(s, sep, 64)
	return n > 0, ok
}
