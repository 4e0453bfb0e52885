package sqlparse

import "testing"

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
