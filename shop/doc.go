// Package shop is the front door of affinity for a storefront: one value
// to open, query and refresh.
//
//	s, err := shop.Open(ctx, shop.File("orders.csv.gz", "onlineretail"), shop.Options{})
//	snap := s.Snapshot()
//	res, err := snap.Recommend(ctx, shop.Request{Customer: "c42", Cart: []string{"sku-1"}, K: 5})
//	aud, err := snap.Segment(`recency between 14d and 28d and affinity("Sportswear") >= 0.3`)
//	err = s.Refresh(ctx, shop.Purchases(newOrders))
//
// # Model
//
// [Open] loads a [Source] — a file in any format package dataset knows, a
// generated storefront, a sequence of purchases from the shop's own code —
// into an [affinity.History] and builds a [Snapshot]: the segment index
// (package segment), the co-purchase neighbours (package similarity) and
// the recommendation engine (package recommend), all as of one time:
// [Options.AsOf], or the time of the last order or event in the data. The
// underlying packages stay public, and the snapshot hands out their values
// for anything the front door does not cover.
//
// [Options] has measured defaults (see [DefaultScope], [DefaultMeasure],
// [DefaultNeighbors], [DefaultLookback]), each overridable. The engine
// scores with the model the shop's own history chooses when it opens
// ([Options.Model] "auto", recommend.Choose): the co-purchase neighbours,
// or EASE where it ranks the last four weeks' purchases significantly
// better, and its half-life; EASE for rating data. No one model wins everywhere: EASE
// ranks new items 20–26 % higher on Online Retail and 39 % higher on a
// MovieLens-shaped store, the neighbours 7 % higher on Groceries and 1–4 %
// on the demo store (at the same half-life, 2026-12-06). [Options.Tune]
// searches more settings.
//
// # Serving
//
// [Snapshot.Recommend] answers a [Request] by shop keys (or dense ids) with
// results ready to serve: [Rec] and [Reason] carry shop keys, names,
// category, price, source and an explanation such as "bought together with
// Running Shoes in 124 orders — 3.2× more often than chance"; a Rec, its
// reasons with their text included, marshals to JSON. A reason whose lift
// is below 1 is never given, and a factor is stated only where the count
// makes it credible (recommend.CredibleLift). A customer the snapshot
// does not know is served like an anonymous visitor (the cart's
// complements, else the popularity fallbacks), and [Result.Known] and
// [Result.ColdStart] say so. Beside exclusions, a category filter and an
// Only list, a request carries the [Rules] of the page asking: a
// price band, a cap per category, diversity, and whether products already
// bought, substitutes of the cart or products out of stock may come back
// (never non-merchandise). [Snapshot.Segment] evaluates a query of the
// segment syntax into an [Audience]: counts, revenue and AOV (its JSON),
// members in pages ordered by spend, recency or key, and CSV. Money in
// every JSON form is exact decimal text, as [affinity.Money] marshals.
// Over HTTP, [WriteJSON] writes an answer, or an error as a [Problem]
// with the status [ProblemOf] gives it: 400 for a request the shop
// refuses (a segment query's with where the problem is), 404, 413, 503
// for a wait cut short or a closed shop, 500 for the rest.
//
// # Live controls
//
// Stock is set by shop key ([Shop.SetInStock], [Shop.UpdateStock] for
// the products the shop knows, [Shop.SetStock] for a whole feed) and
// survives every refresh.
// Non-merchandise — postage, fees, gift vouchers, manual adjustments,
// recognised by [DefaultNonMerchandise] or listed in
// [Options.NonMerchandise] — is never counted as co-purchase evidence,
// never given as a reason and never recommended.
//
// # Concurrency
//
// A Shop is safe for concurrent use. A Snapshot is immutable: requests
// read the snapshot current when they start and never wait for a refresh
// under way. [Shop.Refresh] builds the next snapshot beside the current
// one and swaps a pointer; refreshes run one at a time. The new
// snapshot's segment index is updated (or built) in the background:
// [Snapshot.Segments] and the calls that read it ([Snapshot.Segment],
// [Snapshot.Audience], [Snapshot.SegmentIndex], and [Snapshot.Profile]
// until the shop serves profiles) wait for it on that snapshot;
// [Snapshot.SegmentContext], SegmentIndex and Profile only until their
// context is done. A learned model (EASE) is fitted again
// in the background too, and a snapshot of the same history with the new
// fit replaces the served one when it is done ([Options.ModelRefit],
// [Shop.WaitModel]). Long steps report to [Options.Progress] and
// stop when their context is cancelled. [Shop.Close] stops the background
// work (a refresh under way, a background model fit, segment builds) and
// waits for it: a server calls it on its way out.
package shop
