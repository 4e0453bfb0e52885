package sqlparse

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// CountedDerived returns the derived table of `SELECT COUNT(*) FROM
// (inner) AS alias`, which is how ORMs count a query's rows (SQLAlchemy's
// Query.count(), Django's count() of a distinct or annotated queryset);
// nil for any other statement. The outer query does nothing else: no
// WHERE, grouping, ordering, limit or lock.
func CountedDerived(sel *ast.SelectStmt) *ast.SelectStmt {
	if sel == nil || sel.From == nil || sel.From.TableRefs == nil || sel.From.TableRefs.Right != nil ||
		sel.Where != nil || sel.GroupBy != nil || sel.Having != nil || sel.OrderBy != nil || sel.Limit != nil ||
		sel.Distinct || sel.LockInfo != nil || sel.With != nil || sel.WindowSpecs != nil || sel.SelectIntoOpt != nil ||
		sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil
	}
	ts, ok := sel.From.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil
	}
	inner, ok := ts.Source.(*ast.SelectStmt)
	if !ok {
		return nil
	}
	count, ok := sel.Fields.Fields[0].Expr.(*ast.AggregateFuncExpr)
	if !ok || !strings.EqualFold(count.F, ast.AggFuncCount) || count.Distinct || len(count.Args) != 1 {
		return nil
	}
	// COUNT(*) reaches the parser as COUNT(1); COUNT(0) counts alike.
	if v, ok := Literal(count.Args[0]); !ok || v.IsNull() {
		return nil
	}
	return inner
}
