package tests

import (
	"database/sql"
	"testing"
)

// TestRowCountMatchesOracle: ROW_COUNT() and FOUND_ROWS() after each
// statement, through the proxy (four shards) and on the oracle (one
// database). They are the session's last statement's, not the pooled
// connection's that runs them.
func TestRowCountMatchesOracle(t *testing.T) {
	oc := newOracleCluster(t)
	conns := map[string]*sql.Conn{}
	for name, db := range map[string]*sql.DB{"proxy": oc.proxy, "oracle": oc.oracle} {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[name] = c
	}
	statements := []string{
		"UPDATE users SET age = age WHERE id = 3",             // one shard, nothing changed
		"UPDATE users SET age = 1 + age WHERE id = 3",         // one shard, one row
		"UPDATE users SET age = 1 + age WHERE id <= 8",        // several shards
		"DELETE FROM orders WHERE id > 100000",                // several shards, none
		"SELECT id FROM users WHERE id = 5",                   // a result
		"INSERT INTO countries VALUES (90, 'xx'), (91, 'yy')", // every shard alike (global)
		"SELECT id FROM users WHERE id <= 12",                 // a merged result
		"UPDATE users SET nosuchcol = 1 WHERE id = 2",         // an error
		"SET @x = 1", // answered by the proxy
	}
	for _, stmt := range statements {
		got := map[string]string{}
		for name, c := range conns {
			if rows, err := c.QueryContext(t.Context(), stmt); err == nil {
				for rows.Next() {
				}
				rows.Close()
			}
			var rowCount, found string
			if err := c.QueryRowContext(t.Context(), "SELECT ROW_COUNT()").Scan(&rowCount); err != nil {
				t.Fatalf("%s: SELECT ROW_COUNT(): %v", name, err)
			}
			// Rerun: the SELECT of ROW_COUNT() counts as a result itself.
			if rows, err := c.QueryContext(t.Context(), stmt); err == nil {
				for rows.Next() {
				}
				rows.Close()
			}
			if err := c.QueryRowContext(t.Context(), "SELECT FOUND_ROWS()").Scan(&found); err != nil {
				t.Fatalf("%s: SELECT FOUND_ROWS(): %v", name, err)
			}
			got[name] = "ROW_COUNT() " + rowCount + ", FOUND_ROWS() " + found
		}
		if got["proxy"] != got["oracle"] {
			t.Errorf("after %s: %s through the proxy, %s on the oracle", stmt, got["proxy"], got["oracle"])
		}
	}
}
