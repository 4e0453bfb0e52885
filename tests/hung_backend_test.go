package tests

import (
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/tests/mariadbtest"
)

// hungBound is how long a statement on a frozen backend may take to fail
// when no max_execution_time applies: the liveness monitor notices within
// LivenessInterval*2 + 2*ProbeTimeout (two failed probes), and a new connection's handshake
// gives up after the pool's 5 s dial timeout; the rest is scheduling slack
// on a loaded machine.
const hungBound = backend.LivenessInterval*2 + 2*backend.ProbeTimeout + 7*time.Second

// TestHungBackend freezes (SIGSTOP) a primary of its own under a proxy
// without max_execution_time and one with it: every statement on that
// backend fails with an error in bounded time, other nodes keep serving,
// the proxy serves the backend again once it is thawed, and no goroutine or
// backend connection is left behind.
func TestHungBackend(t *testing.T) {
	srv, err := mariadbtest.Start(mariadbtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	frozen := false
	t.Cleanup(func() {
		if frozen {
			srv.Thaw()
		}
	})

	mkConfig := func(maxExec time.Duration) *conf.Config {
		cfg := baseConfig()
		cfg.MaxExecutionTime = maxExec
		cfg.Nodes = append(cfg.Nodes, conf.Node{
			Name: "hung", Primary: srv.Addr, User: "root",
			Pool: conf.Pool{MaxOpen: 4, MaxIdle: 4, IdleTimeout: 5 * time.Minute},
		})
		cfg.Schemas = append(cfg.Schemas, conf.Schema{
			Name: "hungdb", ReadFrom: conf.ReadFromPrimary, Shards: []conf.Shard{{Node: "hung", Database: "hung_phys"}},
		})
		passThroughSchema(cfg, "ptdb")
		return cfg
	}
	unbounded := startProxy(t, mkConfig(0))
	bounded := startProxy(t, mkConfig(time.Second))

	setup, err := sql.Open("mysql", unbounded.dsn("hungdb"))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, setup, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
	mustExec(t, setup, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	// Both proxies' pools hold idle connections to the server: those are
	// the ones a frozen server leaves hanging.
	for _, p := range []*runningProxy{unbounded, bounded} {
		db, err := sql.Open("mysql", p.dsn("hungdb"))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxIdleConns(4)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := db.Exec("SELECT SLEEP(0.2) FROM t LIMIT 1"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		db.Close()
	}
	setup.Close()
	waitFor(t, func() bool { return unbounded.srv.Sessions() == 0 && bounded.srv.Sessions() == 0 }, "warm-up sessions to end")
	time.Sleep(200 * time.Millisecond) // let closed client connections' goroutines finish
	baseline := runtime.NumGoroutine()

	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	frozen = true
	freezeStart := time.Now()

	type outcome struct {
		what    string
		err     error
		elapsed time.Duration
		bound   time.Duration
		code    int // expected MySQL error code, 0 = any error
	}
	results := make(chan outcome, 32)
	var wg sync.WaitGroup
	run := func(p *runningProxy, what, query string, bound time.Duration, code int, params ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sql.Open("mysql", p.dsn("hungdb", params...))
			if err != nil {
				results <- outcome{what: what, err: err}
				return
			}
			defer db.Close()
			start := time.Now()
			var rerr error
			if strings.HasPrefix(query, "TX ") {
				tx, err := db.Begin()
				if err == nil {
					_, err = tx.Exec(query[3:])
					tx.Rollback()
				}
				rerr = err
			} else {
				_, rerr = db.Exec(query)
			}
			results <- outcome{what: what, err: rerr, elapsed: time.Since(start), bound: bound, code: code}
		}()
	}
	// Four statements per proxy: as many as the pool's max_open.
	for i := 0; i < 2; i++ {
		run(unbounded, fmt.Sprintf("select %d, no max_execution_time", i), "SELECT * FROM t", hungBound, 0)
	}
	for i := 0; i < 3; i++ {
		run(bounded, fmt.Sprintf("select %d, max_execution_time 1s", i), "SELECT * FROM t", 4*time.Second, 3024)
	}
	run(unbounded, "insert in a transaction", "TX INSERT INTO t VALUES (10, 'x')", hungBound, 0)
	run(bounded, "insert, max_execution_time 1s", "INSERT INTO t VALUES (11, 'y')", 4*time.Second, 3024)
	// A client that gives up first (driver read timeout): the proxy must
	// still end its side of the statement.
	run(unbounded, "client read timeout 1s", "SELECT * FROM t", 4*time.Second, 0, "readTimeout=1s")

	// The other nodes serve while the backend is frozen.
	other := unbounded.open(t, "ptdb")
	start := time.Now()
	if got := queryOne(t, other, "SELECT 1"); got != "1" || time.Since(start) > 2*time.Second {
		t.Fatalf("another node while one is frozen: %q after %v", got, time.Since(start))
	}
	other.Close()

	wg.Wait()
	close(results)
	for r := range results {
		switch {
		case r.err == nil:
			t.Errorf("%s: succeeded on a frozen backend", r.what)
		case r.elapsed > r.bound:
			t.Errorf("%s: failed only after %v (bound %v): %v", r.what, r.elapsed, r.bound, r.err)
		case r.code != 0 && mysqlCode(r.err) != r.code:
			t.Errorf("%s: %v, want error %d", r.what, r.err, r.code)
		default:
			t.Logf("%s: error after %v: %v", r.what, r.elapsed.Round(time.Millisecond), r.err)
		}
	}

	if err := srv.Thaw(); err != nil {
		t.Fatal(err)
	}
	frozen = false
	t.Logf("frozen for %v", time.Since(freezeStart).Round(time.Millisecond))

	// Both proxies serve the backend again, without a restart.
	for _, p := range []*runningProxy{unbounded, bounded} {
		db, err := sql.Open("mysql", p.dsn("hungdb"))
		if err != nil {
			t.Fatal(err)
		}
		var n string
		waitFor(t, func() bool { return db.QueryRow("SELECT COUNT(*) FROM t WHERE id <= 10").Scan(&n) == nil }, "the thawed backend to serve through the proxy")
		if n != "3" {
			t.Errorf("rows after the freeze: %s, want 3 (the insert in a failed transaction must not be committed)", n)
		}
		db.Close()
	}

	// An autocommit statement the frozen server had already received runs
	// when it resumes: its outcome was unknown, as after any network failure.
	root := serverDB(t, srv)
	var late string
	_ = root.QueryRow("SELECT COUNT(*) FROM hung_phys.t WHERE id = 11").Scan(&late)
	t.Logf("the timed-out autocommit insert ran after the thaw: %v", late == "1")

	// No goroutine is left behind: sessions, pool monitors and KILLs end.
	var now int
	deadline := time.Now().Add(15 * time.Second)
	for {
		now = runtime.NumGoroutine()
		if now <= baseline+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines: %d before the freeze, %d after", baseline, now)
	if now > baseline+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before the freeze, %d after\n%s", baseline, now, buf[:runtime.Stack(buf, true)])
	}

	// No backend connection is left behind: the proxies' connections are
	// within their pools' bounds and none is running anything.
	var total, busy string
	waitFor(t, func() bool {
		row := root.QueryRow(`SELECT COUNT(*), COALESCE(SUM(command <> 'Sleep'), 0) FROM information_schema.processlist
			WHERE id <> CONNECTION_ID() AND command NOT IN ('Daemon', 'Binlog Dump')`)
		return row.Scan(&total, &busy) == nil && busy == "0" && atoiOr(total) <= 2*4
	}, "backend connections to settle")
	t.Logf("backend connections after the freeze: %s (pool max_open 4 per proxy)", total)
}

// serverDB is a root pool on a test's own server, closed with the test.
func serverDB(t *testing.T, srv *mariadbtest.Server) *sql.DB {
	t.Helper()
	db, err := srv.DB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func atoiOr(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// TestHungReplica freezes a replica of a node of its own under a read load:
// health checks do not hang on it, reads move to the primary within two
// seconds, reads in flight on the frozen replica are answered by the
// primary, and reads come back to the replica once it is thawed.
func TestHungReplica(t *testing.T) {
	ns, err := mariadbtest.StartNodes(1)
	if err != nil {
		t.Fatal(err)
	}
	n := ns[0]
	t.Cleanup(func() { mariadbtest.StopNodes(ns) })
	frozen := false
	t.Cleanup(func() {
		if frozen {
			n.Replica.Thaw()
		}
	})
	cfg := baseConfig()
	cfg.Nodes = append(cfg.Nodes, conf.Node{
		Name: "hr", Primary: n.Primary.Addr, Replicas: []string{n.Replica.Addr}, User: "root",
		Pool:          conf.Pool{MaxOpen: 8, MaxIdle: 8, IdleTimeout: 5 * time.Minute},
		MaxReplicaLag: 30 * time.Second,
	})
	cfg.Schemas = append(cfg.Schemas, conf.Schema{
		Name: "hrdb", ReadFrom: conf.ReadFromReplica, Shards: []conf.Shard{{Node: "hr", Database: "hr_phys"}},
	})
	p := startProxy(t, cfg)
	db := p.open(t, "hrdb")
	db.SetMaxOpenConns(4)
	mustExec(t, db, "CREATE TABLE r (k INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO r VALUES (1)")
	if err := n.Replica.WaitCaughtUp(n.Primary, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	primaryID := queryOne(t, db, "SELECT /* shardproxy:primary */ @@server_id")
	waitFor(t, func() bool { return queryOne(t, db, "SELECT @@server_id") != primaryID }, "reads on the replica")

	load := startReadLoad(t, db, hungBound)
	waitFor(t, func() bool { return load.reads.Load() > 100 }, "reads under way")
	if err := n.Replica.Freeze(); err != nil {
		t.Fatal(err)
	}
	frozen = true
	// Two seconds on, health checks (which must not hang either) have
	// taken the replica out: a new read goes to the primary at once.
	time.Sleep(2 * time.Second)
	fresh := p.open(t, "hrdb") // the load holds every connection of db
	start := time.Now()
	if id := queryOne(t, fresh, "SELECT @@server_id"); id != primaryID {
		t.Errorf("a read 2s after the freeze reached server %s, not the primary", id)
	}
	took := time.Since(start)
	t.Logf("a read 2s after the freeze went to the primary in %v", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("a read 2s after the freeze took %v", took)
	}
	// Long enough for reads stuck on the frozen replica to be abandoned.
	time.Sleep(backend.LivenessInterval*2 + 2*backend.ProbeTimeout + time.Second)
	before := load.reads.Load()
	waitFor(t, func() bool { return load.reads.Load() > before+100 }, "reads while the replica is frozen")
	if err := n.Replica.Thaw(); err != nil {
		t.Fatal(err)
	}
	frozen = false
	waitFor(t, func() bool { return queryOne(t, db, "SELECT @@server_id") != primaryID }, "reads back on the thawed replica")
	load.stop()
	t.Logf("%d reads, %d failed, %d slower than %v", load.reads.Load(), load.failures.Load(), load.slow.Load(), hungBound)
	if load.failures.Load() > 0 || load.slow.Load() > 0 {
		t.Errorf("%d reads failed and %d took longer than %v while the replica was frozen", load.failures.Load(), load.slow.Load(), hungBound)
	}
}
