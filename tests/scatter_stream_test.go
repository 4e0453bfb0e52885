package tests

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/conf"
)

// scanTable is a sharded table of 1,000,000 rows over 4 shards on 2 nodes,
// written on the shards directly by MariaDB's sequence engine (id = 4*seq +
// shard, so that "mod" puts each row where it is).
const (
	scanTable    = "scan_rows"
	scanPerShard = 250_000
	scanRows     = 4 * scanPerShard
)

type scanCluster struct {
	cfg     *conf.Config
	db      *sql.DB
	direct  []*sql.DB // each node's primary, as root
	sharded conf.Schema
}

func newScanCluster(t testing.TB, perShard int) *scanCluster {
	t.Helper()
	cfg := baseConfig()
	for i := range cfg.Nodes {
		// Small pools show a connection that a scatter leaks or leaves dirty.
		cfg.Nodes[i].Pool.MaxOpen, cfg.Nodes[i].Pool.MaxIdle = 6, 6
	}
	prefix := uniqueName("scan")
	sc := conf.Schema{
		Name:     "scan",
		ReadFrom: conf.ReadFromPrimary,
		Shards:   shardsOn(prefix, "n0", "n1", "n0", "n1"),
		Tables:   []conf.Table{{Name: scanTable, ShardKey: "id", Algorithm: "mod"}},
	}
	cfg.Schemas = append(cfg.Schemas, sc)
	c := &scanCluster{cfg: cfg, sharded: sc}
	c.db = startProxy(t, cfg).open(t, "scan")
	mustExec(t, c.db, "CREATE TABLE "+scanTable+" (id BIGINT PRIMARY KEY, pad CHAR(60) NOT NULL, grp INT NOT NULL)")
	for _, n := range nodes {
		db, err := n.Primary.DB("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c.direct = append(c.direct, db)
	}
	for i, sh := range sc.Shards {
		db := c.direct[0]
		if sh.Node == "n1" {
			db = c.direct[1]
		}
		mustExec(t, db, fmt.Sprintf("INSERT INTO %s.%s SELECT 4*seq+%d, REPEAT(CHAR(65+seq%%26), 60), seq%%100 FROM %s.seq_0_to_%d",
			sh.Database, scanTable, i, sh.Database, perShard-1))
	}
	return c
}

// running counts statements on the backends that read the scan table.
func (c *scanCluster) running(t testing.TB) int {
	t.Helper()
	total := 0
	for _, db := range c.direct {
		n := queryOne(t, db, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE '%"+scanTable+"%'")
		var k int
		fmt.Sscan(n, &k)
		total += k
	}
	return total
}

// idle waits until no backend runs a statement on the scan table.
func (c *scanCluster) idle(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for c.running(t) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("backends still run statements on %s %v after the client stopped", scanTable, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heapPeak samples the heap in use until the returned stop is called,
// which reports the peak.
func heapPeak() func() uint64 {
	stop := memPeak()
	return func() uint64 { heap, _ := stop(); return heap }
}

// memPeak is heapPeak that also samples the process's resident set size
// (/proc/self/statm), which counts what the Go heap does not: stacks, the
// runtime's own memory, and freed heap not yet returned to the kernel.
func memPeak() func() (heap, rss uint64) {
	runtime.GC()
	var maxHeap, maxRSS atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	page := uint64(os.Getpagesize())
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			maxHeap.Store(max(maxHeap.Load(), ms.HeapInuse))
			if b, err := os.ReadFile("/proc/self/statm"); err == nil {
				var size, resident uint64
				if _, err := fmt.Sscan(string(b), &size, &resident); err == nil {
					maxRSS.Store(max(maxRSS.Load(), resident*page))
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		return maxHeap.Load(), maxRSS.Load()
	}
}

func TestScatterStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	c := newScanCluster(t, scanPerShard)
	const heapLimit = 64 << 20

	t.Run("all rows", func(t *testing.T) {
		stop := heapPeak()
		n, sum := countIDs(t, c.db, "SELECT id, pad FROM "+scanTable)
		peak := stop()
		if want := int64(scanRows) * (scanRows - 1) / 2; n != scanRows || sum != want {
			t.Fatalf("got %d rows (id sum %d), want %d rows (sum %d)", n, sum, scanRows, want)
		}
		t.Logf("peak heap while merging 1M rows from 4 shards: %.1f MiB", float64(peak)/(1<<20))
		if peak > heapLimit {
			t.Fatalf("peak heap %d bytes exceeds 64 MiB", peak)
		}
	})

	t.Run("order by limit", func(t *testing.T) {
		stop := heapPeak()
		// pad is 'Z' repeated for seq%26 = 25; the largest ids come first.
		got := queryStrings(t, c.db, "SELECT id, grp FROM "+scanTable+" ORDER BY pad DESC, id DESC LIMIT 3, 4")
		peak := stop()
		var want [][]string
		for seq := scanPerShard - 1; len(want) < 7; seq-- {
			if seq%26 != 25 {
				continue
			}
			for shard := 3; shard >= 0 && len(want) < 7; shard-- {
				want = append(want, []string{fmt.Sprint(4*seq + shard), fmt.Sprint(seq % 100)})
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[3:]) {
			t.Fatalf("got %v, want %v", got, want[3:])
		}
		if peak > heapLimit {
			t.Fatalf("peak heap %d bytes exceeds 64 MiB", peak)
		}
	})

	t.Run("group by", func(t *testing.T) {
		got := queryStrings(t, c.db, "SELECT grp, COUNT(*), MIN(id), MAX(id) FROM "+scanTable+" GROUP BY grp ORDER BY COUNT(*) DESC, grp LIMIT 2")
		// seq%100 = grp: each of 250,000 seqs per shard, 2,500 per group and shard.
		want := fmt.Sprint([][]string{{"0", "10000", "0", fmt.Sprint(4*(scanPerShard-100) + 3)}, {"1", "10000", "4", fmt.Sprint(4*(scanPerShard-99) + 3)}})
		if fmt.Sprint(got) != want {
			t.Fatalf("got %v, want %v", got, want)
		}
	})

	t.Run("limit stops the shards", func(t *testing.T) {
		// Every shard is asked for LIMIT 300000 and has 250,000 rows: the
		// proxy needs fewer than they send and closes the rest early. The
		// pools (6 connections per node) must come out clean every time.
		for range 8 {
			if n := queryOne(t, c.db, "SELECT COUNT(*) FROM "+scanTable); n != fmt.Sprint(scanRows) {
				t.Fatalf("count %s", n)
			}
			rows, err := c.db.Query("SELECT id, pad FROM " + scanTable + " LIMIT 300000")
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for rows.Next() {
				got++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if got != 300000 {
				t.Fatalf("LIMIT 300000 returned %d rows", got)
			}
		}
		c.idle(t, 3*time.Second)
	})

	t.Run("kill query", func(t *testing.T) {
		conn, err := c.db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var id int64
		if err := conn.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			_, _ = c.db.Exec(fmt.Sprintf("KILL QUERY %d", id))
		}()
		start := time.Now()
		rows, err := conn.QueryContext(context.Background(), "SELECT id, SLEEP(0.01) FROM "+scanTable+" WHERE grp = 7")
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if mysqlCode(err) != 1317 {
			t.Fatalf("killed scatter: %v, want 1317", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("KILL QUERY took %v to stop the scatter", d)
		}
		c.idle(t, 3*time.Second)
		if v := queryOne(t, c.db, "SELECT COUNT(*) FROM "+scanTable+" WHERE grp = 7"); v != "10000" {
			t.Fatalf("after the kill: %s", v)
		}
	})

	t.Run("client disconnects mid-result", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rows, err := c.db.QueryContext(ctx, "SELECT id, pad FROM "+scanTable)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 1000 && rows.Next(); i++ {
		}
		// go-sql-driver closes the socket when the context ends mid-read.
		cancel()
		rows.Close()
		c.idle(t, 5*time.Second)
		if v := queryOne(t, c.db, "SELECT COUNT(*) FROM "+scanTable+" WHERE grp = 3"); v != "10000" {
			t.Fatalf("after the disconnect: %s", v)
		}
	})

	t.Run("inside a transaction", func(t *testing.T) {
		tx, err := c.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		mustExec(t, tx, "INSERT INTO "+scanTable+" (id, pad, grp) VALUES (4000001, 'new', 1), (4000002, 'new', 1)")
		// Two shards per node share the transaction's connection.
		if got := queryStrings(t, tx, "SELECT id, pad FROM "+scanTable+" WHERE grp = 1 ORDER BY id DESC LIMIT 3"); fmt.Sprint(got) != fmt.Sprint([][]string{{"4000002", "new"}, {"4000001", "new"}, {fmt.Sprint(4*(scanPerShard-99) + 3), strings.Repeat(string(rune(65+(scanPerShard-99)%26)), 60)}}) {
			t.Fatalf("the transaction's own rows: %v", got)
		}
		if v := queryOne(t, tx, "SELECT COUNT(*) FROM "+scanTable+" WHERE grp = 1"); v != "10002" {
			t.Fatalf("count inside the transaction: %s", v)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if v := queryOne(t, c.db, "SELECT COUNT(*) FROM "+scanTable+" WHERE grp = 1"); v != "10000" {
			t.Fatalf("count after rollback: %s", v)
		}
	})

	t.Run("transaction beyond max_merge_rows", func(t *testing.T) {
		cfg := *c.cfg
		cfg.MaxMergeRows = 100
		db := startProxy(t, &cfg).open(t, "scan")
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		_, err = tx.Query("SELECT id FROM " + scanTable + " WHERE grp = 2")
		if mysqlCode(err) != 1235 || !strings.Contains(err.Error(), "max_merge_rows") {
			t.Fatalf("scatter in a transaction beyond the cap: %v, want 1235 naming max_merge_rows", err)
		}
		// The transaction goes on.
		if v := queryOne(t, tx, "SELECT COUNT(*) FROM "+scanTable+" WHERE grp = 2"); v != "10000" {
			t.Fatalf("after the refusal: %s", v)
		}
	})
}

// Small scatters reuse the shard readers' row batches (32 KiB each): a
// concatenated answer once lost its last batch per shard to the garbage
// collector, 128 KiB per statement.
func TestScatterReusesBatches(t *testing.T) {
	c := newScanCluster(t, 50)
	const statements = 300
	run := func() {
		for i := 0; i < statements; i++ {
			rows, err := c.db.Query("SELECT id FROM " + scanTable + " WHERE grp < 30")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if n != 120 {
				t.Fatalf("%d rows, want 120", n)
			}
		}
	}
	run() // warm the pools
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	perStatement := (after.TotalAlloc - before.TotalAlloc) / statements
	t.Logf("%d bytes allocated per scatter (client and proxy)", perStatement)
	if perStatement > 48<<10 {
		t.Fatalf("%d bytes allocated per 4-shard scatter of 120 rows: row batches are not reused", perStatement)
	}
}

// LIMIT ? OFFSET ? on a merged SELECT, as a prepared statement and as texts
// that share a shape: the engine once took the two parameters in the order
// of its restored text (LIMIT ?, ?), swapping count and offset.
func TestScatterLimitParameters(t *testing.T) {
	c := newScanCluster(t, 50) // ids 0..199, grp = id/4 (0..49)
	cases := []struct {
		sql  string
		args []any
		want string
	}{
		{"SELECT id FROM " + scanTable + " WHERE grp < ? ORDER BY id LIMIT ? OFFSET ?", []any{30, 3, 10}, "10 11 12"},
		{"SELECT id FROM " + scanTable + " WHERE grp < ? ORDER BY id LIMIT ?, ?", []any{30, 10, 3}, "10 11 12"},
		{"SELECT grp, COUNT(*) FROM " + scanTable + " WHERE id < ? GROUP BY grp ORDER BY grp LIMIT ? OFFSET ?", []any{200, 2, 5}, "5 4 6 4"},
		{"SELECT grp, COUNT(*) FROM " + scanTable + " WHERE id < ? GROUP BY grp ORDER BY grp DESC LIMIT ? OFFSET ?", []any{100, 2, 1}, "23 4 22 4"},
	}
	collect := func(rows *sql.Rows, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, row := range rowsToStrings(t, rows, "") {
			out = append(out, row...)
		}
		return strings.Join(out, " ")
	}
	conn, err := c.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range cases {
		stmt, err := conn.PrepareContext(context.Background(), tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got := collect(stmt.Query(tc.args...)); got != tc.want {
			t.Errorf("prepared %s %v: %q, want %q", tc.sql, tc.args, got, tc.want)
		}
		stmt.Close()
		// As texts: the first (other literals) plans from its text, the
		// second from the shape both share.
		for i := 0; i < 2; i++ {
			text := tc.sql
			for j, a := range tc.args {
				if i == 0 && j == 0 {
					a = a.(int) + 1
				}
				text = strings.Replace(text, "?", fmt.Sprint(a), 1)
			}
			if got := collect(conn.QueryContext(context.Background(), text)); i == 1 && got != tc.want {
				t.Errorf("text %s: %q, want %q", text, got, tc.want)
			}
		}
	}
	// Counts only a parameter can give, read as MariaDB reads them: a
	// string (PHP binds every value as one) reached the shards as LIMIT
	// '3', a syntax error; a negative count means every row.
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{30, "3"}, "0 1 2"},
		{[]any{1, " 2.9x"}, "0 1"},
		{[]any{1, -1}, "0 1 2 3"},
		{[]any{1, "-2"}, "0 1 2 3"},
		{[]any{1, 1.5}, "0 1"},
		{[]any{1, nil}, ""},
	} {
		q := "SELECT id FROM " + scanTable + " WHERE grp < ? ORDER BY id LIMIT ?"
		if got := collect(conn.QueryContext(context.Background(), q, tc.args...)); got != tc.want {
			t.Errorf("prepared %s %#v: %q, want %q", q, tc.args, got, tc.want)
		}
	}
}
