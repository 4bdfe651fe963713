package evaluate

import (
	"errors"
	"fmt"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/confidence"
)

// customerScores hold one [Items] selection's customers' list states at
// the report's K, in the order of the evaluated customers (those of the
// selection only): what [Report.Compare] pairs. A customer costs 20
// bytes; K ≤ [MaxK] fits the counts in 16 bits.
type customerScores struct {
	hits, first []uint16
	dcg, ap     []float64
}

func (s *customerScores) add(st listState) {
	s.hits = append(s.hits, uint16(st.hits))
	s.first = append(s.first, uint16(st.first))
	s.dcg = append(s.dcg, st.dcg)
	s.ap = append(s.ap, st.ap)
}

func (s *customerScores) len() int { return len(s.hits) }

func (s *customerScores) at(i int) listState {
	return listState{hits: int(s.hits[i]), first: int(s.first[i]), dcg: s.dcg[i], ap: s.ap[i]}
}

// Difference is the paired comparison of two rows of a [Report] on one
// metric at K, over the same customers (see [Report.Compare]).
type Difference struct {
	// A and B are the names of the rows compared, Metric and Items what
	// was compared.
	A, B   string
	Metric Metric
	Items  Items
	// Users is the number of customers paired: the evaluated customers
	// with at least one relevant item of Items.
	Users int
	// Mean is the mean over those customers of A's value minus B's: A's
	// metric minus B's (up to rounding in the last digits); 0 when
	// Users is 0.
	Mean float64
	// StdErr is the standard error of Mean: the sample standard deviation
	// of the customers' differences over √Users. It is 0 when Users < 2
	// and when A and B score every customer alike.
	StdErr float64
}

// Interval returns the 95 % confidence interval of the mean difference:
// Mean ± t·StdErr, t the 97.5 % quantile of Student's t distribution with
// Users − 1 degrees of freedom. An interval that excludes 0 says A and B
// differ beyond noise on this metric; two rows that score every customer
// alike get lo = hi = 0. ok is false, and lo = hi = Mean, when Users < 2:
// one customer has no spread to measure.
func (d Difference) Interval() (lo, hi float64, ok bool) {
	return confidence.Interval(d.Mean, d.StdErr, d.Users)
}

// Compare returns the paired difference a − b of the rows named a and b
// on metric at the report's K, for the relevant items selected by items.
// Every row is scored on the same customers and ground truth, so the
// difference is taken customer by customer: what the customers have in
// common (some are easy to predict, some hard) cancels, and the interval
// of the difference is usually much narrower than the rows' own
// intervals ([Metrics.Interval]) suggest; two rows whose intervals
// overlap may still differ beyond noise, and the reverse. It takes time
// linear in the selection's customers.
//
// Only the six means over customers (Precision … MRR) can be compared;
// Coverage and Novelty are an error (see [StdErrs]), as are an unknown
// name, an invalid items, a nil Report (wrapping
// [affinity.ErrNilArgument]) and a Report not returned by [Evaluate] (one
// decoded from JSON, say, has no per-customer scores: [Evaluate] keeps
// them unexported, in memory only). Comparing a row with itself gives a
// difference of 0 with an interval of width 0.
func (r *Report) Compare(a, b string, items Items, metric Metric) (Difference, error) {
	d := Difference{A: a, B: b, Metric: metric, Items: items}
	if r == nil {
		return d, affinity.NilArgument("evaluate", "report")
	}
	if !items.valid() {
		return d, fmt.Errorf("evaluate: invalid Items %d", int(items))
	}
	if !metric.perCustomer() {
		return d, fmt.Errorf("evaluate: compare %v: only the means over customers (precision, recall, ndcg, map, hit, mrr) have a paired difference", metric)
	}
	ra, rb := r.Row(a), r.Row(b)
	switch {
	case ra == nil:
		return d, fmt.Errorf("evaluate: compare: no row named %q", a)
	case rb == nil:
		return d, fmt.Errorf("evaluate: compare: no row named %q", b)
	}
	sa, sb, nRel := &ra.scores[items], &rb.scores[items], r.nRel[items]
	if !r.scored || sa.len() != len(nRel) || sb.len() != len(nRel) {
		return d, errors.New("evaluate: compare: the report has no per-customer scores (only a Report returned by Evaluate has)")
	}
	idcg := idcgTable(r.K)
	var m confidence.Moments
	for i, n := range nRel {
		va := sa.at(i).values(r.K, int(n), r.MAP, idcg)
		vb := sb.at(i).values(r.K, int(n), r.MAP, idcg)
		m.Add(va[metric] - vb[metric])
	}
	d.Users, d.Mean, d.StdErr = m.Len(), m.Mean(), m.StdErr()
	return d, nil
}
