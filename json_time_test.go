package affinity_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestJSONTimeOffsets: encoding/json reads "+24:00" (and "+23:60"), an
// offset RFC 3339 does not allow, as a time a day earlier; the loaders of
// files refuse it as a row error, and so do Purchase and Event in JSON
// (a storefront's POSTed orders). Allowed offsets, "Z", null and a
// missing time read as before.
func TestJSONTimeOffsets(t *testing.T) {
	for _, bad := range []string{"2026-01-05T10:00:00+24:00", "2026-01-05T10:00:00+23:60", "2026-01-05T10:00:00-24:00"} {
		var p affinity.Purchase
		err := json.Unmarshal([]byte(`{"customer":"c","product":"p","time":"`+bad+`","quantity":1,"price":"1.00"}`), &p)
		require.ErrorContains(t, err, "UTC offset out of range", bad)
		var e affinity.Event
		err = json.Unmarshal([]byte(`{"customer":"c","product":"p","time":"`+bad+`","kind":"view","weight":1}`), &e)
		require.ErrorContains(t, err, "UTC offset out of range", bad)
	}
	var p affinity.Purchase
	require.NoError(t, json.Unmarshal([]byte(`{"customer":"c","product":"p","order":"o1","time":"2026-01-05T10:00:00+23:59","quantity":2,"price":12.5}`), &p))
	assert.Equal(t, affinity.Purchase{Customer: "c", Product: "p", Order: "o1", Time: time.Date(2026, 1, 5, 10, 0, 0, 0, time.FixedZone("", 23*3600+59*60)), Quantity: 2, Price: 12_5000}, p)
	var e affinity.Event
	require.NoError(t, json.Unmarshal([]byte(`{"customer":"c","product":"p","time":"2026-01-05T10:00:00Z","kind":"rating","weight":4}`), &e))
	assert.Equal(t, affinity.Event{Customer: "c", Product: "p", Time: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Kind: affinity.Rating, Weight: 4}, e)
	for _, s := range []string{`{"product":"p","time":null}`, `{"product":"p"}`} {
		var p affinity.Purchase
		require.NoError(t, json.Unmarshal([]byte(s), &p), s)
		assert.True(t, p.Time.IsZero(), s)
	}
	// a round trip keeps every field
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var q affinity.Purchase
	require.NoError(t, json.Unmarshal(b, &q))
	assert.True(t, p.Time.Equal(q.Time))
	q.Time = p.Time
	assert.Equal(t, p, q)
}
