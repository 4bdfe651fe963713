package clv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/shopaffinity/affinity/internal/parallel"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// FitOptions configures [FitBGNBD], [FitMBGNBD] and [FitGammaGamma]. The
// zero value means the defaults. A negative count, or a number that is
// negative, NaN or infinite, makes the fits return an error wrapping
// [ErrInvalid] that names the field and its value.
type FitOptions struct {
	// MaxIterations bounds the quasi-Newton (BFGS) iterations; 0 means 200.
	// Reaching it is an error wrapping [ErrNotConverged].
	MaxIterations int
	// Workers is the number of goroutines that evaluate the likelihood; 0
	// means 1. Partial sums are taken over fixed blocks of rows and added in
	// block order, so the result does not depend on Workers.
	Workers int
	// GradientTolerance stops the search when every component of the
	// gradient of the mean log-likelihood per customer, with respect to the
	// log-parameters, is below it; 0 means 1e-8, which puts the parameters
	// within about 1e-5 relative of the exact maximum, far inside their
	// standard errors.
	GradientTolerance float64
	// Penalty, when positive, adds Penalty·Σ(ln θ)² over the shape
	// parameters θ (r, a, b of the BG/NBD and MBG/NBD; p, q of the Gamma-Gamma; not the
	// scale parameters α and γ, so the penalty does not depend on the time
	// or currency unit) to the negative total log-likelihood: a normal
	// prior on each ln θ with mean 0 and variance 1/(2·Penalty), whose
	// weight fades as the data grow. It keeps the estimate finite when the
	// likelihood has its supremum at infinity — typically a and b growing
	// together when the dropout probability hardly varies between
	// customers — at the price of a bias towards θ = 1. It cannot where
	// the supremum lies at α → ∞, which the penalty leaves free: when no
	// customer has a repeat purchase, the BG/NBD and MBG/NBD likelihoods
	// rise towards 1 as α grows whatever r, a and b, and those fits fail
	// with or without a penalty (see [FitBGNBD]). 0 means none: the exact
	// maximum likelihood estimate, as in the papers. 1 is a mild value.
	Penalty float64
	// Fallback, when positive and Penalty is 0, is the penalty of a second
	// fit made when the exact one does not converge (an error wrapping
	// [ErrNotConverged]; not after a cancellation or invalid data): the
	// exact estimate where it exists, a finite shrunk one where the
	// likelihood has its supremum at infinity in the shape parameters (not
	// where it has it at α → ∞, as without repeat purchases: see
	// Penalty). [FitInfo.Penalty] says which one was returned. 0 means no second fit. When both fail the
	// error is the second fit's, and it wraps ErrNotConverged too.
	Fallback float64
}

func (o FitOptions) withDefaults() (FitOptions, error) {
	switch {
	case o.MaxIterations < 0:
		return o, badOption("FitOptions.MaxIterations", o.MaxIterations, "a count ≥ 0 (0: 200)")
	case o.Workers < 0:
		return o, badOption("FitOptions.Workers", o.Workers, "a count ≥ 0 (0: 1)")
	case !finiteAtLeast(o.GradientTolerance, 0):
		return o, badOption("FitOptions.GradientTolerance", o.GradientTolerance, "a finite number ≥ 0 (0: 1e-8)")
	case !finiteAtLeast(o.Penalty, 0):
		return o, badOption("FitOptions.Penalty", o.Penalty, "a finite number ≥ 0 (0: none)")
	case !finiteAtLeast(o.Fallback, 0):
		return o, badOption("FitOptions.Fallback", o.Fallback, "a finite number ≥ 0 (0: none)")
	}
	if o.MaxIterations == 0 {
		o.MaxIterations = 200
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.GradientTolerance == 0 {
		o.GradientTolerance = 1e-8
	}
	return o, nil
}

// finiteAtLeast reports whether v is a finite number ≥ least: NaN and
// ±Inf are not.
func finiteAtLeast(v, least float64) bool { return v >= least && !math.IsInf(v, 1) }

// badOption returns the error of an option field whose value v it does
// not take, naming the field and saying what it takes (want), so that a
// NaN or an infinity reads as such and not as, say, a negative value.
func badOption(field string, v any, want string) error {
	return fmt.Errorf("%w: %s = %v: want %s", ErrInvalid, field, v, want)
}

// FitInfo describes how a maximum likelihood fit ended.
type FitInfo struct {
	// LogLikelihood is the total log-likelihood (natural log) at the
	// estimate, without the penalty.
	LogLikelihood float64
	// N is the number of customers the model was fitted on.
	N int
	// Iterations and Evaluations count BFGS iterations and likelihood
	// (with gradient) evaluations, those for the Hessian included.
	Iterations, Evaluations int
	// GradientNorm is the largest absolute component of the gradient of
	// the mean log-likelihood per customer with respect to the
	// log-parameters at the optimum.
	GradientNorm float64
	// StdErr holds the asymptotic standard errors of the parameters, in
	// the order of the model's fields, from the inverse of the observed
	// information (the Hessian of the log-likelihood, penalty included).
	StdErr []float64
	// Penalty is the penalty of the estimate: [FitOptions.Penalty], or
	// FitOptions.Fallback when the exact fit did not converge and the
	// second one did. Iterations and Evaluations then count the second
	// fit only.
	Penalty float64
	// ExactError is the exact fit's error message when the estimate is
	// the Fallback's, and "" otherwise: why the likelihood had no finite
	// maximum.
	ExactError string
}

// blockRows is the number of rows of one partial sum of a likelihood.
const blockRows = 1 << 13

// objective evaluates a negative log-likelihood and its gradient with
// respect to the log-parameters. The model fills the per-block partial sums
// of its log-likelihood (index 0) and gradient with respect to the plain
// parameters (indexes 1…).
type objective struct {
	n       int // rows
	dim     int
	workers int
	ctx     context.Context
	// prepare sets the parameters (plain scale) before the blocks run.
	prepare func(theta []float64)
	// block adds the sums of rows [lo, hi) into out (len dim+1).
	block func(lo, hi int, out []float64)
	// finish turns the summed block results into the log-likelihood and
	// its gradient (plain scale) in place.
	finish func(sum []float64)
	// shape lists the indexes of the parameters the penalty applies to.
	shape   []int
	penalty float64
	// diagnose explains, from the parameters where a fit failed, why the
	// likelihood may have no finite maximum ("" when nothing stands out).
	diagnose func(theta []float64) string

	partial []float64 // per block, dim+1 each
	theta   []float64
	sum     []float64
	evals   int
	err     error
	// panic is what the log-likelihood panicked with: gonum evaluates it
	// on a goroutine of its own, where a panic would end the process, so
	// eval stops the fit and maximizeOnce raises it again on the caller's
	// goroutine
	panic *parallel.Panic
}

// eval returns the negative mean log-likelihood at the log-parameters lx
// and stores its gradient with respect to them in grad.
func (o *objective) eval(lx, grad []float64) float64 {
	o.evals++
	for i, v := range lx {
		o.theta[i] = math.Exp(v)
		if o.theta[i] == 0 || math.IsInf(o.theta[i], 0) {
			for i := range grad {
				grad[i] = math.NaN()
			}
			return math.Inf(1)
		}
	}
	if err := o.guardedSums(); err != nil {
		o.err = err
		for i := range grad {
			grad[i] = math.NaN()
		}
		return math.Inf(1)
	}
	scale := -1 / float64(o.n)
	for i := range grad {
		grad[i] = scale * o.sum[i+1] * o.theta[i]
	}
	f := scale * o.sum[0]
	pen := o.penalty / float64(o.n)
	for _, i := range o.shape {
		f += pen * lx[i] * lx[i]
		grad[i] += 2 * pen * lx[i]
	}
	if math.IsNaN(f) {
		return math.Inf(1)
	}
	return f
}

// guardedSums is sums at o.theta; a panic in it (a model's block, or
// parallel.For raising a worker's) is kept in o.panic and returned as
// the error that stops the fit.
func (o *objective) guardedSums() error {
	err := parallel.Guard(func() error { return o.sums(o.theta) })
	if p, ok := err.(*parallel.Panic); ok {
		o.panic = p // parallel.For's keeps the worker's stack
	}
	return err
}

// sums sets o.sum to the log-likelihood and its gradient with respect to
// the plain parameters theta, or returns ctx.Err() (checked before each
// block of rows) once o.ctx is done; o.sum is meaningless then.
func (o *objective) sums(theta []float64) error {
	if o.sum == nil {
		o.sum = make([]float64, o.dim+1)
	}
	o.prepare(theta)
	w := o.dim + 1
	nb := (o.n + blockRows - 1) / blockRows
	if cap(o.partial) < nb*w {
		o.partial = make([]float64, nb*w)
	}
	part := o.partial[:nb*w]
	clear(part)
	err := parallel.For(o.ctx, o.workers, nb, func(_, b int) error {
		o.block(b*blockRows, min((b+1)*blockRows, o.n), part[b*w:(b+1)*w])
		return nil
	})
	if err != nil {
		return err
	}
	clear(o.sum)
	for b := range nb {
		floats.Add(o.sum, part[b*w:(b+1)*w])
	}
	o.finish(o.sum)
	return nil
}

// maximize runs BFGS from the plain-scale start theta0 and returns the
// plain-scale optimum and the fit info; with opts.Fallback, again with
// that penalty when the exact fit does not converge.
func (o *objective) maximize(model string, theta0 []float64, opts FitOptions) ([]float64, FitInfo, error) {
	theta, info, err := o.maximizeOnce(model, theta0, opts)
	if opts.Penalty == 0 && opts.Fallback > 0 && o.err == nil && errors.Is(err, ErrNotConverged) {
		exact := err.Error()
		opts.Penalty = opts.Fallback
		o.evals = 0
		if theta, info, err = o.maximizeOnce(model, theta0, opts); err == nil {
			info.ExactError = exact
		}
	}
	info.Penalty = opts.Penalty
	return theta, info, err
}

// maximizeOnce is maximize without the fallback.
func (o *objective) maximizeOnce(model string, theta0 []float64, opts FitOptions) ([]float64, FitInfo, error) {
	o.theta = make([]float64, o.dim)
	o.penalty = opts.Penalty
	lx := make([]float64, o.dim)
	for i, v := range theta0 {
		lx[i] = math.Log(v)
	}
	// gonum asks for the value and the gradient at the same point in
	// separate calls; one pass computes both, so cache the last point.
	var (
		lastX = make([]float64, o.dim)
		lastG = make([]float64, o.dim)
		lastF float64
		have  bool
	)
	at := func(x []float64) {
		if have && floats.Equal(x, lastX) {
			return
		}
		copy(lastX, x)
		lastF = o.eval(x, lastG)
		have = true
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { at(x); return lastF },
		Grad: func(g, x []float64) { at(x); copy(g, lastG) },
		Status: func() (optimize.Status, error) {
			if o.err != nil {
				return optimize.Failure, o.err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: opts.GradientTolerance,
		MajorIterations:   opts.MaxIterations,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-14, Relative: 1e-15, Iterations: 20},
	}
	res, err := optimize.Minimize(p, lx, settings, &optimize.BFGS{GradStopThreshold: opts.GradientTolerance})
	if p := o.panic; p != nil {
		o.panic = nil
		panic(p)
	}
	if o.err != nil {
		return nil, FitInfo{}, fmt.Errorf("clv: %s fit: %w", model, o.err)
	}
	if res == nil {
		return nil, FitInfo{}, fmt.Errorf("%w: %s: %w", ErrNotConverged, model, err)
	}
	info := FitInfo{
		N:            o.n,
		Iterations:   res.MajorIterations,
		Evaluations:  o.evals,
		GradientNorm: floats.Norm(res.Gradient, math.Inf(1)),
	}
	theta := make([]float64, o.dim)
	var pen float64
	for i, v := range res.X {
		theta[i] = math.Exp(v)
		if slices.Contains(o.shape, i) {
			pen += o.penalty / float64(o.n) * v * v
		}
	}
	info.LogLikelihood = -(res.F - pen) * float64(o.n)
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if why := o.diagnose(theta); why != "" {
			msg += ": " + why
			if o.penalty == 0 {
				msg += "; FitOptions.Penalty (such as 1) gives a finite estimate"
			}
		}
		return fmt.Errorf("%w: %s: %s", ErrNotConverged, model, msg)
	}
	bad := math.IsNaN(info.GradientNorm) || math.IsInf(res.F, 0) || math.IsNaN(res.F)
	for _, v := range theta {
		bad = bad || v == 0 || math.IsInf(v, 0) || math.IsNaN(v)
	}
	// A line search that can no longer move at a point whose gradient is
	// already tiny has found the optimum to machine precision.
	stuck := errors.Is(err, optimize.ErrNoProgress) || errors.Is(err, optimize.ErrLinesearcherFailure)
	switch {
	case bad:
		return nil, info, fail("parameters left the finite range after %d iterations (at %.4g)", info.Iterations, theta)
	case err != nil && !(stuck && info.GradientNorm < 1e3*opts.GradientTolerance):
		return nil, info, fail("%v after %d iterations (at %.4g, gradient norm %.3g)", err, info.Iterations, theta, info.GradientNorm)
	case err == nil && res.Status != optimize.GradientThreshold && res.Status != optimize.FunctionConvergence &&
		res.Status != optimize.Success && res.Status != optimize.MethodConverge:
		return nil, info, fail("stopped with status %v after %d iterations (at %.4g, gradient norm %.3g)", res.Status, info.Iterations, theta, info.GradientNorm)
	case info.GradientNorm > 1e3*opts.GradientTolerance && res.Status != optimize.GradientThreshold:
		return nil, info, fail("stalled after %d iterations (at %.4g, gradient norm %.3g)", info.Iterations, theta, info.GradientNorm)
	}
	if o.penalty == 0 && o.diagnose(theta) != "" {
		// Parameters running off toward a boundary where the likelihood
		// has its supremum but no maximum: where the search stops there
		// (and whether its numerical checks pass) is a matter of
		// rounding, so it is no estimate. fail says which way they ran.
		return nil, info, fail("no finite maximum after %d iterations (at %.4g)", info.Iterations, theta)
	}
	why := o.checkCurvature(res.X, res.Gradient, &info)
	info.Evaluations = o.evals
	if o.err != nil {
		// cancelled while the Hessian was taken
		return nil, FitInfo{}, fmt.Errorf("clv: %s fit: %w", model, o.err)
	}
	if why != "" {
		return nil, info, fail("%s", why)
	}
	return theta, info, nil
}

// checkCurvature computes the Hessian of the mean negative log-likelihood
// at the optimum lx (log-parameters, with gradient g0) by forward
// differences of the analytic gradient. A maximum of the likelihood needs it positive
// definite; a (nearly) singular one means the data do not identify some
// parameter, typically because the supremum is at a boundary such as
// r → 0, where the gradient on the log scale vanishes without a maximum.
// It fills info.StdErr and returns "" when the Hessian is positive
// definite, otherwise the reason.
func (o *objective) checkCurvature(lx, g0 []float64, info *FitInfo) string {
	n := o.dim
	h := mat.NewSymDense(n, nil)
	gp := make([]float64, n)
	x := slices.Clone(lx)
	// Forward differences: the Hessian only needs to be good to a few
	// digits here, and they cost half as many evaluations as central ones.
	const step = 1e-5
	rows := make([][]float64, n)
	for i := range n {
		x[i] = lx[i] + step
		o.eval(x, gp)
		x[i] = lx[i]
		rows[i] = make([]float64, n)
		for j := range n {
			rows[i][j] = (gp[j] - g0[j]) / step
		}
	}
	for i := range n {
		for j := i; j < n; j++ {
			h.SetSym(i, j, (rows[i][j]+rows[j][i])/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		return fmt.Sprintf("cannot factorise the Hessian at %.4g", expAll(lx))
	}
	vals := eig.Values(nil)
	if !(vals[0] > 1e-7*math.Max(1, vals[n-1])) {
		return fmt.Sprintf("no maximum: the likelihood is flat along some direction at %.4g (Hessian eigenvalues %.3g), so the data do not identify the model",
			expAll(lx), vals)
	}
	var inv mat.Dense
	if err := inv.Inverse(h); err == nil {
		info.StdErr = make([]float64, n)
		for i := range n {
			// delta method: se(θ) = θ·se(ln θ)
			info.StdErr[i] = math.Exp(lx[i]) * math.Sqrt(inv.At(i, i)/float64(o.n))
		}
	}
	return ""
}

func expAll(lx []float64) []float64 {
	out := make([]float64, len(lx))
	for i, v := range lx {
		out[i] = math.Exp(v)
	}
	return out
}

// compareRFT orders rows by frequency, recency, T and mean value (see
// Summary.Sort).
func compareRFT(a, b RFT) int {
	return cmp.Or(cmp.Compare(a.Frequency, b.Frequency), cmp.Compare(a.Recency, b.Recency),
		cmp.Compare(a.T, b.T), cmp.Compare(a.MeanValue, b.MeanValue))
}
