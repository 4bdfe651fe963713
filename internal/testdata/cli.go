package testdata

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command-line contract every example program keeps (README.md,
// "Runnable examples"): with -data FILE -format NAME it reads the file
// and prints the load report and History.Summary() first; a failed load
// or a bad flag is an error naming the file, with the line for parse
// errors, never a panic and never a success-looking report. [CLI.Check]
// tests it on a small Online Retail file.

// RetailHeader is the header line of an Online Retail file.
const RetailHeader = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"

// RetailRow is the first of [RetailRows]: one order of one line by
// customer 17850 on 2010-12-01, for 15.30.
const RetailRow = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"

// RetailRows are eight Online Retail rows, each ending in a newline: two
// customers (17850, 13047), four products and five orders from
// 2010-12-01 to 2011-01-03.
const RetailRows = RetailRow +
	"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n" +
	"536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom\n" +
	"536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047,United Kingdom\n" +
	"536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-20 09:00:00,2.55,13047,United Kingdom\n" +
	"536368,71053,WHITE METAL LANTERN,1,2010-12-20 09:00:00,3.39,13047,United Kingdom\n" +
	"536369,22633,HAND WARMER UNION JACK,3,2011-01-03 10:00:00,1.85,17850,United Kingdom\n" +
	"536369,84879,ASSORTED COLOUR BIRD ORNAMENT,3,2011-01-03 10:00:00,1.69,17850,United Kingdom\n"

// WriteFile writes data to a file called name in a new temporary folder
// of t and returns its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// Gzip returns data compressed with gzip.
func Gzip(t testing.TB, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// Capture calls run with a fresh buffer and returns what it wrote there
// and its error; a panic in run becomes an error starting "PANIC: ".
func Capture(run func(w io.Writer) error) (out string, err error) {
	var w bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
		out = w.String()
	}()
	return "", run(&w)
}

// Args returns the Run of a program whose run takes its command line,
// its standard output and its standard error: the arguments are passed to
// run with [context.Background] and one buffer for both outputs, and run
// with [Capture].
func Args(run func(ctx context.Context, w, errw io.Writer, args []string) error) func(args ...string) (out string, err error) {
	return func(args ...string) (string, error) {
		return Capture(func(w io.Writer) error { return run(context.Background(), w, w, args) })
	}
}

// Streams returns the [CLI] Streams of such a program: as [Args], with
// its standard output and standard error apart.
func Streams(run func(ctx context.Context, w, errw io.Writer, args []string) error) func(args ...string) (stdout, stderr string, err error) {
	return func(args ...string) (string, string, error) {
		var e bytes.Buffer
		out, err := Capture(func(w io.Writer) error { return run(context.Background(), w, &e, args) })
		return out, e.String(), err
	}
}

// DataFormat returns the values of -data and -format in args (empty when
// absent), for the adapter of a program whose run takes them otherwise
// than as flags.
func DataFormat(args []string) (data, format string) {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-data":
			data = args[i+1]
		case "-format":
			format = args[i+1]
		}
	}
	return data, format
}

// CLI describes one example program's command line for [CLI.Check].
type CLI struct {
	// Run runs the program on command-line arguments such as
	// -data FILE -format NAME and returns what it printed; a panic is an
	// error containing "PANIC" (see [Capture] and [Args]).
	Run func(args ...string) (out string, err error)

	// Streams, when set, runs the program as Run does and returns its
	// standard output and standard error apart: a command line the program
	// cannot parse prints its usage on standard error and nothing on
	// standard output (see [Streams]).
	Streams func(args ...string) (stdout, stderr string, err error)

	// NoFlags says that the program's run takes no arguments (main parses
	// them): Run is an adapter that reads -data and -format only (see
	// [DataFormat]), and the tests of bad flags and stray arguments do not
	// apply.
	NoFlags bool

	// Log says that the output is a log, which may tell of a failed load:
	// it must then hold no Report rather than be empty.
	Log bool

	// Valid returns the arguments of a run that succeeds; nil means -data
	// with a file of [RetailHeader] and [RetailRows] and -format
	// onlineretail.
	Valid func(t *testing.T) []string

	// BadFlags are the program's own flags with bad values (say
	// {"-k", "ten"}), each tried after -data with a good Online Retail file
	// and -format onlineretail: each must be refused as an error of the
	// command line ([cli.ErrUsage], exit status 2).
	BadFlags [][]string

	// BadArgs returns further bad command lines, whole, given the path of
	// a good Online Retail file: flags that go wrong together.
	BadArgs func(path string) [][]string

	// Report is the text the printed load report starts with; empty means
	// "format     ".
	Report string

	// Never are texts that a run which loads nothing never prints or says:
	// the heading of the program's results, advice that does not apply.
	Never []string
}

// Check runs the shared tests of the contract as subtests of t: bad
// files, load errors naming the file, bad flags, stray arguments and
// files of which nothing loads.
func (c CLI) Check(t *testing.T) {
	if c.Report == "" {
		c.Report = "format     "
	}
	// One temporary folder for all the files: a folder for each subtest
	// would cost more than the run it serves.
	dir := t.TempDir()
	t.Run("BadFiles", func(t *testing.T) { c.badFiles(t, dir) })
	t.Run("LoadErrorNamesFile", func(t *testing.T) { c.loadErrorNamesFile(t, dir) })
	if !c.NoFlags {
		t.Run("BadFlags", func(t *testing.T) { c.badFlags(t, dir) })
		t.Run("StrayArgument", func(t *testing.T) { c.strayArgument(t, dir) })
		t.Run("FormatWithoutData", c.formatWithoutData)
	}
	t.Run("NothingLoaded", func(t *testing.T) { c.nothingLoaded(t, dir) })
}

// file writes data (nil: nothing) to a file called name in a new folder
// below dir and returns its path.
func file(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	sub, err := os.MkdirTemp(dir, "")
	require.NoError(t, err)
	p := filepath.Join(sub, name)
	if data != nil {
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	return p
}

// corruptGzip has the gzip magic and nothing else of gzip.
const corruptGzip = "\x1f\x8bnot really gzip at all"

// badFiles: every file that cannot be loaded is an error, not a panic,
// and nothing that looks like a report is printed.
func (c CLI) badFiles(t *testing.T, dir string) {
	gz := Gzip(t, RetailHeader+RetailRows)
	for _, b := range []struct {
		name, format string
		data         []byte // nil: no file
		dir          bool
		parse        bool // a parse error: names a line
	}{
		{name: "missing", format: "onlineretail"},
		{name: "directory", format: "onlineretail", dir: true},
		{name: "empty", format: "onlineretail", data: []byte{}},
		{name: "unknown format", format: "excel", data: []byte(RetailHeader + RetailRows)},
		{name: "corrupt gzip", format: "onlineretail", data: []byte(corruptGzip), parse: true},
		{name: "truncated gzip", format: "onlineretail", data: gz[:len(gz)/2]},
		{name: "baskets as onlineretail", format: "onlineretail", data: []byte("milk,bread\nbeer\n"), parse: true},
		{name: "cdnow as onlineretail", format: "onlineretail", data: []byte(" 00004 0001 19970101  2   29.33\n"), parse: true},
		{name: "binary", format: "onlineretail", data: []byte("\x00\x01\x02\xff\xfe\n\x00"), parse: true},
		{name: "onlineretail as csv", format: "csv", data: []byte(RetailHeader + RetailRows), parse: true},
	} {
		t.Run(b.name, func(t *testing.T) {
			path := file(t, dir, "orders.csv", b.data)
			if b.dir {
				path = filepath.Dir(path)
			}
			out, err := c.Run("-data", path, "-format", b.format)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			if c.Log {
				assert.NotContains(t, out, c.Report, "no report for a failed load")
			} else {
				assert.Empty(t, out, "no report for a failed load")
			}
			for _, s := range c.Never {
				assert.NotContains(t, out, s)
			}
			if b.parse {
				assert.Contains(t, err.Error(), "line ", "a parse error names its line")
			}
		})
	}
}

func (c CLI) loadErrorNamesFile(t *testing.T, dir string) {
	gz := Gzip(t, RetailHeader+RetailRows)
	for _, b := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"corrupt gzip", []byte(corruptGzip)},
		{"truncated gzip", gz[:len(gz)/2]},
		{"missing columns", []byte("milk,bread\nbeer\n")},
	} {
		t.Run(b.name, func(t *testing.T) {
			path := file(t, dir, "my-orders-file.csv", b.data)
			_, err := c.Run("-data", path, "-format", "onlineretail")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "my-orders-file.csv", "the error names the file the user gave")
		})
	}
}

// badFlags: unknown flags, flags without their value and bad values are
// errors of the command line (exit status 2, README.md "Runnable
// examples"), BadArgs errors; the load report is not printed.
func (c CLI) badFlags(t *testing.T, dir string) {
	path := file(t, dir, "orders.csv", []byte(RetailHeader+RetailRows))
	const unparsable = 4 // the first cases: flags the flag package refuses
	cases := [][]string{
		{"-data", path, "-format", "onlineretail", "-bogus"},
		{"-data", path, "-format", "onlineretail", "--bogus=1"},
		{"-data", path, "-format"},
		{"-format", "onlineretail", "-data"},
		{"-data", path, "-format", "excel"}, // a format dataset does not know
	}
	for _, f := range c.BadFlags {
		cases = append(cases, append([]string{"-data", path, "-format", "onlineretail"}, f...))
	}
	usage := len(cases) // these cases and the ones before: usage errors
	if c.BadArgs != nil {
		cases = append(cases, c.BadArgs(path)...)
	}
	for i, args := range cases {
		t.Run(strings.Join(args[min(2, len(args)):], " "), func(t *testing.T) {
			out, err := c.Run(args...)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.NotContains(t, out, c.Report, "no report after a bad flag")
			if i < usage {
				assert.ErrorIs(t, err, cli.ErrUsage, "a usage error: exit status 2")
			}
			if c.Streams != nil && i < unparsable {
				out, errOut, err := c.Streams(args...)
				require.Error(t, err)
				assert.Empty(t, out, "nothing on standard output for a command line that does not parse")
				assert.Contains(t, errOut, "Usage of", "the usage on standard error")
			}
		})
	}
}

// strayArgument: a positional argument (say, the format given without
// its -format) is an error, not silently ignored.
func (c CLI) strayArgument(t *testing.T, dir string) {
	var args []string
	if c.Valid != nil {
		args = c.Valid(t)
	} else {
		args = []string{"-data", file(t, dir, "orders.csv", []byte(RetailHeader+RetailRows)), "-format", "onlineretail"}
	}
	out, err := c.Run(args...)
	require.NoError(t, err, "the run without the stray argument succeeds")
	require.Contains(t, out, c.Report)
	for _, stray := range []string{"onlineretail", "extra"} {
		out, err := c.Run(append(args[:len(args):len(args)], stray)...)
		assert.Error(t, err, "the stray argument %q is ignored:\n%s", stray, out)
		assert.ErrorIs(t, err, cli.ErrUsage, "a usage error: exit status 2")
	}
}

// formatWithoutData: -format without -data named a file that was not
// given and was ignored, the program reading its demo instead; it is a
// usage error, before anything is loaded.
func (c CLI) formatWithoutData(t *testing.T) {
	out, err := c.Run("-format", "onlineretail")
	require.Error(t, err, "-format without -data is ignored:\n%s", out)
	assert.ErrorIs(t, err, cli.ErrUsage, "a usage error: exit status 2")
	assert.Contains(t, err.Error(), "-format applies to -data")
	assert.NotContains(t, out, c.Report, "nothing loaded")
}

// nothingLoaded: a file of which no row loads is an error after the load
// report that says why.
func (c CLI) nothingLoaded(t *testing.T, dir string) {
	for _, b := range []struct{ name, format, data, reason string }{
		{"header only", "onlineretail", RetailHeader, "no rows after its header"},
		{"onlineretail as cdnow", "cdnow", RetailHeader + RetailRows, "wrong field count"},
		{"onlineretail as movielens", "movielens", RetailHeader + RetailRows, ""},
		{"every row bad", "onlineretail", RetailHeader + "536365,85123A,X,six,2010-12-01 08:26:00,2.55,17850,UK\n", "invalid quantity"},
	} {
		t.Run(b.name, func(t *testing.T) {
			out, err := c.Run("-data", file(t, dir, "orders.csv", []byte(b.data)), "-format", b.format)
			require.Error(t, err, "no order loaded: not a successful run\n%s", out)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.Contains(t, out+err.Error(), b.reason, "what was skipped: in the report or the error")
			for _, s := range c.Never {
				assert.NotContains(t, out+err.Error(), s)
			}
		})
	}
}

// mainArgs is the environment variable that makes [RunMain], in the
// process it starts, call the program's main with the command line it
// holds (as JSON).
const mainArgs = "AFFINITY_TEST_MAIN_ARGS"

// RunMain runs a program's main in a process of its own, the test binary
// running the calling test again, with args as its command line, and
// returns what it wrote on standard error and its exit status (0 when
// main returns). Call it from a top-level test, before anything else the
// test does: in the process it starts, RunMain calls main and exits.
func RunMain(t *testing.T, main func(), args ...string) (stderr string, status int) {
	if a, ok := os.LookupEnv(mainArgs); ok {
		var argv []string
		if err := json.Unmarshal([]byte(a), &argv); err != nil {
			panic(err)
		}
		os.Args = append([]string{os.Args[0]}, argv...)
		main()
		os.Exit(0)
	}
	enc, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), mainArgs+"="+string(enc))
	var e bytes.Buffer
	cmd.Stderr = &e
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return e.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return e.String(), 0
}

// CheckExitStatus checks, with [RunMain], the exit status of the main of
// the program called name: 2 for an unknown flag (its usage printed,
// headed by name), for -format without -data and for a format the
// dataset package does not know, 1 for a file that cannot be read.
func CheckExitStatus(t *testing.T, name string, main func()) {
	stderr, status := RunMain(t, main, "-bogus") // in the child: main, then exit
	assert.Equal(t, 2, status, "an unknown flag: %s", stderr)
	assert.Contains(t, stderr, "Usage of "+name+":", "the usage names the program, not the binary's path")
	stderr, status = RunMain(t, main, "-format", "onlineretail")
	assert.Equal(t, 2, status, "-format without -data: %s", stderr)
	assert.Contains(t, stderr, "-format applies to -data")
	stderr, status = RunMain(t, main, "-data", filepath.Join(t.TempDir(), "missing.csv"), "-format", "excel")
	assert.Equal(t, 2, status, "a format dataset does not know: %s", stderr)
	stderr, status = RunMain(t, main, "-data", filepath.Join(t.TempDir(), "missing.csv"), "-format", "onlineretail")
	assert.Equal(t, 1, status, "a file that cannot be read: %s", stderr)
	assert.Contains(t, stderr, "missing.csv")
}
