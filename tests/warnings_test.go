package tests

import (
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
	oc := newOracleCluster(t)
	proxy, err := client.Connect(oc.proxyAddr, appUser, appPassword, "scat")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	oracle, err := client.Connect(nodes[0].Primary.Addr, "root", "", oc.oracleName)
	if err != nil {
		t.Fatal(err)
	}
	defer oracle.Close()

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
	for _, show := range []string{"SHOW COUNT(*) WARNINGS", "SHOW WARNINGS", "SHOW ERRORS", "SHOW COUNT(*) ERRORS", "SHOW WARNINGS",
		// Last: on the proxy, a statement reaching a backend starts new
		// diagnostics, where MariaDB keeps them past one without tables.
		"SELECT @@warning_count, @@error_count"} {
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
