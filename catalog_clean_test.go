package affinity_test

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// cleanPathModel is CleanCategoryPath as documented: split at "/", trim,
// drop empty levels, join.
func cleanPathModel(path string) string {
	var out []string
	for _, p := range strings.Split(path, affinity.CategorySep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, affinity.CategorySep)
}

func TestCleanCategoryPathMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	parts := []string{"/", "/", " ", "\t", "a", "Bé", "\u00a0", "x y"}
	for range testdata.Scale(20_000, 2_000) {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		path := b.String()
		assert.Equal(t, cleanPathModel(path), affinity.CleanCategoryPath(path), "%q", path)
	}
}

// TestCleanCategoryPathCleanAllocatesNothing: a clean path comes back as
// it is, without allocating.
func TestCleanCategoryPathCleanAllocatesNothing(t *testing.T) {
	for _, path := range []string{"", "Apparel", "Apparel/Sportswear/Running", "a b/c d"} {
		got := affinity.CleanCategoryPath(path)
		assert.Equal(t, path, got)
		assert.Equal(t, unsafe.StringData(path), unsafe.StringData(got), "%q: the input itself", path)
		assert.Zero(t, testing.AllocsPerRun(20, func() { affinity.CleanCategoryPath(path) }), "%q", path)
	}
}

// TestCleanCategoryPathHostileAllocation: a long path of empty levels (a
// category field in a request or a file) costs memory in proportion to
// its cleaned result, not one string header per separator.
func TestCleanCategoryPathHostileAllocation(t *testing.T) {
	for name, path := range map[string]string{
		"separators": strings.Repeat("/", 1<<18) + "A",
		"spaces":     strings.Repeat(" /", 1<<17) + "A",
	} {
		const runs = 2
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range runs {
			assert.Equal(t, "A", affinity.CleanCategoryPath(path), name)
		}
		runtime.ReadMemStats(&after)
		perCall := (after.TotalAlloc - before.TotalAlloc) / runs
		assert.Less(t, perCall, uint64(len(path)), "%s: %d bytes allocated per call for a %d-byte path", name, perCall, len(path))
	}
}
