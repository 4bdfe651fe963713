package clv_test

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lg(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

func TestDigamma(t *testing.T) {
	const euler = 0.57721566490153286061
	known := []struct{ x, want float64 }{
		{1, -euler},
		{0.5, -euler - 2*math.Ln2},
		{2, 1 - euler},
		{10, 2.251752589066721107647456},
		{1e-8, -1e8 - euler},
	}
	for _, k := range known {
		assert.InDelta(t, k.want, clv.Digamma(k.x), 1e-14*math.Max(1, math.Abs(k.want)), "ψ(%v)", k.x)
	}
	assert.True(t, math.IsNaN(clv.Digamma(-1)))
	assert.True(t, math.IsInf(clv.Digamma(0), -1))

	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		x := math.Exp(rng.Float64()*16 - 6) // 0.0025 .. 4e4
		// recurrence ψ(x+1) = ψ(x) + 1/x
		assert.InDelta(t, clv.Digamma(x)+1/x, clv.Digamma(x+1), 1e-13*math.Max(1, math.Abs(1/x)))
		// numeric derivative of ln Γ
		h := 1e-4 * x
		num := (lg(x+h) - lg(x-h)) / (2 * h)
		assert.InDelta(t, num, clv.Digamma(x), 1e-6*math.Max(1, math.Abs(num)), "ψ(%v)", x)
	}
}

// directLL is the BG/NBD log-likelihood of one customer written as in the
// paper (eq. 6), without logs until the end: fine for small x.
func directLL(m clv.BGNBD, c clv.RFT) float64 {
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	x := c.Frequency
	beta := func(p, q float64) float64 { return math.Exp(lg(p) + lg(q) - lg(p+q)) }
	common := math.Exp(lg(r+x)-lg(r)) * math.Pow(al, r)
	l := beta(a, b+x) / beta(a, b) * common / math.Pow(al+c.T, r+x)
	if x > 0 {
		l += beta(a+1, b+x-1) / beta(a, b) * common / math.Pow(al+c.Recency, r+x)
	}
	return math.Log(l)
}

func randomModel(rng *rand.Rand) clv.BGNBD {
	return clv.BGNBD{
		R:     0.1 + 2*rng.Float64(),
		Alpha: 0.5 + 20*rng.Float64(),
		A:     0.2 + 3*rng.Float64(),
		B:     0.3 + 5*rng.Float64(),
	}
}

func TestBGNBDLikelihoodMatchesDirectEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := simulate(300, cdnowLike, 5)
	for range 20 {
		m := randomModel(rng)
		var want float64
		for _, c := range rows {
			want += directLL(m, c)
		}
		assert.InDelta(t, want, m.LogLikelihood(rows), 1e-9*math.Abs(want))
		theta := []float64{m.R, m.Alpha, m.A, m.B}
		got, _ := clv.BGNBDLikelihood(rows, theta, 1)
		assert.InDelta(t, want, got, 1e-9*math.Abs(want))
	}
}

// checkGradient compares grad with central differences of ll at theta.
func checkGradient(t *testing.T, ll func([]float64) float64, theta, grad []float64) {
	t.Helper()
	at := ll(theta) // the same for every component
	for i := range theta {
		h := 1e-6 * theta[i]
		up, down := append([]float64(nil), theta...), append([]float64(nil), theta...)
		up[i] += h
		down[i] -= h
		num := (ll(up) - ll(down)) / (2 * h)
		scale := math.Max(math.Abs(num), math.Abs(at)/theta[i]*1e-3)
		assert.InDelta(t, num, grad[i], 1e-5*scale, "component %d at %v", i, theta)
	}
}

func TestBGNBDGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	rows := simulate(2000, cdnowLike, 8)
	// heavy buyers stress the log-sum-exp and the digamma differences
	rows = append(rows,
		clv.RFT{Frequency: 500, Recency: 30, T: 39},
		clv.RFT{Frequency: 20000, Recency: 38.9, T: 39},
		clv.RFT{Frequency: 300, Recency: 1, T: 39},
	)
	// BG/NBD, then MBG/NBD (whose rows without repeat purchases take the
	// dropout branch as well)
	for _, lik := range []func([]clv.RFT, []float64, int) (float64, []float64){clv.BGNBDLikelihood, clv.MBGNBDLikelihood} {
		ll := func(theta []float64) float64 { v, _ := lik(rows, theta, 1); return v }
		for range testdata.Scale(15, 5) { // random models
			m := randomModel(rng)
			theta := []float64{m.R, m.Alpha, m.A, m.B}
			v, grad := lik(rows, theta, 1)
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "ll %v at %v", v, theta)
			checkGradient(t, ll, theta, grad)
			// independent of the number of workers, bit for bit
			v3, grad3 := lik(rows, theta, 3)
			assert.Equal(t, v, v3)
			assert.Equal(t, grad, grad3)
		}
	}
}

func TestGammaGammaGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rows := simulate(5000, cdnowLike, 11)
	rows = append(rows, clv.RFT{Frequency: 5000, Recency: 39, T: 39, MeanValue: 42})
	ll := func(theta []float64) float64 { v, _ := clv.GammaGammaLikelihood(rows, theta); return v }
	for range testdata.Scale(15, 5) { // random models
		g := clv.GammaGamma{P: 0.5 + 10*rng.Float64(), Q: 0.5 + 10*rng.Float64(), Gamma: 1 + 50*rng.Float64()}
		theta := []float64{g.P, g.Q, g.Gamma}
		v, grad := clv.GammaGammaLikelihood(rows, theta)
		assert.InDelta(t, g.LogLikelihood(rows), v, 1e-9*math.Abs(v))
		checkGradient(t, ll, theta, grad)
	}
}

// TestFitBGNBDRecoversSimulatedParameters: within four asymptotic
// standard errors (at most 3.2 on seeds 1–40), which are themselves
// small. The standard errors vary with the sample: b's was 4.4–5.7 % of
// b on seeds 1–40 (mean 5.0 %, sd 0.33 %), so the bound is 7 %, six sd
// above the mean; a Hessian half as curved would give 7.9 % here.
func TestFitBGNBDRecoversSimulatedParameters(t *testing.T) {
	rows := simulate(100_000, cdnowLike, 12)
	m, err := clv.FitBGNBD(context.Background(), rows, clv.FitOptions{Workers: 2})
	require.NoError(t, err)
	tr := cdnowLike
	require.Len(t, m.Fit.StdErr, 4)
	for i, c := range []struct{ truth, est float64 }{{tr.r, m.R}, {tr.alpha, m.Alpha}, {tr.a, m.A}, {tr.b, m.B}} {
		assert.InDelta(t, c.truth, c.est, 4*m.Fit.StdErr[i], "parameter %d", i)
		assert.Less(t, m.Fit.StdErr[i], 0.07*c.truth, "parameter %d", i)
	}
	truthLL := (&clv.BGNBD{R: tr.r, Alpha: tr.alpha, A: tr.a, B: tr.b}).LogLikelihood(rows)
	assert.GreaterOrEqual(t, m.Fit.LogLikelihood, truthLL, "the maximum must beat the true parameters")
	assert.InDelta(t, m.LogLikelihood(rows), m.Fit.LogLikelihood, 1e-6)
	assert.Equal(t, len(rows), m.Fit.N)
	assert.Less(t, m.Fit.GradientNorm, 1e-7)
}

func TestFitGammaGammaRecoversSimulatedParameters(t *testing.T) {
	rows := simulate(100_000, cdnowLike, 13)
	g, err := clv.FitGammaGamma(context.Background(), rows, clv.FitOptions{})
	require.NoError(t, err)
	tr := cdnowLike
	require.Len(t, g.Fit.StdErr, 3)
	for i, c := range []struct{ truth, est float64 }{{tr.p, g.P}, {tr.q, g.Q}, {tr.gamma, g.Gamma}} {
		assert.InDelta(t, c.truth, c.est, 4*g.Fit.StdErr[i], "parameter %d", i)
		assert.Less(t, g.Fit.StdErr[i], 0.06*c.truth, "parameter %d", i)
	}
	truthLL := (&clv.GammaGamma{P: tr.p, Q: tr.q, Gamma: tr.gamma}).LogLikelihood(rows)
	assert.GreaterOrEqual(t, g.Fit.LogLikelihood, truthLL)
}

func TestFitHeavyBuyersStayFinite(t *testing.T) {
	rows := simulate(5000, cdnowLike, 14)
	for i := range 50 {
		x := math.Pow(10, 2+float64(i%5)) // 100 .. 1e6 repeat purchases
		rows = append(rows, clv.RFT{Frequency: x, Recency: 38 - float64(i%7), T: 39, MeanValue: 30})
	}
	m, err := clv.FitBGNBD(context.Background(), rows, clv.FitOptions{})
	require.NoError(t, err)
	for _, v := range []float64{m.R, m.Alpha, m.A, m.B, m.Fit.LogLikelihood} {
		assert.False(t, math.IsNaN(v) || math.IsInf(v, 0))
	}
	for _, c := range rows[len(rows)-50:] {
		p, e := m.PAlive(c), m.ExpectedPurchases(c, 39)
		assert.True(t, p >= 0 && p <= 1, "P(alive) %v", p)
		assert.False(t, math.IsNaN(e) || math.IsInf(e, 0) || e < 0, "E %v for %+v", e, c)
	}
}

func TestFitErrors(t *testing.T) {
	ctx := context.Background()
	_, err := clv.FitBGNBD(ctx, nil, clv.FitOptions{})
	require.ErrorIs(t, err, clv.ErrNoData)
	_, err = clv.FitBGNBD(ctx, []clv.RFT{{Frequency: 1, Recency: 5, T: 4}}, clv.FitOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	_, err = clv.FitBGNBD(ctx, []clv.RFT{{Frequency: math.NaN(), T: 4}}, clv.FitOptions{})
	require.ErrorIs(t, err, clv.ErrInvalid)
	_, err = clv.FitBGNBD(ctx, []clv.RFT{{T: 4}}, clv.FitOptions{Workers: -1})
	require.ErrorIs(t, err, clv.ErrInvalid)
	_, err = clv.FitGammaGamma(ctx, []clv.RFT{{T: 4}, {Frequency: 2, Recency: 1, T: 3}}, clv.FitOptions{})
	require.ErrorIs(t, err, clv.ErrNoData, "no positive mean value")

	rows := simulate(2000, cdnowLike, 15)
	_, err = clv.FitBGNBD(ctx, rows, clv.FitOptions{MaxIterations: 2})
	require.ErrorIs(t, err, clv.ErrNotConverged)
	assert.Contains(t, err.Error(), "iterations")

	// Without repeat purchases the likelihood rises towards 1 as α → ∞
	// (and, for BG/NBD, as r → 0): there is no maximum, penalised or not
	// (the penalty leaves α free), and the fit must say so rather than
	// return NaN, or suggest a penalty.
	once := make([]clv.RFT, 100)
	for i := range once {
		once[i] = clv.RFT{T: float64(1 + i%30)}
	}
	for _, fit := range []func(context.Context, []clv.RFT, clv.FitOptions) (*clv.BGNBD, error){clv.FitBGNBD, clv.FitMBGNBD} {
		for _, opts := range []clv.FitOptions{{}, {Fallback: 1}, {Penalty: 1}} {
			m, err := fit(ctx, once, opts)
			require.ErrorIs(t, err, clv.ErrNotConverged, "options %+v", opts)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), "no customer has a repeat purchase", "options %+v", opts)
			assert.NotContains(t, err.Error(), "Penalty (such as 1) gives a finite estimate", "options %+v", opts)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = clv.FitBGNBD(cctx, rows, clv.FitOptions{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = clv.FitBGNBD(ctx, rows, clv.FitOptions{Penalty: -1})
	require.ErrorIs(t, err, clv.ErrInvalid)
}

// When every customer has the same dropout probability, the likelihood
// may have its supremum as a and b go to infinity together: the exact fit
// must then say so, and a penalty must give a finite estimate that still
// predicts well.
//
// "May": the sample decides. Of 20,000 such customers (seeds 1–21), the
// exact fit failed so on 8 samples — seed 31's, the fixture here, is one
// — and on the others returned a finite maximum (a ≈ 10–170, the
// sample's chance heterogeneity) or stopped at a ≈ 10⁵–10⁶, where the
// likelihood is flat to within its rounding. So the exact-fit and
// Fallback checks use seed 31's sample; the penalised estimate is checked
// on it and, under testdata.Long, on three more samples.
//
// The penalised estimate is biased towards heterogeneity, as
// FitOptions.Penalty says. On seeds 1–40 its a/(a+b) was 0.1985–0.2259
// (mean 0.2129, sd 0.0054), and its holdout purchases were −2.9 % to
// +7.1 % of the actual ones (mean +1.9 %, sd 2.2 %: the prediction's own
// noise, 1.4 %, plus the estimate's). So each sample must give a/(a+b)
// in [0.19, 0.235] and a prediction within 10 % (about 4 sd from the
// mean), and the samples together, under testdata.Long, a mean a/(a+b)
// within 0.025 of 0.2 and a total prediction within 6 % (about 4 sd of a
// four-sample mean). r and α stay within four standard errors (at most
// 2.0 on seeds 1–40). Its log-likelihood is below the unpenalised
// supremum, which exceeds the true parameters' by half a χ² with four
// degrees of freedom: at most 10 but once in 2,000 samples (at most 2.2
// on seeds 1–40); and a weaker penalty (10⁻³) reaches a higher one
// (2.6–9.5 higher on seeds 1–40), as a penalised maximum must. On seed
// 31's sample, the estimate with a 20 % larger a (a/(a+b) = 0.243) fails
// the first bound, and with a 50 % larger one (0.287, holdout −16 %) both.
func TestFitHomogeneousDropout(t *testing.T) {
	tr := cdnowLike
	tr.a, tr.b = 2e5, 8e5 // p = 0.2 for everybody
	rows, future := simulateHoldout(20_000, tr, 31, 39)
	ctx := context.Background()
	_, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{})
	require.ErrorIs(t, err, clv.ErrNotConverged)
	assert.Contains(t, err.Error(), "dropout probability hardly varies")
	assert.Contains(t, err.Error(), "Penalty")

	m, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{Penalty: 1})
	require.NoError(t, err)
	t.Logf("penalised: %+v", m)
	assert.Equal(t, 1.0, m.Fit.Penalty)
	assert.Empty(t, m.Fit.ExactError)
	weak, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{Penalty: 1e-3})
	require.NoError(t, err)
	assert.Greater(t, weak.Fit.LogLikelihood, m.Fit.LogLikelihood, "a weaker penalty fits the rows better")

	// the penalised estimate, on seed 31's sample and, in the long suite,
	// on three more
	truthM := &clv.BGNBD{R: tr.r, Alpha: tr.alpha, A: tr.a, B: tr.b}
	var sumP, sumAct, sumPred float64
	seeds := []uint64{31, 1, 2, 3}[:testdata.Scale(4, 1)]
	for _, seed := range seeds {
		pm, rs, fut := m, rows, future
		if seed != 31 {
			rs, fut = simulateHoldout(20_000, tr, seed, 39)
			pm, err = clv.FitBGNBD(ctx, rs, clv.FitOptions{Penalty: 1})
			require.NoError(t, err, "seed %d", seed)
		}
		p := pm.A / (pm.A + pm.B)
		assert.GreaterOrEqual(t, p, 0.19, "seed %d: a/(a+b)", seed)
		assert.LessOrEqual(t, p, 0.235, "seed %d: a/(a+b)", seed)
		assert.InDelta(t, tr.r, pm.R, 4*pm.Fit.StdErr[0], "seed %d: r", seed)
		assert.InDelta(t, tr.alpha, pm.Alpha, 4*pm.Fit.StdErr[1], "seed %d: α", seed)
		assert.Less(t, pm.Fit.LogLikelihood, truthM.LogLikelihood(rs)+10, "seed %d: below the unpenalised supremum", seed)
		var act, pred float64
		for i, c := range rs {
			act += float64(fut[i])
			pred += pm.ExpectedPurchases(c, 39)
		}
		t.Logf("seed %d: a/(a+b) %.4f, holdout purchases %.0f, predicted %.1f (%+.2f %%)", seed, p, act, pred, 100*(pred-act)/act)
		assert.InEpsilon(t, act, pred, 0.10, "seed %d: holdout purchases", seed)
		sumP, sumAct, sumPred = sumP+p, sumAct+act, sumPred+pred
	}
	if len(seeds) > 1 {
		t.Logf("%d samples: mean a/(a+b) %.4f, holdout %+.2f %%", len(seeds), sumP/float64(len(seeds)), 100*(sumPred-sumAct)/sumAct)
		assert.InDelta(t, 0.2, sumP/float64(len(seeds)), 0.025, "mean a/(a+b)")
		assert.InEpsilon(t, sumAct, sumPred, 0.06, "holdout purchases of the samples together")
	}

	// Fallback makes the second fit itself: the same estimate as the
	// penalised fit, saying why the exact one failed. The long suite asks
	// it of seed 31's 20,000 rows; the quick suite of 5,000 rows of the
	// same process (seed 31), whose exact fit fails the same way, at a
	// quarter of the cost of the six fits.
	fbRows, fbWant := rows, m
	if !testdata.Long() {
		fbRows, _ = simulateHoldout(5_000, tr, 31, 39)
		fbWant, err = clv.FitBGNBD(ctx, fbRows, clv.FitOptions{Penalty: 1})
		require.NoError(t, err)
	}
	for i, fit := range []func(context.Context, []clv.RFT, clv.FitOptions) (*clv.BGNBD, error){clv.FitBGNBD, clv.FitMBGNBD} {
		want := fbWant // BG/NBD: the penalised fit of the same rows
		if i > 0 {
			want, err = fit(ctx, fbRows, clv.FitOptions{Penalty: 1})
			require.NoError(t, err)
		}
		got, err := fit(ctx, fbRows, clv.FitOptions{Fallback: 1})
		require.NoError(t, err)
		assert.Equal(t, want.R, got.R)
		assert.Equal(t, want.B, got.B)
		assert.Equal(t, 1.0, got.Fit.Penalty)
		assert.Contains(t, got.Fit.ExactError, "hardly varies")
		assert.Equal(t, want.Fit.Iterations, got.Fit.Iterations)
	}
}

// Fallback is used only when the exact fit does not converge: a fit that
// converges is the exact one, and an error of another kind is returned as
// it is.
func TestFitFallbackOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	rows := simulate(2000, cdnowLike, 15)
	exact, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{})
	require.NoError(t, err)
	m, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{Fallback: 1})
	require.NoError(t, err)
	assert.Equal(t, exact, m)
	assert.Zero(t, m.Fit.Penalty)

	gg, err := clv.FitGammaGamma(ctx, rows, clv.FitOptions{Fallback: 1})
	require.NoError(t, err)
	assert.Zero(t, gg.Fit.Penalty)
	// values that do not vary: no finite Gamma-Gamma maximum, a finite
	// penalised one
	flat := []clv.RFT{{Frequency: 2, Recency: 3, T: 5, MeanValue: 10}, {Frequency: 3, Recency: 4, T: 5, MeanValue: 10}, {Frequency: 1, Recency: 1, T: 5, MeanValue: 10}}
	_, err = clv.FitGammaGamma(ctx, flat, clv.FitOptions{})
	require.ErrorIs(t, err, clv.ErrNotConverged)
	gg, err = clv.FitGammaGamma(ctx, flat, clv.FitOptions{Fallback: 1})
	require.NoError(t, err)
	assert.Equal(t, 1.0, gg.Fit.Penalty)
	assert.NotEmpty(t, gg.Fit.ExactError)

	// a cancelled fit is not retried; a fit that fails penalised too
	// reports the penalised failure
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = clv.FitBGNBD(cctx, rows, clv.FitOptions{Fallback: 1})
	require.ErrorIs(t, err, context.Canceled)
	_, err = clv.FitBGNBD(ctx, rows, clv.FitOptions{Fallback: 1, MaxIterations: 2})
	require.ErrorIs(t, err, clv.ErrNotConverged)
	_, err = clv.FitBGNBD(ctx, rows, clv.FitOptions{Fallback: -1})
	require.ErrorIs(t, err, clv.ErrInvalid)
}

// hyp2f1 sums the Gauss hypergeometric series directly (for |z| < 1 and
// moderate parameters).
func hyp2f1(a, b, c, z float64) float64 {
	sum, term := 1.0, 1.0
	for n := 0.0; n < 100000; n++ {
		term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
		sum += term
		if math.Abs(term) < 1e-17*math.Abs(sum) {
			break
		}
	}
	return sum
}

// textbookExpected is eq. 10 of Fader, Hardie & Lee (2005) as printed.
func textbookExpected(m clv.BGNBD, c clv.RFT, t float64) float64 {
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	x := c.Frequency
	z := t / (al + c.T + t)
	num := (a + b + x - 1) / (a - 1) * (1 - math.Pow((al+c.T)/(al+c.T+t), r+x)*hyp2f1(r+x, b+x, a+b+x-1, z))
	den := 1.0
	if x > 0 {
		den += a / (b + x - 1) * math.Pow((al+c.T)/(al+c.Recency), r+x)
	}
	return num / den
}

func TestExpectedPurchasesMatchesTextbookFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	for range 500 {
		m := randomModel(rng)
		if math.Abs(m.A-1) < 0.05 {
			continue // the textbook form cancels badly there
		}
		T := 1 + 50*rng.Float64()
		x := float64(rng.IntN(12))
		c := clv.RFT{Frequency: x, Recency: T * rng.Float64(), T: T}
		if x == 0 {
			c.Recency = 0
		}
		tt := 60 * rng.Float64()
		want := textbookExpected(m, c, tt)
		assert.InDelta(t, want, m.ExpectedPurchases(c, tt), 1e-9*math.Max(1e-3, want), "%+v %+v t=%v", m, c, tt)
	}
}

// For huge a and b the dropout probability is a/(a+b+x) for everybody
// alive, and E[Y(t)] tends to E_λ[(1 − e^(−λpt))/p] with λ ~ Gamma(r+x,
// α+T), that is (1 − ((α+T)/(α+T+pt))^(r+x))/p.
func TestExpectedPurchasesLargeA(t *testing.T) {
	for _, x := range []float64{0, 1, 5, 50, 5000} {
		for _, scale := range []float64{1e3, 1e6, 1e9} {
			m := clv.BGNBD{R: 0.8, Alpha: 5, A: 0.2 * scale, B: 0.8 * scale}
			c := clv.RFT{Frequency: x, Recency: 30, T: 30}
			if x == 0 {
				c.Recency = 0
			}
			p := m.A / (m.A + m.B + x)
			for _, tt := range []float64{1, 39, 500} {
				limit := (1 - math.Pow((m.Alpha+c.T)/(m.Alpha+c.T+p*tt), m.R+x)) / p * m.PAlive(c)
				got := m.ExpectedPurchases(c, tt)
				require.False(t, math.IsNaN(got), "x=%v scale=%v t=%v", x, scale, tt)
				assert.InEpsilon(t, limit, got, 20/scale+1e-9, "x=%v scale=%v t=%v", x, scale, tt)
			}
		}
	}
}

func TestExpectedPurchasesProperties(t *testing.T) {
	m := clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	c := clv.RFT{Frequency: 3, Recency: 20, T: 38}
	// Slope at 0: E[λ | data, alive] · P(alive) = (r+x)/(α+T) · P(alive).
	h := 1e-7
	assert.InEpsilon(t, (m.R+c.Frequency)/(m.Alpha+c.T)*m.PAlive(c), m.ExpectedPurchases(c, h)/h, 1e-5)
	assert.Zero(t, m.ExpectedPurchases(c, 0))
	// Increasing and concave in t.
	prev, prevInc := 0.0, math.Inf(1)
	for k := 1; k <= 100; k++ {
		e := m.ExpectedPurchases(c, float64(k)*5)
		assert.Greater(t, e, prev)
		assert.LessOrEqual(t, e-prev, prevInc*(1+1e-12))
		prev, prevInc = e, e-prev
	}
	// Continuous through a = 1, where the textbook form is 0/0.
	at := func(a float64) float64 {
		mm := m
		mm.A = a
		return mm.ExpectedPurchases(c, 39)
	}
	assert.InEpsilon(t, at(1-1e-7), at(1), 1e-6)
	assert.InEpsilon(t, at(1+1e-7), at(1), 1e-6)
	// Long horizons still converge.
	far := m.ExpectedPurchases(clv.RFT{T: 0.5}, 5000)
	assert.False(t, math.IsNaN(far) || math.IsInf(far, 0))
	assert.Greater(t, far, m.ExpectedPurchases(clv.RFT{T: 0.5}, 500))
}

func TestPAlive(t *testing.T) {
	m := clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	assert.Equal(t, 1.0, m.PAlive(clv.RFT{T: 30}), "no repeat purchase: cannot have dropped out")
	// Direct formula for moderate x.
	c := clv.RFT{Frequency: 2, Recency: 10, T: 39}
	want := 1 / (1 + m.A/(m.B+1)*math.Pow((m.Alpha+39)/(m.Alpha+10), m.R+2))
	assert.InDelta(t, want, m.PAlive(c), 1e-14)
	// Falls as the silence since the last purchase grows.
	prev := 1.0
	for rec := 39.0; rec >= 0; rec -= 3 {
		p := m.PAlive(clv.RFT{Frequency: 5, Recency: rec, T: 39})
		assert.Less(t, p, prev)
		prev = p
	}
	// No overflow for huge x.
	assert.Zero(t, m.PAlive(clv.RFT{Frequency: 1e7, Recency: 1, T: 39}))
	assert.InDelta(t, 1, m.PAlive(clv.RFT{Frequency: 1e7, Recency: 39, T: 39}), 1e-6)
}

// TestSmallBKeepsItsDigits: b+x−1 (b+x for MBG/NBD) is summed with the
// whole number x−1 (x) first, so a tiny b is not lost to (b+x)−1: P(alive),
// the expected purchases, the likelihood and the fit's objective keep
// their relative precision. The references were computed with mpmath at
// 110 digits (P(alive), ExpectedPurchases over 10 units) and 80 digits
// (the log-likelihood, FitBGNBD's formula with its log-sum-exp taken
// exactly).
func TestSmallBKeepsItsDigits(t *testing.T) {
	cases := []struct {
		name              string
		m                 clv.BGNBD
		c                 clv.RFT
		palive, e10, logL float64
	}{
		{"BG/NBD b=1e-15 x=1", clv.BGNBD{R: 1, Alpha: 1, A: 1, B: 1e-15}, clv.RFT{Frequency: 1, Recency: 10, T: 10},
			9.99999999999999e-16, 1.1228176411155278e-15, -4.7957905455967410881},
		{"BG/NBD a=b=1e-9 x=1", clv.BGNBD{R: 1, Alpha: 1, A: 1e-9, B: 1e-9}, clv.RFT{Frequency: 1, Recency: 10, T: 10},
			0.5, 0.909090908286616, -4.7957905455967410881},
		{"MBG/NBD b=1e-12 x=0", clv.BGNBD{R: 1, Alpha: 1, A: 0.5, B: 1e-12, Modified: true}, clv.RFT{T: 10},
			1.8181818181814876e-13, 1.3202503416812159e-13, -1.8181818181798346742e-12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.InEpsilon(t, tc.palive, tc.m.PAlive(tc.c), 1e-13, "P(alive)")
			assert.InEpsilon(t, tc.e10, tc.m.ExpectedPurchases(tc.c, 10), 1e-13, "expected purchases")
			rows := []clv.RFT{tc.c}
			// a sum of terms of order 1: its error is absolute
			assert.InDelta(t, tc.logL, tc.m.LogLikelihood(rows), 1e-13, "LogLikelihood")
			objective := clv.BGNBDLikelihood
			if tc.m.Modified {
				objective = clv.MBGNBDLikelihood
			}
			ll, _ := objective(rows, []float64{tc.m.R, tc.m.Alpha, tc.m.A, tc.m.B}, 1)
			assert.InDelta(t, tc.logL, ll, 1e-13, "the fit's log-likelihood")
		})
	}
}

// TestHoldoutOfSimulatedProcess checks the conditional expectation end to
// end: customers simulated beyond T buy, on average, what the model with
// the true parameters predicts given their calibration history.
//
// Within four standard errors per calibration frequency, not a fixed
// share: the residuals (holdout purchases − prediction) of the customers
// are independent with mean 0, so their sum has the standard error
// √Σ residual², 0.7–1.7 % of the prediction at 200,000 customers. On
// seeds 1–12 and 18 the groups were within 2.8 of them (a bound of 4 %,
// 2.4 of x = 3's errors, failed about one seed in 50). The standard
// error must stay under 2.5 % so the bound keeps its power: the model
// with a 20 % larger b over-predicts the x = 1 group of seed 18 by 7.7
// standard errors. The long suite checks a second sample (seed 1).
func TestHoldoutOfSimulatedProcess(t *testing.T) {
	const holdout = 39
	tr := cdnowLike
	m := clv.BGNBD{R: tr.r, Alpha: tr.alpha, A: tr.a, B: tr.b}
	for _, seed := range []uint64{18, 1}[:testdata.Scale(2, 1)] {
		rows, future := simulateHoldout(200_000, cdnowLike, seed, holdout)
		var act, pred, sq, n [5]float64
		for i, c := range rows {
			k := min(int(c.Frequency), 4)
			e := m.ExpectedPurchases(c, holdout)
			n[k]++
			act[k] += float64(future[i])
			pred[k] += e
			sq[k] += (float64(future[i]) - e) * (float64(future[i]) - e)
		}
		for k := range act {
			se := math.Sqrt(sq[k])
			t.Logf("seed %d x=%d%s n=%6.0f actual %.4f predicted %.4f (%+.2f standard errors)", seed, k, map[bool]string{true: "+"}[k == 4], n[k], act[k]/n[k], pred[k]/n[k], (act[k]-pred[k])/se)
			assert.InDelta(t, act[k], pred[k], 4*se, "seed %d x=%d", seed, k)
			assert.Less(t, se, 0.025*pred[k], "seed %d x=%d: standard error", seed, k)
		}
	}
}

// TestSummarySortNumberingFree: Summary.Sort orders the rows and carries
// Customers, Spend and Holdout with them, so that the same customers
// numbered otherwise (the rows shuffled) give, sorted, the same rows and
// a bit-identical fit.
func TestSummarySortNumberingFree(t *testing.T) {
	rows := simulate(3000, cdnowLike, 7)
	n := len(rows)
	mk := func(order []int) *clv.Summary {
		s := &clv.Summary{HoldoutLength: 1}
		for _, i := range order {
			s.Rows = append(s.Rows, rows[i])
			s.Customers = append(s.Customers, affinity.CustomerID(i))
			s.Spend = append(s.Spend, float64(i))
			s.Holdout = append(s.Holdout, i)
		}
		return s
	}
	ident := make([]int, n)
	for i := range ident {
		ident[i] = i
	}
	shuffled := slices.Clone(ident)
	rand.New(rand.NewPCG(7, 8)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	a, b := mk(ident), mk(shuffled)
	a.Sort()
	b.Sort()
	require.Equal(t, a.Rows, b.Rows)
	for k, s := range []*clv.Summary{a, b} {
		for i, c := range s.Customers {
			require.Equal(t, rows[c], s.Rows[i], "summary %d row %d: its customer's", k, i)
			require.Equal(t, float64(c), s.Spend[i])
			require.Equal(t, int(c), s.Holdout[i])
		}
		require.True(t, slices.IsSortedFunc(s.Rows, func(x, y clv.RFT) int {
			return cmp.Or(cmp.Compare(x.Frequency, y.Frequency), cmp.Compare(x.Recency, y.Recency), cmp.Compare(x.T, y.T), cmp.Compare(x.MeanValue, y.MeanValue))
		}))
	}
	ma, err := clv.FitBGNBD(context.Background(), a.Rows, clv.FitOptions{})
	require.NoError(t, err)
	mb, err := clv.FitBGNBD(context.Background(), b.Rows, clv.FitOptions{})
	require.NoError(t, err)
	assert.Equal(t, ma, mb)
}
