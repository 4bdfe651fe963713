package campaign

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/csvtext"
)

// WriteCSV writes msgs for a mail tool, one row per message, with a
// header: campaign, customer, email, control (true or false), offer, time
// (RFC 3339), products (shop keys joined by "|"), names (joined by "|")
// and reasons (joined by "|"). A "|" or "\" inside a key, name or reason
// is written with a "\" before it, so that a key holding "|" never reads
// back as two products; [SplitList] splits such a field into its items.
// A text field that a spreadsheet would run as a formula (one beginning
// with "=", "+", "-", "@", their full-width forms "＝", "＋", "－", "＠",
// a tab or a carriage return, after any apostrophes — a customer key such
// as "=HYPERLINK(…)") is written with
// an apostrophe before it, so that the list opens as text in Excel,
// LibreOffice or Google Sheets. A program reading the file (a mail tool
// importing it) applies [CellText] to every text column to get the value
// as it was — a customer key "-42" is written "'-42" — and [SplitList],
// which drops that apostrophe itself, to the lists; [WriteJSON] and
// [ReadJSON] keep every value exact, with no guard to undo.
// Every other byte is written as it is. Control rows are written too, so
// that the list is also the record of the experiment: filter on
// control=false to send.
func WriteCSV(w io.Writer, msgs []Message) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"campaign", "customer", "email", "control", "offer", "time", "products", "names", "reasons"}); err != nil {
		return err
	}
	rec := make([]string, 9)
	var keys, names, reasons []string
	for i := range msgs {
		m := &msgs[i]
		keys, names, reasons = keys[:0], names[:0], reasons[:0]
		for _, it := range m.Items {
			keys = append(keys, it.Product)
			names = append(names, it.Name)
			reasons = append(reasons, it.Reason)
		}
		rec[0], rec[1], rec[2], rec[3], rec[4] = csvtext.Cell(m.Campaign), csvtext.Cell(m.Customer), csvtext.Cell(m.Email), strconv.FormatBool(m.Control), csvtext.Cell(m.Offer)
		rec[5] = m.Time.UTC().Format(time.RFC3339)
		rec[6], rec[7], rec[8] = csvtext.Cell(joinList(keys)), csvtext.Cell(joinList(names)), csvtext.Cell(joinList(reasons))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CellText returns the value that [WriteCSV] wrote as the text field
// field (campaign, customer, email or offer): field without the one
// apostrophe WriteCSV put before a value a spreadsheet would run as a
// formula, field itself otherwise. List fields go through [SplitList],
// which does the same.
func CellText(field string) string { return csvtext.Text(field) }

// listEscaper escapes the separator and the escape of a WriteCSV list.
var listEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`)

// joinList joins items with "|", each escaped.
func joinList(items []string) string {
	var b strings.Builder
	for i, s := range items {
		if i > 0 {
			b.WriteByte('|')
		}
		listEscaper.WriteString(&b, s)
	}
	return b.String()
}

// SplitList splits a products, names or reasons field of [WriteCSV] into
// its items, without the apostrophe WriteCSV puts before a field a
// spreadsheet would read as a formula: at each "|" that no "\" escapes,
// each "\x" read as x. An empty field is no items (a message without
// products); a field of one empty name is read as none too.
func SplitList(field string) []string {
	field = csvtext.Text(field)
	if field == "" {
		return nil
	}
	var out []string
	var b strings.Builder
	for i := 0; i < len(field); i++ {
		switch c := field[i]; {
		case c == '\\' && i+1 < len(field):
			i++
			b.WriteByte(field[i])
		case c == '|':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
}

// WriteJSON writes msgs as one JSON array, indented, control entries
// included; [ReadJSON] reads it back. JSON strings are Unicode, so a
// message whose campaign name, customer key, e-mail, offer or item
// (product key, name, reason) is not valid UTF-8, such as a key exported
// in Latin-1, would be changed on the way (each invalid byte replaced by
// U+FFFD) and would no longer match its customer in [Options.Sent]:
// WriteJSON returns an error naming the first such string, before writing
// anything, as it does for a message [ReadJSON] would refuse (without its
// campaign, customer or time, or an item without its product). [WriteCSV]
// writes every string byte for byte, but for the apostrophe before one a
// spreadsheet would run as a formula.
func WriteJSON(w io.Writer, msgs []Message) error {
	for i := range msgs {
		if err := checkUTF8(&msgs[i]); err != nil {
			return err
		}
		if fault := checkMessage(&msgs[i]); fault != "" {
			return fmt.Errorf("campaign: write JSON: message %d%s", i+1, fault)
		}
	}
	if msgs == nil {
		msgs = []Message{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(msgs)
}

// checkUTF8 returns an error for the first string of m that JSON cannot
// carry unchanged.
func checkUTF8(m *Message) error {
	bad := func(what, s string) error {
		return fmt.Errorf("campaign: write JSON: %s %q of customer %q in campaign %q is not valid UTF-8 and JSON would change it; use WriteCSV, which keeps its bytes",
			what, s, m.Customer, m.Campaign)
	}
	switch {
	case !utf8.ValidString(m.Customer):
		return bad("customer key", m.Customer)
	case !utf8.ValidString(m.Campaign):
		return bad("campaign name", m.Campaign)
	case !utf8.ValidString(m.Email):
		return bad("e-mail", m.Email)
	case !utf8.ValidString(m.Offer):
		return bad("offer", m.Offer)
	}
	for i := range m.Items {
		it := &m.Items[i]
		switch {
		case !utf8.ValidString(it.Product):
			return bad("product key", it.Product)
		case !utf8.ValidString(it.Name):
			return bad("product name", it.Name)
		case !utf8.ValidString(it.Reason):
			return bad("reason", it.Reason)
		}
	}
	return nil
}

// ReadJSON reads messages written by [WriteJSON]: the past sends of the
// next plan ([Options.Sent]). Input that is not valid UTF-8 is an error
// (the JSON decoder would replace the invalid bytes, so that the keys no
// longer match), as is anything that is not one JSON array of messages
// (surrounding white space aside): null, a null message, a message
// without its campaign, customer or time, an item without its product, a
// field no message or item has (see [Message.UnmarshalJSON]). The error
// of a message names it by its place in the array (from 1) and where it
// starts in the input (line from 1, byte offset from 0), and is that of
// the first bad message. A nil r is an error matching
// [affinity.ErrNilArgument].
func ReadJSON(r io.Reader) ([]Message, error) {
	if r == nil {
		return nil, affinity.NilArgument("campaign", "reader")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("campaign: read JSON: %w", err)
	}
	if !utf8.Valid(data) {
		n := 0
		for n < len(data) {
			c, size := utf8.DecodeRune(data[n:])
			if c == utf8.RuneError && size == 1 {
				break
			}
			n += size
		}
		return nil, fmt.Errorf("campaign: read JSON: invalid UTF-8 at byte %d", n)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return nil, errors.New("campaign: read JSON: no input, not an array of messages")
	case err != nil:
		return nil, fmt.Errorf("campaign: read JSON: %w", err)
	case tok == nil:
		return nil, errors.New("campaign: read JSON: null, not an array of messages")
	case tok != json.Delim('['):
		return nil, fmt.Errorf("campaign: read JSON: %s, not an array of messages", jsonKind(tok))
	}
	msgs := []Message{}
	line, counted := 1, 0 // the line of byte counted
	for dec.More() {
		// the message's position, for its errors: where it starts, past
		// the white space and the comma after the one before (lines
		// counted on from the message before's, so linear in the input)
		off := int(dec.InputOffset())
		off += len(data[off:]) - len(bytes.TrimLeft(data[off:], " \t\r\n,"))
		line += bytes.Count(data[counted:off], []byte("\n"))
		counted = off
		at := func() string { return fmt.Sprintf("message %d (line %d, byte %d)", len(msgs)+1, line, off) }
		// a pointer, so that a null message is seen
		var m *Message
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("campaign: read JSON: %s: %w", at(), err)
		}
		if m == nil {
			return nil, fmt.Errorf("campaign: read JSON: %s is null", at())
		}
		if fault := checkMessage(m); fault != "" {
			return nil, fmt.Errorf("campaign: read JSON: %s%s", at(), fault)
		}
		msgs = append(msgs, *m)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("campaign: read JSON: %w", err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, fmt.Errorf("campaign: read JSON: data after the array at byte %d", len(data)-len(rest))
	}
	return msgs, nil
}

// jsonKind names the kind of JSON value that tok, the first token of a
// value, begins.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim: // '{': a value cannot begin with ']' or '}'
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// checkMessage returns why m cannot be written or read, as the words
// that follow its name in the error (" lacks its campaign, customer or
// time", ", item 2 has no product"); "" when it can.
func checkMessage(m *Message) string {
	if m.Campaign == "" || m.Customer == "" || m.Time.IsZero() {
		return " lacks its campaign, customer or time"
	}
	for j, it := range m.Items {
		if it.Product == "" {
			return fmt.Sprintf(", item %d has no product", j+1)
		}
	}
	return ""
}
