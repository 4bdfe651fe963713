// Package query is the text syntax of segment definitions and the tree it
// parses to, with attributes as names: it knows the grammar, literals and
// units, positions and limits, and nothing of the index that evaluates a
// tree (package segment resolves the names, compiles and evaluates).
//
//	syn := query.NewSyntax(query.AttrSpec{Name: "recency", Unit: query.Days})
//	e, err := syn.Parse(`recency between 14d and 28d and not bought("Apparel/Socks")`)
//
// A [Syntax] holds the vocabulary of numeric attributes ([AttrSpec]: name,
// unit, whether it takes a quoted argument such as a category); the other
// conditions — bought, viewed, carted, abandoned, active, segment, rfm,
// lifecycle, top, all, none — are part of the grammar, which the segment
// package documents in full.
//
// # Positions and limits
//
// Every condition parsed from text ([Compare], [Activity], [Abandoned],
// [Active], [Ref], [Top]) records the byte offset + 1 of its keyword or
// attribute and of each argument (Pos, ArgPos, ValuePos, …; 0 for nodes
// built in Go), so that an evaluator can point a semantic error — an
// unknown category, a reversed range — at the offending token. The
// connectives and constants ([Bool] for and and or, [Negation] for not,
// [Const] for all and none) record no position: nothing about them can be
// wrong once they parse. Syntax errors are
// *[SyntaxError] with line and column. Input longer than
// [Limits].MaxLen (default 64 KiB) or nested deeper than
// [Limits].MaxDepth (default 200) is a syntax error naming the limit,
// and error messages quote at most 60 characters of input ([Excerpt]).
//
// # Trees built in Go
//
// [And] and [Or] splice operands of their own kind, and a chain acc =
// And(acc, x) extends acc's operand list in place when nothing else has,
// so that 100,000 chained clauses make one flat node in linear time. The
// slots after acc's operands are claimed atomically: goroutines that
// extend one shared tree at the same time each get their own operands
// (one extends in place, the others copy).
//
// # Concurrency
//
// A Syntax is immutable after [NewSyntax] and safe for concurrent use;
// trees are never modified after they are built.
package query
