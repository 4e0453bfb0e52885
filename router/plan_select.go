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
	if sel, ok := pl.stmt.(*ast.SelectStmt); ok {
		top = sel
		if inner := sqlparse.SpanningQuery(sel); inner != nil {
			top = inner // its rows may span shards: the merge counts them
		} else if inner := sqlparse.PartitionedDerived(sel); inner != nil {
			top = inner // its rows may span shards: the merge reads them as a table's
		}
		main := pl.s.newBlock(pl.sc, top.From, top.Where)
		r.addBlock(main, true, "")
		local = pl.colocated(main, top.Fields, top.From, top.Where, top.OrderBy)
	}
	pl.addNested(&r, top, "subquery", local)
	return pl.route(r, false)
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
			w = "UNION"
		}
		r.addBlock(pl.s.newBlock(pl.sc, sel.From, sel.Where), false, w)
	}
}
