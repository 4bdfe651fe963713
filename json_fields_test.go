package affinity_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestJSONUnknownFields: Purchase, Event and OrderChange read from JSON
// ignored a field they do not have, so that a misspelt "customer_id" or
// "unit_price" made an anonymous or free line and a misspelt "vesion" an
// unversioned order, whatever the caller's decoder asked (a decoder's
// DisallowUnknownFields does not reach a type that decodes itself). Each
// refuses it now, naming the field, at any depth; a record that is spelt
// right, null, and a round trip read as before.
func TestJSONUnknownFields(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	p := affinity.Purchase{Customer: "c1", Product: "sku-1", Order: "o1", Time: at, Quantity: 2, Price: 12_9000}
	e := affinity.Event{Customer: "c1", Product: "sku-1", Time: at, Kind: affinity.Cart, Weight: 1}
	o := affinity.OrderChange{Key: "o1", Version: 7, Lines: []affinity.Purchase{p}}
	for _, tc := range []struct {
		name, field string
		v           any // a pointer to the record, read and marshalled
		misspell    func(string) string
	}{
		{"purchase customer_id", "customer_id", &affinity.Purchase{}, func(s string) string { return strings.Replace(s, `"customer":`, `"customer_id":`, 1) }},
		{"purchase unit_price", "unit_price", &affinity.Purchase{}, func(s string) string { return strings.Replace(s, `"price":`, `"unit_price":`, 1) }},
		{"purchase extra", "note", &affinity.Purchase{}, func(s string) string { return strings.Replace(s, `{`, `{"note":"gift",`, 1) }},
		{"event weigth", "weigth", &affinity.Event{}, func(s string) string { return strings.Replace(s, `"weight":`, `"weigth":`, 1) }},
		{"order vesion", "vesion", &affinity.OrderChange{}, func(s string) string { return strings.Replace(s, `"version":`, `"vesion":`, 1) }},
		{"order deleted", "deleted", &affinity.OrderChange{}, func(s string) string { return strings.Replace(s, `"delete":`, `"deleted":`, 1) }},
		{"order line unit_price", "unit_price", &affinity.OrderChange{}, func(s string) string { return strings.Replace(s, `"price":`, `"unit_price":`, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var good any
			switch tc.v.(type) {
			case *affinity.Purchase:
				good = p
			case *affinity.Event:
				good = e
			default:
				good = o
			}
			b, err := json.Marshal(good)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, tc.v), "spelt right")
			bad := tc.misspell(string(b))
			require.NotEqual(t, string(b), bad)
			err = json.Unmarshal([]byte(bad), tc.v)
			require.Error(t, err, bad)
			assert.Contains(t, err.Error(), `unknown field "`+tc.field+`"`)
		})
	}
	var q affinity.Purchase
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &q))
	assert.Equal(t, p, q)
	var oc affinity.OrderChange
	b, err = json.Marshal(o)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &oc))
	assert.Equal(t, o.Key, oc.Key)
	assert.Equal(t, o.Version, oc.Version)
	require.Len(t, oc.Lines, 1)
	assert.True(t, oc.Lines[0].Time.Equal(at))
	require.NoError(t, json.Unmarshal([]byte("null"), &oc), "null leaves the value as it is")
	assert.Equal(t, o.Key, oc.Key)
	require.Error(t, q.UnmarshalJSON([]byte(`{"product":"p"} {}`)), "data after the value")
}
