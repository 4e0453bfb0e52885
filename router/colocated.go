package router

import (
	"reflect"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// colocated returns the subqueries directly under an outer query block
// (in clauses, its select list, WHERE, ON or ORDER BY) that read only rows
// on the shard of the outer row they are evaluated for, so that each shard
// answers them exactly for its own rows:
//
//   - `o.key [NOT] IN (SELECT b.key FROM ...)`, o and b sharded alike: the
//     rows of b that can match o's key are on o's shard;
//   - any subquery whose WHERE has the conjunct `b.key = o.key`: every row
//     it reads is on o's shard (Django's OuterRef, correlated EXISTS and
//     COUNT subqueries).
//
// The subquery's sharded tables must be joined on their keys (one
// co-located group) and it may read global tables, not unsharded ones.
func (pl *planner) colocated(outer *block, clauses ...ast.Node) map[*ast.SelectStmt]bool {
	if outer == nil {
		return nil
	}
	var found map[*ast.SelectStmt]bool
	for sel, left := range directSubqueries(clauses...) {
		inner := pl.s.newBlock(pl.sc, sel.From, sel.Where)
		groups, unsharded := inner.units()
		if unsharded != nil || len(groups) != 1 {
			continue
		}
		if inner.semiJoins(outer, left, sel) || inner.correlatesKey(outer, sel) {
			if found == nil {
				found = map[*ast.SelectStmt]bool{}
			}
			found[sel] = true
		}
	}
	return found
}

// directSubqueries maps the subqueries in nodes, not those nested in
// them, to the left side of their `x [NOT] IN (subquery)`, nil for others.
func directSubqueries(nodes ...ast.Node) map[*ast.SelectStmt]ast.ExprNode {
	f := &subqueryFinder{found: map[*ast.SelectStmt]ast.ExprNode{}}
	for _, n := range nodes {
		if n != nil && !reflect.ValueOf(n).IsNil() { // a clause left out: a nil pointer
			n.Accept(f)
		}
	}
	return f.found
}

type subqueryFinder struct {
	found map[*ast.SelectStmt]ast.ExprNode
}

func (f *subqueryFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.PatternInExpr:
		if sub, ok := x.Sel.(*ast.SubqueryExpr); ok {
			if sel, ok := sub.Query.(*ast.SelectStmt); ok {
				f.found[sel] = x.Expr
			}
			x.Expr.Accept(f)
			return n, true
		}
	case *ast.SubqueryExpr:
		if sel, ok := x.Query.(*ast.SelectStmt); ok {
			if _, seen := f.found[sel]; !seen {
				f.found[sel] = nil
			}
		}
		return n, true
	case *ast.SelectStmt, *ast.SetOprStmt:
		return n, true // derived tables: not evaluated per outer row
	}
	return n, false
}

func (f *subqueryFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// semiJoins reports whether sel, a subquery on block b, is `left IN (sel)`
// with left the shard key of a table of outer and sel selecting the key
// of one of its own tables, sharded alike. sel must not group, limit or
// produce NULL keys by an outer join: IN compares left with every key it
// yields, which must be keys of rows on left's shard. Nor may left be
// NULL-extended: NULL NOT IN (sel) is true where sel is empty, which one
// shard's part of sel may be.
func (b *block) semiJoins(outer *block, left ast.ExprNode, sel *ast.SelectStmt) bool {
	l, ok := left.(*ast.ColumnNameExpr)
	if !ok || sel.GroupBy != nil || sel.Having != nil || sel.Limit != nil || len(sel.WindowSpecs) > 0 ||
		sel.Fields == nil || len(sel.Fields.Fields) != 1 || hasOuterJoin(sel.From) {
		return false
	}
	c, ok := sel.Fields.Fields[0].Expr.(*ast.ColumnNameExpr)
	if !ok {
		return false
	}
	o, r := outer.refOf(l.Name), b.refOf(c.Name)
	return o != nil && r != nil && outer.isRowKeyOf(l.Name, o) && b.isKeyOf(c.Name, r) && o.table.sharding == r.table.sharding
}

// correlatesKey reports whether sel's WHERE has a conjunct equating the
// shard key of one of its tables with that of a table of outer.
func (b *block) correlatesKey(outer *block, sel *ast.SelectStmt) bool {
	for _, c := range conjuncts(sel.Where, nil) {
		eq, ok := c.(*ast.BinaryOperationExpr)
		if !ok || eq.Op != opcode.EQ {
			continue
		}
		x, xok := eq.L.(*ast.ColumnNameExpr)
		y, yok := eq.R.(*ast.ColumnNameExpr)
		if !xok || !yok {
			continue
		}
		if b.keyMeetsOuter(outer, sel, x.Name, y.Name) || b.keyMeetsOuter(outer, sel, y.Name, x.Name) {
			return true
		}
	}
	return false
}

// keyMeetsOuter: inner is the key of one of b's tables, outerCol (qualified
// by a name b does not define) the key of one of outer's, sharded alike.
func (b *block) keyMeetsOuter(outer *block, sel *ast.SelectStmt, inner, outerCol *ast.ColumnName) bool {
	if outerCol.Table.L == "" {
		return false
	}
	if names, _ := sqlparse.FromNames(sel.From); names[outerCol.Table.L] {
		return false // the subquery's own table
	}
	r, o := b.refOf(inner), outer.refOf(outerCol)
	return r != nil && o != nil && b.isKeyOf(inner, r) && outer.isKeyOf(outerCol, o) && r.table.sharding == o.table.sharding
}

// hasOuterJoin reports whether a FROM clause has a LEFT or RIGHT JOIN.
func hasOuterJoin(from *ast.TableRefsClause) bool {
	if from == nil {
		return false
	}
	var visit func(rs ast.ResultSetNode) bool
	visit = func(rs ast.ResultSetNode) bool {
		switch x := rs.(type) {
		case *ast.Join:
			return x.Right != nil && x.Tp != ast.CrossJoin || visit(x.Left) || x.Right != nil && visit(x.Right)
		case *ast.TableSource:
			if j, ok := x.Source.(*ast.Join); ok {
				return visit(j)
			}
		}
		return false
	}
	return visit(from.TableRefs)
}

// ShardKeyTest returns whether a column, as the query block whose rows
// are merged writes it (sel's, or the derived table's it counts or tests
// with EXISTS), is the shard key of one of that block's sharded tables
// (the values of such a column are split between the shards, none on
// two), and whether an outer join may NULL-extend that table. nil when
// the block reads no sharded table.
func (s *Schema) ShardKeyTest(sel *ast.SelectStmt) func(*ast.ColumnName) (key, nullable bool) {
	sc := newScope(sel)
	if inner := sqlparse.SpanningQuery(sel); inner != nil {
		sel = inner
	}
	b := s.newBlock(sc, sel.From, sel.Where)
	if !slices.ContainsFunc(b.refs, (*ref).sharded) {
		return nil
	}
	return func(c *ast.ColumnName) (bool, bool) {
		r := b.refOf(c)
		if r == nil || !b.isKeyOf(c, r) {
			return false, false
		}
		return true, !b.isRowKeyOf(c, r)
	}
}
