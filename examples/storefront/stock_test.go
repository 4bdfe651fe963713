package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/shop"
)

// TestStockReplyHonest: PUT /api/stock answered with the lengths of its
// lists, counting a key no product has, and one given twice, as set —
// while the shop remembered every unknown key for ever (a client could
// grow its memory without bound). The answer counts the distinct
// products set and lists the keys the shop does not know, which change
// nothing.
func TestStockReplyHonest(t *testing.T) {
	h := advHandler(t)
	rec := serve(h, "GET", "/api/customers/c000740/recommendations?k=2", "")
	require.Equal(t, http.StatusOK, rec.Code)
	var top shop.Result
	checkJSON(t, rec, &top)
	require.Len(t, top.Recs, 2)
	p1, p2 := top.Recs[0].Product, top.Recs[1].Product
	defer serve(h, "PUT", "/api/stock", `{"in_stock":["`+p1+`","`+p2+`"]}`)

	rec = serve(h, "PUT", "/api/stock", `{"in_stock":["`+p1+`","`+p1+`","no-such-sku","`+p2+`"],"out_of_stock":["`+p2+`","no-such-sku","zz-typo"]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got stockReply
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, stockReply{InStock: 1, OutOfStock: 1, Unknown: []string{"no-such-sku", "zz-typo"}}, got)
	assert.True(t, recommended(t, h, "c000740", p1))
	assert.False(t, recommended(t, h, "c000740", p2), "a key in both lists ends out of stock")

	rec = serve(h, "PUT", "/api/stock", `{"in_stock":["`+p2+`"]}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"in_stock":1,"out_of_stock":0,"unknown":[]}`, rec.Body.String())
}
