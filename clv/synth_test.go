package clv_test

import (
	"math/rand/v2"

	"github.com/shopaffinity/affinity/clv"
	"gonum.org/v1/gonum/stat/distuv"
)

// truth holds the parameters of a simulated BG/NBD + Gamma-Gamma
// population.
type truth struct {
	r, alpha, a, b float64 // BG/NBD
	p, q, gamma    float64 // Gamma-Gamma
	maxT           float64 // T is uniform on [1, maxT]
}

// cdnowLike is close to the published CDNOW fits, in weeks.
var cdnowLike = truth{r: 0.25, alpha: 4.4, a: 0.8, b: 2.4, p: 6.25, q: 3.74, gamma: 15.44, maxT: 52}

// simulate draws n customers from tr with a seeded source: λ ~
// Gamma(r, rate α), p ~ Beta(a, b); after the first purchase at time 0
// purchases arrive at rate λ until T, and after each repeat purchase the
// customer drops out with probability p. Transaction values are
// Gamma(p, rate ν) with ν ~ Gamma(q, rate γ) per customer; MeanValue is the
// mean of the repeat transactions'.
func simulate(n int, tr truth, seed uint64) []clv.RFT {
	rows, _ := simulateHoldout(n, tr, seed, 0)
	return rows
}

// simulateHoldout is simulate that also counts each customer's purchases
// in (T, T+holdout].
func simulateHoldout(n int, tr truth, seed uint64, holdout float64) ([]clv.RFT, []int) {
	src := rand.NewPCG(seed, 0x5eed)
	rng := rand.New(src)
	lambda := distuv.Gamma{Alpha: tr.r, Beta: tr.alpha, Src: src}
	drop := distuv.Beta{Alpha: tr.a, Beta: tr.b, Src: src}
	nu := distuv.Gamma{Alpha: tr.q, Beta: tr.gamma, Src: src}
	rows := make([]clv.RFT, n)
	future := make([]int, n)
	for i := range rows {
		T := 1 + rng.Float64()*(tr.maxT-1)
		l, p := lambda.Rand(), drop.Rand()
		var x, tx, t float64
		for {
			t += rng.ExpFloat64() / l
			if t > T+holdout {
				break
			}
			if t > T {
				future[i]++
			} else {
				x++
				tx = t
			}
			if rng.Float64() < p {
				break
			}
		}
		row := clv.RFT{Frequency: x, Recency: tx, T: T}
		if x > 0 {
			value := distuv.Gamma{Alpha: tr.p, Beta: nu.Rand(), Src: src}
			var sum float64
			for range int(x) {
				sum += value.Rand()
			}
			row.MeanValue = sum / x
		}
		rows[i] = row
	}
	return rows, future
}
