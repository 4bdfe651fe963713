package similarity

import (
	"context"

	"github.com/shopaffinity/affinity"
)

// DenseEASEWeights exposes the float64 weights of the dense solver to the
// tests: the fitted products in row order and W, row-major.
func DenseEASEWeights(ctx context.Context, c *Counts, lambda float64) ([]affinity.ProductID, []float64, error) {
	sel := c.fitted()
	w, err := denseEASE(ctx, c, sel, positions(c.np, sel), lambda)
	return sel, w, err
}

// ReindexStats is Reindex with how it made the rows: whether NewIndex made
// them all, how many rows it selected in full, merged from their
// previous list, and of the selected how many were merges that fell back.
func ReindexStats(ctx context.Context, prev *Index, prevCounts, c *Counts, opts IndexOptions) (x *Index, full bool, selected, merged, fallback int, err error) {
	x, st, err := reindex(ctx, prev, prevCounts, c, opts)
	return x, st.full, st.selected, st.merged, st.fallback, err
}

// SetMaxAutoEntries sets the bound on the entries of the automatic sparse
// EASE fill, for tests of it on small catalogs; it returns a func that
// restores it.
func SetMaxAutoEntries(n int) (restore func()) {
	old := maxAutoEntries
	maxAutoEntries = n
	return func() { maxAutoEntries = old }
}
