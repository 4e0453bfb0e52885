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

// ExistsQuery returns the subquery of `SELECT [NOT] EXISTS (query) [AS
// alias]` (SQLAlchemy's session.query(q.exists())), and whether it is NOT
// EXISTS; nil for any other statement.
func ExistsQuery(sel *ast.SelectStmt) (*ast.SelectStmt, bool) {
	if sel == nil || sel.From != nil || sel.Where != nil || sel.GroupBy != nil || sel.Having != nil ||
		sel.OrderBy != nil || sel.Limit != nil || sel.LockInfo != nil || sel.With != nil || sel.SelectIntoOpt != nil ||
		sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, false
	}
	ex, ok := sel.Fields.Fields[0].Expr.(*ast.ExistsSubqueryExpr)
	if !ok {
		return nil, false
	}
	sub, ok := ex.Sel.(*ast.SubqueryExpr)
	if !ok {
		return nil, false
	}
	inner, ok := sub.Query.(*ast.SelectStmt)
	if !ok {
		return nil, false
	}
	return inner, ex.Not
}

// SpanningQuery returns the query whose rows decide a statement that
// merges per-shard answers of one value (a count, an EXISTS): that query
// may span shards. nil for any other statement.
func SpanningQuery(sel *ast.SelectStmt) *ast.SelectStmt {
	if inner := CountedDerived(sel); inner != nil {
		return inner
	}
	inner, _ := ExistsQuery(sel)
	return inner
}
