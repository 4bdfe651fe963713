package topk_test

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/topk"
)

type advPair struct {
	v  float32
	id uint32
}

// advLess is the documented order: score descending (−0 = +0), id ascending.
func advCmp(a, b advPair) int {
	return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.id, b.id))
}

var advSpecial = []float32{
	float32(math.Inf(-1)), -math.MaxFloat32, -1, -math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 0,
	math.SmallestNonzeroFloat32, 1e-38, 0.5, 1, 1 + 1.0/(1<<23), math.MaxFloat32, float32(math.Inf(1)),
}

// TestAdvPackOrder: keys order by score descending, then id ascending,
// for specials (±Inf, subnormals, ±0, extremes) and random floats; Unpack
// inverts Pack (−0 comes back as a zero).
func TestAdvPackOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := []uint32{0, 1, 7, math.MaxUint32 - 1, math.MaxUint32}
	var ps []advPair
	for _, v := range advSpecial {
		for _, id := range ids {
			ps = append(ps, advPair{v, id})
		}
	}
	for range 200 {
		v := math.Float32frombits(rng.Uint32())
		if v != v {
			continue
		}
		ps = append(ps, advPair{v, rng.Uint32()})
	}
	for _, p := range ps {
		v, id := topk.Unpack(topk.Pack(p.v, p.id))
		assert.Equal(t, p.id, id)
		assert.True(t, v == p.v, "%v came back as %v", p.v, v)
		if p.v != 0 {
			assert.Equal(t, math.Float32bits(p.v), math.Float32bits(v), "bits of %v", p.v)
		}
	}
	for i := range ps {
		for j := range ps {
			want := advCmp(ps[i], ps[j])
			got := cmp.Compare(topk.Pack(ps[i].v, ps[i].id), topk.Pack(ps[j].v, ps[j].id))
			if want != got {
				t.Fatalf("Pack(%v,%d) vs Pack(%v,%d): got %d, want %d", ps[i].v, ps[i].id, ps[j].v, ps[j].id, got, want)
			}
		}
	}
	assert.Equal(t, topk.Pack(0, 3), topk.Pack(float32(math.Copysign(0, -1)), 3), "−0 equals +0")
}

// advRun offers ps to a Keys of k, through Push or through Rejects and
// PushKey, and returns Sorted unpacked.
func advRun(top *topk.Keys, k int, ps []advPair, viaKey bool) []advPair {
	top.Reset(k)
	for _, p := range ps {
		if viaKey {
			key := topk.Pack(p.v, p.id)
			if !top.Rejects(key) {
				top.PushKey(key)
			}
		} else {
			top.Push(p.v, p.id)
		}
	}
	var out []advPair
	for _, key := range top.Sorted() {
		v, id := topk.Unpack(key)
		out = append(out, advPair{v, id})
	}
	return out
}

func advWant(ps []advPair, k int) []advPair {
	s := slices.Clone(ps)
	slices.SortFunc(s, advCmp)
	s = s[:min(k, len(s))]
	if len(s) == 0 {
		return nil
	}
	// −0 is +0 in a key
	for i := range s {
		if s[i].v == 0 {
			s[i].v = 0
		}
	}
	return s
}

// TestAdvKeysMatchSort: the kept keys are the k best by the documented
// order, for k = 0, 1, n-1, n, n+1, ≫ n, empty streams, all ties, ids at
// the ends of uint32, special scores, sorted and reversed streams, through
// Push and through Rejects/PushKey; the Keys reused across runs.
func TestAdvKeysMatchSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var top topk.Keys
	for round := range 120 {
		n := []int{0, 1, 2, 3, 17, 64, 200}[round%7]
		ps := make([]advPair, 0, n)
		seen := map[advPair]bool{}
		for len(ps) < n {
			var p advPair
			switch rng.IntN(4) {
			case 0:
				p.v = advSpecial[rng.IntN(len(advSpecial))]
			case 1:
				p.v = 3 // ties
			default:
				p.v = float32(rng.IntN(5)) - 2
			}
			switch rng.IntN(4) {
			case 0:
				p.id = math.MaxUint32 - uint32(rng.IntN(3))
			case 1:
				p.id = uint32(rng.IntN(3))
			default:
				p.id = rng.Uint32()
			}
			q := p
			if q.v == 0 {
				q.v = 0 // −0 and +0 with one id are the same key
			}
			if !seen[q] {
				seen[q] = true
				ps = append(ps, p)
			}
		}
		switch round % 3 {
		case 1:
			slices.SortFunc(ps, advCmp) // best first
		case 2:
			slices.SortFunc(ps, func(a, b advPair) int { return advCmp(b, a) }) // worst first
		}
		for _, k := range []int{0, 1, 2, max(n-1, 0), n, n + 1, 3*n + 5} {
			want := advWant(ps, k)
			for _, viaKey := range []bool{false, true} {
				got := advRun(&top, k, ps, viaKey)
				require.Equal(t, want, got, "round %d n %d k %d viaKey %v", round, n, k, viaKey)
				assert.Equal(t, k, top.K())
				// Sorted twice gives the same
				again := top.Sorted()
				assert.Len(t, again, len(want), "Sorted twice")
			}
		}
	}
}

// TestAdvLenFull: Len stays within 2k while pushing; Full is false while
// fewer than k keys were offered, and true once n ≫ k keys were.
func TestAdvLenFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var top topk.Keys
	for _, k := range []int{1, 2, 5, 33} {
		top.Reset(k)
		assert.False(t, top.Full(), "k %d: empty", k)
		for i := range 20 * k {
			top.Push(rng.Float32(), uint32(i))
			assert.LessOrEqual(t, top.Len(), 2*k, "k %d after %d", k, i+1)
			if i+1 < k {
				assert.False(t, top.Full(), "k %d: only %d keys", k, i+1)
			}
		}
		assert.True(t, top.Full(), "k %d after %d keys", k, 20*k)
		assert.Len(t, top.Sorted(), k)
	}
}

// TestAdvZeroValueAndKZero: the zero value keeps nothing until Reset, and
// nor does Reset(0).
func TestAdvZeroValueAndKZero(t *testing.T) {
	var z topk.Keys
	assert.Equal(t, 0, z.K())
	for i := range 10 {
		z.Push(float32(i), uint32(i))
	}
	assert.Empty(t, z.Sorted())
	var top topk.Keys
	top.Reset(3)
	top.Push(1, 1)
	top.Reset(0)
	for i := range 10 {
		top.Push(float32(i), uint32(i))
	}
	assert.Empty(t, top.Sorted())
	assert.Equal(t, 0, top.Len())
}

// TestAdvFloor: Floor is the caller's pruning bound (Keys itself does not
// enforce a raised Floor; the doc comment reads as if it did): skipping
// every pair whose score is below the current Floor, as the callers do,
// keeps the same k best as offering every pair, and no kept score is
// below the final Floor.
func TestAdvFloor(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var all, pruned topk.Keys
	for round := range 40 {
		n, k := rng.IntN(300), 1+rng.IntN(10)
		all.Reset(k)
		pruned.Reset(k)
		for i := range n {
			v, id := float32(rng.IntN(9))-4, uint32(rng.IntN(1000))*1000+uint32(i)
			if rng.IntN(5) == 0 {
				v = advSpecial[rng.IntN(len(advSpecial))]
			}
			all.Push(v, id)
			if v < pruned.Floor {
				continue
			}
			pruned.Push(v, id)
		}
		floor := all.Floor
		got := slices.Clone(pruned.Sorted())
		require.Equal(t, all.Sorted(), got, "round %d: pruning by Floor changed the k best", round)
		for _, key := range got {
			v, _ := topk.Unpack(key)
			assert.GreaterOrEqual(t, v, floor, "round %d", round)
		}
	}
}

// TestAdvResetClearsFloor: Reset forgets a Floor raised before, so that a
// reused Keys does not reject what a fresh one keeps.
func TestAdvResetClearsFloor(t *testing.T) {
	var top topk.Keys
	top.Reset(2)
	top.Floor = 100
	top.Reset(2)
	top.Push(1, 1)
	top.Push(-5, 2)
	assert.Len(t, top.Sorted(), 2)
}

// TestAdvSelectSmallest: a[k-1] is the k-th smallest, those before are
// smaller, those after larger, and a is a permutation of its input, for
// random, sorted, reversed, organ-pipe and extreme keys.
func TestAdvSelectSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	gens := map[string]func(n int) []uint64{
		"random": func(n int) []uint64 {
			set := map[uint64]bool{}
			for len(set) < n {
				set[rng.Uint64()] = true
			}
			out := make([]uint64, 0, n)
			for k := range set {
				out = append(out, k)
			}
			slices.Sort(out)
			rng.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
			return out
		},
		"sorted": func(n int) []uint64 {
			out := make([]uint64, n)
			for i := range out {
				out[i] = uint64(i)
			}
			return out
		},
		"reversed": func(n int) []uint64 {
			out := make([]uint64, n)
			for i := range out {
				out[i] = math.MaxUint64 - uint64(i)
			}
			return out
		},
		"organ": func(n int) []uint64 {
			out := make([]uint64, n)
			for i := range out {
				if i < n/2 {
					out[i] = uint64(2 * i)
				} else {
					out[i] = uint64(2*(n-i) + 1)
				}
			}
			return out
		},
	}
	for name, gen := range gens {
		for _, n := range []int{1, 2, 3, 7, 8, 9, 31, 33, 100, 257} {
			for _, k := range []int{1, 2, n / 2, n - 1, n} {
				if k < 1 || k > n {
					continue
				}
				a := gen(n)
				sorted := slices.Sorted(slices.Values(a))
				topk.SelectSmallest(a, k)
				require.Equal(t, sorted, slices.Sorted(slices.Values(a)), "%s n %d k %d: not a permutation", name, n, k)
				require.Equal(t, sorted[k-1], a[k-1], "%s n %d k %d", name, n, k)
				for i := range k - 1 {
					require.Less(t, a[i], a[k-1], "%s n %d k %d at %d", name, n, k, i)
				}
				for i := k; i < n; i++ {
					require.Greater(t, a[i], a[k-1], "%s n %d k %d at %d", name, n, k, i)
				}
			}
		}
	}
}
