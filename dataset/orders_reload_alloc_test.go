package dataset_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// A strict load takes nothing back, so it keeps no copy of the changes
// its puts replace: loading an export again into the Builder that holds
// it staged allocates about what the first load did.
func TestStrictReloadKeepsNoReplacedChanges(t *testing.T) {
	ctx := context.Background()
	var sb strings.Builder
	sb.WriteString("Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n")
	const n = 2000
	for i := range n {
		fmt.Fprintf(&sb, "#%d,u%d@x.com,2024-03-01 10:00:00 +0000,1,Item,3.00,S%d\n", i, i%100, i%50)
		for j := range 7 {
			fmt.Fprintf(&sb, "#%d,,,%d,Item,4.00,T%d\n", i, j+1, (i+j)%50)
		}
	}
	data := sb.String()
	alloc := func(b *affinity.Builder) uint64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, err := dataset.Load(ctx, strings.NewReader(data), b, dataset.Options{Format: "shopify"})
		require.NoError(t, err)
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	var b affinity.Builder
	first := alloc(&b)
	again := alloc(&b) // every put replaces one staged by the first load
	t.Logf("first load %d bytes, again %d", first, again)
	require.Less(t, again, first+first/8, "the reload allocated %d bytes, the first load %d", again, first)
}
