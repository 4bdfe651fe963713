package shop

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

// Defaults of [Options]. They are the settings measured best across the
// data sets the project evaluates on (see the README's evaluation
// section): co-purchases within orders ranked by cosine, which beat the
// popular baseline 3.0× on explore recall@10 on Online Retail; 50
// neighbours per product; a 24-month segment look-back.
const (
	DefaultScope     = "basket"
	DefaultMeasure   = "cosine"
	DefaultNeighbors = 50
)

// Mode is the choice of [Options.NextBasket].
type Mode int

const (
	// Auto decides from the data: next-basket mode when the share of
	// repeat items in customers' next orders (recommend.RepeatShare, the
	// non-merchandise aside) is at
	// least DefaultRepeatShare.
	Auto Mode = iota
	// Off serves explore items only: what the customer has not bought,
	// beside consumables due again (Recommend.Consumables) and what
	// Rules.AllowRepeats lets back.
	Off
	// On ranks the customer's own repeat items together with explore items
	// (recommend.NextBasket with RepeatWeight DefaultRepeatWeight).
	On
)

// Refit is the choice of [Options.ModelRefit].
type Refit int

const (
	// RefitBackground serves a refreshed snapshot with the model of the
	// snapshot before it and fits the model on the new history in the
	// background; once the fit is done, a snapshot of the same history
	// with the new model replaces the served one. In between the new
	// orders count at once — as the customers' anchors, their repeat
	// items, what they already bought, popularity — and only the
	// learned item-item weights lag (see [Snapshot.ModelCurrent] and
	// [Shop.WaitModel]). It is the zero value.
	RefitBackground Refit = iota
	// RefitInline fits a learned model again for every snapshot before
	// it is served: a refreshed shop answers at once as one built anew on
	// the same data, and a refresh takes the fit's time.
	RefitInline
)

// DefaultRepeatShare is the share of repeat items in next orders from which
// [Auto] turns next-basket mode on: groceries and wholesale are above it,
// gift shops (the demo 0.35, Online Retail 0.42) below it.
const DefaultRepeatShare = 0.5

// DefaultRepeatWeight is the repeat weight of next-basket mode, the mix
// measured best on the evaluation data sets (examples/evaluate).
const DefaultRepeatWeight = 0.9

// DefaultLookback is the default segment look-back: 24 calendar months.
var DefaultLookback = affinity.Months(24)

// Options configures [Open]. The zero value means the documented defaults;
// every field can be overridden, and the underlying packages' own options
// are reachable through Recommend and Segment.
type Options struct {
	// AsOf fixes the as-of time of every snapshot. Zero means each
	// snapshot is as of its own data: [affinity.History.Latest], the time
	// of the last order or event it holds — never the wall clock, so the
	// same data gives the same answers. The segment index is then as of
	// the end of that day (UTC), so that recency and the other day counts
	// are calendar days and a refresh updates the index with the changed
	// customers alone (segment.Update; on a new day also those whose
	// orders left the look-back) instead of building it anew. Only the
	// instant counts: a time in another zone is kept, served and encoded
	// in UTC ([Snapshot.AsOf], Result.AsOf).
	AsOf time.Time

	// Scope is what "bought together" means for the co-purchase
	// neighbours: "basket" (same order, default), "customer" (same
	// customer) or "sequential" (bought within 30 days after; its reasons
	// are of kind Together all the same, counting the customers who
	// bought the result within 30 days after the anchor). A history
	// with events but no orders (rating data) is always counted by
	// customer, with the events.
	Scope string
	// Measure ranks the neighbours: one of similarity's co-occurrence
	// measure names (similarity.ParseMeasure; not the learned "ease" and
	// "svd", which Model chooses); default "cosine".
	Measure string
	// Neighbors is the number of neighbours kept per product, at most
	// 10,000; default 50.
	Neighbors int
	// Shrinkage discounts the neighbours of little evidence: each score
	// is multiplied by AB/(AB+λ), AB the number of orders (customers, in
	// customer scope) with both products (similarity.IndexOptions.
	// Shrinkage); zero, the default, means none. Measured with
	// examples/evaluate (2026-12-04), λ = 2 against none: explore NDCG@10
	// of the engine on the demo store 0.3037 → 0.3122, on Groceries
	// 0.2119 → 0.2122 with its catalogue coverage 0.43 → 0.36;
	// knn-cosine on Online Retail's new items 0.0352 → 0.0386 (all items
	// 0.2093 → 0.2078; the engine there chooses EASE, which shrinkage
	// does not touch) and on the MovieLens shape 0.2500 → 0.2494. Not the
	// default: the one real store where the shop ranks by the neighbours
	// gains 0.1 % and recommends a sixth fewer of its products.
	Shrinkage float64
	// Model is what the recommendation engine scores with: "auto" (the
	// zero value) chooses on the shop's own history with recommend.Choose
	// when the shop opens: the co-purchase neighbours against EASE within
	// customers, each at half-lives of 30 days, 90 days and 10 years
	// unless HalfLife sets one, validated on the last four weeks, EASE
	// only where it ranks significantly better (the table is
	// [Snapshot.Tuning]; step "tune" of Progress); then every snapshot
	// uses that model and half-life. A shop opened anew on later data
	// chooses anew, and may choose otherwise: to compare a refreshed shop
	// with one rebuilt from the same data, give both the same Model and
	// HalfLife (and wait for a learned model's fit, see ModelRefit).
	// Rating data (rating events, no
	// orders) gets EASE within customers without validation, a catalogue
	// above recommend.AutoMaxProducts products the neighbours, and a shop
	// younger than the validation window recommend.ModelFor's model until
	// a refresh finds enough history to choose. The choice costs a few
	// builds of the engine at open: 0.16 s on the demo shop (opened in
	// 0.21 s against 0.05 s), about 7 s on Online Retail (4,000 products,
	// 400,000 lines), which chooses EASE.
	// "neighbours" always takes the co-purchase neighbours (Scope,
	// Measure); "ease" the EASE model (similarity.FitEASE within Scope,
	// which must be "basket" or "customer": with "sequential" Open
	// returns an error, as EASE fits symmetric counts; dense up to
	// recommend.DefaultEASEMaxDense products and sparse beyond). A learned model is fitted again at every snapshot, without
	// the non-merchandise (4.3–4.7 s on Online Retail, on one core),
	// after the snapshot is served unless ModelRefit says before; the
	// neighbours still give the reasons' counts. Ignored when Tune chose
	// a model.
	Model string
	// ModelRefit is when a refresh fits a learned model again:
	// [RefitBackground] (the zero value) after the new snapshot is served,
	// on a goroutine of its own that reports step "model" to Progress and
	// serves a snapshot of the same history with the new fit when it is
	// done, or [RefitInline] before it is served. A fit costs what the
	// whole history and catalogue cost, whatever the change, so the
	// default keeps the time until a refresh is seen in proportion to the
	// change: BenchmarkRefreshModel (100,000 customers, 10,000 products,
	// sparse EASE; refreshes of 10,000 lines one after another) measured
	// it at a median of 610 ms inline, 589 ms of it the fit, against
	// 171 ms in the background. Set RefitInline where a refreshed shop
	// must answer at once as one built anew on the same data (a report,
	// a test), or wait for the fit with [Shop.WaitModel]. It changes
	// nothing for a shop on co-purchase neighbours, recounted at every
	// refresh, nor for a snapshot whose model differs from the last one's
	// (the first choice of "auto"), nor for a refresh that erases a
	// customer (the last fit's weights carry what they bought): that one
	// is fitted before it is served. A background fit holds its History
	// until it is done, which may be a refresh or two later, and runs on
	// RefreshWorkers goroutines beside the next refresh.
	ModelRefit Refit
	// ValueModel is the purchase model of [Snapshot.Value] and of the
	// profiles' P(alive) and predicted purchases: "bgnbd" (the zero
	// value, clv.FitBGNBD) or "mbgnbd" (clv.FitMBGNBD). In BG/NBD a
	// customer without a repeat purchase is alive with probability 1,
	// however long ago the first purchase was; in MBG/NBD that
	// probability falls with the time since it, so a one-time buyer can
	// be drifting away and a win-back list can hold them. BG/NBD stays
	// the default because it predicted the CDNOW sample's holdout
	// purchases more closely (1,653 of 1,882 against MBG/NBD's 1,577),
	// and MBG/NBD's exact fit found no maximum on one of two Online
	// Retail calibration periods tried.
	ValueModel string
	// HalfLife is the half-life of a customer's past purchases in their
	// recommendations. Zero leaves it to Recommend.HalfLife and, when
	// that is zero too, means the half-life the Model "auto" chooses (30
	// days, 90 days or 10 years), or, with any other Model and for rating
	// data (rating events and no orders, which "auto" does not validate),
	// recommend's default: 30 days for purchase data, no decay for rating
	// data (see recommend.Options.HalfLife). Tune's choice replaces it.
	HalfLife time.Duration
	// Lookback is the segment look-back (frequency, monetary value,
	// category shares); the zero value means [DefaultLookback].
	Lookback affinity.Lookback
	// NextBasket chooses how a customer's own past products are served:
	// [Auto] (the default) turns next-basket mode on when the shop's data
	// shows that customers mostly buy again what they bought before (see
	// [DefaultRepeatShare]); [On] and [Off] force it. Ignored when
	// Recommend.NextBasket.RepeatWeight is set (the other NextBasket
	// fields then tune the mode this field chose).
	NextBasket Mode

	// NonMerchandise lists product keys that are not merchandise —
	// postage, fees, gift vouchers, manual adjustments — beside those
	// IsNonMerchandise recognises. They are never counted as co-purchase
	// evidence, never given as a reason and never recommended.
	NonMerchandise []string
	// IsNonMerchandise recognises non-merchandise products by their catalog
	// entry; nil means [DefaultNonMerchandise]. Use
	// func(affinity.Product) bool { return false } to recognise none.
	IsNonMerchandise func(affinity.Product) bool

	// Recommend are the engine's options; zero fields mean recommend's
	// defaults. HalfLife above, when set, overrides Recommend.HalfLife.
	// Recommend.Exclude adds to the non-merchandise (the engine gets
	// both, and so do Tune's and the "auto" model's candidates): its
	// products are never recommended nor reasons and are no evidence in
	// the engine (see recommend.Options.Exclude), but, unlike
	// non-merchandise, still count as co-purchase evidence in the served
	// neighbour index and in segments. Tune's and "auto"'s candidates
	// leave them out of the indexes they validate, so those choices are
	// made on indexes without them. It is read while a snapshot is built.
	Recommend recommend.Options
	// Tune, when set, chooses the engine on the shop's own history when
	// it opens: recommend.Tune with this grid, as of the first snapshot's
	// as-of, on Workers goroutines, reporting to Progress (step "tune"),
	// with Recommend as every candidate's base (Grid.Base is ignored).
	// Every snapshot then uses the best candidate: its model for the
	// engine (an EASE model fitted again at every refresh, without the
	// non-merchandise) and its half-life, popularity blend, next-basket
	// mix and trend, in place of HalfLife, NextBasket and Recommend's. A best model
	// that is a co-occurrence measure also replaces Scope and Measure for
	// the co-purchase neighbours; otherwise the neighbours and the reasons'
	// counts keep them. A history with nothing to validate on
	// (recommend.ErrNoValidation) keeps the defaults. [Snapshot.Tuning]
	// returns what was tried. Tuning builds the engine a dozen times: a
	// few seconds on a shop of 100,000 lines, under two minutes on Online
	// Retail's 500,000. A candidate with its own recommend.Model.Fit is
	// fitted at every snapshot it serves, in the background too (see
	// ModelRefit), and stopped through the fit's context only: a Fit that
	// does not return once its context is done holds up [Shop.Close] (and
	// a Refresh that fits inline) until it returns.
	Tune *recommend.Grid

	// Segment are the segment index's options; Lookback above, when set,
	// overrides Segment.Lookback. Workers is not read: Open builds the
	// index on Workers below goroutines, a refresh that builds it in full
	// on RefreshWorkers, and a refresh's update of the previous index, as
	// the background build of the full index that later updates are laid
	// over (see [Shop.Refresh]), on one. NonMerchandise is taken from the
	// shop's non-merchandise (see NonMerchandise below): spend in no
	// category share, as in every answer of the shop.
	Segment segment.Options

	// Workers is the number of goroutines each build step of [Open] uses;
	// ≤ 0 means GOMAXPROCS. Results never depend on it.
	Workers int
	// RefreshWorkers is the number of goroutines each build step of
	// [Shop.Refresh] uses. ≤ 0 means one fewer than Workers (at least
	// one): a refresh runs beside the requests it must not slow down, and
	// a build that takes every core makes them wait for one. Measured with
	// BenchmarkRecommendDuringRefresh on 2 cores and 100 k customers (on
	// the co-purchase neighbours, before the default model choice picked
	// EASE for that shop), a request took 9 µs on average and 120–128 µs
	// at p99.9 while one worker refreshed, 12 µs and 142–210 µs while two
	// did (68 µs at p99.9 idle). A file source, unless its dataset.Options.Workers says
	// otherwise, parses CSV on RefreshWorkers − 1 goroutines beside the
	// loading one, and, when that is one or more, reads and gunzips the
	// file on one goroutine more (one more than RefreshWorkers, mostly
	// waiting for the disk or the parsers). The value models a snapshot fits on first use (see
	// [Snapshot.Value]) use as many. An update of the segment index runs
	// on one goroutine more, beside the other steps (a fraction of the
	// refresh: 0.3–0.4 s of a 1 M-customer one; p99.9 155 and 125 µs
	// against 56 and 49 µs idle, p99 1.3–1.4× idle, in the benchmark
	// above). Results never depend on it.
	RefreshWorkers int
	// Progress, when set, receives a report at the start and end of each
	// build step — "load" (in bytes read for a [File] or [FileWith]
	// source given on its own, in rows otherwise: a step's reports keep
	// one unit), "history", "segment", "count", "neighbours", "model"
	// (the fit of a learned model, see Model and Tune), "engine", and
	// "tune" (candidates) when Tune or Model "auto" validates candidates
	// — from the goroutine that builds, but for the "load" reports in
	// bytes, which come from whichever goroutine reads the file (that
	// of the CSV loader beside the parsing ones, see
	// dataset.Options.Workers, after its first 512 KiB).
	// A refresh's "segment" step runs beside the others (an update of
	// the index) or after its "engine" step (a full build), from the
	// goroutine that builds the index in the background (see
	// [Shop.Refresh]) — but in a shop that serves profiles (the current
	// snapshot's value models fitted, by [Snapshot.Profile] or
	// [Snapshot.Value]) the index is built before the swap, and the step
	// runs before "count" on the refresh's own goroutine, as at Open —, and
	// with ModelRefit RefitBackground a refresh's
	// "model" step from the goroutine of the background fit, so Progress
	// may be called from several goroutines at once. A step that fails,
	// or that a newer refresh, Close or a context stops, reports no end;
	// one begun again — a segment build stopped by a newer refresh that a
	// request then asks for, a background fit that failed and is tried
	// again on the newer history — reports its start once, and its end
	// once it is done. A report holds up the step it
	// reports: the callback should return promptly, and must not wait
	// for the shop's own work — call Refresh, Close or WaitModel, or ask
	// for a segment index still being built (Segment, Segments,
	// SegmentIndex, Profile before the "segment" step's end). The end of
	// a background "segment" step is reported once the index is served,
	// and that of a background "model" step once the snapshot with the
	// new fit is, so a callback may ask for them from there. A panic of
	// the callback on the caller's goroutine reaches the caller, and so
	// does one in a "load" report from the loader's reading goroutine
	// (raised again on the caller's once the load has stopped); on a
	// goroutine of the shop it ends the process never: it is the error
	// of the background work it reported (the segment queries' for the
	// start of a background "segment" step, WaitModel's for a background
	// "model" step), and dropped at the end of a background "segment"
	// step, as the index is served by then.
	Progress affinity.ProgressFunc
	// OnLoad, when set, receives what each load read — that of [Open] and
	// of every [Shop.Refresh] — once it has read its source, before the
	// build: rows read and loaded, and the rows skipped by reason (a
	// lenient [dataset.SQLSource] or file). It is called whether or not
	// the load then changes anything, so that the rows a refresh skipped
	// are seen even when it keeps the snapshot (every row skipped, or
	// nothing new: [Snapshot.Report] is only that of the load that made
	// the snapshot); it is not called when the load fails (the error
	// says why). It is called on the goroutine of Open or Refresh, one
	// load at a time, and should return promptly: it holds up the
	// refresh, and must not call Refresh, Close or WaitModel (a
	// background model fit serves its snapshot only once the refresh
	// under way is done).
	OnLoad func(dataset.Report)
}

// settings are Options resolved and validated.
type settings struct {
	o       Options
	scope   similarity.Scope
	measure similarity.Measure
	k       int
	model   string // "auto", "neighbours" or "ease"
	mbg     bool   // Options.ValueModel is "mbgnbd"
	isNon   func(affinity.Product) bool
	nonKeys map[string]bool
	// refreshWorkers is Options.RefreshWorkers resolved
	refreshWorkers int
	// tuned is set once Options.Tune has run (at the first snapshot), and
	// tuning holds its result (nil with nothing to validate on); chosen
	// is the choice of Model "auto" once it validated candidates (see
	// choose), whose table tuning then holds
	tuned  bool
	tuning *recommend.Tuning
	chosen *recommend.Candidate
	// shrinkage is the neighbours' (Options.Shrinkage resolved)
	shrinkage float64
	// life is the shop's: done once the shop is closed (Shop.Close);
	// work is the segment work Close waits for
	life context.Context
	work *segWork
}

func (o Options) resolve() (*settings, error) {
	s := &settings{o: o, k: o.Neighbors, isNon: o.IsNonMerchandise}
	var err error
	if s.scope, err = similarity.ParseScope(cmpOr(o.Scope, DefaultScope)); err != nil {
		return nil, wrap(err, "Options.Scope")
	}
	if s.measure, err = similarity.ParseMeasure(cmpOr(o.Measure, DefaultMeasure)); err != nil {
		return nil, wrap(err, "Options.Measure")
	}
	if o.Shrinkage < 0 || math.IsNaN(o.Shrinkage) || math.IsInf(o.Shrinkage, 0) {
		return nil, fmt.Errorf("shop: Options.Shrinkage %v is not a finite λ ≥ 0", o.Shrinkage)
	}
	s.shrinkage = o.Shrinkage
	switch s.model = cmpOr(o.Model, "auto"); s.model {
	case "auto", "neighbours", "ease":
	default:
		return nil, fmt.Errorf("shop: Options.Model %q: want auto, neighbours or ease", o.Model)
	}
	if s.model == "ease" && s.scope == similarity.Sequential {
		// EASE fits the symmetric Gram matrix of counts within orders or
		// customers; directed counts have none
		return nil, fmt.Errorf("shop: Options.Model %q needs Options.Scope basket or customer, not %q", s.model, o.Scope)
	}
	if o.ModelRefit != RefitInline && o.ModelRefit != RefitBackground {
		return nil, fmt.Errorf("shop: Options.ModelRefit %d: want RefitInline or RefitBackground", o.ModelRefit)
	}
	switch o.ValueModel {
	case "", "bgnbd":
	case "mbgnbd":
		s.mbg = true
	default:
		return nil, fmt.Errorf("shop: Options.ValueModel %q: want bgnbd or mbgnbd", o.ValueModel)
	}
	if s.measure == similarity.EASE || s.measure == similarity.SVD {
		return nil, fmt.Errorf("shop: Options.Measure %q is a learned model, not a co-occurrence measure", o.Measure)
	}
	switch {
	case s.k == 0:
		s.k = DefaultNeighbors
	case s.k < 0 || s.k > 10_000:
		return nil, fmt.Errorf("shop: Options.Neighbors %d outside [1, 10000]", s.k)
	}
	if o.HalfLife < 0 {
		return nil, fmt.Errorf("shop: negative Options.HalfLife %v", o.HalfLife)
	}
	if o.NextBasket < Auto || o.NextBasket > On {
		return nil, fmt.Errorf("shop: unknown Options.NextBasket %d", int(o.NextBasket))
	}
	if err := o.Lookback.Validate(); err != nil {
		return nil, wrap(err, "Options.Lookback")
	}
	if s.isNon == nil {
		s.isNon = DefaultNonMerchandise
	}
	s.refreshWorkers = parallel.Workers(o.RefreshWorkers)
	if o.RefreshWorkers <= 0 {
		s.refreshWorkers = max(1, parallel.Workers(o.Workers)-1)
	}
	s.nonKeys = make(map[string]bool, len(o.NonMerchandise))
	for _, k := range o.NonMerchandise {
		s.nonKeys[k] = true
	}
	return s, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nonMerchPhrases are whole product names that mean a fee or an
// adjustment; nonMerchEnds end one.
var (
	nonMerchPhrases = []string{
		"postage", "carriage", "next day carriage", "shipping", "delivery", "delivery charge", "freight",
		"manual", "samples", "discount", "bank charges", "amazon fee", "service charge",
		"adjust bad debt",
	}
	nonMerchEnds = []string{" fee", " fees", " surcharge"}
	// nonMerchLast end a short name of a fee or an adjustment: "CRUK
	// Commission", "AMAZON ADJUSTMENT", "dotcom adjust"
	nonMerchLast = []string{"commission", "commissions", "adjust", "adjustment", "adjustments"}
	// postageWords may stand beside "postage" in the name of a postage
	// charge: where it goes, how, and the packing
	postageWords = []string{
		"dotcom", "uk", "eu", "europe", "european", "international", "intl", "world", "worldwide",
		"domestic", "overseas", "abroad", "local", "national", "standard", "express", "first", "second",
		"class", "tracked", "signed", "for", "and", "packing", "packaging", "p", "charge", "charges",
		"cost", "costs", "extra", "additional", "royal", "mail", "airmail", "courier",
	}
)

// DefaultNonMerchandise recognises the usual non-merchandise rows of shop
// exports by product name, read as its words of letters and digits,
// ignoring case, punctuation and spacing ("Next-Day Carriage" is "next
// day carriage", "Bank Charges." is "bank charges"): names that are
// exactly a charge ("POSTAGE", "CARRIAGE", "Next Day Carriage",
// "Manual", "Bank Charges", "AMAZON FEE", "SAMPLES", "Discount",
// "Adjustment", "Adjust bad debt"); postage with nothing but where it
// goes, packing or an amount ("DOTCOM POSTAGE", "Postage UK", "Postage
// and packing", "Postage £3.50"); a short name of at most three words
// that ends in the word commission or adjustment, or the verb adjust
// ("CRUK Commission", "AMAZON ADJUSTMENT", "taig adjust"); a gift
// voucher or card followed by nothing but amounts ("Dotcomgiftshop Gift
// Voucher £10.00", "Gift card 25 EUR"); and names that are or end in the
// word "fee", "fees" or "surcharge" ("Fee", "Card-fee", not "Coffee").
// Products named for a thing are merchandise: "FRENCH CARRIAGE LANTERN",
// "Postage Scale", "Digital Postage Meter", "Vintage Postage Stamp
// Album", "Quick Adjust Tripod", "Adjusted Fit Jeans", "Adjustable
// Dumbbell Set", "Commission Art Kit", "Commissioner Gordon Figure",
// "Gift Card Holder". It errs on that side, as a real product it hid
// would never show; name the others in Options.NonMerchandise or match
// them with Options.IsNonMerchandise.
func DefaultNonMerchandise(p affinity.Product) bool {
	// the name's letter and digit words, lower-cased: "Next-Day Carriage",
	// "Card-fee" and "Bank Charges." read as the phrases they are
	words := strings.FieldsFunc(strings.ToLower(p.Name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return false
	}
	name := strings.Join(words, " ")
	if slices.Contains(nonMerchPhrases, name) {
		return true
	}
	for _, s := range nonMerchEnds {
		if strings.HasSuffix(name, s) || name == s[1:] { // "… fee", or "fee" alone
			return true
		}
	}
	// a fee, commission or adjustment named in a few words ends in it;
	// one of those words before a thing's name is that thing's
	if len(words) <= 3 && slices.Contains(nonMerchLast, words[len(words)-1]) {
		return true
	}
	for i, w := range words {
		next := func(k int) string {
			if i+k < len(words) {
				return words[i+k]
			}
			return ""
		}
		switch w {
		case "postage":
			// postage with nothing but where it goes, packing or an
			// amount: "Postage Scale" and "Postage Stamps" are things
			if !slices.ContainsFunc(words, func(w string) bool {
				return w != "postage" && !slices.Contains(postageWords, w) && !amounts([]string{w})
			}) {
				return true
			}
		case "giftcard", "giftcards":
			if amounts(words[i+1:]) {
				return true
			}
		case "voucher", "vouchers":
			if i > 0 && words[i-1] == "gift" && amounts(words[i+1:]) {
				return true
			}
		case "gift":
			if n := next(1); (n == "card" || n == "cards" || n == "certificate") && amounts(words[i+2:]) {
				return true
			}
		}
	}
	return false
}

// amounts reports whether every word is (part of) an amount: a number or
// a currency code.
func amounts(words []string) bool {
	for _, w := range words {
		switch {
		case strings.ContainsAny(w, "0123456789"):
		case w == "eur", w == "usd", w == "gbp", w == "chf", w == "sek", w == "nok", w == "dkk":
		default:
			return false
		}
	}
	return true
}
