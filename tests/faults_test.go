package tests

import (
	"database/sql"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/router"
)

// TestPrimaryKilledAndRestarted kills node 1's primary under a load of reads
// and writes: its shards fail with an error, node 0's shards keep working,
// node 1 serves again once restarted (no proxy restart), and every write the
// proxy acknowledged is on the backends.
func TestPrimaryKilledAndRestarted(t *testing.T) {
	c := newShardedCluster(t)
	db := c.db
	db.SetMaxOpenConns(8)
	mustExec(t, db, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))")
	onNode1 := func(id int64) bool { return c.expectedShard(t, "users", router.IntValue(id)) >= 2 }

	var mu sync.Mutex
	acked := map[int64]bool{}
	var attempted, failedNode0, failedNode1 atomic.Int64
	var nextID atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := nextID.Add(1)
				attempted.Add(1)
				_, err := db.Exec("INSERT INTO users (id, name) VALUES (?, 'w')", id)
				if err == nil {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				} else if onNode1(id) {
					failedNode1.Add(1)
				} else {
					failedNode0.Add(1)
					t.Logf("write to node 0 failed: %v", err)
				}
				if r := rng.Int63n(id) + 1; true {
					var name string
					err := db.QueryRow("SELECT name FROM users WHERE id = ?", r).Scan(&name)
					if err != nil && err != sql.ErrNoRows && !onNode1(r) {
						failedNode0.Add(1)
						t.Logf("read from node 0 failed: %v", err)
					}
				}
			}
		}(int64(w))
	}
	waitFor(t, func() bool { return nextID.Load() > 200 }, "load under way")
	if err := nodes[1].Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	before := nextID.Load()
	waitFor(t, func() bool { return nextID.Load() > before+300 }, "load while node 1 is down")
	if failedNode1.Load() == 0 {
		t.Fatal("no statement to the dead node failed: was it really down?")
	}
	if err := nodes[1].Primary.Restart(); err != nil {
		t.Fatal(err)
	}
	failuresAtRestart := failedNode1.Load()
	waitFor(t, func() bool {
		_, err := db.Exec("INSERT INTO users (id, name) VALUES (?, 'probe')", 2+4*1000003) // a node-1 id
		return err == nil
	}, "node 1 writable again through the same proxy")
	before = nextID.Load()
	waitFor(t, func() bool { return nextID.Load() > before+200 }, "load after the restart")
	close(stop)
	wg.Wait()
	if err := nodes[1].Replica.WaitCaughtUp(nodes[1].Primary, 20*time.Second); err != nil {
		t.Logf("replica of node 1 after the primary restart: %v", err)
	}
	t.Logf("%d writes attempted, %d acknowledged; failures: node 0 %d, node 1 %d (%d after the restart)",
		attempted.Load(), len(acked), failedNode0.Load(), failedNode1.Load(), failedNode1.Load()-failuresAtRestart)
	if failedNode0.Load() > 0 {
		t.Errorf("%d statements to the healthy node failed", failedNode0.Load())
	}
	lost := 0
	for id := range acked {
		shard := c.expectedShard(t, "users", router.IntValue(id))
		var n int
		if err := c.shards[shard].QueryRow("SELECT COUNT(*) FROM users WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged rows are missing from the backends", lost)
	}
}
