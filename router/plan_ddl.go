package router

import (
	"fmt"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// planDDL sends DDL on sharded or global tables to every shard, on other
// tables to the default shard.
func (pl *planner) planDDL(d ast.DDLNode) (binder, error) {
	pl.plan.Kind = KindDDL
	var names []*ast.TableName
	verb := "DDL"
	switch x := d.(type) {
	case *ast.CreateTableStmt:
		if x.Select != nil {
			return pl.copyInto(pl.s.lookup(x.Table, ast.CIStr{}), "CREATE TABLE ... SELECT")
		}
		names, verb = []*ast.TableName{x.Table}, "CREATE TABLE"
	case *ast.AlterTableStmt:
		names, verb = []*ast.TableName{x.Table}, "ALTER TABLE"
	case *ast.DropTableStmt:
		names, verb = x.Tables, "DROP TABLE"
	case *ast.TruncateTableStmt:
		names, verb = []*ast.TableName{x.Table}, "TRUNCATE TABLE"
	case *ast.CreateIndexStmt:
		names, verb = []*ast.TableName{x.Table}, "CREATE INDEX"
	case *ast.DropIndexStmt:
		names, verb = []*ast.TableName{x.Table}, "DROP INDEX"
	case *ast.RenameTableStmt:
		for _, t := range x.TableToTables {
			names = append(names, t.OldTable)
		}
		verb = "RENAME TABLE"
	case *ast.CreateViewStmt:
		return pl.copyInto(pl.s.lookup(x.ViewName, ast.CIStr{}), "CREATE VIEW")
	case *ast.CreateDatabaseStmt, *ast.DropDatabaseStmt, *ast.AlterDatabaseStmt:
		return nil, errorf(ErNotSupported, "CREATE, ALTER and DROP DATABASE are not supported through the proxy: logical schemas are defined in its configuration")
	}
	everywhere, here := "", ""
	for _, tn := range names {
		switch r := pl.s.lookup(tn, ast.CIStr{}); r.kind() {
		case Sharded, Global:
			if r.system {
				return nil, errorf(ErNotSupported, "%s on system table %s.%s is not supported through the proxy", verb, r.schema, r.name)
			}
			everywhere = r.name
		default:
			here = r.name
		}
	}
	if everywhere != "" && here != "" {
		return nil, errorf(ErNotSupported, "%s of %s (on every shard) together with %s (on the default shard only) is not supported: use one statement for each", verb, everywhere, here)
	}
	return pl.route(routing{}, everywhere != "")
}

// copyInto routes a statement that writes rows read by its SELECTs (INSERT
// ... SELECT, CREATE TABLE ... SELECT, CREATE VIEW): both sides must be on
// the same single shard, or all global (then every shard does the copy).
func (pl *planner) copyInto(target *ref, what string) (binder, error) {
	var r routing
	switch target.kind() {
	case Global:
		if other := pl.notGlobal(nil); other != nil {
			return nil, errorf(ErNotSupported, "%s into global table %s from %s table %s is not supported: global tables are written on every shard", what, target.name, other.kindName(), other.name)
		}
		return pl.route(routing{}, true)
	case Sharded:
		if ins, ok := pl.stmt.(*ast.InsertStmt); ok && ins.Select != nil && pl.s.NumShards() > 1 {
			return pl.copyOnShards(ins, target)
		}
		if pl.s.NumShards() > 1 {
			return nil, errorf(ErNotSupported, "%s into sharded table %s is not supported: the proxy cannot tell the shard of each selected row; insert the rows with VALUES", what, target.name)
		}
	default:
		r.pinned = append(r.pinned, &unit{key: target.name, msg: fmt.Sprintf("%s across shards is not supported: %s lives on the default shard only", what, target.name)})
	}
	pl.addNested(&r, nil, what)
	return pl.route(r, false)
}

// copyOnShards routes INSERT ... SELECT into a sharded table when every
// row stays on its shard: the SELECT gives the target's shard key the
// shard key of a table sharded the same way, so each shard copies its own
// rows (an archive table filled from its live one). Anything else is
// refused, saying what keeps the rows from staying put.
func (pl *planner) copyOnShards(ins *ast.InsertStmt, target *ref) (binder, error) {
	t := target.table
	refuse := func(why string) (binder, error) {
		return nil, errorf(ErNotSupported, "INSERT ... SELECT into sharded table %s is supported only when each row stays on its shard: %s", t.Name, why)
	}
	sel, ok := ins.Select.(*ast.SelectStmt)
	switch {
	case !ok:
		return refuse("the SELECT is a UNION")
	case t.AutoIncrement != "":
		return refuse("its auto_increment column " + t.AutoIncrement + " takes ids from the proxy's sequence; insert the rows with VALUES")
	case len(ins.Columns) == 0:
		return refuse("list the columns it inserts")
	case sel.Fields == nil || len(sel.Fields.Fields) != len(ins.Columns) || sel.Fields.Fields[0].WildCard != nil:
		return refuse("the SELECT must give each listed column one expression")
	case sel.GroupBy != nil || sel.Having != nil || sel.Limit != nil || sqlparse.Contains(sel.Fields, func(n ast.Node) bool {
		_, agg := n.(*ast.AggregateFuncExpr)
		_, win := n.(*ast.WindowFuncExpr)
		return agg || win
	}):
		return refuse("the SELECT groups, aggregates or limits rows, which the shards see only in part")
	}
	for _, a := range ins.OnDuplicate {
		if a.Column.Name.L == t.Key {
			return refuse("ON DUPLICATE KEY UPDATE changes the shard key " + t.Key)
		}
	}
	key := slices.IndexFunc(ins.Columns, func(c *ast.ColumnName) bool { return c.Name.L == t.Key })
	if key < 0 {
		return refuse("the column list lacks the shard key " + t.Key)
	}
	b := pl.s.newBlock(pl.sc, sel.From, sel.Where)
	var src *ref
	col, ok := sel.Fields.Fields[key].Expr.(*ast.ColumnNameExpr)
	if ok {
		src = b.refOf(col.Name)
	}
	if src == nil || !b.isKeyOf(col.Name, src) || src.table.sharding != t.sharding {
		return refuse(fmt.Sprintf("its shard key %s must be given the shard key of a table sharded as %s is", t.Key, t.Name))
	}
	var r routing
	r.addBlock(b, true, "")
	pl.addNested(&r, sel, "subquery")
	return pl.route(r, false)
}
