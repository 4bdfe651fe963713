package benchmarks

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Run is everything measured at one size: the shop and the three ways.
type Run struct {
	Shop     *Shop   `json:"shop"`
	Affinity *Result `json:"affinity"`
	Duck     *Result `json:"duckdb"`
	Naive    *Result `json:"naive"`
}

// Mismatches returns, per pair of ways compared, the questions on which
// their answers differ; an empty map when all agree. DuckDB on raw lines is
// the reference.
func (r *Run) Mismatches() map[string][]string {
	out := map[string][]string{}
	ref := r.Duck.Digests[Raw.String()]
	check := func(name string, d Digest) {
		if q := Differ(ref, d); len(q) > 0 {
			out[name] = q
		}
	}
	check("duckdb precomputed", r.Duck.Digests[Precomputed.String()])
	check("affinity", r.Affinity.Digests["affinity"])
	check("naive", r.Naive.Digests["naive"])
	return out
}

// step returns the step called name of res, and whether it exists.
func step(res *Result, name string) (Step, bool) {
	if res == nil {
		return Step{}, false
	}
	for _, s := range res.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// AffinitySteps and the others name the build steps of each way in order.
var (
	AffinitySteps = []string{"load", "history", "segment index", "co-occurrence + neighbours", "engine", "clv fit", "recommend one", "recommend all"}
	DuckSteps     = []string{"load", "precompute"}
	NaiveSteps    = []string{"load", "features", "co-occurrence + neighbours"}
)

// Exponent fits t ∝ n^k through two sizes and returns k; NaN when either
// time is missing.
func Exponent(n1, t1, n2, t2 float64) float64 {
	if t1 <= 0 || t2 <= 0 || n1 <= 0 || n2 <= n1 {
		return math.NaN()
	}
	return math.Log(t2/t1) / math.Log(n2/n1)
}

// Totals are the headline comparisons at one size.
type Totals struct {
	Lines int
	// AffinityBuild is load + history + segment index, DuckBuild load +
	// precompute, in seconds.
	AffinityBuild, DuckBuild float64
	// AffinityPeak is the peak memory up to the segment index,
	// AffinityPeakAll over every step, DuckPeak over load and precompute;
	// MiB.
	AffinityPeak, AffinityPeakAll, DuckPeak float64
	// MinPre and MinRaw are the smallest speed-ups of affinity over DuckDB
	// on precomputed tables and on raw lines over the five questions;
	// MaxPre and MaxRaw the largest. The CPU variants compare median
	// processor times.
	MinPre, MaxPre, MinRaw, MaxRaw             float64
	MinPreCPU, MaxPreCPU, MinRawCPU, MaxRawCPU float64
}

// Totals computes the headline comparisons of the run.
func (r *Run) Totals() Totals {
	t := Totals{Lines: r.Shop.Rows, MinPre: math.Inf(1), MinRaw: math.Inf(1), MinPreCPU: math.Inf(1), MinRawCPU: math.Inf(1)}
	for i, name := range AffinitySteps {
		s, _ := step(r.Affinity, name)
		if i < 3 {
			t.AffinityBuild += s.Seconds
			t.AffinityPeak = max(t.AffinityPeak, s.PeakMB)
		}
		t.AffinityPeakAll = max(t.AffinityPeakAll, s.PeakMB)
	}
	for _, name := range DuckSteps {
		s, _ := step(r.Duck, name)
		t.DuckBuild += s.Seconds
		t.DuckPeak = max(t.DuckPeak, s.PeakMB)
	}
	for _, q := range Questions {
		a := r.Affinity.Queries["affinity/"+string(q)]
		pre := r.Duck.Queries[Precomputed.String()+"/"+string(q)]
		raw := r.Duck.Queries[Raw.String()+"/"+string(q)]
		t.MinPre, t.MaxPre = min(t.MinPre, pre.Seconds/a.Seconds), max(t.MaxPre, pre.Seconds/a.Seconds)
		t.MinRaw, t.MaxRaw = min(t.MinRaw, raw.Seconds/a.Seconds), max(t.MaxRaw, raw.Seconds/a.Seconds)
		t.MinPreCPU, t.MaxPreCPU = min(t.MinPreCPU, pre.CPUMedian/a.CPUMedian), max(t.MaxPreCPU, pre.CPUMedian/a.CPUMedian)
		t.MinRawCPU, t.MaxRawCPU = min(t.MinRawCPU, raw.CPUMedian/a.CPUMedian), max(t.MaxRawCPU, raw.CPUMedian/a.CPUMedian)
	}
	return t
}

// WriteMarkdown writes the report of the runs (ascending sizes): the
// machine that measured them and its load as their results recorded them
// (each machine with what it measured when they differ), then the tables
// of answers, build steps with peak memory and the fitted growth
// exponent, queries, and the targets at the largest size.
func WriteMarkdown(w io.Writer, runs []*Run) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	sizes := make([]string, len(runs))
	for i, r := range runs {
		sizes[i] = lines(r.Shop.Rows)
	}
	// growth exponent between the two largest sizes of at least 1 M lines,
	// else between the two largest sizes.
	i1, i2 := len(runs)-2, len(runs)-1
	expLabel := "—"
	if i1 >= 0 {
		expLabel = "k " + sizes[i1] + "→" + sizes[i2]
	}

	machine, cores := machineLine(runs)
	p("%s\n\nMachine load (1-minute load average", machine)
	if cores > 0 {
		p(" on %d cores", cores)
	}
	p(", at the start and end of each way): ")
	for i, r := range runs {
		if i > 0 {
			p("; ")
		}
		p("%s: DuckDB %.1f–%.1f, affinity %.1f–%.1f, naive %.1f–%.1f", lines(r.Shop.Rows), r.Duck.Load[0], r.Duck.Load[1], r.Affinity.Load[0], r.Affinity.Load[1], r.Naive.Load[0], r.Naive.Load[1])
	}
	p(".\n\n### Answers\n\n| lines | customers | DuckDB raw = precomputed | affinity = DuckDB | naive Go = DuckDB |\n|---|---|---|---|---|\n")
	for _, r := range runs {
		mm := r.Mismatches()
		eq := func(way string) string {
			if q, bad := mm[way]; bad {
				return "**differs: " + strings.Join(q, ", ") + "**"
			}
			return "same customers and spend"
		}
		p("| %s | %d | %s | %s | %s |\n", lines(r.Shop.Rows), r.Shop.Customers, eq("duckdb precomputed"), eq("affinity"), eq("naive"))
	}

	p("\n### Build steps: wall-clock time (peak resident MiB); CPU time and growth at the largest sizes\n\n| step | %s | CPU at %s | %s |\n|---|%s---|---|\n", strings.Join(sizes, " | "), sizes[len(sizes)-1], expLabel, strings.Repeat("---|", len(runs)))
	row := func(way string, res func(*Run) *Result, names []string) {
		for _, name := range names {
			cells := make([]string, len(runs))
			for i, r := range runs {
				s, ok := step(res(r), name)
				switch {
				case !ok:
					cells[i] = "—"
				case name == "recommend one":
					cells[i] = fmt.Sprintf("p50 %s, p99 %s", dur(s.Seconds), dur(s.P99))
				case s.PeakMB > 0:
					cells[i] = fmt.Sprintf("%s (%.0f)", dur(s.Seconds), s.PeakMB)
				default:
					cells[i] = dur(s.Seconds)
				}
			}
			cpu := "—"
			if s, ok := step(res(runs[len(runs)-1]), name); ok && s.CPUSeconds > 0 {
				cpu = dur(s.CPUSeconds)
			}
			k := "—"
			if i1 >= 0 && name != "recommend one" {
				s1, _ := step(res(runs[i1]), name)
				s2, _ := step(res(runs[i2]), name)
				n1, n2 := float64(runs[i1].Shop.Rows), float64(runs[i2].Shop.Rows)
				if e := Exponent(n1, s1.Seconds, n2, s2.Seconds); !math.IsNaN(e) {
					k = fmt.Sprintf("%.2f", e)
					if c := Exponent(n1, s1.CPUSeconds, n2, s2.CPUSeconds); !math.IsNaN(c) {
						k += fmt.Sprintf(" (CPU %.2f)", c)
					}
				}
			}
			p("| %s %s | %s | %s | %s |\n", way, name, strings.Join(cells, " | "), cpu, k)
		}
	}
	row("affinity", func(r *Run) *Result { return r.Affinity }, AffinitySteps)
	row("DuckDB", func(r *Run) *Result { return r.Duck }, DuckSteps)
	row("naive Go", func(r *Run) *Result { return r.Naive }, NaiveSteps)

	p("\n### Questions: median wall-clock time (median CPU time); speed-up of affinity in wall-clock time (in CPU time)\n\n| lines | question | affinity | naive Go scan | DuckDB precomputed | DuckDB raw lines | × naive | × precomputed | × raw |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		for _, q := range Questions {
			a := r.Affinity.Queries["affinity/"+string(q)]
			n := r.Naive.Queries["naive/"+string(q)]
			pre := r.Duck.Queries[Precomputed.String()+"/"+string(q)]
			raw := r.Duck.Queries[Raw.String()+"/"+string(q)]
			cell := func(s Step) string {
				if s.CPUMedian > 0 {
					return fmt.Sprintf("%s (%s)", dur(s.Seconds), dur(s.CPUMedian))
				}
				return dur(s.Seconds)
			}
			ratio := func(s Step) string {
				t := fmt.Sprintf("%.0f×", s.Seconds/a.Seconds)
				if s.CPUMedian > 0 && a.CPUMedian > 0 {
					t += fmt.Sprintf(" (%.0f×)", s.CPUMedian/a.CPUMedian)
				}
				return t
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", lines(r.Shop.Rows), q, cell(a), cell(n), cell(pre), cell(raw), ratio(n), ratio(pre), ratio(raw))
		}
	}

	last := runs[len(runs)-1]
	t := last.Totals()
	p("\n### Targets at %s lines\n\n| target | measured | met |\n|---|---|---|\n", lines(t.Lines))
	mm := last.Mismatches()
	p("| same customers and cents as DuckDB, all five questions | %s | %s |\n", sameText(mm["affinity"]), yes(len(mm["affinity"]) == 0))
	p("| ≥ 50× DuckDB on precomputed tables | %.0f× to %.0f× wall-clock (%.0f× to %.0f× CPU) | %s |\n", t.MinPre, t.MaxPre, t.MinPreCPU, t.MaxPreCPU, yes(t.MinPre >= 50))
	p("| ≥ 500× DuckDB on raw lines | %.0f× to %.0f× wall-clock (%.0f× to %.0f× CPU) | %s |\n", t.MinRaw, t.MaxRaw, t.MinRawCPU, t.MaxRawCPU, yes(t.MinRaw >= 500))
	p("| load + build ≤ DuckDB load + precompute | %s vs %s (%.2f×) | %s |\n", dur(t.AffinityBuild), dur(t.DuckBuild), t.AffinityBuild/t.DuckBuild, yes(t.AffinityBuild <= t.DuckBuild))
	p("| peak memory ≤ DuckDB's | %.0f MiB to the segment index (%.0f MiB with every step) vs %.0f MiB | %s |\n", t.AffinityPeak, t.AffinityPeakAll, t.DuckPeak, yes(t.AffinityPeak <= t.DuckPeak))
	if i1 >= 0 {
		worst, name, worstCPU, nameCPU := math.Inf(-1), "", math.Inf(-1), ""
		n1, n2 := float64(runs[i1].Shop.Rows), float64(runs[i2].Shop.Rows)
		for _, s := range AffinitySteps {
			if s == "recommend one" {
				continue
			}
			s1, _ := step(runs[i1].Affinity, s)
			s2, _ := step(runs[i2].Affinity, s)
			if e := Exponent(n1, s1.Seconds, n2, s2.Seconds); e > worst {
				worst, name = e, s
			}
			if e := Exponent(n1, s1.CPUSeconds, n2, s2.CPUSeconds); e > worstCPU {
				worstCPU, nameCPU = e, s
			}
		}
		p("| growth exponent ≤ 1.15 (%s) | worst %.2f wall-clock (%s), %.2f CPU (%s) | %s |\n", expLabel, worst, name, worstCPU, nameCPU, yes(worst <= 1.15))
	}
}

func sameText(bad []string) string {
	if len(bad) == 0 {
		return "same"
	}
	return "differ on " + strings.Join(bad, ", ")
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// lines formats a line count as 10.6k, 1.06M: thousands with one decimal,
// millions with two, a count that rounds to 1000.0k in millions (999,950
// is 1.00M).
func lines(n int) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		// below 1e6 only 1000.0 can round out of the unit
		if k := fmt.Sprintf("%.1f", float64(n)/1e3); k != "1000.0" {
			return k + "k"
		}
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	}
	return fmt.Sprint(n)
}

// dur formats seconds with three significant digits in µs or ms, in the
// smallest of the two whose rounded value stays below 1,000 (999.7 µs is
// 1 ms, not 1e+03 µs), and with two decimals in seconds from 1 s (0.9997 s
// is 1.00 s).
func dur(s float64) string {
	if s == 0 {
		return "—"
	}
	for _, u := range []struct {
		scale float64
		name  string
	}{{1e6, "µs"}, {1e3, "ms"}} {
		v := fmt.Sprintf("%.3g", s*u.scale)
		if r, _ := strconv.ParseFloat(v, 64); r < 1000 {
			return v + " " + u.name
		}
	}
	return fmt.Sprintf("%.2f s", s)
}
