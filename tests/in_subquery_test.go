package tests

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

// An IN subquery on a table sharded otherwise than the outer one: the
// proxy runs it first and writes its integer values into the statement.
// Answers and writes must equal MariaDB's, NULLs and empty results
// included, for queries and prepared statements, inside a transaction
// too.
func TestInSubqueryValuesReadFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("insub")
	cfg := baseConfig()
	cfg.MaxMergeRows = 30
	proxy := shopProxy(t, prefix, []conf.Table{
		{Name: "users", ShardKey: "id", Algorithm: "mod"},
		{Name: "payments", ShardKey: "user_id", Algorithm: "hash"},
	}, cfg)
	oracle := newOracleDB(t, prefix+"_oracle")
	var users, payments []string
	for id := 1; id <= 40; id++ {
		age := fmt.Sprint(20 + id%7)
		if id%9 == 0 {
			age = "NULL"
		}
		users = append(users, fmt.Sprintf("(%d, 'u%d', %s)", id, id, age))
	}
	for id := 1; id <= 25; id++ {
		payments = append(payments, fmt.Sprintf("(%d, %d, %d)", id, (id*11)%45+1, (id*13)%50))
	}
	for _, db := range []*sql.DB{proxy, oracle} {
		mustExec(t, db, "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), age INT)")
		mustExec(t, db, "CREATE TABLE payments (id INT PRIMARY KEY, user_id INT NOT NULL, cents INT)")
		mustExec(t, db, "INSERT INTO users VALUES "+strings.Join(users, ", "))
		mustExec(t, db, "INSERT INTO payments VALUES "+strings.Join(payments, ", "))
	}
	same := func(q string, args ...any) {
		t.Helper()
		got, want := queryStrings(t, proxy, q, args...), queryStrings(t, oracle, q, args...)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s %v\nthrough the proxy: %v\non MariaDB:        %v", q, args, got, want)
		}
	}
	same("SELECT name FROM users WHERE id IN (SELECT user_id FROM payments WHERE cents > 20) ORDER BY id")
	same("SELECT id FROM payments WHERE user_id NOT IN (SELECT id FROM users WHERE age > 24) ORDER BY id")
	// The subquery's NULL ages: NOT IN is never true.
	same("SELECT COUNT(*) FROM payments WHERE cents NOT IN (SELECT age FROM users)")
	same("SELECT COUNT(*) FROM payments WHERE cents IN (SELECT age FROM users) OR cents IS NULL")
	// No value: IN is false, NOT IN true.
	same("SELECT COUNT(*), SUM(user_id NOT IN (SELECT id FROM users WHERE age > 99)) FROM payments WHERE user_id NOT IN (SELECT id FROM users WHERE age > 99)")
	same("SELECT COUNT(*) FROM payments WHERE user_id IN (SELECT id FROM users WHERE age > 99)")
	// Prepared, with the value inside the subquery (binary rows).
	same("SELECT id, cents FROM payments WHERE user_id IN (SELECT u.id FROM users u WHERE u.age = ?) ORDER BY id", 23)
	same("SELECT name, age FROM users WHERE id IN (SELECT user_id FROM payments WHERE cents < ?) ORDER BY age, id", 30)

	// Inside a transaction the subquery sees the transaction's own rows.
	for _, db := range []*sql.DB{proxy, oracle} {
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO payments VALUES (100, 7, 99)"); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, tx, "SELECT name FROM users WHERE id IN (SELECT user_id FROM payments WHERE cents = 99)")
		if fmt.Sprint(got) != "[[u7]]" {
			t.Errorf("in a transaction: %v, want [[u7]]", got)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}

	// UPDATE and DELETE read the values in their own transaction, then write.
	dumps := []string{"SELECT CONCAT_WS(':', id, age) FROM users ORDER BY id", "SELECT CONCAT_WS(':', id, user_id, cents) FROM payments ORDER BY id"}
	for _, w := range []struct {
		stmt string
		args []any
	}{
		{"UPDATE users SET age = age + 1 WHERE id IN (SELECT user_id FROM payments WHERE cents > 40)", nil},
		{"UPDATE payments SET cents = cents * 2 WHERE user_id NOT IN (SELECT id FROM users WHERE age < ?)", []any{22}},
		{"DELETE FROM payments WHERE user_id NOT IN (SELECT id FROM users WHERE age > 22)", nil},
		{"DELETE FROM users WHERE id IN (SELECT user_id FROM payments WHERE cents = ?)", []any{26}},
		{"DELETE FROM users WHERE id IN (SELECT user_id FROM payments WHERE cents > 1000)", nil},
	} {
		if got, want := writeOutcome(t, proxy, w.stmt, w.args, dumps...), writeOutcome(t, oracle, w.stmt, w.args, dumps...); got != want {
			t.Errorf("%s %v\nthrough the proxy: %s\non MariaDB:        %s", w.stmt, w.args, got, want)
		}
	}
	// Inside the client's transaction, rolled back with it.
	before := queryStrings(t, proxy, "SELECT COUNT(*) FROM users")
	tx, err := proxy.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("DELETE FROM users WHERE id IN (SELECT user_id FROM payments)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after := queryStrings(t, proxy, "SELECT COUNT(*) FROM users"); !slices.EqualFunc(after, before, slices.Equal) {
		t.Errorf("after a rolled back DELETE: %v users, want %v", after, before)
	}

	// The write's subquery reads as MariaDB's does: a row another
	// transaction holds does not make it wait (measured: no error).
	locked := func(db *sql.DB) int {
		ctx := context.Background()
		holder, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Rollback()
		if _, err := holder.Exec("SELECT * FROM users WHERE id = 3 FOR UPDATE"); err != nil {
			t.Fatal(err)
		}
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1"); err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecContext(ctx, "DELETE FROM payments WHERE user_id IN (SELECT id FROM users WHERE id BETWEEN 2 AND 4)")
		return mysqlCode(err)
	}
	if got, want := locked(proxy), locked(oracle); got != want {
		t.Errorf("a write reading a locked row: error %d through the proxy, %d on MariaDB", got, want)
	}

	for _, c := range []struct{ q, says string }{
		{"SELECT name FROM users WHERE id IN (SELECT user_id FROM payments) FOR UPDATE", "payments"},
		{"SELECT name FROM users u WHERE id IN (SELECT user_id FROM payments p WHERE p.cents > u.age)", "payments"},
		{"SELECT id FROM payments WHERE user_id IN (SELECT name FROM users WHERE id < 5)", "integer column"},
		{"SELECT id FROM payments WHERE user_id IN (SELECT id FROM users)", "max_merge_rows (30)"},
	} {
		_, err := proxy.Exec(c.q)
		if mysqlCode(err) != 1235 || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want 1235 saying %q", c.q, err, c.says)
		}
	}
}
