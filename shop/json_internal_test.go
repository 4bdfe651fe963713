package shop

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/stretchr/testify/require"
)

// refReasonText is Reason.String written with fmt.
func refReasonText(x Reason) string {
	name := x.Name
	if name == "" {
		name = x.Product
	}
	switch x.Kind {
	case recommend.Again:
		last := fmt.Sprintf("%.0f days ago", math.Round(x.Days))
		switch math.Round(x.Days) {
		case 0, 1:
			last = []string{"today", "yesterday"}[int(math.Round(x.Days))]
		}
		if math.Round(x.Days) < 0 {
			last = "today"
		}
		s := fmt.Sprintf("bought %d %s before, last %s", x.Count, plural(x.Count, "time", "times"), last)
		if x.Due {
			s += ": due again"
		}
		if x.Trend >= recommend.TrendStated {
			s += fmt.Sprintf("; %.1f× its usual buyers in the last %.0f days", x.Trend, x.TrendDays)
		}
		return s
	case recommend.After:
		return fmt.Sprintf("bought after %s by %d %s", name, x.Count, refUnit(x)) + refLift(x.Count, x.Lift)
	case recommend.Taste:
		if x.Name != "" {
			return "bought by " + x.Name + " shoppers like you"
		}
		path := strings.Split(x.Category, "/")
		return "bought by " + path[len(path)-1] + " shoppers like you"
	default:
		by := "by"
		if x.Unit == "orders" {
			by = "in"
		}
		return fmt.Sprintf("bought together with %s %s %d %s", name, by, x.Count, refUnit(x)) + refLift(x.Count, x.Lift)
	}
}

// refUnit is x's unit, singular for a count of one.
func refUnit(x Reason) string {
	if x.Count == 1 {
		return strings.TrimSuffix(x.Unit, "s")
	}
	return x.Unit
}

// refValid reports whether a Rec is one UnmarshalJSON takes: no reasons
// on a fallback, at least one on a neighbors result, pair reasons at or
// above chance with their product and unit, counts and days not
// negative, taste reasons with their category.
func refValid(r *Rec) bool {
	if r.Source.Fallback() && r.nr > 0 || r.Source == recommend.Neighbors && r.nr == 0 {
		return false
	}
	for _, x := range r.Reasons() {
		pair := x.Kind == recommend.Together || x.Kind == recommend.After
		switch {
		case x.Count < 0, x.Days < 0,
			pair && (x.Lift < 1 || x.Product == "" || x.Unit != "orders" && x.Unit != "customers"),
			x.Kind == recommend.Taste && (x.Category == "" || x.Name == ""):
			return false
		}
	}
	return true
}

// refLift is recommend.AppendCredibleLift written with fmt.
func refLift(count int, lift float64) string {
	switch {
	case !(lift >= 1.05) || !(recommend.CredibleLift(count, lift) >= 1):
		return ""
	case math.Round(lift*10) < 100:
		return fmt.Sprintf(" — %.1f× more often than chance", lift)
	}
	return fmt.Sprintf(" — %.0f× more often than chance", lift)
}

func refExplanation(r *Rec) string {
	if r.nr == 0 {
		switch r.Source {
		case recommend.SegmentPopular:
			return "popular with customers like you"
		case recommend.Repeat:
			return "bought before and likely again"
		default:
			return "popular in the shop"
		}
	}
	var parts []string
	rs := r.Reasons()
	for i, x := range rs {
		if i > 0 && (x.Kind == recommend.Together || x.Kind == recommend.After) && x.Kind == rs[i-1].Kind {
			parts = append(parts, refShortText(x))
			continue
		}
		parts = append(parts, refReasonText(x))
	}
	return strings.Join(parts, "; ")
}

// refShortText is Reason.appendShort written with fmt.
func refShortText(x Reason) string {
	name := x.Name
	if name == "" {
		name = x.Product
	}
	head := "with " + name + " in"
	switch {
	case x.Kind == recommend.After:
		head = "after " + name + " by"
	case x.Unit != "orders":
		head = "with " + name + " by"
	}
	out := fmt.Sprintf("%s %d %s", head, x.Count, refUnit(x))
	switch {
	case !(x.Lift >= 1.05) || !(recommend.CredibleLift(x.Count, x.Lift) >= 1):
		return out
	case math.Round(x.Lift*10) < 100:
		return out + fmt.Sprintf(" (%.1f×)", x.Lift)
	}
	return out + fmt.Sprintf(" (%.0f×)", x.Lift)
}

// refMarshal encodes r through encoding/json's reflection on the JSON
// shapes.
func refMarshal(r Result) ([]byte, error) {
	type refResult struct {
		Customer  string    `json:"customer,omitempty"`
		Known     bool      `json:"known"`
		ColdStart bool      `json:"cold_start"`
		AsOf      time.Time `json:"as_of"`
		Ignored   []string  `json:"ignored,omitempty"`
		Recs      []recJSON `json:"recommendations"`
	}
	out := refResult{Customer: r.Customer, Known: r.Known, ColdStart: r.ColdStart, AsOf: r.AsOf.UTC(), Ignored: r.Ignored, Recs: []recJSON{}}
	for i := range r.Recs {
		x := &r.Recs[i]
		j := recJSON{Product: x.Product, Name: x.Name, Category: x.Category, Price: x.Price.String(), Score: x.Score,
			Source: x.Source, Reasons: []reasonJSON{}, Explanation: refExplanation(x)}
		for _, y := range x.Reasons() {
			j.Reasons = append(j.Reasons, reasonJSON{Kind: y.Kind, Product: y.Product, Name: y.Name, Category: y.Category, Share: y.Share, Count: y.Count,
				Unit: y.Unit, Lift: y.Lift, Days: y.Days, Due: y.Due, Trend: y.Trend, TrendDays: y.TrendDays, Text: refReasonText(y)})
		}
		out.Recs = append(out.Recs, j)
	}
	return json.Marshal(out)
}

// TestAppendJSONMatchesEncodingJSON holds the hand-written encoder to
// encoding/json byte for byte, on random results with hostile strings
// (quotes, control characters, HTML, invalid UTF-8, U+2028), floats of
// every magnitude, extreme money amounts and times in several zones
// (written in UTC); the output also decodes back to the result.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"a", "Zoë", "\"", "\\", "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "<b>", "&", "\u2028", "\u2029",
		"\xff", "\xe2\x82", "€", "😀", " ", "/", "'", "\x7f"}
	str := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	float := func() float64 {
		switch r.IntN(7) {
		case 0:
			return 0
		case 6:
			return math.Pow(10, r.Float64()*60-30) // every magnitude
		case 1:
			return r.Float64() * 1e-8
		case 2:
			return r.Float64() * 1e25
		case 3:
			return -r.Float64()
		default:
			return r.Float64() * 100
		}
	}
	zones := []*time.Location{time.UTC, time.FixedZone("x", -7*3600), time.FixedZone("y", 5*3600+1800)}
	sources := []recommend.Source{recommend.Neighbors, recommend.Repeat, recommend.SegmentPopular, recommend.Popular}
	kinds := []recommend.ReasonKind{recommend.Together, recommend.After, recommend.Again, recommend.Taste}
	units := []string{"orders", "customers", "purchases"}
	for iter := range testdata.Scale(2000, 500) {
		res := Result{Customer: str(), Known: r.IntN(2) == 0, ColdStart: r.IntN(2) == 0,
			AsOf: time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])}
		for range r.IntN(3) {
			res.Ignored = append(res.Ignored, str())
		}
		for range r.IntN(4) {
			rec := Rec{Product: str(), Name: str(), Category: str(), Price: affinity.Money(r.Int64() >> r.IntN(64)), Score: float(),
				Source: sources[r.IntN(len(sources))], nr: uint8(r.IntN(recommend.MaxReasons + 1))}
			if r.IntN(10) == 0 {
				rec.Price = affinity.MinMoney // the extreme amount: math.MinInt64 is no Money
			}
			for i := range int(rec.nr) {
				rec.reasons[i] = Reason{Kind: kinds[r.IntN(len(kinds))], Product: str(), Name: str(), Count: r.IntN(1000) - 1,
					Unit: units[r.IntN(len(units))], Lift: float(), Days: float(), Due: r.IntN(2) == 0, Trend: float(), TrendDays: float()}
				if rec.reasons[i].Kind == recommend.Taste {
					rec.reasons[i].Category, rec.reasons[i].Share = str()+"/"+str(), float()
				}
			}
			res.Recs = append(res.Recs, rec)
		}
		want, err := refMarshal(res)
		require.NoError(t, err)
		got, err := res.AppendJSON(nil)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "iteration %d", iter)
		for i := range res.Recs {
			require.Equal(t, refExplanation(&res.Recs[i]), res.Recs[i].Explanation())
		}
		valid := true
		for i := range res.Recs {
			valid = valid && refValid(&res.Recs[i])
		}
		var back Result
		if err := json.Unmarshal(got, &back); valid {
			require.NoError(t, err, "iteration %d: %s", iter, got)
		} else {
			require.Error(t, err, "iteration %d: a Rec no recommendation can be: %s", iter, got)
		}
	}
	_, err := Result{AsOf: time.Unix(0, 0), Recs: []Rec{{Score: math.NaN(), Source: recommend.Popular}}}.AppendJSON(nil)
	require.Error(t, err)
}
