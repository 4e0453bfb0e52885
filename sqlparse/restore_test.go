package sqlparse

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestRestoreChar: CHAR() restores as MariaDB reads it, and the tree is
// left as the parser made it.
func TestRestoreChar(t *testing.T) {
	st, err := ParseOne("SELECT CHAR(65, 66), CHAR(195, 169 USING utf8mb4) FROM t WHERE a = CHAR(67)")
	if err != nil {
		t.Fatal(err)
	}
	const want = "SELECT CHAR(65, 66),CONVERT(CHAR(195, 169) USING 'utf8mb4') FROM `t` WHERE `a`=CHAR(67)"
	for range 2 {
		got, err := Restore(st)
		if err != nil || got != want {
			t.Fatalf("restored %q, %v; want %q", got, err, want)
		}
	}
	if f := st.(*ast.SelectStmt).Fields.Fields[1].Expr.(*ast.FuncCallExpr); f.FnName.L != ast.CharFunc || len(f.Args) != 3 {
		t.Errorf("the tree was changed: %s with %d arguments", f.FnName, len(f.Args))
	}
}
