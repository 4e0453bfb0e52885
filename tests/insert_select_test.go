package tests

import (
	"fmt"
	"strings"
	"testing"
)

// TestInsertSelectOnShards: INSERT ... SELECT into a sharded table whose
// shard key comes from the shard key of a table sharded alike (an archive
// filled from its live table) runs on every shard at once, each copying
// its own rows; the results equal MariaDB's. Other forms are refused.
func TestInsertSelectOnShards(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("inssel")
	proxy := idShardedProxy(t, prefix, "events", "archive")
	oracle := newOracleDB(t, prefix+"_oracle")
	var rows []string
	for id := 1; id <= 40; id++ {
		rows = append(rows, fmt.Sprintf("(%d, '%s')", id, []string{"old", "new"}[id%2]))
	}
	for _, step := range []string{
		"CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(5))",
		"CREATE TABLE archive (id INT PRIMARY KEY, kind VARCHAR(5), copies INT DEFAULT 1)",
		"INSERT INTO events VALUES " + strings.Join(rows, ", "),
		"INSERT INTO archive (id, kind) SELECT id, kind FROM events WHERE kind = 'old'",
		"INSERT INTO archive (id, kind) SELECT e.id, e.kind FROM events e WHERE e.id < 10 ON DUPLICATE KEY UPDATE copies = copies + 1",
		"INSERT IGNORE INTO archive (kind, id) SELECT 'x', id FROM events WHERE id IN (2, 3, 4, 41)",
		"INSERT INTO archive (id, kind) SELECT id, kind FROM events WHERE id = 12",
	} {
		pres, perr := proxy.Exec(step)
		ores, oerr := oracle.Exec(step)
		if mysqlCode(perr) != mysqlCode(oerr) {
			t.Fatalf("%s: through the proxy %v, on MariaDB %v", step, perr, oerr)
		}
		if perr == nil {
			pn, _ := pres.RowsAffected()
			on, _ := ores.RowsAffected()
			if pn != on {
				t.Errorf("%s: %d rows affected through the proxy, %d on MariaDB", step, pn, on)
			}
		}
	}
	compareTable(t, "after INSERT ... SELECT", "archive", proxy, oracle)
	// Each row stayed on its shard: a point select by key finds it.
	if got := queryOne(t, proxy, "SELECT kind FROM archive WHERE id = 7"); got != "new" {
		t.Errorf("archive row 7 by key: %q", got)
	}
	if _, err := proxy.Exec("INSERT INTO archive (id, kind) SELECT id + 100, kind FROM events"); mysqlCode(err) != 1235 {
		t.Errorf("INSERT ... SELECT computing the shard key: %v, want 1235", err)
	}
}
