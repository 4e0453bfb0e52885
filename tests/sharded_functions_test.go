package tests

import "testing"

// TestRestoredCharOnShardedSchema: statements the proxy restores for the
// shards (scatter merges, session functions) keep CHAR(), which the SQL
// parser reads as a function of another name.
func TestRestoredCharOnShardedSchema(t *testing.T) {
	c := newOracleCluster(t)
	s := func(sql string, args ...any) sessionStep { return sessionStep{sql, args} }
	compareSessions(t, c.proxy, c.oracle, []sessionStep{
		s("SELECT CHAR(65), COUNT(*) FROM users"),
		s("SELECT CHAR(195, 169 USING utf8mb4), name FROM users WHERE id = 3 AND LAST_INSERT_ID() = 0"),
		s("SELECT id FROM users WHERE name = CHAR(97, 108, 105, 99, 101) ORDER BY id LIMIT 3"),
		s("SELECT CHAR(id + 64) AS c FROM users WHERE id < 4 ORDER BY c DESC"),
	})
}

// TestSequenceLastValueOnShardedSchema: on a sharded schema LASTVAL(seq) is
// the session's own NEXTVAL too, with the sequence named or not by the
// logical schema, and reading it back loses none of the session's values.
func TestSequenceLastValueOnShardedSchema(t *testing.T) {
	c := newOracleCluster(t)
	mustExec(t, c.proxy, "CREATE SEQUENCE seq")
	mustExec(t, c.oracle, "CREATE SEQUENCE seq")
	a, b := stepsOf(0), stepsOf(1)
	compareClients(t, c.proxy, c.oracle, []clientStep{
		a("SELECT LASTVAL(seq)"),
		a("SELECT NEXTVAL(seq), @x := 5"), a("SELECT LASTVAL(seq), @x"),
		b("SELECT LASTVAL(seq)"), b("SELECT NEXTVAL(seq)"),
		a("SELECT LASTVAL(seq)"), b("SELECT LASTVAL(seq), LASTVAL(seq) + 1"),
	})
	conn := sessionAfter(t, c.proxy, "SELECT NEXTVAL(scat.seq), @y := 6")
	defer conn.Close()
	var same, y int
	if err := conn.QueryRowContext(t.Context(), "SELECT LASTVAL(seq) = LASTVAL(scat.seq), @y").Scan(&same, &y); err != nil || same != 1 || y != 6 {
		t.Errorf("after NEXTVAL(scat.seq): LASTVAL(seq) = LASTVAL(scat.seq) is %d, @y %d (%v); want 1 and 6", same, y, err)
	}
}

// TestSharedLocksRestored: LOCK IN SHARE MODE survives the statements the
// proxy writes itself (per shard, with session functions answered), which
// the SQL parser would spell FOR SHARE, a syntax MariaDB rejects.
func TestSharedLocksRestored(t *testing.T) {
	s := func(sql string, args ...any) sessionStep { return sessionStep{sql, args} }
	steps := []sessionStep{
		s("BEGIN"),
		s("SELECT id, LAST_INSERT_ID() FROM users WHERE id = 5 LOCK IN SHARE MODE"),
		s("COMMIT"),
	}
	c := newOracleCluster(t)
	compareSessions(t, c.proxy, c.oracle, append(steps,
		s("BEGIN"),
		s("SELECT id, name FROM users WHERE id IN (1, 2, 3) ORDER BY id LOCK IN SHARE MODE"),
		s("SELECT COUNT(*), MAX(name) FROM users WHERE id < 50 LOCK IN SHARE MODE"),
		s("SELECT id FROM users WHERE id BETWEEN ? AND ? ORDER BY id DESC LIMIT 2 LOCK IN SHARE MODE", 10, 20),
		s("COMMIT"),
	))
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE locked (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO locked VALUES (5)")
	steps[1] = s("SELECT id, LAST_INSERT_ID() FROM locked WHERE id = 5 LOCK IN SHARE MODE")
	compareSessions(t, db, direct, steps)
}
