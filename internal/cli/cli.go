// Package cli holds what the command lines of the example programs
// share: the checks every one of them makes after parsing its flags, and
// the exit status of an error.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// ErrUsage is wrapped by the errors of a command line that cannot be
// run as given: a flag the program does not know or whose value does not
// parse, a stray argument, flags that do not go together. [Exit] ends
// the program with status 2 on such an error, as [flag.ExitOnError]
// does, and with 1 on others.
var ErrUsage = errors.New("usage error")

// usageError is an error of the command line: its message is err's, and
// it wraps both err and [ErrUsage].
type usageError struct{ err error }

func (e usageError) Error() string   { return e.err.Error() }
func (e usageError) Unwrap() []error { return []error{e.err, ErrUsage} }

// Usage returns err marked as an error of the command line (see
// [ErrUsage]), or nil for nil. [flag.ErrHelp] is returned unmarked: -h
// is no error.
func Usage(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.Is(err, ErrUsage) {
		return err
	}
	return usageError{err}
}

// Usagef returns an error of the command line with the message of
// fmt.Errorf(format, args...).
func Usagef(format string, args ...any) error {
	return Usage(fmt.Errorf(format, args...))
}

// Parse parses args with fs and refuses, as errors of the command line,
// what every example refuses: a flag fs does not parse, a positional
// argument, a -format flag (when fs has one) whose non-empty value is not
// among formats (dataset.Formats(); nil: not checked), and a -format
// given without a file to read in that format: none of the flags named
// files (say "data") has a non-empty value. A -format the program would
// ignore, opening its demo instead, is a mistake the user should hear of.
func Parse(fs *flag.FlagSet, args []string, formats []string, files ...string) error {
	if err := fs.Parse(args); err != nil {
		return Usage(err)
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	if f := fs.Lookup("format"); f != nil && formats != nil && f.Value.String() != "" && !slices.Contains(formats, f.Value.String()) {
		return Usagef("-format %q: want one of %s", f.Value.String(), strings.Join(formats, ", "))
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "format" })
	if !set {
		return nil
	}
	for _, name := range files {
		if f := fs.Lookup(name); f != nil && f.Value.String() != "" {
			return nil
		}
	}
	names := make([]string, len(files))
	for i, name := range files {
		names[i] = "-" + name
	}
	return Usagef("-format applies to %s: give the file to read in that format", orList(names))
}

// Duration returns v units (say 1.5 days: v 1.5, unit 24h, unitName
// "day") as a [time.Duration], the value of the flag called name. A v
// that is not a finite number from 0 to the whole units within
// time.Duration's 292 years is an error of the command line naming the
// flag: the conversion would otherwise wrap to a negative duration. So
// is a v above 0 that is less than a nanosecond: it would round to a
// zero duration, which the options of the library read as their default,
// not as the tiny value given.
func Duration(name string, v float64, unit time.Duration, unitName string) (time.Duration, error) {
	// float64(math.MaxInt64) is 2⁶³, one past the largest duration
	limit := math.Floor(math.MaxInt64 / float64(unit))
	if !(v >= 0 && v <= limit && v*float64(unit) < math.MaxInt64) {
		return 0, Usagef("-%s %v: want a finite number of %ss from 0 to %.0f", name, v, unitName, limit)
	}
	d := time.Duration(v * float64(unit))
	if d == 0 && v > 0 {
		return 0, Usagef("-%s %v: under a nanosecond, which would be 0 (the default): want 0 or at least 1ns", name, v)
	}
	return d, nil
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Exit ends the main of the program called name after its run returned
// err: at once for nil and [flag.ErrHelp] (the usage is printed);
// otherwise it prints err on standard error, after "name: " unless the
// message starts with it, and exits with status 2 for an error of the
// command line ([ErrUsage]) and 1 for others.
func Exit(name string, err error) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, name+": ") {
		msg = name + ": " + msg
	}
	fmt.Fprintln(os.Stderr, msg)
	if errors.Is(err, ErrUsage) {
		os.Exit(2)
	}
	os.Exit(1)
}
