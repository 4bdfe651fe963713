package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity/segment/query"
)

// equalString reports a failure unless got is want.
func equalString(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

var syn = query.NewSyntax(
	query.AttrSpec{Name: "recency", Unit: query.Days},
	query.AttrSpec{Name: "affinity", Unit: query.Share, Arg: true},
)

func TestChainedAndIsFlat(t *testing.T) {
	leaf := query.Attr{Name: "recency", Unit: query.Days}
	acc := query.And()
	const n = 100_000
	for i := range n {
		acc = query.And(acc, leaf.LE(float64(i)))
	}
	b, ok := acc.(*query.Bool)
	if !ok {
		t.Fatalf("And of Ands is a %T, want *query.Bool", acc)
	}
	if len(b.Xs) != n+1 { // the leading All and n clauses
		t.Fatalf("%d operands, want %d", len(b.Xs), n+1)
	}
	// a Bool extended twice does not see the other's operands
	base := query.And(leaf.LE(1), leaf.LE(2))
	x := query.And(base, leaf.LE(3))
	y := query.And(base, leaf.LE(4))
	equalString(t, x.String(), "recency <= 1d and recency <= 2d and recency <= 3d")
	equalString(t, y.String(), "recency <= 1d and recency <= 2d and recency <= 4d")
	equalString(t, base.String(), "recency <= 1d and recency <= 2d")
	z := query.And(x, leaf.LE(5))
	equalString(t, z.String(), "recency <= 1d and recency <= 2d and recency <= 3d and recency <= 5d")
	equalString(t, y.String(), "recency <= 1d and recency <= 2d and recency <= 4d")
	// Or splices Ors, not Ands
	o := query.Or(query.Or(leaf.LE(1), leaf.LE(2)), query.And(leaf.LE(3), leaf.LE(4)))
	if xs, want := o.(*query.Bool).Xs, 3; len(xs) != want {
		t.Fatalf("%d operands, want %d: %v", len(xs), want, xs)
	}
	equalString(t, o.String(), "recency <= 1d or recency <= 2d or recency <= 3d and recency <= 4d")
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("recency < 3d and ", 5000) + "all"
	_, err := syn.Parse(long)
	var se *query.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *query.SyntaxError", err)
	}
	if want := "longer than Limits.MaxLen (65536 bytes)"; !strings.Contains(se.Msg, want) {
		t.Errorf("message %q, want it to contain %q", se.Msg, want)
	}
	big := query.NewSyntax(query.AttrSpec{Name: "recency", Unit: query.Days})
	big.Limits.MaxLen = 1 << 20
	_, err = big.Parse(long)
	if err != nil {
		t.Fatalf("Parse with MaxLen %d: %v", big.Limits.MaxLen, err)
	}

	for _, src := range []string{ // at the limit: accepted
		strings.Repeat("(", 200) + "all" + strings.Repeat(")", 200),
		strings.Repeat("not ", 200) + "all",
		strings.Repeat("(not ", 100) + "all" + strings.Repeat(")", 100),
	} {
		if _, err := syn.Parse(src); err != nil {
			t.Errorf("200 levels: %v", err)
		}
	}
	deep := strings.Repeat("(", 201) + "all" + strings.Repeat(")", 201)
	_, err = syn.Parse(deep)
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *query.SyntaxError", err)
	}
	if want := "Limits.MaxDepth (200)"; !strings.Contains(se.Msg, want) {
		t.Errorf("message %q, want it to contain %q", se.Msg, want)
	}
	big.Limits.MaxDepth = 300
	_, err = big.Parse(deep)
	if err != nil {
		t.Fatalf("Parse with MaxDepth %d: %v", big.Limits.MaxDepth, err)
	}
}

func TestErrorsQuoteLittleInput(t *testing.T) {
	word := strings.Repeat("w", 10_000)
	_, err := syn.Parse(word)
	if err == nil {
		t.Fatal("Parse of an unknown word: no error")
	}
	if n, limit := len(err.Error()), 150; n >= limit {
		t.Errorf("%s: %d bytes, want fewer than %d", err.Error(), n, limit)
	}
	if want := `unknown word "` + strings.Repeat("w", 60) + `"…`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err.Error(), want)
	}
	_, err = syn.Parse(`affinity("a") > 1` + strings.Repeat("x", 10_000))
	if err == nil {
		t.Fatal("Parse of trailing garbage: no error")
	}
	if n, limit := len(err.Error()), 200; n >= limit {
		t.Errorf("%s: %d bytes, want fewer than %d", err.Error(), n, limit)
	}
	equalString(t, query.Excerpt("héllo"), `"héllo"`)
}

func TestPositions(t *testing.T) {
	e, err := syn.Parse(`recency <= 3d and affinity( "A/B") between 0.1 and 0.2`)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	b := e.(*query.Bool)
	c := b.Xs[1].(*query.Compare)
	for _, p := range []struct {
		name      string
		got, want int
	}{{"Pos", c.Pos, 19}, {"ArgPos", c.ArgPos, 29}, {"ValuePos", c.ValuePos, 44}, {"HiPos", c.HiPos, 52}} {
		if p.got != p.want {
			t.Errorf("%s = %d, want %d", p.name, p.got, p.want)
		}
	}
	equalString(t, c.Attr.Arg, "A/B")
}
