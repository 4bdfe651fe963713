package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/shop"
)

// The built-in tactics. Each returns a fresh Campaign that can be changed
// before use; the priorities put the time-critical messages first
// (abandoned cart, back in stock, thank-you) and the evergreen ones last.

// Coupon is the coupon a few weeks after a purchase: customers whose last
// purchase was 14 to 28 whole days ago (both included; days counted as
// [Schedule] says: from the plan's time for a shop with a fixed
// [shop.Options.AsOf], from the end of its day otherwise), with up to four
// products from their favourite category ([Favourites]) and the offer
// "10% off". Priority 30.
func Coupon() Campaign {
	return Campaign{Name: "coupon", Schedule: Schedule{MinDays: 14, MaxDays: 28}, Content: Favourites,
		Offer: "10% off", Priority: 30}
}

// ThankYou is the thank-you mail with the complements of what was just
// bought: customers whose last purchase was 0 to 7 whole days ago (days
// counted as [Schedule] says: from the plan's time for a shop with a
// fixed [shop.Options.AsOf], from the end of its UTC day otherwise), with
// up to four complements of that purchase ([CrossSell]; a later
// return-only order neither resets the days nor replaces the order).
// Priority 50. The eighth day is there for weekly plans, which reach
// every buyer once when each is given the earlier plans' messages as
// [Options.Sent] (which leaves out a customer the campaign reached after
// their last purchase) and they fall at the same local time each week
// for a shop with a fixed as-of time (167 to 169 hours apart across
// daylight-saving changes) or on the same UTC weekday for one without: a
// purchase after one plan is at most 7 whole days old at the next.
// Without Sent a customer who bought in the day before a weekly plan
// (the last day of the UTC week for a shop without a fixed as-of time)
// is thanked again at the next.
func ThankYou() Campaign {
	return Campaign{Name: "thank-you", Schedule: Schedule{MinDays: 0, MaxDays: 7}, Content: CrossSell, Priority: 50}
}

// AbandonedCartReminder reminds customers of what they left in the cart:
// an add-to-cart in the Window (7 days) before the plan's time of a
// product they have not bought since, with those products
// ([AbandonedCart]), most recent first. Priority 70.
func AbandonedCartReminder() Campaign {
	return Campaign{Name: "abandoned-cart", Content: AbandonedCart, Window: 7 * 24 * time.Hour, Priority: 70}
}

// BackInStockAlert tells customers that products they viewed, added to
// the cart or wished for in the Window (30 days) before the plan's time,
// and have not bought since, are back in stock: restocked lists their
// shop keys (Products). The message holds those products
// ([BackInStock]). Priority 60. Without a restocked key the campaign is
// an error of [Build].
func BackInStockAlert(restocked ...string) Campaign {
	return Campaign{Name: "back-in-stock", Content: BackInStock, Window: 30 * 24 * time.Hour,
		Products: restocked, Priority: 60}
}

// Birthday is the birthday offer: customers whose birthday, the date
// attribute birthday ([Options.Attributes]), falls in the 7 days from
// the plan's day on, that day included (the segment query
// days_to("birthday") between 0 and 6), with up to four favourites and
// the offer "birthday gift". Days are UTC days, as the segment index
// counts them: the plan's day is the UTC date of the index's as-of time
// (the plan's time, or the end of its UTC day for a shop without
// [shop.Options.AsOf]), and the birthday is the UTC date
// [segment.Attributes.SetDate] keeps. A Berlin plan on Monday at 00:30
// local time is on Sunday in UTC: it reaches the birthdays of Sunday to
// Saturday; one at 09:00 those of Monday to Sunday. Priority 20. Add
// `and flag("optin") = 1` to its Audience, or set [Options.OptIn], where
// mails need an opt-in.
func Birthday() Campaign {
	return Campaign{Name: "birthday", Audience: `days_to("birthday") between 0 and 6`, Content: Favourites,
		Offer: "birthday gift", Priority: 20}
}

// GroupFavouritesFor shows a group of customers (a segment query, such as
// `affinity("Apparel/Sportswear") >= 0.3` or `frequency = 1`) the
// products most of its members bought in the segment look-back up to the
// plan's time ([GroupFavourites]), leaving out what each already owns
// (bought at any time up to the plan's time). Priority 10.
func GroupFavouritesFor(name, query string) Campaign {
	return Campaign{Name: name, Audience: query, Content: GroupFavourites, Priority: 10}
}

// WinBack is the win-back of valuable customers drifting away: among the
// customers with a purchase in the look-back of the BG/NBD model, those in
// the top 20 % by past spend whose P(alive) at the plan's time is below
// 0.5 ([clv.WinBack]), with the BG/NBD model fitted (weeks, maximum
// likelihood; with clv's mild penalty 1 only if the exact fit does not
// converge) on the whole history up to the plan's time — MBG/NBD when the
// shop's [shop.Options.ValueModel] is "mbgnbd", which also lets one-time
// buyers qualify (BG/NBD keeps them alive with probability 1). It reads
// P(alive) from [shop.Snapshot.Value], the same fit (fitted once per
// snapshot) as the customers' profiles show; only when the snapshot has
// no value model ([shop.ErrNoValueModel]: fewer than 10 customers with a
// purchase, say), or for a plan at another time than the snapshot's,
// does it fit a model of its own, as the snapshot fits its own (on the
// customers' summary sorted, so that the fit does not depend on how the
// History numbers them); any other error of the snapshot's models is the
// campaign's error. They get up to four
// favourites and the offer "15% off". Priority 40. When the model cannot
// be fitted (too few customers, all of them one-time buyers or all
// buying at one time), nobody can be told to be drifting away: the
// campaign is skipped ([ErrSkip]) with the fit's error in its
// [Count.Skipped], and the plan goes on.
func WinBack() Campaign {
	return Campaign{Name: "win-back", Content: Favourites, Offer: "15% off", Priority: 40, Select: winBack}
}

func winBack(ctx context.Context, snap *shop.Snapshot, asOf time.Time) (*roaring.Bitmap, error) {
	return winBackFrom(ctx, snap, asOf, snap.Value)
}

// winBackFrom is winBack with the snapshot's value models read from
// value.
func winBackFrom(ctx context.Context, snap *shop.Snapshot, asOf time.Time, value func(context.Context) (*shop.Values, error)) (*roaring.Bitmap, error) {
	if asOf.Equal(snap.AsOf()) {
		// the snapshot's models, on their own summary of the history
		v, err := value(ctx)
		switch {
		case err == nil:
			return v.WinBack(clv.WinBackOptions{}), nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !errors.Is(err, shop.ErrNoValueModel):
			return nil, fmt.Errorf("win-back: %w", err)
		}
		// no snapshot models (too few customers): fit as at any other time
	}
	sum, bg, err := winBackFit(ctx, snap, asOf)
	if err != nil {
		return nil, err
	}
	if bg == nil {
		return roaring.New(), nil
	}
	sc, err := clv.Score(ctx, sum.Rows, bg, nil, clv.ScoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("win-back: %w", err)
	}
	return clv.WinBack(sum.Customers, sum.Spend, sc.PAlive, clv.WinBackOptions{}), nil
}

// winBackFit fits the purchase model of the win-back as of asOf, as the
// snapshot fits its own: in weeks, on the summary sorted so that the fit
// does not depend on how the History numbers its customers. A nil model
// and error mean no customer with a purchase.
func winBackFit(ctx context.Context, snap *shop.Snapshot, asOf time.Time) (*clv.Summary, *clv.BGNBD, error) {
	sum, err := clv.Summarize(ctx, snap.History(), asOf, clv.SummaryOptions{Unit: clv.Week})
	if err != nil {
		return nil, nil, err
	}
	if len(sum.Rows) == 0 {
		return sum, nil, nil
	}
	sum.Sort()
	fit := clv.FitBGNBD
	if snap.ValueModel() == "mbgnbd" {
		fit = clv.FitMBGNBD
	}
	bg, err := fit(ctx, sum.Rows, clv.FitOptions{Fallback: 1})
	if errors.Is(err, clv.ErrNoData) || errors.Is(err, clv.ErrNotConverged) {
		// a shop of one-time buyers, or all at one time: nobody can be
		// told to be drifting away
		return nil, nil, fmt.Errorf("%w: the purchase model cannot be fitted: %w", ErrSkip, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("win-back: %w", err)
	}
	return sum, bg, nil
}

// Builtins returns every built-in tactic that needs no extra input:
// abandoned cart, thank-you, win-back, coupon, birthday (only when the
// shop has a birthday attribute; see [Birthday]) and favourites of
// first-time buyers ("new-customers", frequency = 1). Back in stock needs
// the restocked products: add [BackInStockAlert]. With withBirthday, a
// plan without the birthday attribute (Options.Attributes) fails to build
// as a whole: the birthday campaign's query names an unknown attribute.
func Builtins(withBirthday bool) []Campaign {
	cs := []Campaign{AbandonedCartReminder(), ThankYou(), WinBack(), Coupon()}
	if withBirthday {
		cs = append(cs, Birthday())
	}
	return append(cs, GroupFavouritesFor("new-customers", "frequency = 1"))
}
