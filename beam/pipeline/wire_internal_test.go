package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/segment"
)

// TestWireKeepsBytes: Beam serialises a DoFn with encoding/json, which
// turns invalid UTF-8 into U+FFFD; a wire field arrives byte for byte,
// and so does its zero value.
func TestWireKeepsBytes(t *testing.T) {
	for name, fn := range map[string]joinFn{
		"latin-1": {Segment: wired(segment.Options{RFMRules: []segment.RFMRule{{Name: "Fid\xe8les"}}, TopN: 3}),
			NonMerch: wired([]string{"CAF\xe9", "POST"}), Output: wired("/out/f\xe9vrier")},
		"zero": {},
	} {
		t.Run(name, func(t *testing.T) {
			data, err := json.Marshal(&fn)
			require.NoError(t, err)
			var got joinFn
			require.NoError(t, json.Unmarshal(data, &got))
			assert.Equal(t, fn, got)
		})
	}
}
