package dataset_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/reliability"
)

// TestLoadTimeOffsets: a UTC offset is read as RFC 3339 writes it, hours
// 00–23 and minutes 00–59. time.Parse alone also reads "+24:00" and
// "+23:60", a day ahead of UTC, which no zone has; such a row is an
// invalid time (strict: an error at its line and column; lenient:
// skipped and counted), not an order a day off.
func TestLoadTimeOffsets(t *testing.T) {
	cases := []struct {
		layouts []string // nil: the format's defaults
		time    string
		want    time.Time // zero: an invalid time
	}{
		{nil, "2024-03-01T10:00:00+23:59", time.Date(2024, 2, 29, 10, 1, 0, 0, time.UTC)},
		{nil, "2024-03-01T10:00:00-23:59", time.Date(2024, 3, 2, 9, 59, 0, 0, time.UTC)},
		{nil, "2024-03-01T10:00:00+05:30", time.Date(2024, 3, 1, 4, 30, 0, 0, time.UTC)},
		{nil, "2024-03-01T10:00:00.5+00:00", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)},
		{nil, "2024-03-01T10:00:00+24:00", time.Time{}},
		{nil, "2024-03-01T10:00:00-24:00", time.Time{}},
		{nil, "2024-03-01T10:00:00+23:60", time.Time{}},
		{nil, "2024-03-01T10:00:00+22:60", time.Time{}}, // as long as +23:00, but not a valid offset
		{nil, "2024-03-01T10:00:00.25-00:99", time.Time{}},
		{[]string{"2006-01-02 15:04:05-0700"}, "2024-03-01 10:00:00+0130", time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC)},
		{[]string{"2006-01-02 15:04:05-0700"}, "2024-03-01 10:00:00+2400", time.Time{}},
		{[]string{"2006-01-02 15:04:05-0700"}, "2024-03-01 10:00:00-0060", time.Time{}},
		{[]string{"2006-01-02 15:04:05-07"}, "2024-03-01 10:00:00+24", time.Time{}},
		{[]string{"2006-01-02 15:04:05-07"}, "2024-03-01 10:00:00-23", time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC)},
		// an offset written before the year: only its size is checked
		{[]string{"-07:00 2006-01-02 15:04"}, "+24:00 2024-03-01 10:00", time.Time{}},
		{[]string{"-07:00 2006-01-02 15:04"}, "+01:00 2024-03-01 10:00", time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)},
	}
	invalid := 0
	for _, c := range cases {
		if c.want.IsZero() {
			invalid++
		}
		t.Run(c.time, func(t *testing.T) {
			data := "customer,product,time\nc1,p1,2024-01-01T00:00:00Z\nc2,p2," + c.time + "\n"
			opts := dataset.Options{}
			if c.layouts != nil {
				opts.TimeLayouts = append(c.layouts, time.RFC3339) // the first row's
			}
			rep, err := loadErr(data, opts)
			if c.want.IsZero() {
				var pe *dataset.ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, 3, pe.Line)
				assert.Equal(t, 3, pe.Column)
				assert.Equal(t, "invalid time", pe.Reason)
				assert.Equal(t, 1, rep.Loaded)

				opts.Lenient = true
				h, rep := loadString(t, data, opts)
				assert.Equal(t, []dataset.Skip{{Reason: "invalid time", Count: 1, FirstLine: 3}}, rep.Skipped)
				assert.Equal(t, 1, h.NumLines())
				return
			}
			require.NoError(t, err)
			h, _ := loadString(t, data, opts)
			require.Equal(t, 2, h.NumLines())
			assert.Equal(t, c.want.Unix(), h.OrderUnix(1), "%v", h.OrderTime(1))
		})
	}
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "UTC offsets of a day or more, or minutes beyond 59 (+24:00, -24:00, +23:60, +22:60, +2400, -0060, +24)", Cases: invalid,
		Outcome: "strict: \"invalid time\" with line and column; lenient: skipped and counted; in range (+23:59, -23) read exactly"})
}
