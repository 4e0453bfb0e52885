package proxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/conf"
)

// benchTopology is a sharded schema; nothing connects to its backends.
func benchTopology(b *testing.B) *schema {
	b.Helper()
	cfg := &conf.Config{
		Users: []conf.User{{Name: "app"}},
		Nodes: []conf.Node{
			{Name: "n0", Primary: "127.0.0.1:1", Pool: conf.Pool{MaxOpen: 1}, MaxReplicaLag: time.Second},
			{Name: "n1", Primary: "127.0.0.1:2", Pool: conf.Pool{MaxOpen: 1}, MaxReplicaLag: time.Second},
		},
		Schemas: []conf.Schema{{
			Name:   "shop",
			Shards: []conf.Shard{{Node: "n0", Database: "s0"}, {Node: "n0", Database: "s1"}, {Node: "n1", Database: "s2"}, {Node: "n1", Database: "s3"}},
			Tables: []conf.Table{{Name: "sbtest1", ShardKey: "id", Algorithm: "mod"}},
		}},
	}
	topo, err := newTopology(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, n := range topo.nodes {
			n.Close()
		}
	})
	return topo.schema("shop")
}

// benchRoute measures what a repeated statement costs the proxy before any
// I/O: the cache lookup by text, binding and the shard text.
func benchRoute(b *testing.B, sql string) {
	sc := benchTopology(b)
	p := newParser()
	st, err := p.ParseOneStmt(sql, "", "")
	if err != nil {
		b.Fatal(err)
	}
	s := &Session{}
	if _, _, err := s.planFor(sc, st, sql, true); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := sc.plans.get(sql)
		rt, err := c.plan.Bind(nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range rt.Targets {
			if _, err := t.Inline(nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkPlanCacheHitPointSelect(b *testing.B) {
	benchRoute(b, "SELECT c FROM sbtest1 WHERE id = 4711")
}

func BenchmarkPlanCacheHitInsert100Rows(b *testing.B) {
	var rows []string
	for i := 0; i < 100; i++ {
		rows = append(rows, fmt.Sprintf("(%d, %d, 'c%d', 'pad')", i, i*7, i))
	}
	benchRoute(b, "INSERT INTO sbtest1 (id, k, c, pad) VALUES "+strings.Join(rows, ", "))
}

// BenchmarkParseAndPlanPointSelect is the cost of a statement seen for the
// first time (or one whose literal changes every time).
func BenchmarkParseAndPlanPointSelect(b *testing.B) {
	sc := benchTopology(b)
	p := newParser()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sql := "SELECT c FROM sbtest1 WHERE id = 4711"
		st, err := p.ParseOneStmt(sql, "", "")
		if err != nil {
			b.Fatal(err)
		}
		plan, err := sc.routing.Plan(st)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := plan.Bind(nil); err != nil {
			b.Fatal(err)
		}
	}
}
