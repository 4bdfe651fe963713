package segment

import (
	"context"

	"github.com/shopaffinity/affinity"
)

// Compacting returns a channel that is closed once the full index that
// an update with [UpdateOptions.Compact] started building under x is
// done: the build that [Index.Compacted] lays x over. It is nil when x
// carries none, built or under way.
func (x *Index) Compacting() <-chan struct{} {
	if x == nil || x.over == nil || x.over.next == nil {
		return nil
	}
	return x.over.next.done
}

// Compacted returns the index that an [Update] of x with no change
// gives once x's background build is done (see [UpdateOptions.Compact]):
// the same answers, laid over the full index that build made, with one
// delta of the customers touched since the History it was built from,
// or that full index itself when none was (and the catalog is the same).
// Where [Index.WriteTo] or [Index.Save] of x (or of a copy sharing its
// data) built the full index of x's own History, the result is that
// index, with x's named segments and attributes. The result no longer holds the full index and deltas under x, which
// x holds until the next update: a server that keeps x while no refresh
// comes swaps it for the result to give that memory back, once
// [Index.Compacting] is closed. The update takes time in proportion to
// those customers' lines and events, like any update; opts are as for
// Update.
//
// Compacted returns x itself while the build runs, when it failed or was
// stopped, when x carries none, and, unless x's own full index was
// built, where an update of x would build the index in full (more than
// an eighth of the customers touched since that History). It returns ctx.Err() when ctx is done, even where the
// result would take no work.
func (x *Index) Compacted(ctx context.Context, opts UpdateOptions) (*Index, error) {
	if err := affinity.CheckContext("segment", ctx, ErrInvalid); err != nil {
		return nil, err
	}
	if x == nil {
		return nil, affinity.NilArgument("segment", "Index", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err // done before it starts, whatever path it would take
	}
	o := x.over
	if o == nil || o.next == nil || !o.next.ready() || !o.next.baseFor(x, x.asOf) {
		return x, nil
	}
	if opts.Workers <= 0 {
		opts.Workers = x.opts.Workers
	}
	if f := o.next.x; o.since.IsEmpty() && f.asOf == x.asOf && f.cols != nil && f.cols.cat == x.cols.cat {
		// nothing changed since the build's History, as of the same
		// time, with the same catalog: the build is x's index
		y := f.shallowCopy()
		y.opts.Workers = opts.Workers
		y.defs, y.cust = x.defs, x.cust
		return y, nil
	}
	h, f := o.full.state()
	if f != nil {
		// x's own full index, which WriteTo or Save built (and which no
		// longer holds x's History): the index Build gives
		y := f.shallowCopy()
		y.opts.Workers = opts.Workers
		y.defs, y.cust = x.defs, x.cust
		return y, nil
	}
	y, ok, err := x.update(ctx, h, h, x.asOf, opts) // x's History: no change from it to itself
	if err != nil {
		return nil, err
	}
	if !ok {
		return x, nil
	}
	return y, nil
}
