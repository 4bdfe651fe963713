package segment

import (
	"fmt"
	"math"
	"time"

	"github.com/shopaffinity/affinity"
)

// ScoreRFM sets R, F, M and RFM of every element of fs as [Build] scores
// the customers of an index built as of asOf with opts that knows exactly
// the customers of fs: the scored customers are those with Frequency > 0,
// ranked by Recency, Frequency and Monetary into quintiles (see the
// package documentation), and each gets the first rule of opts.RFMRules
// that matches; the others get 0 scores and no segment. The other fields
// of fs are read, not changed.
//
// It is the population step of a distributed build: workers compute each
// customer's features on their shard of customers (with Build on a
// History of the shard, whose per-customer features do not depend on the
// other customers, and [Index.FeaturesOf]), and one step scores them all.
// It takes O(n log n) time. It returns an error wrapping [ErrInvalid] for
// a zero asOf (also matching [affinity.ErrNoAsOf]), invalid options, a Frequency beyond math.MaxInt32 (an index counts
// orders in 32 bits), a negative Recency (none) with a positive
// Frequency, and for [RFMNTile], whose ties are broken by the time of
// the last purchase, which Features do not hold.
func ScoreRFM(fs []Features, asOf time.Time, opts Options) error {
	if err := affinity.CheckAsOf("segment", asOf, ErrInvalid); err != nil {
		return err
	}
	lookDays, _ := lookWindow(opts.Lookback, asOf.Unix())
	o, err := opts.withDefaults(lookDays)
	if err != nil {
		return err
	}
	if o.RFMScoring != RFMRank {
		return fmt.Errorf("%w: ScoreRFM scores by rank only, not %v", ErrInvalid, o.RFMScoring)
	}
	n := len(fs)
	b := &builder{nc: n, opts: o, custArrays: custArrays{recency: make([]int32, n), freq: make([]int32, n), monetary: make([]int64, n)}}
	var scored []uint32
	for i, f := range fs {
		if f.Frequency > math.MaxInt32 || f.Frequency < math.MinInt32 {
			return fmt.Errorf("%w: Features %d: Frequency %d beyond the %d orders a score ranks", ErrInvalid, i, f.Frequency, math.MaxInt32)
		}
		if f.Frequency > 0 && f.Recency < 0 {
			return fmt.Errorf("%w: Features %d: Recency %d with Frequency %d (a customer with orders has a last purchase)", ErrInvalid, i, f.Recency, f.Frequency)
		}
		b.recency[i], b.freq[i], b.monetary[i] = clampDays(int64(f.Recency)), int32(f.Frequency), int64(f.Monetary)
		if f.Frequency > 0 {
			scored = append(scored, uint32(i))
		}
	}
	r, f, m := b.rfmScores(scored)
	for i := range fs {
		fs[i].R, fs[i].F, fs[i].M, fs[i].RFM = int(r[i]), int(f[i]), int(m[i]), ""
		if fs[i].Frequency <= 0 {
			continue
		}
		for _, rule := range o.RFMRules {
			if rule.R.contains(fs[i].R) && rule.F.contains(fs[i].F) && rule.M.contains(fs[i].M) {
				fs[i].RFM = rule.Name
				break
			}
		}
	}
	return nil
}
