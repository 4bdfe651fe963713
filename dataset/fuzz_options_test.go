package dataset_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// optionsFrom decodes fuzz bytes into Options, exercising every field:
// format, modes, separators, layouts, zone, column names, basket time and
// small limits.
func optionsFrom(o []byte) dataset.Options {
	at := func(i int) byte {
		if i < len(o) {
			return o[i]
		}
		return 0
	}
	formats := dataset.Formats()
	layouts := []string{"", "2006-01-02", "unix", "20060102", "2-1-2006", "1/2/2006 15:04", "2006-01-02 15:04:05"}
	commas := []rune{0, ',', ';', '\t', '|', '¦', '"', '\n', -1}
	zones := []*time.Location{nil, time.UTC, time.FixedZone("x", -11*3600), time.FixedZone("y", 14*3600)}
	names := []string{"", "customer", "product", "time", "sku", "qty", "price", "date", "Customer ID", "x"}
	limit := func(b byte) int { return int(int8(b)) * 7 } // negative, zero (default) or small
	opts := dataset.Options{
		Format:               formats[int(at(0))%len(formats)],
		Lenient:              at(1)&1 != 0,
		DropDuplicates:       at(1)&2 != 0,
		NoProducts:           at(1)&4 != 0,
		MovieLensAsPurchases: at(1)&8 != 0,
		DecimalSep:           []byte{0, '.', ',', 'x'}[at(2)%4],
		Comma:                commas[int(at(3))%len(commas)],
		Location:             zones[int(at(4))%len(zones)],
		Columns: dataset.Columns{
			Customer: names[int(at(5))%len(names)], Product: names[int(at(6))%len(names)],
			Time: names[int(at(7))%len(names)], Price: names[int(at(8))%len(names)],
		},
		Limits: dataset.Limits{
			MaxLine: limit(at(9)), MaxField: limit(at(10)), MaxBytes: int64(limit(at(11))) * 16,
			MaxRows: limit(at(12)), MaxCategories: limit(at(13)) / 7, MaxBasket: limit(at(14)) / 7,
		},
	}
	if l := layouts[int(at(15))%len(layouts)]; l != "" {
		opts.TimeLayouts = []string{l}
	}
	if at(16)&1 != 0 {
		opts.Categories = dataset.CategoryFromName
	}
	if b := at(17); b != 0 {
		opts.BasketTime = time.Unix(int64(b)*1e8-5e9, 0) // some outside 1970..2106
	}
	return opts
}

// FuzzLoadOptions loads arbitrary bytes with options decoded from
// arbitrary bytes. Nothing may panic; an error is ErrEmpty, a located
// ParseError or an options error; a successful load accounts for every
// row and builds.
func FuzzLoadOptions(f *testing.F) {
	formats := dataset.Formats()
	for name, file := range fixtures {
		data := []byte(readFixture(f, file))
		i := byte(slices.Index(formats, name))
		f.Add(data, []byte{i})
		f.Add(data, []byte{i, 3, 1, 1, 2, 0, 0, 0, 0, 5, 3, 40, 2, 1, 1, 0, 1})
		f.Add(gzipped(f, string(data)), []byte{i, 1, 0, 0, 0, 0, 0, 0, 0, 0xfe})
	}
	f.Add([]byte("customer,product,time\nc1,\"p1\n"+strings.Repeat("x\n", 50)), []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, data, o []byte) {
		opts := optionsFrom(o)
		var b affinity.Builder
		rep, err := dataset.Load(context.Background(), bytes.NewReader(data), &b, opts)
		if err != nil {
			var pe *dataset.ParseError
			switch {
			case errors.Is(err, dataset.ErrEmpty):
			case errors.As(err, &pe):
				require.GreaterOrEqual(t, pe.Line, 1, "%v", err)
			default:
				require.True(t, strings.HasPrefix(err.Error(), "dataset: "), "%v", err)
			}
			return
		}
		require.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "every row is loaded or counted")
		require.LessOrEqual(t, rep.Duplicates, rep.Rows)
		h, err := b.Build(context.Background())
		require.NoError(t, err, "whatever loads, builds")
		s := h.Summary()
		require.Equal(t, rep.Purchases, s.Lines)
		require.Equal(t, rep.Events, s.Events)
	})
}
