package recommend_test

import (
	"context"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/reliability"
	"github.com/shopaffinity/affinity/recommend"
)

// TestNilArguments calls every entry point with a nil context or a nil
// History: each returns an error matching affinity.ErrNilArgument, none
// panics (in the caller or in a worker goroutine).
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	h, nb, e := demoEngine(t, recommend.Options{})
	at := h.Latest()
	calls := map[string]func() error{
		"New nil ctx":               func() error { _, err := recommend.New(nilCtx, h, nb, at, recommend.Options{}); return err },
		"New nil History":           func() error { _, err := recommend.New(ctx, nil, nb, at, recommend.Options{}); return err },
		"New nil index":             func() error { _, err := recommend.New(ctx, h, nil, at, recommend.Options{}); return err },
		"Renew nil ctx":             func() error { _, err := recommend.Renew(nilCtx, e, h, nb, at, recommend.Options{}); return err },
		"RecommendAll nil ctx":      func() error { _, err := e.RecommendAll(nilCtx, recommend.Request{K: 3}); return err },
		"Model.Index nil ctx":       func() error { _, err := recommend.DefaultModel().Index(nilCtx, h, at); return err },
		"Model.Index nil History":   func() error { _, err := recommend.DefaultModel().Index(ctx, nil, at); return err },
		"Candidate.New nil ctx":     func() error { _, err := recommend.Candidate{}.New(nilCtx, h, at); return err },
		"Candidate.New nil History": func() error { _, err := recommend.Candidate{}.New(ctx, nil, at); return err },
		"Choose nil ctx":            func() error { _, _, err := recommend.Choose(nilCtx, h, at, recommend.Grid{}); return err },
		"Choose nil History":        func() error { _, _, err := recommend.Choose(ctx, nil, at, recommend.Grid{}); return err },
		"Tune nil ctx":              func() error { _, err := recommend.Tune(nilCtx, h, at, recommend.Grid{}); return err },
		"Tune nil History":          func() error { _, err := recommend.Tune(ctx, nil, at, recommend.Grid{}); return err },
		"RepeatShare nil ctx":       func() error { _, err := recommend.RepeatShare(nilCtx, h, at, nil); return err },
		"RepeatShare nil History":   func() error { _, err := recommend.RepeatShare(ctx, nil, at, nil); return err },
		"CountRepeats nil History":  func() error { _, err := recommend.CountRepeats(ctx, nil, at, nil); return err },
		"RecountRepeats nil ctx": func() error {
			_, err := recommend.RecountRepeats(nilCtx, recommend.RepeatTally{}, h, h, at, nil)
			return err
		},
		"RecountRepeats nil History": func() error {
			_, err := recommend.RecountRepeats(ctx, recommend.RepeatTally{}, h, nil, at, nil)
			return err
		},
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "recommend entry points: nil context, History or index",
		Outcome: "an error matching affinity.ErrNilArgument; no panic"}, calls, affinity.ErrNilArgument)
}
