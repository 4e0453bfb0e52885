package tests

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

// TestInsertSelectOnShards: INSERT ... SELECT into a sharded table whose
// shard key comes from the shard key of a table sharded alike (an archive
// filled from its live table) runs on every shard at once, each copying
// its own rows; the results equal MariaDB's. Other forms are refused.
func TestInsertSelectOnShards(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("inssel")
	proxy := idShardedProxy(t, prefix, "events", "archive")
	oracle := newOracleDB(t, prefix+"_oracle")
	var rows []string
	for id := 1; id <= 40; id++ {
		rows = append(rows, fmt.Sprintf("(%d, '%s')", id, []string{"old", "new"}[id%2]))
	}
	for _, step := range []string{
		"CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(5))",
		"CREATE TABLE archive (id INT PRIMARY KEY, kind VARCHAR(5), copies INT DEFAULT 1)",
		"INSERT INTO events VALUES " + strings.Join(rows, ", "),
		"INSERT INTO archive (id, kind) SELECT id, kind FROM events WHERE kind = 'old'",
		"INSERT INTO archive (id, kind) SELECT e.id, e.kind FROM events e WHERE e.id < 10 ON DUPLICATE KEY UPDATE copies = copies + 1",
		"INSERT IGNORE INTO archive (kind, id) SELECT 'x', id FROM events WHERE id IN (2, 3, 4, 41)",
		"INSERT INTO archive (id, kind) SELECT id, kind FROM events WHERE id = 12",
	} {
		execAlike(t, step, proxy, oracle)
	}
	compareTable(t, "after INSERT ... SELECT", "archive", proxy, oracle)
	// Each row stayed on its shard: a point select by key finds it.
	if got := queryOne(t, proxy, "SELECT kind FROM archive WHERE id = 7"); got != "new" {
		t.Errorf("archive row 7 by key: %q", got)
	}
}

// TestInsertSelectCopiedByTheProxy: INSERT ... SELECT whose rows cannot
// stay on their shards (a summary table on the default shard filled from
// a sharded one, rows that move to another shard, a global table, ids from
// the proxy's sequence, a table copying itself) is answered by the proxy
// copying the rows: it runs the SELECT, then INSERTs the rows as VALUES.
// The tables end as on MariaDB, values of every type intact.
func TestInsertSelectCopiedByTheProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("copy")
	proxy := shopProxy(t, prefix, []conf.Table{
		{Name: "users", ShardKey: "id", Algorithm: "mod"},
		{Name: "profiles", ShardKey: "user_id", Algorithm: "hash"},
		{Name: "orders", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"},
		{Name: "kinds", ShardKey: "id", Algorithm: "mod"},
		{Name: "kinds_by_name", ShardKey: "name", Algorithm: "hash"},
		{Name: "countries", Type: "global"},
	}, nil)
	oracle := newOracleDB(t, prefix+"_oracle")
	var users []string
	for id := 1; id <= 60; id++ {
		users = append(users, fmt.Sprintf("(%d, 'user %d', '%s', %d.%d)", id, id, []string{"fr", "de", "it"}[id%3], id%17, id%10))
	}
	steps := []string{
		"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), country CHAR(2), score DECIMAL(6,1))",
		"CREATE TABLE profiles (user_id INT PRIMARY KEY, name VARCHAR(20), visits INT DEFAULT 0)",
		"CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id INT, note VARCHAR(20))",
		"CREATE TABLE stats (country CHAR(2) PRIMARY KEY, n INT, total DECIMAL(10,1), best DOUBLE)",
		"CREATE TABLE countries (code CHAR(2) PRIMARY KEY)",
		`CREATE TABLE kinds (id INT PRIMARY KEY, name VARCHAR(30) CHARACTER SET utf8mb4, l1 VARCHAR(10) CHARACTER SET latin1,
			vb VARBINARY(8), b BIT(8), d DATE, dt DATETIME(6), tm TIME, amount DECIMAL(12,4), f FLOAT, db DOUBLE,
			j JSON, e ENUM('a','b'), st SET('x','y'), y YEAR)`,
		"CREATE TABLE kinds_by_name LIKE kinds",
		"INSERT INTO users VALUES " + strings.Join(users, ", "),
		`INSERT INTO kinds VALUES
			(1, 'quote '' back\\slash 😀', 'café', X'00FF0A', b'101', '2024-02-29', '2024-02-29 13:05:06.000001', '-838:59:59', -12345678.1234, 1.17549e-38, 2.2250738585072014e-308, '{"a": [1, "é"]}', 'b', 'x,y', 2024),
			(2, '', '', X'', b'0', '0000-00-00', NULL, '00:00:00', 0, 0, -0.5, 'null', 'a', '', 1901),
			(3, 'nulls', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		// Into a summary table on the default shard, grouped across shards.
		"INSERT INTO stats SELECT country, COUNT(*), SUM(score), MAX(score) * 3 FROM users GROUP BY country",
		// Rows that move: profiles are sharded by another algorithm.
		"INSERT INTO profiles (user_id, name) SELECT id, name FROM users WHERE id <= 30",
		"INSERT INTO profiles (user_id, name) SELECT id + 100, UPPER(name) FROM users ORDER BY id DESC LIMIT 7",
		"INSERT IGNORE INTO profiles (user_id, name) SELECT id, 'dup' FROM users WHERE id BETWEEN 25 AND 35",
		"INSERT INTO profiles (user_id, name) SELECT id, name FROM users WHERE id < 5 ON DUPLICATE KEY UPDATE visits = visits + 1",
		// A table copying itself reads everything first.
		"INSERT INTO profiles (user_id, name) SELECT user_id + 1000, name FROM profiles",
		// A global table from a sharded one.
		"INSERT INTO countries (code) SELECT DISTINCT country FROM users",
		// Every kind of value, into a table sharded by another column.
		"INSERT INTO kinds_by_name SELECT * FROM kinds",
		// Nothing selected: nothing inserted.
		"INSERT INTO profiles (user_id, name) SELECT id, name FROM users WHERE id < 0",
	}
	for _, step := range steps {
		if err := execAlike(t, step, proxy, oracle); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	for _, table := range []string{"stats", "profiles", "countries"} {
		compareTable(t, "after INSERT ... SELECT", table, proxy, oracle)
	}
	hexed := "SELECT id, HEX(name), HEX(l1), HEX(vb), HEX(b), d, dt, tm, amount, f, db, j, e, st, y FROM kinds_by_name ORDER BY id"
	if got, want := queryStrings(t, proxy, hexed), queryStrings(t, oracle, hexed); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("values copied:\n got %q\nwant %q", got, want)
	}
	// Each moved row is on its shard: a point select by key finds it.
	for _, id := range []int{3, 157, 1017} {
		if got := queryOne(t, proxy, "SELECT COUNT(*) FROM profiles WHERE user_id = ?", id); got != "1" {
			t.Errorf("profile %d by key: found %s", id, got)
		}
	}

	// Ids from the proxy's sequence: generated for each copied row, and
	// LAST_INSERT_ID() is the first of them.
	c, err := proxy.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.ExecContext(context.Background(), "INSERT INTO orders (user_id, note) SELECT id, name FROM users WHERE id % 7 = 0")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.RowsAffected()
	first, _ := res.LastInsertId()
	if got := queryOne(t, c, "SELECT LAST_INSERT_ID()"); n != 8 || got != fmt.Sprint(first) ||
		queryOne(t, c, "SELECT COUNT(*) FROM orders WHERE id >= ?", first) != "8" {
		t.Errorf("copied %d orders, first id %d, LAST_INSERT_ID() %s", n, first, got)
	}

	// Prepared, with parameters in the SELECT and in the ON DUPLICATE KEY
	// UPDATE: the copy runs with the values inlined.
	res, err = proxy.Exec("INSERT INTO profiles (user_id, name) SELECT id + ?, name FROM users WHERE country = ? ON DUPLICATE KEY UPDATE visits = visits + ?", 2000, "fr", 5)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 20 || queryOne(t, proxy, "SELECT COUNT(*) FROM profiles WHERE user_id > 2000") != "20" {
		t.Errorf("prepared copy: %d rows affected", n)
	}

	// Inside a transaction the copy is the transaction's.
	tx, err := proxy.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO profiles (user_id, name) SELECT id + 5000, name FROM users"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := queryOne(t, proxy, "SELECT COUNT(*) FROM profiles WHERE user_id > 5000"); got != "0" {
		t.Errorf("%s copied rows left after the rollback", got)
	}
}

// execAlike runs stmt through the proxy and on MariaDB, checks that both
// fail alike or change as many rows, and returns the proxy's error.
func execAlike(t *testing.T, stmt string, proxy, oracle *sql.DB) error {
	t.Helper()
	pres, perr := proxy.Exec(stmt)
	ores, oerr := oracle.Exec(stmt)
	if mysqlCode(perr) != mysqlCode(oerr) {
		t.Fatalf("%s: through the proxy %v, on MariaDB %v", stmt, perr, oerr)
	}
	if perr == nil {
		pn, _ := pres.RowsAffected()
		on, _ := ores.RowsAffected()
		if pn != on {
			t.Errorf("%s: %d rows affected through the proxy, %d on MariaDB", stmt, pn, on)
		}
	}
	return perr
}
