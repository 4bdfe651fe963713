package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Input says which files to read and how. It is part of a pipeline's
// serialised DoFns, so it holds plain values only.
type Input struct {
	// Files are the input files, read in this order: the order of the
	// single-machine build being reproduced. A path may be local or on
	// any file system Beam registers (gs://, s3://) when the program
	// imports it. Expand a glob with [Glob]. The order export formats
	// ("shopify", "woocommerce") and "baskets" take one file only (see
	// "Limits" in the package documentation).
	Files []string
	// Format, Lenient, Columns, TimeLayouts, DecimalSep, Comma, NoProducts
	// and MovieLensAsPurchases are those of [dataset.Options].
	Format      string
	Lenient     bool
	Columns     dataset.Columns
	TimeLayouts []string
	DecimalSep  byte
	Comma       rune
	NoProducts  bool
	// MovieLensAsPurchases reads MovieLens ratings as purchases: the
	// pipelines read order lines only, and a file with events is an error.
	MovieLensAsPurchases bool
	// Location is the IANA name of the time zone of times without one
	// ("" is UTC).
	Location string
	// NameCategories derives a category from the product name where a
	// row has none (dataset.Options.Categories = dataset.CategoryFromName,
	// which dataset.Defaults sets for formats without a category column).
	NameCategories bool
}

// Glob returns the files matching pattern, sorted: the order in which a
// single machine that loads them one after the other sees them.
func Glob(ctx context.Context, pattern string) ([]string, error) {
	fs, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	files, err := fs.List(ctx, pattern)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("pipeline: no file matches %q", pattern)
	}
	slices.Sort(files)
	return files, nil
}

// orderFormats are the dataset formats whose rows replace whole orders:
// dataset.Load loads each of their orders as one affinity.Builder.PutOrder
// (a cancelled one as DeleteOrder), see dataset.Formats. In one Builder a
// later file's version of an order replaces the earlier one, a
// cancellation in a later file deletes it, and customers and products first
// met in a put get their ids at Build, in order-key order over all the
// files. The jobs read every file into a History of its own and cannot
// reproduce that across files, so they refuse several files of these
// formats (Input.check). The dataset package does not export the
// property; keep this list in step with its documentation.
var orderFormats = []string{"shopify", "woocommerce"}

// check reports input the jobs cannot read as the single machine does:
// no files, bad options, several files of a format in [orderFormats], or
// several "baskets" files: dataset.Load keys a load's baskets by the
// number of lines the Builder held before it (see dataset.Formats), so
// that baskets of two files are never one order, and the jobs, which read
// every file into a History of its own, do not know that number.
func (in Input) check() error {
	if len(in.Files) == 0 {
		return errors.New("pipeline: no input files")
	}
	if _, err := in.options(); err != nil {
		return err
	}
	if len(in.Files) > 1 && slices.Contains(orderFormats, in.Format) {
		return fmt.Errorf("pipeline: %d files in the %q format: its rows replace whole orders (a later file's version of an order replaces an earlier one, a cancellation deletes it), which the jobs do not reproduce across files; load one export file, or convert the exports to the \"csv\" format", len(in.Files), in.Format)
	}
	if len(in.Files) > 1 && in.Format == "baskets" {
		return fmt.Errorf("pipeline: %d files in the \"baskets\" format: a single machine keys each file's baskets by the lines loaded before it, which the jobs do not reproduce across files; concatenate the files into one", len(in.Files))
	}
	return nil
}

func (in Input) options() (dataset.Options, error) {
	o := dataset.Options{Format: in.Format, Lenient: in.Lenient, Columns: in.Columns, TimeLayouts: in.TimeLayouts,
		DecimalSep: in.DecimalSep, Comma: in.Comma, NoProducts: in.NoProducts, MovieLensAsPurchases: in.MovieLensAsPurchases}
	if in.NameCategories {
		o.Categories = dataset.CategoryFromName
	}
	if in.Location != "" {
		loc, err := time.LoadLocation(in.Location)
		if err != nil {
			return o, fmt.Errorf("pipeline: %w", err)
		}
		o.Location = loc
	}
	return o, nil
}

// LoadHistory is the single-machine build the pipelines reproduce: the
// files of in loaded one after the other into one Builder, then built.
func LoadHistory(ctx context.Context, in Input) (*affinity.History, error) {
	o, err := in.options()
	if err != nil {
		return nil, err
	}
	var b affinity.Builder
	for _, f := range in.Files {
		if _, err := loadFile(ctx, f, &b, o); err != nil {
			return nil, err
		}
	}
	return b.Build(ctx)
}

func loadFile(ctx context.Context, path string, b *affinity.Builder, o dataset.Options) (dataset.Report, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return dataset.Report{}, err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return dataset.Report{}, err
	}
	defer r.Close()
	rep, err := dataset.Load(ctx, r, b, o)
	if err != nil {
		return rep, fmt.Errorf("pipeline: %s: %w", path, err)
	}
	return rep, nil
}

// Metrics is the namespace of the Beam counters of the jobs' read step,
// summed over the files: "rows", the data rows read; "skipped: " and a
// reason of dataset.Skip ("skipped: invalid time"), the rows skipped for
// it (in lenient mode any reason; in strict mode those a format skips by
// definition, such as Online Retail's adjustments); and "duplicates",
// the rows that repeat an earlier row of their order
// (dataset.Report.Duplicates), which the jobs load, as dataset.Load does
// without dataset.Options.DropDuplicates (Input has no such option). A
// single machine's dataset.Load reports the same per file; each reader
// also logs its file's report when it skipped or found any. The first
// pass of the read (see "Products described by earlier files" in the
// package documentation) counts nothing.
const Metrics = "affinity"

// count adds the report of the file at path to the read step's
// counters (see [Metrics]) and logs it when a row was skipped or
// repeated.
func count(ctx context.Context, path string, rep dataset.Report) {
	beam.NewCounter(Metrics, "rows").Inc(ctx, int64(rep.Rows))
	for _, s := range rep.Skipped {
		beam.NewCounter(Metrics, "skipped: "+s.Reason).Inc(ctx, int64(s.Count))
	}
	if rep.Duplicates > 0 {
		beam.NewCounter(Metrics, "duplicates").Inc(ctx, int64(rep.Duplicates))
	}
	if len(rep.Skipped) == 0 && rep.Duplicates == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline: %s: %d rows read, %d loaded", path, rep.Rows, rep.Loaded)
	for _, s := range rep.Skipped {
		fmt.Fprintf(&b, "; skipped %d: %s (first at line %d)", s.Count, s.Reason, s.FirstLine)
	}
	if rep.Duplicates > 0 {
		fmt.Fprintf(&b, "; %d duplicates (first at line %d)", rep.Duplicates, rep.FirstDuplicate)
	}
	log.Info(ctx, b.String())
}

// Order is one order of a [Part]: its shop id, time (the earliest of its
// lines in the file) and lines.
type Order struct {
	Key      string
	Unix     int64
	Products []string
	Qty      []int32
	Price    []int64
}

// Part is what one input file holds of one customer — or of one anonymous
// order —, keyed by [partKey]. Pos is the customer's first-seen position,
// file index << 32 | rank of first appearance within the file, which
// orders the customers as a single machine reading the files in order
// interns them; of an anonymous order, file index << 32 | rank among the
// file's anonymous orders. Either way the Parts of one key sort by Pos in
// file order.
type Part struct {
	Customer string
	Pos      int64
	Orders   []Order
}

// fileSpec is one input file and its place in the input order.
type fileSpec struct {
	Index int
	Path  string
}

// fileGross is the gross value of the lines one input file's load kept:
// the sum of |quantity × price|, returns included, in Money units.
type fileGross struct {
	Index int
	Path  string
	Gross int64
}

func init() {
	beam.RegisterType(typeOf[fileSpec]())
	beam.RegisterType(typeOf[Part]())
	beam.RegisterType(typeOf[Order]())
	beam.RegisterType(typeOf[fileGross]())
	register.DoFn7x1[context.Context, fileSpec, func(*string, *int64) bool, func(string, Part), func(string, int64), func(string, prodCalls), func(fileGross), error](&readFn{})
	register.Iter2[string, int64]()
	register.DoFn3x1[context.Context, fileSpec, func(string, int64), error](&describeFn{})
	register.Emitter2[string, Part]()
	register.Emitter2[string, int64]()
	register.Emitter1[fileGross]()
	register.Function2x1(minPos)
	register.DoFn3x1[int, func(*fileGross) bool, func(int64), error](&grossFn{})
	register.Iter1[fileGross]()
	register.Emitter1[int64]()
	register.DoFn4x0[string, func(*Part) bool, int64, func(int, Part)](&mergeFn{})
	register.Iter1[Part]()
	register.Emitter2[int, Part]()
}

// describeFn is the first pass over the input files: it loads one file
// alone and emits every product whose catalog entry the load adds
// (dataset.Options.OnProduct) with the file's index. Per product the
// smallest index is kept: the file that describes it first — a single
// machine that loads the files one after the other into one Builder
// ignores later files' names and categories of a product described
// before (affinity.Builder.HasProduct), and [readFn] does the same with
// that side input (dataset.Options.Described), without checking them:
// a category the Builder would refuse, on a later file's row of such a
// product, is loaded as the single machine loads it.
//
// The load is lenient, whatever the input's mode, and does not know the
// products earlier files described. The rows it skips beyond those of a
// single machine's load are rows of such products (their categories
// checked and refused), which describe nothing new; in strict mode any
// other bad row fails the job in readFn. The one thing those extra
// skips can change is which later lines pass affinity.MaxMoney: readFn
// checks each file's entries against this pass (see [readFn]). The last
// file describes products for no later file and is not read.
type describeFn struct {
	In wire[Input]
}

func (f *describeFn) ProcessElement(ctx context.Context, spec fileSpec, described func(string, int64)) error {
	in := f.In.V
	if in.NoProducts || spec.Index == len(in.Files)-1 {
		return nil
	}
	o, err := in.options()
	if err != nil {
		return err
	}
	o.Lenient = true
	keys := map[string]bool{}
	o.OnProduct = func(p affinity.Product) { keys[p.Key] = true }
	var b affinity.Builder
	b.Workers = 1
	if _, err := loadFile(ctx, spec.Path, &b, o); err != nil {
		return err
	}
	for k := range keys {
		described(k, int64(spec.Index))
	}
	return nil
}

// describedBy returns the products described by the files before file,
// and those first described by file itself, from the output of
// [describeFn] combined per product to the smallest file index.
func describedBy(file int, firsts func(*string, *int64) bool) (before, own map[string]bool) {
	before, own = map[string]bool{}, map[string]bool{}
	var k string
	var i int64
	for firsts(&k, &i) {
		switch {
		case i < int64(file):
			before[k] = true
		case i == int64(file):
			own[k] = true
		}
	}
	return before, own
}

// readFn loads one file with the dataset package into a History of its
// own and emits its customers and anonymous orders as Parts, every
// product it names with its first-seen position, and the file's gross
// value (see [grossFn]). Its side input, the output of [describeFn],
// tells it the products the files before it describe: the load leaves
// their names and categories alone (dataset.Options.Described), as a
// single machine's load after those files does. It checks that the
// products its load describes are those describeFn saw the file describe
// first; they differ only when a line the single machine refuses for
// affinity.MaxMoney was loaded by describeFn, which skipped rows before
// it, and then the job fails rather than let the later files' readers
// ignore the wrong products.
type readFn struct {
	In wire[Input]
	// Catalog makes the read also emit the file's catalog entries.
	Catalog bool
	// NoEvents makes a file with events an error (the features pipeline:
	// its customers' events would count, the Parts do not carry them).
	NoEvents bool
}

func pos(file int, rank uint32) int64 { return int64(file)<<32 | int64(rank) }

func (f *readFn) ProcessElement(ctx context.Context, spec fileSpec, firsts func(*string, *int64) bool, parts func(string, Part), products func(string, int64), facts func(string, prodCalls), grosses func(fileGross)) error {
	o, err := f.In.V.options()
	if err != nil {
		return err
	}
	before, own := describedBy(spec.Index, firsts)
	o.Described = func(key string) bool { return before[key] }
	var b affinity.Builder
	b.Workers = 1
	var record func(affinity.Product)
	var calls map[string]*prodCalls
	if f.Catalog {
		calls = map[string]*prodCalls{}
		record = recordCalls(spec.Index, calls)
	}
	loaded := map[string]bool{}
	o.OnProduct = func(p affinity.Product) {
		loaded[p.Key] = true
		if record != nil {
			record(p)
		}
	}
	rep, err := loadFile(ctx, spec.Path, &b, o)
	if err != nil {
		return err
	}
	if spec.Index < len(f.In.V.Files)-1 && !maps.Equal(own, loaded) {
		return fmt.Errorf("pipeline: %s: a line of this file is refused for taking the gross value of the lines (the sum of |quantity × price|, returns included) beyond %v, and which products the file describes for the later files then depends on rows the jobs' first pass skips, which the jobs do not reproduce; look for lines of implausible value: %w",
			spec.Path, affinity.MaxMoney, affinity.ErrMoneyRange)
	}
	count(ctx, spec.Path, rep)
	h, err := b.Build(ctx)
	if err != nil {
		return err
	}
	if n := h.NumEvents(); n > 0 && f.NoEvents {
		return fmt.Errorf("pipeline: %s holds %d events (ratings, views or carts); the pipelines read order lines only (MovieLens ratings: set Input.MovieLensAsPurchases)", spec.Path, n)
	}
	var gross affinity.Money // fits: the Builder bounds it (affinity.Builder.Add)
	for i := range h.NumLines() {
		v := h.Line(i).Value()
		gross += max(v, -v)
	}
	grosses(fileGross{Index: spec.Index, Path: spec.Path, Gross: int64(gross)})
	cat := h.Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		products(cat.ProductKey(p), pos(spec.Index, uint32(p)))
	}
	for k, c := range calls {
		facts(k, *c)
	}
	order := func(o affinity.OrderID) Order {
		lo, hi := h.OrderLines(o)
		r := Order{Key: h.OrderKey(o), Unix: h.OrderUnix(o)}
		for i := lo; i < hi; i++ {
			ln := h.Line(i)
			r.Products = append(r.Products, cat.ProductKey(ln.Product))
			r.Qty = append(r.Qty, ln.Quantity)
			r.Price = append(r.Price, int64(ln.Price))
		}
		return r
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		p := Part{Customer: h.CustomerKey(c), Pos: pos(spec.Index, uint32(c))}
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			p.Orders = append(p.Orders, order(o))
		}
		parts(partKey(p.Customer, ""), p)
	}
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		r := order(o)
		parts(partKey("", orderIdentity(r)), Part{Pos: pos(spec.Index, uint32(o-lo)), Orders: []Order{r}})
	}
	return nil
}

// orderIdentity is what makes lines one order in an affinity.Builder
// (besides the customer): the order id, or the time when there is none.
func orderIdentity(o Order) string {
	if o.Key == "" {
		return fmt.Sprintf("\x00%d", o.Unix)
	}
	return o.Key
}

// partKey groups the Parts of one customer, or of one anonymous order.
func partKey(customer, anonOrder string) string {
	if customer != "" {
		return "c" + customer
	}
	return "a" + anonOrder
}

func minPos(a, b int64) int64 { return min(a, b) }

// grossFn checks the gross value of all the files' lines against
// affinity.MaxMoney and emits it. A single machine loads the files one
// after the other into one Builder, which refuses a line that would take
// the gross value of all lines beyond MaxMoney: in strict mode the load
// fails there, in lenient mode the line is skipped and the load goes on.
// Each reader's Builder holds one file and bounds that file's gross value
// only. When the gross values of the lines the readers kept sum to
// MaxMoney or less, both builds keep the same lines: the single
// machine's running sum at a line is the earlier files' sums plus the
// file's own running sum, at most that total, so it refuses no line a
// reader kept, and it refuses a line a reader refused for its file's sum
// alone as well. Otherwise the single machine refuses a line of the first
// file at which the running sum of the files passes MaxMoney, and the job
// fails naming that file: in strict mode as the single machine fails; in
// lenient mode because which lines the single machine skips from there on
// depends on the running sum line by line, which the job does not
// reproduce. mergeFn takes the sum as a side input, so that nothing after
// the read — no count, no feature, no file written — runs before the
// check has passed.
type grossFn struct {
	Lenient bool
}

func (f *grossFn) ProcessElement(_ int, files func(*fileGross) bool, emit func(int64)) error {
	all := collect(files)
	slices.SortFunc(all, func(a, b fileGross) int { return cmp.Compare(a.Index, b.Index) })
	var sum affinity.Money
	for _, g := range all {
		var ok bool
		if sum, ok = sum.Add(affinity.Money(g.Gross)); !ok {
			return grossError(g.Path, f.Lenient)
		}
	}
	emit(int64(sum))
	return nil
}

// grossError is the error of the jobs when the lines of the files up to
// path are worth more than affinity.MaxMoney in all.
func grossError(path string, lenient bool) error {
	const msg = "pipeline: %s: the lines of the input files up to this one are worth more than %v in all (the sum of |quantity × price|, returns included), the most one History holds: "
	if lenient {
		return fmt.Errorf(msg+"a single machine loading the files in order skips the lines that would take the sum beyond it from this file on, which depends on the running sum line by line and is not reproduced by the jobs; look for lines of implausible value: %w",
			path, affinity.MaxMoney, affinity.ErrMoneyRange)
	}
	return fmt.Errorf(msg+"a single machine loading the files in order refuses a line of this file: %w", path, affinity.MaxMoney, affinity.ErrMoneyRange)
}

// mergeFn joins the Parts of one key from every file, in file order, and
// sends the result to one of Shards shards, by a hash of the key. The
// grouping step delivers the Parts in no particular order; in file order
// the lines of an order that straddles files reach the Builder of
// chunkHistory in the order a single machine adds them, which decayed
// sums over them (segment.Options.HalfLife) depend on. Its side input,
// the output of [grossFn], holds it back until the gross value of the
// input has been checked.
type mergeFn struct {
	Shards int
}

func (f *mergeFn) ProcessElement(key string, parts func(*Part) bool, _ int64, emit func(int, Part)) {
	all := collect(parts)
	slices.SortFunc(all, func(a, b Part) int { return cmp.Compare(a.Pos, b.Pos) })
	m := Part{Customer: all[0].Customer, Pos: all[0].Pos}
	for _, p := range all {
		m.Orders = append(m.Orders, p.Orders...)
	}
	emit(shardOf(key, f.Shards), m)
}

// shardOf spreads keys over shards by an FNV-1a hash.
func shardOf(key string, shards int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(max(1, shards)))
}

// readParts reads the input files and returns the Parts merged by
// customer (or anonymous order), keyed by shard — released once the
// gross value of all the files has passed [grossFn] —, the products with
// their first-seen positions and, when rf.Catalog is set, each product's
// catalog entries from the first file that has any.
func readParts(s beam.Scope, in Input, shards int, rf readFn) (parts, products, facts beam.PCollection) {
	s = s.Scope("read")
	specs := make([]fileSpec, len(in.Files))
	for i, f := range in.Files {
		specs[i] = fileSpec{Index: i, Path: f}
	}
	files := beam.Reshuffle(s, beam.CreateList(s, specs))
	firsts := beam.CombinePerKey(s, minPos, beam.ParDo(s, &describeFn{In: wired(in)}, files))
	rf.In = wired(in)
	outs := beam.ParDoN(s, &rf, files, beam.SideInput{Input: firsts})
	raw, prods, fs, grosses := outs[0], outs[1], outs[2], outs[3]
	products = beam.CombinePerKey(s, minPos, prods)
	gross := beam.ParDo(s, &grossFn{Lenient: in.Lenient}, beam.GroupByKey(s, beam.AddFixedKey(s, grosses)))
	parts = beam.ParDo(s, &mergeFn{Shards: shards}, beam.GroupByKey(s, raw), beam.SideInput{Input: gross})
	facts = beam.CombinePerKey(s, firstFile, fs)
	return parts, products, facts
}
