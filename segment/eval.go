package segment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// Query parses src (see [Parse]) and evaluates it: the customers it
// selects, as a new bitmap the caller owns. Syntax errors are
// *[SyntaxError]; unknown names wrap [ErrUnknown] and bad windows or ranges
// wrap [ErrInvalid], both as a *[QueryError] with the line and column in
// src.
func (x *Index) Query(src string) (*roaring.Bitmap, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return x.run(e, src)
}

// run compiles and evaluates e (parsed from src, when given); an updated
// index evaluates it on both layers.
func (x *Index) run(e Expr, src string) (*roaring.Bitmap, error) {
	if o := x.over; o != nil {
		r, err := o.bv.run(e, src)
		if err != nil {
			return nil, err
		}
		for _, v := range o.dvs {
			d, err := v.run(e, src)
			if err != nil {
				return nil, err
			}
			r.Or(d)
		}
		return r, nil
	}
	p, err := x.compile(e, src)
	if err != nil {
		return nil, err
	}
	return p.eval(x, x.universe, false), nil
}

// Eval evaluates e: the customers it selects among those the index knows,
// as a new bitmap the caller owns. It takes time proportional to the
// bitmaps involved, never a scan of the customers. Unknown names wrap
// [ErrUnknown]; bad windows, ranges and thresholds wrap [ErrInvalid].
func (x *Index) Eval(e Expr) (*roaring.Bitmap, error) {
	return x.run(e, "")
}

// Check resolves the names of e and validates its windows and ranges
// without evaluating it.
func (x *Index) Check(e Expr) error { return x.check(e, false) }

// check is Check; with anyAttrs, customer attributes x lacks are no
// error (see compiler.anyAttrs).
func (x *Index) check(e Expr, anyAttrs bool) error {
	if x.over != nil {
		x = x.over.dvs[len(x.over.dvs)-1] // the layers share the catalog and the definitions
	}
	c := &compiler{x: x, anyAttrs: anyAttrs}
	_, err := c.expr(e)
	return err
}

// definition is a named segment.
type definition struct {
	name string
	expr Expr
}

// Define returns an index that shares everything with x and knows the
// named segment name = e in addition, so that expressions can refer to it
// as segment("name") (or [Segment]). e may refer to segments defined
// before; a name can be defined only once. x itself is unchanged. The
// error wraps [ErrInvalid] for an empty or taken name and is the error of
// [Index.Check] for an invalid e.
func (x *Index) Define(name string, e Expr) (*Index, error) { return x.define(name, e, false) }

// define is Define; with stored (a definition read from a file) the
// customer attributes it names need not be attached yet.
func (x *Index) define(name string, e Expr, stored bool) (*Index, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("%w: empty segment name", ErrInvalid)
	}
	if x.definition(name) != nil {
		return nil, fmt.Errorf("%w: segment %q is already defined", ErrInvalid, name)
	}
	if err := x.check(e, stored); err != nil {
		return nil, fmt.Errorf("segment %q: %w", name, err)
	}
	y := x.shallowCopy()
	y.defs = append(slices.Clip(x.defs), definition{name: name, expr: e})
	y.resync()
	return y, nil
}

// Segments returns the names of the defined segments in definition order.
func (x *Index) Segments() []string {
	names := make([]string, len(x.defs))
	for i, d := range x.defs {
		names[i] = d.name
	}
	return names
}

// Definition returns the expression of the named segment.
func (x *Index) Definition(name string) (Expr, bool) {
	if d := x.definition(name); d != nil {
		return d.expr, true
	}
	return nil, false
}

func (x *Index) definition(name string) *definition {
	for i := range x.defs {
		if x.defs[i].name == name {
			return &x.defs[i]
		}
	}
	return nil
}

// shallowCopy returns a new Index sharing x's immutable data.
func (x *Index) shallowCopy() *Index {
	return &Index{
		asOf: x.asOf, opts: x.opts, given: x.given, lookDays: x.lookDays,
		keys: x.keys, universe: x.universe, scalars: x.scalars,
		cats: x.cats, catParent: x.catParent, catDepth: x.catDepth, catData: x.catData,
		popShare: x.popShare, catIndex: x.catIndex,
		products: x.products, prodIndex: x.prodIndex, acts: x.acts,
		day0: x.day0, daily: x.daily, rfm: x.rfm, stages: x.stages,
		revenue: x.revenue, orders: x.orders, defs: x.defs,
		exact: x.exact, exDen: x.exDen, popDen: x.popDen, share: x.share,
		cust: x.cust, cols: x.cols, over: x.over, shift: x.shift,
	}
}

// plan is a compiled expression. eval returns a new bitmap that is a
// subset of within; it modifies neither within nor the index. estimate
// guesses how many of the index's customers the plan selects, so that an
// And can evaluate its most selective operand first and hand the smaller
// result to the others.
type plan interface {
	// eval may modify and return within when own is set.
	eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap
	estimate(x *Index) float64
	// cost is the relative work per candidate customer: 1 for an
	// intersection with a stored bitmap, about two per bit slice for a
	// comparison on a bit-sliced index.
	cost() float64
}
