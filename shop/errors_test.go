package shop_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// errLines are three good purchase lines.
func errLines() []affinity.Purchase {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return []affinity.Purchase{
		{Customer: "a", Product: "p1", Order: "o1", Time: t0, Quantity: 1, Price: 10000},
		{Customer: "a", Product: "p2", Order: "o1", Time: t0, Quantity: 1, Price: 20000},
		{Customer: "b", Product: "p1", Order: "o2", Time: t0.Add(time.Hour), Quantity: 1, Price: 10000},
	}
}

// TestErrorsNameThePackageOnce: whichever source fails, however deep
// among Sources, and whether Open, Refresh or LoadHistory loads it, the
// error says "shop:" once (STYLE.md: package-prefixed once) and still
// matches its cause.
func TestErrorsNameThePackageOnce(t *testing.T) {
	bad := append(errLines(), affinity.Purchase{Customer: "c", Product: "p3", Order: "o3", Quantity: 1, Price: 10000}) // no time
	sources := []struct {
		name string
		src  shop.Source
	}{
		{"Purchases", shop.Purchases(slices.Values(errLines()))},
		{"Catalog", shop.Catalog([]affinity.Product{{Key: "p1", Name: "Mug"}})},
		{"Changes", shop.Changes(slices.Values([]affinity.OrderChange{{Key: "o1", Version: 2, Lines: errLines()[:1]}}))},
		{"Erase", shop.Erase("a")},
		{"Storefront", shop.Storefront(small(1))},
		{"File", shop.File(srcFixture("members.csv"), "members")},
		{"Sources", shop.Sources(shop.Purchases(slices.Values(errLines())), shop.Erase("b"))},
	}
	type failure struct {
		name string
		src  func(ok shop.Source, cancel func()) shop.Source
		want error
	}
	cancelling := func(cancel func()) shop.Source {
		return shop.SourceFunc(func(context.Context, *affinity.Builder) (dataset.Report, error) {
			cancel()
			return dataset.Report{}, nil
		})
	}
	failures := []failure{
		{"cancelled", func(ok shop.Source, cancel func()) shop.Source { return shop.Sources(cancelling(cancel), ok) }, context.Canceled},
		{"cancelled in nested Sources", func(ok shop.Source, cancel func()) shop.Source {
			return shop.Sources(shop.Sources(cancelling(cancel), ok))
		}, context.Canceled},
		{"invalid line after", func(ok shop.Source, _ func()) shop.Source {
			return shop.Sources(ok, shop.Purchases(slices.Values(bad)))
		}, affinity.ErrInvalid},
		{"nil source after", func(ok shop.Source, _ func()) shop.Source { return shop.Sources(ok, nil) }, affinity.ErrNilArgument},
	}
	// sources that fail on their own
	for _, f := range []struct {
		name string
		src  shop.Source
		want error
	}{
		{"Purchases invalid line", shop.Purchases(slices.Values(bad)), affinity.ErrInvalid},
		{"Purchases nil", shop.Purchases(nil), affinity.ErrNilArgument},
		{"Changes nil", shop.Changes(nil), affinity.ErrNilArgument},
		{"Storefront nil", shop.Storefront(nil), affinity.ErrNilArgument},
		{"SourceFunc nil", shop.SourceFunc(nil), affinity.ErrNilArgument},
		{"Catalog invalid product", shop.Catalog([]affinity.Product{{Name: "no key"}}), affinity.ErrInvalid},
		{"File missing", shop.File(filepath.Join(t.TempDir(), "missing.csv"), "csv"), fs.ErrNotExist},
		{"SourceFunc passing a source's error", shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
			return shop.Purchases(slices.Values(bad)).Load(ctx, b)
		}), affinity.ErrInvalid},
	} {
		failures = append(failures, failure{f.name, func(shop.Source, func()) shop.Source { return f.src }, f.want})
	}
	base, err := shop.Open(context.Background(), shop.Purchases(slices.Values(errLines())), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	defer base.Close()
	entries := map[string]func(context.Context, shop.Source) error{
		"Open": func(ctx context.Context, src shop.Source) error {
			s, err := shop.Open(ctx, src, shop.Options{Model: "neighbours"})
			if err == nil {
				s.Close()
			}
			return err
		},
		"Refresh": base.Refresh,
		"LoadHistory": func(ctx context.Context, src shop.Source) error {
			_, _, err := shop.LoadHistory(ctx, src)
			return err
		},
	}
	for _, f := range failures {
		for _, ok := range sources {
			for _, entry := range []string{"Open", "Refresh", "LoadHistory"} {
				ctx, cancel := context.WithCancel(context.Background())
				err := entries[entry](ctx, f.src(ok.src, cancel))
				cancel()
				name := f.name + " / " + ok.name + " / " + entry
				if !assert.Error(t, err, name) {
					continue
				}
				assert.ErrorIs(t, err, f.want, name)
				assert.Equal(t, 1, strings.Count(err.Error(), "shop:"), "%s: %v", name, err)
			}
		}
	}
}

// TestCancelledRefreshError: a refresh with a context already done
// returns the same error each time, naming the package once and no wait
// for a refresh that is not under way; after Close, ErrClosed.
func TestCancelledRefreshError(t *testing.T) {
	s, err := shop.Open(context.Background(), shop.Purchases(slices.Values(errLines())), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	msgs := map[string]int{}
	for range 200 {
		err := s.Refresh(ctx, shop.Purchases(slices.Values(errLines())))
		require.ErrorIs(t, err, context.Canceled)
		msgs[err.Error()]++
	}
	require.Len(t, msgs, 1, "one cancelled refresh, one error: %v", msgs)
	for m := range msgs {
		assert.Equal(t, 1, strings.Count(m, "shop:"), m)
		assert.NotContains(t, m, "waiting for the refresh under way", "no refresh was under way")
	}
	s.Close()
	err = s.Refresh(ctx, shop.Purchases(slices.Values(errLines())))
	require.ErrorIs(t, err, shop.ErrClosed, "after Close, whatever the context")
	assert.True(t, errors.Is(s.Refresh(context.Background(), shop.Purchases(slices.Values(errLines()))), shop.ErrClosed))
}
