package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/shardproxy/shardproxy/tests/mariadbtest"
)

const (
	readyTimeout = 60 * time.Second
	stopGrace    = 15 * time.Second
	// The proxy's shutdown_timeout, kept short: no transaction is running
	// when the benchmark stops it.
	proxyShutdown = 5 * time.Second
)

// mariadbArgs make the servers comparable to a real one for sysbench: the
// tables stay in memory whatever BENCH_TABLE_SIZE (the test default is 32M).
var mariadbArgs = []string{"--innodb-buffer-pool-size=512M"}

// mariadb is one throwaway server from tests/mariadbtest.
type mariadb struct {
	name string
	srv  *mariadbtest.Server
	pid  int // of mariadbd, for CPU accounting
}

func startMariaDB(name string) (*mariadb, error) {
	srv, err := mariadbtest.Start(mariadbtest.Options{Args: mariadbArgs})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pid, err := mariadbPID(srv.Dir)
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &mariadb{name: name, srv: srv, pid: pid}, nil
}

// mariadbPID reads the pid file mariadbtest points mariadbd at, checking
// that the process is the one using dir (pid files can go stale).
func mariadbPID(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "mysqld.pid"))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("pid file: %w", err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), dir) {
		return 0, fmt.Errorf("pid %d from %s/mysqld.pid is not its mariadbd", pid, dir)
	}
	return pid, nil
}

// exec runs statements as root on the server.
func (m *mariadb) exec(ctx context.Context, stmts ...string) error {
	db, err := m.srv.DB("")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %s: %w", m.name, q, err)
		}
	}
	return nil
}

// count returns SELECT COUNT(*) of database.table.
func (m *mariadb) count(ctx context.Context, database, table string) (int, error) {
	n, _, err := m.countShard(ctx, database, table, 0)
	return n, err
}

// countShard returns the rows of database.table and how many of them have
// an id that mod shardCount is not shard.
func (m *mariadb) countShard(ctx context.Context, database, table string, shard int) (rows, misplaced int, err error) {
	db, err := m.srv.DB("")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	q := fmt.Sprintf("SELECT COUNT(*), COALESCE(SUM(MOD(id, %d) <> ?), 0) FROM `%s`.`%s`", shardCount, database, table)
	if err := db.QueryRowContext(ctx, q, shard).Scan(&rows, &misplaced); err != nil {
		return 0, 0, fmt.Errorf("%s: %s: %w", m.name, q, err)
	}
	return rows, misplaced, nil
}

func (m *mariadb) version(ctx context.Context) string {
	db, err := m.srv.DB("")
	if err != nil {
		return "?"
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "?"
	}
	return v
}

// haproxyConfig is an L4 relay: TCP in, TCP out, nothing parsed.
func haproxyConfig(listenPort int, backend string, maxconn int) string {
	return fmt.Sprintf(`global
    maxconn %[3]d
    nbthread 1

defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h

frontend relay
    bind 127.0.0.1:%[1]d
    default_backend mariadb

backend mariadb
    server db %[2]s maxconn %[3]d
`, listenPort, backend, maxconn)
}

// startRelay runs haproxy in the foreground in front of backend and waits
// until a MySQL login through it works.
func startRelay(ctx context.Context, dir, backend string, maxconn int) (*child, int, error) {
	bin, err := lookTool("haproxy")
	if err != nil {
		return nil, 0, err
	}
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(port, backend, maxconn)), 0o644); err != nil {
		return nil, 0, err
	}
	c, err := startChild("haproxy", exec.Command(bin, "-f", cfg, "-db"), filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, 0, err
	}
	dsn := fmt.Sprintf("root@tcp(127.0.0.1:%d)/?timeout=2s", port)
	if err := c.waitReady(ctx, readyTimeout, func() error { return pingDSN(ctx, dsn) }); err != nil {
		c.stop(syscall.SIGKILL, stopGrace)
		return nil, 0, err
	}
	return c, port, nil
}

// pingDSN logs in once and pings: the whole path answers MySQL.
func pingDSN(ctx context.Context, dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// buildProxy compiles ./cmd/shardproxy into dir.
func buildProxy(ctx context.Context, root, dir string) (string, error) {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	bin := filepath.Join(dir, "shardproxy")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/shardproxy")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/shardproxy: %w\n%s", err, out)
	}
	return bin, nil
}

// proxyUser is the account sysbench logs in to the proxy with.
const proxyUser, proxyPassword = "bench", "bench"

// Logical schemas and the physical databases behind them.
const (
	plainSchema   = "plain"   // pass-through to sbtest on the single server
	shardedSchema = "sharded" // sbtest1..N sharded by id over 4 shards
	directDB      = "sbtest"
	shardDBPrefix = "sbshard_"
)

// shardCount is fixed by the issue: 4 shards, 2 per node.
const shardCount = 4

// shardNode returns the index of the node holding shard i.
func shardNode(i int) int { return i / 2 }

// proxyConfig is the YAML for one proxy serving both schemas: plain over the
// single server, sharded over the nodes (none: the schema is left out).
func proxyConfig(listen, admin int, single string, nodes []string, tables, pool int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `listen: 127.0.0.1:%d
admin_listen: 127.0.0.1:%d
max_connections: 4096
shutdown_timeout: %s
log:
  level: info
  format: console
  slow_query: 60s   # a saturated 2-core box is slow; do not log every statement

users:
  - {name: %s, password: %s}

nodes:
`, listen, admin, proxyShutdown, proxyUser, proxyPassword)
	// max_idle as large as max_open: the pool must not close and redial
	// connections between the statements of busy client threads.
	node := func(name, addr string) {
		fmt.Fprintf(&b, "  - {name: %s, primary: %q, user: root, password: \"\", pool: {max_open: %d, max_idle: %d}}\n",
			name, addr, pool, pool)
	}
	node("single", single)
	for i, addr := range nodes {
		node(fmt.Sprintf("n%d", i), addr)
	}
	fmt.Fprintf(&b, "\nschemas:\n  - name: %s\n    shards:\n      - {node: single, database: %s}\n", plainSchema, directDB)
	if len(nodes) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "  - name: %s\n    shards:\n", shardedSchema)
	for i := range shardCount {
		fmt.Fprintf(&b, "      - {node: n%d, database: %s%d}\n", shardNode(i), shardDBPrefix, i)
	}
	b.WriteString("    tables:\n")
	for t := 1; t <= tables; t++ {
		fmt.Fprintf(&b, "      - {name: sbtest%d, shard_key: id, algorithm: mod}\n", t)
	}
	return b.String()
}

// startProxy runs shardproxy on cfgPath and waits for its "listening" log
// line and a login through it.
func startProxy(ctx context.Context, bin, cfgPath, dir string, port int) (*child, error) {
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Env = withoutProxyOverrides(os.Environ())
	logPath := filepath.Join(dir, "shardproxy.log")
	c, err := startChild("shardproxy", cmd, logPath)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=2s", proxyUser, proxyPassword, addr, plainSchema)
	probe := func() error {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "listening") {
			return fmt.Errorf("no %q line in %s yet", "listening", logPath)
		}
		return pingDSN(ctx, dsn)
	}
	if err := c.waitReady(ctx, readyTimeout, probe); err != nil {
		c.stop(syscall.SIGKILL, stopGrace)
		return nil, err
	}
	return c, nil
}

// withoutProxyOverrides drops SHARDPROXY_* variables: a developer's
// SHARDPROXY_LISTEN must not move the benchmark's proxy.
func withoutProxyOverrides(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SHARDPROXY_") {
			out = append(out, kv)
		}
	}
	return out
}

// toolVersion returns the first line of `name args...`, for the report header.
func toolVersion(name string, args ...string) string {
	bin, err := lookTool(name)
	if err != nil {
		return "?"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "?"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// cpuModel returns the processor model and how many CPUs the benchmark shares.
func cpuModel() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d × %s", runtime.NumCPU(), model)
}

func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
