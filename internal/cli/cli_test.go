package cli

import (
	"errors"
	"flag"
	"io"
	"testing"

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

func TestParse(t *testing.T) {
	for _, ok := range [][]string{
		{},
		{"-k", "2"},
		{"-data", "f.csv"},
		{"-data", "f.csv", "-format", "onlineretail"},
	} {
		assert.NoError(t, Parse(flags(), ok, "data"), "%q", ok)
	}
	assert.NoError(t, Parse(flags(), []string{"-train", "t", "-format", "movielens"}, "data", "train"))
	for _, bad := range [][]string{
		{"-bogus"},
		{"-k", "ten"},
		{"stray"},
		{"-data", "f.csv", "stray"},
		{"-format", "onlineretail"},
		{"-data", "", "-format", "onlineretail"},
	} {
		err := Parse(flags(), bad, "data")
		require.Error(t, err, "%q", bad)
		assert.ErrorIs(t, err, ErrUsage, "%q", bad)
	}
	err := Parse(flags(), []string{"-format", "csv"}, "data")
	assert.EqualError(t, err, "-format applies to -data: give the file to read in that format")
	err = Parse(flags(), []string{"-format", "csv"}, "data", "train")
	assert.EqualError(t, err, "-format applies to -data or -train: give the file to read in that format")
	assert.ErrorIs(t, Parse(flags(), []string{"-h"}, "data"), flag.ErrHelp)
	assert.NotErrorIs(t, Parse(flags(), []string{"-h"}, "data"), ErrUsage, "-h is no error")
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
