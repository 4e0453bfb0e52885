package router

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// planSelect routes SELECT and UNION: the outer block's co-located sharded
// tables may span shards; everything nested must share one shard with it.
func (pl *planner) planSelect() (binder, error) {
	pl.plan.Kind = KindSelect
	pl.plan.Read = !pl.sc.locks
	var r routing
	var top *ast.SelectStmt
	var local map[*ast.SelectStmt]bool
	switch x := pl.stmt.(type) {
	case *ast.SelectStmt:
		top = x
		if u := sqlparse.CountedUnion(x); u != nil {
			arms, _ := sqlparse.UnionArms(u)
			if ar, ok := pl.armsRouting(x, arms); ok {
				return pl.route(ar, false)
			}
		}
		if inner := sqlparse.SpanningQuery(x); inner != nil {
			top = inner // its rows may span shards: the merge counts them
		} else if arms := sqlparse.PartitionedDerived(x, pl.keysOnShard); len(arms) == 1 {
			top = arms[0] // its rows may span shards: the merge reads them as a table's
		} else if arms != nil {
			if ar, ok := pl.armsRouting(nil, arms); ok {
				return pl.route(ar, false)
			}
		}
		main := pl.s.newBlock(pl.sc, top.From, top.Where)
		r.addBlock(main, true, "")
		local = pl.colocated(main, top.Fields, top.From, top.Where, top.OrderBy)
	case *ast.SetOprStmt:
		arms, _ := sqlparse.UnionArms(x)
		if ar, ok := pl.armsRouting(nil, arms); ok {
			return pl.route(ar, false)
		}
	}
	pl.addNested(&r, top, "subquery", local)
	return pl.route(r, false)
}

// armsRouting routes UNION ALL arms that may each span shards: the
// statement runs on every shard where one of them has rows, and each
// shard's answer holds its share of every arm. false when an arm reads no
// sharded table (its rows would come from every shard) or tables that
// cannot span shards together. skip is a query that reads the union as
// a derived table (a count of it), routed with it.
func (pl *planner) armsRouting(skip *ast.SelectStmt, arms []*ast.SelectStmt) (routing, bool) {
	var r routing
	local := map[*ast.SelectStmt]bool{}
	for _, arm := range arms {
		b := pl.s.newBlock(pl.sc, arm.From, arm.Where)
		var ar routing
		ar.addBlock(b, true, "UNION")
		if ar.main == nil || len(ar.pinned) > 0 {
			return routing{}, false
		}
		r.arms = append(r.arms, ar.main)
		local[arm] = true
		for sel := range pl.colocated(b, arm.Fields, arm.From, arm.Where) {
			local[sel] = true
		}
	}
	pl.addNested(&r, skip, "subquery", local)
	return r, true
}

// addNested pins every query block but skip and those in local (which
// read only rows on the shard of the outer row); what names them in
// errors (UNION arms are called UNION).
func (pl *planner) addNested(r *routing, skip *ast.SelectStmt, what string, local map[*ast.SelectStmt]bool) {
	for _, sel := range pl.sc.selects {
		if sel == skip || local[sel] {
			continue
		}
		w := what
		if pl.sc.arms[sel] {
			w = "UNION (but all UNION ALL or all UNION of SELECTs that read sharded tables without DISTINCT, GROUP BY, aggregates or LIMIT)"
		}
		r.addBlock(pl.s.newBlock(pl.sc, sel.From, sel.Where), false, w)
	}
}

// keysOnShard reports whether one of exprs is a shard key column of q's
// sharded tables, when those are joined on their keys (one unit, no
// unsharded table): rows with one value of it share a shard.
func (pl *planner) keysOnShard(q *ast.SelectStmt, exprs []ast.ExprNode) bool {
	b := pl.s.newBlock(pl.sc, q.From, q.Where)
	groups, unsharded := b.units()
	if unsharded != nil || len(groups) != 1 {
		return false
	}
	for _, e := range exprs {
		if c, ok := e.(*ast.ColumnNameExpr); ok {
			if r := b.refOf(c.Name); r != nil && b.isRowKeyOf(c.Name, r) {
				return true
			}
		}
	}
	return false
}
