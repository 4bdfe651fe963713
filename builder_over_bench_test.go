package affinity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// BenchmarkBuildOnBase builds a History on a base of about 1 M lines
// (100,000 customers) with a share of the shop's lines added on top: new
// orders of existing customers, as a refresh brings them. share=1 adds
// every line to an empty base. "over" builds on top of the base, "copy"
// copies the base into the Builder and sorts everything, "auto" (the
// default) chooses by the size of the change.
func BenchmarkBuildOnBase(b *testing.B) {
	ctx := context.Background()
	sf := dataset.Generate(dataset.SyntheticOptions{Customers: 100_000, Products: 10_000, Categories: 200, Seed: 5, ViewsPerLine: -1})
	all := sf.Purchases
	for _, share := range []float64{0.01, 0.1, 0.25, 0.5, 1} {
		n := int(float64(len(all)) * (1 - share))
		var bb affinity.Builder
		for _, p := range all[:n] {
			if err := bb.Add(p); err != nil {
				b.Fatal(err)
			}
		}
		base, err := bb.Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"auto", "over", "copy"} {
			b.Run(fmt.Sprintf("share=%g/%s", share, mode), func(b *testing.B) {
				was := affinity.SetBaseMode(map[string]int32{"auto": affinity.BaseAuto, "over": affinity.BaseOver, "copy": affinity.BaseCopy}[mode])
				defer affinity.SetBaseMode(was)
				b.ReportAllocs()
				for b.Loop() {
					nb := affinity.NewBuilder(base)
					for _, p := range all[n:] {
						if err := nb.Add(p); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := nb.Build(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
