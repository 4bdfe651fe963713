package campaign_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
)

// TestReadJSONNamesTheMessage: the error of a bad message in a list names
// the message by its place and where it starts (line, byte offset), be
// it a decode error (an unknown field, a value of the wrong type, a time
// that does not parse) or a message the plan cannot hold. A decode error
// said only what was wrong, not in which of the messages.
func TestReadJSONNamesTheMessage(t *testing.T) {
	msg := func(campaignName string) string {
		return `{"campaign":"` + campaignName + `","customer":"x","time":"2026-01-05T10:00:00Z","control":false,"items":[{"product":"p"}]}`
	}
	good := msg("ok")
	for name, bad := range map[string]string{
		"unknown field":      strings.Replace(good, `"control"`, `"contrl"`, 1),
		"wrong type":         strings.Replace(good, `"control":false`, `"control":"no"`, 1),
		"bad time":           strings.Replace(good, `2026-01-05T10:00:00Z`, `yesterday`, 1),
		"item without field": strings.Replace(good, `{"product":"p"}`, `{"product":"p","qty":1}`, 1),
		"no campaign":        msg(""),
		"no product":         strings.Replace(good, `{"product":"p"}`, `{"product":""}`, 1),
		"null":               "null",
	} {
		t.Run(name, func(t *testing.T) {
			for _, sep := range []string{",", ",\n  ", " ,\r\n\t"} {
				for place := 1; place <= 3; place++ {
					list := []string{good, good, good}
					list[place-1] = bad
					in := "[\n  " + strings.Join(list, sep) + "\n]\n"
					// where the bad message starts: after place-1 good ones
					off := len("[\n  ") + (place-1)*(len(good)+len(sep))
					require.True(t, strings.HasPrefix(in[off:], bad))
					_, err := campaign.ReadJSON(strings.NewReader(in))
					require.Error(t, err)
					want := fmt.Sprintf("message %d (line %d, byte %d)", place, strings.Count(in[:off], "\n")+1, off)
					assert.Contains(t, err.Error(), want, "%q", in)
				}
			}
		})
	}
}

// TestReadJSONNotAList: input that is no array of messages is refused
// with an error saying what it is, and a list cut short is an error.
func TestReadJSONNotAList(t *testing.T) {
	for in, want := range map[string]string{
		``:                 "no input",
		` `:                "no input",
		`null`:             "null, not an array",
		`{"campaign":"c"}`: "an object, not an array",
		`"abc"`:            "a string, not an array",
		`12`:               "a number, not an array",
		`true`:             "a boolean, not an array",
		`[`:                "unexpected EOF",
		`[{"campaign":"c"`: "message 1 (line 1, byte 1)",
		`[] []`:            "data after the array at byte 3",
		`[}`:               "invalid character",
		`[{"campaign":"c","customer":"x","time":"2026-01-05T10:00:00Z"} {}]`: "message 2 (line 1, byte 63)",
	} {
		msgs, err := campaign.ReadJSON(strings.NewReader(in))
		require.Error(t, err, "%q", in)
		assert.Nil(t, msgs, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}
	msgs, err := campaign.ReadJSON(strings.NewReader(" [ ] "))
	require.NoError(t, err)
	assert.NotNil(t, msgs)
	assert.Empty(t, msgs)
}
