package affinity_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestErrorsNameThePackageOnce: a record or amount out of Money's range
// is one message, "affinity: invalid …" once, matching both the record's
// (or amount's) sentinel and ErrMoneyRange; so are the other errors of
// Add, ParseMoney, Build and CheckAsOf.
func TestErrorsNameThePackageOnce(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(ps ...affinity.Purchase) func() error {
		return func() error {
			var b affinity.Builder
			for _, p := range ps {
				if err := b.Add(p); err != nil {
					return err
				}
			}
			return nil
		}
	}
	parse := func(s string) func() error {
		return func() error { _, err := affinity.ParseMoney(s, '.'); return err }
	}
	half := affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: t0, Quantity: 1, Price: affinity.MaxMoney/2 + 1}
	line := affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: t0, Quantity: 1 << 30, Price: affinity.MaxMoney / 2}
	var nilCtx context.Context
	testdata.CheckErrors(t, "affinity: ", []testdata.ErrorCase{
		{Name: "purchase without product", Call: add(affinity.Purchase{Customer: "c", Time: t0, Quantity: 1}), Is: []error{affinity.ErrInvalid}},
		{Name: "purchase of zero quantity", Call: add(affinity.Purchase{Customer: "c", Product: "p", Time: t0}), Is: []error{affinity.ErrInvalid}},
		{Name: "line value beyond MaxMoney", Call: add(affinity.Purchase{Customer: "c", Product: "p", Time: t0, Quantity: 1 << 30, Price: affinity.MaxMoney / 2}),
			Is: []error{affinity.ErrInvalid, affinity.ErrMoneyRange}},
		{Name: "gross value beyond MaxMoney", Call: add(half, half), Is: []error{affinity.ErrInvalid, affinity.ErrMoneyRange}},
		{Name: "order line value beyond MaxMoney", Call: func() error {
			var b affinity.Builder
			return b.PutOrder("o", 1, []affinity.Purchase{line})
		}, Is: []error{affinity.ErrInvalid, affinity.ErrMoneyRange}},
		{Name: "money text not a number", Call: parse("1e5"), Is: []error{affinity.ErrMoney}},
		{Name: "money text of too many digits", Call: parse("99999999999999999999"), Is: []error{affinity.ErrMoney, affinity.ErrMoneyRange}},
		{Name: "money text beyond MaxMoney", Call: parse("922337203685477.5808"), Is: []error{affinity.ErrMoney, affinity.ErrMoneyRange}},
		{Name: "build with nil context", Call: func() error { var b affinity.Builder; _, err := b.Build(nilCtx); return err }, Is: []error{affinity.ErrNilArgument}},
		{Name: "zero as-of", Call: func() error { return affinity.CheckAsOf("affinity", time.Time{}, affinity.ErrInvalid) }, Is: []error{affinity.ErrNoAsOf, affinity.ErrInvalid}},
		{Name: "negative look-back", Call: affinity.Months(-1).Validate, Is: []error{affinity.ErrInvalid}},
	})
}
