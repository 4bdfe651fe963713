package campaign

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopaffinity/affinity"
)

// WriteCSV writes msgs for a mail tool, one row per message, with a
// header: campaign, customer, email, control (true or false), offer, time
// (RFC 3339), products (shop keys joined by "|"), names (joined by "|")
// and reasons (joined by "|"). Control rows are written too, so that the
// list is also the record of the experiment: filter on control=false to
// send.
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
		rec[0], rec[1], rec[2], rec[3], rec[4] = m.Campaign, m.Customer, m.Email, strconv.FormatBool(m.Control), m.Offer
		rec[5] = m.Time.UTC().Format(time.RFC3339)
		rec[6], rec[7], rec[8] = strings.Join(keys, "|"), strings.Join(names, "|"), strings.Join(reasons, "|")
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes msgs as one JSON array, indented, control entries
// included; [ReadJSON] reads it back. JSON strings are Unicode, so a
// message whose campaign name, customer key, e-mail, offer or item
// (product key, name, reason) is not valid UTF-8, such as a key exported
// in Latin-1, would be changed on the way (each invalid byte replaced by
// U+FFFD) and would no longer match its customer in [Options.Sent]:
// WriteJSON returns an error naming the first such string, before writing
// anything. [WriteCSV] writes every string byte for byte.
func WriteJSON(w io.Writer, msgs []Message) error {
	for i := range msgs {
		if err := checkUTF8(&msgs[i]); err != nil {
			return err
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
// (surrounding white space aside). A nil r is an error matching
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
	var msgs []Message
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&msgs); err != nil {
		return nil, fmt.Errorf("campaign: read JSON: %w", err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, fmt.Errorf("campaign: read JSON: data after the array at byte %d", len(data)-len(rest))
	}
	return msgs, nil
}
