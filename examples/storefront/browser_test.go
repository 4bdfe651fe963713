package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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

// browser starts headless Chromium for a test (or skips it) and returns
// the context of its first tab, ended with the test.
func browser(t *testing.T) context.Context {
	bin := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// A bound against a hung browser, not a performance target: with
	// every core busy, one run of TestBrowser took 57 s where it usually
	// takes 2–3.
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestBrowser drives the page in headless Chromium: a segment query shows
// its count, a customer shows recommendations with reasons, and adding
// products to the cart shows cross-sells. It saves a screenshot to
// $AFFINITY_ARTIFACTS (default: the test's temporary folder). Starting
// Chromium takes seconds of wall time whatever the test does, so it runs
// in the long suite only (testdata.Long, as CI runs it).
func TestBrowser(t *testing.T) {
	testdata.SkipUnlessLong(t)
	ts := testServer(t)
	ctx := browser(t)
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

// TestBrowserShowsLatestAnswers: the query box, the customer lookup and
// the cart showed whichever answer arrived last, not the answer to what
// was last asked: when an earlier request answered after a later one (a
// heavier query, one that waits for the segment index after a refresh),
// the page showed the earlier. Here the first query, the first customer
// and the first cart answer 1.5 s late; the page shows the second of
// each.
func TestBrowserShowsLatestAnswers(t *testing.T) {
	testdata.SkipUnlessLong(t)
	ctx := browser(t)
	testServer(t)
	inner := newServer(demoShop, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const slowQuery, fastQuery = "frequency >= 1", "frequency >= 5"
	const slowCustomer, fastCustomer = "c000042", "c000740"
	// the late requests started and finished (counters, not a WaitGroup:
	// a late request may start while the test waits)
	var carts, lateStarted, lateDone atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") == slowQuery || strings.HasPrefix(r.URL.Path, "/api/customers/"+slowCustomer) ||
			r.URL.Path == "/api/cart/recommendations" && carts.Add(1) == 1 {
			lateStarted.Add(1)
			defer lateDone.Add(1)
			time.Sleep(1500 * time.Millisecond) // the earlier request answers later
		}
		inner.ServeHTTP(w, r)
	}))
	defer ts.Close()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#segments .bar"))))
	ask := func(query, customer, product string) {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
  const q = document.getElementById("q"); q.value = `+strconv.Quote(query)+`; q.dispatchEvent(new Event("input"));
  document.getElementById("cust").value = `+strconv.Quote(customer)+`; document.getElementById("lookup").click();
  document.getElementById("sku").value = `+strconv.Quote(product)+`; document.getElementById("add").click();
  return true; })()`))
		require.NoError(t, err)
	}
	ask(slowQuery, slowCustomer, "p00746")
	time.Sleep(500 * time.Millisecond) // the requests are on their way
	ask(fastQuery, fastCustomer, "p00966")
	time.Sleep(500 * time.Millisecond)
	// the query, the customer (profile and recommendations) and the cart
	require.Eventually(t, func() bool { n := lateStarted.Load(); return n >= 3 && lateDone.Load() == n },
		30*time.Second, 20*time.Millisecond, "the late answers")
	time.Sleep(500 * time.Millisecond) // what the page does with the late answers

	snap := demoShop.Snapshot()
	aud, err := snap.Segment(fastQuery)
	require.NoError(t, err)
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#count")))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(aud.Len()), count, "the count of %q, in the box", fastQuery)
	profile, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#profile")))
	require.NoError(t, err)
	assert.Contains(t, profile, fastCustomer)
	assert.NotContains(t, profile, slowCustomer)
	res, err := snap.Recommend(context.Background(), shop.Request{Customer: fastCustomer, Cart: []string{"p00746", "p00966"}, K: 5})
	require.NoError(t, err)
	var want []string
	for _, r := range res.Recs {
		want = append(want, r.Product)
	}
	cross, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll("#cross li .muted"), (e) => e.textContent.split(" · ")[0]).join(",")`))
	require.NoError(t, err)
	assert.Equal(t, strings.Join(want, ","), cross, "the cross-sells of the two-product cart")
}

// TestBrowserShowsFailedRequests: behind a proxy that answers a 502 page
// in HTML, the page parsed the body before it looked at the status (the
// query box showed a JSON parse error), and the segments and the coupon,
// asked for without a catch, stayed "loading…" for ever. Each part shows
// the status.
func TestBrowserShowsFailedRequests(t *testing.T) {
	testdata.SkipUnlessLong(t)
	ctx := browser(t)
	testServer(t)
	inner := newServer(demoShop, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer ts.Close()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#q"))))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
  document.getElementById("cust").value = "c000740"; document.getElementById("lookup").click(); return true; })()`))
	require.NoError(t, err)
	for _, id := range []string{"segments", "qerr", "coupon", "profile"} {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("`+id+`").textContent.includes("502")`,
			chromedp.WithPollingTimeout(10*time.Second)))
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#"+id)))
		assert.NoError(t, err, "#%s shows the 502: %q", id, text)
	}
}
