package tests

import (
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/conf"
)

// replicaProxy serves a schema over node 0 that reads from its replica.
func replicaProxy(t *testing.T) *runningProxy {
	t.Helper()
	cfg := baseConfig()
	cfg.Schemas = append(cfg.Schemas, conf.Schema{
		Name: "rep", ReadFrom: conf.ReadFromReplica,
		Shards: []conf.Shard{{Node: "n0", Database: uniqueName("rep")}},
	})
	return startProxy(t, cfg)
}

func TestReadsGoToTheReplica(t *testing.T) {
	p := replicaProxy(t)
	db := p.open(t, "rep")
	mustExec(t, db, "CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(10))")
	mustExec(t, db, "INSERT INTO kv VALUES (1, 'old')")
	n := nodes[0]
	if err := n.Replica.WaitCaughtUp(n.Primary, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := n.Replica.StopReplication(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = n.Replica.StartReplication()
		_ = n.Replica.WaitCaughtUp(n.Primary, 10*time.Second)
	})
	mustExec(t, db, "UPDATE kv SET v = 'new' WHERE k = 1")
	if v := queryOne(t, db, "SELECT v FROM kv WHERE k = 1"); v != "old" {
		t.Fatalf("read outside a transaction saw %q: it did not go to the replica", v)
	}
	if v := queryOne(t, db, "SELECT /* shardproxy:primary */ v FROM kv WHERE k = 1"); v != "new" {
		t.Fatalf("read with the primary hint saw %q", v)
	}
	if v := queryOne(t, db, "SELECT v FROM kv WHERE k = 1 FOR UPDATE"); v != "new" {
		t.Fatalf("locking read saw %q", v)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if v := queryOne(t, tx, "SELECT v FROM kv WHERE k = 1"); v != "new" {
		t.Fatalf("read inside a transaction saw %q", v)
	}
	_ = tx.Rollback()
	if err := n.Replica.StartReplication(); err != nil {
		t.Fatal(err)
	}
	// Replication's own pace, not the proxy's: a restarted IO thread once
	// took over 10 s to fetch one event during make test.
	if err := n.Replica.WaitCaughtUp(n.Primary, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if v := queryOne(t, db, "SELECT v FROM kv WHERE k = 1"); v != "new" {
		t.Fatalf("caught-up replica still shows %q", v)
	}
}

// TestKilledReplicaLosesReads kills the replica under a read load: no client
// statement fails, reads move to the primary within two seconds, and come
// back to the replica once it is up again.
func TestKilledReplicaLosesReads(t *testing.T) {
	p := replicaProxy(t)
	db := p.open(t, "rep")
	db.SetMaxOpenConns(4)
	mustExec(t, db, "CREATE TABLE r (k INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO r VALUES (1)")
	n := nodes[0]
	if err := n.Replica.WaitCaughtUp(n.Primary, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	primaryID := queryOne(t, db, "SELECT /* shardproxy:primary */ @@server_id")
	if queryOne(t, db, "SELECT @@server_id") == primaryID {
		t.Fatal("reads do not reach the replica to begin with")
	}
	load := startReadLoad(t, db, 0)
	waitFor(t, func() bool { return load.reads.Load() > 100 }, "reads under way")
	if err := n.Replica.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	var movedAfter time.Duration
	for time.Since(killedAt) < 3*time.Second {
		if queryOne(t, db, "SELECT @@server_id") == primaryID {
			movedAfter = time.Since(killedAt)
			break
		}
	}
	before := load.reads.Load()
	waitFor(t, func() bool { return load.reads.Load() > before+100 }, "reads after the kill")
	load.stop()
	t.Logf("%d reads during the kill, %d failed; reads moved to the primary after %s", load.reads.Load(), load.failures.Load(), movedAfter)
	if err := n.Replica.Restart(); err != nil {
		t.Fatal(err)
	}
	if load.failures.Load() > 0 {
		t.Errorf("%d client reads failed while the replica died", load.failures.Load())
	}
	if movedAfter == 0 || movedAfter > 2*time.Second {
		t.Errorf("reads still reached the dead replica %s after the kill", time.Since(killedAt))
	}
	if err := n.Replica.WaitCaughtUp(n.Primary, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return queryOne(t, db, "SELECT @@server_id") != primaryID }, "reads back on the restarted replica")
}

// readLoad reads k = 1 from table r in 4 goroutines until stopped.
type readLoad struct {
	reads, failures atomic.Int64
	slow            atomic.Int64 // reads slower than slowAfter (when set)
	done            chan struct{}
	wg              sync.WaitGroup
}

func startReadLoad(t *testing.T, db *sql.DB, slowAfter time.Duration) *readLoad {
	l := &readLoad{done: make(chan struct{})}
	for range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.done:
					return
				default:
				}
				start := time.Now()
				var k int
				if err := db.QueryRow("SELECT k FROM r WHERE k = 1").Scan(&k); err != nil {
					l.failures.Add(1)
					t.Logf("read failed: %v", err)
				}
				if slowAfter > 0 && time.Since(start) > slowAfter {
					l.slow.Add(1)
				}
				l.reads.Add(1)
			}
		}()
	}
	return l
}

// stop ends the load and waits for its reads in flight.
func (l *readLoad) stop() {
	close(l.done)
	l.wg.Wait()
}
