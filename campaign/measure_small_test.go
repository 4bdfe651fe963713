package campaign_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSplit is one outcome of an A/A test: nt treated customers of whom
// kt bought one 20.00 item in the period, nc held out of whom kc did.
type smallSplit struct{ nt, kt, nc, kc int }

func (s smallSplit) name() string { return fmt.Sprintf("%dv%d-%d-%d", s.nt, s.nc, s.kt, s.kc) }

// measureSplits measures every split as a campaign of its own, on one
// History, and returns the results by campaign name.
func measureSplits(t *testing.T, splits []smallSplit) map[string]campaign.Result {
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var lines []mLine
	var msgs []campaign.Message
	for _, s := range splits {
		for i := range s.nt + s.nc {
			c := fmt.Sprintf("%s/%d", s.name(), i)
			control := i >= s.nt
			msgs = append(msgs, campaign.Message{Campaign: s.name(), Customer: c, Control: control})
			if (!control && i < s.kt) || (control && i-s.nt < s.kc) {
				lines = append(lines, mLine{cust: c, order: c, prod: "p", t: from.Add(24 * time.Hour), qty: 1, price: affinity.MoneyFromFloat(20)})
			}
		}
	}
	lines = append(lines, mLine{cust: "other", order: "o", prod: "p", t: from.Add(-time.Hour), qty: 1, price: 1})
	res, err := campaign.Measure(context.Background(), mHistory(t, lines), msgs, from, from.AddDate(0, 0, 14), campaign.MeasureOptions{})
	require.NoError(t, err)
	require.Len(t, res, len(splits))
	out := map[string]campaign.Result{}
	for _, r := range res {
		out[r.Campaign] = r
	}
	return out
}

// binom is n choose k.
func binom(n, k int) float64 {
	r := 1.0
	for i := range k {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

// An exact A/A test of small groups: every customer, treated or held out,
// buys one 20.00 item in the period with probability p. The outcome
// depends only on how many of each group bought, so the false-positive
// rate is the binomial-weighted share of significant splits. Both
// groups constant (all treated bought, no control did) is no proof of an
// effect: with two a side it happens one time in eight.
func TestMeasureSmallGroupsAAExact(t *testing.T) {
	var splits []smallSplit
	for nt := 2; nt <= 6; nt++ {
		for nc := 2; nc <= 6; nc++ {
			for kt := range nt + 1 {
				for kc := range nc + 1 {
					splits = append(splits, smallSplit{nt, kt, nc, kc})
				}
			}
		}
	}
	res := measureSplits(t, splits)
	for _, p := range []float64{0.5, 0.3} {
		rate := map[[2]int]float64{}
		for _, s := range splits {
			r := res[s.name()]
			if r.Significant() {
				n, k := s.nt+s.nc, s.kt+s.kc
				rate[[2]int{s.nt, s.nc}] += binom(s.nt, s.kt) * binom(s.nc, s.kc) * math.Pow(p, float64(k)) * math.Pow(1-p, float64(n-k))
			}
			if s.kt == s.nt && s.kc == 0 {
				assert.Greater(t, r.IncrementalCI[1]-r.IncrementalCI[0], 0.0, "%s: constant groups, an interval of width 0", s.name())
			}
		}
		for nt := 2; nt <= 6; nt++ {
			for nc := 2; nc <= 6; nc++ {
				assert.LessOrEqual(t, rate[[2]int{nt, nc}], 0.05, "p = %v: A/A false positives %d treated against %d held out", p, nt, nc)
			}
		}
	}
}

// A clear effect on groups of some dozens is still significant, constant
// groups among them.
func TestMeasureClearEffectSignificant(t *testing.T) {
	splits := []smallSplit{{30, 30, 30, 0}, {50, 40, 50, 10}, {40, 20, 20, 2}}
	res := measureSplits(t, splits)
	for _, s := range splits {
		r := res[s.name()]
		assert.True(t, r.Significant(), "%s: %+v", s.name(), r.IncrementalCI)
		want := (20*float64(s.kt)/float64(s.nt) - 20*float64(s.kc)/float64(s.nc)) * float64(s.nt)
		assert.InDelta(t, want, r.Incremental, 1e-9, s.name())
	}
}
