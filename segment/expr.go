package segment

import (
	"time"

	"github.com/shopaffinity/affinity/segment/query"
)

// Expr is a segment definition: a condition on customers that an [Index]
// evaluates to a bitmap with [Index.Eval]. Build one from the functions of
// this package or parse one with [Parse]; String returns the text syntax,
// which parses back to an equal Expr within [Parse]'s limits (an Expr
// built in Go may be longer or deeper; a saved index reads its named
// segments back whatever their size). Names in an Expr (categories,
// products, named segments) are resolved when it is evaluated, so one
// Expr can be evaluated on several indexes. The tree itself is package
// [query]'s, which knows the syntax and nothing of indexes.
type Expr = query.Expr

// Attr is a numeric customer attribute. Compare it with a threshold to get
// an Expr: Recency().Between(14, 28), Affinity("Apparel").GE(0.3). Values
// are in the attribute's natural unit: days, orders, currency units,
// fractions. See the package documentation for what each attribute means
// and how customers without a value compare.
type Attr = query.Attr

// Activity is an Expr for the customers who bought, viewed or carted any of
// its targets within a window back from asOf: by default the whole
// look-back, or a shorter one set with [query.Activity.Within], a
// positive whole number of days no longer than the look-back.
type Activity = query.Activity

// Target is a category or product that an [Activity] refers to.
type Target = query.Target

// SyntaxError reports text that is not a valid expression, with its
// position: Offset counts bytes from 0, Line and Column count from 1, and
// Column counts Unicode code points.
type SyntaxError = query.SyntaxError

// Parse parses an expression in the text syntax described in the package
// documentation. Syntax errors are returned as *[SyntaxError]; queries
// longer than [query.DefaultMaxLen] bytes or nested deeper than
// [query.DefaultMaxDepth] are syntax errors naming the limit. Names are
// not resolved: an unknown category is reported when the expression is
// evaluated.
func Parse(src string) (Expr, error) { return syntax.Parse(src) }

// And returns the customers in every one of xs; And() is everyone. Ands
// among xs are spliced in, so that acc = And(acc, x) in a loop builds one
// flat And (see [query.Bool]).
func And(xs ...Expr) Expr { return query.And(xs...) }

// Or returns the customers in any of xs; Or() is no one. Ors among xs are
// spliced in.
func Or(xs ...Expr) Expr { return query.Or(xs...) }

// Not returns the customers of the index that are not in x.
func Not(x Expr) Expr { return query.Not(x) }

// All returns every customer the index knows (see [Index.Len]).
func All() Expr { return query.All() }

// Category returns the target of a category path at any level, e.g.
// "Apparel/Sportswear"; it includes the categories below it.
func Category(path string) Target { return query.Category(path) }

// Product returns the target of one product by its shop id.
func Product(key string) Target { return query.Product(key) }

// Bought returns the customers who bought (a line with positive quantity)
// any of the targets in the look-back.
func Bought(targets ...Target) Activity {
	return Activity{Kind: query.Bought, Targets: targets}
}

// Viewed returns the customers with a view event on any of the targets in
// the look-back.
func Viewed(targets ...Target) Activity {
	return Activity{Kind: query.Viewed, Targets: targets}
}

// Carted returns the customers with an add-to-cart event on any of the
// targets in the look-back.
func Carted(targets ...Target) Activity {
	return Activity{Kind: query.Carted, Targets: targets}
}

// Abandoned returns the customers with an abandoned cart within the window
// (asOf-within, asOf]: an add-to-cart of a product that they have not
// bought since, up to asOf. within = 0 means the whole look-back.
func Abandoned(within time.Duration) Expr { return &query.Abandoned{Window: within} }

// Active returns the customers with a bought order on any day from the
// UTC date of from to the UTC date of to, both included, at any time up
// to asOf (not limited to the look-back). A date outside the years 0000
// to 9999 is an error wrapping [ErrInvalid] when the expression compiles.
func Active(from, to time.Time) Expr {
	return &query.Active{From: dateOf(from), To: dateOf(to)}
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Segment refers to the named segment name, defined with [Index.Define].
func Segment(name string) Expr { return &query.Ref{Kind: query.SegmentRef, Name: name} }

// RFM returns the customers of the RFM segment name (see [DefaultRFMRules]);
// names match case-insensitively and after spaces around name are
// trimmed (a rule's name has none).
func RFM(name string) Expr { return &query.Ref{Kind: query.RFMRef, Name: name} }

// Lifecycle returns the customers in the lifecycle stage (see [Stages]);
// stage matches case-insensitively and after spaces around it are
// trimmed.
func Lifecycle(stage string) Expr { return &query.Ref{Kind: query.LifecycleRef, Name: stage} }

// Top returns the customers for whom category cat is among their n
// favourite categories of its level ([TopRank] ≤ n). n = 0 means the
// index's TopN; n may not exceed it.
func Top(cat string, n int) Expr { return &query.Top{Cat: cat, N: n} }
