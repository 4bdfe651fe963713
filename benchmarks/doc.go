// Package benchmarks holds the scale suite of affinity: it runs the
// library's public API on synthetic storefronts of 10 k to 10 M order lines
// and puts it side by side with DuckDB on the same CSV file.
//
// The suite is its own module (github.com/shopaffinity/affinity/benchmarks)
// so that importers of the library never pull DuckDB or cgo.
//
// # What it compares
//
// [Generate] writes a deterministic shop ([dataset.Generate]) as one CSV
// file. [Duck.Load] loads it into an in-memory DuckDB and [Duck.Precompute]
// derives per-customer tables; [LoadAffinity] and [BuildIndex] load the
// same file through the dataset CSV loader and build the History and the
// segment index. Five marketer questions ([Questions]) are then answered
// three ways — SQL on the raw lines, SQL on the per-customer tables and
// segment expressions ([Affinity]) — and [Compare] checks that the customer
// sets and the spend agree to the Money unit. A naive Go baseline
// ([NaiveLoad], [NaiveFeatures], [NaiveAnswer], [NaiveNeighbors]) answers
// them too. It is not independent of the library: it parses prices with
// affinity.ParseMoney, sums affinity.Money and takes the look-back's start
// from affinity.Months(24).Start, so a fault there would be shared; DuckDB
// is the independent check.
//
// [RunAffinity], [RunDuck] and [RunNaive] time every step with its peak
// memory ([Measure], [Repeat]); [WriteMarkdown] and [Plot] turn the results
// into the tables and plots of README.md, through cmd/report.
//
// # Semantics the three ways share
//
// The as-of time is [AsOf]; the look-back is 24 calendar months, the
// window (AsOf − 24 months, AsOf]. Spend is quantity × unit price in
// affinity.Money; net spend (monetary) subtracts returns, category spend
// counts bought lines only. A category share of at least 30 % is the exact
// integer comparison spend_X·10 ≥ spend_total·3. Recency is whole days of
// 24 hours since the last bought line at or before AsOf. RFM scores are
// SQL's NTILE(5) over the customers with a bought order in the look-back,
// ordered by the value (last purchase time, number of orders) and then by
// customer key. Lines without a customer (guest orders) are no
// customer's; a line without an order id is in the order of its customer
// and second, as [affinity.Purchase] has it. The look-back's start is
// AsOf − INTERVAL 24 MONTH in SQL and [affinity.Lookback]'s start in Go;
// both take a day the target month lacks as its last day (2028-02-29 − 24
// months is 2026-02-28).
//
// The equality holds on files of the shape [Generate] writes: one time
// per order, one category path per product without empty levels, fields
// without surrounding spaces, prices of at most 4 decimals and amounts
// below 10¹⁴ (DuckDB's DECIMAL(18,4)), no quantity of 0 and no negative
// price. On other files the ways model the lines differently, by design:
// a History places an order at its earliest line, takes a product's
// category from its first line (split between paths separated by "|",
// cleaned of spaces and ">", and with empty levels dropped: "A//s" is the
// category "A/s" to a History, not to SQL or the naive scan), and trims
// fields, where SQL over the raw lines takes every line as written. DuckDB
// silently rounds a price of more decimals (1.00005) to 4, where the CSV
// loader and the naive scan reject the file, and the loader's strict mode
// refuses a quantity of 0 or a negative price, which SQL and the naive
// scan take as written.
//
// See README.md for the figures and how to reproduce them.
package benchmarks
