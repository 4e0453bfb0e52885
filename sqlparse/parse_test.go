package sqlparse

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

func TestParseMultiAndParamOrder(t *testing.T) {
	stmts, err := Parse("SELECT ? FROM t WHERE a = ? LIMIT ? OFFSET ?; UPDATE t SET b = ? WHERE c = ?")
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 2 {
		t.Fatalf("got %d statements", len(stmts))
	}
	sel := stmts[0].(*ast.SelectStmt)
	if sel.Limit.Count.(*test_driver.ParamMarkerExpr).Order != 2 || sel.Limit.Offset.(*test_driver.ParamMarkerExpr).Order != 3 {
		t.Errorf("LIMIT ? OFFSET ?: count must be parameter 2, offset 3")
	}
	upd := stmts[1].(*ast.UpdateStmt)
	if i, _ := ParamIndex(upd.List[0].Expr); i != 0 {
		t.Errorf("each statement numbers its parameters from 0, got %d", i)
	}
	if n := NumberParams(sel); n != 4 {
		t.Errorf("NumberParams = %d, want 4", n)
	}
}

func TestParserKeepsEarlierResults(t *testing.T) {
	p := NewParser()
	first, err := p.Parse("SELECT 1; SELECT 2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse("DELETE FROM t"); err != nil {
		t.Fatal(err)
	}
	if _, ok := first[1].(*ast.SelectStmt); !ok {
		t.Fatalf("a later Parse overwrote the earlier result: %T", first[1])
	}
}

func TestParseError(t *testing.T) {
	_, err := ParseOne("SELECT * FORM t")
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("want *ParseError, got %T %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), "You have an error in your SQL syntax") || !strings.Contains(err.Error(), `near "FORM t"`) {
		t.Errorf("message %q should read like MySQL's and keep the parser's detail", err)
	}
	if _, err := ParseOne("SELECT 1; SELECT 2"); !errors.As(err, &pe) {
		t.Errorf("ParseOne of two statements: want *ParseError, got %v", err)
	}
}

func TestParsePoolConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				stmt, err := ParseOne("SELECT a FROM t WHERE id = ? AND b = 'x'")
				if err != nil {
					t.Error(err)
					return
				}
				if sel := stmt.(*ast.SelectStmt); sel.From == nil {
					t.Errorf("goroutine %d, %d: bad AST", g, i)
				}
			}
		})
	}
	wg.Wait()
}
