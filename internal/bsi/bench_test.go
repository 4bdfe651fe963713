package bsi_test

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	rbsi "github.com/RoaringBitmap/roaring/v2/BitSliceIndexing"

	"github.com/shopaffinity/affinity/internal/bsi"
)

// shares returns 1e6 columns, 70 % of 1.4e6 ids present, with shares in
// 1/10000 (14-bit values), and a candidate set of a tenth of them.
func shares() (ids []uint32, vals []int64, cand *roaring.Bitmap) {
	rng := rand.New(rand.NewPCG(7, 7))
	cand = roaring.New()
	for c := range uint32(1_400_000) {
		if rng.IntN(10) < 7 {
			ids = append(ids, c)
			vals = append(vals, rng.Int64N(10_001))
			if rng.IntN(10) == 0 {
				cand.Add(c)
			}
		}
	}
	return ids, vals, cand
}

// BenchmarkRange compares this package with roaring's roaring.BSI
// (BitSliceIndexing) on the same columns: building the index, the range
// "share ≥ 0.3" on every column, the same range on a candidate set of a
// tenth of the columns, and a sum. Run with
//
//	go test -run '^$' -bench Range -benchtime 20x ./internal/bsi/
func BenchmarkRange(b *testing.B) {
	ids, vals, cand := shares()
	all := roaring.BitmapOf(ids...)
	var bb bsi.Builder
	ours := bb.Build(ids, vals)
	theirs := rbsi.NewBSI(10_000, 0)
	for i, c := range ids {
		theirs.SetValue(uint64(c), vals[i])
	}
	b.Run("build/bsi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bb.Build(ids, vals)
		}
	})
	b.Run("build/roaring.BSI", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x := rbsi.NewBSI(10_000, 0)
			for i, c := range ids {
				x.SetValue(uint64(c), vals[i])
			}
		}
	})
	check := func(b *testing.B, n uint64, want uint64) {
		if n != want {
			b.Fatalf("%d columns, want %d", n, want)
		}
	}
	var wantAll, wantCand uint64
	for i, c := range ids {
		if vals[i] >= 3000 {
			wantAll++
			if cand.Contains(c) {
				wantCand++
			}
		}
	}
	b.Run("ge-all/bsi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			check(b, ours.AtLeast(all.Clone(), 3000).GetCardinality(), wantAll)
		}
	})
	b.Run("ge-all/roaring.BSI", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			check(b, theirs.CompareValue(1, rbsi.GE, 3000, 0, nil).GetCardinality(), wantAll)
		}
	})
	b.Run("ge-candidates/bsi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			check(b, ours.AtLeast(cand.Clone(), 3000).GetCardinality(), wantCand)
		}
	})
	b.Run("ge-candidates/roaring.BSI", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			check(b, theirs.CompareValue(1, rbsi.GE, 3000, 0, cand).GetCardinality(), wantCand)
		}
	})
	b.Run("sum-candidates/bsi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ours.Sum(cand)
		}
	})
	b.Run("sum-candidates/roaring.BSI", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			theirs.Sum(cand)
		}
	})
}
