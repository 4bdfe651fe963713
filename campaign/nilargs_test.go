package campaign_test

import (
	"context"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/internal/reliability"
)

// TestNilArguments calls Build, Members and Measure with a nil context,
// snapshot or History, and ReadJSON with a nil reader: each returns an error matching
// affinity.ErrNilArgument, none panics.
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	snap := demo(t)
	at := snap.AsOf()
	cs := campaign.Builtins(false)
	calls := map[string]func() error{
		"Build nil ctx":        func() error { _, err := campaign.Build(nilCtx, snap, at, cs, campaign.Options{}); return err },
		"Build nil snapshot":   func() error { _, err := campaign.Build(ctx, nil, at, cs, campaign.Options{}); return err },
		"Members nil ctx":      func() error { _, err := cs[0].Members(nilCtx, snap, nil); return err },
		"Members nil snapshot": func() error { _, err := cs[0].Members(ctx, nil, nil); return err },
		"Measure nil ctx": func() error {
			_, err := campaign.Measure(nilCtx, snap.History(), nil, at.AddDate(0, -1, 0), at, campaign.MeasureOptions{})
			return err
		},
		"Measure nil History": func() error {
			_, err := campaign.Measure(ctx, nil, nil, at.AddDate(0, -1, 0), at, campaign.MeasureOptions{})
			return err
		},
		"ReadJSON nil reader": func() error { _, err := campaign.ReadJSON(nil); return err },
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "campaign: Build, Members and Measure with a nil context, snapshot or History; ReadJSON with a nil reader",
		Outcome: "an error matching affinity.ErrNilArgument; no panic"}, calls, affinity.ErrNilArgument)
}
