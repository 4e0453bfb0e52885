package tests

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/shardproxy/shardproxy/admin"
	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/tests/mariadbtest"
)

// metricSample is one line of a Prometheus text exposition.
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

type scrape []metricSample

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrapeMetrics reads /metrics from the admin server.
func scrapeMetrics(t *testing.T, adminAddr string) scrape {
	t.Helper()
	code, body := adminGet(t, adminAddr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d\n%s", code, body)
	}
	var out scrape
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("/metrics: unreadable line %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("/metrics: value of %q: %v", line, err)
		}
		s := metricSample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// value sums the samples of name whose labels include the given pairs.
func (s scrape) value(name string, labelPairs ...string) float64 {
	v, _ := s.lookup(name, labelPairs...)
	return v
}

func (s scrape) lookup(name string, labelPairs ...string) (float64, bool) {
	var sum float64
	found := false
next:
	for _, m := range s {
		if m.name != name {
			continue
		}
		for i := 0; i+1 < len(labelPairs); i += 2 {
			if m.labels[labelPairs[i]] != labelPairs[i+1] {
				continue next
			}
		}
		sum += m.value
		found = true
	}
	return sum, found
}

func adminGet(t *testing.T, adminAddr, path string) (int, string) {
	t.Helper()
	code, body, err := tryAdminGet(adminAddr, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return code, body
}

func tryAdminGet(adminAddr, path string) (int, string, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + adminAddr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// topologyOf reads /topology.
func topologyOf(t *testing.T, adminAddr string) (admin.TopologyView, string) {
	t.Helper()
	code, body := adminGet(t, adminAddr, "/topology")
	if code != http.StatusOK {
		t.Fatalf("/topology: HTTP %d\n%s", code, body)
	}
	var v admin.TopologyView
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/topology is not JSON: %v\n%s", err, body)
	}
	return v, body
}

func findNode(v admin.TopologyView, name string) *admin.NodeView {
	for i := range v.Nodes {
		if v.Nodes[i].Name == name {
			return &v.Nodes[i]
		}
	}
	return nil
}

// startLoggedProxy is startProxy with every log entry, debug included,
// kept for the test to read.
func startLoggedProxy(t *testing.T, cfg *conf.Config) (*runningProxy, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	return startProxyLogging(t, cfg, zap.New(core)), logs
}

// opsSchema is a schema of 4 shards over both shared nodes with a sharded
// and a global table.
func opsSchema(name string) conf.Schema {
	prefix := uniqueName(name)
	return conf.Schema{
		Name:     name,
		ReadFrom: conf.ReadFromPrimary,
		Shards:   shardsOn(prefix, "n0", "n0", "n1", "n1"),
		Tables: []conf.Table{
			{Name: "users", ShardKey: "id", Algorithm: conf.AlgorithmMod},
			{Name: "countries", Type: conf.TableGlobal},
		},
	}
}

// TestOpsMetricsCountWorkload scrapes /metrics before and after a known
// workload on one connection: statements by kind and route, latency
// histograms, errors by code, connections, refusals, 2PC outcomes, slow
// queries, and the backend gauges.
func TestOpsMetricsCountWorkload(t *testing.T) {
	cfg := baseConfig()
	cfg.Log.SlowQuery = 200 * time.Millisecond
	cfg.Schemas = append(cfg.Schemas, opsSchema("ops"))
	p, logs := startLoggedProxy(t, cfg)
	adminAddr := p.srv.AdminAddr()

	if code, body := adminGet(t, adminAddr, "/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	before := scrapeMetrics(t, adminAddr)
	if v := before.value("shardproxy_connections_current"); v != 0 {
		t.Fatalf("connections_current %v before any client", v)
	}

	db := p.open(t, "ops")
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := t.Context()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))")               // ddl, every shard
	exec("CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(20))")        // ddl, every shard
	exec("INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')") // insert, split over 4 shards
	exec("INSERT INTO countries VALUES ('fr', 'France')")                              // insert, every shard
	exec("UPDATE users SET name = CONCAT(name, '!')")                                  // update, every shard
	exec("DELETE FROM users WHERE id = 4")                                             // delete, one shard
	for i := 1; i <= 3; i++ {
		var name string
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT name FROM users WHERE id = %d", i)).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	var count int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&count); err != nil || count != 3 {
		t.Fatalf("scatter count: %d %v", count, err) // select, merged from every shard
	}
	var name string
	if err := conn.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", 2).Scan(&name); err != nil || name != "b!" {
		t.Fatalf("prepared select: %q %v", name, err) // COM_STMT_EXECUTE: select, one shard
	}
	// A transaction writing on both nodes commits with two phases.
	exec("BEGIN")
	exec("UPDATE users SET name = 'x1' WHERE id = 1") // shard 1, node n0
	exec("UPDATE users SET name = 'x2' WHERE id = 2") // shard 2, node n1
	exec("COMMIT")
	// Errors: one from a backend, one from the proxy's parser.
	if _, err := conn.ExecContext(ctx, "SELECT * FROM no_such_table"); mysqlCode(err) != 1146 {
		t.Fatalf("unknown table: %v, want 1146", err)
	}
	if _, err := conn.ExecContext(ctx, "SELEC 1"); mysqlCode(err) != 1064 {
		t.Fatalf("syntax error: %v, want 1064", err)
	}
	// A slow statement, with a secret the log must not show.
	exec("SELECT SLEEP(0.3), PASSWORD('hunter2-secret')")
	// A refused login.
	bad, _ := sql.Open("mysql", fmt.Sprintf("%s:wrong@tcp(%s)/ops", appUser, p.addr))
	defer bad.Close()
	if err := bad.Ping(); mysqlCode(err) != 1045 {
		t.Fatalf("wrong password: %v, want 1045", err)
	}

	after := scrapeMetrics(t, adminAddr)
	delta := func(name string, labels ...string) float64 {
		return after.value(name, labels...) - before.value(name, labels...)
	}
	stmt := func(kind, route string) float64 {
		return delta("shardproxy_statements_total", "kind", kind, "route", route)
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		{"ddl on every shard", stmt("ddl", "broadcast"), 2},
		{"multi-row insert split over shards", stmt("insert", "scatter"), 1},
		{"insert into a global table", stmt("insert", "broadcast"), 1},
		{"update without the shard key", stmt("update", "scatter"), 1},
		{"delete by key", stmt("delete", "single"), 1},
		// 3 texts, 1 prepared, 1 unknown table, 1 slow.
		{"selects on one shard", stmt("select", "single"), 6},
		{"select merged from every shard", stmt("select", "scatter"), 1},
		{"updates by key", stmt("update", "single"), 2},
		{"BEGIN and COMMIT", stmt("tx", "proxy"), 2},
		{"statement the proxy refused", stmt("other", "proxy"), 1},
		{"all statements", delta("shardproxy_statements_total"), 18},
		{"latency observations", delta("shardproxy_statement_duration_seconds_count"), 18},
		{"single-shard select latencies", delta("shardproxy_statement_duration_seconds_count", "kind", "select", "route", "single"), 6},
		{"single-shard selects in the +Inf bucket", delta("shardproxy_statement_duration_seconds_bucket", "kind", "select", "route", "single", "le", "+Inf"), 6},
		{"errors 1146", delta("shardproxy_errors_total", "code", "1146"), 1},
		{"errors 1064", delta("shardproxy_errors_total", "code", "1064"), 1},
		{"errors 1045", delta("shardproxy_errors_total", "code", "1045"), 1},
		{"connections opened", delta("shardproxy_connections_total"), 1},
		{"connections open now", after.value("shardproxy_connections_current"), 1},
		{"refused logins", delta("shardproxy_connections_refused_total", "reason", "auth"), 1},
		// The transaction, and the three autocommit writes on both nodes.
		{"two-phase commits", delta("shardproxy_xa_transactions_total", "outcome", "committed"), 4},
		{"slow queries", delta("shardproxy_slow_queries_total"), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: moved by %v, want %v", c.what, c.got, c.want)
		}
	}
	if fast := delta("shardproxy_statement_duration_seconds_bucket", "kind", "select", "route", "single", "le", "0.25"); fast > 5 {
		t.Errorf("%v single-shard selects under 250ms: the 300ms one is in the wrong bucket", fast)
	}
	if t.Failed() {
		for _, m := range after {
			if strings.HasPrefix(m.name, "shardproxy_statements_total") || strings.HasPrefix(m.name, "shardproxy_errors") {
				t.Logf("%s %v %v", m.name, m.labels, m.value)
			}
		}
	}

	// Backend gauges: both primaries up with connections open, both
	// replicas healthy.
	for _, n := range []string{"n0", "n1"} {
		if v, ok := after.lookup("shardproxy_backend_up", "node", n, "role", "primary"); !ok || v != 1 {
			t.Errorf("backend_up of %s's primary: %v (exported: %v)", n, v, ok)
		}
		if v := after.value("shardproxy_backend_pool_open", "node", n, "role", "primary"); v < 1 {
			t.Errorf("backend_pool_open of %s's primary: %v", n, v)
		}
		if _, ok := after.lookup("shardproxy_backend_pool_in_use", "node", n, "role", "primary"); !ok {
			t.Errorf("no backend_pool_in_use for %s", n)
		}
		if _, ok := after.lookup("shardproxy_backend_pool_wait_seconds_total", "node", n, "role", "primary"); !ok {
			t.Errorf("no backend_pool_wait_seconds_total for %s", n)
		}
		if v, ok := after.lookup("shardproxy_replica_healthy", "node", n); !ok || v != 1 {
			t.Errorf("replica_healthy of %s: %v (exported: %v)", n, v, ok)
		}
		if v, ok := after.lookup("shardproxy_replica_lag_seconds", "node", n); !ok || v < 0 {
			t.Errorf("replica_lag_seconds of %s: %v (exported: %v)", n, v, ok)
		}
	}

	// The slow query is logged at warn with its route and duration, the
	// secret cut away; every statement is logged at debug.
	slow := logs.FilterMessage("slow query").All()
	if len(slow) != 1 {
		t.Fatalf("%d slow-query log entries, want 1", len(slow))
	}
	e := slow[0]
	fields := e.ContextMap()
	if e.Level != zapcore.WarnLevel || fields["route"] != "single" || fields["kind"] != "select" || fields["schema"] != "ops" {
		t.Errorf("slow-query entry: level %s, fields %v", e.Level, fields)
	}
	if d, _ := fields["duration"].(time.Duration); d < 300*time.Millisecond {
		t.Errorf("slow-query duration %v", fields["duration"])
	}
	if st, _ := fields["statement"].(string); !strings.HasPrefix(st, "SELECT SLEEP(0.3), PASSWORD") {
		t.Errorf("slow-query statement %q", st)
	}
	if n := logs.FilterMessage("statement").FilterField(zap.String("statement", "DELETE FROM users WHERE id = 4")).Len(); n != 1 {
		t.Errorf("%d debug entries for the DELETE, want 1", n)
	}
	for _, entry := range logs.All() {
		if line := fmt.Sprint(entry.Message, entry.ContextMap()); strings.Contains(line, "hunter2") || strings.Contains(line, appPassword) {
			t.Errorf("a secret reached the log: %s", line)
		}
	}
}

// TestOpsTopologyShowsReplicaHealth runs its own primary and replica (the
// shared ones stay untouched), stops the replica and starts it again:
// /topology and /metrics follow within the contract's two seconds, and never
// show a password.
func TestOpsTopologyShowsReplicaHealth(t *testing.T) {
	primary, err := mariadbtest.Start(mariadbtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = primary.Stop() })
	replica, err := mariadbtest.StartReplica(primary, mariadbtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.Stop() })
	// The proxy logs in with a password of its own, which must not leak.
	const backendPassword = "backend-pw-0b5e"
	root, err := primary.DB("")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, host := range []string{"127.0.0.1", "localhost", "%"} {
		mustExec(t, root, fmt.Sprintf("CREATE USER 'sp'@'%s' IDENTIFIED BY '%s'", host, backendPassword))
		mustExec(t, root, fmt.Sprintf("GRANT ALL ON *.* TO 'sp'@'%s'", host))
	}
	if err := replica.WaitCaughtUp(primary, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	cfg := baseConfig()
	cfg.Nodes = append(cfg.Nodes, conf.Node{
		Name: "own", Primary: primary.Addr, Replicas: []string{replica.Addr},
		User: "sp", Password: backendPassword,
		Pool:          conf.Pool{MaxOpen: 8, MaxIdle: 2, IdleTimeout: time.Minute},
		MaxReplicaLag: 30 * time.Second,
	})
	cfg.Schemas = append(cfg.Schemas, conf.Schema{
		Name: "own", ReadFrom: conf.ReadFromReplica,
		Shards: []conf.Shard{{Node: "own", Database: uniqueName("own")}},
	})
	p := startProxy(t, cfg)
	adminAddr := p.srv.AdminAddr()
	db := p.open(t, "own")
	mustExec(t, db, "CREATE TABLE kv (k INT PRIMARY KEY)")

	replicaState := func() (healthy bool, lag float64, body string) {
		v, body := topologyOf(t, adminAddr)
		n := findNode(v, "own")
		if n == nil || len(n.Replicas) != 1 {
			t.Fatalf("/topology has no node own with one replica:\n%s", body)
		}
		return n.Replicas[0].Healthy, n.Replicas[0].LagSeconds, body
	}
	waitFor(t, func() bool { h, _, _ := replicaState(); return h }, "the replica healthy in /topology")

	v, body := topologyOf(t, adminAddr)
	n := findNode(v, "own")
	if n.Primary.Addr != primary.Addr || n.Primary.Role != "primary" || !n.Primary.Healthy ||
		n.Replicas[0].Addr != replica.Addr || n.Replicas[0].Role != "replica" || n.Replicas[0].LagSeconds < 0 {
		t.Errorf("node own in /topology: %+v", *n)
	}
	var schema *admin.SchemaView
	for i := range v.Schemas {
		if v.Schemas[i].Name == "own" {
			schema = &v.Schemas[i]
		}
	}
	if schema == nil || schema.ReadFrom != "replica" || len(schema.Shards) != 1 || schema.Shards[0].Node != "own" ||
		schema.Shards[0].Database != cfg.Schemas[0].Shards[0].Database {
		t.Errorf("schema own in /topology: %+v", schema)
	}
	for _, secret := range []string{backendPassword, appPassword, "password"} {
		if strings.Contains(strings.ToLower(body), strings.ToLower(secret)) {
			t.Errorf("/topology contains %q:\n%s", secret, body)
		}
	}

	if err := replica.Shutdown(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	waitFor(t, func() bool { h, _, _ := replicaState(); return !h }, "the stopped replica unhealthy in /topology")
	if d := time.Since(stopped); d > 2*time.Second {
		t.Errorf("/topology showed the stopped replica unhealthy only after %v", d)
	}
	if _, lag, body := replicaState(); lag != -1 {
		t.Errorf("lag of a stopped replica: %v, want -1\n%s", lag, body)
	}
	m := scrapeMetrics(t, adminAddr)
	if v, ok := m.lookup("shardproxy_replica_healthy", "node", "own"); !ok || v != 0 {
		t.Errorf("replica_healthy of the stopped replica: %v (exported: %v)", v, ok)
	}
	if v, ok := m.lookup("shardproxy_backend_up", "node", "own", "role", "replica"); !ok || v != 0 {
		t.Errorf("backend_up of the stopped replica: %v (exported: %v)", v, ok)
	}
	if v := m.value("shardproxy_backend_up", "node", "own", "role", "primary"); v != 1 {
		t.Errorf("backend_up of the primary while its replica is down: %v", v)
	}
	// Reads still work, on the primary.
	if got := queryOne(t, db, "SELECT COUNT(*) FROM kv"); got != "0" {
		t.Fatalf("read while the replica is down: %s", got)
	}

	if err := replica.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { h, _, _ := replicaState(); return h }, "the restarted replica healthy again in /topology")
	if v := scrapeMetrics(t, adminAddr).value("shardproxy_replica_healthy", "node", "own"); v != 1 {
		t.Errorf("replica_healthy after the restart: %v", v)
	}
}

// TestOpsIdleClientDisconnected: a session idle beyond its wait_timeout is
// closed, as MariaDB does; others are not.
func TestOpsIdleClientDisconnected(t *testing.T) {
	cfg := baseConfig()
	passThroughSchema(cfg, "idle")
	p := startProxy(t, cfg)
	adminAddr := p.srv.AdminAddr()
	db := p.open(t, "idle")
	short, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	long, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	if _, err := long.ExecContext(t.Context(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := short.ExecContext(t.Context(), "SET SESSION wait_timeout = 1"); err != nil {
		t.Fatal(err)
	}
	set := time.Now()
	if v := queryOneConn(t, short, "SELECT @@wait_timeout"); v != "1" {
		t.Fatalf("@@wait_timeout after SET: %s", v)
	}
	current := func() float64 {
		return scrapeMetrics(t, adminAddr).value("shardproxy_connections_current")
	}
	if c := current(); c != 2 {
		t.Fatalf("connections_current %v, want 2", c)
	}
	waitFor(t, func() bool { return current() == 1 }, "the idle session closed")
	if d := time.Since(set); d < time.Second {
		t.Errorf("session closed after %v, before its wait_timeout of 1s", d)
	}
	if _, err := short.ExecContext(t.Context(), "SELECT 1"); err == nil {
		t.Error("a statement on the timed-out connection succeeded")
	}
	if v := queryOneConn(t, long, "SELECT 42"); v != "42" {
		t.Errorf("the other session: %s", v)
	}
}

func queryOneConn(t *testing.T, c *sql.Conn, q string) string {
	t.Helper()
	var v string
	if err := c.QueryRowContext(t.Context(), q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// TestOpsHealthzDuringDrain: /healthz answers 503 once shutdown starts,
// while a statement in flight finishes, and the admin server closes last.
func TestOpsHealthzDuringDrain(t *testing.T) {
	cfg := baseConfig()
	passThroughSchema(cfg, "drain")
	p := startProxy(t, cfg)
	adminAddr := p.srv.AdminAddr()
	if code, _ := adminGet(t, adminAddr, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz before shutdown: %d", code)
	}
	db := p.open(t, "drain")
	watcher := p.open(t, "drain")
	done := make(chan error, 1)
	go func() {
		var v int
		done <- db.QueryRow("SELECT SLEEP(1) + 1").Scan(&v)
	}()
	waitFor(t, func() bool {
		for _, row := range queryStrings(t, watcher, "SHOW PROCESSLIST") {
			if strings.Contains(strings.Join(row, " "), "SLEEP(1)") {
				return true
			}
		}
		return false
	}, "the statement running")
	watcher.Close()
	shut := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.srv.Shutdown(ctx)
		close(shut)
	}()
	waitFor(t, func() bool {
		code, body, err := tryAdminGet(adminAddr, "/healthz")
		return err == nil && code == http.StatusServiceUnavailable && strings.Contains(body, "shutting down")
	}, "/healthz 503 while draining")
	if err := <-done; err != nil {
		t.Fatalf("statement in flight during shutdown: %v", err)
	}
	<-shut
	if _, _, err := tryAdminGet(adminAddr, "/healthz"); err == nil {
		t.Error("the admin server still answers after shutdown")
	}
}

// opsBinaryConfig is a two-shard schema over node 0 for the binary; tables
// are YAML flow items.
func opsBinaryConfig(prefix, level string, tables ...string) string {
	return fmt.Sprintf(`
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
log: {level: %s}
users: [{name: app, password: %s}]
nodes: [{name: n0, primary: %s, user: root}]
schemas:
  - name: shop
    shards: [{node: n0, database: %s_0}, {node: n0, database: %s_1}]
    tables: [%s]
`, level, appPassword, nodes[0].Primary.Addr, prefix, prefix, strings.Join(tables, ", "))
}

// TestOpsReloadShardMapOnSIGHUP reloads the binary with a shard-map table
// added, then with a broken file, while one client connection stays open:
// the new table routes by its key on that connection from the first reload
// on (its cached plans are not reused), /topology shows it, and the broken
// file changes nothing.
func TestOpsReloadShardMapOnSIGHUP(t *testing.T) {
	prefix := uniqueName("reload")
	users := "{name: users, shard_key: id, algorithm: mod}"
	orders := "{name: orders, shard_key: id, algorithm: mod}"
	config := writeConfig(t, opsBinaryConfig(prefix, "info", users))
	cmd, addr, logs := startBinary(t, config)
	m := regexp.MustCompile(`admin server started.*"addr": "([^"]+)"`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no admin address in the logs:\n%s", logs.String())
	}
	adminAddr := m[1]

	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/shop", appUser, appPassword, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connID := queryOneConn(t, conn, "SELECT CONNECTION_ID()")
	shard := make([]*sql.DB, 2)
	for i := range shard {
		if shard[i], err = nodes[0].Primary.DB(fmt.Sprintf("%s_%d", prefix, i)); err != nil {
			t.Fatal(err)
		}
		defer shard[i].Close()
	}
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rowsOn := func(i int) string {
		return fmt.Sprint(queryStrings(t, shard[i], "SELECT id FROM orders ORDER BY id"))
	}
	tablesOf := func() []string {
		v, _ := topologyOf(t, adminAddr)
		var names []string
		for _, s := range v.Schemas {
			for _, tb := range s.Tables {
				names = append(names, tb.Name+":"+tb.Type)
			}
		}
		return names
	}

	// orders is not in the shard map: it lives on the default shard.
	exec("CREATE TABLE orders (id INT PRIMARY KEY)")
	mustExec(t, shard[1], "CREATE TABLE orders (id INT PRIMARY KEY)") // the operator's migration
	exec("INSERT INTO orders (id) VALUES (2)")
	exec("INSERT INTO orders (id) VALUES (3)")
	if got := queryOneConn(t, conn, "SELECT COUNT(*) FROM orders WHERE id = 3"); got != "1" {
		t.Fatalf("unsharded orders: %s rows with id 3", got)
	}
	if a, b := rowsOn(0), rowsOn(1); a != "[[2] [3]]" || b != "[]" {
		t.Fatalf("before the reload: shard 0 %s, shard 1 %s", a, b)
	}
	if got := fmt.Sprint(tablesOf()); got != "[users:sharded]" {
		t.Fatalf("/topology tables before the reload: %s", got)
	}

	// Reload with orders sharded by id, and every statement logged.
	if err := os.WriteFile(config, []byte(opsBinaryConfig(prefix, "debug", users, orders)), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "configuration reloaded") }, "reload in logs")
	if got := fmt.Sprint(tablesOf()); got != "[users:sharded orders:sharded]" {
		t.Fatalf("/topology tables after the reload: %s", got)
	}
	// The same text as before now reaches shard 1 (3 mod 2), where no
	// row 3 is: the row written before the reload stays where it was.
	if got := queryOneConn(t, conn, "SELECT COUNT(*) FROM orders WHERE id = 3"); got != "0" {
		t.Fatalf("after the reload, id 3 is read from the default shard (%s rows): the old shard map is still used", got)
	}
	exec("INSERT INTO orders (id) VALUES (5)")
	if got := queryOneConn(t, conn, "SELECT COUNT(*) FROM orders WHERE id = 2"); got != "1" {
		t.Fatalf("after the reload, id 2 (shard 0): %s rows", got)
	}
	if a, b := rowsOn(0), rowsOn(1); a != "[[2] [3]]" || b != "[[5]]" {
		t.Fatalf("after the reload: shard 0 %s, shard 1 %s", a, b)
	}
	// The log arrives through a pipe: wait for it.
	waitFor(t, func() bool {
		return strings.Contains(logs.String(), `"statement": "INSERT INTO orders (id) VALUES (5)"`)
	},
		"the statement log turned on by the reload")
	if strings.Contains(logs.String(), `"statement": "INSERT INTO orders (id) VALUES (3)"`) {
		t.Errorf("a statement was logged before log.level debug:\n%s", logs.String())
	}

	// A broken file is refused; the reloaded map stays in force.
	broken := strings.Replace(opsBinaryConfig(prefix, "info", users, orders, "{name: items, algorithm: mod}"), "{node: n0, database: "+prefix+"_1}", "{node: n9, database: "+prefix+"_1}", 1)
	if err := os.WriteFile(config, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "reload refused") }, "reload refused in logs")
	for _, key := range []string{"schemas[0].shards[1].node", "schemas[0].tables[2].shard_key"} {
		if !strings.Contains(logs.String(), key) {
			t.Errorf("the refusal does not name %s:\n%s", key, logs.String())
		}
	}
	exec("INSERT INTO orders (id) VALUES (7)")
	waitFor(t, func() bool {
		return strings.Contains(logs.String(), `"statement": "INSERT INTO orders (id) VALUES (7)"`)
	},
		"the statement log still on after the broken file")
	if a, b := rowsOn(0), rowsOn(1); a != "[[2] [3]]" || b != "[[5] [7]]" {
		t.Fatalf("after the broken reload: shard 0 %s, shard 1 %s", a, b)
	}
	if got := fmt.Sprint(tablesOf()); got != "[users:sharded orders:sharded]" {
		t.Fatalf("/topology tables after the broken reload: %s", got)
	}
	if id := queryOneConn(t, conn, "SELECT CONNECTION_ID()"); id != connID {
		t.Fatalf("the connection changed across the reloads: %s, then %s", connID, id)
	}
	if code, _ := adminGet(t, adminAddr, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after the reloads: %d", code)
	}
}
