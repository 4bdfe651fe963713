// Package campaign turns a shop owner's retention tactics into campaigns
// that can be planned, sent and measured: a coupon a few weeks after a
// purchase, a thank-you mail with the complements of what was just
// bought, abandoned-cart and back-in-stock reminders, birthday offers,
// win-back of valuable customers drifting away, and each group's
// favourite products — with nobody over-messaged and a control group
// that tells whether it paid.
//
//	snap := s.Snapshot() // a shop.Shop opened with Options{AsOf: monday}
//	plan, err := campaign.Build(ctx, snap, monday, campaign.Builtins(false), campaign.Options{Sent: lastWeeks})
//	err = campaign.WriteCSV(f, plan.Sent())
//	// two weeks later, with the new orders loaded:
//	results, err := campaign.Measure(ctx, later.History(), plan.Messages, monday, monday.AddDate(0, 0, 14), campaign.MeasureOptions{})
//
// # Campaigns
//
// A [Campaign] is an audience (a segment query of package segment, such as
// `affinity("Apparel/Sportswear") >= 0.3`, and optionally a [SelectFunc]
// for what the syntax cannot say), a [Schedule] (whole days since the
// last purchase, such as 14 to 28, counted as the snapshot's segment
// index counts recency: from the as-of time of a shop opened with
// shop.Options.AsOf, from the end of the as-of day (UTC) of one without)
// and a [Content] rule choosing the
// products: cross-sell of the last order, the customer's favourite
// category, the group's favourites, the abandoned cart, or the restocked
// items they looked at. Each product comes with its reason, in words a
// customer can be shown. Cross-sell and favourites come from the
// shop's recommendations, shaped by the campaign's [shop.Rules]: a price
// band, a cap per category, products bought before offered again. The
// built-ins ([Coupon], [ThankYou],
// [AbandonedCartReminder], [BackInStockAlert], [Birthday], [WinBack],
// [GroupFavouritesFor]) document the exact rule they apply. Calendar
// days in audiences are UTC days, as the segment index counts them: the
// plan's day for days_to and days_since (such as the birthday's
// days_to("birthday") between 0 and 6) is the UTC date of the index's
// as-of time, whatever the shop's or the plan's location, and a date
// attribute holds a UTC date. The dates in reasons ("left in the cart on
// 2026-03-01") are written in the location of the plan's as-of time.
//
// # Plans
//
// [Build] plans one sending time over several campaigns, as of the
// snapshot's explicit time — nothing reads the clock. Campaigns go by
// priority; a customer is left out of a campaign once they have
// [Options.Cap] messages in the window (asOf − [Options.CapWindow], asOf]:
// those of this plan's earlier campaigns plus the past sends of
// [Options.Sent] timed in that window (sends timed after the plan's time
// do not count). The cap is checked at each plan's own time only: when
// plans are built in time order, each given every earlier plan's
// messages, no window of length CapWindow holds more than Cap messages
// of a customer; a send listed with a later time than the plan's, or
// missing from Sent, is not seen. CapWindow is a plain duration, 7 days
// (168 h) by default, not a calendar week: weekly plans less than 168 h
// apart (local Monday 09:00 plans across a spring daylight-saving change,
// or a shop opened without shop.Options.AsOf, whose plans fall at its
// latest order) see the previous week's messages in the window and skip
// those customers that week; give weekly plans a margin, such as
// CapWindow: 6 * 24 * time.Hour. Opted-out customers are never
// contacted. Each campaign holds out a control group, chosen by a hash of
// the campaign's name and the customer's key ([InControl]): deterministic,
// stable from one week to the next, independent between campaigns. The
// held-out customers are recorded in the plan (Control true) and take
// their cap slot, so that they resemble the treated ones in everything
// but the message. [Plan.Counts] says, per campaign, how many were
// selected, opted out, capped (and how many by this plan's earlier
// campaigns: the overlap the cap removed), without content, held out and
// sent. [WriteCSV] and [WriteJSON] write the lists for a mail tool.
//
// # Measurement
//
// [Measure] compares treated and control customers over the period after
// the send: conversion, revenue per customer, AOV, the uplift in
// conversion and the incremental revenue, each difference with a
// confidence interval (95 % by default): Agresti and Caffo's for the
// uplift, and for the revenue the widest of Welch's t interval,
// Student's pooled-variance one, which stays wide for the small control
// groups of small audiences (a control of a few customers who bought
// nothing has no variance of its own), and Student's with the variance
// of both groups together (the variance under no effect), which stays
// wide when neither group varies (two treated customers who spent the
// same, two held out who bought nothing). With no true effect an
// interval excludes zero in at most about 5 % of campaigns, fewer when
// a group is small: on simulated A/A splits of 200 treated customers and
// 2 to 200 held out, at most 0.2–5.5 % for the revenue (measured before
// the third interval, which only widens) and 2–6 % for the uplift; in
// exact A/A enumerations of 2 to 7 customers a side, each buying one
// item with probability 1/2 or 3/10, at most 2.3 % for the revenue.
// A clear effect on groups of some dozens stays significant: the third
// interval widens with the difference by a share that shrinks as the
// groups grow. The
// package's tests check it on planted responders
// (dataset.Storefront.Respond): the planted uplift is covered and an A/A
// test finds effects at the stated rate. For the shop-wide retention
// rate and cohort table, see clv.Retention and clv.CohortRetention.
//
// # Concurrency
//
// Build and Measure read their inputs and share nothing; campaigns and
// plans are plain values. Build's SelectFunc runs on the calling
// goroutine.
package campaign
