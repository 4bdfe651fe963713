package dataset_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestSQLLocalTimestampCursor: timestamp without time zone columns
// holding a shop's local time, converted in the query as SQLSource's
// Location documents, with the cursor compared in the same terms: a poll
// from the cursor reads the change made after it, whatever the time zone
// of the process and of the session.
func TestSQLLocalTimestampCursor(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	schema := fmt.Sprintf("fix72_local_%d_%d", os.Getpid(), rand.Uint32())
	exec(t, db, fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.lines (order_id int, created_at timestamp, updated_at timestamp, product_id text)`, schema))
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	exec(t, db, "INSERT INTO "+schema+".lines VALUES (1, '2024-03-01 10:00', '2024-03-01 10:00', 'mug')")
	for _, zone := range []string{"America/New_York", "Asia/Tokyo"} {
		t.Run(zone, func(t *testing.T) {
			src := &dataset.SQLSource{DB: db, Overlap: 5 * time.Minute, Query: fmt.Sprintf(`SELECT order_id,
  created_at AT TIME ZONE '%[2]s' AS created_at, updated_at AT TIME ZONE '%[2]s' AS updated_at, product_id
FROM %[1]s.lines WHERE updated_at >= ($1::timestamptz AT TIME ZONE '%[2]s')`, schema, zone)}
			exec(t, db, "DELETE FROM "+schema+".lines WHERE order_id = 2")
			first, err := src.Poll(ctx, time.Time{})
			require.NoError(t, err)
			require.Len(t, first.Changes, 1)
			loc, err := time.LoadLocation(zone)
			require.NoError(t, err)
			assert.True(t, time.Date(2024, 3, 1, 10, 0, 0, 0, loc).Equal(first.Cursor.(time.Time)), "cursor %v", first.Cursor)
			exec(t, db, "INSERT INTO "+schema+".lines VALUES (2, '2024-03-01 10:30', '2024-03-01 10:30', 'tea')")
			next, err := src.Poll(ctx, first.Cursor)
			require.NoError(t, err)
			var keys []string
			for _, c := range next.Changes {
				keys = append(keys, c.Key)
			}
			assert.Equal(t, []string{"1", "2"}, keys, "the change after the cursor is read")
		})
	}
}
