package tests

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestWarningsMatchOracle runs statements that raise warnings through the
// proxy (four shards) and on the oracle (one database): the warning count
// each answer carries and what SHOW WARNINGS, SHOW ERRORS and SHOW
// COUNT(*) WARNINGS say next must be the same.
func TestWarningsMatchOracle(t *testing.T) {
	proxy, oracle := oracleConns(t)

	cases := []struct {
		name string
		sql  string
		args []any // a prepared statement when set
	}{
		{"scatter", "SELECT id, CAST(name AS SIGNED) FROM users WHERE id <= 12", nil},
		{"no warnings clears them", "SELECT id FROM users WHERE id <= 4", nil},
		{"error on one shard", "SELECT nosuchcol FROM users WHERE id = 1", nil},
		{"error on every shard", "SELECT nosuchcol FROM users", nil},
		{"error in a write to every shard", "UPDATE users SET nosuchcol = 1", nil},
		{"success after an error", "SELECT id FROM users WHERE id <= 4", nil},
		{"scatter merged", "SELECT id, CAST(name AS SIGNED) FROM users WHERE id <= 12 ORDER BY id", nil},
		{"scatter aggregate", "SELECT COUNT(*), SUM(CAST(name AS SIGNED)) FROM users WHERE id <= 20", nil},
		{"scatter prepared", "SELECT id, CAST(name AS SIGNED) FROM users WHERE id <= ?", []any{12}},
		{"single shard", "SELECT CAST(name AS SIGNED) FROM users WHERE id = 7", nil},
		{"scatter write", "UPDATE IGNORE users SET age = age + CAST(SUBSTRING(name, 1, 0) AS SIGNED) WHERE id <= 8", nil},
		{"scatter in a transaction", "SELECT id, CAST(name AS SIGNED) FROM users WHERE id <= 12", nil},
		{"scatter past max_error_count", "SELECT id, CAST('x' AS SIGNED) FROM users WHERE id <= 12 ORDER BY id", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "scatter in a transaction" {
				// Shards on one node share the transaction's connection and
				// are read one after another.
				for _, c := range []*client.Conn{proxy, oracle} {
					if _, err := c.Execute("BEGIN"); err != nil {
						t.Fatal(err)
					}
					defer c.Execute("ROLLBACK")
				}
			}
			if tc.name == "scatter past max_error_count" {
				// 12 warnings, of which 3 are kept.
				for _, c := range []*client.Conn{proxy, oracle} {
					if _, err := c.Execute("SET max_error_count = 3"); err != nil {
						t.Fatal(err)
					}
					defer c.Execute("SET max_error_count = DEFAULT")
				}
			}
			answer, got := warningsAfter(t, proxy, tc.sql, tc.args)
			_, want := warningsAfter(t, oracle, tc.sql, tc.args)
			if got != want {
				t.Fatalf("%s\nproxy:  %s\noracle: %s", tc.sql, got, want)
			}
			// The oracle's own answers are no reference for the count: with
			// CLIENT_DEPRECATE_EOF, which the proxy does not offer, go-mysql
			// reads a result's warnings from the wrong bytes.
			if strings.HasPrefix(want, "failed") {
				return // an error packet carries no count
			}
			if want := strings.Join(sortedRows(t, oracle, "SHOW COUNT(*) WARNINGS"), ""); fmt.Sprintf("%d|", answer) != want {
				t.Fatalf("%s: the answer carries %d warnings, the oracle counts %s", tc.sql, answer, want)
			}
		})
	}
}

// oracleConns connects one session to the proxy's four-shard schema and
// one to the oracle database holding the same rows.
func oracleConns(t *testing.T) (proxy, oracle *client.Conn) {
	t.Helper()
	oc := newOracleCluster(t)
	proxy, err := client.Connect(oc.proxyAddr, appUser, appPassword, "scat")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	oracle, err = client.Connect(nodes[0].Primary.Addr, "root", "", oc.oracleName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { oracle.Close() })
	return proxy, oracle
}

// warningsAfter runs one statement and returns the warning count of its
// answer and, as text, the diagnostics the SHOWs that follow it give, one
// after another (a SHOW does not clear them; rows sorted: shards answer in
// no set order).
func warningsAfter(t *testing.T, c *client.Conn, sql string, args []any) (uint16, string) {
	t.Helper()
	var warnings uint16
	out := ""
	r, err := c.Execute(sql, args...)
	var failed *mysql.MyError
	switch {
	case errors.As(err, &failed):
		out = fmt.Sprintf("failed: %d; ", failed.Code)
	case err != nil:
		t.Fatalf("%s: %v", sql, err)
	default:
		warnings = r.Warnings
	}
	for _, show := range []string{"SHOW COUNT(*) WARNINGS", "SHOW WARNINGS", "SELECT @@warning_count, @@error_count",
		"SHOW ERRORS", "SHOW COUNT(*) ERRORS", "SHOW WARNINGS"} {
		out += fmt.Sprintf("%s: %s; ", show, sortedRows(t, c, show))
	}
	return warnings, out
}

func sortedRows(t *testing.T, c *client.Conn, sql string) []string {
	t.Helper()
	r, err := c.Execute(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rowsAsText(r)
}

func rowsAsText(r *mysql.Result) []string {
	var rows []string
	for i := range r.RowNumber() {
		row := ""
		for j := range r.ColumnNumber() {
			v, _ := r.GetString(i, j)
			row += v + "|"
		}
		rows = append(rows, row)
	}
	slices.Sort(rows)
	return rows
}

// TestShowWarningsLimit: SHOW WARNINGS|ERRORS LIMIT, which the SQL parser
// does not know, answers from the session's diagnostics. Rows may come in
// another order than the oracle's after a scatter (shard order), so each
// answer is checked for its size and for rows the oracle also lists.
func TestShowWarningsLimit(t *testing.T) {
	proxy, oracle := oracleConns(t)
	statements := []string{
		"SELECT id, CAST(name AS SIGNED) FROM users WHERE id <= 12", // scatter, one warning per row
		"SELECT CAST(name AS SIGNED) FROM users WHERE id = 7",       // one shard
		"SELECT nosuchcol FROM users",                               // an error
	}
	shows := []string{"SHOW WARNINGS LIMIT 1", "show warnings limit 2, 3", "SHOW WARNINGS LIMIT 0",
		"SHOW WARNINGS LIMIT 2 OFFSET 100", "SHOW ERRORS LIMIT 1", "SHOW /* c */ ERRORS LIMIT 0, 5;"}
	for _, sql := range statements {
		for _, c := range []*client.Conn{proxy, oracle} {
			c.Execute(sql) // the error of the third is the point
		}
		all := sortedRows(t, oracle, "SHOW WARNINGS")
		if len(all) == 0 {
			t.Fatalf("%s: the oracle has no diagnostics to list", sql)
		}
		for _, show := range shows {
			got, want := sortedRows(t, proxy, show), sortedRows(t, oracle, show)
			if len(got) != len(want) {
				t.Errorf("after %s, %s: %d rows through the proxy, %d on the oracle\nproxy:  %q\noracle: %q", sql, show, len(got), len(want), got, want)
			}
			for _, row := range got {
				if !slices.Contains(all, row) {
					t.Errorf("after %s, %s: the proxy lists %q, which the oracle does not", sql, show, row)
				}
			}
		}
	}
}

// TestShowWarningsLimitIsTheSessions: on a pass-through schema the
// statement used to go to any pooled backend connection and list the
// warnings of whatever ran there last, another client's included.
func TestShowWarningsLimitIsTheSessions(t *testing.T) {
	_, db, _ := passThrough(t)
	ctx := t.Context()
	first, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	// A warning, then a statement that returns its backend connection to
	// the pool: MariaDB keeps the warning there past a SELECT without tables.
	for _, q := range []string{"SELECT CAST('secret' AS SIGNED)", "SELECT 1"} {
		if _, err := first.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, show := range []string{"SHOW WARNINGS LIMIT 5", "SHOW ERRORS LIMIT 5"} {
		rows, err := second.QueryContext(ctx, show)
		if err != nil {
			t.Fatal(err)
		}
		if leaked := rowsToStrings(t, rows, show); len(leaked) > 0 {
			t.Errorf("%s on a new session lists %q", show, leaked)
		}
	}
}

// TestWarningsOutliveStatementsWithoutTables: as on MariaDB, a statement
// that uses no tables and raises no warnings (SELECT 1, SET, DO, prepared
// or not) leaves the last statement's warnings to SHOW WARNINGS and
// @@warning_count; one with tables clears them, and new warnings replace
// them.
func TestWarningsOutliveStatementsWithoutTables(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE quiet (id INT PRIMARY KEY)")
	step := func(sql string, args ...any) sessionStep { return sessionStep{sql, args} }
	compareSessions(t, db, direct, []sessionStep{
		step("SELECT CAST('y' AS INT)"), step("SELECT @@warning_count"), step("SHOW WARNINGS"),
		step("SELECT 1"), step("SET @k = 1"), step("DO 1"), step("SELECT ?", 2), step("SELECT @@warning_count"),
		step("SHOW WARNINGS"), step("SHOW COUNT(*) WARNINGS"),
		step("SELECT CAST('w' AS INT)"), step("SELECT 1"), step("SELECT CAST('v' AS INT)"), step("SHOW WARNINGS"),
		step("SELECT @r := CAST('u' AS INT)"), step("SELECT 1"), step("SHOW WARNINGS"),
		step("SELECT id FROM quiet"), step("SHOW WARNINGS"), step("SELECT @@warning_count"),
		step("SELECT CAST('t' AS INT)"), step("SELECT id FROM quiet WHERE id = ?", 1), step("SHOW WARNINGS"),
		// A SET's own warnings replace them, as any statement's do.
		step("SELECT CAST('s' AS INT)"), step("SET @a = CAST('x' AS INT)"), step("SHOW WARNINGS"),
		step("SET max_error_count = 70000"), step("SHOW WARNINGS"), step("SELECT @@warning_count, @@max_error_count"),
	})
}

// TestDiagnosticsColumnTypes: SHOW WARNINGS answered from the proxy's own
// record of a scatter statement's warnings has MariaDB's column types (Code
// is a number, which drivers hand out as one).
func TestDiagnosticsColumnTypes(t *testing.T) {
	c := newOracleCluster(t)
	describe := func(db *sql.DB, prepared bool) []string {
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var out []string
		// One message for every row: shards' warnings come in shard order.
		for _, q := range []string{"SELECT id, CAST('x' AS SIGNED) FROM users WHERE id <= 12 ORDER BY id",
			"SHOW WARNINGS", "SHOW COUNT(*) WARNINGS", "SHOW ERRORS", "SHOW COUNT(*) ERRORS"} {
			var rows *sql.Rows
			if prepared { // binary rows
				st, err := conn.PrepareContext(t.Context(), q)
				if err != nil {
					t.Fatalf("prepare %s: %v", q, err)
				}
				defer st.Close()
				rows, err = st.QueryContext(t.Context())
			} else {
				rows, err = conn.QueryContext(t.Context(), q)
			}
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			cts, _ := rows.ColumnTypes()
			for _, ct := range cts {
				nullable, _ := ct.Nullable()
				out = append(out, fmt.Sprintf("%s: %s %s nullable %v", q, ct.Name(), ct.DatabaseTypeName(), nullable))
			}
			values, err := readRows(rows)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			out = append(out, fmt.Sprint(values))
		}
		return out
	}
	for _, prepared := range []bool{false, true} {
		if got, want := describe(c.proxy, prepared), describe(c.oracle, prepared); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("prepared %v, through the proxy:\n%s\non MariaDB:\n%s", prepared, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
