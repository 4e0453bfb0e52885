package engine

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
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
// IS, IN, BETWEEN, arithmetic, CASE and the functions of combineCall, CAST
// to numbers) is evaluated here.
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
			return &avgExpr{sum: &colExpr{col: p.col(a.Sum)}, count: &colExpr{col: p.col(a.Count)}}, nil
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
		return p.combineCall(x)
	case *ast.CaseExpr:
		return p.combineCase(x)
	case *ast.FuncCastExpr:
		return p.combineCast(x)
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
	return nil, cannotCombine(e)
}

func cannotCombine(e ast.ExprNode) error {
	text, _ := restoreText(e)
	return unsupported("across shards, only comparisons, logic, arithmetic, CASE, IF, NULLIF, COALESCE, IFNULL, ROUND, ABS, FLOOR, CEIL, GREATEST, LEAST and CAST to a number can combine aggregates, not %s", text)
}

// combineCall compiles the functions the evaluator has.
func (p *planner) combineCall(x *ast.FuncCallExpr) (evalExpr, error) {
	fn, n := x.FnName.L, len(x.Args)
	arity := func(ok bool) error {
		if ok {
			return nil
		}
		return errorf(ErWrongParamCount, "Incorrect parameter count in the call to native function '%s'", strings.ToUpper(fn))
	}
	switch fn {
	case "round":
		return p.combineRound(x)
	case "coalesce", "ifnull", "greatest", "least":
		if err := arity(n >= 1 && (fn != "ifnull" || n == 2) && (fn == "coalesce" || fn == "ifnull" || n >= 2)); err != nil {
			return nil, err
		}
		args, err := p.combineAll(x.Args)
		if fn == "coalesce" || fn == "ifnull" {
			return &coalesceExpr{name: strings.ToUpper(fn), args: args}, err
		}
		return &extremeExpr{least: fn == "least", args: args}, err
	case "if", "nullif":
		if err := arity(fn == "if" && n == 3 || fn == "nullif" && n == 2); err != nil {
			return nil, err
		}
		args, err := p.combineAll(x.Args)
		if err != nil {
			return nil, err
		}
		if fn == "if" {
			return &caseExpr{conds: args[:1], results: args[1:2], orElse: args[2]}, nil
		}
		null := &litExpr{v: valueNull, text: "NULL"}
		return &caseExpr{conds: []evalExpr{&cmpExpr{op: opcode.EQ, l: args[0], r: args[1]}}, results: []evalExpr{null}, orElse: args[0]}, nil
	case "abs", "floor", "ceil", "ceiling":
		if err := arity(n == 1); err != nil {
			return nil, err
		}
		arg, err := p.combine(x.Args[0])
		name := strings.ToUpper(fn)
		if name == "CEILING" {
			name = "CEIL"
		}
		return &mathExpr{fn: name, e: arg}, err
	}
	return nil, cannotCombine(x)
}

// combineCase compiles CASE [v] WHEN ... THEN ... [ELSE ...] END; a CASE
// with a value compares it with each WHEN as =.
func (p *planner) combineCase(x *ast.CaseExpr) (evalExpr, error) {
	c := &caseExpr{}
	var operand evalExpr
	if x.Value != nil {
		var err error
		if operand, err = p.combine(x.Value); err != nil {
			return nil, err
		}
	}
	for _, w := range x.WhenClauses {
		ops, err := p.combineAll([]ast.ExprNode{w.Expr, w.Result})
		if err != nil {
			return nil, err
		}
		cond := ops[0]
		if operand != nil {
			cond = &cmpExpr{op: opcode.EQ, l: operand, r: cond}
		}
		c.conds, c.results = append(c.conds, cond), append(c.results, ops[1])
	}
	if x.ElseClause != nil {
		var err error
		if c.orElse, err = p.combine(x.ElseClause); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// combineCast compiles CAST (and CONVERT) to DECIMAL, SIGNED, UNSIGNED or
// DOUBLE; to other types (strings, dates) it is refused.
func (p *planner) combineCast(x *ast.FuncCastExpr) (evalExpr, error) {
	arg, err := p.combine(x.Expr)
	if err != nil {
		return nil, err
	}
	c := &castExpr{e: arg}
	tp := x.Tp
	switch tp.GetType() {
	case mysql.TypeNewDecimal:
		c.to, c.digits, c.scale = 'd', tp.GetFlen(), tp.GetDecimal()
		if c.digits <= 0 {
			c.digits = 10
		}
		c.scale = max(c.scale, 0)
	case mysql.TypeLonglong:
		c.to = 's'
		if mysql.HasUnsignedFlag(tp.GetFlag()) {
			c.to = 'u'
		}
	case mysql.TypeDouble:
		c.to = 'f'
	default:
		return nil, cannotCombine(x)
	}
	return c, nil
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
