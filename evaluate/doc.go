// Package evaluate measures recommenders offline: it splits a purchase
// history into training and test data, fits each [Recommender] on the
// training side, asks it for a top-K list per test customer, and scores
// the lists against what the customer actually bought (or rated) in the
// test period. Protocols and metric definitions follow those of public
// recommender benchmarks (microsoft/recommenders' python_evaluation), so
// that our numbers can be set beside published tables.
//
// # Splits
//
// A [Split] holds two Histories, Train and Test, built with
// [affinity.Builder]; both carry the source's whole catalog (same product
// ids), and customers are matched between them by shop key.
//
//   - [TemporalSplit]: everything before a cutoff trains, the rest tests;
//     [DefaultCutoff] puts about the last fifth of customer orders in test.
//   - [LastOrderSplit]: each customer's last order is held out
//     (next-basket).
//   - [ChronoSplit]: the first Ratio of each customer's interactions, in
//     time order, train.
//   - [StratifiedSplit]: a seeded random Ratio of each customer's (or each
//     product's) interactions train.
//   - [LeaveOneOutSplit]: basket completion for data without customers or
//     time — one random item of a share of the baskets is held out.
//   - [LoadSplit]: a ready split from two files (e.g. MovieLens u.data).
//
// # Ground truth
//
// A product is relevant to a test customer when the customer bought it
// (a line with positive quantity) in the test History or has an event of
// one of [Options.Events] (ratings by default, of any value unless
// [Options.MinRating] is set) — binary relevance. A test product missing
// from the training catalog stays relevant (it counts in |R|) but can
// never be hit. The evaluated customers are the test customers with at
// least one relevant item who are customers of the training History; the
// others are cold-start customers, counted in [Report.ColdUsers] and
// skipped, as in microsoft/recommenders, whose metrics average over the
// users common to the test set and the predictions. Every evaluated
// customer counts, also when a recommender returns an empty list.
//
// With [Options.ExcludeSeen], the products a customer bought or rated in
// training are excluded from their list ("remove seen", the protocol of
// rating benchmarks such as MovieLens). Shops want repeat purchases, so it
// is off by default.
//
// # Repeat and explore
//
// Each metric is reported three times ([Items]): for all relevant items,
// for the relevant items the customer already had in training
// ([RepeatItems]) and for those new to them ([ExploreItems]). The ranked
// list is the same; only the relevant set R changes, and each selection
// averages over the customers with at least one relevant item in it.
// Repeat-purchase baselines dominate next-basket benchmarks; cross-sell is
// about the explore numbers.
//
// # Metrics
//
// For a customer with relevant set R (|R| ≥ 1) and ranked list L (at most
// K distinct products), with hit(i) = 1 when L[i] ∈ R (ranks from 1):
//
//	precision@K = Σ_{i≤K} hit(i) / K            (K, even when |L| < K or |R| < K)
//	recall@K    = Σ_{i≤K} hit(i) / |R|
//	ndcg@K      = DCG / IDCG, DCG = Σ_{i≤K} hit(i)/log2(i+1),
//	              IDCG = Σ_{i≤min(K,|R|)} 1/log2(i+1)
//	AP@K        = Σ_{i≤K} hit(i)·precision@i / |R|   ([MAPByRelevant], default)
//	            or the same sum / min(K, |R|)        ([MAPByMinKRelevant])
//	hit@K       = 1 if some i ≤ K has hit(i), else 0
//	RR@K        = 1/(first i with hit(i)), 0 without a hit
//
// and precision, recall, ndcg, map (the mean of AP@K), hit rate and mrr
// are averages over the evaluated customers. The log base of the
// discounts cancels out in NDCG. Dividing AP by |R| is what
// microsoft/recommenders' `map` does and what its `map_at_k` did when its
// MovieLens benchmark tables were published; its current `map_at_k` (and
// Spark's meanAveragePrecisionAt) divide by min(K, |R|).
//
// Two list-level metrics describe the recommendations rather than their
// accuracy: coverage is the share of the training products (those with at
// least one interaction) that appear in at least one customer's top-K
// list; novelty is the mean of −log2(n_p / N) over the list entries whose
// product p has at least one training customer, with n_p the number of
// training customers who bought or rated p and N the number of distinct
// (customer, product) pairs in training (microsoft/recommenders' novelty,
// in bits); an entry whose product no training customer interacted with
// has no novelty (n_p = 0) and is left out of the mean.
//
// # Uncertainty
//
// A mean over a thousand customers is not exact: another thousand from
// the same shop would give another. Each of the six means over customers
// (precision, recall, ndcg, map, hit rate, mrr) carries its standard
// error, at K and at each point of the curve ([Metrics.StdErr]), and
// [Metrics.Interval] gives its 95 % confidence interval. To tell whether
// one recommender beats another beyond noise, compare them on the same
// customers: [Report.Compare] returns the mean per-customer difference of
// a metric at K with its standard error and 95 % interval ([Difference]).
// Paired differences are far more precise than the two rows' intervals
// side by side, since most of a metric's spread is between customers
// (some are easy to predict, all recommenders do well on them), which the
// pairing cancels. Coverage and novelty are not means over customers and
// have neither (see [StdErrs]).
//
// # Baselines
//
// Every report should carry the baselines, under reserved names so that
// they are never mistaken for real recommenders: "popular" ([Popular]),
// "segment-popular" ([SegmentPopular]), "repeat" ([Repeat], the customer's
// own most frequent items) and "random" ([Random], seeded). [Evaluate]
// refuses any other recommender whose name contains "popular", "repeat" or
// "random".
//
// # Recommenders
//
// Adapters wrap the library's models as Recommenders: [ItemNeighbors] ranks
// by the customer's items × item-neighbour scores of a similarity measure
// (SAR-style, optionally time-decayed), [EASE] by the learned item-item
// model, and [Engine] is the recommend engine with its defaults.
// [TIFUKNN] is a reference next-basket method from the literature (Hu et
// al. 2020), for comparison with the engine's next-basket mode: each
// customer's time-decayed item frequencies blended with their nearest
// customers'.
//
// # Reports
//
// [Report.WriteMarkdown] writes a deterministic markdown table (one row per
// recommender, one column per metric, means only: the standard errors are
// in the rows, see Uncertainty); [Report.WriteChart] draws metric@K
// for K = 1 … [Options.CurveK] as a small PNG line chart (with
// gonum.org/v1/plot). Asking for a chart does not change the table: its
// metrics at K are those of K-product lists, as a recommender's first K
// of a longer list need not be its K (the engine re-ranks max(2K, 20)
// candidates).
//
// # Concurrency
//
// Splits and Reports are immutable once returned and safe for concurrent
// readers. [Evaluate] fits and runs up to Options.Workers recommenders at
// the same time, each on one goroutine (its Fit, then its Recommend
// calls); rows come back in the order given, whatever finishes first, and
// Options.Progress hears how many customers have been evaluated. A
// Recommender value must not be used by two evaluations at once, nor
// share mutable state with another recommender of the same evaluation.
package evaluate
