package similarity

// SetMaxPending sets the number of pending pairs beyond which a Partial
// compacts, for tests of compaction; it returns a func that restores it.
func SetMaxPending(n int) (restore func()) {
	old := maxPending
	maxPending = n
	return func() { maxPending = old }
}
