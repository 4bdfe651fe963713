package pipeline_test

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/beam/pipeline"
)

// decodePortable is a second, independent reader of roaring's portable
// format, written from the specification
// (https://github.com/RoaringBitmap/RoaringFormatSpec): cookie header,
// descriptive header, optional offset header, then array, bitset and run
// containers. It checks every size and the offsets, and returns the
// values in ascending order.
func decodePortable(b []byte) ([]uint32, error) {
	const noRuns, withRuns, noOffsetThreshold = 12346, 12347, 4
	bad := errors.New("not a portable roaring bitmap")
	le := binary.LittleEndian
	if len(b) < 4 {
		return nil, bad
	}
	cookie := le.Uint32(b)
	var n int
	var runFlags []byte
	pos := 4
	switch {
	case cookie == noRuns:
		if len(b) < 8 {
			return nil, bad
		}
		n = int(le.Uint32(b[4:]))
		pos = 8
	case cookie&0xffff == withRuns:
		n = int(cookie>>16) + 1
		nb := (n + 7) / 8
		if len(b) < pos+nb {
			return nil, bad
		}
		runFlags = b[pos : pos+nb]
		pos += nb
	default:
		return nil, bad
	}
	if n > 65536 || len(b) < pos+4*n {
		return nil, bad
	}
	keys, cards := make([]uint32, n), make([]int, n)
	for i := range n {
		keys[i] = uint32(le.Uint16(b[pos+4*i:]))
		cards[i] = int(le.Uint16(b[pos+4*i+2:])) + 1
		if i > 0 && keys[i] <= keys[i-1] {
			return nil, bad
		}
	}
	pos += 4 * n
	var offsets []int
	if runFlags == nil || n >= noOffsetThreshold {
		if len(b) < pos+4*n {
			return nil, bad
		}
		for i := range n {
			offsets = append(offsets, int(le.Uint32(b[pos+4*i:])))
		}
		pos += 4 * n
	}
	var out []uint32
	for i := range n {
		if offsets != nil && offsets[i] != pos {
			return nil, bad
		}
		hi := keys[i] << 16
		isRun := runFlags != nil && runFlags[i/8]&(1<<(i%8)) != 0
		start := len(out)
		switch {
		case isRun:
			if len(b) < pos+2 {
				return nil, bad
			}
			runs := int(le.Uint16(b[pos:]))
			pos += 2
			if len(b) < pos+4*runs {
				return nil, bad
			}
			for r := range runs {
				s, l := uint32(le.Uint16(b[pos+4*r:])), uint32(le.Uint16(b[pos+4*r+2:]))
				if s+l > 0xffff {
					return nil, bad
				}
				for v := s; v <= s+l; v++ {
					out = append(out, hi|v)
				}
			}
			pos += 4 * runs
		case cards[i] <= 4096:
			if len(b) < pos+2*cards[i] {
				return nil, bad
			}
			for j := range cards[i] {
				out = append(out, hi|uint32(le.Uint16(b[pos+2*j:])))
			}
			pos += 2 * cards[i]
		default:
			if len(b) < pos+8192 {
				return nil, bad
			}
			for w := range 1024 {
				word := le.Uint64(b[pos+8*w:])
				for bit := range 64 {
					if word&(1<<bit) != 0 {
						out = append(out, hi|uint32(w*64+bit))
					}
				}
			}
			pos += 8192
		}
		if len(out)-start != cards[i] || !slices.IsSorted(out[start:]) {
			return nil, bad
		}
	}
	if pos != len(b) {
		return nil, bad
	}
	return out, nil
}

// The reader decodes what the roaring library writes for every kind of
// container, with and without runs and offsets.
func TestDecodePortable(t *testing.T) {
	cases := map[string][]uint32{
		"empty": nil,
		"array": {1, 5, 65535, 65536, 1 << 20},
	}
	var dense, runs, mixed []uint32
	for v := uint32(0); v < 70000; v += 3 {
		dense = append(dense, v)
	}
	for v := uint32(100); v < 300000; v++ {
		runs = append(runs, v)
	}
	mixed = append(mixed, 7, 9)
	for v := uint32(1 << 17); v < 1<<17+5000; v++ {
		mixed = append(mixed, v)
	}
	for v := uint32(1 << 18); v < 1<<18+60000; v += 2 {
		mixed = append(mixed, v)
	}
	mixed = append(mixed, 1<<31, 1<<32-1)
	cases["bitsets"], cases["runs"], cases["mixed"] = dense, runs, mixed
	for name, vals := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := pipeline.PortableBytes(roaring.BitmapOf(vals...))
			require.NoError(t, err)
			got, err := decodePortable(b)
			require.NoError(t, err)
			require.Equal(t, len(vals), len(got))
			require.Equal(t, vals, append([]uint32(nil), got...)[:len(vals):len(vals)])
			// a truncated encoding is an error, not a short set
			if len(b) > 8 {
				_, err = decodePortable(b[:len(b)-1])
				require.Error(t, err)
			}
		})
	}
	// the first bytes the specification describes: cookie 12346 and the
	// container count for a bitmap without runs
	run := roaring.New()
	run.AddRange(10, 500)
	b, err := pipeline.PortableBytes(run)
	require.NoError(t, err)
	// one run container: cookie 12347 | (1-1)<<16, run flags 1, key 0,
	// cardinality-1 489, no offsets below 4 containers, 1 run: 10, 489
	require.Equal(t, []byte{0x3b, 0x30, 0, 0, 1, 0, 0, 0xe9, 1, 1, 0, 10, 0, 0xe9, 1}, b)
	b, err = pipeline.PortableBytes(roaring.BitmapOf(1, 3, 5, 1000))
	require.NoError(t, err)
	require.Equal(t, []byte{0x3a, 0x30, 0, 0, 1, 0, 0, 0}, b[:8], "SERIAL_COOKIE_NO_RUNCONTAINER 12346, one container")
}

// requireSegmentsDecode decodes every segment file a features run wrote
// with the independent reader, and checks the counts of segments.csv and
// that every id is in the dictionary.
func requireSegmentsDecode(t *testing.T, dir string) {
	t.Helper()
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		require.NoError(t, err)
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		require.NoError(t, err)
		return rows[1:]
	}
	customers := len(read("customers.csv"))
	segs := read("segments.csv")
	require.NotEmpty(t, segs)
	for _, row := range segs {
		b, err := os.ReadFile(filepath.Join(dir, row[2]))
		require.NoError(t, err)
		ids, err := decodePortable(b)
		require.NoError(t, err, row[2])
		require.Equal(t, row[3], strconv.Itoa(len(ids)), row[2])
		if len(ids) > 0 {
			require.Less(t, int(ids[len(ids)-1]), customers, row[2])
		}
	}
}

// TestWriteSegmentsDistinctFiles: names that give one file name ("Top-R"
// and "Top R", "VIP+" and "VIP") wrote one file twice, the second over
// the first, with both rows of segments.csv pointing at it; a name
// without a letter or digit gave "rfm-.roaring".
func TestWriteSegmentsDistinctFiles(t *testing.T) {
	dir := t.TempDir()
	d := pipeline.Dict{Keys: []string{"a", "b", "c", "d"}}
	sets := []pipeline.Segment{
		{Kind: "rfm", Name: "Top-R", Set: roaring.BitmapOf(0)},
		{Kind: "rfm", Name: "Top R", Set: roaring.BitmapOf(1, 2)},
		{Kind: "rfm", Name: "top r 2", Set: roaring.BitmapOf(3)},
		{Kind: "rfm", Name: "★", Set: roaring.BitmapOf(0, 3)},
	}
	require.NoError(t, pipeline.WriteSegments(context.Background(), dir, d, sets))
	f, err := os.Open(filepath.Join(dir, "segments.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+len(sets))
	files := map[string]bool{}
	for i, s := range sets {
		name := rows[1+i][2]
		require.False(t, files[name], "file %s written twice", name)
		files[name] = true
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := decodePortable(b)
		require.NoError(t, err)
		require.Equal(t, s.Set.ToArray(), got, s.Name)
	}
	require.Equal(t, []string{"rfm-top-r.roaring", "rfm-top-r-2.roaring", "rfm-top-r-2-2.roaring", "rfm-x-e29885.roaring"},
		[]string{rows[1][2], rows[2][2], rows[3][2], rows[4][2]})
}
