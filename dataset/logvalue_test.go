package dataset_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// logged returns what a JSON logger writes for v as its one attribute.
func logged(t *testing.T, v any) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	return rec["v"].(map[string]any)
}

func TestReportLogValue(t *testing.T) {
	// every part present: the counts, duplicates, ignored columns and the
	// skipped rows by reason, each with its first line
	r := dataset.Report{
		Format: "shopify", Rows: 10, Loaded: 6, Purchases: 6, Anonymous: 1, Returns: 2, Events: 0, Products: 3,
		Duplicates: 2, FirstDuplicate: 7, Ignored: []string{"Notes", "Tags"},
		Skipped: []dataset.Skip{{Reason: "invalid time", Count: 3, FirstLine: 4}, {Reason: "missing product", Count: 1, FirstLine: 9}},
	}
	got := logged(t, r)
	require.Equal(t, map[string]any{
		"format": "shopify", "rows": 10.0, "loaded": 6.0, "purchases": 6.0, "anonymous": 1.0, "returns": 2.0,
		"events": 0.0, "products": 3.0, "duplicates": 2.0, "first_duplicate": 7.0,
		"ignored": []any{"Notes", "Tags"}, "skipped": 4.0,
		"skipped_by": map[string]any{
			"invalid_time":    map[string]any{"count": 3.0, "first_line": 4.0},
			"missing_product": map[string]any{"count": 1.0, "first_line": 9.0},
		},
	}, got)

	// a clean load: no duplicates, ignored columns or reasons, but the
	// skipped count is always there
	got = logged(t, dataset.Report{Format: "csv", Rows: 2, Loaded: 2, Purchases: 2})
	require.Equal(t, 0.0, got["skipped"])
	for _, k := range []string{"duplicates", "first_duplicate", "ignored", "skipped_by"} {
		require.NotContains(t, got, k)
	}
}

func TestReportJSON(t *testing.T) {
	r := dataset.Report{
		Format: "shopify", Rows: 10, Loaded: 6, Purchases: 6, Anonymous: 1, Returns: 2, Events: 0, Products: 3,
		Duplicates: 2, FirstDuplicate: 7, Ignored: []string{"Notes", "Tags"},
		Skipped: []dataset.Skip{{Reason: "invalid time", Count: 3, FirstLine: 4}, {Reason: "missing product", Count: 1, FirstLine: 9}},
	}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.JSONEq(t, `{"format":"shopify","rows":10,"loaded":6,"purchases":6,"anonymous":1,"returns":2,"events":0,"products":3,
		"duplicates":2,"first_duplicate":7,"ignored":["Notes","Tags"],
		"skipped_by":[{"reason":"invalid time","count":3,"first_line":4},{"reason":"missing product","count":1,"first_line":9}]}`, string(b))
	var back dataset.Report
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, r, back)

	// the names are those of the log form, whose "skipped" total JSON leaves to SkippedRows
	var js map[string]any
	require.NoError(t, json.Unmarshal(b, &js))
	for k := range logged(t, r) {
		if k != "skipped" {
			require.Contains(t, js, k)
		}
	}
	b, err = json.Marshal(dataset.Report{Format: "csv", Rows: 2, Loaded: 2, Purchases: 2})
	require.NoError(t, err)
	require.JSONEq(t, `{"format":"csv","rows":2,"loaded":2,"purchases":2,"anonymous":0,"returns":0,"events":0,"products":0}`, string(b))
}
