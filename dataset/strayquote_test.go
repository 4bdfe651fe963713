package dataset_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLenientStrayQuote: a quote opened in a field and never closed makes
// encoding/csv read the rest of the input as one malformed record. A
// lenient load skips the line of the quote and reads the lines after it
// again, so that every row is loaded or counted: it loaded 1,000 of 3,000
// rows and counted one skip. A strict load stops at the quote's line.
func TestLenientStrayQuote(t *testing.T) {
	for _, workers := range []int{-1, 0, 4} {
		for _, bad := range []string{
			"cX,\"oops,2024-01-02\n",    // never closed
			"cX,\"oops\"x,2024-01-02\n", // closed, then text
			"cX,p1,\"2024-01-02\n",      // in the last field
			"\"cX,p1,2024-01-02\r\n",    // in the first field, CRLF
		} {
			var sb strings.Builder
			sb.WriteString("customer,product,time\n")
			for i := range 3000 {
				if i == 1000 {
					sb.WriteString(bad)
					continue
				}
				fmt.Fprintf(&sb, "c%d,p%d,2024-01-02\n", i, i%50)
			}
			msg := fmt.Sprintf("workers %d, line %q", workers, bad)
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(sb.String()), &b, dataset.Options{Format: "csv", Lenient: true, Workers: workers})
			require.NoError(t, err, msg)
			assert.Equal(t, 3000, rep.Rows, msg)
			assert.Equal(t, 2999, rep.Loaded, msg)
			assert.Equal(t, []dataset.Skip{{Reason: "malformed csv", Count: 1, FirstLine: 1002}}, rep.Skipped, msg)
			h, err := b.Build(context.Background())
			require.NoError(t, err, msg)
			assert.Equal(t, 2999, h.NumCustomers(), msg)

			var sb2 affinity.Builder
			_, err = dataset.Load(context.Background(), strings.NewReader(sb.String()), &sb2, dataset.Options{Format: "csv", Workers: workers})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe, msg)
			assert.Equal(t, 1002, pe.Line, msg)
		}
	}
}
