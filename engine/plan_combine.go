package engine

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// combine compiles an expression evaluated on the combined groups: the
// HAVING of a grouped statement (Filter), and select-list expressions over
// aggregates (Compute). Parts that involve no aggregate are computed by
// the shards in hidden columns (with the server's collations, dates and
// functions; MySQL takes them from a row of the group, and so does
// OrderedAggregate); what combines aggregates (comparisons, AND/OR/XOR/NOT,
// IS, IN, BETWEEN, arithmetic, COALESCE, IFNULL, ROUND) is evaluated here.
// Anything else over an aggregate is refused.
func (p *planner) combine(e ast.ExprNode) (evalExpr, error) {
	if !p.involvesAggregate(e) && !isLocal(e) {
		if containsParam(e) {
			return nil, unsupported("a parameter marker next to columns in an expression over aggregates across shards is not supported")
		}
		i, err := p.valueItem(e)
		if err != nil {
			return nil, err
		}
		return &colExpr{col: p.col(i)}, nil
	}
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return p.combine(x.Expr)
	case *ast.AggregateFuncExpr:
		i, err := p.aggregateItem(x)
		if err != nil {
			return nil, err
		}
		if a := p.aggregateOf(i); a != nil && a.Op == AggAvg {
			// Its combined SUM over COUNT, as MariaDB holds an AVG inside
			// an expression: more digits than the column shows.
			return &arithExpr{op: opcode.Div, l: &colExpr{col: p.col(a.Sum)}, r: &colExpr{col: p.col(a.Count)}}, nil
		}
		return &colExpr{col: p.col(i)}, nil
	case *ast.ColumnNameExpr: // an alias of an aggregate
		name, _ := bareName(x)
		return &colExpr{col: p.col(p.aliasItem(name))}, nil
	case *test_driver.ParamMarkerExpr:
		return &paramExpr{index: x.Order}, nil
	case *test_driver.ValueExpr:
		v, ok := sqlparse.Literal(x)
		if !ok {
			break // hex and bit literals: their meaning depends on the context
		}
		text, err := restoreText(x)
		if err != nil {
			return nil, err
		}
		return &litExpr{v: literalValue(v), text: text}, nil
	case *ast.BinaryOperationExpr:
		return p.combineBinary(x)
	case *ast.UnaryOperationExpr:
		v, err := p.combine(x.V)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return &notExpr{v}, nil
		case opcode.Minus:
			return &negExpr{v}, nil
		case opcode.Plus:
			return v, nil
		}
	case *ast.IsNullExpr:
		v, err := p.combine(x.Expr)
		return &isExpr{e: v, what: 'n', not: x.Not}, err
	case *ast.IsTruthExpr:
		v, err := p.combine(x.Expr)
		what := byte('f')
		if x.True != 0 {
			what = 't'
		}
		return &isExpr{e: v, what: what, not: x.Not}, err
	case *ast.BetweenExpr:
		return p.combineBetween(x)
	case *ast.FuncCallExpr:
		if x.FnName.L == "round" {
			return p.combineRound(x)
		}
		if fn := x.FnName.L; fn == "coalesce" || fn == "ifnull" && len(x.Args) == 2 {
			args, err := p.combineAll(x.Args)
			return &coalesceExpr{name: strings.ToUpper(fn), args: args}, err
		}
	case *ast.PatternInExpr:
		if x.Sel != nil {
			break
		}
		v, err := p.combine(x.Expr)
		if err != nil {
			return nil, err
		}
		list, err := p.combineAll(x.List)
		return &inExpr{e: v, list: list, not: x.Not}, err
	}
	text, _ := restoreText(e)
	return nil, unsupported("across shards, only comparisons, logic, arithmetic, COALESCE, IFNULL and ROUND can combine aggregates, not %s", text)
}

// combineAll is combine for each of exprs.
func (p *planner) combineAll(exprs []ast.ExprNode) ([]evalExpr, error) {
	out := make([]evalExpr, len(exprs))
	for i, e := range exprs {
		var err error
		if out[i], err = p.combine(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *planner) combineBinary(x *ast.BinaryOperationExpr) (evalExpr, error) {
	ops, err := p.combineAll([]ast.ExprNode{x.L, x.R})
	if err != nil {
		return nil, err
	}
	l, r := ops[0], ops[1]
	switch x.Op {
	case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
		return &logicExpr{op: x.Op, l: l, r: r}, nil
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
		return &cmpExpr{op: x.Op, l: l, r: r}, nil
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
		return &arithExpr{op: x.Op, l: l, r: r}, nil
	}
	return nil, unsupported("the operator %s over aggregates across shards is not supported", x.Op)
}

// combineRound is ROUND(x) or ROUND(x, n) with n a literal from 0 on.
func (p *planner) combineRound(x *ast.FuncCallExpr) (evalExpr, error) {
	digits := int64(0)
	if len(x.Args) == 2 {
		v, ok := sqlparse.Literal(x.Args[1])
		if !ok || v.Kind() != sqlparse.KindInt || v.Int() < 0 || v.Int() > maxDecimalScale {
			text, _ := restoreText(x)
			return nil, unsupported("ROUND over aggregates across shards takes a number of digits from 0 to %d written as a number, not %s", maxDecimalScale, text)
		}
		digits = v.Int()
	} else if len(x.Args) != 1 {
		return nil, errorf(ErWrongParamCount, "Incorrect parameter count in the call to native function 'ROUND'")
	}
	arg, err := p.combine(x.Args[0])
	if err != nil {
		return nil, err
	}
	return &roundExpr{e: arg, digits: int(digits)}, nil
}

// combineBetween is x [NOT] BETWEEN a AND b: (x >= a AND x <= b).
func (p *planner) combineBetween(x *ast.BetweenExpr) (evalExpr, error) {
	ops, err := p.combineAll([]ast.ExprNode{x.Expr, x.Left, x.Right})
	if err != nil {
		return nil, err
	}
	v, lo, hi := ops[0], ops[1], ops[2]
	var e evalExpr = &logicExpr{op: opcode.LogicAnd, l: &cmpExpr{op: opcode.GE, l: v, r: lo}, r: &cmpExpr{op: opcode.LE, l: v, r: hi}}
	if x.Not {
		e = &notExpr{e}
	}
	return e, nil
}

// involvesAggregate reports whether e has an aggregate, or names the alias
// of one or of an expression over aggregates.
func (p *planner) involvesAggregate(e ast.ExprNode) bool {
	return contains(e, func(n ast.Node) bool {
		if isAggregate(n) {
			return true
		}
		_, ok := p.aggregateAlias(n)
		return ok
	})
}

// aggregateAlias reports whether n names the alias of an aggregate or of
// an expression over aggregates.
func (p *planner) aggregateAlias(n ast.Node) (string, bool) {
	name, ok := bareName(asExpr(n))
	if !ok {
		return "", false
	}
	i := p.aliasItem(name)
	return name, i >= 0 && contains(p.items[i].expr, isAggregate)
}

// aggregateAliasIn returns an alias of an aggregate (or of an expression
// over aggregates) that e names, which MariaDB refuses inside an ORDER BY
// expression.
func (p *planner) aggregateAliasIn(e ast.ExprNode) (string, bool) {
	var found string
	walk(e, func(n ast.Node) bool {
		if name, ok := p.aggregateAlias(n); ok {
			found = name
		}
		return found == ""
	})
	return found, found != ""
}

// isLocal reports whether e is made only of literals, `?` and operators
// the evaluator has: no column, so nothing the shards must compute.
func isLocal(e ast.ExprNode) bool {
	local := true
	walk(e, func(n ast.Node) bool {
		switch n.(type) {
		case *test_driver.ValueExpr, *test_driver.ParamMarkerExpr, *ast.ParenthesesExpr, *ast.BinaryOperationExpr,
			*ast.UnaryOperationExpr, *ast.IsNullExpr, *ast.IsTruthExpr, *ast.BetweenExpr, *ast.PatternInExpr:
		default:
			local = false
		}
		return local
	})
	return local
}

// valueItem resolves an expression without aggregates to an item: an
// alias, an expression of the select list, or else a hidden column.
func (p *planner) valueItem(e ast.ExprNode) (int, error) {
	if name, ok := bareName(e); ok {
		if i := p.aliasItem(name); i >= 0 {
			return p.ref(i)
		}
	}
	return p.hiddenExpr(e)
}
