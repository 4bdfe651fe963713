// Command report runs the benchmark suite — affinity, DuckDB and a naive Go
// baseline on the same generated shop — at every size up to -max lines,
// prints the markdown tables and writes PNG plots and the raw results.
//
//	cd benchmarks && go run ./cmd/report -max 1e6 -out /tmp/affinity-report
//
// Each way runs in its own child process (this command, with -worker), so
// that the peak memory of one never includes the other's; the generated CSV
// files are kept in -data and reused by later runs. The sizes run replace
// their results in the results.json of -out, whose other sizes stay (with
// -ways, so do the ways not run). -replot redraws the tables and plots
// from that file without running anything.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/shopaffinity/affinity/benchmarks"
)

func main() {
	maxLines := flag.Float64("max", 1e6, "largest size in order lines (sizes are 1e4, 1e5, 1e6, 1e7)")
	minLines := flag.Float64("min", 1e4, "smallest size in order lines")
	out := flag.String("out", "report", "directory for results.json, report.md and the PNG plots")
	data := flag.String("data", filepath.Join(os.TempDir(), "affinity-bench"), "directory for the generated CSV files")
	replot := flag.Bool("replot", false, "redraw tables and plots from -out/results.json only")
	ways := flag.String("ways", "duckdb,affinity,naive", "ways to run; the others are kept from -out/results.json (same sizes)")
	worker := flag.String("worker", "", "internal: run one way (affinity, duckdb, naive) on the shop of -shop and print JSON")
	shopFile := flag.String("shop", "", "internal: the shop description for -worker")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("report: ")
	ctx := context.Background()

	if *worker != "" {
		if err := runWorker(ctx, *worker, *shopFile); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	var runs, old []*benchmarks.Run
	if b, err := os.ReadFile(filepath.Join(*out, "results.json")); err == nil {
		if err := json.Unmarshal(b, &old); err != nil {
			log.Fatal(err)
		}
	} else if *replot || *ways != "duckdb,affinity,naive" {
		log.Fatal(err)
	}
	if *replot {
		runs = old
	} else {
		if err := os.MkdirAll(*data, 0o755); err != nil {
			log.Fatal(err)
		}
		// the sizes run replace their earlier results; the others stay
		bySize := map[int]*benchmarks.Run{}
		for _, r := range old {
			bySize[r.Shop.Lines] = r
		}
		ran := 0
		for _, n := range benchmarks.Sizes {
			if float64(n) < *minLines || float64(n) > *maxLines {
				continue
			}
			r, err := runSize(*data, n, strings.Split(*ways, ","), bySize[n])
			if err != nil {
				log.Fatal(err)
			}
			bySize[n] = r
			ran++
			runs = runs[:0]
			for _, n := range benchmarks.Sizes {
				if r := bySize[n]; r != nil {
					runs = append(runs, r)
				}
			}
			b, _ := json.MarshalIndent(runs, "", " ")
			if err := os.WriteFile(filepath.Join(*out, "results.json"), b, 0o644); err != nil {
				log.Fatal(err)
			}
		}
		if ran == 0 {
			log.Fatal("no size between -min and -max")
		}
	}
	if len(runs) == 0 {
		log.Fatal("no results to report")
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "Machine: %s, %d cores (GOMAXPROCS %d), %s memory; %s.\n\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), runtime.Version())
	benchmarks.WriteMarkdown(&md, runs)
	os.Stdout.Write(md.Bytes())
	if err := os.WriteFile(filepath.Join(*out, "report.md"), md.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := benchmarks.Plot(*out, runs); err != nil {
		log.Fatal(err)
	}
}

// runSize generates the shop of n lines and runs the given ways on it, each
// in a child process; the results of the other ways come from prev.
func runSize(data string, n int, ways []string, prev *benchmarks.Run) (*benchmarks.Run, error) {
	start := time.Now()
	shop, err := benchmarks.Generate(data, n)
	if err != nil {
		return nil, err
	}
	log.Printf("%d lines, %d customers: %s (%.0f MB), generated in %.1f s", shop.Rows, shop.Customers, shop.Path, float64(shop.Bytes)/1e6, time.Since(start).Seconds())
	shopFile := shop.Path + ".json"
	b, _ := json.Marshal(shop)
	if err := os.WriteFile(shopFile, b, 0o644); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	run := &benchmarks.Run{Shop: shop}
	if prev != nil {
		run.Duck, run.Affinity, run.Naive = prev.Duck, prev.Affinity, prev.Naive
	}
	for _, way := range ways {
		start := time.Now()
		cmd := exec.Command(self, "-worker", way, "-shop", shopFile)
		cmd.Stderr = os.Stderr
		outb, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s at %d lines: %w", way, n, err)
		}
		var res benchmarks.Result
		if err := json.Unmarshal(outb, &res); err != nil {
			return nil, fmt.Errorf("%s at %d lines: %w", way, n, err)
		}
		switch way {
		case "duckdb":
			run.Duck = &res
		case "affinity":
			run.Affinity = &res
		case "naive":
			run.Naive = &res
		}
		log.Printf("  %s done in %.1f s", way, time.Since(start).Seconds())
	}
	if run.Duck == nil || run.Affinity == nil || run.Naive == nil {
		return nil, fmt.Errorf("%d lines: results of some ways neither run nor in results.json", n)
	}
	for way, qs := range run.Mismatches() {
		log.Printf("  %s differs from DuckDB on raw lines: %v", way, qs)
	}
	return run, nil
}

func runWorker(ctx context.Context, way, shopFile string) error {
	b, err := os.ReadFile(shopFile)
	if err != nil {
		return err
	}
	var shop benchmarks.Shop
	if err := json.Unmarshal(b, &shop); err != nil {
		return err
	}
	var res *benchmarks.Result
	load := benchmarks.LoadAverage()
	switch way {
	case "affinity":
		res, err = benchmarks.RunAffinity(ctx, &shop)
	case "duckdb":
		res, err = benchmarks.RunDuck(ctx, &shop)
	case "naive":
		res, err = benchmarks.RunNaive(ctx, &shop)
	default:
		return fmt.Errorf("unknown worker %q", way)
	}
	if err != nil {
		return err
	}
	res.Load = [2]float64{load, benchmarks.LoadAverage()}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range bytes.Split(b, []byte("\n")) {
		if k, v, ok := bytes.Cut(l, []byte(":")); ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return runtime.GOARCH
}

// memTotal returns MemTotal of /proc/meminfo in GiB.
func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	var kb float64
	for _, l := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(l); len(f) >= 2 && string(f[0]) == "MemTotal:" {
			fmt.Sscan(string(f[1]), &kb)
		}
	}
	return fmt.Sprintf("%.0f GiB", kb/(1<<20))
}
