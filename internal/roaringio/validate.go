package roaringio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Roaring's portable format: cookies and the container count from which a
// serialization with run containers carries an offset header.
const (
	serialCookieRun   = 12347
	noOffsetThreshold = 4
)

// Validate validates a roaring serialization in one pass, as the
// format specification and roaring's Validate define it (sorted keys;
// sorted, in-range array, bitset and run containers that agree with their
// cardinality; no trailing bytes), so that no hostile input reaches roaring's
// decoder and validation costs time linear in the input (roaring's own
// Validate is quadratic in the runs of a run container). It also insists on
// the canonical form roaring writes — correct offsets, a run cookie only
// with run containers — so that encoding a decoded index gives back the
// same bytes.
func Validate(p []byte) error {
	errShort := errors.New("truncated bitmap")
	if len(p) < 4 {
		return errShort
	}
	cookie := binary.LittleEndian.Uint32(p)
	off := 4
	var size int
	var runs []byte
	switch {
	case cookie&0xffff == serialCookieRun:
		size = int(cookie>>16) + 1
		n := (size + 7) / 8
		if len(p) < off+n {
			return errShort
		}
		runs, off = p[off:off+n], off+n
	case cookie == serialCookieNoRun:
		if len(p) < 8 {
			return errShort
		}
		size, off = int(binary.LittleEndian.Uint32(p[4:])), 8
		if size > 1<<16 {
			return errors.New("too many containers")
		}
	default:
		return errors.New("unknown cookie")
	}
	if len(p) < off+4*size {
		return errShort
	}
	head := p[off : off+4*size]
	off += 4 * size
	var offsets []byte // checked below: roaring's reader skips them
	if runs == nil || size >= noOffsetThreshold {
		if len(p) < off+4*size {
			return errShort
		}
		offsets = p[off : off+4*size]
		off += 4 * size
	}
	hasRun := false
	for i := range size {
		key := binary.LittleEndian.Uint16(head[4*i:])
		card := int(binary.LittleEndian.Uint16(head[4*i+2:])) + 1
		if i > 0 && key <= binary.LittleEndian.Uint16(head[4*i-4:]) {
			return errors.New("container keys out of order")
		}
		if offsets != nil && binary.LittleEndian.Uint32(offsets[4*i:]) != uint32(off) {
			return errors.New("wrong container offset")
		}
		switch {
		case runs != nil && runs[i/8]&(1<<(i%8)) != 0:
			hasRun = true
			if len(p) < off+2 {
				return errShort
			}
			nr := int(binary.LittleEndian.Uint16(p[off:]))
			off += 2
			if nr == 0 || len(p) < off+4*nr {
				return errShort
			}
			total, next := 0, 0
			for r := range nr {
				start := int(binary.LittleEndian.Uint16(p[off+4*r:]))
				length := int(binary.LittleEndian.Uint16(p[off+4*r+2:])) + 1
				if start < next || start+length > 1<<16 {
					return errors.New("run container out of order")
				}
				next = start + length + 1 // runs neither overlap nor touch
				total += length
			}
			if total != card {
				return errors.New("run container cardinality mismatch")
			}
			off += 4 * nr
		case card > ArrayMax:
			if len(p) < off+8*bitsetWords {
				return errShort
			}
			n := 0
			for w := range bitsetWords {
				n += bits.OnesCount64(binary.LittleEndian.Uint64(p[off+8*w:]))
			}
			if n != card {
				return errors.New("bitset cardinality mismatch")
			}
			off += 8 * bitsetWords
		default:
			if len(p) < off+2*card {
				return errShort
			}
			for j := 1; j < card; j++ {
				if binary.LittleEndian.Uint16(p[off+2*j:]) <= binary.LittleEndian.Uint16(p[off+2*j-2:]) {
					return errors.New("array container out of order")
				}
			}
			off += 2 * card
		}
	}
	if off != len(p) {
		return fmt.Errorf("%d trailing bytes", len(p)-off)
	}
	if runs != nil && !hasRun {
		return errors.New("run cookie without run containers") // WriteTo would not write it
	}
	for i := size; runs != nil && i < 8*len(runs); i++ {
		if runs[i/8]&(1<<(i%8)) != 0 {
			return errors.New("stray run flag")
		}
	}
	return nil
}
