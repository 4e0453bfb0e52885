package sqlparse

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// CountedDerived returns the derived table of `SELECT COUNT(*) FROM
// (inner) AS alias`, which is how ORMs count a query's rows (SQLAlchemy's
// Query.count(), Django's count() of a distinct or annotated queryset);
// nil for any other statement. The outer query does nothing else: no
// WHERE, grouping, ordering, limit or lock.
func CountedDerived(sel *ast.SelectStmt) *ast.SelectStmt {
	inner, _ := countedSource(sel).(*ast.SelectStmt)
	return inner
}

// CountedUnion returns the union of `SELECT COUNT(*) FROM (union) AS
// alias` (Django's count() of a union()) when the shards' answers to it
// are not each their share of its rows: a UNION (DISTINCT), or one with
// its own ORDER BY or LIMIT. The union is then merged before its rows are
// counted. nil otherwise.
func CountedUnion(sel *ast.SelectStmt) *ast.SetOprStmt {
	u, _ := countedSource(sel).(*ast.SetOprStmt)
	if u == nil {
		return nil
	}
	if _, distinct := UnionArms(u); !distinct && u.OrderBy == nil && u.Limit == nil {
		return nil
	}
	return u
}

// countedSource returns the derived table a `SELECT COUNT(*) FROM (query)
// AS alias` counts, nil for any other statement.
func countedSource(sel *ast.SelectStmt) ast.ResultSetNode {
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
	count, ok := sel.Fields.Fields[0].Expr.(*ast.AggregateFuncExpr)
	if !ok || !strings.EqualFold(count.F, ast.AggFuncCount) || count.Distinct || len(count.Args) != 1 {
		return nil
	}
	// COUNT(*) reaches the parser as COUNT(1); COUNT(0) counts alike.
	if v, ok := Literal(count.Args[0]); !ok || v.IsNull() {
		return nil
	}
	return ts.Source
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

// PartitionedDerived returns the queries under `SELECT ... FROM (query)
// AS t`, or `WITH t AS (query) SELECT ... FROM t`, when each of their rows
// comes from rows of one shard: from one table row (no grouping,
// aggregate, DISTINCT, LIMIT or window function), or, where keyed (nil:
// never) says which expressions are shard key columns of the query's
// tables, from one group of a query grouped by a shard key or beside
// window functions that partition by one. Each shard's rows of t are then
// its own share of the whole, so the outer query merges as it would over
// a sharded table. The query is one SELECT (followed down when it is
// itself a SELECT of table rows) or the arms of a UNION ALL; nil when sel
// is not such a statement.
func PartitionedDerived(sel *ast.SelectStmt, keyed func(q *ast.SelectStmt, exprs []ast.ExprNode) bool) []*ast.SelectStmt {
	switch q := derivedSource(sel).(type) {
	case *ast.SelectStmt:
		if rowPreserving(q) {
			if deeper := PartitionedDerived(q, keyed); deeper != nil {
				return deeper
			}
			return []*ast.SelectStmt{q}
		}
		if keyed != nil && partitionedByKey(q, keyed) {
			return []*ast.SelectStmt{q}
		}
	case *ast.SetOprStmt:
		if q.OrderBy != nil || q.Limit != nil {
			return nil
		}
		return UnionAllArms(q)
	}
	return nil
}

// partitionedByKey reports whether q, without DISTINCT or LIMIT, makes
// each row from rows of one shard though not from one row: it groups by a
// shard key, or reads table rows beside window functions, and every window
// function partitions by a shard key. (DISTINCT would compare rows of
// different shards.)
func partitionedByKey(q *ast.SelectStmt, keyed func(*ast.SelectStmt, []ast.ExprNode) bool) bool {
	if q.Kind != ast.SelectStmtKindSelect || q.Distinct || q.Limit != nil || q.With != nil || q.SelectIntoOpt != nil || q.Fields == nil {
		return false
	}
	parts, ok := WindowPartitions(q)
	if !ok || slices.ContainsFunc(parts, func(p []ast.ExprNode) bool { return !keyed(q, p) }) {
		return false
	}
	if q.GroupBy != nil {
		groups := make([]ast.ExprNode, 0, len(q.GroupBy.Items))
		for _, by := range q.GroupBy.Items {
			groups = append(groups, by.Expr)
		}
		return !q.GroupBy.Rollup && keyed(q, groups)
	}
	return len(parts) > 0 && q.Having == nil && !Contains(q.Fields, isAggregate) &&
		(q.OrderBy == nil || !Contains(q.OrderBy, isAggregate))
}

func isAggregate(n ast.Node) bool { _, ok := n.(*ast.AggregateFuncExpr); return ok }

// derivedSource returns the query sel's FROM consists of: one derived
// table, or one WITH query referenced nowhere else.
func derivedSource(sel *ast.SelectStmt) ast.ResultSetNode {
	if sel == nil || sel.From == nil || sel.From.TableRefs == nil || sel.From.TableRefs.Right != nil {
		return nil
	}
	ts, ok := sel.From.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil
	}
	switch q := ts.Source.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return q
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok || tn.Schema.L != "" || sel.With == nil || sel.With.IsRecursive || len(sel.With.CTEs) != 1 {
		return nil
	}
	cte := sel.With.CTEs[0]
	if cte.Name.L != tn.Name.L || cte.Query == nil {
		return nil
	}
	namesIt := func(n ast.Node) bool {
		t, ok := n.(*ast.TableName)
		return ok && t.Schema.L == "" && t.Name.L == tn.Name.L
	}
	// A subquery reading t would read only its shard's part.
	if Contains(sel.Fields, namesIt) || sel.Where != nil && Contains(sel.Where, namesIt) ||
		sel.GroupBy != nil && Contains(sel.GroupBy, namesIt) || sel.Having != nil && Contains(sel.Having, namesIt) ||
		sel.OrderBy != nil && Contains(sel.OrderBy, namesIt) {
		return nil
	}
	switch q := cte.Query.Query.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return q
	}
	return nil
}

// rowPreserving reports whether q yields each row from one row of its
// tables, never from several (so never across shards).
func rowPreserving(q *ast.SelectStmt) bool {
	if q.Kind != ast.SelectStmtKindSelect || q.GroupBy != nil || q.Having != nil || q.Distinct || q.Limit != nil ||
		len(q.WindowSpecs) > 0 || q.With != nil || q.SelectIntoOpt != nil || q.Fields == nil {
		return false
	}
	groups := func(n ast.Node) bool {
		switch n.(type) {
		case *ast.AggregateFuncExpr, *ast.WindowFuncExpr:
			return true
		}
		return false
	}
	if Contains(q.Fields, groups) {
		return false
	}
	return q.OrderBy == nil || !Contains(q.OrderBy, groups)
}

// UnionAllArms returns the arms of `q1 UNION ALL q2 [UNION ALL ...]` when
// every operator is UNION ALL and each arm yields each row from one table
// row (see PartitionedDerived): the union of the shards' answers is then
// the whole answer. Parenthesized arms count as arms (`(q1) UNION ALL
// (q2)`, as ORMs write them). nil otherwise. The union's own ORDER BY and
// LIMIT are not looked at.
func UnionAllArms(u *ast.SetOprStmt) []*ast.SelectStmt {
	if arms, distinct := UnionArms(u); !distinct {
		return arms
	}
	return nil
}

// UnionArms returns the arms of a union whose operators are all UNION ALL
// (distinct false) or all UNION [DISTINCT] (distinct true), each arm as
// UnionAllArms wants it; nil otherwise.
func UnionArms(u *ast.SetOprStmt) (arms []*ast.SelectStmt, distinct bool) {
	if u == nil || u.SelectList == nil || u.With != nil {
		return nil, false
	}
	var ops []*ast.SetOprType
	arms, ops, ok := appendUnionArms(nil, nil, u.SelectList.Selects)
	if !ok || len(ops) == 0 {
		return nil, false
	}
	for _, op := range ops {
		if op == nil || *op != *ops[0] {
			return nil, false
		}
	}
	switch *ops[0] {
	case ast.UnionAll:
		return arms, false
	case ast.Union:
		return arms, true
	}
	return nil, false
}

// appendUnionArms appends the arms of selects, flattening parenthesized
// ones, and the operators between them; false when an arm is not
// row-preserving.
func appendUnionArms(arms []*ast.SelectStmt, ops []*ast.SetOprType, selects []ast.Node) ([]*ast.SelectStmt, []*ast.SetOprType, bool) {
	for i, n := range selects {
		var op *ast.SetOprType
		switch x := n.(type) {
		case *ast.SelectStmt:
			if !rowPreserving(x) || x.OrderBy != nil {
				return nil, nil, false
			}
			op = x.AfterSetOperator
			arms = append(arms, x)
		case *ast.SetOprSelectList:
			if x.With != nil || x.OrderBy != nil || x.Limit != nil {
				return nil, nil, false
			}
			var ok bool
			if arms, ops, ok = appendUnionArms(arms, ops, x.Selects); !ok {
				return nil, nil, false
			}
			op = x.AfterSetOperator
		default:
			return nil, nil, false
		}
		if i > 0 {
			ops = append(ops, op)
		}
	}
	return arms, ops, true
}

// MakeUnionAll turns every operator of a union that UnionArms accepts into
// UNION ALL.
func MakeUnionAll(u *ast.SetOprStmt) {
	all := ast.UnionAll
	var visit func(selects []ast.Node)
	visit = func(selects []ast.Node) {
		for i, n := range selects {
			switch x := n.(type) {
			case *ast.SelectStmt:
				if i > 0 {
					x.AfterSetOperator = &all
				}
			case *ast.SetOprSelectList:
				if i > 0 {
					x.AfterSetOperator = &all
				}
				visit(x.Selects)
			}
		}
	}
	visit(u.SelectList.Selects)
}

// FromNames returns the names a FROM clause defines, which qualify its
// columns (each source's alias, else its table's name), and its tables.
func FromNames(from *ast.TableRefsClause) (names map[string]bool, tables []*ast.TableName) {
	names = map[string]bool{}
	var visit func(rs ast.ResultSetNode)
	visit = func(rs ast.ResultSetNode) {
		switch x := rs.(type) {
		case *ast.Join:
			visit(x.Left)
			if x.Right != nil {
				visit(x.Right)
			}
		case *ast.TableSource:
			if x.AsName.L != "" {
				names[x.AsName.L] = true
			}
			switch src := x.Source.(type) {
			case *ast.TableName:
				tables = append(tables, src)
				if x.AsName.L == "" {
					names[src.Name.L] = true
				}
			case *ast.Join:
				visit(src)
			}
		}
	}
	if from != nil {
		visit(from.TableRefs)
	}
	return names, tables
}
