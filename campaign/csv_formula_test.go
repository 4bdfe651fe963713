package campaign_test

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
)

// TestWriteCSVGuardsFormulas: every text field that a spreadsheet would
// run as a formula (campaign, customer, e-mail, offer and the lists, by
// their first item) is written with an apostrophe before it; the control
// flag, the time and plain text are written as they are, and SplitList
// reads the lists back as they were.
func TestWriteCSVGuardsFormulas(t *testing.T) {
	at := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	for _, key := range []string{`=HYPERLINK("http://x","y")`, "+1+1", "-2+3", "@SUM(A1)", "\tx", "'=quoted", "plain"} {
		t.Run(key, func(t *testing.T) {
			want := "'" + key
			if key == "plain" {
				want = key
			}
			msg := campaign.Message{Campaign: key, Customer: key, Email: key, Offer: key, Time: at,
				Items: []campaign.Item{{Product: key, Name: key, Reason: key}, {Product: "-p2", Name: "n2", Reason: "r2"}}}
			var buf bytes.Buffer
			require.NoError(t, campaign.WriteCSV(&buf, []campaign.Message{msg}))
			rows, err := csv.NewReader(&buf).ReadAll()
			require.NoError(t, err)
			require.Len(t, rows, 2)
			row := rows[1]
			for _, i := range []int{0, 1, 2, 4} {
				assert.Equal(t, want, row[i], "%s", rows[0][i])
			}
			assert.Equal(t, "false", row[3])
			assert.Equal(t, at.Format(time.RFC3339), row[5])
			for i, second := range map[int]string{6: "-p2", 7: "n2", 8: "r2"} {
				assert.Equal(t, want+"|"+second, row[i], "%s", rows[0][i])
				assert.Equal(t, []string{key, second}, campaign.SplitList(row[i]), "%s reads back", rows[0][i])
			}
		})
	}
}
