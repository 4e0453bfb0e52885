package tests

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/conf"
)

// Pools of a few connections per backend, where a statement that holds
// some connections and waits for another would wait forever.

// TestConcurrentScattersShareSmallPools: scatter SELECTs that each need
// two connections of a node's pool (two shards there), many at once on
// pools of two, all finish: none holds one connection while waiting for
// another that a second such statement holds.
func TestConcurrentScattersShareSmallPools(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	db := smallPoolsProxy(t, 2, fourShards("shop", uniqueName("small"), []conf.Table{
		{Name: "items", ShardKey: "id", Algorithm: "mod"},
	}))
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO items VALUES (1), (2), (3), (4)")
	db.SetMaxOpenConns(16)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	errs := concurrently(16, func(int) error {
		for range 30 {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
				return err
			}
			if n != 4 {
				return fmt.Errorf("count %d, want 4", n)
			}
		}
		return nil
	})
	if len(errs) > 0 {
		t.Fatalf("%d of 16 clients failed; first: %v", len(errs), errs[0])
	}
}

// TestTwoPhaseCommitOnSmallPools: writes that commit in two phases, many
// at once on pools of one connection per node, all finish: the decision
// record the commit writes on the default shard's node needs a connection
// there while the transaction's own is held.
func TestTwoPhaseCommitOnSmallPools(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	db := smallPoolsProxy(t, 1, twoNodes("xasmall", conf.Table{Name: "items", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"}))
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY, k INT)")
	db.SetMaxOpenConns(8)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	errs := concurrently(8, func(k int) error {
		for j := range 10 {
			// Two rows, generated ids on both nodes: one XA transaction.
			if _, err := db.ExecContext(ctx, "INSERT INTO items (k) VALUES (?), (?)", k*100+j, k*100+j); err != nil {
				return err
			}
		}
		return nil
	})
	if len(errs) > 0 {
		t.Fatalf("%d of 8 clients failed; first: %v", len(errs), errs[0])
	}
	if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "160" {
		t.Errorf("rows: %s, want 160", got)
	}
}

// TestFirstIDInTransactionOnSmallPools: the first generated id of a table
// (its sequence reads the shards' largest ids) inside a transaction that
// already holds the only connection of each node.
func TestFirstIDInTransactionOnSmallPools(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	db := smallPoolsProxy(t, 1, twoNodes("firstid", conf.Table{Name: "items", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"}))
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY, k INT)")
	tx := sessionAfter(t, db, "BEGIN", "SELECT COUNT(*) FROM items")
	defer tx.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := tx.ExecContext(ctx, "INSERT INTO items (k) VALUES (1)"); err != nil {
		t.Fatalf("the table's first generated id inside a transaction: %v", err)
	}
	mustExec(t, tx, "COMMIT")
	if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "1" {
		t.Errorf("rows: %s, want 1", got)
	}
}

// smallPoolsProxy starts a proxy whose pools hold size connections per
// backend, serving schema, and opens that schema through it.
func smallPoolsProxy(t *testing.T, size int, schema conf.Schema) *sql.DB {
	t.Helper()
	cfg := baseConfig()
	for i := range cfg.Nodes {
		cfg.Nodes[i].Pool.MaxOpen, cfg.Nodes[i].Pool.MaxIdle = size, size
	}
	cfg.Schemas = append(cfg.Schemas, schema)
	return startProxy(t, cfg).open(t, schema.Name)
}

// twoNodes is a schema "shop" of two shards, one on each node.
func twoNodes(prefix string, tables ...conf.Table) conf.Schema {
	return conf.Schema{Name: "shop", ReadFrom: conf.ReadFromPrimary, Shards: shardsOn(uniqueName(prefix), "n0", "n1"), Tables: tables}
}

// TestCrossedTransactionsOnSmallPoolsTimeOut: two transactions each hold
// one node's only connection and ask for the other's. On one server they
// would not even meet (different rows); here they waited for each other
// forever, and every client of both nodes behind them. A transaction that
// holds connections waits for another node's at most its
// innodb_lock_wait_timeout, then gets 1205 and keeps its transaction, as
// after a lock wait timeout.
func TestCrossedTransactionsOnSmallPoolsTimeOut(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	db := smallPoolsProxy(t, 1, twoNodes("crossed", conf.Table{Name: "items", ShardKey: "id", Algorithm: "mod"}))
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY)")
	// Even ids live on n0, odd ones on n1.
	// (SET runs on a pooled connection: both before either transaction.)
	a := sessionAfter(t, db, "SET SESSION innodb_lock_wait_timeout = 1")
	defer a.Close()
	b := sessionAfter(t, db, "SET SESSION innodb_lock_wait_timeout = 1")
	defer b.Close()
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "INSERT INTO items VALUES (2)")
	mustExec(t, b, "BEGIN")
	mustExec(t, b, "INSERT INTO items VALUES (3)")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, step := range []struct {
		c  *sql.Conn
		id int
	}{{a, 5}, {b, 4}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = step.c.ExecContext(ctx, "INSERT INTO items VALUES (?)", step.id)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the crossed statements still waited after %s", time.Since(start))
	}
	timedOut := 0
	for i, err := range errs {
		switch {
		case mysqlCode(err) == 1205:
			timedOut++
		case err != nil:
			t.Errorf("session %d: %v, want success or 1205", i, err)
		}
	}
	if timedOut == 0 {
		t.Fatal("both crossed statements succeeded: each needed the connection the other held")
	}
	// The transactions live on: each commits what it wrote.
	for _, c := range []*sql.Conn{a, b} {
		mustExec(t, c, "COMMIT")
	}
	want := []string{"2", "3"}
	if errs[1] == nil {
		want = append(want, "4")
	}
	if errs[0] == nil {
		want = append(want, "5")
	}
	if got := queryStrings(t, db, "SELECT id FROM items ORDER BY id"); fmt.Sprint(got) != fmt.Sprint(oneColumn(want)) {
		t.Errorf("rows after commit: %v, want %v", got, want)
	}
	// Nothing leaked: the pools serve a new transaction on both nodes.
	mustExec(t, db, "INSERT INTO items VALUES (6), (7)")
}

// oneColumn is values as the rows of a one-column result.
func oneColumn(values []string) [][]string {
	rows := make([][]string, len(values))
	for i, v := range values {
		rows[i] = []string{v}
	}
	return rows
}
