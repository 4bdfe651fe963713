package campaign_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
)

// TestJSONTimeNamesTheField: a message's time that does not read is a
// type error naming the field, directly and through ReadJSON (which names
// the message too); it read "Time.UnmarshalJSON: …" or "parsing time …".
func TestJSONTimeNamesTheField(t *testing.T) {
	for _, value := range []string{`"yesterday"`, `"2026-02-30T00:00:00Z"`, `"2026-01-05T10:00:00+24:00"`, `20260105`, `false`, `{}`} {
		in := `{"campaign":"c","customer":"x","time":` + value + `,"control":false,"items":[]}`
		var m campaign.Message
		err := json.Unmarshal([]byte(in), &m)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, in)
		assert.Equal(t, "Message", te.Struct, in)
		assert.Equal(t, "time", te.Field, in)
		_, err = campaign.ReadJSON(strings.NewReader("[" + in + "]"))
		require.ErrorAs(t, err, &te, in)
		assert.Contains(t, err.Error(), "message 1 (line 1, byte 1): json: cannot unmarshal", in)
		assert.Contains(t, err.Error(), "into Go struct field Message.time of type time.Time", in)
	}
}
