package sqlparse

import (
	"testing"
	"unicode/utf8"
)

// FuzzTemplate: whatever the statement, its per-shard text and its inlined
// text parse again, with the same number of parameters.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"SELECT shop.users.name, count(*) FROM shop.users WHERE id = ? AND x = 'a?b' LIMIT ? OFFSET ?",
		"SELECT shop.a FROM t AS shop WHERE shop.b = ?",
		"INSERT INTO shop.t (a, b) VALUES (?, 'x\\'y'), (2, ?) ON DUPLICATE KEY UPDATE b = VALUES(b)",
		"UPDATE shop.t SET a = ? WHERE shop.t.id = ? /* c */",
		"DELETE t1 FROM shop.t1 JOIN t2 USING (id) WHERE t2.x IN (?, ?)",
		"CREATE TABLE shop.t (id INT PRIMARY KEY) -- x",
		"SHOW TABLES FROM shop",
	} {
		f.Add(s, "v")
	}
	f.Fuzz(func(t *testing.T, sql, v string) {
		// The parser turns invalid UTF-8 in names into "?": skip such text.
		stmts, err := Parse(sql)
		if err != nil || len(stmts) != 1 || !utf8.ValidString(sql) {
			return
		}
		tm, err := NewTemplate(stmts[0], []string{"shop"})
		if err != nil {
			return // Restore cannot write every node back
		}
		q := tm.Expand([]string{"shop_9"})
		again, err := ParseOne(q.SQL)
		if err != nil {
			t.Fatalf("%q became %q: %v", sql, q.SQL, err)
		}
		if n := NumberParams(again); n != len(q.Params) {
			t.Fatalf("%q became %q with %d parameters, the query lists %d", sql, q.SQL, n, len(q.Params))
		}
		params := make([]Value, len(q.Params))
		for i := range params {
			params[i] = IntValue(int64(len(v))) // valid anywhere a ? is, LIMIT included
		}
		text, err := q.Inline(params)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseOne(text); err != nil {
			t.Fatalf("%q inlined as %q: %v", sql, text, err)
		}
	})
}
