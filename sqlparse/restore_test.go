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

// TestRestoreShareLock: a statement's shared lock is written as MariaDB
// spells it, and the tree keeps the parser's.
func TestRestoreShareLock(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT a FROM t WHERE b = 1 LOCK IN SHARE MODE":           "SELECT `a` FROM `t` WHERE `b`=1 LOCK IN SHARE MODE",
		"SELECT a FROM t ORDER BY a LIMIT 2 FOR SHARE NOWAIT":      "SELECT `a` FROM `t` ORDER BY `a` LIMIT 2 LOCK IN SHARE MODE NOWAIT",
		"SELECT a FROM t FOR SHARE SKIP LOCKED":                    "SELECT `a` FROM `t` LOCK IN SHARE MODE SKIP LOCKED",
		"SELECT a FROM t LOCK IN SHARE MODE INTO OUTFILE '/tmp/x'": "SELECT `a` FROM `t` LOCK IN SHARE MODE INTO OUTFILE '/tmp/x'",
		"SELECT a FROM t FOR UPDATE":                               "SELECT `a` FROM `t` FOR UPDATE",
	} {
		st, err := ParseOne(sql)
		if err != nil {
			t.Fatal(err)
		}
		lock := st.(*ast.SelectStmt).LockInfo
		if got, err := Restore(st); err != nil || got != want {
			t.Errorf("%s: restored %q, %v; want %q", sql, got, err, want)
		}
		if sel := st.(*ast.SelectStmt); sel.LockInfo != lock {
			t.Errorf("%s: the tree lost its lock", sql)
		}
	}
}
