package segment

import (
	"fmt"
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

// Error formats the error as "segment: syntax error at line L, column C: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("segment: syntax error at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// position returns the 1-based line and column of byte offset off in src.
func position(src string, off int) (line, col int) {
	off = min(max(off, 0), len(src))
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[start:off])
}

// maxDepth bounds the nesting of parentheses and "not", so that hostile
// input cannot exhaust the stack.
const maxDepth = 200

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
	src   string
	pos   int // next byte to lex
	tok   token
	depth int
}

// Parse parses an expression in the text syntax described in the package
// documentation. Syntax errors are returned as *[SyntaxError]. Names are
// not resolved: an unknown category is reported when the expression is
// evaluated.
func Parse(src string) (Expr, error) {
	p := &parser{src: src}
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
	line, col := position(p.src, off)
	return &SyntaxError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return strconv.Quote(p.tok.text)
	case tIdent:
		return "word " + strconv.Quote(p.tok.text)
	case tNumber:
		return "number " + p.tok.text
	}
	return strconv.Quote(p.tok.text)
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
			return p.errorf(start, "invalid string %s", s[start:p.pos])
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
	return &boolExpr{and: word == "and", xs: xs}, nil
}

func (p *parser) unary() (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.tok.off, "expression nested too deeply")
	}
	if p.isWord("not") {
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notExpr{x: x}, nil
	}
	return p.primary()
}

var scalarAttrs = map[string]attrKind{
	"recency": akRecency, "tenure": akTenure, "frequency": akFrequency, "monetary": akMonetary,
	"aov": akAOV, "rscore": akRScore, "fscore": akFScore, "mscore": akMScore,
}

var categoryAttrs = map[string]attrKind{
	"affinity": akAffinity, "itemshare": akItemShare, "ordershare": akOrderShare,
	"lift": akLift, "recency": akCatRecency, "rank": akRank,
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
	if k, ok := categoryAttrs[word]; ok && p.tok.kind == tLParen {
		cat, err := p.stringArg()
		if err != nil {
			return nil, err
		}
		return p.comparison(Attr{kind: k, cat: cat}, t.off)
	}
	if k, ok := scalarAttrs[word]; ok {
		return p.comparison(Attr{kind: k}, t.off)
	}
	switch word {
	case "all":
		return constExpr{all: true}, nil
	case "none":
		return constExpr{}, nil
	case "bought":
		return p.activity(actBought, t.off)
	case "viewed":
		return p.activity(actViewed, t.off)
	case "carted":
		return p.activity(actCarted, t.off)
	case "abandoned":
		return p.abandoned(t.off)
	case "active":
		return p.active(t.off)
	case "segment":
		return p.ref(refSegment, t.off)
	case "rfm":
		return p.ref(refRFM, t.off)
	case "lifecycle":
		return p.ref(refLifecycle, t.off)
	case "top":
		return p.top(t.off)
	}
	if _, ok := categoryAttrs[word]; ok {
		return nil, p.errorf(p.tok.off, "expected \"(\" and a category after %s, found %s", word, p.describe())
	}
	return nil, p.errorf(t.off, "unknown word %q", word)
}

// stringArg parses ( "string" ).
func (p *parser) stringArg() (string, error) {
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return "", err
	}
	s, err := p.expect(tString, "a quoted name")
	if err != nil {
		return "", err
	}
	if _, err := p.expect(tRParen, `")"`); err != nil {
		return "", err
	}
	return s.text, nil
}

func (p *parser) comparison(a Attr, off int) (Expr, error) {
	u := attrInfo[a.kind].unit
	if p.isWord("between") {
		if err := p.next(); err != nil {
			return nil, err
		}
		lo, err := p.value(u)
		if err != nil {
			return nil, err
		}
		if err := p.expectWord("and"); err != nil {
			return nil, err
		}
		hi, err := p.value(u)
		if err != nil {
			return nil, err
		}
		return &cmpExpr{a: a, op: opBetween, v: lo, hi: hi, pos: off + 1}, nil
	}
	if p.tok.kind != tOp {
		return nil, p.errorf(p.tok.off, "expected a comparison (<, <=, >, >=, =, != or between) after %s, found %s", a, p.describe())
	}
	var op cmpOp
	switch p.tok.text {
	case "<":
		op = opLT
	case "<=":
		op = opLE
	case ">":
		op = opGT
	case ">=":
		op = opGE
	case "=":
		op = opEQ
	case "!=":
		op = opNE
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	v, err := p.value(u)
	if err != nil {
		return nil, err
	}
	return &cmpExpr{a: a, op: op, v: v, pos: off + 1}, nil
}

// value parses [-] [currency [-]] number [unit] as a value of unit u.
func (p *parser) value(u unit) (float64, error) {
	neg := false
	if p.tok.kind == tMinus {
		neg = true
		if err := p.next(); err != nil {
			return 0, err
		}
	}
	if p.tok.kind == tCurrency {
		if u != unitMoney {
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
		return 0, p.errorf(t.off, "invalid number %s", t.text)
	}
	switch {
	case suffix == "":
	case u == unitDays && daysPerUnit[strings.ToLower(suffix)] > 0:
		v *= float64(daysPerUnit[strings.ToLower(suffix)])
	case u == unitShare && suffix == "%":
		v /= 100
	case u == unitDays:
		return 0, p.errorf(t.off+len(num), "unknown duration unit %q (use d, w, m or y)", suffix)
	case u == unitShare:
		return 0, p.errorf(t.off+len(num), "unexpected %q after a share (write 0.3 or 30%%)", suffix)
	default:
		return 0, p.errorf(t.off+len(num), "unexpected %q after a number", suffix)
	}
	if neg {
		v = -v
	}
	return v, p.next()
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
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, p.errorf(t.off, "invalid duration %s (use a whole number of days, weeks, months or years)", t.text)
	}
	per := 1
	if suffix != "" {
		per = daysPerUnit[strings.ToLower(suffix)]
		if per == 0 {
			return 0, p.errorf(t.off+len(num), "unknown duration unit %q (use d, w, m or y)", suffix)
		}
	}
	days := n * uint64(per)
	if days == 0 {
		return 0, p.errorf(t.off, "empty window %s", t.text)
	}
	if days >= maxDays {
		return 0, p.errorf(t.off, "window %s is too long", t.text)
	}
	return time.Duration(days) * Day, p.next()
}

func (p *parser) target() (Target, error) {
	switch {
	case p.tok.kind == tString:
		t := Target{kind: targetAuto, key: p.tok.text}
		return t, p.next()
	case p.isWord("category"), p.isWord("product"):
		kind := targetCategory
		if p.tok.text == "product" {
			kind = targetProduct
		}
		if err := p.next(); err != nil {
			return Target{}, err
		}
		key, err := p.stringArg()
		return Target{kind: kind, key: key}, err
	}
	return Target{}, p.errorf(p.tok.off, "expected a quoted category or product, category(\"…\") or product(\"…\"), found %s", p.describe())
}

// activity parses ( target {, target} [(within | ,) duration] ).
func (p *parser) activity(kind int, off int) (Expr, error) {
	a := Activity{kind: kind, pos: off + 1}
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return nil, err
	}
	for {
		t, err := p.target()
		if err != nil {
			return nil, err
		}
		a.targets = append(a.targets, t)
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
			d, err := p.duration()
			if err != nil {
				return nil, err
			}
			a.within = d
			break
		}
	}
	if err := p.closeWindow(&a.within, false); err != nil {
		return nil, err
	}
	return a, nil
}

// closeWindow parses an optional "within duration" (or, when bare is
// set, a duration alone) into *d unless it is already set, and the
// closing parenthesis.
func (p *parser) closeWindow(d *time.Duration, bare bool) error {
	if *d == 0 && (p.isWord("within") || bare && p.tok.kind == tNumber) {
		if p.isWord("within") {
			if err := p.next(); err != nil {
				return err
			}
		}
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
	e := &abandonedExpr{pos: off + 1}
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return nil, err
	}
	if err := p.closeWindow(&e.within, true); err != nil {
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
		return time.Time{}, p.errorf(t.off, "invalid date %q (use YYYY-MM-DD)", t.text)
	}
	return d, nil
}

func (p *parser) active(off int) (Expr, error) {
	if err := p.expectWord("between"); err != nil {
		return nil, err
	}
	from, err := p.date()
	if err != nil {
		return nil, err
	}
	if err := p.expectWord("and"); err != nil {
		return nil, err
	}
	to, err := p.date()
	if err != nil {
		return nil, err
	}
	return &activeExpr{from: from, to: to, pos: off + 1}, nil
}

func (p *parser) ref(kind refKind, off int) (Expr, error) {
	name, err := p.stringArg()
	if err != nil {
		return nil, err
	}
	return &refExpr{kind: kind, name: name, pos: off + 1}, nil
}

func (p *parser) top(off int) (Expr, error) {
	e := &topExpr{pos: off + 1}
	if _, err := p.expect(tLParen, `"("`); err != nil {
		return nil, err
	}
	s, err := p.expect(tString, "a quoted category")
	if err != nil {
		return nil, err
	}
	e.cat = s.text
	if p.tok.kind == tComma {
		if err := p.next(); err != nil {
			return nil, err
		}
		t := p.tok
		n, perr := strconv.Atoi(t.text)
		if t.kind != tNumber || perr != nil || n < 1 || n > maxTopN {
			return nil, p.errorf(t.off, "expected a rank from 1 to %d, found %s", maxTopN, p.describe())
		}
		e.n = n
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expect(tRParen, `")"`); err != nil {
		return nil, err
	}
	return e, nil
}
