package affinity

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// keyTable against a Go map on keys built to collide in every way the slot
// shortcut could get wrong: zero bytes, equal prefixes, lengths around 8
// and past 255.
func TestKeyTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 'a', 'b', 0xff}
	randomKey := func() string {
		n := rng.IntN(12)
		switch rng.IntN(20) {
		case 0:
			n = 250 + rng.IntN(12)
		case 1:
			return "same-long-prefix-" + strconv.Itoa(rng.IntN(50))
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	var tab keyTable
	want := map[string]uint32{}
	var order []string
	for range testdata.Scale(200_000, 40_000) {
		k := randomKey()
		id := tab.intern(k)
		// require only on a failure: its t.Helper costs more than intern
		if w, ok := want[k]; ok {
			if w != id {
				require.Equal(t, w, id, "key %q", k)
			}
		} else {
			if id != uint32(len(order)) {
				require.Equal(t, uint32(len(order)), id, "new key %q gets the next id", k)
			}
			want[k] = id
			order = append(order, k)
		}
	}
	require.Equal(t, len(order), tab.len())
	assert.Equal(t, order, tab.keys)
	for k, w := range want {
		if id, ok := tab.lookup(k); !ok || id != w {
			require.True(t, ok, "%q", k)
			require.Equal(t, w, id)
		}
	}
	for range 10_000 {
		k := randomKey() + "\x00x"
		_, inMap := want[k]
		if _, inTab := tab.lookup(k); inMap != inTab {
			require.Equal(t, inMap, inTab, "%q", k)
		}
	}
	c := tab.clone()
	c.intern("only in the clone")
	_, ok := tab.lookup("only in the clone")
	assert.False(t, ok, "clone shares nothing mutable")

	var g keyTable
	g.grow(1000)
	n := len(g.slots)
	for i := range 1000 {
		g.intern(strconv.Itoa(i))
	}
	assert.Equal(t, n, len(g.slots), "grow reserved enough slots")
	var empty keyTable
	_, ok = empty.lookup("")
	assert.False(t, ok)
}
