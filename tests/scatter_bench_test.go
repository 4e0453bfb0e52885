package tests

import (
	"database/sql"
	"fmt"
	"testing"
)

// BenchmarkScatter reads the 1,000,000-row scan table through the proxy
// (4 shards on 2 nodes) and the same rows from one plain database, side by
// side in one run: rows/s of each, and the proxy's peak heap and resident
// set (the proxy runs in this process, so the figures include the client
// and, for RSS, the test's own setup).
//
//	go test ./tests/ -run '^$' -bench Scatter -benchtime 3x
func BenchmarkScatter(b *testing.B) {
	c := newScanCluster(b, scanPerShard)
	root := c.direct[0]
	oracleName := uniqueName("scan_oracle")
	mustExec(b, root, "CREATE DATABASE "+oracleName)
	mustExec(b, root, fmt.Sprintf("CREATE TABLE %s.%s (id BIGINT PRIMARY KEY, pad CHAR(60) NOT NULL, grp INT NOT NULL)", oracleName, scanTable))
	mustExec(b, root, fmt.Sprintf("INSERT INTO %s.%s SELECT seq, REPEAT(CHAR(65+(seq DIV 4)%%26), 60), (seq DIV 4)%%100 FROM %s.seq_0_to_%d",
		oracleName, scanTable, oracleName, scanRows-1))
	oracle, err := nodes[0].Primary.DB(oracleName)
	if err != nil {
		b.Fatal(err)
	}
	defer oracle.Close()

	queries := []struct{ name, sql string }{
		{"full", "SELECT id, pad FROM " + scanTable},
		{"order_by_limit_10", "SELECT id, pad FROM " + scanTable + " ORDER BY pad DESC, id LIMIT 10"},
		{"group_by", "SELECT grp, COUNT(*), SUM(id), MIN(pad), AVG(id) FROM " + scanTable + " GROUP BY grp"},
	}
	for _, q := range queries {
		for _, target := range []struct {
			name string
			db   *sql.DB
		}{{"proxy", c.db}, {"oracle", oracle}} {
			b.Run(q.name+"/"+target.name, func(b *testing.B) {
				var peak, peakRSS uint64
				for b.Loop() {
					stop := memPeak()
					rows, err := target.db.Query(q.sql)
					if err != nil {
						b.Fatal(err)
					}
					cols, _ := rows.Columns()
					vals := make([]sql.RawBytes, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					for rows.Next() {
						if err := rows.Scan(ptrs...); err != nil {
							b.Fatal(err)
						}
					}
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					rows.Close()
					heap, rss := stop()
					peak, peakRSS = max(peak, heap), max(peakRSS, rss)
				}
				// Rows the statement reads, whatever it returns: the work
				// the backends and the merge do.
				b.ReportMetric(float64(scanRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MiB")
			})
		}
	}
}
