package benchmarks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Digest is a compact form of Answers that two processes can compare: per
// question (and R×F cell) the count, the spend in Money units and a hash of
// the sorted customer keys.
type Digest map[string]string

// Digest returns the digest of a.
func (a *Answers) Digest() Digest {
	d := Digest{}
	put := func(name string, s Set) {
		h := "-"
		if s.Keys != nil {
			sum := sha256.Sum256([]byte(strings.Join(s.Keys, "\n")))
			h = hex.EncodeToString(sum[:8])
		}
		d[name] = fmt.Sprintf("%d customers, spend %d, keys %s", s.Customers, int64(s.Spend), h)
	}
	for q, s := range a.Sets {
		put(string(q), s)
	}
	for r := range 5 {
		for f := range 5 {
			put(fmt.Sprintf("%s R%d F%d", QRFM, r+1, f+1), a.RFM[r][f])
		}
	}
	return d
}

// Differ returns the questions on which two digests differ, in question
// order: "d rfm" stands for any of its cells.
func Differ(x, y Digest) []string {
	var out []string
	for _, q := range Questions {
		bad := false
		for k, v := range x {
			if strings.HasPrefix(k, string(q)) && y[k] != v {
				bad = true
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok && strings.HasPrefix(k, string(q)) {
				bad = true
			}
		}
		if bad {
			out = append(out, string(q))
		}
	}
	return out
}
