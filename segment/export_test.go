package segment

// SortedPath forces the way SortedKeys and SortedIDs order a set's keys
// (0 radix sort of the ranks, 1 marks of the ranks, 2 walk of all keys;
// -1 chooses by size) and returns the function that restores the choice.
func SortedPath(p int) (restore func()) {
	old := forcePath
	forcePath = p
	return func() { forcePath = old }
}

// Layered reports whether x was made by Update as a delta over a full
// index, rather than built in full.
func Layered(x *Index) bool { return x.over != nil }
