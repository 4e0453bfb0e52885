package sqlparse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

func TestScratch(t *testing.T) {
	p := parser.New()
	for _, q := range []string{
		"/* shardproxy:primary */ SELECT 1",
		"SELECT /* shardproxy:primary */ * FROM t WHERE a = 'x'; select 2 /* c */",
		"SELECT * FORM t",
		"INSERT INTO t SET a=1, b=?",
		"INSERT INTO t VALUES (1,2)",
		"SELECT * FROM t LIMIT ? OFFSET ?",
		"SELECT shop.users.*, users.name FROM shop.users WHERE shop.users.id = -5 and x = 1.5 and y = 1e3 and z = 0x35 and w = TRUE and v = 'back\\\\slash'",
		"DELETE FROM shop.users AS u WHERE u.id = 1",
		"UPDATE shop.users u SET u.id=5 WHERE id = 5 ORDER BY id LIMIT 3",
		"select * from a natural join b join c using (id) left join d on d.x=c.x, e",
		"insert into t (a) values (1) on duplicate key update a = values(a)",
		"create table shop.t (id int primary key, key (id))",
		"show columns from shop.users",
		"show tables from shop",
		"select * from t where id in (select id from u) and exists (select 1) and id between 1 and ? and id not in (1)",
		"select 1 union select 2 order by 1",
		"rename table a to b",
		"create index i on shop.users (name)",
		"with c as (select 1) select * from c",
		"select * from t for update",
		"select * from t lock in share mode",
		"truncate table shop.t",
		"alter table shop.t add column x int",
		"drop table shop.t, u",
		"drop index i on shop.t",
		"select _binary'abc', _utf8mb4'x', x'0a', b'1', N'xx'",
		"select * from t where a = 1 -- hi\n",
		"DELETE t1, shop.t2 FROM t1 JOIN shop.t2 ON t1.a = t2.a",
		"insert into t (a) select a from u",
		"replace into t (a) values (1)",
	} {
		stmts, _, err := p.Parse(q, "", "")
		if err != nil {
			fmt.Printf("%q: ERR %T %v\n", q, err, err)
			continue
		}
		for _, s := range stmts {
			var b strings.Builder
			err := s.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags|format.RestoreStringEscapeBackslash|format.RestoreStringWithoutCharset, &b))
			fmt.Printf("%T text=%q\n   => %s %v\n", s, s.Text(), b.String(), err)
			if ins, ok := s.(*ast.InsertStmt); ok {
				fmt.Printf("   cols=%d lists=%d setlist=%v\n", len(ins.Columns), len(ins.Lists), ins.Setlist)
			}
		}
	}
}
