package sqlparse

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func mustParse(t *testing.T, sql string) ast.StmtNode {
	t.Helper()
	stmt, err := ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	return stmt
}

// 'back\\slash' holds one backslash; the restored text must hold it too.
func TestRestoreKeepsBackslashes(t *testing.T) {
	stmt := mustParse(t, `SELECT 'back\\slash', 'quo''te', _utf8mb4'x'`)
	text, err := Restore(stmt)
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT 'back\\slash','quo''te','x'`; text != want {
		t.Fatalf("Restore = %s, want %s", text, want)
	}
	again := mustParse(t, text).(*ast.SelectStmt)
	if v, _ := Literal(again.Fields.Fields[0].Expr); v.Str() != `back\slash` {
		t.Errorf("round trip changed the value to %q", v.Str())
	}
}

func TestRewrite(t *testing.T) {
	dbs := map[string]string{"Shop": "shop_2"}
	for _, c := range []struct{ sql, want string }{
		// The statement's own text, qualifiers replaced.
		{"SELECT shop.users.name, u.* FROM shop.users JOIN `shop`.orders AS u ON u.user_id = users.id /* keep me */ WHERE x = '?shop.t'",
			"SELECT `shop_2`.users.name, u.* FROM `shop_2`.users JOIN `shop_2`.orders AS u ON u.user_id = users.id /* keep me */ WHERE x = '?shop.t'"},
		{"SELECT SHOP . users.* FROM shop.users", "SELECT `shop_2` . users.* FROM `shop_2`.users"},
		{"select count(*) from users where id = ? lock in share mode", "select count(*) from users where id = ? lock in share mode"},
		{"INSERT INTO shop.t (a) VALUES (1)", "INSERT INTO `shop_2`.t (a) VALUES (1)"},
		{"DELETE t1 FROM shop.t1 JOIN shop.t2 ON t1.a = t2.a", "DELETE t1 FROM `shop_2`.t1 JOIN `shop_2`.t2 ON t1.a = t2.a"},
		{"ALTER TABLE shop.t ADD INDEX (a);", "ALTER TABLE `shop_2`.t ADD INDEX (a)"},
		{"SELECT x.shop.a FROM shop.shop AS x", "SELECT x.shop.a FROM `shop_2`.shop AS x"},
		// An alias spelled like the schema: restored, names of expression columns kept.
		{"SELECT shop.a, count(*), shop.b + 1, 'lit', 1e3 FROM t AS shop WHERE shop.a = ?", "SELECT `shop`.`a`,COUNT(1) AS `count(*)`,`shop`.`b`+1 AS `shop.b + 1`,'lit',1e+03 AS `1e3` FROM `t` AS `shop` WHERE `shop`.`a`=?"},
		{"SHOW TABLES FROM shop", "SHOW TABLES IN `shop_2`"},
	} {
		stmt := mustParse(t, c.sql)
		before, _ := Restore(stmt)
		got, err := Rewrite(stmt, dbs)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got != c.want {
			t.Errorf("Rewrite(%s)\n got %s\nwant %s", c.sql, got, c.want)
		}
		if after, _ := Restore(stmt); after != before {
			t.Errorf("Rewrite changed the AST: %s -> %s", before, after)
		}
	}
}

func TestRestoreTemplateHolesAndHex(t *testing.T) {
	stmt := mustParse(t, "SELECT * FROM shop.t WHERE a = ? AND b = 'x\xff' LIMIT ? OFFSET ?")
	before, _ := Restore(stmt)
	tm, err := restoreTemplate(stmt, []string{"shop"})
	if err != nil {
		t.Fatal(err)
	}
	q := tm.Expand([]string{"db`1"})
	if want := "SELECT * FROM `db``1`.`t` WHERE `a`=? AND `b`=X'78ff' LIMIT ?,?"; q.SQL != want {
		t.Errorf("got  %s\nwant %s", q.SQL, want)
	}
	if got := q.Params; len(got) != 3 || got[0] != 0 || got[1] != 2 || got[2] != 1 {
		t.Errorf("restored LIMIT m,n must take the OFFSET parameter first: %v", got)
	}
	inl, err := q.Inline([]Value{StringValue("o'k"), IntValue(10), IntValue(20)})
	if want := "SELECT * FROM `db``1`.`t` WHERE `a`='o\\'k' AND `b`=X'78ff' LIMIT 20,10"; err != nil || inl != want {
		t.Errorf("Inline = %s, %v\nwant %s", inl, err, want)
	}
	if after, _ := Restore(stmt); after != before {
		t.Errorf("the AST changed: %s -> %s", before, after)
	}
	if tm.Params() != 3 || !tm.UsesSchemas() {
		t.Errorf("Params() = %d, UsesSchemas() = %v", tm.Params(), tm.UsesSchemas())
	}
}

func TestInlineStatement(t *testing.T) {
	stmt := mustParse(t, "UPDATE t SET a = ?, b = ? WHERE c = ? AND d = '?'")
	got, err := Inline(stmt, []Value{NullValue(), BytesValue([]byte{0, 1}), DecimalValue("1.50")})
	if want := "UPDATE t SET a = NULL, b = X'0001' WHERE c = 1.50 AND d = '?'"; err != nil || got != want {
		t.Errorf("Inline = %s, %v\nwant %s", got, err, want)
	}
	if _, err := Inline(stmt, []Value{NullValue()}); err == nil {
		t.Error("missing parameters must be an error")
	}
}

func TestSplitInsert(t *testing.T) {
	stmt := mustParse(t, "INSERT INTO shop.t (a, b) VALUES (1, ?), (?, 'x') ON DUPLICATE KEY UPDATE b = ?").(*ast.InsertStmt)
	before, _ := Restore(stmt)
	p, err := SplitInsert(stmt, []string{"shop"}, "id")
	if err != nil {
		t.Fatal(err)
	}
	dbs := []string{"s1"}
	if got := p.Prefix.Expand(dbs).SQL; got != "INSERT INTO `s1`.`t` (`a`,`b`,`id`) VALUES " {
		t.Errorf("prefix %q", got)
	}
	if got := p.Suffix.Expand(dbs); got.SQL != " ON DUPLICATE KEY UPDATE `b`=?" || got.Params[0] != 2 {
		t.Errorf("suffix %q %v", got.SQL, got.Params)
	}
	var b Builder
	for _, row := range p.Rows {
		for _, v := range row {
			v.AppendTo(&b, dbs)
			b.WriteString("|")
		}
	}
	if got := b.Query(); got.SQL != "1|?|?|'x'|" || len(got.Params) != 2 || got.Params[0] != 0 || got.Params[1] != 1 {
		t.Errorf("rows %q %v", got.SQL, got.Params)
	}
	if after, _ := Restore(stmt); after != before {
		t.Errorf("the AST changed: %s -> %s", before, after)
	}
	set := mustParse(t, "INSERT INTO t SET a = 1").(*ast.InsertStmt)
	if p, err := SplitInsert(set, nil, ""); err != nil || !strings.HasSuffix(p.Prefix.Expand(nil).SQL, "(`a`) VALUES ") {
		t.Errorf("INSERT ... SET: %v", err)
	}
	sel := mustParse(t, "INSERT INTO t SELECT 1").(*ast.InsertStmt)
	if _, err := SplitInsert(sel, nil, ""); err == nil {
		t.Error("INSERT ... SELECT has no rows to split")
	}
}

func TestBuilderSplit(t *testing.T) {
	var b Builder
	b.WriteString("a=")
	b.WriteParam(3)
	m1 := b.Mark()
	b.WriteString("b=")
	b.WriteParam(1)
	b.WriteString(",c=")
	b.WriteParam(2)
	qs := b.Split([]Mark{m1, b.Mark()})
	got, err := qs[1].Inline([]Value{IntValue(0), IntValue(11), IntValue(22), IntValue(33)})
	if err != nil || qs[0].SQL != "a=?" || got != "b=11,c=22" {
		t.Errorf("Split: %q %q %v", qs[0].SQL, got, err)
	}
}

func TestColumnAlias(t *testing.T) {
	long := "1" + strings.Repeat(" + 1", 70)
	stmt := mustParse(t, "SELECT count( * ), `a` + 1, a, t.b, 'x', 7, -2, c AS named, *, DATABASE(), "+long+" FROM t")
	var got []string
	for _, f := range stmt.(*ast.SelectStmt).Fields.Fields {
		alias, ok := ColumnAlias(f)
		if !ok {
			alias = "-"
		}
		got = append(got, alias)
	}
	want := []string{"count( * )", "`a` + 1", "-", "-", "-", "7", "-2", "-", "-", "DATABASE()", "-"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("aliases\n got: %q\nwant: %q", got, want)
	}
}
