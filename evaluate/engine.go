package evaluate

import (
	"context"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// Engine evaluates the recommend engine ([recommend.New]) with its default
// options, on a cosine neighbour index with the similarity defaults (the measure the engine's
// documentation recommends) counted within orders — within customers, with
// events, for rating data, which has no orders — and fitted as of the
// split's AsOf. Requests use the default rules, except that stock is
// ignored: the catalog's stock flags describe today, not the test period.
// The engine leaves out what the customer already bought or rated, so its
// repeat metrics are zero by design.
type Engine struct {
	// Options are passed to recommend.New with the split's AsOf. The
	// zero value means the engine's defaults.
	Options recommend.Options

	engine *recommend.Engine
	train  *affinity.History
	recs   []recommend.Rec
}

// Name returns "engine".
func (*Engine) Name() string { return "engine" }

// Fit counts co-occurrences, builds the index and the engine.
func (r *Engine) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	counts, err := similarity.Count(ctx, train, asOf, countOptions(train, true))
	if err != nil {
		return err
	}
	idx, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{Measure: similarity.Cosine})
	if err != nil {
		return err
	}
	e, err := recommend.New(ctx, train, idx, asOf, r.Options)
	if err != nil {
		return err
	}
	r.engine, r.train = e, train
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
