package recommend

import "github.com/shopaffinity/affinity"

// posMap maps product ids to small positive ints (0 means absent) with
// open addressing. A request's anchors and results are a few dozen to a
// few hundred products: a table that fits in L1 beats a dense array over
// the whole catalog, whose every access is a cache miss.
type posMap struct {
	keys  []uint32 // product+1; 0 = empty slot
	vals  []int32
	used  []uint32 // occupied slots, for reset
	shift uint8
}

func (m *posMap) slot(p affinity.ProductID) uint32 {
	return (uint32(p) * 0x9E3779B1) >> m.shift
}

func (m *posMap) get(p affinity.ProductID) int32 {
	if len(m.keys) == 0 {
		return 0
	}
	mask := uint32(len(m.keys) - 1)
	for i := m.slot(p); ; i = (i + 1) & mask {
		switch m.keys[i] {
		case 0:
			return 0
		case uint32(p) + 1:
			return m.vals[i]
		}
	}
}

func (m *posMap) set(p affinity.ProductID, v int32) {
	if 2*(len(m.used)+1) > len(m.keys) {
		m.grow()
	}
	mask := uint32(len(m.keys) - 1)
	for i := m.slot(p); ; i = (i + 1) & mask {
		switch m.keys[i] {
		case 0:
			m.keys[i], m.vals[i] = uint32(p)+1, v
			m.used = append(m.used, i)
			return
		case uint32(p) + 1:
			m.vals[i] = v
			return
		}
	}
}

func (m *posMap) grow() {
	n := max(2*len(m.keys), 256)
	oldK, oldV, oldU := m.keys, m.vals, m.used
	m.keys, m.vals, m.used = make([]uint32, n), make([]int32, n), make([]uint32, 0, n/2)
	m.shift = uint8(32)
	for x := n; x > 1; x >>= 1 {
		m.shift--
	}
	for _, i := range oldU {
		m.set(affinity.ProductID(oldK[i]-1), oldV[i])
	}
}

func (m *posMap) reset() {
	for _, i := range m.used {
		m.keys[i] = 0
	}
	m.used = m.used[:0]
}
