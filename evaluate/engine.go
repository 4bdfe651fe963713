package evaluate

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// Engine evaluates the recommend engine ([recommend.New]) on the index of
// Model, fitted as of the split's AsOf. By default (Model and Tune nil)
// the model and half-life are those [recommend.Choose] picks on the
// training History, as package shop does when a shop opens: cosine
// within orders ([recommend.DefaultModel]), or EASE within customers
// where it ranks the new items of the last weeks of training better
// beyond noise. Rating data (ratings, no orders) gets
// [recommend.ModelFor]'s EASE within customers without validation; a
// catalogue above [recommend.AutoMaxProducts] products, or a training
// History with too few validation customers, gets recommend.ModelFor's
// model. Requests use the default rules, except that stock is ignored:
// the catalog's stock flags describe today, not the test period. Without
// next-basket mode the engine leaves out what the customer already
// bought or rated, so its repeat metrics are zero by design.
type Engine struct {
	// Label is the row's name; default "engine".
	Label string
	// Model builds the index; nil means recommend.Choose's choice on the
	// training History with recommend.AutoGrid(Options), as package shop
	// chooses by default (Tuning then holds what it tried).
	Model *recommend.Model
	// Options are passed to recommend.New with the split's AsOf. The
	// zero value means the engine's defaults.
	Options recommend.Options
	// Sequential adds a directed index ("bought within 30 days after",
	// cosine, counted on the training History) as Options.Sequential.
	Sequential bool
	// Tune, when not nil, chooses the model and options with
	// [recommend.Tune] on the training History (its validation window is
	// the end of training, before the test period) and fits the best
	// candidate; Model and Options are then ignored.
	Tune *recommend.Grid
	// Holdout and Seed are the validation of the default choice of Model
	// (recommend.Grid.Holdout and Seed of its grid): the last weeks of
	// training by default, as in a shop; recommend.HoldoutRandom suits a
	// random split, whose test is not the future.
	Holdout recommend.Holdout
	Seed    uint64
	// Tuning is set by Fit when Tune is used, or when the default choice
	// of Model validated candidates; nil otherwise. Every Fit sets it
	// anew: an earlier Fit's never stays.
	Tuning *recommend.Tuning

	engine *recommend.Engine
	train  *affinity.History
	recs   []recommend.Rec
}

// Name returns Label, or "engine".
func (r *Engine) Name() string { return cmp.Or(r.Label, "engine") }

// Fit builds the index and the engine (after tuning, with Tune), in place
// of an earlier Fit's engine and Tuning; after a failed Fit the Engine
// recommends nothing.
func (r *Engine) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	r.engine, r.train, r.Tuning = nil, nil, nil // an earlier Fit's, even if this one fails
	if err := checkInput(ctx, train); err != nil {
		return err
	}
	c := recommend.Candidate{Model: recommend.DefaultModel(), Options: r.Options}
	var tuning *recommend.Tuning
	switch {
	case r.Model != nil:
		c.Model = *r.Model
	case r.Tune == nil:
		g := recommend.AutoGrid(r.Options)
		g.Workers, g.Holdout, g.Seed = r.Options.Workers, r.Holdout, r.Seed
		var err error
		if c, tuning, err = recommend.Choose(ctx, train, asOf, g); err != nil {
			return err
		}
	}
	if r.Tune != nil {
		t, err := recommend.Tune(ctx, train, asOf, *r.Tune)
		switch {
		case errors.Is(err, recommend.ErrNoValidation):
			// nothing to tune on: Model and Options stand
		case err != nil:
			return err
		default:
			tuning, c = t, t.Best.Candidate
		}
	}
	if r.Sequential {
		co := similarity.CountOptions{Scope: similarity.Sequential}
		counts, err := similarity.Count(ctx, train, asOf, co)
		if err != nil {
			return err
		}
		if c.Options.Sequential, err = similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine}); err != nil {
			return err
		}
	}
	e, err := c.New(ctx, train, asOf)
	if err != nil {
		return err
	}
	r.engine, r.train, r.Tuning = e, train, tuning
	return nil
}

// Recommend asks the engine for c's top k and drops excluded products,
// asking for more while some were dropped.
func (r *Engine) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	if r.engine == nil || k <= 0 || int(c) >= r.train.NumCustomers() {
		return dst
	}
	req := recommend.Request{CustomerID: c, ByID: true, Rules: recommend.Rules{IncludeOutOfStock: true}}
	from := len(dst)
	for want := k; ; want = min(2*want, recommend.MaxK) {
		req.K = want
		recs, err := r.engine.Recommend(r.recs[:0], req)
		if err != nil {
			return dst[:from]
		}
		r.recs = recs
		dst = dst[:from]
		for _, rec := range recs {
			if len(dst)-from == k {
				break
			}
			if exclude == nil || !exclude(rec.Product) {
				dst = append(dst, rec.Product)
			}
		}
		if len(dst)-from == k || len(recs) < want || want == recommend.MaxK {
			return dst
		}
	}
}
