package router

import (
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"
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
		if pl.s.NumShards() > 1 {
			return nil, errorf(ErNotSupported, "%s into sharded table %s is not supported: the proxy cannot tell the shard of each selected row; insert the rows with VALUES", what, target.name)
		}
	default:
		r.pinned = append(r.pinned, &unit{key: target.name, msg: fmt.Sprintf("%s across shards is not supported: %s lives on the default shard only", what, target.name)})
	}
	pl.addNested(&r, nil, what)
	return pl.route(r, false)
}
