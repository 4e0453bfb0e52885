package backend

import (
	"context"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

// readExecuteAnswer reads one answer of a prepared SELECT: whether its
// column definitions came, how many, and its rows.
func readExecuteAnswer(t *testing.T, c *Conn) (defsFollow bool, defs, rows int) {
	t.Helper()
	p, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	n, defsFollow, err := c.ColumnCount(p)
	if err != nil {
		t.Fatal(err)
	}
	if defsFollow {
		for i := 0; i < n; i++ {
			if _, err := c.ReadPacket(); err != nil {
				t.Fatal(err)
			}
			defs++
		}
	}
	if p, err = c.ReadPacket(); err != nil || !wire.IsEOF(p) {
		t.Fatalf("after the column definitions (sent: %v): %x, %v; want an EOF", defsFollow, p, err)
	}
	for {
		if p, err = c.ReadPacket(); err != nil {
			t.Fatal(err)
		}
		if wire.IsEOF(p) {
			return defsFollow, defs, rows
		}
		rows++
	}
}

// MariaDB skips the column definitions of a prepared statement's results
// once the connection has them: the proxy negotiates that at dial, and the
// answer then still has the EOF that ends the (skipped) definitions.
func TestMetadataCachingNegotiated(t *testing.T) {
	p, c := poolOfOne(t)
	ctx := context.Background()
	defer p.Put(c)
	if !c.CachesMetadata() {
		t.Fatal("MariaDB offers metadata caching; the connection did not negotiate it")
	}
	// Text results always carry their definitions.
	res, err := c.Exec(ctx, "SELECT 1 AS a, 'x' AS b")
	if err != nil || len(res.Fields) != 2 || len(res.Rows) != 1 {
		t.Fatalf("text query: %+v, %v", res, err)
	}
	st, err := c.Prepare(ctx, "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ColumnDefs) != 2 {
		t.Fatalf("prepare: %d column definitions", len(st.ColumnDefs))
	}
	sent := 0
	for i := 0; i < 3; i++ {
		if err := c.WriteRaw(wire.AppendExecute(nil, st.ID, nil)); err != nil {
			t.Fatal(err)
		}
		follow, defs, rows := readExecuteAnswer(t, c)
		t.Logf("execute %d: definitions follow %v (%d), %d rows", i, follow, defs, rows)
		if rows != 2 || follow && defs != 2 {
			t.Fatalf("execute %d: %d definitions, %d rows", i, defs, rows)
		}
		if follow {
			sent++
		}
	}
	if sent > 1 {
		t.Fatalf("definitions sent with %d of 3 executions: the server is not skipping them", sent)
	}
}
