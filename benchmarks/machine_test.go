package benchmarks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// committedRuns reads the committed results of report/results.json.
func committedRuns(t *testing.T) []*Run {
	t.Helper()
	b, err := os.ReadFile("report/results.json")
	require.NoError(t, err)
	var runs []*Run
	require.NoError(t, json.Unmarshal(b, &runs))
	require.NotEmpty(t, runs)
	return runs
}

func TestThisMachine(t *testing.T) {
	m := ThisMachine()
	assert.NotEmpty(t, m.CPU)
	assert.Equal(t, runtime.NumCPU(), m.Cores)
	assert.Equal(t, runtime.GOMAXPROCS(0), m.GOMAXPROCS)
	assert.Equal(t, runtime.Version(), m.Go)
	assert.Equal(t, "not recorded", Machine{}.String())
}

// TestReportMachines: the report names the machines the results recorded,
// not the one writing it; when a -ways rerun measured one way on another
// machine, it says which results each machine measured and claims no
// core count for the load averages.
func TestReportMachines(t *testing.T) {
	runs := committedRuns(t)
	recorded := runs[0].Affinity.Machine
	require.NotZero(t, recorded.Cores, "report/results.json records its machine")
	other := Machine{CPU: "Other CPU", Cores: 2*recorded.Cores + 1, GOMAXPROCS: 3, MemoryGiB: 64, Go: "go1.99"}
	line := func(runs []*Run) []string {
		var b bytes.Buffer
		WriteMarkdown(&b, runs)
		return strings.SplitN(b.String(), "\n", 4)
	}

	got := line(runs)
	assert.Equal(t, "Machine: "+recorded.String()+".", got[0])
	assert.Contains(t, got[2], fmt.Sprintf("on %d cores", recorded.Cores))

	last := runs[len(runs)-1]
	last.Affinity.Machine = other
	last.Naive.Machine = Machine{}
	got = line(runs)
	assert.True(t, strings.HasPrefix(got[0], "Machines: the results were measured on more than one: "+recorded.String()+" (10.1k DuckDB, 10.1k affinity, "), got[0])
	assert.Contains(t, got[0], "; "+other.String()+" ("+lines(last.Shop.Rows)+" affinity); not recorded ("+lines(last.Shop.Rows)+" naive Go).")
	assert.NotContains(t, got[2], "cores", "no one core count for several machines")
}
