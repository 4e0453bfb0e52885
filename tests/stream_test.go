package tests

import (
	"database/sql"
	"testing"
)

// TestStreamMillionRows reads 1,000,000 rows through the proxy while sampling
// the heap: rows must flow through, not pile up in the proxy. The proxy runs
// in this process, so the figure includes the test's own client (small: it
// scans into reused buffers), which only makes the bound stricter.
func TestStreamMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(60))")
	// MariaDB's sequence engine generates the rows on the server.
	mustExec(t, direct, "INSERT INTO big SELECT seq, REPEAT('x', 60) FROM seq_1_to_1000000")

	stop := heapPeak()
	n, sum := countIDs(t, db, "SELECT id, pad FROM big")
	peak := stop()
	if n != 1_000_000 || sum != 1_000_000*1_000_001/2 {
		t.Fatalf("got %d rows (sum %d), want all 1,000,000", n, sum)
	}
	const limit = 64 << 20
	t.Logf("peak heap in use while streaming 1M rows: %.1f MiB", float64(peak)/(1<<20))
	if peak > limit {
		t.Fatalf("peak heap %d bytes exceeds 64 MiB", peak)
	}
}

// countIDs reads an (id, pad) result into reused buffers and returns the
// number of rows and the sum of their ids.
func countIDs(t *testing.T, db *sql.DB, query string) (n, sum int64) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var id int64
	var pad []byte
	for rows.Next() {
		if err := rows.Scan(&id, &pad); err != nil {
			t.Fatal(err)
		}
		n++
		sum += id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n, sum
}
