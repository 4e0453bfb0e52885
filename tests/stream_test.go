package tests

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
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

	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	rows, err := db.Query("SELECT id, pad FROM big")
	if err != nil {
		t.Fatal(err)
	}
	var n, sum int64
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
	close(stop)
	<-done
	if n != 1_000_000 || sum != 1_000_000*1_000_001/2 {
		t.Fatalf("got %d rows (sum %d), want all 1,000,000", n, sum)
	}
	const limit = 64 << 20
	t.Logf("peak heap in use while streaming 1M rows: %.1f MiB", float64(peak.Load())/(1<<20))
	if peak.Load() > limit {
		t.Fatalf("peak heap %d bytes exceeds 64 MiB", peak.Load())
	}
}
