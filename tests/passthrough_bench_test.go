package tests

import (
	"fmt"
	"testing"
)

// BenchmarkPassThroughPointSelect is the per-statement cost of a small
// round trip through the proxy on a pass-through schema (one client
// connection, so latency, not throughput).
//
//	go test ./tests/ -run '^$' -bench PassThroughPointSelect
func BenchmarkPassThroughPointSelect(b *testing.B) {
	cfg := baseConfig()
	passThroughSchema(cfg, "benchdb")
	p := startProxy(b, cfg)
	db := p.open(b, "benchdb")
	db.SetMaxOpenConns(1)
	mustExec(b, db, "CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20))")
	mustExec(b, db, "INSERT INTO kv VALUES (1, 'one'), (2, 'two')")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v string
		if err := db.QueryRow(fmt.Sprintf("SELECT v FROM kv WHERE k = %d", 1+i%2)).Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}
