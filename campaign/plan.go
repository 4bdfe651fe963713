package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/timetext"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// Message is one entry of a plan: a customer, a campaign and what to send.
// A control message (Control true) is not sent: the customer is held out
// to measure the campaign, and the entry records what they would have
// received.
type Message struct {
	Campaign string `json:"campaign"`
	// Customer is the shop's customer key; Email the customer's e-mail
	// address when the plan was given one ([Options.Email]).
	Customer string              `json:"customer"`
	ID       affinity.CustomerID `json:"-"`
	Email    string              `json:"email,omitempty"`
	// Time is the plan's as-of time: when the message goes out.
	Time    time.Time `json:"time"`
	Control bool      `json:"control"`
	Offer   string    `json:"offer,omitempty"`
	Items   []Item    `json:"items"`
}

// Options configures [Build]. The zero value means one message per
// customer per 7 days, no past sends, nobody opted out, no e-mail column.
type Options struct {
	// Cap is the most messages a customer may have in the cap window
	// (asOf − CapWindow, asOf]: this plan's messages (control entries
	// included) plus the past sends of Sent timed in that window; 0 means
	// 1, negative means no cap. It is checked at this plan's time only:
	// sends listed with a time after asOf do not count, and neither do
	// plans still to come.
	Cap int
	// CapWindow is the frequency cap's window, a plain duration; 0 means
	// 7 days (168 h). A past send at time t counts when t is in
	// (asOf − CapWindow, asOf]. It is not a calendar week: a weekly plan
	// less than CapWindow after the previous one finds everyone that plan
	// messaged still in the window, and with the default Cap of 1 reaches
	// none of them — nobody is over-messaged, but that week's campaigns
	// are skipped for them, counted in [Count.Capped] only. Local Monday
	// 09:00 plans are 167 h apart across a spring daylight-saving change,
	// and a shop opened without shop.Options.AsOf plans as of its latest
	// order, which moves from week to week. Weekly plans should leave a
	// margin, such as 6 days (144 h): still at most Cap messages between
	// two weekly plans, with up to a day of slack in the plans' times.
	// The default stays 7 days so that daily plans keep Cap messages in
	// every 7 days.
	CapWindow time.Duration
	// Sent lists past messages (earlier plans' Messages); control entries
	// count toward the cap like sent ones, since a held-out customer must
	// look like a contacted one to the later campaigns. They also make a
	// campaign with a Schedule due once per purchase: a customer it
	// reached (sent or held out) at or after their last purchase at or
	// before asOf — in the same second too, since a plan's snapshot holds
	// the orders timed up to its time — is not in its audience again — the coupon of a purchase goes
	// out once, whether plans are weekly or daily.
	Sent []Message
	// OptOut lists customer keys that must never be contacted; they are
	// neither sent nor held out.
	OptOut []string
	// OptIn, when set, is the only customers that may be contacted (an
	// e-mail opt-in), by dense id of the snapshot's History
	// (History.LookupCustomer); nil means everyone not opted out.
	OptIn *roaring.Bitmap
	// Email returns the e-mail address of a customer key ("" when
	// unknown); nil means the text attribute "email" of Attributes, if
	// any (matched to the snapshot's customers as
	// segment.Index.WithAttributes matches them: by key, for Attributes
	// loaded for another History), else none.
	Email func(customer string) string
	// Attributes are the customers' fields loaded beside the orders
	// (segment.LoadAttributes): audiences may use them, as in
	// days_to("birthday") between 0 and 6 or flag("optin") = 1.
	Attributes *segment.Attributes
}

// Count says what happened to one campaign's audience in a plan. Audience
// = OptedOut + Capped + NoContent + Control + Treated.
type Count struct {
	Campaign string `json:"campaign"`
	// Audience is the number of customers the audience and schedule
	// selected.
	Audience int `json:"audience"`
	// OptedOut were left out by Options.OptOut or Options.OptIn.
	OptedOut int `json:"opted_out"`
	// Capped were left out by the frequency cap: reached by a campaign of
	// higher priority in this plan (CappedByPlan) or by past sends.
	Capped       int `json:"capped"`
	CappedByPlan int `json:"capped_by_plan"`
	// NoContent were left out because the content rule found no product.
	NoContent int `json:"no_content"`
	// Control were held out; Treated are sent.
	Control int `json:"control"`
	Treated int `json:"treated"`
	// Skipped, when not empty, says why the campaign selected nobody:
	// its Select returned an error wrapping [ErrSkip].
	Skipped string `json:"skipped,omitempty"`
}

// Plan is the messages of one sending time over several campaigns, with
// the counts behind them.
type Plan struct {
	AsOf time.Time
	// Messages are ordered by campaign (priority order), then customer key.
	Messages []Message
	// Counts holds one entry per campaign, in priority order.
	Counts []Count
}

// Build plans the messages of campaigns as of asOf, which must be the
// snapshot's as-of time (see shop.Options.AsOf): the time the messages
// go out; its location is the one the dates in the messages' reasons
// are written in. Campaigns are taken by Priority (higher first, ties by name).
// For each, a member of its audience is left out
// when opted out, when the cap is reached (past sends in the cap window
// and earlier campaigns of this plan), or when the content rule finds no
// product; the others are held out as control when [InControl] says so,
// else sent. Control entries take a cap slot too. The plan depends only on
// its inputs. It returns an error wrapping affinity.ErrNoAsOf for a zero
// asOf, one matching affinity.ErrNilArgument for a nil context or
// snapshot, and the error of an invalid campaign naming it.
func Build(ctx context.Context, snap *shop.Snapshot, asOf time.Time, campaigns []Campaign, opts Options) (*Plan, error) {
	if err := affinity.CheckContext("campaign", ctx); err != nil {
		return nil, err
	}
	if err := affinity.CheckAsOf("campaign", asOf); err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, affinity.NilArgument("campaign", "snapshot")
	}
	if !asOf.Equal(snap.AsOf()) {
		return nil, fmt.Errorf("campaign: as-of %v differs from the snapshot's %v", asOf, snap.AsOf())
	}
	if opts.CapWindow < 0 {
		return nil, fmt.Errorf("campaign: negative cap window %v", opts.CapWindow)
	}
	cs := slices.Clone(campaigns)
	names := map[string]bool{}
	for i := range cs {
		if err := cs[i].validate(); err != nil {
			return nil, err
		}
		if names[cs[i].Name] {
			return nil, fmt.Errorf("campaign: duplicate name %q", cs[i].Name)
		}
		names[cs[i].Name] = true
	}
	slices.SortStableFunc(cs, func(a, b Campaign) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.Name, b.Name))
	})
	capN := opts.Cap
	if capN == 0 {
		capN = 1
	}
	if capN < 0 {
		capN = math.MaxInt
	}
	window := opts.CapWindow
	if window == 0 {
		window = 7 * 24 * time.Hour
	}
	h := snap.History()
	past := map[affinity.CustomerID]int{}
	reached := map[string]map[affinity.CustomerID]int64{} // campaign → customer → its last send up to asOf
	for _, m := range opts.Sent {
		if m.Time.After(asOf) {
			continue
		}
		c, ok := h.LookupCustomer(m.Customer)
		if !ok {
			continue
		}
		if m.Time.After(asOf.Add(-window)) {
			past[c]++
		}
		if reached[m.Campaign] == nil {
			reached[m.Campaign] = map[affinity.CustomerID]int64{}
		}
		reached[m.Campaign][c] = max(reached[m.Campaign][c], m.Time.Unix())
	}
	out := roaring.New()
	for _, k := range opts.OptOut {
		if c, ok := h.LookupCustomer(k); ok {
			out.Add(uint32(c))
		}
	}
	planned := map[affinity.CustomerID]int{}
	p := &Plan{AsOf: asOf}
	// the index with the attributes attached, once for every campaign;
	// its customer ids are the History's (as are the e-mails it gives)
	var x *segment.Index
	if len(cs) > 0 {
		var err error
		if x, err = attached(ctx, snap, opts.Attributes); err != nil {
			return nil, fmt.Errorf("campaign %q: %w", cs[0].Name, err)
		}
	}
	for i := range cs {
		c := &cs[i]
		members, err := c.members(ctx, snap, x)
		skipped := ""
		if errors.Is(err, ErrSkip) && ctx.Err() == nil {
			members, skipped, err = roaring.New(), err.Error(), nil
		}
		if err != nil {
			return nil, err
		}
		if !c.Schedule.IsZero() {
			// due once per purchase: not again for a customer this
			// campaign reached at or after their last purchase
			for id, t := range reached[c.Name] {
				if members.Contains(uint32(id)) && reachedSince(h, id, asOf, t) {
					members.Remove(uint32(id))
				}
			}
		}
		cnt := Count{Campaign: c.Name, Audience: int(members.GetCardinality()), Skipped: skipped}
		ct, err := newContent(ctx, c, snap, asOf, members)
		if err != nil {
			return nil, err
		}
		share := c.control()
		var msgs []Message
		for it := members.Iterator(); it.HasNext(); {
			v := it.Next()
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("campaign: %w", err)
			}
			id := customerOf(v)
			if out.Contains(v) || (opts.OptIn != nil && !opts.OptIn.Contains(v)) {
				cnt.OptedOut++
				continue
			}
			if past[id]+planned[id] >= capN {
				cnt.Capped++
				if planned[id] > 0 {
					cnt.CappedByPlan++
				}
				continue
			}
			items, err := ct.items(ctx, id)
			if err != nil {
				return nil, err
			}
			if items == nil {
				cnt.NoContent++
				continue
			}
			key := h.CustomerKey(id)
			m := Message{Campaign: c.Name, Customer: key, ID: id, Time: asOf, Offer: c.Offer, Items: items,
				Control: InControl(c.Name, key, share)}
			switch {
			case opts.Email != nil:
				m.Email = opts.Email(key)
			case opts.Attributes != nil:
				m.Email, _ = x.Text("email", id) // by key, for Attributes loaded for another History
			}
			if m.Control {
				cnt.Control++
			} else {
				cnt.Treated++
			}
			planned[id]++
			msgs = append(msgs, m)
		}
		slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.Customer, b.Customer) })
		p.Messages = append(p.Messages, msgs...)
		p.Counts = append(p.Counts, cnt)
	}
	return p, nil
}

// reachedSince reports whether a send at Unix second sent (a time at or
// before asOf) reached c at or after their last purchase at or before
// asOf: whether that purchase is one the send was planned for. A send is
// planned from a snapshot as of its own time, which holds every order
// timed at or before it; times are whole seconds ([affinity.Builder.Add]
// drops the fraction, as time.Time.Unix does for the send), so a purchase
// in the same second as the send is one it saw — the customer who placed
// the latest order of a shop opened without shop.Options.AsOf is thanked
// at that order's time, and only once. It is true when c bought nothing
// by asOf.
func reachedSince(h *affinity.History, c affinity.CustomerID, asOf time.Time, sent int64) bool {
	o, ok := h.LastPurchaseOrder(c, asOf)
	return !ok || sent >= h.OrderUnix(o)
}

// InControl reports whether the customer with shop key customer is in the
// control group of the named campaign, of the given share in [0, 1): the
// 64-bit FNV-1a hash of campaign, a zero byte and customer, passed
// through MurmurHash3's 64-bit finaliser (FNV alone leaves keys that
// differ in their last digits clustered), divided by 2⁶⁴, is below share. The answer depends on nothing else, so a customer
// stays in (or out of) a campaign's control group from one plan to the
// next, and groups of different campaigns are independent.
func InControl(campaign, customer string, share float64) bool {
	if !(share > 0) {
		return false // NaN too
	}
	f := fnv.New64a()
	f.Write([]byte(campaign))
	f.Write([]byte{0})
	f.Write([]byte(customer))
	x := f.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	// x < share·2⁶⁴ compared exactly: x as a float64 may round up onto
	// the threshold; the threshold is exact (a power of two times share),
	// and an integer is below it when below its ceiling
	t := share * (1 << 64)
	if t >= 1<<64 {
		return true
	}
	return x < uint64(math.Ceil(t))
}

// Sent returns the messages that go out (control entries left out).
func (p *Plan) Sent() []Message {
	var out []Message
	for _, m := range p.Messages {
		if !m.Control {
			out = append(out, m)
		}
	}
	return out
}

// UnmarshalJSON reads a Message as encoding/json reads the struct, but
// refuses a field of the message or of an item that the structs do not
// have, naming it (a misspelt "control" would send a held-out entry), and
// a time whose UTC offset RFC 3339 does not allow ("+24:00", which
// time.Time reads as a day earlier). A time it cannot read is a
// *json.UnmarshalTypeError naming the field (Message.time), as a value of
// the wrong type in any other field is.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	return timetext.Unmarshal(b, &struct {
		*plain
		Time timetext.JSON `json:"time"`
	}{(*plain)(m), timetext.JSON{T: &m.Time}}, m)
}
