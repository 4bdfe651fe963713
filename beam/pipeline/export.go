package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/segment"
)

// Segment is one named set of customers, by dense id.
type Segment struct {
	// Kind is "all", "rfm" or "lifecycle".
	Kind, Name string
	Set        *roaring.Bitmap
}

// Segments returns the sets [NewFeatures] exports, computed from a
// single-machine index: everyone x knows, its RFM segments in rule order
// and its lifecycle stages in [segment.Stages] order.
func Segments(x *segment.Index) ([]Segment, error) {
	out := []Segment{{Kind: "all", Name: "all", Set: x.All()}}
	for _, n := range x.RFMSegments() {
		b, err := x.Eval(segment.RFM(n))
		if err != nil {
			return nil, err
		}
		out = append(out, Segment{Kind: "rfm", Name: n, Set: b})
	}
	for _, n := range segment.Stages() {
		b, err := x.Eval(segment.Lifecycle(n))
		if err != nil {
			return nil, err
		}
		out = append(out, Segment{Kind: "lifecycle", Name: n, Set: b})
	}
	return out, nil
}

// SegmentFile is the file name of a segment: kind, a dash and the name
// in lower case with every run of other characters than letters and
// digits replaced by one dash, and ".roaring" ("rfm-can-t-lose-them.roaring");
// a name without a letter or digit ("★") is written in hexadecimal
// ("rfm-x-e29885.roaring"). Two names can give one file ("Top-R" and
// "Top R"): [WriteSegments] numbers the later ones.
func SegmentFile(s Segment) string {
	slug := strings.Join(strings.FieldsFunc(strings.ToLower(s.Name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), "-")
	if slug == "" {
		slug = "x-" + hex.EncodeToString([]byte(s.Name))
	}
	return s.Kind + "-" + slug + ".roaring"
}

// WriteSegments writes sets of customers for other systems to the
// directory dir: customers.csv, the dictionary ("id,customer", id order),
// segments.csv ("kind,name,file,customers"), and one file per segment
// (named by [SegmentFile]; a name a segment before it took gets "-2",
// "-3", … before ".roaring") holding its bitmap over the dictionary's ids in
// roaring's portable serialization
// (https://github.com/RoaringBitmap/RoaringFormatSpec), with runs where
// they are smaller. PostgreSQL's pg_roaringbitmap reads these bytes as a
// roaringbitmap value (rb_build from bytea, or a bytea cast), and
// ClickHouse's groupBitmap states and the CRoaring, Java and Go
// libraries read them as they are. Equal sets give equal bytes.
func WriteSegments(ctx context.Context, dir string, customers Dict, sets []Segment) error {
	if err := writeFile(ctx, joinPath(dir, "customers.csv"), dictCSV("customer", customers)); err != nil {
		return err
	}
	var idx bytes.Buffer
	w := csv.NewWriter(&idx)
	_ = w.Write([]string{"kind", "name", "file", "customers"})
	taken := make(map[string]bool, len(sets))
	for _, s := range sets {
		if !s.Set.IsEmpty() && int(s.Set.Maximum()) >= len(customers.Keys) {
			return fmt.Errorf("pipeline: segment %s %q holds id %d beyond the %d customers", s.Kind, s.Name, s.Set.Maximum(), len(customers.Keys))
		}
		b, err := PortableBytes(s.Set)
		if err != nil {
			return err
		}
		name := SegmentFile(s)
		for n := 2; taken[name]; n++ {
			name = strings.TrimSuffix(SegmentFile(s), ".roaring") + "-" + strconv.Itoa(n) + ".roaring"
		}
		taken[name] = true
		if err := writeFile(ctx, joinPath(dir, name), b); err != nil {
			return err
		}
		_ = w.Write([]string{s.Kind, s.Name, name, strconv.FormatUint(s.Set.GetCardinality(), 10)})
	}
	w.Flush()
	return writeFile(ctx, joinPath(dir, "segments.csv"), idx.Bytes())
}

// PortableBytes returns set in roaring's portable serialization, in a
// canonical form: containers rebuilt from the values and run-optimised,
// so that equal sets give equal bytes whatever operations made them.
func PortableBytes(set *roaring.Bitmap) ([]byte, error) {
	c := roaring.BitmapOf(set.ToArray()...)
	c.RunOptimize()
	return c.ToBytes()
}
