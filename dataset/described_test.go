package dataset_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Options.Described lets a file loaded alone keep the rows, and add the
// catalog entries, of a load after the files before it: a row of a
// product those files describe is loaded without a look at its
// categories (a path deeper than MaxCategoryDepth here), and gives the
// product no entry.
func TestDescribedLoadsAsAfterEarlierFiles(t *testing.T) {
	const header = "customer,product,order,time,quantity,price,category,name\n"
	deep := strings.TrimSuffix(strings.Repeat("a/", affinity.MaxCategoryDepth+1), "/")
	first := header + "c1,P,o1,2024-01-10T00:00:00Z,1,10,Home,Plate\n"
	second := header +
		"c2,P,o2,2024-01-11T00:00:00Z,1,10," + deep + ",Other plate\n" +
		"c2,Q,o2,2024-01-11T00:00:00Z,2,5,Garden,Rake\n"
	ctx := context.Background()
	load := func(t *testing.T, b *affinity.Builder, data string, o dataset.Options) []string {
		var calls []string
		o.OnProduct = func(p affinity.Product) { calls = append(calls, p.Key+"="+p.Name) }
		_, err := dataset.Load(ctx, strings.NewReader(data), b, o)
		require.NoError(t, err)
		return calls
	}
	lines := func(t *testing.T, b *affinity.Builder) []string {
		h, err := b.Build(ctx)
		require.NoError(t, err)
		var ls []string
		for p := range h.Purchases() {
			if p.Customer == "c2" {
				ls = append(ls, fmt.Sprintf("%s %s %d %v", p.Order, p.Product, p.Quantity, p.Price))
			}
		}
		return ls
	}
	for _, lenient := range []bool{false, true} {
		t.Run(fmt.Sprintf("lenient %v", lenient), func(t *testing.T) {
			var one affinity.Builder // the single machine: both files into one Builder
			described := load(t, &one, first, dataset.Options{Lenient: lenient})
			wantCalls := load(t, &one, second, dataset.Options{Lenient: lenient})
			want := lines(t, &one)
			require.Len(t, want, 2, "P's row of the second file is loaded")

			var alone affinity.Builder
			o := dataset.Options{Lenient: lenient, Described: func(key string) bool {
				return slices.ContainsFunc(described, func(c string) bool { return strings.HasPrefix(c, key+"=") })
			}}
			assert.Equal(t, wantCalls, load(t, &alone, second, o))
			assert.Equal(t, []string{"Q=Rake"}, wantCalls)
			assert.Equal(t, want, lines(t, &alone))
		})
	}
}

// Options.Described is asked once per product and load, also when the
// first row naming the product is rejected and a later one asks again.
func TestDescribedAskedOncePerProduct(t *testing.T) {
	const header = "customer,product,order,time,quantity,price,category,name\n"
	deep := strings.TrimSuffix(strings.Repeat("a/", affinity.MaxCategoryDepth+1), "/")
	data := header +
		"c1,P,o1,2024-01-10T00:00:00Z,1,10," + deep + ",Plate\n" +
		"c1,P,o2,2024-01-11T00:00:00Z,1,10,Home,Plate\n"
	calls := map[string]int{}
	var b affinity.Builder
	rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{
		Lenient:   true,
		Described: func(key string) bool { calls[key]++; return false },
	})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Loaded, "the row with the deep path is rejected")
	assert.Equal(t, map[string]int{"P": 1}, calls)
}
