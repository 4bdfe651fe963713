package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// chromium returns the path of a Chromium binary, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: install Debian's chromium package to run the browser test (.ci/run does)")
	return ""
}

// TestBrowser drives the page in headless Chromium: a segment query shows
// its count, a customer shows recommendations with reasons, and adding
// products to the cart shows cross-sells. It saves a screenshot to
// $AFFINITY_ARTIFACTS (default: the test's temporary folder). Starting
// Chromium takes seconds of wall time whatever the test does, so it runs
// in the long suite only (testdata.Long, as CI runs it).
func TestBrowser(t *testing.T) {
	testdata.SkipUnlessLong(t)
	bin := chromium(t)
	ts := testServer(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// A bound against a hung browser, not a performance target: with
	// every core busy, one run of this test took 57 s where it usually
	// takes 2–3.
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	text := func(sel string) string {
		v, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		require.NoError(t, err, sel)
		return v
	}
	aud, err := demoShop.Snapshot().Segment("frequency >= 5")
	require.NoError(t, err)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(css("#segments .bar"))))
	assert.Contains(t, text("#segments"), "Champions")

	// The R×F grid: the top-right cell is the recent, frequent customers.
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(css("#grid td"))))
	best, err := demoShop.Snapshot().Segment("rscore = 5 and fscore = 5")
	require.NoError(t, err)
	corner, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#grid tr:nth-child(2) td:last-child .n").textContent`))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(best.Len()), corner, "R5 F5 in the top-right cell")

	// A segment query and its live count.
	require.NoError(t, chromedp.Do(ctx, chromedp.Clear(css("#q")), chromedp.SendKeys(css("#q"), "frequency >= 5")))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#count").textContent === "`+strconv.Itoa(aud.Len())+`"`))
	require.NoError(t, err, "the page shows the query's count, %d", aud.Len())
	assert.Contains(t, text("#qstats"), "revenue")

	// A customer and their recommendations with reasons.
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(css("#cust"), "c000740"), chromedp.Click(css("#lookup")),
		chromedp.WaitVisible(css("#recs li .why"))))
	assert.Contains(t, text("#recs"), "more often than chance")
	assert.Contains(t, text("#profile"), "c000740")

	// The cart and its cross-sells.
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(css("#sku"), "p00746"), chromedp.Click(css("#add")),
		chromedp.WaitVisible(css("#cross li"))))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(css("#sku"), "p00966"), chromedp.Click(css("#add"))))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#cart .chip").length === 2`))
	require.NoError(t, err)
	// The chips show at once, the cross-sells of the two-product cart once
	// its request is answered: wait for them (a fixed sleep read the
	// one-product cart's list whenever the answer took longer).
	cartRes, err := demoShop.Snapshot().Recommend(context.Background(),
		shop.Request{Customer: "c000740", Cart: []string{"p00746", "p00966"}, K: 5})
	require.NoError(t, err)
	var wantCross []string
	for _, r := range cartRes.Recs {
		wantCross = append(wantCross, r.Product)
	}
	wantJS, err := json.Marshal(strings.Join(wantCross, ","))
	require.NoError(t, err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](
		`Array.from(document.querySelectorAll("#cross li .muted"), (e) => e.textContent.split(" · ")[0]).join(",") === `+string(wantJS)))
	require.NoError(t, err, "the page shows the cross-sells of the two-product cart, %v", wantCross)
	cross := text("#cross")
	assert.NotEmpty(t, strings.TrimSpace(cross))
	assert.NotContains(t, cross, "p00746 ·", "a cart product is not its own cross-sell")
	// The coupon is asked for when the page loads, beside the other
	// requests: wait for its answer rather than assume it came first.
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#coupon").textContent.includes("customers")`))
	require.NoError(t, err, "the coupon shows")
	assert.Contains(t, text("#coupon"), "customers")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)

	dir := os.Getenv("AFFINITY_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "storefront.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
}
