package router

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// operand is a value known when planning, or the parameter it comes from.
type operand struct {
	param int // >= 0: index of the `?` parameter; -1: val
	val   Value
}

func operandOf(e ast.ExprNode) (operand, bool) {
	if i, ok := sqlparse.ParamIndex(e); ok {
		return operand{param: i}, true
	}
	if v, ok := sqlparse.Literal(e); ok {
		return operand{param: -1, val: v}, true
	}
	return operand{}, false
}

func (o operand) value(params []Value) Value {
	if o.param >= 0 {
		return params[o.param]
	}
	return o.val
}

// predOp is the kind of a key predicate node.
type predOp uint8

const (
	predIn    predOp = iota // key IN (vals)
	predRange               // lo <(=) key <(=) hi
	predAnd                 // every kid holds: intersect
	predOr                  // some kid holds: union
)

// pred is what a WHERE says about a shard key, evaluated per execution. A
// nil *pred says nothing: every shard.
type pred struct {
	op     predOp
	vals   []operand
	lo, hi rangeEnd
	kids   []*pred
}

type rangeEnd struct {
	open bool
	incl bool
	x    operand
}

// keyMatch reports whether a column is the shard key being routed.
type keyMatch func(*ast.ColumnName) bool

// extractPred reads the key conditions of e: key = v, v = key, key IN (...),
// AND, OR, and when ranged <, <=, >, >=, BETWEEN; v a literal or `?`.
// Anything else (NOT, functions of the key, subqueries...) says nothing.
func extractPred(e ast.ExprNode, isKey keyMatch, ranged bool) *pred {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return extractPred(x.Expr, isKey, ranged)
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd:
			return combine(predAnd, extractPred(x.L, isKey, ranged), extractPred(x.R, isKey, ranged))
		case opcode.LogicOr:
			return combine(predOr, extractPred(x.L, isKey, ranged), extractPred(x.R, isKey, ranged))
		}
		return comparison(x, isKey, ranged)
	case *ast.PatternInExpr:
		if x.Not || x.Sel != nil || !isKeyExpr(x.Expr, isKey) {
			return nil
		}
		p := &pred{op: predIn}
		for _, item := range x.List {
			o, ok := operandOf(item)
			if !ok {
				return nil
			}
			p.vals = append(p.vals, o)
		}
		return p
	case *ast.BetweenExpr:
		if x.Not || !ranged || !isKeyExpr(x.Expr, isKey) {
			return nil
		}
		lo, ok1 := operandOf(x.Left)
		hi, ok2 := operandOf(x.Right)
		if !ok1 || !ok2 {
			return nil
		}
		return &pred{op: predRange, lo: rangeEnd{incl: true, x: lo}, hi: rangeEnd{incl: true, x: hi}}
	}
	return nil
}

func comparison(x *ast.BinaryOperationExpr, isKey keyMatch, ranged bool) *pred {
	op, l, r := x.Op, x.L, x.R
	if !isKeyExpr(l, isKey) {
		op, l, r = flip(op), r, l // v < key is key > v
	}
	if !isKeyExpr(l, isKey) {
		return nil
	}
	v, ok := operandOf(r)
	if !ok {
		return nil
	}
	if op == opcode.EQ {
		return &pred{op: predIn, vals: []operand{v}}
	}
	if !ranged {
		return nil
	}
	open := rangeEnd{open: true}
	switch op {
	case opcode.LT, opcode.LE:
		return &pred{op: predRange, lo: open, hi: rangeEnd{incl: op == opcode.LE, x: v}}
	case opcode.GT, opcode.GE:
		return &pred{op: predRange, lo: rangeEnd{incl: op == opcode.GE, x: v}, hi: open}
	}
	return nil
}

func flip(op opcode.Op) opcode.Op {
	switch op {
	case opcode.LT:
		return opcode.GT
	case opcode.LE:
		return opcode.GE
	case opcode.GT:
		return opcode.LT
	case opcode.GE:
		return opcode.LE
	}
	return op
}

func isKeyExpr(e ast.ExprNode, isKey keyMatch) bool {
	c, ok := e.(*ast.ColumnNameExpr)
	return ok && isKey(c.Name)
}

// combine joins two predicates; a nil side makes AND the other side and OR nil.
func combine(op predOp, a, b *pred) *pred {
	switch {
	case a == nil && op == predAnd:
		return b
	case b == nil && op == predAnd:
		return a
	case a == nil || b == nil:
		return nil
	}
	p := &pred{op: op}
	for _, k := range []*pred{a, b} {
		if k.op == op {
			p.kids = append(p.kids, k.kids...)
		} else {
			p.kids = append(p.kids, k)
		}
	}
	return p
}

// conjuncts splits e at its top-level ANDs.
func conjuncts(e ast.ExprNode, out []ast.ExprNode) []ast.ExprNode {
	switch x := e.(type) {
	case nil:
		return out
	case *ast.ParenthesesExpr:
		return conjuncts(x.Expr, out)
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.LogicAnd {
			return conjuncts(x.R, conjuncts(x.L, out))
		}
	}
	return append(out, e)
}

// hasParams reports whether evaluating p needs parameters.
func (p *pred) hasParams() bool {
	if p == nil {
		return false
	}
	for _, v := range p.vals {
		if v.param >= 0 {
			return true
		}
	}
	if p.op == predRange && (p.lo.x.param >= 0 && !p.lo.open || p.hi.x.param >= 0 && !p.hi.open) {
		return true
	}
	for _, k := range p.kids {
		if k.hasParams() {
			return true
		}
	}
	return false
}

// point returns the operand of a single `key = v` predicate.
func (p *pred) point() (operand, bool) {
	if p != nil && p.op == predIn && len(p.vals) == 1 {
		return p.vals[0], true
	}
	return operand{}, false
}

// eval returns the shards that can hold rows satisfying p. A NULL value
// matches no row, so it adds no shard.
func (p *pred) eval(alg Algorithm, params []Value) (shardSet, error) {
	n := alg.Shards()
	if p == nil {
		return fullSet(n), nil
	}
	switch p.op {
	case predIn:
		s := newSet(n)
		for _, o := range p.vals {
			v := o.value(params)
			if v.IsNull() {
				continue
			}
			i, err := alg.Shard(v)
			if err != nil {
				return nil, err
			}
			s.add(i)
		}
		return s, nil
	case predRange:
		s := newSet(n)
		lo := Bound{Open: p.lo.open, Inclusive: p.lo.incl}
		hi := Bound{Open: p.hi.open, Inclusive: p.hi.incl}
		if !lo.Open {
			lo.Value = p.lo.x.value(params)
		}
		if !hi.Open {
			hi.Value = p.hi.x.value(params)
		}
		if lo.Value.IsNull() && !lo.Open || hi.Value.IsNull() && !hi.Open {
			return s, nil
		}
		first, last, err := alg.(Ranger).ShardRange(lo, hi)
		if err != nil {
			return nil, err
		}
		s.addRun(first, last)
		return s, nil
	}
	var acc shardSet
	for _, k := range p.kids {
		s, err := k.eval(alg, params)
		if err != nil {
			return nil, err
		}
		switch {
		case acc == nil:
			acc = s
		case p.op == predAnd:
			acc.and(s)
		default:
			acc.or(s)
		}
	}
	return acc, nil
}
