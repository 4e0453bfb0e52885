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
		{"SELECT a-1, a/2, b#3\nFROM t9 WHERE c=--4\n5", "SELECT a-?, a/?, b#3\nFROM t9 WHERE c=--?\n?", true},
		{"SELECT 1", "SELECT ?", true},
		{"7", "?", true},
		{"x1 1x1 .5 $1 @2 é3", "x1 1x1 .? $1 @2 é3", true},
	} {
		got, replaced := AppendShape(nil, c.sql)
		if string(got) != c.want || replaced != c.replaced {
			t.Errorf("%q: got %q %v, want %q %v", c.sql, got, replaced, c.want, c.replaced)
		}
	}
}

// FuzzAppendShapeRuns: copying ordinary text in runs gives the shape that
// looking at every byte as a possible token start gives.
func FuzzAppendShapeRuns(f *testing.F) {
	f.Add("SELECT c FROM sbtest1 WHERE id=5023 AND b IN ('x', 2.5e3) -- 1\n/* 2 */ #3")
	f.Fuzz(func(t *testing.T, sql string) {
		want, wantReplaced := shapeTokenByToken(sql)
		got, replaced := AppendShape(nil, sql)
		if string(got) != string(want) || replaced != wantReplaced {
			t.Fatalf("%q: got %q %v, want %q %v", sql, got, replaced, want, wantReplaced)
		}
	})
}

// shapeTokenByToken is AppendShape without runs: the oracle for the fuzzer.
func shapeTokenByToken(sql string) ([]byte, bool) {
	var b []byte
	replaced := false
	for i := 0; i < len(sql); {
		kind, end := nextSpan(sql, i)
		if kind == spanString && sql[i] == '\'' {
			b, replaced = append(b, '?'), true
		} else if n := numberEnd(sql, i); kind == spanCode && isDigit(sql[i]) && (i == 0 || !isIdentByte(sql[i-1])) && n > i {
			b, replaced, end = append(b, '?'), true, n
		} else {
			b = append(b, sql[i:end]...)
		}
		i = end
	}
	return b, replaced
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
