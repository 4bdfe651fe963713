package clv_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/shopaffinity/affinity/clv"
)

var (
	millionOnce sync.Once
	million     []clv.RFT
)

// millionCustomers returns 1e6 customers simulated from a CDNOW-like
// BG/NBD process (seeded; built once per test binary).
func millionCustomers() []clv.RFT {
	millionOnce.Do(func() { million = simulate(1_000_000, cdnowLike, 42) })
	return million
}

// loop runs f in b.Loop and reports the process CPU time per operation
// (all goroutines) as cpu-ns/op.
func loop(b *testing.B, f func() error) {
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cdnowRows(b *testing.B) []clv.RFT {
	h := loadCDNOWSample(b)
	s, err := clv.Summarize(context.Background(), h, calibrationEnd, clv.SummaryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return s.Rows
}

func BenchmarkFitBGNBD(b *testing.B) {
	ctx := context.Background()
	b.Run("cdnow", func(b *testing.B) {
		rows := cdnowRows(b)
		loop(b, func() error {
			_, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{})
			return err
		})
	})
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("customers=1e6/workers=%d", workers), func(b *testing.B) {
			rows := millionCustomers()
			loop(b, func() error {
				_, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{Workers: workers})
				return err
			})
		})
	}
}

func BenchmarkFitGammaGamma(b *testing.B) {
	ctx := context.Background()
	b.Run("cdnow", func(b *testing.B) {
		rows := cdnowRows(b)
		loop(b, func() error {
			_, err := clv.FitGammaGamma(ctx, rows, clv.FitOptions{})
			return err
		})
	})
	b.Run("customers=1e6", func(b *testing.B) {
		rows := millionCustomers()
		loop(b, func() error {
			_, err := clv.FitGammaGamma(ctx, rows, clv.FitOptions{})
			return err
		})
	})
}

// BenchmarkScore scores expected purchases, P(alive), expected value and
// a 12-month CLV with monthly discounting.
func BenchmarkScore(b *testing.B) {
	ctx := context.Background()
	bg, gg := paperBG, paperGG
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("customers=1e6/workers=%d", workers), func(b *testing.B) {
			rows := millionCustomers()
			opts := clv.ScoreOptions{CLV: clv.CLVOptions{DiscountRate: 0.01}, Workers: workers}
			loop(b, func() error {
				_, err := clv.Score(ctx, rows, &bg, &gg, opts)
				return err
			})
		})
	}
}

func BenchmarkSummarize(b *testing.B) {
	h := loadCDNOWSample(b)
	ctx := context.Background()
	loop(b, func() error {
		_, err := clv.Summarize(ctx, h, calibrationEnd, clv.SummaryOptions{HoldoutEnd: holdoutEnd})
		return err
	})
}

// BenchmarkExpectedPurchasesLongHorizon: a long horizon with a small r+x
// used to sum 2²⁰ terms (about 7 ms a call) before it took the
// quadrature; the estimate of the series' length sends it to the
// quadrature at once (TestExpectedSkipsLongSeries checks the values).
func BenchmarkExpectedPurchasesLongHorizon(b *testing.B) {
	m := &clv.BGNBD{R: 0.01, Alpha: 1e-3, A: 1, B: 50}
	c := clv.RFT{T: 1}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if e := m.ExpectedPurchases(c, 1e5*float64(1+i%20)); math.IsNaN(e) {
			b.Fatal("NaN")
		}
	}
}

// BenchmarkExpectedPurchasesLargeShapes: large r, or large a and b+x,
// whose series change sign or grow for up to a million terms before they
// fall; the estimate of the series' length sends them to the quadrature
// at once (TestExpectedWorkIsBounded counts the work).
func BenchmarkExpectedPurchasesLargeShapes(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tc := &largeShapes[i%len(largeShapes)]
		i++
		if e := tc.m.ExpectedPurchases(tc.c, tc.t); math.IsNaN(e) {
			b.Fatal("NaN")
		}
	}
}
