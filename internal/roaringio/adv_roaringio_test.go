package roaringio_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/roaringio"
)

func advBytes(t *testing.T, bm *roaring.Bitmap) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := bm.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}

// advSameAsRoaring checks that got holds ids and serializes to the same
// bytes as roaring's own bitmap of ids (arrays up to ArrayMax values,
// bitsets above), and that those bytes pass Validate.
func advSameAsRoaring(t *testing.T, got *roaring.Bitmap, ids []uint32, msg string) {
	t.Helper()
	want := roaring.BitmapOf(ids...)
	require.True(t, want.Equals(got), "%s: got %d values, want %d", msg, got.GetCardinality(), len(ids))
	require.NoError(t, got.Validate(), msg)
	b := advBytes(t, got)
	full := false // roaring makes a full container a run; the writer, a bitset
	for i := 0; i+(1<<16)-1 < len(ids); i++ {
		if ids[i]&0xffff == 0 && ids[i+(1<<16)-1] == ids[i]|0xffff {
			full = true
		}
	}
	if !full {
		assert.Equal(t, advBytes(t, want), b, "%s: serialization differs from roaring's", msg)
	}
	assert.NoError(t, roaringio.Validate(b), msg)
}

// TestAdvFromSortedBoundaries: empty, one value, 0 and MaxUint32, exactly
// ArrayMax and ArrayMax+1 values in a container, a full container, the
// last container.
func TestAdvFromSortedBoundaries(t *testing.T) {
	seq := func(from, n uint32) []uint32 {
		out := make([]uint32, n)
		for i := range out {
			out[i] = from + uint32(i)
		}
		return out
	}
	cases := map[string][]uint32{
		"empty":              nil,
		"zero":               {0},
		"max":                {math.MaxUint32},
		"zero and max":       {0, math.MaxUint32},
		"container edges":    {0xffff, 0x10000, 0x1ffff, 0x20000},
		"ArrayMax":           seq(5<<16, roaringio.ArrayMax),
		"ArrayMax+1":         seq(5<<16, roaringio.ArrayMax+1),
		"ArrayMax-1 at top":  seq(math.MaxUint32-roaringio.ArrayMax+2, roaringio.ArrayMax-1),
		"full last":          seq(0xffff0000, 1<<16),
		"full first":         seq(0, 1<<16),
		"ArrayMax+1 at top":  seq(math.MaxUint32-roaringio.ArrayMax, roaringio.ArrayMax+1),
		"array then bitset":  append(seq(0, 3), seq(1<<16, 5000)...),
		"bitset then array":  append(seq(0, 5000), seq(9<<16, 2)...),
		"one per container":  {1, 1<<16 + 1, 2<<16 + 1, 3<<16 + 1, 4<<16 + 1, 5<<16 + 1},
		"sparse across keys": {7, 1 << 20, 1 << 31, 1<<32 - 2},
	}
	var w roaringio.Writer
	for name, ids := range cases {
		advSameAsRoaring(t, roaringio.FromSorted(&w, ids), ids, name)
		assert.True(t, w.Empty(), "%s: writer reset after FromSorted", name)
	}
}

// TestAdvWriterMatchesModel drives the Writer through Open/Push/Add/Set/
// Close/Finish at random (dense and sparse containers, empty containers,
// Reserve too small or large) against a set.
func TestAdvWriterMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var w roaringio.Writer
	for round := range 21 {
		switch round % 3 {
		case 1:
			w.Reserve(1) // fewer than the containers to come
		case 2:
			w.Reserve(100)
		}
		require.True(t, w.Empty(), "round %d: empty before adding", round)
		var want []uint32
		key := -1
		nCont := rng.IntN(7)
		for c := range nCont {
			key += 1 + rng.IntN(3)
			if rng.IntN(6) == 0 {
				key = 0xffff - (nCont - 1 - c) // end at the last key
			}
			if key > 0xffff || (c > 0 && key <= int(want0(want))) {
				break
			}
			dense := rng.IntN(2) == 0
			w.Open(uint16(key), dense)
			size := []int{0, 1, 2, roaringio.ArrayMax, roaringio.ArrayMax + 1, 1 << 16, rng.IntN(9000)}[rng.IntN(7)]
			var lows []uint16
			if size == 1<<16 {
				for v := range 1 << 16 {
					lows = append(lows, uint16(v))
				}
			} else {
				// size increasing values, spread at random over the container
				gap := max(1, (1<<16)/max(size, 1))
				for v := rng.IntN(gap); v < 1<<16 && len(lows) < size; v += 1 + rng.IntN(gap) {
					lows = append(lows, uint16(v))
				}
				for v := (1 << 16) - 1; len(lows) < size; v-- { // fill up from the top if short
					if !slices.Contains(lows[len(lows)-min(len(lows), gap+1):], uint16(v)) {
						lows = append(lows, uint16(v))
					}
				}
				slices.Sort(lows)
				lows = slices.Compact(lows)
			}
			if dense {
				// any order, with repeats
				shuffled := slices.Clone(lows)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				for i, v := range shuffled {
					if i%2 == 0 {
						w.Set(v)
					} else {
						w.Add(v)
					}
					if i%7 == 0 {
						w.Set(v)
					}
				}
			} else {
				for i, v := range lows {
					if i%2 == 0 {
						w.Push(v)
					} else {
						w.Add(v)
					}
				}
			}
			for _, v := range lows {
				want = append(want, uint32(key)<<16|uint32(v))
			}
			w.Close()
			assert.Equal(t, len(want) == 0, w.Empty(), "round %d container %d: Empty", round, c)
		}
		got := w.Finish()
		advSameAsRoaring(t, got, want, "round "+string(rune('a'+round%26)))
		require.True(t, w.Empty(), "round %d: empty after Finish", round)
	}
}

// want0 returns the key of the last id in want, or 0.
func want0(want []uint32) uint32 {
	if len(want) == 0 {
		return 0
	}
	return want[len(want)-1] >> 16
}

// TestAdvWriterEmpty: Finish with nothing added gives an empty bitmap;
// an opened container left empty is dropped.
func TestAdvWriterEmpty(t *testing.T) {
	var w roaringio.Writer
	assert.True(t, w.Empty())
	b := w.Finish()
	require.NotNil(t, b)
	assert.True(t, b.IsEmpty())
	w.Open(3, true)
	w.Close()
	w.Open(4, false)
	w.Close()
	assert.True(t, w.Empty(), "opened but nothing added")
	b = w.Finish()
	assert.True(t, b.IsEmpty())
	assert.Equal(t, advBytes(t, roaring.New()), advBytes(t, b))
	w.Open(7, false)
	w.Push(1)
	w.Close()
	assert.False(t, w.Empty())
	assert.Equal(t, []uint32{7<<16 | 1}, w.Finish().ToArray())
}

func TestAdvEmptyBeforeClose(t *testing.T) {
	var w roaringio.Writer
	w.Open(7, false)
	w.Push(1)
	assert.False(t, w.Empty(), "Push into an open array container")
	w.Close()
	w.Finish()
	w.Open(7, true)
	w.Set(1)
	assert.False(t, w.Empty(), "Set into an open dense container")
	w.Close()
	w.Finish()
}

func TestAdvFinishWithoutClose(t *testing.T) {
	var w roaringio.Writer
	w.Open(1, false)
	w.Push(5)
	assert.Equal(t, []uint32{1<<16 | 5}, w.Finish().ToArray(), "open array container")
	w.Open(1, true)
	w.Set(5)
	assert.Equal(t, []uint32{1<<16 | 5}, w.Finish().ToArray(), "open dense container")
	w.Open(1, false)
	w.Push(5)
	w.Close()
	w.Open(2, true)
	w.Add(9)
	assert.Equal(t, []uint32{1<<16 | 5, 2<<16 | 9}, w.Finish().ToArray(), "last container open")
}

// advCont is one container of a hand-written serialization.
type advCont struct {
	key  uint16
	card int // the header's cardinality (≥ 1)
	run  bool
	body []byte
}

func advArray(vals ...uint16) []byte {
	b := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func advRuns(runs ...[2]uint16) []byte { // {start, length-1}
	b := binary.LittleEndian.AppendUint16(nil, uint16(len(runs)))
	for _, r := range runs {
		b = binary.LittleEndian.AppendUint16(b, r[0])
		b = binary.LittleEndian.AppendUint16(b, r[1])
	}
	return b
}

func advBitset(vals ...int) []byte {
	b := make([]byte, 8192)
	for _, v := range vals {
		b[v/8] |= 1 << (v % 8)
	}
	return b
}

// advSer writes the portable format: the run cookie when runFmt, offsets
// where roaring writes them (always without runs, from 4 containers with
// them), unless offsets is false; offDelta is added to every offset.
func advSer(runFmt bool, conts []advCont, offsets bool, offDelta uint32) []byte {
	n := len(conts)
	var b []byte
	if runFmt {
		b = binary.LittleEndian.AppendUint32(b, 12347|uint32(n-1)<<16)
		bits := make([]byte, (n+7)/8)
		for i, c := range conts {
			if c.run {
				bits[i/8] |= 1 << (i % 8)
			}
		}
		b = append(b, bits...)
	} else {
		b = binary.LittleEndian.AppendUint32(b, 12346)
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	for _, c := range conts {
		b = binary.LittleEndian.AppendUint16(b, c.key)
		b = binary.LittleEndian.AppendUint16(b, uint16(c.card-1))
	}
	withOff := offsets && (!runFmt || n >= 4)
	off := uint32(len(b))
	if withOff {
		off += 4 * uint32(n)
		for _, c := range conts {
			b = binary.LittleEndian.AppendUint32(b, off+offDelta)
			off += uint32(len(c.body))
		}
	}
	for _, c := range conts {
		b = append(b, c.body...)
	}
	return b
}

func advFull(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// TestAdvValidateCrafted: hand-made serializations, valid and not. Each
// valid one is checked against roaring's reader too; each invalid one
// must be an error, with little allocated.
func TestAdvValidateCrafted(t *testing.T) {
	arr := func(key uint16, vals ...uint16) advCont {
		return advCont{key: key, card: len(vals), body: advArray(vals...)}
	}
	bits5000 := advBitset(advFull(0, 5000)...)
	valid := map[string][]byte{
		"empty bitmap":     advSer(false, nil, true, 0),
		"one array":        advSer(false, []advCont{arr(0, 1, 2, 0xffff)}, true, 0),
		"key 0xffff":       advSer(false, []advCont{arr(0xffff, 0xffff)}, true, 0),
		"bitset":           advSer(false, []advCont{{key: 2, card: 5000, body: bits5000}}, true, 0),
		"full bitset":      advSer(false, []advCont{{key: 2, card: 1 << 16, body: advBitset(advFull(0, 1<<16)...)}}, true, 0),
		"one run":          advSer(true, []advCont{{key: 1, card: 100, run: true, body: advRuns([2]uint16{10, 99})}}, true, 0),
		"full run":         advSer(true, []advCont{{key: 1, card: 1 << 16, run: true, body: advRuns([2]uint16{0, 0xffff})}}, true, 0),
		"run to the end":   advSer(true, []advCont{{key: 1, card: 2, run: true, body: advRuns([2]uint16{0xfffe, 1})}}, true, 0),
		"run and arrays 4": advSer(true, []advCont{arr(0, 1), arr(1, 1), arr(2, 1), {key: 3, card: 3, run: true, body: advRuns([2]uint16{0, 2})}}, true, 0),
	}
	for name, b := range valid {
		var back roaring.Bitmap
		_, err := back.ReadFrom(bytes.NewReader(b))
		require.NoError(t, err, "%s: roaring reads it (test's own encoding)", name)
		require.NoError(t, back.Validate(), name)
		assert.NoError(t, roaringio.Validate(b), name)
	}

	huge := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 12346), math.MaxUint32)
	hugeRun := binary.LittleEndian.AppendUint32(nil, 12347|0xffff<<16)
	invalid := map[string][]byte{
		"nil":                   nil,
		"3 bytes":               {0x3a, 0x30, 0},
		"cookie only":           binary.LittleEndian.AppendUint32(nil, 12346),
		"bad cookie":            binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 12345), 0),
		"huge count":            huge,
		"huge count, some data": append(huge, make([]byte, 64)...),
		"huge run count":        append(hugeRun, make([]byte, 64)...),
		"unsorted keys":         advSer(false, []advCont{arr(5, 1), arr(3, 1)}, true, 0),
		"duplicate keys":        advSer(false, []advCont{arr(5, 1), arr(5, 2)}, true, 0),
		"unsorted array":        advSer(false, []advCont{arr(0, 2, 1)}, true, 0),
		"duplicate in array":    advSer(false, []advCont{arr(0, 1, 1)}, true, 0),
		"bitset card too small": advSer(false, []advCont{{key: 2, card: 4999, body: bits5000}}, true, 0),
		"bitset card too big":   advSer(false, []advCont{{key: 2, card: 5001, body: bits5000}}, true, 0),
		"bitset short":          advSer(false, []advCont{{key: 2, card: 5000, body: bits5000[:8000]}}, true, 0),
		"run overlap":           advSer(true, []advCont{{key: 1, card: 15, run: true, body: advRuns([2]uint16{0, 9}, [2]uint16{5, 4})}}, true, 0),
		"runs unsorted":         advSer(true, []advCont{{key: 1, card: 4, run: true, body: advRuns([2]uint16{10, 1}, [2]uint16{0, 1})}}, true, 0),
		"runs adjacent":         advSer(true, []advCont{{key: 1, card: 4, run: true, body: advRuns([2]uint16{0, 1}, [2]uint16{2, 1})}}, true, 0),
		"run past 0xffff":       advSer(true, []advCont{{key: 1, card: 3, run: true, body: advRuns([2]uint16{0xfffe, 2})}}, true, 0),
		"run card mismatch":     advSer(true, []advCont{{key: 1, card: 7, run: true, body: advRuns([2]uint16{0, 4})}}, true, 0),
		"no runs in run cont":   advSer(true, []advCont{{key: 1, card: 1, run: true, body: advRuns()}}, true, 0),
		"run cookie, no runs":   advSer(true, []advCont{arr(0, 1, 2)}, true, 0),
		"offsets off by 2":      advSer(false, []advCont{arr(0, 1, 2), arr(1, 3)}, true, 2),
		"offsets off by -2":     advSer(false, []advCont{arr(0, 1, 2), arr(1, 3)}, true, math.MaxUint32-1),
		"run fmt, no offsets":   advSer(true, []advCont{arr(0, 1), arr(1, 1), arr(2, 1), {key: 3, card: 3, run: true, body: advRuns([2]uint16{0, 2})}}, false, 0),
		"trailing byte":         append(advSer(false, []advCont{arr(0, 1)}, true, 0), 0),
		"empty then trailing":   append(advSer(false, nil, true, 0), 0, 0),
		"array body cut":        advSer(false, []advCont{{key: 0, card: 3, body: advArray(1, 2)}}, true, 0),
	}
	var ms runtime.MemStats
	for name, b := range invalid {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		err := roaringio.Validate(b)
		runtime.ReadMemStats(&ms)
		assert.Error(t, err, name)
		assert.Less(t, ms.TotalAlloc-before, uint64(1<<20), "%s: allocated %d bytes", name, ms.TotalAlloc-before)
	}
}

// TestAdvValidateCanonical: what Validate accepts, roaring reads, and
// writing it back gives the same bytes ("so that decode then encode gives
// the same file"), for single and double byte damage of small bitmaps
// with array, bitset and run containers.
func TestAdvValidateCanonical(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	accepted := 0
	for round := range 12 {
		var ids []uint32
		for k := range uint32(1 + rng.IntN(5)) {
			switch rng.IntN(3) {
			case 0:
				for range 1 + rng.IntN(6) {
					ids = append(ids, k<<16|uint32(rng.IntN(1<<16)))
				}
			case 1:
				start := uint32(rng.IntN(1 << 15))
				for i := range uint32(1 + rng.IntN(300)) {
					ids = append(ids, k<<16|(start+i*uint32(1+rng.IntN(2))))
				}
			default:
				for range 4200 {
					ids = append(ids, k<<16|uint32(rng.IntN(1<<16)))
				}
			}
		}
		bm := roaring.BitmapOf(ids...)
		if round%2 == 0 {
			bm.RunOptimize()
		}
		good := advBytes(t, bm)
		require.NoError(t, roaringio.Validate(good))
		// damage the header and the first bytes of the payload most
		limit := min(len(good), 64)
		for range 100 {
			bad := bytes.Clone(good)
			for range 1 + rng.IntN(2) {
				i := rng.IntN(limit)
				if rng.IntN(4) == 0 {
					i = rng.IntN(len(bad))
				}
				bad[i] ^= byte(1 + rng.IntN(255))
			}
			if roaringio.Validate(bad) != nil {
				continue
			}
			accepted++
			var back roaring.Bitmap
			_, err := back.ReadFrom(bytes.NewReader(bad))
			require.NoError(t, err)
			require.NoError(t, back.Validate())
			require.Equal(t, bad, advBytes(t, &back), "round %d: accepted bytes are not canonical", round)
		}
	}
	t.Logf("%d damaged inputs accepted", accepted)
}
