package campaign

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
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
// included.
func WriteJSON(w io.Writer, msgs []Message) error {
	if msgs == nil {
		msgs = []Message{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(msgs)
}

// ReadJSON reads messages written by [WriteJSON]: the past sends of the
// next plan ([Options.Sent]).
func ReadJSON(r io.Reader) ([]Message, error) {
	var msgs []Message
	dec := json.NewDecoder(r)
	if err := dec.Decode(&msgs); err != nil {
		return nil, err
	}
	return msgs, nil
}
