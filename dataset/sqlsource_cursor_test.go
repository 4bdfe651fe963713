package dataset_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestSQLQuietPollsKeepTheCursor pins what SQLBatch.Cursor says of polls
// that find nothing new: the cursor stays at the last change read, so the
// window does not grow; with an Overlap the orders of the Overlap before
// it are read again by every poll, the same ones each time, and loaded
// onto the History that holds them they build nothing; a poll that reads
// no row at all keeps the cursor too.
func TestSQLQuietPollsKeepTheCursor(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (1, 'ann', $1, $1, 'paid'), (2, 'bob', $2, $2, 'paid'), (3, 'cid', $3, $3, 'paid')",
		t0, t0.Add(time.Hour), t0.Add(time.Hour+2*time.Minute))
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (1, 'mug', 1, 8.5), (2, 'tea', 1, 4.25), (3, 'pen', 2, 1.1)")
	src := &dataset.SQLSource{DB: db, Query: ordersQuery(schema, "updated_at"), Overlap: 5 * time.Minute}

	b := affinity.NewBuilder(nil)
	batch, err := src.Load(ctx, time.Time{}, b)
	require.NoError(t, err)
	h, err := b.Build(ctx)
	require.NoError(t, err)
	last := t0.Add(time.Hour + 2*time.Minute)
	require.True(t, batch.Cursor.(time.Time).Equal(last), "%v", batch.Cursor)
	for i := range 3 {
		b := affinity.NewBuilder(h)
		again, err := src.Load(ctx, batch.Cursor, b)
		require.NoError(t, err)
		assert.True(t, again.Cursor.(time.Time).Equal(last), "poll %d: the cursor stays at the last change", i)
		var keys []string
		for _, c := range again.Changes {
			keys = append(keys, c.Key)
		}
		assert.Equal(t, []string{"2", "3"}, keys, "poll %d: the orders of the Overlap before the cursor, each time", i)
		next, err := b.Build(ctx)
		require.NoError(t, err)
		assert.Same(t, h, next, "poll %d: read again, they build nothing", i)
		batch = again
	}
	exec(t, db, "DELETE FROM "+schema+".order_lines")
	exec(t, db, "DELETE FROM "+schema+".orders")
	empty, err := src.Poll(ctx, batch.Cursor)
	require.NoError(t, err)
	assert.Empty(t, empty.Changes)
	assert.Equal(t, batch.Cursor, empty.Cursor, "a poll that reads no row keeps the cursor")
}
