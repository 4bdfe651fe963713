package dataset

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestParseFixedMatchesTime checks the fast path of the numeric layouts
// against time.ParseInLocation: wherever it accepts a string, the time is
// the same (in UTC, a fixed offset and a zone with daylight saving time),
// and it accepts every well-formed in-range string.
func TestParseFixedMatchesTime(t *testing.T) {
	locs := []*time.Location{time.UTC, time.FixedZone("X", -7*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		locs = append(locs, ny)
	} else {
		t.Logf("no zone database (%v): daylight saving time not covered", err)
	}
	layouts := []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02", time.RFC3339}
	rng := rand.New(rand.NewPCG(3, 5))
	digits := func(b []byte, i, n, v int) {
		for k := n - 1; k >= 0; k-- {
			b[i+k] = byte('0' + v%10)
			v /= 10
		}
	}
	accepted := 0
	for i := range testdata.Scale(200000, 50000) { // 50,000: about 29,000 take the fast path
		layout := layouts[i%len(layouts)]
		loc := locs[i%len(locs)]
		b := []byte(layout)
		if layout == time.RFC3339 {
			b = []byte([]string{"2006-01-02T15:04:05Z", "2006-01-02T15:04:05+02:00", "2006-01-02T15:04:05-07:00"}[rng.IntN(3)])
		}
		digits(b, 0, 4, rng.IntN(10000))
		digits(b, 5, 2, rng.IntN(14))
		digits(b, 8, 2, rng.IntN(33))
		if len(b) > 10 {
			digits(b, 11, 2, rng.IntN(26))
			digits(b, 14, 2, rng.IntN(62))
		}
		if len(b) > 16 {
			digits(b, 17, 2, rng.IntN(62))
		}
		wellFormed := layout != time.RFC3339 || b[len(b)-1] == 'Z' // offsets take the general parser
		if rng.IntN(20) == 0 {
			b[rng.IntN(len(b))] = " x-:T9"[rng.IntN(6)] // perhaps a broken shape
			wellFormed = false
		}
		s := string(b)
		if rng.IntN(50) == 0 {
			s, wellFormed = s[:rng.IntN(len(s))], false
		}
		want, err := time.ParseInLocation(layout, s, loc)
		got, ok := parseFixed(layout, s, loc)
		if ok {
			accepted++
			if err != nil || !got.Equal(want) || got.Location() != want.Location() {
				t.Fatalf("%q in %q (%v): fast %v, time.ParseInLocation %v, %v", s, layout, loc, got, want, err)
			}
		} else if err == nil && wellFormed {
			t.Fatalf("%q in %q (%v): the fast path refused what time.ParseInLocation reads as %v", s, layout, loc, want)
		}
	}
	if accepted < 10000 {
		t.Fatalf("only %d strings took the fast path", accepted)
	}
}
