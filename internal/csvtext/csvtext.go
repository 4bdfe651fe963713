// Package csvtext keeps the text cells of the affinity packages' CSV
// exports from being read as formulas: a spreadsheet (Excel, LibreOffice,
// Google Sheets) that opens a CSV file runs a cell beginning with "=",
// "+", "-" or "@" as a formula, so that a customer key such as
// =HYPERLINK("http://…") in a file handed to a marketer would be a live
// link or a command. This package treats a cell beginning with any of
// those, their full-width forms, a tab or a carriage return (whatever
// follows it) as a formula. As OWASP's advice on
// CSV injection has it, such a cell is written with an apostrophe before
// it, which spreadsheets read as "this is text".
//
// The change is reversible: [Cell] also adds an apostrophe to a cell that
// already begins with apostrophes followed by one of those characters,
// and [Text] removes exactly the one Cell added, so that a program
// reading the file back gets every value as it was.
package csvtext

import (
	"strings"
	"unicode/utf8"
)

// Cell returns s as a CSV cell that a spreadsheet reads as text: s with
// an apostrophe before it when s, after any leading apostrophes, begins
// with "=", "+", "-", "@", a tab or a carriage return (or the full-width
// forms of the first four, which some spreadsheets read as they read the
// others); s itself otherwise. It is for text a user or customer
// controls (keys, names), not for numbers, whose minus sign is no
// formula. [Text] undoes it.
func Cell(s string) string {
	if formula(s) {
		return "'" + s
	}
	return s
}

// Text returns the value that [Cell] wrote as cell: cell without its
// first apostrophe when Cell added one, cell itself otherwise.
func Text(cell string) string {
	if strings.HasPrefix(cell, "'") && formula(cell) {
		return cell[1:]
	}
	return cell
}

// formula reports whether s, after any leading apostrophes, begins with a
// character that makes a spreadsheet read a cell as a formula.
func formula(s string) bool {
	s = strings.TrimLeft(s, "'")
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	switch r, _ := utf8.DecodeRuneInString(s); r {
	case '＝', '＋', '－', '＠':
		return true
	}
	return false
}
