package segment

import (
	"math/rand/v2"
	"testing"
)

// TestRankScoresSparseValues checks the tie-sharing RFM scores, 1 +
// ⌊5·L/N⌋ with L the customers with a strictly worse value, against a
// quadratic count, for values the scores count in an array and for values
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
		for _, c := range scored {
			var worseR, worseF int64
			for _, o := range scored {
				if b.recency[o] > b.recency[c] {
					worseR++
				}
				if b.freq[o] < b.freq[c] {
					worseF++
				}
			}
			N := int64(len(scored))
			if want := uint8(1 + 5*worseR/N); r[c] != want {
				t.Fatalf("round %d: R of %d (recency %d) = %d, want %d", round, c, b.recency[c], r[c], want)
			}
			if want := uint8(1 + 5*worseF/N); f[c] != want {
				t.Fatalf("round %d: F of %d (frequency %d) = %d, want %d", round, c, b.freq[c], f[c], want)
			}
		}
	}
}
