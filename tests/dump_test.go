package tests

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/conf"
)

// dumpSource is a database as an application had it before moving behind
// the proxy: an auto_increment table, a table sharded by another column,
// one sharded by ranges of dates, a lookup table, and one left unsharded.
const dumpSource = `
CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL,
  email VARCHAR(100), created DATETIME DEFAULT '2025-03-04 05:06:07', KEY (name));
CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL,
  total DECIMAL(10,2), note TEXT, KEY (user_id));
CREATE TABLE events (id INT PRIMARY KEY, day DATE NOT NULL, what VARCHAR(20));
CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(40));
CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v JSON);
INSERT INTO users (name, email) SELECT CONCAT('user', seq), IF(seq % 3 = 0, NULL, CONCAT('u', seq, '@x.org')) FROM seq_1_to_400;
INSERT INTO orders (user_id, total, note) SELECT 1 + seq % 400, seq * 1.25, IF(seq % 7 = 0, 'it''s "quoted"\n\ttab', NULL) FROM seq_1_to_1200;
INSERT INTO events SELECT seq, DATE('2024-06-01') + INTERVAL seq * 3 DAY, 'e' FROM seq_1_to_300;
INSERT INTO countries VALUES ('de', 'Germany'), ('fr', 'France'), ('jp', '日本');
INSERT INTO settings VALUES ('a', '{"x": 1}'), ('b', NULL);
CREATE PROCEDURE hello(who VARCHAR(20)) SELECT CONCAT('hello, ', who)
`

var dumpTables = []string{"users", "orders", "events", "countries", "settings"}

// TestDumpLoadsAndDumpsThroughProxy: a mariadb-dump of a plain database
// loads through the proxy into a sharded schema (the dump locks each table
// while it inserts into it), and mariadb-dump through the proxy, plain and
// with --single-transaction, dumps what a plain database dumps; a full
// backup (--databases --routines) loads back through the proxy. Each copy
// is compared with the original, row by row.
func TestDumpLoadsAndDumpsThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("dump")
	source := newOracleDB(t, prefix+"_src")
	for _, stmt := range strings.Split(strings.TrimSpace(dumpSource), ";\n") {
		mustExec(t, source, stmt)
	}
	cfg := baseConfig()
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", prefix, []conf.Table{
		{Name: "users", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"},
		{Name: "orders", ShardKey: "user_id", Algorithm: "hash"},
		{Name: "events", ShardKey: "day", Algorithm: "range", Bounds: []string{"2024-09-01", "2025-01-01", "2025-03-01"}},
		{Name: "countries", Type: "global"},
	}))
	p := startProxy(t, cfg)

	// The procedure is written with its DEFINER, which the SQL parser does
	// not know there.
	dump := mariadbDump(t, nodes[0].Primary.Addr, "root", "", prefix+"_src", "--routines")
	if out, err := mariadbCLI(t, p.addr, dump, "shop"); err != nil {
		t.Fatalf("loading the dump through the proxy: %v\n%s", err, out)
	}
	db := p.open(t, "shop")
	compareLoaded := func(what string) {
		t.Helper()
		for _, table := range dumpTables {
			compareTable(t, what, table, db, source)
		}
		if got := queryOne(t, db, "CALL hello('dump')"); got != "hello, dump" {
			t.Errorf("%s: the procedure answers %q", what, got)
		}
	}
	compareLoaded("loaded through the proxy")
	// Each row is where its key routes it: a point select finds it.
	for id := 1; id <= 400; id += 37 {
		if got := queryOne(t, db, fmt.Sprintf("SELECT name FROM users WHERE id = %d", id)); got != fmt.Sprintf("user%d", id) {
			t.Errorf("user %d by its key: %q", id, got)
		}
	}
	// Ids the proxy generates start past the loaded ones.
	res, err := db.Exec("INSERT INTO users (name) VALUES ('after the load')")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id <= 400 {
		t.Errorf("generated id %d collides with the loaded ones (1..400)", id)
	}
	mustExec(t, db, "DELETE FROM users WHERE name = 'after the load'")

	for _, opts := range [][]string{nil, {"--single-transaction"}} {
		viaProxy := mariadbDump(t, p.addr, appUser, appPassword, "shop", opts...)
		copyName := uniqueName("dump_copy")
		copied := newOracleDB(t, copyName)
		host, port, _ := net.SplitHostPort(nodes[0].Primary.Addr)
		load := exec.Command("mariadb", "-h"+host, "-P"+port, "-uroot", copyName)
		load.Stdin = strings.NewReader(viaProxy)
		if out, err := load.CombinedOutput(); err != nil {
			t.Fatalf("loading the proxy's dump %v into MariaDB: %v\n%s", opts, err, out)
		}
		for _, table := range dumpTables {
			compareTable(t, fmt.Sprintf("dumped through the proxy %v", opts), table, copied, source)
		}
	}

	// A full backup of the schema (CREATE DATABASE IF NOT EXISTS, USE, the
	// routines' listings) loads back through the proxy over itself.
	backup := mariadbDump(t, p.addr, appUser, appPassword, "shop", "--databases", "--routines", "--events", "--triggers", "--single-transaction")
	if !strings.Contains(backup, "PROCEDURE `hello`") {
		t.Errorf("the backup through the proxy has no procedure hello (SHOW PROCEDURE STATUS WHERE Db = 'shop' found none)")
	}
	if out, err := mariadbCLI(t, p.addr, backup); err != nil {
		t.Fatalf("loading a --databases --routines backup through the proxy: %v\n%s", err, out)
	}
	compareLoaded("a backup loaded back")
}

// TestTableLocksCoverEveryShard: LOCK TABLES on a sharded table locks it on
// every shard, so another session's write to any shard waits; the locking
// session's own multi-shard writes run under the locks, and UNLOCK TABLES
// lets the other session in.
func TestTableLocksCoverEveryShard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := baseConfig()
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", uniqueName("locks"), []conf.Table{
		{Name: "items", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"},
		{Name: "kinds", Type: "global"},
	}))
	p := startProxy(t, cfg)
	db := p.open(t, "shop")
	mustExec(t, db, "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	mustExec(t, db, "CREATE TABLE kinds (id INT PRIMARY KEY)")
	mustExec(t, db, "CREATE TABLE plain (id INT PRIMARY KEY)")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	owner := sessionAfter(t, db, "LOCK TABLES items WRITE, kinds READ")
	defer owner.Close()
	other := sessionAfter(t, db, "SET SESSION lock_wait_timeout = 1")
	defer other.Close()
	for shard := range 4 {
		if _, err := other.ExecContext(ctx, fmt.Sprintf("INSERT INTO items VALUES (%d, 0)", 100+shard)); mysqlCode(err) != 1205 {
			t.Errorf("another session's write to shard %d under the lock: %v, want lock wait timeout 1205", shard, err)
		}
	}
	// Given ids on all shards: the first use of the table's sequence, which
	// reads the ids already there under the session's own lock.
	mustExec(t, owner, "INSERT INTO items VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
	mustExec(t, owner, "INSERT INTO items (v) VALUES (5)")
	mustExec(t, owner, "UPDATE items SET v = v * 10")
	if got := queryOneConn(t, owner, "SELECT SUM(v) FROM items"); got != "150" {
		t.Errorf("the owner's sum under the lock: %s, want 150", got)
	}
	if got := queryOneConn(t, owner, "SELECT COUNT(*) FROM kinds"); got != "0" {
		t.Errorf("a READ-locked global table: %s", got)
	}
	for _, stmt := range []string{"SELECT * FROM plain", "INSERT INTO kinds VALUES (1)"} {
		if _, err := owner.ExecContext(ctx, stmt); mysqlCode(err) == 0 {
			t.Errorf("%s under LOCK TABLES that does not allow it: no error", stmt)
		}
	}
	mustExec(t, owner, "UNLOCK TABLES")
	mustExec(t, other, "INSERT INTO items VALUES (100, 0)")
	if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "6" {
		t.Errorf("rows after the lock: %s, want 6", got)
	}
}

// TestPreparedTableLocksCoverEveryShard: LOCK TABLES and UNLOCK TABLES
// prepared (MariaDB prepares them) lock and unlock every shard, as the
// same texts sent as queries do.
func TestPreparedTableLocksCoverEveryShard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := baseConfig()
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", uniqueName("pslocks"), []conf.Table{
		{Name: "items", ShardKey: "id", Algorithm: "mod"},
	}))
	p := startProxy(t, cfg)
	db := p.open(t, "shop")
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY)")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	owner := sessionAfter(t, db)
	defer owner.Close()
	prepared := func(stmt string) {
		t.Helper()
		ps, err := owner.PrepareContext(ctx, stmt)
		if err != nil {
			t.Fatalf("prepare %s: %v", stmt, err)
		}
		defer ps.Close()
		if _, err := ps.ExecContext(ctx); err != nil {
			t.Fatalf("execute %s: %v", stmt, err)
		}
	}
	prepared("CREATE DATABASE IF NOT EXISTS shop")
	prepared("LOCK TABLES items WRITE")
	other := sessionAfter(t, db, "SET SESSION lock_wait_timeout = 1")
	defer other.Close()
	for shard := range 4 {
		if _, err := other.ExecContext(ctx, fmt.Sprintf("INSERT INTO items VALUES (%d)", 100+shard)); mysqlCode(err) != 1205 {
			t.Errorf("another session's write to shard %d under a prepared lock: %v, want lock wait timeout 1205", shard, err)
		}
	}
	mustExec(t, owner, "INSERT INTO items VALUES (1), (2), (3), (4)")
	prepared("UNLOCK TABLES")
	mustExec(t, other, "INSERT INTO items VALUES (100)")
	if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "5" {
		t.Errorf("rows: %s, want 5", got)
	}
}

// TestUnlockTablesGivesConnectionsBack: the backend connections LOCK
// TABLES took go back to the pools at UNLOCK TABLES, as they are no longer
// the session's: with one connection per node, another session can then
// write on both nodes.
func TestUnlockTablesGivesConnectionsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	// One shard per node: a scatter then needs one connection per node.
	db := smallPoolsProxy(t, 1, twoNodes("unlock", conf.Table{Name: "items", ShardKey: "id", Algorithm: "mod"}))
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY)")
	owner := sessionAfter(t, db, "LOCK TABLES items WRITE", "INSERT INTO items VALUES (1), (2)", "UNLOCK TABLES")
	defer owner.Close()
	other := sessionAfter(t, db)
	defer other.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// One node per statement: a write to both would commit in two phases,
	// which takes a second connection on the default shard's node.
	// Ids 3 and 5 live on n1, 4 and 6 on n0.
	for _, stmt := range []string{"INSERT INTO items VALUES (3)", "INSERT INTO items VALUES (4)"} {
		if _, err := other.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("another session's %s after UNLOCK TABLES: %v", stmt, err)
		}
	}
	mustExec(t, owner, "INSERT INTO items VALUES (5)")
	mustExec(t, owner, "INSERT INTO items VALUES (6)")
	if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "6" {
		t.Errorf("rows: %s, want 6", got)
	}
}

// mariadbDump dumps database from a server with Debian's mariadb-dump.
func mariadbDump(t *testing.T, addr, user, password, database string, opts ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	args := append([]string{"-h" + host, "-P" + port, "-u" + user}, opts...)
	if password != "" {
		args = append(args, "-p"+password)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "mariadb-dump", append(args, database)...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("mariadb-dump %v of %s at %s: %v\n%s", opts, database, addr, err, stderr)
	}
	return string(out)
}
