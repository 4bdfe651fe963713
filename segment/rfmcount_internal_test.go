package segment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRankScoresSparseValues checks the tie-sharing RFM scores, 1 +
// ⌊5·L/N⌋ with L the customers with a strictly worse value and the ends
// of the scale anchored, against a quadratic count, for values the scores count in an array and for values
// too large and sparse for one (a customer with millions of orders), which
// are sorted instead.
func TestRankScoresSparseValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 200 {
		n := 1 + rng.IntN(300)
		b := &builder{nc: n, opts: Options{RFMScoring: RFMRank},
			custArrays: custArrays{recency: make([]int32, n), freq: make([]int32, n), monetary: make([]int64, n)}}
		scale := int32(20)
		if round%2 == 1 {
			scale = 1 << 30
		}
		scored := make([]uint32, 0, n)
		for c := range n {
			b.recency[c] = rng.Int32N(scale)
			b.freq[c] = 1 + rng.Int32N(scale)
			if rng.IntN(4) == 0 && c > 0 { // ties
				b.recency[c], b.freq[c] = b.recency[c-1], b.freq[c-1]
			}
			b.monetary[c] = rng.Int64N(1000)
			if rng.IntN(5) > 0 {
				scored = append(scored, uint32(c))
			}
		}
		r, f, _ := b.rfmScores(scored)
		// the documented SQL form: 3 when all values are equal, 5 for the
		// best, else 1 + 5·(RANK() − 1)/N with the values worst first
		N := int64(len(scored))
		check := func(what string, got []uint8, key func(c uint32) int64) { // a larger key is better
			lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
			for _, c := range scored {
				lo, hi = min(lo, key(c)), max(hi, key(c))
			}
			for _, c := range scored {
				want := uint8(3)
				if lo < hi {
					want = 5
					if key(c) < hi {
						var below int64 // RANK() − 1
						for _, o := range scored {
							below += int64(boolInt(key(o) < key(c)))
						}
						want = uint8(1 + 5*below/N)
					}
				}
				if got[c] != want {
					t.Fatalf("round %d: %s of %d (value %d) = %d, want %d", round, what, c, key(c), got[c], want)
				}
			}
		}
		check("R", r, func(c uint32) int64 { return -int64(b.recency[c]) })
		check("F", f, func(c uint32) int64 { return int64(b.freq[c]) })
	}
}
