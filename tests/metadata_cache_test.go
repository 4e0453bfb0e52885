package tests

import (
	"context"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/wire"
)

// A client that negotiates MariaDB's metadata caching (as libmariadb-based
// clients do: sysbench, the mariadb CLI, Python's mysqlclient) gets the
// "definitions follow" byte on every result, and prepared statements'
// results without definitions it already has. The proxy's own backend
// connection code serves as that client.
func TestMetadataCachingClient(t *testing.T) {
	cfg := baseConfig()
	passThroughSchema(cfg, "meta")
	cfg.Schemas = append(cfg.Schemas, conf.Schema{
		Name:     "metash",
		ReadFrom: conf.ReadFromPrimary,
		Shards:   shardsOn(uniqueName("ms"), "n0", "n1"),
		Tables:   []conf.Table{{Name: "t", ShardKey: "id", Algorithm: "mod"}},
	})
	px := startProxy(t, cfg)
	db := px.open(t, "meta")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))")
	mustExec(t, db, "INSERT INTO t VALUES (1, 'one'), (2, 'two')")
	sharded := px.open(t, "metash")
	mustExec(t, sharded, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))")
	mustExec(t, sharded, "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')")

	pool := backend.NewPool(backend.PoolConfig{Addr: px.addr, User: appUser, Password: appPassword, MaxOpen: 1, IdleTimeout: time.Hour})
	defer pool.Close()
	ctx := context.Background()
	c, err := pool.Get(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Put(c)
	if !c.CachesMetadata() {
		t.Fatal("the proxy did not offer metadata caching")
	}
	if err := c.UseDB(ctx, "meta"); err != nil {
		t.Fatal(err)
	}
	// Text results: relayed, built by the proxy, merged from shards.
	for _, q := range []struct {
		db, sql    string
		cols, rows int
	}{
		{"meta", "SELECT id, name FROM t ORDER BY id", 2, 2},
		{"meta", "SHOW PROCESSLIST", 8, -1},
		{"metash", "SELECT id, name FROM t ORDER BY id", 2, 3},
		{"metash", "SELECT name FROM t", 1, 3},
	} {
		if err := c.UseDB(ctx, q.db); err != nil {
			t.Fatal(err)
		}
		res, err := c.Exec(ctx, q.sql)
		if err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		if len(res.Fields) != q.cols || q.rows >= 0 && len(res.Rows) != q.rows {
			t.Fatalf("%s: %d columns, %d rows; want %d, %d", q.sql, len(res.Fields), len(res.Rows), q.cols, q.rows)
		}
	}

	if err := c.UseDB(ctx, "meta"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Prepare(ctx, "SELECT * FROM t WHERE id >= 1 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	execute := func() (follow bool, cols, rows int) {
		t.Helper()
		if err := c.WriteRaw(wire.AppendExecute(nil, st.ID, nil)); err != nil {
			t.Fatal(err)
		}
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		n, follow, err := c.ColumnCount(p)
		if err != nil {
			t.Fatal(err)
		}
		if follow {
			for i := 0; i < n; i++ {
				if _, err := c.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if p, err = c.ReadPacket(); err != nil || !wire.IsEOF(p) {
			t.Fatalf("after the definitions: %x, %v", p, err)
		}
		for {
			if p, err = c.ReadPacket(); err != nil {
				t.Fatal(err)
			}
			if wire.IsEOF(p) {
				return follow, n, rows
			}
			rows++
		}
	}
	skipped := 0
	for i := 0; i < 4; i++ {
		follow, cols, rows := execute()
		if cols != 2 || rows != 2 {
			t.Fatalf("execute %d: %d columns, %d rows", i, cols, rows)
		}
		if !follow {
			skipped++
		}
	}
	if skipped < 3 {
		t.Fatalf("definitions skipped in %d of 4 executions, want at least 3", skipped)
	}
	// New columns: the next execution carries the new definitions.
	mustExec(t, db, "ALTER TABLE t ADD COLUMN note VARCHAR(10) DEFAULT 'n'")
	follow, cols, rows := execute()
	if !follow || cols != 3 || rows != 2 {
		t.Fatalf("after ALTER TABLE: definitions follow %v, %d columns, %d rows; want them, 3, 2", follow, cols, rows)
	}
	if follow, cols, _ = execute(); follow || cols != 3 {
		t.Fatalf("the execution after: definitions follow %v, %d columns; want them skipped, 3", follow, cols)
	}
}
