package tests

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/router"
)

// shardedCluster is the contract's example schema over the shared nodes:
// 4 shards on 2 nodes, one table per algorithm and a global table.
type shardedCluster struct {
	p      *runningProxy
	db     *sql.DB
	cfg    conf.Schema
	full   *conf.Config
	shards []*sql.DB // direct connections to each shard's database, on its primary
}

func newShardedCluster(t *testing.T) *shardedCluster {
	t.Helper()
	cfg := baseConfig()
	prefix := uniqueName("shop")
	sc := conf.Schema{
		Name:     "shop",
		ReadFrom: conf.ReadFromPrimary,
		Shards:   shardsOn(prefix, "n0", "n0", "n1", "n1"),
		Tables: []conf.Table{
			{Name: "users", ShardKey: "id", Algorithm: "mod"},
			{Name: "orders", ShardKey: "user_id", Algorithm: "hash"},
			{Name: "events", ShardKey: "day", Algorithm: "range", Bounds: []string{"2025-01-01", "2026-01-01", "2027-01-01"}},
			{Name: "countries", Type: "global"},
		},
	}
	cfg.Schemas = append(cfg.Schemas, sc)
	c := &shardedCluster{p: startProxy(t, cfg), cfg: sc, full: cfg}
	c.db = c.p.open(t, "shop")
	for i, sh := range sc.Shards {
		node := nodes[0]
		if sh.Node == "n1" {
			node = nodes[1]
		}
		db, err := node.Primary.DB(sh.Database)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c.shards = append(c.shards, db)
		_ = i
	}
	return c
}

// expectedShard computes where the contract puts a key.
func (c *shardedCluster) expectedShard(t *testing.T, table string, key router.Value) int {
	t.Helper()
	for _, tb := range c.cfg.Tables {
		if tb.Name == table {
			alg, err := router.NewAlgorithm(tb.Algorithm, len(c.cfg.Shards), tb.Bounds)
			if err != nil {
				t.Fatal(err)
			}
			s, err := alg.Shard(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatalf("no table %s", table)
	return -1
}

func TestShardedRoutingEndToEnd(t *testing.T) {
	c := newShardedCluster(t)
	db := c.db
	for _, ddl := range []string{
		"CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))",
		"CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT, amount DECIMAL(10,2), KEY (user_id))",
		"CREATE TABLE events (day DATE, what VARCHAR(20), KEY (day))",
		"CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(30))",
		"CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)", // unsharded: default shard only
	} {
		mustExec(t, db, ddl)
	}
	for i, shard := range c.shards {
		tables := queryStrings(t, shard, "SHOW TABLES WHERE Tables_in_"+c.cfg.Shards[i].Database+" NOT LIKE '\\_shardproxy\\_%'")
		want := "[[countries] [events] [orders] [users]]"
		if i == 0 {
			want = "[[countries] [events] [notes] [orders] [users]]"
		}
		if fmt.Sprint(tables) != want {
			t.Fatalf("shard %d has tables %v, want %s", i, tables, want)
		}
	}
	// Through the proxy, the logical schema lists the application's tables
	// only: the proxy's own (_shardproxy_*) on the default shard are hidden.
	if n := queryOne(t, c.shards[0], `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '\_shardproxy\_%'`); n == "0" {
		t.Fatal("the default shard holds none of the proxy's tables: nothing to hide")
	}
	if tables := queryStrings(t, db, "SHOW TABLES"); fmt.Sprint(tables) != "[[countries] [events] [notes] [orders] [users]]" {
		t.Fatalf("SHOW TABLES through the proxy: %v", tables)
	}
	// So do information_schema's tables that list tables (Rails and
	// schema tools read them; a dump of the proxy's tables loaded back
	// would overwrite its sequences).
	for _, q := range []string{
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
		"SELECT t.table_name FROM information_schema.tables AS t WHERE t.table_schema = 'shard' OR t.table_schema = DATABASE() ORDER BY 1",
		"SELECT DISTINCT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
		"SELECT DISTINCT s.TABLE_NAME FROM information_schema.STATISTICS s JOIN information_schema.TABLES t ON t.TABLE_NAME = s.TABLE_NAME AND t.TABLE_SCHEMA = s.TABLE_SCHEMA WHERE s.TABLE_SCHEMA = DATABASE() AND s.INDEX_NAME = 'PRIMARY' ORDER BY 1",
	} {
		want := "[[countries] [events] [notes] [orders] [users]]"
		if strings.Contains(q, "PRIMARY") {
			want = "[[countries] [notes] [orders] [users]]"
		}
		if tables := queryStrings(t, db, q); fmt.Sprint(tables) != want {
			t.Errorf("%s through the proxy: %v, want %s", q, tables, want)
		}
	}
	// Prepared, with the schema as a parameter.
	if tables := queryStrings(t, db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1", "shop"); fmt.Sprint(tables) != "[[countries] [events] [notes] [orders] [users]]" {
		t.Errorf("prepared information_schema.TABLES through the proxy: %v", tables)
	}

	// Multi-row inserts are split per shard; every row lands where the contract says.
	var vals []string
	for id := -20; id < 80; id++ {
		vals = append(vals, fmt.Sprintf("(%d, 'u%d')", id, id))
	}
	res := mustExec(t, db, "INSERT INTO users (id, name) VALUES "+strings.Join(vals, ", "))
	if n, _ := res.RowsAffected(); n != 100 {
		t.Fatalf("affected rows %d, want 100", n)
	}
	for id := 0; id < 200; id++ {
		// Half as strings: '5' and 5 route alike.
		key := any(id)
		if id%2 == 1 {
			key = fmt.Sprint(id)
		}
		mustExec(t, db, "INSERT INTO orders (id, user_id, amount) VALUES (?, ?, 9.99)", id, key)
	}
	days := []string{"2024-06-01", "2025-01-01", "2025-12-31", "2026-01-01", "2026-07-04", "2027-01-01", "2030-01-01"}
	for _, d := range days {
		mustExec(t, db, "INSERT INTO events (day, what) VALUES ('"+d+"', 'x')")
	}
	mustExec(t, db, "INSERT INTO countries VALUES ('fr', 'France'), ('jp', 'Japan')")

	total := 0
	for i, shard := range c.shards {
		for _, row := range queryStrings(t, shard, "SELECT id FROM users") {
			var id int64
			fmt.Sscan(row[0], &id)
			if want := c.expectedShard(t, "users", router.IntValue(id)); want != i {
				t.Errorf("users id %d is on shard %d, want %d", id, i, want)
			}
			total++
		}
		for _, row := range queryStrings(t, shard, "SELECT user_id FROM orders") {
			var id int64
			fmt.Sscan(row[0], &id)
			if want := c.expectedShard(t, "orders", router.IntValue(id)); want != i {
				t.Errorf("orders user_id %d is on shard %d, want %d", id, i, want)
			}
		}
		for _, row := range queryStrings(t, shard, "SELECT DATE_FORMAT(day, '%Y-%m-%d') FROM events") {
			if want := c.expectedShard(t, "events", router.StringValue(row[0])); want != i {
				t.Errorf("events day %s is on shard %d, want %d", row[0], i, want)
			}
		}
		if got := queryStrings(t, shard, "SELECT code FROM countries ORDER BY code"); fmt.Sprint(got) != "[[fr] [jp]]" {
			t.Errorf("global table on shard %d holds %v", i, got)
		}
	}
	if total != 100 {
		t.Fatalf("%d users rows on the shards, want 100 (lost or duplicated rows)", total)
	}

	// Point reads and writes by key reach one shard.
	if v := queryOne(t, db, "SELECT name FROM users WHERE id = 42"); v != "u42" {
		t.Fatalf("point select = %q", v)
	}
	if v := queryOne(t, db, "SELECT name FROM users WHERE id = ?", -7); v != "u-7" {
		t.Fatalf("prepared point select = %q", v)
	}
	if v := queryOne(t, db, "SELECT COUNT(*) FROM orders WHERE user_id IN (1, 2, 3) AND user_id = 2"); v != "1" {
		t.Fatalf("IN and = on the key: %s", v)
	}
	if v := queryOne(t, db, "SELECT name FROM countries WHERE code = 'jp'"); v != "Japan" {
		t.Fatalf("global read = %q", v)
	}
	if v := queryOne(t, db, "SELECT COUNT(*) FROM events WHERE day >= '2026-01-01' AND day < '2027-01-01'"); v != "2" {
		t.Fatalf("range read within one shard = %s", v)
	}
	res = mustExec(t, db, "UPDATE users SET name = 'renamed' WHERE id IN (1, 2, 3, 4)")
	if n, _ := res.RowsAffected(); n != 4 {
		t.Fatalf("scatter update affected %d, want 4", n)
	}
	// An ORM's full-row update sets the key to the value its WHERE pins.
	mustExec(t, db, "UPDATE users SET id = 5, name = 'orm' WHERE id = 5")
	if _, err := db.Exec("UPDATE users SET id = 6 WHERE id = 5"); mysqlCode(err) != 1105 {
		t.Fatalf("UPDATE moving a row between shards: %v, want 1105", err)
	}
	if _, err := db.Exec("INSERT INTO users (name) VALUES ('nokey')"); mysqlCode(err) != 1105 || !strings.Contains(err.Error(), "id") {
		t.Fatalf("INSERT without the shard key: %v, want 1105 naming id", err)
	}
	mustExec(t, db, "UPDATE countries SET name = 'Nippon' WHERE code = 'jp'")
	for i, shard := range c.shards {
		if v := queryOne(t, shard, "SELECT name FROM countries WHERE code = 'jp'"); v != "Nippon" {
			t.Fatalf("global update missing on shard %d", i)
		}
	}
	res = mustExec(t, db, "DELETE FROM orders WHERE user_id < 10")
	if n, _ := res.RowsAffected(); n != 10 {
		t.Fatalf("scatter delete affected %d, want 10", n)
	}
	mustExec(t, db, "INSERT INTO notes VALUES (1, 'on the default shard')")
	if v := queryOne(t, c.shards[0], "SELECT COUNT(*) FROM notes"); v != "1" {
		t.Fatalf("unsharded table row not on the default shard")
	}
	// Co-sharded join on the shard key and joins with global tables run per shard.
	if v := queryOne(t, db, "SELECT COUNT(*) FROM users u JOIN countries c ON c.code = 'fr' WHERE u.id = 10"); v != "1" {
		t.Fatalf("join with a global table: %s", v)
	}
	// Transactions across shards see their own writes.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE users SET name = 'tx' WHERE id = 1")
	mustExec(t, tx, "UPDATE users SET name = 'tx' WHERE id = 2")
	if v := queryOne(t, tx, "SELECT name FROM users WHERE id = 2"); v != "tx" {
		t.Fatalf("transaction read = %q", v)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if v := queryOne(t, db, "SELECT name FROM users WHERE id = 1"); v != "renamed" {
		t.Fatalf("rolled back update visible: %q", v)
	}
	// Dropping a sharded table drops it everywhere.
	mustExec(t, db, "DROP TABLE events")
	for i, shard := range c.shards {
		if n := len(queryStrings(t, shard, "SHOW TABLES LIKE 'events'")); n != 0 {
			t.Fatalf("events still on shard %d", i)
		}
	}
}

// withAutoIncrement returns the cluster's configuration with users.id
// generated by the proxy.
func withAutoIncrement(c *shardedCluster) *conf.Config {
	cfg := *c.full
	cfg.Schemas = append([]conf.Schema(nil), cfg.Schemas...)
	sc := &cfg.Schemas[len(cfg.Schemas)-1]
	sc.Tables = append([]conf.Table(nil), sc.Tables...)
	for i := range sc.Tables {
		if sc.Tables[i].Name == "users" {
			sc.Tables[i].AutoIncrement = "id"
		}
	}
	return &cfg
}

// TestUnparsedOnShardedSchema: a text the SQL parser rejects, on a sharded
// schema, gets MariaDB's own syntax error when MariaDB rejects it too, and
// 1235 naming the schema when it is syntax only MariaDB knows.
func TestUnparsedOnShardedSchema(t *testing.T) {
	c := newShardedCluster(t)
	mustExec(t, c.db, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))")
	const typo = "SELEC id FROM users"
	_, got := c.db.Exec(typo)
	_, want := c.shards[0].Exec(typo)
	if got == nil || want == nil || got.Error() != want.Error() {
		t.Errorf("%s: through the proxy %v, on MariaDB %v", typo, got, want)
	}
	// Prepared (with an argument, go-sql-driver prepares), the same.
	_, got = c.db.Exec(typo+" WHERE id = ?", 1)
	_, want = c.shards[0].Exec(typo+" WHERE id = ?", 1)
	if got == nil || want == nil || got.Error() != want.Error() {
		t.Errorf("%s prepared: through the proxy %v, on MariaDB %v", typo, got, want)
	}
	for _, q := range []sessionStep{
		{"SELECT name INTO @name FROM users WHERE id = 1", nil},
		{"SELECT name INTO @name FROM users WHERE id = ?", []any{1}}, // prepared
	} {
		_, err := c.db.Exec(q.sql, q.args...)
		if mysqlCode(err) != 1235 || !strings.Contains(err.Error(), "'shop'") {
			t.Errorf("%s on a sharded schema: %v, want 1235 naming the schema", q.sql, err)
		}
	}
	if v := queryOne(t, c.db, "SELECT COUNT(*) FROM users"); v != "0" {
		t.Errorf("after the refusals, COUNT(*) = %s", v)
	}
}

// Errors from the shards name the logical schema, as everything else the
// client sees does: "Table 'shop.nosuch' doesn't exist", not the shard's
// database. Relayed from one shard, returned from a write on several, and
// from a prepared statement.
func TestErrorsNameTheLogicalSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("errnames")
	db := idShardedProxy(t, prefix, "items")
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY, q INT, CONSTRAINT q_positive CHECK (q >= 0))")
	mustExec(t, db, "INSERT INTO items VALUES (1, 5), (2, 5)")
	cases := []struct {
		stmt string
		args []any
		want string
	}{
		{"SELECT * FROM nosuch", nil, "Table 'shop.nosuch' doesn't exist"},
		{"SELECT * FROM shop.nosuch WHERE id = 1", nil, "Table 'shop.nosuch' doesn't exist"},
		{"INSERT INTO items VALUES (3, -1)", nil, "CONSTRAINT `q_positive` failed for `shop`.`items`"},
		{"UPDATE items SET q = q - 10", nil, "CONSTRAINT `q_positive` failed for `shop`.`items`"},
		{"UPDATE items SET q = ? WHERE id = ?", []any{-1, 2}, "CONSTRAINT `q_positive` failed for `shop`.`items`"},
	}
	for _, c := range cases {
		_, err := db.Exec(c.stmt, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), prefix) {
			t.Errorf("%s: %v, want %q", c.stmt, err, c.want)
		}
	}
	// The warnings of a statement on every shard, as SHOW WARNINGS lists them.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec(t, conn, "DROP TABLE IF EXISTS nosuch")
	if got := fmt.Sprint(queryStrings(t, conn, "SHOW WARNINGS")); !strings.Contains(got, "Unknown table 'shop.nosuch'") || strings.Contains(got, prefix) {
		t.Errorf("SHOW WARNINGS after DROP TABLE IF EXISTS nosuch: %s", got)
	}
}
