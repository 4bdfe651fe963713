package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// CoPurchase configures [NewCoPurchase]. It is serialised into the
// pipeline, so it holds plain values only.
type CoPurchase struct {
	// AsOf is the as-of time of the counts; required. Any zone and year:
	// the workers get the instant in UTC, which gives the same counts.
	AsOf time.Time
	// Count and Index are the options of similarity.Count and
	// similarity.NewIndex. Count.Events and Index.Measure BM25 (which
	// needs the transactions themselves) are not supported; Workers
	// fields are ignored. Count.Exclude must be nil (product ids are the
	// pipeline's own): name the excluded products in ExcludeKeys.
	Count similarity.CountOptions
	Index similarity.IndexOptions
	// ExcludeKeys are the shop keys of products never counted as
	// co-purchase evidence — non-merchandise such as postage and fees —
	// as similarity.CountOptions.Exclude does with ids: the index is the
	// one similarity.Count builds with those products excluded. Keys the
	// input does not hold are ignored.
	ExcludeKeys []string
	// Shards is the number of partial counts the transactions are spread
	// over (by a hash of the customer or anonymous order); default 16.
	// The result does not depend on it.
	Shards int
	// BlockRows is the number of products per row block: the unit in
	// which partial pair counts are merged and ranked; default 1024.
	BlockRows int
	// Output is the path of the neighbour-index file (the format of
	// similarity.Index.WriteTo); the product dictionary goes to
	// Output + ".products.csv".
	Output string
}

func (o CoPurchase) withDefaults() (CoPurchase, error) {
	if err := affinity.CheckAsOf("pipeline", o.AsOf); err != nil {
		return o, err
	}
	if o.Count.Exclude != nil {
		return o, errors.New("pipeline: Count.Exclude names products by ids the pipeline assigns: give their keys in ExcludeKeys")
	}
	m, err := similarity.NewPartial(o.AsOf, o.Count)
	if err != nil {
		return o, err
	}
	if o.Index.Measure == similarity.BM25 || !o.Index.Measure.Valid() || o.Index.Measure >= similarity.BM25 {
		return o, fmt.Errorf("pipeline: measure %v is not computed from counts", o.Index.Measure)
	}
	// the other index options (a shrinkage that is NaN or infinite, which
	// encoding/json would not even write into the DoFns, K beyond
	// MaxIndexK), checked on the counts of nothing before any work
	c, err := m.Counts(0)
	if err != nil {
		return o, err
	}
	if _, err := similarity.NewIndex(context.Background(), c, o.Index); err != nil {
		return o, err
	}
	if o.Output == "" {
		return o, errors.New("pipeline: no output path")
	}
	o.Shards = cmp.Or(o.Shards, 16)
	o.BlockRows = cmp.Or(o.BlockRows, 1024)
	if o.Shards < 1 || o.BlockRows < 1 {
		return o, fmt.Errorf("pipeline: %d shards, %d rows per block", o.Shards, o.BlockRows)
	}
	return o, nil
}

// Dict is a dictionary of shop keys: the dense id of a key is its
// position. Product and customer dictionaries order the keys by
// first-seen position, as an affinity.Builder fed the input files in order
// interns them, so that ids — and everything ordered or sampled by id —
// agree with the single-machine build.
type Dict struct {
	Keys []string
}

// keyPos is a key and its first-seen position.
type keyPos struct {
	Key string
	Pos int64
}

func init() {
	beam.RegisterType(typeOf[Dict]())
	beam.RegisterType(typeOf[keyPos]())
	register.Function2x1(toKeyPos)
	register.DoFn3x0[int, func(*keyPos) bool, func(Dict)](&dictFn{})
	register.Iter1[keyPos]()
	register.Emitter1[Dict]()
	register.DoFn6x1[context.Context, int, func(*Part) bool, Dict, func(int, []byte), func([]byte), error](&countFn{})
	register.Emitter2[int, []byte]()
	register.Emitter1[[]byte]()
	register.Combiner1[[]byte](&mergePartials{})
	register.DoFn6x1[context.Context, int, func(*[]byte) bool, func(*[]byte) bool, func(*[]byte) bool, func(*Dict) bool, error](&writeIndexFn{})
	register.Iter1[[]byte]()
	register.DoFn6x1[context.Context, int, []byte, []byte, Dict, func([]byte), error](&rankFn{})
	register.Function2x1(dropBlock)
}

func toKeyPos(k string, p int64) keyPos { return keyPos{k, p} }

// dictFn sorts every key by first-seen position into a Dict.
type dictFn struct{}

func (dictFn) ProcessElement(_ int, kps func(*keyPos) bool, emit func(Dict)) {
	all := collect(kps)
	slices.SortFunc(all, func(a, b keyPos) int { return cmp.Or(cmp.Compare(a.Pos, b.Pos), cmp.Compare(a.Key, b.Key)) })
	d := Dict{Keys: make([]string, len(all))}
	for i, kp := range all {
		d.Keys[i] = kp.Key
	}
	emit(d)
}

// dictionary collects keys with first-seen positions into one Dict.
func dictionary(s beam.Scope, positions beam.PCollection) beam.PCollection {
	kps := beam.ParDo(s, toKeyPos, positions)
	return beam.ParDo(s, &dictFn{}, beam.GroupByKey(s, beam.AddFixedKey(s, kps)))
}

// countFn counts the transactions of one shard with a similarity.Partial
// and emits its pairs by row block, and its marginals.
type countFn struct {
	AsOf      wire[time.Time] // in UTC, see [wiredAsOf]
	Count     similarity.CountOptions
	Exclude   wire[[]string] // shop keys
	BlockRows int
}

func (f *countFn) ProcessElement(ctx context.Context, _ int, parts func(*Part) bool, dict Dict, emitBlock func(int, []byte), marginals func([]byte)) error {
	ids := make(map[string]affinity.ProductID, len(dict.Keys))
	for i, k := range dict.Keys {
		ids[k] = affinity.ProductID(i)
	}
	opts := f.Count
	if len(f.Exclude.V) > 0 {
		opts.Exclude = productSet(f.Exclude.V, func(k string) (affinity.ProductID, bool) { id, ok := ids[k]; return id, ok })
	}
	p, err := similarity.NewPartial(f.AsOf.V, opts)
	if err != nil {
		return err
	}
	var part Part
	for parts(&part) { // streamed: a shard's customers need not fit in memory
		tx := similarity.Transaction{Customer: part.Customer, Orders: make([]similarity.TxOrder, len(part.Orders))}
		for i, o := range part.Orders {
			t := similarity.TxOrder{Key: o.Key, Unix: o.Unix}
			for j, key := range o.Products {
				if o.Qty[j] > 0 {
					id, ok := ids[key]
					if !ok {
						return fmt.Errorf("pipeline: product %q is not in the dictionary", key)
					}
					t.Products = append(t.Products, id)
				}
			}
			tx.Orders[i] = t
		}
		if err := p.Add(tx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		part = Part{}
	}
	m, err := p.Marginals().MarshalBinary()
	if err != nil {
		return err
	}
	marginals(m)
	blocks, err := p.Blocks(f.BlockRows)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		enc, err := b.Pairs.MarshalBinary()
		if err != nil {
			return err
		}
		emitBlock(b.Index, enc)
	}
	return nil
}

// mergePartials merges encoded similarity.Partials.
type mergePartials struct{}

func (mergePartials) MergeAccumulators(a, b []byte) ([]byte, error) {
	if len(a) == 0 {
		return b, nil
	}
	if len(b) == 0 {
		return a, nil
	}
	var p, q similarity.Partial
	if err := p.UnmarshalBinary(a); err != nil {
		return nil, err
	}
	if err := q.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	if err := p.Merge(&q); err != nil {
		return nil, err
	}
	return p.MarshalBinary()
}

func dropBlock(_ int, b []byte) []byte { return b }

// rankFn ranks the rows of one block: the block's pairs with every
// marginal make counts whose index holds exactly the block's rows.
type rankFn struct {
	Index similarity.IndexOptions
}

func (f *rankFn) ProcessElement(ctx context.Context, _ int, block []byte, marginals []byte, dict Dict, emit func([]byte)) error {
	var m, b similarity.Partial
	if err := m.UnmarshalBinary(marginals); err != nil {
		return err
	}
	if err := b.UnmarshalBinary(block); err != nil {
		return err
	}
	if err := m.Merge(&b); err != nil {
		return err
	}
	return emitIndex(ctx, &m, len(dict.Keys), f.Index, emit)
}

func emitIndex(ctx context.Context, p *similarity.Partial, np int, o similarity.IndexOptions, emit func([]byte)) error {
	c, err := p.Counts(np)
	if err != nil {
		return err
	}
	o.Workers = 1
	x, err := similarity.NewIndex(ctx, c, o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		return err
	}
	emit(buf.Bytes())
	return nil
}

// writeIndexFn joins the ranked blocks into the index and writes it with
// the product dictionary. The marginals, blocks and dictionary are
// co-grouped with [always]: without any product (a file of a header only,
// every row skipped) there are none, and the index of an empty Partial
// is written, as the single machine writes one of an empty History.
type writeIndexFn struct {
	Index  similarity.IndexOptions
	Output wire[string]
	AsOf   wire[time.Time] // in UTC, see [wiredAsOf]
	Count  similarity.CountOptions
}

func (f *writeIndexFn) ProcessElement(ctx context.Context, _ int, _ func(*[]byte) bool, margs func(*[]byte) bool, parts func(*[]byte) bool, dicts func(*Dict) bool) error {
	dict, _ := only(dicts)
	var xs []*similarity.Index
	for _, b := range collect(parts) {
		x, err := similarity.ReadIndex(bytes.NewReader(b))
		if err != nil {
			return err
		}
		xs = append(xs, x)
	}
	var x *similarity.Index
	if len(xs) == 0 { // no pairs at all: the index of the marginals (none: of nothing read)
		var b []byte
		m := new(similarity.Partial)
		if marginals, ok := only(margs); ok {
			if err := m.UnmarshalBinary(marginals); err != nil {
				return err
			}
		} else {
			var err error
			if m, err = similarity.NewPartial(f.AsOf.V, f.Count); err != nil {
				return err
			}
		}
		err := emitIndex(ctx, m, len(dict.Keys), f.Index, func(enc []byte) { b = enc })
		if err != nil {
			return err
		}
		if x, err = similarity.ReadIndex(bytes.NewReader(b)); err != nil {
			return err
		}
	} else {
		var err error
		if x, err = similarity.JoinIndex(xs...); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		return err
	}
	if err := writeFile(ctx, f.Output.V, buf.Bytes()); err != nil {
		return err
	}
	return writeFile(ctx, f.Output.V+".products.csv", dictCSV("product", dict))
}

// dictCSV formats a dictionary as CSV: a header "id,<what>", then one row
// per key in id order. The keys are written as they are, without the
// formula guard of the exports for people (FeaturesCSV): the file is for
// machines (a database's COPY), which must read the shop's keys exactly.
func dictCSV(what string, d Dict) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"id", what})
	for i, k := range d.Keys {
		_ = w.Write([]string{strconv.Itoa(i), k})
	}
	w.Flush()
	return buf.Bytes()
}

// NewCoPurchase returns the co-purchase pipeline: it reads the order
// lines of in, groups them by customer (and anonymous order), counts
// co-occurrences on o.Shards partial counts, merges them by row block
// (CombinePerKey), ranks each block's rows by o.Index.Measure and writes
// the neighbour index — the bytes similarity.NewIndex and Index.WriteTo
// give on the single-machine History of the same files (see
// [LoadHistory]) — to o.Output, and the product dictionary beside it.
// It returns an error for several files of an order export format or of
// the "baskets" format (see "Limits" in the package documentation).
func NewCoPurchase(in Input, o CoPurchase) (*beam.Pipeline, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	p, s := beam.NewPipelineWithRoot()
	parts, products, _ := readParts(s, in, o.Shards, readFn{})
	dict := dictionary(s.Scope("products"), products)
	s = s.Scope("copurchase")
	byShard := beam.GroupByKey(s, parts)
	blocks, marg := beam.ParDo2(s, &countFn{AsOf: wiredAsOf(o.AsOf), Count: o.Count, Exclude: wired(o.ExcludeKeys), BlockRows: o.BlockRows}, byShard, beam.SideInput{Input: dict})
	merged := beam.CombinePerKey(s, &mergePartials{}, blocks)
	margAll := beam.Combine(s, &mergePartials{}, marg)
	ranked := beam.ParDo(s, &rankFn{Index: o.Index}, merged, beam.SideInput{Input: margAll}, beam.SideInput{Input: dict})
	// co-grouped with [always]: the index is written, empty, also when
	// nothing was read (a Combine of nothing emits nothing)
	beam.ParDo0(s, &writeIndexFn{Index: o.Index, Output: wired(o.Output), AsOf: wiredAsOf(o.AsOf), Count: o.Count},
		beam.CoGroupByKey(s, always(s), beam.AddFixedKey(s, margAll), beam.AddFixedKey(s, ranked), beam.AddFixedKey(s, dict)))
	return p, nil
}
