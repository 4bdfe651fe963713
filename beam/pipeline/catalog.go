package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/shopaffinity/affinity"
)

// prodCalls is what one input file does to one product's catalog entry:
// the entries a load of the file alone gives the product
// (dataset.Options.OnProduct), with their places Seq among all the file's
// entries and their category paths Paths[PathOff[i]:PathOff[i+1]]. A
// single machine that loads the files one after the other keeps the
// entries of the first file that has any for the product and ignores the
// later files' ones, so the facts are combined per product to the
// earliest File.
type prodCalls struct {
	Key     string
	File    int64
	Seq     []int64
	PathOff []int64
	Paths   []string
}

// recordCalls returns an OnProduct function that records a file's
// catalog entries into calls, by product, numbered in the order made.
func recordCalls(file int, calls map[string]*prodCalls) func(affinity.Product) {
	seq := int64(0)
	return func(p affinity.Product) {
		c := calls[p.Key]
		if c == nil {
			c = &prodCalls{Key: p.Key, File: int64(file), PathOff: []int64{0}}
			calls[p.Key] = c
		}
		c.Seq = append(c.Seq, seq)
		c.Paths = append(c.Paths, p.Categories...)
		c.PathOff = append(c.PathOff, int64(len(c.Paths)))
		seq++
	}
}

// firstFile keeps the calls of the earlier file.
func firstFile(a, b prodCalls) prodCalls {
	if b.File < a.File {
		return b
	}
	return a
}

// catalogSpec is the shop's catalog as the single-machine History numbers
// it: category nodes in id order, products in id order, product p's
// category paths Paths[PathOff[p]:PathOff[p+1]].
type catalogSpec struct {
	Nodes    []string
	Products []string
	PathOff  []int64
	Paths    []string
}

func init() {
	beam.RegisterType(typeOf[prodCalls]())
	beam.RegisterType(typeOf[catalogSpec]())
	register.Emitter2[string, prodCalls]()
	register.Function2x1(firstFile)
	register.Function2x1(callsOnly)
	register.DoFn4x1[context.Context, Dict, func(*prodCalls) bool, func(catalogSpec), error](&catalogFn{})
	register.Iter1[prodCalls]()
	register.Emitter1[catalogSpec]()
}

func callsOnly(_ string, c prodCalls) prodCalls { return c }

// catalogFn replays the kept catalog entries in the order a single
// machine makes them — file by file, each file's in its own order — over
// the products in the order of the product dictionary, and emits the
// resulting catalog: the category nodes get the ids the single machine
// gives them, and each product its last entry's categories.
type catalogFn struct{}

type call struct {
	file, seq int64
	key       string
	paths     []string
}

func (catalogFn) ProcessElement(ctx context.Context, products Dict, facts func(*prodCalls) bool, emit func(catalogSpec)) error {
	var calls []call
	for _, pc := range collect(facts) {
		for i, seq := range pc.Seq {
			calls = append(calls, call{file: pc.File, seq: seq, key: pc.Key, paths: pc.Paths[pc.PathOff[i]:pc.PathOff[i+1]]})
		}
	}
	slices.SortFunc(calls, func(a, b call) int { return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.seq, b.seq)) })
	var b affinity.Builder
	b.Workers = 1
	for _, k := range products.Keys {
		if err := b.AddProduct(affinity.Product{Key: k}); err != nil {
			return err
		}
	}
	for _, c := range calls {
		if err := b.AddProduct(affinity.Product{Key: c.key, Categories: c.paths}); err != nil {
			return err
		}
	}
	h, err := b.Build(ctx)
	if err != nil {
		return err
	}
	cat := h.Catalog()
	if cat.NumProducts() != len(products.Keys) {
		return fmt.Errorf("pipeline: %d products have catalog entries but are in no order line", cat.NumProducts()-len(products.Keys))
	}
	spec := catalogSpec{Products: products.Keys, PathOff: make([]int64, 1, len(products.Keys)+1)}
	for c := range affinity.CategoryID(cat.NumCategories()) {
		spec.Nodes = append(spec.Nodes, cat.CategoryPath(c))
	}
	for p := range affinity.ProductID(cat.NumProducts()) {
		spec.Paths = append(spec.Paths, cat.Product(p).Categories...)
		spec.PathOff = append(spec.PathOff, int64(len(spec.Paths)))
	}
	emit(spec)
	return nil
}

// catalogPCollection returns the catalogSpec (a singleton) of the read's
// catalog entries and the product dictionary.
func catalogPCollection(s beam.Scope, facts, productDict beam.PCollection) beam.PCollection {
	s = s.Scope("catalog")
	fs := beam.ParDo(s, callsOnly, facts)
	// the dictionary drives it, so that a shop without any catalog entry
	// still gets its (category-less) catalog
	return beam.ParDo(s, &catalogFn{}, productDict, beam.SideInput{Input: fs})
}

// history returns a History that holds the catalog of spec and nothing
// else, with the single machine's product and category ids: the nodes are
// added in id order before the products.
func (spec catalogSpec) history(ctx context.Context) (*affinity.History, error) {
	var b affinity.Builder
	b.Workers = 1
	for _, path := range spec.Nodes {
		if _, err := b.AddCategory(path); err != nil {
			return nil, err
		}
	}
	for p, key := range spec.Products {
		paths := spec.Paths[spec.PathOff[p]:spec.PathOff[p+1]]
		if err := b.AddProduct(affinity.Product{Key: key, Categories: paths, InStock: true}); err != nil {
			return nil, err
		}
	}
	return b.Build(ctx)
}
