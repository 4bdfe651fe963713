package timetext_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/internal/timetext"
)

// randomLine returns a purchase line in JSON, most often a valid one,
// else with a field misspelt or in another case, a value of the wrong
// type, a time that is none or has an offset out of range, or a null.
func randomLine(r *rand.Rand) string {
	fields := []string{
		`"customer":"c` + fmt.Sprint(r.IntN(9)) + `"`,
		`"product":"p\u00e9` + fmt.Sprint(r.IntN(9)) + `"`,
		`"time":"2026-01-05T10:00:00+01:00"`,
		`"quantity":` + fmt.Sprint(1+r.IntN(3)),
		`"price":"12.90"`,
	}
	if r.IntN(3) == 0 {
		fields = append(fields, `"order":"o1"`)
	}
	bad := []string{
		`"customer_id":"c1"`, `"Customer":"C"`, `"PRICE":3`, `"price":"12.9x"`,
		`"quantity":"2"`, `"quantity":1.5`, `"time":"2026-01-05T10:00:00+24:00"`,
		`"time":"yesterday"`, `"time":17`, `"time":null`, `"product":[]`, `"customer":null`,
	}
	for range r.IntN(3) {
		fields = append(fields, bad[r.IntN(len(bad))])
	}
	r.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	return "{" + strings.Join(fields[r.IntN(2):], ",") + "}"
}

// randomRecord returns a Purchase (kind 0), an Event (1) or an
// OrderChange (2) in JSON, now and then spoilt: cut short, followed by
// more data, of the wrong JSON type, or with a misspelt field.
func randomRecord(r *rand.Rand, kind int) string {
	var s string
	switch kind {
	case 0:
		s = randomLine(r)
	case 1:
		s = `{"customer":"c1","product":"p2","time":"2026-01-05T10:00:00Z","kind":"` + []string{"view", "cart", "rating", "sale"}[r.IntN(4)] + `","weight":` + []string{"1", "4.5", `"x"`}[r.IntN(3)] + "}"
		if r.IntN(4) == 0 {
			s = strings.Replace(s, `"weight"`, `"wieght"`, 1)
		}
	default:
		lines := make([]string, r.IntN(4))
		for i := range lines {
			lines[i] = randomLine(r)
		}
		s = `{"key":"o1","version":` + []string{"7", "-1", `"7"`}[r.IntN(3)] + `,"lines":[` + strings.Join(lines, ",") + "]}"
		if r.IntN(5) == 0 {
			s = strings.Replace(s, `"version"`, `"vesion"`, 1)
		}
	}
	switch r.IntN(12) {
	case 0:
		s = s[:r.IntN(len(s))] // cut short
	case 1:
		s += []string{" {}", "x", ` "more"`, "]"}[r.IntN(4)]
	case 2:
		s = []string{"[]", "null", "42", `"s"`, "true"}[r.IntN(5)]
	case 3:
		s = " \n" + s + "\t\n"
	}
	return s
}

// records are the values the records of each kind decode into.
type records struct {
	p affinity.Purchase
	e affinity.Event
	c affinity.OrderChange
}

// decode decodes s, a record of kind, into its place in v.
func (v *records) decode(kind int, s string) error {
	switch kind {
	case 0:
		return v.p.UnmarshalJSON([]byte(s))
	case 1:
		return v.e.UnmarshalJSON([]byte(s))
	}
	return v.c.UnmarshalJSON([]byte(s))
}

// TestUnmarshalPooled checks that Unmarshal with pooled decoders, which
// go from one record to the next, returns what it returns with a new
// decoder for each record, the error (offsets included) and the decoded
// value, on random Purchase, Event and OrderChange records, valid and
// spoilt, decoded one after another into values that hold what the
// records before left in them.
func TestUnmarshalPooled(t *testing.T) {
	defer timetext.SetUnpooled(false)
	for seed := range uint64(testdata.Scale(100, 20)) {
		r := rand.New(rand.NewPCG(seed, 89))
		var pooled, fresh records
		for i := range 50 {
			kind := r.IntN(3)
			s := randomRecord(r, kind)
			// the same lines in an array of their own, past their length
			// too: encoding/json decodes a slice into the array it has
			if pooled.c.Lines = nil; fresh.c.Lines != nil {
				pooled.c.Lines = make([]affinity.Purchase, len(fresh.c.Lines), cap(fresh.c.Lines))
				copy(pooled.c.Lines[:cap(fresh.c.Lines)], fresh.c.Lines[:cap(fresh.c.Lines)])
			}
			timetext.SetUnpooled(true)
			want := fresh.decode(kind, s)
			timetext.SetUnpooled(false)
			got := pooled.decode(kind, s)
			require.Equal(t, want, got, "seed %d record %d: %s", seed, i, s)
			assert.Equal(t, fresh, pooled, "seed %d record %d: %s", seed, i, s)
		}
	}
}
