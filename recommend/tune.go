package recommend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/confidence"
	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/similarity"
)

// Grid is the search space of [Tune]. Every nil or empty field means its
// documented default; a field with one value fixes that setting.
type Grid struct {
	// Models to try; default cosine within orders, cosine within
	// customers and EASE within customers (similarity.FitEASE: exact up
	// to similarity.DefaultEASEMaxProducts products, the sparse
	// approximate inverse beyond).
	Models []Model
	// HalfLives of the customer's history (Options.HalfLife); default
	// 30 days, 90 days and 10 years (no decay to speak of), and for
	// rating data (rating events, no orders) 0 (the engine's default
	// there, no decay), 365 and 30 days. The models are compared at the
	// first.
	HalfLives []time.Duration
	// Blends are popularity blends (Options.PopularityBlend); default
	// −1 (off, the default) and 0.2.
	Blends []float64
	// RepeatWeights are next-basket mixes (Options.NextBasket.RepeatWeight);
	// default 0 (explore only) when Explore, else 0, 0.5, 0.7 and 0.9.
	RepeatWeights []float64
	// Trends are values of the next-basket trend and demand exponents
	// together (Options.NextBasket.Trend and Demand): 0 gives each its
	// default, a negative value turns both off, a positive one sets both;
	// default 0 and −1. They are tried only when the best candidate so
	// far is in next-basket mode: a shop whose demand has seasons keeps
	// them, one whose recent weeks are noise drops them.
	Trends []float64
	// Base holds the other options of every candidate.
	Base Options
	// Validation is the length of the validation window: the last weeks
	// before asOf, held out; default 28 days; negative is an error.
	Validation time.Duration
	// Holdout is what is held out for validation: the last Validation
	// before asOf ([HoldoutTime], the default) or a random quarter of
	// each validation customer's products ([HoldoutRandom], drawn with
	// Seed).
	Holdout Holdout
	// Seed seeds HoldoutRandom.
	Seed uint64
	// K is the list length scored; default 10, at most MaxK; negative is
	// an error.
	K int
	// Explore scores only the items new to each customer (cross-sell);
	// default false: every item bought in the window (next basket).
	Explore bool
	// MaxCustomers caps the validation customers; default 3,000;
	// negative is an error. Of more qualifying customers (those with a
	// product to score: see [Tune] and [HoldoutRandom]), exactly
	// MaxCustomers are kept, evenly spaced in customer id order. Ids are
	// given in first-seen order, so the sample is spread evenly over the
	// customers' first purchases, old customers and new, and is the same
	// at every call; a seeded random sample would only add noise to that
	// spread.
	MaxCustomers int
	// MinCustomers is the fewest validation customers to tune on: with
	// fewer, Tune returns [ErrNoValidation] rather than choose on noise;
	// default 1; negative is an error.
	MinCustomers int
	// Workers, Progress: as everywhere (step "tune", unit "candidates");
	// Workers at most MaxWorkers.
	Workers  int
	Progress affinity.ProgressFunc
}

// ErrNoValidation is returned (wrapped) by [Tune] when there are fewer
// validation customers than Grid.MinCustomers (at least 1): with
// [HoldoutTime], customers who bought or rated both before the
// validation window and in it, something new to them with Grid.Explore
// (none in data without customers or time, such as anonymous baskets, or
// in too short a history); with [HoldoutRandom], customers with
// [MinHoldoutProducts] products. The message gives the counts. There is
// nothing to tune on, and the defaults stand.
var ErrNoValidation = errors.New("recommend: tune: no validation customers")

// Candidate is a model with the options of an engine on it.
type Candidate struct {
	Model   Model
	Options Options
}

// New builds the candidate's index and engine from h as of asOf; the
// index counts none of the products of Options.Exclude.
func (c Candidate) New(ctx context.Context, h *affinity.History, asOf time.Time) (*Engine, error) {
	if err := affinity.CheckAsOf("recommend", asOf); err != nil {
		return nil, err
	}
	idx, err := c.Model.index(ctx, h, asOf, c.Options.Exclude)
	if err != nil {
		return nil, err
	}
	return New(ctx, h, idx, asOf, c.Options)
}

// Trial is one candidate tried by [Tune] with its validation score.
type Trial struct {
	Candidate Candidate
	// NDCG is the mean NDCG@K over the validation customers, and StdErr
	// its standard error (the customers' standard deviation over √n).
	NDCG, StdErr float64
}

// String describes the trial on one line: model, half-life, blend, mix
// (and in next-basket mode the trend), score and its standard error.
func (t Trial) String() string {
	o := t.Candidate.Options
	hl := fmt.Sprintf("%6.0fd", o.HalfLife.Hours()/24)
	if o.HalfLife <= 0 {
		hl = "default"
	}
	s := fmt.Sprintf("%-20s half-life %7s  blend %5.2f  repeat %4.2f", t.Candidate.Model, hl, o.PopularityBlend, o.NextBasket.RepeatWeight)
	if o.NextBasket.RepeatWeight > 0 {
		tr := "default"
		switch v := o.NextBasket.Trend; {
		case v < 0:
			tr = "off"
		case v > 0:
			tr = strconv.FormatFloat(v, 'g', 3, 64)
		}
		s += fmt.Sprintf("  trend %s", tr)
	}
	return s + fmt.Sprintf("  ndcg %.4f ± %.4f", t.NDCG, t.StdErr)
}

// Tuning is the result of [Tune].
type Tuning struct {
	// Best is the candidate Tune chose: the first tried, replaced by each
	// later one that beats it beyond noise (see [Tune]).
	Best Trial
	// Trials are every candidate tried, in order.
	Trials []Trial
	// From and To bound the window (From, To] the candidates were scored
	// on with HoldoutTime; with HoldoutRandom, which holds out no window,
	// From = To = asOf ([Tuning.Validation] says which in words).
	// Customers is the number of customers scored.
	From, To  time.Time
	Customers int
	// Holdout is what was held out for validation (Grid.Holdout), and
	// Seed the seed of HoldoutRandom; [Tuning.Validation] describes both.
	Holdout Holdout
	Seed    uint64
}

// Validation describes in words what the candidates were scored on, for
// a reader of a tuning log: "2011-09-29 to 2011-10-27" (the window of
// [HoldoutTime], dates in From's location) or "a random quarter of the
// products of each customer with at least 4 (seed 42)" ([HoldoutRandom],
// which holds out no window: From = To, and a date range would read as
// an empty one).
func (t *Tuning) Validation() string {
	if t.Holdout == HoldoutRandom {
		return fmt.Sprintf("a random quarter of the products of each customer with at least %d (seed %d)", MinHoldoutProducts, t.Seed)
	}
	return t.From.Format(time.DateOnly) + " to " + t.To.Format(time.DateOnly)
}

// Tune chooses the engine for a shop from its own data. It holds out the
// last Grid.Validation before asOf: candidates are built as of the start
// of that window (none of its purchases or events is read; the catalog is
// the History's, so a product first sold in the window is there, with no
// popularity, last among the popular fallbacks) and each validation customer
// — bought before the window and in it — gets a top-K list, scored by
// NDCG@K against the products they bought in the window (those new to
// them with Grid.Explore; a customer with none is not a validation
// customer). Non-merchandise (Grid.Base.Exclude), which no candidate
// recommends, is neither a purchase to score nor one that makes a
// validation customer. The grid is
// searched one dimension at a time, in the order model, half-life,
// popularity blend, next-basket mix, trend, each keeping the best so far
// (a coordinate search: 2–4 candidates per dimension, not their product).
// A candidate replaces the best so far only when it leads beyond noise:
// when its mean paired per-customer difference from it is above that
// difference's standard error (the one-standard-error rule, as in
// [Choose]). The first value of each dimension, the grid's default,
// stands otherwise, so that a difference within noise on four weeks of
// one shop's data does not move the engine off its measured defaults
// (on the demo shop Tune keeps the trend, which a plain maximum turned
// off for 0.0013 NDCG@10 at standard errors of 0.016; on Online Retail
// it keeps a 30-day half-life, which a maximum moved to 90 days for
// 0.0013 at standard errors of 0.004; examples/evaluate's test tables
// stayed the same on the demo, the MovieLens shape and Groceries, and on
// Online Retail moved by 0.0001 NDCG@10).
//
// With Grid.Holdout [HoldoutRandom] the candidates are built, as of
// asOf, from h without a random quarter of each validation customer's
// products instead, and scored on those: for data whose use (or test) is
// not the future, such as ratings.
//
// To measure the tuned engine without overfitting, call Tune on the
// training side only (asOf the end of training), so that the validation
// window comes before any test window; then build Best.Candidate as of
// the end of training. It returns an error for nil inputs, a zero asOf,
// an invalid Grid ([ErrInvalidOptions]: K, Validation, MaxCustomers or
// MinCustomers out of range, an unknown Holdout, too many Workers, or
// options that [New] refuses in Base or in a value of a dimension),
// fewer validation customers than Grid.MinCustomers ([ErrNoValidation]),
// and ctx.Err().
func Tune(ctx context.Context, h *affinity.History, asOf time.Time, grid Grid) (*Tuning, error) {
	if err := checkArgs(ctx, h, asOf); err != nil {
		return nil, err
	}
	if err := grid.validate(); err != nil {
		return nil, err
	}
	g := grid.withDefaults(h, asOf)
	val, train, err := g.holdOut(ctx, h, asOf) // train: what the candidates are built from, as of from
	if err != nil {
		return nil, err
	}
	// every model, then the other values of each later dimension (its
	// first is the best so far's)
	s := newSearch(g, train, val, asOf, len(g.Models)+len(g.HalfLives)+len(g.Blends)+len(g.RepeatWeights)+len(g.Trends)-4)
	indexes := map[int]*similarity.Index{}
	try := func(mi int, o Options) (Trial, []float64, error) {
		idx, ok := indexes[mi]
		if !ok {
			var err error
			if idx, err = g.Models[mi].index(ctx, train, val.from, g.Base.Exclude); err != nil {
				return Trial{}, nil, err
			}
			indexes[mi] = idx
		}
		return s.try(ctx, g.Models[mi], idx, o)
	}
	var best Trial
	var bestModel int
	var bestScores []float64 // nil until the first trial
	o := g.Base
	o.HalfLife, o.PopularityBlend, o.NextBasket.RepeatWeight = g.HalfLives[0], g.Blends[0], g.RepeatWeights[0]
	setTrend(&o.NextBasket, g.Trends[0])
	steps := []struct {
		n   int
		set func(*Options, int) int // returns the model index
	}{
		{len(g.Models), func(_ *Options, i int) int { return i }},
		{len(g.HalfLives), func(o *Options, i int) int { o.HalfLife = g.HalfLives[i]; return bestModel }},
		{len(g.Blends), func(o *Options, i int) int { o.PopularityBlend = g.Blends[i]; return bestModel }},
		{len(g.RepeatWeights), func(o *Options, i int) int { o.NextBasket.RepeatWeight = g.RepeatWeights[i]; return bestModel }},
		{len(g.Trends), func(o *Options, i int) int { setTrend(&o.NextBasket, g.Trends[i]); return bestModel }},
	}
	for si, st := range steps {
		if si == len(steps)-1 && o.NextBasket.RepeatWeight == 0 {
			s.total -= int64(st.n - 1) // no trend outside next-basket mode
			s.g.Progress.Report(affinity.Progress{Step: "tune", Done: int64(len(s.t.Trials)), Total: s.total, Unit: "candidates"})
			continue
		}
		cur := o
		for i := range st.n {
			if si > 0 && i == 0 {
				continue // the best so far already has it
			}
			c := cur
			mi := st.set(&c, i)
			tr, scores, err := try(mi, c)
			if err != nil {
				return nil, err
			}
			if bestScores == nil || significantlyBetter(scores, bestScores) {
				best, bestModel, o, bestScores = tr, mi, c, scores
			}
		}
	}
	s.t.Best = best
	return s.t, nil
}

// setTrend sets the trend and demand exponents of nb to the Grid.Trends
// value v.
func setTrend(nb *NextBasket, v float64) {
	if v < 0 {
		v = -1
	}
	nb.Trend, nb.Demand = v, v
}

// search scores candidates on one validation and records them.
type search struct {
	g     Grid
	train *affinity.History // what the candidates are built from, as of val.from
	val   *validation
	t     *Tuning
	total int64
	last  *Engine // the last candidate's engine, which the next one renews: the same History as of the same time
}

// newSearch returns the search of g on val, which will try total
// candidates, and reports the start of step "tune" (Done 0), so that a
// progress line shows it while the first candidate is fitted.
func newSearch(g Grid, train *affinity.History, val *validation, asOf time.Time, total int) *search {
	g.Progress.Report(affinity.Progress{Step: "tune", Total: int64(total), Unit: "candidates"}) // the step starts
	return &search{g: g, train: train, val: val, total: int64(total),
		t: &Tuning{From: val.from, To: asOf, Customers: len(val.users), Holdout: g.Holdout, Seed: g.Seed}}
}

// try builds the engine of model m (its index idx) with options o, scores
// it on the validation customers, records the trial and reports progress;
// it returns the trial and every customer's score.
func (s *search) try(ctx context.Context, m Model, idx *similarity.Index, o Options) (Trial, []float64, error) {
	e, err := Renew(ctx, s.last, s.train, idx, s.val.from, o)
	if err != nil {
		return Trial{}, nil, err
	}
	s.last = e
	scores, err := s.val.scores(ctx, e, s.g)
	if err != nil {
		return Trial{}, nil, err
	}
	tr := newTrial(Candidate{Model: m, Options: o}, scores)
	s.t.Trials = append(s.t.Trials, tr)
	s.g.Progress.Report(affinity.Progress{Step: "tune", Done: int64(len(s.t.Trials)), Total: s.total, Unit: "candidates"})
	return tr, scores, nil
}

// validate rejects a Grid that no default repairs: a K, Validation,
// MaxCustomers or MinCustomers out of range, an unknown Holdout, too many
// Workers, and options [New] refuses in Base or in Base with any one
// value of a dimension set. It is cheap: Tune and Choose call it first.
func (g Grid) validate() error {
	switch {
	case g.K > MaxK || g.K < 0:
		return fmt.Errorf("%w: Grid.K = %d, want 1 to MaxK = %d (0: 10)", ErrInvalidOptions, g.K, MaxK)
	case g.Validation < 0:
		return fmt.Errorf("%w: Grid.Validation = %v is negative", ErrInvalidOptions, g.Validation)
	case g.MaxCustomers < 0:
		return fmt.Errorf("%w: Grid.MaxCustomers = %d is negative", ErrInvalidOptions, g.MaxCustomers)
	case g.MinCustomers < 0:
		return fmt.Errorf("%w: Grid.MinCustomers = %d is negative", ErrInvalidOptions, g.MinCustomers)
	case g.Workers > MaxWorkers:
		return fmt.Errorf("%w: Grid.Workers = %d, at most MaxWorkers = %d", ErrInvalidOptions, g.Workers, MaxWorkers)
	case g.Holdout != HoldoutTime && g.Holdout != HoldoutRandom:
		return fmt.Errorf("%w: Grid.Holdout %v", ErrInvalidOptions, g.Holdout)
	}
	check := func(field string, set func(*Options)) error {
		o := g.Base
		set(&o)
		if err := o.validate(); err != nil {
			return fmt.Errorf("%w (in Grid.%s)", err, field)
		}
		return nil
	}
	if err := check("Base", func(*Options) {}); err != nil {
		return err
	}
	for i, v := range g.HalfLives {
		if err := check(fmt.Sprintf("HalfLives[%d]", i), func(o *Options) { o.HalfLife = v }); err != nil {
			return err
		}
	}
	for i, v := range g.Blends {
		if err := check(fmt.Sprintf("Blends[%d]", i), func(o *Options) { o.PopularityBlend = v }); err != nil {
			return err
		}
	}
	for i, v := range g.RepeatWeights {
		if err := check(fmt.Sprintf("RepeatWeights[%d]", i), func(o *Options) { o.NextBasket.RepeatWeight = v }); err != nil {
			return err
		}
	}
	for i, v := range g.Trends {
		if err := check(fmt.Sprintf("Trends[%d]", i), func(o *Options) { setTrend(&o.NextBasket, v) }); err != nil {
			return err
		}
	}
	return nil
}

// holdOut returns the validation customers of g (Holdout, Validation,
// MinCustomers) and the History the candidates are built from, as of
// the validation's from: h itself for HoldoutTime, h without the held
// out products for HoldoutRandom. g is valid ([Grid.validate]).
func (g Grid) holdOut(ctx context.Context, h *affinity.History, asOf time.Time) (*validation, *affinity.History, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	from := asOf.Add(-g.Validation)
	var val *validation
	train := h
	if g.Holdout == HoldoutRandom {
		var err error
		if val, train, err = randomHoldout(ctx, h, asOf, g); err != nil {
			return nil, nil, err
		}
		if len(val.users) == 0 {
			return nil, nil, fmt.Errorf("%w: no customer with %d products by %s", ErrNoValidation, MinHoldoutProducts, asOf.Format(time.DateOnly))
		}
	} else {
		var both int
		if val, both = validationSet(h, from, asOf, g); len(val.users) == 0 {
			return nil, nil, noValidation(both, from, g.Explore)
		}
	}
	if len(val.users) < g.MinCustomers {
		return nil, nil, fmt.Errorf("%w: %d validation customers, fewer than Grid.MinCustomers = %d", ErrNoValidation, len(val.users), g.MinCustomers)
	}
	return val, train, nil
}

// noValidation is the error of a time holdout without validation
// customers, of whom both bought or rated before from and in the window.
func noValidation(both int, from time.Time, explore bool) error {
	day := from.Format(time.DateOnly)
	switch {
	case both == 0:
		return fmt.Errorf("%w: no customer bought or rated both before %s and in the window", ErrNoValidation, day)
	case explore:
		return fmt.Errorf("%w: %d customers bought or rated both before %s and in the window, none a product new to them", ErrNoValidation, both, day)
	}
	return fmt.Errorf("%w: %d customers bought or rated both before %s and in the window, none with a bought line in it (returns only)", ErrNoValidation, both, day)
}

// newTrial returns the trial of c with the validation customers' NDCG
// scores: their mean and its standard error.
func newTrial(c Candidate, scores []float64) Trial {
	mean, se := confidence.MeanStdErr(scores)
	return Trial{Candidate: c, NDCG: mean, StdErr: se}
}

func (g Grid) withDefaults(h *affinity.History, asOf time.Time) Grid {
	if len(g.Models) == 0 {
		g.Models = []Model{DefaultModel(), {Measure: similarity.Cosine, Scope: similarity.Customer},
			{Measure: similarity.EASE, Scope: similarity.Customer}}
	}
	if len(g.HalfLives) == 0 {
		g.HalfLives = []time.Duration{DefaultHalfLife, 90 * 24 * time.Hour, 3650 * 24 * time.Hour}
		if ratingData(h, asOf.Unix()) {
			// the engine's default for ratings (no decay) first: the
			// models are compared with it
			g.HalfLives = []time.Duration{0, 365 * 24 * time.Hour, DefaultHalfLife}
		}
	}
	if len(g.Blends) == 0 {
		g.Blends = []float64{-1, 0.2}
	}
	if len(g.RepeatWeights) == 0 {
		g.RepeatWeights = []float64{0}
		if !g.Explore {
			g.RepeatWeights = []float64{0, 0.5, 0.7, 0.9}
		}
	}
	if len(g.Trends) == 0 {
		g.Trends = []float64{0, -1}
	}
	g.Validation = cmp.Or(g.Validation, 28*24*time.Hour)
	g.K = cmp.Or(g.K, 10)
	g.MaxCustomers = cmp.Or(g.MaxCustomers, 3000)
	g.MinCustomers = max(g.MinCustomers, 1)
	return g
}

// validation holds the validation customers and their relevant products.
type validation struct {
	users []affinity.CustomerID
	off   []int32
	rel   []affinity.ProductID // sorted per user
	from  time.Time
	idcg  []float64
}

// validationSet returns the validation customers of the window (from,
// to]: those who bought or rated before it and in it, with the products
// they bought or rated in it (new ones only with g.Explore), a customer
// without any left out; at most g.MaxCustomers of them ([sample]). It
// also returns the number of customers who bought or rated before the
// window and in it, with or without products to score. Non-merchandise
// (g.Base.Exclude), which no candidate recommends, is no interaction.
func validationSet(h *affinity.History, from, to time.Time, g Grid) (v *validation, both int) {
	v = &validation{from: from, off: []int32{0}, idcg: idcgTable(g.K)}
	excl := bitsetOf(g.Base.Exclude, h.Catalog().NumProducts())
	f, t := from.Unix(), to.Unix()
	var before []affinity.ProductID
	for c := range affinity.CustomerID(h.NumCustomers()) {
		var was, in bool
		interactionTimes(h, c, t, excl, func(u int64) {
			was = was || u <= f
			in = in || u > f
		})
		if !was || !in {
			continue
		}
		both++
		before = before[:0]
		start := len(v.rel)
		interactions(h, c, t, excl, func(u int64, p affinity.ProductID) {
			if u <= f {
				before = append(before, p)
			} else {
				v.rel = append(v.rel, p)
			}
		})
		rel := v.rel[start:]
		slices.Sort(rel)
		rel = slices.Compact(rel)
		if g.Explore {
			slices.Sort(before)
			rel = slices.DeleteFunc(rel, func(p affinity.ProductID) bool { _, ok := slices.BinarySearch(before, p); return ok })
		}
		v.rel = v.rel[:start+len(rel)]
		if len(rel) == 0 {
			continue
		}
		v.users = append(v.users, c)
		v.off = append(v.off, int32(len(v.rel)))
	}
	if len(v.users) > g.MaxCustomers {
		v.keep(sample(len(v.users), g.MaxCustomers))
	}
	return v, both
}

// keep keeps the validation customers at the increasing indices of idx,
// in place.
func (v *validation) keep(idx []int) {
	rel := v.rel[:0]
	for i, u := range idx {
		v.users[i] = v.users[u]
		rel = append(rel, v.rel[v.off[u]:v.off[u+1]]...) // u ≥ i: never overwrites what is still to copy
		v.off[i+1] = int32(len(rel))
	}
	v.users, v.off, v.rel = v.users[:len(idx)], v.off[:len(idx)+1], rel
}

// sample returns k of the indices 0 to n−1, k ≤ n, increasing and evenly
// spaced: ⌊i·n/k⌋ for i from 0 to k−1 (see Grid.MaxCustomers).
func sample(n, k int) []int {
	idx := make([]int, k)
	for i := range idx {
		hi, lo := bits.Mul64(uint64(i), uint64(n))
		q, _ := bits.Div64(hi, lo, uint64(k)) // hi < k, as i < k
		idx[i] = int(q)
	}
	return idx
}

// interactions calls fn with the time and product of each of c's bought
// lines and ratings (the interactions of rating data) at or before t,
// those of the products in excl aside.
func interactions(h *affinity.History, c affinity.CustomerID, t int64, excl bitset, fn func(u int64, p affinity.ProductID)) {
	olo, ohi := h.CustomerOrders(c)
	for o := olo; o < ohi && h.OrderUnix(o) <= t; o++ {
		lo, hi := h.OrderLines(o)
		for l := lo; l < hi; l++ {
			if p := h.LineProduct(l); h.LineQuantity(l) > 0 && !excl.has(p) {
				fn(h.OrderUnix(o), p)
			}
		}
	}
	customerRatings(h, c, t, excl, fn)
}

// interactionTimes calls fn with the time of each of c's orders and
// ratings at or before t, but orders and ratings of products in excl
// alone.
func interactionTimes(h *affinity.History, c affinity.CustomerID, t int64, excl bitset, fn func(u int64)) {
	olo, ohi := h.CustomerOrders(c)
	for o := olo; o < ohi && h.OrderUnix(o) <= t; o++ {
		lo, hi := h.OrderLines(o)
		for l := lo; l < hi; l++ {
			if !excl.has(h.LineProduct(l)) {
				fn(h.OrderUnix(o))
				break
			}
		}
	}
	customerRatings(h, c, t, excl, func(u int64, _ affinity.ProductID) { fn(u) })
}

// customerRatings calls fn with the time and product of each of c's
// ratings at or before t, but those of products in excl.
func customerRatings(h *affinity.History, c affinity.CustomerID, t int64, excl bitset, fn func(u int64, p affinity.ProductID)) {
	elo, ehi := h.CustomerEvents(c)
	for i := elo; i < ehi; i++ {
		ev := h.Event(i)
		if ev.Unix > t {
			return
		}
		if ev.Kind == affinity.Rating && !excl.has(ev.Product) {
			fn(ev.Unix, ev.Product)
		}
	}
}

// idcgTable returns the ideal DCG of 0 to k relevant products.
func idcgTable(k int) []float64 {
	t := make([]float64, k+1)
	for i := 1; i <= k; i++ {
		t[i] = t[i-1] + 1/math.Log2(float64(i+1))
	}
	return t
}

// score returns the mean NDCG@K of e's lists over the validation users.
// scores returns the NDCG@K of e's list for every validation customer,
// in customer order.
func (v *validation) scores(ctx context.Context, e *Engine, g Grid) ([]float64, error) {
	workers := min(parallel.Workers(g.Workers), len(v.users))
	ndcg := make([]float64, len(v.users))
	bufs := make([][]Rec, workers)
	const block = 64
	n := (len(v.users) + block - 1) / block
	err := parallel.For(ctx, workers, n, func(w, b int) error {
		for u := b * block; u < min((b+1)*block, len(v.users)); u++ {
			req := Request{CustomerID: v.users[u], ByID: true, K: g.K, AsOf: v.from, Rules: Rules{IncludeOutOfStock: true}}
			recs, err := e.Recommend(bufs[w][:0], req)
			if err != nil {
				return err
			}
			bufs[w] = recs
			rel := v.rel[v.off[u]:v.off[u+1]]
			var dcg float64
			for i, r := range recs {
				if _, ok := slices.BinarySearch(rel, r.Product); ok {
					dcg += 1 / math.Log2(float64(i+2))
				}
			}
			ndcg[u] = dcg / v.idcg[min(len(rel), g.K)]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ndcg, nil
}
