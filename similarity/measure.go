package similarity

import (
	"fmt"
	"math"
	"strings"
)

// Measure is an item-item association or similarity measure. The numeric
// values are stable: they are part of the [Index] encoding. The zero value
// is [Jaccard].
//
// The measures that are functions of four counts are defined on a
// [PairCount]: N transactions (baskets, customers), A of them with product
// a, B with product b, AB with both (for sequential counts: with b after
// a). With pA = A/N, pB = B/N and pAB = AB/N, [Measure.Score] computes the
// textbook definitions given on each constant.
type Measure int

const (
	// Jaccard is |a∩b| / |a∪b| = AB / (A + B − AB), in [0, 1]; symmetric.
	Jaccard Measure = iota
	// Cosine (Ochiai) is AB / √(A·B), in [0, 1]; symmetric.
	Cosine
	// Lift is P(a,b) / (P(a)·P(b)) = AB·N / (A·B), in [0, ∞), 1 when a and b
	// are independent; symmetric. Raw lift is noise for rare items: use a
	// minimum support and shrinkage ([IndexOptions]).
	Lift
	// Confidence is P(b|a) = AB / A, in [0, 1]; directional (a → b).
	Confidence
	// NPMI is the normalised pointwise mutual information
	// PMI / −log₂ P(a,b), in [−1, 1]: −1 for never together, 0 for
	// independent, 1 for always together (Bouma 2009); symmetric. It is 1
	// when P(a,b) = 1.
	NPMI
	// PMI is the pointwise mutual information log₂(P(a,b) / (P(a)·P(b))) =
	// log₂ Lift, in bits, in [−∞, −log₂ max(pA, pB)]; −∞ when AB = 0;
	// symmetric.
	PMI
	// Leverage (Piatetsky-Shapiro) is P(a,b) − P(a)·P(b), in [−0.25, 0.25]
	// (in [−1, 0.25] for directed counts); symmetric.
	Leverage
	// Conviction is (1 − P(b)) / (1 − P(b|a)), in [0, ∞]: 1 for independent,
	// +∞ when every transaction with a also has b (Brin et al. 1997);
	// directional (a → b).
	Conviction
	// Support is P(a,b) = AB / N, in [0, 1]; symmetric.
	Support
	// Dice (Sørensen) is 2·AB / (A + B), in [0, 1]; symmetric.
	Dice
	// Overlap (Szymkiewicz–Simpson) is AB / min(A, B), in [0, 1];
	// symmetric.
	Overlap
	// BM25 is the dot product of two products' rows of the BM25-weighted
	// product × transaction matrix ([ItemMatrix.BM25] with binary term
	// frequencies): Σ over shared transactions t of w(a,t)·w(b,t), where
	// w(p,t) = idf(t)·(K1+1) / (1 + K1·(1 − B + B·A/avgA)), A the support of
	// p, avgA the mean support of the products with any, and
	// idf(t) = ln(1 + (P − |t| + 0.5)/(|t| + 0.5)) with P those products and
	// |t| the number of products in t. Transactions with many products
	// count less, popular products are damped. It needs the transactions,
	// not just four counts: [Measure.Score] returns NaN; [NewIndex]
	// computes it. Symmetric.
	BM25
	// EASE marks an [Index] of learned item-item weights ([FitEASE]).
	EASE
	// SVD marks an [Index] of cosine similarities of item embeddings
	// ([Embedding.Index]).
	SVD
	numMeasures
)

var measureNames = [numMeasures]string{
	Jaccard: "jaccard", Cosine: "cosine", Lift: "lift", Confidence: "confidence",
	NPMI: "npmi", PMI: "pmi", Leverage: "leverage", Conviction: "conviction",
	Support: "support", Dice: "dice", Overlap: "overlap", BM25: "bm25",
	EASE: "ease", SVD: "svd",
}

// String returns the lower-case name of m ("jaccard", "lift", "npmi", ...),
// or "Measure(n)" for an undefined value.
func (m Measure) String() string {
	if m.Valid() {
		return measureNames[m]
	}
	return fmt.Sprintf("Measure(%d)", int(m))
}

// Valid reports whether m is one of the defined measures.
func (m Measure) Valid() bool { return m >= 0 && m < numMeasures }

// Directed reports whether m(a, b) and m(b, a) may differ for symmetric
// counts: true for [Confidence], [Conviction] and [EASE].
func (m Measure) Directed() bool { return m == Confidence || m == Conviction || m == EASE }

// ParseMeasure returns the measure named s (as printed by
// [Measure.String], case-insensitive).
func ParseMeasure(s string) (Measure, error) {
	for m, name := range measureNames {
		if strings.EqualFold(s, name) {
			return Measure(m), nil
		}
	}
	return 0, fmt.Errorf("similarity: unknown measure %q", s)
}

// PairCount holds the counts of a product pair in a population of N
// transactions: A contain a, B contain b, AB contain both (for directed,
// sequential counts: b after a). Counts are consistent when
// 0 ≤ AB ≤ min(A, B) and max(A, B) ≤ N. Undirected counts also have
// A + B − AB ≤ N; directed ones need not (a customer with a and b, but b
// not after a, is in A and B and not in AB), which only widens the range of
// [Leverage] to [−1, 0.25].
type PairCount struct {
	N, A, B, AB int
}

// Consistent reports whether the counts can come from a real population.
func (c PairCount) Consistent() bool {
	return c.AB >= 0 && c.AB <= c.A && c.AB <= c.B && c.A <= c.N && c.B <= c.N
}

// Score returns m for the counts c, with the definitions on the [Measure]
// constants. A measure whose denominator is zero (A = 0, B = 0 or N = 0)
// is 0, except PMI (−∞ when AB = 0) and NPMI (−1 when AB = 0). It returns
// NaN for inconsistent counts and for the measures that four counts do not
// determine ([BM25], [EASE], [SVD]). It takes O(1) time and does not
// allocate.
func (m Measure) Score(c PairCount) float64 {
	if !c.Consistent() {
		return math.NaN()
	}
	return score(m, float64(c.N), float64(c.A), float64(c.B), float64(c.AB))
}

// score computes m from consistent counts.
func score(m Measure, n, a, b, ab float64) float64 {
	switch m {
	case Jaccard:
		if u := a + b - ab; u > 0 {
			return ab / u
		}
		return 0
	case Cosine:
		if a > 0 && b > 0 {
			return min(ab/math.Sqrt(a*b), 1)
		}
		return 0
	case Lift:
		if a > 0 && b > 0 {
			return ab * n / (a * b)
		}
		return 0
	case Confidence:
		if a > 0 {
			return ab / a
		}
		return 0
	case NPMI:
		if ab == 0 {
			return -1
		}
		if ab == n {
			return 1
		}
		return max(-1, min(1, math.Log2(ab*n/(a*b))/-math.Log2(ab/n)))
	case PMI:
		if ab == 0 {
			return math.Inf(-1)
		}
		return math.Log2(ab * n / (a * b))
	case Leverage:
		if n > 0 {
			return ab/n - (a/n)*(b/n)
		}
		return 0
	case Conviction:
		if a == 0 {
			return 0
		}
		if ab == a {
			return math.Inf(1)
		}
		return (1 - b/n) / (1 - ab/a)
	case Support:
		if n > 0 {
			return ab / n
		}
		return 0
	case Dice:
		if a+b > 0 {
			return 2 * ab / (a + b)
		}
		return 0
	case Overlap:
		if m := min(a, b); m > 0 {
			return ab / m
		}
		return 0
	}
	return math.NaN()
}

// fromCounts reports whether m is a function of a [PairCount].
func fromCounts(m Measure) bool { return m >= Jaccard && m <= Overlap }

// Shrink returns score·ab/(ab+λ): the shrinkage toward zero that [Index]
// applies with [IndexOptions.Shrinkage] = λ, so that a score resting on few
// co-occurrences counts less. λ ≤ 0 returns score unchanged. With λ > 0 a
// pair never seen together (ab = 0) rests on no evidence and gets 0,
// whatever its score — PMI's −∞ included, which times 0 would be NaN —
// but NaN (the score of inconsistent counts) stays NaN.
func Shrink(score float64, ab int, lambda float64) float64 {
	if lambda <= 0 {
		return score
	}
	if ab == 0 && score == score {
		return 0
	}
	return score * float64(ab) / (float64(ab) + lambda)
}
