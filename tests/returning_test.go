package tests

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/router"
)

// TestReturningMatchesMariaDB: INSERT, REPLACE and DELETE ... RETURNING
// (which Django and SQLAlchemy send to MariaDB 10.5+) on a sharded schema
// answer as MariaDB does: an INSERT's rows in VALUES order whatever shards
// they went to, as text and as a prepared statement; a failing shard
// undoes the statement on the others.
func TestReturningMatchesMariaDB(t *testing.T) {
	c := newOracleCluster(t)
	a, b := stepsOf(0), stepsOf(1)
	compareClients(t, c.proxy, c.oracle, []clientStep{
		// Shards 1, 2, 3, 0, 1: merged shard by shard, the order would differ.
		a("INSERT INTO users (id, name, city) VALUES (1001,'r1','oslo'),(1002,'r2',NULL),(1003,'r3','rome'),(1004,'r4','lima'),(1005,'r5','x') RETURNING id, name, UPPER(city) AS c, users.id * 2, CONCAT(name, '!')"),
		a("INSERT INTO users (id, name) VALUES (?, ?), (?, ?), (?, ?) RETURNING id, name", 1013, "p3", 1010, "p0", 1011, "p1"),
		a("INSERT INTO users (id, name, age) VALUES (1020, 's', 30) RETURNING *"),
		a("REPLACE INTO users (id, name) VALUES (1001, 'rr'), (1030, 'new') RETURNING id, name"),
		// One shard (1001 and 1009 are both on shard 1): the ignored row
		// returns nothing.
		a("INSERT IGNORE INTO users (id, name) VALUES (1001, 'dup'), (1009, 'n9') RETURNING id, name"),
		a("INSERT INTO countries (id, name) VALUES (50, 'xx'), (51, 'yy') RETURNING *"),
		a("DELETE FROM countries WHERE id >= 50 RETURNING id, name"),
		a("DELETE FROM users WHERE id = ? RETURNING id, name, age + 1 AS next", 1020),
		// The duplicate is on shard 1; the row for shard 0 must not stay.
		a("INSERT INTO users (id, name) VALUES (1040, 'a'), (1041, 'b'), (1001, 'dup') RETURNING id"),
		a("SELECT COUNT(*) FROM users WHERE id IN (1040, 1041)"),
		a("INSERT INTO users (id, name) VALUES (1042, 'x'), (1043, 'y') RETURNING nosuch"),
		a("SELECT LAST_INSERT_ID(), COUNT(*) FROM users WHERE id >= 1040"),
		b("BEGIN"),
		b("INSERT INTO users (id, name) VALUES (1050, 'a'), (1051, 'b') RETURNING id"),
		b("SELECT COUNT(*) FROM users WHERE id IN (1050, 1051)"),
		b("ROLLBACK"),
		a("SELECT COUNT(*) FROM users WHERE id IN (1050, 1051)"),
	})

	// A DELETE over several shards returns every deleted row; their order
	// is not defined, as on one server without ORDER BY.
	scatter := "DELETE FROM users WHERE id BETWEEN 1001 AND 1013 RETURNING id, name"
	got, want := rowsInAnyOrder(t, c.proxy, scatter), rowsInAnyOrder(t, c.oracle, scatter)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) < 8 {
		t.Errorf("%s:\nthrough the proxy %v\non MariaDB        %v", scatter, got, want)
	}

	// The logical schema's name in the list is the shard's on each shard.
	qualified := func(schema string) string {
		return fmt.Sprintf("INSERT INTO %[1]s.users (id, name) VALUES (1060, 'q'), (1061, 'r') RETURNING %[1]s.users.id, %[1]s.users.name", schema)
	}
	got, want = rowsInAnyOrder(t, c.proxy, qualified("scat")), rowsInAnyOrder(t, c.oracle, qualified(c.oracleName))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("RETURNING qualified by the schema:\nthrough the proxy %v\non MariaDB        %v", got, want)
	}

	// What the rows of several shards cannot answer exactly is refused.
	for _, refused := range []sessionStep{
		{"INSERT IGNORE INTO users (id, name) VALUES (1070, 'a'), (1071, 'b') RETURNING id", nil},
		{"INSERT INTO users (id, name) VALUES (1072, 'a') RETURNING (SELECT COUNT(*) FROM orders)", nil},
		{"INSERT INTO users (id, name) VALUES (?, 'a') RETURNING id + ?", []any{1073, 1}},
	} {
		if _, err := c.proxy.Exec(refused.sql, refused.args...); mysqlCode(err) != 1235 {
			t.Errorf("%s: got %v, want error 1235", refused.sql, err)
		}
	}
	if n := queryOne(t, c.proxy, "SELECT COUNT(*) FROM users WHERE id BETWEEN 1070 AND 1073"); n != "0" {
		t.Errorf("refused statements wrote %s rows", n)
	}
}

// TestReturningGeneratedIDs: ids the proxy generates come back in VALUES
// order, each with its row, which sits on the shard its id routes to;
// LAST_INSERT_ID() is the first of them, as on MariaDB.
func TestReturningGeneratedIDs(t *testing.T) {
	c := newShardedCluster(t)
	if err := c.p.srv.Reload(withAutoIncrement(c)); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c.db, "CREATE TABLE users (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))")
	conn, err := c.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	names := []any{"a", "b", "c", "d", "e", "f"}
	for _, prepared := range []bool{false, true} {
		text := "INSERT INTO users (name) VALUES ('a'),('b'),('c'),('d'),('e'),('f') RETURNING id, name"
		var args []any
		if prepared {
			text, args = "INSERT INTO users (name) VALUES (?),(?),(?),(?),(?),(?) RETURNING id, name", names
		}
		rows, err := conn.QueryContext(t.Context(), text, args...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readRows(rows)
		if err != nil || len(got) != len(names) {
			t.Fatalf("%s: %v, %v", text, got, err)
		}
		var first uint64
		for i, row := range got {
			var id uint64
			fmt.Sscan(row[0], &id)
			if i == 0 {
				first = id
			}
			if id != first+uint64(i) || row[1] != names[i] {
				t.Fatalf("%s: row %d is %v; want id %d and name %v", text, i, row, first+uint64(i), names[i])
			}
			shard := c.expectedShard(t, "users", router.UintValue(id))
			if n := queryOne(t, c.shards[shard], "SELECT name FROM users WHERE id = ?", id); n != names[i] {
				t.Errorf("row %d on shard %d has name %q, want %v", id, shard, n, names[i])
			}
		}
		var last uint64
		if err := conn.QueryRowContext(t.Context(), "SELECT LAST_INSERT_ID()").Scan(&last); err != nil || last != first {
			t.Errorf("LAST_INSERT_ID() after %s: %d (%v), want %d", text, last, err, first)
		}
	}
}

// rowsInAnyOrder runs a statement and returns its rows, sorted.
func rowsInAnyOrder(t *testing.T, db *sql.DB, query string) [][]string {
	t.Helper()
	rows := queryStrings(t, db, query)
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return rows
}
