package segment

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/dataset"
)

// TestShareColumnsMatchSlices evaluates exact share comparisons on few
// candidates both ways, through the share columns and through the bit
// slices, and requires the same customers, on a shop whose shares sit on
// simple fractions (many customers exactly at a threshold).
func TestShareColumnsMatchSlices(t *testing.T) {
	x := generatedIndex(t, dataset.SyntheticOptions{Customers: 4000, Products: 60, Categories: 6, MeanLines: 2, Seed: 9})
	if !x.exact {
		t.Fatal("index without exact shares")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	defer func(v int) { sparseCandidates = v }(sparseCandidates)
	for _, cat := range x.cats[:min(len(x.cats), 8)] {
		for _, q := range []string{
			`affinity(%q) >= 0.5`, `affinity(%q) > 0.5`, `affinity(%q) < 0.3333`, `affinity(%q) <= 0.25`,
			`affinity(%q) = 0.5`, `affinity(%q) != 0.5`, `affinity(%q) between 0.2 and 0.5`,
			`itemshare(%q) >= 0.5`, `ordershare(%q) > 0.3333`, `lift(%q) >= 1`, `lift(%q) < 2`,
		} {
			src := fmt.Sprintf(q, cat)
			e, err := Parse(src)
			if err != nil {
				t.Fatal(src, err)
			}
			p, err := x.compile(e, "")
			if err != nil {
				t.Fatal(src, err)
			}
			for _, every := range []int{40, 7, 1} {
				within := roaring.New()
				for c := range x.NumCustomers() + 3 {
					if rng.IntN(every) == 0 {
						within.Add(uint32(c))
					}
				}
				sparseCandidates = 0 // the slices
				want := p.eval(x, within, false)
				sparseCandidates = -1 // the columns, while the budget lasts
				got := p.eval(x, within, false)
				if !got.Equals(want) {
					t.Fatalf("%s: columns give %d customers, slices %d", src, got.GetCardinality(), want.GetCardinality())
				}
			}
		}
	}
	if x.share.cols.Load() == 0 {
		t.Fatal("no share column was decoded")
	}
}

// TestShareWordsMatchSlices evaluates lower bounds on shares over every
// customer again and again: from the second time the comparison reads the
// share's slices as words (shareColumn.words) instead of copying them,
// and must select the same customers, until the index's budget of words
// is spent.
func TestShareWordsMatchSlices(t *testing.T) {
	x := generatedIndex(t, dataset.SyntheticOptions{Customers: 4000, Products: 60, Categories: 6, MeanLines: 2, Seed: 9})
	if !x.exact {
		t.Fatal("index without exact shares")
	}
	for _, cat := range x.cats[:min(len(x.cats), maxShareWords+2)] {
		for _, q := range []string{`affinity(%q) >= 0.5`, `affinity(%q) > 0.3333`, `itemshare(%q) >= 0.25`} {
			src := fmt.Sprintf(q, cat)
			e, err := Parse(src)
			if err != nil {
				t.Fatal(src, err)
			}
			var first *roaring.Bitmap
			for i := range 4 {
				got, err := x.Eval(e)
				if err != nil {
					t.Fatal(src, err)
				}
				if i == 0 {
					first = got
				} else if !got.Equals(first) {
					t.Fatalf("%s, time %d: %d customers, the first time %d", src, i+1, got.GetCardinality(), first.GetCardinality())
				}
			}
		}
	}
	if n := x.share.words.Load(); n <= maxShareWords {
		t.Fatalf("%d shares asked for words, want more than the budget of %d", n, maxShareWords)
	}
}
