// Package pipeline runs affinity's two heavy builds as Apache Beam
// pipelines — co-occurrence counts with the neighbour index from them
// ([NewCoPurchase]), and per-customer features with the segments from them
// ([NewFeatures]) — on the local prism runner or on Flink, Spark or
// Dataflow, and produces exactly what the single-machine build produces
// from the same files ([LoadHistory]): the same index file, byte for byte,
// and the same features, dictionaries and segment bitmaps. The exceptions
// are under "Limits": several files of an order export format or of
// baskets are refused, the features job fails where no customer has data
// by asOf, and a lenient job fails where the lines of the files are worth
// more than affinity.MaxMoney in all, or in a rare case where one file's
// are.
//
// The as-of time reaches the workers in UTC: every build of the library
// reads it as an instant, so any zone and any year give the single
// machine's answer.
//
// The per-shard work is the library's code: similarity.Partial counts a
// shard's transactions with the rules of similarity.Count and merges by
// key; similarity.NewIndex ranks each block of rows and
// similarity.JoinIndex joins them; segment.Build computes the features of
// a chunk of customers and segment.ScoreRFM scores everyone, or
// segment.BuildPart computes a chunk's part of the segment index and
// segment.Join puts the parts together. The pipelines only move data.
//
// # Dense ids across workers
//
// A single machine interns customer and product ids in the order it first
// sees them while reading the files one after the other. The pipelines
// reproduce that order without a shared counter: every reader loads one
// file into a History of its own, whose ids are first-seen order within
// the file, and tags each customer and product with the position
// file index << 32 | id within the file. The smallest position of a key
// over all files is its first sighting in the concatenated input, so
// sorting the keys by it gives the single machine's ids. The dictionaries
// are built in one step (one string per product or customer) and
// published beside the outputs as "id,key" CSV files.
//
// Category ids follow the order in which a single machine creates the
// nodes: when a product gets a catalog entry (its first named row in a
// file, and its most frequent name at the end of the file) unless an
// earlier file already described it. Each reader records its file's
// entries in order (dataset.Options.OnProduct); per product only the
// entries of the earliest file that has any are kept; one step replays
// them file by file, over the products in id order, into the catalog
// every chunk is built over.
//
// # Products described by earlier files
//
// A single machine loads a later file's row of a product an earlier file
// described (affinity.Builder.HasProduct) without a look at the row's
// name and categories: a category the Builder would refuse there (a path
// deeper than affinity.MaxCategoryDepth, more paths than
// dataset.Limits.MaxCategories) neither fails a strict load nor makes a
// lenient one skip the row. A first pass of the read loads every file
// but the last alone, leniently, and emits the products its load
// describes; per product the earliest file is kept, and each reader gets
// the products of the files before its own as a side input and loads its
// file with them (dataset.Options.Described), adding no entry for them
// and checking none of their rows' categories. The rows the lenient first
// pass skips beyond a single machine's are rows of such products, which
// describe nothing new, except where lines worth more than
// affinity.MaxMoney in all are refused (see "Limits"): each reader checks
// that its load describes exactly the products the first pass saw its
// file describe first.
//
// Everything downstream of the ids is then the same arithmetic on the
// same integers: the MaxBasket sample hashes shop keys and ranks products
// by id, supports and co-counts are integer sums whatever the partition,
// rows are ranked with the same top-K and tie-breaks, and customers are
// processed in chunks of 2^16 consecutive ids, one roaring container each.
//
// # Counters
//
// What a single machine's dataset.Load reports per file, the read step
// counts as Beam counters over all files (see [Metrics]): the rows read,
// the rows skipped by reason — bad rows with Input.Lenient, and rows a
// format skips by definition — and the duplicate rows. Each reader also
// logs its file's counts when it skipped a row or found a duplicate.
//
// # Limits
//
// A file is read by one worker and must fit in its memory as a History:
// split big inputs into many files. The dictionaries, the join of the
// ranked blocks (K neighbours per product) and the RFM scoring (one small
// record per customer) each run on one worker. The pipelines read order
// lines only. The co-purchase counts leave events out, as
// similarity.Count does by default; to the features pipeline a file with
// events (MovieLens ratings, views, carts) is an error rather than
// silently different features. BM25, which needs the transactions
// themselves, is not supported by the co-purchase pipeline. The features pipeline exports the customer-level
// features (recency, tenure, frequency, monetary, AOV, RFM, lifecycle)
// and segments; with [Features.Index] it also writes the whole segment
// index, which one worker joins and must hold.
//
// Order exports — the "shopify" and "woocommerce" formats, whose rows
// replace whole orders — are read from one file only. dataset.Load loads
// each of their orders as one affinity.Builder.PutOrder (a cancelled one as
// DeleteOrder): a single machine that loads several exports into one
// Builder lets a later file's version of an order replace the earlier one,
// a cancellation in a later file delete it, and gives customers and
// products first met in a put their ids in order-key order over all the
// files. The jobs read every file into a History of their own and do not
// reproduce that, so [NewCoPurchase] and [NewFeatures] refuse more than
// one file of these formats, before any work, with an error that says so:
// load one export file (it gives byte for byte the single machine's
// output), or convert the exports to the "csv" format, whose rows add lines.
//
// Baskets — the "baskets" format, one anonymous order per line — are read
// from one file only as well. dataset.Load keys each basket by the number
// of lines the Builder held before the load and the basket's line, so
// that baskets of two files are never one order; the jobs, which read
// every file into a History of its own, do not know that number, and
// refuse more than one file, before any work: concatenate the files into
// one.
//
// The features job needs at least one customer with an order or event by
// the as-of time. Without one it fails, with and without [Features.Index],
// with an error wrapping segment.ErrNoData ("no customer has an order or
// event by asOf"). The single machine fails the same way when there is no
// order or event by asOf at all, but when the orders by asOf are all
// anonymous (guest checkouts, baskets) it gives an index of no customers:
// there the job differs, as it never sees anonymous orders.
//
// A History holds lines worth at most affinity.MaxMoney in all (the sum
// of |quantity × price|, returns included; affinity.Builder.Add). A
// single machine that loads the files into one Builder refuses the line
// that would take the sum beyond it: strict, the load fails there;
// lenient, the line is skipped and the later lines that still fit are
// loaded. The jobs add up the files' sums before any step after the read
// runs and, when the total passes MaxMoney, fail with an error naming the
// first file at which it does (wrapping affinity.ErrMoneyRange): strict,
// as the single machine fails; lenient, because which lines the single
// machine skips depends on the running sum line by line, which the jobs
// do not reproduce. Below the limit both give the same answer, but for
// one more case in which a lenient job fails, naming the file: a line
// of a file that the single machine refuses for MaxMoney, because a row
// before it of a product an earlier file described was loaded (see
// "Products described by earlier files"), fits in the first pass, which
// skipped that row for its category, and the line's product would count
// as described by the file for the readers of the later files.
package pipeline
