package tests

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

// UPDATE and DELETE whose subqueries read a table sharded like the one
// written, on its shard key (IN, correlated EXISTS, a correlated COUNT in
// SET): each shard answers them for its own rows, so they run everywhere
// at once. They were refused with 1235. The tables must end as MariaDB
// leaves them.
func TestColocatedSubqueryWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("coloc")
	proxy := shopProxy(t, prefix, []conf.Table{
		{Name: "users", ShardKey: "id", Algorithm: "mod"},
		{Name: "orders", ShardKey: "user_id", Algorithm: "mod"},
		{Name: "payments", ShardKey: "user_id", Algorithm: "hash"},
	}, nil)
	oracle := newOracleDB(t, prefix+"_oracle")
	var users, orders []string
	for id := 1; id <= 40; id++ {
		users = append(users, fmt.Sprintf("(%d, 'u%d', 0, 0)", id, id))
	}
	for id := 1; id <= 90; id++ {
		orders = append(orders, fmt.Sprintf("(%d, %d, %d)", id, (id*7)%45+1, (id*37)%100))
	}
	for _, db := range []*sql.DB{proxy, oracle} {
		mustExec(t, db, "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), n INT, banned INT)")
		mustExec(t, db, "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT NOT NULL, amount INT)")
		mustExec(t, db, "CREATE TABLE payments (id INT PRIMARY KEY, user_id INT NOT NULL)")
		mustExec(t, db, "INSERT INTO users VALUES "+strings.Join(users, ", "))
		mustExec(t, db, "INSERT INTO orders VALUES "+strings.Join(orders, ", "))
		mustExec(t, db, "INSERT INTO payments VALUES (1, 3), (2, 38), (3, 44)")
	}
	dumps := []string{"SELECT CONCAT_WS(':', id, name, n, banned) FROM users ORDER BY id", "SELECT CONCAT_WS(':', id, user_id, amount) FROM orders ORDER BY id"}
	steps := []struct {
		stmt string
		args []any
	}{
		{"UPDATE users SET n = (SELECT COUNT(*) FROM orders o WHERE o.user_id = users.id)", nil},
		{"UPDATE users u SET u.n = u.n + (SELECT IFNULL(SUM(o.amount), 0) FROM orders o WHERE u.id = o.user_id AND o.amount > ?)", []any{60}},
		{"UPDATE users SET banned = 1 WHERE id NOT IN (SELECT user_id FROM orders WHERE amount > 50)", nil},
		{"UPDATE users u SET u.name = CONCAT(u.name, ?) WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount < ?)", []any{"!", 10}},
		{"DELETE FROM orders WHERE user_id IN (SELECT id FROM users WHERE banned = 1)", nil},
		{"DELETE FROM users WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id)", nil},
		{"DELETE FROM orders WHERE user_id NOT IN (SELECT u.id FROM users u WHERE u.id > ?)", []any{30}},
		// payments is sharded otherwise: the proxy reads its values first.
		{"DELETE FROM users WHERE id IN (SELECT user_id FROM payments)", nil},
	}
	for _, s := range steps {
		got, want := writeOutcome(t, proxy, s.stmt, s.args, dumps...), writeOutcome(t, oracle, s.stmt, s.args, dumps...)
		if got != want {
			t.Errorf("%s %v\nthrough the proxy: %s\non MariaDB:        %s", s.stmt, s.args, got, want)
		}
	}
}
