package affinity_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestUnmarshalJSONNamesTheField: a value of the wrong type is named as
// encoding/json names it in a plain struct; the strict decoding's wrapper
// types showed through (".plain.customer", "plain.version", "Go value of
// type affinity.plain").
func TestUnmarshalJSONNamesTheField(t *testing.T) {
	for _, c := range []struct {
		json, field string
		v           any
	}{
		{`{"customer":5}`, "Go struct field Purchase.customer of type string", new(affinity.Purchase)},
		{`{"customer":5}`, "Go struct field Event.customer of type string", new(affinity.Event)},
		{`{"version":"x"}`, "Go struct field OrderChange.version of type", new(affinity.OrderChange)},
		{`{"lines":[{"customer":5}]}`, "Go struct field OrderChange.lines.customer of type string", new(affinity.OrderChange)},
		{`{"lines":["x"]}`, "Go struct field OrderChange.lines of type affinity.Purchase", new(affinity.OrderChange)},
		{`"x"`, "Go value of type affinity.Purchase", new(affinity.Purchase)},
		{`5`, "Go value of type affinity.OrderChange", new(affinity.OrderChange)},
	} {
		err := json.Unmarshal([]byte(c.json), c.v)
		require.Error(t, err, c.json)
		assert.Contains(t, err.Error(), c.field)
		assert.NotContains(t, err.Error(), "plain")
	}
}
