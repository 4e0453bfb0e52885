package sqlparse

import (
	"fmt"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func TestScratch(t *testing.T) {
	for _, q := range []string{
		"SELECT shop.users.*, users.name, shop.users.id FROM shop.users JOIN shop.orders o ON o.user_id = users.id WHERE shop.users.id = ? and v = 'back\\\\slash' and w = '?' LIMIT ? OFFSET ?",
		"INSERT INTO shop.t (a, b) VALUES (1, ?), (?, 'x') ON DUPLICATE KEY UPDATE b = ?",
		"INSERT INTO shop.t SET a = 1, b = ?",
		"SHOW TABLES FROM shop",
		"UPDATE shop.users SET name = ? WHERE shop.users.id = ?",
		"SELECT x'ff', _binary'\xff\xfe', 'abc'",
		"DELETE FROM shop.users WHERE id = 1",
		"CREATE TABLE shop.t (id int) ",
		"RENAME TABLE shop.a TO shop.b",
	} {
		st, err := ParseOne(q)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := Restore(st)
		tm, err := NewTemplate(st, []string{"shop"})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := Restore(st)
		qq := tm.Expand([]string{"shop_2"})
		fmt.Printf("%s\n  %q %v\n", qq.SQL, tm.parts, qq.Params)
		if before != after {
			t.Errorf("AST changed %s\n%s", before, after)
		}
		s, err := qq.Inline([]Value{IntValue(5), StringValue("it's \\ \x00"), NullValue(), BytesValue([]byte{0xff, 0})})
		fmt.Println("  ", s, err)
		if ins, ok := st.(*ast.InsertStmt); ok {
			p, err := SplitInsert(ins, []string{"shop"}, "id")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("  prefix %q suffix %q rows %d\n", p.Prefix.Expand([]string{"s1"}).SQL, p.Suffix.Expand([]string{"s1"}).SQL, len(p.Rows))
			after, _ := Restore(st)
			if before != after {
				t.Errorf("AST changed %s\n%s", before, after)
			}
		}
	}
}
