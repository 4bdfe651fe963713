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
// -ways, so do the ways not run). Each way's results record the machine
// that measured them, and the report names that machine, or each machine
// with what it measured when the results come from more than one. -replot
// redraws the tables and plots from that file without running anything.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
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
	var runs []*benchmarks.Run
	old, err := readResults(*out)
	if err != nil && (*replot || *ways != "duckdb,affinity,naive" || !errors.Is(err, fs.ErrNotExist)) {
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
	if err := writeReport(*out, runs, os.Stdout); err != nil {
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
	res.Machine = benchmarks.ThisMachine()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// readResults reads the runs of dir/results.json.
func readResults(dir string) ([]*benchmarks.Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var runs []*benchmarks.Run
	if err := json.Unmarshal(b, &runs); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "results.json"), err)
	}
	return runs, nil
}

// writeReport writes the markdown report of runs to dir/report.md and to
// stdout.
func writeReport(dir string, runs []*benchmarks.Run, stdout io.Writer) error {
	var md bytes.Buffer
	benchmarks.WriteMarkdown(&md, runs)
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), md.Bytes(), 0o644)
}
