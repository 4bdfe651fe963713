package dataset

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// panickyReader serves r and panics in the first Read after more than
// after bytes were read; it counts the Reads that came after that one.
type panickyReader struct {
	r        io.Reader
	n, after int
	panicked atomic.Bool
	later    atomic.Int64
}

func (p *panickyReader) Read(b []byte) (int, error) {
	if p.panicked.Load() {
		p.later.Add(1)
		return 0, io.ErrUnexpectedEOF
	}
	if p.n > p.after {
		p.panicked.Store(true)
		panic("reader exploded")
	}
	n, err := p.r.Read(b)
	p.n += n
	return n, err
}

// loadRecovering runs Load on r and returns what it panicked with (nil
// when it returned) and its error.
func loadRecovering(r io.Reader, workers int) (rec any, err error) {
	defer func() { rec = recover() }()
	var b affinity.Builder
	_, err = Load(context.Background(), r, &b, Options{Workers: workers})
	return nil, err
}

// smallBlocks makes the CSV loader cut blocks of size bytes for the
// test, so that a small input runs through the parsing goroutines.
func smallBlocks(t *testing.T, size int) {
	old := csvBlockSize
	t.Cleanup(func() { csvBlockSize = old })
	csvBlockSize = size
}

// ordersCSV returns head followed by orders up to 64 KiB.
func ordersCSV(head string) string {
	var csv strings.Builder
	csv.WriteString(head)
	for i := 0; csv.Len() < 64<<10; i++ {
		fmt.Fprintf(&csv, "c%d,p%d,2024-03-01,1\n", i%500, i%30)
	}
	return csv.String()
}

// TestLoadReaderPanicReachesCaller checks that a panic of the caller's
// io.Reader reaches a recover of Load's caller whatever the workers: with
// parsing goroutines the Reader is called from the loader's splitting
// goroutine, and a panic there would end the process. Nothing reads the
// input once the panic reaches the caller.
func TestLoadReaderPanicReachesCaller(t *testing.T) {
	smallBlocks(t, 512)
	csv := ordersCSV("customer,product,time,quantity\n")
	for _, workers := range []int{-1, 1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			r := &panickyReader{r: strings.NewReader(csv), after: 16 << 10}
			rec, err := loadRecovering(r, workers)
			require.NoError(t, err)
			require.NotNil(t, rec, "Load returned instead of raising the Reader's panic")
			assert.Contains(t, fmt.Sprint(rec), "reader exploded")
			assert.Zero(t, r.later.Load(), "the input was read after the panic")
		})
	}
}

// TestLoadReaderPanicAfterBadRow checks that a strict load returns the
// error of a bad row that comes before the point where the Reader
// panics, as a sequential read does, though the splitting goroutine may
// have read that far before the loader reached the row.
func TestLoadReaderPanicAfterBadRow(t *testing.T) {
	smallBlocks(t, 512)
	csv := ordersCSV("customer,product,time,quantity\nc1,p1,not a time,1\n")
	for _, workers := range []int{-1, 1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			r := &panickyReader{r: strings.NewReader(csv), after: 8 << 10}
			rec, err := loadRecovering(r, workers)
			require.Nil(t, rec)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 2, pe.Line)
		})
	}
}
