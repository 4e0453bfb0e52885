package tests

import (
	"testing"
)

// TestSQLModeChangesParsing: a session's sql_mode changes what its text
// means (ANSI_QUOTES: "id" is a column; PIPES_AS_CONCAT: || joins strings;
// IGNORE_SPACE: COUNT (*)). Routed, planned, merged and cached, each
// statement answers as MariaDB answers it in the same mode, and the same
// text keeps its meaning in each mode when it comes again.
func TestSQLModeChangesParsing(t *testing.T) {
	c := newOracleCluster(t)
	s := func(sql string, args ...any) sessionStep { return sessionStep{sql, args} }
	sameTexts := []sessionStep{
		s(`SELECT "id", name FROM users WHERE "id" = 7`),           // one shard
		s(`SELECT COUNT(*) FROM users WHERE "id" IN (3, 4, 5, 6)`), // several shards
		s(`SELECT 'a' || 'b' AS joined, "id" FROM countries WHERE id = 2`),
		s(`SELECT "id" FROM users WHERE "id" = ?`, 9), // prepared
		s(`SELECT COUNT(*) FROM users WHERE name = "name"`),
	}
	var steps []sessionStep
	steps = append(steps, sameTexts...) // the default mode, cached
	steps = append(steps, s("SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES,PIPES_AS_CONCAT')"))
	steps = append(steps, sameTexts...)
	steps = append(steps,
		s(`SELECT name || '/' || "id" AS tag FROM users ORDER BY "id" LIMIT 5`), // merged
		s(`SELECT "country_id", COUNT(*), MAX("age") FROM users WHERE "age" > 30 GROUP BY "country_id" ORDER BY 1`),
		s(`SELECT @@sql_mode`),
		s("SET sql_mode = 'ANSI'"),
		s(`SELECT COUNT (*) FROM users WHERE "id" < 50`),
		s(`SELECT name FROM users WHERE "id" = 11`),
		s("SET sql_mode = DEFAULT"),
	)
	steps = append(steps, sameTexts...)
	compareSessions(t, c.proxy, c.oracle, steps)
}

// TestNoBackslashEscapesOnShardedSchema: the shard texts the proxy writes
// escape strings with backslashes, so NO_BACKSLASH_ESCAPES is refused with
// 1235 on a sharded schema, and the session keeps its mode and data.
func TestNoBackslashEscapesOnShardedSchema(t *testing.T) {
	c := newOracleCluster(t)
	conn := c.proxy
	conn.SetMaxOpenConns(1) // one session throughout
	before := queryOne(t, conn, "SELECT @@sql_mode")
	for _, set := range []string{
		"SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
		"SET @x = 1, SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'",
	} {
		if _, err := conn.Exec(set); mysqlCode(err) != 1235 {
			t.Errorf("%s: %v, want error 1235", set, err)
		}
	}
	if after := queryOne(t, conn, "SELECT @@sql_mode"); after != before {
		t.Errorf("sql_mode after the refused SETs: %q, want %q", after, before)
	}
	if x := queryOne(t, conn, "SELECT COALESCE(@x, 'unset')"); x != "unset" {
		t.Errorf("@x after the refused SET: %s", x)
	}
	mustExec(t, conn, `INSERT INTO users (id, name) VALUES (1001, 'C:\\p')`)
	if got := queryOne(t, conn, "SELECT HEX(name) FROM users WHERE id = 1001"); got != "433A5C70" {
		t.Errorf("stored %s, want 433A5C70 (C:\\p)", got)
	}
}

// TestNoBackslashEscapesOnPassThrough: on a pass-through schema a session
// may take backslashes literally. The statements the proxy rewrites and the
// values it replays on other connections keep them, for that session and
// for another one in the default mode sharing the pool.
func TestNoBackslashEscapesOnPassThrough(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE esc (id INT PRIMARY KEY, v VARCHAR(20))")
	a, b := stepsOf(0), stepsOf(1)
	compareClients(t, db, direct, []clientStep{
		a("DELETE FROM esc"), // each run starts empty
		a("SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"),
		a(`INSERT INTO esc VALUES (1 + LAST_INSERT_ID() * 0, 'C:\p\n')`), // rewritten
		a(`INSERT INTO esc VALUES (2, 'it''s \')`),                       // as it is
		a(`SELECT id, v, HEX(v), DATABASE() IS NOT NULL FROM esc WHERE v LIKE 'C:%' ORDER BY id`),
		a(`SELECT id, HEX(v) FROM esc WHERE v = 'it''s \' AND LAST_INSERT_ID() = 0`),
		a(`SELECT 'a\', LAST_INSERT_ID(), 'a\' = CONCAT('a', CHAR(92))`),
		a(`SET @path = 'C:\dir', @n = 1, @q = 'it''s "q"'`),
		b(`SET @other = 'x\\y'`),
		b(`SELECT @path, @other, HEX(@other)`),
		a(`SELECT @path, HEX(@path), @n, @q`),
		b(`SELECT @other, HEX(@other), 'x\\y'`),
		b(`SET @quoted = 'it''s "q"'`), a(`SELECT @q`), b(`SELECT @quoted`), a(`SELECT @q, 1`), b(`SELECT @quoted, 1`),
		a("SET sql_mode = DEFAULT"),
		a(`SELECT 'a\\b', LAST_INSERT_ID(), @path = CONCAT('C:', CHAR(92), 'dir')`),
	})
}

// TestSetStatementOnShardedSchema: MariaDB's SET STATEMENT ... FOR, which
// the SQL parser does not know and Connector/J sends for query timeouts,
// runs its statement routed as usual with the variables set for that
// statement only, as on MariaDB.
func TestSetStatementOnShardedSchema(t *testing.T) {
	c := newOracleCluster(t)
	a := stepsOf(0)
	compareClients(t, c.proxy, c.oracle, []clientStep{
		a("SET STATEMENT max_statement_time = 0.2 FOR SELECT SLEEP(2) FROM users WHERE id = 3"),
		a("SELECT @@max_statement_time"),
		a("SET STATEMENT max_statement_time = 10 FOR SELECT @@max_statement_time, name FROM users WHERE id = 5"),
		a("set statement max_statement_time=10, sql_mode='STRICT_ALL_TABLES' for SELECT COUNT(*), @@sql_mode FROM users WHERE id < 100"),
		a("SELECT @@max_statement_time, @@sql_mode"),
		a("SET STATEMENT max_statement_time = 5 FOR UPDATE users SET age = 7 WHERE id IN (1, 2, 3)"),
		a("SELECT id, age FROM users WHERE id IN (1, 2, 3) ORDER BY id"),
		a("SET STATEMENT autocommit = 0 FOR SELECT 1"),
		a("SET STATEMENT @x = 1 FOR SELECT 1"),
		a("SET STATEMENT nosuch_variable = 1 FOR SELECT 1"),
		a("SET STATEMENT max_statement_time = 1 FOR SELEC 1"),
	})
	// MariaDB parses the statement in the session's mode; the shards
	// would parse it in the statement's.
	for _, mode := range []string{"NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"} {
		if _, err := c.proxy.Exec("SET STATEMENT sql_mode = '" + mode + "' FOR SELECT 1"); mysqlCode(err) != 1235 {
			t.Errorf("SET STATEMENT with %s: %v, want error 1235", mode, err)
		}
	}
}
