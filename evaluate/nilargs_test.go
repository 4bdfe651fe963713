package evaluate_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/reliability"
)

// TestNilArguments calls every split, Evaluate and every recommender's
// Fit with a nil context or a nil History: each returns an error
// matching affinity.ErrNilArgument, none panics.
func TestNilArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := map[string]evaluate.Recommender{
		"Popular": &evaluate.Popular{}, "SegmentPopular": &evaluate.SegmentPopular{}, "Random": &evaluate.Random{},
		"Engine": &evaluate.Engine{}, "ItemNeighbors": &evaluate.ItemNeighbors{}, "EASE": &evaluate.EASE{}, "TIFUKNN": &evaluate.TIFUKNN{},
	}
	calls := map[string]func() error{
		"Evaluate nil ctx": func() error {
			_, err := evaluate.Evaluate(nilCtx, &evaluate.Split{}, nil, evaluate.Options{})
			return err
		},
		"Evaluate nil split":    func() error { _, err := evaluate.Evaluate(ctx, nil, nil, evaluate.Options{}); return err },
		"TemporalSplit nil ctx": func() error { _, err := evaluate.TemporalSplit(nilCtx, nil, at); return err },
		"TemporalSplit nil":     func() error { _, err := evaluate.TemporalSplit(ctx, nil, at); return err },
		"LastOrderSplit nil":    func() error { _, err := evaluate.LastOrderSplit(ctx, nil); return err },
		"ChronoSplit nil":       func() error { _, err := evaluate.ChronoSplit(ctx, nil, evaluate.SplitOptions{}); return err },
		"StratifiedSplit nil":   func() error { _, err := evaluate.StratifiedSplit(ctx, nil, evaluate.SplitOptions{}); return err },
		"LeaveOneOutSplit nil":  func() error { _, err := evaluate.LeaveOneOutSplit(ctx, nil, evaluate.SplitOptions{}); return err },
		"LoadSplit nil ctx": func() error {
			_, _, _, err := evaluate.LoadSplit(nilCtx, "a.csv", "b.csv", dataset.Options{})
			return err
		},
	}
	for name, r := range recs {
		calls[name+".Fit nil ctx"] = func() error { return r.Fit(nilCtx, nil, at) }
		calls[name+".Fit nil History"] = func() error { return r.Fit(ctx, nil, at) }
	}
	reliability.Calls(t, reliability.Record{Kind: "invalid", Subject: "evaluate: splits, Evaluate and every recommender's Fit with a nil context or History",
		Outcome: "an error matching affinity.ErrNilArgument; no panic"}, calls, affinity.ErrNilArgument)
}
