package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/pkgerr"
	"github.com/shopaffinity/affinity/internal/timetext"
)

// Options configures [Load], [LoadFile] and [ReadFile]. The zero value
// loads a generic CSV file with the default column names (see [Columns]),
// strictly, with times in UTC.
type Options struct {
	// Format is the short name of the input format, one of [Formats]:
	//
	//   - "onlineretail": UCI Online Retail and Online Retail II.
	//   - "cdnow": the CDNOW master file and its 1/10 sample.
	//   - "baskets": one anonymous basket per line, items comma-separated.
	//   - "members": Member_number,Date,itemDescription (Kaggle groceries).
	//   - "movielens": MovieLens ratings (u.data, ratings.dat, ratings.csv).
	//   - "csv": any CSV with a header, mapped by Columns.
	//   - "shopify", "woocommerce": the platforms' order exports.
	//
	// Empty means "csv". [Formats] describes each format.
	Format string
	// Lenient makes Load skip bad rows, counting them by reason in
	// [Report.Skipped], instead of stopping at the first one with a
	// [*ParseError]. Header errors, read errors and cancellation stop
	// the load in both modes.
	Lenient bool
	// Workers is the number of goroutines that parse CSV blocks beside
	// the calling one: 0 means one fewer than GOMAXPROCS, at most 3; a
	// negative value means none (everything on the calling goroutine, as
	// a server that keeps a core for its requests may want); at most
	// MaxWorkers. With one or more, and input longer than a block (256
	// KiB), one goroutine more reads the input (the Reader's Read is
	// called from it) and gunzips it. The result never depends on it.
	Workers int
	// Columns maps the purchase fields to header names for the "csv"
	// format; other formats ignore it.
	Columns Columns
	// TimeLayouts are the layouts (as for time.Parse) tried in order for
	// time fields; the layout that matched last is tried first on the next
	// row. The special layout "unix" reads integer Unix seconds. Empty
	// means the format's defaults: for "csv" RFC 3339, "2006-01-02
	// 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04" and
	// "2006-01-02"; for "onlineretail" "2006-01-02 15:04:05",
	// "1/2/2006 15:04", "1/2/2006 15:04:05" and "2006-01-02 15:04"; for
	// "shopify" "2006-01-02 15:04:05 -0700", RFC 3339 and "2006-01-02
	// 15:04:05"; for "woocommerce" "2006-01-02 15:04:05", RFC 3339 and
	// "2006-01-02 15:04"; for "cdnow" "20060102"; for "members" "2-1-2006"
	// (dd-mm-yyyy). Formats without text times ("baskets", "movielens")
	// ignore it. Since the last layout that matched goes first, a text
	// that two layouts read differently ("03/04/2024" under "02/01/2006"
	// and "01/02/2006") is read as the rows before it were: give only one
	// of two such layouts. A UTC offset
	// in the text must be one RFC 3339 allows, hours 00–23 and minutes
	// 00–59: time.Parse alone also reads "+24:00", which is an invalid
	// time here.
	TimeLayouts []string
	// Location is the time zone of times that carry none; nil means UTC.
	Location *time.Location
	// DecimalSep is the decimal separator of prices and amounts, '.' or
	// ','; 0 means '.'. A quantity is read as an amount is
	// ([affinity.ParseMoney]) and must be whole: "3", "3.0" and "3."
	// are 3; with ',' so are "3,0" and "3,", and "3.0" still is.
	DecimalSep byte
	// Comma is the field separator of the CSV formats ("csv",
	// "onlineretail", "members", "baskets"); 0 means ','. It must not be
	// a quote or a line break. With DecimalSep ',' and Comma ',' prices
	// must be quoted.
	Comma rune
	// Categories, when set, derives category paths from a product's name
	// for products none of whose loaded rows has a category of its own:
	// the description of "onlineretail", the item text of "baskets" and
	// "members", the name column of "csv" (a "csv" product with a
	// category in any loaded row gets that category, see
	// [Columns.Category]). The result may hold several paths separated
	// by "|"; "" means no category. [CategoryFromName] is a ready-made
	// choice.
	Categories func(name string) string
	// OnProduct, when set, is called with every catalog entry the load
	// adds or replaces with [affinity.Builder.AddProduct], in the order
	// of the calls, after each succeeds: a product's entry when a row
	// first names it (the entry of a row that is then skipped is not
	// added), and again when its most frequent name, or its most
	// frequent explicit categories ([Columns.Category]), replace the
	// first ones at the end of the load: the most frequent of the loaded
	// rows' non-empty names (category fields), the first seen among
	// equals, counting the first 256 distinct names (category fields) of
	// a product (a new one after those is not counted, so that a hostile
	// file cannot grow a map per row). It lets a caller follow how the
	// Builder's catalog grows — the order in which category nodes get
	// their ids — without reading the file again.
	OnProduct func(p affinity.Product)
	// BasketTime is the time given to every basket of the "baskets"
	// format, which has none. Zero means 2000-01-01 00:00:00 UTC.
	BasketTime time.Time
	// MovieLensAsPurchases loads each MovieLens rating as a purchase line
	// (quantity 1, price 0, one order per user and second) instead of an
	// [affinity.Rating] event, so that purchase-based code can be
	// evaluated on MovieLens.
	MovieLensAsPurchases bool
	// NoProducts stops Load from adding catalog entries (names, derived
	// categories, prices) for the products it meets. Without it, loaders
	// add such an entry once per product that has none yet
	// ([affinity.Builder.HasProduct]), so a catalog loaded before with
	// [LoadCatalog] is kept as it is.
	NoProducts bool
	// Described, when set, reports products described outside the
	// Builder: a product for which it returns true is treated as one the
	// Builder already describes ([affinity.Builder.HasProduct]), so its
	// rows neither add nor check a catalog entry (their names and
	// categories are ignored, as a later file's are once an earlier
	// file's load described the product). It is called at most once per
	// product and load, on the calling goroutine, whatever it answers
	// and whether the row that asks loads. It lets a file be loaded
	// alone into a Builder of its own and keep exactly the rows that a
	// load after the files before it, into one Builder, keeps, without
	// adding those files' entries (which would change the order in which
	// category nodes get their ids).
	Described func(key string) bool
	// Limits bounds line, field, input and row sizes; the zero value
	// means safe defaults (see [Limits]).
	Limits Limits
	// DropDuplicates skips rows that repeat an earlier row of the same
	// order exactly (see [Report.Duplicates]), counting them in
	// [Report.Skipped] as "duplicate row". Without it they are loaded
	// and only counted.
	DropDuplicates bool
}

// Columns names the header fields of the "csv" format. Header names are
// matched ignoring case, spaces, underscores, hyphens and dots, so
// "Customer ID", "customer_id" and "CustomerID" are the same name. An
// empty field means the default names listed with each field, the first
// present one winning; a field set explicitly must be present in the
// header. Columns of the file that are not mapped are ignored (listed in
// Report.Ignored), except in strict mode a header one letter away from a
// default name of five letters or more ("invoices" for "invoice"), which
// is an error asking whether that name was meant.
type Columns struct {
	// Customer is the customer id; default "customer", "customer id",
	// "client". Optional: without it, or when empty in a row, the line is
	// anonymous.
	Customer string
	// Product is the product id; default "product", "product id", "sku",
	// "item". Required.
	Product string
	// Order is the order or invoice id; default "order", "order id",
	// "invoice". Optional: without it, lines of the same customer and
	// second form one order.
	Order string
	// Time is the order time, parsed with [Options.TimeLayouts]; default
	// "time", "date", "timestamp", "order date". Required.
	Time string
	// Quantity is the number of units, a whole number ("6.0" and "6."
	// are accepted, see [Options.DecimalSep]), negative for a return; default "quantity", "qty". Optional: 1 when
	// absent.
	Quantity string
	// Price is the unit price, a decimal with [Options.DecimalSep];
	// default "price", "unit price". Optional: 0 when absent.
	Price string
	// Category holds the product's category paths, several separated by
	// "|", levels separated by "/" or ">"; default "category",
	// "categories". Optional. A product's rows may disagree or leave the
	// field empty: the product gets the most frequent of the non-empty
	// fields of its loaded rows, compared as cleaned paths ("a > b" is
	// "a/b"), the first seen among equals, as for names (see
	// [Options.OnProduct]); [Options.Categories] applies only to products
	// without any. Every row's field is checked: one the Builder would
	// refuse is that row's "invalid category".
	Category string
	// Name is the product's display name; default "name", "product
	// name", "description". Optional.
	Name string
}

// Skip counts the rows skipped for one reason.
type Skip struct {
	// Reason is the Reason of the [ParseError] the row raises in strict
	// mode, one of "malformed csv" (bad quoting), "wrong field count",
	// "missing product", "missing customer", "invalid time", "invalid
	// quantity", "zero quantity", "invalid price", "negative price",
	// "invalid rating", "empty basket", "basket too large"
	// ([Limits.MaxBasket]), "invalid category" (a path deeper than
	// [affinity.MaxCategoryDepth], or more paths than
	// [Limits.MaxCategories]), "time out of range" (outside
	// [affinity.ValidTime]), "amount out of range" (price × quantity, an
	// order's value, or the gross value of the Builder's lines with the
	// file's, see [affinity.Builder.Gross], beyond [affinity.MaxMoney]),
	// "missing order", "split order" and "invalid refund" (order formats),
	// "duplicate product" and "invalid stock
	// flag" (catalogs), "incomplete order" (the order formats and the SQL
	// source), "invalid version", "null value" and "customer conflict"
	// (the SQL source), "invalid record"
	// (refused by the Builder); or, in strict mode too, "adjustment" for
	// Online Retail's "A" invoices, "cancelled order" for the order
	// formats and the SQL source, "removed line" and "no line" for the
	// SQL source and "duplicate row" with [Options.DropDuplicates].
	Reason string `json:"reason"`
	// Count is the number of rows skipped for Reason.
	Count int `json:"count"`
	// FirstLine is the 1-based input line of the first of them (for an
	// [SQLSource], the row of the query's result).
	FirstLine int `json:"first_line"`
}

// Report describes what a load read and did. After a successful load
// every data row read is either loaded or counted in Skipped: Rows =
// Loaded + [Report.SkippedRows]. Its JSON uses the snake_case names of its
// structured log form ([Report.LogValue]), the skipped rows as a list
// under "skipped_by"; what is zero or empty of duplicates, ignored columns
// and skipped rows is left out.
type Report struct {
	// Format is the format that was loaded ("catalog" for [LoadCatalog]).
	Format string `json:"format"`
	// Rows counts data rows read: records of a CSV format (the header
	// excluded), non-blank lines of a line format, rows of the query's
	// result of an [SQLSource].
	Rows int `json:"rows"`
	// Loaded counts rows that were added to the Builder: whose lines were
	// added or put. The rows of an order that a load deletes (cancelled)
	// add no line: they are counted in Skipped as "cancelled order",
	// though the delete is applied.
	Loaded int `json:"loaded"`
	// Purchases counts purchase lines added. It differs from Loaded
	// where a row holds several lines (a basket) or is split (CDNOW,
	// see [Formats]).
	Purchases int `json:"purchases"`
	// Anonymous counts purchase lines added without a customer.
	Anonymous int `json:"anonymous"`
	// Returns counts purchase lines added with a negative quantity
	// (returns and cancellations).
	Returns int `json:"returns"`
	// Events counts events added.
	Events int `json:"events"`
	// Products counts catalog entries added with
	// [affinity.Builder.AddProduct]: products with a name or categories
	// in the file, not every product key it names (a product whose rows
	// have neither gets no entry). [Report.String] shows it as the row
	// "catalog", apart from the products of [affinity.History.Summary].
	Products int `json:"products"`
	// Duplicates counts rows that repeat an earlier row of the same order
	// exactly: every field equal, in a row of the same customer, order id
	// and time ("csv", "onlineretail", "members"), of the same customer
	// and date ("cdnow"), of the same user ("movielens"), or of the same
	// order ("shopify", "woocommerce", whose later rows of an order may
	// leave the order's columns empty), or of the same order with the
	// same product, created-at, quantity and price ([SQLSource], where
	// the order's rows may lie anywhere in the result). "baskets" has
	// none: a basket is one line. They are loaded, as a shop may sell
	// the same line twice, unless [Options.DropDuplicates] (or
	// [SQLSource.DropDuplicates]) skips them. Rows skipped for another
	// reason (cancelled orders included) are not counted. In files, rows
	// are compared within an order of up to [Limits.MaxBasket] distinct
	// rows, and within a run of adjacent rows of the order (as exports
	// write an order): a row that repeats one of an earlier run of the
	// same order, another order's rows between them, is not a duplicate,
	// so that memory stays bounded by the longest order, not the file.
	Duplicates int `json:"duplicates,omitempty"`
	// FirstDuplicate is the line of the first duplicate row, 0 when
	// there is none.
	FirstDuplicate int `json:"first_duplicate,omitempty"`
	// Ignored lists the header texts of columns that no field maps, in
	// file order (at most [MaxIgnored], each cut to at most 64 bytes, a cut one
	// ending in "…"); for an [SQLSource], the result's column names that
	// no field of [SQLColumns] names.
	Ignored []string `json:"ignored,omitempty"`
	// Skipped lists the skipped rows by reason, in the order in which
	// each reason first occurred (FirstLine order). In strict mode it
	// holds only rows the format or the options skip by definition
	// ("adjustment" in Online Retail, "cancelled order" in the order
	// formats and of an [SQLSource], "duplicate row" with
	// [Options.DropDuplicates], "removed line" and "no line" of an
	// SQLSource).
	Skipped []Skip `json:"skipped_by,omitempty"`
}

// SkippedRows returns the number of skipped rows (all reasons).
func (r Report) SkippedRows() int {
	n := 0
	for _, s := range r.Skipped {
		n += s.Count
	}
	return n
}

// Fault reports whether the rows were skipped for a fault in them, as
// opposed to what they say happened to an order — "cancelled order",
// "removed line", "no line" — or rows read twice ("duplicate row"): a
// poll that re-reads its last minutes meets those again and again.
func (s Skip) Fault() bool {
	switch s.Reason {
	case reasonCancelled, reasonRemoved, reasonNoLine, reasonDupRow:
		return false
	}
	return true
}

// String formats the report as an aligned, multi-line table; the first
// line of each reason of Skipped, and of the duplicates, is a "row" of
// the query's result for an [SQLSource] ("first at row 5"), else a "line".
func (r Report) String() string {
	var b strings.Builder
	row := func(name string, v any) { fmt.Fprintf(&b, "%-10s %v\n", name, v) }
	row("format", r.Format)
	row("rows", r.Rows)
	row("loaded", r.Loaded)
	row("purchases", r.Purchases)
	row("anonymous", r.Anonymous)
	row("returns", r.Returns)
	row("events", r.Events)
	row("catalog", r.Products)
	unit := "line"
	if r.Format == "sql" {
		unit = "row" // of the query's result
	}
	if r.Duplicates > 0 {
		row("duplicates", fmt.Sprintf("%d (first at %s %d)", r.Duplicates, unit, r.FirstDuplicate))
	}
	if len(r.Ignored) > 0 {
		row("ignored", strings.Join(r.Ignored, ", "))
	}
	row("skipped", r.SkippedRows())
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "  %-22s %d (first at %s %d)\n", s.Reason, s.Count, unit, s.FirstLine)
	}
	return b.String()
}

// LogValue gives a structured logger ([log/slog]) the report as a group
// of snake_case attributes named as in [Report.String]: the counts, the
// duplicates and ignored columns when there are any, the skipped rows in
// all, and per reason (in the order in which each first occurred, spaces
// as underscores) its count and first line.
func (r Report) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("format", r.Format),
		slog.Int("rows", r.Rows),
		slog.Int("loaded", r.Loaded),
		slog.Int("purchases", r.Purchases),
		slog.Int("anonymous", r.Anonymous),
		slog.Int("returns", r.Returns),
		slog.Int("events", r.Events),
		slog.Int("products", r.Products),
	}
	if r.Duplicates > 0 {
		attrs = append(attrs, slog.Int("duplicates", r.Duplicates), slog.Int("first_duplicate", r.FirstDuplicate))
	}
	if len(r.Ignored) > 0 {
		attrs = append(attrs, slog.Any("ignored", r.Ignored))
	}
	attrs = append(attrs, slog.Int("skipped", r.SkippedRows()))
	if len(r.Skipped) > 0 {
		why := make([]any, len(r.Skipped))
		for i, s := range r.Skipped {
			why[i] = slog.Group(strings.ReplaceAll(s.Reason, " ", "_"), slog.Int("count", s.Count), slog.Int("first_line", s.FirstLine))
		}
		attrs = append(attrs, slog.Group("skipped_by", why...))
	}
	return slog.GroupValue(attrs...)
}

// ParseError reports a bad row, a bad header or a read failure, and
// where it happened. Strict loads return the first one; lenient loads
// count bad rows in [Report.Skipped] instead.
type ParseError struct {
	// Line is the 1-based line of the input (after decompression) where
	// the problem is, or for an [SQLSource] the 1-based row of the
	// query's result (which Error calls "sql row"); always ≥ 1.
	Line int
	// Column is the 1-based field number of the bad value, 0 when the
	// line as a whole is at fault.
	Column int
	// Field names the column: its header text (trimmed), or the format's
	// name for the field in formats without a header. Empty when Column
	// is 0, and when the header names no such column: a field past the
	// header's last, under an empty header text, or of the header record
	// itself (a limit it exceeds).
	Field string
	// Reason is the short category under which lenient loads count the
	// row, such as "invalid quantity".
	Reason string
	// Err describes the problem.
	Err error

	row bool // Line is a row of an SQL query's result
}

// Error formats the error as
// `dataset: line 17, column 5 (Quantity): invalid quantity "x"`, or
// `dataset: sql row 17, column 5 (quantity): …` for an [SQLSource].
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.row {
		b.WriteString("dataset: sql row ")
	} else {
		b.WriteString("dataset: line ")
	}
	b.WriteString(strconv.Itoa(e.Line))
	if e.Column > 0 {
		b.WriteString(", column ")
		b.WriteString(strconv.Itoa(e.Column))
		if e.Field != "" {
			b.WriteString(" (")
			b.WriteString(e.Field)
			b.WriteString(")")
		}
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *ParseError) Unwrap() error { return e.Err }

// ErrEmpty is returned (wrapped) when the input holds no data at all: no
// bytes, or only a byte-order mark and blank lines. A CSV file with a
// header and no rows is not empty: it loads as a zero [Report].
var ErrEmpty = errors.New("dataset: empty input")

// ErrLineTooLong is wrapped (with [ErrLimit]) by the [ParseError]
// returned when a physical line, or a CSV record, exceeds
// [Limits.MaxLine] (1 MiB by default), which no supported format
// produces; it keeps a malformed file, such as one with an unclosed
// quote, from being read into memory whole (with the default limits an
// unclosed quote reaches [Limits.MaxField] first, an error naming that
// limit).
var ErrLineTooLong = errors.New("dataset: line too long")

// Reasons of skipped rows (see [Skip.Reason] and [ParseError.Reason]).
const (
	reasonMalformed  = "malformed csv"
	reasonFieldCount = "wrong field count"
	reasonProduct    = "missing product"
	reasonCustomer   = "missing customer"
	reasonTime       = "invalid time"
	reasonQuantity   = "invalid quantity"
	reasonZeroQty    = "zero quantity"
	reasonPrice      = "invalid price"
	reasonNegPrice   = "negative price"
	reasonRating     = "invalid rating"
	reasonRecord     = "invalid record"
	reasonCategory   = "invalid category"
	reasonAdjustment = "adjustment"
	reasonEmptyBask  = "empty basket"
	reasonDuplicate  = "duplicate product"
	reasonStock      = "invalid stock flag"
	reasonHeader     = "bad header"
	reasonRead       = "read error"
	reasonLineLong   = "line too long"
	reasonFieldLong  = "field too long"
	reasonLimit      = "limit exceeded"
	reasonTimeRange  = "time out of range"
	reasonMoneyRange = "amount out of range"
	reasonBasket     = "basket too large"
	reasonDupRow     = "duplicate row"
)

// format is a short name and its loader.
type format struct {
	name string
	load func(l *loader, r io.Reader) error
	csv  bool // CSV quoting applies
	// specs are the columns of a CSV format with a header, by the
	// options; nil without a header
	specs func(o Options) []colSpec
}

// lineRules returns the line breaks the format's fields may hold (see
// oneLine), for the reader that bounds the input: every field of a
// basket is an item's name; the fields of a format with a header are
// known from it.
func (f format) lineRules(o Options) *lineRules {
	switch {
	case f.name == "baskets":
		return &lineRules{fixed: basketLines}
	case f.specs != nil:
		return &lineRules{specs: f.specs(o), lenient: o.Lenient}
	}
	return nil
}

// formats lists the formats in the order of Formats.
var formats = []format{
	{"baskets", loadBaskets, true, nil},
	{"cdnow", loadCDNOW, false, nil},
	{"csv", loadGenericCSV, true, func(o Options) []colSpec { return genericSpecs(o.Columns) }},
	{"members", loadMembers, true, func(Options) []colSpec { return membersSpecs }},
	{"movielens", loadMovieLens, false, nil},
	{"onlineretail", loadOnlineRetail, true, func(Options) []colSpec { return retailSpecs }},
	{"shopify", loadShopify, true, func(Options) []colSpec { return shopifySpecs }},
	{"woocommerce", loadWooCommerce, true, func(Options) []colSpec { return wooSpecs }},
}

// Formats returns the short names accepted by [Options.Format], sorted:
//
//   - "baskets": one basket per line, items separated by [Options.Comma],
//     no header, no customer, no time (see [Options.BasketTime]). Each
//     basket is an anonymous order keyed "basket:N:L": L is its line
//     number and N the number of purchase lines the Builder held when
//     the load began ([affinity.Builder.Len]), 0 for a first load. So the
//     keys depend on the input and what was loaded before it only, and
//     the baskets of two loads into one Builder, or of a load onto a
//     History holding an earlier load's baskets, are never merged
//     (unless lines were deleted between them, which can bring N back to
//     an earlier load's). Order ids of other sources should not take that
//     form: an order put with a basket's key replaces it. Each item is
//     a line with the item text as product id, quantity 1 and price 0.
//     Empty items are ignored; a line with no item is an "empty basket".
//   - "cdnow": CDNOW, whitespace-separated, no header: "customer
//     YYYYMMDD cds dollars" (master file) or "master_id sample_id
//     YYYYMMDD cds dollars" (the 1/10 sample), detected by the field
//     count of the first row that loads (a bad row of 4 or 5 fields
//     before it, such as a title, is read at its own count and skipped
//     alone in lenient mode). The customer key is the master id in both
//     layouts (keys of the sample match those of the master). Every line
//     is product "cd" with an empty order id, so the purchases of one
//     customer on one day form one order. The amount is the line's total:
//     the line becomes cds × (dollars/cds) when that unit price is exact
//     in [affinity.Money]; otherwise it is split into two lines of the
//     same order, cds−1 units at the truncated unit price and one unit
//     carrying the remainder, so that both the CD count and the spend
//     stay exact.
//   - "csv": a CSV file with a header, mapped by [Options.Columns]. A
//     product's name and categories are the most frequent of its rows'
//     (see [Columns.Category] and [Options.OnProduct]).
//   - "members": "Member_number,Date,itemDescription" with dd-mm-yyyy
//     dates: customer, day and item text as product id; quantity 1, price
//     0; one order per member and day.
//   - "movielens": ratings "user item rating unixtime", separated by tabs
//     or spaces (u.data), "::" (ratings.dat) or commas (ratings.csv,
//     whose header line is skipped). Each rating is an [affinity.Rating]
//     event with the rating as weight, or a purchase with
//     [Options.MovieLensAsPurchases].
//   - "onlineretail": UCI Online Retail
//     (InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country)
//     and Online Retail II
//     (Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country),
//     the header deciding. Invoice → order, StockCode → product,
//     Description → product name: the most frequent of the product's
//     descriptions that are not empty or "Missing_Description", the
//     first seen among equals (see [Options.OnProduct]; shops reuse a product's row for
//     adjustments such as "mailout"). Invoices starting with "C" are
//     cancellations: their quantity is made negative. Invoices starting
//     with "A" (bad-debt adjustments) are skipped as "adjustment" in both
//     modes. A customer id that is empty or "0" makes the line anonymous;
//     a trailing ".0" (from spreadsheet exports) is dropped. Country is
//     ignored.
//   - "shopify": Shopify's orders export (orders_export.csv), one row per
//     line item, described below.
//   - "woocommerce": WooCommerce's order export, one row per line item
//     (the Customer/Order/Coupon Export extension's default layout).
//
// The two order formats load each order as one [affinity.Builder.PutOrder],
// and each cancelled order as one [affinity.Builder.DeleteOrder], at a
// version above that of every earlier Load of these formats in the
// process (a sequence from 1), so that a later export wins, its
// cancellations included: loading an export again, or a newer export
// into the same Builder or onto the History built from an older one,
// replaces orders instead of adding their lines twice, deletes the
// orders it cancels and puts back those it completes. An order the
// Builder's base History holds as it is, or a cancelled one it holds
// deleted, is left out ([affinity.Builder.HoldsOrder]; its rows still
// count as loaded or cancelled, and it keeps the version the earlier
// load gave it), so that loading an unchanged export onto the History it
// built builds that History itself. Changes staged with
// versions of a shop's own, such as update times in Unix microseconds,
// outrank them. Customers first met in a put get their ids at Build, in
// the order of the loads, then of order keys; products get theirs in file
// order, as the loader gives them catalog entries (one without a name,
// which gets none, at Build as customers do; the products of an order put
// for a customer erased in the Builder get their entries too, see
// [affinity.Builder.EraseCustomer]). The rows of an order must
// be adjacent; an order that reappears after another is a "split order".
// In lenient mode its rows that reappear are skipped, and the order with
// them: a put of its first rows alone would drop the skipped rows' lines,
// so that put is taken back ([affinity.Builder.Unstage], the change
// staged before it staged again) and its first rows count as "incomplete
// order" instead of loaded, at the first of them; the Builder holds the
// order as before the load (a fresh Builder not at all), and its
// duplicate rows no longer count in Report.Duplicates. A malformed row
// (a wrong field count) may be read two ways: its order id is the field
// at the id column's place, or the one the miscount shifted there; an
// empty one names no order. The open order of either id misses the
// row's line and is not put; when both ways name one order, the row is
// surely its: an order of that id read before is taken back, and one
// that starts later, after other orders, is skipped as a split order.
// When they differ, no order read before is taken back (it might be
// another than the row's), and an order of either id that starts later
// is not put (skipped as "incomplete order" when it comes next, as
// "split order" otherwise), so that no order is put without the row's
// line. The catalog entries and names its first rows gave their
// products stay, as the rows were read whole. Both skip the rows of cancelled orders as
// "cancelled order", in strict mode too. A put replaces the whole order,
// so in lenient mode a skipped row of an order (a bad line item, or a
// malformed row with the order's id) skips the order's other rows too, as
// "incomplete order" counted at the first of them: nothing of the order
// is put, and a History that holds it keeps its previous version, as
// with an [SQLSource]. An order whose value, or whose lines with
// those of the orders before it, go beyond [affinity.Money]'s range
// (refund lines included) is an error at its first line, or skipped
// whole as "amount out of range" in lenient mode.
//
// "shopify": Name → order, Email (lower-cased) → customer (empty:
// anonymous), Created at → time ("2024-03-01 10:15:00 -0700"),
// Lineitem sku → product (Lineitem name when the sku is empty),
// Lineitem name → product name, Lineitem quantity and Lineitem price →
// quantity and unit price. When the export has a Lineitem discount
// column, a line's discount (the amount off the whole line, at most its
// value) is taken off quantity × Lineitem price and the rest spread over
// the units as "woocommerce" spreads item_total (split exactly as for
// "cdnow" when it does not divide), so that an order's value is net of
// line discounts as WooCommerce's is; the catalog entry keeps Lineitem
// price. Order-level discounts (Discount Amount) are not spread over
// the lines. Only an order's first row carries the
// order-level columns (Email, Financial Status, Created at, Cancelled at,
// Refunded Amount); they apply to every line of the order, and errors in
// them name that first row. When that row has a wrong field count
// (lenient mode), they are lost with it: the order's next rows are read
// as later rows, not as its first, and skipped as "incomplete order" (a
// bad line item under its own reason), cancelled or not, so nothing of
// the order is put or deleted. (A "woocommerce" row repeats its order's
// columns: after a malformed first row the next one is read as the
// first, and a cancelled order is still deleted, its rows "cancelled
// order".) An order with Cancelled at set or Financial
// Status "refunded" or "voided" is cancelled. A Refunded Amount above
// zero becomes one [RefundProduct] line of quantity −1, capped at the
// value of the order's lines. Other columns are ignored, Currency
// included: amounts are loaded as written, so an export in several
// currencies mixes them.
//
// "woocommerce": order_number (or order_id) → order, customer_id →
// customer (for guests, customer_id 0 or empty, billing_email
// lower-cased), order_date → time in [Options.Location], item_sku →
// product (item_product_id, then item_name, when empty), item_name →
// product name, item_quantity → quantity, item_total / item_quantity →
// unit price (split exactly as for "cdnow" when it does not divide), and
// item_refunded_qty with item_refunded → a return line of the same
// product, of at most the units bought and at most item_total (a refund
// may include shipping and taxes the line does not; as for Shopify's
// Refunded Amount, the rest is not the product's). Headers match by key
// or display name ("item_sku", "Item
// SKU"). Statuses cancelled, refunded, failed, pending, checkout-draft,
// draft and trash (with or without "wc-") make an order cancelled. item_total
// is net of the line's discounts. Other columns are ignored, the order's
// currency included: amounts are loaded as written, as for "shopify".
//
// The returned slice is freshly allocated.
func Formats() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// Load reads purchases (or events) in opts.Format from r and adds them to
// b, in one streaming pass. Beside what b holds, its memory is bounded by
// the longest row and a few blocks of input, plus what grows with the
// data's keys: one entry per distinct product id read (with the names and
// categories its rows give, counted to pick the most frequent) and, in
// the order formats, the rows of the current order and the set of order
// ids read (to tell a split order), and in lenient mode, for a Builder
// with changes staged before the load, a copy of each such change that
// the load replaces, kept to the end of the load to stage it again
// should the load take its order back (a strict load takes nothing back
// and keeps none). Gzip input is detected by its magic bytes and
// decompressed as gzip(1) does: member after member, zero bytes after
// the last taken for padding; a stream cut short is an error that says it
// is truncated. A UTF-8 byte-order mark is skipped; lines may end in LF
// or CRLF.
//
// The CSV formats are read in blocks of whole records: with more than one
// core, reading r, decompression and CSV parsing run on other goroutines
// (one that reads r and gunzips, and up to three that parse; see
// Options.Workers) while the rows of earlier blocks are checked and added
// to b in input order, so the result, the Report and every error are
// those of a sequential read. Rows reach b only from the calling
// goroutine; r's Read may be called from another one, never from two at
// once, and never after Load returns. A panic in r's Read reaches Load's
// caller all the same: it is raised again on the calling goroutine, once
// the other goroutines have stopped, where a sequential read would meet
// it (after the rows before it, unless one of them stops the load),
// holding the value and the stack of the goroutine that panicked.
//
// In strict mode the first bad row stops the load with a [*ParseError]
// naming line and column; with opts.Lenient bad rows are skipped and
// counted in the Report. Input without any data returns an error
// wrapping [ErrEmpty]. Load checks ctx before it starts and every 4096
// rows, and returns an error wrapping ctx.Err() when it is done.
//
// The Report is returned in every case and counts what was read until
// then. On error b keeps the records added before the failing row; build
// it only after a nil error (as [ReadFile] does) or discard it.
func Load(ctx context.Context, r io.Reader, b *affinity.Builder, opts Options) (Report, error) {
	name := opts.Format
	if name == "" {
		name = "csv"
	}
	if err := checkArgs(ctx, b, r == nil, "reader"); err != nil {
		return Report{Format: name}, err
	}
	i := slices.IndexFunc(formats, func(f format) bool { return f.name == name })
	if i < 0 {
		return Report{Format: opts.Format}, fmt.Errorf("dataset: unknown format %q (known: %s)", opts.Format, strings.Join(Formats(), ", "))
	}
	if err := checkSeparators(opts.Comma, opts.DecimalSep); err != nil {
		return Report{Format: name}, err
	}
	if opts.Workers > MaxWorkers {
		return Report{Format: name}, fmt.Errorf("dataset: Options.Workers = %d: at most MaxWorkers = %d", opts.Workers, MaxWorkers)
	}
	l := newLoader(ctx, b, opts, name)
	if err := ctx.Err(); err != nil {
		return l.report(), fmt.Errorf("dataset: %w", err)
	}
	src, err := open(r, l.lim, formats[i].csv, opts.Comma, formats[i].lineRules(opts))
	if err == nil {
		err = formats[i].load(l, src)
	}
	l.finishNames()
	return l.report(), err
}

// LoadFile is [Load] on the file at path; gzip files are recognised by
// content, whatever their name. Its errors name the file ("dataset:
// orders.csv: line 2, column 4: …"), and wrap Load's ([*ParseError],
// [ErrEmpty], …).
func LoadFile(ctx context.Context, path string, b *affinity.Builder, opts Options) (Report, error) {
	if err := checkArgs(ctx, b, false, ""); err != nil {
		return Report{Format: opts.Format}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{Format: opts.Format}, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	rep, err := Load(ctx, f, b, opts)
	if err != nil {
		err = FileError(path, err)
	}
	return rep, err
}

// FileError returns err, an error of a load, with the name of the file it
// came from: "dataset: orders.csv: line 2: …". It wraps err, so that
// errors.Is and errors.As see what err does.
func FileError(path string, err error) error {
	if err == nil {
		return nil
	}
	return pkgerr.Wrap("dataset", path, err)
}

// ReadFile loads the file at path into a new Builder and builds the
// History. It returns a nil History with any error.
func ReadFile(ctx context.Context, path string, opts Options) (*affinity.History, Report, error) {
	var b affinity.Builder
	rep, err := LoadFile(ctx, path, &b, opts)
	if err != nil {
		return nil, rep, err
	}
	h, err := b.Build(ctx)
	if err != nil {
		return nil, rep, fmt.Errorf("dataset: build %s: %w", path, err)
	}
	return h, rep, nil
}

// MaxWorkers is the largest Options.Workers.
const MaxWorkers = 64

func checkSeparators(comma rune, dec byte) error {
	if comma != 0 && (comma == '\r' || comma == '\n' || comma == '"' || comma == utf8.RuneError || !utf8.ValidRune(comma)) {
		return fmt.Errorf("dataset: invalid field separator %q", comma)
	}
	if dec != 0 && dec != '.' && dec != ',' {
		return fmt.Errorf("dataset: invalid decimal separator %q (want '.' or ',')", dec)
	}
	return nil
}

// open returns the decoded input stream: gunzipped when it starts with
// the gzip magic, without a leading byte-order mark, and bounded by lim
// (see boundedReader; csv selects CSV quoting with separator comma). It
// returns ErrEmpty for input without any byte.
func open(r io.Reader, lim limits, csv bool, comma rune, rules *lineRules) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, &ParseError{Line: 1, Reason: reasonRead, Err: err}
	}
	in := br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &ParseError{Line: 1, Reason: reasonRead, Err: gzipError(err)}
		}
		zr.Multistream(false)
		// A small buffer, to look at the first bytes: reads as large as
		// it go to the stream directly once it is empty.
		in = bufio.NewReaderSize(&gzipStream{br: br, zr: zr}, 16)
	}
	// The byte-order mark goes before the bounded reader sees the stream,
	// so that it reads the header the loader reads: after a mark, a
	// quoted header's first quote would look stray to it, the header
	// would not map, and it would let every field hold line breaks.
	head, err := in.Peek(3)
	if err != nil && err != io.EOF {
		return nil, &ParseError{Line: 1, Reason: reasonRead, Err: err}
	}
	bom := 0
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		bom, _ = in.Discard(3)
		head = head[3:]
	}
	if len(head) == 0 {
		if _, err := in.Peek(1); err == io.EOF {
			return nil, ErrEmpty
		}
	}
	// Bound the decompressed stream before anything buffers more of it;
	// the CSV and line readers use this buffer as it is.
	bounded := newBoundedReader(in, lim, csv, comma, rules)
	bounded.dropped(bom)
	return bufio.NewReaderSize(bounded, 64<<10), nil
}

// gzipStream reads the members of a gzip stream one after the other, as
// gzip(1) does, and ends at zero bytes after a member (the padding of a
// tape or a block device); any other byte there is an error (errTrailing).
// A stream cut short is an error that says so.
type gzipStream struct {
	br *bufio.Reader
	zr *gzip.Reader // of the current member, not multistream
}

func (g *gzipStream) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, gzipError(err)
		}
		more, err := g.next()
		switch {
		case err != nil:
			return n, err
		case !more:
			return n, io.EOF
		case n > 0:
			return n, nil
		}
	}
}

// next starts the member after the one read, if any: false at the end of
// the input or of zero padding.
func (g *gzipStream) next() (bool, error) {
	for padded := false; ; padded = true {
		b, err := g.br.Peek(1)
		switch {
		case err == io.EOF:
			return false, nil
		case err != nil:
			return false, err
		case padded && b[0] != 0:
			return false, errTrailing
		case b[0] != 0:
			if m, _ := g.br.Peek(2); len(m) < 2 || m[0] != 0x1f || m[1] != 0x8b {
				return false, errTrailing
			}
			if err := g.zr.Reset(g.br); err != nil {
				return false, gzipError(err)
			}
			g.zr.Multistream(false)
			return true, nil
		}
		// zero padding: every byte to the end must be one
		buf, _ := g.br.Peek(g.br.Buffered())
		zeros := len(buf) - len(bytes.TrimLeft(buf, "\x00"))
		g.br.Discard(zeros)
		if zeros < len(buf) {
			return false, errTrailing
		}
	}
}

// errTrailing is the error for bytes after a gzip member that are neither
// another member nor zero padding.
var errTrailing = fmt.Errorf("gzip: bytes after the compressed data are neither a gzip member nor zero padding: %w", gzip.ErrHeader)

// gzipError returns err of the gzip reader, saying "gzip" and, for input
// that ends inside the stream, that the stream is truncated.
func gzipError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("gzip: stream truncated: %w", err)
	case !strings.HasPrefix(err.Error(), "gzip: "): // gzip's own errors say so
		return fmt.Errorf("gzip: %w", err)
	}
	return err
}

// loader holds the state shared by the format loaders: the Builder, the
// report and interned keys.
type loader struct {
	ctx     context.Context
	b       *affinity.Builder
	opts    Options
	lim     limits
	rep     Report
	skipIdx map[string]int
	dups    dupTracker
	// putGross is the gross value of the orders put so far by a loader
	// without a Builder (the SQL source), kept within Money; with one,
	// Builder.Gross counts them with everything else it holds.
	putGross affinity.Money
	// version is the version of the order formats' puts and deletes
	// (see orderVersions).
	version int64

	prod        interner
	cust, order owner
	named       []*naming           // products given a catalog entry, in first-seen order
	notes       []productNote       // a basket's, reused
	basketLines []affinity.Purchase // a basket's, reused
	times       timeParser
}

func newLoader(ctx context.Context, b *affinity.Builder, opts Options, format string) *loader {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return &loader{
		ctx:   ctx,
		b:     b,
		opts:  opts,
		lim:   opts.Limits.resolve(),
		rep:   Report{Format: format},
		times: timeParser{layouts: opts.TimeLayouts, loc: loc},
	}
}

func (l *loader) report() Report {
	r := l.rep
	r.Skipped = slices.Clone(r.Skipped)
	r.Ignored = slices.Clone(r.Ignored)
	return r
}

// row counts a data row, enforces Limits.MaxRows and checks ctx every
// 4096 rows.
func (l *loader) row(line int) error {
	if l.rep.Rows >= l.lim.rows {
		e := &ParseError{Line: line, Reason: reasonLimit,
			Err: &limitError{name: "MaxRows", value: int64(l.lim.rows), what: "data rows"}}
		if l.rep.Format == "sql" {
			e.row = true
			e.Err = &limitError{name: "MaxRows", value: int64(l.lim.rows), what: "rows", where: sqlLimits}
		}
		return e
	}
	l.rep.Rows++
	if l.rep.Rows%4096 == 0 {
		if err := l.ctx.Err(); err != nil {
			return fmt.Errorf("dataset: stopped at line %d: %w", line, err)
		}
	}
	return nil
}

// reject handles a bad row: strict loads return e, lenient ones count it.
func (l *loader) reject(e *ParseError) error {
	if !l.opts.Lenient {
		return e
	}
	l.skip(e.Reason, e.Line)
	return nil
}

// skip counts a skipped row. Rows are mostly skipped in line order; the
// rows of an order the order formats drop whole are counted when the
// order ends, at its first line, after the rows read since: such a row
// moves its reason back to keep Report.Skipped in FirstLine order.
func (l *loader) skip(reason string, line int) {
	sk := l.rep.Skipped
	i, ok := l.skipIdx[reason]
	switch {
	case ok:
		sk[i].Count++
		if line >= sk[i].FirstLine {
			return
		}
		sk[i].FirstLine = line
	default:
		if l.skipIdx == nil {
			l.skipIdx = make(map[string]int)
		}
		i = len(sk)
		sk = append(sk, Skip{Reason: reason, Count: 1, FirstLine: line})
		l.rep.Skipped = sk
	}
	// Move entry i back past the reasons that first occurred later (a
	// few at most); equal lines keep the order of the calls.
	for ; i > 0 && sk[i-1].FirstLine > sk[i].FirstLine; i-- {
		sk[i-1], sk[i] = sk[i], sk[i-1]
		l.skipIdx[sk[i].Reason] = i
	}
	l.skipIdx[reason] = i
}

// add adds one purchase line; the caller has validated it.
func (l *loader) add(p affinity.Purchase, line int) *ParseError {
	if err := l.b.Add(p); err != nil {
		return lineError(line, err)
	}
	l.rep.Purchases++
	if p.Customer == "" {
		l.rep.Anonymous++
	}
	if p.Quantity < 0 {
		l.rep.Returns++
	}
	return nil
}

// check returns the error of line for the first of ps the Builder would
// refuse, adding nothing.
func (l *loader) check(line int, ps ...affinity.Purchase) *ParseError {
	if err := l.b.Check(ps...); err != nil {
		return lineError(line, err)
	}
	return nil
}

// lineError is the error of line for the Builder's err.
func lineError(line int, err error) *ParseError {
	reason := reasonRecord
	if errors.Is(err, affinity.ErrMoneyRange) {
		reason = reasonMoneyRange
	}
	return &ParseError{Line: line, Reason: reason, Err: err}
}

// productNote is what a row does to its product's catalog entry once the
// row loads: a new entry, or a name and explicit categories counted for
// the entry.
type productNote struct {
	e       *prodEntry // nil: nothing
	name    string
	cats    string            // the row's explicit category paths joined by "|"; "": none
	rawCats string            // the category field cats were read from
	entry   *affinity.Product // the new entry; nil: count name and cats
	derived bool              // its categories derived from the name
}

// noteProduct returns what a row naming product key does to the catalog
// once it loads ([loader.keep] does it), changing nothing: a skipped row
// adds no entry and counts no name. The first row with a name or
// categories gives key a catalog entry; later rows count their names and
// explicit categories: [loader.finishNames] gives products their most
// frequent ones. cats are raw category fields ("a/b|c>d"); when empty,
// opts.Categories derives them from the name. It returns the Builder's
// error for an entry it would refuse (a category path deeper than
// affinity.MaxCategoryDepth), for every row with categories, so that the
// categories finishNames picks are ones the Builder takes. A product that
// already has a catalog entry in the Builder, or that opts.Described
// reports, keeps it.
func (l *loader) noteProduct(key, name, cats string, price affinity.Money) (productNote, error) {
	if l.opts.NoProducts || (name == "" && cats == "") {
		return productNote{}, nil
	}
	e := l.prod.entry(key) // the entry of the row's product, just interned
	if n := e.named; n != nil {
		note := productNote{e: e, name: name}
		if cats != "" {
			canon := n.canonCats
			if cats != n.rawCats {
				paths, err := l.checkCategories(n.product, cats)
				if err != nil {
					return productNote{}, err
				}
				canon = strings.Join(paths, "|")
			}
			note.cats, note.rawCats = canon, cats
		}
		return note, nil
	}
	if e.known {
		return productNote{}, nil
	}
	if l.b.HasProduct(key) || l.described(e) {
		e.known = true
		return productNote{}, nil
	}
	derived := cats == "" && l.opts.Categories != nil && name != ""
	raw := cats
	if derived {
		cats = l.opts.Categories(name)
	}
	p := affinity.Product{Key: e.key, Name: strings.Clone(name), Price: price, InStock: true}
	paths, err := l.checkCategories(p, cats)
	if err != nil {
		return productNote{}, err
	}
	p.Categories = paths
	note := productNote{e: e, name: p.Name, entry: &p, derived: derived}
	if !derived && len(paths) > 0 {
		note.cats, note.rawCats = strings.Join(paths, "|"), raw
	}
	return note, nil
}

// described returns opts.Described's answer for e's product, asking it
// once per product and load: a false answer is kept for the product's
// next rows (its first named row may be rejected).
func (l *loader) described(e *prodEntry) bool {
	if l.opts.Described == nil || e.undescribed {
		return false
	}
	if l.opts.Described(e.key) {
		return true
	}
	e.undescribed = true
	return false
}

// checkCategories splits the category field cats of p's row into paths
// and returns them, or the error of the row when the Builder would refuse
// p with them.
func (l *loader) checkCategories(p affinity.Product, cats string) ([]string, error) {
	paths, err := l.splitCategories(cats)
	if err != nil {
		return nil, err
	}
	p.Categories = paths
	if err := l.b.CheckProduct(p); err != nil {
		return nil, err
	}
	return paths, nil
}

// keep does what n notes: adds its entry, unless an earlier note of the
// same product (of the same row) added one, or counts its name and
// explicit categories.
func (l *loader) keep(n productNote) {
	switch {
	case n.e == nil:
	case n.e.named != nil:
		nm := n.e.named
		nm.names.count(n.name)
		if n.cats != "" {
			if nm.rawCats == "" { // the first explicit categories: kept to spare later rows a split
				nm.rawCats, nm.canonCats = strings.Clone(n.rawCats), strings.Clone(n.cats)
			}
			nm.cats.count(n.cats)
		}
	case n.entry != nil:
		if l.addProduct(*n.entry) != nil {
			return // cannot happen: noteProduct checked it
		}
		nm := &naming{product: *n.entry, derived: n.derived}
		nm.names.count(n.name) // an empty name is no count
		if n.cats != "" {
			nm.rawCats, nm.canonCats = strings.Clone(n.rawCats), strings.Clone(n.cats)
			nm.cats.count(nm.canonCats)
			nm.current = nm.canonCats
		}
		n.e.named = nm
		l.named = append(l.named, nm)
		l.rep.Products++
	}
}

// naming counts the names and explicit categories a product's rows give
// it.
type naming struct {
	product affinity.Product // the entry in the Builder
	derived bool             // its categories derived from the name
	names   tally
	cats    tally  // explicit categories, paths joined by "|"
	current string // the entry's explicit categories, joined; "": none
	// rawCats is the first category field counted and canonCats its
	// paths joined, so that rows repeating it are not split again.
	rawCats, canonCats string
}

// tally counts the values of one field of a product's rows. Most
// products have one value, so the map of other values is made only when
// a second one appears.
type tally struct {
	first  string
	firstN int
	others map[string]int
	order  []string // other values in first-seen order
}

// count counts a non-empty value; the first value counted is the first
// seen.
func (t *tally) count(v string) {
	switch {
	case v == "":
		return
	case t.firstN == 0 && t.first == "":
		t.first, t.firstN = strings.Clone(v), 1
		return
	case v == t.first:
		t.firstN++
		return
	}
	if t.others == nil {
		t.others = make(map[string]int)
	}
	if _, ok := t.others[v]; !ok {
		if len(t.others) >= maxNames {
			return // later new values are not counted
		}
		v = strings.Clone(v) // kept: no row's memory pinned
		t.order = append(t.order, v)
	}
	t.others[v]++
}

// maxNames bounds the distinct names (and category fields) counted per
// product: a file giving one product a new name on every row must not
// grow a map per row.
const maxNames = 256

// best returns the most frequent value, the first seen among equals; ""
// when none was counted.
func (t *tally) best() string {
	best, most := t.first, t.firstN
	for _, v := range t.order {
		if c := t.others[v]; c > most {
			best, most = v, c
		}
	}
	return best
}

// addProduct adds p to the Builder and tells Options.OnProduct.
func (l *loader) addProduct(p affinity.Product) error {
	if err := l.b.AddProduct(p); err != nil {
		return err
	}
	if l.opts.OnProduct != nil {
		l.opts.OnProduct(p)
	}
	return nil
}

// finishNames gives every product the loader named its most frequent name
// (shops reuse a product's row for adjustments such as "mailout" or
// "damaged", which must not name the product) and, when any of its rows
// has categories of its own, its most frequent explicit categories;
// otherwise it derives the categories again from the new name where they
// came from the name. A product whose new categories the Builder refuses
// keeps its first entry.
func (l *loader) finishNames() {
	for _, n := range l.named {
		best := n.names.best()
		cats := n.cats.best()
		if best == n.product.Name && cats == n.current {
			continue
		}
		p := n.product
		p.Name = best
		switch {
		case cats != n.current:
			p.Categories = strings.Split(cats, "|")
		case n.derived && cats == "" && best != n.product.Name:
			paths, err := l.splitCategories(l.opts.Categories(best))
			if err != nil {
				continue
			}
			p.Categories = paths
		}
		if l.addProduct(p) == nil {
			n.product, n.current = p, cats
		}
	}
}

// splitCategories splits a category field into paths: paths are
// separated by "|", levels by "/" or ">". Empty paths are dropped. More
// than Limits.MaxCategories paths are an error.
func (l *loader) splitCategories(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for p := range strings.SplitSeq(s, "|") {
		p = affinity.CleanCategoryPath(strings.ReplaceAll(p, ">", affinity.CategorySep))
		if p == "" {
			continue // an empty path is dropped, and not counted
		}
		if len(out) == l.lim.cats {
			n := len(out) + 1 // so far: no more are split off
			return nil, &limitError{name: "MaxCategories", value: int64(l.lim.cats), what: fmt.Sprintf("%d or more category paths", n)}
		}
		out = append(out, p)
	}
	return out, nil
}

// checkTime returns the error for a time outside the range a History
// stores (see affinity.ValidTime), nil for a time inside.
func checkTime(t time.Time, text string) error {
	if affinity.ValidTime(t) {
		return nil
	}
	return fmt.Errorf("time %q (%v) outside 1970-01-01..2106-02-07 UTC", text, t.UTC().Format(time.DateTime))
}

// repeated reports whether the row at line, whose fields hash to k (see
// dupTracker.hash), repeats a row remembered since the order (group, the
// key fields of the order) last changed, and remembers it otherwise. A
// repeat that Options.DropDuplicates drops is counted and skipped here
// (drop); one that is to load is counted by the caller, with
// countDuplicate, once it has loaded: a row skipped for another reason
// is no duplicate in the Report.
func (l *loader) repeated(k uint64, line int, group ...string) (dup, drop bool) {
	if !l.dups.check(group, k, l.lim.baskets) {
		return false, false
	}
	if l.opts.DropDuplicates {
		l.countDuplicate(line, true)
		return true, true
	}
	return true, false
}

// countDuplicate counts a duplicate row at line (the first one the
// lowest line, as an SQL result's orders come in any order) and skips it
// as "duplicate row" when drop.
func (l *loader) countDuplicate(line int, drop bool) {
	l.rep.Duplicates++
	if l.rep.FirstDuplicate == 0 || line < l.rep.FirstDuplicate {
		l.rep.FirstDuplicate = line
	}
	if drop {
		l.skip(reasonDupRow, line)
	}
}

// dupTracker remembers the rows of the current order by a 64-bit hash of
// their fields (a false match within one order has a probability below
// 1e-11 for 10,000 rows).
type dupTracker struct {
	seed   maphash.Seed
	seeded bool
	group  []string // the current group's fields
	// the hashes of the group's rows: the first few in a slice (an
	// order has a handful of lines), the rest in a map
	few  []uint64
	seen map[uint64]struct{}
}

// dupFew is the number of row hashes per group kept in the slice.
const dupFew = 32

// hash returns the hash of fields, in order: each field is hashed on
// its own and mixed into the running value, so that field boundaries
// count ("ab","c" and "a","bc" differ).
func (d *dupTracker) hash(fields []string) uint64 {
	if !d.seeded {
		d.setSeed(maphash.MakeSeed())
	}
	return hashFields(d.seed, fields)
}

// setSeed sets the seed of the row hashes; the CSV reader hashes rows
// with it while it parses them.
func (d *dupTracker) setSeed(seed maphash.Seed) {
	d.seed, d.seeded = seed, true
}

// hashFields returns the hash of fields with seed (see dupTracker.hash).
func hashFields(seed maphash.Seed, fields []string) uint64 {
	h := uint64(len(fields))
	for _, f := range fields {
		h = (bits.RotateLeft64(h, 29) ^ maphash.String(seed, f)) * 0x9e3779b97f4a7c15
	}
	return h
}

// check reports whether a row with hash k was seen since group last
// changed; it remembers at most limit rows per group.
func (d *dupTracker) check(group []string, k uint64, limit int) bool {
	if d.few == nil {
		d.few = make([]uint64, 0, dupFew)
	}
	if !slices.Equal(group, d.group) {
		d.group = append(d.group[:0], group...)
		d.few = d.few[:0]
		if len(d.seen) > 0 {
			clear(d.seen)
		}
	}
	if slices.Contains(d.few, k) {
		return true
	}
	if _, ok := d.seen[k]; ok {
		return true
	}
	switch {
	case len(d.few)+len(d.seen) >= limit:
	case len(d.few) < dupFew:
		d.few = append(d.few, k)
	default:
		if d.seen == nil {
			d.seen = make(map[uint64]struct{})
		}
		d.seen[k] = struct{}{}
	}
	return false
}

// interner returns an owned copy of each distinct product key, so that
// keys kept by the Builder do not pin the row buffers they were sliced
// from, and keeps what the loader knows of the product with it, so that
// naming a product on every row costs no second lookup.
type interner struct {
	last *prodEntry
	m    map[string]*prodEntry
}

// prodEntry is one distinct product key of the input.
type prodEntry struct {
	key         string
	named       *naming // the catalog entry the loader gave the product; nil: none yet
	known       bool    // the Builder had an entry for it before the loader named it
	undescribed bool    // opts.Described answered false for it
}

func (in *interner) get(s string) string { return in.entry(s).key }

// entry returns the entry of key s, made on first sight.
func (in *interner) entry(s string) *prodEntry {
	if in.last != nil && s == in.last.key {
		return in.last
	}
	e, ok := in.m[s]
	if !ok {
		if in.m == nil {
			in.m = make(map[string]*prodEntry)
		}
		e = &prodEntry{key: strings.Clone(s)}
		in.m[e.key] = e
	}
	in.last = e
	return e
}

// owner returns an owned copy of a key (so that it does not pin the row
// buffer it was sliced from), reusing the previous copy when the same key
// comes again at once: the lines of one order, the orders of one customer
// in a sorted file. A key that comes back later is copied again; the
// Builder keeps one copy per distinct key and the others are garbage once
// the line is added. For customer and order keys, whose distinct values
// run into the millions, that is cheaper than a lookup per row in a map of
// all of them.
type owner struct{ last string }

func (o *owner) get(s string) string {
	if s != o.last {
		o.last = strings.Clone(s)
	}
	return o.last
}

// timeParser parses times with a list of layouts, remembering the last
// input and the last layout that matched.
type timeParser struct {
	layouts []string
	loc     *time.Location
	lastIn  string
	lastT   time.Time
	lastL   int
}

// setDefault sets the layouts when Options gave none.
func (tp *timeParser) setDefault(layouts []string) {
	if len(tp.layouts) == 0 {
		tp.layouts = layouts
	}
}

func (tp *timeParser) parse(s string) (time.Time, bool) {
	if s == tp.lastIn && s != "" {
		return tp.lastT, true
	}
	n := len(tp.layouts)
	for k := range n {
		i := (tp.lastL + k) % n
		t, ok := parseTime(tp.layouts[i], s, tp.loc)
		if ok {
			tp.lastIn, tp.lastT, tp.lastL = strings.Clone(s), t, i
			return t, true
		}
	}
	if slices.Contains(tp.layouts, "unix") {
		return farUnix(s)
	}
	return time.Time{}, false
}

// farUnix reads s as Unix seconds too far from 1970 for any layout: a
// time out of range (see checkTime), not an invalid one.
func farUnix(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(max(min(n, 1<<62), -1<<62), 0).UTC(), true // no overflow of time's own range
}

func parseTime(layout, s string, loc *time.Location) (time.Time, bool) {
	if layout == "unix" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < -1e11 || n > 1e11 {
			return time.Time{}, false // not Unix seconds: the next layout's turn
		}
		return time.Unix(n, 0).UTC(), true
	}
	t, ok := parseFixed(layout, s, loc)
	if !ok {
		var err error
		if t, err = time.ParseInLocation(layout, s, loc); err != nil || !timetext.OffsetInRange(layout, s, t) {
			return time.Time{}, false
		}
	}
	if t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// parseFixed parses s in one of the all-numeric layouts the CSV formats
// default to (RFC 3339 in UTC included), when s has exactly the layout's
// shape and valid fields;
// otherwise it returns false and time.ParseInLocation decides. Where it
// returns true the result is time.ParseInLocation's, about 4 times
// faster.
func parseFixed(layout, s string, loc *time.Location) (time.Time, bool) {
	switch layout {
	case "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02":
	case time.RFC3339:
		// in UTC only ("Z"); an offset takes the general parser
		if len(s) != 20 || s[19] != 'Z' {
			return time.Time{}, false
		}
		s, layout, loc = s[:19], "2006-01-02T15:04:05", time.UTC
	default:
		return time.Time{}, false
	}
	if len(s) != len(layout) {
		return time.Time{}, false
	}
	for i := range len(layout) {
		switch c := s[i]; layout[i] {
		case '-', ' ', 'T', ':':
			if c != layout[i] {
				return time.Time{}, false
			}
		default:
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
		}
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	var hour, minute, sec int
	if len(s) > 10 {
		hour, minute = num(11, 2), num(14, 2)
	}
	if len(s) > 16 {
		sec = num(17, 2)
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), true
}

// daysIn returns the number of days of month in year (proleptic
// Gregorian, as package time counts).
func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseQuantity parses an int32 quantity written as [parseWhole] reads
// it: "6", "6.0", "6." (and "6,0", "6," with decimal separator ',').
func parseQuantity(s string, sep byte) (int32, bool) {
	n, ok := parseWhole(s, sep, 32)
	return int32(n), ok
}

// parseWhole parses a whole number of bitSize bits written as an integer
// or as a decimal whose fraction is zeros or empty ("6.0", "6.", as
// spreadsheets export counts), with the decimal separator of amounts,
// sep (0 means '.'), as [affinity.ParseMoney] reads them, or with '.':
// a whole number has no thousands separator, and exports with a decimal
// comma for prices still write counts such as "6.0".
func parseWhole(s string, sep byte, bitSize int) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, bitSize); err == nil {
		return n, true
	}
	i := strings.IndexByte(s, '.')
	if sep != 0 && sep != '.' && i < 0 {
		i = strings.IndexByte(s, sep)
	}
	if i < 0 || strings.Trim(s[i+1:], "0") != "" {
		return 0, false
	}
	whole := s[:i]
	switch whole {
	case "", "+", "-": // ".0": no digit before the separator
		if i == len(s)-1 {
			return 0, false // no digit at all
		}
		whole += "0"
	}
	n, err := strconv.ParseInt(whole, 10, bitSize)
	return n, err == nil
}

// checkArgs returns the error for a nil ctx or Builder, or, when other is
// true, a nil argument named what.
func checkArgs(ctx context.Context, b *affinity.Builder, other bool, what string) error {
	if err := affinity.CheckContext("dataset", ctx); err != nil {
		return err
	}
	if b == nil {
		return affinity.NilArgument("dataset", "Builder")
	}
	if other {
		return affinity.NilArgument("dataset", what)
	}
	return nil
}
