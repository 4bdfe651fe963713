package shop_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

// TestAudienceOrdersMatchNaive checks Page, All and WriteCSV against a
// straightforward reference — decode every member, sort by the documented
// rules with strings — on random sets of every density (ids the index does
// not know included) and on a segment with many equal spends.
func TestAudienceOrdersMatchNaive(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(11)), shop.Options{})
	require.NoError(t, err)
	snap := s.Snapshot()
	x, h := snap.Segments(), snap.History()
	naive := func(set *roaring.Bitmap, order shop.Order) []shop.Member {
		known := roaring.And(set, x.All())
		fs := x.FeaturesOf(known)
		ids := known.ToArray()
		ms := make([]shop.Member, len(fs))
		for i, f := range fs {
			c := affinity.CustomerID(ids[i])
			ms[i] = shop.Member{Customer: f.Customer, ID: c, Spend: f.Monetary, Orders: f.Frequency, RFM: f.RFM, Stage: f.Stage}
			if tm, ok := h.LastPurchase(c); ok && !tm.After(snap.AsOf()) {
				ms[i].LastPurchase = tm
			}
		}
		slices.SortFunc(ms, func(a, b shop.Member) int {
			switch order {
			case shop.BySpend:
				return cmp.Or(cmp.Compare(b.Spend, a.Spend), cmp.Compare(a.Customer, b.Customer))
			case shop.ByRecency:
				return cmp.Or(b.LastPurchase.Compare(a.LastPurchase), cmp.Compare(a.Customer, b.Customer))
			}
			return cmp.Compare(a.Customer, b.Customer)
		})
		return ms
	}
	rng := rand.New(rand.NewPCG(6, 6))
	var sets []*roaring.Bitmap
	for _, density := range []float64{0, 0.02, 0.3, 1} {
		set := roaring.New()
		for c := range h.NumCustomers() + 20 {
			if rng.Float64() < density {
				set.Add(uint32(c))
			}
		}
		sets = append(sets, set)
	}
	ties, err := snap.Segment(`frequency >= 1 and frequency <= 2`) // many equal spends and dates
	require.NoError(t, err)
	sets = append(sets, ties.Bitmap())
	for si, set := range sets {
		for o := shop.ByKey; o <= shop.ByRecency; o++ {
			want := naive(set, o)
			aud := snap.Audience("test", set)
			all, err := aud.All(o)
			require.NoError(t, err)
			require.Equal(t, want, all, "set %d, order %v", si, o)
			// pages of a fresh audience, as a request makes them
			var paged []shop.Member
			for off := 0; ; off += 7 {
				page, err := snap.Audience("test", set).Page(o, off, 7)
				require.NoError(t, err)
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
			}
			require.Equal(t, len(want), len(paged), "set %d, order %v", si, o)
			if len(want) > 0 {
				require.Equal(t, want, paged, "set %d, order %v", si, o)
			}
			var got, exp bytes.Buffer
			require.NoError(t, aud.WriteCSV(&got, o))
			require.NoError(t, shopCSV(&exp, want))
			require.Equal(t, exp.String(), got.String(), "set %d, order %v", si, o)
		}
	}
}

// shopCSV writes members as Audience.WriteCSV documents its columns.
func shopCSV(w *bytes.Buffer, ms []shop.Member) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"customer", "spend", "orders", "last_purchase", "rfm_segment", "lifecycle"}); err != nil {
		return err
	}
	for _, m := range ms {
		last := ""
		if !m.LastPurchase.IsZero() {
			last = m.LastPurchase.Format(time.RFC3339)
		}
		if err := cw.Write([]string{m.Customer, m.Spend.String(), strconv.Itoa(m.Orders), last, m.RFM, m.Stage}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
