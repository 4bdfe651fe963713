package affinity_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMoneyJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want affinity.Money
	}{
		{`12.90`, 129000}, {`"12.90"`, 129000}, {`12.9`, 129000}, {`-3`, -30000}, {`"-3"`, -30000},
		{`0.0001`, 1}, {`0`, 0}, {`"0.001"`, 10}, {`922337203685477.5807`, affinity.MaxMoney},
	} {
		var m affinity.Money
		require.NoError(t, json.Unmarshal([]byte(tc.in), &m), tc.in)
		assert.Equal(t, tc.want, m, tc.in)
	}
	for _, in := range []string{`1e3`, `12.34567`, `"abc"`, `"12.9`, `true`, `{}`, `[]`, `""`, `"1\u0032"`, `922337203685477.5808`, `"1,5"`} {
		var m affinity.Money
		assert.Error(t, json.Unmarshal([]byte(in), &m), in)
	}
	m := affinity.Money(77)
	require.NoError(t, json.Unmarshal([]byte(`null`), &m))
	assert.Equal(t, affinity.Money(77), m, "null leaves the value")

	b, err := json.Marshal(map[string]affinity.Money{"price": 129000, "refund": -25500, "tiny": 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"price":"12.90","refund":"-2.55","tiny":"0.0001"}`, string(b))

	// Every amount survives the round trip, as a string and as a number.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		// require only on a failure: its t.Helper costs more than the JSON
		want := extremeMoney(rng)
		b, err := json.Marshal(want)
		if err != nil || string(b) != `"`+want.String()+`"` {
			require.NoError(t, err)
			require.Equal(t, `"`+want.String()+`"`, string(b))
		}
		var got, num affinity.Money
		errGot := json.Unmarshal(b, &got)
		errNum := json.Unmarshal(b[1:len(b)-1], &num)
		if errGot != nil || got != want || errNum != nil || num != want {
			require.NoError(t, errGot)
			require.Equal(t, want, got)
			require.NoError(t, errNum)
			require.Equal(t, want, num)
		}
	}
}

func TestRecordsJSON(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	p := affinity.Purchase{Customer: "c1", Product: "sku-1", Order: "web-1", Time: at, Quantity: 2, Price: 129000}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"customer":"c1","product":"sku-1","order":"web-1","time":"2026-01-05T10:00:00Z","quantity":2,"price":"12.90"}`, string(b))
	var back affinity.Purchase
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p, back)

	// A shop's order webhook: a put with a price as a number, and a delete.
	var changes []affinity.OrderChange
	require.NoError(t, json.Unmarshal([]byte(`[
		{"key":"web-1","version":2,"lines":[{"customer":"c1","product":"sku-1","time":"2026-01-05T10:00:00Z","quantity":1,"price":12.90}]},
		{"key":"web-0","version":3,"delete":true}]`), &changes))
	require.Len(t, changes, 2)
	assert.Equal(t, affinity.Money(129000), changes[0].Lines[0].Price)
	assert.True(t, changes[1].Delete)
	var bl affinity.Builder
	for _, c := range changes {
		require.NoError(t, bl.Apply(c))
	}

	e := affinity.Event{Customer: "c1", Product: "sku-2", Time: at, Kind: affinity.Rating, Weight: 4}
	b, err = json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"customer":"c1","product":"sku-2","time":"2026-01-05T10:00:00Z","kind":"rating","weight":4}`, string(b))
	var eb affinity.Event
	require.NoError(t, json.Unmarshal(b, &eb))
	assert.Equal(t, e, eb)
	for k := affinity.View; k <= affinity.Wishlist; k++ {
		b, err := json.Marshal(k)
		require.NoError(t, err)
		var got affinity.EventKind
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, k, got)
	}
	_, err = json.Marshal(affinity.EventKind(0))
	assert.Error(t, err)
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"kind":"like"}`), &eb), "unknown event kind")

	pr := affinity.Product{Key: "sku-1", Name: "Running Shoes", Categories: []string{"Apparel/Running"}, Price: 899000, InStock: true}
	b, err = json.Marshal(pr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"key":"sku-1","name":"Running Shoes","categories":["Apparel/Running"],"price":"89.90","in_stock":true}`, string(b))
}

// An order line as a storefront posts it: snake_case fields, and the
// price as a decimal amount in currency units, a JSON number or string,
// read exactly.
func ExamplePurchase_json() {
	var lines []affinity.Purchase
	err := json.Unmarshal([]byte(`[
		{"customer":"c42","product":"sku-1","order":"web-7","time":"2026-01-05T10:00:00Z","quantity":2,"price":12.90},
		{"customer":"c42","product":"sku-2","order":"web-7","time":"2026-01-05T10:00:00Z","quantity":1,"price":"0.99"}]`), &lines)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range lines {
		fmt.Println(p.Product, p.Quantity, "×", p.Price, "=", p.Value())
	}
	b, _ := json.Marshal(lines[1])
	fmt.Println(string(b))
	// Output:
	// sku-1 2 × 12.90 = 25.80
	// sku-2 1 × 0.99 = 0.99
	// {"customer":"c42","product":"sku-2","order":"web-7","time":"2026-01-05T10:00:00Z","quantity":1,"price":"0.99"}
}

// FuzzRecordsJSON decodes arbitrary bytes as the JSON a storefront posts
// (whole orders, an event): never a panic, and what decodes encodes to
// text that decodes to the same value again.
func FuzzRecordsJSON(f *testing.F) {
	f.Add([]byte(`[{"key":"web-1","version":2,"lines":[{"customer":"c1","product":"sku-1","time":"2026-01-05T10:00:00Z","quantity":2,"price":12.90}]}]`))
	f.Add([]byte(`[{"key":"web-0","delete":true},{"key":"k","lines":[{"product":"p","time":"2026-01-05T10:00:00+02:00","quantity":-1,"price":"0.0001"}]}]`))
	f.Add([]byte(`{"customer":"c1","product":"p","time":"2026-01-05T10:00:00Z","kind":"rating","weight":4}`))
	f.Add([]byte(`[{"lines":[{"price":1e3}]},{"lines":[{"price":"12.345678"}]}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip := func(v, back any) {
			first, err := json.Marshal(v)
			if err != nil {
				return // a value JSON cannot hold, such as an unknown event kind
			}
			require.NoError(t, json.Unmarshal(first, back), "%s", first)
			second, err := json.Marshal(back)
			require.NoError(t, err)
			require.Equal(t, string(first), string(second))
		}
		var orders []affinity.OrderChange
		if json.Unmarshal(b, &orders) == nil {
			var back []affinity.OrderChange
			roundTrip(orders, &back)
		}
		var e affinity.Event
		if json.Unmarshal(b, &e) == nil {
			var back affinity.Event
			roundTrip(e, &back)
		}
		var m affinity.Money
		if json.Unmarshal(b, &m) == nil {
			var back affinity.Money
			roundTrip(m, &back)
			require.Equal(t, m, back)
		}
	})
}
