package shop

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// A Source adds a shop's records — purchases, events, catalog entries — to
// a Builder. [Open] loads one into an empty Builder; [Shop.Refresh] loads
// one into a Builder started from the current History, so a refresh
// source holds what changed. Sources returned by this package are safe to
// load more than once.
type Source interface {
	// Load adds the records to b and reports what it read. On error b may
	// hold part of them; the caller discards it.
	Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error)
}

// A Committer is a Source whose Load is final only once what it loaded
// is in use: a feed with a cursor, such as [SQLFeed], which must read the
// same changes again when the refresh it loaded for fails after its
// Load (building the History or the snapshot, or cancelled). [Open] and
// [Shop.Refresh] call Commit once the snapshot built from the Load is
// published (or the Load changed nothing), [LoadHistory] once the
// History is built, and none of them after a failure; [Sources] commits
// the committers among its sources. A caller that loads a Committer into
// a Builder of its own calls Commit itself after building from it.
type Committer interface {
	Source
	// Commit makes the last Load final.
	Commit()
}

// commit commits src when it is a Committer.
func commit(src Source) {
	if c, ok := src.(Committer); ok {
		c.Commit()
	}
}

// SourceFunc adapts a function to [Source].
type SourceFunc func(ctx context.Context, b *affinity.Builder) (dataset.Report, error)

// Load calls f; a nil f is an error wrapping [affinity.ErrNilArgument].
func (f SourceFunc) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	if f == nil {
		return dataset.Report{}, affinity.NilArgument("shop", "SourceFunc")
	}
	return f(ctx, b)
}

// every4096 returns ctx's error, wrapped, on every 4,096th call of a
// loop (n counting from 0): how the sources see a cancellation.
func every4096(ctx context.Context, n int) error {
	if n%4096 != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return wrap(err, "")
	}
	return nil
}

// File is the file at path in format (one of [dataset.Formats]), read
// with the format's defaults ([dataset.Defaults]: lenient, every skipped
// row counted in the report, categories derived from product names where
// the format has none). Loaded by [Open] or [Shop.Refresh] on its own, it
// reports its "load" step to [Options.Progress] in bytes read, Total the
// file's size (compressed bytes for a gzip file).
func File(path, format string) Source {
	return fileSource{path: path, format: format}
}

// FileWith is the file at path read with explicit loader options. It
// reports its progress as [File] does.
func FileWith(path string, opts dataset.Options) Source {
	return fileSource{path: path, opts: opts, with: true}
}

// fileSource is File and FileWith: a source the shop knows to report its
// own "load" step, in bytes.
type fileSource struct {
	path, format string
	opts         dataset.Options
	with         bool // opts given, format unused
}

// Load reads the file into b.
func (f fileSource) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	opts := f.opts
	if !f.with {
		var err error
		if opts, err = dataset.Defaults(f.format); err != nil {
			return dataset.Report{Format: f.format}, err
		}
	}
	if opts.Workers == 0 {
		opts.Workers = parseWorkers(ctx)
	}
	file, err := os.Open(f.path)
	if err != nil {
		return dataset.Report{Format: opts.Format}, err
	}
	defer file.Close()
	p := progressOf(ctx)
	if p == nil {
		rep, err := dataset.Load(ctx, file, b, opts)
		return rep, dataset.FileError(f.path, err)
	}
	var size int64
	if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	r := &progressReader{r: file, p: p, total: size, next: progressBytes}
	p.Report(affinity.Progress{Step: "load", Total: size, Unit: "bytes"})
	rep, err := dataset.Load(ctx, r, b, opts)
	if err == nil {
		// the end: the whole file, whatever the last 4 MiB mark was
		end := max(r.done, size)
		p.Report(affinity.Progress{Step: "load", Done: end, Total: end, Unit: "bytes"})
	}
	return rep, dataset.FileError(f.path, err)
}

// nothingLoaded returns the error of Open for a file source of which no
// row loaded, nil when some did.
func (f fileSource) nothingLoaded(rep dataset.Report) error {
	if rep.Loaded > 0 {
		return nil
	}
	format := cmp.Or(rep.Format, f.format, f.opts.Format, "csv")
	if rep.Rows == 0 {
		return fmt.Errorf("%w: %s has no rows after its header (read as %s)", ErrNothingLoaded, f.path, format)
	}
	var why []string
	for _, sk := range rep.Skipped {
		why = append(why, fmt.Sprintf("%d %q from line %d", sk.Count, sk.Reason, sk.FirstLine))
	}
	return fmt.Errorf("%w: none of the %d rows of %s loaded as %s (skipped: %s): is the format right?",
		ErrNothingLoaded, rep.Rows, f.path, format, strings.Join(why, ", "))
}

// progressBytes is how many bytes a file source reads between two
// reports of its "load" step (a variable for the tests).
var progressBytes int64 = 4 << 20

// progressReader reports the bytes read every progressBytes; the file
// source reports the step's start and end.
type progressReader struct {
	r           io.Reader
	p           affinity.ProgressFunc
	done, total int64
	next        int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.done += int64(n)
	if r.done >= r.next && (r.total == 0 || r.done < r.total) {
		r.next = r.done + progressBytes
		r.p.Report(affinity.Progress{Step: "load", Done: r.done, Total: r.total, Unit: "bytes"})
	}
	return n, err
}

// Purchases is a sequence of purchase lines, such as rows a storefront
// reads from its own database. A line the Builder rejects stops the load
// with an error naming its position in the sequence; a nil seq is an
// error wrapping [affinity.ErrNilArgument].
func Purchases(seq iter.Seq[affinity.Purchase]) Source {
	return SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		rep := dataset.Report{Format: "purchases"}
		if seq == nil {
			return rep, affinity.NilArgument("shop", "Purchases sequence")
		}
		for p := range seq {
			if err := every4096(ctx, rep.Rows); err != nil {
				return rep, err
			}
			rep.Rows++
			if err := b.Add(p); err != nil {
				return rep, wrap(err, fmt.Sprintf("purchase %d", rep.Rows))
			}
			rep.Loaded++
			rep.Purchases++
			if p.Customer == "" {
				rep.Anonymous++
			}
			if p.Quantity < 0 {
				rep.Returns++
			}
		}
		return rep, nil
	})
}

// Storefront is a generated storefront ([dataset.Generate]): its catalog,
// purchases and events. A nil s is an error wrapping
// [affinity.ErrNilArgument].
func Storefront(s *dataset.Storefront) Source {
	return SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		rep := dataset.Report{Format: "synthetic"}
		if s == nil {
			return rep, affinity.NilArgument("shop", "Storefront")
		}
		for i, p := range s.Products {
			if err := every4096(ctx, i); err != nil {
				return rep, err
			}
			if err := b.AddProduct(p); err != nil {
				return rep, wrap(err, fmt.Sprintf("product %q", p.Key))
			}
			rep.Products++
		}
		prep, err := Purchases(func(yield func(affinity.Purchase) bool) {
			for _, p := range s.Purchases {
				if !yield(p) {
					return
				}
			}
		}).Load(ctx, b)
		rep.Rows, rep.Loaded, rep.Purchases, rep.Anonymous, rep.Returns = prep.Rows, prep.Loaded, prep.Purchases, prep.Anonymous, prep.Returns
		if err != nil {
			return rep, err
		}
		for i, e := range s.Events {
			if err := every4096(ctx, i); err != nil {
				return rep, err
			}
			rep.Rows++
			if err := b.AddEvent(e); err != nil {
				return rep, wrap(err, fmt.Sprintf("event %d", rep.Events+1))
			}
			rep.Loaded++
			rep.Events++
		}
		return rep, nil
	})
}

// Demo is the embedded demo storefront ([dataset.Demo]): 5,000 customers,
// 1,000 products and two years of orders, deterministic.
func Demo() Source { return Storefront(dataset.Demo()) }

// FileOrDemo is [File] for a non-empty path and [Demo] otherwise: what a
// command with -data FILE -format NAME flags opens.
func FileOrDemo(path, format string) Source {
	if path == "" {
		return Demo()
	}
	return File(path, format)
}

// LoadHistory loads src into a new History without building any index:
// for programs that need only the purchase lines. The Report says what
// was read; a file source of which no row loads is an error wrapping
// [ErrNothingLoaded], as in [Open].
func LoadHistory(ctx context.Context, src Source) (*affinity.History, dataset.Report, error) {
	if ctx == nil {
		return nil, dataset.Report{}, ErrNilContext
	}
	if src == nil {
		return nil, dataset.Report{}, errNilSource
	}
	var b affinity.Builder
	rep, err := src.Load(ctx, &b)
	if err != nil {
		return nil, rep, wrap(err, "load")
	}
	if f, ok := src.(fileSource); ok {
		if err := f.nothingLoaded(rep); err != nil {
			return nil, rep, err
		}
	}
	h, err := b.Build(ctx)
	if err != nil {
		return nil, rep, wrap(err, "build history")
	}
	commit(src)
	return h, rep, nil
}

// Sources loads several sources in turn into one Builder, such as a
// catalog file followed by the orders of a database; the reports are
// added up. Their line numbers stay those of the source they came from:
// each source's skipped rows are entries of their own, and the first
// duplicate is that of the first source with one. Ignored keeps the rule
// of one load's: each column text once, in the order first met, at most
// 32. It is a [Committer] that commits those of srcs that are.
func Sources(srcs ...Source) Source {
	return sources(slices.Clone(srcs))
}

type sources []Source

// Commit commits the sources that are Committers.
func (srcs sources) Commit() {
	for _, src := range srcs {
		commit(src)
	}
}

// Load loads the sources in turn.
func (srcs sources) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	var rep dataset.Report
	for i, src := range srcs {
		if src == nil {
			return rep, wrap(errNilSource, fmt.Sprintf("source %d", i+1))
		}
		r, err := src.Load(ctx, b)
		rep.Rows += r.Rows
		rep.Loaded += r.Loaded
		rep.Purchases += r.Purchases
		rep.Anonymous += r.Anonymous
		rep.Returns += r.Returns
		rep.Events += r.Events
		rep.Products += r.Products
		rep.Duplicates += r.Duplicates
		if rep.FirstDuplicate == 0 {
			rep.FirstDuplicate = r.FirstDuplicate
		}
		rep.Ignored = addIgnored(rep.Ignored, r.Ignored)
		rep.Skipped = append(rep.Skipped, r.Skipped...)
		if rep.Format == "" {
			rep.Format = r.Format
		} else if r.Format != "" && r.Format != rep.Format {
			rep.Format += "+" + r.Format
		}
		if err != nil {
			return rep, wrap(err, fmt.Sprintf("source %d", i+1))
		}
	}
	return rep, nil
}

// addIgnored appends to ignored the texts of more it does not hold yet,
// in more's order, while it holds fewer than dataset.MaxIgnored (one
// load's bound, for [Sources] too), and returns it.
func addIgnored(ignored, more []string) []string {
	for _, text := range more {
		if len(ignored) >= dataset.MaxIgnored {
			break
		}
		if !slices.Contains(ignored, text) {
			ignored = append(ignored, text)
		}
	}
	return ignored
}

// Catalog is a source of products without orders: a catalog for a shop
// whose orders come from elsewhere (another source of [Sources]), such as
// the products of a generated storefront. Products are added as given: a
// Product whose InStock is false, its zero value, is out of stock and not
// recommended until [Shop.SetInStock] or [Shop.SetStock] says otherwise.
func Catalog(products []affinity.Product) Source {
	return SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		rep := dataset.Report{Format: "catalog"}
		for i, p := range products {
			if err := every4096(ctx, i); err != nil {
				return rep, err
			}
			if err := b.AddProduct(p); err != nil {
				return rep, wrap(err, fmt.Sprintf("product %q", p.Key))
			}
			rep.Products++
		}
		return rep, nil
	})
}
