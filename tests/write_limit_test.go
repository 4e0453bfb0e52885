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

// UPDATE and DELETE with ORDER BY and LIMIT across shards change the rows
// one server would: a job queue's claim (UPDATE ... WHERE owner IS NULL
// ORDER BY priority DESC, id LIMIT 1), a purge of the oldest rows. With an
// order that has no ties the tables must end equal to MariaDB's.
func TestOrderedWriteLimitAcrossShards(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("wordered")
	proxy := idShardedProxy(t, prefix, "jobs")
	oracle := newOracleDB(t, prefix+"_oracle")
	var rows []string
	for id := 1; id <= 40; id++ {
		// Labels in mixed case compare by collation ('b' < 'C'), and each
		// repeats on several shards.
		label := []string{"a", "B", "c", "D", "b"}[id%5]
		rows = append(rows, fmt.Sprintf("(%d, %d, '%s', NULL, %d.%d)", id, id*7%4, label, id%9, id%4))
	}
	for _, db := range []*sql.DB{proxy, oracle} {
		mustExec(t, db, "CREATE TABLE jobs (id INT PRIMARY KEY, priority INT, label VARCHAR(5), owner VARCHAR(10), cost DECIMAL(5,2))")
		mustExec(t, db, "INSERT INTO jobs VALUES "+strings.Join(rows, ", "))
	}
	steps := []struct {
		stmt string
		args []any
	}{
		{"UPDATE jobs SET owner = 'w1' WHERE owner IS NULL ORDER BY priority DESC, id LIMIT 1", nil},
		{"UPDATE jobs SET owner = ? WHERE owner IS NULL ORDER BY priority DESC, id LIMIT ?", []any{"w2", 3}},
		{"UPDATE jobs SET owner = 'w3' WHERE owner IS NULL ORDER BY label, id DESC LIMIT 6", nil},
		{"UPDATE jobs SET cost = cost + 1 ORDER BY cost DESC, id LIMIT 5", nil},
		{"UPDATE jobs SET owner = NULL WHERE owner LIKE ? ORDER BY id * 3 % 7, id LIMIT ?", []any{"w%", "4"}},
		{"DELETE FROM jobs WHERE priority < 3 ORDER BY cost, id LIMIT 4", nil},
		{"DELETE FROM jobs WHERE label = ? ORDER BY id DESC LIMIT ?", []any{"b", 2}},
		{"DELETE FROM jobs ORDER BY label DESC, id LIMIT 0", nil},
		{"DELETE FROM jobs WHERE owner IS NULL ORDER BY id LIMIT 1000", nil},
	}
	for _, s := range steps {
		got, want := writeOutcome(t, proxy, s.stmt, s.args, "SELECT * FROM jobs ORDER BY id"), writeOutcome(t, oracle, s.stmt, s.args, "SELECT * FROM jobs ORDER BY id")
		if got != want {
			t.Errorf("%s %v\nthrough the proxy: %s\non MariaDB:        %s", s.stmt, s.args, got, want)
		}
	}
	// Inside a transaction the rows are the transaction's: a rollback
	// undoes the claim.
	tx, err := proxy.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO jobs VALUES (41, 9, 'z', NULL, 0), (42, 9, 'z', NULL, 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE jobs SET owner = 'tx' WHERE owner IS NULL ORDER BY priority DESC, id LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	if got := queryOne(t, tx, "SELECT id FROM jobs WHERE owner = 'tx'"); got != "41" {
		t.Errorf("the claim inside the transaction took job %s, want 41", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := queryOne(t, proxy, "SELECT COUNT(*) FROM jobs WHERE id > 40 OR owner = 'tx'"); got != "0" {
		t.Errorf("%s rows of the rolled back transaction left", got)
	}
}

// Workers claiming jobs at the same time through the proxy each get their
// own: the rows are locked shard after shard, so concurrent claims wait
// for each other instead of deadlocking across nodes. Two shards on two
// nodes: read at once, one claim could lock shard 0's first row while
// another locked shard 1's, and both would wait out the lock timeout.
func TestConcurrentOrderedClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const jobs, workers = 60, 4
	db := jobQueue(t, "wclaim", jobs)
	claimed := claimAll(t, workers, func(w int) (bool, error) {
		res, err := db.Exec("UPDATE jobs SET owner = ? WHERE owner IS NULL ORDER BY id LIMIT 1", w)
		if err != nil {
			return false, err
		}
		n, _ := res.RowsAffected()
		return n > 0, nil
	})
	total := 0
	for _, n := range claimed {
		total += n
	}
	if total != jobs {
		t.Errorf("workers claimed %d jobs (%v), want %d", total, claimed, jobs)
	}
	got := queryStrings(t, db, "SELECT owner, COUNT(*) FROM jobs GROUP BY owner ORDER BY owner")
	want := [][]string{}
	for w, n := range claimed {
		if n > 0 {
			want = append(want, []string{fmt.Sprint(w), fmt.Sprint(n)})
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("owners in the table %v, claims counted by the workers %v", got, want)
	}
}

// The two-step claim, SELECT ... FOR UPDATE then UPDATE in a transaction,
// across shards: the locking SELECT reads the shards one after another,
// so concurrent claims wait for each other instead of deadlocking across
// nodes until innodb_lock_wait_timeout.
func TestConcurrentLockingReads(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	db := jobQueue(t, "wlock", 200)
	claimAll(t, 8, func(w int) (bool, error) {
		tx, err := db.Begin()
		if err != nil {
			return false, err
		}
		defer tx.Rollback()
		var id int
		err = tx.QueryRow("SELECT id FROM jobs WHERE owner IS NULL ORDER BY id LIMIT 1 FOR UPDATE").Scan(&id)
		if err == sql.ErrNoRows {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if _, err := tx.Exec("UPDATE jobs SET owner = ? WHERE id = ?", w, id); err != nil {
			return false, err
		}
		return true, tx.Commit()
	})
	if got := queryOne(t, db, "SELECT COUNT(*) FROM jobs WHERE owner IS NULL"); got != "0" {
		t.Errorf("%s jobs left unclaimed", got)
	}
}

// jobQueue opens schema shop, whose table jobs (id, owner) is sharded by
// id over two shards on two nodes, with jobs rows unclaimed.
func jobQueue(t *testing.T, prefix string, jobs int) *sql.DB {
	t.Helper()
	cfg := baseConfig()
	cfg.Schemas = append(cfg.Schemas, conf.Schema{
		Name: "shop", ReadFrom: conf.ReadFromPrimary, Shards: shardsOn(uniqueName(prefix), "n0", "n1"),
		Tables: []conf.Table{{Name: "jobs", ShardKey: "id", Algorithm: "mod"}},
	})
	db := startProxy(t, cfg).open(t, "shop")
	mustExec(t, db, "CREATE TABLE jobs (id INT PRIMARY KEY, owner INT)")
	var rows []string
	for id := 1; id <= jobs; id++ {
		rows = append(rows, fmt.Sprintf("(%d, NULL)", id))
	}
	mustExec(t, db, "INSERT INTO jobs VALUES "+strings.Join(rows, ", "))
	return db
}

// claimAll runs workers at once, each claiming with claim until it finds
// nothing left, and returns how many each claimed.
func claimAll(t *testing.T, workers int, claim func(worker int) (bool, error)) []int {
	t.Helper()
	claimed := make([]int, workers)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for {
				ok, err := claim(w)
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				if !ok {
					errs <- nil
					return
				}
				claimed[w]++
			}
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	return claimed
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
	var listed []conf.Table
	for _, name := range tables {
		listed = append(listed, conf.Table{Name: name, ShardKey: "id", Algorithm: "mod"})
	}
	return shopProxy(t, prefix, listed, nil)
}

// shopProxy serves schema shop, tables over four shards on two nodes,
// with cfg (nil: baseConfig) for the rest.
func shopProxy(t *testing.T, prefix string, tables []conf.Table, cfg *conf.Config) *sql.DB {
	t.Helper()
	if cfg == nil {
		cfg = baseConfig()
	}
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", prefix, tables))
	return startProxy(t, cfg).open(t, "shop")
}
