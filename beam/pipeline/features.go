package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// Features configures [NewFeatures]. It is serialised into the pipeline,
// so it holds plain values only.
type Features struct {
	// AsOf is the as-of time of the features; required. Any zone and
	// year: the workers get the instant in UTC, which gives the same
	// features.
	AsOf time.Time
	// Segment are the options of segment.Build; Workers is ignored, and
	// NonMerchandise must be nil (product ids are the pipeline's own):
	// name those products in NonMerchandiseKeys.
	Segment segment.Options
	// NonMerchandiseKeys are the shop keys of the products that are spend
	// but not a taste (postage, fees): with Index, the saved index counts
	// them in no category, as segment.Options.NonMerchandise does with
	// ids (a shop.Shop passes its non-merchandise so). Keys the input
	// does not hold are ignored. The features without Index do not
	// depend on categories.
	NonMerchandiseKeys []string
	// Output is the directory the results are written to (see
	// [NewFeatures]).
	Output string
	// Index makes the job also write the saved segment index,
	// segments.idx, with every attribute the index has — per-category
	// shares, ranks and recency included — from the catalog of the input
	// files. The workers compute its parts instead of per-chunk features;
	// one worker joins them, holds the whole index while it writes it, and
	// writes the features and segments from it.
	Index bool
}

// IndexFile is the name of the saved segment index in a features output
// directory (see [Features.Index]); read it with segment.Load.
const IndexFile = "segments.idx"

// chunkBits sizes the customer chunks features are computed in: 2^16
// consecutive ids, one roaring container.
const chunkBits = 16

// featureRec is one customer's features, by dense id.
type featureRec struct {
	ID                    int64
	Customer              string
	Recency, Tenure, Freq int64
	Monetary, AOV         int64
	Stage                 string
	Abandoned             int64
}

func init() {
	beam.RegisterType(typeOf[featureRec]())
	register.Function3x0(customerParts)
	register.Function2x2(partPos)
	register.DoFn3x1[context.Context, Dict, func(string, int), error](&customerIDsFn{})
	register.Function4x0(joinID)
	register.Iter1[int]()
	register.DoFn4x1[context.Context, int, func(*Part) bool, func(featureRec), error](&chunkFn{})
	register.Emitter1[featureRec]()
	register.Iter1[featureRec]()
	register.DoFn5x1[context.Context, int, func(*[]byte) bool, func(*featureRec) bool, func(*Dict) bool, error](&scoreFn{})
	register.Iter1[Dict]()
	register.Iter1[catalogSpec]()
	beam.RegisterType(typeOf[partBytes]())
	register.DoFn5x1[context.Context, int, func(*Part) bool, catalogSpec, func(partBytes), error](&partFn{})
	register.Emitter1[partBytes]()
	register.Iter1[partBytes]()
	register.DoFn6x1[context.Context, int, func(*[]byte) bool, func(*partBytes) bool, func(*catalogSpec) bool, func(*Dict) bool, error](&joinFn{})
}

// customerParts keeps the Parts of customers, keyed by customer.
func customerParts(_ int, p Part, emit func(string, Part)) {
	if p.Customer != "" {
		emit(p.Customer, p)
	}
}

func partPos(key string, p Part) (string, int64) { return key, p.Pos }

// customerIDsFn writes the customer dictionary and emits every
// customer's dense id.
type customerIDsFn struct {
	Output wire[string]
}

func (f *customerIDsFn) ProcessElement(ctx context.Context, d Dict, emit func(string, int)) error {
	for i, k := range d.Keys {
		emit(k, i)
	}
	return writeFile(ctx, joinPath(f.Output.V, "customers.csv"), dictCSV("customer", d))
}

// joinID gives a customer's Part its dense id (in Pos) and sends it to
// the chunk of its id.
func joinID(_ string, parts func(*Part) bool, ids func(*int) bool, emit func(int, Part)) {
	var id int
	ids(&id)
	var p Part
	parts(&p)
	p.Pos = int64(id)
	emit(id>>chunkBits, p)
}

// chunkFn builds a History of one chunk of customers — interned in id
// order, so that local id + chunk base is the global id — and computes
// their features with segment.Build, whose per-customer features depend
// on the customer's own lines only.
type chunkFn struct {
	AsOf    wire[time.Time] // in UTC, see [wiredAsOf]
	Segment wire[segment.Options]
}

func (f *chunkFn) ProcessElement(ctx context.Context, chunk int, parts func(*Part) bool, emit func(featureRec)) error {
	h, err := chunkHistory(ctx, chunk, parts, new(affinity.Builder))
	if err != nil {
		return err
	}
	o := f.Segment.V
	o.Workers = 1
	x, err := segment.Build(ctx, h, f.AsOf.V, o)
	if errors.Is(err, segment.ErrNoData) {
		return nil // nobody in the chunk had bought by asOf; scoreFn fails if nobody at all had
	}
	if err != nil {
		return err
	}
	emitFeatures(chunk, x, emit)
	return nil
}

// chunkHistory builds the History of one chunk of customers on b (empty,
// or holding the shop's catalog only).
func chunkHistory(ctx context.Context, chunk int, parts func(*Part) bool, b *affinity.Builder) (*affinity.History, error) {
	all := collect(parts)
	slices.SortFunc(all, func(a, b Part) int { return cmp.Compare(a.Pos, b.Pos) })
	base := int64(chunk) << chunkBits
	b.Workers = 1
	for i, p := range all {
		if p.Pos != base+int64(i) {
			return nil, fmt.Errorf("pipeline: chunk %d lacks customer %d", chunk, base+int64(i))
		}
		for _, o := range p.Orders {
			t := time.Unix(o.Unix, 0).UTC()
			for j, prod := range o.Products {
				err := b.Add(affinity.Purchase{Customer: p.Customer, Product: prod, Order: o.Key, Time: t, Quantity: o.Qty[j], Price: affinity.Money(o.Price[j])})
				if err != nil {
					return nil, fmt.Errorf("pipeline: chunk %d: customer %q, order %q of %s: %w", chunk, p.Customer, o.Key, t.Format(time.RFC3339), err)
				}
			}
		}
	}
	h, err := b.Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipeline: chunk %d of customers: %w", chunk, err)
	}
	if h.NumCustomers() != len(all) {
		return nil, fmt.Errorf("pipeline: chunk %d has %d customers, its History %d", chunk, len(all), h.NumCustomers())
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if h.CustomerKey(c) != all[c].Customer {
			return nil, fmt.Errorf("pipeline: chunk %d: customer %d is %q, want %q", chunk, c, h.CustomerKey(c), all[c].Customer)
		}
	}
	return h, nil
}

// emitFeatures emits the features of the customers x (an index of one
// chunk's History) knows, with their global ids.
func emitFeatures(chunk int, x *segment.Index, emit func(featureRec)) {
	base := int64(chunk) << chunkBits
	known := x.All()
	fts := x.FeaturesOf(known)
	for i, c := range known.ToArray() {
		ft := fts[i]
		emit(featureRec{ID: base + int64(c), Customer: ft.Customer, Recency: int64(ft.Recency), Tenure: int64(ft.Tenure),
			Freq: int64(ft.Frequency), Monetary: int64(ft.Monetary), AOV: int64(ft.AOV), Stage: ft.Stage, Abandoned: int64(ft.AbandonedCartDays)})
	}
}

// partBytes is one chunk's segment.Part, encoded.
type partBytes struct {
	Chunk int
	Data  []byte
}

// partFn builds the History of one chunk over the shop's catalog and
// emits its segment.Part.
type partFn struct {
	AsOf     wire[time.Time] // in UTC, see [wiredAsOf]
	Segment  wire[segment.Options]
	NonMerch wire[[]string] // Features.NonMerchandiseKeys

	cat *affinity.History // the catalog's History, built on first use
}

func (f *partFn) ProcessElement(ctx context.Context, chunk int, parts func(*Part) bool, spec catalogSpec, emit func(partBytes)) error {
	if f.cat == nil {
		h, err := spec.history(ctx)
		if err != nil {
			return err
		}
		f.cat = h
	}
	h, err := chunkHistory(ctx, chunk, parts, affinity.NewBuilder(f.cat))
	if err != nil {
		return err
	}
	p, err := segment.BuildPart(ctx, h, f.AsOf.V, withNonMerch(f.Segment.V, f.cat.Catalog(), f.NonMerch.V))
	if err != nil {
		return err
	}
	data, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	emit(partBytes{Chunk: chunk, Data: data})
	return nil
}

// noCustomerData is the error of the features job when no customer has
// an order or event by asOf, whatever step finds it; it wraps
// segment.ErrNoData.
func noCustomerData(asOf time.Time) error {
	return fmt.Errorf("pipeline: no customer has an order or event by asOf %s; the features job needs at least one: %w",
		asOf.Format(time.RFC3339), segment.ErrNoData)
}

// always returns a PCollection of one element under the key of
// beam.AddFixedKey. Co-grouped with a step's inputs it makes the step run
// exactly once, even when the inputs are empty: a GroupByKey of nothing
// emits nothing, and a singleton side input of nothing is an error.
func always(s beam.Scope) beam.PCollection {
	return beam.AddFixedKey(s, beam.Impulse(s))
}

// only returns the one value of a co-grouped singleton, or false when
// there is none.
func only[T any](next func(*T) bool) (T, bool) {
	var v T
	return v, next(&v)
}

// joinFn joins every chunk's Part into the segment index and writes it.
// The parts, the catalog and the customer dictionary are co-grouped with
// [always], so that it runs once even without any, and then fails.
type joinFn struct {
	AsOf     wire[time.Time] // in UTC, see [wiredAsOf]
	Segment  wire[segment.Options]
	NonMerch wire[[]string] // Features.NonMerchandiseKeys
	Output   wire[string]
}

// withNonMerch returns o with the products of keys in cat as its
// NonMerchandise.
func withNonMerch(o segment.Options, cat *affinity.Catalog, keys []string) segment.Options {
	if len(keys) == 0 {
		return o
	}
	o.NonMerchandise = productSet(keys, cat.LookupProduct)
	return o
}

// productSet returns the ids of the keys that id knows (the others are
// ignored): the products named by key in the jobs' options.
func productSet(keys []string, id func(string) (affinity.ProductID, bool)) *roaring.Bitmap {
	set := roaring.New()
	for _, k := range keys {
		if p, ok := id(k); ok {
			set.Add(uint32(p))
		}
	}
	return set
}

func (f *joinFn) ProcessElement(ctx context.Context, _ int, _ func(*[]byte) bool, parts func(*partBytes) bool, specs func(*catalogSpec) bool, dicts func(*Dict) bool) error {
	all := collect(parts)
	spec, okSpec := only(specs)
	dict, okDict := only(dicts)
	if len(all) == 0 || !okSpec || !okDict {
		return noCustomerData(f.AsOf.V)
	}
	slices.SortFunc(all, func(a, b partBytes) int { return cmp.Compare(a.Chunk, b.Chunk) })
	ps := make([]*segment.Part, len(all))
	for i, pb := range all {
		if pb.Chunk != i {
			return fmt.Errorf("pipeline: the part of chunk %d is missing", i)
		}
		ps[i] = new(segment.Part)
		if err := ps[i].UnmarshalBinary(pb.Data); err != nil {
			return fmt.Errorf("pipeline: chunk %d: %w", i, err)
		}
		all[i].Data = nil
	}
	cat, err := spec.history(ctx)
	if err != nil {
		return err
	}
	x, err := segment.Join(ctx, cat.Catalog(), f.AsOf.V, withNonMerch(f.Segment.V, cat.Catalog(), f.NonMerch.V), ps)
	if errors.Is(err, segment.ErrNoData) {
		return noCustomerData(f.AsOf.V) // Join: no part has a customer with data by asOf
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		return err
	}
	if err := writeFile(ctx, joinPath(f.Output.V, IndexFile), buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	if err := x.WriteCSV(&buf, x.All()); err != nil {
		return err
	}
	if err := writeFile(ctx, joinPath(f.Output.V, "features.csv"), buf.Bytes()); err != nil {
		return err
	}
	sets, err := Segments(x)
	if err != nil {
		return err
	}
	return WriteSegments(ctx, f.Output.V, dict, sets)
}

// scoreFn scores RFM over every customer and writes the features and the
// segments. The records and the customer dictionary are co-grouped with
// [always], so that it runs once even when no chunk had a customer with
// data by asOf, and then fails.
type scoreFn struct {
	AsOf    wire[time.Time] // in UTC, see [wiredAsOf]
	Segment wire[segment.Options]
	Output  wire[string]
}

func (f *scoreFn) ProcessElement(ctx context.Context, _ int, _ func(*[]byte) bool, recs func(*featureRec) bool, dicts func(*Dict) bool) error {
	all := collect(recs)
	dict, ok := only(dicts)
	if len(all) == 0 || !ok {
		return noCustomerData(f.AsOf.V)
	}
	slices.SortFunc(all, func(a, b featureRec) int { return cmp.Compare(a.ID, b.ID) })
	fs := make([]segment.Features, len(all))
	ids := make([]uint32, len(all))
	for i, r := range all {
		ids[i] = uint32(r.ID)
		fs[i] = segment.Features{Customer: r.Customer, Recency: int(r.Recency), Tenure: int(r.Tenure), Frequency: int(r.Freq),
			Monetary: affinity.Money(r.Monetary), AOV: affinity.Money(r.AOV), Stage: r.Stage, AbandonedCartDays: int(r.Abandoned)}
	}
	if err := segment.ScoreRFM(fs, f.AsOf.V, f.Segment.V); err != nil {
		return err
	}
	if err := writeFile(ctx, joinPath(f.Output.V, "features.csv"), FeaturesCSV(fs)); err != nil {
		return err
	}
	rules := f.Segment.V.RFMRules
	if rules == nil {
		rules = segment.DefaultRFMRules()
	}
	sets := []Segment{{Kind: "all", Name: "all", Set: roaring.BitmapOf(ids...)}}
	for _, r := range rules {
		sets = append(sets, Segment{Kind: "rfm", Name: r.Name, Set: roaring.New()})
	}
	for _, st := range segment.Stages() {
		sets = append(sets, Segment{Kind: "lifecycle", Name: st, Set: roaring.New()})
	}
	for i, ft := range fs {
		for j := range sets {
			if (sets[j].Kind == "rfm" && sets[j].Name == ft.RFM) || (sets[j].Kind == "lifecycle" && sets[j].Name == ft.Stage) {
				sets[j].Set.Add(ids[i])
			}
		}
	}
	return WriteSegments(ctx, f.Output.V, dict, sets)
}

// FeaturesCSV formats features the way segment.Index.WriteCSV does
// (segment.WriteFeaturesCSV): a header, then one row per customer in the
// order of fs, a key or name a spreadsheet would run as a formula with an
// apostrophe before it.
func FeaturesCSV(fs []segment.Features) []byte {
	var buf bytes.Buffer
	_ = segment.WriteFeaturesCSV(&buf, fs) // a bytes.Buffer does not fail
	return buf.Bytes()
}

// NewFeatures returns the customer-features pipeline. It reads the order
// lines of in, groups them by customer, assigns customer ids in
// first-seen order (the ids of the single-machine History of the same
// files, [LoadHistory]), computes each customer's features as of o.AsOf
// with segment.Build on chunks of 65,536 consecutive ids, scores RFM over
// all customers with segment.ScoreRFM, and writes to the directory
// o.Output:
//
//   - customers.csv: the customer dictionary, "id,customer" in id order;
//   - features.csv: the features, as segment.Index.WriteCSV writes them
//     for every customer the index knows;
//   - the segments (everyone known, the RFM segments, the lifecycle
//     stages) as roaring bitmaps over the dictionary, see [WriteSegments].
//
// The scoring step holds one record per customer (about 100 bytes) on
// one worker; everything before it is spread over the workers.
//
// With o.Index set, the job also writes [IndexFile], the saved segment
// index of the single-machine History with every attribute (per-category
// shares, lift, ranks, recency, bought, viewed and carted sets), byte for
// byte what segment.Build and Index.WriteTo give. The catalog — category
// nodes numbered as the single machine numbers them — is rebuilt from
// each file's catalog entries (see "Dense ids across workers" in the
// package documentation); the workers compute a segment.Part per chunk of
// 65,536 customers over it (segment.BuildPart), and one worker joins them
// (segment.Join) and writes the index, then features.csv and the segments
// from it. That worker holds the whole
// index (about 0.9 KB per customer) and the parts; o.Segment may then use
// any option of segment.Build, RFMNTile scores included.
//
// The job fails with an error wrapping segment.ErrNoData when no customer
// has an order or event by o.AsOf, with or without o.Index — also where
// the single machine gives an index of no customers because the orders by
// asOf are all anonymous. NewFeatures returns an error for several files of
// an order export format or of the "baskets" format (see "Limits" in the
// package documentation).
func NewFeatures(in Input, o Features) (*beam.Pipeline, error) {
	if err := affinity.CheckAsOf("pipeline", o.AsOf); err != nil {
		return nil, err
	}
	if o.Segment.NonMerchandise != nil {
		return nil, errors.New("pipeline: Segment.NonMerchandise names products by ids the pipeline assigns: give their keys in NonMerchandiseKeys")
	}
	if o.Index {
		// the options of a Build, checked on an empty History
		var b affinity.Builder
		empty, err := b.Build(context.Background())
		if err != nil {
			return nil, err
		}
		if _, err := segment.BuildPart(context.Background(), empty, o.AsOf, o.Segment); err != nil {
			return nil, err
		}
	} else if err := segment.ScoreRFM(nil, o.AsOf, o.Segment); err != nil {
		return nil, err
	}
	if o.Output == "" {
		return nil, errors.New("pipeline: no output directory")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	p, s := beam.NewPipelineWithRoot()
	parts, products, facts := readParts(s, in, 1, readFn{Catalog: o.Index, NoEvents: true})
	s = s.Scope("features")
	cust := beam.ParDo(s, customerParts, parts)
	dict := dictionary(s, beam.ParDo(s, partPos, cust))
	ids := beam.ParDo(s, &customerIDsFn{Output: wired(o.Output)}, dict)
	chunks := beam.GroupByKey(s, beam.ParDo(s, joinID, beam.CoGroupByKey(s, cust, ids)))
	if o.Index {
		spec := catalogPCollection(s, facts, dictionary(s.Scope("products"), products))
		pbs := beam.ParDo(s, &partFn{AsOf: wiredAsOf(o.AsOf), Segment: wired(o.Segment), NonMerch: wired(o.NonMerchandiseKeys)}, chunks, beam.SideInput{Input: spec})
		beam.ParDo0(s, &joinFn{AsOf: wiredAsOf(o.AsOf), Segment: wired(o.Segment), NonMerch: wired(o.NonMerchandiseKeys), Output: wired(o.Output)},
			beam.CoGroupByKey(s, always(s), beam.AddFixedKey(s, pbs), beam.AddFixedKey(s, spec), beam.AddFixedKey(s, dict)))
		return p, nil
	}
	recs := beam.ParDo(s, &chunkFn{AsOf: wiredAsOf(o.AsOf), Segment: wired(o.Segment)}, chunks)
	beam.ParDo0(s, &scoreFn{AsOf: wiredAsOf(o.AsOf), Segment: wired(o.Segment), Output: wired(o.Output)},
		beam.CoGroupByKey(s, always(s), beam.AddFixedKey(s, recs), beam.AddFixedKey(s, dict)))
	return p, nil
}
