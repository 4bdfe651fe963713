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
