package shop_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// retailWithColumns writes an Online Retail file whose header adds the
// unknown columns extra (empty in every row) and returns its source.
func retailWithColumns(t *testing.T, name string, extra []string) shop.Source {
	t.Helper()
	pad := strings.Repeat(",", len(extra))
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(testdata.RetailHeader, "\n"))
	for _, col := range extra {
		b.WriteString("," + col)
	}
	b.WriteString("\n")
	for _, row := range strings.SplitAfter(testdata.RetailRows, "\n") {
		if row != "" {
			b.WriteString(strings.TrimSuffix(row, "\n") + pad + "\n")
		}
	}
	return shop.File(testdata.WriteFile(t, name, []byte(b.String())), "onlineretail")
}

// columns returns the column names prefix+from … prefix+to-1.
func columns(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s%02d", prefix, i))
	}
	return out
}

// TestSourcesIgnoredOnce: the reports of Sources concatenated the
// sources' Ignored lists, a column that two files have listed twice, and
// past the cap that one load keeps. Combined, Ignored keeps one load's
// rule: each text once, in the order first met, capped as one load caps
// it (the cap read from a load of more unknown columns than it keeps).
func TestSourcesIgnoredOnce(t *testing.T) {
	ctx := context.Background()
	load := func(src shop.Source) dataset.Report {
		_, rep, err := shop.LoadHistory(ctx, src)
		require.NoError(t, err)
		return rep
	}
	many := columns("wide", 0, 100)
	capped := len(load(retailWithColumns(t, "wide.csv", many)).Ignored)
	require.Less(t, capped, len(many), "one load caps Ignored")
	require.Positive(t, capped)

	// the columns of the format itself that no field maps (Country)
	base := load(retailWithColumns(t, "plain.csv", nil)).Ignored

	// want is one load's rule applied to the files' lists in turn
	want := func(lists ...[]string) []string {
		var out []string
		for _, cols := range lists {
			for _, text := range slices.Concat(base, cols) {
				if len(out) < capped && !slices.Contains(out, text) {
					out = append(out, text)
				}
			}
		}
		return out
	}
	a := columns("x", 0, capped/2)
	b := append(columns("x", capped/4, capped/2), columns("y", 0, capped/4)...) // half of it a's
	c := columns("z", 0, capped)
	for name, lists := range map[string][][]string{
		"same file twice":    {a, a},
		"overlap":            {a, b},
		"overlap, then more": {a, b, c},
		"past the cap":       {c, a},
		"repeats in one":     {a, b, a, b},
	} {
		t.Run(name, func(t *testing.T) {
			var srcs []shop.Source
			for i, cols := range lists {
				srcs = append(srcs, retailWithColumns(t, fmt.Sprintf("f%d.csv", i), cols))
			}
			rep := load(shop.Sources(srcs...))
			assert.Equal(t, want(lists...), rep.Ignored)
			assert.LessOrEqual(t, len(rep.Ignored), capped)
		})
	}

	// sources of other kinds too: their lists are merged by the same rule
	report := func(ignored ...string) shop.Source {
		return shop.SourceFunc(func(context.Context, *affinity.Builder) (dataset.Report, error) {
			return dataset.Report{Format: "custom", Ignored: ignored}, nil
		})
	}
	var b2 affinity.Builder
	rep, err := shop.Sources(report("k", "j", "k"), report("j", "i")).Load(ctx, &b2)
	require.NoError(t, err)
	assert.Equal(t, []string{"k", "j", "i"}, rep.Ignored)
}
