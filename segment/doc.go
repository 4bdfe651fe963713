// Package segment answers "who is in this group" for a shop's customers in
// microseconds: it computes per-customer features from an
// [affinity.History] as of an explicit time, stores them as roaring
// bitmaps and bit-sliced indexes, and evaluates composable segment
// expressions — in Go or in a small text syntax — by bitmap algebra,
// never by scanning customers.
//
//	x, err := segment.Build(ctx, h, asOf, segment.Options{})
//	coupon, err := x.Query(`affinity("Apparel/Sportswear") >= 0.3 and recency between 14d and 28d and not bought("Apparel/Socks")`)
//	for key := range x.Keys(coupon) { … }
//
// # Features
//
// [Build] looks at the orders and events at or before asOf; nothing reads
// the clock. Most features cover the look-back window (start, asOf]: 24
// calendar months (the usual CLV "lifetime"; [affinity.Months](24), so
// that the window as of 2024-03-01 starts on 2022-03-01, 731 days back;
// see [affinity.Lookback] for month ends) unless [Options.Lookback]
// says otherwise; [affinity.AllTime] means everything up to asOf. Days
// are whole periods of 24 hours counted back from asOf: an order 30 hours
// before asOf is 1 day ago; windows of the query syntax may be as long as
// the look-back in days, rounded up.
//
//   - recency: days since the last purchase (an order with a bought line),
//     at any time up to asOf; none for customers who never bought.
//   - tenure: days since the first purchase, at any time up to asOf.
//   - frequency: orders with a bought line in the look-back.
//   - monetary: net spend in the look-back, in currency units; returns
//     (negative quantities) in the window are subtracted, so it can be
//     negative.
//   - aov: monetary / frequency rounded half away from zero to Money
//     units (1/10000 of the currency unit), the value stored and compared;
//     none without orders in the look-back.
//   - rscore, fscore, mscore: RFM quintile scores (see below).
//   - per category node, at every level of the tree: affinity (share of
//     spend), itemshare (share of items), ordershare (share of orders that
//     contained the category), recency in the category (days since the
//     last purchase in it), the rank among the customer's top categories
//     of that level (by spend, then items, as summed, not as the rounded
//     shares; see [TopRank]), and lift (affinity divided by the population's share
//     of spend in the category, [Index.PopulationShare]).
//   - bought, viewed and carted sets per category and per product, with
//     the days since the last such event, so that any window up to the
//     look-back can be asked for; abandoned carts (an add-to-cart of a
//     product not bought since); daily activity (customers with a bought
//     order on each UTC day, at any time up to asOf).
//
// Shares count bought lines only (returns never count as interest) and a
// product in several category paths counts toward each with the weight of
// [affinity.Catalog.Shares]; a product in [Options.NonMerchandise]
// (postage, fees) counts in the spend the shares divide and in no
// category. With [Options.HalfLife] each order's weight
// in the shares is 2^(−age/HalfLife), so that old interests fade. Shares
// are stored in steps of 1/10000, rounded half away from zero, and, unless
// a half-life is set, also as exact integer ratios (see "Exact
// comparisons"); money in [affinity.Money] units (1/10000 of the currency
// unit); days as integers.
//
// The customers an index knows ([Index.Len]) are those with an order or
// event at or before asOf; [Index.All] returns them and Not complements
// within them. Customer ids are the dense ids of the History, so bitmaps
// of several indexes built from one History (or from Histories where one
// extends the other) can be combined.
//
// # Missing values
//
// Customers without a value of frequency, monetary, affinity, itemshare,
// ordershare or lift count as 0 there: affinity("X") < 0.1 includes the
// customers who never bought in X. The other attributes — recency, tenure,
// aov, the RFM scores, category recency and rank — are undefined for
// customers without the underlying purchase, and no comparison matches an
// undefined value (not recency <= 30d includes those who never bought).
//
// The methods that take a set of customers (Stats, CrossTab, FeaturesOf,
// WriteCSV, Keys, SortedKeys, SortedIDs, AppendSortedKeys, Overlap) read
// a nil set as the empty set; ScoreGrid reads it as every customer.
//
// # RFM
//
// Customers with an order in the look-back get three scores from 1 to 5,
// in one of two ways chosen by [Options.RFMScoring]. With [RFMNTile] the
// scores are those of SQL's
//
//	NTILE(5) OVER (ORDER BY value, customer_key)
//
// where value is the time of the last purchase in seconds for R (not whole
// days, so that ties are rare and SQL can reproduce it), the number of
// orders in the look-back for F and the net spend in the look-back for M,
// all ascending (5 is the most recent, most frequent, highest spending),
// and customer_key the shop's customer id compared as bytes: every score
// holds a fifth of the customers (the first n mod 5 tiles one more), and
// equal values can get different scores (fewer than five customers take
// the first tiles only: a single customer scores 1, 1, 1). With
// [RFMRank], the default, score = 1 + ⌊5·L/N⌋, where N counts the scored
// customers and L those with a strictly worse value (more whole days
// since the last purchase, fewer orders, less spend), G those with a
// strictly better one, and the ends of the scale are anchored: the best
// value (G = 0 < L) scores 5 however many customers share it, and when
// all share one value (G = L = 0: a single customer, a shop where
// everyone spent 0) everyone scores 3, the middle, for a distribution
// without spread tells no one apart. This is the competition rank (SQL
// RANK()) cut into quintiles, in SQL
//
//	CASE WHEN MIN(v) OVER () = MAX(v) OVER () THEN 3
//	     WHEN v = MAX(v) OVER () THEN 5
//	     ELSE 1 + 5 * (RANK() OVER (ORDER BY v) - 1) / COUNT(*) OVER () END
//
// for v ordered from worst to best: equal values always get equal scores,
// the worst value gets 1 and the best 5 unless all share one, and scores
// can be skipped when many customers tie (if 40% have one order, they all
// get F=1, and two orders start at F=3 when some customers have more).
// The segment map
// ([DefaultRFMRules], replaceable with [Options.RFMRules]) is an ordered
// table of score ranges; a customer belongs to the first rule that
// matches. [Index.RFMTable] gives size, share, revenue share and AOV per
// segment, and [Index.ScoreGrid] the same per cell of two scores (the
// R×F grid).
//
// Lifecycle stages ([Stages]) partition the customers who bought at or
// before asOf: churned when the last purchase is more than ChurnAfter
// (default 365 days) ago, else lapsing when more than LapseAfter (180
// days) ago or without an order in the look-back, else loyal
// (LoyalOrders, default 4, or more orders in the look-back), repeat (2 or
// more) or new (one order). (Recency counts whole days and a look-back of
// calendar months is not one, so a purchase just before the look-back's
// start can be LapseAfter days ago or less: such a customer is lapsing.)
//
// [Transition] and [Transitions] compare two indexes of the same customers
// at two points in time: who moved from Champions to At risk.
//
// # Text syntax
//
// [Parse] and [Index.Query] read expressions such as
//
//	affinity("Apparel/Sportswear") >= 0.3 and recency between 14d and 28d
//	    and not bought("Apparel/Socks")
//	carted("p-1234" within 7d) and not bought("p-1234" within 7d)
//	rfm("Champions") or (lifecycle("loyal") and recency > 90d)
//	active between "2024-11-25" and "2024-12-02" and monetary >= $500
//
// Keywords and attribute names are case-insensitive; names of categories,
// products and segments are quoted (a Go string literal, "interpreted"
// or `raw`) and case-sensitive,
// except RFM segment and lifecycle stage names, which match whatever
// their case and with spaces around them trimmed (rfm(" champions ") is
// Champions; a rule name has no such spaces, see [RFMRule]). # starts a comment that
// runs to the end of the line. The grammar, in EBNF:
//
//	query      = expr .
//	expr       = term { "or" term } .
//	term       = factor { "and" factor } .
//	factor     = "not" factor | "(" expr ")" | "all" | "none" | comparison
//	           | activity | abandoned | active | reference | top .
//	comparison = attribute ( op value | "between" value "and" value ) .
//	op         = "<" | "<=" | ">" | ">=" | "=" | "==" | "!=" .
//	attribute  = "recency" | "tenure" | "frequency" | "monetary" | "aov"
//	           | "rscore" | "fscore" | "mscore"
//	           | ( "affinity" | "itemshare" | "ordershare" | "lift"
//	             | "recency" | "rank" ) "(" string ")"
//	           | ( "flag" | "days_to" | "days_since" ) "(" string ")" .
//	activity   = ( "bought" | "viewed" | "carted" )
//	             "(" target { "," target } [ ( "within" | "," ) duration ] ")" .
//	target     = string | "category" "(" string ")" | "product" "(" string ")" .
//	abandoned  = "abandoned" "(" [ [ "within" ] duration ] ")" .
//	active     = "active" "between" date "and" date .
//	reference  = ( "segment" | "rfm" | "lifecycle" ) "(" string ")" .
//	top        = "top" "(" string [ "," integer ] ")" .
//	value      = ( [ "-" ] [ currency ] | currency "-" ) number [ unit ] .
//	currency   = "$" | "€" | "£" .
//	duration   = integer [ "d" | "w" | "m" | "y" ] .
//	date       = `"` YYYY-MM-DD `"` .
//	number     = digit { digit } [ "." digit { digit } ] .
//
// Units: days take d, w (7 days), m (30 days) and y (365 days), or a bare
// number of days; shares take a fraction or a percentage (0.3 or 30%);
// money a number of currency units, optionally after a currency sign,
// which is decoration only. A number with a unit is the decimal it
// denotes, computed exactly: 0.7% is 0.007 (and prints so), 0.5w is 3.5
// days. A number with more significant digits than a comparison keeps
// exactly (beyond 15, or 12 with w, m or y) is an error unless the digits
// past them change nothing or it lies beyond every value of its attribute
// (10^15 and more; not for lift, which a share of spend in a category the
// rest of the shop hardly buys can take beyond 10^18), and so is a number
// other than 0 too close to 0 to be kept (below 10⁻³⁰⁷, a 0 point
// followed by 306 zeros and a 1, it may underflow: write 0, or a
// threshold no smaller). A threshold beyond every value still compares
// as the number it is: monetary >= 10^15 matches no one, not even a
// customer who spent [affinity.MaxMoney], and monetary < 10^15 matches
// every customer. So money is an exact threshold to the Money
// unit (four decimals) below 10^11 currency units, where it has at most
// 15 significant digits, and still up to about 9·10^11 (2^53 Money
// units), where a float64 holds every such amount; beyond, an amount
// such as 1234567890123.4567 has more digits than a threshold keeps and
// is an error (in Go, a float64 threshold is the shortest decimal that
// prints it, which cannot name every Money unit there). A bare target
// string names a category if no product has that key, a product if no
// category has that path; a name
// that is both is an error and must be written category("…") or
// product("…"). Without a window, bought, viewed and carted cover the
// whole look-back; a window may not be longer. recency("X") is the days
// since the last purchase in category X within the look-back (plain
// recency looks at every order). between includes both ends. rank("X")
// <= 2 and top("X", 2) are the same; k in top("X", k) is at most
// [Options.TopN].
// segment("name") refers to a segment defined with [Index.Define]; a
// query compiles each definition it reaches once and evaluates one it
// reaches more than once (directly or through other definitions) once,
// so that definitions referring to earlier ones cost time in proportion
// to their number, not to the paths through them.
// flag, days_to and days_since name the customer attributes attached with
// [Index.WithAttributes] (an opt-in, a birthday, a signup date; see
// [Attributes]): flag("optin") = 1 and days_to("birthday") between 0 and 6;
// a value of a text field is the flag "field=value": flag("country=DE") = 1.
//
// # Exact comparisons
//
// Shares (affinity, itemshare, ordershare) and lift are compared exactly
// when the index has no half-life: a threshold is the decimal number it is
// written as (in Go, the shortest decimal that prints the float64), and
// affinity("X") >= 0.3 selects the customers whose spend in X, times 10,
// is at least their total spend times 3, in integers — a customer at
// 29.997 % is out, one at exactly 30 % in. Spend and items in a category
// count each product with its weight m/n (m of its n category paths lie
// below the category); the index multiplies every weight by the least
// common multiple of the n (up to 2^20) so that the ratios stay integer.
// ordershare is orders with the category over orders; lift("X") >= t
// compares spend_X / spend with t · (Σ spend_X / Σ spend) over all
// customers, exactly. The index keeps every customer's denominators and,
// per category, each numerator as its difference from the numerator the
// stored share implies, bit-packed in blocks of 64: a few bits for most
// customers and none for item and order counts below 5,000, which follow
// from the stored share alone. Evaluation stays
// bitmap algebra: the stored shares
// (1/10000) decide every customer more than 1.5 steps from a threshold,
// and only the customers in that band are checked with integer
// arithmetic. Without exact ratios (a half-life, or a weight denominator
// or spend beyond the int64 range) shares compare at the stored
// resolution: a threshold within 1e-9 (relative) of a stored step counts
// as that step, so affinity("X") >= 0.3 means a stored share of at least
// 3000. Other attributes compare at their resolution, which is exact: one
// Money unit, one day, one order, against the decimal the threshold is
// written as (no tolerance): frequency > 0.9999999999 includes customers
// with one order, and monetary < 433.1200000001 a spend of $433.12. A
// threshold keeps at most the significant digits a float64 holds (15
// always, see "Units" above), so money beyond about 10^11 currency units
// cannot always be named to the Money unit. aov compares its stored
// value, the quotient rounded to Money units, not the quotient: a
// customer who spent 30.01 in 3 orders (10.00333…) has aov 10.0033, so
// aov = 10.0033 includes them and aov > 10.0033 does not.
//
// Syntax errors are *[SyntaxError] with offset, line and column (a window
// of 0 days, "within 0d", is one, and so is a window of 65,536 days or
// more, "within 200y", longer than any look-back can be); unknown
// categories, products and segments wrap [ErrUnknown], shorter windows
// beyond the look-back (and, in an Expr built in Go, windows that are not
// whole days) and reversed ranges wrap [ErrInvalid], each a *[QueryError] with the offset, line and
// column of the offending token (the category's string, the window, the
// lower end of the range). Error messages quote at most 60 characters of
// input. A query longer than 64 KiB or nested deeper than 200
// parentheses and "not"s (200 levels parse) is a syntax error naming the
// limit ([query.Limits]); an Expr
// built in Go may nest [MaxExprDepth] levels, And within And (Or within
// Or) not counting: nested Ands and Ors are flattened, and the
// comparisons of one And on one column are merged into one range, so that
// a chain of 100,000 And(acc, x) evaluates in linear time; a tree nested
// MaxExprDepth deep compiles in time linear in its number of nodes, a node
// that several parents share (the same pointer) counting once: it
// compiles once and, an And, Or or Not, evaluates once.
//
// # Packages
//
// The syntax and the expression tree live in package [query], which
// names attributes and knows nothing of indexes; this package resolves
// the names (attrs.go holds the one table of numeric attributes: adding
// one whose values the builder computes is an entry there), compiles and
// evaluates. The bit-sliced index and roaring's wire format, writer and
// validator, are internal packages (internal/bsi, internal/roaringio); the
// package documentation of internal/bsi measures it against roaring's own
// BSI.
//
// # Storage
//
// Every numeric attribute is a bit-sliced index on roaring bitmaps: one
// bitmap per bit of the stored value plus one of the customers that have
// a value. A comparison walks the slices from the top bit down (O'Neil and
// Quass) on the customers that earlier operands of an And left over, so
// that And evaluates its cheapest, most selective operands first; sums
// (revenue and orders of a segment, [Index.Stats]) take one intersection
// count per bit. The day attributes of customers (recency, tenure,
// abandoned carts) also keep one bitmap per day, and recency and tenure
// range-encoded levels (every day for 90 days, every week to a year,
// every 30 days beyond), so that "recency between 14d and 28d" is the
// difference of two bitmaps. Per-category indexes hold only the customers
// who bought in the category. Product sets are kept as sorted posting
// lists with days (one bitmap per product would cost more than the data)
// and become bitmaps in time linear in the product's customers. Bitmaps
// are kept as array and bitset containers, not run containers, because
// intersections with runs are slower than the memory they save here.
//
// [Index.Save] writes a versioned file with a CRC-32C checksum whose
// bitmaps use roaring's portable serialization, atomically (temporary
// file, sync, rename); [Load] and [ReadIndex] reject truncated, damaged or
// foreign files with [ErrCorrupt] and validate every bitmap and id, and
// that the money values and the stored revenue and orders stay within
// [affinity.Money]'s range and agree with one another.
//
// # Distributed builds
//
// A customer's features depend only on the customer's own orders and
// events and on the catalog; only the RFM scores, the population shares
// and the bitmaps span customers. [BuildPart] computes the features of
// one run of [PartSize] consecutive customer ids (one roaring container)
// from a History that holds those customers and the whole catalog
// (started with [affinity.NewCatalogBuilder]);
// [Part.MarshalBinary] encodes the result for the wire; [Join] puts the
// runs together into the index [Build] gives on the whole History, byte
// for byte. The Beam pipeline in this module's beam/ directory computes
// the parts on many workers and joins them on one.
//
// # Updates
//
// The same locality makes refreshes cheap. [Update] takes the index of a
// History and the History a Builder made from it (new, replaced and
// deleted orders, erased customers, events) and returns the index of the
// new one: it computes the features of the changed customers alone into
// a small delta index and lays it over the previous index (a full one, or
// a full one with deltas of its own: a customer in a later delta leaves
// the earlier ones), with the population parts (RFM scores and segments,
// lifecycle stages, totals, population shares) computed anew from
// per-customer columns the index keeps (27 bytes per customer) and the
// distribution of the scored customers' values (8 bytes per scored
// customer): on the index's day only
// the changed customers and those whose value's score moved are scored
// again (every customer on a later day), and when at most one customer in
// 16 has a new score, segment or stage, the score columns and the segment
// and stage bitmaps are the previous index's with those customers moved,
// copied on write. Queries run on every layer and unite the answers, so
// an updated index answers exactly as a full build of the new History
// would. Where an update would make a fifth delta, it scans the
// customers of the two smallest deltas again with its change, into one
// delta in their place; once an eighth of the customers have changed
// since the full index, Update builds anew. With
// [UpdateOptions.Compact] (which package shop uses) an update whose deltas
// hold more than one customer in 32 starts a full build of its History
// in the background, and the first later update after it is done lays its
// delta over that build, so the deltas stay small and no refresh waits
// for a full build. Until then the updated index holds both full indexes:
// [Index.Compacting] tells when the build is done, and [Index.Compacted]
// then gives the index laid over it (the same answers, the older full
// index no longer held), which package shop swaps in for a shop that no
// refresh reaches (after 20 refreshes, the live heap 1.07× the shop's as
// opened against 1.60× without on 1 M customers, 1.18× against 1.73× on
// 100,000; BenchmarkRefresh in package shop, heap-x-idle).
// Products and categories added to the catalog are taken in; a product
// put in other categories changes its buyers' shares and is built anew. On
// 1 M customers and 10 M lines, after a refresh of 10,000 lines, Update
// takes about 0.2 s (0.36–0.44 s before the RFM parts were patched, in
// the same runs) where Build takes 4.3 s on two cores (BenchmarkUpdate,
// BenchmarkBuild), and a three-clause query and the Stats of every
// customer took 1.2–1.3× their time on the full index (in a later run,
// 1.3–1.6× and 1.7×, with one delta or four alike; BenchmarkUpdatedQuery3;
// the first query after an update also decodes the delta's columns it
// reads). [Update] also moves the index to a
// later day: the full index's day counts are read that many days older,
// and the customers whose orders or events crossed an edge of the
// look-back join the changed ones (few: a day's worth of two years'
// orders), so a storefront never rebuilds at midnight.
//
// # Concurrency
//
// An *Index is immutable after [Build], [Update] or [Load] and safe for
// any number of concurrent readers. [Index.Define] returns a new Index that shares
// the data of the old one. Bitmaps returned by methods are new and belong
// to the caller; bitmaps passed in are only read. Build uses
// [Options.Workers] goroutines and none outlives the call; its result does
// not depend on the number of workers. To refresh, update or build a new
// index and swap a pointer (for example an atomic.Pointer[segment.Index]).
package segment
