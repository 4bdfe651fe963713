// Package clv measures and predicts customer lifetime value (CLV) from an
// [affinity.History]: historical spend, order value, repeat and retention
// rates and cohorts; the BG/NBD purchase model and the Gamma-Gamma spend
// model fitted by maximum likelihood; predicted purchases, P(alive) and
// discounted CLV per customer; and CLV segments as roaring bitmaps of
// [affinity.CustomerID] values that plug into segment queries.
//
// # Historical
//
// [Historical] sums each customer's orders and spend over windows ending
// at an explicit as-of time (by default the last 12 and 24 calendar
// months) and gives the shop's average order value, purchase frequency
// and repeat-purchase rate. [Retention] measures the retention rate of a
// period,
//
//	(customers at end − new customers acquired in the period) / customers at start,
//
// where a customer "at" a time τ is one who bought in the 12 months up to
// τ ([RetentionOptions.ActiveMonths] changes the window) and a new customer
// is one whose first purchase falls in the period. [CohortRetention] builds
// the monthly cohort matrix: acquisition month × months since.
//
// # Predictive
//
// The models work on a summary table with one [RFT] row per customer:
// frequency x (repeat transactions in the calibration period), recency tₓ
// (first to last transaction), T (first transaction to the end of
// calibration) and the mean value of the repeat transactions. [Summarize]
// builds it from a History; plain slices work as well (for simulations and
// other sources). Times are in a [Unit], weeks by default.
//
// [FitBGNBD] fits the BG/NBD model of Fader, Hardie & Lee (2005): purchases
// at Poisson rate λ ~ Gamma(r, α) while alive, dropout with probability
// p ~ Beta(a, b) after each purchase. [FitMBGNBD] fits its MBG/NBD
// variant (Batislam, Denizel & Filiztekin 2007), where a customer may drop
// out at the first purchase as well: BG/NBD holds every customer without a
// repeat purchase alive with probability 1, MBG/NBD lets that probability
// fall with the time since the purchase (on the CDNOW sample, 0.52 ten
// weeks after it, 0.39 after 39 weeks), which win-back lists of one-time
// buyers need; BG/NBD predicted the CDNOW holdout's purchases more closely
// (1,653 and 1,577 of 1,882). [FitGammaGamma] fits the Gamma-Gamma
// model of transaction values (Fader, Hardie & Lee 2005, JMR). Both
// maximise the log-likelihood with BFGS from gonum/optimize over the
// logarithms of the parameters, with analytic gradients (a digamma of our
// own); log-gamma differences and a log-sum-exp keep the likelihood finite
// for large frequencies. The observed information at the optimum gives
// standard errors ([FitInfo.StdErr]) and proves it is a maximum.
//
// A fit that does not converge returns an error wrapping [ErrNotConverged]
// with the reason, never NaN parameters. The common reason is a
// likelihood whose supremum is at infinity: when the dropout probability
// hardly varies between customers, a and b grow without bound together
// (the error says so). [FitOptions.Penalty] then gives a finite estimate,
// shrunk slightly towards 1. [FitOptions.Fallback] makes that second fit
// only when the exact one fails, and [FitInfo] says which was returned
// and why: what a program fitting an unknown shop's data wants. Data
// without a single repeat purchase have no estimate either way (the
// likelihood rises as α grows, and the penalty leaves α free): the BG/NBD
// and MBG/NBD fits refuse them with an error wrapping ErrNotConverged.
//
// [BGNBD.ExpectedPurchases] and [BGNBD.PAlive] score one customer; [CLV]
// discounts the expected purchases of each period and multiplies by the
// expected transaction value:
//
//	CLV = margin · E[M] · Σᵢ₌₁ⁿ (E[Y(iΔ)] − E[Y((i−1)Δ)]) / (1+d)ⁱ.
//
// [Score] does all of it for many customers at once, on
// [ScoreOptions.Workers] goroutines; for the frequencies shared by many
// customers it interpolates the per-period sums in T (Chebyshev), so a
// customer costs O(1) instead of O(periods × series terms). The
// interpolants are of the logarithms, so they agree with the direct sums
// to about 1e-13 relatively for every customer, however far the values
// of one frequency range (at most 3e-13 over the models and ranges the
// tests check, among them r = α = a = b = 1e-3 and r = 0.01, α = 1e-6,
// a = 1, b = 50, with T up to ten years of days).
//
// The conditional expectation needs the Gauss hypergeometric function
// ₂F₁(r+x, b+x; a+b+x−1; z), whose textbook series overflows for large x.
// The package sums its Euler transform (1−z)^(a−r−x−1)·₂F₁(a+b−1−r, a−1;
// a+b+x−1; z) instead and subtracts the leading 1 analytically so that
// a → 1 is no special case; for large a, where the transform is the
// worse of the two, it sums the textbook form (without its leading 1, so
// short horizons keep their precision). Partial sums are kept scaled and
// compensated. Both series cancel catastrophically when r is large (the
// transform's first parameter a+b−1−r is then large and negative; fits
// of customers who all buy at about the same rate reach r in the
// hundreds) or when b+x ≫ r+x, so each tracks how much it cancels and,
// beyond a loss of 1e3, the package integrates E = E_p[(1 − (1 +
// p·t/(α+T))^−(r+x))/p] over the posterior p ~ Beta(a, b+x) (b+x+1 for
// MBG/NBD) by double-exponential quadrature instead. Results are accurate
// to about 1e-13 relatively in every regime; the quadrature, a few
// hundred to a few thousand integrand evaluations, is used only where
// the series fail or would need more than 8192 terms (long horizons
// with a small r+x, large r, or large a and b+x), so that one
// expectation costs at most about 50 µs for everyday parameters and
// 0.4 ms for extreme ones (see [BGNBD.ExpectedPurchases]).
//
// # Reference fit
//
// On the CDNOW sample of the papers (2,357 customers, calibration
// 1997-01-01..1997-09-30, weeks), [Summarize] as of
// 1997-09-30 00:00 UTC and [FitBGNBD] reproduce the published r = 0.2426,
// α = 4.4136, a = 0.7929, b = 2.4259 and log-likelihood −9582.43, and
// [FitGammaGamma] on the 946 repeat customers p = 6.25, q = 3.74, γ = 15.44.
// T is measured to the start of the last calibration day (a customer who
// first bought on 1997-01-01 has T = 272/7 = 38.86 weeks); counting that
// day in full (T = 39) gives a log-likelihood of −9589.89 instead.
//
// # Segments
//
// [Quantiles] splits customers by any per-customer value (such as
// [Scores.CLV]) into equal-sized groups; [WinBack] selects high-value
// customers whose P(alive) has dropped below 0.5. Both return
// *roaring.Bitmap of customer ids owned by the caller.
//
// # Determinism
//
// [FitBGNBD], [FitMBGNBD] and [FitGammaGamma] sum the likelihood over the
// rows in the order given. Floating-point sums depend on their order, and
// where the likelihood is nearly flat that can decide whether a fit
// converges; [Summary.Sort] puts the rows in an order of their own, so
// that the same customers numbered differently (a History refreshed with
// a new customer and one built anew) fit the same parameters, bit for
// bit. Package shop sorts before it fits. A sort costs about a third of
// a BG/NBD fit of a million customers, so the fits leave it to callers
// that need it.
//
// # Concurrency
//
// Fitted models are plain values, safe for concurrent use. Functions do
// not retain their arguments. [FitOptions.Workers] and
// [ScoreOptions.Workers] set the number of goroutines a call uses (one by
// default); none outlives the call, and results do not depend on it.
package clv
