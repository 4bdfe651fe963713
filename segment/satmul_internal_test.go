package segment

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestSatMulAdd checks the saturating multiply-add against big integers,
// extreme values included.
func TestSatMulAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, -1, 2, math.MaxInt64, math.MinInt64, math.MaxInt64 / 3, math.MinInt64 / 3, 1 << 40, -(1 << 40)}
	for range 2000 {
		vals = append(vals, rng.Int64()-rng.Int64()/2)
	}
	ws := []int64{1, 2, 3, 6, 1 << 20}
	for i := range 20000 {
		acc, v, w := vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))], ws[i%len(ws)]
		got, sat := satMulAdd(acc, v, w)
		exact := new(big.Int).Mul(big.NewInt(v), big.NewInt(w))
		exact.Add(exact, big.NewInt(acc))
		product := new(big.Int).Mul(big.NewInt(v), big.NewInt(w))
		if exact.IsInt64() && product.IsInt64() {
			if sat || got != exact.Int64() {
				t.Fatalf("%d + %d·%d = %d (sat %v), want %v", acc, v, w, got, sat, exact)
			}
		} else if !sat && !exact.IsInt64() {
			t.Fatalf("%d + %d·%d = %d without saturating, want %v", acc, v, w, got, exact)
		}
	}
}
