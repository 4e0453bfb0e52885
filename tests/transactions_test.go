package tests

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/router"
)

// xaPending lists the XA branches prepared on every primary.
func xaPending(t *testing.T) []string {
	t.Helper()
	var out []string
	for i, n := range nodes {
		db, err := n.Primary.DB("")
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range queryStrings(t, db, "XA RECOVER") {
			out = append(out, fmt.Sprintf("n%d:%s", i, row[3]))
		}
		db.Close()
	}
	return out
}

func TestCrossShardTransactions(t *testing.T) {
	c := newShardedCluster(t)
	db := c.db
	mustExec(t, db, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(8))")
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
	if c.expectedShard(t, "users", router.IntValue(1)) >= 2 || c.expectedShard(t, "users", router.IntValue(2)) < 2 {
		t.Fatal("test assumes users 1 and 2 live on different nodes")
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE users SET name = 'tx1' WHERE id = 1")
	mustExec(t, tx, "UPDATE users SET name = 'tx2' WHERE id = 2")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if a, b := queryOne(t, db, "SELECT name FROM users WHERE id = 1"), queryOne(t, db, "SELECT name FROM users WHERE id = 2"); a != "tx1" || b != "tx2" {
		t.Fatalf("after commit: %s %s", a, b)
	}
	tx, _ = db.Begin()
	mustExec(t, tx, "UPDATE users SET name = 'no1' WHERE id = 1")
	mustExec(t, tx, "UPDATE users SET name = 'no2' WHERE id = 2")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if a, b := queryOne(t, db, "SELECT name FROM users WHERE id = 1"), queryOne(t, db, "SELECT name FROM users WHERE id = 2"); a != "tx1" || b != "tx2" {
		t.Fatalf("after rollback: %s %s", a, b)
	}
	// One statement over every shard is atomic: a failure on one shard
	// (a name too long for the column, strict mode) leaves every shard as it was.
	mustExec(t, db, "UPDATE users SET name = 'longname' WHERE id = 3")
	if _, err := db.Exec("UPDATE users SET name = CONCAT(name, 'x')"); mysqlCode(err) != 1406 {
		t.Fatalf("scatter update that fails on one shard: %v, want 1406", err)
	}
	got := queryStrings(t, db, "SELECT name FROM users WHERE id = 1")
	if got[0][0] != "tx1" {
		t.Fatalf("a failed multi-shard UPDATE changed shard rows: %v", got)
	}
	if p := xaPending(t); len(p) != 0 {
		t.Fatalf("prepared XA branches left behind: %v", p)
	}
}

// TestXARecoveryAfterCrash kills the proxy between PREPARE and COMMIT, with
// and without the decision recorded, and restarts it: every branch is
// resolved, committed exactly when the decision was recorded.
func TestXARecoveryAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		failpoint string
		committed bool
	}{{"after-decision", true}, {"before-decision", false}} {
		t.Run(tc.failpoint, func(t *testing.T) {
			prefix := uniqueName("xa")
			config := writeConfig(t, fmt.Sprintf(`
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
users: [{name: app, password: %s}]
nodes:
  - {name: n0, primary: %s, user: root}
  - {name: n1, primary: %s, user: root}
schemas:
  - name: shop
    shards: [{node: n0, database: %s_0}, {node: n0, database: %s_1}, {node: n1, database: %s_2}, {node: n1, database: %s_3}]
    tables: [{name: users, shard_key: id, algorithm: mod}]
`, appPassword, nodes[0].Primary.Addr, nodes[1].Primary.Addr, prefix, prefix, prefix, prefix))
			t.Setenv("SHARDPROXY_FAILPOINT", tc.failpoint)
			cmd, addr, logs := startBinary(t, config)
			db, err := sql.Open("mysql", fmt.Sprintf("app:%s@tcp(%s)/shop", appPassword, addr))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			mustExec(t, db, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(10))")
			mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'before')")
			mustExec(t, db, "INSERT INTO users (id, name) VALUES (2, 'before')")
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, "UPDATE users SET name = 'after' WHERE id = 1")
			mustExec(t, tx, "UPDATE users SET name = 'after' WHERE id = 2")
			if err := tx.Commit(); err == nil {
				t.Fatal("commit succeeded although the proxy crashed in it")
			}
			_ = cmd.Wait()
			if !strings.Contains(logs.String(), "failpoint "+tc.failpoint) {
				t.Fatalf("the proxy did not stop at the failpoint:\n%s", logs.String())
			}
			if p := xaPending(t); len(p) < 2 {
				t.Fatalf("expected prepared branches after the crash, XA RECOVER shows %v", p)
			}
			os.Unsetenv("SHARDPROXY_FAILPOINT")
			_, addr, _ = startBinary(t, config)
			deadline := time.Now().Add(30 * time.Second)
			for len(xaPending(t)) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("branches still prepared 30s after restart: %v", xaPending(t))
				}
				time.Sleep(100 * time.Millisecond)
			}
			db2, _ := sql.Open("mysql", fmt.Sprintf("app:%s@tcp(%s)/shop", appPassword, addr))
			defer db2.Close()
			want := "before"
			if tc.committed {
				want = "after"
			}
			for _, id := range []int{1, 2} {
				if got := queryOne(t, db2, "SELECT name FROM users WHERE id = ?", id); got != want {
					t.Fatalf("row %d is %q after recovery, want %q", id, got, want)
				}
			}
		})
	}
}

func TestAutoIncrementIDs(t *testing.T) {
	c := newShardedCluster(t)
	// The cluster's users table is sharded on id; declare id auto_increment.
	if err := c.p.srv.Reload(withAutoIncrement(c)); err != nil {
		t.Fatal(err)
	}
	db := c.db
	mustExec(t, db, "CREATE TABLE users (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))")
	res := mustExec(t, db, "INSERT INTO users (name) VALUES ('one')")
	first, _ := res.LastInsertId()
	if first == 0 {
		t.Fatal("no id generated")
	}
	if got := queryOne(t, db, "SELECT name FROM users WHERE id = ?", first); got != "one" {
		t.Fatalf("row by generated id %d: %q", first, got)
	}
	shard := c.expectedShard(t, "users", router.IntValue(first))
	if got := queryOne(t, c.shards[shard], "SELECT COUNT(*) FROM users WHERE id = ?", first); got != "1" {
		t.Fatalf("row %d not on shard %d", first, shard)
	}
	res = mustExec(t, db, "INSERT INTO users (id, name) VALUES (NULL, 'a'), (0, 'b'), (NULL, 'c')")
	multi, _ := res.LastInsertId()
	if multi != first+1 {
		t.Fatalf("multi-row insert LastInsertId %d, want the first generated id %d", multi, first+1)
	}
	conn, _ := db.Conn(t.Context())
	defer conn.Close()
	r, err := conn.ExecContext(t.Context(), "INSERT INTO users (name) VALUES (?)", "prepared")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := r.LastInsertId()
	var lid int64
	if err := conn.QueryRowContext(t.Context(), "SELECT LAST_INSERT_ID()").Scan(&lid); err != nil || lid != pid {
		t.Fatalf("LAST_INSERT_ID() = %d (%v), OK packet said %d", lid, err, pid)
	}
	preparedLastInsertID(t, conn, "INSERT INTO users (name) VALUES ('again')")
}

// preparedLastInsertID checks that a prepared SELECT LAST_INSERT_ID() answers
// each execution with the id of the insert just before it, not the one
// before its prepare.
func preparedLastInsertID(t *testing.T, conn *sql.Conn, insert string) {
	t.Helper()
	stmt, err := conn.PrepareContext(t.Context(), "SELECT LAST_INSERT_ID()")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for range 3 {
		r, err := conn.ExecContext(t.Context(), insert)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := r.LastInsertId()
		var lid int64
		if err := stmt.QueryRowContext(t.Context()).Scan(&lid); err != nil || lid != id {
			t.Fatalf("prepared LAST_INSERT_ID() = %d (%v), the insert before it got %d", lid, err, id)
		}
	}
}

// TestGivenIDsMoveTheSequence: an id an INSERT gives itself moves the
// sequence past it, as MariaDB's counter moves (loading fixtures with ids,
// then creating rows, must not collide), within this proxy's block and
// beyond it, given as a literal or a parameter, and for another proxy
// sharing the backends.
func TestGivenIDsMoveTheSequence(t *testing.T) {
	c := newShardedCluster(t)
	cfg := withAutoIncrement(c)
	if err := c.p.srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c.db, "CREATE TABLE users (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))")
	generated := func(db *sql.DB) int64 {
		t.Helper()
		id, err := mustExec(t, db, "INSERT INTO users (name) VALUES ('generated')").LastInsertId()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := generated(c.db)
	for _, given := range []struct {
		sql  string
		args []any
		id   int64
	}{
		{"INSERT INTO users (id, name) VALUES (%d, 'near')", nil, first + 3},
		{"INSERT INTO users (id, name) VALUES (%d, 'far'), (NULL, 'x')", nil, first + 5000},
		{"INSERT INTO users (id, name) VALUES (?, 'param')", []any{first + 9000}, first + 9000},
		{"INSERT INTO users (id, name) VALUES ('%d', 'string')", nil, first + 9500},
	} {
		text := given.sql
		if given.args == nil {
			text = fmt.Sprintf(given.sql, given.id)
		}
		mustExec(t, c.db, text, given.args...)
		if got := generated(c.db); got <= given.id {
			t.Errorf("after %s (id %d) the next generated id is %d", text, given.id, got)
		}
	}
	if got := generated(startProxy(t, cfg).open(t, "shop")); got <= first+9500 {
		t.Errorf("another proxy generated %d after ids up to %d were given", got, first+9500)
	}
	if n := queryOne(t, c.db, "SELECT COUNT(*) FROM users"); n != "11" {
		t.Errorf("%s rows, want 11", n)
	}
}

// TestIDsUniqueAcrossProxies: clients of two proxies sharing the backends
// insert 100,000 rows without ids; every id is unique and every client's
// LAST_INSERT_ID() is its own rows' first id.
func TestIDsUniqueAcrossProxies(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	c := newShardedCluster(t)
	cfg := withAutoIncrement(c)
	if err := c.p.srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	second := startProxy(t, cfg)
	mustExec(t, c.db, "CREATE TABLE users (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, owner INT)")
	const clients, statements, rowsPer = 8, 50, 250
	for _, err := range concurrently(clients, func(k int) error {
		p := c.p
		if k%2 == 1 {
			p = second
		}
		db, err := sql.Open("mysql", p.dsn("shop", "interpolateParams=true"))
		if err != nil {
			return err
		}
		defer db.Close()
		conn, err := db.Conn(t.Context())
		if err != nil {
			return err
		}
		defer conn.Close()
		values := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("(%d),", k), rowsPer), ",")
		for i := 0; i < statements; i++ {
			res, err := conn.ExecContext(t.Context(), "INSERT INTO users (owner) VALUES "+values)
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			var lid int64
			if err := conn.QueryRowContext(t.Context(), "SELECT LAST_INSERT_ID()").Scan(&lid); err != nil {
				return err
			}
			var owner int
			if err := conn.QueryRowContext(t.Context(), "SELECT owner FROM users WHERE id = ?", id+rowsPer-1).Scan(&owner); err != nil || lid != id || owner != k {
				return fmt.Errorf("client %d: LAST_INSERT_ID %d, OK id %d, last row owner %d (%v)", k, lid, id, owner, err)
			}
		}
		return nil
	}) {
		t.Fatal(err)
	}
	var ids []string
	for _, shard := range c.shards {
		for _, row := range queryStrings(t, shard, "SELECT id FROM users") {
			ids = append(ids, row[0])
		}
	}
	sort.Strings(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Fatalf("id %s appears twice", ids[i])
		}
	}
	if len(ids) != clients*statements*rowsPer {
		t.Fatalf("%d rows on the shards, want %d", len(ids), clients*statements*rowsPer)
	}
}

// TestFlaskMicroservice runs the seed Flask + Flask-SQLAlchemy app unchanged
// against a schema where its users table is sharded by id.
func TestFlaskMicroservice(t *testing.T) {
	c := newShardedCluster(t)
	cfg := withAutoIncrement(c)
	sc := &cfg.Schemas[len(cfg.Schemas)-1]
	for i := range sc.Tables {
		if sc.Tables[i].Name == "users" {
			sc.Tables[i].Name = "user" // the model's table name
		}
	}
	if err := c.p.srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/flask_app.py", "20")
	cmd.Env = append(os.Environ(), "DATABASE_URL=mysql+pymysql://"+appUser+":"+appPassword+"@"+c.p.addr+"/shop")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("flask app: %v\n%s%s", err, out, stderr)
	}
	var result struct {
		IDs      []uint64 `json:"ids"`
		AllFound bool     `json:"all_found"`
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("flask app output %q: %v", out, err)
	}
	if len(result.IDs) != 20 || !result.AllFound {
		t.Fatalf("flask app: %+v", result)
	}
	onShards := 0
	used := map[int]bool{}
	for i, shard := range c.shards {
		n := 0
		fmt.Sscan(queryOne(t, shard, "SELECT COUNT(*) FROM `user`"), &n)
		onShards += n
		if n > 0 {
			used[i] = true
		}
	}
	if onShards != 20 || len(used) < 2 {
		t.Fatalf("%d rows on %d shards, want 20 spread over the shards", onShards, len(used))
	}
}

// TestSavepointsAcrossNodes: a savepoint set before the transaction
// reached a node holds there too, as on one server: ROLLBACK TO it undoes
// that node's work, RELEASE finds it (Django's nested atomic blocks), and
// a savepoint released, rolled past or outside a transaction is unknown.
func TestSavepointsAcrossNodes(t *testing.T) {
	c := newOracleCluster(t)
	a, b := stepsOf(0), stepsOf(1)
	// users is sharded by id mod 4 over nodes n0, n1, n0, n1.
	compareClients(t, c.proxy, c.oracle, []clientStep{
		a("BEGIN"), a("SAVEPOINT a"),
		a("INSERT INTO users (id, name) VALUES (2001, 'n1')"),
		a("SAVEPOINT b"),
		a("INSERT INTO users (id, name) VALUES (2002, 'n0')"),
		a("ROLLBACK TO SAVEPOINT b"),
		a("SELECT id FROM users WHERE id > 2000 ORDER BY id"),
		a("RELEASE SAVEPOINT a"),
		a("ROLLBACK TO SAVEPOINT b"),
		a("SAVEPOINT c"),
		a("INSERT INTO users (id, name) VALUES (2003, 'n1'), (2004, 'n0')"),
		a("ROLLBACK TO SAVEPOINT c"),
		a("SAVEPOINT c"), a("SAVEPOINT d"), a("SAVEPOINT c"),
		a("RELEASE SAVEPOINT d"),
		a("COMMIT"),
		a("RELEASE SAVEPOINT c"),
		a("SELECT id FROM users WHERE id > 2000 ORDER BY id"),
		a("SAVEPOINT z"), a("RELEASE SAVEPOINT z"),
		b("SET autocommit = 0"),
		b("SAVEPOINT s1"),
		b("INSERT INTO users (id, name) VALUES (2010, 'n0')"),
		b("RELEASE SAVEPOINT s1"),
		b("SAVEPOINT s2"),
		b("INSERT INTO users (id, name) VALUES (2011, 'n1')"),
		b("ROLLBACK TO SAVEPOINT s2"),
		b("COMMIT"),
		b("ROLLBACK TO SAVEPOINT s2"),
		b("SELECT id FROM users WHERE id > 2000 ORDER BY id"),
	})
}

// TestDDLCommitsImplicitly: DDL commits the open transaction and runs
// outside any, as on MariaDB: with autocommit off, or after BEGIN, what
// follows it is a new transaction that ROLLBACK undoes (the backends'
// implicit commit used to leave later writes committed as they ran), and
// DDL on temporary tables commits nothing. Text and prepared, sharded and
// pass-through.
func TestDDLCommitsImplicitly(t *testing.T) {
	onShardedAndPassThrough(t, func(t *testing.T, proxy, mariadb *sql.DB, table string) {
		a, b := stepsOf(0), stepsOf(1)
		ins := rowInserts(table)
		steps := []clientStep{
			a("SET autocommit = 0"),
			a("CREATE TABLE ddl1 (id INT)"),
			ins(a),
			a("SELECT @@in_transaction"),
			a("ROLLBACK"),
			b("BEGIN"), ins(b),
			b("CREATE INDEX ddl1_id ON ddl1 (id)"),
			b("SELECT @@in_transaction"),
			b("SET autocommit = 0"),
			ins(b),
			b("ROLLBACK"),
			b("BEGIN"), ins(b),
			b("CREATE TEMPORARY TABLE tmp1 (id INT)"),
			b("DROP TEMPORARY TABLE tmp1"),
			b("SELECT @@in_transaction"),
			b("ROLLBACK"),
		}
		compareClients(t, proxy, mariadb, steps)
		p := stepsOf(0) // every step prepared
		compareClientsBy(t, proxy, mariadb, []clientStep{
			p("SET autocommit = 0"),
			ins(p),
			p("DROP TABLE ddl1"),
			ins(p),
			p("ROLLBACK"),
			// Prepared brackets, as sysbench prepares them: parsed once.
			p("SET autocommit = 1"),
			p("BEGIN"), ins(p), p("COMMIT"),
			p("BEGIN"), ins(p), p("ROLLBACK"),
			p("BEGIN"), ins(p), p("COMMIT"),
			p(fmt.Sprintf("SELECT id FROM %s WHERE id >= ? ORDER BY id", table), firstInsertedID),
		}, answerPrepared)
	})
}

// firstInsertedID is the id of the first row rowInserts inserts: above
// the oracle cluster's users.
const firstInsertedID = 3001

// rowInserts returns a maker of steps that each insert the next row into
// table, ids from firstInsertedID on.
func rowInserts(table string) func(step func(string, ...any) clientStep) clientStep {
	id := firstInsertedID - 1
	return func(step func(string, ...any) clientStep) clientStep {
		id++
		return step(fmt.Sprintf("INSERT INTO %s (id, name) VALUES (%d, 'x')", table, id))
	}
}

// onShardedAndPassThrough runs compare on the oracle cluster's users,
// sharded by id mod 4 over nodes n0, n1, n0, n1, and on a pass-through
// schema's table rb with a database of its own on MariaDB.
func onShardedAndPassThrough(t *testing.T, compare func(t *testing.T, proxy, mariadb *sql.DB, table string)) {
	t.Run("sharded", func(t *testing.T) {
		c := newOracleCluster(t)
		compare(t, c.proxy, c.oracle, "users")
	})
	t.Run("pass-through", func(t *testing.T) {
		db, oracle := passThroughAndOracle(t, "CREATE TABLE rb (id INT PRIMARY KEY, name VARCHAR(10))")
		compare(t, db, oracle, "rb")
	})
}

// passThroughAndOracle returns a pass-through schema through the proxy and
// a database of its own on MariaDB, both with the tables ddl makes.
func passThroughAndOracle(t *testing.T, ddl ...string) (proxy, oracle *sql.DB) {
	t.Helper()
	_, proxy, _ = passThrough(t)
	oracle = newOracleDB(t, uniqueName("pt_oracle"))
	for _, d := range []*sql.DB{proxy, oracle} {
		for _, q := range ddl {
			mustExec(t, d, q)
		}
	}
	return proxy, oracle
}

// TestTransactionCharacteristics: BEGIN, COMMIT and ROLLBACK take WORK;
// SET TRANSACTION without SESSION sets the
// next transaction's access mode and isolation only, also when autocommit
// off begins it, and never another client's (it used to reach a pooled
// connection and make the next transaction on it read-only); SESSION's
// READ WRITE is taken; inside a transaction the one-shot form gets 1568.
func TestTransactionCharacteristics(t *testing.T) {
	onShardedAndPassThrough(t, func(t *testing.T, proxy, mariadb *sql.DB, table string) {
		a, b := stepsOf(0), stepsOf(1)
		ins := rowInserts(table)
		var steps []clientStep
		for i := 0; i < 4; i++ { // other clients' connections come from the same pool
			steps = append(steps, b("BEGIN"), ins(b), b("ROLLBACK"))
		}
		steps = append(steps,
			a("SET TRANSACTION READ ONLY"),
			a("BEGIN"), ins(a), a("ROLLBACK"),
			a("BEGIN"), ins(a), a("SELECT @@tx_read_only"), a("ROLLBACK"),
			a("SET SESSION TRANSACTION READ ONLY"),
			a("BEGIN"), ins(a), a("ROLLBACK"),
			a("SET TRANSACTION READ WRITE"),
			a("BEGIN"), ins(a),
			a("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
			a("SET TRANSACTION READ ONLY"),
			a("ROLLBACK"),
			a("BEGIN"), ins(a), a("ROLLBACK"),
			// WORK, which the SQL parser does not know.
			a("BEGIN WORK"), ins(a), a("SAVEPOINT w"), ins(a),
			a("ROLLBACK WORK TO SAVEPOINT w"), a("COMMIT WORK AND CHAIN"),
			ins(a), a("ROLLBACK WORK"),
			a("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE"),
			a("SELECT @@tx_read_only, @@tx_isolation"),
			a("SET autocommit = 0"),
			a("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY"),
			ins(a), a("ROLLBACK"),
			ins(a), a("SELECT @@tx_isolation"), a("ROLLBACK"),
		)
		for i := 0; i < 4; i++ {
			steps = append(steps, b("BEGIN"), ins(b), b("ROLLBACK"))
		}
		steps = append(steps, b(fmt.Sprintf("SELECT id FROM %s WHERE id >= %d ORDER BY id", table, firstInsertedID)))
		compareClients(t, proxy, mariadb, steps)
	})
}

// TestDeadlockRollsBackTheTransaction: the victim of a deadlock loses its
// whole transaction, as on MariaDB, also the part on another node: a
// COMMIT after the 1213 commits nothing of it.
func TestDeadlockRollsBackTheTransaction(t *testing.T) {
	c := newOracleCluster(t)
	// users is sharded by id mod 4 over nodes n0, n1, n0, n1: ids 1, 3,
	// 5 and 7 are on n1, id 2 on n0.
	outcome := func(db *sql.DB) string {
		ctx := t.Context()
		a, b := sessionAfter(t, db), sessionAfter(t, db)
		defer a.Close()
		defer b.Close()
		mustExec(t, a, "BEGIN")
		mustExec(t, a, "UPDATE users SET age = age + 1 WHERE id IN (1, 3, 7)")
		mustExec(t, b, "BEGIN")
		mustExec(t, b, "UPDATE users SET name = 'victim' WHERE id = 2")
		mustExec(t, b, "UPDATE users SET age = age + 1 WHERE id = 5")
		blocked := make(chan error, 1)
		go func() {
			_, err := a.ExecContext(ctx, "UPDATE users SET age = age + 1 WHERE id = 5")
			blocked <- err
		}()
		// The smaller transaction is the victim, whichever waits first.
		_, err := b.ExecContext(ctx, "UPDATE users SET age = age + 1 WHERE id = 1")
		var inTx string
		if err := b.QueryRowContext(ctx, "SELECT @@in_transaction").Scan(&inTx); err != nil {
			t.Fatal(err)
		}
		mustExec(t, b, "COMMIT")
		if err := <-blocked; err != nil {
			t.Errorf("the survivor's update failed: %v", err)
		}
		mustExec(t, a, "ROLLBACK")
		return fmt.Sprintf("victim's error %d, in transaction after it %s, row 2 named %s",
			mysqlCode(err), inTx, queryOne(t, db, "SELECT name FROM users WHERE id = 2"))
	}
	got, want := outcome(c.proxy), outcome(c.oracle)
	if got != want || !strings.HasPrefix(want, "victim's error 1213") {
		t.Errorf("through the proxy: %s\non MariaDB:        %s", got, want)
	}
}

// TestTableLocksAndTransactions: LOCK TABLES commits like DDL; with
// autocommit off it is refused (the backends' START TRANSACTION would
// release the locks MariaDB keeps), and a transaction's start releases
// the session's table locks at once, as on MariaDB.
func TestTableLocksAndTransactions(t *testing.T) {
	_, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE tl (id INT PRIMARY KEY)")
	ctx := t.Context()
	a := sessionAfter(t, db)
	defer a.Close()
	expect := func(c *sql.Conn, q string, code int) {
		t.Helper()
		if _, err := c.ExecContext(ctx, q); mysqlCode(err) != code {
			t.Fatalf("%s: got %v, want error %d (0: none)", q, err, code)
		}
	}
	expect(a, "SET autocommit = 0", 0)
	expect(a, "LOCK TABLES tl WRITE", 1235)
	expect(a, "SET autocommit = 1", 0)
	expect(a, "LOCK TABLES tl WRITE", 0)
	expect(a, "SET autocommit = 0", 1235)
	expect(a, "INSERT INTO tl VALUES (1)", 0)
	expect(a, "BEGIN", 0)
	// The lock is gone before the transaction reaches the backend.
	waited, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(waited, "INSERT INTO tl VALUES (2)"); err != nil {
		t.Fatalf("another session's write after BEGIN released the lock: %v", err)
	}
	expect(a, "INSERT INTO tl VALUES (3)", 0)
	expect(a, "ROLLBACK", 0)
	if got := queryOne(t, db, "SELECT GROUP_CONCAT(id ORDER BY id) FROM tl"); got != "1,2" {
		t.Errorf("rows %s, want 1,2", got)
	}
}

// TestMultiShardWriteIsAtomicOnOneNode: a write to several shards of one
// node is all or nothing, as one statement on one server is.
func TestMultiShardWriteIsAtomicOnOneNode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := baseConfig()
	prefix := uniqueName("atomic")
	// Shards 0 and 2 live on n0: ids 4 and 6 are both there.
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", prefix, []conf.Table{
		{Name: "items", ShardKey: "id", Algorithm: "mod"},
	}))
	p := startProxy(t, cfg)
	db := p.open(t, "shop")
	oracle := newOracleDB(t, prefix+"_oracle")
	steps := []string{
		"CREATE TABLE items (id INT PRIMARY KEY, v INT, UNIQUE KEY (v))",
		"INSERT INTO items VALUES (6, 60)",
		"INSERT INTO items VALUES (4, 40), (6, 61)",
		"INSERT INTO items VALUES (8, 80), (10, 60)",
		"UPDATE items SET v = 60 WHERE id IN (4, 8)",
	}
	for _, step := range steps {
		_, perr := db.Exec(step)
		_, oerr := oracle.Exec(step)
		if mysqlCode(perr) != mysqlCode(oerr) {
			t.Errorf("%s: through the proxy %v, on MariaDB %v", step, perr, oerr)
		}
	}
	compareTable(t, "after failed multi-shard writes", "items", db, oracle)
}

// A statement that fails on one of several shards inside a transaction is
// undone on all of them, and the transaction goes on, as MariaDB rolls a
// failed statement back whole. Each shard rolled back only its own part
// before: a COMMIT after the error kept the shards that had succeeded.
func TestFailedStatementUndoneOnEveryShard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("undo")
	proxy := idShardedProxy(t, prefix, "items")
	oracle := newOracleDB(t, prefix+"_oracle")
	for _, db := range []*sql.DB{proxy, oracle} {
		mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY, q INT, CHECK (q >= 0))")
		mustExec(t, db, "INSERT INTO items VALUES (1, 100), (2, 100), (3, 5), (4, 100), (5, 100)")
	}
	// Each session runs the steps in a transaction (BEGIN, or autocommit
	// off), then commits; the steps that fail must fail alike.
	steps := []string{
		"UPDATE items SET q = q - 10",                             // id 3 (shard 3, the last) fails the CHECK
		"UPDATE items SET q = q - 1 WHERE id IN (1, 2)",           // goes through
		"INSERT INTO items VALUES (6, 1), (7, 1), (8, 1), (1, 1)", // id 1 (shard 1) is a duplicate
		"DELETE FROM items WHERE q > 50 OR id = 3",                // goes through
		"INSERT INTO items VALUES (10, 1), (11, -1), (12, 1)",     // id 11 fails the CHECK on shard 3
	}
	for _, begin := range []string{"BEGIN", "SET autocommit = 0"} {
		run := func(db *sql.DB) string {
			c, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			mustExec(t, c, "SET sql_mode = 'STRICT_ALL_TABLES'")
			mustExec(t, c, begin)
			var out []string
			for _, st := range steps {
				_, err := c.ExecContext(context.Background(), st)
				out = append(out, fmt.Sprintf("%d", mysqlCode(err)))
			}
			mustExec(t, c, "COMMIT")
			mustExec(t, c, "SET autocommit = 1")
			return fmt.Sprintf("errors %v; table %v", out, queryStrings(t, c, "SELECT * FROM items ORDER BY id"))
		}
		got, want := run(proxy), run(oracle)
		if got != want {
			t.Errorf("%s ... COMMIT:\nthrough the proxy: %s\non MariaDB:        %s", begin, got, want)
		}
	}
}
