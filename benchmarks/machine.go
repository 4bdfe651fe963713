package benchmarks

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// Machine is the machine a way ran on, recorded with its [Result] so that
// a report redrawn elsewhere (cmd/report -replot) still names the machine
// that measured it.
type Machine struct {
	// CPU is the first "model name" of /proc/cpuinfo, GOARCH where there
	// is none.
	CPU string `json:"cpu"`
	// Cores is runtime.NumCPU and GOMAXPROCS runtime.GOMAXPROCS(0) of the
	// process that measured.
	Cores      int `json:"cores"`
	GOMAXPROCS int `json:"gomaxprocs"`
	// MemoryGiB is MemTotal of /proc/meminfo in GiB; 0 where unknown.
	MemoryGiB float64 `json:"memory_gib"`
	// Go is the Go version of the binary that measured (runtime.Version).
	Go string `json:"go"`
}

// ThisMachine returns the Machine of the running process.
func ThisMachine() Machine {
	return Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), MemoryGiB: memTotalGiB(), Go: runtime.Version()}
}

// String describes m as "AMD EPYC, 2 cores (GOMAXPROCS 2), 24 GiB
// memory; go1.26.8", the zero Machine (results that did not record one)
// as "not recorded".
func (m Machine) String() string {
	if m == (Machine{}) {
		return "not recorded"
	}
	return fmt.Sprintf("%s, %d cores (GOMAXPROCS %d), %.0f GiB memory; %s", m.CPU, m.Cores, m.GOMAXPROCS, m.MemoryGiB, m.Go)
}

// cpuModel returns the first "model name" of /proc/cpuinfo, else GOARCH.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for l := range bytes.Lines(b) {
		if k, v, ok := bytes.Cut(l, []byte(":")); ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return runtime.GOARCH
}

// memTotalGiB returns MemTotal of /proc/meminfo in GiB, 0 when unavailable.
func memTotalGiB() float64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for l := range bytes.Lines(b) {
		if f := bytes.Fields(l); len(f) >= 2 && string(f[0]) == "MemTotal:" {
			kb, _ := strconv.ParseFloat(string(f[1]), 64)
			return kb / (1 << 20)
		}
	}
	return 0
}

// machineLine returns the first line of the report: the machine every way
// of every run recorded, or, when they differ (a -ways rerun elsewhere,
// results without a record), each machine with the sizes and ways it
// measured, in the order of the runs. It also returns the machine's core
// count when there is one machine that recorded it, else 0.
func machineLine(runs []*Run) (string, int) {
	var machines []string             // in order of first appearance
	measured := map[string][]string{} // machine → "size way"
	var cores int
	for _, r := range runs {
		for _, w := range []struct {
			name string
			res  *Result
		}{{"DuckDB", r.Duck}, {"affinity", r.Affinity}, {"naive Go", r.Naive}} {
			var m Machine
			if w.res != nil {
				m = w.res.Machine
			}
			s := m.String()
			if !slices.Contains(machines, s) {
				machines = append(machines, s)
			}
			measured[s] = append(measured[s], lines(r.Shop.Rows)+" "+w.name)
			cores = m.Cores
		}
	}
	if len(machines) == 1 {
		return "Machine: " + machines[0] + ".", cores
	}
	parts := make([]string, len(machines))
	for i, m := range machines {
		parts[i] = m + " (" + strings.Join(measured[m], ", ") + ")"
	}
	return "Machines: the results were measured on more than one: " + strings.Join(parts, "; ") + ".", 0
}
