package segment

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestPackedIntsMatchTheValues packs columns of many lengths and value
// mixes (zeros, small residuals, whole int64 range, runs of each) and
// reads every value back.
func TestPackedIntsMatchTheValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(kind int) int64 {
		switch kind {
		case 0:
			return 0
		case 1:
			return rng.Int64N(9) - 4
		case 2:
			return rng.Int64N(1<<20) - 1<<19
		case 3:
			return int64(rng.Uint64())
		default:
			return []int64{math.MinInt64, math.MaxInt64, -1, 1 << 62, -1 << 62}[rng.IntN(5)]
		}
	}
	for trial := range 400 {
		n := rng.IntN(700)
		if trial < 3 {
			n = trial
		}
		vals := make([]int64, n)
		for i := 0; i < n; {
			kind, run := rng.IntN(5), 1+rng.IntN(150)
			for ; run > 0 && i < n; run-- {
				vals[i] = draw(kind)
				i++
			}
		}
		p := packInts(vals)
		if p.len() != n {
			t.Fatalf("len %d, want %d", p.len(), n)
		}
		allZero := true
		for i, v := range vals {
			allZero = allZero && v == 0
			if got := p.at(i); got != v {
				t.Fatalf("trial %d: value %d of %d is %d, want %d", trial, i, n, got, v)
			}
		}
		if allZero && p.size() != 0 {
			t.Fatalf("a column of %d zeros keeps %d bytes", n, p.size())
		}
		if !allZero && p.size() > 8*n+5*(n/packBlock+1) {
			t.Fatalf("%d values take %d bytes", n, p.size())
		}
	}
}

// TestPredictNumMatchesBigArithmetic checks predictNum against q·den/
// shareScale rounded half up in arbitrary precision, with its fallback
// to 0 outside 64 bits.
func TestPredictNumMatchesBigArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	scale := big.NewInt(shareScale)
	ref := func(q, den int64) int64 {
		if q <= 0 || den <= 0 {
			return 0
		}
		v := new(big.Int).Mul(big.NewInt(q), big.NewInt(den))
		v.Add(v, big.NewInt(shareScale/2))
		v.Quo(v, scale)
		if !v.IsInt64() {
			return 0
		}
		return v.Int64()
	}
	qs := []int64{0, 1, 4999, 5000, 5001, 9999, shareScale, shareScale + 1, 1 << 20, math.MaxInt64, -1}
	dens := []int64{0, 1, 2, 5000, 10_000, 1 << 32, 1 << 49, 1 << 50, math.MaxInt64 / shareScale, math.MaxInt64, -7}
	for range 20_000 {
		qs = append(qs, rng.Int64N(shareScale+1))
		dens = append(dens, rng.Int64N(1<<uint(rng.IntN(63))))
	}
	for i, q := range qs {
		for _, den := range []int64{dens[i%len(dens)], dens[rng.IntN(len(dens))]} {
			if got, want := predictNum(q, den), ref(q, den); got != want {
				t.Fatalf("predictNum(%d, %d) = %d, want %d", q, den, got, want)
			}
		}
	}
	for _, q := range qs[:11] {
		for _, den := range dens[:11] {
			if got, want := predictNum(q, den), ref(q, den); got != want {
				t.Fatalf("predictNum(%d, %d) = %d, want %d", q, den, got, want)
			}
		}
	}
}
