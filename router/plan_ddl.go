package router

import (
	"fmt"
	"slices"
	"strings"

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
			if ins, ok := pl.stmt.(*ast.InsertStmt); ok && ins.Select != nil {
				return pl.copyThrough(ins)
			}
			return nil, errorf(ErNotSupported, "%s into global table %s from %s table %s is not supported: global tables are written on every shard", what, target.name, other.kindName(), other.name)
		}
		return pl.route(routing{}, true)
	case Sharded:
		if ins, ok := pl.stmt.(*ast.InsertStmt); ok && ins.Select != nil && pl.s.NumShards() > 1 {
			if b, ok := pl.copyOnShards(ins, target); ok {
				return b, nil
			}
			return pl.copyThrough(ins)
		}
		if pl.s.NumShards() > 1 {
			return nil, errorf(ErNotSupported, "%s into sharded table %s is not supported: the proxy cannot tell the shard of each selected row; insert the rows with VALUES", what, target.name)
		}
	default:
		r.pinned = append(r.pinned, &unit{key: target.name, msg: fmt.Sprintf("%s across shards is not supported: %s lives on the default shard only", what, target.name)})
		if ins, ok := pl.stmt.(*ast.InsertStmt); ok && ins.Select != nil && pl.readsSharded() {
			// The default shard copies the rows itself when the SELECT
			// reads only there; otherwise the proxy copies them.
			cp, err := pl.copyThrough(ins)
			if err != nil {
				return nil, err
			}
			pl.addNested(&r, nil, what, nil)
			direct, err := pl.route(r, false)
			if err != nil {
				return cp, nil
			}
			return &directOrCopy{direct: direct, copy: cp}, nil
		}
	}
	pl.addNested(&r, nil, what, nil)
	return pl.route(r, false)
}

// directOrCopy runs an INSERT ... SELECT on the default shard when an
// execution's SELECT reads only there, and copies its rows otherwise.
type directOrCopy struct{ direct, copy binder }

func (b *directOrCopy) bind(params []Value, next IDSource) (*Route, error) {
	rt, err := b.direct.bind(params, next)
	if e, ok := err.(*Error); ok && e.Code == ErNotSupported {
		return b.copy.bind(params, next)
	}
	return rt, err
}

// copyOnShards routes INSERT ... SELECT into a sharded table when every
// row stays on its shard: the SELECT gives the target's shard key the
// shard key of a table sharded the same way, so each shard copies its own
// rows (an archive table filled from its live one). ok is false when a
// row may have to move (the proxy then copies them, copyThrough).
func (pl *planner) copyOnShards(ins *ast.InsertStmt, target *ref) (b binder, ok bool) {
	t := target.table
	refuse := func(string) (binder, bool) { return nil, false }
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
	blk := pl.s.newBlock(pl.sc, sel.From, sel.Where)
	var src *ref
	col, ok := sel.Fields.Fields[key].Expr.(*ast.ColumnNameExpr)
	if ok {
		src = blk.refOf(col.Name)
	}
	if src == nil || !blk.isKeyOf(col.Name, src) || src.table.sharding != t.sharding {
		return refuse(fmt.Sprintf("its shard key %s must be given the shard key of a table sharded as %s is", t.Key, t.Name))
	}
	var r routing
	r.addBlock(blk, true, "")
	pl.addNested(&r, sel, "subquery", nil)
	b, err := pl.route(r, false)
	return b, err == nil
}

// Copy is an INSERT ... SELECT whose rows the proxy copies: rows that move
// between shards, or a SELECT across shards into a table on the default
// shard or a global one. The proxy runs Select as a statement of its own
// and inserts its rows with Prefix VALUES (...), ... Suffix, routed as a
// client's INSERT is.
type Copy struct {
	Select         string
	Prefix, Suffix string
}

// copyThrough plans ins as a Copy.
func (pl *planner) copyThrough(ins *ast.InsertStmt) (binder, error) {
	sel, err := sqlparse.Restore(ins.Select)
	if err != nil {
		return nil, errorf(ErUnknown, "cannot write the SELECT of the INSERT: %v", err)
	}
	saved := ins.Select
	ins.Select = nil
	text, err := sqlparse.Restore(ins)
	ins.Select = saved
	if err != nil {
		return nil, errorf(ErUnknown, "cannot write the INSERT: %v", err)
	}
	cp := &Copy{Select: sel, Prefix: text}
	if i := strings.Index(text, " ON DUPLICATE KEY UPDATE "); i >= 0 && ins.OnDuplicate != nil {
		cp.Prefix, cp.Suffix = text[:i], text[i:]
	}
	pl.plan.MultiShard = true
	return &fixed{route: &Route{Flags: pl.plan.Flags, Scatter: true, Copy: cp}}, nil
}

// readsSharded reports whether the statement reads a sharded table.
func (pl *planner) readsSharded() bool {
	for _, tn := range pl.sc.tables {
		if r := pl.s.lookup(tn, ast.CIStr{}); !pl.sc.isCTE(tn) && r.kind() == Sharded {
			return true
		}
	}
	return false
}
