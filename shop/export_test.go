package shop

import "sync"

// HoldCompactionSwaps keeps every segment index made from now on from
// being swapped for its compaction until release is called (again
// later: no effect), so that a test can see the index a refresh made
// while its background build runs or after it ended.
func HoldCompactionSwaps() (release func()) {
	gate := make(chan struct{})
	compactionHold.Store(&gate)
	return sync.OnceFunc(func() {
		compactionHold.Store(nil)
		close(gate)
	})
}

// StockSettings returns how many stock settings s keeps.
func StockSettings(s *Shop) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stock)
}
