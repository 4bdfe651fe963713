package dataset_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// movieLensFaults are the bad fields of movieLensExport's rows; the
// missing ids only where a field may be empty ("::" and commas, not
// white space, which would make a wrong field count of them).
var movieLensFaults = []refFault{
	{"invalid rating", 3, map[int]string{3: "x"}},
	{"invalid rating", 3, map[int]string{3: "NaN"}},
	{"invalid time", 4, map[int]string{4: "{}x"}},
	{"time out of range", 4, map[int]string{4: "-{}"}},
	{"missing customer", 1, map[int]string{1: ""}},
	{"missing product", 2, map[int]string{2: ""}},
}

// movieLensRef is what a naive reading of a MovieLens file loads: its
// ratings as "user|item|unix|weight" texts, the Report's counts and the
// strict load's error.
type movieLensRef struct {
	refLoad
	ratings []string
}

// movieLensExport generates a random MovieLens ratings file of n lines
// (u.data, ratings.dat or ratings.csv layout) and what a naive reading
// of it loads.
func movieLensExport(rng *rand.Rand, n, bad1in int) (string, movieLensRef) {
	var ref movieLensRef
	w := newExportWriter(rng)
	sep, faults := "\t", movieLensFaults[:4]
	switch rng.IntN(4) {
	case 0:
		sep, faults = "::", movieLensFaults
	case 1:
		sep, faults = ",", movieLensFaults
		w.row([]string{"userId,movieId,rating,timestamp"})
	case 2:
		sep = strings.Repeat(" ", 1+rng.IntN(2))
	}
	ratings := []string{"1", "2", "3", "4", "5", "0.5", "3.5", "4.0"}
	user := 1
	ts := int64(874_965_758)
	var prev []string
	for range n {
		fields := prev // an exact duplicate row
		dup := prev != nil && rng.IntN(10) == 0
		if !dup {
			if rng.IntN(3) == 0 {
				user = 1 + rng.IntN(40)
			}
			ts += 1 + int64(rng.IntN(100_000))
			fields = []string{strconv.Itoa(user), strconv.Itoa(1 + rng.IntN(300)), ratings[rng.IntN(len(ratings))], strconv.FormatInt(ts, 10)}
		}
		bad, badCol := "", 0
		rec := slices.Clone(fields)
		if !dup {
			bad, badCol = spoil(rng, rec, bad1in, faults)
			if bad == "" {
				switch rng.IntN(2 * bad1in) {
				case 0:
					rec, bad = rec[:3], "wrong field count"
				case 1:
					rec, bad = append(rec, "extra"), "wrong field count"
				}
			}
		}
		line := w.row([]string{strings.Join(rec, sep)})
		ref.rows++
		if bad != "" {
			ref.fail(line, badCol, bad)
			continue
		}
		if dup {
			ref.dups++
		}
		prev = fields
		ref.loaded++
		r, _ := strconv.ParseFloat(fields[2], 32)
		t, _ := strconv.ParseInt(fields[3], 10, 64)
		ref.ratings = append(ref.ratings, fmt.Sprintf("%s|%s|%d|%g", fields[0], fields[1], t, float32(r)))
	}
	return w.b.String(), ref
}

// checkMovieLensLoad loads data, strict and lenient, with one worker and
// several, as events and as purchases, and compares each load with ref.
func checkMovieLensLoad(t *testing.T, data string, ref movieLensRef) {
	t.Helper()
	for _, lenient := range []bool{false, true} {
		for _, workers := range []int{1, 3} {
			for _, asPurchases := range []bool{false, true} {
				what := fmt.Sprintf("lenient %v, workers %d, as purchases %v", lenient, workers, asPurchases)
				var b affinity.Builder
				rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b,
					dataset.Options{Format: "movielens", Lenient: lenient, Workers: workers, MovieLensAsPurchases: asPurchases})
				if !lenient && ref.errLine != 0 {
					var pe *dataset.ParseError
					require.ErrorAs(t, err, &pe, what)
					assert.Equal(t, [3]any{ref.errLine, ref.errCol, ref.errReason}, [3]any{pe.Line, pe.Column, pe.Reason}, "%s: %v", what, err)
					continue
				}
				require.NoError(t, err, what)
				h, err := b.Build(context.Background())
				require.NoError(t, err, what)
				var got []string
				if asPurchases {
					for p := range h.Purchases() {
						assert.Equal(t, [2]any{int32(1), affinity.Money(0)}, [2]any{p.Quantity, p.Price}, what)
						got = append(got, fmt.Sprintf("%s|%s|%d", p.Customer, p.Product, p.Time.Unix()))
					}
					assert.Zero(t, h.NumEvents(), what)
					assert.Equal(t, len(ref.ratings), rep.Purchases, what)
					assert.Zero(t, rep.Events, what)
				} else {
					for e := range h.Events() {
						assert.Equal(t, affinity.Rating, e.Kind, what)
						got = append(got, fmt.Sprintf("%s|%s|%d|%g", e.Customer, e.Product, e.Time.Unix(), e.Weight))
					}
					assert.Zero(t, h.NumLines(), what, "ratings are no purchase lines")
					assert.Equal(t, len(ref.ratings), rep.Events, what)
					assert.Zero(t, rep.Purchases, what)
				}
				want := slices.Clone(ref.ratings)
				if asPurchases {
					for i, r := range want {
						want[i] = r[:strings.LastIndexByte(r, '|')]
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				require.Equal(t, want, got, what)
				assert.Equal(t, ref.rows, rep.Rows, what)
				assert.Equal(t, ref.loaded, rep.Loaded, what)
				assert.Equal(t, ref.skipped, rep.Skipped, what)
				assert.Equal(t, ref.dups, rep.Duplicates, what)
				assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), what)
			}
		}
	}
}

// TestMovieLensReference compares loads of random MovieLens files (tabs,
// spaces, "::" and commas with ratings.csv's header, CRLF, blank lines,
// half and whole ratings, duplicate and bad rows) with a naive reading:
// every rating an affinity.Rating event weighted by it, or a purchase
// line with MovieLensAsPurchases, never both.
func TestMovieLensReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(86, 6))
	for i := range 20 {
		data, ref := movieLensExport(rng, 1+rng.IntN(30), 25)
		t.Run(strconv.Itoa(i), func(t *testing.T) { checkMovieLensLoad(t, data, ref) })
	}
	data, ref := movieLensExport(rng, testdata.Scale(20000, 2000), 200)
	t.Run("long", func(t *testing.T) { checkMovieLensLoad(t, data, ref) })
}
