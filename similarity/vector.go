package similarity

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// ErrLength is returned (wrapped) by the vector measures when their
// arguments differ in length.
var ErrLength = errors.New("similarity: vector lengths differ")

// ErrNegative is returned (wrapped) by [VecWeightedJaccard] for a negative
// component.
var ErrNegative = errors.New("similarity: negative component")

func sameLen(x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("%w: %d and %d", ErrLength, len(x), len(y))
	}
	return nil
}

// VecDot returns the dot product Σ xᵢ·yᵢ (0 for empty vectors; unlike the
// measures below it has a scale, and is ±Inf beyond the float64 range).
// It returns an error wrapping [ErrLength] when the lengths differ. It
// does not allocate.
func VecDot(x, y []float64) (float64, error) {
	if err := sameLen(x, y); err != nil {
		return 0, err
	}
	return floats.Dot(x, y), nil
}

// VecCosine returns the cosine similarity x·y / (‖x‖·‖y‖), in [−1, 1].
// It is 0 when either vector is zero (or empty): no direction, no
// similarity. It returns an error wrapping [ErrLength] when the lengths
// differ. It does not allocate.
func VecCosine(x, y []float64) (float64, error) {
	if err := sameLen(x, y); err != nil {
		return 0, err
	}
	return cosine(x, y), nil
}

func cosine(x, y []float64) float64 {
	ex, ey := unitExp(x), unitExp(y)
	if ex != 0 || ey != 0 {
		// entries too large or too small for the sums of products:
		// scaled by powers of two, which cosine does not see
		var sxy, sxx, syy float64
		for i, xi := range x {
			a, b := math.Ldexp(xi, -ex), math.Ldexp(y[i], -ey)
			sxy += a * b
			sxx += a * a
			syy += b * b
		}
		return correlation(sxy, sxx, syy)
	}
	nx, ny := floats.Norm(x, 2), floats.Norm(y, 2)
	if nx == 0 || ny == 0 {
		return 0
	}
	return clamp1(floats.Dot(x, y) / (nx * ny))
}

// unitExp returns the binary exponent e that brings the largest |vᵢ| of
// the slices to [0.5, 1) by scaling with 2⁻ᵉ, when that largest is beyond
// 2⁴⁰⁰ or below 2⁻⁴⁰⁰ (sums of products would overflow or underflow), and
// 0 otherwise (and for zero, infinite or NaN entries).
func unitExp(vs ...[]float64) int {
	var m float64
	for _, v := range vs {
		for _, x := range v {
			m = max(m, math.Abs(x))
		}
	}
	if m == 0 || (m >= 0x1p-400 && m <= 0x1p400) || math.IsInf(m, 0) || math.IsNaN(m) {
		return 0
	}
	_, e := math.Frexp(m)
	return e
}

func clamp1(v float64) float64 { return max(-1, min(1, v)) }

// correlation returns sxy/(√sxx·√syy) in [−1, 1], 0 when a sum of squares
// is zero.
func correlation(sxy, sxx, syy float64) float64 {
	if sxx == 0 || syy == 0 {
		return 0
	}
	return clamp1(sxy / (math.Sqrt(sxx) * math.Sqrt(syy))) // (sxx·syy may overflow)
}

// VecPearson returns the Pearson correlation of x and y: the cosine of the
// centred vectors, Σ(xᵢ−x̄)(yᵢ−ȳ) / √(Σ(xᵢ−x̄)²·Σ(yᵢ−ȳ)²), in [−1, 1]. It is
// 0 when either vector is constant (zero variance) or empty. It returns an
// error wrapping [ErrLength] when the lengths differ. It does not allocate.
func VecPearson(x, y []float64) (float64, error) {
	if err := sameLen(x, y); err != nil {
		return 0, err
	}
	if constant(x) || constant(y) {
		// no variance: the centred sums below would hold only the
		// rounding error of the mean, a constant whose correlation
		// with another such constant is ±1
		return 0, nil
	}
	// scaled by powers of two when the entries are too large or too
	// small for the sums (see unitExp), which the correlation does not see
	ex, ey := unitExp(x), unitExp(y)
	var mx, my float64
	for i, xi := range x {
		mx += math.Ldexp(xi, -ex)
		my += math.Ldexp(y[i], -ey)
	}
	mx, my = mx/float64(len(x)), my/float64(len(y))
	var sxy, sxx, syy float64
	for i, xi := range x {
		dx, dy := math.Ldexp(xi, -ex)-mx, math.Ldexp(y[i], -ey)-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return correlation(sxy, sxx, syy), nil
}

// constant reports whether every entry of v equals the first (true for
// an empty v).
func constant(v []float64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

// VecAdjustedCosine returns the adjusted cosine similarity of two items
// (Sarwar et al. 2001): x and y hold the two items' ratings by each user, 0
// meaning "not rated", and mean holds each user's mean rating. Over the
// users u who rated both items,
//
//	Σ (xᵤ−meanᵤ)(yᵤ−meanᵤ) / √(Σ (xᵤ−meanᵤ)² · Σ (yᵤ−meanᵤ)²),
//
// in [−1, 1]. It is 0 when no user rated both or a sum of squares is zero.
// It returns an error wrapping [ErrLength] unless all three lengths are
// equal. It does not allocate.
func VecAdjustedCosine(x, y, mean []float64) (float64, error) {
	if err := sameLen(x, y); err != nil {
		return 0, err
	}
	if err := sameLen(x, mean); err != nil {
		return 0, err
	}
	e := unitExp(x, y, mean) // see VecPearson
	var sxy, sxx, syy float64
	for u, xu := range x {
		yu := y[u]
		if xu == 0 || yu == 0 {
			continue
		}
		dx, dy := math.Ldexp(xu, -e)-math.Ldexp(mean[u], -e), math.Ldexp(yu, -e)-math.Ldexp(mean[u], -e)
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return correlation(sxy, sxx, syy), nil
}

// VecEuclidean returns the similarity 1 / (1 + ‖x − y‖₂) derived from the
// Euclidean distance, in (0, 1] for finite components, however large: 1
// for equal vectors (two zero or empty vectors included), and at least
// the smallest positive float64 when the distance is beyond the float64
// range. It returns an error wrapping [ErrLength] when the lengths differ.
// It does not allocate.
func VecEuclidean(x, y []float64) (float64, error) {
	if err := sameLen(x, y); err != nil {
		return 0, err
	}
	e := unitExp(x, y)
	if e == 0 {
		return 1 / (1 + floats.Distance(x, y, 2)), nil
	}
	// scaled by 2⁻ᵉ before the differences, which may overflow; the
	// distance is d·2ᵉ
	var ss float64
	for i, xi := range x {
		d := math.Ldexp(xi, -e) - math.Ldexp(y[i], -e)
		ss += d * d
	}
	d := math.Sqrt(ss)
	if dist := math.Ldexp(d, e); !math.IsInf(dist, 0) {
		return 1 / (1 + dist), nil
	}
	// a distance beyond the float64 range (d ≥ 1): 1/(1 + d·2ᵉ) is
	// 2⁻ᵉ/d to a relative 2⁻¹⁰²⁴
	return max(math.Ldexp(1/d, -e), math.SmallestNonzeroFloat64), nil
}

// VecWeightedJaccard returns the weighted (Ruzicka) Jaccard similarity of
// two non-negative vectors, Σ min(xᵢ, yᵢ) / Σ max(xᵢ, yᵢ), in [0, 1] for
// finite components, however large or small; it is the set Jaccard for
// 0/1 vectors. It is 0 when both vectors are zero or empty. It returns an
// error wrapping [ErrLength] when the lengths differ and one wrapping
// [ErrNegative] for a negative component. It does not allocate.
func VecWeightedJaccard(x, y []float64) (float64, error) {
	if err := sameLen(x, y); err != nil {
		return 0, err
	}
	// scaled by a common power of two when the sums would overflow or
	// underflow (see unitExp), which the ratio does not see
	e := unitExp(x, y)
	var lo, hi float64
	for i, xi := range x {
		yi := y[i]
		if xi < 0 || yi < 0 {
			return 0, fmt.Errorf("%w: index %d", ErrNegative, i)
		}
		if e != 0 {
			xi, yi = math.Ldexp(xi, -e), math.Ldexp(yi, -e)
		}
		lo += min(xi, yi)
		hi += max(xi, yi)
	}
	if hi == 0 {
		return 0, nil
	}
	return lo / hi, nil
}

// VectorFunc is the signature of the vector measures, for [OnVectors].
type VectorFunc func(x, y []float64) (float64, error)

// OnVectors applies f to two gonum vectors. A *mat.VecDense with unit
// increment is used in place; any other vector is copied. For example
// OnVectors(VecCosine, u, v) is the cosine of u and v; wrap
// [VecAdjustedCosine] in a closure to bind its means.
func OnVectors(f VectorFunc, x, y mat.Vector) (float64, error) {
	return f(vecData(x), vecData(y))
}

func vecData(v mat.Vector) []float64 {
	if d, ok := v.(*mat.VecDense); ok {
		if raw := d.RawVector(); raw.Inc == 1 {
			return raw.Data[:raw.N:raw.N]
		}
	}
	n := v.Len()
	out := make([]float64, n)
	for i := range n {
		out[i] = v.AtVec(i)
	}
	return out
}
