package shop

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Changes is a feed of order changes ([affinity.OrderChange]): a put
// replaces every earlier version of the order (edits, partial refunds,
// re-deliveries), a delete removes it, and the change with the highest
// Version wins whatever the order of arrival, within one feed and across
// refreshes (the History keeps the versions of its orders and of its
// deletes, see [affinity.Builder.Apply]), so a webhook retried after a
// newer version of its order, or after the order's cancellation at a
// newer version, changes nothing. At equal versions, within one feed a
// delete beats a put and the later of two puts wins; across refreshes
// the later refresh wins, put or delete (a source polled by an
// updated-at column with ties reads a later state at the same version in
// a later poll). So replaying a feed, loading it twice, or loading it in
// parts over several refreshes gives the same History as loading it
// once — the same orders, lines and versions by key, though the dense
// ids may be numbered otherwise (see [affinity.Builder.Apply]) — unless
// it holds a delete and a put of one order at one version.
// Give each change a version (an updated-at time in Unix microseconds, a
// change sequence number): at version 0 the last put wins unless its
// feed deletes the order, and a cancellation at version 0 is forgotten
// once applied. Each put is checked with [affinity.Builder.CheckApply]
// before it is applied: a change that Apply refuses, or a put that would
// take the gross value of the History's lines beyond
// [affinity.MaxMoney] (an error wrapping [affinity.ErrMoneyRange]),
// fails the refresh with an error naming the change's position in seq
// (from 1) and its order key, and the snapshot stays as it was. A nil
// seq is an error wrapping [affinity.ErrNilArgument].
func Changes(seq iter.Seq[affinity.OrderChange]) Source {
	return SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		rep := dataset.Report{Format: "changes"}
		if seq == nil {
			return rep, affinity.NilArgument("shop", "Changes sequence")
		}
		for c := range seq {
			if err := every4096(ctx, rep.Rows); err != nil {
				return rep, err
			}
			rep.Rows++
			var err error
			if !c.Delete && len(c.Lines) > 0 {
				err = b.CheckApply(c) // so that Build cannot fail for the puts
			}
			if err == nil {
				err = b.Apply(c)
			}
			if err != nil {
				return rep, wrap(err, fmt.Sprintf("change %d (order %q)", rep.Rows, c.Key))
			}
			rep.Loaded++
			rep.Purchases += len(c.Lines)
		}
		return rep, nil
	})
}

// Erase erases customers by shop key (data-protection erasure): their
// lines, events and key are gone from the next snapshot, and from
// anything saved after it. Unknown keys are ignored.
func Erase(keys ...string) Source {
	return SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		for i, k := range keys {
			if err := every4096(ctx, i); err != nil {
				return dataset.Report{Format: "erase"}, err
			}
			b.EraseCustomer(k)
		}
		return dataset.Report{Format: "erase", Rows: len(keys), Loaded: len(keys)}, nil
	})
}

// SQLFeed polls a database for changed orders (see [dataset.SQLSource]):
// each Load — each [Shop.Refresh] with the feed — reads the orders changed
// since the cursor and applies them as order changes, each the order's
// current state: it wins over the version the shop holds of the order
// even when its updated-at is earlier (a transaction that began before
// the one whose change a refresh read, see [dataset.SQLSource.Load]).
// It is a
// [Committer]: the cursor moves on to the last Load's only when that load
// is committed, once the snapshot built from it is served, so a refresh
// that fails after the load (building, or cancelled) reads the same
// orders again the next time. A feed serves one shop. It is safe for
// concurrent use; loads run one at a time, and [SQLFeed.Cursor] and
// [SQLFeed.Commit] do not wait for a load's query.
//
// A poll that reads nothing new keeps the cursor (see
// [dataset.SQLBatch].Cursor): with an Overlap, every refresh reads
// again the orders changed in the Overlap before the last change read,
// which costs the query but no rebuild.
type SQLFeed struct {
	src  *dataset.SQLSource
	load sync.Mutex // held through a Load: one at a time
	mu   sync.Mutex // guards cursor and next, never held through a query
	// cursor is where the next Load starts; next the last Load's cursor,
	// until committed (nil: none)
	cursor, next any
}

// SQL returns a feed over src that starts at cursor: the zero time.Time
// (or int64 0, for an integer version column) reads every order.
func SQL(src *dataset.SQLSource, cursor any) *SQLFeed {
	return &SQLFeed{src: src, cursor: cursor}
}

// Cursor returns the cursor the next Load starts from: that of the last
// committed Load.
func (f *SQLFeed) Cursor() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

// Load polls the database from the cursor and applies the changes to b
// ([dataset.SQLSource.Load]): each put is checked against what b holds,
// so that an order that would take the shop's gross value beyond
// [affinity.MaxMoney] fails the load at its row, or with a lenient
// source is skipped and counted while the other orders load, instead of
// failing the refresh's build for good. [SQLFeed.Commit] then moves the
// cursor on; a load that is not committed (it failed, or the refresh
// did) is read again by the next.
func (f *SQLFeed) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	if f == nil {
		return dataset.Report{}, affinity.NilArgument("shop", "SQLFeed")
	}
	f.load.Lock()
	defer f.load.Unlock()
	f.mu.Lock()
	f.next = nil
	cursor := f.cursor
	f.mu.Unlock()
	batch, err := f.src.Load(ctx, cursor, b) // without mu: Cursor and Commit answer meanwhile
	if err != nil {
		return batch.Report, err
	}
	f.mu.Lock()
	f.next = batch.Cursor
	f.mu.Unlock()
	return batch.Report, nil
}

// Commit moves the cursor on to the last successful Load's. [Open],
// [Shop.Refresh] and [LoadHistory] call it once what the Load read is in
// use; it does nothing when there is no such Load or it was committed,
// and while a Load runs (that Load is not yet in use, and the one before
// it is superseded).
func (f *SQLFeed) Commit() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next != nil {
		f.cursor, f.next = f.next, nil
	}
}
