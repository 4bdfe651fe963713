package dataset

import (
	"context"
	"fmt"
	"iter"

	"github.com/shopaffinity/affinity"
)

// LoadSeq adds the purchases of seq to b, for purchases that come from Go
// code rather than a file: another store's API, a channel drained into an
// iterator, or [affinity.History.Purchases] of another History. It uses
// opts.Lenient and opts.Limits.MaxRows only: in strict mode the first purchase b refuses stops the
// load with a [*ParseError] whose Line is the purchase's 1-based position
// in seq; lenient loads skip it, counted as "invalid record". LoadSeq
// checks ctx every 4096 purchases and returns an error wrapping ctx.Err()
// when it is done. The Report counts what was read until then.
func LoadSeq(ctx context.Context, seq iter.Seq[affinity.Purchase], b *affinity.Builder, opts Options) (Report, error) {
	if err := checkArgs(ctx, b, seq == nil, "sequence"); err != nil {
		return Report{Format: "seq"}, err
	}
	l := newLoader(ctx, b, opts, "seq")
	if err := ctx.Err(); err != nil {
		return l.report(), fmt.Errorf("dataset: %w", err)
	}
	n := 0
	for p := range seq {
		n++
		if err := l.row(n); err != nil {
			return l.report(), err
		}
		if e := l.add(p, n); e != nil {
			if err := l.reject(e); err != nil {
				return l.report(), err
			}
			continue
		}
		l.rep.Loaded++
	}
	return l.report(), nil
}
