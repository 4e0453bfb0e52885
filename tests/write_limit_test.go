package tests

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

// UPDATE and DELETE with LIMIT across shards: MariaDB changes any n of the
// rows the WHERE matches; the proxy runs the shards one after another,
// each given what the LIMIT leaves. A purge job's loop (DELETE ... LIMIT n
// until nothing is left) needs it: it cannot name a shard.
func TestWriteLimitAcrossShards(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("wlimit")
	proxy := idShardedProxy(t, prefix, "events")
	oracle := newOracleDB(t, prefix+"_oracle")
	var rows []string
	for id := 1; id <= 60; id++ {
		kind := []string{"old", "new", "old"}[id%3]
		rows = append(rows, fmt.Sprintf("(%d, '%s', 0)", id, kind))
	}
	for _, db := range []*sql.DB{proxy, oracle} {
		mustExec(t, db, "CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(5), hits INT)")
		mustExec(t, db, "INSERT INTO events VALUES "+strings.Join(rows, ", "))
	}
	// The same statements report the same counts and leave as many rows
	// of each kind, and as many hits (which rows is each server's choice).
	outcome := func(db *sql.DB, stmt string, args ...any) string {
		res, err := db.Exec(stmt, args...)
		if err != nil {
			return fmt.Sprintf("error %d", mysqlCode(err))
		}
		n, _ := res.RowsAffected()
		summary := "SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind"
		if strings.HasPrefix(stmt, "UPDATE") {
			summary = "SELECT kind, COUNT(*), SUM(hits) FROM events GROUP BY kind ORDER BY kind"
		}
		return fmt.Sprintf("%d rows; kinds %v", n, queryStrings(t, db, summary))
	}
	steps := []struct {
		stmt string
		args []any
	}{
		{"UPDATE events SET hits = hits + 1 WHERE kind = 'old' LIMIT 7", nil},
		{"UPDATE events SET hits = hits + 1 WHERE kind = ? LIMIT ?", []any{"new", 25}},
		{"DELETE FROM events WHERE kind = 'old' LIMIT 9", nil},
		{"DELETE FROM events WHERE kind = ? LIMIT ?", []any{"old", "4"}},
		{"DELETE FROM events WHERE kind = 'new' LIMIT 0", nil},
		{"DELETE FROM events WHERE id IN (4, 7, 10, 13) LIMIT 2", nil}, // 'new' rows, on four shards
	}
	for _, s := range steps {
		got, want := outcome(proxy, s.stmt, s.args...), outcome(oracle, s.stmt, s.args...)
		if got != want {
			t.Errorf("%s %v\nthrough the proxy: %s\non MariaDB:        %s", s.stmt, s.args, got, want)
		}
	}
	// Which rows come first is known only across all shards: refused.
	if _, err := proxy.Exec("DELETE FROM events WHERE kind = 'old' ORDER BY id LIMIT 1"); mysqlCode(err) != 1235 {
		t.Errorf("DELETE ... ORDER BY ... LIMIT across shards: %v, want 1235", err)
	}
	// A purge loop ends with the same rows gone, in as many rounds.
	purge := func(db *sql.DB) string {
		rounds, total := 0, int64(0)
		for {
			res, err := db.Exec("DELETE FROM events WHERE kind = 'new' LIMIT 4")
			if err != nil {
				t.Fatal(err)
			}
			n, _ := res.RowsAffected()
			if n == 0 {
				break
			}
			rounds++
			total += n
		}
		return fmt.Sprintf("%d rows in %d rounds, %s left", total, rounds, queryOne(t, db, "SELECT COUNT(*) FROM events"))
	}
	if got, want := purge(proxy), purge(oracle); got != want {
		t.Errorf("purge loop: through the proxy %s, on MariaDB %s", got, want)
	}
}

// TestUpdateLimitCountsMatchedRows: an UPDATE's LIMIT counts the rows it
// matches, changed or not. Shard 0 holds five matching rows that already
// have the new value: they use the LIMIT up, and shard 1's rows stay as a
// server whose scan met shard 0's rows first would leave them.
func TestUpdateLimitCountsMatchedRows(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	db := idShardedProxy(t, uniqueName("wmatch"), "events")
	mustExec(t, db, "CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(5))")
	// ids 4..20 on shard 0 already 'x'; 1, 5, 9 on shard 1 'old'.
	mustExec(t, db, "INSERT INTO events VALUES (4, 'x'), (8, 'x'), (12, 'x'), (16, 'x'), (20, 'x'), (1, 'old'), (5, 'old'), (9, 'old')")
	res, err := db.Exec("UPDATE events SET kind = 'x' WHERE id IN (1, 4, 5, 8, 9, 12, 16, 20) LIMIT 5")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 0 {
		t.Errorf("changed %d rows, want 0: shard 0's five matched rows use LIMIT 5 up", n)
	}
	if got := queryOne(t, db, "SELECT COUNT(*) FROM events WHERE kind = 'old'"); got != "3" {
		t.Errorf("%s rows left 'old', want 3", got)
	}
}

// idShardedProxy opens schema shop, whose tables are sharded by id mod 4
// over four databases named after prefix.
func idShardedProxy(t *testing.T, prefix string, tables ...string) *sql.DB {
	t.Helper()
	cfg := baseConfig()
	var listed []conf.Table
	for _, name := range tables {
		listed = append(listed, conf.Table{Name: name, ShardKey: "id", Algorithm: "mod"})
	}
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", prefix, listed))
	return startProxy(t, cfg).open(t, "shop")
}
