package dataset_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// A split order whose put is taken back no longer counts its duplicate
// rows: they are skipped as "incomplete order", and FirstDuplicate is
// the first duplicate row of the orders still loaded.
func TestTakenBackOrderDropsItsDuplicates(t *testing.T) {
	const head = "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
	const one = "#1,amy@x.com,2024-03-01 11:00:00 +0000,1,Shirt,10.00,S1\n" +
		"#1,,,1,Mug,5.00,M1\n" +
		"#1,,,1,Mug,5.00,M1\n" // line 4, a duplicate row
	const two = "#2,bob@x.com,2024-03-02 11:00:00 +0000,1,Hat,7.00,H1\n" +
		"#2,,,1,Cap,3.00,C1\n" +
		"#2,,,1,Cap,3.00,C1\n" // line 7, a duplicate row
	const split = "#1,,,1,Cap,3.00,C1\n" // #1 taken back
	cases := []struct {
		name, data  string
		dups, first int
	}{
		{"whole", head + one + two, 2, 4},
		{"taken back", head + one + two + split, 1, 7},
		{"taken back, no other", head + one + strings.ReplaceAll(two, "#2,,,1,Cap,3.00,C1\n#2,,,1,Cap", "#2,,,1,Cap,3.00,C1\n#2,,,2,Cap") + split, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b affinity.Builder
			rep, err := dataset.Load(context.Background(), strings.NewReader(c.data), &b, dataset.Options{Format: "shopify", Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, c.dups, rep.Duplicates, "%v", rep.Skipped)
			assert.Equal(t, c.first, rep.FirstDuplicate)
			assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		})
	}
}
