package benchmarks

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// Step is one timed step of a run.
type Step struct {
	// Name names the step ("load", "history", …).
	Name string `json:"name"`
	// Seconds is the wall-clock time of the step (the median of the
	// repetitions for repeated steps: the mean of the two middle values
	// for an even count).
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the processor time (user and system, every thread) the
	// process spent in the step; on a shared machine it varies less than
	// the wall-clock time. 0 for repeated steps.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// PeakMB is the peak resident set size of the process during the step
	// in MiB (VmHWM after resetting it before the step), which includes
	// everything earlier steps left resident; 0 when not measured.
	PeakMB float64 `json:"peak_mb,omitempty"`
	// P99 is the 99th percentile of the repetitions of a repeated step, by
	// nearest rank: the ⌈0.99·n⌉-th smallest of n (the 1,980th of 2,000).
	P99 float64 `json:"p99,omitempty"`
	// CPUMedian is the median processor time of the repetitions of a
	// repeated step (process-wide: every thread, DuckDB's included).
	CPUMedian float64 `json:"cpu_median,omitempty"`
}

// resetPeak collects garbage, returns freed memory to the system and resets
// the process's peak resident set size (Linux: writing 5 to
// /proc/self/clear_refs). It reports whether the reset worked.
func resetPeak() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakMB returns VmHWM of /proc/self/status in MiB, 0 when unavailable.
func peakMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmHWM:" {
			kb, _ := strconv.ParseFloat(string(f[1]), 64)
			return kb / 1024
		}
	}
	return 0
}

// Measure runs f once as the step name and returns its time and peak
// resident memory.
func Measure(name string, f func() error) (Step, error) {
	ok := resetPeak()
	cpu := cpuSeconds()
	start := time.Now()
	err := f()
	s := Step{Name: name, Seconds: time.Since(start).Seconds(), CPUSeconds: cpuSeconds() - cpu}
	if ok {
		s.PeakMB = peakMB()
	}
	return s, err
}

// cpuSeconds returns the processor time the process has used so far, user
// and system, all threads (getrusage); 0 where unavailable.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// Repeat runs f at least minReps times (at least once) and until minDur
// has passed (at most 10,000 times) and returns the median time, the 99th
// percentile and the median processor time, as [summarize] computes them.
func Repeat(name string, minReps int, minDur time.Duration, f func() error) (Step, error) {
	var ds, cs []float64
	begin := time.Now()
	for len(ds) < max(minReps, 1) || time.Since(begin) < minDur && len(ds) < 10_000 {
		cpu := cpuSeconds()
		start := time.Now()
		if err := f(); err != nil {
			return Step{Name: name}, err
		}
		ds = append(ds, time.Since(start).Seconds())
		cs = append(cs, cpuSeconds()-cpu)
	}
	return summarize(name, ds, cs), nil
}

// summarize returns the step name of repetitions that took ds seconds of
// wall-clock and cs seconds of processor time (one value per repetition,
// at least one; both are sorted in place): Seconds and CPUMedian are the
// medians, P99 the nearest-rank 99th percentile of ds.
func summarize(name string, ds, cs []float64) Step {
	slices.Sort(ds)
	slices.Sort(cs)
	return Step{Name: name, Seconds: median(ds), P99: nearestRank(ds, 99), CPUMedian: median(cs)}
}

// median returns the median of sorted values: the middle one for an odd
// count, the mean of the two middle ones for an even count.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// nearestRank returns the pct-th percentile (0 < pct ≤ 100) of sorted
// values by nearest rank: the ⌈pct·n/100⌉-th smallest of n.
func nearestRank(sorted []float64, pct int) float64 {
	return sorted[(pct*len(sorted)+99)/100-1]
}

// LoadAverage returns the 1-minute load average of the machine (Linux), or
// 0: on a shared machine it says how much the wall-clock times are worth.
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(string(f[0]), 64)
	return v
}
