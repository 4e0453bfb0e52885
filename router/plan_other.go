package router

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// planOther routes SHOW, SET, transaction control and the like to the
// default shard, or to the one shard their subqueries need
// (SET @n = (SELECT ... WHERE id = 5)).
func (pl *planner) planOther(stmt ast.StmtNode) (binder, error) {
	pl.plan.Kind = KindOther
	var r routing
	switch x := stmt.(type) {
	case *ast.ExplainStmt:
		// EXPLAIN shows the default shard's plan, whatever the shards.
	case *ast.LoadDataStmt:
		switch t := pl.s.lookup(x.Table, ast.CIStr{}); t.kind() {
		case Sharded:
			return pl.planLoad(x, t)
		case Global:
			return nil, errorf(ErNotSupported, "LOAD DATA into %s table %s is not supported: insert its rows with INSERT", t.kindName(), t.name)
		}
	default:
		pl.addNested(&r, nil, "subquery", nil)
	}
	return pl.route(r, false)
}
