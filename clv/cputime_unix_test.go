//go:build unix

package clv_test

import (
	"syscall"
	"time"
)

// cpuTime returns the user and system CPU time of the process so far:
// benchmarks report it per operation, which a machine shared with other
// work disturbs less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
