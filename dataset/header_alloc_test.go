package dataset_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestWideHeaderAllocates loads files whose header holds about 150,000
// short columns (a quarter of that in the quick suite), most of them
// unused, within the default MaxLine: the
// load allocates a small multiple of the header's size (the header
// parsed, mapped and its field names kept for errors), not the tens of
// times it took when each column's folded name was built rune by rune
// for every known column name, and the header was parsed twice by
// encoding/csv.
func TestWideHeaderAllocates(t *testing.T) {
	cases := []struct {
		format, header, row string
	}{
		{"csv", "customer,product,time", "c1,p1,2024-01-01"},
		{"shopify", "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price", "#1,a@b.c,2024-03-01 10:15:00 -0700,3,Thing,5.00"},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			var hdr, row strings.Builder
			hdr.WriteString(tc.header)
			row.WriteString(tc.row)
			size := testdata.Scale(dataset.DefaultMaxLine, dataset.DefaultMaxLine/4)
			for i := 0; hdr.Len() < size-16; i++ {
				hdr.WriteString(",x" + strconv.Itoa(i))
				row.WriteString(",")
			}
			data := hdr.String() + "\n" + row.String() + "\n"
			workers := []int{-1}
			if testdata.Long() {
				workers = append(workers, 3) // the header is read the same way
			}
			for _, workers := range workers {
				var b affinity.Builder
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				rep, err := dataset.Load(context.Background(), strings.NewReader(data), &b, dataset.Options{Format: tc.format, Workers: workers})
				runtime.ReadMemStats(&after)
				require.NoError(t, err)
				require.Equal(t, 1, rep.Loaded)
				alloc := after.TotalAlloc - before.TotalAlloc
				// the header is read once by the limits and once by the
				// loader: a []string of its fields (16 bytes each, for
				// names of 6 bytes or so) and their text, each time
				require.Less(t, alloc, uint64(32*hdr.Len()), "workers %d: %d bytes allocated for a header of %d bytes", workers, alloc, hdr.Len())
				t.Logf("workers %d: %.1f MiB for a header of %d bytes", workers, float64(alloc)/(1<<20), hdr.Len())
			}
		})
	}
}
