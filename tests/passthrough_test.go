package tests

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// passThrough starts a proxy with one pass-through schema "ptdb" and returns
// a client pool on it and a direct connection to the physical database.
func passThrough(t *testing.T) (p *runningProxy, db *sql.DB, direct *sql.DB) {
	t.Helper()
	cfg := baseConfig()
	physical := passThroughSchema(cfg, "ptdb")
	passThroughSchema(cfg, "other")
	cfg.Users = append(cfg.Users, confUser("limited", "pw", []string{"other"}))
	p = startProxy(t, cfg)
	db = p.open(t, "ptdb")
	direct, err := nodes[0].Primary.DB(physical)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	return p, db, direct
}

func TestPassThroughCRUD(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50), price DECIMAL(10,2))")
	res := mustExec(t, db, "INSERT INTO items (name, price) VALUES ('a', 1.50), ('b', 2.25), ('c', NULL)")
	if n, _ := res.RowsAffected(); n != 3 {
		t.Fatalf("affected %d, want 3", n)
	}
	if id, _ := res.LastInsertId(); id != 1 {
		t.Fatalf("last insert id %d, want 1", id)
	}
	mustExec(t, db, "UPDATE items SET price = price * 2 WHERE name = 'b'")
	mustExec(t, db, "DELETE FROM items WHERE name = 'a'")
	got := queryStrings(t, db, "SELECT id, name, price FROM items ORDER BY id")
	want := queryStrings(t, direct, "SELECT id, name, price FROM items ORDER BY id")
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 2 || got[0][2] != "4.50" || got[1][2] != "NULL" {
		t.Fatalf("through proxy %v, direct %v", got, want)
	}
	// Qualified with the logical name: the proxy maps it to the physical one.
	if n := queryOne(t, db, "SELECT COUNT(*) FROM ptdb.items WHERE ptdb.items.id > 0"); n != "2" {
		t.Fatalf("qualified count = %s", n)
	}
}

func TestPassThroughErrorsKeepTheirCodes(t *testing.T) {
	p, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE u (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO u VALUES (1)")
	cases := []struct {
		query string
		code  int
	}{
		{"SELECT * FROM no_such_table", 1146},
		{"INSERT INTO u VALUES (1)", 1062},
		{"SELECT nope FROM u", 1054},
		{"SELEKT 1", 1064},
		{"USE not_a_schema", 1049},
	}
	for _, c := range cases {
		_, err := db.Exec(c.query)
		if mysqlCode(err) != c.code {
			t.Errorf("%s: got %v, want error %d", c.query, err, c.code)
		}
	}
	// The same through the binary protocol: go-mysql's server would turn
	// these into 1105; the proxy must not.
	stmt, err := db.Prepare("INSERT INTO u VALUES (?)")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if _, err := stmt.Exec(1); mysqlCode(err) != 1062 {
		t.Errorf("prepared duplicate insert: got %v, want 1062", err)
	}
	if _, err := db.Prepare("SELECT * FROM no_such_table WHERE id = ?"); mysqlCode(err) != 1146 {
		t.Errorf("prepare of a missing table: got %v, want 1146", err)
	}

	// Login and schema access.
	bad, _ := sql.Open("mysql", fmt.Sprintf("%s:wrong@tcp(%s)/ptdb", appUser, p.addr))
	defer bad.Close()
	if err := bad.Ping(); mysqlCode(err) != 1045 {
		t.Errorf("wrong password: got %v, want 1045", err)
	}
	ghost, _ := sql.Open("mysql", fmt.Sprintf("ghost:wrong@tcp(%s)/ptdb", p.addr))
	defer ghost.Close()
	if err := ghost.Ping(); mysqlCode(err) != 1045 || !strings.Contains(err.Error(), "Access denied") {
		t.Errorf("unknown user: got %v, want the same 1045 as a wrong password", err)
	}
	limited, _ := sql.Open("mysql", fmt.Sprintf("limited:pw@tcp(%s)/ptdb", p.addr))
	defer limited.Close()
	if err := limited.Ping(); mysqlCode(err) != 1044 {
		t.Errorf("schema not allowed: got %v, want 1044", err)
	}
	unknown, _ := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/nosuchschema", appUser, appPassword, p.addr))
	defer unknown.Close()
	if err := unknown.Ping(); mysqlCode(err) != 1049 {
		t.Errorf("unknown schema: got %v, want 1049", err)
	}
}

func TestLogicalSchemaNames(t *testing.T) {
	_, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(10))")
	if got := queryOne(t, db, "SELECT DATABASE()"); got != "ptdb" {
		t.Errorf("DATABASE() = %q", got)
	}
	dbs := queryStrings(t, db, "SHOW DATABASES")
	if fmt.Sprint(dbs) != "[[ptdb] [other]]" {
		t.Errorf("SHOW DATABASES = %v", dbs)
	}
	if got := queryOne(t, db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 't1'"); got != "1" {
		t.Errorf("information_schema with DATABASE(): %s", got)
	}
	if got := queryOne(t, db, "SELECT table_schema FROM information_schema.tables WHERE table_schema = 'ptdb' AND table_name = 't1'"); got != "ptdb" {
		t.Errorf("information_schema table_schema = %q", got)
	}
	tables := queryStrings(t, db, "SHOW TABLES")
	if fmt.Sprint(tables) != "[[t1]]" {
		t.Errorf("SHOW TABLES = %v", tables)
	}
	rows, err := db.Query("SHOW TABLES")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	rows.Close()
	if cols[0] != "Tables_in_ptdb" {
		t.Errorf("SHOW TABLES column = %q", cols[0])
	}
	create := queryStrings(t, db, "SHOW CREATE TABLE ptdb.t1")
	if len(create) != 1 || !strings.Contains(create[0][1], "CREATE TABLE `t1`") {
		t.Errorf("SHOW CREATE TABLE = %v", create)
	}
	if got := queryStrings(t, db, "SELECT DATABASE() AS d, CONNECTION_ID() > 0"); got[0][0] != "ptdb" || got[0][1] != "1" {
		t.Errorf("DATABASE(), CONNECTION_ID() = %v", got)
	}
}

// TestRewrittenStatementsKeepColumnNames: a statement the proxy rewrites
// (schema names, information_schema, session functions) answers with the
// column names MariaDB gives the client's own text, and the same rows.
func TestRewrittenStatementsKeepColumnNames(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(10))")
	mustExec(t, db, "INSERT INTO t1 VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	physical := queryOne(t, direct, "SELECT DATABASE()")
	cases := []struct{ proxy, direct string }{
		{"SELECT COUNT(*), MAX(table_name) FROM information_schema.tables WHERE table_schema = DATABASE()",
			"SELECT COUNT(*), MAX(table_name) FROM information_schema.tables WHERE table_schema = DATABASE()"},
		{"select id+1, UPPER( v ), v, 'lit', 7, count(*) from ptdb.t1 group by id, v order by id",
			"select id+1, UPPER( v ), v, 'lit', 7, count(*) from " + physical + ".t1 group by id, v order by id"},
		{"SELECT id * 2 FROM ptdb.t1 UNION ALL SELECT 0 ORDER BY 1",
			"SELECT id * 2 FROM " + physical + ".t1 UNION ALL SELECT 0 ORDER BY 1"},
		{"SELECT (SELECT MAX(id) FROM t1), id FROM ptdb.t1 WHERE id = 2",
			"SELECT (SELECT MAX(id) FROM t1), id FROM " + physical + ".t1 WHERE id = 2"},
		{"SELECT CONNECTION_ID() > 0, DATABASE() IS NOT NULL, id FROM t1 WHERE id = 1",
			"SELECT CONNECTION_ID() > 0, DATABASE() IS NOT NULL, id FROM t1 WHERE id = 1"},
		{"SELECT CHAR(65, 66), CHAR(195, 169 USING utf8mb4), v FROM ptdb.t1 WHERE v = CHAR(98)",
			"SELECT CHAR(65, 66), CHAR(195, 169 USING utf8mb4), v FROM " + physical + ".t1 WHERE v = CHAR(98)"},
	}
	for _, tc := range cases {
		gotCols, gotRows := columnsAndRows(t, db, tc.proxy)
		wantCols, wantRows := columnsAndRows(t, direct, tc.direct)
		if fmt.Sprint(gotCols) != fmt.Sprint(wantCols) {
			t.Errorf("%s\ncolumns through the proxy: %q\ndirect: %q", tc.proxy, gotCols, wantCols)
		}
		if fmt.Sprint(gotRows) != fmt.Sprint(wantRows) {
			t.Errorf("%s\nrows through the proxy: %v\ndirect: %v", tc.proxy, gotRows, wantRows)
		}
	}
}

// TestSessionFunctionsKeepTheirTypes: the functions the proxy answers from
// the session (LAST_INSERT_ID(), DATABASE(), ...) give result columns of
// the types MariaDB gives them, as drivers and CREATE TABLE ... AS SELECT
// see them, and the values MariaDB computes from them.
func TestSessionFunctionsKeepTheirTypes(t *testing.T) {
	_, db, direct := passThrough(t)
	// One table each, so that both sessions get the same insert ids.
	mustExec(t, direct, "CREATE TABLE counted_proxy (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	mustExec(t, direct, "CREATE TABLE counted_direct (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	const fns = "DATABASE() AS d, SCHEMA() AS s, CONNECTION_ID() AS c, LAST_INSERT_ID() AS l, ROW_COUNT() AS r, " +
		"FOUND_ROWS() AS f, @@warning_count AS w, @@error_count AS e, @@identity AS i, @@last_insert_id AS li, @@in_transaction AS t, " +
		"USER() AS u, CURRENT_USER() AS cu, SESSION_USER() AS su"
	const arithmetic = "SELECT LAST_INSERT_ID() * 2, -LAST_INSERT_ID(), LAST_INSERT_ID() DIV 2, ROW_COUNT() - 1, " +
		"CONNECTION_ID() > 0, DATABASE() IS NULL, id FROM counted_%s WHERE id = LAST_INSERT_ID()"
	describe := func(d *sql.DB, side string) (types []string, values string, created string) {
		c, err := d.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, q := range []string{"INSERT INTO counted_" + side + " (v) VALUES (1), (2)", "INSERT INTO counted_" + side + " (v) VALUES (3)"} {
			if _, err := c.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// @@autocommit is BIGINT as on MariaDB, but 2 digits wide, not 1.
		rows, err := c.QueryContext(t.Context(), "SELECT "+fns+", @@autocommit AS a")
		if err != nil {
			t.Fatal(err)
		}
		cts, _ := rows.ColumnTypes()
		for _, ct := range cts {
			length, _ := ct.Length()
			nullable, _ := ct.Nullable()
			types = append(types, fmt.Sprintf("%s %s %d %v", ct.Name(), ct.DatabaseTypeName(), length, nullable))
		}
		rows.Close()
		q := fmt.Sprintf(arithmetic, side)
		rows, err = c.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		values = fmt.Sprint(rowsToStrings(t, rows, q))
		table := "typed_" + side
		if _, err := c.ExecContext(t.Context(), "CREATE TABLE "+table+" AS SELECT "+fns); err != nil {
			t.Fatal(err)
		}
		var name string
		if err := c.QueryRowContext(t.Context(), "SHOW CREATE TABLE "+table).Scan(&name, &created); err != nil {
			t.Fatal(err)
		}
		return types, values, strings.Replace(created, table, "typed", 1)
	}
	gotTypes, gotValues, gotCreated := describe(db, "proxy")
	wantTypes, wantValues, wantCreated := describe(direct, "direct")
	if fmt.Sprint(gotTypes) != fmt.Sprint(wantTypes) {
		t.Errorf("column types through the proxy:\n%s\ndirect:\n%s", strings.Join(gotTypes, "\n"), strings.Join(wantTypes, "\n"))
	}
	if gotCreated != wantCreated {
		t.Errorf("CREATE TABLE ... AS SELECT through the proxy:\n%s\ndirect:\n%s", gotCreated, wantCreated)
	}
	// The client's own login, not the proxy's on the backend.
	if got, want := fmt.Sprint(queryStrings(t, db, "SELECT USER(), SESSION_USER(), SYSTEM_USER(), CURRENT_USER(), CURRENT_USER")),
		fmt.Sprintf("[[%[1]s@127.0.0.1 %[1]s@127.0.0.1 %[1]s@127.0.0.1 %[1]s@%% %[1]s@%%]]", appUser); got != want {
		t.Errorf("users through the proxy: %s, want %s", got, want)
	}
	if gotValues != wantValues {
		t.Errorf("%s\nthrough the proxy: %s\ndirect: %s", arithmetic, gotValues, wantValues)
	}
}

func columnsAndRows(t *testing.T, db *sql.DB, query string) ([]string, [][]string) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return cols, rowsToStrings(t, rows, query)
}

func TestSessionStateFollowsTheSession(t *testing.T) {
	p, _, _ := passThrough(t)
	// Many sessions with different state over a small pool: every statement
	// must see its own session's variables whichever connection serves it.
	for _, err := range concurrently(8, func(i int) error {
		db, err := sql.Open("mysql", p.dsn("ptdb"))
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		mode := "STRICT_TRANS_TABLES"
		if i%2 == 0 {
			mode = "ANSI_QUOTES"
		}
		stmts := []string{
			fmt.Sprintf("SET @who = %d", i),
			fmt.Sprintf("SET SESSION sql_mode = '%s'", mode),
			"SET time_zone = '+0" + fmt.Sprint(i) + ":00'",
		}
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		for k := 0; k < 50; k++ {
			var who int
			var gotMode, tz string
			if err := db.QueryRow("SELECT @who, @@sql_mode, @@time_zone").Scan(&who, &gotMode, &tz); err != nil {
				return err
			}
			if who != i || gotMode != mode || tz != "+0"+fmt.Sprint(i)+":00" {
				return fmt.Errorf("session %d saw @who=%d sql_mode=%s time_zone=%s", i, who, gotMode, tz)
			}
		}
		return nil
	}) {
		t.Error(err)
	}
	// A fresh session sees defaults, not what others left on pooled connections.
	db := p.open(t, "ptdb")
	db.SetMaxOpenConns(1)
	if got := queryOne(t, db, "SELECT COALESCE(@who, 'unset')"); got != "unset" {
		t.Errorf("fresh session sees @who=%s", got)
	}
}

func TestSetNamesAndBinaryData(t *testing.T) {
	_, db, _ := passThrough(t)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE bin (id INT PRIMARY KEY, b BLOB, s VARCHAR(20))")
	blob := []byte{0, 1, 2, '\\', '\'', 0xff, 0xfe}
	mustExec(t, db, "INSERT INTO bin VALUES (1, ?, ?)", blob, "back\\slash 'q'")
	mustExec(t, db, `INSERT INTO bin VALUES (2, NULL, 'back\\slash')`)
	var got []byte
	var s string
	if err := db.QueryRow("SELECT b, s FROM bin WHERE id = 1").Scan(&got, &s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, blob) || s != "back\\slash 'q'" {
		t.Fatalf("round trip: %v %q", got, s)
	}
	if v := queryOne(t, db, "SELECT s FROM bin WHERE id = 2"); v != `back\slash` {
		t.Fatalf("escaped literal: %q", v)
	}
	mustExec(t, db, "SET NAMES latin1")
	if v := queryOne(t, db, "SELECT @@character_set_client"); v != "latin1" {
		t.Fatalf("character_set_client after SET NAMES = %s", v)
	}
}

func TestTransactions(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT)")
	mustExec(t, db, "INSERT INTO acct VALUES (1, 100), (2, 100)")

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE acct SET bal = bal - 10 WHERE id = 1")
	mustExec(t, tx, "UPDATE acct SET bal = bal + 10 WHERE id = 2")
	if v := queryOne(t, direct, "SELECT bal FROM acct WHERE id = 1"); v != "100" {
		t.Fatalf("uncommitted change visible outside: %s", v)
	}
	if v := queryOne(t, tx, "SELECT bal FROM acct WHERE id = 1"); v != "90" {
		t.Fatalf("own change not visible inside: %s", v)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if v := queryOne(t, direct, "SELECT SUM(bal) FROM acct WHERE bal = 100"); v != "200" {
		t.Fatalf("rollback left %s", v)
	}

	conn := sessionAfter(t, db, "SET autocommit = 0", "UPDATE acct SET bal = 1 WHERE id = 1", "COMMIT", "UPDATE acct SET bal = 2 WHERE id = 2", "ROLLBACK", "SET autocommit = 1")
	defer conn.Close()
	if got := queryStrings(t, direct, "SELECT bal FROM acct ORDER BY id"); fmt.Sprint(got) != "[[1] [100]]" {
		t.Fatalf("autocommit=0 commit/rollback gave %v", got)
	}
	// A client that disconnects mid-transaction leaves nothing behind.
	c2, _ := db.Conn(t.Context())
	_, _ = c2.ExecContext(t.Context(), "BEGIN")
	_, _ = c2.ExecContext(t.Context(), "UPDATE acct SET bal = 999 WHERE id = 1")
	_ = c2.Raw(func(dc any) error { return fmt.Errorf("drop") }) // marks the conn bad
	c2.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if queryOne(t, direct, "SELECT bal FROM acct WHERE id = 1") == "1" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := queryOne(t, direct, "SELECT bal FROM acct WHERE id = 1"); v != "1" {
		t.Fatalf("abandoned transaction committed: %s", v)
	}
}

func TestMultiStatements(t *testing.T) {
	p, _, _ := passThrough(t)
	db := p.open(t, "ptdb", "multiStatements=true")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE m (id INT); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2); SET @m = 7")
	if v := queryOne(t, db, "SELECT COUNT(*) + @m FROM m"); v != "9" {
		t.Fatalf("after multi-statement: %s", v)
	}
	// Stops at the first error, as MySQL does.
	_, err := db.Exec("INSERT INTO m VALUES (3); SELECT * FROM missing; INSERT INTO m VALUES (4)")
	if mysqlCode(err) != 1146 {
		t.Fatalf("multi-statement error: %v", err)
	}
	if v := queryOne(t, db, "SELECT COUNT(*) FROM m"); v != "3" {
		t.Fatalf("statements after the failing one ran: count %s", v)
	}
}

// SET SESSION TRANSACTION READ ONLY holds for its session only.
func TestReadOnlySessionDoesNotLeak(t *testing.T) {
	p, _, _ := passThrough(t)
	db := p.open(t, "ptdb")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE test (value BOOL)")
	mustExec(t, db, "SET SESSION TRANSACTION READ ONLY")
	if _, err := db.Exec("DROP TABLE test"); mysqlCode(err) != 1792 {
		t.Fatalf("write in a read-only session: %v", err)
	}
	db.Close()
	db2 := p.open(t, "ptdb")
	// The next session must not inherit it from a pooled connection.
	mustExec(t, db2, "DROP TABLE test")
}

// Statements larger than the proxy's 16 KiB write buffer go to the backend
// partly before the proxy waits for the answer; the answer can then arrive
// before the wait begins and must still be seen (a session used to hang).
func TestPassThroughLargeStatements(t *testing.T) {
	_, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE blobs (id INT PRIMARY KEY, body MEDIUMTEXT)")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const clients, statements = 4, 100
	for _, err := range concurrently(clients, func(k int) error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		for i := 0; i < statements; i++ {
			size := 17<<10 + (i*7919)%(200<<10)
			body := strings.Repeat(string(rune('a'+i%26)), size)
			var n int
			if err := conn.QueryRowContext(ctx, "SELECT LENGTH('"+body+"')").Scan(&n); err != nil || n != size {
				return fmt.Errorf("client %d statement %d: length %d of %d (%v)", k, i, n, size, err)
			}
			id := k*statements + i
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO blobs VALUES (%d, '%s')", id, body)); err != nil {
				return fmt.Errorf("client %d insert %d: %v", k, i, err)
			}
		}
		return nil
	}) {
		t.Fatal(err)
	}
	if got := queryOne(t, db, "SELECT COUNT(*) FROM blobs"); got != fmt.Sprint(clients*statements) {
		t.Fatalf("%s rows, want %d", got, clients*statements)
	}
}

// TestLastInsertIDVariables: @@identity and @@last_insert_id are MariaDB's
// names for LAST_INSERT_ID(), the session's own. With two sessions
// inserting in turn, each reads its own id, as on MariaDB.
func TestLastInsertIDVariables(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE seqd (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	ctx := t.Context()
	var sessions [2]*sql.Conn
	for i := range sessions {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sessions[i] = c
	}
	var ids [2]string
	for i, c := range sessions {
		if _, err := c.ExecContext(ctx, "INSERT INTO seqd (v) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
		ids[i] = queryOneConn(t, c, "SELECT LAST_INSERT_ID()")
	}
	if ids[0] == ids[1] {
		t.Fatalf("both sessions got id %s", ids[0])
	}
	const q = "SELECT @@identity, @@last_insert_id, @@session.identity, LAST_INSERT_ID()"
	for i, c := range sessions {
		rows, err := c.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		got := rowsToStrings(t, rows, q)
		if want := [][]string{{ids[i], ids[i], ids[i], ids[i]}}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("session %d: %s = %v, want %v", i, q, got, want)
		}
		wantCols, _ := columnsAndRows(t, direct, q)
		if fmt.Sprint(cols) != fmt.Sprint(wantCols) {
			t.Errorf("columns %q, MariaDB names them %q", cols, wantCols)
		}
	}
}

// TestLastInsertIDWithValue: LAST_INSERT_ID(expr) in a SELECT sets the
// session's id, which no OK packet carries; text and prepared statements,
// each answer compared with MariaDB's for the same sequence.
func TestLastInsertIDWithValue(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE lid (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO lid VALUES (10), (20)")
	steps := []sessionStep{
		{sql: "SELECT LAST_INSERT_ID(42)"},
		{sql: "SELECT LAST_INSERT_ID(), @@identity"},
		{sql: "SELECT LAST_INSERT_ID(id + 5) FROM lid ORDER BY id"},
		{sql: "SELECT LAST_INSERT_ID()"},
		{sql: "SELECT LAST_INSERT_ID(?)", args: []any{77}},
		{sql: "SELECT LAST_INSERT_ID()"},
		{sql: "SELECT 1 UNION SELECT LAST_INSERT_ID(9)"},
		{sql: "SELECT LAST_INSERT_ID()"},
		{sql: "DO LAST_INSERT_ID(55)"},
		{sql: "SELECT LAST_INSERT_ID()"},
		{sql: "SET @id = LAST_INSERT_ID(66)"},
		{sql: "SELECT LAST_INSERT_ID(), @id"},
	}
	compareSessions(t, db, direct, steps)
}

// TestTransactionVariables: @@autocommit and @@in_transaction say what the
// session's own state is, which the proxy keeps (backends run with
// autocommit on and see a transaction only once it reaches them). Each
// answer of the sequence is compared with MariaDB's.
func TestTransactionVariables(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE txv (id INT PRIMARY KEY)")
	show := sessionStep{sql: "SELECT @@autocommit, @@session.autocommit, @@in_transaction"}
	steps := []sessionStep{
		show, {sql: "SET autocommit = 0"}, show, {sql: "SELECT COUNT(*) FROM txv"}, show, {sql: "COMMIT"},
		{sql: "SET autocommit = 1"}, show, {sql: "BEGIN"}, {sql: "SELECT COUNT(*) FROM txv"}, show, {sql: "ROLLBACK"}, show,
	}
	compareSessions(t, db, direct, steps)
}

// TestTransactionCompletion: COMMIT and ROLLBACK AND CHAIN begin the next
// transaction (with the same access mode), as does a bare COMMIT under
// completion_type = CHAIN unless it says AND NO CHAIN. Rows written after
// the chain are rolled back with it. Each answer is compared with
// MariaDB's.
func TestTransactionCompletion(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE chained (id INT PRIMARY KEY)")
	show := sessionStep{sql: "SELECT @@in_transaction, (SELECT GROUP_CONCAT(id ORDER BY id) FROM chained)"}
	steps := []sessionStep{
		{sql: "DELETE FROM chained"},
		{sql: "BEGIN"}, {sql: "INSERT INTO chained VALUES (1)"}, {sql: "COMMIT AND CHAIN"}, show,
		{sql: "INSERT INTO chained VALUES (2)"}, {sql: "ROLLBACK AND CHAIN"}, show,
		{sql: "INSERT INTO chained VALUES (3)"}, {sql: "ROLLBACK"}, show,
		{sql: "SET completion_type = CHAIN"},
		{sql: "BEGIN"}, {sql: "INSERT INTO chained VALUES (4)"}, {sql: "COMMIT"}, show,
		{sql: "INSERT INTO chained VALUES (5)"}, {sql: "ROLLBACK"}, show,
		{sql: "INSERT INTO chained VALUES (6)"}, {sql: "COMMIT AND NO CHAIN"}, show,
		{sql: "INSERT INTO chained VALUES (7)"}, {sql: "ROLLBACK"}, show,
		{sql: "SET completion_type = NO_CHAIN"},
		{sql: "START TRANSACTION READ ONLY"}, {sql: "COMMIT AND CHAIN"}, show,
		{sql: "SELECT COUNT(*) FROM chained"}, {sql: "COMMIT"}, show,
	}
	compareSessions(t, db, direct, steps)

	// The chained transaction kept READ ONLY: the write is refused.
	for name, d := range map[string]*sql.DB{"proxy": db, "MariaDB": direct} {
		c := sessionAfter(t, d, "START TRANSACTION READ ONLY", "COMMIT AND CHAIN")
		_, err := c.ExecContext(t.Context(), "INSERT INTO chained VALUES (8)")
		if mysqlCode(err) != 1792 {
			t.Errorf("%s: INSERT in the chained READ ONLY transaction: %v, want error 1792", name, err)
		}
		c.Close()
	}
}

// TestCommitRelease: COMMIT RELEASE (or a bare COMMIT under
// completion_type = RELEASE) commits, answers, then closes the client's
// connection, and the next statement on it fails as on MariaDB.
func TestCommitRelease(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE released (id INT PRIMARY KEY)")
	for name, d := range map[string]*sql.DB{"proxy": db, "MariaDB": direct} {
		for i, ending := range [][]string{{"COMMIT RELEASE"}, {"SET completion_type = 'RELEASE'", "BEGIN", "COMMIT"}} {
			id := fmt.Sprint(i + 1)
			c := sessionAfter(t, d, append([]string{"BEGIN", "DELETE FROM released WHERE id = " + id, "INSERT INTO released VALUES (" + id + ")"}, ending...)...)
			var one int
			if err := c.QueryRowContext(t.Context(), "SELECT 1").Scan(&one); err == nil {
				t.Errorf("%s: after %q the connection still answers", name, ending)
			}
			c.Close()
			if got := queryOne(t, direct, "SELECT COUNT(*) FROM released WHERE id = "+id); got != "1" {
				t.Errorf("%s: the row written before %q is not committed", name, ending)
			}
		}
	}
}

// TestChainedBackendTransactionNotPooled: under completion_type = CHAIN the
// proxy's own COMMIT on a backend must not chain there: the connection
// would go back to the pool inside a transaction, and the next client's
// autocommit writes on it would never commit.
func TestChainedBackendTransactionNotPooled(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, "CREATE TABLE pooled (id INT PRIMARY KEY)")
	a := sessionAfter(t, db, "SET completion_type = CHAIN", "BEGIN", "INSERT INTO pooled VALUES (1)", "COMMIT", "ROLLBACK")
	defer a.Close()
	// Most likely on the backend connection the first session just gave back.
	checkWriteCommits(t, db, direct, "pooled", 2, "1,2")
}

// checkWriteCommits inserts id into table through the proxy, as a client
// other than the one the test holds, and checks the ids MariaDB then has
// committed: want, as GROUP_CONCAT lists them. A pooled connection left in
// a transaction would take the insert and never commit it.
func checkWriteCommits(t *testing.T, db, direct *sql.DB, table string, id int, want string) {
	t.Helper()
	mustExec(t, db, fmt.Sprintf("INSERT INTO %s VALUES (%d)", table, id))
	if got := queryOne(t, direct, "SELECT GROUP_CONCAT(id ORDER BY id) FROM "+table); got != want {
		t.Fatalf("committed rows seen on MariaDB: %q, want %s", got, want)
	}
}

// TestTransactionBegunByBackend: a procedure that runs START TRANSACTION
// leaves the session in that transaction, as on MariaDB: ROLLBACK undoes
// its row, COMMIT keeps it, and meanwhile the backend connection does not
// go back to the pool, where another client's autocommit write would join
// the transaction and never commit.
func TestTransactionBegunByBackend(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE begun (id INT PRIMARY KEY)")
	mustExec(t, direct, "CREATE PROCEDURE begin_and_insert(v INT) BEGIN START TRANSACTION; INSERT INTO begun VALUES (v); END")
	show := sessionStep{sql: "SELECT @@in_transaction, (SELECT GROUP_CONCAT(id ORDER BY id) FROM begun)"}
	steps := []sessionStep{
		{sql: "DELETE FROM begun"},
		{sql: "CALL begin_and_insert(1)"}, show, {sql: "ROLLBACK"}, show,
		{sql: "CALL begin_and_insert(2)"}, {sql: "COMMIT"}, show,
		{sql: "CALL begin_and_insert(?)", args: []any{3}}, show, {sql: "ROLLBACK"}, show,
	}
	compareSessions(t, db, direct, steps)

	a := sessionAfter(t, db, "CALL begin_and_insert(4)")
	defer a.Close()
	checkWriteCommits(t, db, direct, "begun", 5, "2,5") // 4 is in the first client's transaction
}

// TestTransactionBegunByFailingStatement: a procedure that begins a
// transaction, writes, then fails leaves the session in the transaction,
// as on MariaDB, though its error packet does not say so; the same CALL
// again (from the plan cache) too. Another client's write meanwhile
// commits.
func TestTransactionBegunByFailingStatement(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE failing (id INT PRIMARY KEY)")
	mustExec(t, direct, "CREATE PROCEDURE begin_insert_fail(v INT) BEGIN START TRANSACTION; INSERT INTO failing VALUES (v); SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'after the insert'; END")
	show := clientStep{0, sessionStep{sql: "SELECT @@in_transaction, (SELECT GROUP_CONCAT(id ORDER BY id) FROM failing)"}}
	call := clientStep{0, sessionStep{sql: "CALL begin_insert_fail(1)"}}
	rollback := clientStep{0, sessionStep{sql: "ROLLBACK"}}
	steps := []clientStep{
		{0, sessionStep{sql: "DELETE FROM failing"}},
		call, show, rollback, show,
		call, show, rollback, show,
		{0, sessionStep{sql: "CALL begin_insert_fail(?)", args: []any{2}}}, show, rollback, show,
	}
	compareClients(t, db, direct, steps)

	a := sessionAfter(t, db)
	defer a.Close()
	if _, err := a.ExecContext(t.Context(), "CALL begin_insert_fail(3)"); mysqlCode(err) != 1644 {
		t.Fatalf("CALL: %v, want error 1644", err)
	}
	checkWriteCommits(t, db, direct, "failing", 4, "4") // 3 is in the first client's transaction
}

// TestSessionStateOnBackendConnection: temporary tables, named locks,
// table locks and SQL prepared statements belong to the session that made
// them, as on MariaDB: another client sees none of them, and they go when
// the session ends. Each answer is compared with MariaDB's.
func TestSessionStateOnBackendConnection(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE locked (id INT PRIMARY KEY)")
	mustExec(t, direct, "INSERT INTO locked VALUES (1)")
	a, b, c, d, e := stepsOf(0), stepsOf(1), stepsOf(2), stepsOf(3), stepsOf(4)
	steps := []clientStep{
		a("CREATE TEMPORARY TABLE scratch (v INT)"), a("INSERT INTO scratch VALUES (7)"),
		b("SELECT v FROM scratch"), a("SELECT v FROM scratch"),
		a("PREPARE mine FROM 'SELECT 40 + 2'"), b("EXECUTE mine"), a("EXECUTE mine"),
		a("SELECT GET_LOCK('held', 0)"), b("SELECT GET_LOCK('held', 0)"), b("SELECT RELEASE_LOCK('held')"),
		a("DO GET_LOCK('done', 0)"), b("SELECT IS_FREE_LOCK('done')"),
		a("SET @got = GET_LOCK('set', 0)"), b("SELECT IS_FREE_LOCK('set')"),
		a("SELECT GET_LOCK(?, 0)", "prepared"), b("SELECT IS_FREE_LOCK(?)", "prepared"),
		a("SELECT RELEASE_LOCK('held')"), b("SELECT GET_LOCK('held', 0)"),
		// The same text, cached or not, takes the lock for the second
		// client too.
		c("SELECT GET_LOCK('held', 0)"),
		a("LOCK TABLES locked WRITE"), b("SET SESSION lock_wait_timeout = 1"), b("SELECT COUNT(*) FROM locked"),
		a("UNLOCK TABLES"), b("SELECT COUNT(*) FROM locked"),
		// The first client is gone: its table and locks with it (the
		// server frees them a moment after the connection closes).
		b("SELECT GET_LOCK('done', 10), GET_LOCK('set', 10), GET_LOCK('prepared', 10)"),
		b("SELECT RELEASE_LOCK('held')"), c("SELECT GET_LOCK('held', 0)"), c("SELECT v FROM scratch"),
		// User variables a statement assigns are the session's too (two
		// clients that pinned nothing, whose statements share the pool).
		d("SELECT @assigned := 7"), e("SELECT @assigned"), d("SELECT @assigned"),
		d("SET @rank = 0"), d("SELECT @rank := @rank + 1 FROM locked"), e("SELECT @rank"), d("SELECT @rank"),
	}
	compareClients(t, db, direct, steps)
}

// TestSessionStateLeftByOpaqueStatements: what a CALL or a statement the
// parser does not know (SELECT ... INTO @var, HANDLER) leaves on its
// backend connection is the session's, never the next client's there.
func TestSessionStateLeftByOpaqueStatements(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE handled (id INT PRIMARY KEY)")
	mustExec(t, direct, "INSERT INTO handled VALUES (1), (2)")
	mustExec(t, direct, "CREATE PROCEDURE give(OUT r INT) SET r = 41")
	mustExec(t, direct, "CREATE PROCEDURE side() BEGIN SET @side = 9; DO LAST_INSERT_ID(77); END")
	mustExec(t, direct, "CREATE PROCEDURE side_fails() BEGIN SET @failed = 3; SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END")
	mustExec(t, direct, "CREATE PROCEDURE warns() SELECT CAST('x' AS INT) INTO @zero")
	a, b, c := stepsOf(0), stepsOf(1), stepsOf(2)
	steps := []clientStep{
		// OUT parameters through user variables, as connectors call
		// procedures over the text protocol.
		a("SET @out = 0"), a("CALL give(@out)"), b("SELECT @out"), a("SELECT @out"),
		a("CALL side()"), b("SELECT @side, LAST_INSERT_ID()"), a("SELECT @side, LAST_INSERT_ID()"),
		a("CALL side_fails()"), b("SELECT @failed"), a("SELECT @failed"),
		// Reading the values back must not lose the procedure's warnings.
		a("CALL warns()"), a("SHOW WARNINGS"), a("SELECT @zero"),
		a("SELECT 5 INTO @into"), b("SELECT @into"), a("SELECT @into, @out, @side"),
		a("SELECT id FROM handled ORDER BY id DESC LIMIT 1 INTO @last"), b("SELECT @last"), a("SELECT @last"),
		c("HANDLER handled OPEN"), b("HANDLER handled READ FIRST"), c("HANDLER handled READ FIRST"),
		c("HANDLER handled READ NEXT"), c("HANDLER handled CLOSE"),
	}
	compareClients(t, db, direct, steps)
}

// TestSessionStateLostWithItsConnection: when the backend connection that
// holds a session's temporary table dies, the session ends with it, as a
// MariaDB client's does, instead of going on without the table.
func TestSessionStateLostWithItsConnection(t *testing.T) {
	_, db, direct := passThrough(t)
	c := sessionAfter(t, db, "CREATE TEMPORARY TABLE scratch (v INT)")
	defer c.Close()
	var backendID string
	if err := c.QueryRowContext(t.Context(), "SELECT @@pseudo_thread_id").Scan(&backendID); err != nil {
		t.Fatal(err)
	}
	mustExec(t, direct, "KILL "+backendID)
	if _, err := c.ExecContext(t.Context(), "INSERT INTO scratch VALUES (1)"); err == nil {
		t.Fatal("the insert succeeded after the temporary table's connection was killed")
	}
	var n int
	err := c.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM scratch").Scan(&n)
	if err == nil || mysqlCode(err) > 0 {
		t.Fatalf("the session went on after losing its temporary table: %v", err)
	}
}

// sessionStep is one statement of a session; a prepared one when args are set.
type sessionStep struct {
	sql  string
	args []any
}

// compareSessions runs steps in one session through the proxy and in one
// on MariaDB, and compares every answer: column names and values. Every
// step must succeed.
func compareSessions(t *testing.T, proxy, mariadb *sql.DB, steps []sessionStep) {
	t.Helper()
	answers := func(d *sql.DB) []string {
		c, err := d.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var out []string
		for _, st := range steps {
			a, err := answer(t, c, st)
			if err != nil {
				t.Fatalf("%s: %v", st.sql, err)
			}
			out = append(out, a)
		}
		return out
	}
	if got, want := answers(proxy), answers(mariadb); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("through the proxy:\n%s\non MariaDB:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// clientStep is a step of one of several clients, numbered from 0.
type clientStep struct {
	client int
	sessionStep
}

// stepsOf returns a maker of client's steps: a prepared statement when
// args are given.
func stepsOf(client int) func(sql string, args ...any) clientStep {
	return func(sql string, args ...any) clientStep { return clientStep{client, sessionStep{sql, args}} }
}

// compareClients runs steps, each in its client's session, through the
// proxy and on MariaDB, and compares every answer, errors (by code)
// included. Each client's session is closed once its last step is done.
func compareClients(t *testing.T, proxy, mariadb *sql.DB, steps []clientStep) {
	t.Helper()
	compareClientsBy(t, proxy, mariadb, steps, answer)
}

// compareClientsBy is compareClients with each step run by run.
func compareClientsBy(t *testing.T, proxy, mariadb *sql.DB, steps []clientStep, run func(*testing.T, *sql.Conn, sessionStep) (string, error)) {
	t.Helper()
	answers := func(d *sql.DB) []string {
		last := map[int]int{}
		for i, st := range steps {
			last[st.client] = i
		}
		conns := map[int]*sql.Conn{}
		var out []string
		for i, st := range steps {
			c := conns[st.client]
			if c == nil {
				var err error
				if c, err = d.Conn(t.Context()); err != nil {
					t.Fatal(err)
				}
				conns[st.client] = c
			}
			a, err := run(t, c, st.sessionStep)
			if err != nil {
				a = fmt.Sprintf("%s: error %d", st.sql, mysqlCode(err))
			}
			out = append(out, fmt.Sprintf("client %d: %s", st.client, a))
			if last[st.client] == i {
				endSession(c)
			}
		}
		return out
	}
	if got, want := answers(proxy), answers(mariadb); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("through the proxy:\n%s\non MariaDB:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// endSession closes c's connection rather than leaving it in the pool, so
// that its session ends.
func endSession(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
}

// answer runs one step on c: its column names and rows, as text.
func answer(t *testing.T, c *sql.Conn, st sessionStep) (string, error) {
	rows, err := c.QueryContext(t.Context(), st.sql, st.args...)
	if err != nil {
		return "", err
	}
	return rowsAnswer(st, rows)
}

// answerPrepared runs one step on c as a prepared statement, with or
// without arguments.
func answerPrepared(t *testing.T, c *sql.Conn, st sessionStep) (string, error) {
	p, err := c.PrepareContext(t.Context(), st.sql)
	if err != nil {
		return "", err
	}
	defer p.Close()
	rows, err := p.QueryContext(t.Context(), st.args...)
	if err != nil {
		return "", err
	}
	return rowsAnswer(st, rows)
}

// rowsAnswer is a step's column names and rows, as text.
func rowsAnswer(st sessionStep, rows *sql.Rows) (string, error) {
	cols, _ := rows.Columns()
	// An error can come after the columns (a statement interrupted).
	values, err := readRows(rows)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %q: %v", st.sql, cols, values), nil
}

// TestChangeUser: COM_CHANGE_USER from a real connector (libmariadb, via
// Python's MySQLdb) resets the session, logs in as the new user with its
// schema, and refuses a wrong password or a schema the user may not use,
// each as MariaDB does.
func TestChangeUser(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import MySQLdb").Run(); err != nil {
		t.Fatalf("python3-mysqldb is needed (scripts/ensure-deps.sh installs it): %v", err)
	}
	cfg := baseConfig()
	passThroughSchema(cfg, "cu_a")
	passThroughSchema(cfg, "cu_b")
	cfg.Users = append(cfg.Users, confUser("cu_alice", "pa", []string{"cu_a", "cu_b"}), confUser("cu_bob", "pb", []string{"cu_b"}))
	p := startProxy(t, cfg)

	dbA, dbB := uniqueName("cua"), uniqueName("cub")
	root, err := nodes[0].Primary.DB("")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, q := range []string{
		"CREATE DATABASE " + dbA, "CREATE DATABASE " + dbB,
		"CREATE USER cu_alice@'127.0.0.1' IDENTIFIED BY 'pa'", "CREATE USER cu_bob@'127.0.0.1' IDENTIFIED BY 'pb'",
		"GRANT ALL ON " + dbA + ".* TO cu_alice@'127.0.0.1'", "GRANT ALL ON " + dbB + ".* TO cu_alice@'127.0.0.1'",
		"GRANT ALL ON " + dbB + ".* TO cu_bob@'127.0.0.1'",
	} {
		mustExec(t, root, q)
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP USER cu_alice@'127.0.0.1'", "DROP USER cu_bob@'127.0.0.1'", "DROP DATABASE " + dbA, "DROP DATABASE " + dbB} {
			_, _ = root.Exec(q)
		}
	})
	run := func(addr, a, b string) string {
		host, port, _ := net.SplitHostPort(addr)
		out, err := exec.Command("/usr/bin/python3", "testdata/change_user.py", host, port, "cu_alice", "pa", a, "cu_bob", "pb", b).CombinedOutput()
		if err != nil {
			t.Fatalf("change_user.py against %s: %v\n%s", addr, err, out)
		}
		return string(out)
	}
	got, want := run(p.addr, "cu_a", "cu_b"), run(nodes[0].Primary.Addr, dbA, dbB)
	if got != want {
		t.Errorf("through the proxy:\n%son MariaDB:\n%s", got, want)
	}
	if !strings.Contains(want, "to B ok schema B") || !strings.Contains(want, "wrong password error 1045") {
		t.Fatalf("the script did not change users on MariaDB:\n%s", want)
	}
	// A client that scrambled with caching_sha2_password is asked again
	// in mysql_native_password.
	if got, want := changeUserSwitched(t, p.addr, "cu_a", "cu_b"), changeUserSwitched(t, nodes[0].Primary.Addr, dbA, dbB); got != want {
		t.Errorf("caching_sha2_password client: through the proxy %q, on MariaDB %q", got, want)
	}
}

// changeUserSwitched sends COM_CHANGE_USER (cu_alice to cu_bob) scrambled
// as caching_sha2_password, answers the switch request it expects, and
// tells what it saw.
func changeUserSwitched(t *testing.T, addr, schemaA, schemaB string) string {
	c, err := client.Connect(addr, "cu_alice", "pa", schemaA)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt := []byte{0, 0, 0, 0, 0x11}
	pkt = append(pkt, "cu_bob\x00"...)
	pkt = append(pkt, 32)
	pkt = append(pkt, make([]byte, 32)...)
	pkt = append(pkt, schemaB+"\x00"...)
	pkt = append(pkt, 45, 0)
	pkt = append(pkt, "caching_sha2_password\x00"...)
	pkt = append(pkt, 0) // no connection attributes
	c.ResetSequence()
	if err := c.WritePacket(pkt); err != nil {
		t.Fatal(err)
	}
	req, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	plugin, seed, ok := bytes.Cut(req[min(1, len(req)):], []byte{0})
	if len(req) == 0 || req[0] != 0xfe || !ok {
		return fmt.Sprintf("no switch request: %q", req)
	}
	seed = bytes.TrimSuffix(seed, []byte{0})
	resp := append([]byte{0, 0, 0, 0}, mysql.CalcNativePassword(seed, []byte("pb"))...)
	if err := c.WritePacket(resp); err != nil {
		t.Fatal(err)
	}
	res, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("switch to %s with a %d-byte seed, then %#x", plugin, len(seed), res[0])
}

// TestSequenceLastValue: LASTVAL() is the value the session's own NEXTVAL
// took, as on MariaDB, not whatever a pooled connection last saw.
func TestSequenceLastValue(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE SEQUENCE seq")
	mustExec(t, direct, "CREATE TABLE numbered (id BIGINT PRIMARY KEY, v INT)")
	a, b := stepsOf(0), stepsOf(1)
	// The oracle runs after the proxy on the same sequence: answers compare
	// values with the rows each step wrote, not the numbers themselves.
	steps := []clientStep{
		a("SELECT LASTVAL(seq)"),
		a("INSERT INTO numbered VALUES (NEXTVAL(seq), 1)"),
		b("SELECT LASTVAL(seq)"),
		a("SELECT LASTVAL(seq) = MAX(id) FROM numbered"),
		b("SELECT NEXTVAL(seq) > 0"), b("SELECT LASTVAL(seq) > MAX(id) FROM numbered"),
		a("SELECT LASTVAL(seq) = MAX(id) FROM numbered"),
		a("SELECT PREVIOUS VALUE FOR seq IS NOT NULL"),
		a("SELECT NEXTVAL(seq) = LASTVAL(seq)"),
		a("INSERT INTO numbered VALUES (NEXTVAL(seq), 2)"),
		a("SELECT LASTVAL(seq) = MAX(id) FROM numbered WHERE v = ?", 2),
		a("SELECT LASTVAL(seq) = MAX(id) FROM numbered WHERE v = 2"),
	}
	compareClients(t, db, direct, steps)
}
