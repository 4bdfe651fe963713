package segment

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/pkgerr"
	"github.com/shopaffinity/affinity/segment/query"
)

// PartSize is the number of customers of a full [Part]: the 65,536
// consecutive dense ids one roaring container holds.
const PartSize = 1 << chunkBits

// A Part holds the features of one run of at most [PartSize] consecutive
// customers, computed by [BuildPart] and put together with the other
// runs' by [Join] into the index [Build] would give. It is what a
// distributed job (such as the Beam pipeline of this module's beam/
// directory) computes per worker and sends to the step that writes the
// index: [Part.MarshalBinary] encodes it, [Part.UnmarshalBinary] decodes
// and checks it. A Part is immutable once built or decoded.
type Part struct {
	fp       []byte // as-of time, look-back and options, encoded
	catSum   uint64 // catalogDigest of the catalog it was built over
	np, ncat int
	exact    bool // computed with exact share numerators

	keys                             []string
	known                            []bool
	recency, tenure, abandoned, freq []int32
	monetary, lastBuy                []int64
	totSpend, totItems               []int64 // when exact
	nKnown, maxDay                   int64
	sat                              bool
	res                              chunkResult
}

// Len returns the number of customers of p.
func (p *Part) Len() int { return len(p.keys) }

// BuildPart computes, as of asOf, the features of the customers of h for
// [Join]. h holds one run of at most [PartSize] customers of a larger
// shop — the customers whose dense ids in the whole shop are base … base
// + h.NumCustomers() − 1 for some multiple base of PartSize, in that
// order — with their orders and events, and the whole shop's catalog:
// every product and category node, with the ids they have in the whole
// shop's History ([affinity.NewCatalogBuilder] of the shop's catalog
// starts such a History). A customer's features depend only on the
// customer's own orders and events and on the catalog, so that the Part
// equals that run of a [Build] of the whole History. The arguments mean what they mean to
// [Build]; opts.Workers is ignored. BuildPart does not return
// [ErrNoData]: a run whose customers have no order or event by asOf is a
// valid Part.
func BuildPart(ctx context.Context, h *affinity.History, asOf time.Time, opts Options) (*Part, error) {
	if err := affinity.CheckContext("segment", ctx, ErrInvalid); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("segment", "History", ErrInvalid)
	}
	nc := h.NumCustomers()
	if nc > PartSize {
		return nil, fmt.Errorf("%w: a part holds at most %d customers, the History has %d", ErrInvalid, PartSize, nc)
	}
	opts.Workers = 1
	b, err := prepare(h.Catalog(), nc, asOf, opts)
	if err != nil {
		return nil, err
	}
	b.h = h
	if err := b.scan(ctx); err != nil {
		return nil, err
	}
	p := &Part{
		fp: b.fingerprint(), catSum: catalogDigest(b.cat), np: b.cat.NumProducts(), ncat: b.ncat,
		exact: b.totSpend != nil,
		known: b.known, recency: b.recency, tenure: b.tenure, abandoned: b.abandoned, freq: b.freq,
		monetary: b.monetary, lastBuy: b.lastBuy, totSpend: b.totSpend, totItems: b.totItems,
		nKnown: b.nKnown, maxDay: b.maxDay, sat: !b.exact && b.totSpend != nil,
	}
	p.keys = make([]string, nc)
	for c := range nc {
		p.keys[c] = h.CustomerKey(affinity.CustomerID(c))
	}
	if len(b.chunks) == 1 {
		p.res = b.chunks[0]
	} else {
		p.res = emptyResult(b.ncat)
	}
	return p, nil
}

// emptyResult is the chunk result of no customers.
func emptyResult(ncat int) chunkResult {
	r := chunkResult{popSpend: make([]float64, ncat), popNum: make([]sum128, ncat), pairOff: make([]uint32, ncat+1)}
	for i := range r.evOff {
		r.evOff[i] = make([]uint32, ncat+1)
	}
	return r
}

// fingerprint encodes what a Part must share with the Join it goes into:
// the as-of time, the look-back in days and the options.
func (b *builder) fingerprint() []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	e := &encoder{w: bw, crc: crc32.New(castagnoli), tmp: make([]byte, 0, 64)}
	encodeOptions(e, b.asOf, b.lookDays, &b.opts)
	_ = bw.Flush()
	return buf.Bytes()
}

// catalogDigest hashes what the features depend on in a catalog: the
// product keys, each product's category shares and the category paths.
func catalogDigest(cat *affinity.Catalog) uint64 {
	h := fnv.New64a()
	var tmp []byte
	str := func(s string) {
		tmp = binary.AppendUvarint(tmp[:0], uint64(len(s)))
		h.Write(tmp)
		h.Write([]byte(s))
	}
	np, nk := cat.NumProducts(), cat.NumCategories()
	tmp = binary.AppendUvarint(binary.AppendUvarint(tmp[:0], uint64(np)), uint64(nk))
	h.Write(tmp)
	for c := range affinity.CategoryID(nk) {
		str(cat.CategoryPath(c))
	}
	for p := range affinity.ProductID(np) {
		str(cat.ProductKey(p))
		tmp = tmp[:0]
		for _, s := range cat.Shares(p) {
			tmp = binary.AppendUvarint(tmp, uint64(s.Category))
			tmp = binary.LittleEndian.AppendUint32(tmp, math.Float32bits(s.Weight))
		}
		tmp = binary.AppendUvarint(tmp, uint64(len(cat.Shares(p))))
		h.Write(tmp)
	}
	return h.Sum64()
}

// Join puts Parts together into the index of the whole shop: parts[k]
// holds the customers k·PartSize, k·PartSize + 1, …, every Part but the
// last holds PartSize of them, and each was built by [BuildPart] over
// the catalog cat with the same asOf and opts as given here. The index is
// the one [Build] gives on the History of all those customers over cat,
// byte for byte (see [Index.WriteTo]), whatever machines computed the
// parts. Join holds the parts and the index in memory; it takes time
// linear in the size of the index, on opts.Workers goroutines. It returns
// an error wrapping [ErrInvalid] when a Part was built with another as-of
// time, other options or another catalog, or does not fit its place, or
// when two parts hold the same customer key, one wrapping both
// [ErrInvalid] and [affinity.ErrMoneyRange] when the parts' monetary
// values sum in absolute value beyond [affinity.MaxMoney] (each part's
// History bounds its own gross value, as every History does, but not the
// sum over the parts), one
// wrapping [ErrCorrupt] when a Part's contents are inconsistent, and one
// wrapping [ErrNoData] when no customer has an order or event by asOf.
func Join(ctx context.Context, cat *affinity.Catalog, asOf time.Time, opts Options, parts []*Part) (*Index, error) {
	if err := affinity.CheckContext("segment", ctx, ErrInvalid); err != nil {
		return nil, err
	}
	if cat == nil {
		return nil, affinity.NilArgument("segment", "Catalog", ErrInvalid)
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no parts", ErrInvalid)
	}
	nc := 0
	for k, p := range parts {
		switch {
		case p == nil:
			return nil, affinity.NilArgument("segment", fmt.Sprintf("Part (part %d)", k), ErrInvalid)
		case p.Len() == 0 && len(parts) > 1:
			return nil, fmt.Errorf("%w: part %d has no customers", ErrInvalid, k)
		case k < len(parts)-1 && p.Len() != PartSize:
			return nil, fmt.Errorf("%w: part %d of %d has %d customers; every part but the last must have %d", ErrInvalid, k, len(parts), p.Len(), PartSize)
		}
		nc += p.Len()
	}
	if nc >= math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d customers are more than the index supports", ErrInvalid, nc)
	}
	b, err := prepare(cat, nc, asOf, opts)
	if err != nil {
		return nil, err
	}
	fp, sum := b.fingerprint(), catalogDigest(cat)
	stamps := make([]uint64, cat.NumProducts())
	keys := make([]string, 0, nc)
	var gross uint64
	for k, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch {
		case !bytes.Equal(p.fp, fp):
			return nil, fmt.Errorf("%w: part %d was built with another as-of time or other options", ErrInvalid, k)
		case p.catSum != sum || p.np != cat.NumProducts() || p.ncat != cat.NumCategories():
			return nil, fmt.Errorf("%w: part %d was built over another catalog", ErrInvalid, k)
		case p.exact != (b.totSpend != nil):
			return nil, fmt.Errorf("%w: part %d: exact shares differ from the catalog's", ErrCorrupt, k)
		}
		if err := p.checkJoin(b, k, stamps); err != nil {
			return nil, err
		}
		// each part's History bounds its own gross value, nothing bounds
		// the parts' sum: the index's revenue and any segment's Stats sum
		// monetary values, which must stay within Money's range
		var ok bool
		if gross, ok = addGross(gross, p.monetary); !ok {
			return nil, pkgerr.New(fmt.Sprintf("%v: part %d: the monetary values of parts 0 to %d sum in absolute value beyond %v",
				ErrInvalid, k, k, affinity.MaxMoney), ErrInvalid, affinity.ErrMoneyRange)
		}
		base := k << chunkBits
		copy(b.known[base:], p.known)
		copy(b.recency[base:], p.recency)
		copy(b.tenure[base:], p.tenure)
		copy(b.abandoned[base:], p.abandoned)
		copy(b.freq[base:], p.freq)
		copy(b.monetary[base:], p.monetary)
		copy(b.lastBuy[base:], p.lastBuy)
		if b.totSpend != nil {
			copy(b.totSpend[base:], p.totSpend)
			copy(b.totItems[base:], p.totItems)
		}
		b.nKnown += p.nKnown
		b.maxDay = max(b.maxDay, p.maxDay)
		if p.sat {
			b.exact = false
		}
		if k < len(b.chunks) {
			b.chunks[k] = p.res
		}
		keys = append(keys, p.keys...)
	}
	b.key = func(c int) string { return keys[c] }
	if err := b.checkDays(); err != nil {
		return nil, err
	}
	if b.nKnown == 0 {
		return nil, fmt.Errorf("%w: asOf %s, no customer of the %d parts has an order or event by then", ErrNoData, asOf.UTC().Format(time.DateTime), len(parts))
	}
	x, err := b.finish(ctx)
	if err != nil {
		return nil, err
	}
	// each part's numerators match its pairs (see decode), but pairs
	// whose exact spends exceed their customers' totals still make a
	// share no History gives
	for c, v := range x.popShare {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%w: the population share of category %d is %v", ErrCorrupt, c, v)
		}
	}
	// A History holds each customer key once (erased customers have the
	// empty key): parts that repeat a key, from shards that overlap, are
	// no History's. The check sorts the keys, as the first lookup by key
	// would, and keeps the order for it.
	x.lookupOnce.Do(x.sortKeys)
	for i := 1; i < len(x.byKey); i++ {
		a, b := x.byKey[i-1], x.byKey[i]
		if k := x.keys[a]; k != "" && k == x.keys[b] {
			return nil, fmt.Errorf("%w: customer key %s is in part %d (customer %d) and part %d (customer %d)",
				ErrInvalid, query.Excerpt(k), a>>chunkBits, a, b>>chunkBits, b)
		}
	}
	return x, nil
}

// checkJoin checks what p's decoding cannot: its days against the as-of
// time and the uniqueness of its product postings. stamps is scratch
// space, one per product.
func (p *Part) checkJoin(b *builder, k int, stamps []uint64) error {
	lastDay := floorDiv(b.asOf, secondsPerDay)
	for c, known := range p.known {
		if !known {
			continue
		}
		r, t, a := int64(p.recency[c]), int64(p.tenure[c]), int64(p.abandoned[c])
		if max(r, t, a) > lastDay || (p.freq[c] > 0 && min(r, t) < 0) {
			return fmt.Errorf("%w: part %d: customer %d has days before 1970 or orders without a last purchase", ErrCorrupt, k, c)
		}
	}
	for _, d := range p.res.days {
		if d.day < 0 || int64(d.day) > lastDay {
			return fmt.Errorf("%w: part %d: a day of activity (%d) after the as-of time", ErrCorrupt, k, d.day)
		}
	}
	for kind := range p.res.prods {
		for _, pp := range p.res.prods[kind] {
			stamp := uint64(k)<<40 | uint64(kind)<<32 | uint64(pp.low) + 1
			if stamps[pp.prod] == stamp {
				return fmt.Errorf("%w: part %d: product %d twice for customer %d", ErrCorrupt, k, pp.prod, pp.low)
			}
			stamps[pp.prod] = stamp
		}
	}
	return nil
}

// Part encoding, version 2: the magic "AFSEGPRT", a uint32 version, the
// body, then the body's length (uint64) and CRC-32C (uint32). All
// integers are little-endian.
const (
	partMagic   = "AFSEGPRT"
	partVersion = 2
	// least encoded sizes of the repeated records
	pairLen = 4 + 2 + 4*2 + 1 + 8 + 4 + 4
	evLen   = 4 + 2 + 2
	prodLen = 4 + 2 + 2
	dayLen  = 4 + 2
)

// MarshalBinary encodes p (encoding.BinaryMarshaler), checksummed.
func (p *Part) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(partMagic)
	buf.Write(binary.LittleEndian.AppendUint32(nil, partVersion))
	bw := bufio.NewWriterSize(&buf, 1<<16)
	e := &encoder{w: bw, crc: crc32.New(castagnoli), tmp: make([]byte, 0, 8192)}
	p.encode(e)
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	out := buf.Bytes()
	out = binary.LittleEndian.AppendUint64(out, uint64(e.n))
	out = binary.LittleEndian.AppendUint32(out, e.crc.Sum32())
	return out, nil
}

func (p *Part) encode(e *encoder) {
	e.u32(uint32(len(p.fp)))
	e.Write(p.fp)
	e.u64(p.catSum)
	e.u32(uint32(p.np))
	e.u32(uint32(p.ncat))
	e.u8(boolByte(p.exact))
	e.u32(uint32(len(p.keys)))
	for _, k := range p.keys {
		e.str(k)
	}
	records(e, len(p.keys), func(buf []byte, c int) []byte {
		buf = append(buf, boolByte(p.known[c]))
		for _, v := range []int32{p.recency[c], p.tenure[c], p.abandoned[c], p.freq[c]} {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
		}
		buf = binary.LittleEndian.AppendUint64(buf, uint64(p.monetary[c]))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(p.lastBuy[c]))
		if p.exact {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(p.totSpend[c]))
			buf = binary.LittleEndian.AppendUint64(buf, uint64(p.totItems[c]))
		}
		return buf
	})
	e.i64(p.nKnown)
	e.i64(p.maxDay)
	e.u8(boolByte(p.sat))
	r := &p.res
	e.u32(uint32(len(r.pairs)))
	records(e, len(r.pairs), func(buf []byte, i int) []byte {
		q := &r.pairs[i]
		buf = binary.LittleEndian.AppendUint32(buf, q.cat)
		for _, v := range []uint16{q.low, q.spend, q.items, q.orders, q.days} {
			buf = binary.LittleEndian.AppendUint16(buf, v)
		}
		buf = append(buf, q.rank)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(q.resSpend))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(q.resItems))
		return binary.LittleEndian.AppendUint32(buf, uint32(q.resOrders))
	})
	for k := range r.ev {
		ev := r.ev[k]
		e.u32(uint32(len(ev)))
		records(e, len(ev), func(buf []byte, i int) []byte { return appendIDLowDays(buf, ev[i].cat, ev[i].low, ev[i].days) })
	}
	for k := range r.prods {
		pp := r.prods[k]
		e.u32(uint32(len(pp)))
		records(e, len(pp), func(buf []byte, i int) []byte { return appendIDLowDays(buf, pp[i].prod, pp[i].low, pp[i].days) })
	}
	e.u32(uint32(len(r.days)))
	records(e, len(r.days), func(buf []byte, i int) []byte {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(r.days[i].day))
		return binary.LittleEndian.AppendUint16(buf, r.days[i].low)
	})
	for _, v := range r.popSpend {
		e.f64(v)
	}
	e.f64(r.popTotal)
	for _, v := range r.popNum {
		e.u64(v.hi)
		e.u64(v.lo)
	}
}

// appendIDLowDays appends an event or product pair: a category or product
// id, a customer's low bits and days.
func appendIDLowDays(buf []byte, id uint32, low, days uint16) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, id)
	buf = binary.LittleEndian.AppendUint16(buf, low)
	return binary.LittleEndian.AppendUint16(buf, days)
}

// records writes n records, each appended to a buffer by rec, in batches.
func records(e *encoder, n int, rec func(buf []byte, i int) []byte) {
	buf := e.tmp[:0]
	for i := range n {
		buf = rec(buf, i)
		if len(buf) >= 4096 {
			e.Write(buf)
			buf = buf[:0]
		}
	}
	e.Write(buf)
	e.tmp = buf[:0]
}

// UnmarshalBinary decodes a Part encoded by [Part.MarshalBinary]
// (encoding.BinaryUnmarshaler) into p. It checks the checksum and the
// consistency of every field, and allocates no more than a small multiple
// of len(data); an error wraps [ErrCorrupt]. On error p is unchanged.
func (p *Part) UnmarshalBinary(data []byte) error {
	const head = len(partMagic) + 4
	if len(data) < head+12 || string(data[:len(partMagic)]) != partMagic {
		return fmt.Errorf("%w: not an index part", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(data[len(partMagic):]); v != partVersion {
		return fmt.Errorf("%w: part version %d, this build reads version %d", ErrCorrupt, v, partVersion)
	}
	body := data[head : len(data)-12]
	trail := data[len(data)-12:]
	if n := binary.LittleEndian.Uint64(trail); n != uint64(len(body)) {
		return fmt.Errorf("%w: part body of %d bytes, trailer says %d", ErrCorrupt, len(body), n)
	}
	if crc := binary.LittleEndian.Uint32(trail[8:]); crc != crc32.Checksum(body, castagnoli) {
		return fmt.Errorf("%w: part checksum mismatch", ErrCorrupt)
	}
	d := &decoder{b: body}
	q := d.part()
	if d.err == nil && d.off != len(body) {
		d.fail("%d bytes after the part", len(body)-d.off)
	}
	if d.err != nil {
		return d.err
	}
	*p = *q
	return nil
}

func (d *decoder) part() *Part {
	p := &Part{}
	p.fp = bytes.Clone(d.next(d.count(1)))
	p.catSum = d.u64()
	p.np, p.ncat = int(d.u32()), int(d.u32())
	p.exact = d.u8() == 1
	if d.err == nil && (p.ncat >= 1<<28 || p.ncat*8 > len(d.b)-d.off) {
		d.fail("%d categories", p.ncat) // each has its total at the end
	}
	n := d.count(minString)
	if d.err == nil && n > PartSize {
		d.fail("%d customers in a part", n)
	}
	if d.err != nil {
		return nil
	}
	p.keys = make([]string, n)
	for c := range p.keys {
		p.keys[c] = d.str()
	}
	recLen := 1 + 4*4 + 2*8
	if p.exact {
		recLen += 2 * 8
	}
	if d.err == nil && n*recLen > len(d.b)-d.off {
		d.fail("customer columns run past the end")
	}
	if d.err != nil {
		return nil
	}
	p.known = make([]bool, n)
	p.recency, p.tenure, p.abandoned, p.freq = make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	p.monetary, p.lastBuy = make([]int64, n), make([]int64, n)
	if p.exact {
		p.totSpend, p.totItems = make([]int64, n), make([]int64, n)
	}
	var known int64
	for c := range n {
		switch d.u8() {
		case 0:
		case 1:
			p.known[c] = true
			known++
		default:
			d.fail("customer %d: bad known flag", c)
		}
		p.recency[c], p.tenure[c] = int32(d.u32()), int32(d.u32())
		p.abandoned[c], p.freq[c] = int32(d.u32()), int32(d.u32())
		p.monetary[c], p.lastBuy[c] = d.i64(), d.i64()
		if p.exact {
			p.totSpend[c], p.totItems[c] = d.i64(), d.i64()
		}
		if min(p.recency[c], p.tenure[c], p.abandoned[c]) < -1 || p.freq[c] < 0 {
			d.fail("customer %d: negative days or orders", c)
		}
	}
	p.nKnown, p.maxDay = d.i64(), d.i64()
	p.sat = d.u8() == 1
	if d.err == nil && (known != p.nKnown || p.maxDay < 0 || p.maxDay >= maxDays) {
		d.fail("inconsistent counts: %d known customers, header says %d; %d days back", known, p.nKnown, p.maxDay)
	}
	if d.err != nil {
		return nil
	}
	r := &p.res
	r.pairs = make([]catPair, d.count(pairLen))
	for i := range r.pairs {
		q := &r.pairs[i]
		q.cat, q.low = d.u32(), d.u16()
		q.spend, q.items, q.orders, q.days = d.u16(), d.u16(), d.u16(), d.u16()
		q.rank = d.u8()
		q.resSpend, q.resItems, q.resOrders = d.i64(), int32(d.u32()), int32(d.u32())
		if d.err != nil {
			return nil
		}
		if max(q.spend, q.items, q.orders) > shareScale || int64(q.days) > p.maxDay || q.rank > maxTopN || !p.knownID(q.low) {
			d.fail("category pair %d out of range", i)
			return nil
		}
	}
	if !d.grouped(len(r.pairs), p.ncat, func(i int) (uint32, uint16) { return r.pairs[i].cat, r.pairs[i].low }) {
		return nil
	}
	r.pairOff = offsets(len(r.pairs), p.ncat, func(i int) uint32 { return r.pairs[i].cat })
	for k := range r.ev {
		ev := make([]evPair, d.count(evLen))
		for i := range ev {
			ev[i] = evPair{cat: d.u32(), low: d.u16(), days: d.u16()}
			if d.err == nil && (int64(ev[i].days) > p.maxDay || !p.knownID(ev[i].low)) {
				d.fail("event pair %d out of range", i)
			}
		}
		if d.err != nil || !d.grouped(len(ev), p.ncat, func(i int) (uint32, uint16) { return ev[i].cat, ev[i].low }) {
			return nil
		}
		r.ev[k], r.evOff[k] = ev, offsets(len(ev), p.ncat, func(i int) uint32 { return ev[i].cat })
	}
	for k := range r.prods {
		pp := make([]prodPair, d.count(prodLen))
		for i := range pp {
			pp[i] = prodPair{prod: d.u32(), low: d.u16(), days: d.u16()}
			if d.err != nil {
				return nil
			}
			if int(pp[i].prod) >= p.np || !p.knownID(pp[i].low) || int64(pp[i].days) > p.maxDay ||
				(i > 0 && pp[i].low < pp[i-1].low) {
				d.fail("product pair %d out of range or order", i)
				return nil
			}
		}
		r.prods[k] = pp
	}
	r.days = make([]dayPair, d.count(dayLen))
	for i := range r.days {
		r.days[i] = dayPair{day: int32(d.u32()), low: d.u16()}
		if d.err != nil {
			return nil
		}
		if prev := r.days[max(i-1, 0)]; !p.knownID(r.days[i].low) || (i > 0 && (r.days[i].low < prev.low || r.days[i].low == prev.low && r.days[i].day <= prev.day)) {
			d.fail("day pair %d out of range or order", i)
			return nil
		}
	}
	if d.err == nil && p.ncat*8 > len(d.b)-d.off {
		d.fail("category totals run past the end")
	}
	if d.err != nil {
		return nil
	}
	r.popSpend = make([]float64, p.ncat)
	for i := range r.popSpend {
		r.popSpend[i] = d.f64()
	}
	r.popTotal = d.f64()
	// a category's spend is part of its customers' total spend
	if !(r.popTotal >= 0 && r.popTotal <= math.MaxFloat64) {
		d.fail("total spend %v", r.popTotal)
	}
	for c, v := range r.popSpend {
		if !(v >= 0 && v <= r.popTotal) {
			d.fail("category %d spend %v of %v", c, v, r.popTotal)
			break
		}
	}
	if d.err == nil && p.ncat*16 > len(d.b)-d.off {
		d.fail("category numerators run past the end")
	}
	if d.err != nil {
		return nil
	}
	r.popNum = make([]sum128, p.ncat)
	for i := range r.popNum {
		r.popNum[i] = sum128{hi: d.u64(), lo: d.u64()}
	}
	// a category's numerator is the sum of its customers' exact spends
	// (none without exact shares), which the pairs hold as a residual
	// from their rounded share of the customer's total
	sums := make([]sum128, p.ncat)
	if p.exact {
		for _, q := range r.pairs {
			sums[q.cat].addInt(q.resSpend + predictNum(int64(q.spend), p.totSpend[q.low]))
		}
	}
	for c := range sums {
		if sums[c] != r.popNum[c] {
			d.fail("category %d: population numerator %v, its customers' spends sum to %v", c, r.popNum[c].big(), sums[c].big())
			return nil
		}
	}
	return p
}

// knownID reports whether low is a customer of p with an order or event.
func (p *Part) knownID(low uint16) bool { return int(low) < len(p.keys) && p.known[low] }

// grouped checks that n records are sorted by category (below ncat), then
// strictly by customer.
func (d *decoder) grouped(n, ncat int, at func(i int) (uint32, uint16)) bool {
	for i := range n {
		c, low := at(i)
		if int(c) >= ncat {
			d.fail("category %d of %d", c, ncat)
			return false
		}
		if i > 0 {
			pc, pl := at(i - 1)
			if c < pc || c == pc && low <= pl {
				d.fail("records out of order at %d", i)
				return false
			}
		}
	}
	return true
}

// offsets returns the start of each category's records (len ncat+1) in
// n records sorted by category.
func offsets(n, ncat int, cat func(i int) uint32) []uint32 {
	off := make([]uint32, ncat+1)
	for i := range n {
		off[cat(i)+1]++
	}
	for c := 1; c <= ncat; c++ {
		off[c] += off[c-1]
	}
	return off
}

func (d *decoder) u16() uint16 {
	if p := d.next(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}
