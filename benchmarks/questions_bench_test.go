package benchmarks_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/shopaffinity/affinity/benchmarks"
)

// BenchmarkQuestions times the timed form of every marketer question three
// ways on one shop of BENCH_LINES lines (default 100 k): affinity's segment index, DuckDB on the per-customer
// tables and DuckDB on the raw lines. cmd/report measures the same with
// its own loop, in separate processes, at every size.
func BenchmarkQuestions(b *testing.B) {
	ctx := context.Background()
	shop, err := benchmarks.Generate(b.TempDir(), envLines(b, "BENCH_LINES", benchmarks.Sizes[1]))
	if err != nil {
		b.Fatal(err)
	}
	d, err := benchmarks.OpenDuck(shop, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.Load(ctx); err != nil {
		b.Fatal(err)
	}
	if err := d.Precompute(ctx); err != nil {
		b.Fatal(err)
	}
	bl, err := benchmarks.LoadAffinity(ctx, shop)
	if err != nil {
		b.Fatal(err)
	}
	h, err := bl.Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	x, err := benchmarks.BuildIndex(ctx, h)
	if err != nil {
		b.Fatal(err)
	}
	a := benchmarks.NewAffinity(shop, x)
	for _, q := range benchmarks.Questions {
		b.Run(fmt.Sprintf("lines=%d/q=%s/affinity", shop.Rows, q), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				switch q {
				case benchmarks.QRFM:
					_, err = a.Cells(false)
				case benchmarks.QCouponStats:
					_, err = a.Stats(q)
				default:
					_, err = a.Timed(q)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, w := range []benchmarks.Way{benchmarks.Precomputed, benchmarks.Raw} {
			b.Run(fmt.Sprintf("lines=%d/q=%s/%s", shop.Rows, q, w), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := d.Timed(ctx, w, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
