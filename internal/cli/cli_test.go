package cli

import (
	"errors"
	"flag"
	"io"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func flags() *flag.FlagSet {
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("data", "", "")
	fs.String("train", "", "")
	fs.String("format", "csv", "")
	fs.Int("k", 1, "")
	return fs
}

// formats stands in for dataset.Formats().
var formats = []string{"csv", "onlineretail", "movielens"}

func TestParse(t *testing.T) {
	for _, ok := range [][]string{
		{},
		{"-k", "2"},
		{"-data", "f.csv"},
		{"-data", "f.csv", "-format", "onlineretail"},
	} {
		assert.NoError(t, Parse(flags(), ok, formats, "data"), "%q", ok)
	}
	assert.NoError(t, Parse(flags(), []string{"-train", "t", "-format", "movielens"}, formats, "data", "train"))
	for _, bad := range [][]string{
		{"-bogus"},
		{"-k", "ten"},
		{"stray"},
		{"-data", "f.csv", "stray"},
		{"-format", "onlineretail"},
		{"-data", "", "-format", "onlineretail"},
		{"-data", "f.csv", "-format", "excel"},
		{"-data", "f.csv", "-format", "OnlineRetail"},
	} {
		err := Parse(flags(), bad, formats, "data")
		require.Error(t, err, "%q", bad)
		assert.ErrorIs(t, err, ErrUsage, "%q", bad)
	}
	err := Parse(flags(), []string{"-data", "f.csv", "-format", "excel"}, formats, "data")
	assert.EqualError(t, err, `-format "excel": want one of csv, onlineretail, movielens`)
	assert.NoError(t, Parse(flags(), []string{"-data", "f.csv", "-format", "excel"}, nil, "data"), "nil: not checked")
	err = Parse(flags(), []string{"-format", "csv"}, formats, "data")
	assert.EqualError(t, err, "-format applies to -data: give the file to read in that format")
	err = Parse(flags(), []string{"-format", "csv"}, formats, "data", "train")
	assert.EqualError(t, err, "-format applies to -data or -train: give the file to read in that format")
	assert.ErrorIs(t, Parse(flags(), []string{"-h"}, formats, "data"), flag.ErrHelp)
	assert.NotErrorIs(t, Parse(flags(), []string{"-h"}, formats, "data"), ErrUsage, "-h is no error")
}

func TestUsage(t *testing.T) {
	assert.NoError(t, Usage(nil))
	base := errors.New("-k 0: want at least 1")
	err := Usage(base)
	assert.ErrorIs(t, err, ErrUsage)
	assert.ErrorIs(t, err, base)
	assert.Equal(t, base.Error(), err.Error(), "the message is the error's own")
	assert.Equal(t, err, Usage(err), "marked once")
	assert.EqualError(t, Usagef("-x %d", 3), "-x 3")
	assert.ErrorIs(t, Usagef("-x: %w", base), base)
	assert.Equal(t, "-a, -b or -c", orList([]string{"-a", "-b", "-c"}))
}

func TestDuration(t *testing.T) {
	day := 24 * time.Hour
	d, err := Duration("half-life", 1.5, day, "day")
	require.NoError(t, err)
	assert.Equal(t, 36*time.Hour, d)
	d, err = Duration("half-life", 0, day, "day")
	require.NoError(t, err)
	assert.Zero(t, d)
	most := math.Floor(math.MaxInt64 / float64(day))
	d, err = Duration("half-life", most, day, "day")
	require.NoError(t, err)
	assert.Positive(t, d, "the largest value accepted does not wrap")
	week := 7 * day
	d, err = Duration("horizon", math.Floor(math.MaxInt64/float64(week)), week, "week")
	require.NoError(t, err)
	assert.Positive(t, d)
	for _, v := range []float64{-1, math.NaN(), math.Inf(1), most + 1, 200000, 1e12} {
		_, err := Duration("half-life", v, day, "day")
		require.Error(t, err, "%v", v)
		assert.ErrorIs(t, err, ErrUsage)
		assert.Contains(t, err.Error(), "-half-life")
	}
	_, err = Duration("x", math.MaxInt64, time.Nanosecond, "nanosecond")
	assert.Error(t, err, "2⁶³ ns wraps")
}
