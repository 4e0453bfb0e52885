package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/router"
)

// TestShapedStatements: texts that differ only in literals (a client with
// prepared statements off) run from one plan of their shape after the first;
// every row must still land on, and be read from, the shard its key names.
func TestShapedStatements(t *testing.T) {
	c := newShardedCluster(t)
	db := c.db
	mustExec(t, db, "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(40))")
	name := func(i int) string { return fmt.Sprintf(`O'Brien \%d "q"`, i) }
	quote := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
	}
	for i := 1; i <= 40; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, %s)", i, quote(name(i))))
	}
	for i := 1; i <= 40; i++ {
		shard := c.expectedShard(t, "users", router.IntValue(int64(i)))
		for s, direct := range c.shards {
			n := queryOne(t, direct, "SELECT COUNT(*) FROM users WHERE id = ?", i)
			if want := map[bool]string{true: "1", false: "0"}[s == shard]; n != want {
				t.Fatalf("row %d: %s on shard %d, want it only on shard %d", i, n, s, shard)
			}
		}
		if got := queryOne(t, db, fmt.Sprintf("SELECT name FROM users WHERE id = %d", i)); got != name(i) {
			t.Fatalf("row %d: name %q, want %q", i, got, name(i))
		}
		if got := queryOne(t, db, fmt.Sprintf("SELECT id FROM users WHERE id = %d AND name = %s", i, quote(name(i)))); got != fmt.Sprint(i) {
			t.Fatalf("row %d by id and name: %q", i, got)
		}
	}
	// Several shards: the merge is planned from the text itself, where
	// ORDER BY 2 names a column (in the shape it would be a constant).
	for _, c := range []struct{ ids, order [3]int }{{[3]int{1, 2, 3}, [3]int{3, 2, 1}}, {[3]int{7, 12, 30}, [3]int{7, 30, 12}}} {
		got := queryStrings(t, db, fmt.Sprintf("SELECT id, name FROM users WHERE id IN (%d, %d, %d) ORDER BY 2 DESC, 1", c.ids[0], c.ids[1], c.ids[2]))
		var want [][]string
		for _, i := range c.order {
			want = append(want, []string{fmt.Sprint(i), name(i)})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("ORDER BY 2 DESC: got %v, want %v", got, want)
		}
	}
	for i := 1; i <= 5; i++ {
		if got := queryOne(t, db, fmt.Sprintf("SELECT COUNT(*) FROM users WHERE id > %d", i*5)); got != fmt.Sprint(40-i*5) {
			t.Fatalf("scatter count above %d: %s", i*5, got)
		}
		mustExec(t, db, fmt.Sprintf("UPDATE users SET name = 'renamed %d' WHERE id = %d", i, i))
		if got := queryOne(t, db, fmt.Sprintf("SELECT name FROM users WHERE id = %d", i)); got != fmt.Sprintf("renamed %d", i) {
			t.Fatalf("after update %d: %q", i, got)
		}
	}
}

// TestInsertWithoutColumnList: the proxy lists the table's columns itself,
// so the shard key is found; DDL through the proxy is followed at once.
func TestInsertWithoutColumnList(t *testing.T) {
	c := newShardedCluster(t)
	db := c.db
	mustExec(t, db, "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(40))")
	mustExec(t, db, "INSERT INTO users VALUES (1, 'one')")
	mustExec(t, db, "INSERT INTO users VALUES (2, 'two'), (3, 'three'), (6, 'six')")
	mustExec(t, db, "INSERT INTO users VALUES (?, ?)", 7, "seven") // prepared
	mustExec(t, db, "ALTER TABLE users ADD COLUMN extra INT")
	mustExec(t, db, "INSERT INTO users VALUES (8, 'eight', 88)")
	want := map[int]string{1: "one", 2: "two", 3: "three", 6: "six", 7: "seven", 8: "eight"}
	for id, name := range want {
		shard := c.expectedShard(t, "users", router.IntValue(int64(id)))
		if got := queryOne(t, c.shards[shard], "SELECT name FROM users WHERE id = ?", id); got != name {
			t.Fatalf("row %d on shard %d: %q, want %q", id, shard, got, name)
		}
	}
	if got := queryOne(t, db, "SELECT extra FROM users WHERE id = 8"); got != "88" {
		t.Fatalf("extra after ALTER: %s", got)
	}
	if got := queryOne(t, db, "SELECT COUNT(*) FROM users"); got != "6" {
		t.Fatalf("count %s", got)
	}
	_, err := db.Exec("INSERT INTO users VALUES (9, 'nine')")
	if mysqlCode(err) != 1136 {
		t.Fatalf("too few values: %v, want 1136 from the backend", err)
	}
}
