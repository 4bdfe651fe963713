package similarity

import "github.com/RoaringBitmap/roaring/v2"

// The set measures compare two sets given as roaring bitmaps — buyer sets
// such as [affinity.History.Buyers], basket sets — from the cardinalities
// |a|, |b| and |a∩b| alone: the intersection is counted
// (AndCardinality), never built. They only read the bitmaps, take time
// linear in the number of containers and do not allocate. Every one of
// them is 0 when a set is empty; a nil set is empty.

// SetJaccard returns |a∩b| / |a∪b|, in [0, 1].
func SetJaccard(a, b *roaring.Bitmap) float64 { return setScore(Jaccard, a, b) }

// SetDice returns 2·|a∩b| / (|a| + |b|), in [0, 1].
func SetDice(a, b *roaring.Bitmap) float64 { return setScore(Dice, a, b) }

// SetCosine returns the Ochiai coefficient |a∩b| / √(|a|·|b|), in [0, 1].
func SetCosine(a, b *roaring.Bitmap) float64 { return setScore(Cosine, a, b) }

// SetOverlap returns the overlap coefficient |a∩b| / min(|a|, |b|), in
// [0, 1].
func SetOverlap(a, b *roaring.Bitmap) float64 { return setScore(Overlap, a, b) }

func setScore(m Measure, a, b *roaring.Bitmap) float64 {
	if a == nil || b == nil {
		return 0
	}
	na, nb := a.GetCardinality(), b.GetCardinality()
	if na == 0 || nb == 0 {
		return 0
	}
	ab := a.AndCardinality(b)
	return score(m, float64(na+nb-ab), float64(na), float64(nb), float64(ab))
}

// SetPair returns the [PairCount] of two sets drawn from a population of n
// (for buyer sets, for example, the number of buyers): A = |a|, B = |b|,
// AB = |a∩b|, so that any count measure applies, as in
// Lift.Score(SetPair(x, y, n)). n smaller than |a∪b| is raised to |a∪b|.
// A nil set is empty.
func SetPair(a, b *roaring.Bitmap, n int) PairCount {
	if a == nil {
		a = emptySet
	}
	if b == nil {
		b = emptySet
	}
	na, nb := int(a.GetCardinality()), int(b.GetCardinality())
	ab := int(a.AndCardinality(b))
	return PairCount{N: max(n, na+nb-ab), A: na, B: nb, AB: ab}
}

// emptySet stands for a nil set; it is only read.
var emptySet = roaring.New()
