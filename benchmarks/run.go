package benchmarks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// Result is what one way measured on one shop.
type Result struct {
	// Way is "affinity", "duckdb" or "naive".
	Way string `json:"way"`
	// Lines is the number of lines of the shop.
	Lines int `json:"lines"`
	// Steps are the build steps in order, with time and peak memory.
	Steps []Step `json:"steps"`
	// Queries maps "way/question" to the median time of the question's
	// timed form: [Affinity.Timed], [Affinity.Cells] without keys for
	// QRFM and [Affinity.Stats] for QCouponStats; [Duck.Timed] on raw
	// lines and on the per-customer tables; [NaiveAnswer].
	Queries map[string]Step `json:"queries"`
	// Digests maps a way ("affinity", "duckdb raw", …) to its answers.
	Digests map[string]Digest `json:"digests"`
	// Load holds the machine's 1-minute load average at the start and at
	// the end of the run.
	Load [2]float64 `json:"load"`
	// Machine is the machine the way ran on; the zero Machine in results
	// that did not record it.
	Machine Machine `json:"machine"`
}

// Query timing: every question runs at least queryReps times and for at
// least queryTime; DuckDB's raw-lines queries, which take up to seconds at
// 10 M lines, run rawReps times.
const (
	queryReps = 5
	queryTime = 200 * time.Millisecond
	rawReps   = 3
)

// RunAffinity loads the shop's CSV file with affinity and times every
// build step, the questions, one recommendation and recommendations for
// every customer.
func RunAffinity(ctx context.Context, shop *Shop) (*Result, error) {
	res := &Result{Way: "affinity", Queries: map[string]Step{}, Digests: map[string]Digest{}}
	step := func(name string, f func() error) error {
		s, err := Measure(name, f)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res.Steps = append(res.Steps, s)
		return nil
	}
	var b *affinity.Builder
	var h *affinity.History
	if err := step("load", func() (err error) { b, err = LoadAffinity(ctx, shop); return err }); err != nil {
		return nil, err
	}
	if err := step("history", func() (err error) { h, err = b.Build(ctx); b = nil; return err }); err != nil {
		return nil, err
	}
	res.Lines = h.NumLines()
	var a *Affinity
	if err := step("segment index", func() error {
		x, err := BuildIndex(ctx, h)
		a = NewAffinity(shop, x)
		return err
	}); err != nil {
		return nil, err
	}
	// The questions run on a collected heap, as in a server some time
	// after its build: otherwise the build's garbage is collected during
	// the first question, and every question's result lands in memory
	// the process has never touched (a page fault per 4 KiB).
	runtime.GC()
	for _, q := range Questions {
		f := func() error { _, err := a.Timed(q); return err }
		switch q {
		case QRFM:
			f = func() error { _, err := a.Cells(false); return err }
		case QCouponStats:
			f = func() error { _, err := a.Stats(q); return err }
		}
		s, err := Repeat(string(q), queryReps, queryTime, f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		res.Queries["affinity/"+string(q)] = s
	}
	ans, err := a.Answers()
	if err != nil {
		return nil, err
	}
	res.Digests["affinity"] = ans.Digest()

	var nb *similarity.Index
	if err := step("co-occurrence + neighbours", func() error {
		c, err := similarity.Count(ctx, h, AsOf, similarity.CountOptions{Scope: similarity.Basket})
		if err != nil {
			return err
		}
		// the default K (50) and MinSupport (2): a pair bought together
		// once is no neighbour, where the naive baseline keeps every pair
		nb, err = similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine})
		return err
	}); err != nil {
		return nil, err
	}
	var e *recommend.Engine
	if err := step("engine", func() (err error) {
		e, err = recommend.New(ctx, h, nb, AsOf, recommend.Options{})
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("clv fit", func() error {
		s, err := clv.Summarize(ctx, h, AsOf, clv.SummaryOptions{})
		if err != nil {
			return err
		}
		// The synthetic shop's dropout hardly varies between customers, so
		// the exact BG/NBD estimate runs off to infinity; a mild penalty
		// keeps it finite (see clv.FitOptions.Penalty).
		fo := clv.FitOptions{Penalty: 1}
		if _, err := clv.FitBGNBD(ctx, s.Rows, fo); err != nil {
			return err
		}
		_, err = clv.FitGammaGamma(ctx, s.Rows, fo)
		return err
	}); err != nil {
		return nil, err
	}
	// One recommendation: 2,000 requests (after 200 to warm up) for
	// customers drawn with a fixed seed.
	rng := rand.New(rand.NewPCG(1, 2))
	var dst []recommend.Rec
	one := func() error {
		key := h.CustomerKey(affinity.CustomerID(rng.IntN(h.NumCustomers())))
		var err error
		dst, err = e.Recommend(dst[:0], recommend.Request{Customer: key, K: 10})
		return err
	}
	for range 200 {
		if err := one(); err != nil {
			return nil, err
		}
	}
	s, err := Repeat("recommend one", 2000, 0, one)
	if err != nil {
		return nil, err
	}
	res.Steps = append(res.Steps, s)
	if err := step("recommend all", func() error {
		_, err := e.RecommendAll(ctx, recommend.Request{K: 10})
		return err
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// RunDuck loads the shop's CSV file into DuckDB, precomputes the
// per-customer tables and times the questions both ways.
func RunDuck(ctx context.Context, shop *Shop) (*Result, error) {
	res := &Result{Way: "duckdb", Lines: shop.Rows, Queries: map[string]Step{}, Digests: map[string]Digest{}}
	var d *Duck
	s, err := Measure("load", func() (err error) {
		if d, err = OpenDuck(shop, 0); err != nil {
			return err
		}
		return d.Load(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb load: %w", err)
	}
	defer d.Close()
	res.Steps = append(res.Steps, s)
	if s, err = Measure("precompute", func() error { return d.Precompute(ctx) }); err != nil {
		return nil, fmt.Errorf("duckdb precompute: %w", err)
	}
	res.Steps = append(res.Steps, s)
	for _, w := range []Way{Raw, Precomputed} {
		reps, dur := queryReps, queryTime
		if w == Raw {
			reps, dur = rawReps, 0
		}
		for _, q := range Questions {
			s, err := Repeat(string(q), reps, dur, func() error { return d.Timed(ctx, w, q) })
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", w, q, err)
			}
			res.Queries[w.String()+"/"+string(q)] = s
		}
		ans, err := d.Answers(ctx, w)
		if err != nil {
			return nil, err
		}
		res.Digests[w.String()] = ans.Digest()
	}
	return res, nil
}

// Timed runs the timed form of q the way w: the customers and their spend
// (QShare, QRecent, QCoupon), the 25 cells' counts and spend (QRFM), or the
// count and spend (QCouponStats).
func (d *Duck) Timed(ctx context.Context, w Way, q Question) error {
	if q != QRFM {
		return d.Answer(ctx, w, q, &Answers{})
	}
	rows, err := d.DB.QueryContext(ctx, d.CellsSQL(w))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r, f, n int
		var m int64
		if err := rows.Scan(&r, &f, &n, &m); err != nil {
			return err
		}
	}
	return rows.Err()
}
