package segment

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
)

// TestSortedKeysWideOffsets lists keys through the 64-bit offsets that an
// index with more than 4 GiB of keys uses, and through the 32-bit ones,
// against a sort of the keys; multi-byte and long keys included.
func TestSortedKeysWideOffsets(t *testing.T) {
	var b affinity.Builder
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	keys := []string{"b", "a", "ä", "zz", "0", "a-long-customer-key-" + strconv.Itoa(1<<40)}
	for i := range 300 {
		keys = append(keys, "k"+strconv.Itoa(i*7919%1000))
	}
	for i, k := range keys {
		if err := b.Add(affinity.Purchase{Customer: k, Product: "p", Time: at.Add(time.Duration(i) * time.Second), Quantity: 1, Price: 1}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := b.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, wide := range []bool{false, true} {
		if wide {
			defer func(v int) { maxOff32 = v }(maxOff32)
			maxOff32 = 10
		}
		x, err := Build(context.Background(), h, h.Latest(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		all := roaring.New()
		all.AddRange(0, uint64(x.NumCustomers()+5))
		want := slices.Clone(x.keys)
		slices.Sort(want)
		got := x.SortedKeys(all)
		if (x.sortedOff64 != nil) != wide {
			t.Fatalf("wide %v: 64-bit offsets %v", wide, x.sortedOff64 != nil)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("wide %v: keys %q, want %q", wide, got[:5], want[:5])
		}
		some := roaring.BitmapOf(1, 3, 5)
		got = x.SortedKeys(some)
		want = []string{x.keys[1], x.keys[3], x.keys[5]}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("wide %v: keys %q, want %q", wide, got, want)
		}
	}
}
