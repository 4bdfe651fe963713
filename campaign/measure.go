package campaign

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Group is the outcome of one side (treated or control) of a campaign over
// the measurement period.
type Group struct {
	// Customers is the group's size; Converted those with a bought order
	// in the period.
	Customers int `json:"customers"`
	Converted int `json:"converted"`
	// Orders counts bought orders in the period; Revenue is their net
	// value (returns in the period subtracted).
	Orders  int            `json:"orders"`
	Revenue affinity.Money `json:"revenue"`
	// Conversion is Converted / Customers; RevenuePerCustomer Revenue /
	// Customers in currency units; AOV Revenue / Orders (0 without
	// orders). The averages are float64 quotients: to show them in cents,
	// round the exact quotient once with Revenue.FormatQuo(Customers, 2)
	// or Revenue.FormatQuo(Orders, 2).
	Conversion         float64 `json:"conversion"`
	RevenuePerCustomer float64 `json:"revenue_per_customer"`
	AOV                float64 `json:"aov"`

	revenue []float64 // per customer, currency units
	conv    []float64 // 0 or 1 per customer
}

// Result is the measurement of one campaign: treated against control.
// It marshals to JSON with snake_case names, the period as "from" and
// "to".
type Result struct {
	Campaign string `json:"campaign"`
	// From and To bound the measurement period (From, To].
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Treated and Control are the outcomes of the customers sent the
	// campaign and of those held out.
	Treated Group `json:"treated"`
	Control Group `json:"control"`
	// Confidence is the level of the intervals, such as 0.95.
	Confidence float64 `json:"confidence"`
	// Uplift is the difference in conversion (treated − control) with its
	// confidence interval.
	Uplift   float64    `json:"uplift"`
	UpliftCI [2]float64 `json:"uplift_ci"`
	// Incremental is the revenue the campaign added, in currency units:
	// (revenue per treated customer − revenue per control customer) ×
	// treated customers, with its confidence interval. Uplift,
	// Incremental and their intervals are all 0 when either group has
	// fewer than two customers, which leaves no variance to estimate
	// (Significant is then false); the groups' own figures are set.
	Incremental   float64    `json:"incremental"`
	IncrementalCI [2]float64 `json:"incremental_ci"`
}

// Significant reports whether the incremental revenue's interval excludes
// zero: with no true effect this happens in at most about a share 1 −
// Confidence of experiments (see the package documentation).
func (r *Result) Significant() bool { return r.IncrementalCI[0] > 0 || r.IncrementalCI[1] < 0 }

// MeasureOptions configures [Measure]; the zero value means 95 %
// intervals.
type MeasureOptions struct {
	// Confidence is the level of the intervals, in (0, 1); 0 means 0.95.
	Confidence float64
}

// Measure compares, for each campaign of msgs, the treated customers with
// the control group over the period (from, to] of h (a History that holds
// the orders after the plan, such as the shop's after a refresh): each
// group's conversion, revenue per customer and AOV, and the uplift in
// conversion and the incremental revenue with confidence intervals: for
// the uplift Agresti and Caffo's (each group given one more customer who
// converted and one who did not, p̃ₜ − p̃꜀ ± z·√(p̃ₜ(1−p̃ₜ)/(nₜ+2) +
// p̃꜀(1−p̃꜀)/(n꜀+2)), z the normal quantile of the level, within
// [−1, 1]); for the revenue the widest of Welch's interval (difference
// ± t·√(s²ₜ/nₜ + s²꜀/n꜀), t at the Welch–Satterthwaite degrees of
// freedom), Student's pooled-variance one and Student's with the
// variance of both groups together about their common mean (the
// variance when there is no effect, which is 0 only when every customer
// spent the same: two constant groups, all treated buying and no control,
// do not make a zero-width interval), the last two at nₜ + n꜀ − 2
// degrees of freedom, times the treated customers. A customer counted in a campaign is
// counted there only, whatever else they were sent, and once: listed
// several times (the messages of several plans), as treated if any
// listing is. Customers h does not know count as not converted. Results
// are ordered by campaign name; a campaign whose control or treated
// group has fewer than two customers (whose variance cannot be
// estimated) has zero uplift, incremental revenue and intervals, and is
// not significant. It takes time linear in the messages and their customers'
// orders and returns an error for an empty period or a level outside
// (0, 1).
func Measure(ctx context.Context, h *affinity.History, msgs []Message, from, to time.Time, opts MeasureOptions) ([]Result, error) {
	if err := affinity.CheckContext("campaign", ctx); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("campaign", "History")
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("campaign: measurement period %v..%v is empty", from, to)
	}
	conf := opts.Confidence
	if conf == 0 {
		conf = 0.95
	}
	if !(conf > 0 && conf < 1) {
		return nil, fmt.Errorf("campaign: confidence %v outside (0, 1)", conf)
	}
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	// each campaign's customers once, in key order: listed in several
	// plans they count once, and as treated if any plan sent them it
	type entry struct {
		campaign, customer string
		control            bool
	}
	entries := make([]entry, 0, len(msgs))
	for _, m := range msgs {
		entries = append(entries, entry{m.Campaign, m.Customer, m.Control})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.customer, b.customer), cmpBool(a.control, b.control))
	})
	entries = slices.CompactFunc(entries, func(a, b entry) bool { return a.campaign == b.campaign && a.customer == b.customer })
	byName := map[string]*Result{}
	f, t := from.Unix(), to.Unix()
	for i, m := range entries {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("campaign: %w", err)
			}
		}
		r := byName[m.campaign]
		if r == nil {
			r = &Result{Campaign: m.campaign, From: from, To: to, Confidence: conf}
			byName[m.campaign] = r
		}
		g := &r.Treated
		if m.control {
			g = &r.Control
		}
		var rev affinity.Money
		orders := 0
		if c, ok := h.LookupCustomer(m.customer); ok {
			lo, hi := h.CustomerOrders(c)
			for o := lo; o < hi; o++ {
				if u := h.OrderUnix(o); u <= f || u > t {
					continue
				}
				v := h.OrderValue(o)
				var ok bool
				if rev, ok = rev.Add(v); !ok {
					return nil, fmt.Errorf("campaign: revenue of %q: %w", m.customer, affinity.ErrMoneyRange)
				}
				if h.OrderBought(o) {
					orders++
				}
			}
		}
		g.Customers++
		g.Orders += orders
		var ok bool
		if g.Revenue, ok = g.Revenue.Add(rev); !ok {
			return nil, fmt.Errorf("campaign: revenue of %q: %w", m.campaign, affinity.ErrMoneyRange)
		}
		g.revenue = append(g.revenue, rev.Float())
		if orders > 0 {
			g.Converted++
			g.conv = append(g.conv, 1)
		} else {
			g.conv = append(g.conv, 0)
		}
	}
	out := make([]Result, 0, len(byName))
	for _, r := range byName {
		for _, g := range []*Group{&r.Treated, &r.Control} {
			if g.Customers > 0 {
				g.Conversion = float64(g.Converted) / float64(g.Customers)
				g.RevenuePerCustomer = g.Revenue.Float() / float64(g.Customers)
			}
			if g.Orders > 0 {
				g.AOV = g.Revenue.Float() / float64(g.Orders)
			}
		}
		if r.Treated.Customers > 1 && r.Control.Customers > 1 { // a group of one has no variance to estimate
			n := float64(r.Treated.Customers)
			r.Uplift = r.Treated.Conversion - r.Control.Conversion
			r.UpliftCI = upliftCI(r.Treated.Converted, r.Treated.Customers, r.Control.Converted, r.Control.Customers, z)
			d, half := diff(r.Treated.revenue, r.Control.revenue, conf)
			r.Incremental, r.IncrementalCI = d*n, [2]float64{(d - half) * n, (d + half) * n}
		}
		r.Treated.revenue, r.Treated.conv, r.Control.revenue, r.Control.conv = nil, nil, nil, nil
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Result) int { return cmp.Compare(a.Campaign, b.Campaign) })
	return out, nil
}

// diff returns mean(a) − mean(b) and the half-width of its interval at
// level conf, for groups of at least two: the widest of Welch's interval
// (t quantile at the Welch–Satterthwaite degrees of freedom), Student's
// pooled-variance one and Student's with the variance under no effect
// (both at |a| + |b| − 2). Welch's alone trusts a small group's
// variance, which is 0 for a control of a few customers who bought
// nothing: its interval then shrinks to the treated group's noise, and
// an A/A test with 200 treated and 2 held out found an effect in over
// half the trials. The pooled one, exact when there is no effect (both
// groups from one population), stays wide then, but it too is 0 when
// both groups are constant — every treated customer spent the same and
// no control customer bought — which two customers a side are one time
// in eight when each buys with probability 1/2. The third takes the
// variance of both groups together around their common mean, the
// variance as it is when there is no effect (as the score test of two
// proportions takes the pooled proportion): it is 0 only when every
// customer spent the same, and it keeps the A/A rate of 2 to 7
// customers a side, each buying one item with probability 1/2 or 3/10,
// at 2.3 % at most. It widens with the difference itself, by a share
// that vanishes as the groups grow.
func diff(a, b []float64, conf float64) (d, half float64) {
	ma, va := stat.MeanVariance(a, nil)
	mb, vb := stat.MeanVariance(b, nil)
	na, nb := float64(len(a)), float64(len(b))
	q := func(df float64) float64 {
		return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - (1-conf)/2)
	}
	if ea, eb := va/na, vb/nb; ea+eb > 0 {
		nu := (ea + eb) * (ea + eb) / (ea*ea/(na-1) + eb*eb/(nb-1))
		half = q(nu) * math.Sqrt(ea+eb)
	}
	d = ma - mb
	pooled := ((na-1)*va + (nb-1)*vb) / (na + nb - 2)
	// the squares about the common mean: those about each group's mean
	// plus the difference's share
	null := ((na-1)*va + (nb-1)*vb + d*d*na*nb/(na+nb)) / (na + nb - 1)
	half = max(half, q(na+nb-2)*math.Sqrt(max(pooled, null)*(1/na+1/nb)))
	return d, half
}

// upliftCI returns the interval of the difference in conversion, xa of
// na against xb of nb, at the normal quantile z: Agresti and Caffo's
// (each group given one more conversion and one more customer without,
// which keeps the interval from shrinking to nothing when a small group
// converted all or none), within [−1, 1].
func upliftCI(xa, na, xb, nb int, z float64) [2]float64 {
	pa := (float64(xa) + 1) / (float64(na) + 2)
	pb := (float64(xb) + 1) / (float64(nb) + 2)
	d := pa - pb
	half := z * math.Sqrt(pa*(1-pa)/(float64(na)+2)+pb*(1-pb)/(float64(nb)+2))
	return [2]float64{max(d-half, -1), min(d+half, 1)}
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
