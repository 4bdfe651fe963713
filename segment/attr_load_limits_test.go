package segment_test

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrLoadErrorsQuoteShort: an error of LoadAttributes quotes at most
// a short excerpt of the file, as every other error quotes input; a bad
// flag or date quoted its whole value (a megabyte) and a missing column
// listed the whole header.
func TestAttrLoadErrorsQuoteShort(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	huge := strings.Repeat("x", 1<<19)
	many := strings.Repeat("col,", 100_000)
	for _, c := range []struct {
		name, csv string
		o         segment.AttributeOptions
		at        string
	}{
		{"flag", "customer,optin\nc000," + huge + "\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 2, column 2 (optin)"},
		{"date", "customer,signup\nc000," + huge + "\n", segment.AttributeOptions{Dates: []string{"signup"}}, "line 2, column 2 (signup)"},
		{"long header", "customer," + huge + "\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 1"},
		{"wide header", many + "customer\n", segment.AttributeOptions{Flags: []string{"optin"}}, "line 1"},
	} {
		_, _, err := segment.LoadAttributes(strings.NewReader(c.csv), x, c.o)
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.at, c.name)
		assert.Less(t, len(err.Error()), 600, "%s: %.300s", c.name, err.Error())
	}
}

// TestAttrLoadAmbiguousHeader: a column named in the options that two
// headers match (whatever their case and spaces) is an error naming both
// positions; it read the first and silently ignored the second.
func TestAttrLoadAmbiguousHeader(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct {
		csv, want string
		o         segment.AttributeOptions
	}{
		{"customer,optin,OptIn\nc000,1,0\n", "columns 2 and 3", segment.AttributeOptions{Flags: []string{"optin"}}},
		{"customer,note, customer\nc000,x,c001\n", "columns 1 and 3", segment.AttributeOptions{}},
		{"customer,signup,signup\nc000,2025-01-01,2025-02-01\n", "columns 2 and 3", segment.AttributeOptions{Dates: []string{"signup"}}},
	} {
		a, _, err := segment.LoadAttributes(strings.NewReader(c.csv), x, c.o)
		require.Error(t, err, c.csv)
		assert.Nil(t, a)
		assert.Contains(t, err.Error(), "line 1", c.csv)
		assert.Contains(t, err.Error(), c.want, c.csv)
	}
	// headers the options do not name may repeat
	_, rep, err := segment.LoadAttributes(strings.NewReader("customer,note,note,optin\nc000,a,b,1\n"), x,
		segment.AttributeOptions{Flags: []string{"optin"}})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Loaded)
}

// TestAttrLoadChecksRowsOfUnknownCustomers: a value that does not parse is
// an error on the row of a customer the index does not know too, so that
// whether a file loads does not depend on the index; such rows were
// skipped unchecked, and the same file failed for a later index.
func TestAttrLoadChecksRowsOfUnknownCustomers(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	o := segment.AttributeOptions{Flags: []string{"optin"}, Dates: []string{"signup"}, Texts: []string{"email"}}
	for _, c := range []struct{ csv, at string }{
		{"customer,optin,signup,email\nc000,1,2025-01-01,a@b\nnobody,maybe,,\n", "line 3, column 2 (optin)"},
		{"customer,optin,signup,email\nnobody,,2025-02-30,\nc000,1,2025-01-01,a@b\n", "line 2, column 3 (signup)"},
		{"customer,optin,signup,email\nnobody,,," + strings.Repeat("x", segment.MaxAttributeValue+1) + "\n", "line 2, column 4 (email)"},
	} {
		a, _, err := segment.LoadAttributes(strings.NewReader(c.csv), x, o)
		require.Error(t, err, c.csv)
		assert.Nil(t, a)
		assert.Contains(t, err.Error(), c.at, c.csv)
	}
	// good values of unknown customers are counted and skipped
	a, rep, err := segment.LoadAttributes(strings.NewReader("customer,optin,signup,email\nnobody,yes,2025-01-01,a@b\nc001,no,,\n"), x, o)
	require.NoError(t, err)
	assert.Equal(t, segment.AttributeReport{Rows: 2, Loaded: 1, UnknownCustomers: 1}, rep)
	flags, dates, texts := a.Names()
	assert.Equal(t, []string{"optin"}, flags)
	assert.Empty(t, dates)
	assert.Empty(t, texts)
}

// TestAttrLoadBOMBeforeQuotedHeader: a byte-order mark before a quoted
// header is skipped as before a bare one; the quote after it was a bare
// quote to the CSV reader and the file did not load.
func TestAttrLoadBOMBeforeQuotedHeader(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	for _, src := range []string{
		"\ufeff\"customer\",\"optin\"\r\n\"c000\",\"1\"\r\n",
		"\ufeff\"customer\",optin\nc000,1\n",
		"\ufeffcustomer,optin\nc000,1\n",
	} {
		a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, segment.AttributeOptions{Flags: []string{"optin"}})
		require.NoError(t, err, "%q", src)
		assert.Equal(t, segment.AttributeReport{Rows: 1, Loaded: 1}, rep)
		assert.Equal(t, []uint32{0}, a.Flag("optin").ToArray())
	}
	// a mark alone is an empty file
	_, _, err := segment.LoadAttributes(strings.NewReader("\ufeff"), x, segment.AttributeOptions{})
	require.ErrorContains(t, err, "empty file")
}

// infiniteLines is a stream of short lines that never ends.
type infiniteLines struct{}

func (infiniteLines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "x\n"[i%2]
	}
	return len(p), nil
}

// TestAttrLoadRecordBound: a record longer than MaxAttributeRecord bytes —
// a huge field, a quote that never closes over endless short lines, a
// huge header — is an error naming the line after which it starts, read
// in bounded memory; a quote that never closed read the whole stream.
// A record just under the bound loads.
func TestAttrLoadRecordBound(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	o := segment.AttributeOptions{Flags: []string{"optin"}}
	for _, c := range []struct {
		name string
		r    io.Reader
		at   string
	}{
		{"open quote", io.MultiReader(strings.NewReader("customer,note,optin\nc000,\"a\nb\",1\nc001,\""), infiniteLines{}), "after line 3"},
		{"huge field", strings.NewReader("customer,note,optin\nc000,x,1\nc001," + strings.Repeat("x", segment.MaxAttributeRecord) + ",1\n"), "after line 2"},
		{"huge header", strings.NewReader("customer,optin," + strings.Repeat("x", segment.MaxAttributeRecord) + "\n"), "line 1"},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		a, _, err := segment.LoadAttributes(io.LimitReader(c.r, 64<<20), x, o)
		runtime.ReadMemStats(&after)
		require.Error(t, err, c.name)
		assert.Nil(t, a)
		assert.Contains(t, err.Error(), c.at, c.name)
		assert.Contains(t, err.Error(), "MaxAttributeRecord", c.name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), c.name)
	}
	// a 1 MB file of one huge field (in a column not read) loads
	src := "customer,note,optin\nc000," + strings.Repeat("x", segment.MaxAttributeRecord-100) + ",1\nc001,,0\n"
	a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, o)
	require.NoError(t, err)
	assert.Equal(t, segment.AttributeReport{Rows: 2, Loaded: 2}, rep)
	assert.Equal(t, []uint32{0}, a.Flag("optin").ToArray())
}

// TestAttrLoadDatesIgnoreLocalZone: a date with a zone abbreviation is
// read the same whatever the machine's local zone; time.Parse gave the
// abbreviation of the local zone its offset, so that "2024-03-01 22:00
// EST" was March 2 on a machine in New York and March 1 elsewhere.
func TestAttrLoadDatesIgnoreLocalZone(t *testing.T) {
	x := attrIndex(t, 1, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	o := segment.AttributeOptions{Dates: []string{"signup"}, DateLayout: "2006-01-02 15:04 MST"}
	src := "customer,signup\nc000,2024-03-01 22:00 EST\n"
	load := func() time.Time {
		a, _, err := segment.LoadAttributes(strings.NewReader(src), x, o)
		require.NoError(t, err)
		d, ok := a.Date("signup", 0)
		require.True(t, ok)
		return d
	}
	utc := load()
	local := time.Local
	time.Local = time.FixedZone("EST", -5*3600)
	defer func() { time.Local = local }()
	assert.Equal(t, utc, load())
	assert.Equal(t, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), utc)
}
