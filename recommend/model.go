package recommend

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// Model says how the neighbour index an [Engine] ranks with is built from
// a History: a measure on co-occurrence counts at a scope, or a learned
// item-item model. The zero value is Jaccard within orders; see
// [DefaultModel]. Rating data (with rating events and no orders) is
// always counted within customers.
type Model struct {
	// Name labels the model in [Tune]'s table; default the measure and
	// scope, such as "cosine/basket".
	Name string
	// Measure is the similarity measure; EASE fits Steck's model with
	// similarity.FitEASE. Ignored when Fit is set.
	Measure similarity.Measure
	// Scope is what "together" means: similarity.Basket (default) or
	// similarity.Customer. Ignored when Fit is set.
	Scope similarity.Scope
	// K is the number of neighbours per product; default
	// similarity.DefaultK.
	K int
	// MaxDense bounds EASE's dense fit: with more products than this the
	// sparse solver fits them (similarity.EASEOptions.MaxProducts under
	// similarity.EASEAuto); zero means similarity.DefaultEASEMaxProducts.
	MaxDense int
	// Shrinkage is the co-occurrence measure's shrinkage λ
	// (similarity.IndexOptions.Shrinkage): a score times AB/(AB+λ), AB
	// the co-count; zero means none. Ignored by EASE, SVD and Fit.
	Shrinkage float64
	// Fit, when not nil, builds the index instead, as of asOf (any
	// builder of the seam's shape, such as a learned model's).
	Fit func(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error)
}

// DefaultModel returns cosine within orders, the model [New]'s defaults
// were measured with.
func DefaultModel() Model { return Model{Measure: similarity.Cosine, Scope: similarity.Basket} }

// DefaultEASEMaxDense is the [Model.MaxDense] of [ModelFor]'s EASE: a
// dense fit of about 1.2 s of CPU time on two cores (similarity's doc);
// larger catalogues are fitted by the sparse solver, which ranks within
// 2 % of the dense model (the bound similarity's quality tests assert) in
// a fraction of its time.
const DefaultEASEMaxDense = 2_000

// ModelFor returns the model for a history shaped like h without
// validating on it, which [Choose] falls back to (and package shop with
// it) where there is nothing to validate on:
//
//   - rating data — rating events and no orders, as in MovieLens (for
//     ModelFor in all of h; for Choose, New and Index as of their asOf)
//     — gets
//     EASE within customers (dense up to [DefaultEASEMaxDense] products,
//     sparse beyond). On the MovieLens-shaped store of examples/evaluate
//     the engine on EASE ranks well above the engine on co-occurrence
//     (see examples/evaluate/RESULTS.md), as Steck (2019) found EASE
//     ahead of neighbourhood models on MovieLens-20M, Netflix and the
//     Million Song Dataset;
//   - purchase data gets [DefaultModel], cosine within orders, ahead of
//     EASE on Groceries baskets and on the demo store (behind it on
//     Online Retail's new items and on the MovieLens-shaped store, which
//     Choose finds).
//
// [Choose] and [Tune] choose on the shop's own history.
func ModelFor(h *affinity.History) Model {
	return modelFor(h, math.MaxInt64)
}

// modelFor is ModelFor for h as of asOf (Unix seconds).
func modelFor(h *affinity.History, asOf int64) Model {
	if ratingData(h, asOf) {
		return Model{Measure: similarity.EASE, Scope: similarity.Customer, MaxDense: DefaultEASEMaxDense}
	}
	return DefaultModel()
}

// String returns m.Name, or the measure and scope.
func (m Model) String() string {
	if m.Name != "" {
		return m.Name
	}
	if m.Fit != nil {
		return "custom"
	}
	name := m.Measure.String() + "/" + m.Scope.String()
	if m.Shrinkage > 0 && m.Measure != similarity.EASE && m.Measure != similarity.SVD {
		name += " λ" + strconv.FormatFloat(m.Shrinkage, 'g', -1, 64)
	}
	return name
}

// Index builds m's index from h as of asOf. Rating data (a History with
// rating events and no orders at or before asOf) is counted within
// customers over its
// ratings, whatever the scope; a History with orders is counted in m's
// scope over its bought lines, whatever events it holds (views, carts,
// wishlists, and ratings such as product reviews).
func (m Model) Index(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
	return m.index(ctx, h, asOf, nil)
}

// index is Index counting none of the products of exclude (nil: none),
// the engine's non-merchandise; a Fit function fits as it does.
func (m Model) index(ctx context.Context, h *affinity.History, asOf time.Time, exclude *roaring.Bitmap) (*similarity.Index, error) {
	if err := affinity.CheckContext("recommend", ctx); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("recommend", "History")
	}
	if m.Fit != nil {
		return m.Fit(ctx, h, asOf)
	}
	co := similarity.CountOptions{Scope: m.Scope}
	if ratingData(h, asOf.Unix()) {
		co = ratingCount()
	}
	co.Exclude = exclude
	if m.Measure == similarity.EASE {
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: co, K: m.K, MaxProducts: m.MaxDense})
	}
	c, err := similarity.Count(ctx, h, asOf, co)
	if err != nil {
		return nil, fmt.Errorf("recommend: model %v: %w", m, err)
	}
	return similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: m.Measure, K: m.K, Shrinkage: m.Shrinkage})
}

// ratingCount is how rating data (rating events and no orders) is
// counted: within customers, over the ratings.
func ratingCount() similarity.CountOptions {
	return similarity.CountOptions{Scope: similarity.Customer, Events: true, EventKinds: []affinity.EventKind{affinity.Rating}}
}

// ratingData reports whether h as of asOf (Unix seconds) is rating data:
// rating events and no orders at or before asOf, so that what happens
// after asOf does not decide how an engine or index as of asOf counts.
func ratingData(h *affinity.History, asOf int64) bool {
	if h == nil {
		return false
	}
	for o := range h.Orders() {
		if h.OrderUnix(o) <= asOf {
			return false
		}
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if ev := h.Event(i); ev.Kind == affinity.Rating && ev.Unix <= asOf {
				return true
			}
		}
	}
	return false
}
