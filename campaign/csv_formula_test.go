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

// TestCellTextRoundTrip: a program reading WriteCSV's file gets each text
// field as it was through CellText (the lists through SplitList), while
// the file still shows a spreadsheet the guarded text; WriteJSON and
// ReadJSON keep the values with no guard at all.
func TestCellTextRoundTrip(t *testing.T) {
	at := time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC)
	var msgs []campaign.Message
	for _, key := range []string{"-42", "+4917612345678", "=x", "'-7", "plain"} {
		msgs = append(msgs, campaign.Message{Campaign: "winback", Customer: key, Email: "-joe@example.com", Offer: key, Time: at,
			Items: []campaign.Item{{Product: key, Name: "n", Reason: "r"}}})
	}
	var buf bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&buf, msgs))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(msgs)+1)
	for i, m := range msgs {
		row := rows[i+1]
		if m.Customer != "plain" {
			assert.Equal(t, "'"+m.Customer, row[1], "the file guards %q", m.Customer)
		}
		assert.Equal(t, "'"+m.Email, row[2])
		assert.Equal(t, []string{m.Campaign, m.Customer, m.Email, m.Offer},
			[]string{campaign.CellText(row[0]), campaign.CellText(row[1]), campaign.CellText(row[2]), campaign.CellText(row[4])})
		assert.Equal(t, []string{m.Customer}, campaign.SplitList(row[6]))
	}

	buf.Reset()
	require.NoError(t, campaign.WriteJSON(&buf, msgs))
	back, err := campaign.ReadJSON(&buf)
	require.NoError(t, err)
	require.Len(t, back, len(msgs))
	for i, m := range msgs {
		assert.Equal(t, m.Customer, back[i].Customer)
		assert.Equal(t, m.Email, back[i].Email)
		assert.Equal(t, m.Offer, back[i].Offer)
	}
}
