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

// rescale is the magnitude beyond which series sums are scaled down (and
// the scale kept as a logarithm) so that they cannot overflow.
const rescale = 1e200

// maxLoss is the largest cancellation [bgExpected] accepts from a series:
// the ratio of the largest quantity summed (a term, or the subtracted
// head) to the result. A series loses about 1e-16·maxLoss relatively;
// beyond it the quadrature [bgQuad] is used.
const maxLoss = 1e3

// bgExpected returns the BG/NBD expected number of purchases in (T, T+t]
// of a customer alive at T with x repeat purchases, for parameters r, a,
// b and τ = t/(α+T):
//
//	E = (a+b+x−1)/(a−1) · [1 − (1−z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)],  z = t/(α+T+t) = τ/(1+τ).
//
// MBG/NBD's is the same with b+1 for b: it passes the shift d = 1 (BG/NBD
// d = 0) apart from b, so that a+b+x−1 is summed as (x−1+d) + a + b, a
// whole number (exact) first, and a tiny b keeps its digits. Equivalently, with λ integrated out and
// p ~ Beta(a, b+x) the dropout probability of a customer alive at T,
//
//	E = E_p[g(p)],  g(p) = (1 − (1+pτ)^−(r+x))/p,
//
// so g(1) = 1 − (1+τ)^−(r+x) ≤ E ≤ (r+x)τ. Two series and a quadrature
// compute it:
//
//   - By default the Euler transform (1−z)^(r+x) ₂F₁(r+x, b+x; C; z) =
//     (1−z)^(a−1) ₂F₁(A, a−1; C; z), A = a+b−1−r, C = a+b+x−1, is summed:
//     its terms grow only to about (1−z)^−(a−1) when A is not large and
//     negative. Writing ₂F₁(A, a−1; C; z) = 1 + (a−1)·G gives E =
//     C·[−expm1((a−1)L)/(a−1) − e^((a−1)L)·G], L = ln(1−z), finite and
//     accurate as a → 1; C·G's first term A·z has no division by C (which
//     is 0 when a+b = 1 and x = 0).
//   - When a−1 exceeds both r+x+1−a and ½ (large a, as when the dropout
//     probability hardly varies between customers), the textbook series
//     grows less and is summed instead, without its leading 1, as E =
//     C/(a−1)·(−expm1((r+x)L + log1p(₂F₁−1))), so short horizons keep
//     their relative precision.
//   - Either series cancels when r is large (A ≪ 0: alternating terms that
//     grow like the binomial coefficients of |A| before they decay, as in
//     the fits of shops whose customers all buy at about the same rate) or
//     when the subtracted terms are far larger than E (b+x ≫ r+x in the
//     Euler form). Each series therefore tracks the largest quantity it
//     sums (with the n roundings of its nth term; the sums themselves
//     are compensated, Neumaier) and gives up, early where it can, when
//     that exceeds maxLoss times the result (or the bound (r+x)τ), or
//     when the result is not finite and positive; E is then the integral
//     above, by [bgQuad], accurate to about 1e-15 relatively in any
//     regime. It is used as well when a series does not converge within
//     maxDirectTerms terms.
//
// The series results are accurate to about 1e-16·maxLoss = 1e-13
// relatively (2e-13 at worst against mpmath over the range given at
// bgQuad), the quadrature's to about 1e-15. Sums are kept scaled, so no
// series overflows. A series would need up to about 37(τ+½) terms when
// the terms fall slowly (small r+x), and more where its terms change sign
// or grow before they fall (large r, or large a and b+x), so where
// [seriesTerms] estimates more than maxDirectTerms, the quadrature is
// taken directly, and a series stops after maxDirectTerms terms (about
// 40 µs) in any case. The quadrature takes a few hundred integrand
// evaluations (about 85 ns each) for everyday parameters and up to about
// 4,200 (0.36 ms) for extreme shapes (a or b near 1e-3 with r in the
// thousands): over r, a, b in [1e-3, 1e6], x in [0, 1e5] and τ in
// [1e-6, 1e8], a call took at most 8,192 terms and 800 nodes, or 4,225
// nodes alone (TestExpectedWorkIsBounded). It returns NaN only if the
// quadrature does not converge either. gonum's mathext.Hypergeo sums the textbook series unscaled,
// which overflows for the large frequencies this handles and cancels for
// large r, hence the function of our own.
func bgExpected(r, a, b, d, x, tau float64) float64 {
	if !(tau > 0) {
		return 0
	}
	if seriesTerms(r, a, b, d, x, tau) <= maxDirectTerms {
		if e, ok := bgSeries(r, a, b, d, x, tau); ok {
			return e
		}
	}
	return bgQuad(r+x, a, b+d+x, tau)
}

// countWork, when not nil, is told the series terms or the quadrature
// nodes of each series or quadrature [bgExpected] takes (at most
// maxDirectTerms terms, and a quadrature after them only if the series
// failed). Only the tests set it, and not while an expectation is being
// computed: the cost otherwise is a nil check per series or quadrature.
var countWork func(terms, nodes int)

// seriesDone returns a series' result after telling countWork its terms.
func seriesDone(e float64, terms int, ok bool) (float64, bool) {
	if countWork != nil {
		countWork(terms, 0)
	}
	return e, ok
}

// maxDirectTerms is the number of series terms beyond which [bgExpected]
// takes the quadrature directly, and after which a series gives up:
// about what the quadrature costs (15 to 50 µs for everyday parameters;
// a term costs about 5 ns), where a long series would take milliseconds
// and often give up anyway.
const maxDirectTerms = 1 << 13

// useTextbook reports whether [bgExpected] sums the textbook series
// rather than the Euler transform, for a and k = r+x.
func useTextbook(a, k float64) bool {
	eps := a - 1
	return eps > 0.5 && eps > k-eps
}

// bgSeries sums the series [bgExpected] chooses (see useTextbook); ok
// is false when it cancels by more than maxLoss or does not converge.
func bgSeries(r, a, b, d, x, tau float64) (e float64, ok bool) {
	C, A := seriesParams(r, a, b, d, x)
	if k := r + x; useTextbook(a, k) {
		return bgTextbook(k, a, b+d+x, C, tau)
	}
	return bgEuler(r, a, A, C, x, tau)
}

// seriesParams returns C = a+b+x−1 and A = a+b−1−r, the series'
// parameters, for b+d in place of b: the whole number x−1+d first, so
// that a tiny b keeps its digits.
func seriesParams(r, a, b, d, x float64) (C, A float64) {
	return (x - 1 + d) + a + b, a + b + (d - 1) - r
}

// seriesTerms estimates the number of terms the series of [bgExpected]
// sums before its terms fall below 1e-16 of the sum. Its nth term falls
// like n^−d·zⁿ for large n, z = τ/(1+τ), with d = a−r−x for the textbook
// series and r+x+2−a for the Euler transform: either factor alone brings
// it below 1e-16 after ln(1e16)/(−ln z) ≈ 37(τ+½) or, when d > 0,
// 1e16^(1/d) terms, so it needs at most the smaller of the two; when
// d < 0, zⁿ must also beat the growth n^−d. That holds once n is past
// the parameters: before it the terms may change sign (the Euler
// transform's A+n and a−1+n, below 0 for large r) and grow (while the
// ratio of consecutive terms exceeds 1, as for large r, a and b), so the
// estimate counts from the last n where either happens ([termsGrow]). (A
// series that grows first, or cancels, may stop early and fall back on
// the quadrature; that costs at most this estimate too.)
func seriesTerms(r, a, b, d, x, tau float64) float64 {
	k := r + x
	C, A := seriesParams(r, a, b, d, x)
	p, q := A, a-1
	dec := k + 2 - a
	if useTextbook(a, k) {
		p, q, dec = k, b+d+x, a-k
	}
	return termsGrow(p, q, C, tau) + decayTerms(dec, tau)
}

// termsGrow returns about the last n at which the terms of a series with
// ratio (p+n)(q+n)z / ((C+n)(n+1)), z = τ/(1+τ), change sign or grow in
// magnitude: past max(−p, −q) the factors are positive, and the ratio
// exceeds 1 while f(n) = (1−z)n² + (C+1−z(p+q))n + C−zpq < 0, up to f's
// larger root. It is +Inf when that overflows (parameters beyond 1e150).
func termsGrow(p, q, C, tau float64) float64 {
	n := math.Max(0, math.Max(-p, -q))
	z := tau / (1 + tau)
	a2, b1, c0 := 1/(1+tau), C+1-z*(p+q), C-z*p*q
	if disc := b1*b1 - 4*a2*c0; disc > 0 {
		n = math.Max(n, (math.Sqrt(disc)-b1)/(2*a2))
	}
	return n
}

// decayTerms returns the number of terms a series whose nth term falls
// like n^−d·zⁿ, z = τ/(1+τ), takes to fall by 1e16 (see [seriesTerms]).
func decayTerms(d, tau float64) float64 {
	const ln1e16 = 36.841361487904734
	lz := math.Log1p(1 / tau) // −ln z
	n := ln1e16 / lz
	switch {
	case d > 0:
		n = math.Min(n, math.Exp(ln1e16/d))
	case d < 0:
		// terms growing like n^−d first: zⁿ must beat that too
		n = (ln1e16 - d*math.Log(1+(ln1e16-d)/lz)) / lz
	}
	return n
}

// bgTextbook sums the textbook series of [bgExpected] for k = r+x,
// b' = b+x and C = a+b'−1. ok is false when it cancels by more than
// maxLoss or does not converge.
func bgTextbook(k, a, bx, C, tau float64) (e float64, ok bool) {
	eps := a - 1
	z := tau / (1 + tau)
	kL := -k * math.Log1p(tau)
	// sum is ₂F₁ − 1, summed from its first term
	// nsum is Σ n·termₙ: the nth term carries about n roundings
	// and comp the compensation of sum (Neumaier)
	sum, comp, nsum, term, scale := 0.0, 0.0, 0.0, 1.0, 0.0
	n := 0.0
	for ; n < maxDirectTerms; n++ {
		rho := (k + n) * (bx + n) * z / ((C + n) * (n + 1))
		term *= rho
		s := sum + term
		if sum >= term {
			comp += (sum - s) + term
		} else {
			comp += (term - s) + sum
		}
		sum = s
		nsum += n * term
		if sum > rescale {
			sum, comp, nsum, term, scale = sum/rescale, comp/rescale, nsum/rescale, term/rescale, scale+math.Log(rescale)
		}
		if rho < 1 && term <= 1e-16*sum*(1-math.Max(rho, z)) {
			sum += comp
			lf, rel := math.Log1p(sum), (sum+nsum)/(1+sum)
			if scale != 0 {
				// the leading 1 is below 1e-200
				lf, rel = math.Log(sum)+scale, (sum+nsum)/sum
			}
			u := kL + lf
			em := -math.Expm1(u)
			e = C / eps * em
			// u carries about 1e-16·(|kL| + lf + rel) absolutely
			loss := (lf - kL + rel) * math.Exp(u) / em
			return seriesDone(e, int(n)+1, e > 0 && !math.IsInf(e, 0) && loss <= maxLoss)
		}
	}
	return seriesDone(math.NaN(), int(n), false)
}

// bgEuler sums the Euler-transformed series of [bgExpected], for
// A = a+b−1−r and C = a+b+x−1. ok is false when it cancels by more than
// maxLoss or does not converge.
func bgEuler(r, a, A, C, x, tau float64) (e float64, ok bool) {
	eps := a - 1
	z := tau / (1 + tau)
	L := -math.Log1p(tau)
	var head float64
	if el := eps * L; el != 0 {
		head = -math.Expm1(el) / eps
	} else {
		head = -L
	}
	ch := C * head
	// E ≤ (r+x)τ, so a head or a term (times e^((a−1)L)) beyond
	// maxLoss·(r+x)τ means more cancellation than maxLoss
	lim := maxLoss * (r + x) * tau
	if math.Abs(ch) > lim {
		return seriesDone(0, 0, false)
	}
	f := 1 + math.Expm1(eps*L) // e^((a−1)L), 0 when it underflows
	lim /= f                   // for the current scale; +Inf when f = 0
	// n must pass the points where A+n or eps+n change sign before the
	// ratio test can be trusted.
	nmin := math.Max(0, math.Max(-A, -eps)) + 2
	// nsum is Σ n·|termₙ|: the nth term carries about n roundings
	// and comp the compensation of sum (Neumaier)
	sum, comp, nsum, term, scale := 0.0, 0.0, 0.0, A*z, 0.0
	if math.Abs(term) > lim {
		return seriesDone(0, 1, false)
	}
	n := 1.0
	for ; n <= maxDirectTerms; n++ {
		s := sum + term
		if math.Abs(sum) >= math.Abs(term) {
			comp += (sum - s) + term
		} else {
			comp += (term - s) + sum
		}
		sum = s
		nsum += n * math.Abs(term)
		rho := (A + n) * (eps + n) * z / ((C + n) * (n + 1))
		term *= rho
		if math.Abs(term) > lim {
			return seriesDone(0, int(n), false)
		}
		if math.Abs(sum) > rescale || nsum > rescale {
			sum, comp, nsum, term, scale = sum/rescale, comp/rescale, nsum/rescale, term/rescale, scale+math.Log(rescale)
			lim /= rescale
		}
		if term == 0 || n > nmin && math.Abs(term) <= 1e-16*math.Abs(sum)*(1-math.Max(math.Abs(rho), z)) {
			sum += comp
			fs, fn := f*sum, f*nsum
			if scale != 0 || f == 0 || math.IsInf(f, 0) {
				fs = math.Copysign(math.Exp(eps*L+math.Log(math.Abs(sum))+scale), sum)
				fn = math.Exp(eps*L + math.Log(nsum) + scale)
			}
			e = ch - fs
			// about 1e-16·err absolutely
			err := math.Abs(ch) + fn
			return seriesDone(e, int(n), e > 0 && !math.IsInf(e, 0) && err <= maxLoss*e)
		}
	}
	return seriesDone(math.NaN(), int(n-1), false)
}

// lnBetaLogit returns a·d − n·ln(1 + p₀·(eᵈ − 1)), the logarithm of the
// density p^a (1−p)^b in y = ln(p/(1−p)) at y = ln(a/b) + d relative to
// its mode, for n = a+b, p₀ = a/n, q₀ = b/n. The terms are at most of the
// size of a·|d| + a·|eᵈ − 1| (small where the density is not negligible)
// when a ≤ b, so the caller passes the smaller shape: it swaps a and b
// and negates d.
func lnBetaLogit(a, n, p0, q0, d float64) float64 {
	var l float64 // ln(1 + p₀·(eᵈ − 1))
	switch v := p0 * math.Expm1(d); {
	case v > -0.5 && v < 1e300:
		l = math.Log1p(v)
	case d < 0:
		l = math.Log(q0 + p0*math.Exp(d))
	default:
		l = d + math.Log(p0+q0*math.Exp(-d))
	}
	return a*d - n*l
}

// bgQuad returns E_p[(1 − (1+pτ)^−k)/p] for p ~ Beta(a, b), the integral
// form of [bgExpected] (k = r+x, b = b+x there), by double-exponential
// quadrature. The integral is taken over the log-odds y = ln(p/(1−p)),
// where the Beta density p^a (1−p)^b dy is smooth, log-concave and
// decays exponentially at both ends, mapped by y = ln(a/b) + w·sinh(s),
// w = min(3, √(1/a + 1/b)) (about the density's width), with the
// trapezoid rule in s: its error falls like exp(−c/h) in the step h. The
// density is evaluated relative to its mode by [lnBetaLogit] (no lgamma
// and no large cancelling logarithms), and normalised by its own sum over the same
// nodes, so the normalising constant B(a, b) is never needed and errors
// common to both sums cancel. The step starts at ½ over the range where
// the terms exceed 1e-20 of the sums, and is halved (reusing the nodes)
// until two estimates agree to 1e-13 after the previous two agreed to
// 1e-6 (so that a chance agreement of coarse steps is not taken for
// convergence); against mpmath the result is within about 1e-15
// relatively over r+x in [1e-3, 1e4], a and b+x in [1e-3, 1e6] and τ in
// [1e-8, 1e4]. It takes about 100 to 4,500 evaluations (the most for
// shapes near 1e-3 and long horizons), and returns NaN if
// even a step of 2⁻¹⁰ leaves the estimates more than 1e-10 apart.
func bgQuad(k, a, b, tau float64) float64 {
	nodes := 0 // for countWork
	n := a + b
	p0, q0 := a/n, b/n
	y0 := math.Log(a) - math.Log(b)
	w := math.Min(3, math.Sqrt(1/a+1/b))
	ktau := k * tau
	// node returns the weight (density·dy/ds relative to the mode) and
	// the weight times g at s.
	node := func(s float64) (wt, wg float64) {
		nodes++
		d := w * math.Sinh(s)
		var lw float64
		if a <= b {
			lw = lnBetaLogit(a, n, p0, q0, d)
		} else {
			lw = lnBetaLogit(b, n, q0, p0, -d)
		}
		wt = math.Exp(lw) * math.Cosh(s)
		if !(wt > 0) {
			return 0, 0
		}
		var p float64
		if y := y0 + d; y > 0 {
			p = 1 / (1 + math.Exp(-y))
		} else {
			ey := math.Exp(y)
			p = ey / (1 + ey)
		}
		pt := p * tau
		if pt < 1e-300 {
			return wt, wt * ktau
		}
		return wt, wt * -math.Expm1(-k*math.Log1p(pt)) / p
	}
	const (
		h0   = 0.5
		smax = 24.0 // w·sinh(24) > 10¹⁰: far beyond any density's reach
		tiny = 1e-20
	)
	norm, sum := node(0)
	// the range, at step h0: outwards until the terms are negligible
	var jlo, jhi int
	for _, dir := range []int{-1, 1} {
		j := dir
		for ; float64(j*dir)*h0 <= smax; j += dir {
			wt, wg := node(float64(j) * h0)
			norm += wt
			sum += wg
			if wt <= tiny*norm && wg <= tiny*sum {
				break
			}
		}
		if dir < 0 {
			jlo = j
		} else {
			jhi = j
		}
	}
	prev, dprev := sum/norm, math.Inf(1)
	lo, hi := float64(jlo)*h0, float64(jhi)*h0
	for h := h0 / 2; h >= 1.0/1024; h /= 2 {
		// the new nodes: odd multiples of h in [lo, hi]
		for s := lo + h; s < hi; s += 2 * h {
			wt, wg := node(s)
			norm += wt
			sum += wg
		}
		e := sum / norm
		d := math.Abs(e - prev)
		if d <= 1e-13*e && dprev <= 1e-6*e {
			return quadDone(e, nodes)
		}
		prev, dprev = e, d
	}
	if dprev <= 1e-10*prev {
		return quadDone(prev, nodes) // rounding noise above 1e-13
	}
	return quadDone(math.NaN(), nodes)
}

// quadDone returns a quadrature's result after telling countWork its
// nodes.
func quadDone(e float64, nodes int) float64 {
	if countWork != nil {
		countWork(0, nodes)
	}
	return e
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

// eval2 returns p and q at u ∈ [lo, hi] in one pass: two interpolants
// of one [fitCheb], which have the same range and length.
func eval2(p, q *cheb, u float64) (float64, float64) {
	if len(p.c) == 1 || p.hi == p.lo {
		return p.c[0], q.c[0]
	}
	y := (2*u - p.lo - p.hi) / (p.hi - p.lo)
	y2 := 2 * y
	pc, qc := p.c, q.c[:len(p.c)]
	var b1, b2, d1, d2 float64
	for j := len(pc) - 1; j >= 1; j-- {
		b1, b2 = y2*b1-b2+pc[j], b1
		d1, d2 = y2*d1-d2+qc[j], d1
	}
	return y*b1 - b2 + pc[0], y*d1 - d2 + qc[0]
}

// maxChebNodes bounds the interpolants of [fitCheb].
const maxChebNodes = 1024

// chebTol is the absolute bound of [fitCheb] on the trailing
// coefficients of a logarithm (with |ln f| up to 16; it scales with
// larger ones): the relative error it leaves in f, with margin for the
// roundings of the coefficients and of Clenshaw's recurrence.
const chebTol = 2e-14

// fitCheb interpolates the k outputs of f on [lo, hi] at Chebyshev nodes,
// doubling the number of nodes from 16 until the trailing coefficients of
// every output are below chebTol·max(1, c/16), c its largest coefficient:
// an absolute bound, for outputs that are logarithms, whose absolute
// error is the relative error of what they are the logarithm of, the
// same at every node however far the values range. ok is false when
// maxChebNodes nodes are not enough (the function is not smooth enough
// over the range) or an output is not finite, on a range of one point
// (lo = hi, a constant) as on any other. f writes its k outputs at
// u into out; its first error stops the fit and is returned.
func fitCheb(lo, hi float64, k int, f func(u float64, out []float64) error) (ps []cheb, ok bool, err error) {
	if lo == hi {
		out := make([]float64, k)
		if err := f(lo, out); err != nil {
			return nil, false, err
		}
		ps = make([]cheb, k)
		for i := range ps {
			// the same check as the fit's below: an output that is not
			// finite leaves its rows to the direct sums
			if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
				return nil, false, nil
			}
			ps[i] = cheb{lo: lo, hi: hi, c: []float64{out[i]}}
		}
		return ps, true, nil
	}
	out := make([]float64, k)
	for n := 16; n <= maxChebNodes; n *= 2 {
		vals := make([]float64, n*k)
		for m := range n {
			y := math.Cos(math.Pi * (float64(m) + 0.5) / float64(n))
			if err := f(0.5*(lo+hi)+0.5*(hi-lo)*y, out); err != nil {
				return nil, false, err
			}
			for _, v := range out {
				// no number of nodes fits an output that is not finite
				// at a node: its rows go to the direct sums at once
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, false, nil
				}
			}
			copy(vals[m*k:], out)
		}
		ps = make([]cheb, k)
		ok = true
		cut := 1
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
			tol := chebTol * math.Max(1, big/16)
			if math.IsNaN(big) || math.IsInf(big, 0) || tail > tol {
				ok = false
			}
			// Drop negligible trailing coefficients (a twentieth of
			// the bound): cheaper evaluation.
			m := n
			for m > 1 && math.Abs(c[m-1]) <= tol/20 {
				m--
			}
			cut = max(cut, m)
			ps[i] = cheb{lo: lo, hi: hi, c: c}
		}
		if ok {
			// one length for all outputs, for eval2
			for i := range ps {
				ps[i].c = ps[i].c[:cut]
			}
			return ps, true, nil
		}
	}
	return nil, false, nil
}
