package similarity_test

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// A count that overflows when the latest Adds are merged into the stored
// pairs is an error that leaves the pairs as they were: Merge leaves p as
// it was, and a later call reports the overflow again rather than
// encoding a Partial without its pairs.
func TestPartialOverflowKeepsPairs(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p, err := similarity.NewPartial(asOf, similarity.CountOptions{})
	require.NoError(t, err)
	enc, err := p.MarshalBinary()
	require.NoError(t, err)
	// a row block (N 0, no supports) whose pair (1, 2) and mirror are
	// counted 2^32 − 1 times
	enc = enc[:len(enc)-3] // N, supports, pairs: 0, 0, 0
	enc = binary.AppendUvarint(enc, 0)
	enc = binary.AppendUvarint(enc, 0)
	enc = binary.AppendUvarint(enc, 2)
	enc = binary.AppendUvarint(enc, 1<<32|2)
	enc = binary.AppendUvarint(enc, math.MaxUint32)
	enc = binary.AppendUvarint(enc, (2<<32|1)-(1<<32|2))
	enc = binary.AppendUvarint(enc, math.MaxUint32)
	var q similarity.Partial
	require.NoError(t, q.UnmarshalBinary(enc))

	require.NoError(t, q.Add(similarity.Transaction{Customer: "c", Orders: []similarity.TxOrder{
		{Key: "o", Unix: asOf.Unix() - 60, Products: []affinity.ProductID{1, 2}},
	}}))
	empty, err := similarity.NewPartial(asOf, similarity.CountOptions{})
	require.NoError(t, err)
	require.ErrorContains(t, q.Merge(empty), "transactions for one pair")
	require.Equal(t, 1, q.Total(), "Merge left q as it was")
	_, err = q.MarshalBinary()
	require.ErrorContains(t, err, "transactions for one pair", "the pairs are still there")
	_, err = q.Blocks(1)
	require.ErrorContains(t, err, "transactions for one pair")
}
