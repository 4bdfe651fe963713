package evaluate

import (
	"fmt"
	"math"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/confidence"
)

// Items selects which relevant items a metric counts: all of them, only
// those the customer had bought (or rated) in training, or only those new
// to the customer.
type Items int

const (
	// AllItems counts every relevant test item.
	AllItems Items = iota
	// RepeatItems counts the relevant items the customer already had in
	// training: repeat purchases.
	RepeatItems
	// ExploreItems counts the relevant items new to the customer: what
	// cross-sell is about. Test items unknown to the training catalog are
	// explore items.
	ExploreItems

	numItems = 3
)

// valid reports whether it is one of the three selections.
func (it Items) valid() bool { return it >= AllItems && it < numItems }

// String returns "all", "repeat" or "explore".
func (it Items) String() string {
	switch it {
	case AllItems:
		return "all"
	case RepeatItems:
		return "repeat"
	case ExploreItems:
		return "explore"
	}
	return fmt.Sprintf("Items(%d)", int(it))
}

// Metric names one column of a [Report].
type Metric int

// The metrics; see the package documentation for their definitions.
const (
	Precision Metric = iota
	Recall
	NDCG
	MAP
	HitRate
	MRR
	Coverage
	Novelty
)

// DefaultColumns are the columns of [Report.WriteMarkdown] when none are
// given.
var DefaultColumns = []Metric{Precision, Recall, NDCG, MAP, HitRate, Coverage}

// String returns the metric's short name: "precision", "recall", "ndcg",
// "map", "hit", "mrr", "coverage" or "novelty".
func (m Metric) String() string {
	switch m {
	case Precision:
		return "precision"
	case Recall:
		return "recall"
	case NDCG:
		return "ndcg"
	case MAP:
		return "map"
	case HitRate:
		return "hit"
	case MRR:
		return "mrr"
	case Coverage:
		return "coverage"
	case Novelty:
		return "novelty"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// valid reports whether m is one of the named metrics.
func (m Metric) valid() bool { return m >= Precision && m <= Novelty }

// atK reports whether the metric is a cutoff metric, named "name@K".
func (m Metric) atK() bool { return m != Coverage && m != Novelty }

// perCustomer reports whether the metric is a mean of per-customer
// values: those with a standard error, an interval and a paired
// comparison.
func (m Metric) perCustomer() bool { return m >= Precision && m <= MRR }

// ParseMetric returns the metric named s (as [Metric.String] spells it).
func ParseMetric(s string) (Metric, error) {
	for m := Precision; m <= Novelty; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("evaluate: unknown metric %q", s)
}

// Metrics are ranking metrics at a cutoff K, averaged over Users
// customers (except Coverage, which is a share of the catalog, and
// Novelty, averaged over list entries of products with a training
// customer), with the standard errors of the six means over customers.
// All are 0 when Users is 0.
type Metrics struct {
	// Users is the number of customers averaged over: those with at least
	// one relevant item of the selected [Items].
	Users int
	// Precision is hits/K, Recall hits/|R|, NDCG the binary normalised DCG,
	// MAP the mean average precision (denominator per [MAPNorm]), HitRate
	// the share of customers with at least one hit, MRR the mean
	// reciprocal rank of the first hit (0 without a hit).
	Precision, Recall, NDCG, MAP, HitRate, MRR float64
	// Coverage is the share of the training products (those with at least
	// one interaction) found in at least one top-K list.
	Coverage float64
	// Novelty is the mean of -log2(n_p/N) over the list entries whose
	// product p has n_p > 0, where n_p is the number of training customers
	// who interacted with p and N the number of (customer, product) pairs
	// in training; in bits. Entries of products without a training
	// customer are left out (0 when no entry has one).
	Novelty float64
	// StdErr holds the standard errors of the six means over customers;
	// [Metrics.Interval] turns them into 95 % confidence intervals.
	StdErr StdErrs
}

// StdErrs are the standard errors of the per-customer means of a
// [Metrics]: the sample standard deviation of the customers' values
// (n − 1 in the denominator) over √Users, so that the mean ± 1.96
// standard errors is the usual 95 % interval for many customers. They
// are 0 when Users < 2: one customer has no spread to measure.
//
// They measure how much the mean would move on another draw of customers
// from the same shop and period, the customers being independent; they
// do not measure the choice of the split's cutoff or period. The 95 %
// intervals built on them rest on the mean being near normal: at
// hundreds of customers they cover the true mean about 95 % of the time
// (the package's tests simulate it), with a few dozen customers and rare
// hits less (about 91 % at 60 customers and a hit rate of 1/8).
//
// Coverage and Novelty have none: coverage is one share of the catalog
// for all the lists together, not a mean of per-customer values, and
// novelty's entries are not independent draws (a popular product is in
// many lists), so neither has a standard error of this form.
type StdErrs struct {
	Precision, Recall, NDCG, MAP, HitRate, MRR float64
}

// Value returns the standard error of metric's mean, NaN for Coverage,
// Novelty and values outside the named metrics.
func (e StdErrs) Value(metric Metric) float64 {
	if !metric.perCustomer() {
		return math.NaN()
	}
	return [numPerCustomer]float64{Precision: e.Precision, Recall: e.Recall, NDCG: e.NDCG, MAP: e.MAP, HitRate: e.HitRate, MRR: e.MRR}[metric]
}

// Interval returns the 95 % confidence interval of metric's mean over
// the customers: the mean ± t·standard error, t the 97.5 % quantile of
// Student's t distribution with Users − 1 degrees of freedom (1.96 for
// many customers; wider for a few). A metric the same for every customer
// has an interval of width 0. ok is false, and lo = hi = the value, when
// there is no interval: for Coverage and Novelty (see [StdErrs]), for a
// metric outside the named ones, and when Users < 2. The interval need not
// lie in [0, 1].
func (m Metrics) Interval(metric Metric) (lo, hi float64, ok bool) {
	v := m.Value(metric)
	if !metric.perCustomer() {
		return v, v, false
	}
	return confidence.Interval(v, m.StdErr.Value(metric), m.Users)
}

// Value returns the field of m named by metric.
func (m Metrics) Value(metric Metric) float64 {
	switch metric {
	case Precision:
		return m.Precision
	case Recall:
		return m.Recall
	case NDCG:
		return m.NDCG
	case MAP:
		return m.MAP
	case HitRate:
		return m.HitRate
	case MRR:
		return m.MRR
	case Coverage:
		return m.Coverage
	case Novelty:
		return m.Novelty
	}
	return math.NaN()
}

// ListScore holds the metrics of one ranked list against one customer's
// relevant set; see [ScoreList].
type ListScore struct {
	// Precision is hits/k; Recall is hits/|R|.
	Precision, Recall float64
	// NDCG is DCG/IDCG with binary gains and 1/log2(rank+1) discounts;
	// IDCG puts min(k, |R|) hits at the top.
	NDCG float64
	// AP is the sum, over the hit ranks i ≤ k, of precision@i, divided by
	// |R| or min(k, |R|) according to the [MAPNorm].
	AP float64
	// Hit is 1 when the list has at least one hit, else 0.
	Hit float64
	// RR is 1/rank of the first hit, 0 without a hit.
	RR float64
}

// ScoreList scores the first k entries of ranked against the set of
// relevant products (binary relevance; duplicates in relevant are
// ignored). A product listed twice in ranked counts at its first position
// only; a list shorter than k still divides precision by k. An empty
// relevant set gives a zero ListScore. It panics if k < 1.
func ScoreList(ranked, relevant []affinity.ProductID, k int, norm MAPNorm) ListScore {
	if k < 1 {
		panic("evaluate: ScoreList with k < 1")
	}
	rel := make(map[affinity.ProductID]bool, len(relevant))
	for _, p := range relevant {
		rel[p] = true
	}
	if len(rel) == 0 {
		return ListScore{}
	}
	seen := make(map[affinity.ProductID]bool, min(k, len(ranked)))
	var hits int
	var s ListScore
	var dcg float64
	for i, p := range ranked[:min(k, len(ranked))] {
		if seen[p] {
			continue
		}
		seen[p] = true
		if !rel[p] {
			continue
		}
		r := i + 1
		hits++
		dcg += 1 / math.Log2(float64(r+1))
		s.AP += float64(hits) / float64(r)
		if s.RR == 0 {
			s.RR = 1 / float64(r)
		}
	}
	n := len(rel)
	var idcg float64
	for r := 1; r <= min(k, n); r++ {
		idcg += 1 / math.Log2(float64(r+1))
	}
	s.Precision = float64(hits) / float64(k)
	s.Recall = float64(hits) / float64(n)
	s.NDCG = dcg / idcg
	s.AP /= float64(mapDenominator(norm, k, n))
	if hits > 0 {
		s.Hit = 1
	}
	return s
}

func mapDenominator(norm MAPNorm, k, nRel int) int {
	if norm == MAPByMinKRelevant {
		return min(k, nRel)
	}
	return nRel
}

// cutoffs returns the sorted cutoffs to record: 1 … curveK, and k.
func cutoffs(k, curveK int) []int {
	var cs []int
	for j := 1; j <= curveK; j++ {
		cs = append(cs, j)
	}
	if k > curveK {
		cs = append(cs, k)
	}
	return cs
}

// numPerCustomer is the number of per-customer metrics, Precision … MRR.
const numPerCustomer = int(MRR) + 1

// listState is one customer's ranked list at a cutoff: the hits among its
// first entries, the rank of the first hit (0 without one), the DCG and
// the sum of the precisions at the hit ranks.
type listState struct {
	hits, first int
	dcg, ap     float64
}

// values returns the customer's metrics Precision … MRR (indexed by
// [Metric]) for the list at cutoff k and nRel (> 0) relevant items;
// idcg[n] is the DCG of n hits at the top (see [idcgTable]).
func (s listState) values(k, nRel int, norm MAPNorm, idcg []float64) [numPerCustomer]float64 {
	var v [numPerCustomer]float64
	v[Precision] = float64(s.hits) / float64(k)
	v[Recall] = float64(s.hits) / float64(nRel)
	v[NDCG] = s.dcg / idcg[min(k, nRel)]
	v[MAP] = s.ap / float64(mapDenominator(norm, k, nRel))
	if s.hits > 0 {
		v[HitRate] = 1
		v[MRR] = 1 / float64(s.first)
	}
	return v
}

// idcgTable returns idcg[n] = Σ_{i=1..n} 1/log2(i+1) for n = 0 … k.
func idcgTable(k int) []float64 {
	idcg := make([]float64, k+1)
	for i := 1; i <= k; i++ {
		idcg[i] = idcg[i-1] + 1/math.Log2(float64(i+1))
	}
	return idcg
}

// accumulator sums list metrics over users for one [Items] selection.
type accumulator struct {
	cuts    []int
	maxK    int
	users   int
	moments [][numPerCustomer]confidence.Moments // per cutoff
	minRank []int32                              // per product: best rank it was listed at (0 = never)
	novSum  []float64                            // per rank (1-based): sum of entry novelties
	novCnt  []int                                // per rank: entries with a known novelty
	nActive int
	// keep, when not nil, receives each customer's list state at the
	// cutoff keepK, for [Report.Compare].
	keep  *customerScores
	keepK int
}

func newAccumulator(cuts []int, maxK, np int) accumulator {
	return accumulator{
		cuts:    cuts,
		maxK:    maxK,
		moments: make([][numPerCustomer]confidence.Moments, len(cuts)),
		minRank: make([]int32, np),
		novSum:  make([]float64, maxK+1),
		novCnt:  make([]int, maxK+1),
	}
}

// add scores one list: hit[i] tells whether list[i] is relevant, nRel is
// |R| (> 0).
func (a *accumulator) add(list []affinity.ProductID, hit []bool, nRel int, norm MAPNorm, g *ground) {
	a.users++
	a.nActive = g.nActive
	var st listState
	ci := 0
	for r := 1; r <= a.maxK && ci < len(a.cuts); r++ {
		if r <= len(list) {
			p := list[r-1]
			if hit[r-1] {
				st.hits++
				st.dcg += 1 / math.Log2(float64(r+1))
				st.ap += float64(st.hits) / float64(r)
				if st.first == 0 {
					st.first = r
				}
			}
			if !math.IsNaN(g.novelty[p]) {
				if m := a.minRank[p]; m == 0 || int(m) > r {
					a.minRank[p] = int32(r)
				}
				a.novSum[r] += g.novelty[p]
				a.novCnt[r]++
			}
		}
		if a.cuts[ci] != r {
			continue
		}
		for j, v := range st.values(r, nRel, norm, g.idcg) {
			a.moments[ci][j].Add(v)
		}
		if a.keep != nil && r == a.keepK {
			a.keep.add(st)
		}
		ci++
	}
}

// result returns the metrics at k and, when curveK > 0, at 1 … curveK.
func (a *accumulator) result(k, curveK int) (Metrics, []Metrics) {
	// coverage at each rank: products whose best rank is ≤ r
	covAt := make([]int, a.maxK+1)
	for _, m := range a.minRank {
		if m > 0 {
			covAt[m]++
		}
	}
	for r := 1; r <= a.maxK; r++ {
		covAt[r] += covAt[r-1]
	}
	at := func(ci int) Metrics {
		m := Metrics{Users: a.users}
		if a.users == 0 {
			return m
		}
		r := a.cuts[ci]
		s := &a.moments[ci]
		m.Precision, m.Recall, m.NDCG = s[Precision].Mean(), s[Recall].Mean(), s[NDCG].Mean()
		m.MAP, m.HitRate, m.MRR = s[MAP].Mean(), s[HitRate].Mean(), s[MRR].Mean()
		m.StdErr = StdErrs{
			Precision: s[Precision].StdErr(), Recall: s[Recall].StdErr(), NDCG: s[NDCG].StdErr(),
			MAP: s[MAP].StdErr(), HitRate: s[HitRate].StdErr(), MRR: s[MRR].StdErr(),
		}
		if a.nActive > 0 {
			m.Coverage = float64(covAt[r]) / float64(a.nActive)
		}
		var ns float64
		var nc int
		for i := 1; i <= r; i++ {
			ns += a.novSum[i]
			nc += a.novCnt[i]
		}
		if nc > 0 {
			m.Novelty = ns / float64(nc)
		}
		return m
	}
	var curve []Metrics
	for ci, c := range a.cuts {
		if c <= curveK {
			curve = append(curve, at(ci))
		}
	}
	// k is the last cutoff, or one of the curve's
	ki := len(a.cuts) - 1
	if k <= curveK {
		ki = k - 1
	}
	return at(ki), curve
}
