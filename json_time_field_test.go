package affinity_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// badJSONTimes are JSON values the strict decoding of a record's time
// refuses, with what its error says of each besides the field.
var badJSONTimes = map[string]string{
	`"yesterday"`:                 `string "yesterday" (not an RFC 3339 time`,
	`"2026-13-01T00:00:00Z"`:      `month out of range`,
	`"2026-01-05T10:00:00"`:       `string "2026-01-05T10:00:00" (not an RFC 3339 time`,
	`"2026-01-05T10:00:00+24:00"`: `UTC offset out of range`,
	`"2026-01-05T10:00:00+23:60"`: `UTC offset out of range`,
	`1767607200`:                  `number 1767607200`,
	`true`:                        `bool`,
	`{}`:                          `object`,
	`["2026-01-05T10:00:00Z"]`:    `array`,
}

// TestJSONTimeNamesTheField: a time that the JSON of a Purchase, an Event
// or an OrderChange's line cannot read is a type error naming the field
// with its path, as a value of the wrong type in any other field; it read
// "Time.UnmarshalJSON: …" or "parsing time …", naming no field.
func TestJSONTimeNamesTheField(t *testing.T) {
	timeType := reflect.TypeFor[time.Time]()
	for value, want := range badJSONTimes {
		for _, c := range []struct {
			json, field string
			v           any
		}{
			{`{"customer":"c","product":"p","time":` + value + `,"quantity":1,"price":1}`, "Purchase.time", new(affinity.Purchase)},
			{`{"customer":"c","product":"p","time":` + value + `,"kind":"view","weight":1}`, "Event.time", new(affinity.Event)},
			{`{"key":"o1","lines":[{"product":"p","time":"2026-01-05T10:00:00Z"},{"product":"p","time":` + value + `}]}`, "OrderChange.lines.time", new(affinity.OrderChange)},
			{`[{"key":"o1","lines":[{"product":"p","time":` + value + `}]}]`, "OrderChange.lines.time", new([]affinity.OrderChange)},
		} {
			err := json.Unmarshal([]byte(c.json), c.v)
			require.Error(t, err, c.json)
			var te *json.UnmarshalTypeError
			require.ErrorAs(t, err, &te, c.json)
			assert.Equal(t, c.field, te.Struct+"."+te.Field, c.json)
			assert.Equal(t, timeType, te.Type, c.json)
			assert.Contains(t, err.Error(), "Go struct field "+c.field+" of type time.Time", c.json)
			assert.Contains(t, err.Error(), want, c.json)
			assert.NotContains(t, strings.ToLower(err.Error()), "plain", c.json)
		}
	}
	// a time that reads, and null, still do
	var p affinity.Purchase
	require.NoError(t, json.Unmarshal([]byte(`{"product":"p","time":"2026-01-05T10:00:00+23:59"}`), &p))
	assert.Equal(t, time.Date(2026, 1, 5, 10, 0, 0, 0, time.FixedZone("", 23*3600+59*60)).Unix(), p.Time.Unix())
	p = affinity.Purchase{}
	require.NoError(t, json.Unmarshal([]byte(`{"product":"p","time":null}`), &p))
	assert.True(t, p.Time.IsZero())
}
