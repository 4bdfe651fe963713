package shop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeams holds every build function of the library to one contract:
// (ctx, h, asOf, opts) with a required as-of time — the zero time is an
// error wrapping affinity.ErrNoAsOf — and the same answer, byte for byte,
// for the same inputs.
func TestSeams(t *testing.T) {
	ctx := context.Background()
	h, err := small(11).History(ctx)
	require.NoError(t, err)
	asOf := h.Latest().AddDate(0, -1, 0)
	counts := func(asOf time.Time) (*similarity.Counts, error) {
		return similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Customer})
	}
	nb := func() *similarity.Index {
		c, err := counts(asOf)
		require.NoError(t, err)
		x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine})
		require.NoError(t, err)
		return x
	}()
	encode := func(w io.WriterTo, err error) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		_, err = w.WriteTo(&buf)
		return buf.Bytes(), err
	}
	jsonOf := func(v any, err error) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	seams := map[string]func(asOf time.Time) ([]byte, error){
		"segment.Build": func(asOf time.Time) ([]byte, error) {
			return encode(segment.Build(ctx, h, asOf, segment.Options{}))
		},
		"similarity.Count": func(asOf time.Time) ([]byte, error) {
			c, err := counts(asOf)
			if err != nil {
				return nil, err
			}
			x, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{})
			return encode(x, err)
		},
		"similarity.NewItemMatrix": func(asOf time.Time) ([]byte, error) {
			m, err := similarity.NewItemMatrix(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Customer})
			if err != nil {
				return nil, err
			}
			r, c := m.Dims()
			out := fmt.Appendf(nil, "%d %d %d;", r, c, m.NNZ())
			for p := range affinity.ProductID(r) {
				cols, vals := m.Row(p)
				out = fmt.Appendf(out, "%v%v;", cols, vals)
			}
			return out, nil
		},
		"similarity.FitEASE": func(asOf time.Time) ([]byte, error) {
			return encode(similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: similarity.CountOptions{Scope: similarity.Customer}}))
		},
		"recommend.New": func(asOf time.Time) ([]byte, error) {
			e, err := recommend.New(ctx, h, nb, asOf, recommend.Options{})
			if err != nil {
				return nil, err
			}
			var out []byte
			for c := range affinity.CustomerID(20) {
				recs, err := e.Recommend(nil, recommend.Request{CustomerID: c, ByID: true, K: 5})
				if err != nil {
					return nil, err
				}
				for _, r := range recs {
					out = fmt.Appendf(out, "%d:%s:%.9g:%v;", c, r.Key, r.Score, r.Source)
				}
			}
			return out, nil
		},
		"clv.Summarize": func(asOf time.Time) ([]byte, error) {
			return jsonOf(clv.Summarize(ctx, h, asOf, clv.SummaryOptions{}))
		},
		"clv.Historical": func(asOf time.Time) ([]byte, error) {
			return jsonOf(clv.Historical(ctx, h, asOf, clv.HistoricalOptions{}))
		},
		"clv.CohortRetention": func(asOf time.Time) ([]byte, error) {
			return jsonOf(clv.CohortRetention(ctx, h, asOf))
		},
	}
	for name, build := range seams {
		t.Run(name, func(t *testing.T) {
			_, err := build(time.Time{})
			require.ErrorIs(t, err, affinity.ErrNoAsOf, "a zero as-of time is an error")
			a, err := build(asOf)
			require.NoError(t, err)
			require.NotEmpty(t, a)
			b, err := build(asOf)
			require.NoError(t, err)
			assert.Equal(t, a, b, "same inputs, same answer")
			c, err := build(asOf.AddDate(0, -3, 0))
			require.NoError(t, err)
			assert.NotEqual(t, a, c, "the as-of time is honoured")
		})
	}
}
