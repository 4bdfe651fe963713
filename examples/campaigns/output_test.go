package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
)

// TestListsReplaced: the lists are written to a temporary file and
// renamed over the old ones, not truncated and rewritten in place: a
// reader of an earlier plan.csv (here, a second link to it) keeps the
// earlier plan whole, and no temporary file is left behind.
func TestListsReplaced(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "plan.csv")
	require.NoError(t, os.WriteFile(old, []byte("the earlier plan\n"), 0o644))
	reader := filepath.Join(t.TempDir(), "open-by-a-reader.csv")
	require.NoError(t, os.Link(old, reader))
	plan := &campaign.Plan{Messages: []campaign.Message{{Campaign: "x", Customer: "c1", Time: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}}}
	require.NoError(t, writeLists(dir, plan, nil))
	b, err := os.ReadFile(reader)
	require.NoError(t, err)
	assert.Equal(t, "the earlier plan\n", string(b), "the earlier file was overwritten in place")
	var want bytes.Buffer
	require.NoError(t, campaign.WriteCSV(&want, plan.Messages))
	b, err = os.ReadFile(old)
	require.NoError(t, err)
	assert.Equal(t, want.String(), string(b))
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	assert.ElementsMatch(t, []string{"plan.csv", "plan.json", "results.json"}, got)
}

// TestCohortGridPartialMonth: the month of asOf, observed only up to
// asOf, was drawn as a whole month: every cohort's last cell held part of
// a month of purchases, a dark diagonal of false low retention. It is
// NaN (grey) as the months after it are, unless asOf is the month's last
// instant.
func TestCohortGridPartialMonth(t *testing.T) {
	co := &clv.Cohorts{
		Months: []time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		Size:   []int{10, 10, 10},
		Active: [][]int{{10, 5, 1}, {10, 4}, {10}},
	}
	// row r is cohort 2-r; cell c is month c+1 after it
	mid := newCohortGrid(co, time.Date(2025, 3, 15, 12, 0, 0, 0, time.UTC))
	assert.InDelta(t, 50, mid.Z(0, 2), 1e-9, "January's February: over")
	assert.True(t, math.IsNaN(mid.Z(1, 2)), "January's March: not over on 15 March")
	assert.True(t, math.IsNaN(mid.Z(0, 1)), "February's March: not over on 15 March")
	assert.True(t, math.IsNaN(mid.Z(1, 1)), "February's April: not observed")
	end := newCohortGrid(co, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond))
	assert.InDelta(t, 10, end.Z(1, 2), 1e-9, "January's March: over at its last instant")
	assert.InDelta(t, 40, end.Z(0, 1), 1e-9)
}

// TestCohortsHeading: the heading said "the last six complete cohorts"
// whatever number of cohorts followed it.
func TestCohortsHeading(t *testing.T) {
	heading := regexp.MustCompile(`Cohorts: month-1 retention of the last (\d+ )?complete cohorts?:(.*)`)
	month := regexp.MustCompile(`\d{4}-\d{2}`)
	for _, months := range []int{2, 3, 5, 8, 12} {
		co := &clv.Cohorts{}
		for i := range months {
			co.Months = append(co.Months, time.Date(2025, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC))
			co.Size = append(co.Size, 4)
			co.Active = append(co.Active, make([]int, months-i))
		}
		var out bytes.Buffer
		printCohorts(&out, co)
		m := heading.FindStringSubmatch(out.String())
		if months == 2 {
			assert.Nil(t, m, out.String())
			assert.Contains(t, out.String(), "no cohort has a complete month 1")
			continue
		}
		require.NotNil(t, m, out.String())
		shown := len(month.FindAllString(m[2], -1))
		assert.Equal(t, min(6, months-2), shown)
		if n := strings.TrimSpace(m[1]); n != "" {
			assert.Equal(t, strconv.Itoa(shown), n)
		} else {
			assert.Equal(t, 1, shown)
		}
	}
}

// TestFirstMessageWithoutNames: in a catalog without product names
// (CDNOW) the first message listed its items as empty strings; the
// product key stands in.
func TestFirstMessageWithoutNames(t *testing.T) {
	plan := &campaign.Plan{Messages: []campaign.Message{
		{Campaign: "win-back", Customer: "00133", Items: []campaign.Item{{Product: "cd", Reason: "bought 7 times"}}},
	}}
	var out bytes.Buffer
	require.NoError(t, printPlan(&out, plan))
	assert.Contains(t, out.String(), "first message: win-back to 00133: cd (bought 7 times);")
}
