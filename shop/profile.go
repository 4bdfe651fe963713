package shop

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
)

// Profile is what the snapshot knows about one customer, for a customer
// page or a support screen.
type Profile struct {
	// Customer is the shop key; Known reports whether the snapshot knows it
	// (the other fields are zero otherwise).
	Customer string `json:"customer"`
	Known    bool   `json:"known"`
	// Orders, Spend and AOV are the customer's orders, net spend and
	// average order value in the segment look-back.
	Orders int            `json:"orders"`
	Spend  affinity.Money `json:"spend"` // exact decimal text, as Money marshals
	AOV    affinity.Money `json:"aov"`
	// FirstPurchase and LastPurchase bound the customer's purchases at or
	// before the snapshot time (zero without any).
	FirstPurchase time.Time `json:"first_purchase,omitzero"`
	LastPurchase  time.Time `json:"last_purchase,omitzero"`
	// R, F and M are the RFM scores (1–5, 0 when not scored), RFM the RFM
	// segment and Stage the lifecycle stage ("" when none).
	R     int    `json:"r"`
	F     int    `json:"f"`
	M     int    `json:"m"`
	RFM   string `json:"rfm,omitempty"`
	Stage string `json:"stage,omitempty"`
	// Top are the customer's top-level categories by share of spend in the
	// look-back, largest first (at most three, none with share 0): the
	// share of all the spend, as segment's affinity("…") has it (each
	// order weighed by Segment.HalfLife when set), so that
	// non-merchandise such as postage counts in the spend and in no
	// category. Its JSON is a list whoever the customer: [] when there
	// is none.
	Top []CategoryShare `json:"top_categories"`
	// Value holds the model-based predictions, nil when the models could
	// not be fitted on this shop's data (see [Snapshot.Value]).
	Value *Value `json:"value,omitempty"`
}

// MarshalJSON encodes p with the field tags above, top_categories as []
// rather than null when Top is empty, so that a client need not test for
// both.
func (p Profile) MarshalJSON() ([]byte, error) {
	type plain Profile // without this method
	q := plain(p)
	if q.Top == nil {
		q.Top = []CategoryShare{}
	}
	return json.Marshal(q)
}

// CategoryShare is a category with the customer's share of spend in it.
type CategoryShare struct {
	Category string  `json:"category"`
	Share    float64 `json:"share"`
}

// Value is one customer's predicted value: BG/NBD (or MBG/NBD, see
// [Options.ValueModel]) and Gamma-Gamma (package clv) fitted on the whole
// shop as of the snapshot time.
type Value struct {
	// PAlive is the probability that the customer is still active.
	PAlive float64 `json:"p_alive"`
	// ExpectedPurchases is the expected number of purchases in the next
	// twelve months.
	ExpectedPurchases float64 `json:"expected_purchases_12m"`
	// CLV is the expected revenue of the next twelve months, undiscounted,
	// in currency units; 0 for every customer when the shop has no
	// Gamma-Gamma model (Values.GammaGamma nil). A customer without a
	// repeat purchase is valued at the model's mean spend; one whose
	// repeat orders net to nothing or less (returns outweighing
	// purchases) as one with a mean of 0: never below 0.
	CLV float64 `json:"clv_12m"`
}

// Profile returns what the snapshot knows about the customer with shop key
// key. An unknown key gives a Profile with Known false, not an error, and
// so does a customer whose first order or event comes after the
// snapshot's as-of time (a snapshot opened with [Options.AsOf] in the
// past holds later data). The
// first call on a snapshot fits the value models (see [Snapshot.Value]);
// ctx bounds that fit, and a fit it stops returns ctx's error, wrapped,
// as Value does.
func (s *Snapshot) Profile(ctx context.Context, key string) (Profile, error) {
	p := Profile{Customer: key}
	if ctx == nil {
		return p, ErrNilContext
	}
	c, ok := s.h.LookupCustomer(key)
	if !ok || !s.activeBy(c) {
		return p, nil
	}
	p.Known = true
	x, err := s.segs.get(ctx)
	if err != nil {
		return p, err
	}
	if x != nil {
		if f, ok := x.Features(c); ok {
			p.Orders, p.Spend, p.AOV, p.R, p.F, p.M, p.RFM, p.Stage = f.Frequency, f.Monetary, f.AOV, f.R, f.F, f.M, f.RFM, f.Stage
		}
	}
	if t, ok := s.h.FirstPurchase(c); ok && !t.After(s.asOf) {
		p.FirstPurchase = t
	}
	if t, ok := s.h.LastPurchaseBy(c, s.asOf); ok {
		p.LastPurchase = t
	}
	p.Top = s.topCategories(c, 3)
	v, err := s.Value(ctx)
	if err != nil && !errors.Is(err, ErrNoValueModel) {
		return p, err
	}
	if v != nil {
		p.Value = v.of(c)
	}
	return p, nil
}

// activeBy reports whether customer c has an order or an event at or
// before the snapshot's as-of time: a customer the snapshot knows, where
// one whose first activity comes later is as unknown as a new key (the
// segment index leaves it out too).
func (s *Snapshot) activeBy(c affinity.CustomerID) bool {
	at := s.asOf.Unix()
	if lo, hi := s.h.CustomerOrders(c); lo < hi && s.h.OrderUnix(lo) <= at {
		return true
	}
	lo, hi := s.h.CustomerEvents(c)
	return lo < hi && s.h.Event(lo).Unix <= at
}

// topCategories returns c's top-level categories by share of spend in the
// segment look-back (bought lines only): of all the spend, as segment's
// affinity, each order weighed by the index's HalfLife, with
// non-merchandise in the spend and in no category; categories with a
// share are listed, not those of free items only.
func (s *Snapshot) topCategories(c affinity.CustomerID, n int) []CategoryShare {
	h, cat := s.h, s.h.Catalog()
	from := s.lookback.Start(s.segAsOf) // the segment index's window
	spend := map[affinity.CategoryID]float64{}
	var total float64
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		t := h.OrderTime(o)
		if t.After(s.asOf) || !t.After(from) {
			continue
		}
		wt := 1.0
		if s.halfLife > 0 {
			wt = math.Exp2(-float64(s.segAsOf.Unix()-t.Unix()) / s.halfLife.Seconds())
		}
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			ln := h.Line(i)
			if ln.Quantity <= 0 {
				continue
			}
			v := ln.Value().Float() * wt
			total += v // of all spend, as segment's affinity
			if s.nonMerch.Contains(uint32(ln.Product)) {
				continue // postage is spend, not a taste
			}
			for _, sh := range cat.Shares(ln.Product) {
				if cat.Depth(sh.Category) == 1 {
					spend[sh.Category] += v * float64(sh.Weight)
				}
			}
		}
	}
	out := make([]CategoryShare, 0, len(spend))
	for k, v := range spend {
		if total > 0 && v > 0 {
			out = append(out, CategoryShare{Category: cat.CategoryPath(k), Share: v / total})
		}
	}
	slices.SortFunc(out, func(a, b CategoryShare) int {
		return cmp.Or(cmp.Compare(b.Share, a.Share), cmp.Compare(a.Category, b.Category))
	})
	return out[:min(n, len(out))]
}

// Values are the value models of a snapshot: BG/NBD (or MBG/NBD, see
// [Options.ValueModel]) and Gamma-Gamma fitted on every customer's
// purchases up to the snapshot time, in weeks.
type Values struct {
	// BGNBD and GammaGamma are the fitted models; BGNBD has Modified set
	// for MBG/NBD, and GammaGamma is nil when it could not be fitted (too
	// few repeat customers) or has no finite mean (q ≤ 1, exactly and with
	// clv.FitOptions.Penalty 1): customers' values then carry no CLV.
	BGNBD      *clv.BGNBD
	GammaGamma *clv.GammaGamma
	// Penalized reports that the purchase model's exact maximum
	// likelihood fit did not converge (dropout that hardly varies between
	// customers, for one) and both models were fitted with
	// clv.FitOptions.Penalty 1; BGNBD.Fit.ExactError says why. The spend
	// model alone can be penalised too: see GammaGamma.Fit.Penalty.
	Penalized bool

	row    []int32 // per customer: its row, or -1
	scores *clv.Scores
	// the customers of the rows and their net spend (clv.Summary)
	customers []affinity.CustomerID
	spend     []float64
}

// ErrNoValueModel is returned (wrapped) by [Snapshot.Value] for a shop
// whose data cannot support the value models: fewer than 10 customers
// with a purchase by the snapshot time, or a purchase model that cannot
// be fitted.
var ErrNoValueModel = errors.New("shop: no value model")

// Of returns customer c's value, as [Snapshot.Profile] shows it, and
// whether the models cover c (a customer with a purchase by the snapshot
// time). Campaigns and reports that need every customer's P(alive) or
// CLV read it here rather than fitting the models again, so that their
// figures are the profile's.
func (v *Values) Of(c affinity.CustomerID) (Value, bool) {
	if x := v.of(c); x != nil {
		return *x, true
	}
	return Value{}, false
}

// WinBack returns the win-back audience of the models ([clv.WinBack]):
// among the customers with a purchase by the snapshot time, those in the
// top opts.Top by net spend whose P(alive) is below opts.MaxPAlive, as
// clv.WinBack gives it on the summary and scores the models were fitted
// and scored on, without summarising the history again. The bitmap is
// the caller's. Like clv.WinBack it panics for options out of range
// (Top or MaxPAlive outside (0, 1]).
func (v *Values) WinBack(opts clv.WinBackOptions) *roaring.Bitmap {
	return clv.WinBack(v.customers, v.spend, v.scores.PAlive, opts)
}

func (v *Values) of(c affinity.CustomerID) *Value {
	if int(c) >= len(v.row) || v.row[c] < 0 {
		return nil
	}
	i := v.row[c]
	out := &Value{PAlive: v.scores.PAlive[i], ExpectedPurchases: v.scores.ExpectedPurchases[i]}
	if v.scores.CLV != nil {
		out.CLV = v.scores.CLV[i]
	}
	return out
}

// valueState is the lazily fitted value model of a snapshot.
type valueState struct {
	mu      sync.Mutex
	done    bool // v and err are the fit's outcome
	v       *Values
	err     error
	fitting chan struct{} // closed when the fit under way ends; nil when none runs
}

// Value fits the value models once per snapshot, on first use (a CDNOW-sized
// shop takes milliseconds, a million customers about a second), and
// returns them. A shop whose data cannot support the models gets an
// error wrapping [ErrNoValueModel]; [Snapshot.Profile] then leaves Value
// out. A fit stopped by ctx is not
// kept: the next call fits again; it returns ctx's error, wrapped
// ("shop: value models: context canceled", matching [context.Canceled]
// or [context.DeadlineExceeded] with errors.Is, never ErrNoValueModel,
// whatever error the fit met as it stopped), and so does Profile. A call
// made while another caller's fit
// runs waits for it as long as its own ctx allows (then it returns
// ctx's error, wrapped: "shop: waiting for the value models: context
// canceled"). Once a snapshot's models have been
// asked for (by a profile, or the win-back campaign), [Shop.Refresh] fits
// the next snapshot's, and builds its segment index, before swapping it
// in, so that requests do not wait for the fit after every refresh: each
// refresh then takes longer.
func (s *Snapshot) Value(ctx context.Context) (*Values, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	st := s.values
	for {
		st.mu.Lock()
		if st.done {
			defer st.mu.Unlock()
			return st.v, st.err
		}
		if ch := st.fitting; ch != nil { // another caller's fit: wait for it, within ctx
			st.mu.Unlock()
			select {
			case <-ch:
				continue // its outcome, or, stopped by its ctx, a fit of our own
			case <-ctx.Done():
				return nil, wrap(ctx.Err(), "waiting for the value models")
			}
		}
		ch := make(chan struct{})
		st.fitting = ch
		st.mu.Unlock()
		return s.fitOnce(ctx, ch)
	}
}

// fitOnce fits the value models as the caller that set st.fitting to ch,
// keeps the outcome unless ctx stopped the fit, and lets the waiters go,
// also when the fit panics.
func (s *Snapshot) fitOnce(ctx context.Context, ch chan struct{}) (v *Values, err error) {
	st := s.values
	kept := false
	defer func() {
		st.mu.Lock()
		st.fitting = nil
		if kept {
			st.v, st.err, st.done = v, err, true
		}
		st.mu.Unlock()
		close(ch)
	}()
	v, err = s.fitValues(ctx)
	if err != nil && ctx.Err() != nil {
		// stopped by ctx, whatever error the fit met on its way out (an
		// optimiser's, or ErrNoValueModel's, which Profile would drop):
		// ctx's, as the other waits of the shop return it
		return nil, wrap(ctx.Err(), "value models")
	}
	kept = true
	return v, err
}

// valuesAsked reports whether the value models of s have been fitted.
func (s *Snapshot) valuesAsked() bool {
	s.values.mu.Lock()
	defer s.values.mu.Unlock()
	return s.values.done
}

func (s *Snapshot) fitValues(ctx context.Context) (*Values, error) {
	sum, err := clv.Summarize(ctx, s.h, s.asOf, clv.SummaryOptions{Unit: clv.Week})
	if err != nil {
		return nil, wrap(err, "value models")
	}
	if len(sum.Rows) < 10 {
		return nil, fmt.Errorf("%w: %d customers", ErrNoValueModel, len(sum.Rows))
	}
	sum.Sort() // the same fit however the History numbers its customers
	v := &Values{row: make([]int32, s.h.NumCustomers()), customers: sum.Customers, spend: sum.Spend}
	for i := range v.row {
		v.row[i] = -1
	}
	for i, c := range sum.Customers {
		v.row[c] = int32(i)
	}
	fit := clv.FitOptions{Workers: s.workers, Fallback: 1}
	fitBG := clv.FitBGNBD
	if s.mbg {
		fitBG = clv.FitMBGNBD
	}
	if v.BGNBD, err = fitBG(ctx, sum.Rows, fit); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoValueModel, err)
	}
	if v.Penalized = v.BGNBD.Fit.Penalty > 0; v.Penalized {
		fit.Penalty = 1 // the spend model as shrunk as the purchase model
	}
	// The spend model only with a finite mean (q > 1): below it every
	// expected value, and so every CLV, would be infinite. The shrunk fit
	// is tried when the exact one has none; without either, values carry
	// no CLV.
	for _, pen := range []float64{fit.Penalty, 1} {
		fit.Penalty = pen
		if gg, err := clv.FitGammaGamma(ctx, sum.Rows, fit); err == nil && gg.Q > 1 {
			v.GammaGamma = gg
			break
		}
	}
	v.scores, err = clv.Score(ctx, sum.Rows, v.BGNBD, v.GammaGamma, clv.ScoreOptions{Workers: s.workers})
	if err != nil {
		return nil, wrap(err, "value models")
	}
	return v, nil
}
