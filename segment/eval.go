package segment

import (
	"fmt"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/segment/query"
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

// defList is the named segments of an index: the first len(list)
// definitions of a log that the indexes derived from one another by
// Define share, so that defining n segments one after another takes time
// and memory in proportion to n. Define appends to the log when its index
// knows every definition in it and copies the list otherwise (a second
// Define on the same index); list's elements are never written once they
// are in it, so the lists of older indexes stay as they were.
type defList struct {
	list []definition
	log  *defLog
}

// defLog is the shared log of a defList.
type defLog struct {
	mu     sync.RWMutex
	all    []definition   // every definition appended; a defList's list is a prefix
	byName map[string]int // positions in all
}

// lookup returns the position of the named definition in l.list.
func (l defList) lookup(name string) (int, bool) {
	if l.log == nil {
		return 0, false
	}
	l.log.mu.RLock()
	i, ok := l.log.byName[name]
	l.log.mu.RUnlock()
	return i, ok && i < len(l.list)
}

// with returns l and d after it, whose name l does not know.
func (l defList) with(d definition) defList {
	if g := l.log; g != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.all) == len(l.list) {
			g.all = append(g.all, d)
			g.byName[d.name] = len(g.all) - 1
			return defList{list: g.all, log: g}
		}
	}
	g := &defLog{all: make([]definition, len(l.list), len(l.list)+1+len(l.list)/4), byName: make(map[string]int, len(l.list)+1)}
	copy(g.all, l.list)
	for i, d := range g.all {
		g.byName[d.name] = i
	}
	return defList{list: g.all, log: g}.with(d)
}

// Define returns an index that shares everything with x and knows the
// named segment name = e in addition, so that expressions can refer to it
// as segment("name") (or [Segment]). e may refer to segments defined
// before; a name can be defined only once. x itself is unchanged. The
// error wraps [ErrInvalid] for an empty or taken name, for an e whose
// text (e.String(), which [Index.WriteTo] saves) would hold more than
// [MaxDefinitionNodes] nodes (a node a tree built in Go shares among
// several parents is written at each place) or does not read back as the
// same expression; it is the error of [Index.Check] for an invalid e
// (one that contains itself included).
func (x *Index) Define(name string, e Expr) (*Index, error) {
	if err := x.defineCheck(name, e, nil); err != nil {
		return nil, err
	}
	if err := savable(e); err != nil {
		return nil, fmt.Errorf("segment %q: %w", name, err)
	}
	y := x.shallowCopy()
	y.defs = x.defs.with(definition{name: name, expr: e})
	y.resync()
	return y, nil
}

// defineCheck checks that name is free and e valid. With memo (for the
// definitions read from a file) the customer attributes e names need not
// be attached yet, and the definitions e refers to are compiled once for
// all the checks that share memo.
func (x *Index) defineCheck(name string, e Expr, memo map[int]compiledDef) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: empty segment name", ErrInvalid)
	}
	if _, ok := x.defs.lookup(name); ok {
		return fmt.Errorf("%w: segment %q is already defined", ErrInvalid, name)
	}
	var err error
	if memo != nil {
		_, err = (&compiler{x: x, anyAttrs: true, defs: memo}).expr(e)
	} else {
		err = x.check(e, false)
	}
	if err != nil {
		return fmt.Errorf("segment %q: %w", name, err)
	}
	return nil
}

// MaxDefinitionNodes bounds the nodes of a defined segment's text, which
// writes a node shared by several parents (in a tree built in Go) once at
// each place: an expression of a few dozen nodes sharing them level after
// level would otherwise write gigabytes.
const MaxDefinitionNodes = 1 << 16

// savable checks that the text of e, as a file saves it, holds at most
// MaxDefinitionNodes nodes and reads back to an expression of the same
// text.
func savable(e Expr) error {
	if n := writtenNodes(e, map[Expr]int{}); n > MaxDefinitionNodes {
		return fmt.Errorf("%w: its text would hold more than %d nodes (a node shared by several parents is written at each place)", ErrInvalid, MaxDefinitionNodes)
	}
	src := e.String()
	back, err := savedSyntax(len(src)).Parse(src)
	if err != nil {
		return fmt.Errorf("%w: its text %s does not read back: %v", ErrInvalid, query.Excerpt(src), err)
	}
	if s := back.String(); s != src {
		return fmt.Errorf("%w: its text %s reads back as %s", ErrInvalid, query.Excerpt(src), query.Excerpt(s))
	}
	return nil
}

// Segments returns the names of the defined segments in definition order.
func (x *Index) Segments() []string {
	names := make([]string, len(x.defs.list))
	for i, d := range x.defs.list {
		names[i] = d.name
	}
	return names
}

// Definition returns the expression of the named segment.
func (x *Index) Definition(name string) (Expr, bool) {
	if i, ok := x.defs.lookup(name); ok {
		return x.defs.list[i].expr, true
	}
	return nil, false
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

// writtenNodes returns the number of nodes e's text writes, at most
// MaxDefinitionNodes+1, in time linear in e's distinct nodes (memo holds
// the count of each And, Or and Not met). e has passed the checks: it is
// no deeper than MaxExprDepth and does not contain itself.
func writtenNodes(e Expr, memo map[Expr]int) int {
	var kids []Expr
	switch n := e.(type) {
	case *query.Bool:
		kids = n.Xs
	case *query.Negation:
		kids = []Expr{n.X}
	default:
		return 1
	}
	if n, ok := memo[e]; ok {
		return n
	}
	total := 1
	for _, k := range kids {
		total = min(total+writtenNodes(k, memo), MaxDefinitionNodes+1)
	}
	memo[e] = total
	return total
}
