package sqlparse

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func TestAppendShape(t *testing.T) {
	for _, c := range []struct {
		sql, want string
		replaced  bool
	}{
		{"SELECT c FROM sbtest1 WHERE id=5023", "SELECT c FROM sbtest1 WHERE id=?", true},
		{"SELECT c FROM sbtest1 WHERE id=17", "SELECT c FROM sbtest1 WHERE id=?", true},
		{"SELECT 'a;b', 'it''s', 'x\\'y' FROM t", "SELECT ?, ?, ? FROM t", true},
		{`SELECT "a" FROM t`, `SELECT "a" FROM t`, false},
		{"SELECT * FROM `t1` WHERE a BETWEEN 1.5 AND 2e3 LIMIT 10", "SELECT * FROM `t1` WHERE a BETWEEN ? AND ? LIMIT ?", true},
		{"SELECT 0x1F, 1abc, 2e, t2.c3 FROM 1x", "SELECT 0x1F, 1abc, 2e, t2.c3 FROM 1x", false},
		{"SELECT /* shardproxy:primary */ 1", "SELECT /* shardproxy:primary */ ?", true},
		{"SELECT 1 -- 2\n", "SELECT ? -- 2\n", true},
		{"SELECT 1; DROP TABLE t2", "SELECT ?; DROP TABLE t2", true},
		{"SELECT _utf8mb4'x', X'aa', -3", "SELECT _utf8mb4?, X?, -?", true},
		{"SELECT a FROM db1.t1", "SELECT a FROM db1.t1", false},
	} {
		got, replaced := AppendShape(nil, c.sql)
		if string(got) != c.want || replaced != c.replaced {
			t.Errorf("%q: got %q %v, want %q %v", c.sql, got, replaced, c.want, c.replaced)
		}
	}
}

func BenchmarkAppendShape(b *testing.B) {
	var buf []byte
	for b.Loop() {
		buf, _ = AppendShape(buf[:0], "SELECT c FROM sbtest1 WHERE id=5023")
	}
}

// The values AppendShapeValues reads are those the parser reads for the
// same literals: checked against Parse on a statement holding them.
func TestAppendShapeValuesMatchParser(t *testing.T) {
	sql := `SELECT * FROM t WHERE a = 5 AND b = 'it''s' AND c = 'x\'y\n' AND d = 1.50 AND e = 2e3 AND f = 18446744073709551615 AND g = 99999999999999999999 AND h = 'a\%b' AND i = ''`
	got, ok := AppendShapeValues(nil, sql)
	if !ok {
		t.Fatal("not read")
	}
	stmt, err := ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	want := literalsOf(t, stmt)
	if len(got) != len(want) {
		t.Fatalf("got %d values %v, the parser reads %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("value %d: got %v (kind %d), the parser reads %v (kind %d)", i, got[i], got[i].Kind(), want[i], want[i].Kind())
		}
	}
}

type literalCollector struct {
	t    *testing.T
	vals []Value
}

func (c *literalCollector) Enter(n ast.Node) (ast.Node, bool) {
	if e, ok := n.(ast.ExprNode); ok {
		if _, isValue := n.(ast.ValueExpr); isValue {
			v, ok := Literal(e)
			if !ok {
				c.t.Fatalf("the parser's literal %T is not a Value", n)
			}
			c.vals = append(c.vals, v)
			return n, true
		}
	}
	return n, false
}

func (c *literalCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func literalsOf(t *testing.T, stmt ast.StmtNode) []Value {
	c := &literalCollector{t: t}
	stmt.Accept(c)
	return c.vals
}
