//go:build unix

package affinity_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
)

// BenchmarkCheckApply measures what a loader does with each order it
// reads on a versioned History of 100,000 orders: Builder.CheckApply,
// then Builder.Apply, of 100,000 puts of those orders (at the base's
// version, as dataset.SQLSource raises a lower one) and of new ones.
// It reports the process's CPU time per operation too (cpu-ns/op).
func BenchmarkCheckApply(b *testing.B) {
	const n = 100_000
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	changes := make([]affinity.OrderChange, n)
	for i := range changes {
		k := strconv.Itoa(i)
		changes[i] = affinity.OrderChange{Key: "ord-" + k, Version: int64(i + 1), Lines: []affinity.Purchase{
			{Customer: "c-" + strconv.Itoa(i%20_000), Product: "p-" + strconv.Itoa(i%997), Time: at, Quantity: 1, Price: 1_000},
			{Customer: "c-" + strconv.Itoa(i%20_000), Product: "p-" + strconv.Itoa(i%89), Time: at, Quantity: 2, Price: 250},
		}}
	}
	var bl affinity.Builder
	for _, c := range changes[:n*3/4] { // the rest is new
		if err := bl.Apply(c); err != nil {
			b.Fatal(err)
		}
	}
	base, err := bl.Build(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	base.LookupOrder("ord-0") // index the keys outside the loop
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		nb := affinity.NewBuilder(base)
		for _, c := range changes {
			if err := nb.CheckApply(c); err != nil {
				b.Fatal(err)
			}
			if err := nb.Apply(c); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time the process has used, in nanoseconds: on
// a machine whose cores other processes share, it varies less than the
// elapsed time that ns/op measures.
func cpuTime(b *testing.B) int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return u.Utime.Nano() + u.Stime.Nano()
}
