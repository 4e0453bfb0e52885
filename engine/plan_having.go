package engine

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// having compiles the HAVING of a grouped statement for Filter. Parts that
// involve no aggregate are computed by the shards in hidden columns (with
// the server's collations, dates and functions; MySQL takes them from a
// row of the group, and so does OrderedAggregate); what combines
// aggregates (comparisons, AND/OR/XOR/NOT, IS, IN, BETWEEN, arithmetic) is
// evaluated here. Anything else over an aggregate is refused.
func (p *planner) having(e ast.ExprNode) (evalExpr, error) {
	if !p.involvesAggregate(e) && !isLocal(e) {
		if containsParam(e) {
			return nil, unsupported("a parameter marker next to columns in HAVING across shards is not supported")
		}
		i, err := p.valueItem(e)
		if err != nil {
			return nil, err
		}
		return &colExpr{col: p.col(i)}, nil
	}
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return p.having(x.Expr)
	case *ast.AggregateFuncExpr:
		i, err := p.aggregateItem(x)
		if err != nil {
			return nil, err
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
		return p.havingBinary(x)
	case *ast.UnaryOperationExpr:
		v, err := p.having(x.V)
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
		v, err := p.having(x.Expr)
		return &isExpr{e: v, what: 'n', not: x.Not}, err
	case *ast.IsTruthExpr:
		v, err := p.having(x.Expr)
		what := byte('f')
		if x.True != 0 {
			what = 't'
		}
		return &isExpr{e: v, what: what, not: x.Not}, err
	case *ast.BetweenExpr:
		return p.havingBetween(x)
	case *ast.PatternInExpr:
		if x.Sel != nil {
			break
		}
		v, err := p.having(x.Expr)
		if err != nil {
			return nil, err
		}
		in := &inExpr{e: v, not: x.Not}
		for _, item := range x.List {
			c, err := p.having(item)
			if err != nil {
				return nil, err
			}
			in.list = append(in.list, c)
		}
		return in, nil
	}
	text, _ := restoreText(e)
	return nil, unsupported("HAVING across shards supports comparisons, logic and arithmetic over aggregates, not %s", text)
}

func (p *planner) havingBinary(x *ast.BinaryOperationExpr) (evalExpr, error) {
	l, err := p.having(x.L)
	if err != nil {
		return nil, err
	}
	r, err := p.having(x.R)
	if err != nil {
		return nil, err
	}
	switch x.Op {
	case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
		return &logicExpr{op: x.Op, l: l, r: r}, nil
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
		return &cmpExpr{op: x.Op, l: l, r: r}, nil
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
		return &arithExpr{op: x.Op, l: l, r: r}, nil
	}
	return nil, unsupported("the operator %s over aggregates in HAVING across shards is not supported", x.Op)
}

// havingBetween is x [NOT] BETWEEN a AND b: (x >= a AND x <= b).
func (p *planner) havingBetween(x *ast.BetweenExpr) (evalExpr, error) {
	v, err := p.having(x.Expr)
	if err != nil {
		return nil, err
	}
	lo, err := p.having(x.Left)
	if err != nil {
		return nil, err
	}
	hi, err := p.having(x.Right)
	if err != nil {
		return nil, err
	}
	var e evalExpr = &logicExpr{op: opcode.LogicAnd, l: &cmpExpr{op: opcode.GE, l: v, r: lo}, r: &cmpExpr{op: opcode.LE, l: v, r: hi}}
	if x.Not {
		e = &notExpr{e}
	}
	return e, nil
}

// involvesAggregate reports whether e has an aggregate, or names the alias
// of one.
func (p *planner) involvesAggregate(e ast.ExprNode) bool {
	return contains(e, func(n ast.Node) bool {
		if isAggregate(n) {
			return true
		}
		name, ok := bareName(asExpr(n))
		if !ok {
			return false
		}
		i := p.aliasItem(name)
		return i >= 0 && p.items[i].agg != nil
	})
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
