// Package recommend ranks complementary products — "what else should this
// customer buy?" — for a customer, a basket or cart, a single product
// ("frequently bought together"), a customer with their current cart, or a
// customer segment. It combines a customer's time-decayed history with the
// co-purchase neighbours of a [similarity.Index], personalises the ranking
// with category-affinity vectors, applies business rules, fills gaps from
// popularity fallbacks and explains every result.
//
// # Building an engine
//
//	asOf := h.Latest()
//	counts, _ := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Basket})
//	nb, _ := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine})
//	e, _ := recommend.New(ctx, h, nb, asOf, recommend.Options{})
//	recs, _ := e.Recommend(nil, recommend.Request{Customer: "c42", K: 10})
//
// New follows the seam contract of the root package: the as-of time is
// required, a customer is given by shop key (Request.Customer) or dense id
// (Request.CustomerID with ByID), products by key (Basket) or id (Items).
//
// The index decides which products are neighbours and with what weight;
// Cosine at Basket or Customer scope is the recommended measure (see
// Defaults). A second, directed index (similarity.Sequential: "B bought
// within a window after A") may be given as Options.Sequential.
//
// # Scoring
//
// Anchors are the products a request starts from, each with a weight:
//
//   - a purchase of the customer at or before the request's AsOf weighs
//     2^(−age/HalfLife), summed over repeat purchases (as in SAR); events
//     weigh the same times ViewWeight, CartWeight, WishlistWeight or
//     RatingWeight; at most MaxHistory distinct, most recent products;
//   - a basket product weighs max(1, H/n), H the customer's total history
//     weight and n the basket size: the cart counts as much as the whole
//     history (at most 10¹² times as much, for a customer away for ages).
//
// Scores depend only on the ratios of the weights, so the engine measures
// a customer's ages from their newest purchase or weighted event, and
// scales by 2^(−(AsOf−newest)/HalfLife) only where the sum counts, against
// the basket (see Options.HalfLife). The weights of a request are scaled
// to at most 1 when the largest passes 2²⁰, and none is below 10⁻³⁰, so
// that every sum below stays positive and finite in the scores' float32
// (edges are bounded too, at 10¹⁰: an infinite conviction stays the
// strongest edge).
//
// The co-purchase score of a candidate c is
//
//	s(c) = (1 + support(c))^ρ · Σ_anchors a  weight(a) · edge(a, c)
//	edge(a, c) = (score_nb(a, c) + SequentialWeight · score_seq(a, c))
//	             · lift(a, c)^LiftExponent · (SubstitutePenalty if a and c are substitutes)
//
// where score_nb and score_seq are the measure values of the neighbour
// lists (0 when c is not a neighbour of a), support(c) is the number of
// transactions of c in the main index (a popularity prior; ρ is
// PopularityExponent for a customer with a history and
// BasketPopularityExponent otherwise), and two products are substitutes
// when they share a category at SubstituteDepth.
//
// A learned index (Measure EASE) is used as it is: its weights, negative
// ones included, are the edges; there is no popularity prior, lift tilt or
// substitute penalty (the model has learned them), and each anchor counts
// once, with the weight of its latest purchase, as the model's binary
// rows do. Only candidates with a positive sum are ranked.
// Edge weights are computed once in [New]; a request sums at most MaxEdges
// of them, each anchor using its strongest edges in proportion to its
// weight. The co-purchase score is then interpolated with the shop's
// recency-weighted popularity (Jelinek–Mercer smoothing), the most popular
// products joining the candidates:
//
//	s'(c) = (1−λ)·s(c)/max s + λ·pop(c)/max pop,   λ = PopularityBlend (BasketPopularityBlend without a customer history)
//
// where max s is over every product the anchors reach (also those the
// request cannot get: bought, excluded, out of stock), max pop over every
// product but non-merchandise (Options.Exclude, whose popularity is 0),
// and the most popular products join the candidates, as many as
// the request keeps (K, or 2·K and at least 20 when re-ranked, every
// candidate under a category cap or a boost), those it can get.
//
// With a known customer the top candidates (2·K, at least 20; every one
// under a category cap or a boost) are
// re-ranked by
//
//	final(c) = (1−β)·s'(c)/max s' + β·cos(u, v_c),   β = Personalization
//
// u being the customer's category-affinity vector (their anchors' category
// shares at ProfileDepth, anchor-weighted) and v_c the candidate's
// buyer-category profile (the summed category vectors of everyone who
// bought c), compared with gonum's blas32. Boosts then multiply final(c).
// Ties are broken by product id everywhere, so the same request always
// gets the same answer. Where β·cos(u, v_c) is the larger part of
// final(c), the taste placed the result more than its co-purchases did,
// and its first reason says so ([Taste]: "bought by Sportswear shoppers
// like you", the profile category where u and v_c meet most, which need
// not be the result's own), before the co-purchases; on the demo store
// about half of the co-purchase results of a known customer have one. A
// result without co-purchase evidence above chance is labelled [Popular]
// whatever its taste.
//
// # Complements, not substitutes
//
// Basket and product requests never offer a product sharing a category
// (at SubstituteDepth) with a basket product — no second pair of the same
// running shoes — unless Rules.AllowSubstitutes. Customer requests
// penalise substitute edges by SubstitutePenalty instead of dropping them,
// since a customer who bought shoes a year ago may well want new ones.
// Directional evidence comes from Options.Sequential.
//
// # Repeat purchases
//
// Products the customer bought (and, for rating data, rated) are excluded
// unless Rules.AllowRepeats. A product in a category listed in
// Options.Consumables becomes eligible again once its interval has passed
// since its last purchase; it is then offered as a Rebuy with score 1 (the
// strength of the best complement), scaled as every explore score is in
// next-basket mode: 1 − RepeatWeight there.
//
// # Rules and fallbacks
//
// Results are in stock (the set swapped by [Engine.SetStock]), inside the
// price band (a product without a price is outside any), not excluded, in
// Rules.Only and under Rules.Category when they are given, at most
// Rules.MaxPerCategory per category, optionally diversified by MMR. Every
// rule applies before the top K are chosen, on every path. When the co-purchase evidence yields fewer
// than K results the rest comes from the fallbacks, in order: the
// favourites of the customer's segment (Request.Segment, else the first of
// Options.Segments containing the customer; favourites are ranked by
// recency-weighted popularity in the segment times √lift over the shop),
// then the shop's recency-weighted popular products (PopularHalfLife).
// Every [Rec] says its [Source]; a request returns K results whenever the
// catalog has K eligible products (within the caps of
// Rules.MaxPerCategory).
//
// # Explanations
//
// Every co-purchase result carries up to MaxReasons [Reason]s — the anchors
// that contributed most, with the co-count, the measure value and the lift
// — stored inside the Rec without allocating. A pair bought together less
// often than chance (lift below 1) is never a reason; a result left
// without reasons was placed by popularity and says so (Source Popular).
// [Rec.Explain] formats them: "bought together with Running Shoes by 124
// customers — 3.2× more often than chance", the factor only where the
// co-count makes it credible ([CredibleLift]): "bought together with
// Running Shoes in 2 orders" for a lift of 1.1 on two orders.
//
// # Non-merchandise
//
// Options.Exclude lists products — postage, fees, manual adjustments,
// vouchers — that are never recommended, never anchors and never reasons,
// and are no evidence anywhere: they have no popularity (nor count in the
// maximum and total the others are scaled by), no place in a buyer's
// category vector nor among the profile dimensions, none in a segment's
// favourites or the next-basket model; an order of them alone is no
// purchase (nor the start of a history) and an event on one is no
// anchor (nor the time a history's weights decay from). The same orders
// with and without a postage line each get the same results and scores.
//
// # Next basket
//
// With Options.NextBasket the customer's own products come back, ranked
// by a time-decayed frequency times the product's repeat propensity, its
// trend and its current demand over the shop (the season's goods come
// back in season), and blended with the explore items (see
// [NextBasket]); [RepeatShare]
// measures how much of a shop's next orders are repeats, to decide
// whether to turn it on. [Tune] chooses the model and options for a shop
// on a validation window held out at the end of its own data.
//
// # Models
//
// The engine scores with any [similarity.Index]: co-occurrence neighbours
// or a learned model such as EASE. No one model is best for every shop:
// on Online Retail's new items and on a MovieLens-shaped store EASE
// within customers ranks above cosine within orders, on Groceries and on
// the demo store below it. [Choose] therefore decides on the shop's own
// last four weeks ([AutoGrid]: the two models at three half-lives, EASE
// only when significantly better), and
// package shop does so when a shop opens unless told otherwise. [ModelFor]
// gives the model for the shape of the data without validation — cosine
// within orders for purchases, EASE within customers for rating data,
// where ratings also do not decay and a learned model's rows are summed
// whole, over every rating, by default — the choice where there is
// nothing to validate on.
//
// # Defaults
//
// The defaults were measured with examples/evaluate (K = 10, NDCG@10)
// on three data sets and chosen to improve all three, never one alone:
// Online Retail 2010-2011 with a temporal split (explore items),
// Groceries with one item of a quarter of the baskets held out, and a
// MovieLens-100k-shaped synthetic store with a random split per customer
// and training items excluded; basket requests were checked on Groceries
// (a held-out item of each test basket, TestGroceriesNotWorseThanPopular)
// and the planted complements of the synthetic store (TestPlantedRecall).
// Against the earlier defaults (prior 0.75, blend 0.2, substitute penalty
// 0.5, personalisation 0.2) explore NDCG@10 went from 0.062 to 0.088 on
// Online Retail (popular: 0.026), 0.203 to 0.212 on Groceries (popular
// 0.194) and 0.223 to 0.256 on the MovieLens shape (popular 0.194).
//
//   - PopularityExponent 0.25, PopularityBlend 0 for customers with a
//     history: their anchors carry enough evidence; 0.5 and 0.75 and a
//     blend of 0.1–0.2 each scored lower on all three data sets.
//   - BasketPopularityExponent 0.75, BasketPopularityBlend 0.2 for carts,
//     product pages and anonymous visitors: with a few anchors the prior
//     decides; on Groceries basket requests 0.25 without a blend finds
//     the held-out item 0.77× as often as the popular list, 0.75 with
//     the blend 0.95×.
//   - SubstitutePenalty 1 (off) for customer requests: 0.5 cost 10 % on
//     Online Retail and 2 % on the MovieLens shape. Basket and product
//     requests still exclude substitutes of the basket's products.
//   - Personalization 0.4 at ProfileDepth 2 (at most MaxProfileDims = 32
//     categories): 0.4 beat 0 and 0.2 on all three.
//   - HalfLife 30 days (SAR's default): best on the temporal split (90
//     days: −3 %); random splits, which have no recency, prefer no decay
//     ([Tune] tries both). Ratings do not decay by default: a rating's
//     time is when it was entered.
//   - MaxEdges 500: bounds the work per request (100k products, 50-item
//     history: about 20 µs). A learned model's rows are summed whole.
//   - LiftExponent 0: a lift tilt favours niche pairs and cost recall on
//     real data; raise it (0.25–0.5) for "surprising" cross-sell.
//   - SequentialWeight 0.5: ordered evidence adds to, but does not
//     dominate, co-purchase evidence.
//   - PopularHalfLife 90 days: popularity fallbacks follow the season.
//   - Event weights view 0.1, cart 0.3, wishlist 0.3, rating 1.
//
// # Concurrency
//
// An Engine is immutable after [New] apart from its stock set, which
// [Engine.SetStock] replaces atomically (an atomic.Pointer to a dense
// bitset); requests in flight keep the set they started with. All methods
// are safe for concurrent use. Each request borrows its scratch memory
// (dense score arrays reset through touched lists) from a sync.Pool, so a
// request allocates nothing when dst has room for K results (but for an
// ad-hoc Request.Segment's favourites). A request that panics does not
// return its scratch to the pool, so no later request sees its state.
// [Engine.RecommendAll] runs on Options.Workers goroutines (through the
// shared worker loop) that end before it returns.
package recommend
