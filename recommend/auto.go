package recommend

import (
	"context"
	"errors"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// AutoMaxProducts is the largest catalogue on which [Choose] validates
// models on the shop's own history. An EASE model is fitted again at
// every snapshot of a shop that chose it; at 20,000 products the sparse
// fit takes about 1.5 s on two cores (similarity's
// BenchmarkFitSparseEASE). Larger catalogues keep [DefaultModel].
const AutoMaxProducts = 20_000

// AutoMinCustomers is the fewest validation customers [AutoGrid] lets
// [Choose] choose on (Grid.MinCustomers): the models' scores differ by
// 5–15 %, within the noise of a few dozen customers' NDCG.
const AutoMinCustomers = 200

// AutoGrid returns the grid [Choose] searches, around base: the
// co-purchase neighbours ([DefaultModel]) and EASE within customers
// (dense up to [DefaultEASEMaxDense] products, sparse beyond), at the
// half-lives 30 days, 90 days and 10 years unless base sets one, with
// base's popularity blend, scored on the products new to each validation
// customer (Grid.Explore), with at least [AutoMinCustomers] of them. Set
// Workers and Progress on it as everywhere.
func AutoGrid(base Options) Grid {
	g := Grid{
		MinCustomers:  AutoMinCustomers,
		Models:        []Model{DefaultModel(), {Measure: similarity.EASE, Scope: similarity.Customer, MaxDense: DefaultEASEMaxDense}},
		Blends:        []float64{base.PopularityBlend},
		RepeatWeights: []float64{0},
		Explore:       true,
		Base:          base,
	}
	if base.HalfLife != 0 {
		g.HalfLives = []time.Duration{base.HalfLife}
	}
	return g
}

// Choose returns the model and options an engine on h should use, as of
// asOf: the default choice of package shop (Options.Model "auto") and of
// evaluate's engine.
//
//   - Rating data (rating events, no orders) gets [ModelFor]'s EASE within
//     customers without validation, and g.Base.
//   - A catalogue larger than [AutoMaxProducts] gets [DefaultModel] and
//     g.Base.
//   - Otherwise Choose runs [Tune] on grid g, normally [AutoGrid](base):
//     the last four weeks before asOf are held out, and the model and
//     half-life that rank the products the validation customers bought
//     there best are chosen. Measured with examples/evaluate, the choice
//     matched the better of the two models on all four stores tried:
//     EASE on Online Retail (explore NDCG@10 +14 % over the neighbours)
//     and on the MovieLens-shaped store (+18 %, and +39 % with the
//     10-year half-life it chose), the neighbours on Groceries and on the
//     demo store, where EASE ranks 4–6 % lower.
//
// The returned candidate is the best trial's model with g.Base's options
// and the best trial's half-life and popularity blend; its next-basket
// mix stays g.Base's, since the validation scores new products only when
// g.Explore is set. The Tuning is the table of what was tried, nil when
// nothing was validated: rating data, a large catalogue, or fewer
// validation customers — who bought both before the validation window
// and in it — than g.MinCustomers (a young or small shop): a caller can
// try again once the history is longer.
// It returns an error for nil inputs, a zero asOf, and ctx.Err().
func Choose(ctx context.Context, h *affinity.History, asOf time.Time, g Grid) (Candidate, *Tuning, error) {
	switch {
	case ctx == nil:
		return Candidate{}, nil, errors.New("recommend: nil context")
	case h == nil:
		return Candidate{}, nil, errors.New("recommend: nil history")
	}
	if err := affinity.CheckAsOf("recommend", asOf); err != nil {
		return Candidate{}, nil, err
	}
	c := Candidate{Model: ModelFor(h), Options: g.Base}
	if ratingData(h) || h.Catalog().NumProducts() > AutoMaxProducts {
		return c, nil, nil
	}
	t, err := Tune(ctx, h, asOf, g)
	switch {
	case errors.Is(err, ErrNoValidation):
		return c, nil, nil
	case err != nil:
		return Candidate{}, nil, err
	}
	best := t.Best.Candidate
	c.Model = best.Model
	c.Options.HalfLife, c.Options.PopularityBlend = best.Options.HalfLife, best.Options.PopularityBlend
	return c, t, nil
}
