// Package affinity is the data model of the affinity library: a storefront's
// purchase lines, product views and add-to-cart events, and its catalog with a
// category tree, held as an immutable, columnar [History].
//
// # Model
//
// A [Purchase] is one order line: customer, product, order, time, quantity
// and unit price. Money is an integer number of ten-thousandths of the
// currency unit ([Money]), so totals never drift. A negative quantity is a
// return or cancellation: it reduces spend and never counts as interest (a
// customer who only returned a product is not one of its buyers).
//
// An [Event] is any other interaction — a product view, an add-to-cart, a
// rating — with a kind and a weight. Events feed abandoned-cart and
// back-in-stock campaigns and act as weaker signals for recommenders;
// purchases alone drive spend, RFM and CLV.
//
// A [Product] belongs to zero or more categories given as paths such as
// "Apparel/Sportswear/Running". Every prefix of a path is a category node of
// its own, so "Apparel" and "Apparel/Sportswear" are addressable too. When a
// product belongs to n categories, each of its category paths carries 1/n of
// the product's weight, and an ancestor node carries the sum of the weights
// of the paths below it (at most 1): see [Catalog.Shares].
//
// # Ids
//
// Shops identify customers, products and orders by strings. Inside, customers,
// products and categories get dense ids ([CustomerID], [ProductID],
// [CategoryID]) and orders uint32 ids ([OrderID], dense in a History built
// from scratch; see Layout) that index the columnar arrays directly and
// convert to roaring bitmap values. Lookup works both ways: [History.LookupCustomer]
// and [History.CustomerKey], [Catalog.LookupProduct] and [Catalog.ProductKey],
// [Catalog.LookupCategory] and [Catalog.CategoryPath]. Customer and product
// ids are given in the order a [Builder]'s calls first name their keys
// (Add, AddEvent, AddProduct); those first named in a staged put
// ([Builder.PutOrder], [Builder.Apply]) get theirs at Build, after the
// others, in (Version, Key) order of the puts that survive. Ids stay stable
// when a Builder extends an existing History.
//
// # Layout
//
// A History is sorted by customer, then order time: a customer's orders are
// one range of order ids in time order, their lines one range of line
// indices, found in O(1); lines of an order are contiguous. Orders without
// a customer (anonymous tills, basket files) form one range too, after the
// customers' in the History's order. [History.Orders] visits every order in
// that order. A History built from scratch numbers its orders densely in
// that order. One built on a base ([NewBuilder]) writes only what changed:
// a changed customer's orders get new ids after the base's, in columns it
// shares with the base, and their old ids are left unused until a later
// build compacts them (see [OrderID]); size arrays indexed by OrderID with
// [History.NumOrderIDs]. Per-product and per-category buyer sets are
// roaring bitmaps of customer ids.
//
// All times are stored as Unix seconds in UTC; sub-second parts are dropped.
// An order's time is the earliest time among its lines.
//
// # Orders as the unit of change
//
// A shop's orders change after they are placed: edits, partial refunds,
// cancellations, erasure requests. [Builder.PutOrder] stages the whole
// current version of an order by its shop order id and replaces every
// earlier line of it, [Builder.DeleteOrder] removes it, and the highest
// [OrderChange.Version] wins, so a feed replayed or delivered out of order
// builds the same History, in one Builder or over a chain of refreshes:
// a History keeps the versions of its orders ([History.OrderVersion]) and
// of its deletes, and a change staged on it wins only at a version not
// lower (at equal versions the later Build wins, see [Builder.Apply]).
// The same orders, that is: a chain of refreshes may number the
// customers and products the feed brings otherwise than one Builder.
// [Builder.EraseCustomer] drops a customer's
// lines, events and key. [History.Purchases] and [History.Events] give the
// data back out.
//
// # JSON
//
// The records a storefront posts or serves — [Purchase], [Event],
// [OrderChange], [Product], [Summary] — marshal with snake_case names.
// [Money] is its exact decimal amount in currency units: it marshals to a
// string such as "12.90" and reads a string or a number ("12.90" or 12.90)
// exactly, never through float64. An [EventKind] is its name ("view").
//
// # The seam contract
//
// Every package above this one follows one shape, so that a value built by
// one fits the next:
//
//   - Builds are Build(ctx, h, asOf, opts) (or New with the same leading
//     arguments). asOf is required: the zero time is an error wrapping
//     [ErrNoAsOf] (see [CheckAsOf]); [History.Latest] is the explicit
//     "end of the data". Nothing after asOf is read.
//   - Look-back windows are a [Lookback]: calendar months ([Months]) and/or
//     a duration ([Days]); the zero Lookback means the option's documented
//     default and [AllTime] means no bound. Months follow the UTC
//     calendar, so the same instant gives the same window in every
//     package whatever its time zone, and a day the target month lacks
//     becomes its last day, as in SQL's interval arithmetic.
//   - Exported signatures use the typed dense ids ([CustomerID],
//     [ProductID], [CategoryID], [OrderID]); roaring bitmaps hold them as
//     uint32. Shop string keys appear only at the edges (loaders, request
//     types, results), and request types accept either a key or a dense id.
//   - Options structs have useful zero values; parallel work is sized by
//     an Options field named Workers (≤ 0: GOMAXPROCS; above 1,024 it
//     counts as 1,024, unless a package rejects it, as recommend, evaluate
//     and dataset do beyond their MaxWorkers) and the result never depends
//     on it.
//   - Long steps report through an optional [ProgressFunc] field named
//     Progress and stop when ctx is cancelled, returning ctx.Err() wrapped.
//   - A nil context or a nil required argument (a History, counts, an
//     index, a Builder, a source) is an error matching [ErrNilArgument]
//     (see [CheckContext] and [NilArgument]), never a panic, in the
//     caller or in a worker goroutine.
//
// # Concurrency
//
// A [Builder] is for one goroutine. [Builder.Build] returns a *History that is
// never modified afterwards and is safe for any number of concurrent readers,
// including the bitmaps it hands out, which callers must not modify. To add
// data, start a new Builder from the old History with [NewBuilder], build the
// next History and swap a pointer (for example an atomic.Pointer).
package affinity
