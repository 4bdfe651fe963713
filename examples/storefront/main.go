// Command storefront is the personalisation service of a Go shop, built
// the way a careful team runs one in production: a JSON API and a web page
// over the front door (package shop), with the orders taken from the
// embedded demo shop, a file, or a PostgreSQL database polled for new and
// changed orders.
//
//	go run ./examples/storefront                                   # the demo shop on 127.0.0.1:8080
//	go run ./examples/storefront -data orders.csv.gz -format onlineretail
//	go run ./examples/storefront -orders-db postgres://user:pw@127.0.0.1/shop -refresh 10s
//
// Requests never see a half-built state: a refresh builds the next
// snapshot beside the current one and swaps it in. Recommendation
// requests never wait; segment requests right after a refresh wait for
// the new snapshot's segment index, which is built after the swap (a
// shop that has served a profile builds it before the swap), as long as
// the request lasts: a client that goes away ends its wait with a 503.
//
// Each poll of -orders-db is bounded by -poll-timeout (1 minute), and GET
// /healthz answers 503 {"status": "unhealthy", "error": ...} once the
// polls have failed and none has succeeded for three -refresh intervals,
// 200 {"status": "ok", ...} otherwise. A CSV export gives the server's
// 30-second write timeout to each of its writes, so it lasts as long as
// the client reads. SIGINT or SIGTERM shuts down gracefully and exits
// with status 0: requests waiting for a segment index end (503), the
// others have 10 s to finish, and a refresh under way is cancelled.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver for database/sql
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli"
	"github.com/shopaffinity/affinity/shop"
)

// config is the command line.
type config struct {
	addr, data, format, catalog string
	ordersDB, ordersQuery       string
	refresh, pollTimeout        time.Duration
	gogc                        int
}

// defaultQuery reads the orders and order_lines tables of the schema in
// the README's "The storefront" (and in the PostgreSQL test).
const defaultQuery = `SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status,
       l.sku AS product_id, l.quantity, l.price
FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
WHERE o.updated_at >= $1`

func main() {
	c, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the usage is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storefront:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(c, log); err != nil {
		log.Error("storefront", "error", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line. A flag that does not apply (-data
// or -format beside -orders-db; -catalog, -orders-query, -refresh or
// -poll-timeout without it; -format without -data), a -refresh,
// -poll-timeout or -gogc that is not positive, and a stray argument are
// errors.
func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("storefront", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.data, "data", "", "orders file (default: the embedded demo shop)")
	fs.StringVar(&c.format, "format", "csv", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	fs.StringVar(&c.catalog, "catalog", "", "catalog CSV (product id, name, category path, price, in stock) for -orders-db (default: none, the products are the keys the orders name, without names, categories or list prices)")
	fs.StringVar(&c.ordersDB, "orders-db", "", "PostgreSQL URL of the orders database, polled every -refresh")
	fs.StringVar(&c.ordersQuery, "orders-query", defaultQuery, "query of -orders-db; $1 is the updated-at cursor")
	fs.DurationVar(&c.refresh, "refresh", 10*time.Second, "how often -orders-db is polled")
	fs.DurationVar(&c.pollTimeout, "poll-timeout", time.Minute, "how long one poll of -orders-db may take (the query and reading its rows) before the refresh fails")
	fs.IntVar(&c.gogc, "gogc", defaultGOGC, "garbage collector target percentage (GOGC), positive; the GOGC environment variable, when set, wins (GOGC=off turns the collector off)")
	if err := cli.Parse(fs, args, dataset.Formats(), "data"); err != nil { // also -format without -data
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case c.refresh <= 0:
		return c, fmt.Errorf("-refresh %v: want a positive duration", c.refresh)
	case c.pollTimeout <= 0:
		return c, fmt.Errorf("-poll-timeout %v: want a positive duration", c.pollTimeout)
	case c.gogc <= 0:
		return c, fmt.Errorf("-gogc %d: want a positive percentage (GOGC=off in the environment turns the collector off)", c.gogc)
	case c.ordersDB != "" && (set["data"] || set["format"]):
		return c, errors.New("give -data (and -format) or -orders-db, not both")
	case c.ordersDB == "" && (set["catalog"] || set["orders-query"] || set["refresh"] || set["poll-timeout"]):
		return c, errors.New("-catalog, -orders-query, -refresh and -poll-timeout apply to -orders-db")
	}
	return c, nil
}

// shopOptions are the storefront's shop options. MBG/NBD: the customer
// panel's P(alive) of a one-time buyer falls with the time since the
// purchase, instead of BG/NBD's constant 100 %. A shop whose model choice
// picks EASE serves each refresh without waiting for the fit (ModelRefit's
// default; the demo keeps the neighbours). Every load that skipped rows
// for a fault (the lenient poll's bad rows) is a warning in the log, also
// when the rest of the poll changed nothing and the snapshot stays; rows
// counted as skipped only because they say what happened to an order (a
// cancellation, a removed line) are logged at debug level, since a poll
// with an Overlap reads them again for minutes.
func shopOptions(log *slog.Logger) shop.Options {
	return shop.Options{ValueModel: "mbgnbd", Progress: shop.TerminalProgress(os.Stderr),
		OnLoad: func(rep dataset.Report) {
			switch {
			case faulty(rep):
				log.Warn("rows skipped", "report", rep)
			case rep.SkippedRows() > 0:
				log.Debug("rows skipped", "report", rep)
			}
		}}
}

// faulty reports whether a load skipped a row for a fault in it
// (dataset.Skip.Fault), rather than for the bookkeeping of an SQL poll.
func faulty(rep dataset.Report) bool {
	return slices.ContainsFunc(rep.Skipped, dataset.Skip.Fault)
}

// writeTimeout bounds the writing of a response (http.Server's
// WriteTimeout), but for a CSV export, which gives it to each write (see
// server.queryCSV).
const writeTimeout = 30 * time.Second

// defaultGOGC is the service's garbage collector target. A shop's heap is
// mostly its long-lived snapshot, and a refresh allocates about a
// snapshot's worth: at Go's default of 100 every refresh starts a
// collection whose marking competes with the requests (in the load test,
// p99 1.1 ms at 1,000 requests/s with refreshes instead of 0.6 ms). 400
// lets the heap grow to five times the live data between collections
// instead of twice: for a shop of several GB, run with -gogc 100 or set
// GOMEMLIMIT to the memory the service may use.
const defaultGOGC = 400

// tuneGC sets the collector's target percentage unless GOGC is set in
// the environment or percent is not positive (a config that did not come
// from parseFlags, which refuses it), and returns a function that
// restores the previous one.
func tuneGC(percent int) (restore func()) {
	if os.Getenv("GOGC") != "" || percent <= 0 {
		return func() {}
	}
	prev := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(prev) }
}

func run(c config, log *slog.Logger) error {
	defer tuneGC(c.gogc)()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return openAndServe(ctx, stop, c, log)
}

// openAndServe opens the shop and serves it until ctx ends (SIGINT or SIGTERM:
// then stop, which a second signal no longer waits for, and a graceful
// shutdown). A stop while the shop opens is the user's choice, not a
// failure: an info line, and no error. So is a stop while it serves: the
// requests waiting for a segment index end (503), the others have
// shutdownTimeout to finish before their connections are closed (a
// warning), a refresh or model fit under way is cancelled (Shop.Close),
// and the error is nil (exit status 0).
func openAndServe(ctx context.Context, stop func(), c config, log *slog.Logger) error {
	src, feed, closeDB, err := source(c)
	if err != nil {
		return err
	}
	defer closeDB()
	t0 := time.Now()
	s, err := shop.Open(ctx, src, shopOptions(log))
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		log.Info("stopped before the shop opened", "after", time.Since(t0).Round(time.Millisecond).String())
		return nil
	}
	if err != nil {
		return err
	}
	defer s.Close() // on the way out: stops a refresh or model fit under way
	snap := s.Snapshot()
	// what was read and skipped, and what the History holds, first
	log.Info("loaded", "report", snap.Report(), "history", snap.History().Summary())
	log.Info("shop open", "as_of", snap.AsOf(), "took", time.Since(t0).Round(time.Millisecond).String())
	srv := newServer(s, log)
	if feed != nil {
		go srv.poll(ctx, feed, c.refresh, c.pollTimeout)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	// requests run under reqCtx, cancelled when the shutdown begins: a
	// request waiting for a snapshot's segment index stops waiting (a 503)
	reqCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }() // Serve closes ln
	// the address bound: the port chosen, for -addr 127.0.0.1:0
	log.Info("listening", "addr", "http://"+ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once, without waiting for the shutdown
	log.Info("shutting down")
	cancelRequests()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// requests still under way (a body that never comes, an export
		// to a slow client): the stop asked for is no failure
		log.Warn("requests cut off at shutdown", "after", shutdownTimeout.String(), "error", err)
		hs.Close()
	}
	return nil
}

// shutdownTimeout is how long a shutdown waits for the requests under
// way before it closes their connections; a variable for the tests.
var shutdownTimeout = 10 * time.Second

// source returns what to open the shop from and, for a database, the feed
// to poll: the database's orders after the -catalog file's products, or
// alone (a shop knows no products but those its orders name).
func source(c config) (shop.Source, shop.Committer, func(), error) {
	if c.ordersDB == "" {
		return shop.FileOrDemo(c.data, c.format), nil, func() {}, nil
	}
	db, err := sql.Open("pgx", c.ordersDB)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("-orders-db: %w", err)
	}
	feed := shop.SQL(&dataset.SQLSource{DB: db, Query: c.ordersQuery, Cancelled: []string{"cancelled", "refunded"}, Lenient: true,
		Overlap: 5 * time.Minute}, time.Time{})
	if c.catalog == "" {
		return feed, feed, func() { db.Close() }, nil // the products are the keys the orders name
	}
	catalog := shop.SourceFunc(func(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
		f, err := os.Open(c.catalog)
		if err != nil {
			return dataset.Report{}, err
		}
		defer f.Close()
		return dataset.LoadCatalog(ctx, f, b, dataset.CatalogOptions{})
	})
	return shop.Sources(catalog, feed), feed, func() { db.Close() }, nil
}
