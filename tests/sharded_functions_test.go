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
