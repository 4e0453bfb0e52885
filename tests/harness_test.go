// Package tests holds shardproxy's end-to-end tests: real MariaDB servers,
// the real proxy, real client drivers.
package tests

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/proxy"
	"github.com/shardproxy/shardproxy/tests/mariadbtest"
)

// nodes are the backends every test in the package shares: two nodes, each
// a primary with a replica. Tests isolate themselves by database names.
var nodes []mariadbtest.Node

func TestMain(m *testing.M) {
	if testingShort() {
		os.Exit(m.Run())
	}
	var err error
	nodes, err = mariadbtest.StartNodes(2)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting MariaDB backends:", err)
		os.Exit(1)
	}
	code := m.Run()
	mariadbtest.StopNodes(nodes)
	os.Exit(code)
}

func testingShort() bool {
	for _, a := range os.Args {
		if a == "-test.short=true" || a == "-test.short" {
			return true
		}
	}
	return false
}

var dbSeq atomic.Int32

// uniqueName returns a database-name prefix no other test uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid()%10000, dbSeq.Add(1))
}

const (
	appUser     = "app"
	appPassword = "app-secret"
)

// baseConfig is a proxy configuration over the shared nodes, with no schemas.
func baseConfig() *conf.Config {
	cfg := &conf.Config{
		Listen:          "127.0.0.1:0",
		AdminListen:     "127.0.0.1:0",
		MaxConnections:  4096,
		MaxMergeRows:    100000,
		ShutdownTimeout: 5 * time.Second,
		Log:             conf.Log{Level: "info", Format: "console", SlowQuery: time.Second},
		Users:           []conf.User{{Name: appUser, Password: appPassword}},
	}
	for i, n := range nodes {
		node := conf.Node{
			Name:          fmt.Sprintf("n%d", i),
			Primary:       n.Primary.Addr,
			User:          "root",
			Pool:          conf.Pool{MaxOpen: 64, MaxIdle: 16, IdleTimeout: 5 * time.Minute},
			MaxReplicaLag: 30 * time.Second,
		}
		if n.Replica != nil {
			node.Replicas = []string{n.Replica.Addr}
		}
		cfg.Nodes = append(cfg.Nodes, node)
	}
	return cfg
}

// passThroughSchema adds a one-shard schema named name over a fresh database.
func passThroughSchema(cfg *conf.Config, name string) string {
	physical := uniqueName("pt")
	cfg.Schemas = append(cfg.Schemas, conf.Schema{
		Name:     name,
		ReadFrom: conf.ReadFromPrimary,
		Shards:   []conf.Shard{{Node: "n0", Database: physical}},
	})
	return physical
}

// runningProxy is a proxy served in this process.
type runningProxy struct {
	srv  *proxy.Server
	addr string
}

func startProxy(t testing.TB, cfg *conf.Config) *runningProxy {
	t.Helper()
	log := zap.NewNop()
	if os.Getenv("SHARDPROXY_TEST_LOG") != "" {
		log, _ = zap.NewDevelopment()
	}
	return startProxyLogging(t, cfg, log)
}

// startProxyLogging is startProxy with the given logger.
func startProxyLogging(t testing.TB, cfg *conf.Config, log *zap.Logger) *runningProxy {
	t.Helper()
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("test configuration invalid: %v", errs)
	}
	srv, err := proxy.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(cfg.Listen); err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &runningProxy{srv: srv, addr: srv.Addr().String()}
}

// dsn is a go-sql-driver DSN for the proxy.
func (p *runningProxy) dsn(schema string, params ...string) string {
	q := "parseTime=true"
	if len(params) > 0 {
		q = strings.Join(params, "&")
	}
	return fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", appUser, appPassword, p.addr, schema, q)
}

func (p *runningProxy) open(t testing.TB, schema string, params ...string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", p.dsn(schema, params...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustExec runs a statement on a database, or on one session of it.
func mustExec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// sessionAfter opens a session (one connection) on db and runs stmts in it;
// the caller closes it.
func sessionAfter(t testing.TB, db *sql.DB, stmts ...string) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := c.ExecContext(context.Background(), q); err != nil {
			c.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

// querier is a database, a transaction or one connection.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// queryStrings runs a query and returns every row as strings ("NULL" for NULL).
func queryStrings(t testing.TB, db querier, query string, args ...any) [][]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return rowsToStrings(t, rows, query)
}

// rowsToStrings reads every row as strings ("NULL" for NULL).
func rowsToStrings(t testing.TB, rows *sql.Rows, query string) [][]string {
	t.Helper()
	out, err := readRows(rows)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// readRows reads every row as strings ("NULL" for NULL), and closes rows.
func readRows(rows *sql.Rows) ([][]string, error) {
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			} else {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// queryOne returns the single value of a one-row, one-column query.
func queryOne(t testing.TB, db querier, query string, args ...any) string {
	t.Helper()
	rows := queryStrings(t, db, query, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %v", query, rows)
	}
	return rows[0][0]
}

// mysqlCode extracts the MySQL error number from a driver error.
func mysqlCode(err error) int {
	var code int
	if err == nil {
		return 0
	}
	if _, scanErr := fmt.Sscanf(err.Error(), "Error %d", &code); scanErr != nil {
		return -1
	}
	return code
}

func confUser(name, password string, schemas []string) conf.User {
	return conf.User{Name: name, Password: password, Schemas: schemas}
}

// shardsOn is one shard database per node named, prefix_0, prefix_1, ...
func shardsOn(prefix string, nodes ...string) []conf.Shard {
	shards := make([]conf.Shard, len(nodes))
	for i, n := range nodes {
		shards[i] = conf.Shard{Node: n, Database: fmt.Sprintf("%s_%d", prefix, i)}
	}
	return shards
}

// fourShards is a sharded schema of four shards over nodes n0 and n1
// (shard i on n0 when i is even), named prefix_0 to prefix_3.
func fourShards(name, prefix string, tables []conf.Table) conf.Schema {
	return conf.Schema{
		Name:     name,
		ReadFrom: conf.ReadFromPrimary,
		Shards:   shardsOn(prefix, "n0", "n1", "n0", "n1"),
		Tables:   tables,
	}
}

// newOracleDB creates database name on nodes[0]'s primary, the plain
// MariaDB a test compares the proxy with, and opens it as root.
func newOracleDB(t testing.TB, name string) *sql.DB {
	t.Helper()
	root, err := nodes[0].Primary.DB("")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	mustExec(t, root, "CREATE DATABASE "+name)
	db, err := nodes[0].Primary.DB(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// concurrently runs body(0), ..., body(n-1) in n goroutines and returns the
// errors they ended with.
func concurrently(n int, body func(k int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = body(k)
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

// compareTable compares a table's rows through the proxy and on MariaDB.
func compareTable(t *testing.T, what, table string, got, want *sql.DB) {
	t.Helper()
	q := "SELECT * FROM " + table
	g, w := rowsInAnyOrder(t, got, q), rowsInAnyOrder(t, want, q)
	if !slices.EqualFunc(g, w, slices.Equal) {
		t.Errorf("%s: %s has %d rows, want %d; first differing: %v", what, table, len(g), len(w), firstDiff(g, w))
	}
}

func firstDiff(a, b [][]string) string {
	for i := range min(len(a), len(b)) {
		if !slices.Equal(a[i], b[i]) {
			return fmt.Sprintf("%v against %v", a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

// writeOutcome runs a write and describes what it did: its error code, or
// its affected rows and what the dumps (queries over the tables) read
// after it. Two servers given the same statements should describe alike.
func writeOutcome(t testing.TB, db *sql.DB, stmt string, args []any, dumps ...string) string {
	t.Helper()
	res, err := db.Exec(stmt, args...)
	if err != nil {
		return fmt.Sprintf("error %d", mysqlCode(err))
	}
	n, _ := res.RowsAffected()
	out := fmt.Sprintf("%d rows", n)
	for _, d := range dumps {
		out += fmt.Sprintf("; %v", queryStrings(t, db, d))
	}
	return out
}
