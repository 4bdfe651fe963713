package clv

import "math"

// digamma returns ψ(x) = d/dx ln Γ(x) for x > 0 (NaN for x < 0 or NaN,
// −Inf for 0). It shifts x up to at least 10 with ψ(x) = ψ(x+1) − 1/x and
// then sums the asymptotic series
//
//	ψ(x) ≈ ln x − 1/(2x) − 1/(12x²) + 1/(120x⁴) − 1/(252x⁶) + 1/(240x⁸) − 1/(132x¹⁰) + 691/(32760x¹²),
//
// whose truncation error at x ≥ 10 is below 1e-16 relative. Only positive
// arguments occur in the models. gonum's mathext.Digamma would do, but it
// is less accurate: 5.3e-11 off ψ(1) = −γ and 1.2e-12 off ψ(10), where
// this one is within 1e-15 (TestDigamma checks both against the exact
// values), so the analytic gradients keep their own.
func digamma(x float64) float64 {
	switch {
	case x == 0:
		return math.Inf(-1)
	case !(x > 0):
		return math.NaN()
	case math.IsInf(x, 1):
		return x
	}
	var r float64
	for x < 10 {
		r -= 1 / x
		x++
	}
	inv := 1 / x
	inv2 := inv * inv
	s := inv2 * (1.0/12 - inv2*(1.0/120-inv2*(1.0/252-inv2*(1.0/240-inv2*(1.0/132-inv2*(691.0/32760))))))
	return r + math.Log(x) - 0.5*inv - s
}

// lgamma returns ln Γ(x) for x > 0 (where Γ(x) > 0, so the sign of
// math.Lgamma is not needed).
func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// softplus returns ln(1 + eᵈ) and the logistic σ(d) = eᵈ/(1 + eᵈ) without
// overflow for any finite d.
func softplus(d float64) (sp, sigma float64) {
	e := math.Exp(-math.Abs(d)) // in (0, 1]
	if d > 0 {
		return d + math.Log1p(e), 1 / (1 + e)
	}
	return math.Log1p(e), e / (1 + e)
}

// maxSeriesTerms bounds the hypergeometric series of [bgExpected]: enough
// for horizons up to about 10⁵ times α + T.
const maxSeriesTerms = 1 << 20

// rescale is the magnitude beyond which series sums are scaled down (and
// the scale kept as a logarithm) so that they cannot overflow.
const rescale = 1e200

// bgExpected returns the BG/NBD expected number of purchases in (T, T+t]
// of a customer alive at T with x repeat purchases,
//
//	E = (a+b+x−1)/(a−1) · [1 − (1−z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)],  z = t/(α+T+t),
//
// for parameters r, a, b and L = ln(1−z) = −ln(1 + t/(α+T)).
//
// The series of ₂F₁ grows to about (1−z)^−(r+x+1−a) before it converges,
// which overflows for large x, so by default the Euler transform is
// summed instead:
//
//	(1−z)^(r+x) ₂F₁(r+x, b+x; C; z) = (1−z)^(a−1) ₂F₁(A, a−1; C; z),  A = a+b−1−r, C = a+b+x−1,
//
// whose terms grow only to about (1−z)^−(a−1). Writing ₂F₁(A, a−1; C; z) =
// 1 + (a−1)·G gives E = C·[−expm1((a−1)L)/(a−1) − e^((a−1)L)·G], finite and
// accurate as a → 1; C·G's first term A·z has no division by C (which is
// 0 when a+b = 1 and x = 0). When a−1 exceeds both r+x+1−a and ½ (large a,
// as when the dropout probability hardly varies between customers), the
// textbook series grows less and is summed instead, as
// E = C/(a−1)·(−expm1((r+x)L + ln ₂F₁)). Sums are kept scaled, so nothing
// overflows; the cost is O(g·z/(1−z) + log(1e-16)/log z) terms for the
// smaller growth exponent g. It returns NaN only if the series has not
// converged within maxSeriesTerms terms (t beyond about 10⁵(α+T), or a
// and x both above about 10⁵). gonum's mathext.Hypergeo sums the
// textbook series unscaled, which overflows for the large frequencies
// this handles, hence the function of our own.
func bgExpected(r, a, b, x, z, L float64) float64 {
	eps := a - 1
	C := a + b + x - 1
	if eps > 0.5 && eps > r+x-eps {
		// textbook form
		k := r + x
		if z == 0 {
			return 0
		}
		sum, term, scale := 1.0, 1.0, 0.0
		for n := 0.0; n < maxSeriesTerms; n++ {
			rho := (k + n) * (b + x + n) * z / ((C + n) * (n + 1))
			term *= rho
			sum += term
			if sum > rescale {
				sum, term, scale = sum/rescale, term/rescale, scale+math.Log(rescale)
			}
			if rho < 1 && term <= 1e-16*sum*(1-math.Max(rho, z)) {
				return C / eps * -math.Expm1(k*L+math.Log(sum)+scale)
			}
		}
		return math.NaN()
	}
	A := a + b - 1 - r
	var head float64
	if el := eps * L; el != 0 {
		head = -math.Expm1(el) / eps
	} else {
		head = -L
	}
	if z == 0 {
		return C * head
	}
	// n must pass the points where A+n or eps+n change sign before the
	// ratio test can be trusted.
	nmin := math.Max(0, math.Max(-A, -eps)) + 2
	sum, term, scale := 0.0, A*z, 0.0
	for n := 1.0; n < maxSeriesTerms; n++ {
		sum += term
		rho := (A + n) * (eps + n) * z / ((C + n) * (n + 1))
		term *= rho
		if math.Abs(sum) > rescale {
			sum, term, scale = sum/rescale, term/rescale, scale+math.Log(rescale)
		}
		if term == 0 || n > nmin && math.Abs(term) <= 1e-16*math.Abs(sum)*(1-math.Max(math.Abs(rho), z)) {
			return C*head - math.Copysign(math.Exp(eps*L+math.Log(math.Abs(sum))+scale), sum)
		}
	}
	return math.NaN()
}

// cheb is a Chebyshev interpolant of a smooth function on [lo, hi].
type cheb struct {
	lo, hi float64
	c      []float64
}

// eval returns the interpolant at u ∈ [lo, hi] (Clenshaw's recurrence).
func (p *cheb) eval(u float64) float64 {
	if len(p.c) == 1 || p.hi == p.lo {
		return p.c[0]
	}
	y := (2*u - p.lo - p.hi) / (p.hi - p.lo)
	y2 := 2 * y
	var b1, b2 float64
	for j := len(p.c) - 1; j >= 1; j-- {
		b1, b2 = y2*b1-b2+p.c[j], b1
	}
	return y*b1 - b2 + p.c[0]
}

// maxChebNodes bounds the interpolants of [fitCheb].
const maxChebNodes = 1024

// fitCheb interpolates the k outputs of f on [lo, hi] at Chebyshev nodes,
// doubling the number of nodes from 16 until the trailing coefficients of
// every output are below 1e-14 times its largest. ok is false when
// maxChebNodes nodes are not enough (the function is not smooth enough over
// the range). f writes its k outputs at u into out.
func fitCheb(lo, hi float64, k int, f func(u float64, out []float64)) (ps []cheb, ok bool) {
	if lo == hi {
		out := make([]float64, k)
		f(lo, out)
		ps = make([]cheb, k)
		for i := range ps {
			ps[i] = cheb{lo: lo, hi: hi, c: []float64{out[i]}}
		}
		return ps, true
	}
	out := make([]float64, k)
	for n := 16; n <= maxChebNodes; n *= 2 {
		vals := make([]float64, n*k)
		for m := range n {
			y := math.Cos(math.Pi * (float64(m) + 0.5) / float64(n))
			f(0.5*(lo+hi)+0.5*(hi-lo)*y, out)
			copy(vals[m*k:], out)
		}
		ps = make([]cheb, k)
		ok = true
		for i := range ps {
			c := make([]float64, n)
			var big float64
			for j := range n {
				var s float64
				for m := range n {
					s += vals[m*k+i] * math.Cos(math.Pi*float64(j)*(float64(m)+0.5)/float64(n))
				}
				c[j] = 2 * s / float64(n)
				big = math.Max(big, math.Abs(c[j]))
			}
			c[0] /= 2
			var tail float64
			for _, v := range c[n-4:] {
				tail = math.Max(tail, math.Abs(v))
			}
			if math.IsNaN(big) || tail > 1e-14*big {
				ok = false
			}
			// Drop negligible trailing coefficients: cheaper evaluation.
			cut := n
			for cut > 1 && math.Abs(c[cut-1]) <= 1e-17*big {
				cut--
			}
			ps[i] = cheb{lo: lo, hi: hi, c: c[:cut]}
		}
		if ok {
			return ps, true
		}
	}
	return nil, false
}
