package segment_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrLoadLenient: with Lenient, LoadAttributes skips the rows a
// strict load stops at — malformed CSV, a wrong number of fields, a flag,
// date or text that does not parse — and counts each by reason with the
// line of the first, as the dataset loaders do; the result is the strict
// load of the file without those rows, and Rows = Loaded +
// UnknownCustomers + SkippedRows. There was no lenient mode: one bad row
// of a customer file stopped the load.
func TestAttrLoadLenient(t *testing.T) {
	const n = 12
	x := attrIndex(t, n, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	o := segment.AttributeOptions{Flags: []string{"optin"}, Dates: []string{"signup"}, Texts: []string{"email"}}
	bad := []struct{ reason, row string }{
		{"invalid flag", "%s,maybe,2025-01-01,a@b"},
		{"invalid date", "%s,1,2025-02-30,a@b"},
		{"invalid text", "%s,1,2025-01-01," + strings.Repeat("x", segment.MaxAttributeValue+1)},
		{"wrong field count", "%s,1"},
		{"malformed csv", "%s,1,2025-01-01,a\"b"},
	}
	for seed := range uint64(testdata.Scale(20, 4)) {
		rng := rand.New(rand.NewPCG(seed, 5))
		var all, good strings.Builder
		all.WriteString("customer,optin,signup,email\n")
		good.WriteString("customer,optin,signup,email\n")
		var want []segment.AttributeSkip
		rows := testdata.Scale(200, 60)
		for line := 2; line < rows+2; line++ {
			key := fmt.Sprintf("c%03d", rng.IntN(n+3)) // some unknown
			if rng.IntN(4) == 0 {
				b := bad[rng.IntN(len(bad))]
				fmt.Fprintf(&all, b.row+"\n", key)
				k := 0
				for k < len(want) && want[k].Reason != b.reason {
					k++
				}
				if k == len(want) {
					want = append(want, segment.AttributeSkip{Reason: b.reason, FirstLine: line})
				}
				want[k].Count++
				continue
			}
			row := fmt.Sprintf("%s,%s,2025-01-%02d,%s@example.com\n", key, []string{"", "yes", "no"}[rng.IntN(3)], 1+rng.IntN(28), key)
			all.WriteString(row)
			good.WriteString(row)
		}
		strictErr := func() error {
			_, _, err := segment.LoadAttributes(strings.NewReader(all.String()), x, o)
			return err
		}()
		if len(want) > 0 {
			require.Error(t, strictErr, "seed %d: strict mode stops at the first bad row", seed)
		}
		wantA, wantRep, err := segment.LoadAttributes(strings.NewReader(good.String()), x, o)
		require.NoError(t, err)
		lo := o
		lo.Lenient = true
		a, rep, err := segment.LoadAttributes(strings.NewReader(all.String()), x, lo)
		require.NoError(t, err, "seed %d", seed)
		assert.Equal(t, want, rep.Skipped, "seed %d", seed)
		assert.Equal(t, wantRep.Loaded, rep.Loaded, "seed %d", seed)
		assert.Equal(t, wantRep.UnknownCustomers, rep.UnknownCustomers, "seed %d", seed)
		assert.Equal(t, rows, rep.Rows, "seed %d", seed)
		assert.Equal(t, rep.Rows, rep.Loaded+rep.UnknownCustomers+rep.SkippedRows(), "seed %d", seed)
		assert.Equal(t, wantA.Flag("optin").ToArray(), a.Flag("optin").ToArray(), "seed %d", seed)
		for c := range affinity.CustomerID(n) {
			wd, wok := wantA.Date("signup", c)
			d, ok := a.Date("signup", c)
			assert.Equal(t, wok, ok)
			assert.Equal(t, wd, d, "seed %d: customer %d", seed, c)
			wv, _ := wantA.Text("email", c)
			v, _ := a.Text("email", c)
			assert.Equal(t, wv, v, "seed %d: customer %d", seed, c)
		}
	}
}

// TestAttrLoadLenientStops: header errors and a record beyond
// MaxAttributeRecord stop a lenient load too.
func TestAttrLoadLenientStops(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	o := segment.AttributeOptions{Flags: []string{"optin"}, Lenient: true}
	_, _, err := segment.LoadAttributes(strings.NewReader("customer,opt\nc000,1\n"), x, o)
	require.ErrorContains(t, err, "line 1")
	_, _, err = segment.LoadAttributes(strings.NewReader("customer,optin\nc000,\""+strings.Repeat("x", segment.MaxAttributeRecord)), x, o)
	require.ErrorContains(t, err, "MaxAttributeRecord")
}
