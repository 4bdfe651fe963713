package evaluate_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/evaluate"
)

const (
	a, b, c, d, e, f = affinity.ProductID(0), affinity.ProductID(1), affinity.ProductID(2), affinity.ProductID(3), affinity.ProductID(4), affinity.ProductID(5)
)

// Discounts by hand: 1/log2(2) = 1, 1/log2(3) = 0.630930, 1/log2(4) = 0.5,
// 1/log2(5) = 0.430677, 1/log2(6) = 0.386853.
func TestScoreListHandComputed(t *testing.T) {
	tests := []struct {
		name     string
		ranked   []affinity.ProductID
		relevant []affinity.ProductID
		k        int
		norm     evaluate.MAPNorm
		want     evaluate.ListScore
	}{
		{
			// hits at ranks 2 and 4 of 5; |R| = 3.
			// precision = 2/5; recall = 2/3
			// DCG = 0.630930 + 0.430677 = 1.061607; IDCG(3) = 1 + 0.630930 + 0.5 = 2.130930
			// NDCG = 0.498189; AP = (1/2 + 2/4) / 3 = 0.333333; RR = 1/2
			name: "two hits", ranked: []affinity.ProductID{a, b, c, d, e}, relevant: []affinity.ProductID{b, d, f}, k: 5,
			want: evaluate.ListScore{Precision: 0.4, Recall: 0.666667, NDCG: 0.498189, AP: 0.333333, Hit: 1, RR: 0.5},
		},
		{
			// k = 2 cuts the list to [a, b]: one hit at rank 2; |R| = 3.
			// precision = 1/2; recall = 1/3; DCG = 0.630930; IDCG(min(2,3)) = 1.630930
			// NDCG = 0.386853; AP by |R| = (1/2)/3 = 0.166667; RR = 1/2
			name: "cutoff", ranked: []affinity.ProductID{a, b, c, d, e}, relevant: []affinity.ProductID{b, d, f}, k: 2,
			want: evaluate.ListScore{Precision: 0.5, Recall: 0.333333, NDCG: 0.386853, AP: 0.166667, Hit: 1, RR: 0.5},
		},
		{
			// same, AP divided by min(k, |R|) = 2: (1/2)/2 = 0.25
			name: "cutoff min(k,R)", ranked: []affinity.ProductID{a, b, c, d, e}, relevant: []affinity.ProductID{b, d, f}, k: 2, norm: evaluate.MAPByMinKRelevant,
			want: evaluate.ListScore{Precision: 0.5, Recall: 0.333333, NDCG: 0.386853, AP: 0.25, Hit: 1, RR: 0.5},
		},
		{
			// list shorter than k: [c] with k = 10, R = {c}: precision = 1/10,
			// recall 1, NDCG 1 (IDCG over min(10, 1) = 1 rank), AP = 1/1, RR 1.
			name: "short list", ranked: []affinity.ProductID{c}, relevant: []affinity.ProductID{c}, k: 10,
			want: evaluate.ListScore{Precision: 0.1, Recall: 1, NDCG: 1, AP: 1, Hit: 1, RR: 1},
		},
		{
			name: "no hit", ranked: []affinity.ProductID{a, b}, relevant: []affinity.ProductID{c}, k: 2,
			want: evaluate.ListScore{},
		},
		{
			name: "empty relevant", ranked: []affinity.ProductID{a, b}, relevant: nil, k: 2,
			want: evaluate.ListScore{},
		},
		{
			// duplicates: [a, a, b] with R = {a, b}, k = 3: a hits at 1, the
			// second a is a miss, b hits at 3. precision 2/3, recall 1,
			// DCG = 1 + 0.5 = 1.5, IDCG(2) = 1.630930, NDCG = 0.919721,
			// AP = (1/1 + 2/3)/2 = 0.833333, RR = 1.
			name: "duplicate listed", ranked: []affinity.ProductID{a, a, b}, relevant: []affinity.ProductID{a, b, b}, k: 3,
			want: evaluate.ListScore{Precision: 0.666667, Recall: 1, NDCG: 0.919721, AP: 0.833333, Hit: 1, RR: 1},
		},
		{
			// perfect list of 3 with |R| = 3 and k = 5: precision = 3/5, the
			// rest 1.
			name: "perfect", ranked: []affinity.ProductID{d, e, f}, relevant: []affinity.ProductID{f, e, d}, k: 5,
			want: evaluate.ListScore{Precision: 0.6, Recall: 1, NDCG: 1, AP: 1, Hit: 1, RR: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evaluate.ScoreList(tt.ranked, tt.relevant, tt.k, tt.norm)
			assert.InDelta(t, tt.want.Precision, got.Precision, 1e-6, "precision")
			assert.InDelta(t, tt.want.Recall, got.Recall, 1e-6, "recall")
			assert.InDelta(t, tt.want.NDCG, got.NDCG, 1e-6, "ndcg")
			assert.InDelta(t, tt.want.AP, got.AP, 1e-6, "ap")
			assert.InDelta(t, tt.want.Hit, got.Hit, 0, "hit")
			assert.InDelta(t, tt.want.RR, got.RR, 1e-6, "rr")
		})
	}
}

func TestScoreListPanicsOnBadK(t *testing.T) {
	assert.Panics(t, func() { evaluate.ScoreList(nil, nil, 0, evaluate.MAPByRelevant) })
}

func TestScoreListBounds(t *testing.T) {
	// property: every metric in [0, 1], ndcg 1 exactly for an ideal list
	for n := 1; n <= 12; n++ {
		for k := 1; k <= 12; k++ {
			ranked := make([]affinity.ProductID, 12)
			rel := make([]affinity.ProductID, n)
			for i := range ranked {
				ranked[i] = affinity.ProductID(i)
			}
			for i := range rel {
				rel[i] = affinity.ProductID(i)
			}
			s := evaluate.ScoreList(ranked, rel, k, evaluate.MAPByMinKRelevant)
			assert.InDelta(t, 1, s.NDCG, 1e-12)
			assert.InDelta(t, 1, s.AP, 1e-12, "ideal list has AP 1 under min(k,|R|)")
			assert.InDelta(t, float64(min(k, n))/float64(k), s.Precision, 1e-12)
			for _, v := range []float64{s.Precision, s.Recall, s.NDCG, s.AP, s.Hit, s.RR} {
				assert.False(t, math.IsNaN(v))
				assert.LessOrEqual(t, v, 1.0)
				assert.GreaterOrEqual(t, v, 0.0)
			}
		}
	}
}

// TestScoreListLargeK: the list's bookkeeping was sized by k, not by the
// list: a 3-item list scored at k = 10,000,000 allocated 156 MB.
func TestScoreListLargeK(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := evaluate.ScoreList([]affinity.ProductID{a, b, c}, []affinity.ProductID{b}, 10_000_000, evaluate.MAPByRelevant)
	runtime.ReadMemStats(&after)
	assert.Equal(t, 1.0, s.Hit)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
}
