package dataset_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// FuzzLoad loads arbitrary bytes in every format, strict and lenient. It
// must never panic; errors are ErrEmpty or carry a line ≥ 1; successful
// loads account for every row and agree with the built History.
func FuzzLoad(f *testing.F) {
	formats := dataset.Formats()
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		for i := range formats {
			f.Add(data, uint8(i), false)
			f.Add(data, uint8(i), true)
		}
	}
	f.Add([]byte(badRows), uint8(slices.Index(formats, "csv")), true)
	f.Add(gzipped(f, readFixture(f, "retail.csv")), uint8(slices.Index(formats, "onlineretail")), false)

	f.Fuzz(func(t *testing.T, data []byte, format uint8, lenient bool) {
		opts := dataset.Options{Format: formats[int(format)%len(formats)], Lenient: lenient}
		if opts.Format == "csv" && format >= 128 {
			opts.Columns = shopOptions().Columns
		}
		var b affinity.Builder
		rep, err := dataset.Load(context.Background(), bytes.NewReader(data), &b, opts)
		if err != nil {
			requireLocated(t, err)
			return
		}
		require.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "every row is loaded or counted")
		if !lenient {
			for _, s := range rep.Skipped {
				require.Contains(t, []string{"adjustment", "cancelled order"}, s.Reason, "strict loads skip only by definition")
			}
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		s := h.Summary()
		require.Equal(t, rep.Purchases, s.Lines)
		require.Equal(t, rep.Events, s.Events)
		require.Equal(t, rep.Anonymous, s.AnonymousLines)
		require.Equal(t, rep.Returns, s.Returns)
	})
}

// FuzzLoadCatalog loads arbitrary bytes as a catalog.
func FuzzLoadCatalog(f *testing.F) {
	f.Add([]byte(readFixture(f, "catalog.csv")), false)
	f.Add([]byte(readFixture(f, "catalog.csv")), true)
	f.Add([]byte("id,name,price,stock\np1,One,1.00,yes\np1,Two,x,maybe\n,,,\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, lenient bool) {
		var b affinity.Builder
		rep, err := dataset.LoadCatalog(context.Background(), bytes.NewReader(data), &b, dataset.CatalogOptions{Lenient: lenient})
		if err != nil {
			requireLocated(t, err)
			return
		}
		require.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		require.Equal(t, rep.Products, h.Catalog().NumProducts())
	})
}

// FuzzCategoryFromName checks that derived paths are clean, at most two
// levels deep and independent of ASCII case.
func FuzzCategoryFromName(f *testing.F) {
	for _, name := range []string{
		"WHITE HANGING HEART T-LIGHT HOLDER", "SET OF 3 CAKE TINS PANTRY DESIGN", "DOORMAT, RED RETROSPOT",
		"PEARL & SHELL 42\"NECKL. GREEN", "rolls/buns", "--'-", "T-", "ÄPFEL-KÖRBE", "",
	} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := dataset.CategoryFromName(name)
		require.Equal(t, got, dataset.CategoryFromName(name), "deterministic")
		require.Equal(t, affinity.CleanCategoryPath(got), got)
		require.LessOrEqual(t, strings.Count(got, "/"), 1)
		if utf8.ValidString(name) {
			require.True(t, utf8.ValidString(got))
		}
		if isASCII(name) {
			require.Equal(t, got, dataset.CategoryFromName(strings.ToUpper(name)))
		}
	})
}

// requireLocated fails unless err is ErrEmpty or a ParseError with a
// line.
func requireLocated(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, dataset.ErrEmpty) {
		return
	}
	var pe *dataset.ParseError
	require.ErrorAs(t, err, &pe)
	require.GreaterOrEqual(t, pe.Line, 1, "%v", err)
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
