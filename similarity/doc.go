// Package similarity finds which products go together: co-occurrence
// counts from an [affinity.History], the association and similarity
// measures practitioners use, a top-K neighbour index per product, learned
// item-item weights (EASE) and item embeddings from a truncated SVD.
//
// # Pipeline
//
//	h (*affinity.History)
//	  └─ Count(ctx, h, CountOptions{Scope: Basket})   → *Counts  (CSR co-counts + marginals)
//	       └─ NewIndex(ctx, c, IndexOptions{Measure: Lift, MinSupport: 20, Shrinkage: 10})
//	            → *Index: Neighbors(p) = top-K (product, score, raw co-count)
//	  └─ FitEASE(ctx, h, asOf, EASEOptions{...})       → *Index (Measure EASE, signed weights)
//	  └─ NewItemMatrix(ctx, h, ...).BM25(...) → Embed → Embedding.Index → *Index (Measure SVD)
//
// # Scopes
//
// A transaction is what "together" means. [Basket]: an order (anonymous
// orders included); [Customer]: everything one customer bought in the
// counted period; [Sequential]: customer c counts for (a, b) when c bought
// b strictly after a and at most [CountOptions.Window] later — a directed
// relation ("bought a camera, then a memory card"). Only bought lines
// count (returns never do); with [CountOptions.Events], views, carts,
// ratings and wishlists count as interactions too (Customer and
// Sequential). The as-of time given to [Count] and [CountOptions.Lookback] bound the
// counted period explicitly; there is no hidden clock.
//
// A transaction with more than [CountOptions.MaxBasket] distinct products
// (default 100) keeps a deterministic pseudo-random sample of that many:
// the products with the smallest hash of (the transaction's shop ids, the
// product's dense id). Supports are counted on the sample, so every
// measure stays in range, and sharded counts agree with whole ones when
// their product ids are those of one catalog (see [Transaction]).
//
// # Counts
//
// With N transactions, A of them containing a, B containing b and AB
// both (for Sequential: b after a), and pA = A/N, pB = B/N, pAB = AB/N:
//
//	support     pAB                              [0, 1]
//	confidence  P(b|a) = AB/A                    [0, 1]      directional a → b
//	lift        pAB / (pA·pB)                    [0, ∞)      1 = independent
//	leverage    pAB − pA·pB                      [−¼, ¼]
//	conviction  (1 − pB) / (1 − P(b|a))          [0, ∞]      directional a → b
//	PMI         log₂(pAB / (pA·pB))              bits
//	NPMI        PMI / −log₂ pAB                  [−1, 1]
//	cosine      AB / √(A·B)                      [0, 1]      (Ochiai)
//	Jaccard     AB / (A + B − AB)                [0, 1]
//	Dice        2·AB / (A + B)                   [0, 1]
//	overlap     AB / min(A, B)                   [0, 1]
//
// [Measure.Score] evaluates them on a [PairCount]. Raw lift and PMI are
// noise for rare items: [IndexOptions.MinSupport] drops pairs seen
// together fewer times, and [IndexOptions.Shrinkage] λ multiplies every
// score by AB/(AB+λ), pulling scores built on little evidence toward zero.
//
// # Weightings
//
// [ItemMatrix] is the product × transaction matrix with interaction counts
// tf. With P non-empty rows, df(t) products in column t, len(p) the sum of
// row p and avglen its mean:
//
//	TF-IDF  tf · ln(P / df(t))
//	BM25    idf(t) · tf·(K1+1) / (tf + K1·(1 − B + B·len(p)/avglen)),
//	        idf(t) = ln(1 + (P − df(t) + 0.5) / (df(t) + 0.5))
//
// Products play documents and transactions play terms, so a transaction
// with many products weighs little. The [BM25] measure is the dot product
// of two rows of the BM25-weighted binary matrix.
//
// # Vectors and sets
//
// [VecDot], [VecCosine], [VecPearson], [VecAdjustedCosine],
// [VecEuclidean] and [VecWeightedJaccard] compare []float64 vectors (and
// gonum vectors through [OnVectors]); they return an error wrapping
// [ErrLength] for vectors of different lengths and are 0 on zero vectors
// (except VecEuclidean, 1 for two equal vectors). [SetJaccard],
// [SetDice], [SetCosine] and [SetOverlap] compare roaring bitmaps — buyer
// sets, basket sets — from cardinalities only (AndCardinality), never
// building an intersection.
//
// # Learned weights (EASE)
//
// [FitEASE] fits Steck's EASE on the transaction × product matrix X:
// P = (XᵀX + λI)⁻¹ and W[i][j] = −P[i][j]/P[j][j] (i ≠ j); a customer who
// bought the products S scores j by Σ_{i∈S} W[i][j]. Its neighbours are
// signed: each row keeps the K weights of largest magnitude, ordered by
// weight, so the negative ones ("bought i, so not j") come last; K < 0
// keeps them all. Two solvers ([EASESolver]):
//
//	dense   Cholesky of XᵀX + λI (gonum LAPACK)   O(n³) time, 8·n² bytes, exact
//	sparse  incomplete LDLᵀ (fill f per column),  O(n·f²) + O(n·c·f) time, O(n·f) bytes
//	        approximate L⁻¹, P ≈ L⁻ᵀD⁻¹L⁻¹,         weights of the c most co-bought
//	        W on the pairs bought together          products of each product
//
// The default, [EASEAuto], is dense up to [EASEOptions.MaxProducts]
// (5,000) products and sparse beyond. The sparse fit chooses its fill
// itself: it grows it until the factor passes an accuracy check on
// sampled columns ([MaxSparseEASEResidual]), since a factor can be
// inaccurate without breaking down. On leave-one-out splits of synthetic
// shops and on examples/evaluate's MovieLens-shaped split the sparse
// model's recall and NDCG at 10 are within 2 % of the dense model's
// (TestSparseEASEQuality, TestSparseEASEQualityOnEvaluateSplit). Fit
// times on two shared cores (CPU time, counting included, 10 customers
// per product): dense 1.2 s at 2,000 products, 18 s at 5,000 and 173 s
// at 10,000; sparse 0.2 s, 0.6 s, 3.2 s at 20,000 and 20 s at 100,000
// (BenchmarkFitEASE, BenchmarkFitSparseEASE), all at the first fill.
// Online Retail's 3,500 products, each bought with many others, need a
// fill of 384 to 512: 2.5–3.8 s wall-clock.
//
// # Counting at scale
//
// [Count] builds the transactions and a product → transactions index
// once, then counts one anchor row at a time: for product a it walks a's
// transactions and adds each co-occurring product into a dense per-worker
// counter, and emits the row sorted — from a list of the touched entries
// for sparse rows, by a scan of the counters for dense ones (whose inner
// loop is then a bare increment). Rows are handed out in blocks of 64 to
// the workers, written into per-worker arenas and never merged or copied;
// each block is a partial count, and the matrix is their sum — the same
// sum [Sum] computes over counts of disjoint customer shards. The work is
// Σ over transactions of (products per transaction)², which
// [CountOptions.MaxBasket] bounds. [NewIndex] then scores each row and
// keeps its K best with a threshold buffer over packed (score, id) keys.
//
// A refresh of a History ([affinity.NewBuilder]) need not count and
// index again: [Recount] reads only the changed customers' baskets and
// counts again only the rows of their products, sharing the other rows,
// and [Reindex] selects again only those rows, merges the lists that
// hold a product whose support moved from their previous entries, and
// copies the others. Both give exactly what [Count] and [NewIndex] give.
//
// Measured on 2 shared cores (see the benchmarks): 10 M lines of 1 M
// customers and 100 k products count and index (top 50 by lift) in
// 2–6 s per scope, with 210–310 MB of counts and index; data of MovieLens
// 100k's shape (943 customers, 1,682 products, 100 k interactions,
// customer scope, top 50 by Jaccard) in 25–30 ms when both cores are
// free (55–60 ms of CPU time).
//
// # Concurrency
//
// [Counts], [Index], [ItemMatrix] and [Embedding] are immutable once
// returned and safe for any number of concurrent readers; slices they
// return are theirs and must not be modified. The functions that build
// them take a ctx, use the number of goroutines their options say
// (default GOMAXPROCS), return ctx.Err() when it is done, and leave no
// goroutine behind. The measure functions are pure and do not allocate.
//
// # Persistence
//
// [Index.WriteTo] writes a versioned, CRC-32C-checksummed binary encoding;
// [ReadIndex] validates every field and returns [ErrCorrupt] or
// [ErrVersion] rather than a partial index. Product ids in an index are
// the dense ids of the History it was built from.
package similarity
