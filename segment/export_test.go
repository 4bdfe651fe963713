package segment

import "github.com/RoaringBitmap/roaring/v2"

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

// SetCompactShare sets the share of touched customers at which an update
// with UpdateOptions.Compact starts its background build (one in n) and
// returns the function that restores it.
func SetCompactShare(n uint64) (restore func()) {
	old := compactShare
	compactShare = n
	return func() { compactShare = old }
}

// WaitCompaction waits for the background build an updated index x
// carries, if any, and reports whether there was one.
func WaitCompaction(x *Index) bool {
	if x.over == nil || x.over.next == nil {
		return false
	}
	<-x.over.next.done
	return true
}

// Touched returns the customers whose features the delta of an updated
// index x holds, or nil when x was built in full.
func Touched(x *Index) *roaring.Bitmap {
	if x.over == nil {
		return nil
	}
	return x.over.touched.Clone()
}

// Base returns the full index under an updated index x, or x itself.
func Base(x *Index) *Index {
	if x.over == nil {
		return x
	}
	return x.over.base
}

// CompactionDone reports whether the background build an updated index
// x carries is done (true when there is none).
func CompactionDone(x *Index) bool {
	return x.over == nil || x.over.next == nil || x.over.next.ready()
}

// SetPatchShare sets the share of customers (one in n) above which an
// update builds the RFM scores, segments and stages in full instead of
// patching the previous index's, and returns the function that restores
// it.
func SetPatchShare(n int) (restore func()) {
	old := patchShare
	patchShare = n
	return func() { patchShare = old }
}

// Patched returns the number of updates so far that patched the previous
// index's RFM scores, segments and stages.
func Patched() int64 { return patched.Load() }

// Rescored returns the number of updates so far whose scores came from
// the updated distribution of values (rescore) rather than from scoring
// every customer.
func Rescored() int64 { return rescored.Load() }

// Layers returns the number of delta layers of an updated index (0 for a
// full one).
func Layers(x *Index) int {
	if x.over == nil {
		return 0
	}
	return len(x.over.deltas)
}

// MaxLayers is the most delta layers an updated index has.
const MaxLayers = maxLayers

// SumsBySlice returns the net spend and orders of the customers of set
// that x knows, summed by bit slice (the way Stats takes for dense sets)
// whatever set's density.
func SumsBySlice(x *Index, set *roaring.Bitmap) (revenue, orders int64) {
	r, o := x.sumsBySlice(x.within(set))
	return r.clamp(), o.clamp()
}

// CompactionSince returns the customers touched since the History of
// the background build an updated index x carries (empty when none).
func CompactionSince(x *Index) *roaring.Bitmap {
	if x.over == nil || x.over.since == nil {
		return roaring.New()
	}
	return x.over.since.Clone()
}

// PartVersion is the version a Part's encoding is written with.
const PartVersion = partVersion
