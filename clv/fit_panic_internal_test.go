package clv

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFitPanicReachesCaller checks that a panic in a fit's
// log-likelihood (a bug in a model's block) reaches a recover of the
// fit's caller, whatever the workers: gonum's optimizer evaluates the
// objective on a goroutine of its own, where the panic would end the
// process.
func TestFitPanicReachesCaller(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			rec := func() (rec any) {
				defer func() { rec = recover() }()
				o := &objective{n: 3 * blockRows, dim: 1, workers: workers, ctx: context.Background()}
				o.prepare = func([]float64) {}
				o.block = func(lo, hi int, out []float64) {
					if lo > 0 {
						panic("model bug")
					}
				}
				o.finish = func([]float64) {}
				_, _, err := o.maximizeOnce("test", []float64{1}, FitOptions{})
				require.NoError(t, err, "the fit returned instead of raising the panic")
				return nil
			}()
			require.NotNil(t, rec, "the fit returned instead of raising the panic")
			assert.Contains(t, fmt.Sprint(rec), "model bug")
		})
	}
}
