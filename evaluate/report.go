package evaluate

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Report is the outcome of [Evaluate]: one [Row] per recommender, in the
// order they were given. It encodes to JSON with its standard errors
// ([Metrics.StdErr]); the per-customer scores that [Report.Compare] pairs
// are held in memory only, by the Report that Evaluate returned.
type Report struct {
	// Protocol describes the split (see [Split.Protocol]).
	Protocol string
	// AsOf is the end of the training period.
	AsOf time.Time
	// K is the cutoff of the headline metrics; CurveK the largest cutoff of
	// the curves (0 when none were computed).
	K, CurveK int
	// ExcludeSeen and MAP echo the options used.
	ExcludeSeen bool
	MAP         MAPNorm
	// Users is the number of evaluated customers; ColdUsers the test
	// customers with relevant items who are not in the training History.
	Users, ColdUsers int
	// TrainProducts is the number of training products with at least one
	// interaction: the denominator of coverage.
	TrainProducts int
	Rows          []Row

	// scored is set by Evaluate, which fills nRel and the rows' scores.
	scored bool
	// nRel holds, per Items, |R| of each of the selection's customers, in
	// the order of the rows' scores.
	nRel [numItems][]int32
}

// Row holds one recommender's results.
type Row struct {
	Name string
	// Metrics are the metrics at K, indexed by [Items].
	Metrics [3]Metrics
	// Curve holds, per [Items], the metrics at K = 1 … CurveK (Curve[it][j-1]
	// at K = j); nil when [Options.CurveK] was 0.
	Curve [3][]Metrics
	// FitTime and RecommendTime are the wall-clock times of Fit and of all
	// Recommend calls. They are not part of the markdown output, which is
	// deterministic.
	FitTime, RecommendTime time.Duration

	// scores are, per Items, the customers' list states at K, for
	// [Report.Compare].
	scores [numItems]customerScores
}

// Row returns the row named name, or nil.
func (r *Report) Row(name string) *Row {
	for i := range r.Rows {
		if r.Rows[i].Name == name {
			return &r.Rows[i]
		}
	}
	return nil
}

// WriteMarkdown writes a markdown table with one row per recommender and
// one column per metric of cols ([DefaultColumns] when none), for the
// relevant items selected by items. Cutoff metrics are headed "name@K".
// Values have four decimals; a selection without any evaluated customer
// shows "-". The output depends only on the metrics, never on timings.
// A metric outside the named ones is an error.
func (r *Report) WriteMarkdown(w io.Writer, items Items, cols ...Metric) error {
	if !items.valid() {
		return fmt.Errorf("evaluate: invalid Items %d", int(items))
	}
	if len(cols) == 0 {
		cols = DefaultColumns
	}
	for _, m := range cols {
		if !m.valid() {
			return fmt.Errorf("evaluate: unknown metric %v", m)
		}
	}
	bw := bufio.NewWriter(w)
	var b strings.Builder
	b.WriteString("| recommender |")
	for _, m := range cols {
		b.WriteString(" " + r.header(m) + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cols)))
	b.WriteString("\n")
	bw.WriteString(b.String())
	for _, row := range r.Rows {
		b.Reset()
		b.WriteString("| " + markdownCell(row.Name) + " |")
		m := row.Metrics[items]
		for _, c := range cols {
			if m.Users == 0 {
				b.WriteString(" - |")
				continue
			}
			b.WriteString(" " + strconv.FormatFloat(m.Value(c), 'f', 4, 64) + " |")
		}
		b.WriteString("\n")
		bw.WriteString(b.String())
	}
	return bw.Flush()
}

func (r *Report) header(m Metric) string {
	if m.atK() {
		return m.String() + "@" + strconv.Itoa(r.K)
	}
	return m.String()
}

// Summary returns a one-paragraph description of the evaluation: protocol,
// customers evaluated per [Items] selection, cold customers, and the
// options in words a shop owner can read: whether each customer's
// training items may be recommended to them again ([Options.ExcludeSeen])
// and what map@K divides by ([MAPNorm]).
func (r *Report) Summary() string {
	evaluated := fmt.Sprintf("%d customers evaluated", r.Users)
	if len(r.Rows) > 0 { // the selections' counts are the rows' (the same in every row)
		m := r.Rows[0].Metrics
		evaluated += fmt.Sprintf(" (%d with repeat items, %d with new items)", m[RepeatItems].Users, m[ExploreItems].Users)
	}
	seen := "may be recommended to them again"
	if r.ExcludeSeen {
		seen = "are left out of their recommendations"
	}
	ap := "their number of relevant test items"
	if r.MAP == MAPByMinKRelevant {
		ap = "K or their number of relevant test items, whichever is smaller"
	}
	return fmt.Sprintf("%s; as of %s; K = %d; %s, %d cold customers skipped; %d training products; the products each customer bought or rated in training %s; map@%d sums, per customer, the precision at each rank where the list holds a relevant item, divided by %s.",
		r.Protocol, r.AsOf.UTC().Format(timeLayout), r.K, evaluated,
		r.ColdUsers, r.TrainProducts, seen, r.K, ap)
}

// markdownCell escapes s for a cell of a Markdown table: a pipe would end
// the cell and a line break the row.
func markdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
