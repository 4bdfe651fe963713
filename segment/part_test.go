package segment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// partHistories splits h into the Histories of its runs of PartSize
// customers, each with h's whole catalog (category nodes and products
// with h's ids) and the run's orders and events, customers in id order.
func partHistories(t testing.TB, h *affinity.History) []*affinity.History {
	t.Helper()
	cat := h.Catalog()
	var out []*affinity.History
	for base := 0; base < h.NumCustomers(); base += segment.PartSize {
		b := affinity.NewCatalogBuilder(cat)
		for c := affinity.CustomerID(base); int(c) < min(base+segment.PartSize, h.NumCustomers()); c++ {
			copyCustomer(t, b, h, c)
		}
		ph, err := b.Build(context.Background())
		require.NoError(t, err)
		out = append(out, ph)
	}
	return out
}

// buildParts builds the Parts of h, each sent through its binary
// encoding.
func buildParts(t testing.TB, h *affinity.History, asOf time.Time, opts segment.Options) []*segment.Part {
	t.Helper()
	var parts []*segment.Part
	for _, ph := range partHistories(t, h) {
		p, err := segment.BuildPart(context.Background(), ph, asOf, opts)
		require.NoError(t, err)
		data, err := p.MarshalBinary()
		require.NoError(t, err)
		var q segment.Part
		require.NoError(t, q.UnmarshalBinary(data))
		again, err := q.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, data, again, "decoding and encoding again changes a part")
		parts = append(parts, &q)
	}
	return parts
}

// requireJoinEqualsBuild checks that the Join of h's parts is Build's
// index of h, byte for byte.
func requireJoinEqualsBuild(t *testing.T, h *affinity.History, asOf time.Time, opts segment.Options) {
	t.Helper()
	want, err := segment.Build(context.Background(), h, asOf, opts)
	require.NoError(t, err)
	parts := buildParts(t, h, asOf, opts)
	got, err := segment.Join(context.Background(), h.Catalog(), asOf, opts, parts)
	require.NoError(t, err)
	require.True(t, bytes.Equal(encode(t, want), encode(t, got)), "Join differs from Build (%d parts)", len(parts))
}

var partOptions = []segment.Options{
	{},
	{RFMScoring: segment.RFMNTile, TopN: 2},
	{HalfLife: 45 * segment.Day, Lookback: affinity.Months(12)},
	{Lookback: affinity.AllTime, LoyalOrders: 2},
	{Lookback: affinity.Days(90), Workers: 3},
	{NonMerchandise: roaring.BitmapOf(0, 3, 7, 12, 40)},
}

func TestJoinEqualsBuild(t *testing.T) {
	t.Parallel()
	for seed := range uint64(testdata.Scale(6, 1)) {
		rng := rand.New(rand.NewPCG(seed, 17))
		h := randomHistory(t, rng, 50+rng.IntN(1500))
		for _, o := range partOptions {
			requireJoinEqualsBuild(t, h, testAsOf, o)
		}
		requireJoinEqualsBuild(t, h, testAsOf.Add(-200*segment.Day), segment.Options{RFMScoring: segment.RFMNTile})
	}
}

// Runs of 65,536 customers: the second part starts a new roaring
// container, and the NTILE scores and population shares span both.
func TestJoinAcrossParts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a 70,000-customer history")
	}
	h, _ := chunkHistory(t) // shared with TestQueriesAcrossChunks
	require.Greater(t, h.NumCustomers(), segment.PartSize)
	// exact shares and NTILE scores, whose ranks span both parts (decayed
	// shares are joined in TestJoinEqualsBuild)
	requireJoinEqualsBuild(t, h, testAsOf, segment.Options{RFMScoring: segment.RFMNTile})
}

func TestJoinRejectsMismatchedParts(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	h := randomHistory(t, rng, 300)
	parts := buildParts(t, h, testAsOf, segment.Options{})
	cat := h.Catalog()

	_, err := segment.Join(ctx, cat, testAsOf.Add(time.Hour), segment.Options{}, parts)
	require.ErrorIs(t, err, segment.ErrInvalid, "another as-of time")
	_, err = segment.Join(ctx, cat, testAsOf, segment.Options{TopN: 2}, parts)
	require.ErrorIs(t, err, segment.ErrInvalid, "other options")
	other := randomHistory(t, rand.New(rand.NewPCG(10, 10)), 300)
	_, err = segment.Join(ctx, other.Catalog(), testAsOf, segment.Options{}, parts)
	require.ErrorIs(t, err, segment.ErrInvalid, "another catalog")
	_, err = segment.Join(ctx, cat, testAsOf, segment.Options{}, []*segment.Part{parts[0], parts[0]})
	require.ErrorIs(t, err, segment.ErrInvalid, "a part that is not full before the last")
	_, err = segment.Join(ctx, cat, testAsOf, segment.Options{}, nil)
	require.ErrorIs(t, err, segment.ErrInvalid)
	_, err = segment.Join(ctx, cat, testAsOf, segment.Options{}, []*segment.Part{nil})
	require.ErrorIs(t, err, segment.ErrInvalid)
	_, err = segment.Join(ctx, nil, testAsOf, segment.Options{}, parts)
	require.ErrorIs(t, err, segment.ErrInvalid)
	_, err = segment.Join(ctx, cat, time.Time{}, segment.Options{}, parts)
	require.ErrorIs(t, err, affinity.ErrNoAsOf)

	// nobody active by asOf: a valid part, no index
	early := testAsOf.AddDate(-30, 0, 0)
	p, err := segment.BuildPart(ctx, h, early, segment.Options{Lookback: affinity.AllTime})
	require.NoError(t, err)
	_, err = segment.Join(ctx, cat, early, segment.Options{Lookback: affinity.AllTime}, []*segment.Part{p})
	require.ErrorIs(t, err, segment.ErrNoData)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = segment.Join(cancelled, cat, testAsOf, segment.Options{}, parts)
	require.ErrorIs(t, err, context.Canceled)

	var bb affinity.Builder
	for c := range segment.PartSize + 1 {
		noErr(t, bb.Add(affinity.Purchase{Customer: strconv.Itoa(c), Product: "p", Time: testAsOf, Quantity: 1}))
	}
	big, err := bb.Build(ctx)
	require.NoError(t, err)
	_, err = segment.BuildPart(ctx, big, testAsOf, segment.Options{})
	require.ErrorIs(t, err, segment.ErrInvalid, "more customers than a part holds")
}

func TestPartDecodeRejectsDamage(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(4, 4)), 200)
	p, err := segment.BuildPart(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	data, err := p.MarshalBinary()
	require.NoError(t, err)
	var q segment.Part
	for _, bad := range [][]byte{nil, data[:20], data[:len(data)-1], append(bytes.Clone(data), 0)} {
		require.ErrorIs(t, q.UnmarshalBinary(bad), segment.ErrCorrupt)
	}
	for i := 0; i < len(data); i += 1 + len(data)/500 { // every region of the encoding
		d := bytes.Clone(data)
		d[i] ^= 0x40
		require.ErrorIs(t, q.UnmarshalBinary(d), segment.ErrCorrupt, "byte %d flipped", i)
	}
	require.Zero(t, q.Len(), "a failed decode leaves the Part as it was")
}

// withChecksum wraps a part body in a valid header (of the version
// MarshalBinary writes) and trailer, so that the fuzzer reaches the field
// checks.
func withChecksum(body []byte) []byte {
	out := binary.LittleEndian.AppendUint32([]byte("AFSEGPRT"), segment.PartVersion)
	out = append(out, body...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
}

// FuzzPartJoin decodes damaged parts: decoding never panics and never
// allocates without bound, and a part that decodes either fails to join
// or joins into an index that saves and loads again.
func FuzzPartJoin(f *testing.F) {
	h := randomHistory(f, rand.New(rand.NewPCG(5, 6)), 40)
	for _, o := range []segment.Options{{}, {HalfLife: 30 * segment.Day}} {
		p, err := segment.BuildPart(context.Background(), h, testAsOf, o)
		require.NoError(f, err)
		data, err := p.MarshalBinary()
		require.NoError(f, err)
		f.Add(data[12:len(data)-12], o.HalfLife > 0)
	}
	for _, o := range []segment.Options{{}, {HalfLife: 30 * segment.Day}} {
		p, err := segment.BuildPart(context.Background(), h, testAsOf, o)
		require.NoError(f, err)
		data, err := p.MarshalBinary()
		require.NoError(f, err)
		require.Equal(f, data, withChecksum(data[12:len(data)-12]), "the harness wraps a body as MarshalBinary does")
	}
	f.Fuzz(func(t *testing.T, body []byte, decay bool) {
		var p segment.Part
		if p.UnmarshalBinary(withChecksum(body)) != nil {
			return
		}
		o := segment.Options{}
		if decay {
			o.HalfLife = 30 * segment.Day
		}
		x, err := segment.Join(context.Background(), h.Catalog(), testAsOf, o, []*segment.Part{&p})
		if err != nil {
			return
		}
		data := encode(t, x)
		y, err := segment.ReadIndex(bytes.NewReader(data))
		require.NoError(t, err, "a joined index does not load")
		require.Equal(t, data, encode(t, y))
	})
}

// A count claiming millions of records, written at every offset of a
// part's body (checksum valid), is rejected or decoded without allocating
// more than a small multiple of what the good part takes.
func TestPartCraftedCountsAllocateLittle(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(8, 8)), 12)
	p, err := segment.BuildPart(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	data, err := p.MarshalBinary()
	require.NoError(t, err)
	body := data[12 : len(data)-12]
	require.Equal(t, data, withChecksum(body), "the crafted files reach the decoder")
	var q segment.Part
	base := allocated(func() { require.NoError(t, q.UnmarshalBinary(data)) })
	worst := uint64(0)
	// every offset in the long suite, every thirteenth in the quick one,
	// as for the index file (TestCraftedCountsAllocateLittle): the offsets
	// still take every alignment of a 4-byte count, and each decode costs
	// two stop-the-world reads of the allocation statistics
	for i := 0; i+4 <= len(body); i += testdata.Scale(1, 13) {
		bad := bytes.Clone(body)
		binary.LittleEndian.PutUint32(bad[i:], 5_000_000)
		file := withChecksum(bad)
		var err error
		n := allocated(func() { err = q.UnmarshalBinary(file) })
		if err != nil {
			require.ErrorIs(t, err, segment.ErrCorrupt)
		}
		worst = max(worst, n)
	}
	t.Logf("part of %d bytes: decoding allocates %d, the worst crafted count %d", len(data), base, worst)
	require.Less(t, worst, 4*base+(1<<20))
}

// copyCustomer adds the orders and events of h's customer c to b.
func copyCustomer(t testing.TB, b *affinity.Builder, h *affinity.History, c affinity.CustomerID) {
	t.Helper()
	cat := h.Catalog()
	key := h.CustomerKey(c)
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		order, at := h.OrderKey(o), h.OrderTime(o)
		l0, l1 := h.OrderLines(o)
		for i := l0; i < l1; i++ {
			ln := h.Line(i)
			noErr(t, b.Add(affinity.Purchase{Customer: key, Product: cat.ProductKey(ln.Product), Order: order,
				Time: at, Quantity: ln.Quantity, Price: ln.Price}))
		}
	}
	e0, e1 := h.CustomerEvents(c)
	for i := e0; i < e1; i++ {
		e := h.Event(i)
		noErr(t, b.AddEvent(affinity.Event{Customer: key, Product: cat.ProductKey(e.Product), Time: e.Time(), Kind: e.Kind, Weight: e.Weight}))
	}
}

// TestPartNumeratorsMatchPairs: a part whose population numerator of a
// category differs from the sum of its customers' exact spends is
// corrupt, and pairs whose spends exceed their customers' totals (with a
// numerator to match) do not join. Such a part, its checksum valid,
// joined into an index with a population share of 7.8e10 that saved and
// then did not load.
func TestPartNumeratorsMatchPairs(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(9, 9)), 60)
	p, err := segment.BuildPart(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	data, err := p.MarshalBinary()
	require.NoError(t, err)
	body := data[12 : len(data)-12]
	ncat := h.Catalog().NumCategories()
	num := len(body) - 16*ncat // the numerators: hi, then lo, per category
	addNum := func(b []byte, c int, v uint64) {
		lo := binary.LittleEndian.Uint64(b[num+16*c+8:])
		hi := binary.LittleEndian.Uint64(b[num+16*c:])
		if lo+v < lo {
			hi++
		}
		binary.LittleEndian.PutUint64(b[num+16*c:], hi)
		binary.LittleEndian.PutUint64(b[num+16*c+8:], lo+v)
	}
	var q segment.Part
	for c := range ncat {
		bad := bytes.Clone(body)
		binary.LittleEndian.PutUint64(bad[num+16*c:], 1) // 2^64 more
		require.ErrorIs(t, q.UnmarshalBinary(withChecksum(bad)), segment.ErrCorrupt, "category %d", c)
	}
	// a pair (category u32, customer u16, four u16, rank u8, then the
	// spend residual) whose spend grows by 2^60, and its numerator with it
	found := false
	for i := 0; i+35 <= num-8*(ncat+1) && !found; i++ {
		c := int(binary.LittleEndian.Uint32(body[i:]))
		if c >= ncat {
			continue
		}
		bad := bytes.Clone(body)
		binary.LittleEndian.PutUint64(bad[i+15:], binary.LittleEndian.Uint64(bad[i+15:])+1<<60)
		addNum(bad, c, 1<<60)
		if q.UnmarshalBinary(withChecksum(bad)) != nil {
			continue
		}
		found = true
		_, err := segment.Join(context.Background(), h.Catalog(), testAsOf, segment.Options{}, []*segment.Part{&q})
		require.ErrorIs(t, err, segment.ErrCorrupt, "pair at body offset %d", i)
	}
	require.True(t, found, "no pair found to damage")
}
