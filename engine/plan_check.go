package engine

import (
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// check refuses, with 1235 naming the construct, what cannot be answered
// exactly across shards.
func (p *planner) check() error {
	sel := p.sel
	switch {
	case sel.Kind != ast.SelectStmtKindSelect:
		return unsupported("TABLE and VALUES statements across shards are not supported")
	case sel.SelectIntoOpt != nil:
		return unsupported("SELECT ... INTO across shards is not supported")
	case sel.SelectStmtOpts != nil && sel.SelectStmtOpts.CalcFoundRows:
		return unsupported("SQL_CALC_FOUND_ROWS across shards is not supported; run SELECT COUNT(*) instead")
	case len(sel.WindowSpecs) > 0 && !p.keyedWindows:
		return windowsUnsupported()
	case sel.GroupBy != nil && sel.GroupBy.Rollup:
		return unsupported("GROUP BY ... WITH ROLLUP across shards is not supported")
	}
	// A subquery the router let through is answered by each shard for its
	// own rows (a global table's, or co-located on the shard key): in the
	// rows' columns it is a value like any other. Combining groups or
	// evaluating HAVING would need its value in the proxy.
	rowsOnly := !p.aggregated() || p.wholeGroups
	for _, f := range sel.Fields.Fields {
		if err := p.checkExpr(f.Expr, "the select list", rowsOnly); err != nil {
			return err
		}
	}
	if sel.GroupBy != nil {
		for _, by := range sel.GroupBy.Items {
			if err := p.checkKey(by.Expr, "GROUP BY", false); err != nil {
				return err
			}
			if contains(by.Expr, isAggregate) {
				return errorf(ErInvalidGroupFunc, "Invalid use of group function")
			}
		}
	}
	if sel.Having != nil {
		if err := p.checkExpr(sel.Having.Expr, "HAVING", p.wholeGroups); err != nil {
			return err
		}
	}
	if sel.OrderBy != nil {
		for _, by := range sel.OrderBy.Items {
			if err := p.checkKey(by.Expr, "ORDER BY", rowsOnly); err != nil {
				return err
			}
		}
	}
	if p.wholeGroups {
		return nil // the shards compute every group's row as written
	}
	return p.checkAvgBesideDistinct()
}

// checkAvgBesideDistinct refuses an expression over AVG in the select list
// or ORDER BY of a grouped query with a DISTINCT aggregate whose groups are
// sorted again. MariaDB then groups by sorting, and when it sorts the
// groups again (an ORDER BY that is not a prefix of the GROUP BY, SELECT
// DISTINCT) it reads AVG rounded to its type's scale: AVG(x) / 7 is
// 3.0180952857 where it is otherwise 3.0180952380 (measured on 10.11).
func (p *planner) checkAvgBesideDistinct() error {
	sel := p.sel
	if sel.GroupBy == nil {
		return nil
	}
	exprs := make([]ast.ExprNode, 0, len(sel.Fields.Fields))
	for _, f := range sel.Fields.Fields {
		exprs = append(exprs, f.Expr)
	}
	if sel.OrderBy != nil {
		for _, by := range sel.OrderBy.Items {
			exprs = append(exprs, by.Expr)
		}
	}
	distinct := false
	for _, e := range exprs {
		distinct = distinct || e != nil && contains(e, func(n ast.Node) bool {
			a, ok := n.(*ast.AggregateFuncExpr)
			return ok && a.Distinct
		})
	}
	if !distinct || !p.groupsResorted() {
		return nil
	}
	for _, e := range exprs {
		if _, bare := unparen(e).(*ast.AggregateFuncExpr); e == nil || bare {
			continue
		}
		if contains(e, func(n ast.Node) bool { a, ok := n.(*ast.AggregateFuncExpr); return ok && aggFunc(a) == ast.AggFuncAvg }) {
			return unsupported("an expression over AVG() beside COUNT, SUM or AVG(DISTINCT) in a grouped query across shards is not supported: MariaDB's answer depends on its plan; select the AVG() and compute the rest in the client")
		}
	}
	return nil
}

// checkExpr refuses window functions, aggregates that cannot be combined
// from partial results and, unless subqueries, subqueries.
func (p *planner) checkExpr(e ast.ExprNode, clause string, subqueries bool) error {
	var err error
	walk(e, func(n ast.Node) bool {
		if err != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.WindowFuncExpr:
			if !p.keyedWindows {
				err = windowsUnsupported()
			}
		case *ast.SubqueryExpr:
			if !subqueries {
				err = unsupported("subquery in %s across shards is not supported", clause)
			}
		case *ast.AggregateFuncExpr:
			if !p.wholeGroups {
				err = p.checkAggregate(x)
			}
		}
		return err == nil
	})
	return err
}

func windowsUnsupported() error {
	return unsupported("window functions across shards are not supported, except partitioned by the shard key")
}

// checkKey is checkExpr for ORDER BY and GROUP BY items, whose `?` markers
// would move or repeat in the shard statement.
func (p *planner) checkKey(e ast.ExprNode, clause string, subqueries bool) error {
	if err := p.checkExpr(e, clause, subqueries); err != nil {
		return err
	}
	if pos, ok := e.(*ast.PositionExpr); (ok && pos.P != nil) || containsParam(e) {
		return unsupported("parameter marker in %s across shards is not supported", clause)
	}
	return nil
}

// checkAggregate accepts COUNT, SUM, AVG, MIN and MAX: the functions whose
// result combines from per-shard partial results. DISTINCT changes nothing
// for MIN and MAX; COUNT, SUM and AVG take it over a shard key column,
// whose values no two shards share, so the shards' distinct values add up.
func (p *planner) checkAggregate(a *ast.AggregateFuncExpr) error {
	switch aggFunc(a) {
	case ast.AggFuncCount, ast.AggFuncSum, ast.AggFuncAvg:
		if a.Distinct && !p.distinctByShard(a) {
			return unsupported("%s(DISTINCT) across shards is not supported, except over the shard key", aggregateName(a))
		}
	case ast.AggFuncMin, ast.AggFuncMax:
	case ast.AggFuncGroupConcat:
		return unsupported("GROUP_CONCAT across shards is not supported")
	default:
		return unsupported("%s() across shards is not supported", aggregateName(a))
	}
	if len(a.Args) != 1 {
		return unsupported("%s with %d arguments across shards is not supported", aggregateName(a), len(a.Args))
	}
	for _, arg := range a.Args {
		if contains(arg, isAggregate) {
			return errorf(ErInvalidGroupFunc, "Invalid use of group function")
		}
	}
	return nil
}

// distinctByShard reports whether a's one argument is a column the
// caller says is a shard key.
func (p *planner) distinctByShard(a *ast.AggregateFuncExpr) bool {
	if p.shardKey == nil || len(a.Args) != 1 {
		return false
	}
	c, ok := unparen(a.Args[0]).(*ast.ColumnNameExpr)
	if !ok {
		return false
	}
	key, _ := p.shardKey(c.Name) // the aggregate skips the NULLs of an outer join
	return key
}

// checkRowOrder refuses what counts the rows it passes, anywhere in the
// statement: each shard would count its own rows from the start
// (`@n := @n + 1` numbering 1, 2, ... on every shard, RAND(seed) restarting
// its sequence, ROWNUM()), and a user variable would be left as the last
// shard set it.
func checkRowOrder(stmt ast.Node) error {
	var what string
	sqlparse.Contains(stmt, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.VariableExpr:
			if !x.IsSystem && x.Value != nil {
				what = "assigning a user variable (@" + x.Name + " := ...)"
			}
		case *ast.FuncCallExpr:
			if x.FnName.L == "rand" && len(x.Args) > 0 {
				what = "RAND() with a seed"
			} else if x.FnName.L == "rownum" {
				what = "ROWNUM()"
			}
		}
		return what != ""
	})
	if what != "" {
		return unsupported("%s in a SELECT across shards is not supported: each shard would count its own rows", what)
	}
	return nil
}

// groupsResorted reports whether a grouped query's groups are sorted again
// after grouping: SELECT DISTINCT, or an ORDER BY whose keys (repeats
// aside, either direction) are not the first GROUP BY keys in order.
func (p *planner) groupsResorted() bool {
	sel := p.sel
	if sel.Distinct {
		return true
	}
	if sel.OrderBy == nil || isOrderByNull(sel.OrderBy) {
		return false
	}
	var group, order []string
	for _, by := range sel.GroupBy.Items {
		group = append(group, p.keyName(by.Expr))
	}
	for _, by := range sel.OrderBy.Items {
		if k := p.keyName(by.Expr); !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	return len(order) > len(group) || !slices.Equal(order, group[:len(order)])
}

// keyName names a GROUP BY or ORDER BY key for comparison: the select
// item a position or alias names, else the expression's text.
func (p *planner) keyName(e ast.ExprNode) string {
	if pos, ok := e.(*ast.PositionExpr); ok && pos.P == nil && pos.N >= 1 && pos.N <= p.explicit {
		it := p.items[pos.N-1]
		if it.alias != "" {
			return it.alias
		}
		return it.text
	}
	if name, ok := bareName(e); ok && p.aliasItem(name) >= 0 {
		return name
	}
	text, _ := restoreText(e)
	return text
}
