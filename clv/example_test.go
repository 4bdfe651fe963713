package clv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"gonum.org/v1/gonum/stat/distuv"
)

// shop builds a small History: ann buys three times, bob twice, cy once.
func shop() *affinity.History {
	var b affinity.Builder
	day := func(m time.Month, d int) time.Time { return time.Date(2024, m, d, 10, 0, 0, 0, time.UTC) }
	for _, p := range []affinity.Purchase{
		{Customer: "ann", Product: "tea", Time: day(1, 3), Quantity: 2, Price: affinity.MoneyFromFloat(4.5)},
		{Customer: "ann", Product: "pot", Time: day(2, 14), Quantity: 1, Price: affinity.MoneyFromFloat(30)},
		{Customer: "ann", Product: "tea", Time: day(5, 2), Quantity: 3, Price: affinity.MoneyFromFloat(4.5)},
		{Customer: "bob", Product: "cup", Time: day(1, 20), Quantity: 4, Price: affinity.MoneyFromFloat(6)},
		{Customer: "bob", Product: "tea", Time: day(3, 9), Quantity: 1, Price: affinity.MoneyFromFloat(4.5)},
		{Customer: "cy", Product: "pot", Time: day(4, 1), Quantity: 1, Price: affinity.MoneyFromFloat(30)},
	} {
		if err := b.Add(p); err != nil {
			panic(err)
		}
	}
	h, err := b.Build(context.Background())
	if err != nil {
		panic(err)
	}
	return h
}

func ExampleSummarize() {
	h := shop()
	s, err := clv.Summarize(context.Background(), h, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), clv.SummaryOptions{Unit: clv.Week})
	if err != nil {
		panic(err)
	}
	for i, c := range s.Customers {
		r := s.Rows[i]
		fmt.Printf("%-3s x=%v recency=%.1f T=%.1f mean=%.2f spend=%.2f\n",
			h.CustomerKey(c), r.Frequency, r.Recency, r.T, r.MeanValue, s.Spend[i])
	}
	// Output:
	// ann x=2 recency=17.1 T=21.4 mean=21.75 spend=52.50
	// bob x=1 recency=7.0 T=18.9 mean=4.50 spend=28.50
	// cy  x=0 recency=0.0 T=8.7 mean=0.00 spend=30.00
}

// ExampleFitBGNBD fits the model on 20,000 customers simulated from a
// BG/NBD process with r = 0.5, α = 10, a = 1.5, b = 4 (weeks): the
// estimates are within their standard errors of the truth.
func ExampleFitBGNBD() {
	src := rand.NewPCG(1, 2)
	rng := rand.New(src)
	rate := distuv.Gamma{Alpha: 0.5, Beta: 10, Src: src}
	drop := distuv.Beta{Alpha: 1.5, Beta: 4, Src: src}
	rows := make([]clv.RFT, 20000)
	for i := range rows {
		T := 52 * rng.Float64()
		lambda, p := rate.Rand(), drop.Rand()
		var x, last float64
		for t := rng.ExpFloat64() / lambda; t <= T; t += rng.ExpFloat64() / lambda {
			x, last = x+1, t
			if rng.Float64() < p {
				break
			}
		}
		rows[i] = clv.RFT{Frequency: x, Recency: last, T: T}
	}
	m, err := clv.FitBGNBD(context.Background(), rows, clv.FitOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("r=%.2f alpha=%.2f a=%.2f b=%.2f\n", m.R, m.Alpha, m.A, m.B)
	fmt.Printf("standard errors %.2f\n", m.Fit.StdErr)
	// Output:
	// r=0.51 alpha=10.14 a=1.39 b=3.81
	// standard errors [0.01 0.32 0.18 0.59]
}

// A shop whose customers all drop out with the same probability (0.2
// after each purchase) has no finite BG/NBD maximum: a and b grow
// together without bound. With Fallback the fit is made again with that
// penalty and says so; the estimate keeps the dropout probability near
// 0.2.
func ExampleFitOptions_fallback() {
	src := rand.NewPCG(3, 4)
	rng := rand.New(src)
	rate := distuv.Gamma{Alpha: 0.25, Beta: 4.4, Src: src}
	rows := make([]clv.RFT, 20000)
	for i := range rows {
		T := 52 * rng.Float64()
		lambda := rate.Rand()
		var x, last float64
		for t := rng.ExpFloat64() / lambda; t <= T; t += rng.ExpFloat64() / lambda {
			x, last = x+1, t
			if rng.Float64() < 0.2 {
				break
			}
		}
		rows[i] = clv.RFT{Frequency: x, Recency: last, T: T}
	}
	ctx := context.Background()
	_, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{})
	fmt.Println("exact fit converged:", !errors.Is(err, clv.ErrNotConverged))
	m, err := clv.FitBGNBD(ctx, rows, clv.FitOptions{Fallback: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("penalty:", m.Fit.Penalty)
	fmt.Println("why:", strings.Contains(m.Fit.ExactError, "dropout probability hardly varies"))
	fmt.Printf("mean dropout a/(a+b) = %.2f\n", m.A/(m.A+m.B))
	// Output:
	// exact fit converged: false
	// penalty: 1
	// why: true
	// mean dropout a/(a+b) = 0.22
}

// The published CDNOW parameters (Fader, Hardie & Lee 2005), in weeks.
func ExampleBGNBD_ExpectedPurchases() {
	m := clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	for _, c := range []clv.RFT{
		{Frequency: 0, Recency: 0, T: 38.86},
		{Frequency: 2, Recency: 30.43, T: 38.86},
		{Frequency: 2, Recency: 5, T: 38.86},
		{Frequency: 15, Recency: 38, T: 38.86},
	} {
		fmt.Printf("x=%-2v tx=%-5v next 39 weeks %.2f, P(alive) %.2f\n",
			c.Frequency, c.Recency, m.ExpectedPurchases(c, 39), m.PAlive(c))
	}
	// Output:
	// x=0  tx=0     next 39 weeks 0.19, P(alive) 1.00
	// x=2  tx=30.43 next 39 weeks 1.23, P(alive) 0.73
	// x=2  tx=5     next 39 weeks 0.21, P(alive) 0.12
	// x=15 tx=38    next 39 weeks 10.07, P(alive) 0.94
}

// MBG/NBD on the same customers, with BTYDplus's CDNOW estimates: a
// customer without repeat purchases may have dropped out at the first
// purchase, so P(alive) is below 1 for x = 0 as well.
func ExampleFitMBGNBD() {
	m := clv.BGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614, Modified: true}
	for _, c := range []clv.RFT{
		{Frequency: 0, Recency: 0, T: 10},
		{Frequency: 0, Recency: 0, T: 38.86},
		{Frequency: 2, Recency: 30.43, T: 38.86},
		{Frequency: 2, Recency: 5, T: 38.86},
	} {
		fmt.Printf("x=%-2v tx=%-5v T=%-5v next 39 weeks %.2f, P(alive) %.2f\n",
			c.Frequency, c.Recency, c.T, m.ExpectedPurchases(c, 39), m.PAlive(c))
	}
	// Output:
	// x=0  tx=0     T=10    next 39 weeks 0.48, P(alive) 0.52
	// x=0  tx=0     T=38.86 next 39 weeks 0.15, P(alive) 0.39
	// x=2  tx=30.43 T=38.86 next 39 weeks 1.26, P(alive) 0.71
	// x=2  tx=5     T=38.86 next 39 weeks 0.19, P(alive) 0.11
}

func ExampleCLV() {
	bg := clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	gg := clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	c := clv.RFT{Frequency: 2, Recency: 30.43, T: 38.86, MeanValue: 22.35}
	// 12 monthly periods, 1 % discount a month, 30 % margin.
	v, err := clv.CLV(&bg, &gg, c, clv.CLVOptions{Unit: clv.Week, DiscountRate: 0.01, Margin: 0.3})
	if err != nil {
		panic(err)
	}
	fmt.Printf("expected value per order %.2f, 12-month CLV %.2f\n", gg.ExpectedValue(c), v)
	// Output:
	// expected value per order 24.66, 12-month CLV 10.89
}

func ExampleHistorical() {
	h := shop()
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	ws, err := clv.Historical(context.Background(), h, asOf, clv.HistoricalOptions{Months: []int{12, 3}})
	if err != nil {
		panic(err)
	}
	for _, w := range ws {
		fmt.Printf("%2d months: %d orders, spend %v, AOV %v, %.2f orders per buyer, repeat rate %.2f\n",
			w.Months, w.Orders, w.Spend, w.AOV(), w.PurchaseFrequency(), w.RepeatRate())
	}
	ann, _ := h.LookupCustomer("ann")
	fmt.Printf("ann over 12 months: %d orders, spend %v, AOV %v\n",
		ws[0].Customers[ann].Orders, ws[0].Customers[ann].Spend, ws[0].Customers[ann].AOV())
	// Output:
	// 12 months: 6 orders, spend 111.00, AOV 18.50, 2.00 orders per buyer, repeat rate 0.67
	//  3 months: 3 orders, spend 48.00, AOV 16.00, 1.00 orders per buyer, repeat rate 0.00
	// ann over 12 months: 3 orders, spend 52.50, AOV 17.50
}

func ExampleRetention() {
	h := shop()
	start := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	// A customer "at" a time is one who bought in the two months before.
	p, err := clv.Retention(context.Background(), h, start, end, clv.RetentionOptions{ActiveMonths: 2})
	if err != nil {
		panic(err)
	}
	fmt.Printf("at start %d, at end %d, new %d, retention %.2f\n",
		p.AtStart.GetCardinality(), p.AtEnd.GetCardinality(), p.New.GetCardinality(), p.Rate())
	// Output:
	// at start 2, at end 2, new 1, retention 0.50
}

func ExampleCohortRetention() {
	h := shop()
	co, err := clv.CohortRetention(context.Background(), h, time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	for i, m := range co.Months {
		fmt.Printf("%s size %d:", m.Format("2006-01"), co.Size[i])
		for k := range co.Active[i] {
			fmt.Printf(" %.2f", co.Rate(i, k))
		}
		fmt.Println()
	}
	// Output:
	// 2024-01 size 2: 1.00 0.50 0.50 0.00 0.50
	// 2024-02 size 0: 0.00 0.00 0.00 0.00
	// 2024-03 size 0: 0.00 0.00 0.00
	// 2024-04 size 1: 1.00 0.00
	// 2024-05 size 0: 0.00
}

func ExampleWinBack() {
	bg := clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	ids := []affinity.CustomerID{1, 2, 3, 4, 5}
	rows := []clv.RFT{
		{Frequency: 6, Recency: 10, T: 39}, // bought often, silent for months
		{Frequency: 6, Recency: 38, T: 39}, // bought often, recently
		{Frequency: 1, Recency: 2, T: 39},
		{Frequency: 0, T: 20},
		{Frequency: 3, Recency: 5, T: 39},
	}
	spend := []float64{900, 850, 60, 20, 120}
	alive := make([]float64, len(rows))
	for i, c := range rows {
		alive[i] = bg.PAlive(c)
	}
	fmt.Println(clv.WinBack(ids, spend, alive, clv.WinBackOptions{Top: 0.4}).ToArray())
	fmt.Println(clv.Quantiles(ids, spend, 2)[1].ToArray())
	// Output:
	// [1]
	// [1 2 5]
}
