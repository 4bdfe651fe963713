package main

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// maxBody bounds request bodies (cart and stock updates).
const maxBody = 64 << 10

//go:embed web
var web embed.FS

var page = template.Must(template.ParseFS(web, "web/index.html"))

// server serves the API and the page from the shop's current snapshot.
type server struct {
	shop    *shop.Shop
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	polls   pollHealth
	// exportWrite is the time each write of a CSV export has to go out
	// (see queryCSV): writeTimeout, but in tests.
	exportWrite time.Duration
}

func newServer(s *shop.Shop, log *slog.Logger) *server {
	srv := &server{shop: s, log: log, mux: http.NewServeMux(), metrics: newMetrics(s), exportWrite: writeTimeout}
	routes := []struct {
		pattern string
		h       func(w http.ResponseWriter, r *http.Request) error
	}{
		{"GET /{$}", srv.index},
		{"GET /api/customers/{id}", srv.profile},
		{"GET /api/customers/{id}/recommendations", srv.customerRecs},
		{"POST /api/cart/recommendations", srv.cartRecs},
		{"GET /api/products/{id}/together", srv.together},
		{"GET /api/segments", srv.segments},
		{"GET /api/segments/query", srv.query},
		{"GET /api/segments/query.csv", srv.queryCSV},
		{"PUT /api/stock", srv.stock},
		{"GET /healthz", srv.health},
		{"GET /metrics", srv.metrics.serve},
	}
	for _, rt := range routes {
		srv.mux.Handle(rt.pattern, srv.wrap(rt.pattern, rt.h))
	}
	return srv
}

// noRoute and redirect are the routes of GET /metrics that count the
// requests no route matches and those the mux redirects to the clean
// form of their path (//healthz to /healthz, /x/../nowhere to /nowhere).
const (
	noRoute  = "no route"
	redirect = "redirect"
)

func (srv *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	mw := &muxWriter{ResponseWriter: w}
	srv.mux.ServeHTTP(mw, r) // the mux's ServeHTTP sets r.PathValue
	if !mw.routed {
		route := noRoute
		if mw.status >= 300 && mw.status < 400 {
			route = redirect
		}
		srv.metrics.observe(route, cmp.Or(mw.status, http.StatusOK), time.Since(t0))
	}
}

// muxWriter is the writer the mux is given. A route's handler marks it
// routed (wrap) and writes through it; the mux's own answers are
// recorded for /metrics, a redirect passed on as the mux writes it, a
// 404, or a 405 with its Allow header, in the API's JSON error shape
// instead of plain text.
type muxWriter struct {
	http.ResponseWriter
	routed bool // a route's handler took the request
	status int  // the status of the mux's own answer; 0 before
}

func (m *muxWriter) WriteHeader(status int) {
	switch {
	case m.routed:
		m.ResponseWriter.WriteHeader(status)
	case m.status != 0:
	case status >= 400:
		m.status = status
		writeJSON(m.ResponseWriter, status, &shop.Problem{Message: strings.ToLower(http.StatusText(status))})
	default:
		m.status = status
		m.ResponseWriter.WriteHeader(status)
	}
}

func (m *muxWriter) Write(b []byte) (int, error) {
	if m.routed {
		return m.ResponseWriter.Write(b)
	}
	m.WriteHeader(http.StatusOK)
	if m.status >= 400 {
		return len(b), nil // the mux's text, replaced by the JSON error
	}
	return m.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the connection's writer.
func (m *muxWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// errorf returns an error the handlers answer with status (shop.ProblemOf
// gives the other errors theirs).
func errorf(status int, format string, args ...any) error {
	return &shop.Problem{Status: status, Message: fmt.Sprintf(format, args...)}
}

// wrap times a handler, turns its error into a JSON error with the right
// status, and turns a panic into a 500 instead of a dead connection. Once
// the handler has sent its headers (a CSV export under way) no JSON error
// can follow: the error, or the panic with its stack, is logged, and the
// connection is aborted (panic(http.ErrAbortHandler)) so that the client
// sees a broken response rather than a truncated one that looks whole
// (a chunked body ended cleanly, a CSV cut at a line's end); the status
// counted is the one sent. A client that stopped reading (a write that
// failed, or a request whose context ended) is no server error: it is
// logged at debug level. Every panic but http.ErrAbortHandler is counted
// in /metrics.
func (srv *server) wrap(route string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		if mw, ok := w.(*muxWriter); ok {
			mw.routed = true // counted here, under its route
		}
		sw := &sentWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				srv.log.Error("panic", "route", route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				srv.metrics.panicked()
				p = http.ErrAbortHandler
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, &shop.Problem{Message: "internal error"})
					p = nil // answered
				}
			}
			srv.metrics.observe(route, cmp.Or(sw.status, http.StatusOK), time.Since(t0))
			if p != nil {
				panic(p)
			}
		}()
		err := h(sw, r)
		switch {
		case err == nil:
		case sw.status != 0:
			// the headers and part of the body are out: nothing to add
			if sw.writeErr != nil || r.Context().Err() != nil {
				srv.log.Debug("client gone", "route", route, "status", sw.status, "error", err)
				return
			}
			srv.log.Error("request", "route", route, "status", sw.status, "error", err)
			panic(http.ErrAbortHandler) // the client sees the response break off
		default:
			e := shop.ProblemOf(err)
			if e.Status >= 500 {
				srv.log.Error("request", "route", route, "error", err)
			}
			writeJSON(sw, e.Status, e)
		}
	})
}

// sentWriter records the status a handler sent (0 before the headers are
// out) and the first error of a write to the client.
type sentWriter struct {
	http.ResponseWriter
	status   int
	writeErr error
}

func (w *sentWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 { // a 1xx is no final status
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *sentWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK // what the first Write sends
	}
	n, err := w.ResponseWriter.Write(b)
	if err != nil && w.writeErr == nil {
		w.writeErr = err
	}
	return n, err
}

// Unwrap gives http.ResponseController the connection's writer.
func (w *sentWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// buffers are the response buffers of writeResult.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// writeResult writes a recommendation result, encoded by its own
// appender into a pooled buffer: the hot path of the service, it skips
// encoding/json's reflection and its validation of a Marshaler's output.
func writeResult(w http.ResponseWriter, res shop.Result) error {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	b, err := res.AppendJSON((*bp)[:0])
	if err != nil {
		return err
	}
	*bp = append(b, '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(*bp)
	return nil
}

// intParam reads an integer query parameter, def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "%s=%q: want an integer in [%d, %d]", name, s, lo, hi)
	}
	return n, nil
}

func (srv *server) index(w http.ResponseWriter, r *http.Request) error {
	snap := srv.shop.Snapshot()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return page.Execute(w, map[string]any{"AsOf": snap.AsOf().Format(time.DateTime), "Customers": snap.History().NumCustomers(),
		"Products": snap.History().Catalog().NumProducts()})
}

func (srv *server) profile(w http.ResponseWriter, r *http.Request) error {
	snap := srv.shop.Snapshot()
	p, err := snap.Profile(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if !p.Known {
		return errorf(http.StatusNotFound, "unknown customer %q", p.Customer)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// rules shape a page's recommendations: the query parameters of GET
// /api/customers/{id}/recommendations and fields of the cart's body, all
// optional. The shop checks their ranges (a bad one is a 400).
type rules struct {
	MinPrice      affinity.Money  `json:"min_price"`      // list price at least, in currency units (0: no lower bound)
	MaxPrice      *affinity.Money `json:"max_price"`      // list price at most (absent: no upper bound; 0 is refused)
	PerCategory   int             `json:"per_category"`   // at most this many per category
	CategoryDepth int             `json:"category_depth"` // counting categories at this level (1 = top)
	Diversity     float64         `json:"diversity"`      // in [0, 1]: unlike the results before
	Repeats       bool            `json:"repeats"`        // products the customer bought may come back
}

// check returns a 400 for a max_price of 0 and for a count of the cart
// body's rules out of the ranges rulesParams gives the query parameters
// (the shop checks the rest).
func (ru *rules) check() error {
	switch {
	case ru.MaxPrice != nil && *ru.MaxPrice == 0:
		return errNoMaxPrice
	case ru.PerCategory < 0 || ru.PerCategory > shop.MaxK:
		return errorf(http.StatusBadRequest, "per_category %d: want 0 to %d", ru.PerCategory, shop.MaxK)
	case ru.CategoryDepth < 0 || ru.CategoryDepth > maxCategoryDepth:
		return errorf(http.StatusBadRequest, "category_depth %d: want 0 to %d", ru.CategoryDepth, maxCategoryDepth)
	}
	return nil
}

// errNoMaxPrice refuses a max_price of 0: the shop's rules read 0 as no
// bound, where a client that sends it means "free products only", which
// no band can give (a price of 0 is an unknown one, outside every band;
// see shop.Rules.MaxPrice).
var errNoMaxPrice = errorf(http.StatusBadRequest, "max_price 0: want an amount above 0 (leave it out for no upper bound)")

// maxCategoryDepth is the deepest category level a rule may count at.
const maxCategoryDepth = 64

// shop returns the rules as the shop's.
func (ru *rules) shop() shop.Rules {
	var maxPrice affinity.Money // 0: no bound
	if ru.MaxPrice != nil {
		maxPrice = *ru.MaxPrice
	}
	return shop.Rules{MinPrice: ru.MinPrice, MaxPrice: maxPrice, MaxPerCategory: ru.PerCategory,
		CategoryDepth: ru.CategoryDepth, Diversity: ru.Diversity, AllowRepeats: ru.Repeats}
}

// rulesParams reads the rules from r's query parameters.
func rulesParams(r *http.Request) (rules, error) {
	var ru rules
	q := r.URL.Query()
	for _, name := range []string{"min_price", "max_price"} {
		s := q.Get(name)
		if s == "" {
			continue
		}
		v, err := affinity.ParseMoney(s, '.')
		if err != nil {
			return ru, errorf(http.StatusBadRequest, "%s=%q: want an amount such as 12.50", name, s)
		}
		switch {
		case name == "min_price":
			ru.MinPrice = v
		case v == 0:
			return ru, errNoMaxPrice
		default:
			ru.MaxPrice = &v
		}
	}
	var err error
	if ru.PerCategory, err = intParam(r, "per_category", 0, 0, shop.MaxK); err != nil {
		return ru, err
	}
	if ru.CategoryDepth, err = intParam(r, "category_depth", 0, 0, maxCategoryDepth); err != nil {
		return ru, err
	}
	if s := q.Get("diversity"); s != "" {
		if ru.Diversity, err = strconv.ParseFloat(s, 64); err != nil {
			return ru, errorf(http.StatusBadRequest, "diversity=%q: want a number in [0, 1]", s)
		}
	}
	if s := q.Get("repeats"); s != "" {
		if ru.Repeats, err = strconv.ParseBool(s); err != nil {
			return ru, errorf(http.StatusBadRequest, "repeats=%q: want true or false", s)
		}
	}
	return ru, nil
}

func (srv *server) customerRecs(w http.ResponseWriter, r *http.Request) error {
	k, err := intParam(r, "k", shop.DefaultK, 1, shop.MaxK)
	if err != nil {
		return err
	}
	ru, err := rulesParams(r)
	if err != nil {
		return err
	}
	req := shop.Request{Customer: r.PathValue("id"), K: k, Category: r.URL.Query().Get("category"), Rules: ru.shop()}
	res, err := srv.shop.Snapshot().Recommend(r.Context(), req)
	if err != nil {
		return err
	}
	return writeResult(w, res)
}

// cartRequest is the body of POST /api/cart/recommendations.
type cartRequest struct {
	Customer string   `json:"customer"`
	Cart     []string `json:"cart"`
	K        int      `json:"k"`
	Category string   `json:"category"`
	rules
}

func (srv *server) cartRecs(w http.ResponseWriter, r *http.Request) error {
	var req cartRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	if req.K == 0 {
		req.K = shop.DefaultK
	}
	res, err := srv.shop.Snapshot().Recommend(r.Context(), shop.Request{Customer: req.Customer, Cart: req.Cart, K: req.K, Category: req.Category, Rules: req.shop()})
	if err != nil {
		return err
	}
	return writeResult(w, res)
}

func (srv *server) together(w http.ResponseWriter, r *http.Request) error {
	k, err := intParam(r, "k", 5, 1, shop.MaxK)
	if err != nil {
		return err
	}
	res, err := srv.shop.Snapshot().Together(r.Context(), r.PathValue("id"), k)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// segmentRow is one segment of GET /api/segments.
type segmentRow struct {
	Kind         string  `json:"kind"`
	Name         string  `json:"name"`
	Customers    int     `json:"customers"`
	Share        float64 `json:"share"`
	Revenue      string  `json:"revenue"`
	RevenueShare float64 `json:"revenue_share"`
	Orders       int64   `json:"orders"`
	AOV          string  `json:"aov"`
}

// gridCell is one cell of the R×F grid: the customers with one recency
// and one frequency score.
type gridCell struct {
	R            int     `json:"r"`
	F            int     `json:"f"`
	Customers    int     `json:"customers"`
	Revenue      string  `json:"revenue"`
	RevenueShare float64 `json:"revenue_share"`
}

func (srv *server) segments(w http.ResponseWriter, r *http.Request) error {
	snap := srv.shop.Snapshot()
	x, err := snap.SegmentIndex(r.Context()) // nil for a shop without orders
	if err != nil {
		return err
	}
	rows := []segmentRow{}
	grid := []gridCell{}
	if x != nil {
		add := func(kind string, table []segment.Stats) {
			for _, s := range table {
				rows = append(rows, segmentRow{kind, s.Name, s.Customers, s.Share, s.Revenue.Format(2), s.RevenueShare, s.Orders, s.FormatAOV(2)})
			}
		}
		add("rfm", x.RFMTable())
		add("lifecycle", x.LifecycleTable())
		cells, err := x.ScoreGrid(segment.RScore(), segment.FScore(), nil)
		if err != nil {
			return err
		}
		for i, row := range cells {
			for j, c := range row {
				grid = append(grid, gridCell{i + 1, j + 1, c.Customers, c.Revenue.Format(2), c.RevenueShare})
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": snap.AsOf(), "segments": rows, "grid": grid})
	return nil
}

// audience evaluates the query of a request. Right after a refresh it
// waits for the snapshot's segment index as long as the request lasts (a
// client that gives up is a 503, and stops waiting).
func (srv *server) audience(r *http.Request) (*shop.Audience, shop.Order, error) {
	q := r.URL.Query().Get("q")
	if q == "" {
		return nil, 0, errorf(http.StatusBadRequest, "missing query parameter q")
	}
	order := shop.BySpend
	if o := r.URL.Query().Get("order"); o != "" {
		var err error
		if order, err = shop.ParseOrder(o); err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "%v", err)
		}
	}
	aud, err := srv.shop.Snapshot().SegmentContext(r.Context(), q)
	return aud, order, err
}

func (srv *server) query(w http.ResponseWriter, r *http.Request) error {
	aud, order, err := srv.audience(r)
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 20, 1, shop.MaxPage)
	if err != nil {
		return err
	}
	page, err := aud.Page(order, offset, limit)
	if err != nil {
		return err
	}
	st := aud.Stats()
	writeJSON(w, http.StatusOK, map[string]any{"query": aud.Query(), "count": st.Customers, "share": st.Share,
		"revenue": st.Revenue.Format(2), "orders": st.Orders, "aov": st.FormatAOV(2), "order": order.String(),
		"offset": offset, "customers": page})
	return nil
}

// queryCSV exports an audience. The server's WriteTimeout bounds a whole
// response, which a large audience going to a slow client outlasts: the
// export gives each of its writes exportWrite to go out instead, so it
// lasts as long as the client keeps reading, and one that stops reading
// for that long is cut off.
func (srv *server) queryCSV(w http.ResponseWriter, r *http.Request) error {
	aud, order, err := srv.audience(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="segment.csv"`)
	return aud.WriteCSV(&deadlineWriter{w: w, rc: http.NewResponseController(w), each: srv.exportWrite}, order)
}

// deadlineWriter moves the connection's write deadline to each from now
// before every write. A writer that cannot set one (http.ErrNotSupported: a test's
// recorder) writes without.
type deadlineWriter struct {
	w    io.Writer
	rc   *http.ResponseController
	each time.Duration
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(d.each)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	return d.w.Write(b)
}

// stockUpdate is the body of PUT /api/stock.
type stockUpdate struct {
	InStock    []string `json:"in_stock"`
	OutOfStock []string `json:"out_of_stock"`
}

// stockReply is the answer of PUT /api/stock: how many distinct products
// the shop knows were set in and out of stock, and the keys it does not
// know, sorted, which change nothing.
type stockReply struct {
	InStock    int      `json:"in_stock"`
	OutOfStock int      `json:"out_of_stock"`
	Unknown    []string `json:"unknown"`
}

func (srv *server) stock(w http.ResponseWriter, r *http.Request) error {
	var u stockUpdate
	if err := decode(w, r, &u); err != nil {
		return err
	}
	rep := srv.shop.UpdateStock(u.InStock, u.OutOfStock) // one pass; keys the shop does not know are not kept
	reply := stockReply{InStock: rep.InStock, OutOfStock: rep.OutOfStock, Unknown: rep.Unknown}
	if reply.Unknown == nil {
		reply.Unknown = []string{} // [], not null
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// health answers GET /healthz: 200 {"status": "ok", ...} while the shop
// serves a snapshot that is current, or 503 {"status": "unhealthy",
// "error": ...} when the database's polls have failed for longer than
// pollHealth allows, so that a load balancer or an orchestrator stops
// sending traffic to a service whose answers are going stale.
func (srv *server) health(w http.ResponseWriter, r *http.Request) error {
	snap := srv.shop.Snapshot()
	if err := srv.polls.check(time.Now()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unhealthy", "error": err.Error(), "as_of": snap.AsOf()})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "as_of": snap.AsOf(), "customers": snap.History().NumCustomers()})
	return nil
}

// unhealthyPolls is how many polling intervals the refreshes may fail
// before /healthz reports the service unhealthy.
const unhealthyPolls = 3

// pollHealth records the outcome of the polls of the database: the
// service is unhealthy once a poll has failed and none has succeeded for
// more than unhealthyPolls intervals (a hung database fails each poll
// at -poll-timeout). Its zero value, a service that does not poll, is
// always healthy. It is safe for concurrent use.
type pollHealth struct {
	mu      sync.Mutex
	bound   time.Duration // 0: not polling
	lastOK  time.Time     // the last successful poll, or when polling began
	lastErr error         // the last poll's error; nil after a success
}

// start begins polling every interval, at now.
func (p *pollHealth) start(now time.Time, every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bound, p.lastOK, p.lastErr = unhealthyPolls*every, now, nil
}

// record records a poll's outcome at now.
func (p *pollHealth) record(now time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastErr = err
	if err == nil {
		p.lastOK = now
	}
}

// check returns why the service is unhealthy at now, nil if it is not.
func (p *pollHealth) check(now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bound <= 0 || p.lastErr == nil || now.Sub(p.lastOK) <= p.bound {
		return nil
	}
	return fmt.Errorf("no refresh succeeded for %v: %v", now.Sub(p.lastOK).Round(time.Second), p.lastErr)
}

// decode reads a JSON body of at most maxBody bytes (a longer one is a
// 413, whatever it holds): one JSON value and nothing after it.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err // a 413 (shop.ProblemOf)
		}
		return errorf(http.StatusBadRequest, "reading the body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, end := dec.Token(); end != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "bad JSON body: %v", err)
	}
	return nil
}

// poll refreshes the shop from feed every interval until ctx is done,
// each load of the feed bounded by timeout. A failed refresh is logged
// and tried again at the next tick; requests go on with the current
// snapshot meanwhile, and /healthz reports the failures that last (see
// pollHealth).
func (srv *server) poll(ctx context.Context, feed shop.Committer, every, timeout time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	srv.polls.start(time.Now(), every)
	feed = timedFeed{feed, timeout}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t0 := time.Now()
		before := srv.shop.Snapshot()
		err := srv.shop.Refresh(ctx, feed)
		if ctx.Err() != nil {
			return // stopping: the refresh was cancelled
		}
		srv.polls.record(time.Now(), err)
		if err != nil {
			srv.log.Warn("refresh failed", "error", err)
			continue
		}
		if after := srv.shop.Snapshot(); after != before {
			srv.metrics.refreshed()
			srv.log.Info("refreshed", "lines", after.History().NumLines(), "as_of", after.AsOf(), "took", time.Since(t0).Round(time.Millisecond).String())
		}
	}
}

// timedFeed bounds each Load of a feed by a timeout, so that a database
// that does not answer fails the refresh instead of stalling it; the
// build that follows a Load is not bounded. It commits as the feed does.
type timedFeed struct {
	shop.Committer
	timeout time.Duration
}

func (f timedFeed) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	tctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	rep, err := f.Committer.Load(tctx, b)
	if err != nil && ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("poll timed out after %v: %w", f.timeout, err)
	}
	return rep, err
}
