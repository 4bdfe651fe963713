// Package dataset gets purchase data into an [affinity.Builder]: loaders
// for a generic CSV with a column mapping and for the public formats the
// project is tested on, and a deterministic synthetic storefront generator
// with planted ground truth.
//
// # Formats
//
// Every loader has a short name, used by every command of the project:
//
//	onlineretail  UCI Online Retail (both header variants), plain or gzip
//	cdnow         CDNOW master and sample files (Fader & Hardie)
//	baskets       one basket per line, items comma-separated, no customer
//	members       Member_number,Date,itemDescription with dd-mm-yyyy dates
//	movielens     MovieLens u.data: user, item, rating, unix time
//	csv           any CSV, with the column mapping in [Options.Columns]
//	shopify       Shopify's orders export, one row per line item
//	woocommerce   WooCommerce's order export, one row per line item
//
// Loaders stream: they read one row at a time and never hold a second copy
// of the file. In strict mode the first bad row is an error that names its
// line and column; in lenient mode bad rows are skipped, and the [Report]
// counts every skipped row by reason, so nothing is lost silently.
//
// # Live sources
//
// [SQLSource] polls a shop database through database/sql with any driver
// and a cursor, and returns one [affinity.OrderChange] per changed order
// ([SQLSource.Poll]) or applies them to a Builder, each checked against
// what the Builder holds ([SQLSource.Load]); [LoadSeq] loads purchases
// from an iterator. The "shopify" and
// "woocommerce" formats load each order as one put, so re-loading an
// export replaces orders instead of adding them twice.
//
// # Limits
//
// A load reads at most what [Limits] allows — line and CSV record (an
// unclosed quote included: its line is one malformed row, and the lines
// after it are read again on their own), field, decompressed bytes, rows, category
// paths per product, items per basket — with safe defaults, so that a
// hostile or broken file costs an error naming the limit, never the
// process. Times must lie in the range a History stores
// ([affinity.ValidTime]) and price × quantity in [affinity.Money]'s range;
// other rows are errors with line and column, or counted skips in lenient
// mode. Exact duplicate rows of an order are counted in
// [Report.Duplicates] and kept unless [Options.DropDuplicates].
//
// # Quotes and line breaks
//
// The CSV formats read quotes as encoding/csv does (RFC 4180): a quoted
// field may hold separators, doubled quotes and line breaks. A quote
// opened by mistake and closed on a later line, where a quote may close a
// field ("12\"" in a later row), would make one record of the rows
// between and lose them without a count. So a quoted field may hold a
// line break only where a row may: in a column the format does not read
// (an address, a note), and in free text — a product name, a category
// path — that does not also hold the separator, as swallowed rows do. A
// line break in any other column (a key, a quantity, a price, a time)
// makes the record malformed ("malformed csv"), ending with the line of
// that line break; the lines after it are read again on their own, so
// that a lenient load loads or counts each of them and a strict one stops
// at the quote's line. A malformed record over several lines (a quote that
// closes where it cannot) is its first line only, the lines after it read
// again. The limits follow the same rule (see [Limits]).
//
// The rule cannot see every stray quote: one in a column the format does
// not read, or in free text whose swallowed lines hold no separator (a
// name in the last column closed by the next row's first field, a basket
// of one item), still makes one record, one row, of the lines up to the
// quote that closes it. And text that does hold both (a product
// description over several lines, read as the name by the "csv" format's
// default "description" column) is a malformed row: map
// [Columns.Name] to another column, or none.
//
// # Synthetic storefront
//
// [Generate] builds a seeded storefront: a three-level category tree,
// products with Zipf popularity, customers with preferred categories,
// repeat purchases, returns, views and add-to-carts (some carts abandoned),
// a yearly season, and complementary product pairs planted across
// departments. It returns the planted [Truth] beside the data, so tests can
// check that segments and recommendations recover it. [Demo] is the small
// default storefront used by the quickstart, the examples and the tests.
package dataset
