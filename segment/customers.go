package segment

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/roaringio"
	"github.com/shopaffinity/affinity/segment/query"
)

// Attributes are the per-customer fields a shop keeps beside its orders —
// an e-mail opt-in, a birthday, a signup date, a country — by customer id:
// the dense ids of the index [LoadAttributes] read them for, which
// [Index.WithAttributes] translates by customer key for an index of
// another History; set by hand (the zero value), the ids of the index
// they are attached to. Boolean fields are flags (a
// customer has the flag or not); date fields hold a calendar date (UTC
// day) per customer; text fields (an e-mail address, a country) hold
// one value per customer, and queries read each value of a text field as
// a flag named "field=value" (such as "country=DE"). Load them from a file with
// [LoadAttributes] or set them one by one; attach them to an index with
// [Index.WithAttributes], which makes them usable in queries:
//
//	flag("optin") = 1                    # opted in
//	flag("country=DE") = 1               # text field country is DE
//	flag("email=ann@example.com") = 0    # everyone but the customers with that e-mail
//	days_to("birthday") between 0 and 6  # birthday within the coming week, today included
//	days_since("signup") >= 30d          # signed up at least 30 days ago
//
// days_to counts the whole days from the index's as-of day to the next
// anniversary of the date (0 on the day itself; February 29 falls on
// March 1 in other years); days_since the whole days from the date to the
// as-of day (negative for a date after it). A customer without a flag
// counts as 0 (flag("optin") = 0 selects everyone not opted in, and
// flag("country=DE") = 0 everyone whose country is not DE, those without
// a country included); a
// customer without a date has no value there, and no comparison matches
// them. A text value costs its bytes and a few more per customer, and
// an index keeps the customers of a text field sorted by value, so that
// a field whose values are unique per customer (an e-mail address) costs
// no more than one whose values repeat. A boolean flag that is named like
// a value of a text field ("country=DE" set with SetFlag while a text
// field country exists) adds its customers to those of the value. A
// query may name any value of a text field: one that no customer has is
// a flag nobody has. The
// zero value is empty and ready to use; a nil *Attributes
// reads as empty (its Set methods return an error matching
// [affinity.ErrNilArgument]). An Attributes is not safe for concurrent
// writes.
type Attributes struct {
	flags map[string]*roaring.Bitmap
	dates map[string]map[affinity.CustomerID]int64 // Unix day numbers
	texts map[string]map[affinity.CustomerID]string
	// keys are the customer keys by id of the index LoadAttributes read
	// for (shared with it, never modified); nil for Attributes set by hand
	keys []string
}

// MaxAttributeName bounds the length of a field name in bytes.
const MaxAttributeName = 128

// MaxAttributeValue bounds the length of a text value in bytes (an
// e-mail address has at most 254); it is not bound by
// [MaxAttributeName].
const MaxAttributeValue = 1024

func checkName(name string) error {
	if name == "" || len(name) > MaxAttributeName || strings.ContainsAny(name, "\x00\n") {
		return fmt.Errorf("segment: attribute name %q: want 1 to %d characters without NUL or newline", name, MaxAttributeName)
	}
	return nil
}

// checkTextName returns an error when name cannot name a text field: a
// field name (see checkName) without "=", which separates the field from
// the value in the flags queries read ("field=value").
func checkTextName(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if strings.Contains(name, "=") {
		return fmt.Errorf("segment: text field %s: a text field's name holds no \"=\" (its values are the flags \"field=value\")", query.Excerpt(name))
	}
	return nil
}

// checkText returns an error when v cannot be a value of text field
// name (see [Attributes.SetText]).
func checkText(name, v string) error {
	if len(v) > MaxAttributeValue || strings.ContainsAny(v, "\x00\n") {
		return fmt.Errorf("segment: text field %q: value %s is %d bytes, want at most %d (MaxAttributeValue) without NUL or newline", name, query.Excerpt(v), len(v), MaxAttributeValue)
	}
	return nil
}

// checkSet returns the error of a Set method for customer c: a nil a, a
// bad name, or a c beyond the customers of the index a was loaded for.
func (a *Attributes) checkSet(name string, c affinity.CustomerID) error {
	switch {
	case a == nil:
		return affinity.NilArgument("segment", "Attributes", ErrInvalid)
	case a.keys != nil && uint64(c) >= uint64(len(a.keys)):
		return fmt.Errorf("%w: customer id %d: the attributes were loaded for an index of %d customers (ids 0 to %d)", ErrInvalid, c, len(a.keys), len(a.keys)-1)
	}
	return checkName(name)
}

// SetFlag sets or clears the boolean field name of customer c.
func (a *Attributes) SetFlag(name string, c affinity.CustomerID, v bool) error {
	if err := a.checkSet(name, c); err != nil {
		return err
	}
	if a.flags == nil {
		a.flags = map[string]*roaring.Bitmap{}
	}
	b := a.flags[name]
	if b == nil {
		b = roaring.New()
		a.flags[name] = b
	}
	if v {
		b.Add(uint32(c))
	} else {
		b.Remove(uint32(c))
	}
	return nil
}

// SetDate sets the date field name of customer c to t's UTC day.
func (a *Attributes) SetDate(name string, c affinity.CustomerID, t time.Time) error {
	if err := a.checkSet(name, c); err != nil {
		return err
	}
	if a.dates == nil {
		a.dates = map[string]map[affinity.CustomerID]int64{}
	}
	if a.dates[name] == nil {
		a.dates[name] = map[affinity.CustomerID]int64{}
	}
	a.dates[name][c] = floorDiv(t.Unix(), 86400)
	return nil
}

// SetText sets the text field name of customer c to v, which queries
// read as the flag "name=v" (see [Attributes]). An empty v
// clears the field: c has no text there (as an empty cell of
// [LoadAttributes]). name must be a field name without "=" and a
// non-empty v at most [MaxAttributeValue] bytes without NUL or newline;
// otherwise it is an error and nothing changes.
func (a *Attributes) SetText(name string, c affinity.CustomerID, v string) error {
	if err := a.checkSet(name, c); err != nil {
		return err
	}
	if err := checkTextName(name); err != nil {
		return err
	}
	if v == "" {
		delete(a.texts[name], c)
		return nil
	}
	if err := checkText(name, v); err != nil {
		return err
	}
	a.setText(name, c, v)
	return nil
}

// setText is SetText of a checked name and non-empty value.
func (a *Attributes) setText(name string, c affinity.CustomerID, v string) {
	if a.texts == nil {
		a.texts = map[string]map[affinity.CustomerID]string{}
	}
	if a.texts[name] == nil {
		a.texts[name] = map[affinity.CustomerID]string{}
	}
	a.texts[name][c] = v
}

// Flag returns the customers with the flag name, or nil when there is no
// such flag (and for a nil a). For a boolean field the bitmap is a's
// own: do not modify it. For "field=value" of a text field it is a new
// bitmap of the customers with that value (empty when none has it, see
// [Attributes] for a boolean flag of the same name), found in time
// linear in the customers with the field.
func (a *Attributes) Flag(name string) *roaring.Bitmap {
	if a == nil {
		return nil
	}
	b := a.flags[name]
	field, v, ok := strings.Cut(name, "=")
	col, text := a.texts[field]
	if !ok || !text {
		return b
	}
	ids := make([]uint32, 0, 16)
	for c, s := range col {
		if s == v {
			ids = append(ids, uint32(c))
		}
	}
	out := roaring.BitmapOf(ids...)
	if b != nil {
		out.Or(b)
	}
	return out
}

// Date returns customer c's date field name (midnight UTC); false when c
// has none (and for a nil a).
func (a *Attributes) Date(name string, c affinity.CustomerID) (time.Time, bool) {
	if a == nil {
		return time.Time{}, false
	}
	d, ok := a.dates[name][c]
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(d*86400, 0).UTC(), true
}

// Text returns customer c's text field name; false when c has none (and
// for a nil a).
func (a *Attributes) Text(name string, c affinity.CustomerID) (string, bool) {
	if a == nil {
		return "", false
	}
	v, ok := a.texts[name][c]
	return v, ok
}

// Names returns the names of the boolean flags, dates and texts, each
// sorted; none for a nil a. The flags "field=value" of text fields are
// not listed.
func (a *Attributes) Names() (flags, dates, texts []string) {
	if a == nil {
		return nil, nil, nil
	}
	return slices.Sorted(maps.Keys(a.flags)), slices.Sorted(maps.Keys(a.dates)), slices.Sorted(maps.Keys(a.texts))
}

// customerCols are the attribute columns of an index: one per flag,
// two per date (days_to and days_since), by column key, and the text
// fields.
type customerCols struct {
	cols  []attr
	index map[string]uint32 // attribute name + "\x00" + field → column
	texts map[string]*textCol
	// names lists the fields per attribute name for error messages,
	// sorted, each text field once as "field=…" rather than a flag per
	// value (one per customer for an e-mail address)
	names map[string][]string
}

// textCol is a text field of an index: its values, sorted, and the
// customers of each, so that a field whose every value is a different
// customer's (an e-mail address) costs a few bytes per customer, not a
// column per value. A value's flag is built when a query names it.
type textCol struct {
	vals []string // the distinct values, ascending
	off  []uint32 // the customers of vals[k] are ids[off[k]:off[k+1]]
	ids  []uint32 // the index's customer ids, ascending per value

	// byCustomer gives customer c's value as vals[byCustomer[c]-1] (0:
	// none), built on the first [Index.Text] of the field
	once       sync.Once
	byCustomer []uint32
}

// value returns customer c's value, false when c has none; n is the
// number of the index's customers.
func (t *textCol) value(c uint32, n int) (string, bool) {
	t.once.Do(func() {
		t.byCustomer = make([]uint32, n)
		for k := range t.vals {
			for _, id := range t.ids[t.off[k]:t.off[k+1]] {
				t.byCustomer[id] = uint32(k) + 1
			}
		}
	})
	if int64(c) >= int64(len(t.byCustomer)) || t.byCustomer[c] == 0 {
		return "", false
	}
	return t.vals[t.byCustomer[c]-1], true
}

// Text returns customer c's text field name of the attributes attached
// with [Index.WithAttributes], matched to x's customers as it matches
// them (by key, for Attributes LoadAttributes read for another History):
// the value to use with x's customer ids, where [Attributes.Text] takes
// the ids of the Attributes' own. False when c has no such value, x has
// no text field name or no attributes attached (and for a nil x). The
// first call for a field takes time linear in x's customers and 4 bytes
// each; later calls constant time. Safe for concurrent use.
func (x *Index) Text(name string, c affinity.CustomerID) (string, bool) {
	if x == nil || x.cust == nil {
		return "", false
	}
	t := x.cust.texts[name]
	if t == nil {
		return "", false
	}
	return t.value(uint32(c), len(x.keys))
}

// newTextCol returns the text column of the values col, of the
// customers id gives an id of the index (ok false: left out).
func newTextCol(col map[affinity.CustomerID]string, id func(affinity.CustomerID) (uint32, bool)) *textCol {
	type pair struct {
		v string
		c uint32
	}
	pairs := make([]pair, 0, len(col))
	for c, v := range col {
		if x, ok := id(c); ok {
			pairs = append(pairs, pair{v, x})
		}
	}
	slices.SortFunc(pairs, func(p, q pair) int { return cmp.Or(strings.Compare(p.v, q.v), cmp.Compare(p.c, q.c)) })
	distinct := 0
	for i := range pairs {
		if i == 0 || pairs[i].v != pairs[i-1].v {
			distinct++
		}
	}
	t := &textCol{vals: make([]string, 0, distinct), off: make([]uint32, 0, distinct+1), ids: make([]uint32, len(pairs))}
	for i, p := range pairs {
		if i == 0 || p.v != pairs[i-1].v {
			t.vals = append(t.vals, p.v)
			t.off = append(t.off, uint32(i))
		}
		t.ids[i] = p.c
	}
	t.off = append(t.off, uint32(len(pairs)))
	return t
}

// customers returns the customers with value v, ascending (t's own).
func (t *textCol) customers(v string) []uint32 {
	k, ok := slices.BinarySearch(t.vals, v)
	if !ok {
		return nil
	}
	return t.ids[t.off[k]:t.off[k+1]]
}

// flagColumn returns the column of a flag that the customers of exist
// have.
func flagColumn(exist *roaring.Bitmap) *attr {
	a := &attr{exist: exist}
	if !exist.IsEmpty() {
		a.v.Base = 1 // every value is 1, as bsi.Builder gives it
	}
	return a
}

// WithAttributes returns an index that shares x's data and answers the
// attribute comparisons of a (see [Attributes]) as of x's as-of time:
// flags become bitmaps, dates bit-sliced indexes of days, and text fields
// lists of customers by value. Attributes that [LoadAttributes] read for
// an index of another History (a reload, a History whose customers are
// numbered otherwise) are matched to x's customers by key; customers x
// does not know are left out, as are ids beyond x's customers of
// Attributes set by hand. The returned index replaces the
// attributes of x, if any; x itself is unchanged. Attributes are not
// saved by [Index.WriteTo]: attach them again after loading. It takes
// time linear in the number of values (a key lookup each, when a was
// loaded for another History), and n log n in the number n of values of
// a field. A nil x or a is an error matching
// [affinity.ErrNilArgument] and [ErrInvalid].
func (x *Index) WithAttributes(a *Attributes) (*Index, error) {
	switch {
	case x == nil:
		return nil, affinity.NilArgument("segment", "Index", ErrInvalid)
	case a == nil:
		return nil, affinity.NilArgument("segment", "Attributes", ErrInvalid)
	}
	id := x.attributeIDs(a)
	cc := &customerCols{index: map[string]uint32{}, texts: map[string]*textCol{}, names: map[string][]string{}}
	var bb bsi.Builder
	add := func(key string, ids []uint32, vals []int64) {
		var w roaringio.Writer
		cc.index[key] = uint32(len(cc.cols))
		cc.cols = append(cc.cols, attr{exist: roaringio.FromSorted(&w, ids), v: bb.Build(ids, vals)})
	}
	flags, dates, texts := a.Names()
	cc.names["flag"] = flagNames(flags, texts)
	cc.names["days_to"], cc.names["days_since"] = dates, dates
	for _, name := range flags {
		var ids []uint32
		for it := a.flags[name].Iterator(); it.HasNext(); {
			if c, ok := id(affinity.CustomerID(it.Next())); ok {
				ids = append(ids, c)
			}
		}
		slices.Sort(ids) // ascending but for ids translated by key
		var w roaringio.Writer
		cc.index["flag\x00"+name] = uint32(len(cc.cols))
		cc.cols = append(cc.cols, *flagColumn(roaringio.FromSorted(&w, ids)))
	}
	today := floorDiv(x.asOf, 86400)
	ty, tm, td := time.Unix(today*86400, 0).UTC().Date()
	for _, name := range dates {
		col := a.dates[name]
		type day struct {
			c uint32
			d int64
		}
		days := make([]day, 0, len(col))
		for c, d := range col {
			if i, ok := id(c); ok {
				days = append(days, day{i, d})
			}
		}
		slices.SortFunc(days, func(p, q day) int { return cmp.Compare(p.c, q.c) })
		ids := make([]uint32, len(days))
		to := make([]int64, len(days))
		since := make([]int64, len(days))
		for i, e := range days {
			ids[i] = e.c
			since[i] = today - e.d
			to[i] = daysToAnniversary(time.Unix(e.d*86400, 0).UTC(), ty, tm, td)
		}
		add("days_to\x00"+name, ids, to)
		add("days_since\x00"+name, ids, since)
	}
	for _, name := range texts {
		cc.texts[name] = newTextCol(a.texts[name], id)
	}
	y := x.shallowCopy()
	y.cust = cc
	y.resync()
	return y, nil
}

// attributeIDs returns the function that gives the id in x of a's
// customer c, ok false when x has no such customer. A's ids are x's
// unless LoadAttributes read a for an index whose key of c differs:
// then c is found by its key.
func (x *Index) attributeIDs(a *Attributes) func(affinity.CustomerID) (uint32, bool) {
	n := uint64(len(x.keys))
	if a.keys == nil {
		return func(c affinity.CustomerID) (uint32, bool) { return uint32(c), uint64(c) < n }
	}
	return func(c affinity.CustomerID) (uint32, bool) {
		key := a.keys[c] // Set refuses ids beyond a.keys
		if uint64(c) < n && x.keys[c] == key {
			return uint32(c), true
		}
		id, ok := x.LookupCustomer(key)
		return uint32(id), ok
	}
}

// daysToAnniversary returns the days from the day (y, m, d) to the next
// anniversary of date (0 when it is that day). February 29 is March 1 in
// years without it.
func daysToAnniversary(date time.Time, y int, m time.Month, d int) int64 {
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	next := anniversary(date, y)
	if next.Before(today) {
		next = anniversary(date, y+1)
	}
	return int64(next.Sub(today) / (24 * time.Hour))
}

// anniversary returns date's month and day in year y (time.Date moves
// February 29 to March 1 in other years).
func anniversary(date time.Time, y int) time.Time {
	return time.Date(y, date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)
}

// customerColumn resolves a customer attribute comparison to its column
// and a key that names the column's content (see columnKey). The flag
// "field=value" of a text field is built here, with the customers of a
// boolean flag of the same name; every value of a text field is a flag,
// one that no customer has too.
func (x *Index) customerColumn(attrName, field string) (*attr, string, bool) {
	if x.cust == nil {
		return nil, "", false
	}
	key := attrName + "\x00" + field
	id, stored := x.cust.index[key]
	var t *textCol
	name, v, isValue := strings.Cut(field, "=")
	if attrName == "flag" && isValue {
		t = x.cust.texts[name]
	}
	if t == nil {
		if !stored {
			return nil, "", false
		}
		return &x.cust.cols[id], key, true
	}
	ids := t.customers(v)
	var w roaringio.Writer
	exist := roaringio.FromSorted(&w, ids)
	if stored {
		exist.Or(x.cust.cols[id].exist)
	}
	return flagColumn(exist), key, true
}

// flagNames returns the sorted flags with the flags of the values of a
// text field (field=value) replaced by one "field=…".
func flagNames(flags, texts []string) []string {
	out := make([]string, 0, len(texts))
	for _, f := range flags {
		if field, _, ok := strings.Cut(f, "="); !ok || !slices.Contains(texts, field) {
			out = append(out, f)
		}
	}
	for _, t := range texts {
		out = append(out, t+"=…")
	}
	slices.Sort(out)
	return out
}

// customerFields describes the fields attribute attrName knows, for an
// error message: a few of their names (see listNames), or that there are
// none.
func (x *Index) customerFields(attrName string) string {
	if x.cust == nil {
		return "no customer attributes attached; see Index.WithAttributes"
	}
	names := x.cust.names[attrName]
	if len(names) == 0 {
		kind := "dates"
		if attrName == "flag" {
			kind = "flags"
		}
		return "the attached attributes have no " + kind
	}
	return "known: " + listNames(names)
}
