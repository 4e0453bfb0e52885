package engine

import (
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
	case len(sel.WindowSpecs) > 0:
		return unsupported("window functions across shards are not supported")
	case sel.GroupBy != nil && sel.GroupBy.Rollup:
		return unsupported("GROUP BY ... WITH ROLLUP across shards is not supported")
	}
	// A subquery the router let through is answered by each shard for its
	// own rows (a global table's, or co-located on the shard key): in the
	// rows' columns it is a value like any other. Combining groups or
	// evaluating HAVING would need its value in the proxy.
	rowsOnly := !p.aggregated()
	for _, f := range sel.Fields.Fields {
		if err := checkExprIn(f.Expr, "the select list", rowsOnly); err != nil {
			return err
		}
	}
	if sel.GroupBy != nil {
		for _, by := range sel.GroupBy.Items {
			if err := checkKey(by.Expr, "GROUP BY"); err != nil {
				return err
			}
			if contains(by.Expr, isAggregate) {
				return errorf(ErInvalidGroupFunc, "Invalid use of group function")
			}
		}
	}
	if sel.Having != nil {
		if err := checkExpr(sel.Having.Expr, "HAVING"); err != nil {
			return err
		}
	}
	if sel.OrderBy != nil {
		for _, by := range sel.OrderBy.Items {
			if err := checkKeyIn(by.Expr, "ORDER BY", rowsOnly); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkExpr refuses window functions, subqueries and aggregates that
// cannot be combined from partial results.
func checkExpr(e ast.ExprNode, clause string) error { return checkExprIn(e, clause, false) }

// checkExprIn is checkExpr, letting subqueries through when subqueries.
func checkExprIn(e ast.ExprNode, clause string, subqueries bool) error {
	var err error
	walk(e, func(n ast.Node) bool {
		if err != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.WindowFuncExpr:
			err = unsupported("window functions across shards are not supported")
		case *ast.SubqueryExpr:
			if !subqueries {
				err = unsupported("subquery in %s across shards is not supported", clause)
			}
		case *ast.AggregateFuncExpr:
			err = checkAggregate(x)
		}
		return err == nil
	})
	return err
}

// checkKey is checkExpr for ORDER BY and GROUP BY items, whose `?` markers
// would move or repeat in the shard statement.
func checkKey(e ast.ExprNode, clause string) error { return checkKeyIn(e, clause, false) }

// checkKeyIn is checkKey, letting subqueries through when subqueries.
func checkKeyIn(e ast.ExprNode, clause string, subqueries bool) error {
	if err := checkExprIn(e, clause, subqueries); err != nil {
		return err
	}
	if pos, ok := e.(*ast.PositionExpr); (ok && pos.P != nil) || containsParam(e) {
		return unsupported("parameter marker in %s across shards is not supported", clause)
	}
	return nil
}

// checkAggregate accepts COUNT, SUM, AVG, MIN and MAX (DISTINCT only for
// MIN and MAX, where it changes nothing): the functions whose result
// combines from per-shard partial results.
func checkAggregate(a *ast.AggregateFuncExpr) error {
	switch aggFunc(a) {
	case ast.AggFuncCount, ast.AggFuncSum, ast.AggFuncAvg:
		if a.Distinct {
			return unsupported("%s(DISTINCT) across shards is not supported", aggregateName(a))
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
