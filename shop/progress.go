package shop

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/shopaffinity/affinity"
)

// TerminalProgress returns a ProgressFunc that keeps one status line up
// to date on f — "segment 5000/5000 customers" — when f is a terminal,
// and nil (no reports) otherwise, so that piped output stays clean. The
// line is redrawn at most ten times a second and cleared when the last
// build step ("engine") ends, and again when a refresh's segment index,
// built in the background after it, is done.
//
// A terminal is a character device other than the null device (output
// sent to /dev/null gets no reports either); the test needs no system
// call beyond a Stat, so a serial line or another character device
// counts as one.
func TerminalProgress(f *os.File) affinity.ProgressFunc {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return nil
	}
	return statusLine(f)
}

// statusLine is TerminalProgress on any writer.
func statusLine(w io.Writer) affinity.ProgressFunc {
	var mu sync.Mutex
	var last time.Time
	built := false // the engine of the current build is done
	return func(p affinity.Progress) {
		mu.Lock()
		defer mu.Unlock()
		end := p.Total > 0 && p.Done == p.Total
		switch {
		case p.Step == "load" || p.Step == "history":
			built = false // a new build
		case end && (p.Step == "engine" || built):
			// the engine, or a step after it (a refresh's segment index)
			built = true
			fmt.Fprint(w, "\r\033[K")
			return
		}
		if now := time.Now(); end || now.Sub(last) >= 100*time.Millisecond {
			last = now
			fmt.Fprintf(w, "\r\033[K%s", progressLine(p))
		}
	}
}

// progressLine formats a report as "step done/total unit" or, without a
// total, "step done unit".
func progressLine(p affinity.Progress) string {
	switch {
	case p.Total > 0 && p.Unit == "bytes":
		return fmt.Sprintf("%-10s %5.1f%% of %.1f MB", p.Step, 100*float64(p.Done)/float64(p.Total), float64(p.Total)/1e6)
	case p.Total > 0:
		return fmt.Sprintf("%-10s %d/%d %s", p.Step, p.Done, p.Total, p.Unit)
	default:
		return fmt.Sprintf("%-10s %d %s", p.Step, p.Done, p.Unit)
	}
}
