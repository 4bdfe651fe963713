package campaign_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
)

// TestReadJSONNamesTheField: a value of the wrong type is named as
// encoding/json names it in a plain struct (Message.control,
// Item.items.product); the strict decoding's wrapper types showed
// through as ".plain.control" and "Item.plain.items.product".
func TestReadJSONNamesTheField(t *testing.T) {
	for _, c := range []struct{ json, field string }{
		{`[{"campaign":"a","customer":"c","time":"2026-01-01T00:00:00Z","control":"true"}]`, "Go struct field Message.control of type bool"},
		{`[{"campaign":"a","customer":"c","time":"2026-01-01T00:00:00Z","items":[{"product":3}]}]`, "Go struct field Item.items.product of type string"},
		{`["abc"]`, "Go value of type campaign.Message"},
	} {
		_, err := campaign.ReadJSON(strings.NewReader(c.json))
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.field)
		assert.NotContains(t, err.Error(), "plain")
	}
}
