package dataset

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestDupTrackerMatchesNaive holds the duplicate-row tracker (a slice for
// a group's first rows, a map beyond, at most limit rows remembered) to a
// plain map of the rows seen since the group changed, on random feeds of
// groups from one row to a few hundred, with repeats inside and across
// groups.
func TestDupTrackerMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for iter := range testdata.Scale(60, 12) {
		limit := 1 + r.IntN(100)
		var d dupTracker
		var naive map[string]bool
		lastGroup := ""
		for range 200 {
			g := "o" + strconv.Itoa(r.IntN(4)+iter) // groups repeat, not always consecutively
			rows := 1 + r.IntN(80)
			if r.IntN(10) == 0 {
				rows = 300
			}
			for range rows {
				rec := []string{g, "p" + strconv.Itoa(r.IntN(rows+1)), strconv.Itoa(r.IntN(3))}
				if g != lastGroup {
					naive, lastGroup = map[string]bool{}, g
				}
				key := strings.Join(rec, "\x00")
				want := naive[key]
				if !want && len(naive) < limit {
					naive[key] = true
				}
				if got := d.check([]string{g}, d.hash(rec), limit); got != want {
					t.Fatalf("iteration %d, limit %d: row %q of group %s: duplicate %v, want %v", iter, limit, rec, g, got, want)
				}
			}
		}
	}
}
