package query

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SyntaxError reports text that is not a valid expression, with its
// position: Offset counts bytes from 0, Line and Column count from 1, and
// Column counts Unicode code points.
type SyntaxError struct {
	Offset, Line, Column int
	Msg                  string
}

// Error formats the error as "query: syntax error at line L, column C: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("query: syntax error at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Position returns the 1-based line and column (in code points) of byte
// offset off in src.
func Position(src string, off int) (line, col int) {
	off = min(max(off, 0), len(src))
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[start:off])
}

// Default limits of [Limits].
const (
	DefaultMaxLen   = 64 << 10 // bytes of query text
	DefaultMaxDepth = 200      // nested parentheses and "not"
)

// maxWindowDays bounds windows: days fit in 16 bits; maxRank bounds top.
const (
	maxWindowDays = 1 << 16
	maxRank       = 64
)

// Limits bounds what [Syntax.Parse] accepts, so that hostile input can
// neither exhaust the stack nor make an error message or a parse cost
// more than the limits allow. The zero value means the defaults.
type Limits struct {
	// MaxLen is the longest query text in bytes; default DefaultMaxLen.
	MaxLen int
	// MaxDepth is the deepest nesting of parentheses and "not"; default
	// DefaultMaxDepth.
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxLen <= 0 {
		l.MaxLen = DefaultMaxLen
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Syntax is the text syntax with its vocabulary of attributes. The zero
// value knows no attributes; build one with [NewSyntax]. A Syntax is
// immutable and safe for concurrent use once built.
type Syntax struct {
	// Limits bounds the input; see [Limits].
	Limits Limits
	attrs  map[attrKey]AttrSpec
}

type attrKey struct {
	name string
	arg  bool
}

// NewSyntax returns the syntax that knows the attributes specs, with the
// default limits. Names are matched case-insensitively.
func NewSyntax(specs ...AttrSpec) *Syntax {
	s := &Syntax{attrs: make(map[attrKey]AttrSpec, len(specs))}
	for _, a := range specs {
		a.Name = strings.ToLower(a.Name)
		s.attrs[attrKey{a.Name, a.Arg}] = a
	}
	return s
}

// Attr returns the attribute name (with an argument when arg is set) and
// whether the syntax knows it.
func (s *Syntax) Attr(name string, arg bool) (AttrSpec, bool) {
	a, ok := s.attrs[attrKey{strings.ToLower(name), arg}]
	return a, ok
}

// maxExcerpt is the longest piece of input an error message quotes.
const maxExcerpt = 60

// Excerpt returns s quoted in Go syntax, cut to its first 60 code points
// and "…" when longer, for error messages that quote input.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == maxExcerpt {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tLParen
	tRParen
	tComma
	tOp
	tMinus
	tCurrency
)

type token struct {
	kind tokKind
	text string // identifier (lower case), operator, number, currency, or the unquoted string
	off  int
}

type parser struct {
	syn    *Syntax
	limits Limits
	src    string
	pos    int // next byte to lex
	tok    token
	depth  int
}

// Parse parses an expression in the text syntax described in the package
// documentation. Syntax errors, unknown attributes and input beyond
// s.Limits are returned as *[SyntaxError]. Other names are not resolved:
// an unknown category is reported when the expression is evaluated.
func (s *Syntax) Parse(src string) (Expr, error) {
	p := &parser{syn: s, limits: s.Limits.withDefaults(), src: src}
	if len(src) > p.limits.MaxLen {
		return nil, p.errorf(p.limits.MaxLen, "query of %d bytes is longer than Limits.MaxLen (%d bytes); raise the limit to accept it", len(src), p.limits.MaxLen)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, p.errorf(p.tok.off, "empty expression")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf(p.tok.off, "unexpected %s", p.describe())
	}
	return e, nil
}

func (p *parser) errorf(off int, format string, args ...any) *SyntaxError {
	line, col := Position(p.src, off)
	return &SyntaxError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return Excerpt(p.tok.text)
	case tIdent:
		return "word " + Excerpt(p.tok.text)
	case tNumber:
		return "number " + Excerpt(p.tok.text)
	}
	return Excerpt(p.tok.text)
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// next lexes the next token into p.tok.
func (p *parser) next() error {
	s := p.src
	for p.pos < len(s) {
		c := s[p.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			p.pos++
			continue
		}
		if c == '#' { // comment to the end of the line
			for p.pos < len(s) && s[p.pos] != '\n' {
				p.pos++
			}
			continue
		}
		break
	}
	start := p.pos
	if start >= len(s) {
		p.tok = token{kind: tEOF, off: start}
		return nil
	}
	c := s[start]
	switch {
	case isLetter(c):
		for p.pos < len(s) && (isLetter(s[p.pos]) || isDigit(s[p.pos])) {
			p.pos++
		}
		p.tok = token{kind: tIdent, text: strings.ToLower(s[start:p.pos]), off: start}
	case isDigit(c):
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
		}
		if p.pos+1 < len(s) && s[p.pos] == '.' && isDigit(s[p.pos+1]) {
			p.pos++
			for p.pos < len(s) && isDigit(s[p.pos]) {
				p.pos++
			}
		}
		for p.pos < len(s) && (isLetter(s[p.pos]) || s[p.pos] == '%') {
			p.pos++
		}
		p.tok = token{kind: tNumber, text: s[start:p.pos], off: start}
	case c == '"':
		p.pos++
		for {
			if p.pos >= len(s) || s[p.pos] == '\n' {
				return p.errorf(start, "unterminated string")
			}
			if s[p.pos] == '\\' {
				p.pos += 2
				continue
			}
			if s[p.pos] == '"' {
				p.pos++
				break
			}
			p.pos++
		}
		text, err := strconv.Unquote(s[start:p.pos])
		if err != nil {
			return p.errorf(start, "invalid string %s", Excerpt(s[start:p.pos]))
		}
		p.tok = token{kind: tString, text: text, off: start}
	case c == '`': // a raw string, as in Go
		end := strings.IndexByte(s[p.pos+1:], '`')
		if end < 0 {
			return p.errorf(start, "unterminated string")
		}
		p.pos += end + 2
		text, err := strconv.Unquote(s[start:p.pos])
		if err != nil {
			return p.errorf(start, "invalid string %s", Excerpt(s[start:p.pos]))
		}
		p.tok = token{kind: tString, text: text, off: start}
	case c == '(':
		p.pos++
		p.tok = token{kind: tLParen, text: "(", off: start}
	case c == ')':
		p.pos++
		p.tok = token{kind: tRParen, text: ")", off: start}
	case c == ',':
		p.pos++
		p.tok = token{kind: tComma, text: ",", off: start}
	case c == '-':
		p.pos++
		p.tok = token{kind: tMinus, text: "-", off: start}
	case c == '<' || c == '>' || c == '=' || c == '!':
		p.pos++
		if p.pos < len(s) && s[p.pos] == '=' {
			p.pos++
		}
		op := s[start:p.pos]
		if op == "!" {
			return p.errorf(start, "unexpected \"!\" (use != or not)")
		}
		if op == "==" {
			op = "="
		}
		p.tok = token{kind: tOp, text: op, off: start}
	case c == '$':
		p.pos++
		p.tok = token{kind: tCurrency, text: "$", off: start}
	default:
		r, n := utf8.DecodeRuneInString(s[start:])
		if r == '€' || r == '£' {
			p.pos += n
			p.tok = token{kind: tCurrency, text: string(r), off: start}
			return nil
		}
		if r == utf8.RuneError && n == 1 {
			return p.errorf(start, "invalid UTF-8")
		}
		return p.errorf(start, "unexpected character %q", r)
	}
	return nil
}

func (p *parser) isWord(w string) bool { return p.tok.kind == tIdent && p.tok.text == w }

func (p *parser) expect(kind tokKind, what string) (token, error) {
	t := p.tok
	if t.kind != kind {
		return t, p.errorf(t.off, "expected %s, found %s", what, p.describe())
	}
	return t, p.next()
}

func (p *parser) expectWord(w string) error {
	if !p.isWord(w) {
		return p.errorf(p.tok.off, "expected %q, found %s", w, p.describe())
	}
	return p.next()
}

func (p *parser) or() (Expr, error) { return p.list("or", p.and) }

func (p *parser) and() (Expr, error) { return p.list("and", p.unary) }

// list parses operand { word operand } into one flat And or Or.
func (p *parser) list(word string, operand func() (Expr, error)) (Expr, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	xs := []Expr{x}
	for p.isWord(word) {
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := operand()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &Bool{And: word == "and", Xs: xs}, nil
}

func (p *parser) unary() (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > p.limits.MaxDepth+1 { // the outermost operand is not nested
		return nil, p.errorf(p.tok.off, "expression nested deeper than Limits.MaxDepth (%d); raise the limit to accept it", p.limits.MaxDepth)
	}
	if p.isWord("not") {
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Negation{X: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, error) {
	t := p.tok
	switch t.kind {
	case tLParen:
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return x, nil
	case tIdent:
	default:
		return nil, p.errorf(t.off, "expected a condition, found %s", p.describe())
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	word := t.text
	if a, ok := p.syn.Attr(word, true); ok && p.tok.kind == tLParen {
		arg, argOff, err := p.stringArg()
		if err != nil {
			return nil, err
		}
		c, err := p.comparison(Attr{Name: a.Name, Arg: arg, Unit: a.Unit, HasArg: true}, t.off)
		if err != nil {
			return nil, err
		}
		c.ArgPos = argOff + 1
		return c, nil
	}
	if a, ok := p.syn.Attr(word, false); ok {
		return p.comparison(Attr{Name: a.Name, Unit: a.Unit}, t.off)
	}
	switch word {
	case "all":
		return Const{All: true}, nil
	case "none":
		return Const{}, nil
	case "bought":
		return p.activity(Bought, t.off)
	case "viewed":
		return p.activity(Viewed, t.off)
	case "carted":
		return p.activity(Carted, t.off)
	case "abandoned":
		return p.abandoned(t.off)
	case "active":
		return p.active(t.off)
	case "segment":
		return p.ref(SegmentRef, t.off)
	case "rfm":
		return p.ref(RFMRef, t.off)
	case "lifecycle":
		return p.ref(LifecycleRef, t.off)
	case "top":
		return p.top(t.off)
	}
	if _, ok := p.syn.Attr(word, true); ok {
		return nil, p.errorf(p.tok.off, "expected \"(\" and a category after %s, found %s", word, p.describe())
	}
	return nil, p.errorf(t.off, "unknown word %s", Excerpt(word))
}

// stringArg parses ( "string" ) and returns the string and its offset.
func (p *parser) stringArg() (string, int, error) {
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return "", 0, err
	}
	s, err := p.expect(tString, "a quoted name")
	if err != nil {
		return "", 0, err
	}
	if _, err := p.expect(tRParen, `")"`); err != nil {
		return "", 0, err
	}
	return s.text, s.off, nil
}

func (p *parser) comparison(a Attr, off int) (*Compare, error) {
	u := a.Unit
	if p.isWord("between") {
		if err := p.next(); err != nil {
			return nil, err
		}
		loPos := p.tok.off + 1
		lo, err := p.value(u)
		if err != nil {
			return nil, err
		}
		if err := p.expectWord("and"); err != nil {
			return nil, err
		}
		hiPos := p.tok.off + 1
		hi, err := p.value(u)
		if err != nil {
			return nil, err
		}
		return &Compare{Attr: a, Op: Between, V: lo, Hi: hi, Pos: off + 1, ValuePos: loPos, HiPos: hiPos}, nil
	}
	if p.tok.kind != tOp {
		return nil, p.errorf(p.tok.off, "expected a comparison (<, <=, >, >=, =, != or between) after %s, found %s", a.Brief(), p.describe())
	}
	var op Op
	switch p.tok.text {
	case "<":
		op = LT
	case "<=":
		op = LE
	case ">":
		op = GT
	case ">=":
		op = GE
	case "=":
		op = EQ
	case "!=":
		op = NE
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	vPos := p.tok.off + 1
	v, err := p.value(u)
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: a, Op: op, V: v, Pos: off + 1, ValuePos: vPos}, nil
}

// value parses ([-] [currency] | currency -) number [unit] as a value of
// unit u: one minus at most.
func (p *parser) value(u Unit) (float64, error) {
	neg := false
	if p.tok.kind == tMinus {
		neg = true
		if err := p.next(); err != nil {
			return 0, err
		}
	}
	if p.tok.kind == tCurrency {
		if u != Money {
			return 0, p.errorf(p.tok.off, "a currency sign only goes with monetary and aov")
		}
		if err := p.next(); err != nil {
			return 0, err
		}
		if p.tok.kind == tMinus && !neg { // $-5 as well as -$5
			neg = true
			if err := p.next(); err != nil {
				return 0, err
			}
		}
	}
	t := p.tok
	if t.kind != tNumber {
		return 0, p.errorf(t.off, "expected a number, found %s", p.describe())
	}
	num, suffix := splitNumber(t.text)
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, p.errorf(t.off, "invalid number %s", Excerpt(t.text))
	}
	mul, div := int64(1), int64(1)
	switch {
	case suffix == "":
	case u == Days && daysPerUnit[strings.ToLower(suffix)] > 0:
		mul = int64(daysPerUnit[strings.ToLower(suffix)])
		v = scaleDecimal(num, mul, 1)
	case u == Share && suffix == "%":
		div = 100
		v = scaleDecimal(num, 1, div)
	case u == Days:
		return 0, p.errorf(t.off+len(num), "unknown duration unit %s (use d, w, m or y)", Excerpt(suffix))
	case u == Share:
		return 0, p.errorf(t.off+len(num), "unexpected %s after a share (write 0.3 or 30%%)", Excerpt(suffix))
	default:
		return 0, p.errorf(t.off+len(num), "unexpected %s after a number", Excerpt(suffix))
	}
	if math.IsInf(v, 0) {
		return 0, p.errorf(t.off, "invalid number %s", Excerpt(t.text))
	}
	switch keepsDecimal(num, mul, div, v, u) {
	case tooSmall:
		return 0, p.errorf(t.off, "%s is too close to 0 for a comparison to keep: write 0, or a threshold no smaller than 0.(306 zeros)1, that is 10⁻³⁰⁷", Excerpt(t.text))
	case tooManyDigits:
		return 0, p.errorf(t.off, "%s has more digits than a comparison keeps: write it with fewer significant digits (15 keep exact, 12 with w, m or y)", Excerpt(t.text))
	}
	if neg {
		v = -v
	}
	return v, p.next()
}

// The verdicts of keepsDecimal.
const (
	kept          = iota // v is the decimal, or beyond every value compared
	tooManyDigits        // v is another decimal
	tooSmall             // v is 0 or subnormal and another decimal: underflow
)

// beyondValues returns the magnitude from which a threshold of unit u lies
// beyond every value compared, so that rounding it changes no answer: money
// stops at about 9.2e14 currency units (MaxMoney), days, orders and shares
// (0 to 1) far below 10^15; a lift (a share divided by the population's
// share, as small as one Money unit in the whole spend) has no such bound.
func beyondValues(u Unit) float64 {
	if u == Ratio {
		return math.Inf(1)
	}
	return 1e15
}

// keepsDecimal tells whether v, the float64 nearest the decimal num times
// mul/div, prints as that decimal: what an exact comparison compares
// against (see the package documentation). Up to 15 significant digits
// (12 times a unit of days, which adds up to three) it always does
// unless v is 0 or subnormal (a nonzero decimal that underflows: it would
// compare as 0 or with fewer digits); beyond, only when the digits past
// them change nothing (trailing zeros, or a decimal float64 happens to
// hold), or when v lies beyond every value of unit u (beyondValues), where
// rounding changes no answer.
func keepsDecimal(num string, mul, div int64, v float64, u Unit) int {
	if v >= beyondValues(u) {
		return kept
	}
	digits := 0
	for i := 0; i < len(num); i++ {
		if isDigit(num[i]) && (digits > 0 || num[i] != '0') {
			digits++
		}
	}
	if digits == 0 { // 0 is exact
		return kept
	}
	normal := v >= math.SmallestNonzeroFloat64*(1<<52) // 2^-1022, the least normal float64
	if limit := 15; normal && (mul > 1 && digits <= limit-3 || mul == 1 && digits <= limit) {
		return kept
	}
	want, ok := new(big.Rat).SetString(num)
	if !ok {
		return tooManyDigits
	}
	want.Mul(want, big.NewRat(mul, div))
	got, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	switch {
	case ok && got.Cmp(want) == 0:
		return kept
	case !normal:
		return tooSmall
	}
	return tooManyDigits
}

// scaleDecimal returns the float64 nearest to the decimal num times
// mul/div, computed exactly, so that a literal with a unit is the decimal
// it denotes: 0.7% is the float64 nearest 0.007 (0.7/100 in floating point
// is 0.006999999999999999), 0.3m is 9 days.
func scaleDecimal(num string, mul, div int64) float64 {
	if v, err := strconv.ParseUint(num, 10, 53); err == nil {
		// v, mul and div are exact, and one multiplication or division
		// rounds correctly: the float64 nearest the exact value
		if div == 1 {
			return float64(v) * float64(mul)
		}
		if mul == 1 {
			return float64(v) / float64(div)
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok { // not reached: num has been parsed as a float
		return math.NaN()
	}
	r.Mul(r, big.NewRat(mul, div))
	v, _ := r.Float64()
	return v
}

// daysPerUnit gives the length of the duration units: a month is 30 days, a
// year 365.
var daysPerUnit = map[string]int{"d": 1, "w": 7, "m": 30, "y": 365}

func splitNumber(s string) (num, suffix string) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	return s[:i], s[i:]
}

// duration parses a whole number of days with an optional unit.
func (p *parser) duration() (time.Duration, error) {
	t := p.tok
	if t.kind != tNumber {
		return 0, p.errorf(t.off, "expected a duration such as 7d, 2w, 6m or 1y, found %s", p.describe())
	}
	num, suffix := splitNumber(t.text)
	n, err := strconv.ParseUint(num, 10, 64)
	whole := err == nil || errors.Is(err, strconv.ErrRange) // digits only, maybe too many
	if !whole {
		return 0, p.errorf(t.off, "invalid duration %s (use a whole number of days, weeks, months or years)", Excerpt(t.text))
	}
	per := 1
	if suffix != "" {
		per = daysPerUnit[strings.ToLower(suffix)]
		if per == 0 {
			return 0, p.errorf(t.off+len(num), "unknown duration unit %s (use d, w, m or y)", Excerpt(suffix))
		}
	}
	days := n * uint64(per) // may wrap only when n >= maxWindowDays, refused below
	if err != nil || n >= maxWindowDays || days >= maxWindowDays {
		return 0, p.errorf(t.off, "window %s is too long (a window, as a look-back, is shorter than 65,536 days)", Excerpt(t.text))
	}
	if days == 0 {
		return 0, p.errorf(t.off, "empty window %s", Excerpt(t.text))
	}
	return time.Duration(days) * 24 * time.Hour, p.next()
}

func (p *parser) target() (Target, error) {
	switch {
	case p.tok.kind == tString:
		t := Target{Kind: AnyTarget, Key: p.tok.text, Pos: p.tok.off + 1}
		return t, p.next()
	case p.isWord("category"), p.isWord("product"):
		kind := CategoryTarget
		if p.tok.text == "product" {
			kind = ProductTarget
		}
		if err := p.next(); err != nil {
			return Target{}, err
		}
		key, off, err := p.stringArg()
		return Target{Kind: kind, Key: key, Pos: off + 1}, err
	}
	return Target{}, p.errorf(p.tok.off, "expected a quoted category or product, category(\"…\") or product(\"…\"), found %s", p.describe())
}

// activity parses ( target {, target} [(within | ,) duration] ).
func (p *parser) activity(kind ActKind, off int) (Expr, error) {
	a := Activity{Kind: kind, Pos: off + 1}
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return nil, err
	}
	for {
		t, err := p.target()
		if err != nil {
			return nil, err
		}
		a.Targets = append(a.Targets, t)
		if p.isWord("within") {
			break
		}
		if p.tok.kind != tComma {
			break
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind == tNumber {
			a.WithinPos = p.tok.off + 1
			d, err := p.duration()
			if err != nil {
				return nil, err
			}
			a.Window = d
			break
		}
	}
	if err := p.closeWindow(&a.Window, &a.WithinPos, false); err != nil {
		return nil, err
	}
	return a, nil
}

// closeWindow parses an optional "within duration" (or, when bare is
// set, a duration alone) into *d unless it is already set, and the
// closing parenthesis.
func (p *parser) closeWindow(d *time.Duration, pos *int, bare bool) error {
	if *d == 0 && (p.isWord("within") || bare && p.tok.kind == tNumber) {
		if p.isWord("within") {
			if err := p.next(); err != nil {
				return err
			}
		}
		*pos = p.tok.off + 1
		v, err := p.duration()
		if err != nil {
			return err
		}
		*d = v
	}
	_, err := p.expect(tRParen, `")"`)
	return err
}

func (p *parser) abandoned(off int) (Expr, error) {
	e := &Abandoned{Pos: off + 1}
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return nil, err
	}
	if err := p.closeWindow(&e.Window, &e.WithinPos, true); err != nil {
		return nil, err
	}
	return e, nil
}

func (p *parser) date() (time.Time, error) {
	t, err := p.expect(tString, `a date such as "2024-01-31"`)
	if err != nil {
		return time.Time{}, err
	}
	d, perr := time.Parse(time.DateOnly, t.text)
	if perr != nil {
		return time.Time{}, p.errorf(t.off, "invalid date %s (use YYYY-MM-DD)", Excerpt(t.text))
	}
	return d, nil
}

func (p *parser) active(off int) (Expr, error) {
	if err := p.expectWord("between"); err != nil {
		return nil, err
	}
	fromPos := p.tok.off + 1
	from, err := p.date()
	if err != nil {
		return nil, err
	}
	if err := p.expectWord("and"); err != nil {
		return nil, err
	}
	toPos := p.tok.off + 1
	to, err := p.date()
	if err != nil {
		return nil, err
	}
	return &Active{From: from, To: to, Pos: off + 1, FromPos: fromPos, ToPos: toPos}, nil
}

func (p *parser) ref(kind RefKind, off int) (Expr, error) {
	name, nameOff, err := p.stringArg()
	if err != nil {
		return nil, err
	}
	return &Ref{Kind: kind, Name: name, Pos: off + 1, NamePos: nameOff + 1}, nil
}

func (p *parser) top(off int) (Expr, error) {
	e := &Top{Pos: off + 1}
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return nil, err
	}
	s, err := p.expect(tString, "a quoted category")
	if err != nil {
		return nil, err
	}
	e.Cat, e.CatPos = s.text, s.off+1
	if p.tok.kind == tComma {
		if err := p.next(); err != nil {
			return nil, err
		}
		t := p.tok
		n, perr := strconv.Atoi(t.text)
		if t.kind != tNumber || perr != nil || n < 1 || n > maxRank {
			return nil, p.errorf(t.off, "expected a rank from 1 to %d, found %s", maxRank, p.describe())
		}
		e.N, e.NPos = n, t.off+1
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expect(tRParen, `")"`); err != nil {
		return nil, err
	}
	return e, nil
}
