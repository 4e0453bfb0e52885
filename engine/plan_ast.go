package engine

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// AST helpers of the planner. Expressions are copied by restoring them to
// text and parsing that again, so the caller's AST is never shared with,
// or changed by, the shard statement.

// restoreText writes an expression as SQL with the project's flags.
func restoreText(n ast.Node) (string, error) { return sqlparse.Restore(n) }

// parseExpr parses one expression.
func parseExpr(text string) (ast.ExprNode, error) {
	stmt, err := sqlparse.ParseOne("SELECT " + text)
	if err != nil {
		return nil, errorf(ErUnknown, "plan error: cannot parse %q back: %v", text, err)
	}
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok || len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].Expr == nil {
		return nil, errorf(ErUnknown, "plan error: %q is not one expression", text)
	}
	return sel.Fields.Fields[0].Expr, nil
}

// walk calls visit on n and its descendants, depth first; visit returns
// false to skip a node's children. Subqueries are not entered.
func walk(n ast.Node, visit func(ast.Node) bool) {
	if n != nil {
		n.Accept(&walker{visit: visit})
	}
}

type walker struct{ visit func(ast.Node) bool }

func (w *walker) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SubqueryExpr); ok {
		w.visit(n)
		return n, true
	}
	return n, !w.visit(n)
}

func (w *walker) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// contains reports whether pred holds for n or a descendant.
func contains(n ast.Node, pred func(ast.Node) bool) bool {
	found := false
	walk(n, func(m ast.Node) bool {
		if !found && pred(m) {
			found = true
		}
		return !found
	})
	return found
}

func isAggregate(n ast.Node) bool { _, ok := n.(*ast.AggregateFuncExpr); return ok }
func isParam(n ast.Node) bool     { _, ok := n.(*test_driver.ParamMarkerExpr); return ok }
func isColumnRef(n ast.Node) bool { _, ok := n.(*ast.ColumnNameExpr); return ok }

// stringLiteral returns a string literal's value: MariaDB names a column
// of one by it.
func stringLiteral(e ast.ExprNode) (string, bool) {
	v, ok := sqlparse.Literal(e)
	if !ok || v.Kind() != sqlparse.KindString && v.Kind() != sqlparse.KindBytes {
		return "", false
	}
	return v.Str(), true
}

func containsParam(n ast.Node) bool { return sqlparse.Contains(n, isParam) } // subqueries too

// unparen strips parentheses around an expression.
func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// bareName returns the lower-case name of an unqualified column
// reference, which may also name a select-list alias.
func bareName(e ast.ExprNode) (string, bool) {
	c, ok := e.(*ast.ColumnNameExpr)
	if !ok || c.Name.Table.L != "" || c.Name.Schema.L != "" {
		return "", false
	}
	return c.Name.Name.L, true
}

// mayBeString reports whether e may have a string type, so that sorting
// or grouping by it needs its collation weight. False only when the type
// is surely numeric (or NULL): a weight column costs one byte per row for
// non-strings anyway.
func mayBeString(e ast.ExprNode) bool {
	switch x := unparen(e).(type) {
	case *test_driver.ValueExpr:
		k := x.Kind()
		return k == test_driver.KindString || k == test_driver.KindBytes
	case *ast.AggregateFuncExpr:
		switch aggFunc(x) {
		case ast.AggFuncMin, ast.AggFuncMax:
			return len(x.Args) == 1 && mayBeString(x.Args[0])
		case ast.AggFuncGroupConcat, ast.AggFuncJsonArrayagg, ast.AggFuncJsonObjectAgg:
			return true
		}
		return false // counts, sums, averages, deviations, bits
	case *ast.BinaryOperationExpr, *ast.IsNullExpr, *ast.IsTruthExpr, *ast.BetweenExpr,
		*ast.PatternInExpr, *ast.PatternLikeOrIlikeExpr, *ast.PatternRegexpExpr:
		return false
	case *ast.UnaryOperationExpr:
		return x.Op == opcode.Plus && mayBeString(x.V)
	case *ast.ExistsSubqueryExpr:
		return false
	case *ast.WindowFuncExpr:
		switch strings.ToLower(x.Name) {
		case "lag", "lead", "first_value", "last_value", "nth_value", ast.AggFuncMin, ast.AggFuncMax:
			return len(x.Args) == 0 || mayBeString(x.Args[0])
		}
		return false // ranks, counts, sums, averages, distributions
	case *ast.FuncCastExpr:
		switch x.Tp.GetType() {
		case mysql.TypeDouble, mysql.TypeFloat, mysql.TypeLonglong, mysql.TypeNewDecimal:
			return false // AS DOUBLE, FLOAT, SIGNED, UNSIGNED, DECIMAL
		}
		return true
	case *ast.SubqueryExpr:
		// (SELECT COUNT(*) ...): the type of its one column.
		sel, ok := x.Query.(*ast.SelectStmt)
		return !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].Expr == nil ||
			mayBeString(sel.Fields.Fields[0].Expr)
	}
	return true
}

// weightText is the hidden column giving the collation weight of the
// expression t: values compare as their weights compare, byte by byte.
// WEIGHT_STRING alone would keep trailing spaces, which PAD SPACE
// collations (MariaDB's defaults) ignore: 'a' and 'a ' are one group. So
// under PAD SPACE (LEFT(t,0) = ' ' is true) the weight is that of RTRIM(t)
// plus one space, which also keeps 'a\t' before 'a' as the server sorts;
// NO PAD collations weigh t itself. Binary strings, numbers and dates
// compare by value, so their weight is NULL (one byte per row).
func weightText(t string) string {
	return "IF(COLLATION(" + t + ") = 'binary', NULL, WEIGHT_STRING(IF(LEFT(" + t + ", 0) = ' ', CONCAT(RTRIM(" + t + "), ' '), " + t + ")))"
}

// aggregateWeightText is weightText for agg, MIN(arg) or MAX(arg).
// weightText(agg) would name the aggregate four times, and MariaDB
// computes every copy over every row: a GROUP BY with MIN over a CHAR(60)
// column ran about 25% slower on the shards than without the weight.
// Here the aggregate appears once. The collation and its PAD attribute
// come from MIN(IF(FALSE, arg, NULL)), which has arg's type and collation
// but compares nothing. Trimming an empty string from v leaves v, so NO
// PAD collations weigh the value itself, PAD SPACE ones RTRIM(v) plus a
// space.
func aggregateWeightText(agg, arg string) string {
	probe := "MIN(IF(FALSE, " + arg + ", NULL))"
	pad := "IF(IFNULL(" + probe + ", '') = ' ', ' ', '')"
	return "IF(COLLATION(" + probe + ") = 'binary', NULL, WEIGHT_STRING(CONCAT(TRIM(TRAILING " + pad + " FROM " + agg + "), " + pad + ")))"
}

// aggFunc is an aggregate's function name in lower case (the parser keeps
// the case it read).
func aggFunc(a *ast.AggregateFuncExpr) string { return strings.ToLower(a.F) }

// isDeviation reports the aggregates whose DOUBLE the server shows with
// fixed decimals: STD, STDDEV, VARIANCE and their _POP and _SAMP forms.
func isDeviation(a *ast.AggregateFuncExpr) bool {
	switch aggFunc(a) {
	case ast.AggFuncStddevPop, ast.AggFuncStddevSamp, ast.AggFuncVarPop, ast.AggFuncVarSamp, "std", "stddev", "variance":
		return true
	}
	return false
}

// aggregateName is how refusals name an aggregate function.
func aggregateName(a *ast.AggregateFuncExpr) string {
	return strings.ToUpper(a.F)
}
